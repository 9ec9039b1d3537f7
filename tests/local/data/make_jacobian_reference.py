"""Writes jacobian_reference.json: Jacobians of small maas networks by JAX.

The reference for tests/local/jacobian_test.cc is independent of maas: each
case is a random network (every activation maas supports, odd sizes, input
standardisation and output scaling), written as a maas model file, with a
few input rows, JAX's float64 outputs and JAX's forward-mode Jacobians
(jax.jacfwd) of the same function written with jax.numpy and jax.nn.

Regenerate (JAX on the CPU, float64) from the repository root:

    python3 -m venv /tmp/jax && /tmp/jax/bin/pip install jax numpy
    /tmp/jax/bin/python tests/local/data/make_jacobian_reference.py

The output is deterministic for a given JAX version (seeded numpy draws).
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

ACT = {
    "identity": lambda z, a: z,
    "relu": lambda z, a: jax.nn.relu(z),
    "sigmoid": lambda z, a: jax.nn.sigmoid(z),
    "tanh": lambda z, a: jnp.tanh(z),
    "softmax": lambda z, a: jax.nn.softmax(z),
    "gelu": lambda z, a: jax.nn.gelu(z, approximate=False),
    "gelu_tanh": lambda z, a: jax.nn.gelu(z, approximate=True),
    "silu": lambda z, a: jax.nn.silu(z),
    "softplus": lambda z, a: jax.nn.softplus(z),
    "leaky_relu": lambda z, a: jax.nn.leaky_relu(z, negative_slope=a),
    "elu": lambda z, a: jax.nn.elu(z, alpha=a),
}
ALPHA = {"leaky_relu": 0.1, "elu": 0.7}


def case(rng, name, sizes, acts, rows=3):
    layers = []
    for l, act in enumerate(acts):
        n_in, n_out = sizes[l], sizes[l + 1]
        w = rng.normal(0.0, 1.2 / np.sqrt(n_in), (n_in, n_out))
        b = rng.normal(0.0, 0.3, n_out)
        layer = {"type": "dense", "units": n_out, "activation": act,
                 "weights": w.tolist(), "bias": b.tolist()}
        if act in ALPHA:
            layer["alpha"] = ALPHA[act]
        layers.append(layer)
    mean = rng.normal(0.0, 1.0, sizes[0])
    std = rng.uniform(0.5, 2.0, sizes[0])
    scale = rng.uniform(0.5, 2.0, sizes[-1])
    offset = rng.normal(0.0, 1.0, sizes[-1])
    model = {
        "format": "maas.mlp", "format_version": 1, "name": name, "version": "1",
        "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1, sizes[0]]}],
        "outputs": [{"name": "y", "datatype": "FP64", "shape": [-1, sizes[-1]]}],
        "preprocessing": {"input_mean": mean.tolist(), "input_std": std.tolist()},
        "postprocessing": {"output_scale": scale.tolist(), "output_offset": offset.tolist()},
        "layers": layers,
    }

    def f(x):
        a = (x - mean) / std
        for layer in layers:
            z = a @ jnp.asarray(layer["weights"]) + jnp.asarray(layer["bias"])
            a = ACT[layer["activation"]](z, layer.get("alpha", 0.0))
        return a * scale + offset

    xs = mean + std * rng.normal(0.0, 1.0, (rows, sizes[0]))
    ys = [np.asarray(f(jnp.asarray(x))).tolist() for x in xs]
    jacs = [np.asarray(jax.jacfwd(f)(jnp.asarray(x))).tolist() for x in xs]
    return {"name": name, "model": model, "x": xs.tolist(), "y": ys, "jacobian": jacs}


def main():
    rng = np.random.default_rng(13)
    cases = []
    for act in ACT:
        if act == "softmax":
            cases.append(case(rng, "softmax_5_13_2", [5, 13, 2], ["tanh", "softmax"]))
        else:
            cases.append(case(rng, f"{act}_5_13_2", [5, 13, 2], [act, "identity"]))
    cases.append(case(rng, "tanh_1_1", [1, 1], ["tanh"]))
    cases.append(case(rng, "relu_3_7_1", [3, 7, 1], ["relu", "identity"]))
    cases.append(case(rng, "deep_4_9_9_9_3", [4, 9, 9, 9, 3],
                      ["silu", "elu", "gelu_tanh", "softmax"]))
    cases.append(case(rng, "wide_6_70_33_5", [6, 70, 33, 5], ["gelu", "leaky_relu", "sigmoid"]))
    doc = {"generator": "tests/local/data/make_jacobian_reference.py",
           "jax_version": jax.__version__, "cases": cases}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jacobian_reference.json")
    with open(out, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {out}: {len(cases)} cases, JAX {jax.__version__}")


if __name__ == "__main__":
    main()
