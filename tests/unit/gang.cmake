# Gang placement (scheduler/gang_place.c over place.c) on plain and
# fixture topologies, and the worker's per-task slicing (worker/gang.c).
yard_unit_test(test_gang_place
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_gang_place.c
          ${PROJECT_SOURCE_DIR}/scheduler/gang_place.c
          ${PROJECT_SOURCE_DIR}/scheduler/place.c
          ${PROJECT_SOURCE_DIR}/worker/topo.c
  LIBS PkgConfig::HWLOC ${CMAKE_DL_LIBS})
target_include_directories(test_gang_place PRIVATE ${PROJECT_SOURCE_DIR}/worker
                           ${PROJECT_SOURCE_DIR}/scheduler)
target_compile_definitions(test_gang_place PRIVATE
  YARD_FIXTURES="${PROJECT_SOURCE_DIR}/tests/fixtures")

yard_unit_test(test_worker_gang
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_worker_gang.c
  LIBS yard_workerlib)

# the gang fields of a job spec (scheduler/job.c)
yard_unit_test(test_gang_spec
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_gang_spec.c
  LIBS yard_sched)

# the gang_part table (scheduler/store_gang.c)
yard_unit_test(test_store_gang
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_store_gang.c
  LIBS yard_sched)
