#!/usr/bin/env python3
"""Instruction counts per call of the local network cases, under callgrind.

Usage (from the repository root):

  python3 bench/local/run_icount.py \
      --bench build/local-avx2/bench/local/maas_local_icount [--cases a,b] [-n 1000]

Runs `valgrind --tool=callgrind --instr-atstart=no` on maas_local_icount once
per case; the driver collects only around its N timed calls, so the total
"Ir" of the dump divided by N is the instructions per call. The counts are
exact and repeat from run to run, so they are the before/after measure on a
noisy machine. Valgrind 3.19 has no AVX-512: use an AVX2 or generic build.
Python standard library only.
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile

CASES = ["raw_small", "call_small", "call_small_opts", "raw_drag", "call_drag",
         "raw_large", "small_b1024", "large_b1024", "dyn_small", "dyn_small_b1024",
         "repro_small", "repro_small_b1024"]
BATCH_CASES = {"small_b1024": 1024, "large_b1024": 1024, "dyn_small_b1024": 1024,
               "repro_small_b1024": 1024}


def count(binary, case, n, env):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={out}", binary, case, str(n)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=env)
        # The driver's one dump (cg.out.1) holds the measured calls only;
        # cg.out itself is the rest of the run.
        total = None
        for path in glob.glob(out + ".*"):
            with open(path) as f:
                for line in f:
                    if line.startswith("totals:"):
                        total = (total or 0) + int(line.split()[1])
        if total is None:
            raise RuntimeError(f"no callgrind totals for {case}")
        return total / n


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", required=True, help="maas_local_icount binary")
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("-n", type=int, default=1000, help="calls per case (batch cases: n/50)")
    p.add_argument("--kernel", help="MAAS_KERNEL for a generic build")
    args = p.parse_args()
    env = dict(os.environ)
    if args.kernel:
        env["MAAS_KERNEL"] = args.kernel
    print(f"{'case':<22} {'instructions/call':>18} {'per sample':>12}")
    for case in args.cases.split(","):
        n = max(1, args.n // 50) if case in BATCH_CASES else args.n
        ir = count(args.bench, case, n, env)
        per_sample = ir / BATCH_CASES.get(case, 1)
        print(f"{case:<22} {ir:>18.1f} {per_sample:>12.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
