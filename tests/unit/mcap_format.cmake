# The MCAP writer's indexes, checked by walking the file by hand (recording/mcap,
# issue 14): summary offsets, chunk indexes, message indexes and statistics point at
# what they claim, for every compression, with and without the worker thread.
# Included by tests/CMakeLists.txt.
shmsnap_add_test(mcap_format_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/mcap_format_test.cpp
  LIBS shmsnap_mcap
  LABELS unit
  TIMEOUT 60)
