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
failed=0; total=0; bad=0
run_config() {  # run_config NAME CMAKE_ARGS...
  local name=$1; shift
  echo "=== maas tests: $name ==="
  cmake -S . -B "build/$name" -DMAAS_WERROR=ON "$@" >/dev/null
  cmake --build "build/$name" -j"$jobs"
  local log="build/$name/ctest.log"
  rm -f "$log"
  if ctest --test-dir "build/$name" -j"$jobs" --output-on-failure 2>&1 | tee "$log"; then :; else failed=1; fi
  local line n k
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1) || line=""
  if [[ -z "$line" ]]; then failed=1; summary+=("$name: ctest reported no result"); return; fi
  n=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line"); k=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  total=$((total + n)); bad=$((bad + k))
  summary+=("$name: $line")
}

run_config release -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-march=native
run_config asan -DCMAKE_BUILD_TYPE=Debug "-DMAAS_SANITIZE=address;undefined"

echo
echo "=== maas test summary ==="
printf '%s\n' "${summary[@]}"
# One closing line over every configuration, in the plain "N passed, N failed" form.
echo "maas tests: $((total - bad)) passed, $bad failed"
exit $failed
