# Job metrics: the worker's line parser and spool/shipping bookkeeping
# (worker/metricline.c, worker/metrics.c) and the scheduler's metrics store
# with its supersede rule (scheduler/store_metrics.c).
yard_unit_test(test_metrics_worker
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_metrics_worker.c
  LIBS yard_workerlib)
yard_unit_test(test_metrics_store
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_metrics_store.c
  LIBS yard_sched)
yard_unit_test(test_metrics_client
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_metrics_client.c
  LIBS yard_client)
# attempts' resource use and the latest metric points (scheduler/store_usage.c)
yard_unit_test(test_store_usage
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_store_usage.c
  LIBS yard_sched)
