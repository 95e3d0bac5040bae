# yard-bench: the load generator behind scripts/bench.sh.
add_executable(yard-bench ${CMAKE_CURRENT_LIST_DIR}/yard_bench.c)
target_link_libraries(yard-bench PRIVATE yard_client)
# yard-loadgen: simulated workers and pipelined submissions for the scheduler core.
add_executable(yard-loadgen ${CMAKE_CURRENT_LIST_DIR}/yard_loadgen.c)
target_link_libraries(yard-loadgen PRIVATE yard_common)
