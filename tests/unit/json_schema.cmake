# JSON Schema from a descriptor (json_schema.hpp): decoded snapshots of every bundled
# schema and the all-types test schema validate with Python's jsonschema, and
# hand-broken ones do not. Included by tests/CMakeLists.txt.
shmsnap_add_test(json_schema_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/json_schema_test.cpp
  LIBS shmsnap_bundled_schemas shmsnap_test_schemas
  LABELS unit
  TIMEOUT 120)
# Debian's interpreter carries python3-jsonschema; a python3 earlier on PATH may not.
target_compile_definitions(json_schema_test PRIVATE SHMSNAP_SYSTEM_PYTHON="/usr/bin/python3")
