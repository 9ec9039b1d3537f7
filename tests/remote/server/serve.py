#!/usr/bin/env python3
"""Starts and stops a real inference server for the remote tests (stdlib only).

  serve.py start --state FILE --python VENV_PY --ready PATH [--ready PATH ...]
                 [--timeout S] [--lifetime S] [--port N] -- ARGS...
  serve.py stop --state FILE

`start` picks free ports on 127.0.0.1 (ARGS may use {port}, {port2},
{port3}, {state_dir}), runs `VENV_PY ARGS...` in its own process group under
a lifetime limit, waits until every --ready path answers HTTP 200 (bounded
by --timeout), and writes FILE (JSON: pid, port, url, log). It fails with a
clear message when the venv is missing, the server exits, or readiness times
out, and then leaves no process behind. `stop` terminates the process group
named in FILE (SIGTERM, then SIGKILL) and removes FILE; it never fails.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return None


def kill_group(pid):
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + wait
        while time.monotonic() < end:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done == pid:
                # The leader is gone; make sure no child of it survives.
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return
            time.sleep(0.05)


def tail(path, n=40):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


def start(args):
    if not os.path.exists(args.python):
        sys.exit(f"serve.py: the server's Python {args.python} does not exist; "
                 f"create the venvs with tools/bootstrap.sh --all")
    state_dir = os.path.dirname(os.path.abspath(args.state))
    os.makedirs(state_dir, exist_ok=True)
    if os.path.exists(args.state):
        stop(args)
    ports = {"port": args.port or free_port(), "port2": free_port(), "port3": free_port()}
    cmd = [a.format(state_dir=state_dir, **ports) for a in args.cmd]
    log = args.state + ".log"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            ["timeout", "-k", "5", str(args.lifetime), args.python] + cmd,
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=args.cwd or None)
    url = f"http://127.0.0.1:{ports['port']}"
    deadline = time.monotonic() + args.timeout
    pending = list(args.ready)
    while pending:
        if proc.poll() is not None:
            sys.exit(f"serve.py: the server exited with {proc.returncode} before "
                     f"it was ready; log {log}:\n{tail(log)}")
        if time.monotonic() > deadline:
            kill_group(proc.pid)
            sys.exit(f"serve.py: not ready within {args.timeout} s "
                     f"({url}{pending[0]} not 200); log {log}:\n{tail(log)}")
        if http_status(url + pending[0]) == 200:
            pending.pop(0)
        else:
            time.sleep(0.2)
    with open(args.state, "w", encoding="utf-8") as f:
        json.dump({"pid": proc.pid, "url": url, "log": log, **ports}, f)
    print(f"serve.py: ready at {url} (pid {proc.pid})")


def stop(args):
    try:
        with open(args.state, encoding="utf-8") as f:
            st = json.load(f)
    except (OSError, ValueError):
        print(f"serve.py: no server state in {args.state}")
        return
    kill_group(st["pid"])
    os.remove(args.state)
    print(f"serve.py: stopped pid {st['pid']}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("action", choices=["start", "stop"])
    p.add_argument("--state", required=True)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--ready", action="append", default=[])
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--lifetime", type=int, default=1800)
    p.add_argument("--cwd", default="")
    p.add_argument("--port", type=int, default=0,
                   help="the server's port (default: a free one); a restart test "
                        "starts the server again on the port it had")
    argv = sys.argv[1:]
    cmd = []
    if "--" in argv:
        cmd = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    args = p.parse_args(argv)
    args.cmd = cmd
    if args.action == "start":
        start(args)
    else:
        stop(args)


if __name__ == "__main__":
    main()
