"""yard.metrics: report training metrics from inside a job.

    from yard import metrics
    metrics.log(step=100, loss=0.31, acc=0.92)
    metrics.checkpoint("ckpt-000100.pt", step=100)

The implementation is python/yard_metrics.py (a single standard-library file
that jobs may also copy and import on its own); see its docstring: it never
blocks, never raises, and writes through its own non-blocking handle so the
job's inherited YARD_METRICS_FD keeps its blocking mode.
"""
import yard_metrics as _impl
from yard_metrics import checkpoint, log, write_line  # noqa: F401

__all__ = ["log", "checkpoint", "write_line", "dropped"]


def __getattr__(name):
    if name == "dropped":       # a live counter, not a copy
        return _impl.dropped
    raise AttributeError(name)
