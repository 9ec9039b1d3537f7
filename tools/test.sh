#!/usr/bin/env bash
# Installs what is missing, builds maas and runs every test:
#  1. Release build with -march=native, warnings as errors, all tests;
#  2. the same tests under AddressSanitizer + UBSan (generic x86-64 flags, so
#     the kernels are reached through runtime dispatch);
#  3. the kernel tests in a generic Release build (runtime dispatch), and the
#     NEON kernels cross-built for aarch64 and run under qemu-aarch64;
# Prints a one-line summary at the end ("maas tests: N passed, M failed").
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh --all

jobs=$(nproc)
declare -a summary=()
failed=0; total=0; bad=0
record() {  # record NAME LOG: add ctest's closing line in LOG to the summary
  local name=$1 log=$2 line n k
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" 2>/dev/null | tail -1) || line=""
  if [[ -z "$line" ]]; then failed=1; summary+=("$name: build or ctest failed, no result"); return; fi
  n=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line"); k=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  total=$((total + n)); bad=$((bad + k))
  summary+=("$name: $line")
}

run_config() {  # run_config NAME CMAKE_ARGS...
  local name=$1; shift
  echo "=== maas tests: $name ==="
  cmake -S . -B "build/$name" -DMAAS_WERROR=ON "$@" >/dev/null
  cmake --build "build/$name" -j"$jobs"
  local log="build/$name/ctest.log"
  rm -f "$log"
  if ctest --test-dir "build/$name" -j"$jobs" --output-on-failure 2>&1 | tee "$log"; then :; else failed=1; fi
  record "$name" "$log"
}

run_config release -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-march=native
run_config asan -DCMAKE_BUILD_TYPE=Debug "-DMAAS_SANITIZE=address;undefined"

# ---- begin: SIMD kernel configurations (tests/kernels) ----------------------
# kernels-generic: Release, no -m flags, kernel tests only: DenseLayer picks
#   AVX-512 / AVX2 at run time (the asan configuration is generic too).
# kernels-neon: the NEON kernels cross-built for aarch64 and run under
#   qemu-aarch64 (cmake/toolchains/aarch64-linux-gnu.cmake, tests/kernels/neon).
run_kernel_config() {  # run_kernel_config NAME SOURCE_DIR "TARGETS" CMAKE_ARGS...
  local name=$1 src=$2 targets=$3; shift 3
  echo "=== maas tests: $name ==="
  local log="build/$name/ctest.log"
  mkdir -p "build/$name"; rm -f "$log"
  # shellcheck disable=SC2086  # $targets is a word list
  if cmake -S "$src" -B "build/$name" "$@" >/dev/null &&
     cmake --build "build/$name" -j"$jobs" --target $targets; then
    if ctest --test-dir "build/$name" -j"$jobs" -L kernels --output-on-failure 2>&1 | tee "$log"; then :; else failed=1; fi
  else
    failed=1
  fi
  record "$name" "$log"
}
run_kernel_config kernels-generic . "maas_kernels_test maas_kernels_alloc_test" \
  -DCMAKE_BUILD_TYPE=Release -DMAAS_WERROR=ON
run_kernel_config kernels-neon tests/kernels/neon maas_neon_kernels_test -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/aarch64-linux-gnu.cmake"
# ---- end: SIMD kernel configurations ----------------------------------------

echo
echo "=== maas test summary ==="
printf '%s\n' "${summary[@]}"
# One closing line over every configuration, in the plain "N passed, N failed" form.
echo "maas tests: $((total - bad)) passed, $bad failed"
exit $failed
