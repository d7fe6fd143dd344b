# libFuzzer targets for shmsnap-bridge's parsers of outside input (anything put
# into the Key-Value bucket): the value envelope, the schema record, and the chunk
# manifest and chunks of big snapshots. Included by tests/fuzz/CMakeLists.txt;
# seeds in tests/fuzz/corpus/<target>/.
if(TARGET shmsnap_bridge_envelope)
  foreach(bridge_fuzzer fuzz_bridge_envelope fuzz_bridge_schema_record fuzz_bridge_chunks)
    add_shmsnap_fuzzer(${bridge_fuzzer} ${CMAKE_CURRENT_LIST_DIR}/${bridge_fuzzer}.cpp
                       LIBS shmsnap_bridge_envelope shmsnap::shmsnap CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/${bridge_fuzzer})
  endforeach()
endif()
