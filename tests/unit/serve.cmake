# The pure parts of shmsnap serve in-process: query, token and Host checks, routes,
# the Foxglove protocol messages, and the field history.
shmsnap_add_test(serve_protocol_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/serve_protocol_test.cpp ${CMAKE_CURRENT_LIST_DIR}/field_history_test.cpp
  LIBS shmsnap_serve
  LABELS unit
  TIMEOUT 60)
