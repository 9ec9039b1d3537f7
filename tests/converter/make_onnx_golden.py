#!/usr/bin/env python3
"""Builds small ONNX MLPs, converts them with tools/convert_onnx.py and
records onnxruntime's own answers, for tests/converter/framework_parity_test.cc.

For each case NAME, writes into OUTDIR:

  NAME.onnx          the FP32 model (also kept for the CLI tests)
  NAME.model.json    the converter's output (from the FP32 model)
  NAME.golden.json   {"inputs": rows, "expected_fp64": rows,
                      "expected_fp32": rows, "reference": "onnxruntime X"}

expected_fp64 is onnxruntime running the same graph in double (weights are
the FP32 model's, widened exactly), or ONNX's reference evaluator where
onnxruntime has no double kernel (LeakyRelu, Gelu, ...); expected_fp32 is
onnxruntime on the FP32 model. The graphs cover every supported node kind:
Gemm (transB 0/1, alpha/beta), MatMul+Add, Sub/Div standardisation, Mul/Add
output scaling, Flatten, Dropout, Identity and the activations. The
PyTorch-exported files in data/onnx/ (GELU and SiLU decomposed into
element-wise subgraphs) are converted too, with the same references.

Usage: make_onnx_golden.py OUTDIR [--activations all|basic]
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from convert_onnx import convert  # noqa: E402
from maas_model_file import dumps  # noqa: E402

OPSET = 17
ROWS = 64


class Builder:
    """Builds one graph twice: FP32 and FP64, from the same float32 weights."""

    def __init__(self, n_in, rng):
        self.rng = rng
        self.nodes = []
        self.inits = []  # (name, float32 array)
        self.cur = "x"
        self.n = n_in
        self.k = 0
        self.opset = OPSET

    def _name(self, what):
        self.k += 1
        return f"{what}{self.k}"

    def const(self, value):
        name = self._name("c")
        self.inits.append((name, np.asarray(value, dtype=np.float32)))
        return name

    def node(self, op, *extra_inputs, first=True, **attrs):
        out = self._name(op.lower())
        ins = [self.cur, *extra_inputs] if first else [*extra_inputs, self.cur]
        self.nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
        self.cur = out
        return out

    def weights(self, rows, cols):
        return self.rng.standard_normal((rows, cols)) / np.sqrt(rows)

    def gemm(self, units, trans_b=1, alpha=1.0, beta=1.0):
        w = self.weights(self.n, units)
        b = self.rng.standard_normal(units) * 0.3
        self.node("Gemm", self.const(w.T if trans_b else w), self.const(b),
                  transB=trans_b, alpha=alpha, beta=beta)
        self.n = units

    def matmul_add(self, units):
        self.node("MatMul", self.const(self.weights(self.n, units)))
        self.node("Add", self.const(self.rng.standard_normal(units) * 0.3))
        self.n = units

    def model(self, elem):
        dtype = np.float32 if elem == TensorProto.FLOAT else np.float64
        inits = [numpy_helper.from_array(v.astype(dtype), n) for n, v in self.inits]
        graph = helper.make_graph(
            self.nodes, "mlp",
            [helper.make_tensor_value_info("x", elem, ["batch", self.n_in])],
            [helper.make_tensor_value_info(self.cur, elem, ["batch", self.n])],
            inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="maas make_onnx_golden")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def case_gemm_standardised(rng):
    """Sub/Div standardisation, Gemm transB=1 relu, Gemm transB=0 alpha/beta
    tanh, Gemm identity: 4 -> 16 -> 8 -> 2."""
    b = Builder(4, rng)
    b.n_in = 4
    b.node("Sub", b.const([1.0, -20.0, 300.0, 0.5]))
    b.node("Div", b.const([2.0, 10.0, 50.0, 0.25]))
    b.gemm(16, trans_b=1)
    b.node("Relu")
    b.gemm(8, trans_b=0, alpha=0.5, beta=2.0)
    b.node("Tanh")
    b.gemm(2)
    scale = np.array([2.0, 10.0, 50.0, 0.25])
    x = rng.standard_normal((ROWS, 4)) * scale + [1.0, -20.0, 300.0, 0.5]
    return b, x


def case_matmul_softmax(rng):
    """Flatten, MatMul+Add sigmoid, Dropout, MatMul+Add, Softmax: 6 -> 10 -> 3."""
    b = Builder(6, rng)
    b.n_in = 6
    b.node("Flatten", axis=1)
    b.matmul_add(10)
    b.node("Sigmoid")
    b.node("Dropout")
    b.matmul_add(3)
    b.node("Softmax", axis=-1)
    return b, rng.standard_normal((ROWS, 6)) * 2.0


def case_identity_output_scaled(rng):
    """Identity, Gemm tanh, Gemm, Mul/Add output scaling: 3 -> 5 -> 1."""
    b = Builder(3, rng)
    b.n_in = 3
    b.node("Identity")
    b.gemm(5)
    b.node("Tanh")
    b.gemm(1)
    b.node("Mul", b.const([40.0]))
    b.node("Add", b.const([100.0]))
    return b, rng.uniform(-2.0, 2.0, (ROWS, 3))


def case_batchnorm(rng):
    """BatchNormalization at the input, after a Gemm and after an activation:
    3 -> 6 relu -> 4 sigmoid -> 1."""
    b = Builder(3, rng)
    b.n_in = 3

    def bn(n):
        b.node("BatchNormalization", b.const(rng.uniform(0.5, 2.0, n)),
               b.const(rng.uniform(-1.0, 1.0, n)), b.const(rng.standard_normal(n) * 2),
               b.const(rng.uniform(0.5, 4.0, n)), epsilon=1e-3)
    bn(3)
    b.gemm(6)
    bn(6)
    b.node("Relu")
    b.gemm(4)
    b.node("Sigmoid")
    bn(4)
    b.gemm(1)
    return b, rng.standard_normal((ROWS, 3)) * 2


def case_extended_activations(rng):
    """The activations added with the runtime network: Gelu (erf and tanh),
    LeakyRelu, Elu, Softplus, SiLU as x*Sigmoid(x): 5 -> 8 -> 8 -> 8 -> 8 -> 8 -> 8 -> 2."""
    b = Builder(5, rng)
    b.n_in = 5
    b.opset = 20  # Gelu
    b.gemm(8)
    b.node("Gelu", approximate="none")
    b.gemm(8)
    b.node("Gelu", approximate="tanh")
    b.gemm(8)
    b.node("LeakyRelu", alpha=0.2)
    b.gemm(8)
    b.node("Elu", alpha=0.7)
    b.gemm(8)
    b.node("Softplus")
    b.gemm(8)
    sig = b._name("sigmoid")
    mul = b._name("mul")
    b.nodes.append(helper.make_node("Sigmoid", [b.cur], [sig], name=sig))
    b.nodes.append(helper.make_node("Mul", [b.cur, sig], [mul], name=mul))
    b.cur = mul
    b.gemm(2)
    return b, rng.standard_normal((ROWS, 5)) * 1.5


def widen(model):
    """The same graph in double: initializers, Constant nodes and tensor types."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for i, t in enumerate(m.graph.initializer):
        if t.data_type == TensorProto.FLOAT:
            m.graph.initializer[i].CopyFrom(
                numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float64), t.name))
    for node in m.graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                a.t.CopyFrom(numpy_helper.from_array(
                    numpy_helper.to_array(a.t).astype(np.float64), a.t.name))
    for v in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = TensorProto.DOUBLE
    return m


# Committed ONNX files exported by PyTorch (data/onnx/make_torch_onnx.py):
# (file, input rows scale, extended activations?)
FIXTURES = [("torch_mlp.onnx", 2.0, False), ("torch_activations.onnx", 1.5, True)]


BASIC = [case_gemm_standardised, case_matmul_softmax, case_identity_output_scaled,
         case_batchnorm]
EXTENDED = [case_extended_activations]


def run_fp64(model, x):
    """onnxruntime in double where it has double kernels for every node, else
    ONNX's own reference evaluator (onnx.reference, NumPy float64)."""
    try:
        return run(model, x), f"onnxruntime {ort.__version__}"
    except Exception as e:  # NOT_IMPLEMENTED: no double kernel for some op
        if "NOT_IMPLEMENTED" not in str(e):
            raise
    from onnx.reference import ReferenceEvaluator
    return ReferenceEvaluator(model).run(None, {"x": x})[0], f"onnx.reference {onnx.__version__}"


def run(model, x):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(model.SerializeToString(), opts,
                             providers=["CPUExecutionProvider"])
    return s.run(None, {"x": x})[0]


def main():
    a = argparse.ArgumentParser()
    a.add_argument("outdir")
    a.add_argument("--activations", choices=["basic", "all"], default="all")
    args = a.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    cases = BASIC + (EXTENDED if args.activations == "all" else [])
    for i, case in enumerate(cases):
        name = "onnx_" + case.__name__[len("case_"):]
        rng = np.random.default_rng(100 + i)
        b, x = case(rng)
        m32, m64 = b.model(TensorProto.FLOAT), b.model(TensorProto.DOUBLE)
        path = os.path.join(args.outdir, name + ".onnx")
        onnx.save(m32, path)
        doc = convert(onnx.load(path), name=name, version="1", source=path)
        with open(os.path.join(args.outdir, name + ".model.json"), "w") as f:
            f.write(dumps(doc))
        y64, ref64 = run_fp64(m64, x.astype(np.float64))
        golden = {
            "inputs": x.tolist(),
            "expected_fp64": y64.tolist(),
            "expected_fp32": run(m32, x.astype(np.float32)).astype(np.float64).tolist(),
            "reference_fp64": ref64,
            "reference_fp32": f"onnxruntime {ort.__version__}",
        }
        with open(os.path.join(args.outdir, name + ".golden.json"), "w") as f:
            json.dump(golden, f)
        print(f"make_onnx_golden: {name}: {len(doc['layers'])} layers")
    for i, (fixture, scale, extended) in enumerate(FIXTURES):
        if extended and args.activations != "all":
            continue
        name = "onnx_" + fixture[: -len(".onnx")]
        path = os.path.join(HERE, "data", "onnx", fixture)
        m32 = onnx.load(path)
        n_in = m32.graph.input[0].type.tensor_type.shape.dim[1].dim_value
        x = np.random.default_rng(200 + i).standard_normal((ROWS, n_in)) * scale
        doc = convert(m32, name=name, version="1", source=path)
        with open(os.path.join(args.outdir, name + ".model.json"), "w") as f:
            f.write(dumps(doc))
        y64, ref64 = run_fp64(widen(m32), x.astype(np.float64))
        golden = {
            "inputs": x.tolist(),
            "expected_fp64": y64.tolist(),
            "expected_fp32": run(m32, x.astype(np.float32)).astype(np.float64).tolist(),
            "reference_fp64": ref64,
            "reference_fp32": f"onnxruntime {ort.__version__}",
        }
        with open(os.path.join(args.outdir, name + ".golden.json"), "w") as f:
            json.dump(golden, f)
        print(f"make_onnx_golden: {name} (exported by {m32.producer_name} "
              f"{m32.producer_version}): {len(doc['layers'])} layers")


if __name__ == "__main__":
    main()
