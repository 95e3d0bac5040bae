"""The example loan-default trainer keeps its promises: an interrupted and
resumed run (SIGTERM or SIGKILL, any number of times) ends with exactly the
weights of an uninterrupted one; through a cluster, a job resumes on its
next attempt from its checkpoint."""
import os
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


if __name__ == "__main__":
    unittest.main()
