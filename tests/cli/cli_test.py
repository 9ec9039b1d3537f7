#!/usr/bin/env python3
"""Tests of the `maas` command (tools/cli) run as a user runs it: against the
real test servers that tests/remote/server starts (KServe, PyTriton) and on
local files. Each group is its own ctest test:

  cli_test.py --exe maas --group offline          usage, data errors, diff
  cli_test.py --exe maas --group local            --local model files (skipped without
                                                  maas::DynamicNetwork)
  cli_test.py --exe maas --group kserve --state kserve.state.json
  cli_test.py --exe maas --group pytriton --state pytriton.state.json
  cli_test.py --exe maas --group mlserver --state mlserver.state.json

Predictions are checked against a NumPy float64 forward pass of the same
model file (tests/remote/server/maas_mlp.py, what the servers compute),
within float32 rounding (the served model is FP32: 1e-5 relative with an
absolute floor of 1e-6).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "remote", "server"))
from maas_mlp import MaasMlp  # noqa: E402

MLP16 = os.path.join(ROOT, "tests", "remote", "server", "data", "mlp16.json")
DRAG = os.path.join(ROOT, "examples", "data", "drag_cd.json")
ARGS = None


def maas(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([ARGS.exe, *args], capture_output=True, text=True, timeout=300, env=e)


def url():
    with open(ARGS.state) as f:
        return json.load(f)["url"]


class Offline(unittest.TestCase):
    def test_usage_errors_exit_1(self):
        for args in ([], ["bogus"], ["health"], ["metadata", "http://x"], ["predict", "--input",
                     "x.csv"], ["health", "http://127.0.0.1:1", "--no_such_flag"],
                     ["perf", "http://x", "m", "--batch-sizes", "0"]):
            r = maas(*args)
            self.assertEqual(r.returncode, 1, f"{args}: {r.stderr}")
        r = maas("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("maas perf", r.stdout)

    def test_no_server_exit_2_with_code(self):
        r = maas("health", "http://127.0.0.1:1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("maas health: UNAVAILABLE: http://127.0.0.1:1", r.stderr)

    def test_diff_of_two_versions(self):
        with open(DRAG) as f:
            doc = json.load(f)
        doc["version"] = "2"
        doc["layers"][1]["weights"][0][0] += 0.5
        doc["layers"][2]["bias"][0] -= 0.25
        with tempfile.TemporaryDirectory() as d:
            b = os.path.join(d, "b.json")
            with open(b, "w") as f:
                json.dump(doc, f)
            r = maas("diff", DRAG, b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("architecture: same", r.stdout)
        # layer 1: one of 144 weights changed by 0.5; layer 2: bias moved by 0.25.
        weights = [l.split() for l in r.stdout.split("weights (B - A):")[1].splitlines()[3:6]]
        self.assertEqual(weights[0][1], "0")
        self.assertEqual((weights[1][1], weights[1][4]), ("0.5", "0.7%"))
        self.assertEqual(weights[2][5], "0.25")
        self.assertRegex(r.stdout, r"version\s+1\s+2\s+differs")

    def test_diff_of_different_architectures(self):
        r = maas("diff", DRAG, MLP16)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("architecture: DIFFERENT", r.stdout)
        self.assertIn("outputs: not compared (the models take 1 vs 16 inputs", r.stdout)

    def test_metadata_of_a_local_file(self):
        r = maas("metadata", "--local", DRAG)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"log10_re\s+input\s+FP64\s+\[-1,1\]")
        self.assertRegex(r.stdout, r"1\s+12\s+12\s+tanh\s+156")
        self.assertIn("193 parameters; input standardisation: yes; output scaling: yes",
                      r.stdout)
        r = maas("metadata", "--local", "/nonexistent.json")
        self.assertEqual(r.returncode, 2)
        self.assertIn("NOT_FOUND", r.stderr)

    def test_diff_of_a_broken_file_exits_2(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            f.write('{"format": "maas.mlp"')
            f.flush()
            r = maas("diff", DRAG, f.name)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not valid JSON", r.stderr)


class Kserve(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.url = url()
        cls.mlp = MaasMlp(MLP16)
        cls.tmp = tempfile.TemporaryDirectory()
        rng = np.random.default_rng(5)
        cls.x = rng.standard_normal((7, 16))
        cls.want = cls.mlp.forward(cls.x).astype(np.float64)
        d = cls.tmp.name
        np.savetxt(os.path.join(d, "x.csv"), cls.x, delimiter=",",
                   header=",".join(f"f{i}" for i in range(16)), comments="")
        np.save(os.path.join(d, "x.npy"), cls.x)
        with open(os.path.join(d, "x.json"), "w") as f:
            json.dump({"inputs": cls.x.tolist()}, f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def check(self, y):
        err = np.abs(y - self.want) / np.maximum(np.abs(self.want), 1e-6)
        self.assertLess(err.max(), 1e-5)

    def test_health(self):
        r = maas("health", self.url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"live\s+yes")
        self.assertRegex(r.stdout, r"ready\s+yes")
        self.assertRegex(r.stdout, r"name\s+kserve")

    def test_metadata_table(self):
        r = maas("metadata", self.url, "mlp16")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"x\s+input\s+FP32\s+\[-1,16\]")
        self.assertRegex(r.stdout, r"y\s+output\s+FP32\s+\[-1,8\]")
        r = maas("metadata", self.url, "no_such_model")
        self.assertEqual(r.returncode, 2)
        self.assertIn("NOT_FOUND", r.stderr)
        self.assertIn("404", r.stderr)

    def test_models_without_index_exit_2(self):
        r = maas("models", self.url)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no model repository index", r.stderr)

    def test_predict_every_format_and_protocol(self):
        cases = [("x.csv", "-", []), ("x.npy", "y.npy", ["--binary"]),
                 ("x.json", "y.json", ["--protocol", "v1"]), ("x.csv", "y.csv", [])]
        for inp, out, extra in cases:
            target = out if out == "-" else self.path(out)
            r = maas("predict", self.url, "mlp16", "--input", self.path(inp), "--output", target,
                     *extra)
            self.assertEqual(r.returncode, 0, f"{inp} {extra}: {r.stderr}")
            if out == "-":
                lines = r.stdout.strip().splitlines()
                self.assertEqual(lines[0], ",".join(f"y_{j}" for j in range(8)))
                y = np.array([[float(v) for v in l.split(",")] for l in lines[1:]])
            elif out.endswith(".npy"):
                y = np.load(target)
            elif out.endswith(".json"):
                with open(target) as f:
                    y = np.array(json.load(f))
            else:
                y = np.loadtxt(target, delimiter=",", skiprows=1)
            self.check(y)

    def test_bad_data_exit_3_with_place(self):
        with open(self.path("bad.csv"), "w") as f:
            f.write("a,b\n1,2\n3,oops\n")
        r = maas("predict", self.url, "mlp16", "--input", self.path("bad.csv"))
        self.assertEqual(r.returncode, 3)
        self.assertIn("bad.csv:3:3: 'oops' is not a number", r.stderr)
        with open(self.path("ragged.csv"), "w") as f:
            f.write("1,2,3\n4,5\n")
        r = maas("predict", self.url, "mlp16", "--input", self.path("ragged.csv"))
        self.assertEqual(r.returncode, 3)
        self.assertIn("ragged.csv:2: 2 values, the rows above have 3", r.stderr)
        r = maas("predict", self.url, "mlp16", "--input", self.path("ragged.csv").replace(
            "ragged", "none"))
        self.assertEqual(r.returncode, 1)
        with open(self.path("bad.json"), "w") as f:
            f.write('[[1, 2],\n [3, 4,]]\n')
        r = maas("predict", self.url, "mlp16", "--input", self.path("bad.json"))
        self.assertEqual(r.returncode, 3)
        self.assertIn("bad.json:2:8: not valid JSON", r.stderr)
        r = maas("predict", self.url, "drag_cd", "--input", self.path("x.csv"))
        self.assertEqual(r.returncode, 3)
        self.assertIn("16 columns, but model 'drag_cd' input 'log10_re' has shape [-1,1]",
                      r.stderr)

    def test_perf_lines_csv_and_plot(self):
        csv_path, png = self.path("perf.csv"), self.path("perf.png")
        env = {"MAAS_PYTHON": ARGS.python} if ARGS.python else {}
        r = maas("perf", self.url, "mlp16", "--batch-sizes", "1,8", "--concurrency", "1,2",
                 "--requests", "30", "--seconds", "2", "--warmup", "2", "--csv", csv_path,
                 "--plot", png, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Not a terminal: one plain line per measurement, no bar.
        self.assertEqual(r.stderr.count("\nperf "), 8, r.stderr)
        self.assertNotIn("\r", r.stderr)
        self.assertRegex(r.stdout, r"remote-binary\s+8\s+2\s+30\s")
        with open(csv_path) as f:
            rows = f.read().strip().splitlines()
        self.assertEqual(len(rows), 9)
        self.assertTrue(rows[0].startswith("model,mode,batch,concurrency,requests,errors"))
        for row in rows[1:]:
            cells = row.split(",")
            self.assertEqual(cells[4], "30")  # requests
            self.assertEqual(cells[5], "0")   # errors
            p50, p90, p99 = map(float, cells[9:12])
            self.assertTrue(0 < p50 <= p90 <= p99, row)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_perf_progress_bar_when_asked(self):
        r = maas("perf", self.url, "mlp16", "--batch-sizes", "1", "--concurrency", "1",
                 "--modes", "json", "--requests", "10", "--progress", "bar")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("[####", r.stderr)   # the bar (\r-rewritten on a terminal)
        self.assertIn("100%", r.stderr)

    def test_perf_unknown_model_exit_2(self):
        r = maas("perf", self.url, "nope", "--requests", "5")
        self.assertEqual(r.returncode, 2)
        self.assertIn("NOT_FOUND", r.stderr)


class Local(unittest.TestCase):
    """Model files run in-process (maas::DynamicNetwork)."""

    def test_predict_local_matches_numpy(self):
        mlp = MaasMlp(MLP16)
        x = np.random.default_rng(9).standard_normal((11, 16))
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "x.npy"), x)
            for flag, tol in (("--fp64", 1e-12), ("--fp32", 1e-5), (None, 1e-5)):
                out = os.path.join(d, "y.npy")
                args = ["predict", "--local", MLP16, "--input", os.path.join(d, "x.npy"),
                        "--output", out] + ([flag] if flag else [])
                r = maas(*args)
                self.assertEqual(r.returncode, 0, r.stderr)
                y = np.load(out)
                want = MaasMlp(MLP16).forward(x).astype(np.float64) if flag != "--fp64" else \
                    _forward64(mlp, x)
                err = np.abs(y - want) / np.maximum(np.abs(want), 1e-6)
                self.assertLess(err.max(), tol, flag)
        r = maas("predict", "--local", MLP16, "--input", "x.npy", "--fp32", "--fp64")
        self.assertEqual(r.returncode, 1)

    def test_diff_outputs(self):
        with open(DRAG) as f:
            doc = json.load(f)
        doc["layers"][2]["bias"][0] += 0.01  # log10 Cd shifted by 0.01 * output_scale
        scale = doc["postprocessing"]["output_scale"][0]
        with tempfile.TemporaryDirectory() as d:
            b = os.path.join(d, "b.json")
            with open(b, "w") as f:
                json.dump(doc, f)
            r = maas("diff", DRAG, b, "--samples", "200")
            self.assertEqual(r.returncode, 0, r.stderr)
            row = [l.split() for l in r.stdout.splitlines() if l.startswith("log10_cd ")][-1]
            # Printed with 3 significant digits.
            self.assertAlmostEqual(float(row[1]), 0.01 * scale, delta=5e-3 * 0.01 * scale)
            self.assertAlmostEqual(float(row[2]), 0.01 * scale, delta=5e-3 * 0.01 * scale)
            with open(os.path.join(d, "bad.csv"), "w") as f:
                f.write("1,2\n")
            r = maas("diff", DRAG, b, "--inputs", os.path.join(d, "bad.csv"))
            self.assertEqual(r.returncode, 3)
            self.assertIn("2 columns, the models take 1 inputs", r.stderr)

    def test_diff_softmax_agreement(self):
        pipe = os.path.join(ROOT, "examples", "data", "pipe_regime.json")
        r = maas("diff", pipe, pipe)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("arg-max class agrees on 1000 of 1000 rows (100.00%)", r.stdout)

    def test_perf_local(self):
        r = maas("perf", "--local", MLP16, "--batch-sizes", "1,64", "--concurrency", "1,2",
                 "--requests", "200", "--seconds", "0.3")
        self.assertEqual(r.returncode, 0, r.stderr)
        # Local measurements run for --seconds (at most 2e6 calls), not --requests.
        self.assertRegex(r.stdout, r"local\s+64\s+2\s+[0-9]+\s")


def _forward64(mlp, x):
    h = (x - mlp.mean) / mlp.std
    for w, b, act in mlp.layers:
        h = act(h @ w + b)
    return h * mlp.scale + mlp.offset


class Pytriton(unittest.TestCase):
    def test_metadata_and_a_restricted_index(self):
        u = url()
        r = maas("metadata", u, "mlp16")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"platform\s+\S+")
        self.assertRegex(r.stdout, r"x\s+input\s+FP32\s+\[-1,16\]")
        # PyTriton restricts the repository API to a token header: a "no"
        # from the server, exit 2 with its code.
        r = maas("models", u)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("maas models: PERMISSION_DENIED", r.stderr)
        self.assertIn("403", r.stderr)
        r = maas("models", u, "--header", "triton-access-token: wrong")
        self.assertEqual(r.returncode, 2, r.stderr)
        r = maas("models", u, "--header", "no colon")
        self.assertEqual(r.returncode, 1, r.stderr)


class Mlserver(unittest.TestCase):
    def test_models_index(self):
        r = maas("models", url())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"sk\s+\S+\s+READY")
        self.assertRegex(r.stdout, r"sk_spare\s+\S+\s+READY")
        r = maas("health", url())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"name\s+mlserver")


def main():
    global ARGS
    a = argparse.ArgumentParser()
    a.add_argument("--exe", required=True)
    a.add_argument("--group", required=True,
                   choices=["offline", "local", "kserve", "pytriton", "mlserver"])
    a.add_argument("--state")
    a.add_argument("--python", default=None, help="Python with matplotlib for --plot")
    ARGS, rest = a.parse_known_args()
    if ARGS.group not in ("offline", "local") and not (ARGS.state and os.path.exists(ARGS.state)):
        print(f"FAIL: no server state file {ARGS.state} (the server fixture did not start; "
              "tools/bootstrap.sh --all makes the venvs)")
        return 1
    if ARGS.group == "local":
        probe = maas("predict", "--local", MLP16, "--input", MLP16)
        if "UNIMPLEMENTED" in probe.stderr:
            print("MAAS_SKIPPED: this build of maas has no run-time-sized network "
                  "(include/maas/local/dynamic_network.h)")
            return 0
    suite = unittest.TestLoader().loadTestsFromTestCase(
        {"offline": Offline, "local": Local, "kserve": Kserve, "pytriton": Pytriton,
         "mlserver": Mlserver}[ARGS.group])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
