#!/usr/bin/env python3
"""`maas attrib` (tools/cli/attrib.cc) run as a user runs it, on model files.

Its gradient x input and integrated gradients are checked against an
independent NumPy float64 computation: the model file's forward pass written
here from the JSON, gradients by central differences, integrated gradients by
the same midpoint rule; the printed completeness residual against
sum(IG) - (f(x) - f(baseline)). Also the exit codes of bad command lines
(1), unreadable models (2) and data that does not fit (3).

  attrib_test.py --exe maas
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MLP16 = os.path.join(ROOT, "tests", "remote", "server", "data", "mlp16.json")
DRAG = os.path.join(ROOT, "examples", "data", "drag_cd.json")
STIFF = os.path.join(ROOT, "examples", "stiff", "relaxation_rate.json")
ARGS = None

ACT = {
    "identity": lambda z, a: z,
    "relu": lambda z, a: np.maximum(z, 0),
    "sigmoid": lambda z, a: 1 / (1 + np.exp(-z)),
    "logistic": lambda z, a: 1 / (1 + np.exp(-z)),
    "tanh": lambda z, a: np.tanh(z),
    "softmax": lambda z, a: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
    "leaky_relu": lambda z, a: np.where(z > 0, z, a * z),
}


def forward(doc, x):
    pre = doc.get("preprocessing")
    a = (x - np.array(pre["input_mean"])) / np.array(pre["input_std"]) if pre else x
    for layer in doc["layers"]:
        z = a @ np.array(layer["weights"]) + np.array(layer["bias"])
        a = ACT[layer.get("activation", "identity")](z, layer.get("alpha", 0.01))
    post = doc.get("postprocessing")
    return a * np.array(post["output_scale"]) + np.array(post["output_offset"]) if post else a


def jacobian_fd(doc, x, h=1e-6):
    cols = []
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h * (1 + abs(x[i]))
        cols.append((forward(doc, x + e) - forward(doc, x - e)) / (2 * e[i]))
    return np.stack(cols, axis=1)  # outputs x inputs


def maas(*args):
    return subprocess.run([ARGS.exe, *args], capture_output=True, text=True, timeout=300)


def parse(stdout):
    """{(row, output): (header numbers, [(x, baseline, gxi, ig) per input])}"""
    blocks = {}
    current = None
    for line in stdout.splitlines():
        m = re.match(r"row (\d+), output \S+\[(\d+)\]: f\(x\) = (\S+), f\(baseline\) = (\S+), "
                     r"sum\(IG\) = (\S+), completeness residual = (\S+) \(relative (\S+)\)", line)
        if m:
            current = (int(m.group(1)), int(m.group(2)))
            blocks[current] = ([float(g) for g in m.groups()[2:]], [])
            continue
        parts = line.split()
        if current is not None and len(parts) == 5 and parts[0] != "input":
            blocks[current][1].append(tuple(float(p) for p in parts[1:]))
    return blocks


class Attrib(unittest.TestCase):
    def check(self, model, x, baseline, steps, rtol):
        with open(model) as f:
            doc = json.load(f)
        with tempfile.TemporaryDirectory() as d:
            xin = os.path.join(d, "x.csv")
            np.savetxt(xin, x, delimiter=",")
            args = ["attrib", model, "--input", xin, "--steps", str(steps)]
            if isinstance(baseline, str):
                args += ["--baseline", baseline]
                b = np.array(doc["preprocessing"]["input_mean"]) if baseline == "mean" \
                    else np.zeros(x.shape[1])
            else:
                bin_ = os.path.join(d, "b.csv")
                np.savetxt(bin_, baseline.reshape(1, -1), delimiter=",")
                args += ["--baseline", bin_]
                b = baseline
            r = maas(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{steps} steps (midpoint rule)", r.stdout)
        blocks = parse(r.stdout)
        n_out = len(doc["layers"][-1]["bias"])
        self.assertEqual(len(blocks), len(x) * n_out)
        for row, xr in enumerate(x):
            jac = jacobian_fd(doc, xr)
            t = (np.arange(steps) + 0.5) / steps
            mean_jac = np.mean([jacobian_fd(doc, b + tk * (xr - b)) for tk in t], axis=0)
            ig = (xr - b) * mean_jac
            gxi = xr * jac
            fx, fb = forward(doc, xr), forward(doc, b)
            for o in range(n_out):
                (f_x, f_b, s, residual, _), table = blocks[(row, o)]
                self.assertEqual(len(table), len(xr))
                scale = max(np.abs(ig[o]).max(), 1e-12)
                got_ig = np.array([t_[3] for t_ in table])
                got_gxi = np.array([t_[2] for t_ in table])
                self.assertLess(np.abs(got_ig - ig[o]).max() / scale, rtol)
                self.assertLess(np.abs(got_gxi - gxi[o]).max() / max(np.abs(gxi[o]).max(), 1e-12),
                                rtol)
                self.assertAlmostEqual(f_x, fx[o], delta=1e-5 * max(1, abs(fx[o])))
                self.assertAlmostEqual(f_b, fb[o], delta=1e-5 * max(1, abs(fb[o])))
                # The printed residual is sum(IG) - (f(x) - f(b)), and NumPy's
                # own midpoint sum has the same completeness error.
                want_residual = ig[o].sum() - (fx[o] - fb[o])
                self.assertAlmostEqual(residual, want_residual,
                                       delta=1e-3 * abs(fx[o] - fb[o]) + 1e-9)

    def test_drag_from_the_mean(self):
        self.check(DRAG, np.array([[2.0], [4.5], [-0.5]]), "mean", 64, 1e-5)

    def test_mlp16_from_zero(self):
        x = np.random.default_rng(4).standard_normal((2, 16))
        self.check(MLP16, x, "zero", 32, 1e-5)

    def test_stiff_rate_from_a_baseline_file(self):
        self.check(STIFF, np.array([[1.2, 1.0], [-0.4, 0.3]]), np.array([0.5, -0.5]), 128, 1e-5)

    def test_completeness_improves_with_steps(self):
        with tempfile.TemporaryDirectory() as d:
            xin = os.path.join(d, "x.csv")
            np.savetxt(xin, np.array([[4.5]]), delimiter=",")
            res = []
            for steps in (16, 256):
                r = maas("attrib", DRAG, "--input", xin, "--steps", str(steps))
                self.assertEqual(r.returncode, 0, r.stderr)
                res.append(abs(parse(r.stdout)[(0, 0)][0][3]))
            self.assertGreater(res[0] / res[1], 50)  # 256 in the limit

    def test_target_and_errors(self):
        with tempfile.TemporaryDirectory() as d:
            xin = os.path.join(d, "x.csv")
            np.savetxt(xin, np.random.default_rng(1).standard_normal((1, 16)), delimiter=",")
            r = maas("attrib", MLP16, "--input", xin, "--target", "3")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(list(parse(r.stdout)), [(0, 3)])
            self.assertEqual(maas("attrib", MLP16).returncode, 1)
            self.assertEqual(maas("attrib", MLP16, "--input", xin, "--steps", "0").returncode, 1)
            self.assertEqual(maas("attrib", MLP16, "--input", xin, "--target", "8").returncode, 1)
            r = maas("attrib", os.path.join(d, "missing.json"), "--input", xin)
            self.assertEqual(r.returncode, 2)
            self.assertIn("NOT_FOUND", r.stderr)
            r = maas("attrib", DRAG, "--input", xin)
            self.assertEqual(r.returncode, 3)
            self.assertIn("16 columns, the model takes 1 inputs", r.stderr)


def main():
    global ARGS
    a = argparse.ArgumentParser()
    a.add_argument("--exe", required=True)
    ARGS, _ = a.parse_known_args()
    probe = maas("attrib", DRAG, "--input", DRAG)
    if "UNIMPLEMENTED" in probe.stderr:
        print("MAAS_SKIPPED: this build of maas has no run-time-sized network "
              "(include/maas/local/dynamic_network.h)")
        return 0
    suite = unittest.TestLoader().loadTestsFromTestCase(Attrib)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
