# Zero-copy reads (RegionReader::read_in_place / read_fields, Subscriber methods):
# a writer thread laps the readers, so label concurrency puts it under TSan.
shmsnap_add_test(shmsnap_zero_copy_read_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/zero_copy_read_test.cpp
  LABELS concurrency
  TIMEOUT 180)
