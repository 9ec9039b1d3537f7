#!/usr/bin/env bash
# Installs what maas needs on Debian 12 and is missing, then (optionally)
# creates the project-local Python venvs. Idempotent: a second run installs
# nothing. Run as root (or with sudo available).
#
#   tools/bootstrap.sh            C++ build dependencies only
#   tools/bootstrap.sh --kserve   + python3-venv and the KServe venv only (the
#                                   fallback demo: tools/demo.sh --fallback)
#   tools/bootstrap.sh --all      + test extras (cross compiler, qemu, wrk,
#                                   Eigen, Google Benchmark, gfortran, Open MPI)
#                                   and every venv
#
# Venvs (created next to the sources, ignored by git):
#   .venv          tools/requirements.txt (numpy, scikit-learn)
#   extra venvs listed in tools/venvs.txt as
#                  "<dir> <requirements file> [<python interpreter>]"
set -euo pipefail
cd "$(dirname "$0")/.."

CORE_PKGS=(build-essential cmake pkg-config git ca-certificates
           nlohmann-json3-dev libabsl-dev doctest-dev libcurl4-openssl-dev)
# libcpp-httplib-dev + libssl-dev: the in-process test servers only;
# clang-14 + libclang-rt-14-dev: libFuzzer (tools/test.d/40-fuzz.sh).
EXTRA_PKGS=(libcpp-httplib-dev libssl-dev clang-14 libclang-rt-14-dev
            python3 python3-venv python3-dev libeigen3-dev libbenchmark-dev
            g++-aarch64-linux-gnu qemu-user wrk curl ninja-build
            gfortran libopenmpi-dev openmpi-bin)  # Fortran module, MPI example

all=0 kserve=0
[[ "${1:-}" == "--all" ]] && all=1
[[ "${1:-}" == "--kserve" ]] && kserve=1

pkgs=("${CORE_PKGS[@]}")
(( all )) && pkgs+=("${EXTRA_PKGS[@]}")
(( kserve )) && pkgs+=(python3 python3-venv)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

make_venv() {  # make_venv DIR REQUIREMENTS [PYTHON]
  local dir=$1 req=$2 py=${3:-python3} want
  # The venv is up to date when it was made from this requirements file's
  # content with this interpreter.
  want="$(sha256sum < "$req" | cut -d' ' -f1) $py"
  if [[ -x "$dir/bin/python" && "$(cat "$dir/.maas-stamp" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  echo "bootstrap: creating $dir from $req with $py"
  rm -rf "$dir"
  "$py" -m venv "$dir"
  "$dir/bin/python" -m pip install -q --upgrade pip
  "$dir/bin/python" -m pip install -q -r "$req"
  echo "$want" > "$dir/.maas-stamp"
}

if (( all )); then
  make_venv .venv tools/requirements.txt
  if [[ -f tools/venvs.txt ]]; then
    while read -r dir req py; do
      [[ -z "$dir" || "$dir" == \#* ]] && continue
      make_venv "$dir" "$req" ${py:+"$py"}
    done < tools/venvs.txt
  fi
fi

if (( kserve )); then
  make_venv .venv-kserve tests/remote/server/requirements-kserve.txt
fi
