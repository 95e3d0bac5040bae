# Scheduler unit tests: the in-memory indexes (queue, node registry, job
# spec checks) and the SQLite store.  Both link the scheduler's objects
# through the yard_sched static library (scheduler/CMakeLists.txt).
yard_unit_test(test_queue
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue.c
  LIBS yard_sched)
yard_unit_test(test_store
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_store.c
  LIBS yard_sched)
# Retry policy, waitq and the attempts table (with the v2 -> v3 migration).
yard_unit_test(test_retry
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_retry.c
  LIBS yard_sched)
# Digests, tree manifests and the scheduler's blob store.
yard_unit_test(test_artifacts
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_artifacts.c
  LIBS yard_sched)
# Staged inputs, collected outputs and checkpoints in the store: spec
# checks, the worker's path rule, the reference tables and retention, and
# the result file's outputs.
yard_unit_test(test_stage
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage.c
  LIBS yard_sched yard_workerlib)
# Group commit: the syncer's thread and the store's WAL sync.
yard_unit_test(test_syncer
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_syncer.c
  LIBS yard_sched)
