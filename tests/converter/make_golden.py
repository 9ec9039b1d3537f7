#!/usr/bin/env python3
"""Trains small scikit-learn MLPs and writes, into OUTDIR, for each model:

  <name>.model.json    the model file written by tools/convert_sklearn.py
  <name>.golden.json   {"inputs": rows, "expected": rows, "classes": [...]}

"expected" is scikit-learn's own answer for those rows: `predict` for
regressors, `predict_proba` for classifiers (column 1 only for a binary
classifier, whose model file has one logistic unit giving P(classes_[1])),
and for multiclass models "predicted_class" holds `predict`'s class index.
The C++ test tests/converter/sklearn_parity_test.cc checks maas against them.

Usage: make_golden.py OUTDIR
"""

import json
import os
import sys
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tools"))
from convert_sklearn import convert, dumps  # noqa: E402

# Feature scales far from 1 so that the StandardScaler really matters.
SCALES = np.array([1.0, 10.0, 100.0, 0.1, 1000.0, 3.0])
OFFSETS = np.array([0.0, 5.0, -50.0, 0.2, 2000.0, -1.0])


def features(rng, n, d):
    return rng.standard_normal((n, d)) * SCALES[:d] + OFFSETS[:d]


def regressor_5_to_2(rng):
    x = features(rng, 400, 5)
    z = (x - OFFSETS[:5]) / SCALES[:5]
    y = np.c_[np.sin(z[:, 0]) + 0.5 * z[:, 1] * z[:, 2], np.tanh(z[:, 3] - z[:, 4]) * 3.0]
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(16, 16), activation="tanh",
                     solver="lbfgs", max_iter=400, random_state=1))
    return model.fit(x, y), x


def regressor_logistic_target_scaled(rng):
    x = rng.uniform(-2.0, 2.0, (300, 3))
    y = 100.0 + 40.0 * np.exp(-x[:, 0] ** 2) * np.cos(x[:, 1]) + 5.0 * x[:, 2]
    model = TransformedTargetRegressor(
        regressor=MLPRegressor(hidden_layer_sizes=(8,), activation="logistic",
                               solver="lbfgs", max_iter=400, random_state=2),
        transformer=StandardScaler())
    return model.fit(x, y), x


def classifier_softmax(rng):
    centers = np.array([[0, 0, 0, 0], [2, 2, 0, -1], [-2, 1, 2, 1]], dtype=float)
    labels = rng.integers(0, 3, 450)
    x = centers[labels] + rng.standard_normal((450, 4))
    names = np.array(["gas", "liquid", "solid"])
    model = MLPClassifier(hidden_layer_sizes=(12,), activation="relu",
                          solver="adam", max_iter=300, random_state=3)
    return model.fit(x, names[labels]), x


def classifier_binary(rng):
    x = features(rng, 400, 6)
    z = (x - OFFSETS) / SCALES
    y = (z[:, 0] * z[:, 1] + z[:, 2] - 0.5 * z[:, 5] > 0).astype(int)
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(10,), activation="tanh",
                      solver="lbfgs", max_iter=300, random_state=4))
    return model.fit(x, y), x


def classifier_multilabel(rng):
    x = rng.standard_normal((400, 4))
    y = np.c_[x[:, 0] > 0, x[:, 1] + x[:, 2] > 0, x[:, 3] ** 2 > 1].astype(int)
    model = MLPClassifier(hidden_layer_sizes=(8,), activation="logistic",
                          solver="lbfgs", max_iter=300, random_state=5)
    return model.fit(x, y), x


MODELS = {
    # name: (builder, io names)
    "reg_tanh_scaled": (regressor_5_to_2, ("state", "flux")),
    "reg_logistic_target_scaled": (regressor_logistic_target_scaled, ("x", "y")),
    "clf_softmax": (classifier_softmax, ("features", "probabilities")),
    "clf_binary_scaled": (classifier_binary, ("features", "p_positive")),
    "clf_multilabel": (classifier_multilabel, ("features", "p_labels")),
}


def golden(model, x_train, rng):
    # Rows from the training distribution plus some well outside it.
    lo, hi = x_train.min(axis=0), x_train.max(axis=0)
    span = hi - lo
    inside = x_train[rng.choice(len(x_train), 150, replace=False)]
    outside = lo - 0.5 * span + rng.uniform(0.0, 2.0, (50, x_train.shape[1])) * span
    x = np.vstack([inside, outside])
    out = {"inputs": x.tolist()}
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(x)
        mlp = model[-1] if hasattr(model, "steps") else model
        binary = mlp.out_activation_ == "logistic" and mlp.n_outputs_ == 1
        out["expected"] = proba[:, 1:2].tolist() if binary else proba.tolist()
        classes = list(mlp.classes_)
        if mlp.out_activation_ == "softmax":
            out["predicted_class"] = [classes.index(c) for c in model.predict(x)]
    else:
        y = model.predict(x)
        out["expected"] = y.reshape(len(x), -1).tolist()
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_golden.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    warnings.simplefilter("ignore", ConvergenceWarning)
    for i, (name, (build, (in_name, out_name))) in enumerate(MODELS.items()):
        rng = np.random.default_rng(1000 + i)
        model, x_train = build(rng)
        doc = convert(model, name=name, input_name=in_name,
                      output_name=out_name, version="1")
        with open(os.path.join(outdir, f"{name}.model.json"), "w") as f:
            f.write(dumps(doc))
        with open(os.path.join(outdir, f"{name}.golden.json"), "w") as f:
            json.dump(golden(model, x_train, rng), f)
        print(f"make_golden: wrote {name} ({len(doc['layers'])} layers)")


if __name__ == "__main__":
    main()
