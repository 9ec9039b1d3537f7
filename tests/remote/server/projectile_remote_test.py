#!/usr/bin/env python3
"""The projectile example run locally and with --remote against the KServe
test server (V2 JSON, V2 binary, V1): the trajectories must agree.

  projectile_remote_test.py --exe build/examples/projectile --state kserve.state.json

Both sides evaluate the same FP64 drag model (maas::LocalModel in double vs
NumPy float64 on the server), so the trajectories may differ only by
rounding: positions and velocities must agree to 1e-9 of the range/speed.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile


def run(exe, args, csv_path):
    cmd = [exe, "--dt", "0.01", "--csv", csv_path] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0 or "result: PASS" not in p.stdout:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    with open(csv_path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f)], p.stdout


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
        xs = [float(r["x"]) for r in local if r["x"]]
        span = max(xs) - min(xs)
        speed = max(abs(float(r["vx"])) for r in local if r["vx"])
        for protocol in ("v2", "v2-binary", "v1"):
            remote, out = run(args.exe, ["--remote", url, "--remote-model", "drag_cd",
                                         "--protocol", protocol],
                              os.path.join(tmp, f"{protocol}.csv"))
            if url not in out:
                sys.exit(f"FAIL: the {protocol} run did not report the remote model:\n{out}")
            if len(remote) != len(local):
                sys.exit(f"FAIL: {protocol}: {len(remote)} samples, local {len(local)}")
            worst_pos = worst_vel = 0.0
            for lr, rr in zip(local, remote):
                if not lr["x"]:
                    continue
                worst_pos = max(worst_pos, abs(float(lr["x"]) - float(rr["x"])),
                                abs(float(lr["y"]) - float(rr["y"])))
                worst_vel = max(worst_vel, abs(float(lr["vx"]) - float(rr["vx"])),
                                abs(float(lr["vy"]) - float(rr["vy"])))
            print(f"{protocol}: {len(remote)} samples, max position difference "
                  f"{worst_pos:.3g} m (range {span:.4g} m), max velocity difference "
                  f"{worst_vel:.3g} m/s")
            if worst_pos > 1e-9 * span or worst_vel > 1e-9 * speed:
                sys.exit(f"FAIL: {protocol}: local and remote trajectories differ")
    print("PASS")


if __name__ == "__main__":
    main()
