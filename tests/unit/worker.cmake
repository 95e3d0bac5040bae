# Unit tests of yard-worker (worker/), linked against yard_workerlib.
set(_w ${CMAKE_CURRENT_SOURCE_DIR}/unit)
foreach(t cli logship jobenv jobdir attempt proto)
  if(EXISTS ${_w}/test_worker_${t}.c)
    yard_unit_test(test_worker_${t}
      SOURCES ${_w}/test_worker_${t}.c
      LIBS yard_workerlib)
  endif()
endforeach()
