# libFuzzer targets for every parser of outside input in the core library:
# region header validation (RegionReader::validate), control and notify messages
# (parse_control, parse_notify), and names (is_valid_name, validate_name,
# TopicNames). Meant to be included from tests/fuzz/CMakeLists.txt after
# add_shmsnap_fuzzer() is defined:  include(${CMAKE_CURRENT_LIST_DIR}/core_fuzzers.cmake)
# Seeds: tests/fuzz/corpus/<target>/; tests/fuzz/run_fuzzers.sh SECONDS runs them all.
set(shmsnap_core_fuzzers fuzz_region_header fuzz_control_message fuzz_notify_message fuzz_names)

if(COMMAND add_shmsnap_fuzzer)
  foreach(core_fuzzer IN LISTS shmsnap_core_fuzzers)
    # The helper links an instrumented copy of the library, so libFuzzer can steer
    # through the parsers themselves, and registers a ctest run over the seeds.
    add_shmsnap_fuzzer(${core_fuzzer} ${CMAKE_CURRENT_LIST_DIR}/${core_fuzzer}.cpp
                       LIBS shmsnap::shmsnap CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/${core_fuzzer})
  endforeach()
else()
  # Stand-alone use (a fuzz-only tree that includes just this file): instrument
  # the library target itself; nothing else in such a tree links it.
  target_compile_options(shmsnap PRIVATE -fsanitize=fuzzer-no-link)
  foreach(core_fuzzer IN LISTS shmsnap_core_fuzzers)
    add_executable(${core_fuzzer} ${CMAKE_CURRENT_LIST_DIR}/${core_fuzzer}.cpp)
    target_link_libraries(${core_fuzzer} PRIVATE shmsnap::shmsnap)
    target_compile_options(${core_fuzzer} PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -g)
    target_link_options(${core_fuzzer} PRIVATE -fsanitize=fuzzer,address,undefined)
    shmsnap_set_warnings(${core_fuzzer})
  endforeach()
endif()
