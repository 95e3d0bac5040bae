# Pipelines: YAML files (client/pipeline_yaml.c), spec validation, step
# order and cache keys (common/pipeline_dag.c).
yard_unit_test(test_pipeline_yaml
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pipeline_yaml.c
  LIBS yard_client)
yard_unit_test(test_pipeline_dag
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pipeline_dag.c
  LIBS yard_client)
yard_unit_test(test_store_pipeline
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_store_pipeline.c
  LIBS yard_sched)
