"""Writes the maas model files the remote server tests serve (data/*.json).

Random weights from a fixed seed, so the files are reproducible:

  .venv/bin/python tests/remote/server/make_test_models.py

mlp16: FP32, 16 -> 32 relu -> 32 tanh -> 8 sigmoid, with input
standardisation and output scaling (the client benchmark model, and the
local-vs-remote agreement tests).
"""
import json
import os

import numpy as np


def dense(rng, n_in, n_out, activation):
    return {
        "type": "dense",
        "units": n_out,
        "activation": activation,
        "weights": (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).round(6).tolist(),
        "bias": (0.1 * rng.standard_normal(n_out)).round(6).tolist(),
    }


def main():
    rng = np.random.default_rng(20261124)
    model = {
        "format": "maas.mlp",
        "format_version": 1,
        "name": "mlp16",
        "version": "1",
        "description": "random 16-32-32-8 MLP for the remote server tests and client benchmark",
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 16]}],
        "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 8]}],
        "preprocessing": {
            "input_mean": rng.uniform(-1, 1, 16).round(4).tolist(),
            "input_std": rng.uniform(0.5, 2, 16).round(4).tolist(),
        },
        "postprocessing": {
            "output_scale": rng.uniform(1, 3, 8).round(4).tolist(),
            "output_offset": rng.uniform(-1, 1, 8).round(4).tolist(),
        },
        "layers": [dense(rng, 16, 32, "relu"), dense(rng, 32, 32, "tanh"),
                   dense(rng, 32, 8, "sigmoid")],
        "metadata": {"generated_by": "tests/remote/server/make_test_models.py"},
    }
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "mlp16.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(model, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
