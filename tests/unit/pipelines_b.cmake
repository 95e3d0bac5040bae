# Models, schedules, triggers and drift: cron expressions
# (scheduler/cron.c), model registration conditions (scheduler/model_rule.c),
# step conditions (common/step_when.c), the PSI/KS statistics of yard-drift
# (tools/drift.c), their tables (scheduler/store_models.c) and the CLI's
# argument handling (client/cli_models.c).
yard_unit_test(test_cron
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cron.c
  LIBS yard_sched)
yard_unit_test(test_drift
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_drift.c
  LIBS yard_drift)
yard_unit_test(test_model_rule
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_model_rule.c
  LIBS yard_sched)
yard_unit_test(test_step_when
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_step_when.c
  LIBS yard_common)
yard_unit_test(test_store_models
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_store_models.c
  LIBS yard_sched)
yard_unit_test(test_cli_models
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_models.c
  LIBS yard_cli)
