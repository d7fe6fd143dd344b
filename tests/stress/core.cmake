# Thread-level seqlock stress; the concurrency label puts it in the TSan job.
shmsnap_add_test(shmsnap_seqlock_stress_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/seqlock_stress_test.cpp
  LABELS concurrency
  TIMEOUT 300)
