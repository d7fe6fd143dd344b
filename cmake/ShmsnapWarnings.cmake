# Warnings are PRIVATE to our own targets: they never leak into a consumer's build.
function(shmsnap_set_warnings target)
  # -Wno-missing-field-initializers: GCC 12 flags every options struct filled with
  # designated initializers (the API's idiom) although omitted members keep their
  # defaults; later GCCs no longer warn there.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion -Wno-missing-field-initializers)
  if(SHMSNAP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
option(SHMSNAP_WERROR "Treat warnings as errors (CI sets it)" OFF)
