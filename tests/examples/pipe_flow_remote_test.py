#!/usr/bin/env python3
"""The pipe-flow example run locally and with --remote against the KServe test
server (V2 JSON, V2 binary, V1): the runs must agree step by step.

  pipe_flow_remote_test.py --exe build/examples/pipe_flow/pipe_flow --state kserve.state.json

Both sides evaluate the same FP64 classifier (maas::LocalModel in double vs
NumPy float64 on the server), so every step must pick the same regime and
the levels may differ only by rounding (1e-12 of the initial level).
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile


def run(exe, args, csv_path):
    cmd = [exe, "--dt", "10", "--csv", csv_path] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0 or "result: PASS" not in p.stdout:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    with open(csv_path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f)), p.stdout


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--exe", required=True)
    a.add_argument("--state", required=True)
    args = a.parse_args()
    try:
        with open(args.state, encoding="utf-8") as f:
            url = json.load(f)["url"]
    except OSError:
        sys.exit(f"FAIL: no KServe server state {args.state} (fixture did not start)")
    with tempfile.TemporaryDirectory() as tmp:
        local, _ = run(args.exe, [], os.path.join(tmp, "local.csv"))
        h0 = float(local[0]["level"])
        for protocol in ("v2", "v2-binary", "v1"):
            remote, out = run(args.exe, ["--remote", url, "--remote-model", "pipe_regime",
                                         "--protocol", protocol],
                              os.path.join(tmp, f"{protocol}.csv"))
            if url not in out:
                sys.exit(f"FAIL: the {protocol} run did not report the remote model:\n{out}")
            if len(remote) != len(local):
                sys.exit(f"FAIL: {protocol}: {len(remote)} steps, local {len(local)}")
            regimes = sum(l["regime"] != r["regime"] for l, r in zip(local, remote) if l["regime"])
            worst = max(abs(float(l["level"]) - float(r["level"]))
                        for l, r in zip(local, remote) if l["level"])
            print(f"{protocol}: {len(remote)} steps, {regimes} regime differences, max level "
                  f"difference {worst:.3g} m")
            if regimes or worst > 1e-12 * h0:
                sys.exit(f"FAIL: {protocol}: local and remote runs differ")
    print("PASS")


if __name__ == "__main__":
    main()
