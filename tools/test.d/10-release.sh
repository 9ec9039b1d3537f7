# Release build with -march=native, warnings as errors, every test.
run_config release -- -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-march=native -DMAAS_WERROR=ON
