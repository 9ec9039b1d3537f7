#!/usr/bin/env python3
"""Differential test of maas' HTTP/1.1 reply reader against h11.

Every input of the http1_reply fuzz target (2 control bytes, then the bytes a
server sent, then the end of the stream) is read by maas (the http1_decide
driver) and by h11 (a reference HTTP/1.1 implementation from PyPI). Both must
make the same decision - accept or reject - and, when they accept, return the
same status and the same body. maas applies its body limit (byte 1 & 1: 100
bytes) and accepts only HTTP/1.0 and HTTP/1.1 replies; those two rules are
applied to h11's result too (h11 has no body limit and accepts any
"HTTP/d.d"): the only intended differences.

Usage: http1_differential.py DRIVER DIR_OR_FILE...
Prints a summary; exits 1 on any disagreement (the first ones listed).
"""
import os
import subprocess
import sys

import h11


def h11_decide(data: bytes):
    limit = 100 if data[1] & 1 else 256 << 20
    reply = data[2:]
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 << 10)
    conn.send(h11.Request(method="GET", target="/x", headers=[("Host", "h")]))
    conn.send(h11.EndOfMessage())
    status = None
    body = bytearray()
    try:
        conn.receive_data(reply)
        conn.receive_data(b"")
        while True:
            ev = conn.next_event()
            if isinstance(ev, h11.InformationalResponse):
                if ev.http_version not in (b"1.0", b"1.1"):
                    return ("REJECT", None, None)
                continue
            if isinstance(ev, h11.Response):
                if ev.http_version not in (b"1.0", b"1.1"):
                    return ("REJECT", None, None)
                status = ev.status_code
                continue
            if isinstance(ev, h11.Data):
                body += ev.data
                if len(body) > limit:
                    return ("REJECT", None, None)
                continue
            if isinstance(ev, h11.EndOfMessage):
                return ("ACCEPT", status, bytes(body))
            # NEED_DATA after the end of the stream, PAUSED, ConnectionClosed:
            # no complete reply.
            return ("REJECT", None, None)
    except (h11.RemoteProtocolError, h11.LocalProtocolError):
        return ("REJECT", None, None)


def main():
    driver, paths = sys.argv[1], sys.argv[2:]
    out = subprocess.run([driver] + paths, check=True, capture_output=True, text=True).stdout
    total = accepted = rejected = 0
    bad = []
    for line in out.splitlines():
        parts = line.rsplit(" ", 3) if " ACCEPT " in line else line.rsplit(" ", 2)
        path = parts[0]
        with open(path, "rb") as f:
            data = f.read()
        if " ACCEPT " in line:
            ours = ("ACCEPT", int(parts[2]), bytes.fromhex(parts[3]) if len(parts) > 3 else b"")
        else:
            ours = ("REJECT", None, None)
        ref = h11_decide(data)
        total += 1
        if ours[0] != ref[0] or (ours[0] == "ACCEPT" and ours != ref):
            bad.append((path, ours, ref))
        elif ours[0] == "ACCEPT":
            accepted += 1
        else:
            rejected += 1
    print(f"http1 differential vs h11 {h11.__version__}: {total} inputs, {accepted} accepted by both "
          f"(same status and body), {rejected} rejected by both, {len(bad)} disagreements")
    for path, ours, ref in bad[:10]:
        print(f"  {os.path.basename(path)}: maas {ours[0]} {ours[1]}, h11 {ref[0]} {ref[1]}")
    return 1 if bad or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
