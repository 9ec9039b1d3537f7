#!/usr/bin/env python3
"""Regenerates the PyTorch-exported ONNX fixtures in this folder. Run by hand
with torch installed (the tests need only onnx and onnxruntime):

    /tmp/tenv/bin/pip install torch onnx && /tmp/tenv/bin/python make_torch_onnx.py

torch_mlp.onnx            Linear relu, Linear tanh, Dropout, Linear, Softmax: 4 -> 16 -> 16 -> 3
torch_activations.onnx    GELU (erf), GELU (tanh), SiLU, Softplus, LeakyReLU, ELU: 5 -> 8 x6 -> 2

exported with the TorchScript-based exporter at opset 17, which decomposes
GELU into Div/Erf/Add/Mul (erf form) or Pow/Mul/Add/Tanh (tanh form) and
SiLU into Sigmoid/Mul: the converter must recognise those subgraphs. The
references are computed at test time by onnxruntime (make_onnx_golden.py).
"""
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def export(model, n_in, path, out):
    model.eval()
    torch.onnx.export(model, (torch.randn(2, n_in),), path, input_names=["x"],
                      output_names=[out], dynamic_axes={"x": {0: "batch"}, out: {0: "batch"}},
                      opset_version=17, dynamo=False)


def main():
    torch.manual_seed(1)
    export(nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                         nn.Dropout(0.1), nn.Linear(16, 3), nn.Softmax(dim=1)), 4,
           os.path.join(HERE, "torch_mlp.onnx"), "p")
    export(nn.Sequential(nn.Linear(5, 8), nn.GELU(), nn.Linear(8, 8), nn.GELU("tanh"),
                         nn.Linear(8, 8), nn.SiLU(), nn.Linear(8, 8), nn.Softplus(),
                         nn.Linear(8, 8), nn.LeakyReLU(0.1), nn.Linear(8, 8), nn.ELU(0.5),
                         nn.Linear(8, 2)), 5, os.path.join(HERE, "torch_activations.onnx"), "y")
    print("make_torch_onnx: wrote torch_mlp.onnx, torch_activations.onnx "
          f"(torch {torch.__version__})")


if __name__ == "__main__":
    main()
