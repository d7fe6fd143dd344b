# Socket mode across processes (forked): the topic socket, descriptor passing, a
# notify queue from the subscriber's own IPC namespace, hostile clients. Reaches
# into the library's internals (lib/src) for the blocks under test.
shmsnap_add_test(shmsnap_socket_attach_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/socket_attach_test.cpp
  LABELS reliability
  TIMEOUT 120)
target_include_directories(shmsnap_socket_attach_test PRIVATE ${PROJECT_SOURCE_DIR}/lib/src)
