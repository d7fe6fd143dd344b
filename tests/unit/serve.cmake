# The pure parts of shmsnap serve in-process: query, token and Host checks, routes,
# the Foxglove protocol messages, the field history and its Foxglove replay.
shmsnap_add_test(serve_protocol_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/serve_protocol_test.cpp ${CMAKE_CURRENT_LIST_DIR}/field_history_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/foxglove_history_test.cpp
  LIBS shmsnap_serve
  LABELS unit
  TIMEOUT 60)
