"""Tests of the Keras, PyTorch and ONNX converters and the shared writer on
their own: what they refuse (naming the layer or node and its type, exit
status 2, nothing written), the writer's folding rules, and a float64 NumPy
evaluation of every converted file against the framework's answers, the
extended activations (GELU, SiLU, softplus, leaky ReLU, ELU) included.

Run by ctest (converter.frameworks) as: MAAS_PYTHON -m unittest -v frameworks_test
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "..", "tools")
DATA = os.path.join(HERE, "data")
sys.path.insert(0, TOOLS)
sys.path.insert(0, HERE)
import convert_keras  # noqa: E402
import convert_onnx  # noqa: E402
import convert_torch  # noqa: E402
from maas_model_file import Chain, ConversionError, dumps, forward  # noqa: E402


def run_cli(tool, *args):
    return subprocess.run([sys.executable, os.path.join(TOOLS, tool), *args],
                          capture_output=True, text=True)


def golden(path):
    with open(path) as f:
        g = json.load(f)
    return np.array(g["inputs"]), np.array(g["expected_fp64"]), np.array(g["expected_fp32"])


def max_rel(got, want):
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-6)))


class Writer(unittest.TestCase):
    def test_two_activations_in_a_row_get_an_exact_identity_layer(self):
        c = Chain("t")
        c.dense([[1.0, -2.0]], [0.5, 0.0], "d0")
        c.activation("tanh", "a0")
        c.activation("relu", "a1")
        doc = c.document()
        self.assertEqual([l["activation"] for l in doc["layers"]], ["tanh", "relu"])
        self.assertEqual(doc["layers"][1]["weights"], [[1.0, 0.0], [0.0, 1.0]])
        x = np.array([[0.3], [-1.0]])
        np.testing.assert_array_equal(forward(doc, x), np.maximum(np.tanh(x @ [[1.0, -2.0]] + [0.5, 0.0]), 0))

    def test_standardisations_combine(self):
        c = Chain("t")
        c.shift_input([1.0, 2.0], "sub")
        c.divide_input([4.0, 0.5], "div")
        c.standardize([0.5, -1.0], [2.0, 3.0], "norm")
        c.dense([[1.0], [1.0]], [0.0], "d")
        doc = c.document()
        x = np.array([[3.0, -7.0]])
        want = (((x - [1, 2]) / [4, 0.5]) - [0.5, -1.0]) / [2.0, 3.0]
        np.testing.assert_allclose(forward(doc, x), want.sum(1, keepdims=True), rtol=1e-15)

    def test_refusals_name_the_place(self):
        c = Chain("t")
        c.dense([[1.0, 2.0]], None, "d0")
        c.activation("softmax", "node 's' (Softmax)")
        c.dense([[1.0], [1.0]], None, "d1")
        with self.assertRaisesRegex(ConversionError, r"node 's' \(Softmax\): softmax is only"):
            c.document()
        c = Chain("t")
        c.dense([[1.0]], None, "d0")
        with self.assertRaisesRegex(ConversionError, "layer 'n' .*only at the input"):
            c.standardize([0.0], [1.0], "layer 'n' (Normalization)")
        with self.assertRaisesRegex(ConversionError, "x: activation 'mish' is not supported"):
            c.activation("mish", "x")
        with self.assertRaisesRegex(ConversionError, "d1: has 2 inputs but d0 gives 1"):
            c.dense([[1.0], [2.0]], None, "d1")

    def test_parameters_are_written(self):
        c = Chain("t")
        c.dense([[1.0]], None, "d0")
        c.activation("leaky_relu", "a", alpha=0.2)
        doc = json.loads(dumps(c.document()))
        self.assertEqual(doc["layers"][0]["activation"], "leaky_relu")
        self.assertEqual(doc["layers"][0]["alpha"], 0.2)


class Keras(unittest.TestCase):
    def test_fixtures_match_keras_in_float64(self):
        for name in ("sequential_regressor", "functional_classifier", "extended_activations"):
            base = os.path.join(DATA, "keras", f"keras_{name}")
            doc = convert_keras.convert_archive(base + ".keras", name=name)
            x, y64, y32 = golden(base + ".golden.json")
            self.assertLess(max_rel(forward(doc, x), y64), 1e-12, name)
            self.assertLess(max_rel(forward(doc, x), y32), 2e-4, name)

    def test_batch_normalization_is_folded(self):
        base = os.path.join(DATA, "keras", "keras_batchnorm")
        doc = convert_keras.convert_archive(base + ".keras")
        # Input BN -> standardisation; BN after Dense -> into it; BN after the
        # sigmoid -> into the next Dense's rows.
        self.assertIn("preprocessing", doc)
        self.assertEqual([l["activation"] for l in doc["layers"]], ["relu", "sigmoid", "identity"])
        x, _, y32 = golden(base + ".golden.json")
        # Keras' float64 BatchNormalization is not float64: compare with float32.
        self.assertLess(max_rel(forward(doc, x), y32), 2e-4)

    def test_legacy_h5_files(self):
        for name in ("sequential_regressor", "functional_classifier"):
            base = os.path.join(DATA, "keras", f"keras_{name}")
            doc = convert_keras.convert_archive(base + ".h5", name=name)
            x, y64, _ = golden(base + ".golden.json")
            self.assertLess(max_rel(forward(doc, x), y64), 1e-12, name)

    def test_keras2_config_with_list_inbound_nodes(self):
        # Keras 2 functional configs reference inputs as [layer, node, tensor, kwargs].
        config = {"class_name": "Model", "config": {
            "name": "m", "input_layers": [["in", 0, 0]], "output_layers": [["d1", 0, 0]],
            "layers": [
                {"class_name": "InputLayer", "config": {"name": "in", "dtype": "float32",
                                                         "batch_input_shape": [None, 2]},
                 "inbound_nodes": []},
                {"class_name": "Dense", "config": {"name": "d0", "activation": "elu"},
                 "inbound_nodes": [[["in", 0, 0, {}]]]},
                {"class_name": "Dense", "config": {"name": "d1", "activation": "linear",
                                                   "use_bias": False},
                 "inbound_nodes": [[["d0", 0, 0, {}]]]}]}}

        class Weights:
            def get(self, name, where, count=None):
                return {"d0": [np.ones((2, 3)), np.zeros(3)], "d1": [np.ones((3, 1))]}[name]
        doc = convert_keras.convert_config(config, Weights())
        self.assertEqual([(l["activation"], l.get("alpha")) for l in doc["layers"]],
                         [("elu", 1.0), ("identity", None)])
        self.assertEqual(doc["layers"][1]["bias"], [0.0])
        config["config"]["layers"][2]["inbound_nodes"] = [[["d0", 0, 0, {}], ["in", 0, 0, {}]]]
        with self.assertRaisesRegex(ConversionError, r"layer 'd1' \(Dense\): takes 2 inputs"):
            convert_keras.convert_config(config, Weights())

    def test_layers_become_what_keras_computes(self):
        doc = convert_keras.convert_archive(
            os.path.join(DATA, "keras", "keras_extended_activations.keras"))
        self.assertEqual([(l["activation"], l.get("alpha")) for l in doc["layers"]],
                         [("gelu", None), ("silu", None), ("softplus", None),
                          ("leaky_relu", 0.2), ("elu", 1.0), ("identity", None)])
        doc = convert_keras.convert_archive(
            os.path.join(DATA, "keras", "keras_sequential_regressor.keras"))
        self.assertIn("preprocessing", doc)
        self.assertEqual(doc["inputs"][0]["shape"], [-1, 4])

    def test_refusals(self):
        cases = {"refuse_residual": "layer 'skip' (Add): layer class Add is not supported",
                 "refuse_conv": "layer 'conv' (Conv1D): layer class Conv1D is not supported",
                 "refuse_lstm": "layer 'lstm' (LSTM): layer class LSTM is not supported"}
        for name, message in cases.items():
            with tempfile.TemporaryDirectory() as d:
                out = os.path.join(d, "m.json")
                r = run_cli("convert_keras.py", os.path.join(DATA, "keras", f"keras_{name}.keras"),
                            "-o", out)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(f"convert_keras: error: {message}", r.stderr)
                self.assertFalse(os.path.exists(out))

    def test_not_a_keras_file(self):
        with tempfile.NamedTemporaryFile(suffix=".keras") as f:
            f.write(b"not a zip")
            f.flush()
            r = run_cli("convert_keras.py", f.name)
        self.assertEqual(r.returncode, 2)
        self.assertIn("is not a .keras archive", r.stderr)


class Torch(unittest.TestCase):
    def test_fixtures_match_torch_in_float64(self):
        cases = [("torch_sequential_regressor.ts.pt", "torch_sequential_regressor", None),
                 ("torch_sequential_regressor.sd.pt", "torch_sequential_regressor",
                  ["relu", "tanh", "identity"]),
                 ("torch_classifier.ts.pt", "torch_classifier", None),
                 ("torch_extended_activations.ts.pt", "torch_extended_activations", None),
                 ("torch_batchnorm.ts.pt", "torch_batchnorm", None)]
        for fixture, name, acts in cases:
            doc = convert_torch.convert_path(os.path.join(DATA, "torch", fixture), activations=acts)
            x, y64, y32 = golden(os.path.join(DATA, "torch", name + ".golden.json"))
            self.assertLess(max_rel(forward(doc, x), y64), 1e-12, fixture)
            self.assertLess(max_rel(forward(doc, x), y32), 2e-4, fixture)

    def test_constants_come_from_the_archive(self):
        doc = convert_torch.convert_path(
            os.path.join(DATA, "torch", "torch_extended_activations.ts.pt"))
        self.assertEqual([(l["activation"], l.get("alpha")) for l in doc["layers"]],
                         [("gelu", None), ("gelu_tanh", None), ("silu", None),
                          ("softplus", None), ("leaky_relu", 0.1), ("elu", 0.5),
                          ("identity", None)])

    def test_refusals(self):
        cases = {"torch_refuse_conv.ts.pt": "module '0' (Conv1d): module type Conv1d is not "
                                            "supported",
                 "torch_refuse_residual.ts.pt": "the top-level module is Residual with its own "
                                                "forward()",
                 "torch_sequential_regressor.sd.pt": "looks like a torch.save file (state_dict)"}
        for fixture, message in cases.items():
            r = run_cli("convert_torch.py", os.path.join(DATA, "torch", fixture))
            self.assertEqual(r.returncode, 2, fixture)
            self.assertIn(message, r.stderr)
        r = run_cli("convert_torch.py", os.path.join(DATA, "torch", "torch_sequential_regressor.sd.pt"),
                    "--activations", "relu,tanh")
        self.assertIn("3 Linear layers but 2 activations given", r.stderr)

    def test_export_file_without_torch_is_a_clear_error_or_converts(self):
        path = os.path.join(DATA, "torch", "torch_classifier.pt2")
        try:
            import torch  # noqa: F401
        except ImportError:
            r = run_cli("convert_torch.py", path)
            self.assertEqual(r.returncode, 2)
            self.assertIn("needs torch installed", r.stderr)
            return
        doc = convert_torch.convert_path(path)
        x, y64, _ = golden(os.path.join(DATA, "torch", "torch_classifier.golden.json"))
        self.assertLess(max_rel(forward(doc, x), y64), 1e-12)


def onnx_model(nodes, inits, n_in, n_out, opset=17):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", n_in])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, ["b", n_out])],
        [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


class Onnx(unittest.TestCase):
    W = {"w": np.ones((3, 2)), "b": np.zeros(2)}

    def refused(self, model, message):
        with self.assertRaises(ConversionError) as ctx:
            convert_onnx.convert(model)
        self.assertIn(message, str(ctx.exception))

    def test_generated_cases_match_onnxruntime(self):
        import make_onnx_golden
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([sys.executable, os.path.join(HERE, "make_onnx_golden.py"), d],
                           check=True, capture_output=True)
            for f in sorted(os.listdir(d)):
                if not f.endswith(".golden.json"):
                    continue
                name = f[: -len(".golden.json")]
                with open(os.path.join(d, name + ".model.json")) as m:
                    doc = json.load(m)
                x, y64, y32 = golden(os.path.join(d, f))
                # onnx.reference (extended activations) keeps ~1e-7 of float32 constants.
                self.assertLess(max_rel(forward(doc, x), y64), 1e-6, name)
                self.assertLess(max_rel(forward(doc, x), y32), 2e-4, name)
        self.assertTrue(make_onnx_golden.EXTENDED)

    def test_pytorch_export_decompositions_are_recognised(self):
        # torch.onnx.export writes GELU as Div/Erf/Add/Mul/Mul (erf form) or
        # Pow/Mul/Add/Mul/Tanh/Add/Mul/Mul (tanh form) and SiLU as Sigmoid/Mul.
        doc = convert_onnx.convert(onnx.load(os.path.join(DATA, "onnx", "torch_activations.onnx")),
                                   name="act")
        self.assertEqual(doc["name"], "act")
        self.assertEqual([(l["activation"], round(l.get("alpha", 0), 6)) for l in doc["layers"]],
                         [("gelu", 0), ("gelu_tanh", 0), ("silu", 0), ("softplus", 0),
                          ("leaky_relu", 0.1), ("elu", 0.5), ("identity", 0)])

    def test_elementwise_branch_that_is_no_activation(self):
        # x * Tanh(x) is element-wise but none of the supported activations.
        nodes = [helper.make_node("Gemm", ["x", "w"], ["h"], name="g0"),
                 helper.make_node("Tanh", ["h"], ["t"], name="t0"),
                 helper.make_node("Mul", ["h", "t"], ["y"], name="m0")]
        self.refused(onnx_model(nodes, {"w": np.ones((3, 2))}, 3, 2),
                     "tensor 'h' feeds 2 nodes (node 't0' (Tanh), node 'm0' (Mul)): a branch; "
                     "the element-wise subgraph Tanh Mul computes none")

    def test_conv_is_refused_by_name(self):
        nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv0")]
        self.refused(onnx_model(nodes, self.W, 3, 2), "node 'conv0' (Conv): op type Conv is not "
                                                       "supported")

    def test_lstm_is_refused_by_name(self):
        nodes = [helper.make_node("LSTM", ["x", "w", "b"], ["y"], name="lstm0", hidden_size=2)]
        self.refused(onnx_model(nodes, self.W, 3, 2), "node 'lstm0' (LSTM)")

    def test_residual_branch_is_refused(self):
        nodes = [helper.make_node("Gemm", ["x", "w"], ["h"], name="g0"),
                 helper.make_node("Relu", ["h"], ["r"], name="r0"),
                 helper.make_node("Add", ["r", "h"], ["y"], name="add0")]
        self.refused(onnx_model(nodes, {"w": np.ones((3, 2))}, 3, 2),
                     "tensor 'h' feeds 2 nodes (node 'r0' (Relu), node 'add0' (Add))")

    def test_opset_range(self):
        nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="g0")]
        self.refused(onnx_model(nodes, self.W, 3, 2, opset=8), "opset 8 is outside the supported "
                                                               "range 9..23")

    def test_weight_that_is_not_a_constant(self):
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 3]),
             helper.make_tensor_value_info("w", TensorProto.FLOAT, [3, 2])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", 2])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        self.refused(model, "expected one input and one output, got 2 and 1")

    def test_cli(self):
        nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="g0"),
                 helper.make_node("Softmax", ["h"], ["y"], name="s0", axis=0)]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.onnx")
            onnx.save(onnx_model(nodes, self.W, 3, 2), path)
            r = run_cli("convert_onnx.py", path, "-o", os.path.join(d, "m.json"))
            self.assertEqual(r.returncode, 2)
            self.assertIn("convert_onnx: error: node 's0' (Softmax): softmax over axis 0", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "m.json")))
            nodes[1] = helper.make_node("Softmax", ["h"], ["y"], name="s0")
            onnx.save(onnx_model(nodes, self.W, 3, 2), path)
            r = run_cli("convert_onnx.py", path, "-o", os.path.join(d, "m.json"), "--version", "4")
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(d, "m.json")) as f:
                doc = json.load(f)
            self.assertEqual((doc["name"], doc["version"], doc["inputs"][0]["name"]), ("m", "4", "x"))


if __name__ == "__main__":
    unittest.main()
