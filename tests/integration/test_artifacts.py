"""The artifact store through `yard artifact put|get|stat`: round trips of
files and folders, content addressing (a second put sends nothing), clear
failures, resumed uploads (cut off by a client that stopped, and by a
kill -9 of the scheduler), and chunks that do not match their digest."""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import unittest

import zmq

from harness import ClusterTest, wait_for, YARD_BIN

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "python"))

from yard import yard_pb2 as pb                     # noqa: E402

CHUNK = 1 << 20
EBADMSG = 74
ECANCELED = 125


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 16), b""):
            h.update(b)
    return h.hexdigest()


def write_random(path, size, mode=0o644):
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    os.chmod(path, mode)


def snapshot(top):
    """{relative path: (mode bits, sha256)} of the regular files under top."""
    out = {}
    for d, _, files in os.walk(top):
        for n in files:
            p = os.path.join(d, n)
            out[os.path.relpath(p, top)] = (
                stat.S_IMODE(os.lstat(p).st_mode), sha256_file(p))
    return out


class RawClient:
    """Speaks the wire protocol directly, to do what `yard` never does."""

    def __init__(self, endpoint):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.next_id = 1

    def send(self, **body):
        """Send a request without waiting for its answer."""
        env = pb.Envelope(version=1, request_id=self.next_id, **body)
        self.next_id += 1
        self.sock.send(env.SerializeToString())

    def call(self, **body):
        self.send(**body)
        if not self.sock.poll(10000):
            raise AssertionError("no answer to %s" % list(body))
        reply = pb.Envelope()
        reply.ParseFromString(self.sock.recv())
        return reply

    def close(self):
        self.sock.close()
        self.ctx.term()


class ArtifactTest(ClusterTest):

    def put(self, path, *opts, check=True):
        p = self.cluster.yard("--json", "artifact", "put", *opts, path,
                              check=check)
        return json.loads(p.stdout) if p.returncode == 0 else p

    def blob_path(self, digest):
        return os.path.join(self.cluster.state_dir, "artifacts", "blobs",
                            digest[:2], digest)

    def partial_size(self, digest):
        try:
            return os.path.getsize(os.path.join(
                self.cluster.state_dir, "artifacts", "partial", digest))
        except FileNotFoundError:
            return 0

    def test_file_and_folder_round_trip(self):
        c = self.cluster
        src = os.path.join(self.root, "src")
        os.makedirs(os.path.join(src, "sub", "deeper"))
        write_random(os.path.join(src, "weights.bin"), 2 * CHUNK + 12345)
        write_random(os.path.join(src, "sub", "run.sh"), 100, 0o755)
        write_random(os.path.join(src, "sub", "secret"), 7, 0o600)
        write_random(os.path.join(src, "sub", "deeper", "empty"), 0)
        a = self.put(src)
        self.assertEqual(a["kind"], "tree")
        self.assertEqual(a["files"], 4)
        self.assertEqual(a["size"], 2 * CHUNK + 12345 + 100 + 7)
        self.assertEqual(len(a["digest"]), 64)
        dest = os.path.join(self.root, "back")
        g = c.json("artifact", "get", a["digest"], dest)
        self.assertEqual(g["kind"], "tree")
        self.assertEqual(snapshot(dest), snapshot(src))
        # the same content has the same digest, wherever it lies
        self.assertEqual(self.put(dest)["digest"], a["digest"])
        st = c.json("artifact", "stat", a["digest"])
        self.assertTrue(st["present"])
        self.assertEqual((st["kind"], st["files"]), ("tree", 4))
        # a single file: its bytes come back as a file
        f = os.path.join(src, "weights.bin")
        b = self.put(f)
        self.assertEqual((b["kind"], b["size"]), ("file", 2 * CHUNK + 12345))
        self.assertEqual(b["digest"], sha256_file(f))
        fdest = os.path.join(self.root, "weights.copy")
        c.yard("artifact", "get", b["digest"], fdest)
        self.assertEqual(sha256_file(fdest), b["digest"])
        # the human form starts with the digest
        line = c.yard("artifact", "put", f).stdout.decode().split()
        self.assertEqual(line[0], b["digest"])
        self.assertEqual(line[-1], "file")

    def test_second_put_sends_nothing(self):
        src = os.path.join(self.root, "data")
        os.makedirs(src)
        write_random(os.path.join(src, "a"), 3 * CHUNK)
        write_random(os.path.join(src, "b"), 1000)
        first = self.put(src)
        self.assertGreaterEqual(first["sent_bytes"], 3 * CHUNK + 1000)
        second = self.put(src)
        self.assertEqual(second["digest"], first["digest"])
        self.assertEqual(second["sent_bytes"], 0)
        # one changed file: only it and the new manifest travel
        write_random(os.path.join(src, "b"), 1000)
        third = self.put(src)
        self.assertNotEqual(third["digest"], first["digest"])
        self.assertLess(third["sent_bytes"], CHUNK)

    def test_unknown_digest_and_bad_arguments(self):
        c = self.cluster
        dest = os.path.join(self.root, "never")
        p = c.yard("artifact", "get", "ab" * 32, dest, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"has no artifact " + b"ab" * 32, p.stderr)
        self.assertFalse(os.path.exists(dest))
        p = c.yard("artifact", "stat", "ab" * 32, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"absent", p.stdout)
        p = c.yard("artifact", "get", "not-a-digest", dest, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"not an artifact digest", p.stderr)
        p = c.yard("artifact", "put", os.path.join(self.root, "nope"),
                   check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"nope", p.stderr)
        p = c.yard("artifact", "frobnicate", check=False)
        self.assertEqual(p.returncode, 2)
        # an existing destination is never overwritten
        f = os.path.join(self.root, "f")
        write_random(f, 10)
        d = self.put(f)["digest"]
        p = c.yard("artifact", "get", d, f, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"exists", p.stderr)
        self.assertIn(b"yard artifact get", c.yard("artifact", "--help").stdout)

    def test_cut_off_upload_is_resumed(self):
        f = os.path.join(self.root, "big")
        write_random(f, 3 * CHUNK + 77)
        digest = sha256_file(f)
        size = os.path.getsize(f)
        raw = RawClient(self.cluster.client_ep)
        try:
            with open(f, "rb") as fh:
                first = fh.read(CHUNK)
            r = raw.call(artifact_put=pb.ArtifactPut(
                digest=digest, size=size, offset=0, data=first))
            self.assertEqual(r.WhichOneof("body"), "artifact_info")
            self.assertFalse(r.artifact_info.present)
            self.assertEqual(r.artifact_info.partial, CHUNK)
            # a chunk at the wrong offset writes nothing
            r = raw.call(artifact_put=pb.ArtifactPut(
                digest=digest, size=size, offset=2 * CHUNK, data=b"x" * 10))
            self.assertEqual(r.artifact_info.partial, CHUNK)
        finally:
            raw.close()
        p = self.cluster.yard("--json", "artifact", "stat", digest,
                              check=False)
        self.assertEqual(p.returncode, 1)
        st = json.loads(p.stdout)
        self.assertFalse(st["present"])
        self.assertIsNone(st["kind"])
        self.assertEqual(st["partial"], CHUNK)
        a = self.put(f)
        self.assertEqual(a["digest"], digest)
        self.assertEqual(a["sent_bytes"], size - CHUNK)
        dest = os.path.join(self.root, "big.back")
        self.cluster.yard("artifact", "get", digest, dest)
        self.assertEqual(sha256_file(dest), digest)

    def test_chunk_not_matching_digest_is_refused(self):
        good = b"the real content\n" * 100
        digest = hashlib.sha256(good).hexdigest()
        bad = bytearray(good)
        bad[5] ^= 0xff
        raw = RawClient(self.cluster.client_ep)
        try:
            r = raw.call(artifact_put=pb.ArtifactPut(
                digest=digest, size=len(bad), offset=0, data=bytes(bad)))
            self.assertEqual(r.WhichOneof("body"), "error")
            self.assertEqual(r.error.code, EBADMSG)
            self.assertIn("digest", r.error.message)
            # nothing of it was kept, and the right bytes are then accepted
            self.assertFalse(os.path.exists(self.blob_path(digest)))
            self.assertEqual(self.partial_size(digest), 0)
            r = raw.call(artifact_stat=pb.ArtifactStat(digest=digest))
            self.assertFalse(r.artifact_info.present)
            self.assertEqual(r.artifact_info.partial, 0)
            r = raw.call(artifact_put=pb.ArtifactPut(
                digest=digest, size=len(good), offset=0, data=good))
            self.assertTrue(r.artifact_info.present)
            # malformed digests are refused, not crashed on
            r = raw.call(artifact_put=pb.ArtifactPut(
                digest="../../etc/passwd", size=1, offset=0, data=b"x"))
            self.assertEqual(r.WhichOneof("body"), "error")
        finally:
            raw.close()
        self.assertTrue(self.cluster.scheduler.alive())

    def test_kill9_of_scheduler_mid_upload(self):
        c = self.cluster
        f = os.path.join(self.root, "huge")
        write_random(f, 160 * CHUNK)
        digest = sha256_file(f)
        env = dict(os.environ, YARD_SCHEDULER=c.client_ep)
        put = subprocess.Popen([YARD_BIN, "--timeout", "2s", "--json",
                                "artifact", "put", f], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: self.partial_size(digest) >= 4 * CHUNK
                     or put.poll() is not None, 30, "the upload to start")
            c.kill_scheduler()
            out, err = put.communicate(timeout=30)
        finally:
            if put.poll() is None:
                put.kill()
                put.wait()
        self.assertFalse(os.path.exists(self.blob_path(digest)),
                         "the upload finished before the kill: make the "
                         "file larger")
        self.assertEqual(put.returncode, 3, err)
        self.assertIn(b"no answer from the scheduler", err)
        held = self.partial_size(digest)
        self.assertGreater(held, 0)
        c.start_scheduler()
        a = self.put(f)
        self.assertEqual(a["digest"], digest)
        self.assertLessEqual(a["sent_bytes"], 160 * CHUNK - held)
        dest = os.path.join(self.root, "huge.back")
        c.yard("artifact", "get", digest, dest)
        self.assertEqual(sha256_file(dest), digest)

    def upload_but_last(self, n):
        """A random file of n chunks, all but its last chunk put: (path,
        digest, a function that sends the last chunk on a RawClient)."""
        f = os.path.join(self.root, "big%d" % n)
        write_random(f, n * CHUNK)
        digest = sha256_file(f)
        raw = RawClient(self.cluster.client_ep)
        try:
            with open(f, "rb") as fh:
                for i in range(n - 1):
                    r = raw.call(artifact_put=pb.ArtifactPut(
                        digest=digest, size=n * CHUNK, offset=i * CHUNK,
                        data=fh.read(CHUNK)))
                    self.assertEqual(r.artifact_info.partial, (i + 1) * CHUNK)
                last = fh.read(CHUNK)
        finally:
            raw.close()

        def put_last(cl):
            cl.send(artifact_put=pb.ArtifactPut(
                digest=digest, size=n * CHUNK, offset=(n - 1) * CHUNK,
                data=last))
        return f, digest, put_last

    def test_large_blob_is_verified_off_the_loop(self):
        # After a restart the scheduler has no hash state for an upload:
        # its last chunk means reading and hashing the whole blob.  That
        # runs on the thread pool: other requests are answered meanwhile,
        # and a second put of the same blob waits for the same end.
        c = self.cluster
        n = 64
        _, digest, put_last = self.upload_but_last(n)
        c.kill_scheduler()
        c.start_scheduler()
        a, b, q = (RawClient(c.client_ep) for _ in range(3))
        try:
            put_last(a)
            # answered while the 64 MiB are hashed
            r = q.call(artifact_stat=pb.ArtifactStat(digest=digest))
            self.assertFalse(r.artifact_info.present)
            self.assertFalse(a.sock.poll(0), "the put was answered before "
                             "a request sent after it: verified on the loop?")
            put_last(b)  # the same blob while it is verified: waits for it
            for cl in (a, b):
                self.assertTrue(cl.sock.poll(60000))
                r = pb.Envelope()
                r.ParseFromString(cl.sock.recv())
                self.assertEqual(r.WhichOneof("body"), "artifact_info", r)
                self.assertTrue(r.artifact_info.present)
                self.assertEqual(r.artifact_info.size, n * CHUNK)
            self.assertTrue(os.path.exists(self.blob_path(digest)))
            self.assertEqual(self.partial_size(digest), 0)
            # a large blob whose bytes do not match: refused at the end
            bad = os.urandom(2 * CHUNK + 5)
            wrong = hashlib.sha256(bad[:-1]).hexdigest()
            r = q.call(artifact_put=pb.ArtifactPut(
                digest=wrong, size=len(bad), offset=0, data=bad[:CHUNK]))
            self.assertEqual(r.artifact_info.partial, CHUNK)
            r = q.call(artifact_put=pb.ArtifactPut(
                digest=wrong, size=len(bad), offset=CHUNK,
                data=bad[CHUNK:2 * CHUNK]))
            self.assertEqual(r.artifact_info.partial, 2 * CHUNK)
            r = q.call(artifact_put=pb.ArtifactPut(
                digest=wrong, size=len(bad), offset=2 * CHUNK,
                data=bad[2 * CHUNK:]))
            self.assertEqual(r.WhichOneof("body"), "error", r)
            self.assertEqual(r.error.code, EBADMSG)
            self.assertFalse(os.path.exists(self.blob_path(wrong)))
            self.assertEqual(self.partial_size(wrong), 0)
        finally:
            for cl in (a, b, q):
                cl.close()
        self.assertTrue(c.scheduler.alive())

    def test_stop_while_a_blob_is_verified(self):
        # A scheduler told to stop while it verifies a large blob stops at
        # once, exit 0 (the verification is abandoned, the upload kept);
        # the next put of that blob finishes it.
        c = self.cluster
        f, digest, put_last = self.upload_but_last(64)
        c.kill_scheduler()   # no hash state: the whole blob is read back
        c.start_scheduler()
        raw = RawClient(c.client_ep)
        try:
            put_last(raw)
            # answered in order on one connection: the put was taken, and
            # its verification is running
            r = raw.call(artifact_stat=pb.ArtifactStat(digest=digest))
            self.assertFalse(r.artifact_info.present)
            self.assertEqual(c.scheduler.stop(timeout=30), 0)
            self.assertTrue(raw.sock.poll(5000), "the put was not answered")
            r = pb.Envelope()
            r.ParseFromString(raw.sock.recv())
            self.assertEqual(r.WhichOneof("body"), "error", r)
            self.assertEqual(r.error.code, ECANCELED)
        finally:
            raw.close()
        c.old_daemons.append(c.scheduler)
        c.start_scheduler()
        a = self.put(f)
        self.assertEqual(a["digest"], digest)
        self.assertTrue(os.path.exists(self.blob_path(digest)))
        self.assertEqual(self.partial_size(digest), 0)


# A job that reads its staged inputs and writes an output folder: the
# output is a sorted listing with sha256 of every input file, a copy of the
# data file, and an executable script.
STAGE_JOB = r"""
set -e
test -n "$YARD_INPUTS" && test -n "$YARD_OUTPUTS"
cd "$YARD_INPUTS"
find . -type f | sort | xargs sha256sum > "$YARD_OUTPUTS/results/listing"
cp data/sub/table.csv "$YARD_OUTPUTS/results/table.csv"
cp config.json "$YARD_OUTPUTS/results/config.json"
printf '#!/bin/sh\necho hi\n' > "$YARD_OUTPUTS/results/run.sh"
chmod 755 "$YARD_OUTPUTS/results/run.sh"
mkdir -p "$YARD_OUTPUTS/results/deep/er"
head -c 1500000 data/blob > "$YARD_OUTPUTS/results/deep/er/part"
echo done > "$YARD_OUTPUTS/logs/note"
"""


class StagingTest(ClusterTest):

    def put(self, path):
        return json.loads(self.cluster.yard("--json", "artifact", "put",
                                            path).stdout)

    def test_stage_in_and_collect(self):
        c = self.cluster
        self.start_workers("w1")
        data = os.path.join(self.root, "dataset")
        os.makedirs(os.path.join(data, "sub"))
        write_random(os.path.join(data, "blob"), 2 * CHUNK + 3)
        with open(os.path.join(data, "sub", "table.csv"), "w") as f:
            f.write("a,b\n1,2\n")
        cfg = os.path.join(self.root, "config.json")
        with open(cfg, "w") as f:
            f.write('{"lr": 0.1}\n')
        d_data = self.put(data)["digest"]
        d_cfg = self.put(cfg)["digest"]
        job = c.submit("sh", "-c", STAGE_JOB, opts=(
            "--stage-in", "data=" + d_data, "--stage-in",
            "config.json=" + d_cfg, "--collect", "results",
            "--collect", "logs"))
        self.assertEqual(c.wait(job), 0, c.yard("logs", job).stdout)
        st = c.status(job)
        self.assertEqual(st["state"], "COMPLETED")
        outs = {o["name"]: o for o in st["attempts"][-1]["outputs"]}
        self.assertEqual(sorted(outs), ["logs", "results"])
        back = os.path.join(self.root, "results")
        c.yard("artifact", "get", outs["results"]["digest"], back)
        # what the job made, rebuilt here
        expect = os.path.join(self.root, "expect")
        os.makedirs(os.path.join(expect, "deep", "er"))
        staged = os.path.join(self.root, "staged")
        os.makedirs(staged)
        shutil.copytree(data, os.path.join(staged, "data"))
        shutil.copy(cfg, os.path.join(staged, "config.json"))
        listing = subprocess.run(
            "find . -type f | sort | xargs sha256sum", shell=True,
            cwd=staged, capture_output=True, check=True).stdout
        with open(os.path.join(expect, "listing"), "wb") as f:
            f.write(listing)
        shutil.copy(os.path.join(data, "sub", "table.csv"), expect)
        shutil.copy(cfg, expect)
        with open(os.path.join(expect, "run.sh"), "w") as f:
            f.write("#!/bin/sh\necho hi\n")
        os.chmod(os.path.join(expect, "run.sh"), 0o755)
        with open(os.path.join(data, "blob"), "rb") as f:
            part = f.read(1500000)
        with open(os.path.join(expect, "deep", "er", "part"), "wb") as f:
            f.write(part)
        for p in ("listing", "table.csv", "config.json"):
            os.chmod(os.path.join(expect, p), 0o644)
        os.chmod(os.path.join(expect, "deep", "er", "part"), 0o644)
        got, want = snapshot(back), snapshot(expect)
        self.assertEqual({k: v[1] for k, v in got.items()},
                         {k: v[1] for k, v in want.items()})
        self.assertEqual(got["run.sh"][0], 0o755)
        self.assertEqual(outs["results"]["size"],
                         sum(os.path.getsize(os.path.join(back, p))
                             for p in got))
        # the human status names them too
        text = c.yard("status", job).stdout.decode()
        self.assertIn(outs["results"]["digest"], text)

    def test_missing_input_fails_the_attempt(self):
        c = self.cluster
        self.start_workers("w1")
        job = c.submit("true", opts=("--stage-in", "x=" + "cd" * 32))
        self.assertNotEqual(c.wait(job), 0)
        st = c.status(job)
        self.assertEqual(st["state"], "FAILED")
        self.assertIn("has no artifact " + "cd" * 32, st["reason"])
        self.assertIn(b"has no artifact", c.yard("logs", job).stdout)

    def test_bad_paths_are_refused_at_submit(self):
        c = self.cluster
        for bad in ("../x=" + "ab" * 32, "/etc/x=" + "ab" * 32,
                    "a/../../b=" + "ab" * 32, "x=nothex"):
            p = c.yard("submit", "--stage-in", bad, "--", "true", check=False)
            self.assertNotEqual(p.returncode, 0, bad)
            self.assertTrue(b"stage-in" in p.stderr, p.stderr)
        p = c.yard("submit", "--collect", "a/b", "--", "true", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"one folder name", p.stderr)

    def test_failed_job_collects_nothing(self):
        c = self.cluster
        self.start_workers("w1")
        job = c.submit("sh", "-c", 'echo x > "$YARD_OUTPUTS/out/f"; exit 3',
                       opts=("--collect", "out"))
        self.assertEqual(c.wait(job), 3)
        self.assertEqual(c.status(job)["attempts"][-1]["outputs"], [])


    def outage_job(self, flag):
        """A job that waits for flag, then writes its output folder."""
        c = self.cluster
        job = c.submit("sh", "-c",
                       'while [ ! -e %s ]; do sleep 0.05; done; '
                       'echo "$YARD_JOB_ID" > "$YARD_OUTPUTS/out/id"' % flag,
                       opts=("--collect", "out"))
        c.wait_state(job, "RUNNING")
        return job

    def result_file(self, job):
        return os.path.join(self.root, "worker-w1", "jobs", "%d.1" % job,
                            "result")

    def check_output(self, job):
        c = self.cluster
        self.assertEqual(c.wait(job), 0)
        outs = c.status(job)["attempts"][-1]["outputs"]
        self.assertEqual([o["name"] for o in outs], ["out"])
        back = os.path.join(self.root, "back")
        c.yard("artifact", "get", outs[0]["digest"], back)
        with open(os.path.join(back, "id")) as f:
            self.assertEqual(f.read().strip(), str(job))

    def test_outputs_wait_for_a_restarting_scheduler(self):
        c = self.cluster
        self.start_workers("w1")
        flag = os.path.join(self.root, "go")
        job = self.outage_job(flag)
        c.kill_scheduler()
        open(flag, "w").close()
        # the job ended; its outputs cannot be stored while the store is away
        wait_for(lambda: os.path.exists(self.result_file(job)), 20,
                 "the job to end")
        c.start_scheduler()
        self.check_output(job)

    def test_worker_killed_before_its_outputs_were_stored(self):
        c = self.cluster
        self.start_workers("w1")
        flag = os.path.join(self.root, "go")
        job = self.outage_job(flag)
        c.kill_scheduler()
        open(flag, "w").close()
        wait_for(lambda: os.path.exists(self.result_file(job)), 20,
                 "the job to end")
        c.kill_worker("w1")
        c.start_scheduler()
        c.start_worker("w1")
        self.check_output(job)


class GarbageCollectionTest(ClusterTest):
    """Unreferenced blobs go once older than --artifact-gc-age; what a job
    output names (a tree and every file in it) stays."""

    def test_gc_keeps_referenced_artifacts(self):
        c = self.cluster
        c.scheduler.stop()
        c.start_scheduler(extra=("--artifact-gc-interval", "1s",
                                 "--artifact-gc-age", "1s"))
        self.start_workers("w1")
        job = c.submit("sh", "-c", 'echo kept > "$YARD_OUTPUTS/out/a"; '
                       'mkdir "$YARD_OUTPUTS/out/d"; '
                       'echo also > "$YARD_OUTPUTS/out/d/b"',
                       opts=("--collect", "out"))
        self.assertEqual(c.wait(job), 0)
        out = c.status(job)["attempts"][-1]["outputs"][0]["digest"]
        junk = os.path.join(self.root, "junk")
        write_random(junk, 5000)
        d = json.loads(c.yard("--json", "artifact", "put", junk).stdout)
        self.assertTrue(c.json("artifact", "stat", d["digest"])["present"])

        def gone():
            p = c.yard("--json", "artifact", "stat", d["digest"],
                       check=False)
            return p.returncode == 1 and not json.loads(p.stdout)["present"]
        wait_for(gone, 30, "the unreferenced blob to be collected")
        st = c.json("artifact", "stat", out)
        self.assertTrue(st["present"], st)
        back = os.path.join(self.root, "back")
        c.yard("artifact", "get", out, back)
        with open(os.path.join(back, "d", "b")) as f:
            self.assertEqual(f.read(), "also\n")


class CheckpointCommitTest(ClusterTest):
    """Commits the scheduler must not record: from a node the attempt does
    not run on, of an attempt that is over, of an artifact the store does
    not hold."""

    def test_stale_and_unknown_commits_are_not_recorded(self):
        c = self.cluster
        self.start_workers("w1")
        flag = os.path.join(self.root, "go")
        job = c.submit("sh", "-c",
                       "while [ ! -e %s ]; do sleep 0.05; done" % flag)
        c.wait_state(job, "RUNNING")
        ck = os.path.join(self.root, "ck.bin")
        write_random(ck, 1000)
        digest = json.loads(c.yard("--json", "artifact", "put", ck)
                            .stdout)["digest"]
        fake = RawClient(c.worker_ep)
        try:
            r = fake.call(worker_register=pb.WorkerRegister(
                name="intruder", instance=99, hostname="x", version="0",
                cpus=0, memory_bytes=0))
            self.assertEqual(r.WhichOneof("body"), "register_reply")

            def commit(attempt, d=digest):
                return fake.call(checkpoint_commit=pb.CheckpointCommit(
                    record=pb.CheckpointRecord(
                        job_id=job, attempt=attempt, name="ck.bin", step=5,
                        digest=d, size=1000)))
            # the attempt runs on w1, not here
            r = commit(1)
            self.assertEqual(r.WhichOneof("body"), "checkpoint_ack")
            self.assertFalse(r.checkpoint_ack.accepted)
            self.assertIn("not running on intruder",
                          r.checkpoint_ack.reason)
            # an attempt that never was
            self.assertFalse(commit(7).checkpoint_ack.accepted)
            # a digest-less record (a shared checkpoint root) is held to
            # the same rule; a digest that is not one is refused
            r = commit(1, d="")
            self.assertEqual(r.WhichOneof("body"), "checkpoint_ack")
            self.assertFalse(r.checkpoint_ack.accepted)
            self.assertEqual(commit(1, d="xyz").WhichOneof("body"), "error")
            # bad names and digests are refused, not recorded
            r = fake.call(checkpoint_commit=pb.CheckpointCommit(
                record=pb.CheckpointRecord(job_id=job, attempt=1,
                                           name="../x", digest=digest)))
            self.assertEqual(r.WhichOneof("body"), "error")
            r = fake.call(checkpoint_commit=pb.CheckpointCommit())
            self.assertEqual(r.WhichOneof("body"), "error")
        finally:
            fake.close()
        self.assertEqual(c.json("checkpoints", job), [])
        open(flag, "w").close()
        self.assertEqual(c.wait(job), 0)
        self.assertEqual(c.json("checkpoints", job), [])
        p = c.yard("checkpoints", "999", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"no job 999", p.stderr)
        self.assertTrue(c.scheduler.alive())


if __name__ == "__main__":
    unittest.main()
