"""A real Triton Inference Server (PyPI nvidia-pytriton, CPU-only) serving a
maas model file with a NumPy forward pass (maas_mlp.py), on 127.0.0.1.

  python pytriton_server.py --http-port P --grpc-port G --metrics-port M \
      --model mlp16=tests/remote/server/data/mlp16.json
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pytriton.decorators import batch  # noqa: E402
from pytriton.model_config import ModelConfig, Tensor  # noqa: E402
from pytriton.triton import Triton, TritonConfig  # noqa: E402

from maas_mlp import MaasMlp  # noqa: E402


def make_infer(mlp):
    in_name = mlp.inputs[0]["name"]
    out_name = mlp.outputs[0]["name"]

    @batch
    def infer(**inputs):
        return {out_name: mlp.forward(inputs[in_name])}

    return infer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--grpc-port", type=int, required=True)
    p.add_argument("--metrics-port", type=int, required=True)
    p.add_argument("--model", action="append", required=True, help="NAME=PATH")
    a = p.parse_args()
    cfg = TritonConfig(http_address="127.0.0.1", http_port=a.http_port,
                       grpc_address="127.0.0.1", grpc_port=a.grpc_port,
                       metrics_port=a.metrics_port)
    with Triton(config=cfg) as triton:
        for spec in a.model:
            name, path = spec.split("=", 1)
            mlp = MaasMlp(path)
            triton.bind(
                model_name=name, infer_func=make_infer(mlp),
                inputs=[Tensor(name=mlp.inputs[0]["name"], dtype=mlp.dtype, shape=(mlp.n_in,))],
                outputs=[Tensor(name=mlp.outputs[0]["name"], dtype=mlp.dtype,
                                shape=(mlp.n_out,))],
                config=ModelConfig(max_batch_size=4096))
        triton.serve()


if __name__ == "__main__":
    main()
