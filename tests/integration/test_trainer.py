"""The example loan-default trainer keeps its promises: an interrupted and
resumed run (SIGTERM or SIGKILL, any number of times) ends with exactly the
weights of an uninterrupted one; through a cluster, a job resumes on its
next attempt from its checkpoint."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import BUILD, ClusterTest, wait_for

TRAINER = os.path.join(BUILD, "examples", "loan", "train_loan")
GEN = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "loan",
                   "gen_loans.py")


def make_data(path):
    subprocess.run(["/usr/bin/python3", GEN, "--out", path, "--rows", "6000"],
                   check=True, capture_output=True)


def checkpoints(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".bin"))


class TrainerDeterminismTest(unittest.TestCase):

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="yard-trainer-")
        self.data = os.path.join(self.root, "data")
        make_data(self.data)

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def run_trainer(self, ckdir, out, latest=None, delay=0):
        env = dict(os.environ, YARD_CHECKPOINT_DIR=ckdir)
        env.pop("YARD_LATEST_CHECKPOINT", None)
        if latest:
            env["YARD_LATEST_CHECKPOINT"] = latest
        return subprocess.Popen(
            [TRAINER, "--data", self.data, "--epochs", "4", "--out", out,
             "--checkpoint-every", "20", "--step-delay-ms", str(delay)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def interrupt_and_resume(self, sig):
        ref_ck = os.path.join(self.root, "ref-ck")
        os.makedirs(ref_ck)
        ref = os.path.join(self.root, "ref.txt")
        p = self.run_trainer(ref_ck, ref)
        self.assertEqual(p.wait(), 0, p.stdout.read())
        p.stdout.close()

        ck = os.path.join(self.root, "ck-%d" % sig)
        os.makedirs(ck)
        out = os.path.join(self.root, "out-%d.txt" % sig)
        latest = None
        for round_ in range(3):      # interrupted three times
            p = self.run_trainer(ck, out, latest, delay=2)
            seen = len(checkpoints(ck))
            wait_for(lambda: len(checkpoints(ck)) > seen or
                     (latest and checkpoints(ck)[-1] != os.path.basename(latest)),
                     30, "a new checkpoint")
            p.send_signal(sig)
            rc = p.wait()
            self.assertEqual(rc, 143 if sig == signal.SIGTERM else -sig)
            p.stdout.close()
            latest = os.path.join(ck, checkpoints(ck)[-1])
            if sig == signal.SIGTERM:   # a clean stop leaves no temp file
                self.assertEqual([n for n in os.listdir(ck)
                                  if n.endswith(".tmp")], [])
        p = self.run_trainer(ck, out, latest)
        log = p.stdout.read().decode()
        p.stdout.close()
        self.assertEqual(p.wait(), 0, log)
        self.assertIn("resuming from", log)
        with open(ref, "rb") as a, open(out, "rb") as b:
            self.assertEqual(a.read(), b.read(),
                             "resumed weights differ from uninterrupted ones")

    def test_sigterm_resume_is_exact(self):
        self.interrupt_and_resume(signal.SIGTERM)

    def test_sigkill_resume_is_exact(self):
        self.interrupt_and_resume(signal.SIGKILL)


class TrainerJobTest(ClusterTest):
    """The trainer runs as a job: checkpoints into YARD_CHECKPOINT_DIR, its
    model and its log come out."""

    def test_trainer_job_completes(self):
        c = self.cluster
        self.start_workers("w1")
        data = os.path.join(self.root, "data")
        make_data(data)
        out = os.path.join(self.root, "model.txt")
        job = c.submit(TRAINER, "--data", data, "--epochs", "2", "--out", out,
                       "--checkpoint-every", "10")
        self.assertEqual(c.wait(job), 0)
        log = c.yard("logs", job).stdout.decode()
        self.assertIn("done: train accuracy", log)
        self.assertTrue(os.path.exists(out))


class CheckpointTravelTest(ClusterTest):
    """Workers share a checkpoint root: the node running the trainer dies
    (worker and job killed with SIGKILL) and the job resumes on the other
    node from its last checkpoint, ending with exactly the weights of an
    uninterrupted run; its metrics show each step once."""

    def test_node_loss_resumes_elsewhere_with_identical_weights(self):
        c = self.cluster
        shared = os.path.join(self.root, "shared-checkpoints")
        for w in ("w1", "w2"):
            c.start_worker(w, extra=("--checkpoint-root", shared))
        c.wait_nodes_up(["w1", "w2"])
        data = os.path.join(self.root, "data")
        make_data(data)
        args = ["--data", data, "--epochs", "4", "--checkpoint-every", "20",
                "--log-every", "10"]

        ref = os.path.join(self.root, "ref.txt")
        refck = os.path.join(self.root, "ref-ck")
        os.makedirs(refck)
        env = dict(os.environ, YARD_CHECKPOINT_DIR=refck)
        subprocess.run([TRAINER] + args + ["--out", ref], env=env, check=True,
                       capture_output=True)

        out = os.path.join(self.root, "model.txt")
        job = c.submit(TRAINER, *args, "--out", out, "--step-delay-ms", "10")
        c.wait_state(job, "RUNNING")
        first = c.status(job)["node"]
        ckdir = os.path.join(shared, str(job))
        wait_for(lambda: os.path.isdir(ckdir) and checkpoints(ckdir), 30,
                 "a checkpoint in the shared root")
        # the node dies: its worker and the job's processes
        with open(os.path.join(self.root, "worker-" + first, "jobs",
                               "%d.1" % job, "started")) as f:
            pid = int(f.read().split()[0])
        c.kill_worker(first)
        os.killpg(pid, signal.SIGKILL)

        self.assertEqual(c.wait(job, timeout=120), 0)
        st = c.status(job)
        self.assertEqual(st["attempt"], 2)
        self.assertNotEqual(st["node"], first)
        log = c.yard("logs", job).stdout.decode()
        self.assertIn("resuming from %s/ckpt-" % ckdir, log)
        with open(ref, "rb") as a, open(out, "rb") as b:
            self.assertEqual(a.read(), b.read(), "weights differ from an "
                             "uninterrupted run")
        pts = [p for p in c.json("metrics", job) if p["key"] == "loss"]
        steps = [p["step"] for p in pts]
        self.assertEqual(steps, sorted(set(steps)), "a step reported twice")
        self.assertEqual(steps[-1], 300)
        self.assertEqual({p["attempt"] for p in pts}, {1, 2})


class StoreCheckpointTravelTest(ClusterTest):
    """Workers with their own work dirs and no shared checkpoint root: each
    new checkpoint goes to the scheduler's artifact store; the node running
    the trainer dies (worker and job killed with SIGKILL) and the job
    resumes on the other node from the newest stored checkpoint, ending
    with exactly the weights of an uninterrupted run."""

    def test_node_loss_resumes_from_the_store(self):
        c = self.cluster
        self.start_workers("w1", "w2")
        data = os.path.join(self.root, "data")
        make_data(data)
        args = ["--data", data, "--epochs", "4", "--checkpoint-every", "20",
                "--log-every", "10"]

        ref = os.path.join(self.root, "ref.txt")
        refck = os.path.join(self.root, "ref-ck")
        os.makedirs(refck)
        env = dict(os.environ, YARD_CHECKPOINT_DIR=refck)
        subprocess.run([TRAINER] + args + ["--out", ref], env=env, check=True,
                       capture_output=True)

        out = os.path.join(self.root, "model.txt")
        job = c.submit(TRAINER, *args, "--out", out, "--step-delay-ms", "25")
        c.wait_state(job, "RUNNING")
        first = c.status(job)["node"]
        other = "w2" if first == "w1" else "w1"
        # a checkpoint past the first ones is in the store
        wait_for(lambda: any(ck["step"] >= 60
                             for ck in c.json("checkpoints", job)), 60,
                 "a checkpoint in the artifact store")
        with open(os.path.join(self.root, "worker-" + first, "jobs",
                               "%d.1" % job, "started")) as f:
            pid = int(f.read().split()[0])
        c.kill_worker(first)
        os.killpg(pid, signal.SIGKILL)
        stored = c.json("checkpoints", job)

        self.assertEqual(c.wait(job, timeout=120), 0)
        st = c.status(job)
        self.assertEqual(st["attempt"], 2)
        self.assertEqual(st["node"], other)
        log = c.yard("logs", job).stdout.decode()
        # attempt 2 fetched the newest stored checkpoint into its own dir
        self.assertIn("fetching checkpoint %s" % stored[0]["name"], log)
        ckdir = os.path.join(self.root, "worker-" + other, "checkpoints",
                             str(job))
        self.assertIn("resuming from %s/ckpt-" % ckdir, log)
        with open(ref, "rb") as a, open(out, "rb") as b:
            self.assertEqual(a.read(), b.read(), "weights differ from an "
                             "uninterrupted run")
        pts = [p for p in c.json("metrics", job) if p["key"] == "loss"]
        steps = [p["step"] for p in pts]
        self.assertEqual(steps, sorted(set(steps)), "a step reported twice")
        self.assertEqual(steps[-1], 300)
        self.assertEqual({p["attempt"] for p in pts}, {1, 2})
        # retention: the default keeps 2, the newest from attempt 2
        cks = c.json("checkpoints", job)
        self.assertLessEqual(len(cks), 2)
        self.assertEqual(cks[0]["attempt"], 2)
        self.assertEqual(cks[0]["node"], other)
        # the job completed: its local checkpoints are gone, the store's
        # newest is the uninterrupted run's last checkpoint
        wait_for(lambda: not os.path.exists(ckdir), 20,
                 "the completed job's local checkpoints removed")
        got = os.path.join(self.root, "last.bin")
        c.yard("artifact", "get", cks[0]["digest"], got)
        with open(got, "rb") as a, open(os.path.join(refck, cks[0]["name"]),
                                        "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertIn(cks[0]["digest"], c.yard("checkpoints", job).stdout
                      .decode())


class SchedulerCrashTrainerTest(ClusterTest):
    """The scheduler is killed with SIGKILL while the trainer runs: the
    trainer keeps training (and checkpointing) through the outage, and once
    the scheduler is back the job completes in its first attempt with
    exactly the weights of an uninterrupted run; its metrics show each step
    once."""

    def test_scheduler_kill9_mid_training(self):
        c = self.cluster
        self.start_workers("w1")
        data = os.path.join(self.root, "data")
        make_data(data)
        args = ["--data", data, "--epochs", "4", "--checkpoint-every", "20",
                "--log-every", "10"]

        ref = os.path.join(self.root, "ref.txt")
        refck = os.path.join(self.root, "ref-ck")
        os.makedirs(refck)
        env = dict(os.environ, YARD_CHECKPOINT_DIR=refck)
        subprocess.run([TRAINER] + args + ["--out", ref], env=env, check=True,
                       capture_output=True)

        out = os.path.join(self.root, "model.txt")
        job = c.submit(TRAINER, *args, "--out", out, "--step-delay-ms", "25")
        c.wait_state(job, "RUNNING")
        wait_for(lambda: any(p["step"] >= 40
                             for p in c.json("metrics", job)), 60,
                 "the trainer's metrics past step 40")
        ckdir = os.path.join(self.root, "worker-w1", "checkpoints", str(job))

        def newest_step():
            try:
                names = checkpoints(ckdir)
            except FileNotFoundError:
                return -1
            return max((int(re.findall(r"\d+", n)[-1]) for n in names),
                       default=-1)

        c.kill_scheduler()
        # training goes on while the scheduler is down: two more
        # checkpoints appear in the job's folder
        before = newest_step()
        wait_for(lambda: newest_step() >= before + 40, 60,
                 "new checkpoints during the scheduler outage")
        c.start_scheduler()

        self.assertEqual(c.wait(job, timeout=120), 0)
        st = c.status(job)
        self.assertEqual(st["state"], "COMPLETED")
        self.assertEqual(st["attempt"], 1)
        self.assertEqual([a["attempt"] for a in st["attempts"]], [1])
        self.assertEqual(st["retries_used"], 0)
        log = c.yard("logs", job).stdout.decode()
        self.assertNotIn("resuming from", log)
        with open(ref, "rb") as a, open(out, "rb") as b:
            self.assertEqual(a.read(), b.read(), "weights differ from an "
                             "uninterrupted run")
        pts = [p for p in c.json("metrics", job) if p["key"] == "loss"]
        steps = [p["step"] for p in pts]
        self.assertEqual(steps, sorted(set(steps)), "a step reported twice")
        self.assertEqual(steps[-1], 300)
        self.assertEqual({p["attempt"] for p in pts}, {1})


if __name__ == "__main__":
    unittest.main()
