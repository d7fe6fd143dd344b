# Socket mode building blocks, in-process: the attach handshake codec, and the
# sealed memfd region (a forked receiver of its descriptor cannot write it).
# The region test reaches into the library's internals (lib/src), as
# shmsnap_fault_injection does.
shmsnap_add_test(shmsnap_socket_mode_unit_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/attach_handshake_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sealed_region_test.cpp
  LABELS unit
  TIMEOUT 120)
target_include_directories(shmsnap_socket_mode_unit_test PRIVATE ${PROJECT_SOURCE_DIR}/lib/src)
