#!/usr/bin/env python3
"""Evaluate a trained loan-default model (a step of
examples/loan/pipeline.yaml): read the held-out accuracy the trainer
measured, check it against always predicting "no default" on the test set,
report it as the metric `acc` (and `baseline`) on $YARD_METRICS_FD, and copy
the model into the step's output folder, which the pipeline registers as a
model version when `acc` beats the latest one.

    evaluate_loan.py --data DIR --model MODEL.txt --out DIR
"""
import argparse
import json
import os
import shutil
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.model) as f:
        head = f.readline().split()
    info = dict(zip(head[::2], head[1::2]))
    acc = float(info["test_acc"])
    labels = []
    with open(os.path.join(a.data, "test.csv")) as f:
        f.readline()
        for line in f:
            labels.append(int(line.strip().rsplit(",", 1)[1]))
    baseline = 1 - sum(labels) / max(1, len(labels))
    print("model %s: test accuracy %.4f, always-no-default baseline %.4f"
          % (info.get("model", "?"), acc, baseline))
    fd = os.environ.get("YARD_METRICS_FD")
    if fd:
        with os.fdopen(int(fd), "w") as m:
            m.write(json.dumps({"acc": acc, "baseline": baseline}) + "\n")
    os.makedirs(a.out, exist_ok=True)
    shutil.copy(a.model, os.path.join(a.out, "model.txt"))
    return 0 if acc > baseline else 1


if __name__ == "__main__":
    sys.exit(main())
