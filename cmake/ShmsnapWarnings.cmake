# Warnings are PRIVATE to our own targets: they never leak into a consumer's build.
function(shmsnap_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(SHMSNAP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
option(SHMSNAP_WERROR "Treat warnings as errors (CI sets it)" OFF)
