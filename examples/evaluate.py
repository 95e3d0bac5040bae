#!/usr/bin/env python3
"""Evaluate trained models on the held-out test set and report the best.

    evaluate.py --data DIR MODEL.json [MODEL.json ...]
"""
import argparse
import json
import math
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    rows = []
    with open(a.data + "/test.csv") as f:
        for line in f:
            v = line.strip().split(",")
            rows.append(([float(t) for t in v[:-1]], int(v[-1])))
    best = None
    for path in a.models:
        with open(path) as f:
            m = json.load(f)
        correct = 0
        for x, y in rows:
            z = sum(wj * xj for wj, xj in zip(m["w"], x)) + m["b"]
            correct += int((z > 0) == bool(y))
        acc = correct / len(rows)
        print("%-40s accuracy %.4f (lr %s, %d epochs)"
              % (path, acc, m.get("lr"), m.get("epochs", 0)), flush=True)
        if best is None or acc > best[1]:
            best = (path, acc)
    print("best model: %s (accuracy %.4f)" % best, flush=True)
    return 0 if best[1] > 0.6 else 1


if __name__ == "__main__":
    sys.exit(main())
