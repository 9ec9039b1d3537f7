#!/usr/bin/env python3
"""Draws the CSV written by `maas perf --csv` (or --plot) as one PNG:
throughput (rows/s) against batch size and latency percentiles (p50 and
p99) against batch size, one line per mode and concurrency level.

    plot_perf.py perf.csv perf.png [--title TEXT]

`maas perf --plot out.png` calls this script with the tools venv's Python
(matplotlib; $MAAS_PYTHON or --python).
"""

import argparse
import csv
import sys
from collections import defaultdict


def main(argv=None):
    a = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    a.add_argument("csv")
    a.add_argument("png")
    a.add_argument("--title", default="maas perf")
    args = a.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = defaultdict(list)
    with open(args.csv, newline="") as f:
        for row in csv.DictReader(f):
            key = (row["mode"], int(row["concurrency"]))
            series[key].append((int(row["batch"]), float(row["rows_per_s"]),
                                float(row["p50_ms"]), float(row["p99_ms"])))
    if not series:
        sys.exit(f"plot_perf: {args.csv} has no measurements")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=90)
    colors = {}
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    for (mode, conc), pts in sorted(series.items()):
        pts.sort()
        color = colors.setdefault(mode, palette[len(colors) % len(palette)])
        style = ["-", "--", ":", "-."][sorted({c for _, c in series}).index(conc) % 4]
        label = f"{mode}, {conc} client{'s' if conc > 1 else ''}"
        b = [p[0] for p in pts]
        ax1.plot(b, [p[1] for p in pts], style, marker="o", color=color, label=label)
        ax2.plot(b, [p[2] for p in pts], style, marker="o", color=color, label=f"{label} p50")
        ax2.plot(b, [p[3] for p in pts], style, marker="x", color=color, alpha=0.5,
                 label=f"{label} p99")
    batches = sorted({p[0] for pts in series.values() for p in pts})
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(batches)
        ax.set_xticklabels([str(b) for b in batches])
        ax.minorticks_off()
        ax.set_xlabel("batch size (rows per request)")
        ax.grid(True, which="both", alpha=0.3)
    ax1.set_ylabel("throughput (rows/s)")
    ax1.set_title("throughput")
    ax2.set_ylabel("latency (ms)")
    ax2.set_title("latency: p50 (o), p99 (x)")
    ax1.legend(fontsize=7)
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.png)
    print(f"plot_perf: wrote {args.png}")


if __name__ == "__main__":
    main()
