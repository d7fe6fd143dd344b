# Schema compiler and schema runtime tests (issue 3). Included by tests/CMakeLists.txt.

# The test schema that exercises every type, generated like any user schema.
shmsnap_add_schema(shmsnap_test_schemas
  OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/shmsnap_test_schemas_include
  ${CMAKE_CURRENT_LIST_DIR}/schemas/all_types.toml)

# Front end, back end and command line, in-process and through the real binary.
shmsnap_add_test(schema_compiler_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/schema_frontend_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/schema_cli_test.cpp
  LIBS shmsnap_schemac_lib
  LABELS unit
  TIMEOUT 60)
target_compile_definitions(schema_compiler_test PRIVATE
  SHMSNAP_TEST_SCHEMA_DIR="${CMAKE_CURRENT_LIST_DIR}/schemas"
  SHMSNAP_BUNDLED_SCHEMA_DIR="${PROJECT_SOURCE_DIR}/schemas")
# The binary-driven tests need the compiler built first.
add_dependencies(schema_compiler_test shmsnap-schemac)

# Generated headers against the C++ compiler's layout, the JSON codec, compatibility.
shmsnap_add_test(schema_runtime_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/schema_layout_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/schema_json_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/schema_compat_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/schema_hardening_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/bounded_sequence_test.cpp
  LIBS shmsnap_bundled_schemas shmsnap_test_schemas shmsnap_schemac_lib
  LABELS unit
  TIMEOUT 60)
target_compile_definitions(schema_runtime_test PRIVATE
  SHMSNAP_TEST_SCHEMA_DIR="${CMAKE_CURRENT_LIST_DIR}/schemas"
  SHMSNAP_BUNDLED_SCHEMA_DIR="${PROJECT_SOURCE_DIR}/schemas")
