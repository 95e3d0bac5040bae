"""Whole-core placement end to end: on an SMT node a job's --cpus counts
cores and it gets every hardware thread of each, so two jobs never run on
sibling threads of one core; an oversubscribe label (or the scheduler's
--oversubscribe) lets them share cores, one PU each.  The smt-1core
fixture is one core with PUs 0 and 1, which exist on any 2-CPU machine,
so the jobs really are bound (Cpus_allowed_list)."""
import os
import unittest

from harness import ClusterTest, wait_for

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "fixtures")


def fixture(name):
    return os.path.normpath(os.path.join(FIXTURES, name))


def cpulist(text):
    out = set()
    for part in filter(None, text.strip().split(",")):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


class CoresTest(ClusterTest):

    def node(self, name):
        return [n for n in self.cluster.json("nodes") if n["name"] == name][0]

    def core_map(self, name):
        """PU -> core os_index, from the node's reported core list."""
        out = {}
        for core in self.node(name)["cores"]:
            for pu in cpulist(core["pus"]):
                out[pu] = core["os_index"]
        return out

    def allowed(self, job):
        """The PUs the job ran on (its Cpus_allowed_list)."""
        out = self.cluster.yard("logs", job).stdout.decode()
        line = [ln for ln in out.splitlines()
                if ln.startswith("Cpus_allowed_list")]
        self.assertEqual(len(line), 1, out)
        return cpulist(line[0].split(":", 1)[1])

    def gated_job(self, flag):
        """A 1-CPU job that prints its affinity and runs until flag
        exists."""
        cmd = ("grep Cpus_allowed_list /proc/self/status; "
               "while [ ! -e %s ]; do sleep 0.05; done" % flag)
        return self.cluster.submit("sh", "-c", cmd, opts=("--cpus", "1"))

    def start_smt(self):
        if not {0, 1} <= os.sched_getaffinity(0):
            self.skipTest("needs CPUs 0 and 1")
        c = self.cluster
        c.start_worker("smt", cpus=None, env={
            "YARD_HWLOC_XMLFILE": fixture("smt-1core.xml")})
        c.wait_nodes_up(["smt"])
        return self.core_map("smt")

    def test_siblings_never_shared(self):
        c = self.cluster
        cores = self.start_smt()
        self.assertEqual(cores, {0: 0, 1: 0})
        nd = self.node("smt")
        self.assertEqual((nd["cores_total"], nd["cores_free"]), (1, 1))
        self.assertFalse(nd["oversubscribe"])
        flag_a = os.path.join(self.root, "a.done")
        flag_b = os.path.join(self.root, "b.done")
        a = self.gated_job(flag_a)
        c.wait_state(a, "RUNNING")
        b = self.gated_job(flag_b)
        # the node has a free CPU by count, but no free core
        nd = self.node("smt")
        self.assertEqual(nd["cpus_used"], 1)
        self.assertEqual((nd["cores_free"], nd["pus_free"]), (0, 0))
        self.assertEqual(cpulist(c.status(a)["alloc"]["cpus"]), {0, 1})
        self.assertEqual(c.status(b)["state"], "PENDING")
        show = c.yard("nodes", "show", "smt").stdout.decode()
        self.assertRegex(show, r"(?m)^\s+0\s+0-1\s+%d$" % a)
        listing = c.yard("nodes").stdout.decode()
        self.assertIn("CORES", listing)
        self.assertIn("0/1 (0/2 PUs)", listing)
        # a restarted scheduler rebuilds the hold from state.db: the core
        # stays a's and b keeps waiting
        c.kill_scheduler()
        c.start_scheduler()
        c.wait_nodes_up(["smt"])
        self.assertEqual(c.status(a)["state"], "RUNNING")
        nd = self.node("smt")
        self.assertEqual((nd["cores_free"], nd["pus_free"]), (0, 0))
        self.assertEqual(c.status(b)["state"], "PENDING")
        open(flag_a, "w").close()
        c.wait_state(a, "COMPLETED")
        c.wait_state(b, "RUNNING")
        open(flag_b, "w").close()
        c.wait_state(b, "COMPLETED")
        sa, sb = c.status(a), c.status(b)
        # b started only after a ended: they never ran side by side
        self.assertGreaterEqual(sb["start_time_ms"], sa["end_time_ms"])
        for j, st in ((a, sa), (b, sb)):
            pus = self.allowed(j)
            self.assertEqual(pus, cpulist(st["alloc"]["cpus"]))
            # whole cores: every PU of each core it touches
            touched = {cores[p] for p in pus}
            self.assertEqual(pus, {p for p, k in cores.items()
                                   if k in touched})

    def test_oversubscribe_label_shares_cores(self):
        c = self.cluster
        cores = self.start_smt()
        c.yard("nodes", "label", "smt", "oversubscribe")
        self.assertTrue(self.node("smt")["oversubscribe"])
        flag = os.path.join(self.root, "done")
        jobs = [self.gated_job(flag) for _ in range(2)]
        for j in jobs:
            c.wait_state(j, "RUNNING")
        nd = self.node("smt")
        self.assertEqual((nd["cores_free"], nd["pus_free"]), (0, 0))
        open(flag, "w").close()
        got = []
        for j in jobs:
            c.wait_state(j, "COMPLETED")
            pus = self.allowed(j)
            self.assertEqual(len(pus), 1)
            got.append(pus)
        # one thread each, siblings of one core, never the same PU
        self.assertNotEqual(got[0], got[1])
        self.assertEqual({cores[min(p)] for p in got}, {0})
        # unlabelled again: whole cores
        c.yard("nodes", "unlabel", "smt", "oversubscribe")
        self.assertFalse(self.node("smt")["oversubscribe"])
        j = c.submit("true", opts=("--cpus", "1"))
        c.wait_state(j, "COMPLETED")
        self.assertEqual(cpulist(c.status(j)["alloc"]["cpus"]), {0, 1})

    def test_numa_distances_shown_and_used(self):
        """numa4-smt: 4 NUMA nodes paired 0-1 and 2-3 by latency.  Its PUs
        are not this machine's: jobs run unbound, the allocation is what
        is checked."""
        c = self.cluster
        c.start_worker("n4", cpus=16, env={
            "YARD_HWLOC_XMLFILE": fixture("numa4-smt.xml")})
        c.wait_nodes_up(["n4"])
        nd = self.node("n4")
        self.assertEqual(nd["cores_total"], 8)
        self.assertEqual(nd["numa_distances"][1], [12, 10, 22, 20])
        show = c.yard("nodes", "show", "n4").stdout.decode()
        self.assertIn("NUMA distances:", show)
        self.assertRegex(show, r"(?m)^\s+1\s+12\s+10\s+22\s+20$")
        flag = os.path.join(self.root, "done")
        cmd = "while [ ! -e %s ]; do sleep 0.05; done" % flag
        # fill node 0, then a 3-core job starts on node 1 and grows onto
        # node 3 (20 from node 1), not node 2 (22, next by index)
        a = c.submit("sh", "-c", cmd, opts=("--cpus", "2"))
        c.wait_state(a, "RUNNING")
        b = c.submit("sh", "-c", cmd, opts=("--cpus", "3"))
        c.wait_state(b, "RUNNING")
        self.assertEqual(cpulist(c.status(a)["alloc"]["cpus"]), set(range(4)))
        self.assertEqual(cpulist(c.status(b)["alloc"]["cpus"]),
                         {4, 5, 6, 7, 12, 13})
        open(flag, "w").close()
        for j in (a, b):
            c.wait_state(j, "COMPLETED")
        # 10 CPUs fit the node's count (16) but not its 8 cores: it waits,
        # and says why
        big = c.submit("true", opts=("--cpus", "10"))
        st = c.status(big)
        self.assertEqual(st["state"], "PENDING")
        self.assertIn("no node has 10 whole cores (largest: 8)",
                      st["reason"])
        c.yard("cancel", big)


class OversubscribeOptionTest(ClusterTest):
    """The scheduler's --oversubscribe: every node shares cores."""

    def setUp(self):
        super().setUp()
        self.cluster.kill_scheduler()
        self.cluster.start_scheduler(extra=("--oversubscribe",))

    def test_option(self):
        c = self.cluster
        c.start_worker("smt", cpus=None, env={
            "YARD_HWLOC_XMLFILE": fixture("smt-1core.xml")})
        c.wait_nodes_up(["smt"])
        nd = [n for n in c.json("nodes") if n["name"] == "smt"][0]
        self.assertTrue(nd["oversubscribe"])
        j = c.submit("true", opts=("--cpus", "1"))
        c.wait_state(j, "COMPLETED")
        self.assertEqual(len(cpulist(c.status(j)["alloc"]["cpus"])), 1)


if __name__ == "__main__":
    unittest.main()
