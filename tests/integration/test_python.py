"""The Python client against a real cluster, and its generated protocol
module kept in step with proto/yard.proto."""
import errno
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "python"))

import yard                                         # noqa: E402
from harness import ClusterTest                     # noqa: E402


class ProtoInSyncTest(unittest.TestCase):

    def test_generated_module_matches_proto(self):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["protoc", "--python_out=" + d, "-I",
                            os.path.join(ROOT, "proto"),
                            os.path.join(ROOT, "proto", "yard.proto")],
                           check=True)
            with open(os.path.join(d, "yard_pb2.py"), "rb") as f:
                fresh = f.read()
        with open(os.path.join(ROOT, "python", "yard", "yard_pb2.py"),
                  "rb") as f:
            self.assertEqual(f.read(), fresh, "python/yard/yard_pb2.py is "
                             "stale: run scripts/gen-python-proto.sh")


class ParseTest(unittest.TestCase):

    def test_sizes_and_durations(self):
        self.assertEqual(yard.parse_size("16G"), 16 << 30)
        self.assertEqual(yard.parse_size("1.5K"), 1536)
        self.assertEqual(yard.parse_size(42), 42)
        self.assertRaises(ValueError, yard.parse_size, "12Q")
        self.assertEqual(yard.parse_duration("1h30m"), 5400)
        self.assertEqual(yard.parse_duration("01:02:03"), 3723)
        self.assertEqual(yard.parse_duration(90), 90)
        self.assertRaises(ValueError, yard.parse_duration, "30m1x")


class PythonClientTest(ClusterTest):

    def test_submit_wait_logs_cancel(self):
        self.start_workers("w1")
        c = yard.Client(self.cluster.client_ep)
        self.addCleanup(c.close)
        job = c.submit(["sh", "-c", "echo hi from $YARD_JOB_ID; exit 3"],
                       name="py", env={"A": "b"}, time="5m")
        st = c.wait(job, timeout=60)
        self.assertEqual(st["state"], "FAILED")
        self.assertEqual(st["exit_code"], 3)
        self.assertEqual(st["name"], "py")
        self.assertEqual(st["env"], {"A": "b"})
        self.assertEqual(st["time_limit_s"], 300)
        self.assertEqual(c.logs(job), b"hi from %d\n" % job)
        # the CLI sees the same job the same way
        self.assertEqual(self.cluster.status(job)["state"], "FAILED")

        long = c.submit(["sleep", "300"])
        self.cluster.wait_state(long, "RUNNING")
        self.assertIn(long, [j["id"] for j in c.queue()])
        self.assertEqual([n["name"] for n in c.nodes()], ["w1"])
        c.cancel(long)
        self.assertEqual(c.wait(long, timeout=60)["state"], "CANCELLED")

        follow = c.submit(["sh", "-c", "for i in 1 2 3; do echo $i; "
                                 "sleep 0.1; done"])
        self.assertEqual(b"".join(c.logs(follow, follow=True)).split(),
                         [b"1", b"2", b"3"])

    def test_submit_many_durable(self):
        c = yard.Client(self.cluster.client_ep)
        self.addCleanup(c.close)
        jobs = [{"argv": ["true", str(i)], "name": "m%d" % i}
                for i in range(600)]
        jobs[10]["cpus"] = 5000         # refused by the scheduler
        jobs[20]["argv"] = []           # refused here, never sent
        res = c.submit_many(jobs)
        self.assertEqual(len(res), 600)
        self.assertIsInstance(res[10], yard.YardError)
        self.assertEqual(res[10].code, errno.EINVAL)
        self.assertIn("cpus", res[10].message)
        self.assertIsInstance(res[20], yard.YardError)
        ids = {i: r for i, r in enumerate(res) if i not in (10, 20)}
        self.assertTrue(all(isinstance(r, int) and r > 0
                            for r in ids.values()), res)
        self.assertEqual(len(set(ids.values())), 598)
        # acknowledged means committed: a kill -9 right after loses none,
        # and each id is the job of its own spec
        self.cluster.kill_scheduler()
        self.cluster.start_scheduler()
        queued = {j["id"]: j for j in c.queue()}
        for i, job_id in ids.items():
            self.assertEqual(queued[job_id]["name"], "m%d" % i)
            self.assertEqual(queued[job_id]["state"], "PENDING")
            self.assertEqual(queued[job_id]["argv"], ["true", str(i)])
        self.assertEqual(len(queued), 598)
        self.start_workers("w1")
        self.assertEqual(c.wait(ids[599], timeout=60)["state"], "COMPLETED")

    def test_metrics_read_back(self):
        self.start_workers("w1")
        c = yard.Client(self.cluster.client_ep)
        self.addCleanup(c.close)
        job = c.submit(["sh", "-c",
                        'echo \'{"step": 1, "loss": 0.5, "acc": 0.25}\' '
                        '>&$YARD_METRICS_FD; '
                        'echo \'{"step": 2, "loss": 0.125}\' '
                        '>&$YARD_METRICS_FD'])
        self.assertEqual(c.wait(job, timeout=60)["state"], "COMPLETED")
        points = c.metrics(job)
        self.assertEqual([(p["key"], p["step"], p["value"], p["attempt"])
                          for p in points],
                         [("acc", 1, 0.25, 1), ("loss", 1, 0.5, 1),
                          ("loss", 2, 0.125, 1)])
        # the same points, with the same keys, as the CLI's --json
        self.assertEqual(points, self.cluster.json("metrics", str(job)))
        self.assertEqual([p["value"] for p in c.metrics(job, key="loss")],
                         [0.5, 0.125])
        with self.assertRaises(yard.YardError) as e:
            c.metrics(987654)
        self.assertEqual(e.exception.code, 2)            # ENOENT

    def test_errors(self):
        c = yard.Client(self.cluster.client_ep)
        self.addCleanup(c.close)
        with self.assertRaises(yard.YardError) as e:
            c.status(987654)
        self.assertEqual(e.exception.code, 2)            # ENOENT
        with self.assertRaises(ValueError):
            c.submit([])
        with yard.Client("tcp://127.0.0.1:9", timeout=0.3) as dead:
            with self.assertRaises(yard.SchedulerUnreachable):
                dead.queue()


class MetricsHelperTest(unittest.TestCase):

    def test_log_without_channel_never_raises(self):
        env = dict(os.environ)
        env.pop("YARD_METRICS_FD", None)
        code = ("import sys; sys.path.insert(0, %r); from yard import metrics;"
                "assert metrics.log(step=1, loss=0.5) is False;"
                "assert metrics.dropped == 0" % os.path.join(ROOT, "python"))
        subprocess.run(["/usr/bin/python3", "-c", code], env=env, check=True)

    def test_log_writes_json_lines(self):
        r, w = os.pipe()
        code = ("import sys; sys.path.insert(0, %r); from yard import metrics;"
                "assert metrics.log(step=3, loss=0.25);"
                "assert metrics.log(step=4, loss=float('nan'))"
                % os.path.join(ROOT, "python"))
        env = dict(os.environ, YARD_METRICS_FD=str(w))
        subprocess.run(["/usr/bin/python3", "-c", code], env=env, check=True,
                       pass_fds=(w,))
        os.close(w)
        with os.fdopen(r) as f:
            # NaN is not JSON: the value is left out, the step kept
            self.assertEqual(f.read(), '{"step":3,"loss":0.25}\n{"step":4}\n')

    def test_full_pipe_never_blocks(self):
        # nobody reads the pipe: once it is full, lines are dropped and
        # counted, the call returns at once, and the inherited fd keeps
        # its blocking mode
        r, w = os.pipe()
        code = ("import os, sys, fcntl; sys.path.insert(0, %r);"
                "from yard import metrics\n"
                "ok = sum(bool(metrics.log(step=i, loss=0.5))"
                " for i in range(100000))\n"
                "assert 0 < ok < 100000, ok\n"
                "assert metrics.dropped == 100000 - ok, metrics.dropped\n"
                "fd = int(os.environ['YARD_METRICS_FD'])\n"
                "assert not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK\n"
                % os.path.join(ROOT, "python"))
        env = dict(os.environ, YARD_METRICS_FD=str(w))
        try:
            subprocess.run(["/usr/bin/python3", "-c", code], env=env,
                           check=True, pass_fds=(w,), timeout=30)
        finally:
            os.close(r)
            os.close(w)

    def test_reader_gone_never_raises(self):
        # the reading end is closed: no SIGPIPE death, no exception, the
        # line is counted as dropped
        r, w = os.pipe()
        os.close(r)
        code = ("import sys; sys.path.insert(0, %r); import yard_metrics as m\n"
                "assert m.log(step=1, loss=0.5) is False\n"
                "assert m.checkpoint('ckpt-1.pt', step=1) is False\n"
                "assert m.dropped == 2, m.dropped\n"
                "print('alive')\n" % os.path.join(ROOT, "python"))
        env = dict(os.environ, YARD_METRICS_FD=str(w))
        try:
            p = subprocess.run(["/usr/bin/python3", "-c", code], env=env,
                               pass_fds=(w,), timeout=30,
                               capture_output=True)
        finally:
            os.close(w)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, b"alive\n")


if __name__ == "__main__":
    unittest.main()
