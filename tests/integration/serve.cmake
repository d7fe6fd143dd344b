# shmsnap serve: metrics (promtool), JSON API, token, loopback default and hostile
# HTTP clients against the real binary; the dashboard in headless Chromium and a
# Foxglove WebSocket client (node, when their npm packages are installed).
shmsnap_add_test(shmsnap_serve_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/serve_test.cpp
  LIBS nlohmann_json::nlohmann_json
  LABELS serve
  TIMEOUT 180)
add_dependencies(shmsnap_serve_test shmsnap-publisher shmsnap-admin)
