#!/bin/sh
# Builds and runs tests/package/consumer/main.cc with nothing but the
# compiler and pkg-config, against maas installed under PREFIX: the way a
# Make-based simulation code builds.
#   pkg_config_consumer.sh CXX PREFIX WORK
set -eu
CXX=$1
PREFIX=$2
WORK=$3
SRC=$(cd "$(dirname "$0")" && pwd)/consumer
export PKG_CONFIG_PATH="$PREFIX/share/pkgconfig"
cd "$WORK"
echo "pkg-config --cflags --libs maas: $(pkg-config --cflags --libs maas)"
# The command a user runs (docs/packaging.md quotes it):
"$CXX" -std=c++17 -O2 "$SRC/main.cc" $(pkg-config --cflags --libs maas) -o consumer
./consumer
