"""Runs tests/remote/server/kserve_server.py listening on every address.

The test server binds 127.0.0.1 only. The router benchmark runs it inside a
network namespace (bench/routing/run_routing_bench.py), where the client
reaches it over a veth pair, so it must listen on the namespace's veth
address too. The namespace holds nothing else (its loopback and one veth
end), so listening on all of its addresses exposes nothing on the host.

  ip netns exec NS python kserve_any_host.py ARGS...   (kserve_server.py's ARGS)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "remote", "server"))

import kserve_server  # noqa: E402


def _any_host(self, *args, **kwargs):
    kwargs["host"] = "0.0.0.0"
    kserve_server._UvicornConfig.__init__(self, *args, **kwargs)


kserve_server._LoopbackConfig.__init__ = _any_host

if __name__ == "__main__":
    kserve_server.main()
