#!/usr/bin/env python3
"""Trains the flow-regime classifier of the pipe-flow example and writes it as
a maas model file (default: examples/data/pipe_regime.json).

Classes (the exact switch in examples/pipe_flow/physics.h):
  0 laminar        Re < 2300
  1 transitional   2300 <= Re < 4000
  2 turbulent      Re >= 4000

Model: input log10(Re) over [2.5, 5.5], 400 labelled points drawn
log-uniformly; StandardScaler + MLPClassifier (16 tanh units, softmax over
the 3 classes, L2 penalty ALPHA), converted by tools/convert_sklearn.py. The
classifier is smooth, so it errs in bands around the two thresholds; the
script reports how wide.

Deterministic: fixed grid, fixed random_state, one BLAS thread. Run with the
project venv:  .venv/bin/python tools/train_regime_model.py
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_sklearn import convert, dumps  # noqa: E402

LOG10_RE_MIN, LOG10_RE_MAX = 2.5, 5.5
RE_LAMINAR, RE_TURBULENT = 2300.0, 4000.0
CLASSES = ["laminar", "transitional", "turbulent"]
# L2 penalty: keeps the decision boundaries soft, as a classifier trained on
# real, scarce data is; it then errs in bands around the thresholds.
ALPHA = 0.3


def regime(re):
    return np.where(re < RE_LAMINAR, 0, np.where(re < RE_TURBULENT, 1, 2))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output",
                        default=os.path.join(root, "examples", "data", "pipe_regime.json"))
    parser.add_argument("--seed", type=int, default=3, help="random_state of the MLP")
    parser.add_argument("--version", default="1")
    args = parser.parse_args()

    # A small labelled set (as a real one would be), log-uniform in Re.
    x = np.random.default_rng(args.seed).uniform(LOG10_RE_MIN, LOG10_RE_MAX, (400, 1))
    y = regime(10.0 ** x[:, 0])
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(16,), activation="tanh", solver="lbfgs",
                      alpha=ALPHA, max_iter=2000, random_state=args.seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)

    xt = np.linspace(LOG10_RE_MIN, LOG10_RE_MAX, 30001).reshape(-1, 1)
    wrong = model.predict(xt) != regime(10.0 ** xt[:, 0])
    widths = []
    for t in (RE_LAMINAR, RE_TURBULENT):
        band = wrong & (np.abs(xt[:, 0] - np.log10(t)) < 0.2)
        widths.append((float(10.0 ** xt[band, 0].min()), float(10.0 ** xt[band, 0].max()))
                      if band.any() else None)
    doc = convert(
        model, name="pipe_regime", version=args.version, input_name="log10_re",
        output_name="regime_probability",
        description="flow regime (laminar, transitional, turbulent) of pipe flow as a "
                    "function of log10 of the Reynolds number",
        metadata={"trained_by": "tools/train_regime_model.py", "class_names": CLASSES,
                  "thresholds_re": [RE_LAMINAR, RE_TURBULENT],
                  "log10_re_range": [LOG10_RE_MIN, LOG10_RE_MAX],
                  "test_error_rate": float(f"{wrong.mean():.3g}"), "seed": args.seed})
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(dumps(doc))
    print(f"train_regime_model: wrote {args.output}: misclassified {wrong.mean():.2%} of a "
          f"log-uniform grid; misclassified Re around 2300: {_band(widths[0])}, around "
          f"4000: {_band(widths[1])}")


def _band(b):
    return "none" if b is None else f"{b[0]:.0f}..{b[1]:.0f}"


if __name__ == "__main__":
    main()
