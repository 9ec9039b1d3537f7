#!/usr/bin/env python3
"""Trains the drag-coefficient surrogate embedded in the projectile example and
writes it as a maas model file (default: examples/data/drag_cd.json).

Target: the Clift & Gauvin (1970) sphere drag correlation, a smooth fit from
creeping flow to the Newton regime, valid for Re < 3e5:

    Cd(Re) = 24/Re * (1 + 0.15 Re^0.687) + 0.42 / (1 + 42500 Re^-1.16)

(the same formula as CliftGauvinCd() in examples/projectile/physics.h).

Model: input log10(Re) in [-1, 5.3], output log10(Cd); a StandardScaler +
MLPRegressor(12, 12, tanh) pipeline converted by tools/convert_sklearn.py (the
scaler becomes the file's "preprocessing"); the target standardisation is
written as the file's "postprocessing", so the C++ side feeds log10(Re) and
reads log10(Cd) directly.

Deterministic: fixed data grid, fixed random_state, single-threaded BLAS. Run
with the project venv:  .venv/bin/python tools/train_drag_model.py
"""

import os

# Before numpy is imported: one BLAS thread, so the result is reproducible.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_sklearn import convert, dumps  # noqa: E402

LOG10_RE_MIN, LOG10_RE_MAX = -1.0, 5.3
# scipy's L-BFGS stops once the loss falls by less than ~2e-9 per step; on a
# unit-variance target that happens after ~200 iterations with a ~1% fit.
# Training on the standardised target times this factor lets it run ~2000.
TARGET_GAIN = 30.0


def clift_gauvin_cd(re):
    return 24.0 / re * (1.0 + 0.15 * re ** 0.687) + 0.42 / (1.0 + 42500.0 * re ** -1.16)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", default=os.path.join(root, "examples", "data", "drag_cd.json"))
    parser.add_argument("--seed", type=int, default=2,
                        help="random_state of the MLP (another seed: another version to compare "
                             "with 'maas diff')")
    parser.add_argument("--version", default="1", help="the model file's version string")
    args = parser.parse_args()

    x = np.linspace(LOG10_RE_MIN, LOG10_RE_MAX, 1500).reshape(-1, 1)
    y = np.log10(clift_gauvin_cd(10.0 ** x[:, 0]))
    mean, std = float(y.mean()), float(y.std())
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(12, 12), activation="tanh", solver="lbfgs",
                     alpha=0.0, tol=0.0, max_iter=5000, max_fun=100000, random_state=args.seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, (y - mean) / std * TARGET_GAIN)

    doc = convert(
        model, name="drag_cd", version=args.version, input_name="log10_re",
        output_name="log10_cd",
        description="log10 of the sphere drag coefficient Cd as a function of log10 of "
                    "the Reynolds number, fitted to the Clift-Gauvin correlation",
        metadata={"trained_by": "tools/train_drag_model.py",
                  "correlation": "Clift-Gauvin 1970",
                  "log10_re_range": [LOG10_RE_MIN, LOG10_RE_MAX]})
    doc["postprocessing"] = {"output_scale": [std / TARGET_GAIN], "output_offset": [mean]}
    # Keep the documented key order: postprocessing before layers.
    doc = {k: doc[k] for k in ["format", "format_version", "name", "version", "description",
                               "inputs", "outputs", "preprocessing", "postprocessing",
                               "layers", "metadata"]}

    # Check the fit on a grid 13x finer than the training data.
    xt = np.linspace(LOG10_RE_MIN, LOG10_RE_MAX, 20001).reshape(-1, 1)
    pred = model.predict(xt) / TARGET_GAIN * std + mean
    rel = np.abs(10.0 ** pred / clift_gauvin_cd(10.0 ** xt[:, 0]) - 1.0)
    doc["metadata"]["max_rel_cd_error"] = float(f"{rel.max():.3g}")
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(dumps(doc))
    print(f"train_drag_model: wrote {args.output}: Cd max rel error {rel.max():.2e} "
          f"(at log10 Re = {xt[rel.argmax(), 0]:.2f}), mean {rel.mean():.2e}, "
          f"{model[-1].n_iter_} L-BFGS iterations")


if __name__ == "__main__":
    main()
