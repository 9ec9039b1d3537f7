"""Tests of tools/convert_sklearn.py on its own: what it refuses (with which
message and exit code), that its output is deterministic and exact, and that
a plain numpy evaluation of the written file reproduces scikit-learn.

Run by ctest (converter.python) as: MAAS_PYTHON -m unittest -v converter_test
"""

import json
import os
import pickle
import subprocess
import sys
import tempfile
import unittest
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")
sys.path.insert(0, TOOLS)
from convert_sklearn import ConversionError, convert, dumps  # noqa: E402

RNG = np.random.default_rng(7)
X = RNG.standard_normal((60, 3)) * [1.0, 20.0, 0.5] + [0.0, 100.0, -1.0]
Y = X[:, 0] + 0.01 * X[:, 1] ** 2


def setUpModule():
    # Models are trained for a few iterations only: they need not converge.
    warnings.simplefilter("ignore", ConvergenceWarning)


def mlp(**kw):
    kw.setdefault("hidden_layer_sizes", (5,))
    kw.setdefault("max_iter", 50)
    kw.setdefault("random_state", 0)
    return MLPRegressor(**kw)


ACT = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0),
       "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
       "softmax": lambda z: np.exp(z - z.max(1, keepdims=True))
       / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)}


def forward(doc, x):
    """Evaluates a model-file dict exactly as docs/model-format.md defines."""
    pre = doc.get("preprocessing")
    if pre:
        x = (x - np.array(pre["input_mean"])) / np.array(pre["input_std"])
    for layer in doc["layers"]:
        x = ACT[layer["activation"]](x @ np.array(layer["weights"]) + np.array(layer["bias"]))
    post = doc.get("postprocessing")
    if post:
        x = x * np.array(post["output_scale"]) + np.array(post["output_offset"])
    return x


class Refusals(unittest.TestCase):
    def assertRefused(self, model, *fragments):
        with self.assertRaises(ConversionError) as ctx:
            convert(model)
        for f in fragments:
            self.assertIn(f, str(ctx.exception))

    def test_poisson_exponential_output(self):
        model = mlp(loss="poisson").fit(X, np.abs(Y) + 1)
        self.assertRefused(model, "output activation 'exp' is not supported", "poisson")

    def test_unsupported_pipeline_step(self):
        model = make_pipeline(MinMaxScaler(), mlp()).fit(X, Y)
        self.assertRefused(model, "unsupported pipeline step(s) before the MLP: MinMaxScaler")

    def test_two_steps_before_the_mlp(self):
        model = make_pipeline(StandardScaler(), PCA(2), mlp()).fit(X, Y)
        self.assertRefused(model, "StandardScaler, PCA", "only a single StandardScaler")

    def test_not_an_mlp(self):
        self.assertRefused(LinearRegression().fit(X, Y), "LinearRegression is not supported")

    def test_unfitted(self):
        self.assertRefused(mlp(), "the MLPRegressor is not fitted")

    def test_target_transform_with_functions(self):
        model = TransformedTargetRegressor(regressor=mlp(), func=np.log1p,
                                           inverse_func=np.expm1).fit(X, np.abs(Y))
        self.assertRefused(model, "func/inverse_func is not supported")

    def test_target_transform_other_than_standard_scaler(self):
        model = TransformedTargetRegressor(regressor=mlp(), transformer=MinMaxScaler()).fit(X, Y)
        self.assertRefused(model, "MinMaxScaler is not supported")

    def test_cli_refuses_with_message_and_exit_code(self):
        model = mlp(loss="poisson").fit(X, np.abs(Y) + 1)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "poisson.pkl")
            with open(path, "wb") as f:
                pickle.dump(model, f)
            out = os.path.join(d, "out.json")
            r = subprocess.run([sys.executable, os.path.join(TOOLS, "convert_sklearn.py"),
                                path, "-o", out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("convert_sklearn: error: output activation 'exp'", r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_cli_missing_file(self):
        r = subprocess.run([sys.executable, os.path.join(TOOLS, "convert_sklearn.py"),
                            "/nonexistent/model.pkl"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read /nonexistent/model.pkl", r.stderr)


class Output(unittest.TestCase):
    def setUp(self):
        self.model = make_pipeline(StandardScaler(), mlp(activation="tanh")).fit(X, Y)

    def test_deterministic_and_exact(self):
        a = dumps(convert(self.model, name="m", version="3"))
        b = dumps(convert(self.model, name="m", version="3"))
        self.assertEqual(a, b)
        doc = json.loads(a)
        for layer, w, bias in zip(doc["layers"], self.model[-1].coefs_,
                                  self.model[-1].intercepts_):
            np.testing.assert_array_equal(np.array(layer["weights"]), w)  # bit-exact
            np.testing.assert_array_equal(np.array(layer["bias"]), bias)
        np.testing.assert_array_equal(doc["preprocessing"]["input_std"], self.model[0].scale_)

    def test_keys_and_names(self):
        doc = convert(self.model, name="m", input_name="a", output_name="b", version="2")
        self.assertEqual(doc["format"], "maas.mlp")
        self.assertEqual(doc["format_version"], 1)
        self.assertEqual(doc["inputs"], [{"name": "a", "datatype": "FP64", "shape": [-1, 3]}])
        self.assertEqual(doc["outputs"], [{"name": "b", "datatype": "FP64", "shape": [-1, 1]}])
        self.assertEqual([l["activation"] for l in doc["layers"]], ["tanh", "identity"])
        self.assertEqual(doc["metadata"]["task"], "regression")

    def test_numpy_evaluation_of_the_file_matches_sklearn(self):
        cases = [
            (self.model, lambda m, x: m.predict(x).reshape(-1, 1)),
            (TransformedTargetRegressor(regressor=mlp(activation="logistic"),
                                        transformer=StandardScaler()).fit(X, Y),
             lambda m, x: m.predict(x).reshape(-1, 1)),
            (MLPClassifier((4,), activation="relu", max_iter=50, random_state=0)
             .fit(X, (X[:, 0] > 0).astype(int) + (X[:, 2] > -1)),
             lambda m, x: m.predict_proba(x)),
            (MLPClassifier((4,), activation="identity", max_iter=50, random_state=0)
             .fit(X, X[:, 0] > 0), lambda m, x: m.predict_proba(x)[:, 1:]),
        ]
        for model, reference in cases:
            doc = json.loads(dumps(convert(model)))
            np.testing.assert_allclose(forward(doc, X), reference(model, X), rtol=1e-12, atol=1e-14)

    def test_cli_writes_the_same_bytes_as_the_library(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.pkl")
            with open(path, "wb") as f:
                pickle.dump(self.model, f)
            out = os.path.join(d, "m.json")
            r = subprocess.run([sys.executable, os.path.join(TOOLS, "convert_sklearn.py"),
                                path, "-o", out, "--name", "m", "--version", "3"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out) as f:
                self.assertEqual(f.read(), dumps(convert(self.model, name="m", version="3")))


if __name__ == "__main__":
    unittest.main()
