#!/usr/bin/env bash
# Installs what is missing, builds maas and runs every test. The phases are
# the files in tools/test.d/, run in name order (each says what it covers);
# tools/test-lib.sh has the helpers they use. At the end it prints the wall
# time of every phase, the results of every configuration, the skipped tests
# by name, and one closing line:
#   maas tests: N passed, M failed, K skipped
# Exit status 0 only when nothing failed.
#
#   tools/test.sh                 everything
#   tools/test.sh 10 20           only the phase files whose names start so
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/test-lib.sh
source tools/test-lib.sh

timed bootstrap tools/bootstrap.sh --all

for f in tools/test.d/*.sh; do
  if (( $# )); then
    want=0
    for p in "$@"; do [[ "$(basename "$f")" == "$p"* ]] && want=1; done
    (( want )) || continue
  fi
  # shellcheck disable=SC1090
  source "$f"
done

test_summary
