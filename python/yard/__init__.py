"""Trainyard's Python client: submit and watch jobs on a yard-scheduler.

    from yard import Client
    c = Client()                       # $YARD_SCHEDULER or tcp://127.0.0.1:7700
    job = c.submit(["python3", "train.py"], name="train", cpus=4, mem="16G",
                   time="2h")
    print(c.wait(job)["state"])        # "COMPLETED"
    print(c.logs(job).decode())

Pure Python over Debian's python3-zmq and python3-protobuf; the wire
messages are generated from proto/yard.proto (yard_pb2.py).
"""
from .client import (Client, YardError, SchedulerUnreachable, JOB_STATES,
                     FINISHED_STATES, parse_size, parse_duration)
from . import metrics
from .artifacts import digest_path
from .pipelines import load_pipeline, PipelineFileError

__all__ = ["Client", "YardError", "SchedulerUnreachable", "JOB_STATES",
           "FINISHED_STATES", "parse_size", "parse_duration", "metrics",
           "digest_path", "load_pipeline", "PipelineFileError"]
