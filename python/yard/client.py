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
from .artifacts import ArtifactsMixin
from .pipelines import PipelinesMixin, _PIPELINE_STATES, _STEP_STATES

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


_DEP_CONDS = {"ok": pb.Dependency.OK, "any": pb.Dependency.ANY,
              "notok": pb.Dependency.NOTOK}
_ARRAY_RE = re.compile(r"^(\d+)(?:-(\d+)(?::(\d+))?)?(?:%(\d+))?$")


def parse_array(text):
    """"A-B[:S][%K]" or "A[%K]" -> an ArraySpec (as `yard submit
    --array`).  ValueError when malformed or over 100000 indices."""
    m = _ARRAY_RE.match(str(text))
    if not m:
        raise ValueError("array %r: expected FIRST-LAST[:STEP][%%MAX], e.g. "
                         "0-99%%10" % (text,))
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) is not None else first
    step = int(m.group(3)) if m.group(3) is not None else 1
    k = int(m.group(4)) if m.group(4) is not None else 0
    if step < 1 or first > last or last >= 2 ** 32 or \
            (m.group(4) is not None and k < 1):
        raise ValueError("array %r: out of range" % (text,))
    if (last - first) // step + 1 > 100000:
        raise ValueError("array %r: more than 100000 elements" % (text,))
    return pb.ArraySpec(first=first, last=last, step=step, max_running=k,
                        set=True)


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
        "usage": _usage(info.usage) if info.HasField("usage") else None,
        "latest_metrics": {m.key: m.value for m in info.latest_metrics},
        "array_id": info.array_id or None,
        "array_index": info.array_index if info.array_id else None,
    }
    d["nodes"] = sp.nodes
    if sp.nodes:            # a multi-node job: its nodes, by rank
        d.update({
            "tasks_per_node": sp.tasks_per_node,
            "gpus_per_task": sp.gpus_per_task,
            "gang_timeout_s": sp.gang_timeout_s,
            "master_port": info.master_port,
            "gang": [{"rank": g.rank, "node": g.node, "cpus": g.alloc.cpus,
                      "gpu_uuids": list(g.alloc.gpu_uuids),
                      "started": g.started, "finished": g.finished}
                     for g in info.gang],
        })
    if info.array_states:   # the array's first job: members by state
        d["array_states"] = {JOB_STATES[i]: n for i, n in
                             enumerate(info.array_states) if i in JOB_STATES}
    return d


def _attempt(a):
    """AttemptInfo -> a dict with the keys of `yard --json status`."""
    run = a.end_time_ms - a.start_time_ms \
        if a.start_time_ms and a.end_time_ms >= a.start_time_ms else 0
    d = {
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
        "usage": _usage(a.usage) if a.HasField("usage") else None,
    }
    if a.gang:              # a multi-node job's attempt: where it ran
        d["gang"] = [{"rank": g.rank, "node": g.node, "cpus": g.alloc.cpus,
                      "gpu_uuids": list(g.alloc.gpu_uuids)} for g in a.gang]
    return d


def _usage(u):
    """ResourceUse -> a dict with the keys of `yard --json status`."""
    d = {}
    if u.has_cpu:
        d.update(cpu_user_s=u.cpu_user_us / 1e6,
                 cpu_system_s=u.cpu_system_us / 1e6,
                 cpu_user_us=u.cpu_user_us, cpu_system_us=u.cpu_system_us)
    if u.has_rss:
        d.update(peak_rss_bytes=u.peak_rss_bytes, rss_bytes=u.rss_bytes)
    if u.has_gpu:
        d.update(gpu_util_pct=u.gpu_util_pct,
                 gpu_memory_bytes=u.gpu_memory_bytes,
                 gpu_peak_memory_bytes=u.gpu_peak_memory_bytes)
    if not d:
        return None
    d.update(final=u.final, time_ms=u.time_ms, source=u.source)
    return d


def _event(e):
    """Event -> a dict with the keys of `yard events --json`."""
    if e.kind == pb.Event.PIPELINE:
        return {"seq": e.seq, "time_ms": e.time_ms, "kind": "pipeline",
                "run_id": e.pipeline_run, "step": e.step,
                "state": (_STEP_STATES.get(e.step_state, "unknown")
                          if e.step else
                          _PIPELINE_STATES.get(e.pipeline_state, "unknown")),
                "reason": e.reason}
    if e.kind == pb.Event.NODE:
        return {"seq": e.seq, "time_ms": e.time_ms, "kind": "node",
                "node": e.node,
                "state": _NODE_STATES.get(e.node_state, "UNKNOWN")}
    d = {"seq": e.seq, "time_ms": e.time_ms, "kind": "job",
         "node": e.node, "job_id": e.job_id,
         "state": JOB_STATES.get(e.state, "UNKNOWN"),
         "old_state": JOB_STATES.get(e.old_state), "attempt": e.attempt,
         "reason": e.reason}
    if d["state"] in FINISHED_STATES:
        d["exit_code"] = e.exit_code
        d["end_reason"] = _END_REASONS.get(e.end_reason, "none")
    return d


class _Subscription:
    """The generator of events(); close() ends the subscription even when
    no event was taken yet."""

    def __init__(self, gen, finish):
        self._gen = gen
        self._finish = finish

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._gen)

    def close(self):
        try:
            self._gen.close()
        finally:
            self._finish()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


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
        "labels": list(n.labels),
        "drain": n.drain,
        "state_reason": n.state_reason,
        "state_since_ms": n.state_since_ms,
        "display_state": _display_state(n),
        "advertise_addr": n.advertise_addr,
        "holdings": [_holding(h) for h in n.holdings],
        "cores_total": n.cores_total,
        "cores_free": n.cores_free,
        "pus_free": n.pus_free,
        "oversubscribe": n.oversubscribe,
    }


def _holding(h):
    """Holding -> a dict with the keys of `yard --json nodes`."""
    d = {"job_id": h.job_id, "cpus": h.alloc.cpus,
         "gpu_uuids": list(h.alloc.gpu_uuids),
         "memory_bytes": h.alloc.memory_bytes, "gang": h.gang}
    if h.gang:
        d["node_rank"] = h.node_rank
    return d


def _display_state(n):
    """The state shown to people, as libyard's yard_node_display_state."""
    state = _NODE_STATES.get(n.state, "UNKNOWN")
    if state == "LEAVING":
        return "leaving"
    if state != "UP":
        return "down"
    if n.drain:
        return "draining" if n.running_jobs > 0 else "drained"
    if n.cpus > 0 and n.cpus_used >= n.cpus:
        return "allocated"
    if n.cpus_used > 0 or n.running_jobs > 0:
        return "mixed"
    return "idle"


class Client(ArtifactsMixin, PipelinesMixin):
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
               preemptible=False, constraints=(), gpu_type=None,
               after=(), array=None, nodes=0, tasks_per_node=0,
               gpus_per_task=0, gang_timeout=0):
        """Submit a job; return its id once the scheduler has committed it.
        argv: the command (a list; argv[0] is found through the worker's
        PATH).  mem: bytes or "16G"; time, grace, retry_backoff: seconds or
        "2h"; env: a dict added to the job's environment.  retries: runs
        again after a failure, retry_exit_codes: codes that always run it
        again; signal: the stop signal (10, "USR1"); warn_signal is sent
        warn_seconds before the time limit.  after: dependencies, each a job
        id or (id, "ok"|"any"|"notok"); array: "0-9", "1-9:2", "0-99%10"
        (one job per index, at most 10 running): the call then returns the
        list of every job id, the first being the array id.  nodes: a
        multi-node job on that many nodes, each running tasks_per_node
        processes of `cpus` PUs and gpus_per_task GPUs, with the torchrun
        environment; gang_timeout: seconds or "2m" for all to start."""
        spec = self._spec(argv, name, cpus, gpus, mem, time, priority, env,
                          workdir, grace, retries, retry_exit_codes,
                          retry_backoff, signal, warn_signal, warn_seconds,
                          requeue_on_timeout, preemptible, constraints,
                          gpu_type, after, array, nodes, tasks_per_node,
                          gpus_per_task, gang_timeout)
        r = self._call("submit", pb.SubmitRequest(spec=spec))
        if array is not None:
            return list(r.job_ids) or [r.job_id]
        return r.job_id

    _SUBMIT_WINDOW = 512      # requests in flight in submit_many

    def submit_many(self, jobs):
        """Submit many jobs at once: jobs is a list of dicts, each holding
        the arguments of submit() ("argv" and any of the keywords).  Up to
        512 requests are in flight, so the scheduler commits them in
        batches and a pipeline enqueues thousands of different jobs a
        second; each job is acknowledged on its own once committed.
        Returns a list with, for each job in order, its id (for an array,
        the list of its ids) or the YardError that refused it, returned
        rather than raised (an invalid spec, found here or by the
        scheduler: code errno.EINVAL).  Raises SchedulerUnreachable when an answer does not come
        within the timeout: its `results` attribute then holds that list,
        with None for each job sent and not answered (it may or may not
        have been committed: a submission is never sent twice) or not
        sent."""
        jobs = list(jobs)
        results = [None] * len(jobs)
        sock = self._socket()
        first = next(self._ids)         # and a block of ids after it
        self._ids = itertools.count(first + len(jobs) + 1)
        waiting = {}                    # request id -> index
        sent = 0
        who = self._submitter()
        while sent < len(jobs) or waiting:
            while sent < len(jobs) and len(waiting) < self._SUBMIT_WINDOW:
                i = sent
                sent += 1
                try:
                    spec = self._spec(_who=who, **jobs[i])
                except (TypeError, ValueError) as e:
                    results[i] = YardError(errno.EINVAL, "job %d: %s"
                                           % (i, e))
                    continue
                env = pb.Envelope(version=PROTOCOL_VERSION,
                                  request_id=first + 1 + i,
                                  submit=pb.SubmitRequest(spec=spec))
                sock.send(env.SerializeToString())
                waiting[env.request_id] = i
            if not waiting:
                break
            if not sock.poll(int(self.timeout * 1000)):
                self.close()
                e = SchedulerUnreachable(
                    "no answer from the scheduler at %s after %gs (%d of %d "
                    "jobs answered, %d sent and not answered)"
                    % (self.endpoint, self.timeout,
                       sum(r is not None for r in results), len(jobs),
                       len(waiting)))
                e.results = results
                raise e
            while sock.poll(0):
                reply = pb.Envelope()
                try:
                    reply.ParseFromString(sock.recv())
                except Exception:
                    continue        # not a reply we can read
                i = waiting.pop(reply.request_id, None)
                if i is None:
                    continue        # a late answer, or a second one
                body = reply.WhichOneof("body")
                if reply.version != PROTOCOL_VERSION:
                    results[i] = YardError(errno.EPROTO, "the scheduler "
                                           "speaks protocol version %d"
                                           % reply.version)
                elif body == "error":
                    results[i] = YardError(reply.error.code,
                                           reply.error.message)
                elif body == "submit_reply" and reply.submit_reply.job_id:
                    r = reply.submit_reply
                    if jobs[i].get("array") is not None:
                        results[i] = list(r.job_ids) or [r.job_id]
                    else:
                        results[i] = r.job_id
                else:
                    results[i] = YardError(errno.EBADMSG, "the scheduler "
                                           "answered a submission with %r"
                                           % body)
        return results

    @staticmethod
    def _submitter():
        return getpass.getuser(), os.getcwd(), socket.gethostname()

    @staticmethod
    def _spec(argv, name=None, cpus=0, gpus=0, mem=0, time=0, priority=0,
              env=None, workdir=None, grace=0, retries=0, retry_exit_codes=(),
              retry_backoff=0, signal=None, warn_signal=None, warn_seconds=0,
              requeue_on_timeout=False, preemptible=False, constraints=(),
              gpu_type=None, after=(), array=None, nodes=0, tasks_per_node=0,
              gpus_per_task=0, gang_timeout=0, _who=None):
        """The JobSpec message for submit()'s arguments; _who: the user,
        directory and host (_submitter()), when known already."""
        user, cwd, host = _who or Client._submitter()
        if isinstance(argv, str) or not argv:
            raise ValueError("argv must be a non-empty list of strings")
        spec = pb.JobSpec(name=name or "", argv=[str(a) for a in argv],
                          cpus=cpus, gpus=gpus,
                          memory_bytes=parse_size(mem),
                          time_limit_s=parse_duration(time),
                          priority=priority, grace_s=parse_duration(grace),
                          workdir=workdir or "",
                          user=user, submit_dir=cwd, submit_host=host,
                          retries=retries,
                          retry_exit_codes=[int(c) for c in retry_exit_codes],
                          retry_backoff_s=parse_duration(retry_backoff),
                          stop_signal=_signo(signal) if signal else 0,
                          warn_signal=_signo(warn_signal) if warn_signal
                          else 0,
                          warn_seconds=parse_duration(warn_seconds),
                          requeue_on_timeout=requeue_on_timeout,
                          preemptible=preemptible,
                          constraints=[str(c) for c in constraints],
                          gpu_type=gpu_type or "",
                          nodes=nodes, tasks_per_node=tasks_per_node,
                          gpus_per_task=gpus_per_task,
                          gang_timeout_s=parse_duration(gang_timeout))
        for k, v in (env or {}).items():
            spec.env.add(key=str(k), value=str(v))
        for dep in after:
            job, cond = (dep, "ok") if isinstance(dep, int) else dep
            if cond not in _DEP_CONDS:
                raise ValueError("dependency condition %r: expected ok, any "
                                 "or notok" % (cond,))
            spec.after.add(job_id=int(job), condition=_DEP_CONDS[cond])
        if array is not None:
            spec.array.CopyFrom(parse_array(array))
        return spec

    def status(self, job_id):
        return _job(self._call("job_status", pb.JobRequest(job_id=job_id)))

    def queue(self, all=False, limit=0):
        r = self._call("queue", pb.QueueRequest(all=all, limit=limit))
        return [_job(j) for j in r.jobs]

    def nodes(self):
        return [_node(n) for n in self._call("nodes", pb.NodesRequest()).nodes]

    def _node_admin(self, node, action, reason="", labels=()):
        r = self._call("node_admin", pb.NodeAdminRequest(
            node=node, action=action, reason=reason or "",
            labels=[str(l) for l in labels]))
        return _node(r.nodes[0]) if r.nodes else None

    def drain(self, node, reason=""):
        """No new jobs go to node; its running jobs finish.  Returns the
        node.  YardError ENOENT for an unknown node."""
        return self._node_admin(node, pb.NodeAdminRequest.DRAIN, reason)

    def resume(self, node):
        """Lift a drain (an admin's or a health check's)."""
        return self._node_admin(node, pb.NodeAdminRequest.RESUME)

    def label(self, node, *labels):
        """Set labels ("key" or "key=value") on node."""
        return self._node_admin(node, pb.NodeAdminRequest.LABEL,
                                labels=labels)

    def unlabel(self, node, *keys):
        """Remove node's labels with these keys."""
        return self._node_admin(node, pb.NodeAdminRequest.UNLABEL,
                                labels=keys)

    def remove_node(self, node):
        """Forget a DOWN node with no jobs (YardError EBUSY otherwise)."""
        self._node_admin(node, pb.NodeAdminRequest.REMOVE)

    def cancel(self, job_id, array=False):
        """Cancel a job; with array=True, job_id is an array id (its first
        job) and every unfinished member is cancelled."""
        return _job(self._call("cancel", pb.CancelRequest(job_id=job_id,
                                                          array=array)))

    def requeue(self, job_id):
        """Stop a running job and queue it again as a new attempt (not
        counted against its retries); a pending job is returned as it is.
        YardError EINVAL for a finished job."""
        return _job(self._call("requeue", pb.RequeueRequest(job_id=job_id)))

    def metrics(self, job_id, key="", include_superseded=False, limit=0):
        """The metrics the job reported (as `yard --json metrics`): a list
        of dicts with attempt, step, key, value, time_ms and superseded, by
        key, then step, then attempt.  key: only that key; points of an
        earlier attempt past the step a later one resumed from are left out
        unless include_superseded."""
        r = self._call("metrics", pb.MetricsRequest(
            job_id=job_id, key=key, include_superseded=include_superseded,
            limit=limit))
        return [{"attempt": p.attempt, "step": p.step, "key": p.key,
                 "value": p.value, "time_ms": p.time_ms,
                 "superseded": p.superseded} for p in r.points]

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

    def events(self, job_id=0, nodes=False, timeout=None, pipelines=False,
               run_id=0):
        """Subscribe to state changes pushed by the scheduler: of job_id
        (0: every job) and, with nodes, of the nodes; with pipelines, of
        pipeline runs and steps too (kind "pipeline": run_id, step ("" for
        the run), state, reason); with run_id, of that pipeline run only.
        A scheduler without pipeline events raises YardError (EPROTO)
        for pipelines or run_id.  The subscription
        stands when this returns; the result is a generator of event dicts
        (the keys of `yard events --json`), in the order the scheduler
        committed the changes.  With timeout (seconds) it ends when no
        event came for that long.  It renews the subscription as it goes
        (also across a scheduler restart; events of the gap are lost).
        Close the generator (or let it go) to end the subscription."""
        sock = self._ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        rid = next(self._ids) | (1 << 40)
        want_pipelines = bool(pipelines or run_id)
        sub = pb.EventsSubscribe(job_id=job_id, nodes=nodes, ttl_ms=30000,
                                 pipelines=want_pipelines,
                                 pipeline_run=run_id)

        def send(cancel=False):
            env = pb.Envelope(version=PROTOCOL_VERSION, request_id=rid)
            env.events_subscribe.CopyFrom(sub)
            env.events_subscribe.cancel = cancel
            sock.send(env.SerializeToString())

        def recv(wait_s):
            if not sock.poll(max(0, int(wait_s * 1000))):
                return None
            env = pb.Envelope()
            try:
                env.ParseFromString(sock.recv())
            except Exception:
                return "skip"
            if env.request_id != rid:
                return "skip"
            body = env.WhichOneof("body")
            if body == "error":
                raise YardError(env.error.code, env.error.message)
            return env

        send()
        deadline = time.monotonic() + self.timeout
        ttl = 30.0
        while True:
            env = recv(deadline - time.monotonic())
            if env is None:
                sock.close(linger=0)
                raise SchedulerUnreachable(
                    "no answer from the scheduler at %s after %gs to an "
                    "events subscription" % (self.endpoint, self.timeout))
            if env != "skip" and env.WhichOneof("body") == "events_subscribed":
                ttl = max(1.0, env.events_subscribed.ttl_ms / 1000.0)
                if want_pipelines and not env.events_subscribed.pipelines:
                    send(cancel=True)
                    sock.close(linger=0)
                    raise YardError(errno.EPROTO, "the scheduler does not "
                                    "send pipeline events")
                break

        def gen():
            renew = time.monotonic() + ttl / 3
            end = None if timeout is None else time.monotonic() + timeout
            try:
                while True:
                    now = time.monotonic()
                    if now >= renew:
                        send()
                        renew = now + ttl / 3
                    wait = renew - now
                    if end is not None:
                        wait = min(wait, max(0.0, end - now))
                    env = recv(wait)
                    if env is None:
                        if end is not None and time.monotonic() >= end:
                            return
                        continue
                    if env != "skip" and env.WhichOneof("body") == "event":
                        if timeout is not None:
                            end = time.monotonic() + timeout
                        yield _event(env.event)
            finally:
                finish()

        def finish():
            if sock.closed:
                return
            try:
                send(cancel=True)
            finally:
                sock.close(linger=0)
        return _Subscription(gen(), finish)

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
