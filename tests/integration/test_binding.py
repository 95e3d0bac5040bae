"""Placement and binding end to end: the scheduler gives each job PUs and
GPUs of its own (packed by NUMA node, see scheduler/place.c), the worker
starts it through yard-exec bound to them, with CUDA_VISIBLE_DEVICES by
UUID, and in a memory cgroup when the job asked for memory."""
import os
import unittest

from harness import ClusterTest, wait_for

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "fixtures")


def fixture(name):
    return os.path.normpath(os.path.join(FIXTURES, name))


SERVER_UUIDS = ["GPU-8f3c%04x-1b2a-4c5d-9e8f-0a1b2c3d4e%02x" % (i, i)
                for i in range(8)]


def cpulist(text):
    out = set()
    for part in filter(None, text.strip().split(",")):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def memory_cgroup_writable():
    """Why jobs here cannot get a memory cgroup, or None when they can."""
    root = os.environ.get("YARD_CGROUP_ROOT", "/sys/fs/cgroup")
    if root == "none":
        return "YARD_CGROUP_ROOT=none"
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        probe = os.path.join(root, "yard")
    else:
        probe = os.path.join(root, "memory", "yard")
    try:
        os.makedirs(probe, exist_ok=True)
    except OSError as e:
        return "no writable memory cgroup (%s: %s)" % (probe, e.strerror)
    return None


ENV_CMD = ("echo CVD=$CUDA_VISIBLE_DEVICES; echo ORDER=$CUDA_DEVICE_ORDER; "
           "echo CPUS=$YARD_CPUS; echo GPUS=$YARD_GPUS; "
           "echo OMP=$OMP_NUM_THREADS; sleep %s")


class BindingTest(ClusterTest):

    def logs(self, job):
        out = self.cluster.yard("logs", job).stdout.decode()
        return dict(line.split("=", 1) for line in out.splitlines()
                    if "=" in line and not line.startswith("yard-exec"))

    def test_fixture_gpus_packed_and_visible(self):
        c = self.cluster
        c.start_worker("server", cpus=None, env={
            "YARD_HWLOC_XMLFILE": fixture("server-8gpu.xml"),
            "YARD_FAKE_GPUS": fixture("server-8gpu.gpus")})
        c.wait_nodes_up(["server"])
        # two 2-GPU jobs share a NUMA node; a 4-GPU job gets the other
        a = c.submit("sh", "-c", ENV_CMD % 3,
                     opts=("--gpus", "2", "--cpus", "4"))
        b = c.submit("sh", "-c", ENV_CMD % 3,
                     opts=("--gpus", "2", "--cpus", "4"))
        d = c.submit("sh", "-c", ENV_CMD % 3,
                     opts=("--gpus", "4", "--cpus", "8"))
        for j in (a, b, d):
            c.wait_state(j, "RUNNING")
        al = {j: c.status(j)["alloc"] for j in (a, b, d)}
        first, second = SERVER_UUIDS[:4], SERVER_UUIDS[4:]
        ab = al[a]["gpu_uuids"] + al[b]["gpu_uuids"]
        self.assertEqual(len(set(ab)), 4)
        side = first if ab[0] in first else second
        other = second if side is first else first
        self.assertEqual(sorted(ab), sorted(side))
        self.assertEqual(sorted(al[d]["gpu_uuids"]), sorted(other))
        # each 2-GPU job has the two GPUs of one PCIe switch
        switch = {g["uuid"]: g["pci_switch"] for g in
                  c.json("nodes", "show", "server")["topology"]["gpus"]}
        for j in (a, b):
            sw = {switch[u] for u in al[j]["gpu_uuids"]}
            self.assertEqual(len(sw), 1, (j, al[j]))
            self.assertNotIn("", sw)
        self.assertNotEqual(switch[al[a]["gpu_uuids"][0]],
                            switch[al[b]["gpu_uuids"][0]])
        # PUs: disjoint, the right count (--cpus counts cores: the fixture
        # has 2 PUs per core), local to the job's GPUs
        local = {tuple(first): set(range(0, 32)),
                 tuple(second): set(range(32, 64))}
        seen = set()
        for j, n in ((a, 4), (b, 4), (d, 8)):
            pus = cpulist(al[j]["cpus"])
            self.assertEqual(len(pus), 2 * n)
            self.assertFalse(pus & seen, "PUs held twice")
            seen |= pus
            grp = side if j != d else other
            self.assertTrue(pus <= local[tuple(grp)], (j, al[j]))
        # `yard status` shows them too
        out = c.yard("status", d).stdout.decode()
        self.assertIn(al[d]["cpus"], out)
        self.assertIn(al[d]["gpu_uuids"][0], out)
        for j in (a, b, d):
            c.wait_state(j, "COMPLETED")
            env = self.logs(j)
            self.assertEqual(env["CVD"], ",".join(al[j]["gpu_uuids"]))
            self.assertEqual(env["GPUS"], env["CVD"])
            self.assertEqual(env["ORDER"], "PCI_BUS_ID")
            self.assertEqual(cpulist(env["CPUS"]), cpulist(al[j]["cpus"]))
            self.assertEqual(env["OMP"], str(len(cpulist(al[j]["cpus"]))))
        # the allocation of a finished job is still shown
        self.assertEqual(c.status(d)["alloc"]["gpu_uuids"],
                         al[d]["gpu_uuids"])

    def test_allocations_survive_restart(self):
        """A restarted scheduler knows which GPUs its running jobs hold
        (state.db): a new 4-GPU job gets the other NUMA node's."""
        c = self.cluster
        c.start_worker("server", cpus=None, env={
            "YARD_HWLOC_XMLFILE": fixture("server-8gpu.xml"),
            "YARD_FAKE_GPUS": fixture("server-8gpu.gpus")})
        c.wait_nodes_up(["server"])
        a = c.submit("sleep", "30", opts=("--gpus", "4", "--cpus", "4"))
        c.wait_state(a, "RUNNING")
        before = c.status(a)["alloc"]
        c.kill_scheduler()
        c.start_scheduler()
        c.wait_nodes_up(["server"])
        self.assertEqual(c.status(a)["alloc"], before)
        b = c.submit("sleep", "30", opts=("--gpus", "4", "--cpus", "4"))
        c.wait_state(b, "RUNNING")
        after = c.status(b)["alloc"]
        self.assertFalse(set(before["gpu_uuids"]) & set(after["gpu_uuids"]))
        self.assertFalse(cpulist(before["cpus"]) & cpulist(after["cpus"]))
        # a third cannot fit until one of them ends
        d = c.submit("true", opts=("--gpus", "1"))
        self.assertEqual(c.status(d)["state"], "PENDING")
        c.yard("cancel", a)
        c.wait_state(d, "COMPLETED", timeout=30)
        c.yard("cancel", b)

    def test_real_machine_affinity(self):
        """Two 1-CPU jobs on this machine's own topology get different
        PUs and run bound to them (Cpus_allowed_list)."""
        c = self.cluster
        if len(os.sched_getaffinity(0)) < 2:
            self.skipTest("needs 2 CPUs")
        c.start_worker("real", cpus=2)
        c.wait_nodes_up(["real"])
        cmd = "grep Cpus_allowed_list /proc/self/status; sleep 2"
        jobs = [c.submit("sh", "-c", cmd, opts=("--cpus", "1"))
                for _ in range(2)]
        for j in jobs:
            c.wait_state(j, "RUNNING")
        allocs = [cpulist(c.status(j)["alloc"]["cpus"]) for j in jobs]
        self.assertEqual([len(x) for x in allocs], [1, 1])
        self.assertNotEqual(allocs[0], allocs[1])
        for j, pus in zip(jobs, allocs):
            c.wait_state(j, "COMPLETED")
            out = c.yard("logs", j).stdout.decode()
            line = [ln for ln in out.splitlines()
                    if ln.startswith("Cpus_allowed_list")]
            self.assertEqual(len(line), 1, out)
            self.assertEqual(cpulist(line[0].split(":", 1)[1]), pus, out)

    def test_job_sees_what_status_says(self):
        """On this machine's own CPUs, with two fake GPUs: each job reads
        its Cpus_allowed_list and CUDA_VISIBLE_DEVICES, and they are what
        `yard status --json` says it was given."""
        c = self.cluster
        if len(os.sched_getaffinity(0)) < 2:
            self.skipTest("needs 2 CPUs")
        gpus = os.path.join(self.root, "two.gpus")
        with open(gpus, "w") as f:
            f.write("0000:3b:00.0 GPU-11111111-2222-3333-4444-555555555500 "
                    "16384 Fake GPU A\n"
                    "0000:5e:00.0 GPU-11111111-2222-3333-4444-555555555501 "
                    "16384 Fake GPU A\n")
        c.start_worker("real", cpus=2, env={"YARD_FAKE_GPUS": gpus})
        c.wait_nodes_up(["real"])
        cmd = ("grep Cpus_allowed_list /proc/self/status; "
               "echo CVD=$CUDA_VISIBLE_DEVICES; sleep 2")
        jobs = [c.submit("sh", "-c", cmd, opts=("--cpus", "1", "--gpus", "1"))
                for _ in range(2)]
        given = {}
        for j in jobs:
            c.wait_state(j, "RUNNING")
            given[j] = c.status(j)["alloc"]
        self.assertNotEqual(given[jobs[0]]["gpu_uuids"],
                            given[jobs[1]]["gpu_uuids"])
        self.assertFalse(cpulist(given[jobs[0]]["cpus"])
                         & cpulist(given[jobs[1]]["cpus"]))
        for j in jobs:
            c.wait_state(j, "COMPLETED")
            out = c.yard("logs", j).stdout.decode()
            seen = dict(ln.replace(":", "=", 1).split("=", 1)
                        for ln in out.splitlines()
                        if ln.startswith(("Cpus_allowed_list", "CVD=")))
            self.assertEqual(cpulist(seen["Cpus_allowed_list"]),
                             cpulist(given[j]["cpus"]), out)
            self.assertEqual(len(given[j]["gpu_uuids"]), 1)
            self.assertEqual(seen["CVD"], given[j]["gpu_uuids"][0], out)

    def test_memory_limit_oom(self):
        why = memory_cgroup_writable()
        if why:
            self.skipTest(why)
        c = self.cluster
        c.start_worker("real", cpus=2)
        c.wait_nodes_up(["real"])
        job = c.submit("python3", "-c", "b = bytearray(512 << 20)",
                       opts=("--mem", "64M"))
        c.wait_state(job, "FAILED", timeout=60)
        st = c.status(job)
        self.assertIn("out of memory", st["reason"])
        # a job within its limit is not affected
        ok = c.submit("python3", "-c", "b = bytearray(8 << 20)",
                      opts=("--mem", "64M"))
        c.wait_state(ok, "COMPLETED", timeout=60)
        # memory groups are reused across attempts: a new kill is told
        # from the earlier one's count
        again = c.submit("python3", "-c", "b = bytearray(512 << 20)",
                         opts=("--mem", "32M"))
        c.wait_state(again, "FAILED", timeout=60)
        self.assertIn("out of memory (limit 32M)", c.status(again)["reason"])
        fine = c.submit("python3", "-c", "b = bytearray(8 << 20)",
                        opts=("--mem", "64M"))
        c.wait_state(fine, "COMPLETED", timeout=60)

    def test_no_cgroup_falls_back_to_affinity(self):
        """Where no cgroup is writable the worker says so once, and jobs
        (with --mem too) still run bound to their PUs."""
        c = self.cluster
        if len(os.sched_getaffinity(0)) < 2:
            self.skipTest("needs 2 CPUs")
        root = os.path.join(self.root, "no-cgroups")
        c.start_worker("real", cpus=2, env={"YARD_CGROUP_ROOT": root})
        c.wait_nodes_up(["real"])
        cmd = "grep Cpus_allowed_list /proc/self/status; sleep 1"
        jobs = [c.submit("sh", "-c", cmd, opts=("--cpus", "1", "--mem", "64M"))
                for _ in range(2)]
        allocs = []
        for j in jobs:
            c.wait_state(j, "RUNNING")
            allocs.append(cpulist(c.status(j)["alloc"]["cpus"]))
        for j, pus in zip(jobs, allocs):
            c.wait_state(j, "COMPLETED")
            out = c.yard("logs", j).stdout.decode()
            line = [ln for ln in out.splitlines()
                    if ln.startswith("Cpus_allowed_list")]
            self.assertEqual(len(line), 1, out)
            self.assertEqual(cpulist(line[0].split(":", 1)[1]), pus, out)
        log = c.tail("worker-real.log", n=100000)
        self.assertEqual(log.count("no writable cgroup under %s" % root), 1,
                         log)
        self.assertEqual(log.count("cannot create cgroup"), 0, log)


if __name__ == "__main__":
    unittest.main()
