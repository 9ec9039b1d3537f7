#!/usr/bin/env python3
"""Regenerates the PyTorch fixtures in this folder. Run by hand, with torch
installed (not needed by the tests, nor by the converter for TorchScript and
state_dict files), e.g. in a throwaway venv:

    python3 -m venv /tmp/tenv && /tmp/tenv/bin/pip install torch
    /tmp/tenv/bin/python make_torch_fixtures.py

For each case NAME it writes NAME.<ext> and NAME.golden.json
({"inputs", "expected_fp32", "expected_fp64", "reference"}): expected_fp32 is
the module's own forward in float32, expected_fp64 the same module after
.double() (weights widened exactly). Formats:

  .ts.pt    TorchScript (torch.jit.script), read without torch
  .pt2      torch.export (torch.export.save), read with torch
  .sd.pt    a state_dict (torch.save) plus the architecture given on the
            command line, read without torch

torch_refuse_*.ts.pt are modules the converter must refuse (a residual
branch, a convolution).
"""

import json
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = 64


def regressor():
    """Linear relu, Dropout, Linear tanh, Linear: 4 -> 32 -> 16 -> 1."""
    return nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 16),
                         nn.Tanh(), nn.Linear(16, 1)), torch.randn(ROWS, 4) * 2


def classifier():
    """Linear sigmoid, Identity, Linear softmax: 6 -> 16 -> 3."""
    return nn.Sequential(nn.Linear(6, 16), nn.Sigmoid(), nn.Identity(), nn.Linear(16, 3),
                         nn.Softmax(dim=1)), torch.randn(ROWS, 6) * 2


def extended():
    """GELU (erf and tanh), SiLU, Softplus, LeakyReLU, ELU: 5 -> 8 x6 -> 2."""
    return nn.Sequential(nn.Linear(5, 8), nn.GELU(), nn.Linear(8, 8), nn.GELU("tanh"),
                         nn.Linear(8, 8), nn.SiLU(), nn.Linear(8, 8), nn.Softplus(),
                         nn.Linear(8, 8), nn.LeakyReLU(0.1), nn.Linear(8, 8), nn.ELU(0.5),
                         nn.Linear(8, 2)), torch.randn(ROWS, 5) * 1.5


def batchnorm():
    """BatchNorm1d at the input, after a Linear and after an activation (trained
    running statistics, affine weights): 4 -> 16 -> 8 -> 1."""
    m = nn.Sequential(nn.BatchNorm1d(4), nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(),
                      nn.Linear(16, 8), nn.Tanh(), nn.BatchNorm1d(8), nn.Linear(8, 1))
    m.train()
    with torch.no_grad():  # running statistics from data far from N(0, 1)
        for _ in range(20):
            m(torch.randn(64, 4) * torch.tensor([1.0, 10.0, 0.1, 5.0]) + 3.0)
        for mod in m:
            if isinstance(mod, nn.BatchNorm1d):
                mod.weight.uniform_(0.5, 2.0)
                mod.bias.uniform_(-1.0, 1.0)
    return m, torch.randn(ROWS, 4) * torch.tensor([1.0, 10.0, 0.1, 5.0]) + 3.0


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.out = nn.Linear(4, 1)

    def forward(self, x):
        return self.out(torch.relu(self.fc(x)) + x)


def main():
    torch.manual_seed(0)
    cases = [("torch_sequential_regressor", regressor, ["ts.pt", "sd.pt"]),
             ("torch_classifier", classifier, ["ts.pt", "pt2"]),
             ("torch_extended_activations", extended, ["ts.pt"]),
             ("torch_batchnorm", batchnorm, ["ts.pt"])]
    for name, make, formats in cases:
        model, x = make()
        model.eval()
        with torch.no_grad():
            y32 = model(x)
            y64 = model.double()(x.double())
        model.float()
        for fmt in formats:
            path = os.path.join(HERE, f"{name}.{fmt}")
            if fmt == "ts.pt":
                torch.jit.save(torch.jit.script(model), path)
            elif fmt == "sd.pt":
                torch.save(model.state_dict(), path)
            else:
                torch.export.save(torch.export.export(model, (x[:2],)), path)
        with open(os.path.join(HERE, name + ".golden.json"), "w") as f:
            json.dump({"inputs": x.double().tolist(),
                       "expected_fp32": y32.double().tolist(),
                       "expected_fp64": y64.tolist(),
                       "reference": f"torch {torch.__version__}"}, f)
        print(f"{name}: {formats}, fp32 vs fp64 max diff {(y32.double() - y64).abs().max():.2e}")
    torch.jit.save(torch.jit.script(Residual()), os.path.join(HERE, "torch_refuse_residual.ts.pt"))
    conv = nn.Sequential(nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(12, 1))
    torch.jit.save(torch.jit.script(conv), os.path.join(HERE, "torch_refuse_conv.ts.pt"))


if __name__ == "__main__":
    main()
