#!/usr/bin/env python3
"""Routing benchmarks against a real KServe server: micro-batching, async
overlap and the local/remote router's crossover (routing_bench.cc).

  sudo python3 bench/routing/run_routing_bench.py \
      --bench build/route-bench/bench/routing/maas_routing_bench \
      [--modes batching,async,router] [--seconds 3] [--rounds 5] [--rtt-ms 1] \
      [--batching 1:0,2:0,1:200] [--spin-us 50] [--no-netns] [--out results.json]

batching, async: the KServe test server (tests/remote/server/kserve_server.py,
model mlp16: 16 -> 32 -> 32 -> 8, FP32) on a free 127.0.0.1 port, pinned to
CPU 1; the benchmark on CPU 0 (async pins its own threads: caller CPU 0,
worker CPU 1). async also runs against a model that sleeps instead of
calling a server (`--url sleep:US`): the async machinery's overhead
without a server competing for the two cores; both print the floor any
worker pool pays here, a bare condition-variable wake-up of a sleeping
thread on the other CPU, measured in the same run. --spin-us sets
AsyncOptions::wait_spin (the library's default is 50 us).

router: a wide FP64 model (16 -> 1024 relu -> 1024 relu -> 8 sigmoid,
random weights from a fixed seed, written to a temporary directory) both
in-process on CPU 0 and on a KServe server on CPU 1. To model a server on
another host the server runs in its own network namespace, reached over a
veth pair (needs root and iproute2's `ip`), and every remote call waits
--rtt-ms on the server (KServe's model delay, an asyncio sleep that costs
no CPU): the kernel here has no `tc netem` (CONFIG_NET_SCH_NETEM unset),
which would otherwise add the round trip on the veth. Without root or `ip`,
or with --no-netns, the server listens on 127.0.0.1 and the script says so.

Every server, the namespace and the veth pair are removed when the script
ends, also on an error, Ctrl-C or SIGTERM. Needs .venv-kserve
(tools/bootstrap.sh --all). Prints one table; --out writes the results as
JSON.
"""
import argparse
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_DIR = os.path.join(ROOT, "tests", "remote", "server")
SERVE = os.path.join(SERVER_DIR, "serve.py")
KSERVE_PY = os.path.join(ROOT, ".venv-kserve", "bin", "python")
MLP16 = os.path.join(SERVER_DIR, "data", "mlp16.json")

# Children to stop and namespace objects to remove at exit.
_servers = []      # (state file, netns or None)
_netns = []        # namespace names
_veths = []        # host-side veth names
_running = []      # Popen of the benchmark being run


def _terminate(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def cleanup():
    for p in _running:
        if p.poll() is None:
            p.kill()
            p.wait()
    _running.clear()
    while _servers:
        state, ns = _servers.pop()
        subprocess.run([sys.executable, SERVE, "stop", "--state", state],
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    while _veths:
        subprocess.run(["ip", "link", "del", _veths.pop()],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while _netns:
        subprocess.run(["ip", "netns", "del", _netns.pop()],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sh(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"failed: {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p.stdout


def start_server(state, models, ready, netns=None):
    """Starts KServe (on CPU 1) with `models` (NAME=PATH[:DELAY_MS]); returns
    its URL. In `netns` it listens on every address of the namespace."""
    script = os.path.join(HERE, "kserve_any_host.py") if netns else \
        os.path.join(SERVER_DIR, "kserve_server.py")
    cmd = ["taskset", "-c", "1", sys.executable, SERVE, "start", "--state", state,
           "--python", KSERVE_PY, "--lifetime", "3600", "--cwd", SERVER_DIR]
    for r in ready:
        cmd += ["--ready", r]
    cmd += ["--", script, "--http_port", "{port}", "--enable_grpc", "false",
            "--enable_latency_logging", "false", "--configure_logging", "false"]
    for m in models:
        cmd += ["--model", m]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    _servers.append((state, netns))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"the server did not start:\n{p.stdout}{p.stderr}")
    with open(state, encoding="utf-8") as f:
        return json.load(f)


def stop_server(state):
    for i, (s, _) in enumerate(_servers):
        if s == state:
            del _servers[i]
            break
    subprocess.run([sys.executable, SERVE, "stop", "--state", state],
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def make_netns():
    """A namespace with one veth pair to the host; returns (name, address of
    the namespace's end)."""
    tag = os.getpid() % 100000
    ns, host_if, ns_if = f"maas-route-{tag}", f"mrh{tag}", f"mrn{tag}"
    net = f"10.254.{tag % 250}"
    _netns.append(ns)
    sh(["ip", "netns", "add", ns])
    _veths.append(host_if)
    sh(["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if])
    sh(["ip", "link", "set", ns_if, "netns", ns])
    sh(["ip", "addr", "add", f"{net}.1/30", "dev", host_if])
    sh(["ip", "link", "set", host_if, "up"])
    sh(["ip", "-n", ns, "addr", "add", f"{net}.2/30", "dev", ns_if])
    sh(["ip", "-n", ns, "link", "set", ns_if, "up"])
    sh(["ip", "-n", ns, "link", "set", "lo", "up"])
    return ns, f"{net}.2"


def netns_possible():
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("ip") is None:
        return "no `ip` (iproute2)"
    return ""


def write_wide_model(path):
    """FP64 16 -> 1024 relu -> 1024 relu -> 8 sigmoid, seeded weights."""
    rng = random.Random(20261126)

    def dense(n_in, n_out, act):
        s = 1.0 / math.sqrt(n_in)
        rows = ("[" + ",".join(f"{rng.gauss(0.0, s):.6f}" for _ in range(n_out)) + "]"
                for _ in range(n_in))
        bias = ",".join(f"{rng.gauss(0.0, 0.1):.6f}" for _ in range(n_out))
        return (f'{{"type":"dense","units":{n_out},"activation":"{act}",'
                f'"weights":[{",".join(rows)}],"bias":[{bias}]}}')

    layers = [dense(16, 1024, "relu"), dense(1024, 1024, "relu"), dense(1024, 8, "sigmoid")]
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"format":"maas.mlp","format_version":1,"name":"wide","version":"1",'
                '"description":"router benchmark model (bench/routing/run_routing_bench.py)",'
                '"inputs":[{"name":"x","datatype":"FP64","shape":[-1,16]}],'
                '"outputs":[{"name":"y","datatype":"FP64","shape":[-1,8]}],'
                '"layers":[' + ",".join(layers) + "]}\n")


def bench(cmd):
    """Runs the benchmark, echoes its output, returns its RESULT object."""
    print("$", " ".join(cmd), flush=True)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _running.append(p)
    out = []
    for line in p.stdout:
        print("  " + line, end="", flush=True)
        out.append(line)
    rc = p.wait()
    _running.remove(p)
    if rc != 0:
        raise RuntimeError(f"benchmark failed with status {rc}")
    for line in out:
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError("no RESULT line")


def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a.add_argument("--bench", required=True, help="maas_routing_bench")
    a.add_argument("--modes", default="batching,async,router")
    a.add_argument("--threads", type=int, default=8)
    a.add_argument("--seconds", type=float, default=3)
    a.add_argument("--rounds", type=int, default=5)
    a.add_argument("--steps", type=int, default=400)
    a.add_argument("--sleep-us", type=int, default=200,
                   help="the sleeping model's call for the async overhead without a server")
    a.add_argument("--batching", default="1:0",
                   help="BatchingOptions to run, IN_FLIGHT:MAX_DELAY_US[,...]: max_in_flight_batches "
                        "and max_delay (the defaults are 1:0)")
    a.add_argument("--spin-us", type=int, default=50, help="AsyncOptions::wait_spin")
    a.add_argument("--rtt-ms", type=int, default=1,
                   help="added round trip per remote call in the router case (whole ms)")
    a.add_argument("--reps", type=int, default=7)
    a.add_argument("--batches", default="1,2,4,8,16,32,64,128,256,512")
    a.add_argument("--no-netns", action="store_true")
    a.add_argument("--out", default="")
    args = a.parse_args()
    if not os.path.exists(KSERVE_PY):
        sys.exit(f"{KSERVE_PY} is missing: run tools/bootstrap.sh --all")
    modes = args.modes.split(",")
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    results = {"cpu": cpu_name()}
    tmp = tempfile.mkdtemp(prefix="maas-route-")
    try:
        if "batching" in modes or "async" in modes:
            st = start_server(os.path.join(tmp, "kserve.state.json"), ["mlp16=" + MLP16],
                              ["/v2/health/ready", "/v2/models/mlp16/ready"])
            url = st["url"]
            print(f"KServe (mlp16) at {url}, CPU 1", flush=True)
            if "batching" in modes:
                results["batching"] = []
                for variant in args.batching.split(","):
                    in_flight, _, delay = variant.partition(":")
                    results["batching"].append(bench(
                        ["taskset", "-c", "0", args.bench, "batching", "--url", url,
                         "--threads", str(args.threads), "--seconds", str(args.seconds),
                         "--rounds", str(args.rounds), "--in-flight", in_flight,
                         "--max-delay-us", delay or "0"]))
            if "async" in modes:
                results["async"] = bench([args.bench, "async", "--url", url,
                                          "--steps", str(args.steps), "--rounds", str(args.rounds),
                                          "--spin-us", str(args.spin_us)])
            stop_server(os.path.join(tmp, "kserve.state.json"))
            if "async" in modes:
                results["async_sleep"] = bench(
                    [args.bench, "async", "--url", f"sleep:{args.sleep_us}",
                     "--steps", str(args.steps), "--rounds", str(args.rounds),
                     "--spin-us", str(args.spin_us)])
        if "router" in modes:
            model = os.path.join(tmp, "wide.json")
            write_wide_model(model)
            why = "--no-netns" if args.no_netns else netns_possible()
            ns, host = (None, "127.0.0.1") if why else make_netns()
            where = f"network namespace {ns} over veth" if ns else f"127.0.0.1 ({why})"
            st = start_server(os.path.join(tmp, "wide.state.json"),
                              [f"wide={model}:{args.rtt_ms}" if args.rtt_ms else f"wide={model}"],
                              ["/v2/health/ready", "/v2/models/wide/ready"], ns)
            url = f"http://{host}:{st['port']}"
            print(f"KServe (wide) at {url}, CPU 1, {where}, +{args.rtt_ms} ms per call", flush=True)
            results["router"] = bench(
                ["taskset", "-c", "0", args.bench, "router", "--url", url, "--local", model,
                 "--model", "wide", "--reps", str(args.reps), "--batches", args.batches])
            results["router"]["server"] = where
            results["router"]["rtt_ms"] = args.rtt_ms
    except KeyboardInterrupt as e:
        print(f"interrupted ({e}); stopping everything", file=sys.stderr)
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(130)
    except (RuntimeError, OSError) as e:
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(f"run_routing_bench.py: {e}")
    finally:
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    table(results)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)


def cpu_name():
    try:
        for line in sh(["lscpu"]).splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (RuntimeError, OSError):
        pass
    return "unknown CPU"


def table(r):
    print(f"\n{r['cpu']}, {os.cpu_count()} CPUs (shared with other work: figures are noisy; "
          "ratios are from the same run)")
    rows = []
    for b in r.get("batching", []):
        rows.append((f"micro-batching, {b['threads']} threads of 1x16, in flight "
                     f"{b['in_flight']}, max delay {b['max_delay_us']} us",
                     f"unbatched {b['unbatched']:.0f}/s, batched {b['batched']:.0f}/s",
                     f"x{b['ratio']:.2f} ({b['rows_per_request']:.1f} rows/request, "
                     f"{b['errors']} errors)"))
    for key, label in (("async", "async, KServe"), ("async_sleep", "async, sleeping model")):
        if key in r:
            rows.append((f"{label}: cross-CPU wake-up (floor)",
                         f"notify {r[key]['notify_us']:.1f} us",
                         f"round trip {r[key]['handoff_us']:.1f} us"))
        for s in r.get(key, {}).get("steps", []):
            rows.append((f"{label}: work {s['work_us']:.0f} + call {s['call_us']:.0f} us",
                         f"sync {s['sync_us']:.1f} us, async {s['async_us']:.1f} us",
                         f"overhead {s['overhead_us']:+.1f} us"))
    if "router" in r:
        x = r["router"]
        for s in x["sizes"]:
            faster = "remote" if s["remote_ms"] < s["local_ms"] else "local"
            rows.append((f"router: {s['rows']} rows",
                         f"local {s['local_ms']:.3f} ms, remote {s['remote_ms']:.3f} ms",
                         f"faster {faster}, router picks {s['router']}"))
        rows.append(("router crossover",
                     f"measured {x['measured_crossover']} rows, fitted {x['router_crossover']:.1f} rows",
                     f"agrees at {x['agree']} of {len(x['sizes'])} sizes"))
    w0 = max(len(a) for a, _, _ in rows)
    w1 = max(len(b) for _, b, _ in rows)
    for a, b, c in rows:
        print(f"{a:<{w0}}  {b:<{w1}}  {c}")


if __name__ == "__main__":
    main()
