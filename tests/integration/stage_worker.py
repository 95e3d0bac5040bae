"""A worker that follows the stage_in/collect contract and really runs the
jobs, for tests of whole pipelines before the real worker's staging is
there: it registers on the worker port, and for each Dispatch fetches every
StageIn artifact to $YARD_INPUTS/<path> (a tree becomes a folder), creates
$YARD_OUTPUTS/<name> for each collect name, runs argv in the job's
submit_dir with the job's env, YARD_INPUTS, YARD_OUTPUTS and
YARD_METRICS_FD, ships the metrics lines it wrote (before JobFinished, as
the real worker does), stores each output folder as a tree after exit 0,
and reports JobFinished with the outputs.  One job at a time."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from yard import yard_pb2 as pb                              # noqa: E402
from yard.artifacts import (CHUNK, digest_bytes, digest_file,  # noqa: E402
                            tree_entries, tree_manifest)


class StageWorker(threading.Thread):

    def __init__(self, endpoint, name="sw", cpus=4):
        super().__init__(daemon=True)
        self.endpoint = endpoint
        self.name = name
        self.cpus = cpus
        self.stop = threading.Event()
        self.registered = threading.Event()
        self.rid = 0
        self.pending = []
        self.root = tempfile.mkdtemp(prefix="yard-stage-")

    # -- transport ------------------------------------------------------------
    def send(self, **body):
        self.rid += 1
        env = pb.Envelope(version=1, request_id=self.rid, **body)
        self.sock.send(env.SerializeToString())
        return self.rid

    def call(self, **body):
        rid = self.send(**body)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.sock.poll(200):
                env = pb.Envelope()
                env.ParseFromString(self.sock.recv())
                if env.request_id == rid:
                    if env.WhichOneof("body") == "error":
                        raise RuntimeError(env.error.message)
                    return env
                self.pending.append(env)
        raise RuntimeError("no reply from the scheduler")

    # -- artifacts ------------------------------------------------------------
    def get(self, digest):
        data = bytearray()
        while True:
            c = self.call(artifact_get=pb.ArtifactGet(
                digest=digest, offset=len(data), max_bytes=CHUNK)).artifact_chunk
            data += c.data
            if len(data) >= c.size or not c.data:
                return bytes(data)

    def fetch(self, digest, dest):
        data = self.get(digest)
        m = None
        if data.startswith(b'{"entries":'):
            m = json.loads(data)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if not (isinstance(m, dict) and m.get("yard_tree") == 1):
            with open(dest, "wb") as f:
                f.write(data)
            return
        os.makedirs(dest, exist_ok=True)
        for e in m["entries"]:
            full = os.path.join(dest, e["path"])
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(self.get(e["digest"]))
            os.chmod(full, e["mode"])

    def put_bytes(self, data):
        d = digest_bytes(data)
        off = 0
        while True:
            i = self.call(artifact_put=pb.ArtifactPut(
                digest=d, size=len(data), offset=off,
                data=data[off:off + CHUNK])).artifact_info
            if i.present:
                return d
            off = i.partial

    def put_tree(self, folder):
        entries = tree_entries(folder)
        for e in entries:
            with open(os.path.join(folder, e["path"]), "rb") as f:
                self.put_bytes(f.read())
        return (self.put_bytes(tree_manifest(entries)),
                sum(e["size"] for e in entries))

    # -- jobs -----------------------------------------------------------------
    def handle(self, d):
        job = os.path.join(self.root, "job-%d-%d" % (d.job_id, d.attempt))
        inp, out = os.path.join(job, "in"), os.path.join(job, "out")
        os.makedirs(inp)
        os.makedirs(out)
        start = int(time.time() * 1000)
        self.send(job_started=pb.JobStarted(
            job_id=d.job_id, attempt=d.attempt, pid=os.getpid(),
            start_time_ms=start))
        for si in d.spec.stage_in:
            self.fetch(si.digest, os.path.join(inp, si.path))
        for name in d.spec.collect:
            os.makedirs(os.path.join(out, name))
        env = dict(os.environ)
        env.update({e.key: e.value for e in d.spec.env})
        r, w = os.pipe()
        env.update(YARD_INPUTS=inp, YARD_OUTPUTS=out, YARD_METRICS_FD=str(w),
                   YARD_JOB_ID=str(d.job_id), YARD_ATTEMPT=str(d.attempt))
        cwd = d.spec.workdir or d.spec.submit_dir or job
        with open(os.path.join(job, "log"), "wb") as log:
            p = subprocess.Popen(list(d.spec.argv), cwd=cwd, env=env,
                                 stdout=log, stderr=subprocess.STDOUT,
                                 pass_fds=(w,))
            os.close(w)
            with os.fdopen(r, "rb") as mf:
                lines = mf.read().splitlines()
            code = p.wait()
        points, seq = [], 0
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if not isinstance(obj, dict):
                continue
            step = int(obj.get("step", 0))
            for k, v in obj.items():
                if k != "step" and isinstance(v, (int, float)) \
                        and not isinstance(v, bool):
                    points.append(pb.MetricPoint(step=step, key=k,
                                                 value=float(v), seq=seq,
                                                 time_ms=start))
            seq += 1
        if seq:
            self.call(metrics_batch=pb.MetricsBatch(
                job_id=d.job_id, attempt=d.attempt, first_seq=0,
                next_seq=seq, points=points))
        outs = []
        if code == 0:
            for name in d.spec.collect:
                dg, size = self.put_tree(os.path.join(out, name))
                outs.append(pb.NamedDigest(name=name, digest=dg, size=size))
        self.send(job_finished=pb.JobFinished(
            job_id=d.job_id, attempt=d.attempt, reason=pb.END_EXITED,
            exit_code=code, end_time_ms=int(time.time() * 1000),
            start_time_ms=start, outputs=outs))

    def run(self):
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(self.endpoint)
        self.send(worker_register=pb.WorkerRegister(
            name=self.name, instance=random.getrandbits(63) + 1,
            hostname="stage", version="test", cpus=self.cpus,
            memory_bytes=4 << 30))
        last_hb = 0.0
        while not self.stop.is_set():
            if time.monotonic() - last_hb > 0.3:
                self.send(heartbeat=pb.Heartbeat(name=self.name, running=0))
                last_hb = time.monotonic()
            if not self.pending and not self.sock.poll(100):
                continue
            env = self.pending.pop(0) if self.pending else None
            if env is None:
                env = pb.Envelope()
                env.ParseFromString(self.sock.recv())
            kind = env.WhichOneof("body")
            if kind == "register_reply":
                self.registered.set()
            elif kind == "dispatch":
                self.handle(env.dispatch)
        self.sock.close()
        shutil.rmtree(self.root, ignore_errors=True)
