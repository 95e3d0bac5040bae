# PU and GPU placement (scheduler/place.c) on the topologies that the
# worker's discovery (worker/topo.c) makes of the fixtures in
# tests/fixtures/, and the "0-3,8" list code (common/cpulist.c).  Both .c
# files are compiled in directly: the test needs neither daemon.
yard_unit_test(test_place
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_place.c
          ${PROJECT_SOURCE_DIR}/scheduler/place.c
          ${PROJECT_SOURCE_DIR}/worker/topo.c
  LIBS PkgConfig::HWLOC ${CMAKE_DL_LIBS})
target_include_directories(test_place PRIVATE ${PROJECT_SOURCE_DIR}/worker
                           ${PROJECT_SOURCE_DIR}/scheduler)
target_compile_definitions(test_place PRIVATE
  YARD_FIXTURES="${PROJECT_SOURCE_DIR}/tests/fixtures")
