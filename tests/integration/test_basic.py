"""Submit, run, logs, wait, status, queue, nodes, cancel and time limits,
end to end through the real CLI."""
import json
import os
import time
import unittest

from harness import ClusterTest, wait_for


def process_gone(pid):
    """True when pid no longer exists or is a zombie."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


class BasicTest(ClusterTest):

    def setUp(self):
        super().setUp()
        self.start_workers("w1")

    def test_submit_logs_wait(self):
        c = self.cluster
        job = c.submit("sh", "-c", "echo hello from $YARD_JOB_ID attempt "
                       "$YARD_ATTEMPT; echo to-stderr >&2; exit 0",
                       opts=("--name", "greet"))
        self.assertEqual(c.wait(job), 0)
        st = c.status(job)
        self.assertEqual(st["state"], "COMPLETED")
        self.assertEqual(st["name"], "greet")
        self.assertEqual(st["attempt"], 1)
        self.assertEqual(st["node"], "w1")
        self.assertEqual(st["exit_code"], 0)
        out = c.yard("logs", job).stdout.decode()
        self.assertIn("hello from %d attempt 1" % job, out)
        self.assertIn("to-stderr", out)
        # human status mentions the state
        self.assertIn("COMPLETED", c.yard("status", job).stdout.decode())

    def test_exit_code_and_env(self):
        c = self.cluster
        job = c.submit("sh", "-c", 'test "$FOO" = bar && test -n '
                       '"$YARD_CHECKPOINT_DIR" && exit 7',
                       opts=("--env", "FOO=bar"))
        self.assertEqual(c.wait(job), 7)
        st = c.status(job)
        self.assertEqual(st["state"], "FAILED")
        self.assertEqual(st["exit_code"], 7)

    def test_command_not_found(self):
        c = self.cluster
        job = c.submit("/nonexistent/yard-test-command")
        self.assertEqual(c.wait(job), 127)
        st = c.status(job)
        self.assertEqual(st["state"], "FAILED")
        self.assertIn("yard-test-command", c.yard("logs", job).stdout.decode()
                      + st.get("reason", ""))

    def test_cancel_running_kills_process_group(self):
        c = self.cluster
        pidfile = os.path.join(self.root, "pids")
        # the job and a child in its process group both record their pids
        job = c.submit("sh", "-c", "sleep 300 & echo $! >> %s; echo $$ >> %s;"
                       " wait" % (pidfile, pidfile))
        wait_for(lambda: len(self.ledger(pidfile)) == 2, what="job pids")
        c.wait_state(job, "RUNNING")
        c.yard("cancel", job)
        self.assertEqual(c.wait(job), 125)
        self.assertEqual(c.status(job)["state"], "CANCELLED")
        for (pid,) in self.ledger(pidfile):
            wait_for(lambda: process_gone(pid), 5, "pid %s gone" % pid)

    def test_cancel_pending(self):
        c = self.cluster
        job = c.submit("true", opts=("--cpus", "64"))   # never fits
        st = c.status(job)
        self.assertEqual(st["state"], "PENDING")
        self.assertTrue(st["reason"])
        c.yard("cancel", job)
        self.assertEqual(c.status(job)["state"], "CANCELLED")
        self.assertEqual(c.wait(job), 125)

    def test_time_limit(self):
        c = self.cluster
        t0 = time.monotonic()
        job = c.submit("sleep", "300", opts=("--time", "1s", "--grace", "1s"))
        self.assertEqual(c.wait(job), 124)
        self.assertLess(time.monotonic() - t0, 30)
        self.assertEqual(c.status(job)["state"], "TIMEOUT")

    def test_grace_lets_job_exit_cleanly(self):
        c = self.cluster
        marker = os.path.join(self.root, "term")
        job = c.submit("sh", "-c", "trap 'echo got-term > %s; exit 0' TERM; "
                       "while true; do sleep 0.1; done" % marker,
                       opts=("--time", "1s", "--grace", "20s"))
        self.assertEqual(c.wait(job), 124)
        with open(marker) as f:
            self.assertEqual(f.read().strip(), "got-term")

    def test_logs_follow(self):
        c = self.cluster
        job = c.submit("sh", "-c", "for i in 1 2 3 4 5; do echo line$i; "
                       "sleep 0.2; done")
        out = c.yard("logs", "-f", job, timeout=60).stdout.decode()
        self.assertEqual(out.split(), ["line%d" % i for i in range(1, 6)])

    def test_queue_and_nodes(self):
        c = self.cluster
        job = c.submit("sleep", "300", opts=("--name", "sleeper"))
        c.wait_state(job, "RUNNING")
        q = c.json("queue")
        self.assertIn(job, [j["id"] for j in q])
        human = c.yard("queue").stdout.decode()
        self.assertIn("sleeper", human)
        self.assertIn("RUNNING", human)
        nodes = c.json("nodes")
        self.assertEqual([n["name"] for n in nodes], ["w1"])
        self.assertIn("w1", c.yard("nodes").stdout.decode())
        c.yard("cancel", job)
        c.wait(job)
        self.assertNotIn(job, [j["id"] for j in c.json("queue")])
        self.assertIn(job, [j["id"] for j in c.json("queue", "--all")])

    def test_priority_order(self):
        c = self.cluster
        ledger = os.path.join(self.root, "order")
        # fill the node (2 cpus), then queue low before high priority
        blocker = c.submit("sleep", "300", opts=("--cpus", "2"))
        c.wait_state(blocker, "RUNNING")
        low = c.submit("sh", "-c", "echo low >> " + ledger,
                       opts=("--priority", "1", "--cpus", "2"))
        high = c.submit("sh", "-c", "echo high >> " + ledger,
                        opts=("--priority", "10", "--cpus", "2"))
        c.yard("cancel", blocker)
        self.assertEqual(c.wait(low), 0)
        self.assertEqual(c.wait(high), 0)
        self.assertEqual(self.ledger(ledger), [["high"], ["low"]])

    def test_logs_survive_worker_loss(self):
        c = self.cluster
        job = c.submit("sh", "-c", "seq 1 20000")
        self.assertEqual(c.wait(job), 0)
        c.kill_worker("w1")
        out = c.yard("logs", job).stdout.decode().split()
        self.assertEqual(out, [str(i) for i in range(1, 20001)])

    def test_errors(self):
        c = self.cluster
        p = c.yard("status", "999999", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"999999", p.stderr)
        p = c.yard("submit", check=False)          # no command
        self.assertEqual(p.returncode, 2)
        p = c.yard("submit", "--mem", "12Q", "--", "true", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"12Q", p.stderr)


class ExposureTest(unittest.TestCase):
    """Daemons refuse non-loopback endpoints unless told --insecure."""

    def test_scheduler_refuses_open_port(self):
        import subprocess, tempfile
        from harness import SCHEDULER_BIN
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([SCHEDULER_BIN, "--state-dir", d,
                                "--client-endpoint", "tcp://0.0.0.0:0",
                                "--worker-endpoint", "tcp://127.0.0.1:0"],
                               capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 2)
            self.assertIn(b"--insecure", p.stderr)

    def test_worker_refuses_remote_scheduler(self):
        import subprocess, tempfile
        from harness import WORKER_BIN
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([WORKER_BIN, "--scheduler",
                                "tcp://192.0.2.1:7701", "--name", "x",
                                "--work-dir", d], capture_output=True,
                               timeout=30)
            self.assertEqual(p.returncode, 2)
            self.assertIn(b"--insecure", p.stderr)


class UnreachableTest(unittest.TestCase):

    def test_unreachable_scheduler(self):
        from harness import YARD_BIN
        import subprocess
        t0 = time.monotonic()
        p = subprocess.run([YARD_BIN, "--scheduler", "tcp://127.0.0.1:9",
                            "queue"], capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 3)
        self.assertLess(time.monotonic() - t0, 15)
        self.assertIn(b"scheduler", p.stderr)


if __name__ == "__main__":
    unittest.main()
