# Fuzzing (libFuzzer, clang-14 from Debian): every decoder of server or file
# bytes and the plain HTTP engine's reply reader, each for a bounded time
# (MAAS_FUZZ_SECONDS, default 45 s; two at a time), with ASan + UBSan. The
# corpus grown by this run is then checked against h11 (the differential
# test of the HTTP/1.1 reader). A crash fails the phase; its input is kept in
# build/fuzz/artifacts/ - add it to tests/fuzz/corpus/<target>/ as a
# regression test (ctest replays those in every configuration).
# Long runs: docs/fuzzing.md.
maas_fuzz_phase() {
  local dir=build/fuzz secs=${MAAS_FUZZ_SECONDS:-45}
  local targets=(kserve_v2_reply tf_serving_reply metadata model_file http1_reply)
  if ! command -v clang++-14 >/dev/null; then
    skip fuzz "clang++-14 not installed"
    return 0
  fi
  mkdir -p "$dir"
  CXX=clang++-14 CC=clang-14 cmake -S . -B "$dir" -G "$MAAS_GENERATOR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMAAS_BUILD_FUZZERS=ON -DMAAS_BUILD_EXAMPLES=OFF -DMAAS_BUILD_C_API=OFF -DMAAS_BUILD_CLI=OFF \
    -DMAAS_INSTALL=OFF >"$dir/configure.log" 2>&1 || { tail -20 "$dir/configure.log"; return 1; }
  cmake --build "$dir" -j"$MAAS_JOBS" --target "${targets[@]/%/_fuzz}" maas_http1_decide || return 1
  local pids=() t passed=0 failed=0
  for t in "${targets[@]}"; do
    mkdir -p "$dir/work/$t" "$dir/artifacts/$t"
    "$dir/tests/fuzz/${t}_fuzz" "$dir/work/$t" "tests/fuzz/corpus/$t" -max_total_time="$secs" \
      -artifact_prefix="$dir/artifacts/$t/" -print_final_stats=1 >"$dir/$t.log" 2>&1 &
    pids+=($!)
    if (( ${#pids[@]} >= MAAS_JOBS )); then wait "${pids[0]}" || true; pids=("${pids[@]:1}"); fi
  done
  wait || true
  echo "fuzzing ($secs s per target):"
  for t in "${targets[@]}"; do
    local execs crashes
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$dir/$t.log" | tail -1)
    crashes=$(find "$dir/artifacts/$t" -type f | wc -l)
    printf '  %-18s %10s executions, %s crashes\n' "$t" "${execs:-?}" "$crashes"
    if [[ -n "$execs" && "$crashes" == 0 ]]; then passed=$((passed + 1)); else
      failed=$((failed + 1))
      local why art
      why=$(grep -m1 -E "contract violated|ERROR|SUMMARY|out-of-memory|timeout" "$dir/$t.log" || true)
      if [[ -z "$why" && -z "$execs" ]]; then why="no final statistics; log ends: $(tail -n 1 "$dir/$t.log")"
      elif [[ -z "$why" ]]; then why="$crashes input(s) in $dir/artifacts/$t, no error line in the log"; fi
      note_failure "fuzz $t: $why"
      # The input itself (the log's head is above), so that it can be
      # replayed from the summary alone: base64 of at most 3 KiB.
      for art in $(find "$dir/artifacts/$t" -type f | head -2); do
        note_failure "  input $(basename "$art") ($(stat -c %s "$art") bytes, base64): $(head -c 3072 "$art" | base64 -w0)"
      done
      tail -n 40 "$dir/$t.log"; fi
  done
  record_result fuzz "$passed" "$failed"
  local py=.venv-kserve/bin/python
  if [[ -x $py ]]; then
    if "$py" tests/fuzz/http1_differential.py "$dir/tests/fuzz/maas_http1_decide" \
         "$dir/work/http1_reply" tests/fuzz/corpus/http1_reply; then
      record_result fuzz-differential-h11 1 0
    else
      record_result fuzz-differential-h11 0 1
    fi
  else
    skip fuzz-differential-h11 "no .venv-kserve (h11)"
  fi
}
timed fuzz maas_fuzz_phase
