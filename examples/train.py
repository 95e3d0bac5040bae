#!/usr/bin/env python3
"""Train a logistic-regression model with mini-batch SGD, the way a long
training job should run under Trainyard:

- it checkpoints after every epoch into $YARD_CHECKPOINT_DIR, atomically
  (write a temp file, then rename), keeping the last two;
- when $YARD_LATEST_CHECKPOINT is set (a resumed attempt) it continues from
  that checkpoint instead of starting over;
- on SIGTERM (preemption, cancel, time limit) it saves a checkpoint and
  exits at once;
- it reports metrics as JSON lines to $YARD_METRICS_FD when that is set,
  and always prints a progress line per epoch.

    train.py --data DIR --model PATH [--epochs N] [--lr LR] [--batch B]
"""
import argparse
import glob
import json
import math
import os
import random
import signal
import sys
import time

stop_requested = False


def on_term(signum, frame):
    global stop_requested
    stop_requested = True


def load(path):
    xs, ys = [], []
    with open(path) as f:
        for line in f:
            v = line.strip().split(",")
            xs.append([float(t) for t in v[:-1]])
            ys.append(int(v[-1]))
    return xs, ys


def sigmoid(z):
    if z < -35:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def save_checkpoint(ckdir, state):
    os.makedirs(ckdir, exist_ok=True)
    final = os.path.join(ckdir, "epoch-%06d.json" % state["epoch"])
    tmp = final + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    for old in sorted(glob.glob(os.path.join(ckdir, "epoch-*.json")))[:-2]:
        os.unlink(old)
    return final


def metrics_writer():
    fd = os.environ.get("YARD_METRICS_FD")
    if fd and fd.isdigit():
        try:
            return os.fdopen(int(fd), "w", buffering=1)
        except OSError:
            return None
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epoch-delay", type=float, default=0.0,
                    help="extra seconds per epoch (to make a demo job long)")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_term)

    xs, ys = load(os.path.join(a.data, "train.csv"))
    dims = len(xs[0])
    ckdir = os.environ.get("YARD_CHECKPOINT_DIR")
    state = {"epoch": 0, "w": [0.0] * dims, "b": 0.0, "seed": 7}
    latest = os.environ.get("YARD_LATEST_CHECKPOINT")
    if latest and os.path.isfile(latest):
        with open(latest) as f:
            state = json.load(f)
        print("resuming from %s at epoch %d (attempt %s)"
              % (latest, state["epoch"], os.environ.get("YARD_ATTEMPT")),
              flush=True)
    metrics = metrics_writer()
    rng = random.Random(state["seed"] + state["epoch"])
    order = list(range(len(xs)))
    w, b = state["w"], state["b"]
    while state["epoch"] < a.epochs:
        rng.shuffle(order)
        loss = 0.0
        for start in range(0, len(order), a.batch):
            batch = order[start:start + a.batch]
            gw = [0.0] * dims
            gb = 0.0
            for i in batch:
                p = sigmoid(sum(wj * xj for wj, xj in zip(w, xs[i])) + b)
                err = p - ys[i]
                loss -= (ys[i] * math.log(max(p, 1e-12))
                         + (1 - ys[i]) * math.log(max(1 - p, 1e-12)))
                for j in range(dims):
                    gw[j] += err * xs[i][j]
                gb += err
            for j in range(dims):
                w[j] -= a.lr * gw[j] / len(batch)
            b -= a.lr * gb / len(batch)
        state["epoch"] += 1
        state["w"], state["b"] = w, b
        loss /= len(xs)
        print("epoch %d/%d loss %.4f" % (state["epoch"], a.epochs, loss),
              flush=True)
        if metrics:
            metrics.write(json.dumps({"step": state["epoch"],
                                      "loss": round(loss, 6)}) + "\n")
        if ckdir:
            path = save_checkpoint(ckdir, state)
            if metrics:
                metrics.write(json.dumps({"checkpoint": path,
                                          "step": state["epoch"]}) + "\n")
        if stop_requested:
            print("stopping at epoch %d on SIGTERM; checkpoint saved"
                  % state["epoch"], flush=True)
            return 143
        if a.epoch_delay:
            time.sleep(a.epoch_delay)
    os.makedirs(os.path.dirname(os.path.abspath(a.model)), exist_ok=True)
    tmp = a.model + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"w": w, "b": b, "epochs": state["epoch"], "lr": a.lr}, f)
    os.replace(tmp, a.model)
    print("model written to %s" % a.model, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
