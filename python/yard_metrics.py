"""Report metrics from a training job running under Trainyard.

    import yard_metrics
    yard_metrics.log(step=100, loss=0.31, acc=0.92)
    yard_metrics.checkpoint("ckpt-000100.pt", step=100)

Writes one JSON line to the file descriptor in $YARD_METRICS_FD (the job
contract, see docs/user-guide.md "Report metrics").  Pure standard library;
copy this file next to your training script if you like.

Safe to call from training code: it never blocks (if the worker's pipe is
full the line is dropped and counted in `dropped`), never raises, and does
nothing outside yard (no YARD_METRICS_FD).  It writes through its own
non-blocking handle on the pipe (/proc/self/fd/N), so the job's inherited
fd keeps its blocking mode for other writers (a shell's `echo >&3`).
Non-finite values (NaN, inf) and non-numbers are left out: JSON has no NaN.
"""
import json
import math
import os

__all__ = ["log", "checkpoint", "write_line", "dropped"]

dropped = 0          # lines not written (pipe full, broken, or too long)
_fd = None
_looked = False
_PIPE_BUF = 4096     # a line up to this size is written whole or not at all


def _channel():
    global _fd, _looked
    if _looked:
        return _fd
    _looked = True
    v = os.environ.get("YARD_METRICS_FD", "")
    if not v.isdigit():
        return None
    try:
        _fd = os.open("/proc/self/fd/" + v, os.O_WRONLY | os.O_NONBLOCK
                      | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        _fd = None
    return _fd


def write_line(line):
    """Write one JSON object line as it is; True when written."""
    global dropped
    try:
        fd = _channel()
        if fd is None:
            return False
        data = line.rstrip("\n").encode("utf-8") + b"\n"
        if len(data) > _PIPE_BUF:
            dropped += 1
            return False
        return os.write(fd, data) == len(data)
    except Exception:  # BlockingIOError, BrokenPipeError, ...: never raise
        dropped += 1
        return False


def log(step=None, **values):
    """Report numeric values at a training step; True when written."""
    try:
        rec = {}
        if step is not None:
            rec["step"] = int(step)
        for k, v in values.items():
            if isinstance(v, bool) or isinstance(v, (str, bytes)):
                continue
            if not isinstance(v, (int, float)):
                try:
                    v = float(v)   # numpy and torch scalars
                except Exception:
                    continue
            if isinstance(v, float) and not math.isfinite(v):
                continue
            rec[k] = v
        return write_line(json.dumps(rec, separators=(",", ":")))
    except Exception:
        global dropped
        dropped += 1
        return False


def checkpoint(path, step=None):
    """Announce a checkpoint the job finished writing; True when written.

    path is inside $YARD_CHECKPOINT_DIR (absolute, or relative to it) and
    complete (renamed from its .tmp or dot name).  The worker stores it at
    once with this step instead of finding it at its next look at the
    folder; a path outside the folder is refused (counted as malformed).
    """
    try:
        rec = {"checkpoint": os.fspath(path)}
        if step is not None:
            rec["step"] = int(step)
        return write_line(json.dumps(rec, separators=(",", ":")))
    except Exception:
        global dropped
        dropped += 1
        return False
