# maas::http: the HTTP transport (include/maas/remote/httplib_transport.h),
# the only part of maas that includes cpp-httplib.
include(MaasFindHttplib)
if(NOT TARGET httplib::httplib)
  message(FATAL_ERROR "maas: MAAS_BUILD_HTTP is ON but cpp-httplib was not found "
                      "(apt-get install libcpp-httplib-dev, or set MAAS_BUILD_HTTP=OFF)")
endif()
find_package(Threads REQUIRED)
add_library(maas_http INTERFACE)
add_library(maas::http ALIAS maas_http)
set_target_properties(maas_http PROPERTIES EXPORT_NAME http)
target_link_libraries(maas_http INTERFACE maas httplib::httplib Threads::Threads)
