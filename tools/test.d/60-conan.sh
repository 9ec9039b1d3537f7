# Conan 2 (packaging/conan): a real `conan create` of the recipe, once with
# the HTTP transport and once without, each building and running its
# test_package. Offline: the dependencies are Debian's packages, named in
# the profile packaging/conan/profiles/debian12 ([platform_requires]); the
# Conan Center remote is removed. Conan comes from PyPI (.venv-conan,
# tools/venvs.txt); CONAN_HOME is build/pkg-conan/home, nothing in $HOME.
maas_conan_create() {
  local conan=$PWD/.venv-conan/bin/conan dir=$PWD/build/pkg-conan passed=0 failed=0
  if [[ ! -x "$conan" ]]; then
    echo "conan: $conan is missing (tools/bootstrap.sh --all creates .venv-conan)"
    record_result conan 0 1
    return 1
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  export CONAN_HOME=$dir/home
  "$conan" profile detect >/dev/null 2>&1
  "$conan" remote remove conancenter >/dev/null
  # The test_package is built in a copy, so nothing is written to the sources.
  cp -r packaging/conan/test_package "$dir/test_package"
  local http
  for http in True False; do
    echo "--- conan create packaging/conan -pr:a packaging/conan/profiles/debian12 -o maas/*:with_http=$http"
    if "$conan" create packaging/conan -pr:a packaging/conan/profiles/debian12 \
         -o "maas/*:with_http=$http" -tf "$dir/test_package" >"$dir/create-http-$http.log" 2>&1 &&
       grep -q "local model ok: y = 6.5" "$dir/create-http-$http.log"; then
      passed=$((passed + 1))
      grep -E "#platform|local model ok|maas::http ok" "$dir/create-http-$http.log" | sort -u
    else
      failed=$((failed + 1))
      tail -n 40 "$dir/create-http-$http.log"
    fi
  done
  unset CONAN_HOME
  record_result conan "$passed" "$failed"
  (( failed == 0 ))
}
timed conan maas_conan_create
