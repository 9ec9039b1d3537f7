#!/usr/bin/env bash
# Quick start: installs the C++ build dependencies (Debian 12, as root or with
# sudo), builds the projectile example in Release and runs it.
#
#   tools/demo.sh                   default flight, embedded drag model
#   tools/demo.sh --speed 40 --csv flight.csv    options go to the example
#
# The example integrates a sphere's flight with a learned drag law called
# through maas::Predictor and compares it with the exact correlation. It needs
# no Python: the model is compiled into the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/bootstrap.sh
mkdir -p build/demo
log=build/demo/demo-build.log
echo "demo: building the projectile example in build/demo (log: $log)"
if ! { cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release \
         -DMAAS_BUILD_TESTS=OFF -DMAAS_BUILD_EXAMPLES=ON -DMAAS_INSTALL=OFF &&
       cmake --build build/demo --target projectile -j "$(nproc)"; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "demo: build failed (full log: $log)" >&2
  exit 1
fi
echo "demo: running build/demo/examples/projectile $*"
build/demo/examples/projectile "$@"
