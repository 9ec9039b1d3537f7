#!/usr/bin/env python3
"""Convert a Keras model file into a maas model file ("maas.mlp" v1).

Keras is not needed: a Keras 3 .keras file is a zip of ``config.json`` (the
architecture) and ``model.weights.h5`` (the weights), and a legacy .h5 model
file (Keras 2's ``model.save("m.h5")``) holds the same in HDF5 attributes and
groups; both are read with h5py. The
model must be a chain, a ``Sequential`` or a functional ``Model`` in which
every layer takes the previous layer's output, of:

* ``Dense`` (any supported activation, with or without bias);
* ``Activation``, ``ReLU`` (no cap, no threshold), ``LeakyReLU``, ``ELU``,
  ``Softmax`` (last axis): activations. Activation names: linear, relu,
  sigmoid, tanh, softmax, gelu (erf form, Keras' default), silu/swish,
  softplus, elu, leaky_relu;
* ``InputLayer``, ``Dropout``, ``GaussianNoise``, ``GaussianDropout``,
  ``AlphaDropout``, ``SpatialDropout1D``, ``ActivityRegularization``,
  ``Identity``, and ``Flatten`` of a [batch, features] input: no-ops at
  inference;
* ``Normalization`` (last axis) before the first Dense: the input
  standardisation, (x - mean) / max(sqrt(variance), 1e-7) as Keras computes
  it; with ``invert=True`` after the last layer: the output scaling;
* ``Rescaling`` before the first Dense: x * scale + offset as a
  standardisation;
* ``BatchNormalization`` (inference: moving mean and variance): folded into
  the neighbouring Dense, the input standardisation or the output scaling.

Anything else (Conv*, LSTM, Add/Concatenate branches, nested models, custom
layers) is refused with a message naming the layer and its class; nothing is
converted partially.

Command line (same shape as convert_sklearn.py)::

    tools/convert_keras.py model.keras -o model.json --name drag --version 1
"""

import io
import json
import os
import re
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maas_model_file import Chain, ConversionError, dumps, run_converter  # noqa: E402,F401

# Keras' backend.epsilon(), the floor of Normalization's standard deviation.
KERAS_EPSILON = 1e-7

_NO_OPS = {"InputLayer", "Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout",
           "SpatialDropout1D", "ActivityRegularization", "Identity"}

# Keras activation name -> (model-file spelling, parameters).
_ACTIVATIONS = {
    "linear": ("identity", {}),
    "relu": ("relu", {}),
    "sigmoid": ("sigmoid", {}),
    "tanh": ("tanh", {}),
    "softmax": ("softmax", {}),
    "gelu": ("gelu", {}),
    "silu": ("silu", {}),
    "swish": ("silu", {}),
    "softplus": ("softplus", {}),
    "elu": ("elu", {"alpha": 1.0}),
    "leaky_relu": ("leaky_relu", {"alpha": 0.2}),  # keras.activations.leaky_relu's default
}


def _where(layer):
    return f"layer '{layer['config'].get('name', '?')}' ({layer['class_name']})"


def _activation_name(value, where):
    if value is None:
        return "linear"
    if isinstance(value, dict):  # serialised function: {"class_name": "function", "config": "relu"}
        cfg = value.get("config")
        if isinstance(cfg, str):
            return cfg
        raise ConversionError(f"{where}: activation {json.dumps(value)[:80]} is not supported")
    return str(value)


def _snake(name):
    """Keras' naming.to_snake_case, which names the weight groups."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class _Weights:
    """model.weights.h5 of a .keras archive. Keras stores each layer's
    variables under layers/<key>/vars/<i>, where <key> is the snake-case class
    name made unique by a counter in the order of the model's layers
    ("dense", "dense_1", ...), not the layer's own name."""

    def __init__(self, h5, config_layers=()):
        self.h5 = h5
        self.keys = {}
        seen = {}
        for l in config_layers:
            base = _snake(l["class_name"])
            k = seen.get(base, 0)
            seen[base] = k + 1
            self.keys[l["config"].get("name")] = base if k == 0 else f"{base}_{k}"

    def get(self, name, where, count=None):
        key = self.keys.get(name, name)
        group = self.h5.get(f"layers/{key}/vars")
        if group is None:
            raise ConversionError(f"{where}: no weights stored under layers/{key}")
        values = [np.asarray(group[str(i)], dtype=np.float64) for i in range(len(group))]
        if count is not None and len(values) < count:
            raise ConversionError(f"{where}: expected {count} weight arrays, found {len(values)}")
        return values


def _history(args):
    """The keras_history entries ([layer, node, tensor]) referenced in args:
    Keras 3's {"class_name": "__keras_tensor__", ...} and Keras 2's
    [layer_name, node_index, tensor_index, kwargs] lists."""
    out = []
    if (isinstance(args, list) and len(args) in (3, 4) and isinstance(args[0], str)
            and isinstance(args[1], int) and isinstance(args[2], int)):
        return [args[:3]]
    if isinstance(args, dict):
        if args.get("class_name") == "__keras_tensor__":
            out.append(args["config"]["keras_history"])
        else:
            for v in args.values():
                out.extend(_history(v))
    elif isinstance(args, list):
        for v in args:
            out.extend(_history(v))
    return out


class _LegacyWeights:
    """model_weights of a legacy HDF5 model file (Keras 2, or Keras 3's .h5):
    model_weights/<layer>/ with the attribute weight_names listing the
    layer's arrays in order (kernel, bias; mean, variance, count)."""

    def __init__(self, group):
        self.group = group

    def get(self, name, where, count=None):
        g = self.group.get(name)
        if g is None:
            raise ConversionError(f"{where}: no weights stored under model_weights/{name}")
        names = [n.decode() if isinstance(n, bytes) else str(n)
                 for n in g.attrs.get("weight_names", [])]
        values = [np.asarray(g[n], dtype=np.float64) for n in names]
        if count is not None and len(values) < count:
            raise ConversionError(f"{where}: expected {count} weight arrays, found {len(values)}")
        return values


def _chain_order(config):
    """The layers of a Sequential, or of a functional model checked to be a chain."""
    cls = config["class_name"]
    cfg = config["config"]
    layers = cfg.get("layers", [])
    if cls == "Sequential":
        return layers
    if cls not in ("Functional", "Model"):
        raise ConversionError(f"model class {cls} is not supported (only Sequential and "
                              "functional Model)")
    ins = cfg.get("input_layers", [])
    outs = cfg.get("output_layers", [])
    ins = [ins] if ins and isinstance(ins[0], str) else ins
    outs = [outs] if outs and isinstance(outs[0], str) else outs
    if len(ins) != 1 or len(outs) != 1:
        raise ConversionError(f"the model has {len(ins)} inputs and {len(outs)} outputs; "
                              "only one of each is supported")
    by_name = {l["config"]["name"]: l for l in layers}
    users = {}
    for l in layers:
        nodes = l.get("inbound_nodes", [])
        if len(nodes) > 1:
            raise ConversionError(f"{_where(l)}: is called {len(nodes)} times (shared "
                                  "layers are not supported)")
        refs = _history(nodes) if nodes else []
        if l["class_name"] != "InputLayer" and len(refs) != 1:
            raise ConversionError(f"{_where(l)}: takes {len(refs)} inputs; only chains of "
                                  "single-input layers are supported (no branches such as "
                                  "residual connections)")
        for r in refs:
            users.setdefault(r[0], []).append(l)
    order = [by_name[ins[0][0]]]
    while order[-1]["config"]["name"] != outs[0][0]:
        nxt = users.get(order[-1]["config"]["name"], [])
        if len(nxt) != 1:
            what = ", ".join(_where(n) for n in nxt) or "nothing"
            raise ConversionError(f"{_where(order[-1])}: its output feeds {what}; only chains "
                                  "are supported (no branches such as residual connections)")
        order.append(nxt[0])
    unused = set(by_name) - {l["config"]["name"] for l in order}
    if unused:
        raise ConversionError(f"layers not on the input-output chain: {', '.join(sorted(unused))}")
    return order


def convert_h5(path, name="model", input_name=None, output_name=None, version="",
               description=None, metadata=None):
    """Returns the model file for a legacy HDF5 model file (Keras 2's
    model.save("m.h5"), or Keras 3's .h5) as a dict."""
    import h5py

    with h5py.File(path, "r") as h5:
        if "model_config" not in h5.attrs:
            raise ConversionError(f"{path} is an HDF5 file without a model_config: a weights-only "
                                  "file (save the whole model, or use .keras)")
        raw = h5.attrs["model_config"]
        config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        weights = h5.get("model_weights", h5)
        version_attr = h5.attrs.get("keras_version")
        if isinstance(version_attr, bytes):
            version_attr = version_attr.decode()
        return convert_config(config, _LegacyWeights(weights), name=name, input_name=input_name,
                              output_name=output_name, version=version,
                              description=description, metadata=metadata,
                              keras_version=version_attr, source=path)


def convert_archive(path, name="model", input_name=None, output_name=None, version="",
                    description=None, metadata=None):
    """Returns the model file for the .keras archive at `path` (or a legacy
    .h5 model file) as a dict."""
    import h5py

    with open(path, "rb") as f:
        if f.read(8) == b"\x89HDF\r\n\x1a\n":
            return convert_h5(path, name=name, input_name=input_name, output_name=output_name,
                              version=version, description=description, metadata=metadata)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ConversionError(f"{path} is not a .keras archive (not a zip file) nor an HDF5 "
                              "model file")
    with zf:
        names = set(zf.namelist())
        if "config.json" not in names or "model.weights.h5" not in names:
            raise ConversionError(f"{path} is not a Keras 3 .keras archive (no config.json "
                                  "and model.weights.h5)")
        config = json.loads(zf.read("config.json"))
        meta_json = json.loads(zf.read("metadata.json")) if "metadata.json" in names else {}
        with h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as h5:
            return convert_config(config, _Weights(h5, config["config"].get("layers", [])),
                                  name=name, input_name=input_name,
                                  output_name=output_name, version=version,
                                  description=description, metadata=metadata,
                                  keras_version=meta_json.get("keras_version"), source=path)


def convert_config(config, weights, name="model", input_name=None, output_name=None,
                   version="", description=None, metadata=None, keras_version=None,
                   source="<keras model>"):
    """Converts a parsed config.json with its weights (see `_Weights`)."""
    _refuse_unsupported(config)
    layers = _chain_order(config)
    chain = Chain(source)
    datatype = "FP32"
    in_name = None
    pending_inverse = None
    for layer in layers:
        cls = layer["class_name"]
        cfg = layer["config"]
        where = _where(layer)
        if pending_inverse is not None and cls not in _NO_OPS:
            raise ConversionError(f"{pending_inverse}: an inverting Normalization is only "
                                  "supported after the last layer")
        policy = cfg.get("dtype")
        if isinstance(policy, dict):
            policy = policy.get("config", {}).get("name")
        if policy == "float64":
            datatype = "FP64"
        elif policy not in (None, "float32"):
            raise ConversionError(f"{where}: dtype policy {policy!r} is not supported "
                                  "(float32 or float64)")
        if cls == "InputLayer":
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
            if shape is None or len(shape) != 2 or shape[1] is None:
                raise ConversionError(f"{where}: input shape {shape} is not [batch, features]")
            chain.set_input_size(shape[1])
            in_name = cfg.get("name")
        elif cls in _NO_OPS:
            pass
        elif cls == "Flatten":
            shape = (layer.get("build_config") or {}).get("input_shape")
            if shape is not None and len(shape) != 2:
                raise ConversionError(f"{where}: flattens a rank-{len(shape)} input; only "
                                      "[batch, features] inputs are supported")
        elif cls == "Dense":
            vals = weights.get(cfg["name"], where, 1)
            kernel = vals[0]
            bias = vals[1] if cfg.get("use_bias", True) and len(vals) > 1 else None
            if kernel.ndim != 2:
                raise ConversionError(f"{where}: kernel of rank {kernel.ndim} (Dense on a "
                                      "rank > 2 input is not supported)")
            chain.dense(kernel, bias, where)  # Keras kernels are inputs x units already
            _apply(chain, _activation_name(cfg.get("activation"), where), where)
        elif cls == "Activation":
            _apply(chain, _activation_name(cfg.get("activation"), where), where)
        elif cls == "ReLU":
            if cfg.get("max_value") is not None or cfg.get("threshold", 0.0) != 0.0:
                raise ConversionError(f"{where}: ReLU with max_value or threshold is not "
                                      "supported")
            slope = float(cfg.get("negative_slope", 0.0))
            if slope == 0.0:
                chain.activation("relu", where)
            else:
                chain.activation("leaky_relu", where, alpha=slope)
        elif cls == "LeakyReLU":
            chain.activation("leaky_relu", where,
                             alpha=cfg.get("negative_slope", cfg.get("alpha", 0.3)))
        elif cls == "ELU":
            chain.activation("elu", where, alpha=cfg.get("alpha", 1.0))
        elif cls == "Softmax":
            axis = cfg.get("axis", -1)
            if axis not in (-1, 1, [-1], [1]):
                raise ConversionError(f"{where}: softmax over axis {axis} is not supported")
            chain.activation("softmax", where)
        elif cls == "Normalization":
            axis = cfg.get("axis", -1)
            if axis not in (-1, 1, [-1], [1]):
                raise ConversionError(f"{where}: normalisation over axis {axis} is not "
                                      "supported (only the feature axis)")
            if cfg.get("mean") is not None and cfg.get("variance") is not None:
                mean = np.asarray(cfg["mean"], dtype=np.float64).reshape(-1)
                var = np.asarray(cfg["variance"], dtype=np.float64).reshape(-1)
            else:
                vals = weights.get(cfg["name"], where, 2)
                mean, var = vals[0].reshape(-1), vals[1].reshape(-1)
            std = np.maximum(np.sqrt(var), KERAS_EPSILON)
            if cfg.get("invert", False):
                chain.scale_output(std, mean, where)
                pending_inverse = where
            else:
                chain.standardize(mean, std, where)
        elif cls == "BatchNormalization":
            axis = cfg.get("axis", -1)
            if axis not in (-1, 1, [-1], [1]):
                raise ConversionError(f"{where}: batch normalisation over axis {axis} is not "
                                      "supported (only the feature axis)")
            vals = weights.get(cfg["name"], where)
            k = 0
            gamma = beta = None
            if cfg.get("scale", True):
                gamma, k = vals[k], k + 1
            if cfg.get("center", True):
                beta, k = vals[k], k + 1
            if len(vals) < k + 2:
                raise ConversionError(f"{where}: expected moving mean and variance, found "
                                      f"{len(vals) - k} arrays")
            mean, var = vals[k].reshape(-1), vals[k + 1].reshape(-1)
            gamma = np.ones_like(mean) if gamma is None else gamma.reshape(-1)
            beta = np.zeros_like(mean) if beta is None else beta.reshape(-1)
            scale = gamma / np.sqrt(var + float(cfg.get("epsilon", 1e-3)))
            chain.affine(scale, beta - mean * scale, where)
        elif cls == "Rescaling":
            scale = np.asarray(cfg.get("scale", 1.0), dtype=np.float64).reshape(-1)
            offset = np.asarray(cfg.get("offset", 0.0), dtype=np.float64).reshape(-1)
            if np.any(scale == 0):
                raise ConversionError(f"{where}: scale 0 cannot be represented")
            n = max(scale.size, offset.size)
            scale = np.broadcast_to(scale, (n,))
            offset = np.broadcast_to(offset, (n,))
            chain.standardize(-offset / scale, 1.0 / scale, where)
        elif cls in ("Sequential", "Functional", "Model"):
            raise ConversionError(f"{where}: nested models are not supported; save the "
                                  "inner model on its own or flatten it")
        else:
            raise ConversionError(f"{where}: layer class {cls} is not supported (a maas model "
                                  "file holds dense layers and activations only)")
    out_layer = layers[-1]["config"]["name"]
    meta = {"converter": "maas tools/convert_keras.py"}
    if keras_version:
        meta["keras_version"] = keras_version
    meta["keras_model"] = config["config"].get("name", "")
    if metadata:
        meta.update(metadata)
    return chain.document(name=name, input_name=input_name or in_name or "input",
                          output_name=output_name or out_layer, version=version,
                          description=description, metadata=meta, datatype=datatype)


_SUPPORTED = _NO_OPS | {"Flatten", "Dense", "Activation", "ReLU", "LeakyReLU", "ELU",
                         "Softmax", "Normalization", "Rescaling", "BatchNormalization"}


def _refuse_unsupported(config):
    """Names the first layer the format cannot hold, before any other check."""
    for layer in config["config"].get("layers", []):
        cls = layer["class_name"]
        if cls in ("Sequential", "Functional", "Model"):
            raise ConversionError(f"{_where(layer)}: nested models are not supported; save "
                                  "the inner model on its own or flatten it")
        if cls not in _SUPPORTED:
            raise ConversionError(f"{_where(layer)}: layer class {cls} is not supported (a "
                                  "maas model file holds dense layers and activations only)")


def _apply(chain, keras_name, where):
    if keras_name not in _ACTIVATIONS:
        raise ConversionError(f"{where}: activation {keras_name!r} is not supported "
                              f"(supported: {', '.join(sorted(_ACTIVATIONS))})")
    spelling, params = _ACTIVATIONS[keras_name]
    chain.activation(spelling, where, **params)


def convert(model, **kwargs):
    """Converts a live Keras model (needs Keras) by saving it to a temporary
    .keras file; the same code path as the command line."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.keras")
        model.save(path)
        return convert_archive(path, **kwargs)


def _convert_path(args):
    if not os.path.exists(args.model):
        raise OSError(2, "No such file or directory", args.model)
    return convert_archive(args.model, name=args.name, input_name=args.input_name,
                           output_name=args.output_name, version=args.version,
                           description=args.description)


def main(argv=None):
    return run_converter("convert_keras", argv,
                         "Convert a Keras 3 .keras MLP into a maas model file "
                         "(docs/model-format.md). Keras itself is not needed.",
                         _convert_path)


if __name__ == "__main__":
    sys.exit(main())
