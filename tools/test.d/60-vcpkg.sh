# vcpkg (packaging/vcpkg/ports/maas): a real `vcpkg install maas[http]` of the
# overlay port in classic mode, then a consumer configured with vcpkg's
# toolchain file, built and run.
#
# vcpkg comes from ../shared/tools/vcpkg (a vcpkg executable and scripts built
# for these machines, plus "system" ports handing Debian's packages to vcpkg;
# copied to build/pkg-vcpkg/root since vcpkg writes into its root), or from
# $VCPKG_ROOT (a normal vcpkg: dependencies then come from its registry).
# With neither, the test is reported as skipped by name.
maas_vcpkg_install() {
  local dir=$PWD/build/pkg-vcpkg tools=${MAAS_VCPKG_TOOLS:-$PWD/../shared/tools/vcpkg}
  local root vcpkg log=$PWD/build/pkg-vcpkg/install.log
  local -a overlays=(--overlay-ports="$PWD/packaging/vcpkg/ports")
  rm -rf "$dir"
  mkdir -p "$dir"
  if [[ -x "$tools/root/vcpkg" ]]; then
    cp -r "$tools/root" "$dir/root"
    chmod -R u+w "$dir/root"
    root=$dir/root
    # Offline: Debian's packages stand in for the registry's ports; any
    # download attempt fails at once.
    overlays+=(--overlay-ports="$tools/system-ports" --overlay-ports="$PWD/packaging/vcpkg/system-ports"
               --overlay-triplets="$PWD/packaging/vcpkg/offline-triplets")
    export X_VCPKG_ASSET_SOURCES=x-block-origin
  elif [[ -n "${VCPKG_ROOT:-}" && -x "$VCPKG_ROOT/vcpkg" ]]; then
    root=$VCPKG_ROOT
  else
    skip vcpkg.install "no ../shared/tools/vcpkg and VCPKG_ROOT is not set"
    return 0
  fi
  vcpkg=$root/vcpkg
  export VCPKG_FORCE_SYSTEM_BINARIES=1 VCPKG_DISABLE_METRICS=1 VCPKG_BINARY_SOURCES=clear
  local passed=0 failed=0
  echo "--- vcpkg install maas[http] --overlay-ports=packaging/vcpkg/ports"
  if "$vcpkg" install "maas[http]" "${overlays[@]}" --triplet x64-linux \
       --x-install-root="$dir/installed" --x-buildtrees-root="$dir/buildtrees" \
       --x-packages-root="$dir/packages" --downloads-root="$dir/downloads" >"$log" 2>&1; then
    grep -E "^maas|Elapsed|installed" "$log" | tail -n 5
    echo "--- consumer: cmake -DCMAKE_TOOLCHAIN_FILE=\$VCPKG_ROOT/scripts/buildsystems/vcpkg.cmake"
    if cmake -S packaging/vcpkg/test -B "$dir/consumer" -G Ninja \
         -DCMAKE_TOOLCHAIN_FILE="$root/scripts/buildsystems/vcpkg.cmake" \
         -DVCPKG_MANIFEST_MODE=OFF -DVCPKG_INSTALLED_DIR="$dir/installed" \
         -DVCPKG_TARGET_TRIPLET=x64-linux >"$dir/consumer.log" 2>&1 &&
       cmake --build "$dir/consumer" >>"$dir/consumer.log" 2>&1 &&
       "$dir/consumer/consumer" | tee -a "$dir/consumer.log" &&
       grep -q "local model ok: y = 6.5" "$dir/consumer.log" &&
       grep -q "maas::http ok" "$dir/consumer.log"; then
      passed=1
    else
      failed=1
      tail -n 40 "$dir/consumer.log"
    fi
  else
    failed=1
    tail -n 40 "$log"
  fi
  unset X_VCPKG_ASSET_SOURCES VCPKG_FORCE_SYSTEM_BINARIES VCPKG_DISABLE_METRICS VCPKG_BINARY_SOURCES
  record_result vcpkg "$passed" "$failed"
  (( failed == 0 ))
}
timed vcpkg maas_vcpkg_install
