"""Pipelines against real daemons: run, status, list, cancel, reuse hits
and misses, explain, resume of a failed run, datasets, and (once the
worker stages inputs and collects outputs) outputs flowing between steps
and a missing cached output forcing a re-run."""
import json
import os
import textwrap
import unittest

from harness import ClusterTest, wait_for

TERMINAL = ("completed", "failed", "cancelled")


class Helpers:
    """What the pipeline tests share (self is a ClusterTest)."""

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def run_pipeline(self, path, *args):
        info = self.cluster.json("pipeline", "run", *args, path)
        self.assertIn(info["state"], ("running",) + TERMINAL, info)
        return info["id"]

    def status(self, run):
        return self.cluster.json("pipeline", "status", run)

    def wait_run(self, run, timeout=60):
        return wait_for(lambda: (lambda s: s if s["state"] in TERMINAL
                                 else None)(self.status(run)),
                        timeout, "pipeline run %s to end" % run)

    def steps(self, info):
        return {s["name"]: s for s in info["steps"]}

    def explain(self, run, step):
        return self.cluster.json("pipeline", "explain", run, step)

    def dataset(self, name, content):
        path = os.path.join(self.root, "%s-%d.csv" % (name, len(content)))
        with open(path, "w") as f:
            f.write(content)
        return self.cluster.json("dataset", "add", name, path)

    def yard_fails(self, *args, says):
        """`yard ARGS` exits 1 and its stderr says `says`."""
        r = self.cluster.yard(*args, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(says, r.stderr.decode())



class PipelineTest(Helpers, ClusterTest):
    def setUp(self):
        super().setUp()
        self.start_workers("w1", cpus=4)
        self.dir = os.path.join(self.root, "pipe")
        os.makedirs(self.dir)

    def test_run_status_list(self):
        ledger = os.path.join(self.root, "ledger")
        p = self.write("p.yaml", """\
            name: three
            params: {n: 3}
            steps:
              c:
                needs: [a, b]
                run: echo c ${params.n} >> %s
              a:
                run: echo a >> %s
              b:
                needs: [a]
                run: echo b >> %s
            """ % (ledger, ledger, ledger))
        run = self.run_pipeline(p)
        info = self.wait_run(run)
        self.assertEqual(info["state"], "completed", info)
        self.assertEqual([s["name"] for s in info["steps"]], ["a", "b", "c"])
        st = self.steps(info)
        self.assertEqual(st["c"]["needs"], ["a", "b"])
        for s in info["steps"]:
            self.assertEqual(s["state"], "completed")
            self.assertFalse(s["reused"])
            self.assertGreater(s["job_id"], 0)
            job = self.cluster.status(s["job_id"])
            self.assertEqual(job["state"], "COMPLETED")
        self.assertEqual(self.ledger(ledger), [["a"], ["b"], ["c", "3"]])
        self.assertEqual(info["params"], {"n": "3"})
        runs = self.cluster.json("pipeline", "list")
        self.assertEqual([r["id"] for r in runs], [run])
        self.assertEqual(runs[0]["name"], "three")
        human = self.cluster.yard("pipeline", "status", run).stdout.decode()
        self.assertIn("STEP", human)
        self.assertIn("completed", human)

    def test_reuse_hit_and_miss_on_one_input_byte(self):
        self.dataset("loans", "a,b\n1,2\n")
        p = self.write("p.yaml", """\
            name: loans
            steps:
              prep:
                run: cat ${inputs.raw} > /dev/null 2>&1; true
                inputs: {raw: "dataset:loans@latest"}
                reuse: true
            """)
        r1 = self.run_pipeline(p)
        self.assertEqual(self.wait_run(r1)["state"], "completed")
        r2 = self.run_pipeline(p)
        info = self.wait_run(r2)
        prep = self.steps(info)["prep"]
        self.assertEqual(prep["state"], "reused")
        self.assertEqual(prep["reused_run"], r1)
        self.assertEqual(prep["job_id"], 0, "a reused step runs no job")
        x = self.explain(r2, "prep")
        self.assertIn("reused from run %d step prep" % r1, x["lines"][0])
        # one byte differs: a new version, a new digest, a miss
        v = self.dataset("loans", "a,b\n1,3\n")
        self.assertEqual(v["version"], 2)
        r3 = self.run_pipeline(p)
        info = self.wait_run(r3)
        prep = self.steps(info)["prep"]
        self.assertEqual(prep["state"], "completed")
        self.assertGreater(prep["job_id"], 0)
        x = self.explain(r3, "prep")
        self.assertEqual(x["compared_run"], r2)
        self.assertTrue(any(l.startswith("input raw changed") for l in
                            x["lines"]), x["lines"])
        # pinning the old version is a hit again
        with open(p) as f:
            p1 = self.write("p1.yaml", f.read().replace("@latest", "@1"))
        r4 = self.run_pipeline(p1)
        self.assertEqual(self.steps(self.wait_run(r4))["prep"]["state"],
                         "reused")
        versions = self.cluster.json("dataset", "list", "loans")
        self.assertEqual([d["version"] for d in versions], [1, 2])

    def test_failed_step_is_never_a_hit_and_content_not_name_keys(self):
        flag = os.path.join(self.root, "fail-prep")
        open(flag, "w").close()
        self.dataset("loans", "a,b\n1,2\n")
        p = self.write("p.yaml", """\
            name: content
            steps:
              prep:
                run: cat ${{inputs.raw}} > /dev/null; test ! -e {f}
                inputs: {{raw: "dataset:loans@latest"}}
                reuse: true
            """.format(f=flag))
        r1 = self.run_pipeline(p)
        info = self.wait_run(r1)
        self.assertEqual(info["state"], "failed")
        key1 = self.steps(info)["prep"]["cache_key"]
        os.unlink(flag)
        # same key as the failed step, yet it runs: a failure is no hit
        r2 = self.run_pipeline(p)
        info = self.wait_run(r2)
        self.assertEqual(info["state"], "completed", info)
        prep = self.steps(info)["prep"]
        self.assertEqual(prep["cache_key"], key1)
        self.assertEqual(prep["state"], "completed")
        self.assertGreater(prep["job_id"], 0)
        self.assertIn("ran: no completed step had the same key",
                      self.explain(r2, "prep")["lines"][0])
        # the same bytes from another file, as a new version: still a hit
        other = os.path.join(self.root, "elsewhere.csv")
        with open(other, "w") as f:
            f.write("a,b\n1,2\n")
        v = self.cluster.json("dataset", "add", "loans", other)
        self.assertEqual(v["version"], 2)
        r3 = self.run_pipeline(p)
        prep = self.steps(self.wait_run(r3))["prep"]
        self.assertEqual(prep["state"], "reused")
        self.assertEqual(prep["reused_run"], r2)
        self.assertEqual(prep["cache_key"], key1)

    def test_code_and_param_changes_explained(self):
        self.write("prep.py", "print('v1')\n")
        p = self.write("p.yaml", """\
            name: expl
            params: {epochs: 5}
            steps:
              prep:
                run: echo ${params.epochs}
                code: [prep.py]
                reuse: true
              off:
                run: echo off
            """)
        r1 = self.run_pipeline(p)
        self.assertEqual(self.wait_run(r1)["state"], "completed")
        self.write("prep.py", "print('v2')\n")
        r2 = self.run_pipeline(p, "--param", "epochs=6")
        info = self.wait_run(r2)
        self.assertEqual(self.steps(info)["prep"]["state"], "completed")
        lines = self.explain(r2, "prep")["lines"]
        self.assertTrue(any(l.startswith("code prep.py changed: ")
                            for l in lines), lines)
        self.assertIn("param epochs 5 -> 6", lines)
        human = self.cluster.yard("pipeline", "explain", r2,
                                  "prep").stdout.decode()
        self.assertIn("param epochs 5 -> 6", human)
        # reuse off: runs every time, and explain says so
        self.assertEqual(self.steps(info)["off"]["state"], "completed")
        lines = self.explain(r2, "off")["lines"]
        self.assertIn("ran: reuse is off for this step", lines[0])
        self.assertIn("nothing changed", lines[-1])
        self.yard_fails("pipeline", "explain", r2, "nope",
                        says="has no step 'nope'")

    def test_env_is_part_of_the_key(self):
        text = """\
            name: envkey
            steps:
              train:
                run: test "$SEED" = {seed}
                env: {{SEED: "{seed}"}}
                reuse: true
            """
        p = self.write("p.yaml", text.format(seed=1))
        r1 = self.run_pipeline(p)
        self.assertEqual(self.wait_run(r1)["state"], "completed")
        r2 = self.run_pipeline(p)
        self.assertEqual(self.steps(self.wait_run(r2))["train"]["state"],
                         "reused")
        p = self.write("p.yaml", text.format(seed=2))
        r3 = self.run_pipeline(p)
        info = self.wait_run(r3)
        self.assertEqual(info["state"], "completed", info)
        self.assertEqual(self.steps(info)["train"]["state"], "completed")
        lines = self.explain(r3, "train")["lines"]
        self.assertIn("env SEED 1 -> 2", lines)

    def test_resume_failed_pipeline(self):
        ledger = os.path.join(self.root, "ledger")
        flag = os.path.join(self.root, "fail-train")
        open(flag, "w").close()
        p = self.write("p.yaml", """\
            name: resume
            steps:
              prep:
                run: echo prep >> {l}
              train:
                needs: [prep]
                run: echo train >> {l}; test ! -e {f}
              eval:
                needs: [train]
                run: echo eval >> {l}
            """.format(l=ledger, f=flag))
        r1 = self.run_pipeline(p)
        info = self.wait_run(r1)
        self.assertEqual(info["state"], "failed")
        st = self.steps(info)
        self.assertEqual(st["prep"]["state"], "completed")
        self.assertEqual(st["train"]["state"], "failed")
        self.assertEqual(st["eval"]["state"], "cancelled")
        self.assertIn("step train failed", st["eval"]["reason"])
        self.assertIn("step train failed", info["reason"])
        os.unlink(flag)
        r2 = self.cluster.json("pipeline", "rerun", r1)["id"]
        info = self.wait_run(r2)
        self.assertEqual(info["state"], "completed", info)
        self.assertEqual(info["resumed_from"], r1)
        st = self.steps(info)
        self.assertEqual(st["prep"]["state"], "reused")
        self.assertEqual(st["prep"]["reused_run"], r1)
        self.assertEqual(st["train"]["state"], "completed")
        self.assertEqual(st["eval"]["state"], "completed")
        self.assertEqual(self.ledger(ledger),
                         [["prep"], ["train"], ["train"], ["eval"]])
        # run FILE --resume does the same from the file
        r3 = self.run_pipeline(p, "--resume", r2)
        st = self.steps(self.wait_run(r3))
        self.assertEqual({s["state"] for s in st.values()}, {"reused"})

    def test_cancel(self):
        ledger = os.path.join(self.root, "ledger")
        p = self.write("p.yaml", """\
            name: slow
            steps:
              sleep:
                run: echo started >> %s; sleep 60
              after:
                needs: [sleep]
                run: echo after >> %s
            """ % (ledger, ledger))
        run = self.run_pipeline(p)
        wait_for(lambda: self.ledger(ledger) == [["started"]], 20,
                 "the first step to start")
        job = self.steps(self.status(run))["sleep"]["job_id"]
        info = self.cluster.json("pipeline", "cancel", run)
        self.assertEqual(info["state"], "cancelled")
        self.assertEqual(self.steps(info)["after"]["state"], "cancelled")
        self.cluster.wait_state(job, "CANCELLED")
        info = wait_for(lambda: (lambda s: s if self.steps(s)["sleep"]["state"]
                                 == "cancelled" else None)(self.status(run)),
                        20, "the running step to be cancelled")
        self.assertEqual(info["state"], "cancelled")
        self.assertEqual(self.ledger(ledger), [["started"]])
        # cancelling again changes nothing
        self.assertEqual(self.cluster.json("pipeline", "cancel",
                                           run)["state"], "cancelled")

    def test_run_survives_scheduler_restart(self):
        ledger = os.path.join(self.root, "ledger")
        go = os.path.join(self.root, "go")
        p = self.write("p.yaml", """\
            name: durable
            steps:
              first:
                run: echo first >> {l}; while ! test -e {g}; do sleep 0.05; done
              second:
                needs: [first]
                run: echo second >> {l}
            """.format(l=ledger, g=go))
        run = self.run_pipeline(p)
        wait_for(lambda: self.ledger(ledger) == [["first"]], 20,
                 "the first step to start")
        self.cluster.kill_scheduler()
        self.cluster.start_scheduler()
        info = self.status(run)
        self.assertEqual(info["state"], "running")
        self.assertEqual(self.steps(info)["first"]["state"], "running")
        open(go, "w").close()
        info = self.wait_run(run)
        self.assertEqual(info["state"], "completed", info)
        self.assertEqual(self.ledger(ledger), [["first"], ["second"]])

    def test_cancel_pending_and_job_cancelled_by_hand(self):
        p = self.write("p.yaml", """\
            name: big
            steps:
              huge:
                run: true
                resources: {cpus: 64}
            """)
        run = self.run_pipeline(p)
        job = self.steps(self.status(run))["huge"]["job_id"]
        self.assertEqual(self.cluster.status(job)["state"], "PENDING")
        info = self.cluster.json("pipeline", "cancel", run)
        self.assertEqual(info["state"], "cancelled")
        self.assertEqual(self.steps(info)["huge"]["state"], "cancelled")
        self.assertEqual(self.cluster.status(job)["state"], "CANCELLED")
        # a step's job cancelled on its own fails the step and the run
        run = self.run_pipeline(p)
        job = self.steps(self.status(run))["huge"]["job_id"]
        self.cluster.yard("cancel", job)
        info = self.wait_run(run)
        self.assertEqual(info["state"], "failed")
        self.assertIn("cancelled", self.steps(info)["huge"]["reason"])

    def test_step_refused_at_submit(self):
        p = self.write("p.yaml", """\
            name: refused
            steps:
              a:
                run: true
                env: {"BAD=KEY": x}
              b:
                needs: [a]
                run: true
            """)
        self.yard_fails("pipeline", "run", p, says="environment variable name")
        p = self.write("q.yaml", """\
            name: refused
            steps:
              a:
                run: true
                resources: {cpus: 100000}
              b:
                needs: [a]
                run: true
            """)
        run = self.run_pipeline(p)
        info = self.wait_run(run)
        self.assertEqual(info["state"], "failed")
        st = self.steps(info)
        self.assertEqual(st["a"]["state"], "failed")
        self.assertIn("cpus", st["a"]["reason"])
        self.assertEqual(st["b"]["state"], "cancelled")

    def test_errors(self):
        p = self.write("bad.yaml", """\
            name: bad
            steps:
              a:
                run: true
                needs: [b]
              b:
                run: true
                needs: [a]
            """)
        self.yard_fails("pipeline", "run", p, says="cycle")
        p = self.write("unk.yaml", """\
            name: unk
            steps:
              a:
                rn: true
            """)
        self.yard_fails("pipeline", "run", p,
                        says="unk.yaml:4: unknown key 'rn'")
        p = self.write("nods.yaml", """\
            name: nods
            steps:
              a:
                run: true
                inputs: {raw: "dataset:nothere@latest"}
            """)
        self.yard_fails("pipeline", "run", p, says="no dataset nothere")
        self.assertEqual(self.cluster.json("pipeline", "list"), [])
        self.yard_fails("pipeline", "status", "99", says="no pipeline run 99")
        self.assertEqual(self.cluster.yard("pipeline", "--help").returncode,
                         0)
        self.assertEqual(self.cluster.yard("dataset", "--help").returncode,
                         0)

    # -- these need the worker to stage inputs and collect outputs ---------
    # Their first step exits 99 when the worker gave it no $YARD_OUTPUTS.
    NEEDS_OUTPUTS = 'test -n "$YARD_OUTPUTS" || exit 99; '

    def outputs_or_skip(self, info, step):
        s = self.steps(info)[step]
        if s["state"] == "failed" and "status 99" in s["reason"]:
            self.skipTest("the worker does not stage inputs or collect "
                          "outputs (JobSpec.stage_in/collect) yet")
        self.assertEqual(s["state"], "completed", s)
        self.assertTrue(s["outputs"], s)
        return s

    def test_outputs_flow_between_steps(self):
        p = self.write("p.yaml", """\
            name: flow
            steps:
              prep:
                run: %secho hello > ${outputs.data}/x
                outputs: [data]
              train:
                needs: [prep]
                run: cat ${steps.prep.outputs.data}/x > ${outputs.model}/m
                outputs: [model]
            """ % self.NEEDS_OUTPUTS)
        run = self.run_pipeline(p)
        info = self.wait_run(run)
        self.outputs_or_skip(info, "prep")
        self.assertEqual(info["state"], "completed", info)
        model = self.steps(info)["train"]["outputs"]
        self.assertEqual([o["name"] for o in model], ["model"])

    def test_reference_yaml_shape_runs(self):
        """The pipeline file of docs/pipelines.md (its first example, less
        the register block), as written there, end to end."""
        self.dataset("loans", "a,b\n1,2\n3,4\n")
        self.write("prep.py", textwrap.dedent("""\
            import os, shutil, sys
            a = sys.argv
            shutil.copy(a[a.index("--in") + 1],
                        os.path.join(a[a.index("--out") + 1], "data.csv"))
            """))
        train = self.write("train", textwrap.dedent("""\
            #!/bin/sh
            # ./train --data DIR --epochs N --out DIR
            echo "$(wc -l < $2/data.csv) lines, $4 epochs" > $6/model.txt
            """))
        os.chmod(train, 0o755)
        p = self.write("p.yaml", """\
            name: loan-default
            params: {epochs: 5}
            steps:
              prep:
                run: python3 prep.py --in ${inputs.raw} --out ${outputs.data}
                inputs: {raw: "dataset:loans@latest"}
                code: [prep.py]
                outputs: [data]
                reuse: true
              train:
                needs: [prep]
                run: ./train --data ${steps.prep.outputs.data} --epochs ${params.epochs} --out ${outputs.model}
                resources: {cpus: 2, gpus: 0}
                retries: 2
                outputs: [model]
            """)

        def model_of(run):
            info = self.wait_run(run)
            self.assertEqual(info["state"], "completed", info)
            dest = os.path.join(self.root, "model-%d" % run)
            self.cluster.yard("artifact", "get",
                              self.steps(info)["train"]["outputs"][0]["digest"],
                              dest)
            with open(os.path.join(dest, "model.txt")) as f:
                return self.steps(info), f.read()

        st, model = model_of(self.run_pipeline(p))
        self.assertEqual(model, "3 lines, 5 epochs\n")
        self.assertEqual(st["prep"]["state"], "completed")
        st, model = model_of(self.run_pipeline(p, "--param", "epochs=7"))
        self.assertEqual(model, "3 lines, 7 epochs\n")
        self.assertEqual(st["prep"]["state"], "reused")
        self.assertEqual(st["train"]["state"], "completed")

    def test_outputs_reach_a_step_on_another_node(self):
        p = self.write("p.yaml", """\
            name: nodes
            steps:
              prep:
                run: echo hello-$YARD_NODE > ${outputs.data}/x
                outputs: [data]
                reuse: true
              train:
                needs: [prep]
                run: cat ${steps.prep.outputs.data}/x > ${outputs.model}/m
                outputs: [model]
            """)
        r1 = self.run_pipeline(p)
        info = self.wait_run(r1)
        self.assertEqual(info["state"], "completed", info)
        prep_job = self.steps(info)["prep"]["job_id"]
        self.assertEqual(self.cluster.status(prep_job)["node"], "w1")
        # w1 is drained: the next run's train can only run on w2, from
        # what w1's prep left in the scheduler's artifact store
        self.cluster.yard("nodes", "drain", "w1")
        self.cluster.start_worker("w2", cpus=2)
        self.cluster.wait_nodes_up(["w2"])
        r2 = self.run_pipeline(p)
        info = self.wait_run(r2)
        self.assertEqual(info["state"], "completed", info)
        st = self.steps(info)
        self.assertEqual(st["prep"]["state"], "reused")
        self.assertEqual(self.cluster.status(st["train"]["job_id"])["node"],
                         "w2")
        dest = os.path.join(self.root, "model-from-w2")
        self.cluster.yard("artifact", "get", st["train"]["outputs"][0]["digest"],
                          dest)
        with open(os.path.join(dest, "m")) as f:
            self.assertEqual(f.read(), "hello-w1\n")

    def test_missing_cached_output_forces_rerun(self):
        p = self.write("p.yaml", """\
            name: gone
            steps:
              prep:
                run: %secho data > ${outputs.data}/x
                outputs: [data]
                reuse: true
            """ % self.NEEDS_OUTPUTS)
        r1 = self.run_pipeline(p)
        info = self.wait_run(r1)
        prep = self.outputs_or_skip(info, "prep")
        r2 = self.run_pipeline(p)
        self.assertEqual(self.steps(self.wait_run(r2))["prep"]["state"],
                         "reused")
        # remove the output's tree manifest from the store
        d = prep["outputs"][0]["digest"]
        blob = os.path.join(self.cluster.state_dir, "artifacts", "blobs",
                            d[:2], d)
        os.unlink(blob)
        r3 = self.run_pipeline(p)
        prep3 = self.steps(self.wait_run(r3))["prep"]
        self.assertEqual(prep3["state"], "completed")
        lines = self.explain(r3, "prep")["lines"]
        self.assertIn("no longer in the artifact store", lines[0])


if __name__ == "__main__":
    unittest.main()


# ---- the scheduler's side of staging, against a worker that follows the
# stage_in/collect contract (a Python stand-in: the real worker's side is
# built elsewhere) -----------------------------------------------------------

import hashlib  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import zmq  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
from yard import yard_pb2 as pb  # noqa: E402


class ContractWorker(threading.Thread):
    """Registers as a worker, and for each Dispatch: records its spec,
    stores each `collect` folder as a tree holding one file whose content
    is outputs[name] (default: the command), and reports exit 0 with
    JobFinished.outputs."""

    def __init__(self, endpoint, name="cw"):
        super().__init__(daemon=True)
        self.endpoint = endpoint
        self.name = name
        self.dispatches = []
        self.outputs = {}
        self.stop = threading.Event()
        self.registered = threading.Event()
        self.rid = 0

    def send(self, sock, **body):
        self.rid += 1
        env = pb.Envelope(version=1, request_id=self.rid, **body)
        sock.send(env.SerializeToString())
        return self.rid

    def call(self, sock, **body):
        rid = self.send(sock, **body)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if sock.poll(200):
                env = pb.Envelope()
                env.ParseFromString(sock.recv())
                if env.request_id == rid:
                    return env
                self.pending.append(env)
        raise AssertionError("no reply to %r" % body.keys())

    def put(self, sock, data):
        digest = hashlib.sha256(data).hexdigest()
        r = self.call(sock, artifact_put=pb.ArtifactPut(
            digest=digest, size=len(data), offset=0, data=data))
        assert r.WhichOneof("body") == "artifact_info", r
        assert r.artifact_info.present, r
        return digest

    def tree(self, sock, content):
        fd = self.put(sock, content)
        manifest = json.dumps(
            {"yard_tree": 1, "entries": [{"path": "out", "mode": 420,
                                          "size": len(content),
                                          "digest": fd}]},
            separators=(",", ":")).encode()
        return self.put(sock, manifest), len(content)

    def run(self):
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        self.pending = []
        self.send(sock, worker_register=pb.WorkerRegister(
            name=self.name, instance=random.getrandbits(63) + 1,
            hostname="contract", version="test", cpus=4,
            memory_bytes=1 << 30))
        last_hb = time.monotonic()
        while not self.stop.is_set():
            if time.monotonic() - last_hb > 0.3:
                self.send(sock, heartbeat=pb.Heartbeat(
                    name=self.name, running=0))
                last_hb = time.monotonic()
            if not self.pending and not sock.poll(100):
                continue
            if self.pending:
                env = self.pending.pop(0)
            else:
                env = pb.Envelope()
                env.ParseFromString(sock.recv())
            kind = env.WhichOneof("body")
            if kind == "register_reply":
                self.registered.set()
            elif kind == "dispatch":
                self.handle(sock, env.dispatch)
        sock.close()

    def handle(self, sock, d):
        self.dispatches.append(d)
        now = int(time.time() * 1000)
        self.send(sock, job_started=pb.JobStarted(
            job_id=d.job_id, attempt=d.attempt, pid=1, start_time_ms=now))
        outs = []
        for name in d.spec.collect:
            content = self.outputs.get(name, d.spec.argv[-1]).encode()
            digest, size = self.tree(sock, content)
            outs.append(pb.NamedDigest(name=name, digest=digest, size=size))
        self.send(sock, job_finished=pb.JobFinished(
            job_id=d.job_id, attempt=d.attempt, reason=pb.END_EXITED,
            exit_code=0, end_time_ms=now + 1, start_time_ms=now,
            outputs=outs))

    def spec_of(self, step):
        for d in self.dispatches:
            if d.spec.pipeline_step == step:
                yield d.spec


class StagingContractTest(Helpers, ClusterTest):
    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.root, "pipe")
        os.makedirs(self.dir)
        self.worker = ContractWorker(self.cluster.worker_ep)
        self.worker.start()
        self.cluster.wait_nodes_up(["cw"])

    def tearDown(self):
        self.worker.stop.set()
        self.worker.join(5)
        super().tearDown()

    def test_outputs_staged_reused_and_missing(self):
        self.dataset("raw", "1,2\n")
        self.write("prep.py", "print('prep')\n")
        p = self.write("p.yaml", """\
            name: contract
            steps:
              prep:
                run: prep --in ${inputs.raw} --out ${outputs.data}
                inputs: {raw: "dataset:raw@latest"}
                code: [prep.py]
                outputs: [data]
                reuse: true
              train:
                needs: [prep]
                run: train ${steps.prep.outputs.data} ${outputs.model}
                inputs: {d: steps.prep.outputs.data}
                outputs: [model]
                reuse: true
            """)
        r1 = self.run_pipeline(p)
        info = self.wait_run(r1)
        self.assertEqual(info["state"], "completed", info)
        st = self.steps(info)
        data = st["prep"]["outputs"][0]["digest"]
        self.assertEqual([o["name"] for o in st["train"]["outputs"]],
                         ["model"])
        prep = next(self.worker.spec_of("prep"))
        train = next(self.worker.spec_of("train"))
        self.assertEqual(list(prep.argv[:2]), ["sh", "-c"])
        self.assertEqual(prep.argv[2], 'prep --in "$YARD_INPUTS/raw" --out '
                                       '"$YARD_OUTPUTS/data"')
        self.assertEqual(list(prep.collect), ["data"])
        staged = {s.path: s.digest for s in prep.stage_in}
        raw = self.cluster.json("dataset", "list", "raw")[0]["digest"]
        self.assertEqual(staged["raw"], raw)
        self.assertIn("code/prep.py", staged)
        self.assertEqual(train.argv[2], 'train "$YARD_INPUTS/steps/prep/data"'
                                        ' "$YARD_OUTPUTS/model"')
        staged = {s.path: s.digest for s in train.stage_in}
        self.assertEqual(staged, {"d": data, "steps/prep/data": data})
        self.assertEqual(train.pipeline_run, r1)
        env = {e.key: e.value for e in train.env}
        self.assertEqual(env["YARD_PIPELINE_STEP"], "train")
        # everything reused
        r2 = self.run_pipeline(p)
        st = self.steps(self.wait_run(r2))
        self.assertEqual(st["prep"]["state"], "reused")
        self.assertEqual(st["train"]["state"], "reused")
        self.assertEqual(st["train"]["outputs"][0]["name"], "model")
        # prep's output gone from the store: prep runs again; it makes the
        # same bytes, so train is still a hit
        os.unlink(os.path.join(self.cluster.state_dir, "artifacts", "blobs",
                               data[:2], data))
        r3 = self.run_pipeline(p)
        st = self.steps(self.wait_run(r3))
        self.assertEqual(st["prep"]["state"], "completed")
        self.assertEqual(st["train"]["state"], "reused")
        lines = self.explain(r3, "prep")["lines"]
        self.assertIn("no longer in the artifact store", lines[0])
        # prep now writes other bytes: train's upstream input changed
        self.worker.outputs["data"] = "different"
        self.write("prep.py", "print('prep v2')\n")
        r4 = self.run_pipeline(p)
        st = self.steps(self.wait_run(r4))
        self.assertEqual(st["prep"]["state"], "completed")
        self.assertEqual(st["train"]["state"], "completed")
        lines = self.explain(r4, "train")["lines"]
        self.assertTrue(any(l.startswith("input d changed") for l in lines),
                        lines)
        self.assertTrue(any(l.startswith("upstream output prep/data changed")
                            for l in lines), lines)
        self.assertEqual(len(list(self.worker.spec_of("train"))), 2)

    def test_register_block_registers_the_output(self):
        p = self.write("p.yaml", """\
            name: reg
            steps:
              train:
                run: train ${outputs.model}
                outputs: [model]
                register: {model: loan}
            """)
        r1 = self.run_pipeline(p)
        info = self.wait_run(r1)
        self.assertEqual(info["state"], "completed", info)
        digest = self.steps(info)["train"]["outputs"][0]["digest"]
        versions = self.cluster.json("model", "show", "loan")
        self.assertEqual(len(versions), 1, versions)
        v = versions[0]
        self.assertEqual(v["digest"], digest)
        self.assertEqual(v["run"], r1)
        self.assertEqual(v["step"], "train")


class CApiTest(Helpers, ClusterTest):
    """The same through libyard's public C API (tests/integration/
    pipeline_api.c, linked with libyard.so)."""

    def setUp(self):
        super().setUp()
        self.start_workers("w1", cpus=4)
        self.dir = os.path.join(self.root, "pipe")
        os.makedirs(self.dir)

    def api(self, *args, check=True, input=None):
        import subprocess
        from harness import BUILD
        p = subprocess.run([os.path.join(BUILD, "tests", "pipeline_api"),
                            self.cluster.client_ep] + [str(a) for a in args],
                           capture_output=True, timeout=60, input=input)
        if check and p.returncode != 0:
            raise AssertionError("pipeline_api %r: %d %s" % (
                args, p.returncode, p.stderr.decode()))
        return p

    def test_c_api(self):
        data = os.path.join(self.root, "d.csv")
        with open(data, "w") as f:
            f.write("x\n1\n")
        self.assertEqual(self.api("dataset", "d", data).stdout, b"1\n")
        self.assertEqual(self.api("dataset", "d", data).stdout, b"2\n")
        self.assertEqual(self.api("dataset", "e", data).stdout, b"1\n")
        cli = self.cluster.json("dataset", "list")
        self.assertEqual(self.api("datasets").stdout.decode().splitlines(),
                         ["%s %d %s %d" % (d["name"], d["version"],
                                           d["digest"], d["size"])
                          for d in cli])
        self.assertEqual(len(cli), 3)
        self.assertEqual([l.split()[:2] for l in
                          self.api("datasets", "d").stdout.decode()
                          .splitlines()], [["d", "1"], ["d", "2"]])
        self.assertEqual(self.api("datasets", "none").stdout, b"")
        flag = os.path.join(self.root, "fail")
        open(flag, "w").close()
        p = self.write("p.yaml", """\
            name: capi
            params: {n: 1}
            steps:
              a:
                run: echo ${params.n}
                inputs: {d: "dataset:d@latest"}
                reuse: true
              b:
                needs: [a]
                run: test ! -e %s
            """ % flag)
        out = self.api("run", p, "n=2", check=False)
        self.assertEqual(out.returncode, 1, out)
        lines = out.stdout.decode().split("\n")
        self.assertEqual(lines[0], "run 1 failed")
        self.assertTrue(lines[1].startswith("a completed "), lines)
        self.assertTrue(lines[2].startswith("b failed "), lines)
        os.unlink(flag)
        out = self.api("rerun", 1).stdout.decode().split("\n")
        self.assertEqual(out[0], "run 2 completed")
        self.assertEqual(out[1], "a reused 0 1")
        self.assertTrue(out[2].startswith("b completed "), out)
        # list, newest first (runs without their steps), and explain, as
        # the CLI shows them
        runs = self.api("list").stdout.decode().splitlines()
        self.assertEqual(runs, ["2 capi completed cli 0", "1 capi failed cli 0"])
        self.assertEqual(self.api("list", "capi", 1).stdout.decode(),
                         "2 capi completed cli 0\n")
        self.assertEqual(self.api("list", "nope").stdout, b"")
        x = self.api("explain", 2, "a").stdout.decode().splitlines()
        cli = self.explain(2, "a")
        self.assertEqual(x[0], "a reused 1 %d %s" % (cli["compared_run"],
                                                     cli["cache_key"]))
        self.assertEqual(x[1:], cli["lines"])
        self.assertTrue(x[1].startswith("reused from run 1 step a"), x)
        bad = self.api("explain", 2, "nope", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("has no step 'nope'", bad.stderr.decode())
        # a pipeline written in memory: its steps run in the folder given,
        # its code files are read from there
        self.write("gen.sh", "echo generated > made-by-text\n")
        text = textwrap.dedent("""\
            name: fromtext
            params: {who: x}
            steps:
              only:
                run: sh gen.sh && echo ${params.who} >> made-by-text
                code: [gen.sh]
            """).encode()
        out = self.api("text", self.dir, "who=c", input=text)
        lines = out.stdout.decode().splitlines()
        self.assertEqual(lines[0].split()[2], "completed", lines)
        with open(os.path.join(self.dir, "made-by-text")) as f:
            self.assertEqual(f.read(), "generated\nc\n")
        self.assertEqual(self.cluster.json("pipeline", "status",
                                           lines[0].split()[1])["name"],
                         "fromtext")
        bad = self.api("text", self.dir, input=b"name: t\nsteps:\n  a: {rn: x}\n",
                       check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("pipeline:3: unknown key 'rn'", bad.stderr.decode())
        bad = self.api("text", os.path.join(self.dir, "nowhere"),
                       input=text, check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("cannot use folder", bad.stderr.decode())
        bad = self.api("run", os.path.join(self.dir, "none.yaml"),
                       check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("cannot open", bad.stderr.decode())

    def test_c_builder(self):
        """A pipeline built with yard_pipeline_new / yard_step_* is the same
        spec as its YAML: a YAML run reuses the built run's reusable step,
        and wrong pipelines are refused with the loader's messages."""
        data = os.path.join(self.root, "loans.csv")
        with open(data, "w") as f:
            f.write("id,default\n1,0\n2,1\n")
        self.assertEqual(self.api("dataset", "loans", data).stdout, b"1\n")
        self.write("prep.sh", 'wc -l < "$1" > "$2/rows"\n')
        out = self.api("build", self.dir).stdout.decode().splitlines()
        self.assertEqual(out[0].split()[2], "completed", out)
        built = int(out[0].split()[1])
        self.assertEqual([l.split()[:2] for l in out[1:]],
                         [["prep", "completed"], ["train", "completed"]])
        info = self.status(built)
        self.assertEqual(info["name"], "capi-loan")
        # the same pipeline as a file
        path = self.write("loan.yaml", """\
            name: capi-loan
            params: {epochs: 5}
            steps:
              prep:
                run: 'sh "$YARD_INPUTS/code/prep.sh" ${inputs.raw} ${outputs.data}'
                inputs: {raw: "dataset:loans@latest"}
                code: [prep.sh]
                outputs: [data]
                reuse: true
              train:
                needs: [prep]
                run: (cat ${steps.prep.outputs.data}/rows; echo ${params.epochs}) > ${outputs.model}/model.txt
                resources: {cpus: 1, gpus: 0}
                retries: 2
                env: {MODE: fast}
                outputs: [model]
                register: {model: capi-loan, output: model}
            """)
        out = self.api("run", path, "epochs=6").stdout.decode().splitlines()
        self.assertEqual(out[0].split()[2], "completed", out)
        yaml_run = int(out[0].split()[1])
        self.assertEqual(out[1], "prep reused 0 %d" % built)
        self.assertTrue(out[2].startswith("train completed "), out)
        x = self.explain(yaml_run, "prep")
        self.assertEqual(x["cache_key"],
                         self.steps(info)["prep"]["cache_key"])
        # and the other way: the builder reuses the file's step
        out = self.api("build", self.dir, "epochs=7").stdout.decode()
        self.assertIn("\nprep reused 0 %d\n" % built, out)
        # a changed code file: prep runs again
        self.write("prep.sh", 'wc -c < "$1" > "$2/rows"\n')
        out = self.api("build", self.dir).stdout.decode().splitlines()
        self.assertTrue(out[1].startswith("prep completed "), out)

        def bad(case):
            p = self.api("build-bad", case, check=False)
            self.assertEqual(p.returncode, 0, p)
            return p.stdout.decode().strip()

        def yaml_err(text):
            p = self.api("text", self.dir, input=textwrap.dedent(text)
                         .encode(), check=False)
            self.assertEqual(p.returncode, 1)
            return p.stderr.decode().strip()

        # the loader's messages, without the file and line
        cases = {
            "need": """\
                name: bad
                steps:
                  a: {run: echo a}
                  b: {run: echo b, needs: [nope]}
                """,
            "cycle": """\
                name: bad
                steps:
                  a: {run: echo a, needs: [b]}
                  b: {run: echo b, needs: [a]}
                """,
            "notneeded": """\
                name: bad
                steps:
                  a: {run: echo a, outputs: [o]}
                  b: {run: 'cat ${steps.a.outputs.o}'}
                """,
            "param": """\
                name: bad
                steps:
                  a: {run: echo a}
                  b: {run: 'echo ${params.missing}'}
                """,
        }
        for case, text in cases.items():
            got = bad(case)
            self.assertTrue(got.startswith("submit: "), (case, got))
            msg = got[len("submit: "):]
            ye = yaml_err(text)
            tail = msg[msg.index("step '"):] if case != "cycle" else msg
            self.assertTrue(ye.endswith(tail), (case, msg, ye))
        self.assertIn("dataset:", bad("ref"))
        self.assertTrue(bad("ref").startswith("call: step 'a': "))
        self.assertEqual(bad("dup"), "call: step 'a' is declared twice")
        self.assertIn("not a pipeline name", bad("name"))
        self.assertEqual(bad("register"),
                         "submit: register: step 'a' has no output 'other' "
                         "(declare it with yard_step_output)")
        self.assertEqual(bad("when"), "submit: when: step 'a' must be one "
                         "that step 'b' needs")
        self.assertIn("without '..'", bad("code"))
        # nothing was submitted by the wrong ones
        runs = self.api("list", "bad").stdout
        self.assertEqual(runs, b"")
