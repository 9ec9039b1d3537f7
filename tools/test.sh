#!/usr/bin/env bash
# Installs what is missing, builds maas and runs every test:
#  1. Release build with -march=native, warnings as errors, all tests;
#  2. the same tests under AddressSanitizer + UBSan;
# Prints a one-line summary at the end ("maas tests: N passed, M failed").
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh --all

jobs=$(nproc)
declare -a summary=()
failed=0
run_config() {  # run_config NAME CMAKE_ARGS...
  local name=$1; shift
  echo "=== maas tests: $name ==="
  cmake -S . -B "build/$name" -DMAAS_WERROR=ON "$@" >/dev/null
  cmake --build "build/$name" -j"$jobs"
  local log="build/$name/ctest.log"
  if ctest --test-dir "build/$name" -j"$jobs" --output-on-failure 2>&1 | tee "$log"; then :; else failed=1; fi
  summary+=("$name: $(grep -E 'tests passed' "$log" | tail -1)")
}

run_config release -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-march=native
run_config asan -DCMAKE_BUILD_TYPE=Debug "-DMAAS_SANITIZE=address;undefined"

echo
echo "=== maas test summary ==="
printf '%s\n' "${summary[@]}"
exit $failed
