# Recording (issue 14): shmsnap record / replay / info with real processes, every
# file checked by an independent reader (@mcap/core from npm, run by node), json
# messages against their JSON Schema (Debian's python3-jsonschema), cut, killed and
# malformed files. Included by tests/CMakeLists.txt. Every test here checks its file
# with the npm reader, so without the node tests there is no recording test.
shmsnap_node_packages(mcap mcap_node_modules)
if(NOT mcap_node_modules)
  return()
endif()
shmsnap_add_test(shmsnap_recording_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/recording_test.cpp
  LIBS shmsnap_recording shmsnap_admin_app shmsnap_bundled_schemas
  LABELS recording
  TIMEOUT 300)
add_dependencies(shmsnap_recording_test shmsnap-publisher shmsnap-subscriber shmsnap-admin)
target_compile_definitions(shmsnap_recording_test PRIVATE
  SHMSNAP_MCAP_NODE_MODULES="${mcap_node_modules}"
  SHMSNAP_MCAP_CHECK_SCRIPT="${PROJECT_SOURCE_DIR}/tests/node/mcap/check_mcap.cjs"
  SHMSNAP_SYSTEM_PYTHON="/usr/bin/python3")
