#!/usr/bin/env bash
# Quick start: installs the C++ build dependencies (Debian 12, as root or with
# sudo), builds the projectile example in Release and runs it.
#
#   tools/demo.sh                   default flight, embedded drag model
#   tools/demo.sh --speed 40 --csv flight.csv    options go to the example
#   tools/demo.sh --fallback        the remote model with its local fallback:
#                                   starts a real KServe server (Python venv
#                                   from PyPI, ~1 min the first time) serving
#                                   the drag model, flies against it, then
#                                   kills and restarts it mid-flight and shows
#                                   which backend served which steps
#
# The example integrates a sphere's flight with a learned drag law called
# through maas::Predictor and compares it with the exact correlation. It needs
# no Python: the model is compiled into the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

fallback=0
if [[ "${1:-}" == "--fallback" ]]; then
  fallback=1
  shift
  tools/bootstrap.sh --kserve
else
  tools/bootstrap.sh
fi
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
if (( fallback )); then
  exec python3 tools/fallback_demo.py --exe build/demo/examples/projectile "$@"
fi
echo "demo: running build/demo/examples/projectile $*"
build/demo/examples/projectile "$@"
