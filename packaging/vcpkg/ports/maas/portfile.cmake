# maas: header-only C++17. The "http" feature adds the HTTP transport
# (target maas::http). Installs maas' own CMake package and pkg-config files.
#
# Sources: this overlay port lives in the maas repository
# (packaging/vcpkg/ports/maas) and builds the checkout it is part of. In a
# registry the two lines below become vcpkg_from_github() of the release
# archive (REPO, REF v${VERSION}, SHA512); nothing else changes.
get_filename_component(SOURCE_PATH "${CURRENT_PORT_DIR}/../../../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/maas/maas.h")
  message(FATAL_ERROR "maas sources not found at ${SOURCE_PATH}: use this port from a maas checkout")
endif()

# Header-only: one (release) configuration.
set(VCPKG_BUILD_TYPE release)

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    http MAAS_BUILD_HTTP)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DMAAS_INSTALL=ON
    -DMAAS_BUILD_TESTS=OFF
    -DMAAS_BUILD_EXAMPLES=OFF
    -DMAAS_BUILD_BENCHMARKS=OFF
    -DMAAS_BUILD_C_API=OFF
    -DMAAS_BUILD_CLI=OFF
    -DMAAS_BUILD_FORTRAN=OFF)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME maas CONFIG_PATH share/cmake/maas)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/lib" "${CURRENT_PACKAGES_DIR}/debug")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
if(EXISTS "${SOURCE_PATH}/LICENSE")
  vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
else()
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright"
       "The maas sources at ${SOURCE_PATH} carry no LICENSE file.\n")
endif()
