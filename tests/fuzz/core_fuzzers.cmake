# libFuzzer targets for every parser of outside input in the core library:
# region header validation, control and notify messages, and name validation.
# Included from tests/fuzz/CMakeLists.txt (SHMSNAP_BUILD_FUZZERS=ON, clang).
# Seed corpora: tests/fuzz/corpus/<target>/; tests/fuzz/run_fuzzers.sh runs them.

# The library must carry coverage instrumentation, or libFuzzer sees only the
# thin target file and cannot steer into the parsers.
if(TARGET shmsnap)
  get_target_property(shmsnap_core_fuzz_options shmsnap COMPILE_OPTIONS)
  if(NOT "${shmsnap_core_fuzz_options}" MATCHES "fuzzer")
    target_compile_options(shmsnap PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endif()

# Fallback for when this file is included before (or without) the schema area's
# helper of the same name: one fuzzer binary with ASan + UBSan.
if(NOT COMMAND add_shmsnap_fuzzer)
  function(add_shmsnap_fuzzer name)
    add_executable(${name} ${ARGN})
    target_link_libraries(${name} PRIVATE shmsnap::shmsnap)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -g)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    shmsnap_set_warnings(${name})
  endfunction()
endif()

foreach(core_fuzzer fuzz_region_header fuzz_control_message fuzz_notify_message fuzz_names)
  add_shmsnap_fuzzer(${core_fuzzer} ${CMAKE_CURRENT_LIST_DIR}/${core_fuzzer}.cpp)
  if(TARGET ${core_fuzzer})
    shmsnap_set_warnings(${core_fuzzer})
  endif()
endforeach()
