# The scheduler's free-capacity heaps over the worker registry
# (scheduler/node.c): order, maxima, and a randomized check against a scan.
yard_unit_test(test_node_index
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_node_index.c
  LIBS yard_sched)
