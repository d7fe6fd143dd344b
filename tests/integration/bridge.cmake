# shmsnap-bridge against real nats-server processes (label `bridge`): the binaries
# as users run them and the engine in-process. Registered only when the bridge is
# built (nats.c found); the tests skip themselves when nats-server is missing.
if(TARGET shmsnap_bridge_engine)
  shmsnap_add_test(shmsnap_bridge_test
    SOURCES
      ${CMAKE_CURRENT_LIST_DIR}/bridge_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/nats_server.cpp
    LIBS shmsnap_bridge_engine shmsnap_bundled_schemas nlohmann_json::nlohmann_json
    LABELS bridge
    TIMEOUT 180)
  target_include_directories(shmsnap_bridge_test PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  add_dependencies(shmsnap_bridge_test shmsnap-bridge shmsnap-publisher shmsnap-subscriber)

  # Ten kills of a random node of a 3-node cluster under load, with the gap of each
  # printed (a soak: label `chaos`, so the sanitizer runs leave it out).
  shmsnap_add_test(shmsnap_bridge_failover_test
    SOURCES
      ${CMAKE_CURRENT_LIST_DIR}/bridge_failover_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/nats_server.cpp
    LIBS shmsnap_bridge_engine
    LABELS chaos
    TIMEOUT 600)
  target_include_directories(shmsnap_bridge_failover_test PRIVATE ${CMAKE_CURRENT_LIST_DIR})
endif()
