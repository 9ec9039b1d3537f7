"""Trains a scikit-learn MLP, converts it to a maas model file, and serves
the scikit-learn model with Seldon MLServer (mlserver + mlserver-sklearn).

  python mlserver_server.py --dir STATE_DIR --http-port P --grpc-port G \
      --metrics-port M

Writes into STATE_DIR/mlserver/:
  model.joblib          Pipeline(StandardScaler, MLPRegressor), fixed seed
  sk_mlp.json           the same model converted by tools/convert_sklearn.py
  settings.json,        MLServer settings (127.0.0.1 only, no worker pool)
  sk/, sk_spare/        model-settings.json of two models serving model.joblib
then runs `mlserver start` (replacing this process).
"""
import argparse
import json
import os
import sys

import joblib
import numpy as np
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tools"))

from convert_sklearn import convert, dumps  # noqa: E402

N_IN, N_OUT = 4, 2


def train():
    rng = np.random.default_rng(7)
    x = rng.uniform(-2, 2, size=(600, N_IN)) * [1, 3, 0.5, 2] + [0, 5, -1, 0]
    y = np.stack([np.sin(x[:, 0]) + 0.1 * x[:, 1], x[:, 2] * x[:, 3]], axis=1)
    model = Pipeline([
        ("scale", StandardScaler()),
        ("mlp", MLPRegressor(hidden_layer_sizes=(16, 16), activation="tanh",
                             max_iter=300, random_state=0)),
    ])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: accuracy is irrelevant
        model.fit(x, y)
    return model


def model_settings(name, uri):
    return {
        "name": name,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": uri, "version": "1"},
        "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1, N_IN]}],
        "outputs": [{"name": "predict", "datatype": "FP64", "shape": [-1, N_OUT]}],
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--grpc-port", type=int, required=True)
    p.add_argument("--metrics-port", type=int, required=True)
    a = p.parse_args()
    root = os.path.join(a.dir, "mlserver")
    os.makedirs(root, exist_ok=True)
    model = train()
    joblib.dump(model, os.path.join(root, "model.joblib"))
    doc = convert(model, name="sk", input_name="x", output_name="predict", version="1")
    with open(os.path.join(root, "sk_mlp.json"), "w", encoding="utf-8") as f:
        f.write(dumps(doc))
    with open(os.path.join(root, "settings.json"), "w", encoding="utf-8") as f:
        json.dump({"host": "127.0.0.1", "http_port": a.http_port, "grpc_port": a.grpc_port,
                   "metrics_port": a.metrics_port, "parallel_workers": 0,
                   "debug": False}, f)
    for name in ("sk", "sk_spare"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        with open(os.path.join(root, name, "model-settings.json"), "w", encoding="utf-8") as f:
            json.dump(model_settings(name, os.path.join(root, "model.joblib")), f)
    mlserver = os.path.join(os.path.dirname(sys.executable), "mlserver")
    os.execv(mlserver, [mlserver, "start", root])


if __name__ == "__main__":
    main()
