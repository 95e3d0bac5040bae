# Pipelines built in C (client/pipeline_build.c): the same spec, and the
# same refusals, as the YAML loader.
yard_unit_test(test_pipeline_build
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pipeline_build.c
  LIBS yard_client)
