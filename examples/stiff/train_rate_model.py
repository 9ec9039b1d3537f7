#!/usr/bin/env python3
"""Trains the rate-law surrogate of the stiff example and writes it as a maas
model file (default: examples/stiff/relaxation_rate.json).

The system (examples/stiff/rate_law.h has the same formulas): a fast
variable u relaxing with rate constant K onto the slow manifold u = sin(v),
and a slow variable v driven by u,

    du/dt = -K (u - sin v)          K = 1000 (stiff: |eigenvalue| ~ K)
    dv/dt = -u - 0.5 v

Model: inputs (u, v) in [-1.5, 1.5] x [-2, 2], outputs (du/dt, dv/dt); a
StandardScaler + MLPRegressor(32, 32, tanh) pipeline, the
target standardisation written as the file's "postprocessing", converted by
tools/convert_sklearn.py, so the C++ side feeds (u, v) and reads the rates
directly.

Deterministic: fixed data grid, fixed random_state, single-threaded BLAS.
Run with the project venv:  .venv/bin/python examples/stiff/train_rate_model.py
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from convert_sklearn import convert, dumps  # noqa: E402

K = 1000.0
U_RANGE, V_RANGE = (-1.5, 1.5), (-2.0, 2.0)
# L-BFGS stops once the loss falls by less than ~2e-9 per step; training on
# the standardised targets times this gain lets it run to a closer fit (the
# gain is undone by the file's "postprocessing"), as tools/train_drag_model.py.
TARGET_GAIN = 30.0


def rates(u, v):
    return np.stack([-K * (u - np.sin(v)), -u - 0.5 * v], axis=-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output",
                        default=os.path.join(ROOT, "examples", "stiff", "relaxation_rate.json"))
    args = parser.parse_args()

    g = np.stack(np.meshgrid(np.linspace(*U_RANGE, 41), np.linspace(*V_RANGE, 61)), -1)
    x = g.reshape(-1, 2)
    y = rates(x[:, 0], x[:, 1])
    mean, std = y.mean(axis=0), y.std(axis=0)
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(32, 32), activation="tanh", solver="lbfgs",
                     alpha=0.0, tol=0.0, max_iter=8000, max_fun=200000, random_state=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, (y - mean) / std * TARGET_GAIN)

    def predict(xs):
        return model.predict(xs) / TARGET_GAIN * std + mean

    rng = np.random.default_rng(0)
    xt = np.stack([rng.uniform(*U_RANGE, 20000), rng.uniform(*V_RANGE, 20000)], -1)
    err = np.abs(predict(xt) - rates(xt[:, 0], xt[:, 1]))
    scale = np.abs(rates(xt[:, 0], xt[:, 1])).max(axis=0)
    rel = err.max(axis=0) / scale
    doc = convert(
        model, name="relaxation_rate", version="1", input_name="state",
        output_name="rate",
        description="rates (du/dt, dv/dt) of the stiff relaxation du/dt = -1000 (u - sin v), "
                    "dv/dt = -u - 0.5 v on [-1.5, 1.5] x [-2, 2]",
        metadata={"trained_by": "examples/stiff/train_rate_model.py", "K": K,
                  "u_range": list(U_RANGE), "v_range": list(V_RANGE),
                  "max_abs_error_over_max_rate": [float(f"{r:.3g}") for r in rel]})
    doc["postprocessing"] = {"output_scale": (std / TARGET_GAIN).tolist(),
                             "output_offset": mean.tolist()}
    doc = {k: doc[k] for k in ["format", "format_version", "name", "version", "description",
                               "inputs", "outputs", "preprocessing", "postprocessing",
                               "layers", "metadata"]}
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(dumps(doc))
    print(f"train_rate_model: wrote {args.output}: max |error| / max |rate| = "
          f"{rel[0]:.2e} (du/dt), {rel[1]:.2e} (dv/dt)")


if __name__ == "__main__":
    main()
