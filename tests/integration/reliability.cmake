# Reliability and security tests: permissions (as root, dropping to other users
# with setpriv), hostile control traffic, resource exhaustion, stale resources.
add_executable(shmsnap-reliability-probe ${CMAKE_CURRENT_LIST_DIR}/reliability_probe.cpp)
target_link_libraries(shmsnap-reliability-probe PRIVATE rt)
shmsnap_set_warnings(shmsnap-reliability-probe)

shmsnap_add_test(shmsnap_reliability_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/permissions_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/hostile_control_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/exhaustion_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/stale_resources_test.cpp
  LABELS reliability
  TIMEOUT 180)
add_dependencies(shmsnap_reliability_test shmsnap-reliability-probe)

shmsnap_add_test(shmsnap_hostile_user_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/hostile_user_test.cpp
  LABELS reliability
  TIMEOUT 180)
add_dependencies(shmsnap_hostile_user_test shmsnap-publisher shmsnap-subscriber shmsnap-admin)
