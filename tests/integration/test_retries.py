"""Unattended training: retries with backoff, the attempt history, `yard
requeue`, preemption by a higher-priority job and `yard nodes drain
--requeue` (each a preemption that resumes from the checkpoint), the
time-limit warning signal and --requeue-on-timeout.  Backoffs are 1 s so each test
takes a few seconds."""
import os
import re
import subprocess
import sys

from harness import BUILD, ClusterTest, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import yard                                         # noqa: E402

TRAINER = os.path.join(BUILD, "examples", "loan", "train_loan")
GEN = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "loan",
                   "gen_loans.py")

# Counts its runs in the file $1 and exits with the code given for that run
# ($2, $3, ...; the last one repeats).
COUNTER = r'''
n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$1"
shift; i=1
for c in "$@"; do code=$c; [ $i -eq $n ] && break; i=$((i+1)); done
exit $code
'''


class RetryTest(ClusterTest):

    def counter_job(self, codes, opts):
        f = os.path.join(self.root, "runs-%d" % len(os.listdir(self.root)))
        job = self.cluster.submit("/bin/sh", "-c", COUNTER, "counter", f,
                                  *[str(c) for c in codes], opts=opts)
        return job, f

    def test_fails_twice_then_succeeds_with_backoff(self):
        c = self.cluster
        self.start_workers("w1")
        job, f = self.counter_job([1, 1, 0], ("--retries", "2",
                                              "--retry-backoff", "1s"))
        # the second retry waits 2 s: see it pending with its reason
        st = wait_for(lambda: (lambda s: s if s["retries_used"] == 2 and
                               s["state"] == "PENDING" else None)(
                                   c.status(job)), 20, "the second retry")
        self.assertIn("retry 2/2 after exit 1", st["reason"])
        self.assertIn("eligible in", st["reason"])
        self.assertGreater(st["eligible_time_ms"], 0)
        self.assertIn("eligible in", c.yard("queue").stdout.decode())
        text = c.yard("status", job).stdout.decode()
        self.assertIn("ATTEMPT", text)
        self.assertIn("ENDED-BECAUSE", text)
        self.assertIn("attempt history", c.yard("status", "--help").stdout
                      .decode())

        self.assertEqual(c.wait(job), 0)
        st = c.status(job)
        self.assertEqual(st["state"], "COMPLETED")
        self.assertEqual(st["retries_used"], 2)
        att = st["attempts"]
        self.assertEqual([a["attempt"] for a in att], [1, 2, 3])
        self.assertEqual([a["exit_code"] for a in att], [1, 1, 0])
        self.assertEqual(att[0]["end_reason"], "exited")
        # the backoff doubles: 1 s, then 2 s
        self.assertGreaterEqual(att[1]["start_time_ms"] - att[0]["end_time_ms"],
                                1000)
        self.assertGreaterEqual(att[2]["start_time_ms"] - att[1]["end_time_ms"],
                                2000)
        with open(f) as fh:
            self.assertEqual(fh.read().strip(), "3")

    def test_retries_exhausted(self):
        c = self.cluster
        self.start_workers("w1")
        job, _ = self.counter_job([3], ("--retries", "2",
                                        "--retry-backoff", "1s"))
        self.assertEqual(c.wait(job), 3)
        st = c.status(job)
        self.assertEqual(st["state"], "FAILED")
        self.assertEqual(len(st["attempts"]), 3)
        self.assertEqual(st["retries_used"], 2)
        self.assertTrue(all(a["exit_code"] == 3 for a in st["attempts"]))
        # the last attempt's end is the job's (kept in the job's row only),
        # the ones before keep their own; after a kill -9 as before
        last = st["attempts"][-1]
        self.assertGreater(last["start_time_ms"], 0)
        self.assertEqual(last["end_time_ms"], st["end_time_ms"])
        self.assertEqual(last["end_reason"], st["end_reason"])
        self.assertEqual(last["end_reason"], "exited")
        self.assertEqual(last["reason"], st["reason"])
        self.assertIn("exit", last["reason"])
        first = st["attempts"][0]
        self.assertLess(first["end_time_ms"], last["start_time_ms"])
        c.kill_scheduler()
        c.start_scheduler()
        self.assertEqual(c.status(job)["attempts"], st["attempts"])

    def test_retry_exit_code_retries_without_retries(self):
        c = self.cluster
        self.start_workers("w1")
        # 75 twice (always retried), then 4 (not listed, --retries 0)
        job, _ = self.counter_job([75, 75, 4], ("--retry-exit-codes", "3,75",
                                                "--retry-backoff", "1s"))
        self.assertEqual(c.wait(job), 4)
        st = c.status(job)
        self.assertEqual(st["state"], "FAILED")
        self.assertEqual([a["exit_code"] for a in st["attempts"]], [75, 75, 4])

    def test_backoff_survives_a_scheduler_restart(self):
        c = self.cluster
        self.start_workers("w1")
        job, _ = self.counter_job([1, 0], ("--retries", "1",
                                           "--retry-backoff", "3s"))
        st = wait_for(lambda: (lambda s: s if s["retries_used"] == 1 else
                               None)(c.status(job)), 20, "the first retry")
        eligible = st["eligible_time_ms"]
        c.kill_scheduler()
        c.start_scheduler()
        st = c.status(job)
        self.assertEqual(st["eligible_time_ms"], eligible)
        self.assertEqual(st["retries_used"], 1)
        self.assertEqual(len(st["attempts"]), 1)
        self.assertEqual(c.wait(job), 0)
        att = c.status(job)["attempts"]
        self.assertEqual(len(att), 2)
        self.assertGreaterEqual(att[1]["start_time_ms"], eligible)

    def test_requeue_on_timeout(self):
        c = self.cluster
        self.start_workers("w1")
        f = os.path.join(self.root, "runs")
        script = ('n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); '
                  'echo $n > "$1"; [ $n -ge 2 ] && exit 0; exec sleep 30')
        job = c.submit("/bin/sh", "-c", script, "t", f,
                       opts=("--time", "2s", "--grace", "1s",
                             "--requeue-on-timeout"))
        self.assertEqual(c.wait(job), 0)
        st = c.status(job)
        self.assertEqual(len(st["attempts"]), 2)
        self.assertEqual(st["attempts"][0]["end_reason"], "timeout")
        self.assertEqual(st["attempts"][0]["reason"], "timeout, requeued")
        self.assertEqual(st["retries_used"], 0)

    def test_requeue_on_timeout_trainer_runs_in_slices(self):
        # a checkpointing trainer that needs longer than its time limit
        # runs in slices of --time, each attempt resuming from the
        # checkpoint the previous one saved on SIGTERM, and ends with the
        # weights of an uninterrupted run
        c = self.cluster
        self.start_workers("w1")
        data = os.path.join(self.root, "data")
        subprocess.run(["/usr/bin/python3", GEN, "--out", data, "--rows",
                        "6000"], check=True, capture_output=True)
        args = ["--data", data, "--epochs", "4", "--checkpoint-every", "20"]
        refck = os.path.join(self.root, "ref-ck")
        os.makedirs(refck)
        ref = subprocess.run([TRAINER] + args + ["--out",
                                                 os.path.join(self.root,
                                                              "ref.txt")],
                             env=dict(os.environ, YARD_CHECKPOINT_DIR=refck),
                             check=True, capture_output=True).stdout.decode()
        fp = re.search(r"weights fingerprint (\w+)", ref).group(1)

        # 300 steps of 25 ms: about 8 s of training in slices of 3 s
        job = c.submit(TRAINER, *args, "--out",
                       os.path.join(self.root, "model.txt"),
                       "--step-delay-ms", "25",
                       opts=("--time", "3s", "--grace", "5s",
                             "--requeue-on-timeout"))
        self.assertEqual(c.wait(job, timeout=120), 0)
        st = c.status(job)
        self.assertEqual(st["state"], "COMPLETED")
        att = st["attempts"]
        self.assertGreaterEqual(len(att), 3)
        for a in att[:-1]:
            self.assertEqual(a["end_reason"], "timeout")
            self.assertEqual(a["reason"], "timeout, requeued")
        self.assertEqual(att[-1]["exit_code"], 0)
        self.assertEqual(st["retries_used"], 0)
        log = c.yard("logs", job).stdout.decode()
        self.assertIn("resuming from", log)
        self.assertIn("weights fingerprint " + fp, log)
        pts = [p for p in c.json("metrics", job) if p["key"] == "loss"]
        steps = [p["step"] for p in pts]
        self.assertEqual(steps, sorted(set(steps)), "a step reported twice")

    def test_warn_signal_before_the_time_limit(self):
        c = self.cluster
        self.start_workers("w1")
        marker = os.path.join(self.root, "warned")
        script = ('trap \'echo warned > "$1"; exit 0\' USR1; '
                  'while :; do sleep 0.1; done')
        job = c.submit("/bin/sh", "-c", script, "w", marker,
                       opts=("--time", "4s", "--signal", "TERM",
                             "--signal", "USR1@2"))
        self.assertEqual(c.wait(job), 0)
        with open(marker) as fh:
            self.assertEqual(fh.read().strip(), "warned")
        st = c.status(job)
        self.assertEqual(st["warn_signal"], 10)
        self.assertEqual(st["warn_seconds"], 2)
        self.assertEqual(st["state"], "COMPLETED")

    def test_stop_signal_used_for_cancel(self):
        c = self.cluster
        self.start_workers("w1")
        marker = os.path.join(self.root, "stopped")
        script = ('trap \'echo usr2 > "$1"; exit 7\' USR2; '
                  'echo up; while :; do sleep 0.1; done')
        job = c.submit("/bin/sh", "-c", script, "s", marker,
                       opts=("--signal", "SIGUSR2"))
        wait_for(lambda: b"up" in c.yard("logs", job).stdout, 20, "start")
        c.yard("cancel", job)
        c.wait(job)
        with open(marker) as fh:
            self.assertEqual(fh.read().strip(), "usr2")

    def test_requeue_pending_and_finished(self):
        c = self.cluster
        job = c.submit("/bin/true")         # no worker: stays pending
        p = c.yard("requeue", job)
        self.assertIn("PENDING", p.stdout.decode())
        c.yard("cancel", job)
        p = c.yard("requeue", job, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("is CANCELLED: nothing to requeue", p.stderr.decode())

    def test_requeue_trainer_resumes_from_checkpoint(self):
        c = self.cluster
        self.start_workers("w1")
        data = os.path.join(self.root, "data")
        subprocess.run(["/usr/bin/python3", GEN, "--out", data, "--rows",
                        "6000"], check=True, capture_output=True)
        args = ["--data", data, "--epochs", "4", "--checkpoint-every", "20"]
        refck = os.path.join(self.root, "ref-ck")
        os.makedirs(refck)
        ref = subprocess.run([TRAINER] + args + ["--out",
                                                 os.path.join(self.root,
                                                              "ref.txt")],
                             env=dict(os.environ, YARD_CHECKPOINT_DIR=refck),
                             check=True, capture_output=True).stdout.decode()
        fp = re.search(r"weights fingerprint (\w+)", ref).group(1)

        job = c.submit(TRAINER, *args, "--out",
                       os.path.join(self.root, "model.txt"),
                       "--step-delay-ms", "10", opts=("--retries", "0"))
        ckdir = os.path.join(self.root, "worker-w1", "checkpoints", str(job))
        wait_for(lambda: os.path.isdir(ckdir) and any(
            n.endswith(".bin") for n in os.listdir(ckdir)), 30,
            "a checkpoint")
        p = c.yard("requeue", job)
        self.assertIn("PREEMPTING", p.stdout.decode())
        self.assertEqual(c.wait(job, timeout=120), 0)
        st = c.status(job)
        self.assertEqual([a["attempt"] for a in st["attempts"]], [1, 2])
        self.assertEqual(st["attempts"][0]["end_reason"], "preempted")
        self.assertEqual(st["attempts"][0]["reason"], "preempted")
        self.assertEqual(st["retries_used"], 0)
        log = c.yard("logs", job).stdout.decode()
        self.assertIn("resuming from", log)
        self.assertIn("weights fingerprint " + fp, log)


class PythonRetryTest(ClusterTest):

    def test_python_kwargs_attempts_and_requeue(self):
        c = self.cluster
        self.start_workers("w1")
        f = os.path.join(self.root, "runs")
        with yard.Client(c.client_ep) as y:
            job = y.submit(["/bin/sh", "-c", COUNTER, "counter", f, "5", "0"],
                           retries=1, retry_backoff="1s", signal="USR2",
                           time=60, warn_signal="SIGUSR1", warn_seconds=10,
                           retry_exit_codes=[9])
            st = y.wait(job, timeout=30)
            self.assertEqual(st["state"], "COMPLETED")
            st = y.status(job)
            self.assertEqual([a["exit_code"] for a in st["attempts"]], [5, 0])
            self.assertEqual(st["retries_used"], 1)
            self.assertEqual(st["stop_signal"], 12)
            self.assertEqual(st["warn_signal"], 10)
            self.assertEqual(st["retry_exit_codes"], [9])
            with self.assertRaises(yard.YardError) as e:
                y.requeue(job)
            self.assertIn("nothing to requeue", str(e.exception))


class PreemptionTest(ClusterTest):

    def test_higher_priority_preempts_preemptible_only(self):
        c = self.cluster
        self.start_workers("w1", cpus=2)
        loop = "trap 'exit 143' TERM; while :; do sleep 0.1; done"
        keep = c.submit("/bin/sh", "-c", loop, opts=("--cpus", "1"))
        low = c.submit("/bin/sh", "-c", loop,
                       opts=("--cpus", "1", "--preemptible", "--grace", "2s"))
        c.wait_state(keep, "RUNNING")
        c.wait_state(low, "RUNNING")
        high = c.submit("/bin/true", opts=("--cpus", "1", "--priority", "10"))
        self.assertEqual(c.wait(high), 0)
        st = c.status(low)
        self.assertEqual(st["attempts"][0]["end_reason"], "preempted")
        self.assertIn("preempted by job %d" % high, st["attempts"][0]["reason"])
        self.assertEqual(st["retries_used"], 0)
        # it runs again once the high-priority job is done
        c.wait_state(low, "RUNNING")
        self.assertEqual(c.status(low)["attempt"], 2)
        # the job that is not preemptible was never touched
        st = c.status(keep)
        self.assertEqual(st["state"], "RUNNING")
        self.assertEqual(st["attempt"], 1)
        c.yard("cancel", keep)
        c.yard("cancel", low)

    def test_preempted_trainer_resumes_with_exact_weights(self):
        c = self.cluster
        self.start_workers("w1", cpus=1)
        data = os.path.join(self.root, "data")
        subprocess.run(["/usr/bin/python3", GEN, "--out", data, "--rows",
                        "6000"], check=True, capture_output=True)
        args = ["--data", data, "--epochs", "4", "--checkpoint-every", "20"]
        refck = os.path.join(self.root, "ref-ck")
        os.makedirs(refck)
        ref = subprocess.run([TRAINER] + args + ["--out",
                                                 os.path.join(self.root,
                                                              "ref.txt")],
                             env=dict(os.environ, YARD_CHECKPOINT_DIR=refck),
                             check=True, capture_output=True).stdout.decode()
        fp = re.search(r"weights fingerprint (\w+)", ref).group(1)

        low = c.submit(TRAINER, *args, "--out",
                       os.path.join(self.root, "model.txt"),
                       "--step-delay-ms", "20",
                       opts=("--cpus", "1", "--preemptible", "--retries", "0"))
        wait_for(lambda: any(ck["step"] >= 40
                             for ck in c.json("checkpoints", low)), 60,
                 "a stored checkpoint")
        high = c.submit("/bin/true", opts=("--cpus", "1", "--priority", "10"))
        self.assertEqual(c.wait(high), 0)
        self.assertEqual(c.wait(low, timeout=120), 0)
        st = c.status(low)
        self.assertEqual([a["attempt"] for a in st["attempts"]], [1, 2])
        self.assertEqual(st["attempts"][0]["end_reason"], "preempted")
        self.assertIn("preempted by job %d" % high,
                      st["attempts"][0]["reason"])
        self.assertEqual(st["retries_used"], 0)
        log = c.yard("logs", low).stdout.decode()
        self.assertIn("resuming from", log)
        self.assertIn("weights fingerprint " + fp, log)
        # the high-priority job started before the trainer's second attempt
        hs = c.status(high)
        self.assertLessEqual(hs["start_time_ms"],
                             st["attempts"][1]["start_time_ms"])

    def test_drain_requeue_moves_the_trainer_to_another_node(self):
        c = self.cluster
        self.start_workers("w1", "w2")
        data = os.path.join(self.root, "data")
        subprocess.run(["/usr/bin/python3", GEN, "--out", data, "--rows",
                        "6000"], check=True, capture_output=True)
        args = ["--data", data, "--epochs", "4", "--checkpoint-every", "20"]
        refck = os.path.join(self.root, "ref-ck")
        os.makedirs(refck)
        ref = subprocess.run([TRAINER] + args + ["--out",
                                                 os.path.join(self.root,
                                                              "ref.txt")],
                             env=dict(os.environ, YARD_CHECKPOINT_DIR=refck),
                             check=True, capture_output=True).stdout.decode()
        fp = re.search(r"weights fingerprint (\w+)", ref).group(1)

        job = c.submit(TRAINER, *args, "--out",
                       os.path.join(self.root, "model.txt"),
                       "--step-delay-ms", "20", opts=("--retries", "0"))
        c.wait_state(job, "RUNNING")
        first = c.status(job)["node"]
        other = "w2" if first == "w1" else "w1"
        wait_for(lambda: any(ck["step"] >= 40
                             for ck in c.json("checkpoints", job)), 60,
                 "a stored checkpoint")
        out = c.json("nodes", "drain", first, "--requeue", "--reason",
                     "swap disk")
        self.assertEqual(out["requeued"], [job])
        self.assertTrue(out["drain"])

        self.assertEqual(c.wait(job, timeout=120), 0)
        st = c.status(job)
        self.assertEqual([a["attempt"] for a in st["attempts"]], [1, 2])
        self.assertEqual(st["attempts"][0]["node"], first)
        self.assertEqual(st["attempts"][0]["end_reason"], "preempted")
        self.assertEqual(st["attempts"][1]["node"], other)
        self.assertEqual(st["retries_used"], 0)
        log = c.yard("logs", job).stdout.decode()
        self.assertIn("resuming from", log)
        self.assertIn("weights fingerprint " + fp, log)
        nodes = {n["name"]: n for n in c.json("nodes")}
        self.assertEqual(nodes[first]["display_state"], "drained")

        # nothing left to requeue: a plain line, no job
        p = c.yard("nodes", "drain", other, "--requeue")
        self.assertEqual(p.stdout.decode().count("PREEMPTING"), 0)
        self.assertIn("--requeue", c.yard("nodes", "--help").stdout.decode())
