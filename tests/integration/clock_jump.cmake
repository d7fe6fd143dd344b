# Wall-clock jumps: the real binaries under libfaketime (Debian: faketime), their
# CLOCK_REALTIME stepped by hours mid-run, CLOCK_MONOTONIC untouched. The tests
# skip themselves when libfaketime is missing; the bridge case needs the bridge
# built (nats.c) and nats-server installed.
shmsnap_add_test(shmsnap_clock_jump_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/clock_jump_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/nats_server.cpp
  LIBS shmsnap_recording shmsnap_admin_app nlohmann_json::nlohmann_json
  LABELS reliability
  TIMEOUT 240)
target_include_directories(shmsnap_clock_jump_test PRIVATE ${CMAKE_CURRENT_LIST_DIR})
add_dependencies(shmsnap_clock_jump_test shmsnap-publisher shmsnap-subscriber shmsnap-admin)
if(TARGET shmsnap-bridge)
  add_dependencies(shmsnap_clock_jump_test shmsnap-bridge)
  target_compile_definitions(shmsnap_clock_jump_test PRIVATE SHMSNAP_CLOCK_JUMP_BRIDGE)
endif()
