#!/usr/bin/env python3
"""Runs the local benchmark of several source trees interleaved (a bisect).

Usage (from the repository root; each TREE is a checkout, e.g. a
`git worktree add /tmp/at-29f3bbd 29f3bbd`, whose build/bench-native and
build/bench-generic hold maas_local_bench, built as in docs/PERFORMANCE.md):

  python3 bench/local/compare_commits.py --rounds 5 --cpu 1 \
      now=. 29f3bbd=/tmp/at-29f3bbd a64ec06=/tmp/at-a64ec06

Each round runs, for every tree in the order given, the native binary and
the generic binary with MAAS_KERNEL=avx2, restricted to the FMA peak loops
and the batch-1024 cases of the maas kernel (--filter to change), and
prints per tree and configuration the median over the rounds of each case's
share of the FMA peak of its ISA measured in the same process. A binary
older than the AVX2 peak loop (fma_peak_avx2) gets the AVX2 peak that an
earlier tree's binary measured in the same round, so list a recent tree
first. Python standard library only.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

def run(binary, flt, min_time, cpu, env):
    cmd = ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []
    cmd += [binary, f"--benchmark_filter={flt}", f"--benchmark_min_time={min_time}",
            "--benchmark_format=json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return {b["name"]: b for b in json.loads(out)["benchmarks"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trees", nargs="+", help="LABEL=DIR")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cpu", type=int, default=None)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--filter", default="^(fma_peak_avx512|fma_peak_avx2|"
                    "large_b1024/maas/|small_b1024/maas/)")
    args = ap.parse_args()
    trees = [t.split("=", 1) for t in args.trees]
    shares = {}
    for r in range(args.rounds):
        avx2_peak = None
        for label, tree in trees:
            for cfg, binary_dir, kernel in (("native", "bench-native", None),
                                            ("avx2", "bench-generic", "avx2")):
                env = dict(os.environ)
                if kernel:
                    env["MAAS_KERNEL"] = kernel
                binary = os.path.join(tree, "build", binary_dir, "bench/local/maas_local_bench")
                b = run(binary, args.filter, args.min_time, args.cpu, env)
                if "fma_peak_avx2" in b:
                    avx2_peak = b["fma_peak_avx2"]["GFLOPs"]
                peak = avx2_peak if kernel == "avx2" else b["fma_peak_avx512"]["GFLOPs"]
                if peak is None:
                    sys.exit(f"{binary}: no AVX2 peak in this round; list a recent tree first")
                for name, v in b.items():
                    if name.startswith("fma_peak"):
                        continue
                    # GFLOPs: the benchmark's own counter (FLOP / CPU time).
                    shares.setdefault((label, cfg, name), []).append(100 * v["GFLOPs"] / peak)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    for (label, cfg, name), v in shares.items():
        print(f"{label:10s} {cfg:7s} {name:24s} {statistics.median(v):5.1f} % of peak "
              f"(rounds: {' '.join(f'{x:.0f}' for x in v)})")


if __name__ == "__main__":
    main()
