# Unit tests of yard-worker (worker/), linked against yard_workerlib.
set(_w ${CMAKE_CURRENT_SOURCE_DIR}/unit)
foreach(t cli logship jobenv jobdir attempt proto usage bind spawn dirpool)
  if(EXISTS ${_w}/test_worker_${t}.c)
    yard_unit_test(test_worker_${t}
      SOURCES ${_w}/test_worker_${t}.c
      LIBS yard_workerlib)
  endif()
endforeach()

# a stand-in libnvidia-ml (tests/unit/fake_nvml.c) loaded through YARD_NVML,
# for the GPU part of resource use on machines with no GPU
add_library(fake_nvml SHARED ${CMAKE_CURRENT_LIST_DIR}/fake_nvml.c)
add_dependencies(test_worker_usage fake_nvml)
target_compile_definitions(test_worker_usage PRIVATE
  FAKE_NVML="$<TARGET_FILE:fake_nvml>")
