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

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maas_model_file import (  # noqa: E402,F401  (re-exported for callers)
    FORMAT, FORMAT_VERSION, Chain, ConversionError, dumps, floats, run_converter)

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


def _floats(values, what):
    return floats(values, what)


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
    n_in = int(mlp.coefs_[0].shape[0])
    n_out = int(mlp.coefs_[-1].shape[1])
    chain = Chain(type(mlp).__name__)
    if scaler is not None:
        mean, std = _scaler_vectors(scaler, n_in, "input")
        chain.standardize(mean, std, "the input StandardScaler")
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        act = (_OUTPUT_ACTIVATIONS[out_act] if i == n_layers - 1
               else _HIDDEN_ACTIVATIONS[mlp.activation])
        # sklearn's coefs_ are (fan_in, fan_out): one row per input.
        chain.dense(w, b, f"layer {i}")
        chain.activation(act, f"layer {i}")
    if target_scaler is not None:
        mean, std = _scaler_vectors(target_scaler, n_out, "target")
        chain.scale_output(std, mean, "the target StandardScaler")

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

    return chain.document(name=name, input_name=input_name, output_name=output_name,
                          version=version, description=description, metadata=meta)


def _convert_path(args):
    try:
        import joblib
        model = joblib.load(args.model)
    except ImportError:
        import pickle
        with open(args.model, "rb") as f:
            model = pickle.load(f)
    return convert(model, name=args.name, input_name=args.input_name or "input",
                   output_name=args.output_name or "output", version=args.version,
                   description=args.description)


def main(argv=None):
    return run_converter(
        "convert_sklearn", argv,
        "Convert a fitted scikit-learn MLP (pickle/joblib file) into a maas model "
        "file (docs/model-format.md).", _convert_path)


if __name__ == "__main__":
    sys.exit(main())
