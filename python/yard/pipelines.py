"""Pipelines, datasets, models, schedules and triggers from Python.

    from yard import Client
    c = Client()
    run = c.pipeline_run("examples/loan/pipeline.yaml", params={"epochs": 3})
    print(c.pipeline_wait(run["id"])["state"])      # "completed"
    print(c.model_list())

A pipeline file is read with python3-yaml's node API, so every value keeps
the text it has in the file, exactly as the C loader (client/pipeline_yaml.c)
reads it: both build the same PipelineSpec, and the same file gives the
same cache keys from either client.  Declared code files are uploaded and
their digests put in the spec.
"""
import getpass
import os
import re
import socket
import time

import yaml

from . import yard_pb2 as pb
from .artifacts import digest_file

_PIPELINE_STATES = {v.number: v.name[9:].lower() for v in
                    pb.DESCRIPTOR.enum_types_by_name["PipelineState"].values
                    if v.number}
_STEP_STATES = {v.number: v.name[5:].lower() for v in
                pb.DESCRIPTOR.enum_types_by_name["StepState"].values
                if v.number}
_WHEN = re.compile(r"^\s*steps\.([A-Za-z0-9_-]+)\.metrics\.([A-Za-z0-9_.-]+)"
                   r"\s*(>=|<=|==|!=|>|<)\s*([-+0-9.eE]+)\s*$")
PIPELINE_FINISHED = {"completed", "failed", "cancelled"}

_STEP_KEYS = ("run", "needs", "inputs", "code", "outputs", "reuse",
              "resources", "retries", "env", "params", "register", "when")


class PipelineFileError(ValueError):
    """The pipeline file is wrong; the message says where (FILE:LINE)."""


def _bad(file, node, msg):
    return PipelineFileError("%s:%d: %s" % (file, node.start_mark.line + 1,
                                            msg))


def _scalar(file, node, what):
    if not isinstance(node, yaml.ScalarNode):
        raise _bad(file, node, "%s must be a plain value" % what)
    return node.value


def _mapping(file, node, what):
    if not isinstance(node, yaml.MappingNode):
        raise _bad(file, node, "%s must be a mapping" % what)
    out, seen = [], {}
    for k, v in node.value:
        key = _scalar(file, k, "a key of " + what)
        if key in seen:
            raise _bad(file, k, "'%s' is given twice (first at line %d)"
                       % (key, seen[key]))
        seen[key] = k.start_mark.line + 1
        out.append((key, k, v))
    return out


def _str_list(file, node, what):
    if isinstance(node, yaml.ScalarNode):
        return [node.value]
    if not isinstance(node, yaml.SequenceNode):
        raise _bad(file, node, "%s must be a list" % what)
    return [_scalar(file, n, what) for n in node.value]


def _kv(file, node, what):
    out = []
    for k, _kn, vn in _mapping(file, node, what):
        if any(k == e.key for e in out):
            raise _bad(file, _kn, "%s: '%s' is given twice" % (what, k))
        out.append(pb.EnvVar(key=k, value=_scalar(file, vn, what)))
    return out


def _bool(file, node, what):
    s = _scalar(file, node, what)
    if s in ("true", "yes", "on"):
        return True
    if s in ("false", "no", "off"):
        return False
    raise _bad(file, node, "%s must be true or false, not '%s'" % (what, s))


def _u32(file, node, what):
    s = _scalar(file, node, what)
    if not s.isdigit() or int(s) > 0xffffffff:
        raise _bad(file, node, "%s must be a whole number >= 0" % what)
    return int(s)


def load_pipeline(path, params=None, upload=None):
    """Read the pipeline file at path into a PipelineSpec.  params: a dict
    (or "KEY=VALUE" strings) overriding the file's.  upload(path) ->
    (digest, size) stores a code file (None: only hash it)."""
    with open(path, "rb") as f:
        text = f.read()
    real = os.path.realpath(path)
    folder = os.path.dirname(real) or "."
    try:
        root = yaml.compose(text.decode("utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise PipelineFileError("%s:%d: not valid YAML: %s" % (
            path, (mark.line + 1) if mark else 1,
            getattr(e, "problem", None) or e))
    if root is None:
        raise PipelineFileError("%s: the file is empty" % path)
    spec = pb.PipelineSpec()
    steps = None
    for key, kn, vn in _mapping(path, root, "a pipeline file"):
        if key == "name":
            spec.name = _scalar(path, vn, "name")
        elif key == "params":
            spec.params.extend(_kv(path, vn, "params"))
        elif key == "steps":
            steps = _mapping(path, vn, "steps")
        else:
            raise _bad(path, kn, "unknown key '%s' (known: name, params, "
                       "steps)" % key)
    if not spec.name:
        raise _bad(path, root, "the pipeline has no name:")
    if not steps:
        raise _bad(path, root, "the pipeline has no steps:")
    for name, kn, vn in steps:
        st = spec.steps.add(name=name)
        reg = None
        for key, k2, v in _mapping(path, vn, "step '%s'" % name):
            if key == "run":
                st.run = _scalar(path, v, "run")
            elif key in ("needs", "outputs"):
                getattr(st, key).extend(_str_list(path, v, key))
            elif key == "inputs":
                for e in _kv(path, v, "inputs"):
                    st.inputs.add(name=e.key, ref=e.value)
            elif key == "code":
                for rel in _str_list(path, v, "code"):
                    if rel.startswith("/") or ".." in rel:
                        raise _bad(path, v, "code file '%s': give a path "
                                   "relative to the pipeline file, without "
                                   "'..'" % rel)
                    full = os.path.join(folder, rel)
                    if not os.path.isfile(full):
                        raise _bad(path, v, "code file '%s' is not a "
                                   "regular file" % full)
                    d, _size = (upload or digest_file)(full)
                    st.code.add(path=rel, digest=d)
            elif key == "reuse":
                st.reuse = _bool(path, v, "reuse")
            elif key == "retries":
                st.retries = _u32(path, v, "retries")
            elif key == "resources":
                from .client import parse_duration, parse_size
                for rk, rkn, rv in _mapping(path, v, "resources"):
                    if rk in ("cpus", "gpus"):
                        setattr(st, rk, _u32(path, rv, "resources." + rk))
                    elif rk == "memory":
                        st.memory_bytes = parse_size(
                            _scalar(path, rv, "resources.memory"))
                    elif rk == "time_limit":
                        st.time_limit_s = parse_duration(
                            _scalar(path, rv, "resources.time_limit"))
                    else:
                        raise _bad(path, rkn, "unknown key '%s' in resources "
                                   "(known: cpus, gpus, memory, time_limit)"
                                   % rk)
            elif key == "env":
                st.env.extend(_kv(path, v, "env"))
            elif key == "params":
                st.params.extend(_kv(path, v, "params"))
            elif key == "register":
                reg = v
            elif key == "when":
                st.when = _scalar(path, v, "when")
            else:
                raise _bad(path, k2, "unknown key '%s' in step '%s' (known: "
                           "%s)" % (key, name, ", ".join(_STEP_KEYS)))
        if not st.run:
            raise _bad(path, vn, "step '%s' has no run: command" % name)
        if st.when:
            m = _WHEN.match(st.when)
            if not m:
                raise _bad(path, vn, "when '%s' is not understood: use "
                           "steps.STEP.metrics.KEY OP NUMBER" % st.when)
            if m.group(1) not in st.needs:
                raise _bad(path, vn, "when: step '%s' must be one that step "
                           "'%s' needs" % (m.group(1), name))
        if reg is not None:
            r = st.register_model
            for rk, rkn, rv in _mapping(path, reg, "register"):
                if rk not in ("model", "output", "when"):
                    raise _bad(path, rkn, "unknown key '%s' in register "
                               "(known: model, output, when)" % rk)
                setattr(r, rk, _scalar(path, rv, rk))
            if not r.model:
                raise _bad(path, reg, "register needs model: NAME")
            if not r.output:
                if len(st.outputs) != 1:
                    raise _bad(path, reg, "register needs output: NAME")
                r.output = st.outputs[0]
            if r.output not in st.outputs:
                raise _bad(path, reg, "register: step '%s' has no output "
                           "'%s'" % (name, r.output))
    if isinstance(params, dict):
        params = ["%s=%s" % kv for kv in params.items()]
    for p in params or ():
        k, eq, v = str(p).partition("=")
        if not eq or not k:
            raise ValueError("param '%s': give KEY=VALUE" % p)
        for e in spec.params:
            if e.key == k:
                e.value = v
                break
        else:
            spec.params.add(key=k, value=v)
    spec.submit_dir = folder
    spec.source = path
    try:
        spec.user = getpass.getuser()
    except Exception:
        pass
    spec.submit_host = socket.gethostname()
    return spec


def _run(info):
    """PipelineRunInfo -> a dict with the keys of `yard --json pipeline
    status` (states in lower case)."""
    steps = []
    for st in info.steps:
        dur = st.end_time_ms - st.start_time_ms \
            if st.start_time_ms and st.end_time_ms else 0
        steps.append({
            "name": st.name,
            "needs": list(st.needs),
            "state": _STEP_STATES.get(st.state, "unknown"),
            "reused": st.state == pb.STEP_REUSED,
            "job_id": st.job_id,
            "reused_run": st.reused_run,
            "reused_step": st.reused_step,
            "start_ms": st.start_time_ms,
            "end_ms": st.end_time_ms,
            "duration_ms": dur,
            "reason": st.reason,
            "cache_key": st.cache_key,
            "outputs": [{"name": o.name, "digest": o.digest, "size": o.size}
                        for o in st.outputs],
        })
    return {
        "id": info.id,
        "name": info.name,
        "state": _PIPELINE_STATES.get(info.state, "unknown"),
        "origin": info.origin,
        "create_ms": info.create_time_ms,
        "end_ms": info.end_time_ms,
        "reason": info.reason,
        "resumed_from": info.resumed_from,
        "params": {e.key: e.value for e in info.params},
        "steps": steps,
    }


def _version(v):
    return {"model": v.model, "version": v.version, "digest": v.digest,
            "size": v.size, "created_ms": v.created_ms,
            "metrics": {m.key: m.value for m in v.metrics},
            "job": v.job_id, "run": v.run_id, "step": v.step}


class PipelinesMixin:
    """Client methods for pipelines, datasets, models, schedules and
    triggers (results are dicts with the keys of the CLI's --json)."""

    # -- pipelines ----------------------------------------------------------
    def pipeline_load(self, path, params=None):
        """The PipelineSpec of a file, its code files uploaded."""
        return load_pipeline(path, params, upload=self.artifact_put)

    def pipeline_run(self, path_or_spec, params=None, resume_from=0):
        spec = path_or_spec if isinstance(path_or_spec, pb.PipelineSpec) \
            else self.pipeline_load(path_or_spec, params)
        return _run(self._call("pipeline_run", pb.PipelineRunRequest(
            spec=spec, resume_from=resume_from)))

    def pipeline_status(self, run_id):
        return _run(self._call("pipeline_status",
                               pb.PipelineStatusRequest(run_id=run_id)))

    def pipeline_list(self, name="", limit=0):
        r = self._call("pipeline_list", pb.PipelineListRequest(
            name=name, limit=limit))
        return [_run(i) for i in r.runs]

    def pipeline_cancel(self, run_id):
        return _run(self._call("pipeline_cancel",
                               pb.PipelineCancelRequest(run_id=run_id)))

    def pipeline_rerun(self, run_id):
        """Run run_id's pipeline again as it was, reusing its completed
        steps (`yard pipeline rerun`)."""
        return _run(self._call("pipeline_run", pb.PipelineRunRequest(
            resume_from=run_id)))

    def pipeline_explain(self, run_id, step):
        """Why step was reused, or which parts of its key changed."""
        r = self._call("pipeline_explain", pb.PipelineExplainRequest(
            run_id=run_id, step=step))
        return {"run_id": r.run_id, "step": r.step,
                "state": _STEP_STATES.get(r.state, "unknown"),
                "cache_key": r.cache_key, "reused_run": r.reused_run,
                "reused_step": r.reused_step,
                "compared_run": r.compared_run, "lines": list(r.lines),
                "key_parts": r.key_parts}

    def pipeline_wait(self, run_id, timeout=None, interval=0.2):
        """Wait until the run ends (or timeout seconds pass); return its
        status.  Follows the run's pushed events; polls every interval
        seconds a scheduler without pipeline events."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            # subscribed before the status is read, so that no change
            # falls between; until the run's own change, or 5 s without
            # events (then the status again, in case some were lost)
            left = None if deadline is None else deadline - time.monotonic()
            wait = 5.0 if left is None else max(0.0, min(5.0, left))
            try:
                events = self.events(run_id=run_id, timeout=wait)
            except Exception:   # an older scheduler: poll
                break
            try:
                r = self.pipeline_status(run_id)
                if r["state"] in PIPELINE_FINISHED:
                    return r
                if deadline is not None and time.monotonic() >= deadline:
                    return r
                for e in events:
                    if not e["step"] and e["state"] in PIPELINE_FINISHED:
                        break
            finally:
                events.close()
        while True:
            r = self.pipeline_status(run_id)
            if r["state"] in PIPELINE_FINISHED:
                return r
            if deadline is not None and time.monotonic() >= deadline:
                return r
            time.sleep(interval)

    # -- datasets -----------------------------------------------------------
    def dataset_add(self, name, path):
        """Upload path (a file or folder) as the next version of dataset
        name; return the version's dict."""
        d, size = self.artifact_put(path)
        r = self._call("dataset", pb.DatasetRequest(
            action=pb.DatasetRequest.ADD, name=name, digest=d, size=size))
        return [{"name": i.name, "version": i.version, "digest": i.digest,
                 "size": i.size, "create_time_ms": i.create_time_ms}
                for i in r.datasets][-1]

    def dataset_list(self, name=""):
        r = self._call("dataset", pb.DatasetRequest(
            action=pb.DatasetRequest.LIST, name=name))
        return [{"name": i.name, "version": i.version, "digest": i.digest,
                 "size": i.size, "create_time_ms": i.create_time_ms}
                for i in r.datasets]

    # -- models -------------------------------------------------------------
    def model_register(self, model, path_or_digest, metrics=None, job=0):
        size = 0
        if os.path.exists(path_or_digest):
            d, size = self.artifact_put(path_or_digest)
        else:
            d = path_or_digest
        q = pb.ModelRequest(op="register", model=model, digest=d, job_id=job,
                            size=size)
        for k, v in (metrics or {}).items():
            q.metrics.add(key=k, value=float(v))
        return _version(self._call("model", q).versions[0])

    def model_list(self):
        return [_version(v) for v in
                self._call("model", pb.ModelRequest(op="list")).versions]

    def model_show(self, model, version=0):
        return [_version(v) for v in self._call("model", pb.ModelRequest(
            op="show", model=model, version=version)).versions]

    def model_get(self, model, dest, version=0):
        """Download version (0: the latest) of model to dest (which must not
        exist); return the version's dict."""
        v = self.model_show(model, version)[0]
        self.artifact_get(v["digest"], dest)
        return v

    # -- schedules and triggers ---------------------------------------------
    def schedule_add(self, name, cron, path, params=None):
        spec = self.pipeline_load(path, params)
        r = self._call("schedule", pb.ScheduleRequest(
            op="add", name=name, cron=cron,
            pipeline=spec.SerializeToString()))
        return [self._sched(s) for s in r.schedules]

    @staticmethod
    def _sched(s):
        return {"name": s.name, "cron": s.cron, "pipeline": s.pipeline_name,
                "created_ms": s.created_ms, "last_fire_ms": s.last_fire_ms,
                "next_fire_ms": s.next_fire_ms, "last_run": s.last_run}

    def schedule_list(self):
        r = self._call("schedule", pb.ScheduleRequest(op="list"))
        return [self._sched(s) for s in r.schedules]

    def schedule_remove(self, name):
        self._call("schedule", pb.ScheduleRequest(op="remove", name=name))

    @staticmethod
    def _trig(t):
        return {"name": t.name, "on": t.on, "pipeline": t.pipeline_name,
                "created_ms": t.created_ms, "fired": t.fired,
                "last_run": t.last_run}

    def trigger_add(self, name, on, path, params=None):
        spec = self.pipeline_load(path, params)
        r = self._call("trigger", pb.TriggerRequest(
            op="add", name=name, on=on, pipeline=spec.SerializeToString()))
        return [self._trig(t) for t in r.triggers]

    def trigger_list(self):
        r = self._call("trigger", pb.TriggerRequest(op="list"))
        return [self._trig(t) for t in r.triggers]

    def trigger_remove(self, name):
        self._call("trigger", pb.TriggerRequest(op="remove", name=name))
