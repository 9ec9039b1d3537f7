#!/usr/bin/env python3
"""Renders the CSV files of the physics examples as PNG plots.

    plot_examples.py projectile flight.csv projectile.png
    plot_examples.py pipe_flow drain.csv pipe_flow.png

projectile: the trajectory with the learned drag law against the reference
(Clift-Gauvin) flight, and the position error along time.
pipe_flow: the tank level and the outlet wall temperature with the learned
regime classifier against the exact switch, the regime timeline of both,
and the level error along time.

The CSVs are what the examples write with --csv. Needs matplotlib (the tools
venv: .venv/bin/python). README.md ("Pictures") shows how its pictures in
docs/images/ are made.
"""

import argparse
import csv
import math
import sys


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"plot_examples: {path} has no rows")
    return rows


def col(rows, name):
    return [float(r[name]) if r[name] != "" else math.nan for r in rows]


def projectile(rows, png, plt):
    t = col(rows, "t")
    x, y, xr, yr = (col(rows, k) for k in ("x", "y", "x_ref", "y_ref"))
    err = [math.hypot(a - c, b - d) if not math.isnan(a + b + c + d) else math.nan
           for a, b, c, d in zip(x, y, xr, yr)]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=80)
    ax1.plot(xr, yr, color="black", lw=2.5, alpha=0.35, label="reference (Clift-Gauvin)")
    ax1.plot(x, y, color="tab:blue", lw=1.0, label="learned drag (maas)")
    ax1.set_xlabel("x (m)")
    ax1.set_ylabel("y (m)")
    ax1.set_title("trajectory")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.plot(t, [e * 1e3 for e in err], color="tab:red")
    ax2.set_xlabel("t (s)")
    ax2.set_ylabel("position error (mm)")
    ax2.set_title("surrogate - reference")
    ax2.grid(alpha=0.3)
    fig.suptitle("projectile: a 6 mm sphere with a learned drag coefficient")
    fig.tight_layout()
    fig.savefig(png)


def pipe_flow(rows, png, plt):
    t = [v / 3600.0 for v in col(rows, "t")]
    names = ["laminar", "transitional", "turbulent"]
    colors = ["tab:green", "tab:orange", "tab:purple"]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6), dpi=80, sharex=True)
    (a1, a2), (a3, a4) = axes
    a1.plot(t, col(rows, "level_ref"), color="black", lw=2.5, alpha=0.35, label="exact switch")
    a1.plot(t, col(rows, "level"), color="tab:blue", lw=1.0, label="learned classifier (maas)")
    a1.set_ylabel("tank level (m)")
    a1.set_title("level")
    a1.legend(fontsize=8)
    a2.plot(t, col(rows, "t_wall_ref"), color="black", lw=2.5, alpha=0.35, label="exact switch")
    a2.plot(t, col(rows, "t_wall"), color="tab:blue", lw=1.0, label="learned classifier")
    a2.set_ylabel("outlet wall temperature (°C)")
    a2.set_title("wall temperature")
    a2.legend(fontsize=8)
    # Regime timeline: two bands, reference above, learned below.
    for k, key in enumerate(("regime_ref", "regime")):
        reg = col(rows, key)
        start = 0
        for i in range(1, len(reg) + 1):
            if i == len(reg) or reg[i] != reg[start]:
                if not math.isnan(reg[start]):
                    a3.axvspan(t[start], t[min(i, len(t) - 1)], ymin=0.42 - 0.4 * k,
                               ymax=0.76 - 0.4 * k, color=colors[int(reg[start])], lw=0)
                start = i
    a3.set_yticks([0.59, 0.19])
    a3.set_yticklabels(["exact", "learned"])
    a3.set_ylim(0, 1)
    a3.set_title("regime per step")
    a3.set_xlabel("t (h)")
    from matplotlib.patches import Patch
    a3.legend(handles=[Patch(color=c, label=n) for c, n in zip(colors, names)], fontsize=8,
              loc="upper center", ncol=3)
    lvl, lref = col(rows, "level"), col(rows, "level_ref")
    a4.plot(t, [(a - b) * 1e3 for a, b in zip(lvl, lref)], color="tab:red")
    a4.set_ylabel("level error (mm)")
    a4.set_xlabel("t (h)")
    a4.set_title("learned - exact")
    for ax in (a1, a2, a4):
        ax.grid(alpha=0.3)
    fig.suptitle("pipe flow: a regime classifier picks the friction and heat-transfer "
                 "correlations each step")
    fig.tight_layout()
    fig.savefig(png)


def main(argv=None):
    a = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    a.add_argument("example", choices=["projectile", "pipe_flow"])
    a.add_argument("csv")
    a.add_argument("png")
    args = a.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = read(args.csv)
    {"projectile": projectile, "pipe_flow": pipe_flow}[args.example](rows, args.png, plt)
    print(f"plot_examples: wrote {args.png}")


if __name__ == "__main__":
    main()
