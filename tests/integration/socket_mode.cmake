# Socket mode across processes (forked): the topic socket, descriptor passing, a
# notify queue from the subscriber's own IPC namespace, hostile clients. Reaches
# into the library's internals (lib/src) for the blocks under test.
shmsnap_add_test(shmsnap_socket_attach_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/socket_attach_test.cpp
  LABELS reliability
  TIMEOUT 120)
target_include_directories(shmsnap_socket_attach_test PRIVATE ${PROJECT_SOURCE_DIR}/lib/src)

# Socket mode end to end: the real shmsnap-publisher and shmsnap-subscriber over
# DIR/<topic>.sock, the sealed region's read-only enforcement, hostile peers.
shmsnap_add_test(shmsnap_socket_mode_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/socket_mode_test.cpp
  LIBS shmsnap_admin_app shmsnap_subscriber_app
  LABELS cli
  TIMEOUT 180)
add_dependencies(shmsnap_socket_mode_test shmsnap-publisher shmsnap-subscriber)
target_include_directories(shmsnap_socket_mode_test PRIVATE ${PROJECT_SOURCE_DIR}/lib/src)

# Socket mode across real namespaces (unshare: IPC, mount, PID, user), and across
# real containers (podman, from an image the test assembles): tests/containers/.
add_test(NAME containers.namespaces
  COMMAND bash ${PROJECT_SOURCE_DIR}/tests/containers/namespaces_test.sh ${CMAKE_RUNTIME_OUTPUT_DIRECTORY})
add_test(NAME containers.podman
  COMMAND bash ${PROJECT_SOURCE_DIR}/tests/containers/podman_test.sh ${CMAKE_RUNTIME_OUTPUT_DIRECTORY})
set_tests_properties(containers.namespaces containers.podman PROPERTIES
  LABELS containers TIMEOUT 300 SKIP_RETURN_CODE 77)
