#!/usr/bin/env python3
"""Convert a fitted scikit-learn MLP into a maas model file ("maas.mlp" v1).

The model file format is documented in docs/model-format.md. Supported models:

* ``MLPRegressor`` (squared-error loss: identity output),
* ``MLPClassifier`` (softmax output for 3+ classes; one logistic unit giving
  P(classes_[1]) for binary problems; one logistic unit per label for
  multilabel problems),
* either of them as the last step of a ``Pipeline`` whose only other step is a
  ``StandardScaler`` (it becomes the file's "preprocessing"),
* a ``TransformedTargetRegressor`` whose transformer is a ``StandardScaler``
  around one of the above regressors (the target scaling becomes the file's
  "postprocessing").

Anything else (other pipeline steps, ``loss="poisson"``'s exponential output,
unfitted models) is rejected with a ``ConversionError`` naming the problem.

Library use::

    from convert_sklearn import convert, dumps
    doc = convert(model, name="drag_cd", input_name="log10_re",
                  output_name="log10_cd", version="1")
    open("drag_cd.json", "w").write(dumps(doc))

Command line (the model is a pickle or joblib file)::

    tools/convert_sklearn.py model.joblib -o model.json --name drag_cd \
        --input-name log10_re --output-name log10_cd --version 1

The output is deterministic: the same fitted model always gives the same bytes,
and every float is written with Python's shortest round-trip ``repr``, so the
C++ reader recovers exactly the float64 values scikit-learn holds.
"""

import argparse
import json
import math
import sys

FORMAT = "maas.mlp"
FORMAT_VERSION = 1

# scikit-learn activation name -> model-file activation name.
_HIDDEN_ACTIVATIONS = {
    "identity": "identity",
    "relu": "relu",
    "tanh": "tanh",
    "logistic": "sigmoid",
}
_OUTPUT_ACTIVATIONS = {
    "identity": "identity",
    "softmax": "softmax",
    "logistic": "sigmoid",
}


class ConversionError(ValueError):
    """The model cannot be represented as a maas model file."""


def _floats(values, what):
    out = []
    for i, v in enumerate(values):
        f = float(v)
        if not math.isfinite(f):
            raise ConversionError(f"{what}[{i}] is not finite ({f!r})")
        out.append(f)
    return out


def _json_scalar(v):
    """Class labels as JSON values (numpy scalars -> Python scalars)."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float) and math.isfinite(v):
        return v
    return str(v)


def _split(model):
    """Returns (scaler or None, mlp, target scaler or None)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    target_scaler = None
    if isinstance(model, TransformedTargetRegressor):
        if not hasattr(model, "regressor_"):
            raise ConversionError("the TransformedTargetRegressor is not fitted")
        if model.func is not None or model.inverse_func is not None:
            raise ConversionError(
                "TransformedTargetRegressor with func/inverse_func is not "
                "supported (only transformer=StandardScaler())")
        if not isinstance(model.transformer_, StandardScaler):
            raise ConversionError(
                "TransformedTargetRegressor transformer "
                f"{type(model.transformer_).__name__} is not supported "
                "(only StandardScaler)")
        target_scaler = model.transformer_
        model = model.regressor_

    scaler = None
    if isinstance(model, Pipeline):
        steps = [step for _, step in model.steps if step not in (None, "passthrough")]
        if not steps:
            raise ConversionError("the pipeline has no steps")
        *pre, model = steps
        if len(pre) > 1 or (pre and not isinstance(pre[0], StandardScaler)):
            names = ", ".join(type(s).__name__ for s in pre)
            raise ConversionError(
                f"unsupported pipeline step(s) before the MLP: {names} "
                "(only a single StandardScaler is supported)")
        if pre:
            scaler = pre[0]
    return scaler, model, target_scaler


def _scaler_vectors(scaler, n, what):
    if not hasattr(scaler, "n_features_in_"):
        raise ConversionError(f"the {what} StandardScaler is not fitted")
    if scaler.n_features_in_ != n:
        raise ConversionError(
            f"the {what} StandardScaler has {scaler.n_features_in_} features, "
            f"the MLP has {n}")
    mean = [0.0] * n if scaler.mean_ is None else _floats(scaler.mean_, f"{what} mean")
    std = [1.0] * n if scaler.scale_ is None else _floats(scaler.scale_, f"{what} scale")
    return mean, std


def convert(model, name="model", input_name="input", output_name="output",
            version="", description=None, metadata=None):
    """Returns the model file for `model` as a JSON-serialisable dict.

    `model` is a fitted MLPRegressor / MLPClassifier, optionally wrapped as
    described in the module docstring. `metadata` (a dict) is merged into the
    file's "metadata" object. Raises ConversionError for anything the format
    cannot represent exactly.
    """
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    scaler, mlp, target_scaler = _split(model)
    if not isinstance(mlp, (MLPRegressor, MLPClassifier)):
        raise ConversionError(
            f"{type(mlp).__name__} is not supported (expected MLPRegressor or "
            "MLPClassifier)")
    if not hasattr(mlp, "coefs_"):
        raise ConversionError(f"the {type(mlp).__name__} is not fitted")
    if mlp.activation not in _HIDDEN_ACTIVATIONS:
        raise ConversionError(f"hidden activation {mlp.activation!r} is not supported")
    out_act = mlp.out_activation_
    if out_act not in _OUTPUT_ACTIVATIONS:
        hint = (" (MLPRegressor(loss='poisson') predicts exp(output); use the "
                "default squared_error loss)" if out_act == "exp" else "")
        raise ConversionError(f"output activation {out_act!r} is not supported{hint}")
    if target_scaler is not None and not isinstance(mlp, MLPRegressor):
        raise ConversionError("target scaling is only supported for regressors")

    n_layers = len(mlp.coefs_)
    layers = []
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        act = (_OUTPUT_ACTIVATIONS[out_act] if i == n_layers - 1
               else _HIDDEN_ACTIVATIONS[mlp.activation])
        layers.append({
            "type": "dense",
            "units": int(w.shape[1]),
            "activation": act,
            # sklearn's coefs_ are (fan_in, fan_out): one row per input.
            "weights": [_floats(row, f"layer {i} weights") for row in w],
            "bias": _floats(b, f"layer {i} bias"),
        })
    n_in = int(mlp.coefs_[0].shape[0])
    n_out = int(mlp.coefs_[-1].shape[1])

    meta = {"converter": "maas tools/convert_sklearn.py"}
    try:
        import sklearn
        meta["sklearn_version"] = sklearn.__version__
    except ImportError:  # pragma: no cover - sklearn is imported above
        pass
    meta["estimator"] = type(mlp).__name__
    if isinstance(mlp, MLPClassifier):
        classes = [_json_scalar(c) for c in mlp.classes_]
        if mlp._label_binarizer.y_type_ == "multilabel-indicator":
            meta["task"] = "multilabel"
            meta["outputs_are"] = "P(label j) for each label j"
        elif out_act == "logistic":
            meta["task"] = "binary"
            meta["classes"] = classes
            meta["outputs_are"] = "P(classes[1]); predict_proba is [1 - p, p]"
        else:
            meta["task"] = "multiclass"
            meta["classes"] = classes
            meta["outputs_are"] = "P(classes[j]) for each class j"
    else:
        meta["task"] = "regression"
    if metadata:
        meta.update(metadata)

    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": str(name),
        "version": str(version),
    }
    if description:
        doc["description"] = str(description)
    doc["inputs"] = [{"name": str(input_name), "datatype": "FP64", "shape": [-1, n_in]}]
    doc["outputs"] = [{"name": str(output_name), "datatype": "FP64", "shape": [-1, n_out]}]
    if scaler is not None:
        mean, std = _scaler_vectors(scaler, n_in, "input")
        doc["preprocessing"] = {"input_mean": mean, "input_std": std}
    if target_scaler is not None:
        mean, std = _scaler_vectors(target_scaler, n_out, "target")
        doc["postprocessing"] = {"output_scale": std, "output_offset": mean}
    doc["layers"] = layers
    doc["metadata"] = meta
    return doc


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


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Convert a fitted scikit-learn MLP (pickle/joblib file) "
                    "into a maas model file (docs/model-format.md).")
    parser.add_argument("model", help="pickle or joblib file of the fitted model")
    parser.add_argument("-o", "--output", help="model file to write (default: stdout)")
    parser.add_argument("--name", default="model", help="model name")
    parser.add_argument("--version", default="", help="model version string")
    parser.add_argument("--input-name", default="input", help="input tensor name")
    parser.add_argument("--output-name", default="output", help="output tensor name")
    parser.add_argument("--description", default=None, help="free text")
    args = parser.parse_args(argv)

    try:
        try:
            import joblib
            model = joblib.load(args.model)
        except ImportError:
            import pickle
            with open(args.model, "rb") as f:
                model = pickle.load(f)
        doc = convert(model, name=args.name, input_name=args.input_name,
                      output_name=args.output_name, version=args.version,
                      description=args.description)
        text = dumps(doc)
    except ConversionError as e:
        print(f"convert_sklearn: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"convert_sklearn: error: cannot read {args.model}: {e}", file=sys.stderr)
        return 2
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
