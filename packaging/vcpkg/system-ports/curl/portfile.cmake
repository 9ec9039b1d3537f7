# System port for offline tests: libcurl comes from Debian's
# libcurl4-openssl-dev. vcpkg installs nothing; find_package(CURL) falls
# through to CMake's FindCURL module and /usr.
if(NOT EXISTS "/usr/include/x86_64-linux-gnu/curl/curl.h" AND NOT EXISTS "/usr/include/curl/curl.h")
  message(FATAL_ERROR "System package missing: run 'apt-get install libcurl4-openssl-dev'")
endif()
set(VCPKG_POLICY_EMPTY_PACKAGE enabled)
