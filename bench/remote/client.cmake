# Client overhead against a real server: maas_client_bench (maas RemoteModel
# and a raw-socket floor), driven with Python tritonclient and wrk by
# client_bench.py, which starts its own KServe server on loopback:
#
#   python3 bench/remote/client_bench.py --bench build/bench/remote/maas_client_bench
if(TARGET maas::http)
  add_executable(maas_client_bench ${CMAKE_CURRENT_LIST_DIR}/client_bench.cc)
  target_link_libraries(maas_client_bench PRIVATE maas::http maas_warnings)
  target_compile_definitions(maas_client_bench PRIVATE
    MAAS_BENCH_MLP16="${PROJECT_SOURCE_DIR}/tests/remote/server/data/mlp16.json")
endif()
