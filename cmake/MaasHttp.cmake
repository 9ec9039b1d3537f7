# maas::http: the HTTP transport (include/maas/remote/http_client_transport.h),
# the only part of maas that does network I/O. It links libcurl (CMake's
# FindCURL: CURL::libcurl; Debian: libcurl4-openssl-dev) for https://,
# proxies and client certificates; its built-in HTTP/1.1 engine needs only
# POSIX sockets.
find_package(CURL REQUIRED)
find_package(Threads REQUIRED)
add_library(maas_http INTERFACE)
add_library(maas::http ALIAS maas_http)
set_target_properties(maas_http PROPERTIES EXPORT_NAME http)
target_link_libraries(maas_http INTERFACE maas CURL::libcurl Threads::Threads)
