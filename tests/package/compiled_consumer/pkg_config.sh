#!/bin/sh
# Builds and runs the C and Fortran consumers with pkg-config alone, against
# maas installed under PREFIX (lib/pkgconfig: maas-c.pc, maas-fortran.pc).
#   pkg_config.sh CC FC PREFIX LIBDIR WORK
set -eu
CC=$1
FC=$2
PREFIX=$3
LIBDIR=$4
WORK=$5
SRC=$(cd "$(dirname "$0")" && pwd)
export PKG_CONFIG_PATH="$PREFIX/$LIBDIR/pkgconfig:$PREFIX/share/pkgconfig"
cd "$WORK"
# The commands a user runs (docs/packaging.md quotes them); the rpath lets
# the programs find libmaas_c.so outside the system library path.
RPATH="-Wl,-rpath,$(pkg-config --variable=libdir maas-c)"
"$CC" -O2 "$SRC/main.c" $(pkg-config --cflags --libs maas-c) $RPATH -o c_consumer_pc
"$FC" -O2 "$SRC/main.f90" $(pkg-config --cflags --libs maas-fortran) $RPATH -o fortran_consumer_pc
./c_consumer_pc
./fortran_consumer_pc
