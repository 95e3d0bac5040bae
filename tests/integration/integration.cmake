# Integration tests: real daemons on loopback, driven by the real CLI.
find_program(YARD_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT YARD_PYTHON3)
  find_program(YARD_PYTHON3 python3 REQUIRED)
endif()
foreach(t basic scale durability malformed trainer python metrics nodes retries binding cores deps nodeadmin usage watch events partition artifacts gang models pipelines pipeline_events python_pipelines checkpoint_announce fairness wire ahead)
  add_test(NAME integration.${t}
           COMMAND ${YARD_PYTHON3} -m unittest -v test_${t}
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(integration.${t} PROPERTIES
    TIMEOUT 600 LABELS integration
    ENVIRONMENT "YARD_BUILD_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1")
endforeach()

# libyard's public pipeline API (the shared library: exported symbols only),
# driven by test_pipelines.py
add_executable(pipeline_api ${CMAKE_CURRENT_LIST_DIR}/pipeline_api.c)
target_link_libraries(pipeline_api PRIVATE yard_client_shared)

# scripts/gpu-check.sh against stand-in GPUs (the parts that need no GPU)
add_test(NAME integration.gpu_check_fake
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/gpu_check_fake.sh ${CMAKE_BINARY_DIR})
set_tests_properties(integration.gpu_check_fake PROPERTIES
  TIMEOUT 300 LABELS integration)
