# The one percentile rule of every program (common/stats).
shmsnap_add_test(shmsnap_latency_stats_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/latency_stats_test.cpp
  LIBS shmsnap_latency_stats
  LABELS unit)
