# shmsnap serve: what its clients send (HTTP requests and their query strings,
# Foxglove client frames, the Origin check). The parsers are compiled into the fuzzer itself, so they
# are instrumented without copying the server library.
add_shmsnap_fuzzer(fuzz_serve_input
  ${CMAKE_CURRENT_LIST_DIR}/fuzz_serve_input.cpp
  ${PROJECT_SOURCE_DIR}/serve/foxglove_protocol.cpp
  ${PROJECT_SOURCE_DIR}/serve/request_query.cpp
  ${PROJECT_SOURCE_DIR}/serve/origin_policy.cpp
  LIBS nlohmann_json::nlohmann_json Boost::headers
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/fuzz_serve_input)
target_include_directories(fuzz_serve_input PRIVATE ${PROJECT_SOURCE_DIR}/serve)
target_compile_features(fuzz_serve_input PRIVATE cxx_std_20)
