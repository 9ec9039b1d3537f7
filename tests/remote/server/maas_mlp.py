"""NumPy forward pass of a maas model file (format "maas.mlp", version 1).

The same JSON the local C++ network loads (include/maas/local/model_file.h):
inputs are standardised with preprocessing.input_mean / input_std, every
dense layer computes act(h @ W + b) with W stored rows = inputs, and the
result is scaled with postprocessing.output_scale / output_offset. Used by
the test servers, so a remote model computes what the local one does.
"""
import json

import numpy as np

_DTYPES = {"FP32": np.float32, "FP64": np.float64}


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


_ACTIVATIONS = {
    "identity": lambda z: z,
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "softmax": _softmax,
}


class MaasMlp:
    """A loaded model file: signature plus forward()."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("format") != "maas.mlp" or doc.get("format_version") != 1:
            raise ValueError(f"{path}: not a maas.mlp v1 model file")
        self.name = doc["name"]
        self.inputs = doc["inputs"]
        self.outputs = doc["outputs"]
        self.datatype = self.inputs[0]["datatype"]
        self.dtype = _DTYPES[self.datatype]
        self.layers = [
            (np.asarray(l["weights"], dtype=np.float64),
             np.asarray(l["bias"], dtype=np.float64),
             _ACTIVATIONS[l.get("activation", "identity")])
            for l in doc["layers"]
        ]
        pre = doc.get("preprocessing", {})
        post = doc.get("postprocessing", {})
        n_in = self.layers[0][0].shape[0]
        n_out = self.layers[-1][0].shape[1]
        self.mean = np.asarray(pre.get("input_mean", [0.0] * n_in))
        self.std = np.asarray(pre.get("input_std", [1.0] * n_in))
        self.scale = np.asarray(post.get("output_scale", [1.0] * n_out))
        self.offset = np.asarray(post.get("output_offset", [0.0] * n_out))
        self.n_in, self.n_out = n_in, n_out

    def forward(self, x):
        """x: [batch, n_in] -> [batch, n_out] in the model's datatype."""
        h = (np.asarray(x, dtype=np.float64) - self.mean) / self.std
        for w, b, act in self.layers:
            h = act(h @ w + b)
        return (h * self.scale + self.offset).astype(self.dtype)

    def metadata_tensors(self):
        return ([{"name": t["name"], "datatype": t["datatype"], "shape": t["shape"]}
                 for t in self.inputs],
                [{"name": t["name"], "datatype": t["datatype"], "shape": t["shape"]}
                 for t in self.outputs])
