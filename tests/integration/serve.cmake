# shmsnap serve: metrics (promtool), JSON API, token, loopback default and hostile
# HTTP clients against the real binary; the dashboard in headless Chromium and a
# Foxglove WebSocket client (node, when their npm packages are installed).
shmsnap_add_test(shmsnap_serve_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/serve_test.cpp
  LIBS nlohmann_json::nlohmann_json
  LABELS serve
  TIMEOUT 180)
add_dependencies(shmsnap_serve_test shmsnap-publisher shmsnap-admin shmsnap-subscriber)

# Node clients: registered when their npm packages are installed (cmake/run.sh
# install_node_packages puts tests/node/web's into build/node/web before configuring).
find_program(SHMSNAP_NODE node)
set(serve_node_modules ${PROJECT_SOURCE_DIR}/build/node/web/node_modules)
if(SHMSNAP_NODE AND EXISTS ${serve_node_modules}/playwright-core)
  set(serve_node_environment
    "SHMSNAP_BIN_DIR=${CMAKE_RUNTIME_OUTPUT_DIRECTORY}"
    "NODE_PATH=${serve_node_modules}")
  add_test(NAME serve.dashboard_in_chromium
    COMMAND ${SHMSNAP_NODE} ${PROJECT_SOURCE_DIR}/tests/node/web/dashboard_test.cjs)
  set_tests_properties(serve.dashboard_in_chromium PROPERTIES
    LABELS serve TIMEOUT 180
    ENVIRONMENT "${serve_node_environment};SHMSNAP_SCREENSHOT=${CMAKE_CURRENT_BINARY_DIR}/dashboard.png")
else()
  message(STATUS "serve: node tests not registered (need node and ${serve_node_modules}; "
                 "see tests/node/web/package.json)")
endif()
if(SHMSNAP_NODE AND EXISTS ${serve_node_modules}/@foxglove/ws-protocol)
  add_test(NAME serve.foxglove_client
    COMMAND ${SHMSNAP_NODE} ${PROJECT_SOURCE_DIR}/tests/node/web/foxglove_test.cjs)
  set_tests_properties(serve.foxglove_client PROPERTIES LABELS serve TIMEOUT 180
    ENVIRONMENT "${serve_node_environment}")
endif()
