"""Node discovery end to end: workers on the hwloc XML and fake GPU
fixtures of tests/fixtures/ report their topology, the scheduler keeps it
(across a restart too) and `yard nodes` / `yard nodes show` show it."""
import os
import unittest

from harness import ClusterTest, wait_for

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "fixtures")


def fixture(name):
    return os.path.normpath(os.path.join(FIXTURES, name))


SERVER_BUS = ["0000:18:00.0", "0000:2a:00.0", "0000:3a:00.0", "0000:5d:00.0",
              "0000:9a:00.0", "0000:ab:00.0", "0000:ba:00.0", "0000:db:00.0"]
# the fixture's PCIe switches (their upstream ports), two GPUs each
SERVER_SWITCH = ["0000:16:00.0", "0000:38:00.0", "0000:98:00.0",
                 "0000:b8:00.0"]


class NodesTest(ClusterTest):

    def start_fixture_workers(self):
        c = self.cluster
        c.start_worker("server", cpus=None, env={
            "YARD_HWLOC_XMLFILE": fixture("server-8gpu.xml"),
            "YARD_FAKE_GPUS": fixture("server-8gpu.gpus")})
        c.start_worker("laptop", cpus=None, env={
            "YARD_HWLOC_XMLFILE": fixture("laptop.xml"),
            # an empty list: no GPUs, whatever CUDA this machine has
            "YARD_FAKE_GPUS": os.devnull})
        c.wait_nodes_up(["server", "laptop"])

    def check_server(self, node):
        self.assertEqual(node["cpus"], 64)  # the fixture's PUs: no --cpus
        self.assertEqual(node["gpus"], 8)
        self.assertEqual(node["gpus_used"], 0)
        t = node["topology"]
        self.assertEqual((t["packages"], t["numa_nodes"], t["cores"],
                          t["pus"]), (2, 2, 32, 64))
        self.assertEqual([n["cpus"] for n in t["numa"]], ["0-31", "32-63"])
        self.assertEqual([g["pci_bus_id"] for g in t["gpus"]], SERVER_BUS)
        for i, g in enumerate(t["gpus"]):
            self.assertEqual(
                g["uuid"], "GPU-8f3c%04x-1b2a-4c5d-9e8f-0a1b2c3d4e%02x" % (i, i))
            self.assertEqual(g["name"], "NVIDIA H100 80GB HBM3")
            self.assertEqual(g["memory_bytes"], 81559 << 20)
            self.assertEqual(g["numa_node"], 0 if i < 4 else 1)
            self.assertEqual(g["local_cpus"], "0-31" if i < 4 else "32-63")
            self.assertEqual(g["pci_switch"], SERVER_SWITCH[i // 2])
        self.assertIn("server-8gpu.xml", t["source"])
        self.assertIn("fake-gpus:", t["source"])

    def test_topology_reported_and_shown(self):
        c = self.cluster
        self.start_fixture_workers()
        nodes = {n["name"]: n for n in c.json("nodes")}
        self.check_server(nodes["server"])
        lap = nodes["laptop"]
        self.assertEqual(lap["cpus"], 8)
        self.assertEqual(lap["gpus"], 0)
        self.assertEqual(lap["topology"]["gpus"], [])
        self.assertEqual((lap["topology"]["packages"],
                          lap["topology"]["cores"],
                          lap["topology"]["pus"]), (1, 4, 8))

        # `yard nodes`: GPUs as free/total plus the model
        out = c.yard("nodes").stdout.decode()
        line = [l for l in out.splitlines() if l.startswith("server")][0]
        self.assertIn("8/8 H100", line)
        self.assertIn("64/64", line)

        # `yard nodes show NODE`, human and JSON
        out = c.yard("nodes", "show", "server").stdout.decode()
        self.assertIn("2 sockets, 2 NUMA nodes, 32 cores, 64 PUs", out)
        for bus in SERVER_BUS:
            self.assertIn(bus, out)
        self.assertIn("GPU-8f3c0007-1b2a-4c5d-9e8f-0a1b2c3d4e07", out)
        gpu7 = [l for l in out.splitlines() if "0000:db:00.0" in l][0]
        self.assertIn("32-63", gpu7)
        self.assertIn("SWITCH", out)
        for i, bus in enumerate(SERVER_BUS):
            row = [l for l in out.splitlines() if bus in l][0]
            self.assertIn(SERVER_SWITCH[i // 2], row)
        self.check_server(c.json("nodes", "show", "server"))
        out = c.yard("nodes", "show", "laptop").stdout.decode()
        self.assertIn("1 socket, 1 NUMA node, 4 cores, 8 PUs", out)

        p = c.yard("nodes", "show", "nosuchnode", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no node named 'nosuchnode'", p.stderr.decode())
        p = c.yard("nodes", "show", check=False)
        self.assertEqual(p.returncode, 2)

    def test_cpus_flag_overrides_and_topology_survives_restart(self):
        c = self.cluster
        c.start_worker("server", cpus=16, env={
            "YARD_HWLOC_XMLFILE": fixture("server-8gpu.xml"),
            "YARD_FAKE_GPUS": fixture("server-8gpu.gpus")})
        c.wait_nodes_up(["server"])
        node = c.json("nodes", "show", "server")
        self.assertEqual(node["cpus"], 16)
        self.assertEqual(node["topology"]["pus"], 64)
        # kill -9 the worker and the scheduler: the stored topology comes
        # back from state.db while the node is down
        c.kill_worker("server")
        c.kill_scheduler()
        c.start_scheduler()
        node = c.json("nodes", "show", "server")
        self.assertEqual(node["gpus"], 8)
        self.assertEqual([g["pci_bus_id"] for g in node["topology"]["gpus"]],
                         SERVER_BUS)

    def test_bad_fixture_is_fatal(self):
        c = self.cluster
        d = c.start_worker("bad", env={
            "YARD_HWLOC_XMLFILE": fixture("no-such-topology.xml")})
        wait_for(lambda: not d.alive(), what="worker exit")
        self.assertEqual(d.proc.returncode, 1)
        self.assertIn("no-such-topology.xml", c.tail("worker-bad.log"))


if __name__ == "__main__":
    unittest.main()
