# Provides the imported target httplib::httplib from whichever cpp-httplib is
# installed:
#  - a CMake package config (upstream, Conan, vcpkg: header-only httplib.h);
#  - pkg-config `cpp-httplib` (Debian 12: split build, httplib.h holds only
#    declarations and the code is in libcpp-httplib.so, which must be linked).
#
# TLS and ABI: httplib's classes change layout with CPPHTTPLIB_OPENSSL_SUPPORT
# (e.g. ClientImpl::Socket gains an SSL*, Request a `const SSL* ssl`). Debian's
# libcpp-httplib.so is compiled with CPPHTTPLIB_OPENSSL_SUPPORT,
# CPPHTTPLIB_ZLIB_SUPPORT and CPPHTTPLIB_BROTLI_SUPPORT, and its pkg-config
# Cflags carry exactly these definitions, so the imported target below passes
# them to every consumer; defining them differently in one translation unit
# would be an ODR violation with silent memory corruption. The library links
# OpenSSL itself (Requires.private), so consumers need no OpenSSL link, only
# its headers (libssl-dev). Upstream's config package sets the same
# definitions on httplib::httplib when it was built with OpenSSL; the bare
# header fallback at the end has no TLS (https:// then fails with
# kUnimplemented).
if(TARGET httplib::httplib)
  return()
endif()
find_package(httplib CONFIG QUIET)
if(NOT TARGET httplib::httplib)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(MAAS_CPP_HTTPLIB QUIET IMPORTED_TARGET GLOBAL cpp-httplib)
  endif()
  if(TARGET PkgConfig::MAAS_CPP_HTTPLIB)
    add_library(httplib::httplib INTERFACE IMPORTED GLOBAL)
    target_link_libraries(httplib::httplib INTERFACE PkgConfig::MAAS_CPP_HTTPLIB)
  endif()
endif()
if(NOT TARGET httplib::httplib)
  find_path(MAAS_HTTPLIB_INCLUDE_DIR httplib.h)
  if(MAAS_HTTPLIB_INCLUDE_DIR)
    add_library(httplib::httplib INTERFACE IMPORTED GLOBAL)
    target_include_directories(httplib::httplib INTERFACE ${MAAS_HTTPLIB_INCLUDE_DIR})
  endif()
endif()
