#!/usr/bin/env python3
"""Checks a Prometheus text file against a test's expectations.

  check_exposition.py --text FILE.prom --expect FILE.json

Parses FILE.prom with prometheus_client.parser (the Prometheus text format
0.0.4 parser of the official Python client) and checks:
  * every sample in the text is expected, and every expected sample is in the
    text, with the exact value ("value") or within ["min", "max"];
  * each family has the expected type;
  * histograms: buckets cumulative in ascending `le`, the +Inf bucket equal
    to _count.
Prints every problem and exits 1 if there is any.
"""
import argparse
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def key(name, labels):
    return (name, tuple(sorted(labels.items())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--text", required=True)
    ap.add_argument("--expect", required=True)
    args = ap.parse_args()
    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    with open(args.expect, encoding="utf-8") as f:
        expect = json.load(f)

    problems = []
    samples = {}
    types = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            k = key(s.name, s.labels)
            if k in samples:
                problems.append(f"duplicate sample {k}")
            samples[k] = s.value

    for name, want in expect["types"].items():
        if types.get(name) != want:
            problems.append(f"family {name}: type {types.get(name)}, expected {want}")
    for name in types:
        if name not in expect["types"]:
            problems.append(f"unexpected family {name}")

    seen = set()
    for e in expect["samples"]:
        k = key(e["name"], e["labels"])
        seen.add(k)
        if k not in samples:
            problems.append(f"missing sample {k}")
            continue
        v = samples[k]
        if "value" in e:
            if not (v == e["value"] or (math.isnan(v) and math.isnan(e["value"]))):
                problems.append(f"{k}: {v}, expected {e['value']}")
        elif not (e["min"] <= v <= e["max"]):
            problems.append(f"{k}: {v}, expected in [{e['min']}, {e['max']}]")
    for k in samples:
        if k not in seen:
            problems.append(f"unexpected sample {k} = {samples[k]}")

    # Histogram structure.
    series = {}
    for (name, labels), v in samples.items():
        if name.endswith("_bucket"):
            rest = tuple(l for l in labels if l[0] != "le")
            le = dict(labels)["le"]
            series.setdefault((name[:-len("_bucket")], rest), []).append((float(le), v))
    for (base, rest), buckets in series.items():
        buckets.sort()
        counts = [c for _, c in buckets]
        if counts != sorted(counts):
            problems.append(f"{base}{dict(rest)}: buckets not cumulative: {buckets}")
        if buckets[-1][0] != math.inf:
            problems.append(f"{base}{dict(rest)}: no +Inf bucket")
        count = samples.get((base + "_count", rest))
        if count != buckets[-1][1]:
            problems.append(f"{base}{dict(rest)}: +Inf bucket {buckets[-1][1]} != _count {count}")

    for p in problems:
        print("PROBLEM: " + p)
    print(f"check_exposition: {len(samples)} samples in {len(types)} families, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
