#!/usr/bin/env python3
"""Regenerates the Keras fixtures in this folder. Run by hand, with Keras 3
installed (not needed by the tests or the converter), e.g. in a throwaway venv:

    python3 -m venv /tmp/kenv && /tmp/kenv/bin/pip install keras "jax[cpu]" h5py
    KERAS_BACKEND=jax /tmp/kenv/bin/python make_keras_fixtures.py

For each case NAME it writes

  NAME.keras          the model as Keras saves it (zip: config.json + HDF5 weights)
  NAME.h5             for LEGACY_H5 cases: the same model in the legacy HDF5 layout
                      of Keras 2 (model_config attribute + model_weights groups)
  NAME.golden.json    {"inputs", "expected_fp32", "expected_fp64", "reference"}

expected_fp32 is Keras' own predict() of the saved model (float32);
expected_fp64 is the same architecture rebuilt by Keras with the float64
dtype policy and the same weights (widened exactly), Keras' predict() again.
refuse_*.keras are models the converter must refuse (a residual branch, a
convolution, an LSTM); they have no golden file.
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")  # else JAX silently computes float64 in float32

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = 64


def sequential_regressor(rng):
    """InputLayer, Normalization (adapted), Dense relu, Dropout, Dense sigmoid,
    Dense linear: 4 -> 32 -> 16 -> 1 (a surrogate regressor). No tanh in the
    Keras fixtures: Keras 3.15's ops.tanh returns float32 for float64 input
    (its dtype promotion), which would spoil the float64 reference."""
    x = rng.standard_normal((500, 4)) * [1.0, 20.0, 0.5, 300.0] + [0.0, 100.0, -1.0, 5.0]
    norm = layers.Normalization()
    norm.adapt(x)
    m = keras.Sequential([keras.Input((4,)), norm,
                          layers.Dense(32, activation="relu"), layers.Dropout(0.2),
                          layers.Dense(16, activation="sigmoid"), layers.Dense(1)],
                         name="sequential_regressor")
    return m, x[:ROWS]


def functional_classifier(rng):
    """Functional chain: Dense, Activation('relu'), Dense sigmoid, Dense
    softmax: 6 -> 16 -> 16 -> 3 (a regime classifier)."""
    inp = keras.Input((6,), name="state")
    h = layers.Dense(16, name="d0")(inp)
    h = layers.Activation("relu", name="act0")(h)
    h = layers.Dense(16, activation="sigmoid", name="d1")(h)
    out = layers.Dense(3, activation="softmax", name="probs")(h)
    return keras.Model(inp, out, name="functional_classifier"), rng.standard_normal((ROWS, 6)) * 2


def extended_activations(rng):
    """gelu (erf form, Keras' default), swish, softplus, LeakyReLU, ELU:
    5 -> 8 x5 -> 2."""
    inp = keras.Input((5,))
    h = layers.Dense(8, activation="gelu")(inp)
    h = layers.Dense(8, activation="swish")(h)
    h = layers.Dense(8, activation="softplus")(h)
    h = layers.Dense(8)(h)
    h = layers.LeakyReLU(negative_slope=0.2)(h)
    h = layers.Dense(8, activation="elu")(h)
    out = layers.Dense(2)(h)
    return keras.Model(inp, out, name="extended_activations"), rng.standard_normal((ROWS, 5)) * 1.5


def batchnorm(rng):
    """BatchNormalization at the input, after a Dense and after an activation,
    with trained moving statistics: 4 -> 16 -> 8 -> 1."""
    x = rng.standard_normal((256, 4)) * [1.0, 10.0, 0.1, 5.0] + 3.0
    inp = keras.Input((4,))
    h = layers.BatchNormalization(momentum=0.5)(inp)
    h = layers.Dense(16)(h)
    h = layers.BatchNormalization(momentum=0.5)(h)
    h = layers.Activation("relu")(h)
    h = layers.Dense(8, activation="sigmoid")(h)
    h = layers.BatchNormalization(momentum=0.5, center=False)(h)
    out = layers.Dense(1)(h)
    m = keras.Model(inp, out, name="batchnorm")
    m.compile(optimizer="sgd", loss="mse")
    m.fit(x, x[:, :1], epochs=2, batch_size=32, verbose=0)  # moving statistics
    return m, x[:ROWS]


def refuse_residual():
    inp = keras.Input((4,))
    h = layers.Dense(4, activation="relu", name="d0")(inp)
    h = layers.Add(name="skip")([h, inp])
    return keras.Model(inp, layers.Dense(1)(h), name="refuse_residual")


def refuse_conv():
    return keras.Sequential([keras.Input((8, 1)), layers.Conv1D(2, 3, name="conv"),
                             layers.Flatten(), layers.Dense(1)], name="refuse_conv")


def refuse_lstm():
    return keras.Sequential([keras.Input((5, 2)), layers.LSTM(3, name="lstm"),
                             layers.Dense(1)], name="refuse_lstm")


def _float64_config(model):
    def widen(v):
        if isinstance(v, dict):
            if v.get("class_name") == "DTypePolicy":
                return {"module": "keras", "class_name": "DTypePolicy",
                        "config": {"name": "float64"}, "registered_name": None}
            # shared_object_id would make later layers reuse a float32 policy.
            return {k: ("float64" if k == "dtype" and w == "float32" else widen(w))
                    for k, w in v.items() if k != "shared_object_id"}
        if isinstance(v, list):
            return [widen(w) for w in v]
        return v
    return widen(keras.saving.serialize_keras_object(model))


# Cases also saved as legacy .h5 model files.
LEGACY_H5 = ("keras_sequential_regressor", "keras_functional_classifier")


def predict(model, x):
    # Calling the model (inference mode), not predict(): predict()'s data
    # adapter rounds float64 inputs to float32 whatever the model's dtype.
    return np.asarray(model(x, training=False))


def main():
    cases = [sequential_regressor, functional_classifier, extended_activations, batchnorm]
    for i, case in enumerate(cases):
        keras.config.set_dtype_policy("float32")
        keras.config.set_floatx("float32")
        keras.utils.set_random_seed(10 + i)
        rng = np.random.default_rng(10 + i)
        model, x = case(rng)
        name = "keras_" + case.__name__
        path = os.path.join(HERE, name + ".keras")
        model.save(path)
        saved = keras.models.load_model(path)
        if name in LEGACY_H5:
            # The legacy HDF5 layout (Keras 2's model.save("m.h5")), same weights.
            saved.save(os.path.join(HERE, name + ".h5"))
        y32 = predict(saved, x.astype(np.float32))
        # The same architecture in float64 (every dtype in the config widened),
        # each layer given the saved layer's weights, widened exactly.
        m64 = keras.saving.deserialize_keras_object(_float64_config(saved))
        for layer in m64.layers:
            layer.set_weights([w.astype(np.float64)
                               for w in saved.get_layer(layer.name).get_weights()])
            if hasattr(layer, "finalize_state"):
                layer.finalize_state()  # Normalization: mean/variance from the adapted state
        for layer in m64.layers:
            assert layer.dtype == "float64", layer.name
        y64 = predict(m64, x.astype(np.float64))
        keras.config.set_dtype_policy("float32")
        keras.config.set_floatx("float32")
        with open(os.path.join(HERE, name + ".golden.json"), "w") as f:
            json.dump({"inputs": x.tolist(), "expected_fp32": y32.astype(np.float64).tolist(),
                       "expected_fp64": y64.tolist(),
                       "reference": f"keras {keras.__version__} ({keras.backend.backend()})"},
                      f)
        print(f"{name}: {y32.shape}, fp32 vs fp64 max diff {np.abs(y32 - y64).max():.2e}")
    for make in (refuse_residual, refuse_conv, refuse_lstm):
        m = make()
        m.save(os.path.join(HERE, f"keras_{make.__name__}.keras"))
        print(f"keras_{make.__name__}.keras")


if __name__ == "__main__":
    main()
