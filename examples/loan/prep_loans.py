#!/usr/bin/env python3
"""Prepare the loan-default data set for training (the first step of
examples/loan/pipeline.yaml): keep the rows whose every value parses and is
in range, cap extreme incomes and loan amounts, and write the train and test
files the trainer reads.

    prep_loans.py --in RAW_DIR --out DIR

RAW_DIR holds train.csv and test.csv as gen_loans.py writes them.
"""
import argparse
import math
import os

CAPS = {"income": 500.0, "loan_amount": 200.0}


def clean(path, out):
    kept = dropped = 0
    with open(path) as f, open(out + ".tmp", "w") as o:
        header = f.readline()
        names = header.strip().split(",")
        o.write(header)
        for line in f:
            try:
                vals = [float(v) for v in line.strip().split(",")]
            except ValueError:
                dropped += 1
                continue
            if len(vals) != len(names) or not all(map(math.isfinite, vals)):
                dropped += 1
                continue
            for i, n in enumerate(names):
                if n in CAPS:
                    vals[i] = min(vals[i], CAPS[n])
            o.write(",".join("%.4f" % v for v in vals[:-1])
                    + ",%d\n" % int(vals[-1]))
            kept += 1
    os.replace(out + ".tmp", out)
    return kept, dropped


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--in", dest="raw", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name in ("train.csv", "test.csv"):
        kept, dropped = clean(os.path.join(a.raw, name),
                              os.path.join(a.out, name))
        print("%s: kept %d rows, dropped %d" % (name, kept, dropped))


if __name__ == "__main__":
    main()
