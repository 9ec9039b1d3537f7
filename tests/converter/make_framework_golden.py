#!/usr/bin/env python3
"""Prepares the framework parity data for tests/converter/framework_parity_test.cc.

Into OUTDIR:
  * ONNX: small graphs built here, converted by tools/convert_onnx.py, with
    onnxruntime's answers computed now (make_onnx_golden.py);
  * Keras and PyTorch: the committed fixtures in tests/converter/data/
    (made by make_keras_fixtures.py / make_torch_fixtures.py with the
    frameworks installed) converted now by tools/convert_keras.py and
    tools/convert_torch.py, which need neither framework, next to a copy of
    the frameworks' recorded answers.

Each case NAME gives NAME.model.json and NAME.golden.json. A torch.export
(.pt2) fixture is converted only when torch is importable.

Usage: make_framework_golden.py OUTDIR
"""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "..", "tools")
DATA = os.path.join(HERE, "data")

# (case name, fixture file, golden file, extra converter arguments)
FIXTURES = [
    ("keras_sequential_regressor", "keras/keras_sequential_regressor.keras",
     "keras/keras_sequential_regressor.golden.json", []),
    ("keras_functional_classifier", "keras/keras_functional_classifier.keras",
     "keras/keras_functional_classifier.golden.json", []),
    ("keras_sequential_regressor_h5", "keras/keras_sequential_regressor.h5",
     "keras/keras_sequential_regressor.golden.json", []),
    ("keras_functional_classifier_h5", "keras/keras_functional_classifier.h5",
     "keras/keras_functional_classifier.golden.json", []),
    ("keras_extended_activations", "keras/keras_extended_activations.keras",
     "keras/keras_extended_activations.golden.json", []),
    ("keras_batchnorm", "keras/keras_batchnorm.keras", "keras/keras_batchnorm.golden.json", []),
    ("torch_batchnorm", "torch/torch_batchnorm.ts.pt", "torch/torch_batchnorm.golden.json", []),
    ("torch_sequential_regressor", "torch/torch_sequential_regressor.ts.pt",
     "torch/torch_sequential_regressor.golden.json", []),
    ("torch_sequential_regressor_state_dict", "torch/torch_sequential_regressor.sd.pt",
     "torch/torch_sequential_regressor.golden.json", ["--activations", "relu,tanh,identity"]),
    ("torch_classifier", "torch/torch_classifier.ts.pt",
     "torch/torch_classifier.golden.json", []),
    ("torch_classifier_export", "torch/torch_classifier.pt2",
     "torch/torch_classifier.golden.json", []),
    ("torch_extended_activations", "torch/torch_extended_activations.ts.pt",
     "torch/torch_extended_activations.golden.json", []),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(HERE, "make_onnx_golden.py"), out], check=True)
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    for name, fixture, golden, extra in FIXTURES:
        model = os.path.join(out, name + ".model.json")
        if os.path.exists(model):
            os.remove(model)
        if fixture.endswith(".pt2") and not have_torch:
            print(f"make_framework_golden: {name}: skipped (reading .pt2 needs torch)")
            continue
        conv = "convert_keras.py" if fixture.startswith("keras/") else "convert_torch.py"
        subprocess.run([sys.executable, os.path.join(TOOLS, conv), os.path.join(DATA, fixture),
                        "-o", model, "--name", name, "--version", "1", *extra], check=True)
        shutil.copyfile(os.path.join(DATA, golden), os.path.join(out, name + ".golden.json"))
        print(f"make_framework_golden: {name}")


if __name__ == "__main__":
    main()
