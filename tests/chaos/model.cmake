# The Promela model of the notification protocol (tests/model/shmsnap.pml): spin
# must prove the real order of operations safe and convergent, and must find the
# lost wake-up of the swapped drain/read order (tests/model/verify.sh).
find_program(SHMSNAP_SPIN spin)
if(SHMSNAP_SPIN)
  add_test(NAME shmsnap_model_verify COMMAND ${PROJECT_SOURCE_DIR}/tests/model/verify.sh)
  set_tests_properties(shmsnap_model_verify PROPERTIES TIMEOUT 300 LABELS model SKIP_RETURN_CODE 77)
else()
  message(STATUS "spin not found: the protocol model test is not registered (apt-get install spin)")
endif()
