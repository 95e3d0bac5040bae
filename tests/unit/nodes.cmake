# Node topology beyond the worker: the scheduler's checks, copies and
# state.db persistence (scheduler/topology.c, store.c), and how libyard and
# the CLI convert, parse and show it (client/types_topo.c, cli_topo.c).
yard_unit_test(test_sched_topology
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sched_topology.c
  LIBS yard_sched PkgConfig::SQLITE)
yard_unit_test(test_cli_topo
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_topo.c
  LIBS yard_cli)
