# One switch for the whole build: -DSHMSNAP_SANITIZE=address,undefined or =thread.
# Applied globally on purpose: a sanitizer must see every translation unit, the
# library's and the tests', or it reports false positives (TSan) or misses bugs.
if(SHMSNAP_SANITIZE)
  if(SHMSNAP_SANITIZE MATCHES "thread" AND SHMSNAP_SANITIZE MATCHES "address")
    message(FATAL_ERROR "SHMSNAP_SANITIZE: thread and address cannot be combined")
  endif()
  add_compile_options(-fsanitize=${SHMSNAP_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${SHMSNAP_SANITIZE})
  if(SHMSNAP_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # TSan does not model standalone fences (GCC says so with -Wtsan). The seqlock
    # copies the payload through atomics only, so no report depends on a fence;
    # its fences stay in the code for the real memory model.
    add_compile_options(-Wno-tsan)
  endif()
  if(SHMSNAP_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
