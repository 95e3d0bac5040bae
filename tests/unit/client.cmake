# client: libyard and the yard CLI.
find_package(Threads REQUIRED)

# libyard against an unreachable endpoint and a scripted in-test scheduler
yard_unit_test(test_client
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_client.c
          ${CMAKE_CURRENT_LIST_DIR}/test_client_fake.c
  LIBS yard_client Threads::Threads)

# the CLI's pure parts: argument parsing, JSON and human rendering, tables
yard_unit_test(test_cli_args
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_args.c
  LIBS yard_cli)
yard_unit_test(test_cli_retry
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_retry.c
  LIBS yard_cli)
yard_unit_test(test_cli_render
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_render.c
  LIBS yard_cli)

# the whole CLI (cli_run) in-process against the scripted scheduler
yard_unit_test(test_cli_run
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_run.c
          ${CMAKE_CURRENT_LIST_DIR}/test_client_fake.c
  LIBS yard_cli Threads::Threads)

# `yard watch` and resource use rendering
yard_unit_test(test_cli_watch
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_watch.c
  LIBS yard_cli)

# `yard artifact`, `yard checkpoints`, submit's artifact options.
yard_unit_test(test_cli_artifact
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_artifact.c
  LIBS yard_cli)
