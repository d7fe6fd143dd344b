# libFuzzer target for the MCAP reader of recording/ (issue 14): every file given to
# shmsnap info / replay / record --recover goes through it. Included by
# tests/fuzz/CMakeLists.txt. Seeds: small recordings (zstd, lz4, uncompressed, cut).
add_shmsnap_fuzzer(fuzz_mcap_reader ${CMAKE_CURRENT_LIST_DIR}/fuzz_mcap_reader.cpp
                   LIBS shmsnap_mcap shmsnap::shmsnap shmsnap::json CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/fuzz_mcap_reader)
