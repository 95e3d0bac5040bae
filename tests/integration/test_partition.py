"""A partitioned worker ("Unattended training"): worker A runs in its own
network namespace, reached through a veth pair.  The link is cut while A
runs two jobs; the scheduler marks A lost after the worker timeout and
requeues both on worker B.  While cut, one of A's stale attempts finishes
(exit 7) and the other keeps running.  When the link comes back, A must not
be able to report for its stale attempts: the finished one's JobFinished is
ignored and the running one is killed; each job completes once, by its
attempt on B.

Needs root and `ip netns` (iproute2); skipped with the reason otherwise.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Cluster, ClusterTest, Daemon, wait_for

# Writes "start JOB ATTEMPT PID" to the ledger, waits for its release file
# (release-JOB-ATTEMPT), writes "done JOB ATTEMPT", and exits 7 on attempt
# 1 and 0 after.
JOB = r'''
import os, sys, time
d = sys.argv[1]
job, att = os.environ["YARD_JOB_ID"], os.environ["YARD_ATTEMPT"]
with open(os.path.join(d, "ledger"), "a") as f:
    f.write("start %s %s %d\n" % (job, att, os.getpid()))
rel = os.path.join(d, "release-%s-%s" % (job, att))
while not os.path.exists(rel):
    time.sleep(0.05)
with open(os.path.join(d, "ledger"), "a") as f:
    f.write("done %s %s\n" % (job, att))
sys.exit(7 if att == "1" else 0)
'''


def sh(*argv):
    return subprocess.run(argv, capture_output=True, text=True)


class PartitionTest(ClusterTest):

    worker_timeout = "5s"

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root for ip netns")
        if not shutil.which("ip"):
            self.skipTest("no 'ip' command (iproute2)")
        n = os.getpid() % 200 + 20
        self.ns = "yardpart%d" % os.getpid()
        self.vh, self.vn = "yvh%d" % os.getpid(), "yvn%d" % os.getpid()
        self.host_ip = "10.231.%d.1" % n
        self.ns_ip = "10.231.%d.2" % n
        r = sh("ip", "netns", "add", self.ns)
        if r.returncode != 0:
            self.skipTest("ip netns does not work here: %s" % r.stderr.strip())
        self.addCleanup(sh, "ip", "netns", "del", self.ns)
        steps = [
            ("ip", "link", "add", self.vh, "type", "veth", "peer", "name",
             self.vn),
            ("ip", "link", "set", self.vn, "netns", self.ns),
            ("ip", "addr", "add", self.host_ip + "/30", "dev", self.vh),
            ("ip", "link", "set", self.vh, "up"),
            ("ip", "netns", "exec", self.ns, "ip", "addr", "add",
             self.ns_ip + "/30", "dev", self.vn),
            ("ip", "netns", "exec", self.ns, "ip", "link", "set", self.vn,
             "up"),
            ("ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up"),
        ]
        for i, argv in enumerate(steps):
            r = sh(*argv)
            if r.returncode != 0:
                self.skipTest("cannot set up a veth pair: %s: %s"
                              % (" ".join(argv), r.stderr.strip()))
            if i == 0:
                self.addCleanup(sh, "ip", "link", "del", self.vh)
        # the scheduler's worker port on the host end of the link
        self.root = tempfile.mkdtemp(prefix="yard-it-")
        self.cluster = Cluster(self.root, worker_timeout=self.worker_timeout)
        self.cluster.worker_ep = "tcp://%s:0" % self.host_ip
        # the link is private to this test (a /30 between two ends on this
        # machine), so the non-loopback bind is safe
        self.cluster.start_scheduler(extra=("--insecure",))

    def start_ns_worker(self, name, cpus=2):
        c = self.cluster
        work = os.path.join(c.root, "worker-" + name)
        argv = ["ip", "netns", "exec", self.ns, harness.WORKER_BIN,
                "--scheduler", c.worker_ep, "--name", name, "--work-dir",
                work, "--memory", "1G", "--cpus", str(cpus),
                "--log-level", "debug", "--insecure"]
        env = dict(os.environ, YARD_FAKE_GPUS=os.devnull,
                   HWLOC_COMPONENTS="-pci")
        d = Daemon(argv, os.path.join(c.root, "worker-%s.log" % name),
                   env=env)
        c.workers[name] = d
        return d

    def ledger(self):
        try:
            with open(os.path.join(self.root, "ledger")) as f:
                return [l.split() for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def pid_of(self, job, attempt):
        for l in self.ledger():
            if l[0] == "start" and l[1:3] == [str(job), str(attempt)]:
                return int(l[3])
        return None

    def release(self, job, attempt):
        open(os.path.join(self.root, "release-%d-%d" % (job, attempt)),
             "w").close()

    def link(self, up):
        r = sh("ip", "link", "set", self.vh, "up" if up else "down")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_stale_attempts_cannot_report(self):
        c = self.cluster
        self.start_ns_worker("a")
        c.wait_nodes_up(["a"])
        x = c.submit("/usr/bin/python3", "-c", JOB, self.root)
        y = c.submit("/usr/bin/python3", "-c", JOB, self.root)
        for j in (x, y):
            c.wait_state(j, "RUNNING")
            self.assertEqual(c.status(j)["node"], "a")
        wait_for(lambda: self.pid_of(x, 1) and self.pid_of(y, 1), 20,
                 "both first attempts to start")
        c.start_worker("b", extra=("--insecure",))
        c.wait_nodes_up(["b"])

        self.link(False)
        # A is lost after the worker timeout; both jobs run again on B
        for j in (x, y):
            wait_for(lambda: (lambda s: s["attempt"] == 2 and
                              s["node"] == "b" and
                              s["state"] == "RUNNING")(c.status(j)),
                     40, "job %d to run again on b" % j)
        nodes = {n["name"]: n["state"] for n in c.json("nodes")}
        self.assertEqual(nodes["a"], "DOWN")
        # Y's stale attempt ends on A while it is cut off (exit 7); X's
        # keeps running
        self.release(y, 1)
        wait_for(lambda: ["done", str(y), "1"] in self.ledger(), 20,
                 "Y's first attempt to end")
        self.assertTrue(os.path.exists("/proc/%d" % self.pid_of(x, 1)))

        self.link(True)
        # A comes back: its stale X attempt is killed, Y's report ignored
        wait_for(lambda: not os.path.exists("/proc/%d" % self.pid_of(x, 1)),
                 60, "the stale attempt of X to be killed")
        wait_for(lambda: "job %d attempt 1: stale or duplicate finish" % y
                 in c.tail("scheduler.log", 2000), 30,
                 "Y's stale JobFinished to be ignored")
        c.wait_nodes_up(["a"], timeout=30)
        sy = c.status(y)
        self.assertEqual((sy["state"], sy["attempt"]), ("RUNNING", 2), sy)

        self.release(x, 2)
        self.release(y, 2)
        for j in (x, y):
            self.assertEqual(c.wait(j), 0)
            st = c.status(j)
            self.assertEqual(st["state"], "COMPLETED")
            self.assertEqual(st["exit_code"], 0)
            self.assertEqual(st["attempt"], 2)
            self.assertEqual(st["node"], "b")
            self.assertEqual([a["attempt"] for a in st["attempts"]], [1, 2])
            self.assertEqual(st["attempts"][0]["node"], "a")
            self.assertNotEqual(st["attempts"][0]["end_reason"], "exited")
            self.assertEqual(st["attempts"][1]["exit_code"], 0)
        done = sorted(tuple(l[1:]) for l in self.ledger() if l[0] == "done")
        # X completed once (its stale attempt never finished); Y's stale
        # attempt finished while cut off, and did not count
        self.assertEqual(done, sorted([(str(x), "2"), (str(y), "1"),
                                       (str(y), "2")]))



if __name__ == "__main__":
    unittest.main()
