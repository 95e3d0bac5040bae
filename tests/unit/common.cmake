yard_unit_test(test_util SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_util.c)
yard_unit_test(test_msg SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_msg.c)
