#!/usr/bin/env python3
"""Convert an ONNX multilayer perceptron into a maas model file ("maas.mlp" v1).

Reads the file with the ``onnx`` package only (protobuf; no runtime needed)
and follows the graph from its one input to its one output. Supported nodes
(default domain, opsets MIN_OPSET..MAX_OPSET):

* ``Gemm`` (transA = 0, either transB, any alpha/beta, constant B and C) and
  ``MatMul`` by a constant 2-D matrix, followed optionally by ``Add`` of a
  constant bias: a dense layer;
* ``Relu``, ``Sigmoid``, ``Tanh``, ``Softmax`` (last axis), ``Identity``,
  ``Gelu`` (approximate "none" or "tanh"), ``LeakyRelu``, ``Elu``,
  ``Softplus``: activations; and element-wise subgraphs that compute one of
  them, as exporters decompose GELU (``x * 0.5 * (1 + Erf(x / sqrt 2))``,
  the tanh form with ``Pow``) and SiLU (``x * Sigmoid(x)``): the region
  between the branching tensor and the one where it meets again is
  evaluated on a grid and matched against each activation (to 1e-6: the
  graph's float32 constants);
* ``BatchNormalization`` (inference): folded into the neighbouring dense
  layer, the input standardisation or the output scaling;
* ``Dropout`` (inference: identity) and ``Flatten`` of an already flat
  [batch, features] input: no-ops;
* ``Sub`` / ``Div`` / ``Add`` / ``Mul`` of constants before the first dense
  layer: the input standardisation; ``Mul`` / ``Add`` of constants after the
  last one: the output scaling.

Anything else (Conv, LSTM, a branch such as a residual connection, a weight
that is not a constant) is refused with a message naming the node and its
op type; nothing is ever converted partially.

Command line (same shape as convert_sklearn.py)::

    tools/convert_onnx.py model.onnx -o model.json --name drag --version 1

Library use::

    from convert_onnx import convert
    doc = convert(onnx.load("model.onnx"), name="drag")
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maas_model_file import Chain, ConversionError, dumps, run_converter  # noqa: E402,F401

# Opsets whose semantics of the supported operators this converter knows.
# Below 9, Gemm/Add broadcast by attribute and Dropout has is_test; Softmax
# before 13 coerces to 2-D, identical for the [batch, features] tensors
# handled here.
MIN_OPSET = 9
MAX_OPSET = 23

_ELEM_DATATYPE = {1: "FP32", 11: "FP64"}  # TensorProto.FLOAT, DOUBLE


def _where(node):
    return f"node '{node.name or node.output[0]}' ({node.op_type})"


def _attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class _Graph:
    def __init__(self, model):
        import onnx
        from onnx import numpy_helper

        self.graph = model.graph
        self.const = {t.name: numpy_helper.to_array(t).astype(np.float64)
                      for t in self.graph.initializer}
        self.consumers = {}
        for node in self.graph.node:
            if node.op_type == "Constant":
                a = _attrs(node)
                if "value" not in a:
                    raise ConversionError(f"{_where(node)}: only tensor constants are supported")
                self.const[node.output[0]] = numpy_helper.to_array(a["value"]).astype(np.float64)
                continue
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(node)
        del onnx


def _opset(model):
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return imp.version
    raise ConversionError("the model imports no default-domain (ai.onnx) opset")


def convert(model, name="model", input_name=None, output_name=None, version="",
            description=None, metadata=None, source="<onnx model>"):
    """Returns the model file for an ``onnx.ModelProto`` as a dict.

    Raises ConversionError naming the node for anything the format cannot
    represent exactly.
    """
    opset = _opset(model)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ConversionError(f"{source}: opset {opset} is outside the supported range "
                              f"{MIN_OPSET}..{MAX_OPSET}")
    for imp in model.opset_import:
        if imp.domain not in ("", "ai.onnx"):
            used = [n for n in model.graph.node if n.domain == imp.domain]
            if used:
                raise ConversionError(f"{_where(used[0])}: domain '{imp.domain}' is not "
                                      "supported (only the default ONNX domain)")
    g = _Graph(model)
    inputs = [i for i in g.graph.input if i.name not in g.const]
    if len(inputs) != 1 or len(g.graph.output) != 1:
        raise ConversionError(f"{source}: expected one input and one output, got "
                              f"{len(inputs)} and {len(g.graph.output)}")
    inp, out = inputs[0], g.graph.output[0]
    elem = inp.type.tensor_type.elem_type
    if elem not in _ELEM_DATATYPE:
        raise ConversionError(f"{source}: input '{inp.name}' has element type {elem}; only "
                              "float and double are supported")
    dims = inp.type.tensor_type.shape.dim
    if len(dims) != 2:
        raise ConversionError(f"{source}: input '{inp.name}' has rank {len(dims)}; only "
                              "[batch, features] inputs are supported")
    chain = Chain(source)
    if dims[1].HasField("dim_value"):
        chain.set_input_size(dims[1].dim_value)

    current = inp.name
    dense_open = False      # the last step was a dense layer with nothing after it
    seen_dense = False
    after_output_scaling = False
    visited = 0
    while current != out.name:
        users = g.consumers.get(current, [])
        if not users:
            raise ConversionError(f"{source}: tensor '{current}' is not used by any node and "
                                  f"is not the graph output '{out.name}'")
        if len(users) > 1:
            region = _elementwise_region(g, current, out.name)
            if region is not None:
                nodes, result = region
                act, where = _identify(g, current, nodes)
                chain.activation(act, where)
                current = result
                dense_open = False
                visited += len(nodes)
                continue
        if len(users) != 1:
            names = ", ".join(_where(u) for u in users)
            raise ConversionError(f"tensor '{current}' feeds {len(users)} nodes ({names}): "
                                  "branches (e.g. residual connections) are not supported")
        node = users[0]
        visited += 1
        where = _where(node)
        if node.domain not in ("", "ai.onnx"):
            raise ConversionError(f"{where}: domain '{node.domain}' is not supported")
        others = [n for n in node.input if n and n != current]
        if list(node.input).count(current) != 1:
            raise ConversionError(f"{where}: uses tensor '{current}' twice; not supported")
        for o in others:
            if o not in g.const:
                raise ConversionError(f"{where}: input '{o}' is not a constant (only weights "
                                      "stored in the model are supported)")
        a = _attrs(node)
        op = node.op_type
        if after_output_scaling and op not in ("Add", "Mul", "Identity", "Dropout"):
            raise ConversionError(f"{where}: follows the output scaling; not supported")
        if op == "Gemm":
            if list(node.input).index(current) != 0 or a.get("transA", 0):
                raise ConversionError(f"{where}: only Gemm(x, W[, b]) with transA = 0 is "
                                      "supported")
            w = g.const[node.input[1]]
            if w.ndim != 2:
                raise ConversionError(f"{where}: B must be 2-D, got shape {list(w.shape)}")
            w = (w.T if a.get("transB", 0) else w) * a.get("alpha", 1.0)
            bias = np.zeros(w.shape[1])
            if len(node.input) > 2 and node.input[2]:
                c = g.const[node.input[2]] * a.get("beta", 1.0)
                bias = _bias(c, w.shape[1], where)
            chain.dense(w, bias, where)
            dense_open = seen_dense = True
        elif op == "MatMul":
            if list(node.input).index(current) != 0:
                raise ConversionError(f"{where}: only MatMul(x, W) is supported")
            w = g.const[node.input[1]]
            if w.ndim != 2:
                raise ConversionError(f"{where}: W must be 2-D, got shape {list(w.shape)}")
            chain.dense(w, None, where)
            dense_open = seen_dense = True
        elif op in ("Add", "Sub", "Mul", "Div"):
            c = g.const[others[0]] if others else None
            if c is None:
                raise ConversionError(f"{where}: needs a constant operand")
            first = list(node.input).index(current) == 0
            if op in ("Sub", "Div") and not first:
                raise ConversionError(f"{where}: only x {'-' if op == 'Sub' else '/'} constant "
                                      "is supported")
            if c.ndim > 1 and c.shape[0] != 1 or c.ndim > 2:
                raise ConversionError(f"{where}: constant of shape {list(c.shape)} does not "
                                      "broadcast along the batch")
            c = c.reshape(-1)
            if not seen_dense:
                if op == "Sub":
                    chain.shift_input(c, where)
                elif op == "Add":
                    chain.shift_input(-c, where)
                elif op == "Div":
                    chain.divide_input(c, where)
                else:
                    chain.divide_input(1.0 / c, where)
            elif op == "Add" and dense_open:
                layer = chain.layers[-1]
                layer["bias"] = [b + v for b, v in zip(layer["bias"], _bias(c, len(layer["bias"]), where))]
            elif op in ("Add", "Mul") and _only_scaling_follows(g, node, out.name):
                n = len(chain.layers[-1]["bias"])
                if op == "Add":
                    chain.scale_output([1.0] * n, _bias(c, n, where), where)
                else:
                    chain.scale_output(_bias(c, n, where), [0.0] * n, where)
                after_output_scaling = True
            else:
                raise ConversionError(f"{where}: {op} of a constant between layers cannot be "
                                      "represented (only at the input, as a bias after "
                                      "MatMul/Gemm, or as output scaling at the end)")
            if op != "Add" or not dense_open:
                dense_open = False
        elif op in ("Relu", "Sigmoid", "Tanh", "Softplus"):
            chain.activation(op.lower(), where)
            dense_open = False
        elif op == "Softmax":
            axis = a.get("axis", -1 if opset >= 13 else 1)
            if axis not in (-1, 1):
                raise ConversionError(f"{where}: softmax over axis {axis} is not supported "
                                      "(only the feature axis)")
            chain.activation("softmax", where)
            dense_open = False
        elif op == "Gelu":
            approx = a.get("approximate", b"none")
            approx = approx.decode() if isinstance(approx, bytes) else approx
            chain.activation("gelu_tanh" if approx == "tanh" else "gelu", where)
            dense_open = False
        elif op == "LeakyRelu":
            chain.activation("leaky_relu", where, alpha=a.get("alpha", 0.01))
            dense_open = False
        elif op == "Elu":
            chain.activation("elu", where, alpha=a.get("alpha", 1.0))
            dense_open = False
        elif op == "BatchNormalization":
            if a.get("training_mode", 0):
                raise ConversionError(f"{where}: training_mode=1 is not supported")
            if list(node.input).index(current) != 0 or len(node.input) < 5:
                raise ConversionError(f"{where}: expected BatchNormalization(x, scale, B, "
                                      "mean, var)")
            gamma, beta, mean, var = (g.const[n].reshape(-1) for n in node.input[1:5])
            scale = gamma / np.sqrt(var + a.get("epsilon", 1e-5))
            chain.affine(scale, beta - mean * scale, where)
        elif op in ("Identity", "Dropout"):
            if op == "Dropout" and len(node.output) > 1 and node.output[1]:
                if g.consumers.get(node.output[1]):
                    raise ConversionError(f"{where}: the dropout mask is used; not supported")
        elif op == "Flatten":
            if a.get("axis", 1) != 1:
                raise ConversionError(f"{where}: only Flatten(axis=1) of a [batch, features] "
                                      "input is supported")
        else:
            raise ConversionError(f"{where}: op type {op} is not supported (a maas model file "
                                  "holds dense layers and activations only)")
        current = node.output[0]
        if visited > len(g.graph.node):
            raise ConversionError(f"{source}: the graph has a cycle")

    meta = {"converter": "maas tools/convert_onnx.py", "onnx_opset": opset}
    if model.producer_name:
        meta["producer"] = f"{model.producer_name} {model.producer_version}".strip()
    if metadata:
        meta.update(metadata)
    return chain.document(name=name, input_name=input_name or inp.name,
                          output_name=output_name or out.name, version=version,
                          description=description, metadata=meta,
                          datatype=_ELEM_DATATYPE[elem])


def _bias(c, n, where):
    c = np.asarray(c, dtype=np.float64).reshape(-1)
    if c.size == 1:
        return [float(c[0])] * n
    if c.size != n:
        raise ConversionError(f"{where}: constant has {c.size} values, the layer {n} units")
    return [float(v) for v in c]


def _only_scaling_follows(g, node, output):
    """True when only Add/Mul of constants (or no-ops) lie between node and output."""
    t = node.output[0]
    while t != output:
        users = g.consumers.get(t, [])
        if len(users) != 1 or users[0].op_type not in ("Add", "Mul", "Identity", "Dropout"):
            return False
        t = users[0].output[0]
    return True


# Element-wise operators an exporter may decompose an activation into, as
# NumPy functions of (inputs..., attributes).
_ELEMENTWISE = {
    "Add": lambda a, b, at: a + b,
    "Sub": lambda a, b, at: a - b,
    "Mul": lambda a, b, at: a * b,
    "Div": lambda a, b, at: a / b,
    "Pow": lambda a, b, at: np.power(a, b),
    "Erf": lambda a, at: _erf(a),
    "Tanh": lambda a, at: np.tanh(a),
    "Sigmoid": lambda a, at: 1.0 / (1.0 + np.exp(-a)),
    "Exp": lambda a, at: np.exp(a),
    "Log": lambda a, at: np.log(a),
    "Softplus": lambda a, at: np.logaddexp(0.0, a),
    "Relu": lambda a, at: np.maximum(a, 0.0),
    "Neg": lambda a, at: -a,
    "Sqrt": lambda a, at: np.sqrt(a),
    "Identity": lambda a, at: a,
}

# Activations an element-wise region may compute, as NumPy functions.
_CANDIDATES = {
    "gelu": lambda z: 0.5 * z * (1.0 + _erf(z / np.sqrt(2.0))),
    "gelu_tanh": lambda z: 0.5 * z * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (z + 0.044715 * z ** 3))),
    "silu": lambda z: z / (1.0 + np.exp(-z)),
    "softplus": lambda z: np.logaddexp(0.0, z),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


def _erf(x):
    import math
    return np.vectorize(math.erf)(x)


def _elementwise_region(g, start, output, limit=16):
    """The nodes between `start` (used by several nodes) and the one tensor
    where their paths meet again, if they are all element-wise operators with
    scalar constants; else None. Returns (nodes in order, result tensor)."""
    produced = {start}
    region = []
    in_region = set()
    while len(region) < limit:
        added = False
        for node in g.graph.node:
            if id(node) in in_region or node.op_type not in _ELEMENTWISE:
                continue
            ins = [n for n in node.input if n]
            live = [n for n in ins if n in produced]
            if not live or any(n not in produced and (n not in g.const or g.const[n].size != 1)
                               for n in ins):
                continue
            region.append(node)
            in_region.add(id(node))
            produced.add(node.output[0])
            added = True
        if not added:
            return None
        open_ = [t for t in produced if t != start and (
            t == output or any(id(u) not in in_region for u in g.consumers.get(t, [])))]
        closed = all(id(u) in in_region for t in produced if t not in open_
                     for u in g.consumers.get(t, []))
        if len(open_) == 1 and closed and all(id(u) in in_region
                                              for u in g.consumers.get(start, [])):
            return region, open_[0]
    return None


def _identify(g, start, nodes):
    """Which activation the element-wise region computes, by evaluating it."""
    import onnx
    z = np.concatenate([np.linspace(-8.0, 8.0, 321), [-30.0, -1e-3, 1e-3, 30.0]])
    values = {start: z}
    for node in nodes:
        args = [values[n] if n in values else g.const[n].reshape(()) for n in node.input if n]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        values[node.output[0]] = _ELEMENTWISE[node.op_type](*args, attrs)
    result = values[nodes[-1].output[0]] if nodes else z
    for n in nodes:  # the region's result is the one output no region node consumes
        if not any(n.output[0] in m.input for m in nodes):
            result = values[n.output[0]]
    ops = " ".join(f"{n.op_type}" for n in nodes)
    where = f"nodes {nodes[0].name or nodes[0].output[0]}..{nodes[-1].name or nodes[-1].output[0]} ({ops})"
    with np.errstate(all="ignore"):
        for name, f in _CANDIDATES.items():
            want = f(z)
            # float32 constants in the graph (sqrt(2) as 1.4142135, ...) leave ~1e-7.
            if np.all(np.abs(result - want) <= 1e-6 * np.maximum(np.abs(want), 1e-3)):
                return name, where
    users = g.consumers.get(start, [])
    names = ", ".join(_where(u) for u in users)
    raise ConversionError(f"tensor '{start}' feeds {len(users)} nodes ({names}): a branch; "
                          f"the element-wise subgraph {ops} computes none of the supported "
                          "activations (gelu, gelu_tanh, silu, softplus, sigmoid, tanh, relu), "
                          "and other branches such as residual connections are not supported")


def _convert_path(args):
    import onnx
    try:
        model = onnx.load(args.model)
    except OSError:
        raise
    except Exception as e:  # protobuf's DecodeError and friends
        raise ConversionError(f"{args.model} is not an ONNX model ({e})")
    return convert(model, name=args.name, input_name=args.input_name,
                   output_name=args.output_name, version=args.version,
                   description=args.description, source=args.model)


def main(argv=None):
    return run_converter("convert_onnx", argv,
                         "Convert an ONNX MLP into a maas model file (docs/model-format.md).",
                         _convert_path)


if __name__ == "__main__":
    sys.exit(main())
