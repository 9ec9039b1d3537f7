"""The one writer of maas model files ("maas.mlp" v1), shared by every converter.

docs/model-format.md defines the format; include/maas/local/model_file.h is
its reader. The converters (convert_sklearn.py, convert_keras.py,
convert_torch.py, convert_onnx.py) only translate their framework's model
into a *chain* of steps and hand it to this module, which

* checks that the chain is something the format represents exactly
  (standardisation only before the first dense layer, output scaling only
  after the last, softmax only last, finite numbers, matching sizes),
* folds each activation into the dense layer before it, inserting an exact
  identity layer (W = I, b = 0) where two activations follow each other,
* writes the document deterministically (``dumps``), every float as its
  shortest round-trip ``repr``, so the C++ reader recovers the float64 values.

A chain is built with ``Chain``::

    chain = Chain("model.onnx")
    chain.standardize(mean, std, where="node 'sub0' (Sub)")
    chain.dense(w_in_by_out, bias, where="node 'gemm0' (Gemm)")
    chain.activation("relu", where="node 'relu0' (Relu)")
    doc = chain.document(name="m", input_name="x", output_name="y")

Every ``where`` names the framework's layer or node and its type; it appears
in each refusal, so a user sees which part of the model cannot be converted.

The command-line helpers (``add_common_arguments``, ``run_converter``) give
every converter the same flags, the same messages and the same exit codes:
0 written, 2 refused or unreadable (message on stderr, nothing written).
"""

import argparse
import json
import math
import os
import sys

FORMAT = "maas.mlp"
FORMAT_VERSION = 1

# Activation spellings the reader accepts (docs/model-format.md), and the
# numeric keys each may carry with their defaults.
ACTIVATIONS = {
    "identity": {},
    "relu": {},
    "sigmoid": {},
    "tanh": {},
    "softmax": {},
    "gelu": {},
    "gelu_tanh": {},
    "silu": {},
    "softplus": {},
    "leaky_relu": {"alpha": 0.01},
    "elu": {"alpha": 1.0},
}


class ConversionError(ValueError):
    """The model cannot be represented as a maas model file."""


def floats(values, what):
    """A list of finite Python floats from any iterable of numbers."""
    out = []
    for i, v in enumerate(values):
        f = float(v)
        if not math.isfinite(f):
            raise ConversionError(f"{what}[{i}] is not finite ({f!r})")
        out.append(f)
    return out


def matrix(rows, what):
    """A list of rows of finite floats from a 2-D array-like (inputs x units)."""
    out = [floats(r, f"{what}[{i}]") for i, r in enumerate(rows)]
    if not out or not out[0]:
        raise ConversionError(f"{what} is empty")
    width = len(out[0])
    for i, r in enumerate(out):
        if len(r) != width:
            raise ConversionError(f"{what} row {i} has {len(r)} values, row 0 has {width}")
    return out


class Chain:
    """A feed-forward chain of steps, checked and folded into a model file.

    `source` names the model in messages ("model.onnx", "Sequential 'drag'").
    """

    def __init__(self, source):
        self.source = source
        self._mean = None      # input standardisation, combined
        self._std = None
        self._scale = None     # output scaling, combined
        self._offset = None
        self._layers = []      # dicts: weights, bias, activation, params, where, act_where
        self._n_in = None
        self._pending = []     # affine steps after an activation, for the next dense layer

    # -- steps -----------------------------------------------------------

    def standardize(self, mean, std, where):
        """x' = (x - mean) / std, before any dense layer.

        Several calls combine: (x - m1)/s1 then (x - m2)/s2 is
        (x - (m1 + m2 s1)) / (s1 s2). A scalar broadcasts over the features
        once the first dense layer fixes their number.
        """
        if self._layers:
            raise ConversionError(
                f"{where}: a standardisation after a dense layer cannot be represented "
                "(only at the input, before the first layer)")
        mean = floats(_as_list(mean), f"{where} mean")
        std = floats(_as_list(std), f"{where} std")
        for i, s in enumerate(std):
            if s == 0.0:
                raise ConversionError(f"{where}: std[{i}] is 0 (division by zero)")
        if self._mean is None:
            self._mean, self._std = mean, std
            return
        n = max(len(self._mean), len(mean))
        if len(self._mean) not in (1, n) or len(mean) not in (1, n):
            raise ConversionError(f"{where}: has {len(mean)} values, the standardisation "
                                  f"before it {len(self._mean)}")
        m1, s1 = _widen(self._mean, n), _widen(self._std, n)
        m2, s2 = _widen(mean, n), _widen(std, n)
        self._mean = [a + b * c for a, b, c in zip(m1, m2, s1)]
        self._std = [a * b for a, b in zip(s1, s2)]

    def shift_input(self, offset, where):
        """x' = x - offset (a standardisation with std 1)."""
        n = len(_as_list(offset))
        self.standardize(offset, [1.0] * n, where)

    def divide_input(self, divisor, where):
        """x' = x / divisor (a standardisation with mean 0)."""
        n = len(_as_list(divisor))
        self.standardize([0.0] * n, divisor, where)

    def dense(self, weights, bias, where):
        """h = h W + b with `weights` inputs x units (one row per input).

        Transpose PyTorch Linear / ONNX Gemm(transB=1) weights first.
        """
        if self._scale is not None:
            raise ConversionError(f"{where}: a dense layer after the output scaling "
                                  "cannot be represented")
        w = matrix(weights, f"{where} weights")
        units = len(w[0])
        b = [0.0] * units if bias is None else floats(_as_list(bias), f"{where} bias")
        if len(b) != units:
            raise ConversionError(f"{where}: bias has {len(b)} values, weights have "
                                  f"{units} units")
        if self._layers:
            prev = self._layers[-1]
            if len(w) != len(prev["bias"]):
                raise ConversionError(
                    f"{where}: has {len(w)} inputs but {prev['where']} gives {len(prev['bias'])}")
        elif self._mean is not None and len(self._mean) not in (1, len(w)):
            raise ConversionError(
                f"{where}: has {len(w)} inputs but the input standardisation has "
                f"{len(self._mean)} values")
        for scale, shift, _ in self._pending:  # h*s + t, then h W + b
            b = [bj + sum(t * w[i][j] for i, t in enumerate(shift)) for j, bj in enumerate(b)]
            w = [[v * scale[i] for v in row] for i, row in enumerate(w)]
        self._pending = []
        self._layers.append({"weights": w, "bias": b, "activation": None,
                             "params": {}, "where": where})

    def activation(self, name, where, **params):
        """Applies activation `name` (a model-file spelling) to the current h."""
        if name not in ACTIVATIONS:
            raise ConversionError(f"{where}: activation {name!r} is not supported")
        if self._scale is not None:
            raise ConversionError(f"{where}: an activation after the output scaling "
                                  "cannot be represented")
        for k in params:
            if k not in ACTIVATIONS[name]:
                raise ConversionError(f"{where}: activation {name!r} has no parameter {k!r}")
        clean = {}
        for k, v in params.items():
            v = float(v)
            if not math.isfinite(v):
                raise ConversionError(f"{where}: {name} {k} is not finite")
            clean[k] = v
        if name == "identity":
            return
        if self._pending:
            raise ConversionError(f"{where}: follows {self._pending[0][2]}, which comes after an "
                                  "activation; an activation of an affine map cannot be folded")
        if not self._layers or self._layers[-1]["activation"] is not None:
            self._identity_layer(where)
        layer = self._layers[-1]
        layer["activation"] = name
        layer["params"] = clean
        layer["act_where"] = where

    def scale_output(self, scale, offset, where):
        """y = y * scale + offset after the last layer."""
        if not self._layers:
            raise ConversionError(f"{where}: an output scaling needs a dense layer before it")
        n = len(self._layers[-1]["bias"])
        scale = floats(_as_list(scale), f"{where} scale")
        offset = floats(_as_list(offset), f"{where} offset")
        scale = scale * n if len(scale) == 1 else scale
        offset = offset * n if len(offset) == 1 else offset
        if len(scale) != n or len(offset) != n:
            raise ConversionError(f"{where}: scaling has {len(scale)} values, the output "
                                  f"has {n}")
        if self._scale is None:
            self._scale, self._offset = scale, offset
        else:  # (y s1 + o1) s2 + o2
            self._offset = [o1 * s2 + o2 for o1, s2, o2 in zip(self._offset, scale, offset)]
            self._scale = [s1 * s2 for s1, s2 in zip(self._scale, scale)]

    def affine(self, scale, shift, where):
        """h = h * scale + shift, per feature (an inference-mode batch
        normalisation: scale = gamma / sqrt(var + eps), shift = beta - mean *
        scale). Folded where it lands:

        * before the first dense layer: into the input standardisation;
        * right after a dense layer (no activation yet): into its weights and
          bias (W' = W diag(scale), b' = b * scale + shift);
        * after an activation: into the next dense layer's rows
          (W' = diag(scale) W, b' = b + shift W), or, at the end, into the
          output scaling.

        The folded products round differently from the framework's two steps
        (a few units in the last place).
        """
        scale = floats(_as_list(scale), f"{where} scale")
        shift = floats(_as_list(shift), f"{where} shift")
        if len(scale) != len(shift):
            raise ConversionError(f"{where}: {len(scale)} scales but {len(shift)} shifts")
        if self._scale is not None:
            raise ConversionError(f"{where}: follows the output scaling; not supported")
        if not self._layers:
            for i, v in enumerate(scale):
                if v == 0.0:
                    raise ConversionError(f"{where}: scale[{i}] is 0")
            self.standardize([-t / s for s, t in zip(scale, shift)], [1.0 / s for s in scale],
                             where)
            return
        last = self._layers[-1]
        n = len(last["bias"])
        if len(scale) not in (1, n):
            raise ConversionError(f"{where}: has {len(scale)} features, {last['where']} gives {n}")
        scale, shift = _widen(scale, n), _widen(shift, n)
        if last["activation"] is None:
            last["weights"] = [[w * s for w, s in zip(row, scale)] for row in last["weights"]]
            last["bias"] = [b * s + t for b, s, t in zip(last["bias"], scale, shift)]
            return
        self._pending.append((scale, shift, where))

    def set_input_size(self, n):
        """Declares the input width (lets an activation come first)."""
        self._n_in = int(n)

    def _identity_layer(self, where):
        if self._layers:
            n = len(self._layers[-1]["bias"])
        elif self._n_in is not None:
            n = self._n_in
        elif self._mean is not None and len(self._mean) > 1:
            n = len(self._mean)
        else:
            raise ConversionError(
                f"{where}: an activation before the first dense layer needs the input "
                "size, which is not known here")
        eye = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
        self._layers.append({"weights": eye, "bias": [0.0] * n, "activation": None,
                             "params": {}, "where": f"identity layer inserted before {where}"})

    # -- output ----------------------------------------------------------

    @property
    def layers(self):
        return self._layers

    def document(self, name="model", input_name="input", output_name="output",
                 version="", description=None, metadata=None, datatype="FP64"):
        """The model file as a JSON-serialisable dict (see `dumps`)."""
        if not self._layers:
            raise ConversionError(f"{self.source}: no dense layer found; nothing to convert")
        pending, self._pending = self._pending, []
        for scale, shift, where in pending:
            self.scale_output(scale, shift, where)
        for i, layer in enumerate(self._layers[:-1]):
            if layer["activation"] == "softmax":
                raise ConversionError(
                    f"{layer['act_where']}: softmax is only supported on the last layer "
                    f"(layer {i} of {len(self._layers)})")
        n_in = len(self._layers[0]["weights"])
        n_out = len(self._layers[-1]["bias"])
        doc = {"format": FORMAT, "format_version": FORMAT_VERSION,
               "name": str(name), "version": str(version)}
        if description:
            doc["description"] = str(description)
        doc["inputs"] = [{"name": str(input_name), "datatype": datatype, "shape": [-1, n_in]}]
        doc["outputs"] = [{"name": str(output_name), "datatype": datatype, "shape": [-1, n_out]}]
        if self._mean is not None:
            mean = self._mean * n_in if len(self._mean) == 1 else self._mean
            std = self._std * n_in if len(self._std) == 1 else self._std
            if len(mean) != n_in:
                raise ConversionError(f"{self.source}: the input standardisation has "
                                      f"{len(mean)} values, the first layer {n_in} inputs")
            doc["preprocessing"] = {"input_mean": mean, "input_std": std}
        if self._scale is not None:
            doc["postprocessing"] = {"output_scale": self._scale, "output_offset": self._offset}
        layers = []
        for layer in self._layers:
            out = {"type": "dense", "units": len(layer["bias"]),
                   "activation": layer["activation"] or "identity"}
            out.update(layer["params"])
            out["weights"] = layer["weights"]
            out["bias"] = layer["bias"]
            layers.append(out)
        doc["layers"] = layers
        doc["metadata"] = dict(metadata or {})
        return doc


def _as_list(v):
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, (int, float)):
        return [v]
    out = []
    for x in v:
        out.extend(_as_list(x) if isinstance(x, (list, tuple)) or hasattr(x, "tolist") else [x])
    return out


def _widen(v, n):
    return v * n if len(v) == 1 else v


def dumps(doc):
    """Serialises a model-file dict deterministically.

    Objects are indented, arrays of scalars stay on one line (so a weight row
    is one line), floats use the shortest round-trip repr, and NaN/Infinity
    are refused (JSON has no such tokens).
    """
    def enc(v, indent):
        pad = "  " * indent
        if isinstance(v, dict):
            if not v:
                return "{}"
            items = [f'{pad}  {json.dumps(k)}: {enc(x, indent + 1)}' for k, x in v.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(v, list):
            if all(not isinstance(x, (dict, list)) for x in v):
                return "[" + ", ".join(enc(x, indent) for x in v) + "]"
            items = [pad + "  " + enc(x, indent + 1) for x in v]
            return "[\n" + ",\n".join(items) + "\n" + pad + "]"
        return json.dumps(v, allow_nan=False)

    return enc(doc, 0) + "\n"


# -- reference evaluation ---------------------------------------------------

def forward(doc, x):
    """Evaluates a model-file dict in float64 numpy, as docs/model-format.md
    defines it (the converters' self-check and the tests use it)."""
    import numpy as np

    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def gelu(z):
        from math import erf
        return 0.5 * z * (1.0 + np.vectorize(erf)(z / math.sqrt(2.0)))

    acts = {
        "identity": lambda z, p: z,
        "relu": lambda z, p: np.maximum(z, 0.0),
        "sigmoid": lambda z, p: 1.0 / (1.0 + np.exp(-z)),
        "tanh": lambda z, p: np.tanh(z),
        "softmax": lambda z, p: softmax(z),
        "gelu": lambda z, p: gelu(z),
        "gelu_tanh": lambda z, p: 0.5 * z * (1.0 + np.tanh(
            math.sqrt(2.0 / math.pi) * (z + 0.044715 * z ** 3))),
        "silu": lambda z, p: z / (1.0 + np.exp(-z)),
        "softplus": lambda z, p: np.logaddexp(0.0, z),
        "leaky_relu": lambda z, p: np.where(z >= 0, z, p.get("alpha", 0.01) * z),
        "elu": lambda z, p: np.where(z > 0, z, p.get("alpha", 1.0) * np.expm1(np.minimum(z, 0))),
    }
    h = np.asarray(x, dtype=np.float64)
    pre = doc.get("preprocessing")
    if pre:
        h = (h - np.asarray(pre["input_mean"])) / np.asarray(pre["input_std"])
    for layer in doc["layers"]:
        z = h @ np.asarray(layer["weights"], dtype=np.float64) + np.asarray(layer["bias"])
        h = acts[layer["activation"]](z, layer)
    post = doc.get("postprocessing")
    if post:
        h = h * np.asarray(post["output_scale"]) + np.asarray(post["output_offset"])
    return h


# -- command line -----------------------------------------------------------

def add_common_arguments(parser):
    """The flags every converter takes (same names as convert_sklearn.py)."""
    parser.add_argument("-o", "--output", help="model file to write (default: stdout)")
    parser.add_argument("--name", default=None, help="model name (default: from the file name)")
    parser.add_argument("--version", default="", help="model version string")
    parser.add_argument("--input-name", default=None, help="input tensor name")
    parser.add_argument("--output-name", default=None, help="output tensor name")
    parser.add_argument("--description", default=None, help="free text")


def default_name(path):
    base = os.path.basename(path)
    return base.split(".")[0] or "model"


def run_converter(prog, argv, description, convert_path, extra_arguments=None):
    """Parses the common flags, calls ``convert_path(args) -> doc`` and writes.

    Returns the exit status: 0 written; 2 for a ConversionError or an
    unreadable input (one line "PROG: error: ..." on stderr, nothing written).
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("model", help="the model file to convert")
    add_common_arguments(parser)
    if extra_arguments:
        extra_arguments(parser)
    args = parser.parse_args(argv)
    if args.name is None:
        args.name = default_name(args.model)
    try:
        doc = convert_path(args)
        text = dumps(doc)
    except ConversionError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{prog}: error: cannot read {args.model}: {e.strerror or e}", file=sys.stderr)
        return 2
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0
