# Dependencies and arrays: the scheduler's index (scheduler/deps.c) and the
# CLI's --after/--array parsing (client/cli_deps.c).
yard_unit_test(test_deps
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_deps.c
  LIBS yard_sched)
yard_unit_test(test_cli_deps
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_deps.c
  LIBS yard_cli)
