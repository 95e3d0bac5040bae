"""Node administration end to end: drain/resume (running jobs finish, new
ones go elsewhere, the displayed state moves draining -> drained, all of it
kept across a scheduler restart), labels and --constraint, --gpu-type on
the fixture GPUs, worker health checks draining and resuming their node,
and removing a node (refused while it is up)."""
import errno
import os
import sys
import unittest

from harness import ClusterTest, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import yard                                         # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "fixtures")


def fixture(name):
    return os.path.normpath(os.path.join(FIXTURES, name))


class NodeAdminTest(ClusterTest):

    def nodes(self):
        return {n["name"]: n for n in self.cluster.json("nodes")}

    def gate_job(self, gate, opts=()):
        """A job that runs until the file gate exists."""
        return self.cluster.submit(
            "sh", "-c", "while [ ! -e %s ]; do sleep 0.05; done" % gate,
            opts=opts)

    def test_drain_resume(self):
        c = self.cluster
        self.start_workers("a", "b")
        gate = os.path.join(self.root, "go")
        j = self.gate_job(gate)
        c.wait_state(j, "RUNNING")
        node = c.status(j)["node"]
        other = "b" if node == "a" else "a"
        out = c.json("nodes", "drain", node, "--reason", "swap disk")
        self.assertTrue(out["drain"])
        self.assertEqual(out["display_state"], "draining")
        n = self.nodes()[node]
        self.assertEqual((n["display_state"], n["state_reason"]),
                         ("draining", "swap disk"))
        text = c.yard("nodes").stdout.decode()
        self.assertIn("draining", text)
        self.assertIn("swap disk", text)
        # new work goes to the other node only
        jobs = [c.submit("true") for _ in range(4)]
        for k in jobs:
            self.assertEqual(c.wait(k), 0)
            self.assertEqual(c.status(k)["node"], other)
        # the running job finishes normally
        open(gate, "w").close()
        self.assertEqual(c.wait(j), 0)
        wait_for(lambda: self.nodes()[node]["display_state"] == "drained",
                 what="node drained")
        self.assertIn("drained", c.yard("nodes").stdout.decode())
        # kept across a scheduler restart
        c.kill_scheduler()
        c.start_scheduler()
        c.wait_nodes_up(["a", "b"])
        n = self.nodes()[node]
        self.assertTrue(n["drain"])
        self.assertEqual(n["state_reason"], "swap disk")
        out = c.yard("nodes", "resume", node).stdout.decode()
        self.assertIn("idle", out)
        n = self.nodes()[node]
        self.assertFalse(n["drain"])
        self.assertEqual(n["display_state"], "idle")
        # unknown node
        p = c.yard("nodes", "drain", "nope", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no node named", p.stderr.decode())

    def test_labels_and_constraints(self):
        c = self.cluster
        self.start_workers("a", "b")
        c.yard("nodes", "label", "a", "gpu=a100", "zone=eu", "ib")
        self.assertEqual(self.nodes()["a"]["labels"],
                         ["gpu=a100", "zone=eu", "ib"])
        self.assertIn("gpu=a100,zone=eu,ib", c.yard("nodes").stdout.decode())
        for opts in (["--constraint", "gpu=a100"], ["--constraint", "zone"],
                     ["--constraint", "ib", "--constraint", "zone=eu"]):
            for _ in range(2):
                k = c.submit("true", opts=opts)
                self.assertEqual(c.wait(k), 0)
                self.assertEqual(c.status(k)["node"], "a")
        # nobody has it: stays pending, and says why
        k = c.submit("true", opts=["--constraint", "gpu=h100"])
        st = wait_for(lambda: (lambda s: s if "no node has label gpu=h100"
                               in s.get("reason", "") else None)(
                                   c.status(k)), what="pending reason")
        self.assertEqual(st["state"], "PENDING")
        c.yard("nodes", "label", "b", "gpu=h100")
        self.assertEqual(c.wait(k), 0)
        self.assertEqual(c.status(k)["node"], "b")
        # unlabel; invalid labels refused
        c.yard("nodes", "unlabel", "a", "ib")
        self.assertEqual(self.nodes()["a"]["labels"], ["gpu=a100", "zone=eu"])
        for bad in ("bad key=1", "=v", "k" * 64, "k=\x01"):
            p = c.yard("nodes", "label", "a", bad, check=False)
            self.assertNotEqual(p.returncode, 0, bad)
        p = c.yard("submit", "--constraint", "bad key", "--", "true",
                   check=False)
        self.assertNotEqual(p.returncode, 0)
        # labels survive the worker's re-register
        c.kill_worker("a")
        c.start_worker("a")
        c.wait_nodes_up(["a"])
        self.assertEqual(self.nodes()["a"]["labels"], ["gpu=a100", "zone=eu"])

    def test_gpu_type(self):
        c = self.cluster
        c.start_worker("server", cpus=None, env={
            "YARD_HWLOC_XMLFILE": fixture("server-8gpu.xml"),
            "YARD_FAKE_GPUS": fixture("server-8gpu.gpus")})
        c.start_worker("laptop", cpus=None, env={
            "YARD_HWLOC_XMLFILE": fixture("laptop.xml"),
            "YARD_FAKE_GPUS": os.devnull})
        c.wait_nodes_up(["server", "laptop"])
        k = c.submit("true", opts=["--gpus", "1", "--gpu-type", "h100"])
        self.assertEqual(c.wait(k), 0)
        self.assertEqual(c.status(k)["node"], "server")
        k = c.submit("true", opts=["--gpus", "1", "--gpu-type", "A100"])
        st = wait_for(lambda: (lambda s: s if "no node has a GPU matching"
                               in s.get("reason", "") else None)(
                                   c.status(k)), what="pending reason")
        self.assertEqual(st["state"], "PENDING")
        p = c.yard("submit", "--gpu-type", "h100", "--", "true", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--gpus", p.stderr.decode())

    def test_health_check(self):
        c = self.cluster
        flag = os.path.join(self.root, "sick")
        check = ("if [ -e %s ]; then echo; echo '  GPU 3 fell off the bus  ';"
                 " echo more; exit 1; fi" % flag)
        c.start_worker("a", extra=["--health-check", check,
                                   "--health-interval", "1s",
                                   "--health-timeout", "5s"])
        c.start_worker("b")
        c.wait_nodes_up(["a", "b"])
        open(flag, "w").close()
        n = wait_for(lambda: (lambda n: n if n["drain"] else None)(
            self.nodes()["a"]), what="health drain")
        self.assertEqual(n["state_reason"],
                         "health check: GPU 3 fell off the bus")
        self.assertEqual(n["display_state"], "drained")
        for _ in range(3):
            k = c.submit("true")
            self.assertEqual(c.wait(k), 0)
            self.assertEqual(c.status(k)["node"], "b")
        os.unlink(flag)
        wait_for(lambda: not self.nodes()["a"]["drain"],
                 what="health resume")
        # an admin drain is never lifted by a passing check
        c.yard("nodes", "drain", "a", "--reason", "maintenance")
        open(flag, "w").close()
        wait_for(lambda: c.tail("worker-a.log").count("fell off") >= 2,
                 what="second failure")
        os.unlink(flag)
        wait_for(lambda: "passes again" in c.tail("worker-a.log", 200),
                 what="check passing again")
        import time
        time.sleep(1.5)  # one more passing check reaches the scheduler
        n = self.nodes()["a"]
        self.assertTrue(n["drain"])
        self.assertEqual(n["state_reason"], "maintenance")

    def test_remove(self):
        c = self.cluster
        self.start_workers("a", "b")
        c.yard("nodes", "label", "a", "x=1")
        p = c.yard("nodes", "remove", "a", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("only a DOWN node", p.stderr.decode())
        c.kill_worker("a")
        wait_for(lambda: self.nodes()["a"]["state"] == "DOWN", timeout=30,
                 what="node a DOWN")
        self.assertEqual(self.nodes()["a"]["display_state"], "down")
        out = c.json("nodes", "remove", "a")
        self.assertTrue(out["removed"])
        self.assertNotIn("a", self.nodes())
        # gone for good: not back after a scheduler restart either
        c.kill_scheduler()
        c.start_scheduler()
        c.wait_nodes_up(["b"])
        self.assertNotIn("a", self.nodes())
        # a worker registering again under the name starts afresh
        c.start_worker("a")
        c.wait_nodes_up(["a"])
        self.assertEqual(self.nodes()["a"]["labels"], [])

    def test_python_client(self):
        c = self.cluster
        self.start_workers("a", "b")
        py = yard.Client(c.client_ep)
        n = py.drain("a", reason="bios update")
        self.assertEqual((n["drain"], n["display_state"], n["state_reason"]),
                         (True, "drained", "bios update"))
        n = py.label("b", "gpu=a100", "ib")
        self.assertEqual(n["labels"], ["gpu=a100", "ib"])
        self.assertEqual(py.unlabel("b", "ib")["labels"], ["gpu=a100"])
        k = py.submit(["true"], constraints=["gpu=a100"])
        self.assertEqual(py.wait(k, timeout=30)["node"], "b")
        try:
            py.submit(["true"], gpu_type="h100")
            self.fail("gpu_type without gpus accepted")
        except yard.YardError as e:
            self.assertEqual(e.code, errno.EINVAL)
        try:
            py.remove_node("a")
            self.fail("removing an UP node accepted")
        except yard.YardError as e:
            self.assertEqual(e.code, errno.EBUSY)
        self.assertFalse(py.resume("a")["drain"])
        py.close()


if __name__ == "__main__":
    unittest.main()
