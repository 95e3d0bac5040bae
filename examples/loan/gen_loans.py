#!/usr/bin/env python3
"""Generate the loan-default data set: synthetic, seeded, reproducible.

Each row is an applicant: income (k$/year), debt-to-income ratio, credit
score, loan amount (k$), years employed, number of open credit lines,
past delinquencies, age; and the label: 1 if the loan defaulted.  Defaults
follow a hidden logistic model of those features plus noise, so a model can
learn them but not perfectly.  Same seed, same bytes.

    gen_loans.py --out DIR [--rows N] [--seed S] [--drift F]

--drift F shifts the applicants (higher incomes and debt, lower scores,
larger loans, by a fraction F) to stand for a population that moved since
the model was trained.

writes DIR/train.csv and DIR/test.csv (80/20 split) with a header line.
"""
import argparse
import math
import os
import random

FEATURES = ["income", "dti", "credit_score", "loan_amount", "years_employed",
            "open_lines", "delinquencies", "age"]


def applicant(rng, drift=0.0):
    income = max(8.0, rng.lognormvariate(math.log(55 * (1 + drift)), 0.5))
    dti = min(0.95, max(0.0, rng.gauss(0.32 + 0.15 * drift, 0.12)))
    score = min(850, max(300, int(rng.gauss(690 - 60 * drift, 70))))
    amount = max(1.0, rng.lognormvariate(math.log(18 * (1 + drift)), 0.7))
    years = max(0.0, rng.expovariate(1 / 6.0))
    lines = max(0, int(rng.gauss(7, 3)))
    delinq = min(10, int(rng.expovariate(1.4)))
    age = min(80, max(18, int(rng.gauss(41, 12))))
    return [income, dti, score, amount, years, lines, delinq, age]


def default_probability(x):
    income, dti, score, amount, years, lines, delinq, age = x
    z = (-1.2 - 0.018 * (income - 55) + 5.5 * (dti - 0.32)
         - 0.012 * (score - 690) + 0.035 * (amount - 18)
         - 0.06 * years + 0.03 * (lines - 7) + 0.45 * delinq
         - 0.01 * (age - 41))
    return 1 / (1 + math.exp(-z))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--drift", type=float, default=0.0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    rows = []
    for _ in range(a.rows):
        x = applicant(rng, a.drift)
        y = 1 if rng.random() < default_probability(x) else 0
        rows.append((x, y))
    os.makedirs(a.out, exist_ok=True)
    split = int(a.rows * 0.8)
    header = ",".join(FEATURES + ["default"]) + "\n"
    for name, part in (("train.csv", rows[:split]), ("test.csv", rows[split:])):
        tmp = os.path.join(a.out, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(header)
            for x, y in part:
                f.write(",".join("%.4f" % v for v in x) + ",%d\n" % y)
        os.replace(tmp, os.path.join(a.out, name))
    rate = sum(y for _, y in rows) / len(rows)
    print("wrote %d train and %d test applicants to %s (default rate %.1f%%)"
          % (split, a.rows - split, a.out, 100 * rate))


if __name__ == "__main__":
    main()
