# The independent npm client libraries some tests check our files and servers with
# (tests/node/<name>/package.json: the MCAP reader, the Foxglove client, Playwright).
# They are installed at configure time into build/node/<name>/node_modules, shared by
# every preset, so a hand-configured build registers exactly the tests CI runs. A
# configure that cannot install them fails and says how to fix it; nothing is
# silently left out. -DSHMSNAP_NODE_TESTS=OFF leaves those tests out on purpose.
option(SHMSNAP_NODE_TESTS "Install the tests' npm packages and register the tests that use them" ON)

find_program(SHMSNAP_NODE node)
find_program(SHMSNAP_NPM npm)

# shmsnap_node_packages(NAME OUT_VAR): sets OUT_VAR to the node_modules folder of
# tests/node/NAME, installing it first when it is missing or older than the lock
# file; sets it to "" when SHMSNAP_NODE_TESTS is OFF.
function(shmsnap_node_packages name out_var)
  set(${out_var} "" PARENT_SCOPE)
  if(NOT SHMSNAP_NODE_TESTS)
    message(STATUS "node tests of tests/node/${name} left out (SHMSNAP_NODE_TESTS=OFF)")
    return()
  endif()
  if(NOT SHMSNAP_NODE OR NOT SHMSNAP_NPM)
    message(FATAL_ERROR "The tests of tests/node/${name} need node and npm. Install them "
                        "(apt-get install nodejs npm) or configure with -DSHMSNAP_NODE_TESTS=OFF.")
  endif()
  set(source ${PROJECT_SOURCE_DIR}/tests/node/${name})
  set(target ${PROJECT_SOURCE_DIR}/build/node/${name})
  set(lock ${source}/package-lock.json)
  if(EXISTS ${target}/node_modules/.package-lock.json AND EXISTS ${target}/package-lock.json)
    file(SHA256 ${lock} wanted)
    file(SHA256 ${target}/package-lock.json installed)
    if(wanted STREQUAL installed)
      set(${out_var} ${target}/node_modules PARENT_SCOPE)
      return()
    endif()
  endif()
  message(STATUS "npm packages for tests/node/${name} -> ${target}")
  file(MAKE_DIRECTORY ${target})
  file(COPY ${source}/package.json ${lock} DESTINATION ${target})
  execute_process(
    COMMAND ${SHMSNAP_NPM} ci --no-audit --no-fund --loglevel=error
    WORKING_DIRECTORY ${target}
    RESULT_VARIABLE status
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    file(REMOVE ${target}/package-lock.json)  # so the next configure tries again
    message(FATAL_ERROR "npm ci in ${target} failed (${status}):\n${output}\n"
                        "Fix the network or npm, then configure again; or configure with "
                        "-DSHMSNAP_NODE_TESTS=OFF to leave the node tests out.")
  endif()
  set(${out_var} ${target}/node_modules PARENT_SCOPE)
endfunction()
