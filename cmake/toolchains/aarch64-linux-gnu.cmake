# Cross toolchain for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu.
# Programs built with it run on x86-64 under qemu-user (package qemu-user):
# CMAKE_CROSSCOMPILING_EMULATOR makes ctest prefix every test command with
#   qemu-aarch64 -L /usr/aarch64-linux-gnu
# Used by the NEON kernel test (tests/kernels/neon, run from tools/test.sh):
#   cmake -S tests/kernels/neon -B build/neon \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(MAAS_AARCH64_SYSROOT /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH ${MAAS_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
find_program(MAAS_QEMU_AARCH64 qemu-aarch64)
if(MAAS_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MAAS_QEMU_AARCH64} -L ${MAAS_AARCH64_SYSROOT})
endif()
