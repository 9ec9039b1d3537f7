#!/usr/bin/env python3
"""Runs every local-network benchmark in one go and prints the tables.

Usage (from the repository root, after building with -DMAAS_BUILD_BENCHMARKS=ON;
see docs/PERFORMANCE.md for the build commands):

  python3 bench/local/run_local_bench.py \
      --bench build/bench-native/bench/local/maas_local_bench \
      --generic build/bench-generic/bench/local/maas_local_bench \
      --load build/bench-native/bench/local/maas_load_bench \
      --projectile build/bench-native/examples/projectile \
      --icount build/bench-generic/bench/local/maas_local_icount \
      --rounds 7 --cpu 1 --json-dir build/bench-native

Configurations: the -march=native binary (kernel chosen at compile time),
the generic binary (runtime dispatch, best ISA) and the generic binary with
each lesser kernel forced (MAAS_KERNEL=avx2). On a shared machine the
configurations run interleaved: each round runs every configuration once
(Google Benchmark, --benchmark_min_time each), and the tables give the
median over the rounds of CPU time. "% peak" is of the FMA loop of the
kernel's ISA in the same process (fma_peak_avx512 / fma_peak_avx2). The
call-path overhead is predict - raw of the medians. The model-loading
benchmark, the projectile example (its own per-call figure) and the
callgrind instruction counts (run_icount.py, exact) run once after the
rounds. Python standard library only.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_gbench(binary, out, args, env=None, extra=()):
    cmd = []
    if args.cpu is not None and shutil.which("taskset"):
        cmd += ["taskset", "-c", str(args.cpu)]
    cmd += [binary, f"--benchmark_min_time={args.min_time}", f"--benchmark_out={out}",
            "--benchmark_out_format=json", *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env)
    with open(out) as f:
        data = json.load(f)
    return data["context"], {b["name"]: b for b in data["benchmarks"]}


def med(rounds, name, key):
    """Median over the rounds of counter `key` of benchmark `name` (or
    `name`/<arg>)."""
    vals = []
    for r in rounds:
        for full, b in r.items():
            if (full == name or full.startswith(name + "/")) and key in b:
                vals.append(b[key])
                break
    return statistics.median(vals) if vals else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", required=True, help="maas_local_bench built with -march=native")
    p.add_argument("--generic", help="maas_local_bench built without -m flags")
    p.add_argument("--forced", default="avx2", help="kernels to force in the generic build")
    p.add_argument("--load", help="maas_load_bench")
    p.add_argument("--projectile", help="examples/projectile binary")
    p.add_argument("--icount", help="maas_local_icount of a generic build (callgrind)")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--min-time", type=float, default=0.2, help="seconds per benchmark")
    p.add_argument("--cpu", type=int, default=1, help="CPU to pin to with taskset")
    p.add_argument("--json-dir", default=".", help="where the JSON files go")
    args = p.parse_args()
    os.makedirs(args.json_dir, exist_ok=True)

    configs = [("native", args.bench, None)]
    if args.generic:
        configs.append(("generic", args.generic, None))
        for isa in filter(None, args.forced.split(",")):
            env = dict(os.environ, MAAS_KERNEL=isa)
            configs.append((f"generic,{isa}", args.generic, env))
    results = {label: [] for label, _, _ in configs}
    contexts = {}
    for r in range(args.rounds):
        for label, binary, env in configs:
            out = os.path.join(args.json_dir, f"local_bench_{label.replace(',', '_')}.json")
            ctx, benches = run_gbench(binary, out, args, env)
            contexts[label] = ctx
            results[label].append(benches)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    first = contexts[configs[0][0]]
    print(f"CPU: {first.get('host_name', '')} {first.get('num_cpus')} CPUs @ "
          f"{first.get('mhz_per_cpu')} MHz; median of {args.rounds} interleaved rounds, "
          f"CPU time, pinned to CPU {args.cpu}")
    native = {}
    for label, _, _ in configs:
        rounds = results[label]
        kernel = contexts[label].get("maas_kernel")
        peak_name = "fma_peak_avx512" if kernel == "avx512" else "fma_peak_avx2"
        peak = med(rounds, peak_name, "GFLOPs")
        l2 = med(rounds, "l2_read", "GBps")
        bound = med(rounds, "l2_read", "large_b1_bound_ns")
        print(f"\n### {label}: kernel {kernel}, FMA peak ({peak_name}) {peak:.1f} GFLOP/s, "
              f"L2 read {l2:.1f} GB/s (large batch-1 bound {bound:.0f} ns)\n")
        print("| case | Eigen | maas scalar | **maas** | GFLOP/s | % of peak | vs Eigen "
              "| maas dynamic |" + (" vs native |" if label != "native" else ""))
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
              + (" ---: |" if label != "native" else ""))
        repro = []
        for case in ("small_b1", "small_b1024", "large_b1", "large_b1024"):
            unit = "ns" if case.endswith("_b1") else "ns/sample"
            e = med(rounds, f"{case}/eigen", "ns_per_sample")
            s = med(rounds, f"{case}/maas_scalar", "ns_per_sample")
            m = med(rounds, f"{case}/maas", "ns_per_sample")
            gf = med(rounds, f"{case}/maas", "GFLOPs")
            d = med(rounds, f"{case}/maas_dynamic", "ns_per_sample")
            if case.startswith("small"):
                rp = med(rounds, f"{case}/maas_repro", "ns_per_sample")
                repro.append(f"{case} {rp:,.1f} ns ({rp / m:.2f}x fast mode)")
            line = (f"| {case} | {e:,.1f} {unit} | {s:,.1f} | **{m:,.1f}** | {gf:.1f} | "
                    f"{100 * gf / peak:.0f} % | {e / m:.2f}x | {d:,.1f} |")
            if label == "native":
                native[case] = m
            elif case in native:
                line += f" {100 * native[case] / m:.0f} % |"
            print(line)
        print("\nreproducible mode (small): " + "; ".join(repro))
        rows = []
        for net in ("small", "drag"):
            raw = med(rounds, f"call_{net}/raw", "ns_per_call")
            pred = med(rounds, f"call_{net}/predict", "ns_per_call")
            rows.append(f"call path {net}: raw {raw:.1f} ns, Predict {pred:.1f} ns, "
                        f"overhead {pred - raw:+.1f} ns")
        print("\n" + "; ".join(rows))

    if args.load:
        out = os.path.join(args.json_dir, "load_bench.json")
        _, benches = run_gbench(args.load, out, args, None,
                                ["--benchmark_repetitions=5",
                                 "--benchmark_report_aggregates_only=true"])
        print("\nmodel loading (median of 5, CPU time):\n")
        print("| case | file MB | ms | MB/s |\n| --- | ---: | ---: | ---: |")
        for name, b in benches.items():
            if b.get("aggregate_name") != "median":
                continue
            print(f"| {b['run_name']} | {b['file_MB']:.3f} | {b['ms']:.3f} "
                  f"| {b['MB_per_s']:.0f} |")

    if args.projectile:
        figures = []
        for _ in range(args.rounds):
            cmd = (["taskset", "-c", str(args.cpu)] if shutil.which("taskset") else []) + \
                  [args.projectile]
            text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            m = re.search(r"mean (\d+) ns per call", text)
            if m:
                figures.append(int(m.group(1)))
        if figures:
            print(f"\nprojectile example: {statistics.median(figures)} ns per call "
                  f"(median of {len(figures)} runs: {figures})")

    if args.icount:
        print("\ncallgrind instruction counts (generic build, MAAS_KERNEL=avx2):\n")
        sys.stdout.flush()
        subprocess.run([sys.executable, os.path.join(HERE, "run_icount.py"),
                        "--bench", args.icount, "--kernel", "avx2", "-n", "200"], check=True)


if __name__ == "__main__":
    main()
