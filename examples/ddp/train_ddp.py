#!/usr/bin/env python3
"""A small distributed data-parallel training run, as a multi-node Trainyard
job runs it: one process per task, configured only by the torchrun
environment (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, NODE_RANK,
MASTER_ADDR, MASTER_PORT) that the worker gives each task.

It trains a small MLP on synthetic regression data with DistributedDataParallel
over the gloo backend (CPU), each rank on its own shard, then checks that
every rank ends with bit-identical parameters (DDP's all-reduce keeps them in
step) and that the loss went down.  Exit status 0 only when both hold.

    yard submit --nodes 2 --tasks-per-node 2 -- python3 train_ddp.py
    torchrun --nproc-per-node 4 train_ddp.py      # the same, on one machine
"""
import argparse
import datetime
import os
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP


def env_int(name, default=None):
    v = os.environ.get(name)
    if v is None:
        if default is None:
            sys.exit("train_ddp: %s is not set: run me under Trainyard "
                     "(yard submit --nodes N ...) or torchrun" % name)
        return default
    return int(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds to wait for the other ranks")
    args = ap.parse_args()

    rank = env_int("RANK")
    world = env_int("WORLD_SIZE")
    local_rank = env_int("LOCAL_RANK", 0)
    env_int("MASTER_PORT")  # init_method env:// reads it and MASTER_ADDR
    torch.set_num_threads(max(1, env_int("OMP_NUM_THREADS", 1)))

    dist.init_process_group(
        "gloo", init_method="env://", rank=rank, world_size=world,
        timeout=datetime.timedelta(seconds=args.timeout))
    torch.manual_seed(0)  # same initial weights everywhere (DDP also syncs)
    model = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 1))
    ddp = DDP(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=args.lr)
    loss_fn = nn.MSELoss()

    # each rank draws its own shard of one synthetic problem
    true_w = torch.linspace(-1.0, 1.0, 16).unsqueeze(1)
    gen = torch.Generator().manual_seed(1000 + rank)
    first = last = None
    for step in range(args.steps):
        x = torch.randn(args.batch, 16, generator=gen)
        y = x @ true_w + 0.01 * torch.randn(args.batch, 1, generator=gen)
        opt.zero_grad()
        loss = loss_fn(ddp(x), y)
        loss.backward()
        opt.step()
        if first is None:
            first = loss.item()
        last = loss.item()

    # every rank must hold the very same parameters
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    gathered = [torch.zeros_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat)
    same = all(torch.equal(gathered[0], g) for g in gathered)
    losses = torch.tensor([last])
    dist.all_reduce(losses)
    mean_last = losses.item() / world
    print("rank %d/%d (local %d, node %s): loss %.4f -> %.4f, mean final "
          "%.4f, parameters %s across ranks" % (
              rank, world, local_rank, os.environ.get("NODE_RANK", "?"),
              first, last, mean_last, "identical" if same else "DIFFERENT"),
          flush=True)
    dist.barrier()
    dist.destroy_process_group()
    if not same:
        return 1
    if not mean_last < first:
        print("rank %d: the loss did not go down" % rank, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
