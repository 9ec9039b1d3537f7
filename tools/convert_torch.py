#!/usr/bin/env python3
"""Convert a PyTorch MLP into a maas model file ("maas.mlp" v1).

Inputs:

* a TorchScript file (``torch.jit.save(torch.jit.script(model))``) of an
  ``nn.Sequential``: read WITHOUT torch. The archive is a zip of pickled
  module state and raw tensor storages; a restricted unpickler accepts only
  the module classes and tensor rebuilders, so no code in the file runs.
  Layer constants (Softmax dim, LeakyReLU slope, GELU form ...) come from
  the archive's generated code.
* a ``torch.export`` file (``.pt2``): needs torch; the exported graph is
  walked node by node (aten.linear / addmm / relu / ...).
* a ``state_dict`` file (``torch.save(model.state_dict())``) of an
  ``nn.Sequential``: read without torch; the activations are not in the
  file and are given with ``--activations relu,tanh,identity`` (one per
  Linear).
* from Python, a live module: ``convert_module(model)`` (needs torch).

Supported modules: ``Linear``; ``BatchNorm1d`` with running statistics
(inference mode: folded into the neighbouring Linear, the input
standardisation or the output scaling); ``ReLU``, ``Tanh``, ``Sigmoid``,
``Softmax`` (last dim), ``GELU`` ("none" -> gelu, "tanh" -> gelu_tanh),
``SiLU``, ``Softplus`` (beta 1), ``LeakyReLU``, ``ELU``; ``Identity``,
``Dropout``/``AlphaDropout`` and ``Flatten`` (no-ops at inference); nested
``Sequential``. Anything else (Conv1d, LSTM, LayerNorm, a custom module with
its own forward such as a residual block) is refused with a message naming
the module and its type; nothing is converted partially.

Command line (same shape as convert_sklearn.py)::

    tools/convert_torch.py model.pt -o model.json --name drag --version 1
    tools/convert_torch.py weights.pt --activations tanh,tanh,identity -o m.json
"""

import ast
import os
import pickle
import re
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maas_model_file import Chain, ConversionError, dumps, run_converter  # noqa: E402,F401

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "BoolStorage": np.bool_,
}


# -- framework-free archive reading ------------------------------------------

class _Module:
    """A TorchScript module as unpickled: its class path and attributes.
    Pickle creates it with __new__ (NEWOBJ) and fills it with __setstate__."""

    _full = ""   # e.g. torch.nn.modules.linear.Linear (mangling removed)
    _raw = ""    # e.g. __torch__.torch.nn.modules.linear.___torch_mangle_0.Linear

    def __setstate__(self, state):
        self.state = dict(state)
        self.constants = {}

    @property
    def path(self):
        return self._full

    @property
    def type(self):
        return self._full.rsplit(".", 1)[-1]

    @property
    def raw(self):
        return self._raw


_MODULE_CLASSES = {}


class _Unpickler(pickle.Unpickler):
    """Accepts module classes, tensors and OrderedDict only."""

    def __init__(self, f, zf, prefix):
        super().__init__(f)
        self.zf = zf
        self.prefix = prefix

    def find_class(self, module, name):
        if module.startswith("__torch__"):
            key = (module, name)
            if key not in _MODULE_CLASSES:
                path = re.sub(r"\.___torch_mangle_\d+", "", module[len("__torch__."):])
                _MODULE_CLASSES[key] = type(name, (_Module,), {
                    "_full": f"{path}.{name}" if path else name, "_raw": f"{module}.{name}"})
            return _MODULE_CLASSES[key]
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return lambda data, requires_grad, hooks: data
        if (module, name) == ("collections", "OrderedDict"):
            import collections
            return collections.OrderedDict
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if module == "torch.jit._pickle" and name.startswith("build_"):
            return lambda v: list(v) if isinstance(v, (list, tuple)) else v
        if (module, name) == ("torch", "device"):
            return str
        raise ConversionError(f"the file refers to {module}.{name}, which this reader does "
                              "not accept (only modules and tensors)")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or pid[0] != "storage":
            raise ConversionError(f"unexpected persistent id {pid!r}")
        _, dtype, key, _location, numel = pid
        data = self.zf.read(f"{self.prefix}data/{key}")
        return np.frombuffer(data, dtype=dtype, count=numel)


def _rebuild_tensor(storage, offset, size, stride, *_):
    size, stride = tuple(size), tuple(stride)
    if not size:
        return np.array(storage[offset], dtype=np.float64)
    item = storage.itemsize
    return np.lib.stride_tricks.as_strided(storage[offset:], shape=size,
                                           strides=tuple(s * item for s in stride)).copy()


def _archive_prefix(zf, what):
    for n in zf.namelist():
        if n.endswith("/" + what) and n.count("/") == 1:
            return n[: -len(what)]
    raise ConversionError(f"no {what} in the archive")


def _load_pickle(zf, prefix, what):
    import io
    return _Unpickler(io.BytesIO(zf.read(prefix + what)), zf, prefix).load()


_FINAL = re.compile(r"^\s+(\w+)\s*:\s*Final\[.*\]\s*=\s*(.+)$")


def _read_constants(zf, prefix, module):
    """Final attributes of a module class, from the archive's generated code."""
    raw = module.raw  # __torch__.torch.nn.modules.activation.___torch_mangle_7.GELU
    parts = raw.split(".")
    path = prefix + "code/" + "/".join(parts[:-1]) + ".py"
    try:
        text = zf.read(path).decode("utf-8")
    except KeyError:
        return {}
    consts, inside = {}, False
    for line in text.splitlines():
        if line.startswith("class "):
            inside = line.startswith(f"class {parts[-1]}(")
            continue
        m = _FINAL.match(line) if inside else None
        if m:
            try:
                consts[m.group(1)] = ast.literal_eval(m.group(2).strip())
            except (ValueError, SyntaxError):
                consts[m.group(1)] = m.group(2).strip()
    return consts


def _walk_modules(zf, prefix, module):
    """Yields (name, module) of a Sequential's children, nested ones flattened."""
    for key, value in module.state.items():
        if isinstance(value, _Module):
            value.constants = _read_constants(zf, prefix, value)
            if value.type == "Sequential":
                for n, m in _walk_modules(zf, prefix, value):
                    yield f"{key}.{n}", m
            else:
                yield key, value


# -- translation -----------------------------------------------------------------

def _add_module(chain, name, typ, get, where=None):
    """Adds one module to the chain. `get(attr, default)` reads its attributes."""
    where = where or f"module '{name}' ({typ})"
    if typ == "Linear":
        w = get("weight", None)
        if w is None:
            raise ConversionError(f"{where}: has no weight")
        w = np.asarray(w, dtype=np.float64)
        b = get("bias", None)
        chain.dense(w.T, None if b is None else np.asarray(b, dtype=np.float64), where)
    elif typ in ("ReLU", "Tanh", "Sigmoid", "SiLU"):
        chain.activation({"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid",
                          "SiLU": "silu"}[typ], where)
    elif typ == "Softmax":
        dim = get("dim", None)
        if dim not in (1, -1):
            raise ConversionError(f"{where}: softmax over dim {dim} is not supported (only the "
                                  "feature dim, 1 or -1)")
        chain.activation("softmax", where)
    elif typ == "GELU":
        approx = get("approximate", "none")
        if approx not in ("none", "tanh"):
            raise ConversionError(f"{where}: GELU approximate={approx!r} is not supported")
        chain.activation("gelu_tanh" if approx == "tanh" else "gelu", where)
    elif typ == "Softplus":
        if float(get("beta", 1.0)) != 1.0:
            raise ConversionError(f"{where}: Softplus with beta != 1 is not supported")
        chain.activation("softplus", where)
    elif typ == "LeakyReLU":
        chain.activation("leaky_relu", where, alpha=get("negative_slope", 0.01))
    elif typ == "ELU":
        chain.activation("elu", where, alpha=get("alpha", 1.0))
    elif typ == "BatchNorm1d":
        mean, var = get("running_mean", None), get("running_var", None)
        if mean is None or var is None:
            raise ConversionError(f"{where}: BatchNorm1d without running statistics "
                                  "(track_running_stats=False) is not supported")
        mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        var = np.asarray(var, dtype=np.float64).reshape(-1)
        gamma, beta = get("weight", None), get("bias", None)
        gamma = np.ones_like(mean) if gamma is None else np.asarray(gamma, np.float64).reshape(-1)
        beta = np.zeros_like(mean) if beta is None else np.asarray(beta, np.float64).reshape(-1)
        scale = gamma / np.sqrt(var + float(get("eps", 1e-5)))
        chain.affine(scale, beta - mean * scale, where)
    elif typ in ("Identity", "Dropout", "AlphaDropout", "Dropout1d"):
        pass
    elif typ == "Flatten":
        if get("start_dim", 1) != 1 or get("end_dim", -1) != -1:
            raise ConversionError(f"{where}: only Flatten(1, -1) of a [batch, features] input "
                                  "is supported")
    else:
        raise ConversionError(f"{where}: module type {typ} is not supported (a maas model file "
                              "holds Linear layers and activations only)")


def _document(chain, args_or_kwargs, meta, datatype="FP32"):
    kw = dict(args_or_kwargs)
    metadata = dict(meta)
    metadata.update(kw.pop("metadata", None) or {})
    return chain.document(name=kw.get("name", "model"),
                          input_name=kw.get("input_name") or "input",
                          output_name=kw.get("output_name") or "output",
                          version=kw.get("version", ""), description=kw.get("description"),
                          metadata=metadata, datatype=datatype)


def convert_torchscript(path, **kwargs):
    """A TorchScript archive of an nn.Sequential, without torch."""
    with zipfile.ZipFile(path) as zf:
        prefix = _archive_prefix(zf, "data.pkl")
        if prefix + "constants.pkl" not in zf.namelist():
            raise ConversionError(f"{path} is a torch.save file, not TorchScript; for a "
                                  "state_dict pass --activations")
        root = _load_pickle(zf, prefix, "data.pkl")
        if not isinstance(root, _Module):
            raise ConversionError(f"{path}: the archive does not hold a module")
        if root.type != "Sequential" or not root.path.startswith("torch.nn."):
            raise ConversionError(
                f"{path}: the top-level module is {root.path} with its own forward(); only "
                "nn.Sequential chains are supported (a custom forward may hold branches such "
                "as residual connections)")
        chain = Chain(path)
        datatype = "FP32"
        for name, m in _walk_modules(zf, prefix, root):
            if not m.path.startswith("torch.nn."):
                raise ConversionError(f"module '{name}' ({m.path}): custom modules are not "
                                      "supported (only torch.nn layers)")

            def get(attr, default, m=m):
                if attr in m.state:
                    return m.state[attr]
                return m.constants.get(attr, default)
            w = m.state.get("weight")
            if isinstance(w, np.ndarray) and w.dtype == np.float64:
                datatype = "FP64"
            _add_module(chain, name, m.type, get)
    return _document(chain, kwargs, {"converter": "maas tools/convert_torch.py",
                                     "source_format": "torchscript"}, datatype)


def convert_state_dict(path, activations, **kwargs):
    """A torch.save'd state_dict of an nn.Sequential of Linear layers; the
    activation after each Linear is given (model-file spellings)."""
    with zipfile.ZipFile(path) as zf:
        prefix = _archive_prefix(zf, "data.pkl")
        sd = _load_pickle(zf, prefix, "data.pkl")
    if not isinstance(sd, dict):
        raise ConversionError(f"{path}: not a state_dict (the pickle holds "
                              f"{type(sd).__name__})")
    groups = {}
    for key, value in sd.items():
        head, _, attr = key.rpartition(".")
        if attr not in ("weight", "bias"):
            raise ConversionError(f"{path}: entry '{key}' is not a Linear weight or bias "
                                  "(a state_dict with BatchNorm, embeddings ... needs the "
                                  "TorchScript file)")
        groups.setdefault(head, {})[attr] = value
    order = sorted(groups, key=lambda k: [int(p) if p.isdigit() else p for p in k.split(".")])
    if len(activations) != len(order):
        raise ConversionError(f"{path}: {len(order)} Linear layers but {len(activations)} "
                              "activations given")
    chain = Chain(path)
    for key, act in zip(order, activations):
        g = groups[key]
        if "weight" not in g or np.asarray(g["weight"]).ndim != 2:
            raise ConversionError(f"{path}: '{key}' is not a Linear layer (weight of shape "
                                  f"{list(np.shape(g.get('weight')))})")
        chain.dense(np.asarray(g["weight"], dtype=np.float64).T,
                    None if "bias" not in g else np.asarray(g["bias"], dtype=np.float64),
                    f"module '{key}' (Linear)")
        name, _, alpha = act.partition(":")
        params = {"alpha": float(alpha)} if alpha else {}
        chain.activation(name, f"module '{key}' activation", **params)
    return _document(chain, kwargs, {"converter": "maas tools/convert_torch.py",
                                     "source_format": "state_dict"})


def convert_module(module, **kwargs):
    """A live nn.Sequential (needs torch)."""
    from torch import nn

    if not isinstance(module, nn.Sequential):
        raise ConversionError(f"the model is {type(module).__name__} with its own forward(); "
                              "only nn.Sequential chains are supported")
    chain = Chain(type(module).__name__)

    def walk(seq, prefix):
        for name, m in seq.named_children():
            full = f"{prefix}{name}"
            if isinstance(m, nn.Sequential):
                walk(m, full + ".")
                continue
            if type(m).__module__.split(".")[:2] != ["torch", "nn"]:
                raise ConversionError(f"module '{full}' ({type(m).__name__}): custom modules "
                                      "are not supported (only torch.nn layers)")

            def get(attr, default, m=m):
                v = getattr(m, attr, default)
                if hasattr(v, "detach"):
                    v = v.detach().cpu().double().numpy()
                return v
            _add_module(chain, full, type(m).__name__, get)
    walk(module, "")
    p = next(module.parameters(), None)
    datatype = "FP64" if p is not None and str(p.dtype) == "torch.float64" else "FP32"
    return _document(chain, kwargs, {"converter": "maas tools/convert_torch.py",
                                     "source_format": "module"}, datatype)


_ATEN_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "silu": "silu"}


def convert_exported(path, **kwargs):
    """A torch.export file (.pt2); needs torch."""
    try:
        import torch
    except ImportError:
        raise ConversionError(f"{path}: reading a torch.export file needs torch installed "
                              "(TorchScript and state_dict files do not)")
    ep = torch.export.load(path)
    sig = ep.graph_signature
    params = dict(ep.state_dict)
    params.update(getattr(ep, "constants", {}) or {})
    p_of = dict(sig.inputs_to_parameters)
    p_of.update(getattr(sig, "inputs_to_buffers", {}) or {})
    user_inputs = list(sig.user_inputs)
    if len(user_inputs) != 1 or len(sig.user_outputs) != 1:
        raise ConversionError(f"{path}: expected one input and one output")
    chain = Chain(path)
    nodes = list(ep.graph.nodes)
    current = user_inputs[0]
    users = {}
    for n in nodes:
        for a in n.all_input_nodes:
            users.setdefault(a.name, []).append(n)

    def const(node):
        if node.op == "placeholder" and node.name in p_of:
            return params[p_of[node.name]].detach().double().numpy()
        return None
    out_name = sig.user_outputs[0]
    while current != out_name:
        us = users.get(current, [])
        if len(us) != 1:
            names = ", ".join(f"node '{u.name}' ({u.target})" for u in us) or "nothing"
            raise ConversionError(f"tensor '{current}' feeds {names}: only chains are "
                                  "supported (no branches such as residual connections)")
        n = us[0]
        where = f"node '{n.name}' ({n.target})"
        if n.op == "output":
            break
        op = str(n.target).split(".")
        base = op[1] if len(op) > 1 and op[0] == "aten" else str(n.target)
        args = list(n.args)
        if base in ("linear", "addmm"):
            if base == "linear":
                x, w = args[0], args[1]
                b = args[2] if len(args) > 2 else None
                wt = const(w)
                bt = const(b) if b is not None else None
                if wt is None:
                    raise ConversionError(f"{where}: weight is not a parameter")
                chain.dense(wt.T, bt, where)
            else:
                b, x, w = args[0], args[1], args[2]
                chain.dense(const(w), const(b), where)
        elif base in _ATEN_ACTIVATIONS:
            chain.activation(_ATEN_ACTIVATIONS[base], where)
        elif base in ("softmax", "_softmax"):
            if args[1] not in (1, -1):
                raise ConversionError(f"{where}: softmax over dim {args[1]} is not supported")
            chain.activation("softmax", where)
        elif base == "gelu":
            approx = n.kwargs.get("approximate", args[1] if len(args) > 1 else "none")
            chain.activation("gelu_tanh" if approx == "tanh" else "gelu", where)
        elif base == "leaky_relu":
            chain.activation("leaky_relu", where, alpha=args[1] if len(args) > 1 else 0.01)
        elif base == "elu":
            chain.activation("elu", where, alpha=args[1] if len(args) > 1 else 1.0)
        elif base == "softplus":
            if len(args) > 1 and float(args[1]) != 1.0:
                raise ConversionError(f"{where}: softplus with beta != 1 is not supported")
            chain.activation("softplus", where)
        elif base in ("dropout", "clone", "alias", "detach"):
            pass
        else:
            raise ConversionError(f"{where}: operator {n.target} is not supported (a maas model "
                                  "file holds linear layers and activations only)")
        current = n.name
    return _document(chain, kwargs, {"converter": "maas tools/convert_torch.py",
                                     "source_format": "torch.export"})


def convert_path(path, activations=None, **kwargs):
    """Dispatches on the file: TorchScript, torch.export or state_dict."""
    if not os.path.exists(path):
        raise OSError(2, "No such file or directory", path)
    if not zipfile.is_zipfile(path):
        raise ConversionError(f"{path} is not a PyTorch archive (not a zip file; files from "
                              "torch < 1.6 or pickled modules are not supported)")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    if activations is not None:
        return convert_state_dict(path, activations, **kwargs)
    if any(n.endswith("/constants.pkl") for n in names):
        return convert_torchscript(path, **kwargs)
    if any("serialized_exported_program" in n or n.endswith("/archive_format") or
           "/models/" in n for n in names):
        return convert_exported(path, **kwargs)
    raise ConversionError(f"{path} looks like a torch.save file (state_dict); give the "
                          "activation after each Linear with --activations")


def _convert_args(args):
    acts = args.activations.split(",") if args.activations else None
    return convert_path(args.model, activations=acts, name=args.name,
                        input_name=args.input_name, output_name=args.output_name,
                        version=args.version, description=args.description)


def main(argv=None):
    def extra(p):
        p.add_argument("--activations", default=None,
                       help="state_dict files only: the activation after each Linear, "
                            "comma-separated model-file spellings (leaky_relu:0.1 and "
                            "elu:0.5 give alpha)")
    return run_converter("convert_torch", argv,
                         "Convert a PyTorch nn.Sequential MLP (TorchScript, torch.export or "
                         "state_dict file) into a maas model file (docs/model-format.md).",
                         _convert_args, extra)


if __name__ == "__main__":
    sys.exit(main())
