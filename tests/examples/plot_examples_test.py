#!/usr/bin/env python3
"""tools/plot_examples.py on the examples' own CSV output: both examples run
with --csv, both plots are drawn, and each PNG decodes to an image of the
size the script asks for (800 x 480 and 800 x 288 pixels at 80 dpi).

  plot_examples_test.py --projectile EXE --pipe-flow EXE
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PLOT = os.path.join(HERE, "..", "..", "tools", "plot_examples.py")


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--projectile", required=True)
    a.add_argument("--pipe-flow", required=True)
    args = a.parse_args()
    import matplotlib.image as mpimg
    with tempfile.TemporaryDirectory() as d:
        for name, exe, size in (("projectile", args.projectile, (288, 800)),
                                ("pipe_flow", args.pipe_flow, (480, 800))):
            csv_path, png = os.path.join(d, name + ".csv"), os.path.join(d, name + ".png")
            subprocess.run([exe, "--csv", csv_path], check=True, capture_output=True)
            subprocess.run([sys.executable, PLOT, name, csv_path, png], check=True)
            img = mpimg.imread(png)
            if img.shape[:2] != size or img.std() == 0:
                sys.exit(f"FAIL: {name}: image {img.shape}, std {img.std()}")
            print(f"{name}: {png} {img.shape[1]}x{img.shape[0]} px")
    print("PASS")


if __name__ == "__main__":
    main()
