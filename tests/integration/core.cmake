# Core multi-process tests (real publisher/subscriber processes).
shmsnap_add_test(shmsnap_pubsub_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/pubsub_test.cpp
  LABELS concurrency
  TIMEOUT 180)
shmsnap_add_test(shmsnap_poller_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/poller_test.cpp
  LABELS concurrency
  TIMEOUT 180)
