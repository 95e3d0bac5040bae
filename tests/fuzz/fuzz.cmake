# Fuzz targets: replayed over their corpus in every test run; built as
# libFuzzer binaries with -DYARD_FUZZ=ON (clang).
set(YARD_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
foreach(t envelope parse tree)
  add_executable(replay_${t} ${YARD_FUZZ_DIR}/fuzz_${t}.c ${YARD_FUZZ_DIR}/replay.c)
  target_link_libraries(replay_${t} PRIVATE yard_common)
  add_test(NAME fuzz.replay_${t} COMMAND replay_${t} ${YARD_FUZZ_DIR}/corpus/${t})
  set_tests_properties(fuzz.replay_${t} PROPERTIES TIMEOUT 120 LABELS fuzz)
  if(YARD_FUZZ)
    add_executable(fuzz_${t} ${YARD_FUZZ_DIR}/fuzz_${t}.c)
    target_compile_options(fuzz_${t} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_${t} PRIVATE yard_common)
  endif()
endforeach()

# The worker's metrics line parser reads what jobs write: untrusted input.
set(YARD_METRICLINE_SRC ${CMAKE_SOURCE_DIR}/worker/metricline.c)
add_executable(replay_metricline ${YARD_FUZZ_DIR}/fuzz_metricline.c
               ${YARD_METRICLINE_SRC} ${YARD_FUZZ_DIR}/replay.c)
target_include_directories(replay_metricline PRIVATE ${CMAKE_SOURCE_DIR}/worker)
target_link_libraries(replay_metricline PRIVATE yard_common PkgConfig::JANSSON)
add_test(NAME fuzz.replay_metricline
         COMMAND replay_metricline ${YARD_FUZZ_DIR}/corpus/metricline)
set_tests_properties(fuzz.replay_metricline PROPERTIES TIMEOUT 120 LABELS fuzz)
if(YARD_FUZZ)
  add_executable(fuzz_metricline ${YARD_FUZZ_DIR}/fuzz_metricline.c ${YARD_METRICLINE_SRC})
  target_include_directories(fuzz_metricline PRIVATE ${CMAKE_SOURCE_DIR}/worker)
  target_compile_options(fuzz_metricline PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_metricline PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_metricline PRIVATE yard_common PkgConfig::JANSSON)
endif()

# Pipeline files (YAML, typed by users) and wire PipelineSpecs (from any
# client) into validation, commands and cache keys.
add_executable(replay_pipeline ${YARD_FUZZ_DIR}/fuzz_pipeline.c ${YARD_FUZZ_DIR}/replay.c)
target_link_libraries(replay_pipeline PRIVATE yard_client)
add_test(NAME fuzz.replay_pipeline
         COMMAND replay_pipeline ${YARD_FUZZ_DIR}/corpus/pipeline)
set_tests_properties(fuzz.replay_pipeline PROPERTIES TIMEOUT 120 LABELS fuzz)
if(YARD_FUZZ)
  add_executable(fuzz_pipeline ${YARD_FUZZ_DIR}/fuzz_pipeline.c)
  target_compile_options(fuzz_pipeline PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_pipeline PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_pipeline PRIVATE yard_client)
endif()

# Cron expressions, model registration and step conditions (typed by users).
add_executable(replay_conditions ${YARD_FUZZ_DIR}/fuzz_conditions.c ${YARD_FUZZ_DIR}/replay.c)
target_link_libraries(replay_conditions PRIVATE yard_sched)
add_test(NAME fuzz.replay_conditions
         COMMAND replay_conditions ${YARD_FUZZ_DIR}/corpus/conditions)
set_tests_properties(fuzz.replay_conditions PROPERTIES TIMEOUT 120 LABELS fuzz)
if(YARD_FUZZ)
  add_executable(fuzz_conditions ${YARD_FUZZ_DIR}/fuzz_conditions.c)
  target_compile_options(fuzz_conditions PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_conditions PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_conditions PRIVATE yard_sched)
endif()
