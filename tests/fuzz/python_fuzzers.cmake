# libFuzzer target for the Python package's schema loading (issue 13): descriptor
# JSON from Python callers and the fingerprint rebuilt from it. It compiles the one
# C++-only source of the extension directly, so it needs neither Python nor pybind11.
# Included by tests/fuzz/CMakeLists.txt after add_shmsnap_fuzzer().
add_shmsnap_fuzzer(fuzz_descriptor_fingerprint ${CMAKE_CURRENT_LIST_DIR}/fuzz_descriptor_fingerprint.cpp
                   ${PROJECT_SOURCE_DIR}/python/src/schema_source.cpp
                   LIBS shmsnap_schemac_lib shmsnap::shmsnap shmsnap::json
                   CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/fuzz_descriptor_fingerprint)
target_include_directories(fuzz_descriptor_fingerprint PRIVATE ${PROJECT_SOURCE_DIR}/python/src)
