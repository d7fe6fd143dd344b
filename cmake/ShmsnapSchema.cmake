# shmsnap_add_schema(<target> [OUTPUT_DIR <dir>] <file.toml>...)
#
# Compiles shmsnap schema files into C++ headers at build time and creates an
# INTERFACE library <target> whose include directory holds them and which links
# shmsnap::shmsnap. A consumer links <target> and writes, for a schema named
# "market.quote_book",  #include <market_quote_book.hpp>  to get market::QuoteBook.
#
# Works in the shmsnap tree (compiler target shmsnap-schemac) and in an outside
# project after find_package(shmsnap) (imported shmsnap::shmsnap-schemac). Set
# SHMSNAP_SCHEMAC to a compiler executable to override both (e.g. cross builds).
include_guard(GLOBAL)

# The header name comes from the schema's top-level `name = "..."`, which TOML puts
# before any [table]; read it here because the build system must know every output
# at configure time. The file is a configure dependency, so renaming re-configures.
function(_shmsnap_schema_header_name file out_var)
  file(STRINGS "${file}" lines REGEX "^[ \t]*(\\[|name[ \t]*=)")
  foreach(line IN LISTS lines)
    if(line MATCHES "^[ \t]*\\[")
      break()
    endif()
    if(line MATCHES "^[ \t]*name[ \t]*=[ \t]*[\"']([a-z0-9_.]+)[\"']")
      string(REPLACE "." "_" header "${CMAKE_MATCH_1}")
      set(${out_var} "${header}.hpp" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "shmsnap_add_schema: ${file} has no top-level name = \"part.part\" line before its "
                      "first [table]; shmsnap-schemac will say more: run it with --check")
endfunction()

function(shmsnap_add_schema target)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR" "" ${ARGN})
  set(files ${ARG_UNPARSED_ARGUMENTS})
  if(NOT files)
    message(FATAL_ERROR "shmsnap_add_schema(${target}): give at least one .toml schema file")
  endif()
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/${target}_include)
  endif()

  if(SHMSNAP_SCHEMAC)
    set(compiler "${SHMSNAP_SCHEMAC}")
    set(compiler_dependency "${SHMSNAP_SCHEMAC}")
  elseif(TARGET shmsnap-schemac)
    set(compiler "$<TARGET_FILE:shmsnap-schemac>")
    set(compiler_dependency shmsnap-schemac)
  elseif(TARGET shmsnap::shmsnap-schemac)
    set(compiler "$<TARGET_FILE:shmsnap::shmsnap-schemac>")
    set(compiler_dependency shmsnap::shmsnap-schemac)
  else()
    message(FATAL_ERROR "shmsnap_add_schema(${target}): no schema compiler; call find_package(shmsnap) first, "
                        "or set SHMSNAP_SCHEMAC to the shmsnap-schemac executable")
  endif()

  set(headers)
  foreach(file IN LISTS files)
    get_filename_component(file "${file}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "shmsnap_add_schema(${target}): ${file} does not exist")
    endif()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
    _shmsnap_schema_header_name("${file}" header)
    set(output "${ARG_OUTPUT_DIR}/${header}")
    if(output IN_LIST headers)
      message(FATAL_ERROR "shmsnap_add_schema(${target}): two schemas would both write ${header}")
    endif()
    # One command per schema: editing one file regenerates one header.
    add_custom_command(
      OUTPUT "${output}"
      COMMAND "${compiler}" "${file}" --out-dir "${ARG_OUTPUT_DIR}"
      DEPENDS "${file}" ${compiler_dependency}
      COMMENT "shmsnap-schemac ${file}"
      VERBATIM)
    list(APPEND headers "${output}")
  endforeach()

  # An INTERFACE library with the headers as sources gets a build step of its own
  # (CMake >= 3.19), so every target linking it waits for the headers.
  add_library(${target} INTERFACE ${headers})
  target_include_directories(${target} INTERFACE "$<BUILD_INTERFACE:${ARG_OUTPUT_DIR}>")
  target_link_libraries(${target} INTERFACE shmsnap::shmsnap)
  target_compile_features(${target} INTERFACE cxx_std_20)
endfunction()
