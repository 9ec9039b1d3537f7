#!/usr/bin/env python3
"""Runs maas_local_bench with repetitions and prints a table of medians.

Usage (from the repository root, after building with -DMAAS_BUILD_BENCHMARKS=ON):

  python3 bench/local/run_local_bench.py \
      --bench build/bench-native/bench/local/maas_local_bench \
      --generic build/bench-generic/bench/local/maas_local_bench \
      --repetitions 7 --cpu 1 --json-dir build/bench-native

Each binary runs pinned to one CPU (taskset -c CPU) with
--benchmark_repetitions; the Google Benchmark JSON goes to
<json-dir>/local_bench_<label>.json and the table below uses the medians of
CPU time: ns per sample, GFLOP/s, fraction of the FMA peak measured in the
same run, Eigen time / this time (> 1: faster than Eigen). With --generic, a
second run of a build without -m flags (runtime dispatch) is shown with its
ratio to the -march=native maas figure. Python standard library only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys


def run(binary, label, args):
    out = os.path.join(args.json_dir, f"local_bench_{label}.json")
    cmd = []
    if args.cpu is not None and shutil.which("taskset"):
        cmd += ["taskset", "-c", str(args.cpu)]
    cmd += [binary,
            f"--benchmark_repetitions={args.repetitions}",
            "--benchmark_report_aggregates_only=true",
            f"--benchmark_min_time={args.min_time}",
            f"--benchmark_out={out}",
            "--benchmark_out_format=json"]
    if args.filter:
        cmd.append(f"--benchmark_filter={args.filter}")
    print("$", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        data = json.load(f)
    medians = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        medians[b["run_name"]] = b
    return data["context"], medians


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", required=True, help="maas_local_bench built with -march=native")
    p.add_argument("--generic", help="maas_local_bench built without -m flags (runtime dispatch)")
    p.add_argument("--repetitions", type=int, default=7)
    p.add_argument("--min-time", type=float, default=0.3, help="seconds per repetition")
    p.add_argument("--cpu", type=int, default=1, help="CPU to pin to with taskset")
    p.add_argument("--filter", default="", help="--benchmark_filter regex")
    p.add_argument("--json-dir", default=".", help="where the JSON files go")
    args = p.parse_args()
    os.makedirs(args.json_dir, exist_ok=True)

    runs = [("native",) + run(args.bench, "native", args)]
    if args.generic:
        runs.append(("generic",) + run(args.generic, "generic", args))

    native_maas = {}
    for label, ctx, med in runs:
        peak = med.get("fma_peak_avx512", {}).get("GFLOPs", float("nan"))
        print(f"\n{label}: kernel={ctx.get('maas_kernel')} "
              f"runtime_dispatch={ctx.get('maas_runtime_dispatch')} "
              f"median of {args.repetitions}, CPU time, pinned to CPU {args.cpu}; "
              f"FMA peak {peak:.1f} GFLOP/s")
        print(f"{'case':<14} {'impl':<12} {'ns/sample':>10} {'GFLOP/s':>8} "
              f"{'%peak':>6} {'vs Eigen':>8}" + (f" {'vs native':>9}" if label == "generic" else ""))
        cases = {}
        for name, b in med.items():
            if name.startswith("fma_peak"):
                continue
            case, impl = name.split("/")[0], name.split("/")[1]
            cases.setdefault(case, {})[impl] = b
        for case in ("small_b1", "small_b1024", "large_b1", "large_b1024"):
            if case not in cases:
                continue
            eigen_ns = cases[case].get("eigen", {}).get("ns_per_sample")
            for impl in ("eigen", "maas_scalar", "maas"):
                b = cases[case].get(impl)
                if b is None:
                    continue
                ns = b["ns_per_sample"]  # counters are already ns and GFLOP/s
                gf = b["GFLOPs"]
                vs = (eigen_ns / ns) if eigen_ns else float("nan")
                line = f"{case:<14} {impl:<12} {ns:>10.1f} {gf:>8.1f} {100 * gf / peak:>5.0f}% {vs:>7.2f}x"
                if impl == "maas" and label == "native":
                    native_maas[case] = ns
                if impl == "maas" and label == "generic" and case in native_maas:
                    line += f" {100 * native_maas[case] / ns:>8.0f}%"
                print(line)


if __name__ == "__main__":
    main()
