# Helpers for tools/test.sh and the phase files in tools/test.d/ (sourced,
# never run on its own). A phase file calls these functions; each records its
# result and its wall time, and `test_summary` prints one table at the end.
#
#   timed NAME CMD...            run CMD as phase NAME, record its time; a
#                                failing CMD marks the run failed
#   run_config NAME [--targets "T..."] [--label L] [--src DIR] -- CMAKE_ARGS...
#                                configure build/NAME (Ninja), build (all or
#                                the targets), run ctest (all or label L) and
#                                record passed / failed / skipped tests
#   record_result NAME PASSED FAILED [SKIPPED]
#                                add a non-ctest check's counts to the summary
#   skip NAME REASON             report a test that cannot run here as skipped,
#                                by name (never as passed)
#   note_failure TEXT            name a failure (and what it printed) again in
#                                the summary, where a truncated log keeps it
#   test_summary                 print the tables and the closing line; exits
#                                non-zero when anything failed
#
# A ctest test skips itself by printing a line starting with "MAAS_SKIPPED:"
# (tests/CMakeLists.txt sets SKIP_REGULAR_EXPRESSION on every test); ctest then
# lists it as "Skipped", and the summary names it.

MAAS_JOBS=${MAAS_JOBS:-$(nproc)}
declare -a MAAS_PHASES=() MAAS_RESULTS=() MAAS_SKIPS=() MAAS_FAILURES=()
MAAS_FAILED=0 MAAS_TOTAL_PASSED=0 MAAS_TOTAL_FAILED=0 MAAS_TOTAL_SKIPPED=0
MAAS_RUN_START=$(date +%s)

# The CMake generator and compiler launcher shared by every configuration.
MAAS_GENERATOR="Unix Makefiles"
command -v ninja >/dev/null && MAAS_GENERATOR=Ninja
maas_cmake_common_args() {
  local args=(-G "$MAAS_GENERATOR")
  command -v ccache >/dev/null && args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  printf '%s\n' "${args[@]}"
}

_maas_add_phase() {  # NAME SECONDS STATUS
  MAAS_PHASES+=("$(printf '%-28s %6ss  %s' "$1" "$2" "$3")")
}

timed() {  # timed NAME CMD...
  local name=$1; shift
  local t0 rc=0
  t0=$(date +%s)
  echo "=== maas phase: $name ==="
  "$@" || rc=$?
  local dt=$(( $(date +%s) - t0 ))
  if (( rc == 0 )); then _maas_add_phase "$name" "$dt" ok; else
    _maas_add_phase "$name" "$dt" "FAILED (exit $rc)"; MAAS_FAILED=1; fi
  return 0
}

record_result() {  # record_result NAME PASSED FAILED [SKIPPED]
  local name=$1 p=$2 f=$3 s=${4:-0}
  MAAS_TOTAL_PASSED=$((MAAS_TOTAL_PASSED + p))
  MAAS_TOTAL_FAILED=$((MAAS_TOTAL_FAILED + f))
  MAAS_TOTAL_SKIPPED=$((MAAS_TOTAL_SKIPPED + s))
  (( f > 0 )) && MAAS_FAILED=1
  MAAS_RESULTS+=("$(printf '%-28s %5d passed %4d failed %4d skipped' "$name" "$p" "$f" "$s")")
}

skip() {  # skip NAME REASON
  MAAS_SKIPS+=("$1: $2")
  MAAS_TOTAL_SKIPPED=$((MAAS_TOTAL_SKIPPED + 1))
  MAAS_RESULTS+=("$(printf '%-28s skipped: %s' "$1" "$2")")
}

note_failure() {  # note_failure TEXT
  MAAS_FAILURES+=("$1")
}

# Reads ctest's log: totals, and the names of skipped and failed tests.
_maas_record_ctest() {  # NAME LOG
  local name=$1 log=$2 line n k s
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" 2>/dev/null | tail -1) || line=""
  if [[ -z "$line" ]]; then
    MAAS_FAILED=1
    MAAS_RESULTS+=("$(printf '%-28s build or ctest failed, no result' "$name")")
    return
  fi
  n=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  k=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  s=0
  while IFS= read -r t; do
    [[ -z "$t" ]] && continue
    MAAS_SKIPS+=("$name: $t")
    s=$((s + 1))
  done < <(sed -nE 's/^[[:space:]]*[0-9]+ - (.*) \(Skipped\)$/\1/p' "$log")
  while IFS= read -r t; do
    [[ -n "$t" ]] && note_failure "$name: $t"
  done < <(sed -nE 's/^[[:space:]]*[0-9]+ - (.*) \(([A-Za-z ]+)\)$/\1 (\2)/p' "$log" | grep -v ' (Skipped)$')
  record_result "$name" $((n - k - s)) "$k" "$s"
}

run_config() {  # run_config NAME [--targets "T..."] [--label L] [--src DIR] -- CMAKE_ARGS...
  local name=$1; shift
  local targets="" label="" src="."
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    case $1 in
      --targets) targets=$2; shift 2 ;;
      --label) label=$2; shift 2 ;;
      --src) src=$2; shift 2 ;;
      *) echo "run_config: unknown option $1" >&2; return 2 ;;
    esac
  done
  [[ "${1:-}" == "--" ]] && shift
  local dir="build/$name" log="build/$name/ctest.log" t0
  mkdir -p "$dir"; rm -f "$log"
  echo "=== maas tests: $name ==="
  local -a common
  mapfile -t common < <(maas_cmake_common_args)
  # A build tree made by another generator cannot be reused.
  if [[ -f "$dir/CMakeCache.txt" ]] && ! grep -q "CMAKE_GENERATOR:INTERNAL=$MAAS_GENERATOR" "$dir/CMakeCache.txt"; then
    rm -rf "$dir"; mkdir -p "$dir"
  fi
  t0=$(date +%s)
  local ok=1
  if cmake -S "$src" -B "$dir" "${common[@]}" "$@" >"$dir/configure.log" 2>&1; then :; else
    tail -n 30 "$dir/configure.log"; ok=0; fi
  if (( ok )); then
    # shellcheck disable=SC2086  # $targets is a word list
    if cmake --build "$dir" -j"$MAAS_JOBS" ${targets:+--target $targets}; then :; else ok=0; fi
  fi
  local t1; t1=$(date +%s)
  _maas_add_phase "$name: build" $((t1 - t0)) "$( ((ok)) && echo ok || echo FAILED)"
  if (( ok )); then
    local -a ctest_args=(--test-dir "$dir" -j"$MAAS_JOBS" --output-on-failure)
    [[ -n "$label" ]] && ctest_args+=(-L "$label")
    ctest "${ctest_args[@]}" 2>&1 | tee "$log" || true
  fi
  _maas_add_phase "$name: tests" $(( $(date +%s) - t1 )) "see results"
  _maas_record_ctest "$name" "$log"
}

test_summary() {
  local total=$(( $(date +%s) - MAAS_RUN_START ))
  echo
  echo "=== maas phases (wall time) ==="
  printf '%s\n' "${MAAS_PHASES[@]}"
  printf '%-28s %6ss\n' "total" "$total"
  echo
  echo "=== maas test summary ==="
  printf '%s\n' "${MAAS_RESULTS[@]}"
  if (( ${#MAAS_SKIPS[@]} )); then
    echo "skipped tests (they did not run, they did not pass):"
    printf '  %s\n' "${MAAS_SKIPS[@]}"
  fi
  if (( ${#MAAS_FAILURES[@]} )); then
    echo "failures (details above, in each phase's output):"
    printf '  %s\n' "${MAAS_FAILURES[@]}"
  fi
  echo "maas tests: $MAAS_TOTAL_PASSED passed, $MAAS_TOTAL_FAILED failed, $MAAS_TOTAL_SKIPPED skipped"
  return "$MAAS_FAILED"
}
