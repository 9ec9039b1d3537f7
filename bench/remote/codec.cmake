# Codec throughput benchmark (KServe V2 JSON/binary, TF Serving columnar, vs
# an nlohmann DOM in the same run). Included by bench/remote/CMakeLists.txt.
add_executable(maas_codec_bench ${CMAKE_CURRENT_LIST_DIR}/codec_bench.cc)
target_link_libraries(maas_codec_bench PRIVATE benchmark::benchmark maas::maas maas_warnings)
