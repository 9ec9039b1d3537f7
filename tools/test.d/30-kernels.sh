# SIMD kernel configurations (tests/kernels):
# kernels-generic: Release, no -m flags, kernel tests only: DenseLayer picks
#   AVX-512 / AVX2 at run time (the asan configuration is generic too).
# kernels-neon: the NEON kernels cross-built for aarch64 and run under
#   qemu-aarch64 (cmake/toolchains/aarch64-linux-gnu.cmake, tests/kernels/neon).
run_config kernels-generic --targets "maas_kernels_test maas_kernels_alloc_test" --label kernels -- \
  -DCMAKE_BUILD_TYPE=Release -DMAAS_WERROR=ON
run_config kernels-neon --src tests/kernels/neon --targets maas_neon_kernels_test --label kernels -- \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/aarch64-linux-gnu.cmake"
