# Fuzz targets: replayed over their corpus in every test run; built as
# libFuzzer binaries with -DYARD_FUZZ=ON (clang).
set(YARD_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

# yard_fuzz_target(NAME [SOURCES src...] [INCLUDES dir...] LIBS lib...):
# replay_NAME runs fuzz_NAME.c (with SOURCES) over corpus/NAME as the test
# fuzz.replay_NAME; with YARD_FUZZ, fuzz_NAME is the libFuzzer binary.
function(yard_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;INCLUDES;LIBS" ${ARGN})
  set(src ${YARD_FUZZ_DIR}/fuzz_${name}.c ${F_SOURCES})
  add_executable(replay_${name} ${src} ${YARD_FUZZ_DIR}/replay.c)
  if(F_INCLUDES)
    target_include_directories(replay_${name} PRIVATE ${F_INCLUDES})
  endif()
  target_link_libraries(replay_${name} PRIVATE ${F_LIBS})
  add_test(NAME fuzz.replay_${name}
           COMMAND replay_${name} ${YARD_FUZZ_DIR}/corpus/${name})
  set_tests_properties(fuzz.replay_${name} PROPERTIES TIMEOUT 120 LABELS fuzz)
  if(YARD_FUZZ)
    add_executable(fuzz_${name} ${src})
    if(F_INCLUDES)
      target_include_directories(fuzz_${name} PRIVATE ${F_INCLUDES})
    endif()
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_${name} PRIVATE ${F_LIBS})
  endif()
endfunction()

# Wire envelopes, command-line values and tree manifests.
foreach(t envelope parse tree)
  yard_fuzz_target(${t} LIBS yard_common)
endforeach()

# The worker's metrics line parser reads what jobs write: untrusted input.
yard_fuzz_target(metricline
  SOURCES ${CMAKE_SOURCE_DIR}/worker/metricline.c
  INCLUDES ${CMAKE_SOURCE_DIR}/worker
  LIBS yard_common PkgConfig::JANSSON)

# Pipeline files (YAML, typed by users) and wire PipelineSpecs (from any
# client) into validation, commands and cache keys.
yard_fuzz_target(pipeline LIBS yard_client)

# Cron expressions, model registration and step conditions (typed by users).
yard_fuzz_target(conditions LIBS yard_sched)
