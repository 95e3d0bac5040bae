#!/usr/bin/env python3
"""Compare trained loan-default models by their held-out accuracy and name
the best one (the last step of the example pipeline).

    pick_best.py MODEL [MODEL ...]      (files written by train_loan --out)

Exits 1 if no model beats always predicting "no default".
"""
import sys


def main(paths):
    best = None
    for path in paths:
        with open(path) as f:
            head = f.readline().split()
        info = dict(zip(head[::2], head[1::2]))
        acc = float(info["test_acc"])
        print("%-50s %-6s test accuracy %.4f" % (path, info["model"], acc))
        if best is None or acc > best[1]:
            best = (path, acc)
    print("best model: %s (test accuracy %.4f)" % best)
    return 0 if best[1] > 0.74 else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
