# Chaos soak: shmsnap-chaos drives one publisher and K subscriber processes (the
# soak roles of shmsnap-test-peer) through seeded SIGKILL/restart/SIGSTOP/mid-write
# faults and exits 0 only when every invariant held. ctest runs 60 seconds of it
# (label chaos).
add_executable(shmsnap-chaos ${CMAKE_CURRENT_LIST_DIR}/chaos_main.cpp ${CMAKE_CURRENT_LIST_DIR}/chaos_driver.cpp)
target_link_libraries(shmsnap-chaos PRIVATE shmsnap_process_support shmsnap::shmsnap)  # shmsnap::admin::clean
add_dependencies(shmsnap-chaos shmsnap-test-peer)
shmsnap_set_warnings(shmsnap-chaos)

add_test(NAME shmsnap_chaos_60s COMMAND shmsnap-chaos --duration 60 --subscribers 8)
set_tests_properties(shmsnap_chaos_60s PROPERTIES TIMEOUT 150 LABELS chaos RUN_SERIAL TRUE)

# A live region rewritten at random (header, table, descriptor, slot headers) under a
# running publisher, subscribers and tools: no crash, hang or misled reader.
# SHMSNAP_REGION_FUZZ_SECONDS=600 for a long run.
shmsnap_add_test(shmsnap_region_fuzz_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/region_fuzz_test.cpp
  LABELS chaos
  TIMEOUT 900)
add_dependencies(shmsnap_region_fuzz_test shmsnap-admin)
