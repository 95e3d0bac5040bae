"""The model registry, cron schedules, triggers and yard-drift against real
daemons: versions registered by hand and with a job's metrics, a
pipeline's `register:` block honouring `metric acc > latest`, a schedule
missed while the scheduler was down running once at start-up, dataset and
model triggers starting runs, and the drift check's metrics and exit
status."""
import json
import os
import random
import sqlite3
import subprocess
import tempfile
import time
import unittest
from datetime import datetime, timedelta, timezone

from harness import BUILD, ClusterTest, wait_for
from staged_cluster import StagedClusterTest

DRIFT_BIN = os.path.join(BUILD, "tools", "yard-drift")
REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LOAN = os.path.join(REPO, "examples", "loan")
PY = "/usr/bin/python3"

HELLO = """\
name: hello
steps:
  hello:
    run: echo hello from ${params.who}
params: {who: cron}
"""

# a step that reports acc and writes a model file
TRAIN = """\
name: trainer
params: {acc: 0.5}
steps:
  train:
    run: >-
      echo '{"acc": ${params.acc}}' >&$YARD_METRICS_FD &&
      echo weights-${params.acc} > ${outputs.model}/weights.txt
    outputs: [model]
    register: {model: clf, output: model, when: "metric acc > latest"}
"""


class ModelsTest(ClusterTest):

    def write(self, name, text):
        path = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def runs(self):
        return self.cluster.json("pipeline", "list")

    def runs_from(self, origin):
        return [r for r in self.runs() if r.get("origin") == origin]

    # -- models -------------------------------------------------------------
    def test_register_list_show(self):
        c = self.cluster
        f = self.write("m/weights.bin", "w1")
        p = c.yard("model", "register", "clf", f, "--metric", "acc=0.81",
                   "--metric", "loss=0.4")
        self.assertEqual(p.stdout.decode().strip(), "1")
        d = self.write("m2/dir/a.txt", "a")
        self.write("m2/dir/b/c.txt", "c")
        v2 = c.json("model", "register", "clf", os.path.join(self.root, "m2",
                                                             "dir"),
                    "--metric", "acc=0.9")
        self.assertEqual(v2["version"], 2)
        self.assertEqual(v2["metrics"], {"acc": 0.9})
        # by digest: an artifact already in the store
        v3 = c.json("model", "register", "other", v2["digest"])
        self.assertEqual(v3["version"], 1)
        self.assertEqual(v3["digest"], v2["digest"])
        shown = c.json("model", "show", "clf")
        self.assertEqual([v["version"] for v in shown], [2, 1])
        self.assertEqual(shown[1]["metrics"], {"acc": 0.81, "loss": 0.4})
        one = c.json("model", "show", "clf", "--version", "1")
        self.assertEqual(len(one), 1)
        self.assertEqual(one[0]["size"], 2)
        listed = c.json("model", "list")
        self.assertEqual([(v["model"], v["version"]) for v in listed],
                         [("clf", 2), ("other", 1)])
        # get: the latest (a folder) and version 1 (a file)
        dest = os.path.join(self.root, "got")
        c.yard("model", "get", "clf", dest)
        with open(os.path.join(dest, "b", "c.txt")) as fh:
            self.assertEqual(fh.read(), "c")
        c.yard("model", "get", "clf", dest + "1", "--version", "1")
        with open(dest + "1") as fh:
            self.assertEqual(fh.read(), "w1")
        p = c.yard("model", "get", "clf", dest, check=False)
        self.assertEqual(p.returncode, 1)           # dest exists
        table = c.yard("model", "list").stdout.decode()
        self.assertIn("clf", table)
        self.assertIn("acc=0.9", table)
        # errors: clear messages, non-zero exit, the daemon stays up
        p = c.yard("model", "show", "nope", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no model nope", p.stderr.decode())
        p = c.yard("model", "register", "bad/name", f, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a model name", p.stderr.decode())
        p = c.yard("model", "register", "x", "0" * 64, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not in the store", p.stderr.decode())
        p = c.yard("model", "register", "x", f, "--metric", "acc", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertTrue(c.scheduler.alive())
        # versions survive a restart
        c.kill_scheduler()
        c.start_scheduler()
        self.assertEqual(len(c.json("model", "show", "clf")), 2)

    def test_register_with_job_metrics(self):
        c = self.cluster
        self.start_workers("w1")
        job = c.submit("/bin/sh", "-c",
                       'echo \'{"step":1,"acc":0.5}\' >&$YARD_METRICS_FD;'
                       'echo \'{"step":2,"acc":0.75,"f1":0.6}\' '
                       '>&$YARD_METRICS_FD')
        self.assertEqual(c.wait(job), 0)
        wait_for(lambda: len(c.json("metrics", job)) >= 3,
                 what="the job's metrics stored")
        f = self.write("w.bin", "weights")
        v = c.json("model", "register", "clf", f, "--job", job,
                   "--metric", "f1=0.99")
        self.assertEqual(v["job"], job)
        # the latest acc of the job; f1 given on the command line wins
        self.assertEqual(v["metrics"], {"acc": 0.75, "f1": 0.99})

    def test_pipeline_registers_only_when_better(self):
        """Needs the worker's collect of ${outputs.X} (another branch)."""
        c = self.cluster
        self.start_workers("w1")
        path = self.write("p/train.yaml", TRAIN)

        def run(acc):
            info = c.json("pipeline", "run", path, "--param", "acc=%s" % acc)
            rid = info["id"]
            wait_for(lambda: c.json("pipeline", "status", rid)["state"]
                     in ("completed", "failed", "cancelled"), 60,
                     "run %s to end" % rid)
            st = c.json("pipeline", "status", rid)
            self.assertEqual(st["state"], "completed", st)
            return rid

        run(0.7)
        versions = c.json("model", "show", "clf")
        self.assertEqual([v["version"] for v in versions], [1])
        self.assertEqual(versions[0]["metrics"]["acc"], 0.7)
        run(0.6)   # worse: not registered
        self.assertEqual(len(c.json("model", "show", "clf")), 1)
        r3 = run(0.8)
        versions = c.json("model", "show", "clf")
        self.assertEqual([v["version"] for v in versions], [2, 1])
        self.assertEqual(versions[0]["run"], r3)
        self.assertEqual(versions[0]["step"], "train")

    # -- schedules ------------------------------------------------------------
    def set_last_fire(self, name, ms):
        db = sqlite3.connect(os.path.join(self.cluster.state_dir, "state.db"))
        with db:
            db.execute("UPDATE schedules SET last_fire_ms = ? WHERE name = ?",
                       (ms, name))
        db.close()

    def test_schedule_catch_up_runs_once(self):
        c = self.cluster
        self.start_workers("w1")
        path = self.write("s/hello.yaml", HELLO)
        # a daily schedule whose minute was three minutes ago: not due
        # after creation (created now), due once its last fire is moved back
        past = datetime.now(timezone.utc) - timedelta(minutes=3)
        cron = "%d %d * * *" % (past.minute, past.hour)
        added = c.json("schedule", "add", "nightly", "--cron", cron, path,
                       "--param", "who=nightly")
        self.assertEqual(added[0]["cron"], cron)
        self.assertEqual(added[0]["pipeline"], "hello")
        self.assertEqual(added[0]["last_run"], 0)
        p = c.yard("schedule", "add", "bad", "--cron", "61 * * * *", path,
                   check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("minute", p.stderr.decode())
        p = c.yard("schedule", "add", "nightly", "--cron", cron, path,
                   check=False)
        self.assertIn("already", p.stderr.decode())

        # down across the schedule's minute, which was missed many times
        # over (last fire 3 days ago): one run at start-up
        c.scheduler.stop()
        now_ms = int(time.time() * 1000)
        self.set_last_fire("nightly", now_ms - 3 * 86400 * 1000)
        c.start_scheduler()
        runs = wait_for(lambda: self.runs_from("schedule:nightly"), 30,
                        "the missed schedule to start its run")
        self.assertEqual(len(runs), 1)
        rid = runs[0]["id"]
        wait_for(lambda: c.json("pipeline", "status", rid)["state"]
                 == "completed", 60, "the scheduled run to complete")
        sched = c.json("schedule", "list")[0]
        self.assertEqual(sched["last_run"], rid)
        self.assertGreaterEqual(sched["last_fire_ms"], now_ms)

        # a restart later is no new catch-up: a second schedule that is
        # due proves the check ran, and the first did not fire again
        c.json("schedule", "add", "probe", "--cron", cron, path)
        c.scheduler.stop()
        self.set_last_fire("probe", now_ms - 86400 * 1000)
        c.start_scheduler()
        wait_for(lambda: self.runs_from("schedule:probe"), 30,
                 "the probe schedule's run")
        self.assertEqual(len(self.runs_from("schedule:nightly")), 1)
        c.yard("schedule", "remove", "probe")
        self.assertEqual([s["name"] for s in c.json("schedule", "list")],
                         ["nightly"])
        p = c.yard("schedule", "remove", "probe", check=False)
        self.assertEqual(p.returncode, 1)

    def test_schedule_fires_at_the_next_minute(self):
        """A running scheduler: `* * * * *` added now starts nothing at once
        and one run at the next whole minute."""
        c = self.cluster
        self.start_workers("w1")
        path = self.write("s/hello.yaml", HELLO)
        added = c.json("schedule", "add", "every", "--cron", "* * * * *",
                       path)[0]
        minute = (added["created_ms"] // 60000 + 1) * 60000
        self.assertEqual(added["next_fire_ms"], minute)
        if time.time() * 1000 < minute - 2000:  # the minute is not over yet
            self.assertEqual(self.runs_from("schedule:every"), [])
        runs = wait_for(lambda: self.runs_from("schedule:every"), 75,
                        "the minute's run")
        self.assertEqual(len(runs), 1)
        self.assertGreaterEqual(runs[0]["create_ms"], minute)
        sched = c.json("schedule", "list")[0]
        self.assertGreaterEqual(sched["last_fire_ms"], minute)
        self.assertEqual(sched["next_fire_ms"],
                         (sched["last_fire_ms"] // 60000 + 1) * 60000)

    # -- triggers -------------------------------------------------------------
    def test_triggers(self):
        c = self.cluster
        self.start_workers("w1")
        path = self.write("t/hello.yaml", HELLO)
        c.yard("trigger", "add", "on-data", "--on", "dataset:loans", path)
        c.yard("trigger", "add", "on-data2", "--on", "dataset:loans", path)
        c.yard("trigger", "add", "on-model", "--on", "model:clf", path)
        p = c.yard("trigger", "add", "bad", "--on", "job:1", path,
                   check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("dataset:NAME or model:NAME", p.stderr.decode())

        data = self.write("t/loans.csv", "a,b\n1,2\n")
        c.yard("dataset", "add", "loans", data)
        wait_for(lambda: self.runs_from("trigger:on-data")
                 and self.runs_from("trigger:on-data2"), 30,
                 "the dataset triggers' runs")
        self.assertEqual(self.runs_from("trigger:on-model"), [])

        c.yard("model", "register", "clf", data)
        wait_for(lambda: self.runs_from("trigger:on-model"), 30,
                 "the model trigger's run")

        c.yard("trigger", "remove", "on-data2")
        self.write("t/loans.csv", "a,b\n1,3\n")
        c.yard("dataset", "add", "loans", data)
        wait_for(lambda: len(self.runs_from("trigger:on-data")) == 2, 30,
                 "the second dataset version's run")
        self.assertEqual(len(self.runs_from("trigger:on-data2")), 1)
        listed = {t["name"]: t for t in c.json("trigger", "list")}
        self.assertEqual(sorted(listed), ["on-data", "on-model"])
        self.assertEqual(listed["on-data"]["fired"], 2)
        self.assertEqual(listed["on-data"]["on"], "dataset:loans")

    # -- drift ----------------------------------------------------------------
    def test_drift_job_metrics_and_exit(self):
        c = self.cluster
        self.start_workers("w1")
        rnd = random.Random(7)
        ref = self.write("d/ref.csv", "age,income,name\n" + "".join(
            "%.3f,%.1f,x\n" % (rnd.gauss(40, 10), rnd.gauss(5e4, 9e3))
            for _ in range(2000)))
        same = self.write("d/same.csv", "age,income,name\n" + "".join(
            "%.3f,%.1f,y\n" % (rnd.gauss(40, 10), rnd.gauss(5e4, 9e3))
            for _ in range(2000)))
        shifted = self.write("d/shifted.csv", "age,income,name\n" + "".join(
            "%.3f,%.1f,z\n" % (rnd.gauss(50, 10), rnd.gauss(5e4, 9e3))
            for _ in range(2000)))
        calm = c.submit(DRIFT_BIN, "--reference", ref, "--current", same,
                        "--threshold", "0.2")
        drift = c.submit(DRIFT_BIN, "--reference", ref, "--current",
                         shifted, "--threshold", "0.2")
        self.assertEqual(c.wait(calm), 0)
        self.assertEqual(c.wait(drift), 3)

        def values(job):
            pts = c.json("metrics", job)
            return {p["key"]: p["value"] for p in pts}
        m = wait_for(lambda: len(values(drift)) == 6 and values(drift), 20,
                     "the drift metrics")
        self.assertEqual(sorted(m), ["ks.age", "ks.income", "ks_max",
                                     "psi.age", "psi.income", "psi_max"])
        self.assertGreater(m["psi.age"], 0.2)
        self.assertLess(m["psi.income"], 0.1)
        self.assertEqual(m["psi_max"], m["psi.age"])
        self.assertGreater(m["ks.age"], 0.3)
        q = wait_for(lambda: len(values(calm)) == 6 and values(calm), 20,
                     "the calm metrics")
        self.assertLess(q["psi_max"], 0.1)

    def test_drift_gates_retraining(self):
        """A drift check step decides, through `when`, whether the
        retraining steps run (files given by absolute path: no staging)."""
        c = self.cluster
        self.start_workers("w1")
        rnd = random.Random(11)

        def csv(name, mean):
            return self.write("g/%s.csv" % name, "x,y\n" + "".join(
                "%.3f,%.3f\n" % (rnd.gauss(mean, 1), rnd.gauss(0, 1))
                for _ in range(1000)))
        ref, calm, moved = csv("ref", 0), csv("calm", 0), csv("moved", 1)
        path = self.write("g/retrain.yaml", """\
name: retrain
params: {current: none}
steps:
  drift:
    run: %s --reference %s --current ${params.current}
  train:
    needs: [drift]
    when: steps.drift.metrics.psi_max > 0.2
    run: echo '{"acc":0.9}' >&$YARD_METRICS_FD
  publish:
    needs: [train]
    run: echo published
""" % (DRIFT_BIN, ref))

        def run(current):
            rid = c.json("pipeline", "run", path, "--param",
                         "current=" + current)["id"]
            wait_for(lambda: c.json("pipeline", "status", rid)["state"]
                     != "running", 60, "run %s to end" % rid)
            st = c.json("pipeline", "status", rid)
            self.assertEqual(st["state"], "completed", st)
            return {x["name"]: x for x in st["steps"]}

        steps = run(calm)
        self.assertEqual(steps["drift"]["state"], "completed")
        self.assertEqual(steps["train"]["state"], "skipped")
        self.assertIn("not >", steps["train"]["reason"])
        self.assertEqual(steps["publish"]["state"], "skipped")
        self.assertIn("step train was skipped", steps["publish"]["reason"])
        steps = run(moved)
        self.assertEqual([steps[n]["state"] for n in
                          ("drift", "train", "publish")],
                         ["completed"] * 3)
        psi = [p["value"] for p in c.json("metrics",
                                          steps["drift"]["job_id"])
               if p["key"] == "psi_max"]
        self.assertGreater(psi[0], 0.2)
        # a condition on a step it does not need is refused at load time
        bad = self.write("g/bad.yaml", """\
name: bad
steps:
  a: {run: "true"}
  b: {run: "true", when: "steps.a.metrics.k > 1"}
""")
        p = c.yard("pipeline", "run", bad, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("must be one that step 'b' needs", p.stderr.decode())

    def test_example_loan_pipeline(self):
        """examples/loan end to end, as scripts/demo.sh runs it.  Needs the
        worker's stage_in/collect (another branch)."""
        c = self.cluster
        self.start_workers("w1")
        pp = ["--param", "bin=" + os.path.join(BUILD, "examples", "loan"),
              "--param", "tools=" + os.path.join(BUILD, "tools"),
              "--param", "py=" + PY, "--param", "epochs=1"]
        raw1 = os.path.join(self.root, "loans-v1")
        subprocess.run([PY, os.path.join(LOAN, "gen_loans.py"), "--out", raw1,
                        "--rows", "4000"], check=True, capture_output=True)
        c.yard("dataset", "add", "loans", raw1)

        def run(path):
            rid = c.json("pipeline", "run", path, *pp)["id"]
            wait_for(lambda: c.json("pipeline", "status", rid)["state"]
                     != "running", 120, "run %s to end" % rid)
            st = c.json("pipeline", "status", rid)
            self.assertEqual(st["state"], "completed", st)
            return rid, {x["name"]: x for x in st["steps"]}

        main = os.path.join(LOAN, "pipeline.yaml")
        r1, steps = run(main)
        v = c.json("model", "show", "loan-default")
        self.assertEqual([x["version"] for x in v], [1])
        self.assertEqual((v[0]["run"], v[0]["step"]), (r1, "evaluate"))
        self.assertGreater(v[0]["metrics"]["acc"], 0.7)
        _, steps = run(main)
        self.assertEqual(steps["prep"]["state"], "reused")
        self.assertEqual(steps["train"]["state"], "completed")

        c.yard("trigger", "add", "loans-drift", "--on", "dataset:loans",
               os.path.join(LOAN, "retrain-on-drift.yaml"), *pp)
        raw2 = os.path.join(self.root, "loans-v2")
        subprocess.run([PY, os.path.join(LOAN, "gen_loans.py"), "--out", raw2,
                        "--rows", "4000", "--drift", "0.5", "--seed", "7"],
                       check=True, capture_output=True)
        c.yard("dataset", "add", "loans", raw2)
        r3 = wait_for(lambda: c.json("trigger", "list")[0]["last_run"], 30,
                      "the drift trigger's run")
        wait_for(lambda: c.json("pipeline", "status", r3)["state"]
                 != "running", 120, "the retraining run to end")
        st = {x["name"]: x for x in c.json("pipeline", "status", r3)["steps"]}
        self.assertEqual([st[n]["state"] for n in
                          ("drift", "prep", "train", "evaluate")],
                         ["completed"] * 4)
        v = c.json("model", "show", "loan-default")
        self.assertEqual(v[0]["run"], r3)

    def test_bad_requests_are_refused(self):
        """Malformed model, schedule and trigger requests get an error
        reply; the scheduler stays up."""
        import sys
        sys.path.insert(0, os.path.join(REPO, "python"))
        import yard
        from yard import yard_pb2 as pb
        c = yard.Client(self.cluster.client_ep, timeout=10)
        self.addCleanup(c.close)
        bad = [
            ("model", pb.ModelRequest(op="")),
            ("model", pb.ModelRequest(op="register", model="m", digest="xyz")),
            ("model", pb.ModelRequest(op="register", model="m" * 200,
                                      digest="0" * 64)),
            ("model", pb.ModelRequest(op="show", model="../etc")),
            ("schedule", pb.ScheduleRequest(op="add", name="s", cron="* * * * *",
                                            pipeline=b"\xff\x00garbage")),
            ("schedule", pb.ScheduleRequest(op="add", name="s",
                                            cron="1-99 * * * *",
                                            pipeline=b"")),
            ("schedule", pb.ScheduleRequest(op="nope")),
            ("trigger", pb.TriggerRequest(op="add", name="t", on="dataset:",
                                          pipeline=b"x")),
            ("trigger", pb.TriggerRequest(op="remove", name="")),
        ]
        m = pb.ModelRequest(op="register", model="m", digest="0" * 64)
        for i in range(300):
            m.metrics.add(key="k%d" % i, value=1.0)
        bad.append(("model", m))
        m = pb.ModelRequest(op="register", model="m", digest="0" * 64)
        m.metrics.add(key="nan", value=float("nan"))
        bad.append(("model", m))
        spec = pb.PipelineSpec(name="p")      # no steps
        bad.append(("trigger", pb.TriggerRequest(
            op="add", name="t", on="model:m",
            pipeline=spec.SerializeToString())))
        for field, msg in bad:
            with self.assertRaises(yard.YardError) as e:
                c._call(field, msg)
            self.assertIn(e.exception.code, (22, 2, 90), (field, msg))
            self.assertTrue(e.exception.message)
        self.assertTrue(self.cluster.scheduler.alive())
        self.assertEqual(c.model_list(), [])
        self.assertEqual(c.schedule_list(), [])
        self.assertEqual(c.trigger_list(), [])


class MetricsContractWorker:
    """Built on test_pipelines' ContractWorker (a worker that follows the
    stage_in/collect contract): each job also reports the metric acc =
    self.acc before it finishes, as the real worker ships metrics before
    JobFinished."""

    @staticmethod
    def make(endpoint):
        import sys
        sys.path.insert(0, os.path.join(REPO, "python"))
        from test_pipelines import ContractWorker
        from yard import yard_pb2 as pb

        class W(ContractWorker):
            acc = None

            def handle(self, sock, d):
                if self.acc is not None:
                    now = int(time.time() * 1000)
                    self.send(sock, metrics_batch=pb.MetricsBatch(
                        job_id=d.job_id, attempt=d.attempt, first_seq=0,
                        next_seq=1, points=[pb.MetricPoint(
                            step=1, key="acc", value=self.acc, time_ms=now,
                            seq=0)]))
                super().handle(sock, d)
        return W(endpoint)


class RegisterContractTest(ClusterTest):
    """A step's register block against a worker that collects outputs."""

    def setUp(self):
        super().setUp()
        self.worker = MetricsContractWorker.make(self.cluster.worker_ep)
        self.worker.start()
        self.cluster.wait_nodes_up(["cw"])
        self.path = os.path.join(self.root, "train.yaml")
        with open(self.path, "w") as f:
            f.write(TRAIN)

    def tearDown(self):
        self.worker.stop.set()
        self.worker.join(5)
        super().tearDown()

    def run_train(self, acc):
        c = self.cluster
        self.worker.acc = acc
        rid = c.json("pipeline", "run", self.path, "--param",
                     "acc=%s" % acc)["id"]
        wait_for(lambda: c.json("pipeline", "status", rid)["state"]
                 != "running", 30, "run %s to end" % rid)
        st = c.json("pipeline", "status", rid)
        self.assertEqual(st["state"], "completed", st)
        return rid

    def versions(self):
        p = self.cluster.yard("--json", "model", "show", "clf", check=False)
        return json.loads(p.stdout) if p.returncode == 0 else []

    def test_registers_only_when_better(self):
        r1 = self.run_train(0.7)
        v = self.versions()
        self.assertEqual([x["version"] for x in v], [1])
        self.assertEqual((v[0]["run"], v[0]["step"], v[0]["metrics"]),
                         (r1, "train", {"acc": 0.7}))
        self.run_train(0.6)                 # worse: kept out
        self.assertEqual(len(self.versions()), 1)
        self.run_train(0.7)                 # equal is not better
        self.assertEqual(len(self.versions()), 1)
        r4 = self.run_train(0.8)
        v = self.versions()
        self.assertEqual([x["version"] for x in v], [2, 1])
        self.assertEqual(v[0]["run"], r4)
        self.assertIn("not registered: acc 0.6 is not > latest 0.7",
                      self.cluster.tail("scheduler.log", 400))

    def test_model_trigger_does_not_loop(self):
        """A trigger on model:clf whose pipeline registers clf runs once per
        outside registration."""
        c = self.cluster
        c.yard("trigger", "add", "retrain", "--on", "model:clf", self.path,
               "--param", "acc=0.9")
        self.worker.acc = 0.9
        f = os.path.join(self.root, "w.bin")
        with open(f, "w") as fh:
            fh.write("w")
        c.yard("model", "register", "clf", f, "--metric", "acc=0.5")
        t = wait_for(lambda: c.json("trigger", "list")[0]["last_run"] and
                     c.json("trigger", "list")[0], 30, "the trigger's run")
        wait_for(lambda: c.json("pipeline", "status", t["last_run"])["state"]
                 == "completed", 30, "the triggered run")
        wait_for(lambda: len(self.versions()) == 2, 30,
                 "the triggered run's version")
        self.assertIn("comes from a run it started: not fired again",
                      c.tail("scheduler.log", 400))
        self.assertEqual(c.json("trigger", "list")[0]["fired"], 1)
        self.assertEqual(len(c.json("pipeline", "list")), 1)


class LoanExampleStagedTest(StagedClusterTest):
    """examples/loan as scripts/demo.sh runs it, against a worker that
    stages inputs and collects outputs (stage_worker.py) and runs the real
    programs: the model registered, prep reused on the second run, a
    drifted dataset version triggering the retraining, an unchanged one
    skipping it."""

    def test_demo_flow(self):
        c = self.cluster
        pp = ["--param", "bin=" + os.path.join(BUILD, "examples", "loan"),
              "--param", "tools=" + os.path.join(BUILD, "tools"),
              "--param", "py=" + PY, "--param", "epochs=1"]

        def gen(name, *extra):
            d = os.path.join(self.root, name)
            subprocess.run([PY, os.path.join(LOAN, "gen_loans.py"), "--out",
                            d, "--rows", "3000"] + list(extra), check=True,
                           capture_output=True)
            return d

        def wait_run(rid):
            wait_for(lambda: c.json("pipeline", "status", rid)["state"]
                     != "running", 120, "run %s to end" % rid)
            st = c.json("pipeline", "status", rid)
            self.assertEqual(st["state"], "completed", st)
            return {x["name"]: x for x in st["steps"]}

        c.yard("dataset", "add", "loans", gen("v1"))
        main = os.path.join(LOAN, "pipeline.yaml")
        r1 = c.json("pipeline", "run", main, *pp)["id"]
        wait_run(r1)
        v = c.json("model", "show", "loan-default")
        self.assertEqual([(x["version"], x["run"], x["step"]) for x in v],
                         [(1, r1, "evaluate")])
        self.assertGreater(v[0]["metrics"]["acc"], 0.7)
        self.assertIn("baseline", v[0]["metrics"])
        steps = wait_run(c.json("pipeline", "run", main, *pp)["id"])
        self.assertEqual(steps["prep"]["state"], "reused")
        self.assertEqual(steps["evaluate"]["state"], "completed")
        # same data, same seed: the same accuracy, which is not better
        self.assertEqual(len(c.json("model", "show", "loan-default")), 1)

        c.yard("trigger", "add", "loans-drift", "--on", "dataset:loans",
               os.path.join(LOAN, "retrain-on-drift.yaml"), *pp)
        # a new version with the same applicants: checked, not retrained
        c.yard("dataset", "add", "loans", gen("v2", "--seed", "99"))
        r3 = wait_for(lambda: c.json("trigger", "list")[0]["last_run"], 30,
                      "the first triggered run")
        steps = wait_run(r3)
        self.assertEqual(steps["drift"]["state"], "completed")
        self.assertEqual([steps[n]["state"] for n in
                          ("prep", "train", "evaluate")], ["skipped"] * 3)
        # a drifted version: retrained and registered
        c.yard("dataset", "add", "loans", gen("v3", "--drift", "0.5"))
        r4 = wait_for(lambda: c.json("trigger", "list")[0]["last_run"] != r3
                      and c.json("trigger", "list")[0]["last_run"], 30,
                      "the second triggered run")
        steps = wait_run(r4)
        self.assertEqual([steps[n]["state"] for n in
                          ("drift", "prep", "train", "evaluate")],
                         ["completed"] * 4)
        psi = {p["key"]: p["value"]
               for p in c.json("metrics", steps["drift"]["job_id"])}
        self.assertGreater(psi["psi_max"], 0.2)
        self.assertIn("psi.income", psi)
        v = c.json("model", "show", "loan-default")
        self.assertEqual([(x["version"], x["run"]) for x in v][0], (2, r4))


class DriftProgramTest(unittest.TestCase):
    """yard-drift on its own: odd CSV input and its exit statuses."""

    def run_drift(self, ref, cur, *args):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for name, text in (("ref.csv", ref), ("cur.csv", cur)):
                paths.append(os.path.join(d, name))
                with open(paths[-1], "w") as f:
                    f.write(text)
            p = subprocess.run([DRIFT_BIN, "--reference", paths[0],
                                "--current", paths[1]] + list(args),
                               capture_output=True, text=True)
            return p.returncode, p.stdout, p.stderr

    def test_inputs(self):
        ref = "a,\"b, quoted\",name\r\n" + "".join(
            "%d,%d,n%d\r\n" % (i, i % 7, i) for i in range(200))
        # missing values are skipped; a text column is not compared
        cur = "a,\"b, quoted\",name\n" + "".join(
            "%s,%d,x\n" % ("" if i % 10 == 0 else str(i), i % 7)
            for i in range(200))
        rc, out, err = self.run_drift(ref, cur)
        self.assertEqual(rc, 0, err)
        self.assertIn("b, quoted", out)
        self.assertNotIn("name ", out)
        rc, out, err = self.run_drift(ref, cur, "--columns", "a,nope")
        self.assertEqual(rc, 2)
        self.assertIn("'nope'", err)
        rc, out, err = self.run_drift(ref, "a\n", "--columns", "a")
        self.assertEqual(rc, 2)
        self.assertIn("no values", err)
        rc, out, err = self.run_drift(ref, cur, "--threshold", "-1")
        self.assertEqual(rc, 2)
        rc, out, err = self.run_drift("", cur)
        self.assertEqual(rc, 2)
        # shifted: 3 above a threshold, 0 without one
        shifted = "a,\"b, quoted\",name\n" + "".join(
            "%d,%d,x\n" % (i + 150, i % 7) for i in range(200))
        self.assertEqual(self.run_drift(ref, shifted, "--threshold",
                                        "0.2")[0], 3)
        self.assertEqual(self.run_drift(ref, shifted)[0], 0)


if __name__ == "__main__":
    unittest.main()
