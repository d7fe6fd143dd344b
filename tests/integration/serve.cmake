# shmsnap serve: metrics (promtool), JSON API, token, loopback default and hostile
# HTTP clients against the real binary; the dashboard in headless Chromium and a
# Foxglove WebSocket client (node, when their npm packages are installed).
shmsnap_add_test(shmsnap_serve_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/serve_test.cpp
  LIBS nlohmann_json::nlohmann_json
  LABELS serve
  TIMEOUT 180)
add_dependencies(shmsnap_serve_test shmsnap-publisher shmsnap-admin shmsnap-subscriber)

# Node clients (their npm packages are installed at configure time by
# cmake/ShmsnapNodePackages.cmake into build/node/web).
shmsnap_node_packages(web serve_node_modules)
if(serve_node_modules)
  set(serve_node_environment
    "SHMSNAP_BIN_DIR=${CMAKE_RUNTIME_OUTPUT_DIRECTORY}"
    "NODE_PATH=${serve_node_modules}")
  add_test(NAME serve.dashboard_in_chromium
    COMMAND ${SHMSNAP_NODE} ${PROJECT_SOURCE_DIR}/tests/node/web/dashboard_test.cjs)
  set_tests_properties(serve.dashboard_in_chromium PROPERTIES
    LABELS serve TIMEOUT 180
    ENVIRONMENT "${serve_node_environment};SHMSNAP_SCREENSHOT=${CMAKE_CURRENT_BINARY_DIR}/dashboard.png")
  add_test(NAME serve.foxglove_client
    COMMAND ${SHMSNAP_NODE} ${PROJECT_SOURCE_DIR}/tests/node/web/foxglove_test.cjs)
  set_tests_properties(serve.foxglove_client PROPERTIES LABELS serve TIMEOUT 180
    ENVIRONMENT "${serve_node_environment}")
endif()
