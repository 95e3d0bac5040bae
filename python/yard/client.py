"""The request/reply client (see the package docstring)."""
import errno
import getpass
import itertools
import os
import re
import signal
import socket
import time

import zmq

from . import yard_pb2 as pb

PROTOCOL_VERSION = 1
DEFAULT_ENDPOINT = "tcp://127.0.0.1:7700"

JOB_STATES = {v.number: v.name[4:] for v in
              pb.DESCRIPTOR.enum_types_by_name["JobState"].values
              if v.name.startswith("JOB_") and v.number}
FINISHED_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}
_NODE_STATES = {v.number: v.name[5:] for v in
                pb.DESCRIPTOR.enum_types_by_name["NodeState"].values
                if v.number}
_END_REASONS = {v.number: v.name[4:].lower().replace("_", "-") for v in
                pb.DESCRIPTOR.enum_types_by_name["EndReason"].values}


class YardError(Exception):
    """The scheduler refused a request or reported an error.  `code` is an
    errno value (errno.ENOENT: no such job, errno.EINVAL: invalid spec)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class SchedulerUnreachable(YardError):
    """No answer from the scheduler within the timeout."""

    def __init__(self, message):
        super().__init__(errno.ETIMEDOUT, message)


_SIZE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:i?B)?$", re.I)
_DURATION_PART = re.compile(r"(\d+)([dhms])")


def parse_size(v):
    """512, "512M", "16G", "1.5T" (binary units) -> bytes."""
    if isinstance(v, int):
        if v < 0:
            raise ValueError("size must be >= 0")
        return v
    m = _SIZE.match(str(v).strip())
    if not m:
        raise ValueError("invalid size %r: use e.g. 512M or 16G" % v)
    mult = 1024 ** " KMGT".index(m.group(2).upper() or " ")
    return int(float(m.group(1)) * mult)


def parse_duration(v):
    """90, "90s", "30m", "2h", "1d", "1h30m", "HH:MM:SS" -> seconds."""
    if isinstance(v, (int, float)):
        if v < 0:
            raise ValueError("duration must be >= 0")
        return int(v)
    s = str(v).strip()
    if s.isdigit():
        return int(s)
    if ":" in s:
        parts = s.split(":")
        if len(parts) > 3 or not all(p.isdigit() for p in parts):
            raise ValueError("invalid duration %r: use HH:MM:SS" % v)
        total = 0
        for p in parts:
            total = total * 60 + int(p)
        return total
    pos, total = 0, 0
    for m in _DURATION_PART.finditer(s):
        if m.start() != pos:
            break
        total += int(m.group(1)) * {"d": 86400, "h": 3600, "m": 60,
                                    "s": 1}[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError("invalid duration %r: use e.g. 90s, 30m, 2h, 1h30m"
                         % v)
    return total


def _iso(ms):
    if not ms:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + \
        ".%03dZ" % (ms % 1000)


def _job(info):
    """JobInfo -> a dict with the keys of `yard --json status`."""
    sp = info.spec
    d = {
        "id": info.id,
        "name": sp.name,
        "state": JOB_STATES.get(info.state, "UNKNOWN"),
        "attempt": info.attempt,
        "node": info.node,
        "submit_time_ms": info.submit_time_ms,
        "submit_time": _iso(info.submit_time_ms),
        "start_time_ms": info.start_time_ms,
        "start_time": _iso(info.start_time_ms),
        "end_time_ms": info.end_time_ms,
        "end_time": _iso(info.end_time_ms),
        "exit_code": info.exit_code,
        "term_signal": info.term_signal,
        "end_reason": _END_REASONS.get(info.end_reason, "none"),
        "reason": info.reason,
        "cancel_requested": info.cancel_requested,
        "lost_count": info.lost_count,
        "argv": list(sp.argv),
        "env": {e.key: e.value for e in sp.env},
        "cpus": sp.cpus,
        "gpus": sp.gpus,
        "memory_bytes": sp.memory_bytes,
        "time_limit_s": sp.time_limit_s,
        "priority": sp.priority,
        "grace_s": sp.grace_s,
        "workdir": sp.workdir,
        "user": sp.user,
        "submit_dir": sp.submit_dir,
        "submit_host": sp.submit_host,
        "retries": sp.retries,
        "retry_exit_codes": list(sp.retry_exit_codes),
        "retry_backoff_s": sp.retry_backoff_s,
        "stop_signal": sp.stop_signal,
        "warn_signal": sp.warn_signal,
        "warn_seconds": sp.warn_seconds,
        "requeue_on_timeout": sp.requeue_on_timeout,
        "preemptible": sp.preemptible,
        "retries_used": info.retries_used,
        "eligible_time_ms": info.eligible_time_ms,
        "attempts": [_attempt(a) for a in info.attempts],
    }
    return d


def _attempt(a):
    """AttemptInfo -> a dict with the keys of `yard --json status`."""
    run = a.end_time_ms - a.start_time_ms \
        if a.start_time_ms and a.end_time_ms >= a.start_time_ms else 0
    return {
        "attempt": a.attempt,
        "node": a.node,
        "start_time_ms": a.start_time_ms,
        "start_time": _iso(a.start_time_ms),
        "end_time_ms": a.end_time_ms,
        "end_time": _iso(a.end_time_ms),
        "runtime_ms": run,
        "end_reason": _END_REASONS.get(a.end_reason, "none")
        if a.end_time_ms else "none",
        "exit_code": a.exit_code,
        "term_signal": a.term_signal,
        "reason": a.reason,
    }


def _signo(v):
    """A signal as a number: 10, "USR1", "SIGUSR1" or signal.SIGUSR1."""
    if isinstance(v, str) and not v.isdigit():
        name = v.upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        try:
            return int(getattr(signal, name))
        except AttributeError:
            raise ValueError("unknown signal %r" % v) from None
    return int(v)


def _node(n):
    return {
        "name": n.name,
        "state": _NODE_STATES.get(n.state, "UNKNOWN"),
        "hostname": n.hostname,
        "version": n.version,
        "cpus": n.cpus,
        "cpus_used": n.cpus_used,
        "memory_bytes": n.memory_bytes,
        "memory_used": n.memory_used,
        "gpus": n.gpus,
        "gpus_used": n.gpus_used,
        "running_jobs": n.running_jobs,
        "last_seen_ms": n.last_seen_ms,
        "registered_ms": n.registered_ms,
    }


class Client:
    """A connection to a yard-scheduler's client port.

    Every call waits at most `timeout` seconds for the scheduler (long polls
    such as wait() and logs(follow=True) wait longer, by design) and raises
    SchedulerUnreachable when it does not answer, YardError when it refuses.
    A Client is not thread-safe: use one per thread.
    """

    def __init__(self, endpoint=None, timeout=5.0):
        self.endpoint = endpoint or os.environ.get("YARD_SCHEDULER") or \
            DEFAULT_ENDPOINT
        self.timeout = timeout
        self._ctx = zmq.Context.instance()
        self._sock = None
        self._ids = itertools.count(int(time.time() * 1000) & 0xffffffff)

    def close(self):
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- transport ---------------------------------------------------------
    def _socket(self):
        if self._sock is None:
            s = self._ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RECONNECT_IVL, 100)
            s.connect(self.endpoint)
            self._sock = s
        return self._sock

    def _call(self, field, msg, wait_extra=0.0):
        env = pb.Envelope(version=PROTOCOL_VERSION,
                          request_id=next(self._ids))
        getattr(env, field).CopyFrom(msg)
        sock = self._socket()
        sock.send(env.SerializeToString())
        deadline = time.monotonic() + self.timeout + wait_extra
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sock.poll(int(left * 1000)):
                # forget the socket: a late reply must not meet a new request
                self.close()
                raise SchedulerUnreachable(
                    "no answer from the scheduler at %s after %gs: is "
                    "yard-scheduler running? (set YARD_SCHEDULER)"
                    % (self.endpoint, self.timeout + wait_extra))
            frame = sock.recv()
            reply = pb.Envelope()
            try:
                reply.ParseFromString(frame)
            except Exception:
                continue            # not a reply we can read: keep waiting
            if reply.request_id != env.request_id:
                continue            # a late answer to an abandoned request
            if reply.version != PROTOCOL_VERSION:
                raise YardError(errno.EPROTO, "the scheduler speaks protocol "
                                "version %d; this client speaks %d"
                                % (reply.version, PROTOCOL_VERSION))
            body = reply.WhichOneof("body")
            if body == "error":
                raise YardError(reply.error.code, reply.error.message)
            return getattr(reply, body)

    # -- requests ----------------------------------------------------------
    def submit(self, argv, name=None, cpus=0, gpus=0, mem=0, time=0,
               priority=0, env=None, workdir=None, grace=0, retries=0,
               retry_exit_codes=(), retry_backoff=0, signal=None,
               warn_signal=None, warn_seconds=0, requeue_on_timeout=False,
               preemptible=False):
        """Submit a job; return its id once the scheduler has committed it.
        argv: the command (a list; argv[0] is found through the worker's
        PATH).  mem: bytes or "16G"; time, grace, retry_backoff: seconds or
        "2h"; env: a dict added to the job's environment.  retries: runs
        again after a failure, retry_exit_codes: codes that always run it
        again; signal: the stop signal (10, "USR1"); warn_signal is sent
        warn_seconds before the time limit."""
        if isinstance(argv, str) or not argv:
            raise ValueError("argv must be a non-empty list of strings")
        spec = pb.JobSpec(name=name or "", argv=[str(a) for a in argv],
                          cpus=cpus, gpus=gpus,
                          memory_bytes=parse_size(mem),
                          time_limit_s=parse_duration(time),
                          priority=priority, grace_s=parse_duration(grace),
                          workdir=workdir or "",
                          user=getpass.getuser(),
                          submit_dir=os.getcwd(),
                          submit_host=socket.gethostname(),
                          retries=retries,
                          retry_exit_codes=[int(c) for c in retry_exit_codes],
                          retry_backoff_s=parse_duration(retry_backoff),
                          stop_signal=_signo(signal) if signal else 0,
                          warn_signal=_signo(warn_signal) if warn_signal
                          else 0,
                          warn_seconds=parse_duration(warn_seconds),
                          requeue_on_timeout=requeue_on_timeout,
                          preemptible=preemptible)
        for k, v in (env or {}).items():
            spec.env.add(key=str(k), value=str(v))
        return self._call("submit", pb.SubmitRequest(spec=spec)).job_id

    def status(self, job_id):
        return _job(self._call("job_status", pb.JobRequest(job_id=job_id)))

    def queue(self, all=False, limit=0):
        r = self._call("queue", pb.QueueRequest(all=all, limit=limit))
        return [_job(j) for j in r.jobs]

    def nodes(self):
        return [_node(n) for n in self._call("nodes", pb.NodesRequest()).nodes]

    def cancel(self, job_id):
        return _job(self._call("cancel", pb.CancelRequest(job_id=job_id)))

    def requeue(self, job_id):
        """Stop a running job and queue it again as a new attempt (not
        counted against its retries); a pending job is returned as it is.
        YardError EINVAL for a finished job."""
        return _job(self._call("requeue", pb.RequeueRequest(job_id=job_id)))

    def wait(self, job_id, timeout=None):
        """Block until the job is finished (or timeout seconds pass) and
        return its status.  Survives a scheduler restart."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            chunk = 30.0
            if deadline is not None:
                chunk = max(0.0, min(chunk, deadline - time.monotonic()))
            try:
                job = _job(self._call(
                    "wait_job", pb.WaitRequest(job_id=job_id,
                                               timeout_ms=int(chunk * 1000)),
                    wait_extra=chunk))
            except SchedulerUnreachable:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                continue
            if job["state"] in FINISHED_STATES:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                return job

    def logs(self, job_id, attempt=0, follow=False):
        """The job's output.  Without follow: the bytes written so far.
        With follow: a generator of chunks until the attempt is over."""
        if follow:
            return self._follow(job_id, attempt)
        out, offset = [], 0
        while True:
            r = self._call("logs", pb.LogsRequest(job_id=job_id,
                                                  attempt=attempt,
                                                  offset=offset))
            out.append(r.data)
            offset = r.offset + len(r.data)
            if not r.data or r.eof:
                return b"".join(out)

    def _follow(self, job_id, attempt):
        offset = 0
        while True:
            try:
                r = self._call("logs", pb.LogsRequest(
                    job_id=job_id, attempt=attempt, offset=offset,
                    wait_ms=10000), wait_extra=10.0)
            except SchedulerUnreachable:
                continue
            if r.data:
                yield r.data
            offset = r.offset + len(r.data)
            if r.eof:
                return
