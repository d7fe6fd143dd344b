# The pure parts of shmsnap serve in-process: query, token and Host checks, routes,
# and the Foxglove protocol messages.
shmsnap_add_test(serve_protocol_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/serve_protocol_test.cpp
  LIBS shmsnap_serve
  LABELS unit
  TIMEOUT 60)
