# Install the library, its headers, the schema compiler and a relocatable CMake
# package so an outside project can find_package(shmsnap) and link shmsnap::shmsnap
# (and, with COMPONENTS json, shmsnap::json).
include(CMakePackageConfigHelpers)

set(SHMSNAP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/shmsnap)

install(TARGETS shmsnap shmsnap_json EXPORT shmsnapTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/shmsnap DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET shmsnap-schemac)
  install(TARGETS shmsnap-schemac EXPORT shmsnapTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(EXPORT shmsnapTargets NAMESPACE shmsnap:: DESTINATION ${SHMSNAP_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/shmsnapConfig.cmake.in
  ${PROJECT_BINARY_DIR}/shmsnapConfig.cmake INSTALL_DESTINATION ${SHMSNAP_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/shmsnapConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/shmsnapConfig.cmake ${PROJECT_BINARY_DIR}/shmsnapConfigVersion.cmake
  DESTINATION ${SHMSNAP_CMAKE_DIR})
if(EXISTS ${PROJECT_SOURCE_DIR}/cmake/ShmsnapSchema.cmake)
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/ShmsnapSchema.cmake DESTINATION ${SHMSNAP_CMAKE_DIR})
endif()
