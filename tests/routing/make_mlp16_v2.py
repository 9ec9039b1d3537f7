"""Writes data/mlp16_v2.json: "version 2" of tests/remote/server/data/mlp16.json.

The same network with its output layer retrained a little (weights scaled by
1.002, biases shifted by 0.001), so that version 2 answers within ~1e-3 of
version 1: what a rollout's shadow stage should see as a small, acceptable
divergence. Deterministic (no randomness):

  python3 tests/routing/make_mlp16_v2.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    with open(os.path.join(HERE, "..", "remote", "server", "data", "mlp16.json"), encoding="utf-8") as f:
        model = json.load(f)
    model["version"] = "2"
    model["description"] = "mlp16 version 2: output layer weights x1.002, biases +0.001"
    last = model["layers"][-1]
    last["weights"] = [[round(w * 1.002, 7) for w in row] for row in last["weights"]]
    last["bias"] = [round(b + 0.001, 7) for b in last["bias"]]
    model["metadata"] = {"generated_by": "tests/routing/make_mlp16_v2.py"}
    with open(os.path.join(HERE, "data", "mlp16_v2.json"), "w", encoding="utf-8") as f:
        json.dump(model, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
