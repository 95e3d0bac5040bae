# Node administration: label syntax, constraint and GPU-type matching, the
# displayed state and the node_admin table (scheduler/nodeadmin.c,
# store_nodeadmin.c); the CLI's parsing and rendering (client/cli_nodeadmin.c);
# the worker's health check (worker/health.c).
yard_unit_test(test_nodeadmin
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_nodeadmin.c
  LIBS yard_sched PkgConfig::SQLITE)
yard_unit_test(test_cli_nodeadmin
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_nodeadmin.c
  LIBS yard_cli)
yard_unit_test(test_worker_health
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_worker_health.c
  LIBS yard_workerlib)
