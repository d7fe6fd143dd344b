# Core unit tests: names, protocol, queues, region validation (in-process).
shmsnap_add_test(shmsnap_core_unit_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/names_protocol_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/message_queue_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/region_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/seqlock_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/variable_size_test.cpp
  LABELS unit
  TIMEOUT 120)
shmsnap_add_test(shmsnap_robustness_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/robustness_test.cpp
  LABELS concurrency
  TIMEOUT 180)
shmsnap_add_test(shmsnap_contract_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/contract_test.cpp
  LABELS unit
  TIMEOUT 180)
add_dependencies(shmsnap_contract_test shmsnap-publisher)
