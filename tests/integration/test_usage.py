"""Resource use end to end: the worker measures what each attempt used
(its cgroup, else the shim's rusage or /proc), sends it live in heartbeats
and finally in JobFinished, the scheduler stores it per attempt, and
`yard status` shows it."""
import os
import sys
import unittest

import harness
from harness import ClusterTest, wait_for

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")
FAKE_NVML = os.path.join(harness.BUILD, "tests", "libfake_nvml.so")

# ~0.3 s of CPU and ~100 MiB written (so resident), then, when asked,
# stay alive for a while so that a heartbeat samples it.
BURNER = r'''
import sys, time
buf = bytearray(b"\x01") * (100 << 20)
t = time.process_time()
x = 0
while time.process_time() - t < 0.35:
    x += 1
hold = float(sys.argv[1]) if len(sys.argv) > 1 else 0
end = time.monotonic() + hold
while time.monotonic() < end:
    time.sleep(0.05)
print(len(buf), x > 0)
'''

MIB = 1 << 20


class UsageTest(ClusterTest):

    def check_final(self, job):
        st = self.cluster.status(job)
        self.assertEqual(st["state"], "COMPLETED")
        u = st["attempts"][-1]["usage"]
        self.assertIsNotNone(u, st)
        self.assertTrue(u["final"], u)
        self.assertGreaterEqual(u["cpu_user_s"] + u["cpu_system_s"], 0.2, u)
        self.assertGreaterEqual(u["peak_rss_bytes"], 90 * MIB, u)
        self.assertEqual(st["usage"], u)
        return st, u

    def test_cpu_and_peak_rss_reported(self):
        self.start_workers("w1")
        job = self.cluster.submit("/usr/bin/python3", "-c", BURNER)
        self.assertEqual(self.cluster.wait(job), 0)
        st, u = self.check_final(job)
        # the human view has the table
        out = self.cluster.yard("status", job).stdout.decode()
        self.assertIn("PEAK-RSS", out)
        self.assertIn(u["source"], out)
        # the Python client has the same figures under the same keys
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                        "..", "python"))
        from yard import client as yc
        with yc.Client(self.cluster.client_ep) as cl:
            py = cl.status(job)
        self.assertEqual(py["usage"], u)
        self.assertEqual(py["attempts"][-1]["usage"], u)

    def test_with_memory_limit(self):
        # a memory limit gives the attempt a memory cgroup where the node
        # has one: its figures come from there or, without, from rusage
        self.start_workers("w1")
        job = self.cluster.submit("/usr/bin/python3", "-c", BURNER,
                                  opts=("--mem", "512M"))
        self.assertEqual(self.cluster.wait(job), 0)
        st, u = self.check_final(job)
        self.assertIn(u["source"], ("cgroup-v1", "cgroup-v2", "rusage"))

    def test_live_usage_while_running(self):
        self.start_workers("w1")
        job = self.cluster.submit("/usr/bin/python3", "-c", BURNER, "30")
        self.cluster.wait_state(job, "RUNNING")

        def live():
            u = self.cluster.status(job).get("usage")
            return u if u and not u["final"] and \
                u.get("rss_bytes", 0) >= 90 * MIB else None
        u = wait_for(live, 20, "a live usage sample")
        self.assertGreater(u["time_ms"], 0)
        self.cluster.yard("cancel", job)
        self.cluster.wait_state(job, "CANCELLED")
        fin = self.cluster.status(job)["attempts"][-1]["usage"]
        self.assertTrue(fin["final"], fin)
        self.assertGreaterEqual(fin["peak_rss_bytes"], 90 * MIB, fin)

    def test_gpu_use_through_nvml(self):
        # a fake NVML (tests/unit/fake_nvml.c) that knows the fixture GPUs
        if not os.path.exists(FAKE_NVML):
            self.skipTest("no %s (unit tests not built)" % FAKE_NVML)
        gpus = os.path.join(FIXTURES, "workstation-4gpu.gpus")
        uuids = [l.split()[1] for l in open(gpus)
                 if l.strip() and not l.startswith("#")]
        c = self.cluster
        c.start_worker("g1", cpus=None, env={
            "YARD_HWLOC_XMLFILE": os.path.join(FIXTURES,
                                               "workstation-4gpu.xml"),
            "YARD_FAKE_GPUS": gpus, "YARD_NVML": FAKE_NVML,
            "FAKE_NVML_UUIDS": ",".join(uuids)})
        c.wait_nodes_up(["g1"])
        job = c.submit("/usr/bin/python3", "-c", BURNER, "30",
                       opts=("--gpus", "1"))
        c.wait_state(job, "RUNNING")

        def live():
            u = c.status(job).get("usage")
            return u if u and "gpu_util_pct" in u and not u["final"] \
                else None
        u = wait_for(live, 20, "a live GPU sample")
        self.assertEqual(u["gpu_util_pct"], 50)
        self.assertEqual(u["gpu_memory_bytes"], 2 << 30)
        c.yard("cancel", job)
        c.wait_state(job, "CANCELLED")
        fin = c.status(job)["attempts"][-1]["usage"]
        self.assertTrue(fin["final"])
        self.assertEqual(fin["gpu_peak_memory_bytes"], 2 << 30)
        self.assertEqual(fin["gpu_util_pct"], 50)   # the attempt's mean
        out = c.yard("status", job).stdout.decode()
        self.assertRegex(out, r"\n +1 .* 2G +[a-z]")  # GPU-PEAK-MEM

    def test_no_nvml_no_gpu_fields(self):
        self.start_workers("w1")
        job = self.cluster.submit("/bin/true")
        self.assertEqual(self.cluster.wait(job), 0)
        u = self.cluster.status(job)["attempts"][-1]["usage"]
        self.assertNotIn("gpu_util_pct", u or {})


if __name__ == "__main__":
    unittest.main()
