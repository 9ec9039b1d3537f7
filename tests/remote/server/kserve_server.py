"""A KServe ModelServer (PyPI package kserve) serving maas model files.

Each --model NAME=PATH[:DELAY_MS] is served under NAME on the V1 routes
(`:predict`, row "instances" -> "predictions" and columnar "inputs" ->
"outputs") and the V2 routes (JSON and the binary tensor data extension).
DELAY_MS makes every prediction of that model wait (for timeout tests).
Binds 127.0.0.1 only.

Model versions: KServe itself refuses V2 version routes ("Model versioning
not supported yet"), so a model given as --model NAME@VERSION=PATH is
served on /v2/models/NAME/versions/VERSION[/ready|/infer]: such requests
are rewritten to the model registered as "NAME@VERSION" before KServe
routes them. Two versions of one model are then loaded side by side, as on
Triton or MLServer (the rollout tests use mlp16 versions 1 and 2).

  python kserve_server.py --http_port 8080 --enable_grpc false \
      --model drag=examples/data/drag_cd.json
"""
import argparse
import asyncio
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import uvicorn  # noqa: E402

# KServe hard-codes host 0.0.0.0; tests must listen on loopback only.
_UvicornConfig = uvicorn.Config

# "NAME@VERSION" of the models served as versions (see the module comment).
_VERSIONED = set()
_VERSION_ROUTE = re.compile(r"^/v2/models/([^/]+)/versions/([^/]+)(/.*)?$")


def _with_versions(app):
    """ASGI middleware: /v2/models/N/versions/V/... -> /v2/models/N@V/..."""
    async def versioned(scope, receive, send):
        if scope.get("type") == "http":
            m = _VERSION_ROUTE.match(scope.get("path", ""))
            if m and f"{m[1]}@{m[2]}" in _VERSIONED:
                path = f"/v2/models/{m[1]}@{m[2]}{m[3] or ''}"
                scope = dict(scope, path=path, raw_path=path.encode())
        await app(scope, receive, send)
    return versioned


class _LoopbackConfig(_UvicornConfig):
    def __init__(self, *args, **kwargs):
        kwargs["host"] = "127.0.0.1"
        super().__init__(*args, **kwargs)

    def load(self):
        # KServe names its app by import string; wrap what uvicorn loaded.
        super().load()
        if _VERSIONED:
            self.loaded_app = _with_versions(self.loaded_app)


uvicorn.Config = _LoopbackConfig

import kserve  # noqa: E402
from kserve import InferOutput, InferRequest, InferResponse  # noqa: E402
from kserve.errors import InvalidInput  # noqa: E402

from maas_mlp import MaasMlp  # noqa: E402


class MaasModel(kserve.Model):
    def __init__(self, name, path, delay_ms=0):
        super().__init__(name)
        self.path = path
        self.delay_s = delay_ms / 1000.0
        self.mlp = None
        self.load()

    def load(self):
        self.mlp = MaasMlp(self.path)
        self.ready = True
        return self.ready

    def get_input_types(self):
        return self.mlp.metadata_tensors()[0]

    def get_output_types(self):
        return self.mlp.metadata_tensors()[1]

    def _rows(self, x, what):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.mlp.n_in:
            raise InvalidInput(
                f"model {self.name}: {what} must have shape [batch, {self.mlp.n_in}], "
                f"got {list(x.shape)}")
        return x

    async def predict(self, payload, headers=None, response_headers=None):
        if self.delay_s > 0:
            await asyncio.sleep(self.delay_s)
        if isinstance(payload, InferRequest):
            if len(payload.inputs) != 1:
                raise InvalidInput(
                    f"model {self.name}: expected 1 input, got {len(payload.inputs)}")
            inp = payload.inputs[0]
            if inp.datatype != self.mlp.datatype:
                raise InvalidInput(
                    f"model {self.name}: input datatype must be {self.mlp.datatype}, "
                    f"got {inp.datatype}")
            y = self.mlp.forward(self._rows(inp.as_numpy(), f"input '{inp.name}'"))
            out = InferOutput(name=self.mlp.outputs[0]["name"], shape=list(y.shape),
                              datatype=self.mlp.datatype)
            out.set_data_from_numpy(y, binary_data=payload.use_binary_outputs)
            return InferResponse(response_id=payload.id or "", model_name=self.name,
                                 infer_outputs=[out],
                                 use_binary_outputs=payload.use_binary_outputs)
        if "instances" in payload:
            rows = payload["instances"]
            if rows and isinstance(rows[0], dict):
                rows = [r[self.mlp.inputs[0]["name"]] for r in rows]
            y = self.mlp.forward(self._rows(rows, "instances"))
            return {"predictions": y.tolist()}
        if "inputs" in payload:
            x = payload["inputs"]
            if isinstance(x, dict):
                x = x[self.mlp.inputs[0]["name"]]
            y = self.mlp.forward(self._rows(x, "inputs"))
            return {"outputs": y.tolist()}
        raise InvalidInput(f"model {self.name}: body needs \"instances\" or \"inputs\"")


def main():
    parser = argparse.ArgumentParser(parents=[kserve.model_server.parser])
    parser.add_argument("--model", action="append", required=True,
                        help="NAME[@VERSION]=PATH[:DELAY_MS]")
    args, _ = parser.parse_known_args()
    models = []
    for spec in args.model:
        name, rest = spec.split("=", 1)
        path, _, delay = rest.partition(":")
        if "@" in name:
            _VERSIONED.add(name)
        models.append(MaasModel(name, path, int(delay or 0)))
    kserve.ModelServer().start(models)


if __name__ == "__main__":
    main()
