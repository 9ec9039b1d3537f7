# pkg-config files for Make-based and other non-CMake builds, installed to
# <prefix>/share/pkgconfig (maas is header-only; the compiled C and Fortran
# libraries get theirs next to the libraries, see src/c and fortran/):
#
#   maas.pc        headers; Requires: Debian's Abseil and nlohmann_json files
#   maas-http.pc   + the HTTP transport (Requires: maas and the HTTP library)
#
#   c++ -O2 sim.cc $(pkg-config --cflags --libs maas) -o sim
#
# The files are relocatable: every path is relative to ${pcfiledir}.

# The Abseil components maas::maas links (CMakeLists.txt), as Debian's
# libabsl-dev names their .pc files.
set(MAAS_PC_ABSL_REQUIRES
  "absl_status absl_statusor absl_strings absl_str_format absl_span absl_time absl_synchronization")
# The pkg-config module of the library maas::http links: the one line to
# change when the transport changes library.
set(MAAS_PC_HTTP_REQUIRES "libcurl")

file(RELATIVE_PATH MAAS_PC_PREFIX_FROM_PCDIR
  "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" MAAS_PC_PREFIX_FROM_PCDIR "${MAAS_PC_PREFIX_FROM_PCDIR}")

configure_file(cmake/pkgconfig/maas.pc.in ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/maas.pc @ONLY)
set(_maas_pc_files ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/maas.pc)
if(TARGET maas_http)
  configure_file(cmake/pkgconfig/maas-http.pc.in ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/maas-http.pc @ONLY)
  list(APPEND _maas_pc_files ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/maas-http.pc)
endif()
install(FILES ${_maas_pc_files} DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)
