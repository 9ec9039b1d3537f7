#!/usr/bin/env python3
"""The remote model with its local fallback, through a server restart.

Starts a real KServe ModelServer (from the project's .venv-kserve) serving the
projectile's drag model on a loopback port, flies the projectile example
against it, then flies it again while this script kills the server part-way
through the flight and starts it again. The example prints which backend
served which steps (remote / local fallback / remote again) and its error
against the reference trajectory. Every process this script starts is
stopped when it ends, whatever happens.

  fallback_demo.py --exe build/demo/examples/projectile
  fallback_demo.py --exe ... --check     exit 1 unless the restart run was
                                        served remote -> local -> remote, every
                                        step got a result and the example PASSed

Stdlib only. Used by tools/demo.sh --fallback and by the test suite.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVE = os.path.join(ROOT, "tests", "remote", "server", "serve.py")
KSERVE = os.path.join(ROOT, "tests", "remote", "server", "kserve_server.py")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A KServe ModelServer serving drag_cd on a fixed loopback port."""

    def __init__(self, python, model_file, state_dir):
        self.python = python
        self.model_file = model_file
        self.state = os.path.join(state_dir, "kserve.state.json")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        t0 = time.monotonic()
        subprocess.run(
            [sys.executable, SERVE, "start", "--state", self.state, "--python", self.python,
             "--ready", "/v2/health/ready", "--ready", "/v2/models/drag_cd/ready",
             "--port", str(self.port), "--lifetime", "600", "--",
             KSERVE, "--http_port", "{port}", "--enable_grpc", "false",
             "--enable_latency_logging", "false", "--configure_logging", "false",
             "--model", f"drag_cd={self.model_file}"],
            check=True, stdout=subprocess.DEVNULL)
        return time.monotonic() - t0

    def stop(self):
        subprocess.run([sys.executable, SERVE, "stop", "--state", self.state],
                       check=False, stdout=subprocess.DEVNULL)


def fly(exe, url, extra, on_progress=None):
    """Runs the example; calls on_progress(step) for each progress line."""
    cmd = [exe, "--remote", url, "--fallback", "local"] + extra
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines = []
    try:
        for line in proc.stdout:
            m = re.match(r"progress: step (\d+)", line)
            if m:
                if on_progress:
                    on_progress(int(m.group(1)))
                continue
            lines.append(line.rstrip("\n"))
        rc = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return rc, lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True, help="the projectile example")
    ap.add_argument("--python", default=os.path.join(ROOT, ".venv-kserve", "bin", "python"))
    ap.add_argument("--model-file", default=os.path.join(ROOT, "examples", "data", "drag_cd.json"))
    ap.add_argument("--kill-at", type=int, default=400, help="step at which the server is killed")
    ap.add_argument("--step-delay-ms", default="2", help="simulated work per time step")
    ap.add_argument("--dt", default="0.002", help="the example's time step (s)")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.python):
        sys.exit(f"fallback_demo: {args.python} missing; run tools/bootstrap.sh --kserve")

    with tempfile.TemporaryDirectory(prefix="maas_fallback_demo_") as tmp:
        server = Server(args.python, args.model_file, tmp)
        try:
            took = server.start()
            print(f"== KServe ModelServer serving drag_cd at {server.url} (ready in {took:.1f} s)")
            print("== 1. the flight with the server up the whole time")
            flight = ["--step-delay-ms", args.step_delay_ms, "--dt", args.dt]
            rc1, out1 = fly(args.exe, server.url, flight)
            for line in out1:
                if line.startswith(("served:", "range:", "max position", "result:")):
                    print("   " + line)

            print(f"== 2. the same flight; the server is killed at step {args.kill_at} "
                  "and started again at once")
            events = []

            def on_progress(step):
                if step == args.kill_at and not events:
                    server.stop()
                    events.append(f"   [step {step}: server killed]")
                    print(events[-1], flush=True)
                    took = server.start()
                    events.append(f"   [server up again after {took:.1f} s]")
                    print(events[-1], flush=True)

            rc2, out2 = fly(args.exe, server.url, flight + ["--progress", "100"], on_progress)
            for line in out2:
                if line.startswith(("served:", "range:", "max position", "predict calls", "result:")):
                    print("   " + line)
        finally:
            server.stop()
            print("== server stopped")

    if not args.check:
        return 0 if rc1 == 0 and rc2 == 0 else 1
    backends = [re.match(r"served: steps \d+-\d+ by (\S+)", l).group(1)
                for l in out2 if l.startswith("served:")]
    problems = []
    if rc1 != 0 or rc2 != 0:
        problems.append(f"example exit codes {rc1}, {rc2} (0 = PASS)")
    if "failed" in backends:
        problems.append("some steps got no result")
    if len(backends) < 3 or backends[0] != "remote" or backends[-1] != "remote" or "local" not in backends:
        problems.append(f"served {backends}, expected remote -> local -> remote")
    if not events:
        problems.append("the flight ended before the kill step")
    for p in problems:
        print("CHECK FAILED: " + p)
    print("fallback demo check: " + ("ok" if not problems else "FAILED"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
