#!/usr/bin/env python3
"""Prepare a data set for the example pipeline: a synthetic, reproducible
binary classification problem (two Gaussian blobs in D dimensions with label
noise), split into train and test CSV files.

    prep_data.py --out DIR [--rows N] [--dims D] [--seed S]
"""
import argparse
import os
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--dims", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--noise", type=float, default=0.05)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    centre = [rng.uniform(-1, 1) for _ in range(a.dims)]
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for _ in range(a.rows):
        y = rng.random() < 0.5
        sign = 1 if y else -1
        x = [sign * c + rng.gauss(0, 1.0) for c in centre]
        if rng.random() < a.noise:
            y = not y
        rows.append((x, int(y)))
    split = int(len(rows) * 0.8)
    for name, part in (("train.csv", rows[:split]), ("test.csv", rows[split:])):
        tmp = os.path.join(a.out, name + ".tmp")
        with open(tmp, "w") as f:
            for x, y in part:
                f.write(",".join("%.6f" % v for v in x) + ",%d\n" % y)
        os.replace(tmp, os.path.join(a.out, name))
    print("wrote %d train and %d test rows of %d features to %s"
          % (split, len(rows) - split, a.dims, a.out), flush=True)


if __name__ == "__main__":
    main()
