"""The Python client's pipelines, datasets, models and artifacts against a
real cluster: folder digests identical to the C client's (common/digest.c
rules), artifacts put and fetched back, a pipeline file loaded by Python
giving the same cache keys as the C loader (a run from the CLI is reused by
a run from Python), and Python driving a pipeline to completion."""
import json
import os
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "python"))

import yard                                         # noqa: E402
from harness import ClusterTest                     # noqa: E402
from staged_cluster import StagedClusterTest        # noqa: E402

CHAIN = """\
name: chain
params: {greeting: hi}
steps:
  first:
    run: echo ${params.greeting} from first
    code: [tool.sh]
    reuse: true
  second:
    needs: [first]
    run: "echo second: ${params.greeting}"
    resources: {cpus: 1, memory: 64M}
    env: {MODE: fast}
"""

# needs the worker's stage_in/collect (another branch)
STAGED = """\
name: staged
steps:
  count:
    run: wc -l < ${inputs.rows} > ${outputs.out}/lines
    inputs: {rows: "dataset:rows@latest"}
    outputs: [out]
    register: {model: lines, output: out}
"""



def run_staged(test, c):
    """Run STAGED with client c over a three-line dataset: the run must
    complete and register model "lines" holding the count 3.  Returns the
    run, the model version and what fetching the model returned."""
    rows = os.path.join(test.root, "rows.csv")
    with open(rows, "w") as f:
        f.write("1\n2\n3\n")
    c.dataset_add("rows", rows)
    path = os.path.join(test.root, "staged.yaml")
    with open(path, "w") as f:
        f.write(STAGED)
    done = c.pipeline_wait(c.pipeline_run(path)["id"], timeout=60)
    test.assertEqual(done["state"], "completed", done)
    v = c.model_show("lines")[0]
    out = os.path.join(test.root, "lines")
    fetched = c.artifact_get(v["digest"], out)
    with open(os.path.join(out, "lines")) as f:
        test.assertEqual(f.read().strip(), "3")
    return done, v, fetched

class DigestRulesTest(unittest.TestCase):

    def test_manifest_shape(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "b"))
            with open(os.path.join(d, "b", "x"), "w") as f:
                f.write("x")
            with open(os.path.join(d, "a"), "w") as f:
                f.write("")
            os.chmod(os.path.join(d, "a"), 0o600)
            os.chmod(os.path.join(d, "b", "x"), 0o644)
            m = yard.artifacts.tree_manifest(yard.artifacts.tree_entries(d))
        e = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        x = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
        self.assertEqual(m.decode(), '{"entries":[{"digest":"%s","mode":384,'
                         '"path":"a","size":0},{"digest":"%s","mode":420,'
                         '"path":"b/x","size":1}],"yard_tree":1}' % (e, x))


class PythonPipelinesTest(ClusterTest):

    def client(self):
        c = yard.Client(self.cluster.client_ep, timeout=10)
        self.addCleanup(c.close)
        return c

    def folder(self):
        d = os.path.join(self.root, "model")
        os.makedirs(os.path.join(d, "sub", "deeper"))
        files = {"weights.bin": bytes(range(256)) * 100,
                 "sub/config.json": b'{"layers": 3}',
                 "sub/deeper/caf\xc3\xa9.txt".encode().decode("utf-8"):
                 "é".encode(),
                 "run.sh": b"#!/bin/sh\n"}
        for rel, data in files.items():
            with open(os.path.join(d, rel), "wb") as f:
                f.write(data)
        os.chmod(os.path.join(d, "run.sh"), 0o755)
        return d

    def test_folder_digest_matches_c(self):
        d = self.folder()
        py_digest, py_size = yard.digest_path(d)
        # the C client's digest of the same folder (yard_xfer_put_tree)
        v = self.cluster.json("model", "register", "m", d)
        self.assertEqual(v["digest"], py_digest)
        c = self.client()
        self.assertEqual(c.artifact_put(d), (py_digest, py_size))
        out = os.path.join(self.root, "fetched")
        self.assertTrue(c.artifact_get(py_digest, out))
        self.assertEqual(yard.digest_path(out)[0], py_digest)
        with open(os.path.join(out, "weights.bin"), "rb") as f:
            self.assertEqual(f.read(), bytes(range(256)) * 100)
        self.assertEqual(os.stat(os.path.join(out, "run.sh")).st_mode & 0o777,
                         0o755)
        # a single file: its own sha256
        fd, fsize = c.artifact_put(os.path.join(d, "run.sh"))
        self.assertEqual(fsize, 10)
        self.assertEqual(c.artifact_get_bytes(fd), b"#!/bin/sh\n")

    def test_python_drives_a_pipeline(self):
        self.start_workers("w1")
        d = os.path.join(self.root, "p")
        os.makedirs(d)
        path = os.path.join(d, "chain.yaml")
        with open(path, "w") as f:
            f.write(CHAIN)
        with open(os.path.join(d, "tool.sh"), "w") as f:
            f.write("echo tool\n")
        c = self.client()
        # the C loader's run first
        first = self.cluster.json("pipeline", "run", path)
        done = c.pipeline_wait(first["id"], timeout=60)
        self.assertEqual(done["state"], "completed", done)
        # the same file from Python: the same keys, so `first` is reused
        run = c.pipeline_run(path)
        self.assertEqual(run["origin"], "cli")
        done = c.pipeline_wait(run["id"], timeout=60)
        self.assertEqual(done["state"], "completed", done)
        steps = {s["name"]: s for s in done["steps"]}
        self.assertEqual(steps["first"]["state"], "reused", steps)
        self.assertEqual(steps["first"]["reused_run"], first["id"])
        self.assertEqual(steps["second"]["state"], "completed")
        c_keys = {s["name"]: s["cache_key"] for s in
                  self.cluster.json("pipeline", "status", first["id"])
                  ["steps"]}
        self.assertEqual({n: s["cache_key"] for n, s in steps.items()},
                         c_keys)
        ex = c.pipeline_explain(run["id"], "first")
        self.assertEqual(ex["state"], "reused")
        self.assertIn("reused from run %d" % first["id"], " ".join(ex["lines"]))
        # a parameter changes both keys
        other = c.pipeline_wait(c.pipeline_run(path, params={
            "greeting": "hello"})["id"], timeout=60)
        self.assertEqual([s["state"] for s in other["steps"]],
                         ["completed", "completed"])
        self.assertIn(other["id"], [r["id"] for r in c.pipeline_list()])
        log = self.cluster.yard("logs", other["steps"][1]["job_id"]).stdout
        self.assertEqual(log.decode().strip(), "second: hello")
        # errors carry the file and line
        bad = os.path.join(d, "bad.yaml")
        with open(bad, "w") as f:
            f.write("name: x\nsteps:\n  a:\n    rn: true\n")
        with self.assertRaises(yard.PipelineFileError) as e:
            c.pipeline_run(bad)
        self.assertIn("bad.yaml:4:", str(e.exception))

    def test_python_datasets_and_models(self):
        self.start_workers("w1")
        c = self.client()
        rows = os.path.join(self.root, "rows.csv")
        with open(rows, "w") as f:
            f.write("a\n1\n2\n3\n")
        v = c.dataset_add("rows", rows)
        self.assertEqual(v["version"], 1)
        self.assertEqual([x["version"] for x in c.dataset_list("rows")], [1])
        m = c.model_register("clf", rows, metrics={"acc": 0.5})
        self.assertEqual((m["model"], m["version"]), ("clf", 1))
        self.assertEqual(c.model_list()[0]["metrics"], {"acc": 0.5})
        self.assertEqual(len(c.model_show("clf")), 1)
        got = os.path.join(self.root, "got.csv")
        self.assertEqual(c.model_get("clf", got)["version"], 1)
        with open(got) as f:
            self.assertEqual(f.read(), "a\n1\n2\n3\n")
        with self.assertRaises(yard.YardError):
            c.model_show("none")
        # schedules and triggers from Python
        path = os.path.join(self.root, "hello.yaml")
        with open(path, "w") as f:
            f.write("name: hello\nsteps:\n  hi: {run: echo hi}\n")
        s = c.schedule_add("nightly", "0 3 * * *", path)
        self.assertEqual(s[0]["pipeline"], "hello")
        self.assertEqual([x["name"] for x in c.schedule_list()], ["nightly"])
        c.schedule_remove("nightly")
        self.assertEqual(c.schedule_list(), [])
        c.trigger_add("on-rows", "dataset:rows", path)
        c.dataset_add("rows", rows)
        t = c.trigger_list()[0]
        self.assertEqual((t["on"], t["fired"]), ("dataset:rows", 1))
        run = c.pipeline_wait(t["last_run"], timeout=60)
        self.assertEqual((run["origin"], run["state"]),
                         ("trigger:on-rows", "completed"))
        c.trigger_remove("on-rows")
        with self.assertRaises(yard.YardError):
            c.trigger_remove("on-rows")

    def test_python_staged_pipeline_registers(self):
        """Needs the worker's stage_in/collect (another branch)."""
        self.start_workers("w1")
        run_staged(self, self.client())


class PythonStagedTest(StagedClusterTest):
    """Python driving a staged pipeline to a registered model, against a
    worker that follows the stage_in/collect contract (stage_worker.py)."""

    def test_staged_pipeline_registers(self):
        c = yard.Client(self.cluster.client_ep, timeout=10)
        self.addCleanup(c.close)
        done, v, fetched = run_staged(self, c)
        self.assertEqual(v["digest"], done["steps"][0]["outputs"][0]["digest"])
        self.assertTrue(fetched)


if __name__ == "__main__":
    unittest.main()
