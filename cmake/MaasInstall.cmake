# install(EXPORT) rules: headers, maasTargets.cmake, maasConfig.cmake and an
# architecture-independent version file (the library is header-only).
include(CMakePackageConfigHelpers)

install(DIRECTORY include/maas DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS maas EXPORT maasTargets)
set(_maas_export_targets maas)
if(TARGET maas_http)
  install(TARGETS maas_http EXPORT maasTargets)
endif()
install(EXPORT maasTargets NAMESPACE maas:: DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/maas)

configure_package_config_file(cmake/maasConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/maasConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/maas)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/maasConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/maasConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/maasConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/maas)
include(MaasPkgConfig)
