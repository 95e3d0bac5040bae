"""Report training metrics from inside a job, through the job contract:
one JSON object per line on the file descriptor in $YARD_METRICS_FD.

    from yard import metrics
    metrics.log(step=100, loss=0.31, acc=0.92)

Safe to call from training code: when there is no metrics channel, or it is
full or broken, the point is dropped (and counted in `dropped`); it never
blocks and never raises.
"""
import json
import os

dropped = 0
_fd = None
_checked = False


def _channel():
    global _fd, _checked
    if not _checked:
        _checked = True
        v = os.environ.get("YARD_METRICS_FD", "")
        if v.isdigit():
            try:
                fd = int(v)
                os.set_blocking(fd, False)
                _fd = fd
            except OSError:
                _fd = None
    return _fd


def log(step=None, **values):
    """Report numeric values at a training step; returns True if sent."""
    global dropped, _fd
    fd = _channel()
    if fd is None:
        dropped += 1
        return False
    point = dict(values)
    if step is not None:
        point["step"] = int(step)
    try:
        line = (json.dumps(point, allow_nan=False) + "\n").encode()
        if os.write(fd, line) != len(line):
            dropped += 1
            return False
        return True
    except BlockingIOError:         # the reader is behind: drop this point
        dropped += 1
        return False
    except OSError:                 # the channel is gone: stop trying
        dropped += 1
        _fd = None
        return False
    except (TypeError, ValueError):  # not a JSON number
        dropped += 1
        return False
