"""Job metrics end to end: a job writes JSON lines to $YARD_METRICS_FD, the
worker spools and ships them, the scheduler stores them, `yard metrics`
reads them back: complete, in order, across a scheduler kill -9, with
malformed lines counted and resumed attempts superseding what they redid."""
import json
import os
import time
import unittest

from harness import ClusterTest, wait_for

N = 100000

# 100000 points, paced over ~4 s so the scheduler outage falls in the
# middle, plus 3 lines that are not JSON objects, one over 64 KiB (both
# malformed) and a checkpoint note (not a point, not malformed).
WRITER = r'''
import os, sys, time
fd = int(os.environ["YARD_METRICS_FD"])
f = os.fdopen(fd, "w", buffering=1 << 16)
n = int(sys.argv[1])
for i in range(n):
    f.write('{"step": %d, "loss": %r}\n' % (i, 1.0 / (i + 1)))
    if i == 100:
        f.write('not json\n[1, 2]\n"x"\n')
        f.write('{"pad": "%s"}\n' % ("y" * 70000))
        f.write('{"checkpoint": "ckpt-100.pt"}\n')
    if i % 5000 == 0:
        f.flush()
        time.sleep(0.2)
f.close()
'''

# Attempt 1 reports steps 0..9 (value 1) and waits to be lost; attempt 2
# resumes at step 5 and reports 5..14 (value 2).
RESUMER = r'''
import os, sys, time
fd = int(os.environ["YARD_METRICS_FD"])
attempt = int(os.environ["YARD_ATTEMPT"])
first, last = (0, 10) if attempt == 1 else (5, 15)
for s in range(first, last):
    os.write(fd, b'{"step": %d, "acc": %d}\n' % (s, attempt))
if attempt == 1:
    release = sys.argv[1]
    while not os.path.exists(release):
        time.sleep(0.1)
'''


class MetricsTest(ClusterTest):

    def metrics(self, job, *opts):
        return json.loads(self.cluster.yard("--json", "metrics", *opts, job)
                          .stdout)

    def test_100k_points_survive_scheduler_kill9(self):
        c = self.cluster
        self.start_workers("w1")
        job = c.submit("/usr/bin/python3", "-c", WRITER, str(N))
        c.wait_state(job, "RUNNING")
        # some metrics reached the scheduler, then it dies mid-run
        wait_for(lambda: len(self.metrics(job)) > 0, 20, "first metrics")
        c.kill_scheduler()
        time.sleep(10.0)    # the outage itself: the worker spools meanwhile
        c.start_scheduler()
        self.assertEqual(c.wait(job, timeout=90), 0)

        t0 = time.monotonic()
        pts = self.metrics(job)
        took = time.monotonic() - t0
        self.assertEqual(len(pts), N)
        self.assertEqual([p["step"] for p in pts], list(range(N)))
        self.assertTrue(all(p["key"] == "loss" and p["attempt"] == 1
                            and not p["superseded"] for p in pts))
        for i in (0, 1, 777, N - 1):
            self.assertEqual(pts[i]["value"], 1.0 / (i + 1))
        print("\n  %d points fetched in %.2f s" % (N, took))

        human = c.yard("metrics", job).stdout.decode()
        self.assertIn("loss: %d points, steps 0..%d" % (N, N - 1), human)
        self.assertIn("malformed lines: 4", human)
        csv = c.yard("metrics", "--csv", "--key", "loss", job).stdout
        lines = csv.decode().splitlines()
        self.assertEqual(lines[0], "attempt,step,key,value,time_ms")
        self.assertEqual(len(lines), N + 1)
        self.assertTrue(lines[1].startswith("1,0,loss,1,"))

    def test_resumed_attempt_supersedes(self):
        c = self.cluster
        self.start_workers("w1")
        release = os.path.join(self.root, "release")
        job = c.submit("/usr/bin/python3", "-c", RESUMER, release)
        wait_for(lambda: len(self.metrics(job)) == 10, 20,
                 "attempt 1's 10 points")
        # lose the node: the job is requeued as attempt 2 elsewhere
        c.kill_worker("w1")
        self.start_workers("w2")
        c.wait_state(job, "COMPLETED", timeout=30)
        open(release, "w").close()  # let the orphan of attempt 1 go

        pts = self.metrics(job)
        self.assertEqual([(p["attempt"], p["step"]) for p in pts],
                         [(1, s) for s in range(5)]
                         + [(2, s) for s in range(5, 15)])
        allp = self.metrics(job, "--all")
        self.assertEqual(len(allp), 20)
        sup = [(p["attempt"], p["step"]) for p in allp if p["superseded"]]
        self.assertEqual(sup, [(1, s) for s in range(5, 10)])
        # ordered by step, then attempt
        self.assertEqual([p["step"] for p in allp],
                         sorted(p["step"] for p in allp))

    def test_python_helper(self):
        c = self.cluster
        self.start_workers("w1")
        pydir = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "..", "python")
        script = ("import sys; sys.path.insert(0, %r); import yard_metrics as m\n"
                  "for i in range(50): m.log(step=i, acc=i / 10, tag='x')\n"
                  "m.log(step=50, bad=float('nan'))\n" % pydir)
        job = c.submit("/usr/bin/python3", "-c", script)
        self.assertEqual(c.wait(job), 0)
        pts = self.metrics(job)
        self.assertEqual([(p["key"], p["step"]) for p in pts],
                         [("acc", i) for i in range(50)])

    def test_unknown_job_and_usage(self):
        c = self.cluster
        p = c.yard("metrics", "999", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"no job 999", p.stderr)
        p = c.yard("metrics", check=False)
        self.assertEqual(p.returncode, 2)
        p = c.yard("metrics", "--json", "--csv", "1", check=False)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main()
