# x64-linux for offline use on Debian 12: vcpkg's own x64-linux triplet,
# plus no ELF RPATH fix-up. That fix-up runs patchelf over every installed
# file without an extension (even a port's `usage` text), and vcpkg would
# download patchelf 0.19 for it (Debian 12 ships 0.14). maas installs no
# binaries, so nothing needs fixing.
set(VCPKG_TARGET_ARCHITECTURE x64)
set(VCPKG_CRT_LINKAGE dynamic)
set(VCPKG_LIBRARY_LINKAGE static)
set(VCPKG_CMAKE_SYSTEM_NAME Linux)
set(VCPKG_FIXUP_ELF_RPATH OFF)
