# shmsnap serve: metrics (promtool), JSON API, token, loopback default and hostile
# HTTP clients against the real binary; the dashboard in headless Chromium and a
# Foxglove WebSocket client (node, when their npm packages are installed).
shmsnap_add_test(shmsnap_serve_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/serve_test.cpp
  LIBS nlohmann_json::nlohmann_json
  LABELS serve
  TIMEOUT 180)
add_dependencies(shmsnap_serve_test shmsnap-publisher shmsnap-admin shmsnap-subscriber)
target_compile_definitions(shmsnap_serve_test
  PRIVATE SHMSNAP_ALERT_RULES="${PROJECT_SOURCE_DIR}/serve/prometheus/shmsnap_alerts.yml")

# The shipped alerting rules: valid (promtool check rules) and firing on the series
# they are for, not on healthy ones (promtool test rules, tests/alerts/).
find_program(SHMSNAP_PROMTOOL promtool)
if(NOT SHMSNAP_PROMTOOL)
  set(SHMSNAP_PROMTOOL promtool)  # the tests then fail saying promtool is missing (Debian: prometheus)
endif()
add_test(NAME serve.alert_rules_check
  COMMAND ${SHMSNAP_PROMTOOL} check rules ${PROJECT_SOURCE_DIR}/serve/prometheus/shmsnap_alerts.yml)
add_test(NAME serve.alert_rules_unit_tests
  COMMAND ${SHMSNAP_PROMTOOL} test rules ${PROJECT_SOURCE_DIR}/tests/alerts/shmsnap_alerts_test.yml)
set_tests_properties(serve.alert_rules_check serve.alert_rules_unit_tests PROPERTIES LABELS serve TIMEOUT 60)

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
  add_test(NAME serve.dashboard_500_topics
    COMMAND ${SHMSNAP_NODE} ${PROJECT_SOURCE_DIR}/tests/node/web/dashboard_fleet_test.cjs)
  set_tests_properties(serve.dashboard_500_topics PROPERTIES
    LABELS serve TIMEOUT 240
    ENVIRONMENT "${serve_node_environment};SHMSNAP_SCREENSHOT=${CMAKE_CURRENT_BINARY_DIR}/dashboard-500.png")
  add_test(NAME serve.foxglove_client
    COMMAND ${SHMSNAP_NODE} ${PROJECT_SOURCE_DIR}/tests/node/web/foxglove_test.cjs)
  set_tests_properties(serve.foxglove_client PROPERTIES LABELS serve TIMEOUT 180
    ENVIRONMENT "${serve_node_environment}")
endif()
