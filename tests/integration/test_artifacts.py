"""The artifact store through `yard artifact put|get|stat`: round trips of
files and folders, content addressing (a second put sends nothing), clear
failures, resumed uploads (cut off by a client that stopped, and by a
kill -9 of the scheduler), and chunks that do not match their digest."""
import hashlib
import json
import os
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

    def call(self, **body):
        env = pb.Envelope(version=1, request_id=self.next_id, **body)
        self.next_id += 1
        self.sock.send(env.SerializeToString())
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


if __name__ == "__main__":
    unittest.main()
