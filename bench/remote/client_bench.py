#!/usr/bin/env python3
"""Client cost of a remote predict: maas vs a raw socket vs Python
tritonclient, and wrk's throughput ceiling, on one KServe server.

  python3 bench/remote/client_bench.py --bench build/bench/remote/maas_client_bench \
      [--seconds 5] [--out results.json]

Starts the KServe test server (tests/remote/server/kserve_server.py, model
mlp16: 16 -> 32 -> 32 -> 8, FP32) on 127.0.0.1 pinned to CPU 1, runs every
client pinned to CPU 0, one request at a time on one keep-alive connection,
for requests of 1x16 and 1024x16 floats in JSON and binary (KServe's binary
tensor extension). Per client and request kind: requests/s and the client
process' CPU per request (getrusage user + sys over the timed loop / count).
wrk (-t1 -c1, a Lua script POSTing the exact bytes maas sends) gives the
server's throughput ceiling for the same request. "in-memory" is maas with
a transport replaying one recorded reply: maas' own user-space CPU. CPU is
CLOCK_PROCESS_CPUTIME_ID (exact); the user/sys split is getrusage's
tick-sampled estimate. Needs .venv-kserve
(tools/bootstrap.sh --all) and wrk.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVE = os.path.join(ROOT, "tests", "remote", "server", "serve.py")
KSERVE_PY = os.path.join(ROOT, ".venv-kserve", "bin", "python")

TRITON_CLIENT = r'''
import json, resource, sys, time
import numpy as np
import tritonclient.http as httpclient
url, rows, binary, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "binary", float(sys.argv[4])
client = httpclient.InferenceServerClient(url.replace("http://", ""), connection_timeout=10, network_timeout=30)
x = np.random.default_rng(1).standard_normal((rows, 16)).astype(np.float32)
inp = httpclient.InferInput("x", [rows, 16], "FP32")
inp.set_data_from_numpy(x, binary_data=binary)
out = [httpclient.InferRequestedOutput("y", binary_data=binary)]
# KServe reads a body without this header as raw bytes; tritonclient sends
# none for pure JSON.
headers = None if binary else {"Content-Type": "application/json"}
for _ in range(50):
    client.infer("mlp16", [inp], outputs=out, headers=headers).as_numpy("y")
n = 0
r0 = resource.getrusage(resource.RUSAGE_SELF)
c0 = time.process_time()
t0 = time.monotonic()
end = t0 + seconds
while time.monotonic() < end:
    for _ in range(16):
        y = client.infer("mlp16", [inp], outputs=out, headers=headers).as_numpy("y")
        n += 1
secs = time.monotonic() - t0
cpu = time.process_time() - c0
r1 = resource.getrusage(resource.RUSAGE_SELF)
user, sys_ = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
assert y.shape == (rows, 8)
print(json.dumps({"client": "tritonclient", "format": "binary" if binary else "json", "rows": rows,
                  "requests": n, "seconds": round(secs, 3), "rps": round(n / secs, 1),
                  "user_us": round(1e6 * user / n, 2), "sys_us": round(1e6 * sys_ / n, 2),
                  "cpu_us": round(1e6 * cpu / n, 2)}))
'''

WRK_LUA = r'''
local f = assert(io.open(os.getenv("MAAS_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("MAAS_TYPE")
local hl = os.getenv("MAAS_HEADER_LENGTH")
if hl ~= nil and hl ~= "" then
  wrk.headers["Inference-Header-Content-Length"] = hl
end
'''


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def wrk_rps(lua, url, body, seconds):
    env = dict(os.environ, MAAS_BODY=body,
               MAAS_TYPE=open(body + ".type", encoding="utf-8").read(),
               MAAS_HEADER_LENGTH=open(body + ".header", encoding="utf-8").read())
    out = run(["taskset", "-c", "0", "wrk", "-t1", "-c1", f"-d{max(1, int(seconds))}s",
               "-s", lua, f"{url}/v2/models/mlp16/infer"], env=env)
    if "Non-2xx" in out:
        sys.exit(f"wrk got error replies:\n{out}")
    return float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec:")))


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--bench", required=True, help="maas_client_bench executable")
    a.add_argument("--seconds", type=float, default=3)
    a.add_argument("--rounds", type=int, default=3)
    a.add_argument("--out", default="")
    args = a.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "kserve.state.json")
        run(["taskset", "-c", "1", sys.executable, SERVE, "start", "--state", state,
             "--python", KSERVE_PY, "--ready", "/v2/health/ready", "--ready",
             "/v2/models/mlp16/ready", "--",
             os.path.join(ROOT, "tests", "remote", "server", "kserve_server.py"),
             "--http_port", "{port}", "--enable_grpc", "false",
             "--enable_latency_logging", "false", "--configure_logging", "false",
             "--model", "mlp16=" + os.path.join(ROOT, "tests", "remote", "server", "data", "mlp16.json")])
        try:
            with open(state, encoding="utf-8") as f:
                url = json.load(f)["url"]
            lua = os.path.join(tmp, "post.lua")
            with open(lua, "w", encoding="utf-8") as f:
                f.write(WRK_LUA)
            bodies = {}
            for rows in (1, 1024):
                for fmt in ("json", "binary"):
                    body = os.path.join(tmp, f"body_{rows}_{fmt}")
                    run([args.bench, "--url", url, "--rows", str(rows), "--format", fmt,
                         "--dump-request", body])
                    bodies[(rows, fmt)] = body
            # Warm the server up (first requests after start are slower).
            wrk_rps(lua, url, bodies[(1, "json")], 2)
            for rows in (1, 1024):
                for fmt in ("json", "binary"):
                    common = ["--url", url, "--rows", str(rows), "--format", fmt]
                    clients = ("maas", "maas-curl", "chain", "in-memory", "in-memory-chain", "raw")
                    rounds = {c: [] for c in clients + ("tritonclient", "wrk")}
                    # Interleaved rounds, medians reported: the server's
                    # speed drifts, and a client's CPU per request depends
                    # on how long it sleeps waiting for the reply.
                    for _ in range(args.rounds):
                        for client in clients:
                            rounds[client].append(json.loads(run(
                                ["taskset", "-c", "0", args.bench, *common, "--client", client,
                                 "--seconds", str(args.seconds)])))
                        rounds["tritonclient"].append(json.loads(run(
                            ["taskset", "-c", "0", KSERVE_PY, "-c", TRITON_CLIENT, url,
                             str(rows), fmt, str(args.seconds)])))
                        rounds["wrk"].append({"client": "wrk", "format": fmt, "rows": rows,
                                              "rps": wrk_rps(lua, url, bodies[(rows, fmt)],
                                                             args.seconds)})
                    for client, rs in rounds.items():
                        med = dict(rs[0])
                        for key in ("rps", "user_us", "sys_us", "cpu_us"):
                            if key in med:
                                med[key] = statistics.median(r[key] for r in rs)
                        med["rounds"] = len(rs)
                        results.append(med)
                        print(json.dumps(med), flush=True)
        finally:
            run([sys.executable, SERVE, "stop", "--state", state])
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    print(f"\nmedians of {args.rounds} interleaved rounds of {args.seconds} s")
    print("\n| request | client | req/s | user µs/req | sys µs/req | CPU µs/req |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        kind = f"{r['rows']}x16 {r['format']}"
        if r["client"] == "wrk":
            print(f"| {kind} | wrk (ceiling) | {r['rps']:.0f} | | | |")
        elif r["client"] in ("in-memory", "in-memory-chain"):
            name = "maas, no network" if r["client"] == "in-memory" else "chain, no network"
            print(f"| {kind} | {name} | ({r['rps']:.0f}) | | | {r['cpu_us']:.1f} |")
        else:
            print(f"| {kind} | {r['client']} | {r['rps']:.0f} | {r['user_us']:.1f} | "
                  f"{r['sys_us']:.1f} | {r['cpu_us']:.1f} |")


if __name__ == "__main__":
    main()
