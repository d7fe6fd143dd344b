# The command-line programs as users run them: shmsnap-publisher and
# shmsnap-subscriber as real processes, the shmsnap admin CLI both as a process
# and in-process (its logic library), all under a unique prefix per test.
shmsnap_add_test(shmsnap_cli_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/cli_daemon_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cli_admin_test.cpp
  LIBS shmsnap_admin_app shmsnap_subscriber_app
  LABELS cli
  TIMEOUT 180)
add_dependencies(shmsnap_cli_test shmsnap-publisher shmsnap-subscriber shmsnap-admin)
