"""Checkpoints announced on the metrics channel: the worker stores an
announced entry at once with the announced step (it shows in `yard
checkpoints` while the job still runs), refuses one outside the job's
checkpoint folder (a malformed line, nothing stored), ignores one that is
missing or still being written; keeps only the newest keep_checkpoints
entries locally and removes a completed job's folder; with a shared
checkpoint root the announced entry is recorded without a digest."""
import os
import unittest

from harness import ClusterTest, wait_for

PYDIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                     "python")

# Writes checkpoint entries named by argv, one after the other: for each,
# writes it (through a .tmp name), announces it (with the step after the
# ':' when given), then waits for the file go-N in argv[1] before the next.
# Also makes the announcements that must be refused or ignored.
JOB = r'''
import os, sys, time
sys.path.insert(0, %r)
import yard_metrics as m
ctl = sys.argv[1]
ck = os.environ["YARD_CHECKPOINT_DIR"]

def wait_go(i):
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(ctl, "go-%%d" %% i)):
        if time.monotonic() > deadline:
            sys.exit("no go-%%d" %% i)
        time.sleep(0.02)

# refused: outside the folder; ignored: missing, in progress
m.checkpoint("/etc/passwd", step=1)
m.checkpoint("../other/ckpt-9.pt", step=9)
m.checkpoint("nothere.pt", step=2)
with open(os.path.join(ck, "half.tmp"), "w") as f:
    f.write("partial")
m.checkpoint("half.tmp", step=3)
with open(os.path.join(ck, ".hidden"), "w") as f:
    f.write("partial")
for i, spec in enumerate(sys.argv[2:]):
    name, _, step = spec.partition(":")
    tmp = os.path.join(ck, name + ".tmp")
    with open(tmp, "w") as f:
        f.write("weights %%s\n" %% spec)
    os.rename(tmp, os.path.join(ck, name))
    if step:
        m.checkpoint(name if i %% 2 else os.path.join(ck, name), int(step))
    wait_go(i)
''' % PYDIR


class AnnounceTest(ClusterTest):

    def job(self, *names, opts=()):
        ctl = os.path.join(self.root, "ctl")
        os.makedirs(ctl, exist_ok=True)
        script = os.path.join(self.root, "ckjob.py")
        with open(script, "w") as f:
            f.write(JOB)
        return ctl, self.cluster.submit("/usr/bin/python3", script, ctl,
                                        *names, opts=opts)

    def go(self, ctl, i):
        open(os.path.join(ctl, "go-%d" % i), "w").close()

    def steps(self, job):
        return {ck["name"]: ck["step"]
                for ck in self.cluster.json("checkpoints", job)}

    def test_announced_checkpoint_is_stored_with_its_step(self):
        c = self.cluster
        self.start_workers("w1")
        # no number in the name: only the announcement can give its step
        ctl, job = self.job("model-best.pt:1234")
        wait_for(lambda: self.steps(job).get("model-best.pt") == 1234, 20,
                 "the announced checkpoint in yard checkpoints")
        self.assertEqual(c.status(job)["state"], "RUNNING")
        human = c.yard("checkpoints", job).stdout.decode()
        self.assertIn("model-best.pt", human)
        self.assertIn("1234", human)
        # nothing outside the folder, nothing still being written
        self.assertEqual(set(self.steps(job)), {"model-best.pt"})
        self.go(ctl, 0)
        self.assertEqual(c.wait(job), 0)
        self.assertIn("malformed lines: 2",
                      c.yard("metrics", job).stdout.decode())
        log = c.yard("logs", job).stdout.decode()
        self.assertIn("checkpoint nothere.pt announced but", log)
        self.assertIn("checkpoint half.tmp announced while still being "
                      "written", log)
        self.assertIn("a checkpoint must be a path inside", c.tail("worker-w1.log", 4000))
        # completed: the local folder goes, the store keeps the record
        ckdir = os.path.join(self.root, "worker-w1", "checkpoints", str(job))
        wait_for(lambda: not os.path.exists(ckdir), 20,
                 "the completed job's local checkpoints removed")
        self.assertEqual(self.steps(job), {"model-best.pt": 1234})

    def test_local_retention_keeps_the_newest(self):
        c = self.cluster
        self.start_workers("w1")
        names = ["ck-a:10", "ck-b:20", "ck-c:30", "ck-d:40"]
        ctl, job = self.job(*names, opts=("--keep-checkpoints", "2"))
        ckdir = os.path.join(self.root, "worker-w1", "checkpoints", str(job))
        for i, spec in enumerate(names):
            name, _, step = spec.partition(":")
            wait_for(lambda: self.steps(job).get(name) == int(step), 20,
                     "checkpoint %s stored" % name)
            if i == len(names) - 1:
                break
            self.go(ctl, i)
        # the committed ck-d pruned all but the newest 2; in-progress names
        # (.tmp, dot files) are never touched
        wait_for(lambda: sorted(os.listdir(ckdir))
                 == [".hidden", "ck-c", "ck-d", "half.tmp"], 20,
                 "local retention")
        self.assertEqual(self.steps(job), {"ck-c": 30, "ck-d": 40})
        self.go(ctl, len(names) - 1)
        self.assertEqual(c.wait(job), 0)
        wait_for(lambda: not os.path.exists(ckdir), 20,
                 "the completed job's local checkpoints removed")

    def test_failed_job_keeps_its_local_checkpoints(self):
        c = self.cluster
        self.start_workers("w1")
        job = c.submit("/bin/sh", "-c",
                       'echo x > "$YARD_CHECKPOINT_DIR/ck-1"; '
                       'echo \'{"checkpoint":"ck-1","step":1}\' >&3; exit 3',
                       opts=("--retries", "0"))
        self.assertEqual(c.wait(job), 3)
        ckdir = os.path.join(self.root, "worker-w1", "checkpoints", str(job))
        wait_for(lambda: self.steps(job).get("ck-1") == 1, 20,
                 "the checkpoint stored")
        self.assertEqual(os.listdir(ckdir), ["ck-1"])


class SharedRootAnnounceTest(ClusterTest):

    def test_shared_root_records_without_a_digest(self):
        c = self.cluster
        shared = os.path.join(self.root, "shared-checkpoints")
        c.start_worker("w1", extra=("--checkpoint-root", shared))
        c.wait_nodes_up(["w1"])
        ctl = os.path.join(self.root, "ctl")
        os.makedirs(ctl)
        script = os.path.join(self.root, "ckjob.py")
        with open(script, "w") as f:
            f.write(JOB)
        job = c.submit("/usr/bin/python3", script, ctl, "ck-x:77")
        wait_for(lambda: any(ck["name"] == "ck-x" and ck["step"] == 77
                             for ck in c.json("checkpoints", job)), 20,
                 "the announced checkpoint recorded")
        ck = c.json("checkpoints", job)[0]
        self.assertEqual(ck["digest"], "")
        self.assertEqual(ck["node"], "w1")
        self.assertIn("(shared root)", c.yard("checkpoints", job).stdout
                      .decode())
        open(os.path.join(ctl, "go-0"), "w").close()
        self.assertEqual(c.wait(job), 0)
        # a shared root is the job's to keep: nothing removed
        self.assertTrue(os.path.exists(os.path.join(shared, str(job),
                                                    "ck-x")))


if __name__ == "__main__":
    unittest.main()
