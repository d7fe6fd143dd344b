# libFuzzer targets for every parser of outside input in the core library:
# region header validation (RegionReader::validate), control and notify messages
# (parse_control, parse_notify), and names (is_valid_name, validate_name,
# TopicNames), and the socket mode's attach handshake (parse_attach_header,
# parse_attach_frame). Included by tests/fuzz/CMakeLists.txt after add_shmsnap_fuzzer().
# Seeds: tests/fuzz/corpus/<target>/; tests/fuzz/run_fuzzers.sh SECONDS runs them all.
foreach(core_fuzzer fuzz_region_header fuzz_control_message fuzz_notify_message fuzz_names
                    fuzz_attach_handshake)
  # The helper links an instrumented copy of the library, so libFuzzer steers
  # through the parsers themselves, and registers a ctest run over the seeds.
  add_shmsnap_fuzzer(${core_fuzzer} ${CMAKE_CURRENT_LIST_DIR}/${core_fuzzer}.cpp
                     LIBS shmsnap::shmsnap CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/${core_fuzzer})
endforeach()
