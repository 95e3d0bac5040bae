# Node discovery (worker/topo.c) on the hwloc XML and fake GPU fixtures of
# tests/fixtures/.  topo.c is compiled in directly: it needs only hwloc,
# libdl and yard_common, not the rest of the worker.
yard_unit_test(test_topo
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_topo.c
          ${PROJECT_SOURCE_DIR}/worker/topo.c
  LIBS PkgConfig::HWLOC ${CMAKE_DL_LIBS})
target_include_directories(test_topo PRIVATE ${PROJECT_SOURCE_DIR}/worker)
target_compile_definitions(test_topo PRIVATE
  YARD_FIXTURES="${PROJECT_SOURCE_DIR}/tests/fixtures")

# a stand-in libcudart (tests/unit/fake_cudart.c) loaded through YARD_CUDART's
# path, for the CUDA runtime backend on machines with no GPU
add_library(fake_cudart SHARED ${CMAKE_CURRENT_LIST_DIR}/fake_cudart.c)
add_dependencies(test_topo fake_cudart)
target_compile_definitions(test_topo PRIVATE
  FAKE_CUDART="$<TARGET_FILE:fake_cudart>")
