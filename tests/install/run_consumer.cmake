# ctest driver: install the built shmsnap into a scratch prefix, then configure,
# build and run tests/install/consumer against it with find_package(shmsnap).
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake needs -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGN}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
# The consumer links only the core, which must need neither nlohmann_json nor Boost:
# configure as if neither were installed, then check no header of theirs was compiled.
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/install/consumer" -B "${WORK_DIR}/build" -G Ninja
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Debug
    -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
find_program(NINJA ninja REQUIRED)
execute_process(COMMAND ${NINJA} -C "${WORK_DIR}/build" -t deps OUTPUT_VARIABLE headers RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "ninja -t deps failed (${result})")
endif()
string(REGEX MATCHALL "[^\n]*/(nlohmann|boost)/[^\n]*" foreign "${headers}")
if(foreign)
  message(FATAL_ERROR "the core's headers pulled in nlohmann_json or Boost:\n${foreign}")
endif()
run("${WORK_DIR}/build/consumer")
file(REMOVE_RECURSE "${WORK_DIR}")
