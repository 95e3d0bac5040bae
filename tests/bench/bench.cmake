# yard-bench: the load generator behind scripts/bench.sh.
add_executable(yard-bench ${CMAKE_CURRENT_LIST_DIR}/yard_bench.c)
target_link_libraries(yard-bench PRIVATE yard_client)
