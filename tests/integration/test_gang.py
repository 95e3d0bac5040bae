"""Multi-node (gang) jobs end to end: two or three workers on loopback, jobs
submitted with --nodes/--tasks-per-node, every task started by yard-exec
with the torchrun environment and its own PUs; all-or-nothing placement;
one failing task stops the whole gang; a lost node requeues it; the
scheduler restarting under a running gang; and a real PyTorch DDP run
(gloo, CPU) across the two "nodes"."""
import glob
import os
import signal
import subprocess
import sys
import unittest

from harness import ClusterTest, wait_for

EXAMPLES = os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))

# Each task writes its view of the contract to $OUT/rank.$RANK, then waits
# for $OUT/go (or forever) so that tests see the gang while it runs.
TASK = r"""
f=$OUT/rank.$RANK.$YARD_ATTEMPT
{
  echo RANK=$RANK; echo LOCAL_RANK=$LOCAL_RANK; echo WORLD_SIZE=$WORLD_SIZE
  echo LOCAL_WORLD_SIZE=$LOCAL_WORLD_SIZE; echo NODE_RANK=$NODE_RANK
  echo MASTER_ADDR=$MASTER_ADDR; echo MASTER_PORT=$MASTER_PORT
  echo OMP=$OMP_NUM_THREADS; echo PID=$$; echo CVD=$CUDA_VISIBLE_DEVICES
  grep Cpus_allowed_list /proc/self/status | tr -d ' \t' | tr : =
} > $f.tmp && mv $f.tmp $f
if [ -n "$FAIL_RANK" ] && [ "$RANK" = "$FAIL_RANK" ]; then
  # fail once every rank is up (and has written its file)
  while [ $(ls $OUT | grep -c "^rank\..*\.$YARD_ATTEMPT\$") -lt $WORLD_SIZE ]
  do sleep 0.1; done
  exit 1
fi
while [ ! -e $OUT/go ]; do sleep 0.1; done
"""


def read_env(path):
    with open(path) as f:
        return dict(l.strip().split("=", 1) for l in f if "=" in l)


def cpulist(text):
    out = set()
    for part in filter(None, text.strip().split(",")):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting for its parent counts as gone
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class GangTest(ClusterTest):

    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.root, "out")
        os.makedirs(self.out)

    def tearDown(self):
        # tasks of a worker killed with -9 outlive it: end them here
        for path in glob.glob(os.path.join(self.out, "rank.*")):
            try:
                pid = int(read_env(path).get("PID", "0"))
                if pid > 0 and alive(pid):
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass
        super().tearDown()

    def submit_gang(self, nodes=2, tasks=2, extra=(), env=()):
        opts = ["--nodes", str(nodes), "--tasks-per-node", str(tasks),
                "--env", "OUT=" + self.out]
        for e in env:
            opts += ["--env", e]
        return self.cluster.submit("sh", "-c", TASK, opts=tuple(opts) +
                                   tuple(extra))

    def ranks(self, attempt, n):
        def all_there():
            files = glob.glob(os.path.join(self.out, "rank.*.%d" % attempt))
            return files if len(files) == n else None
        files = wait_for(all_there, 30, "%d ranks of attempt %d" % (n, attempt))
        return [read_env(p) for p in sorted(files)]

    def node_used(self):
        return {n["name"]: (n["cpus_used"], n["holdings"])
                for n in self.cluster.json("nodes")}

    def test_ranks_environment_and_binding(self):
        c = self.cluster
        self.start_workers("a", "b", cpus=2)
        job = self.submit_gang()
        envs = self.ranks(1, 4)
        self.assertEqual(sorted(int(e["RANK"]) for e in envs), [0, 1, 2, 3])
        ports = {e["MASTER_PORT"] for e in envs}
        addrs = {e["MASTER_ADDR"] for e in envs}
        self.assertEqual(len(ports), 1, envs)
        self.assertEqual(addrs, {"127.0.0.1"})
        self.assertTrue(0 < int(ports.pop()) < 65536)
        for e in envs:
            r = int(e["RANK"])
            self.assertEqual(e["WORLD_SIZE"], "4")
            self.assertEqual(e["LOCAL_WORLD_SIZE"], "2")
            self.assertEqual(int(e["LOCAL_RANK"]), r % 2)
            self.assertEqual(int(e["NODE_RANK"]), r // 2)
            self.assertEqual(e["OMP"], "1")
        # each task of a node on its own PU of the node's allocation
        st = c.wait_state(job, "RUNNING") and c.status(job)
        self.assertEqual(st["nodes"], 2)
        self.assertEqual([g["rank"] for g in st["gang"]], [0, 1])
        self.assertEqual({g["node"] for g in st["gang"]}, {"a", "b"})
        self.assertEqual(st["node"], st["gang"][0]["node"])
        for g in st["gang"]:
            held = cpulist(g["cpus"])
            self.assertEqual(len(held), 2)
            mine = [e for e in envs if int(e["NODE_RANK"]) == g["rank"]]
            sets = [cpulist(e["Cpus_allowed_list"]) for e in mine]
            for s in sets:
                self.assertEqual(len(s), 1, mine)
                self.assertTrue(s <= held)
            self.assertNotEqual(sets[0], sets[1])
        # both nodes list the job as holding their PUs, with its rank
        used = self.node_used()
        for g in st["gang"]:
            cpus, holdings = used[g["node"]]
            self.assertEqual(cpus, 2)
            self.assertEqual([(h["job_id"], h["gang"], h.get("node_rank"))
                              for h in holdings], [(job, True, g["rank"])])
        # the Python client sees the same
        sys.path.insert(0, os.path.join(EXAMPLES, "..", "python"))
        from yard.client import Client
        py = Client(c.client_ep)
        try:
            pj = py.status(job)
            self.assertEqual([(g["rank"], g["node"]) for g in pj["gang"]],
                             [(g["rank"], g["node"]) for g in st["gang"]])
            pn = {n["name"]: n for n in py.nodes()}
            self.assertEqual(pn["a"]["holdings"][0]["job_id"], job)
        finally:
            py.close()
        text = c.yard("nodes", "show", "b").stdout.decode()
        self.assertIn("held by:", text)
        self.assertIn(str(job), text)
        queue = c.yard("queue").stdout.decode()
        self.assertIn("%s+1" % st["gang"][0]["node"], queue)
        text = c.yard("status", job).stdout.decode()
        self.assertIn("rank 0", text)
        self.assertIn("rank 1", text)
        open(os.path.join(self.out, "go"), "w").close()
        self.assertEqual(c.wait(job), 0)
        self.assertEqual(c.status(job)["state"], "COMPLETED")
        used = self.node_used()
        self.assertEqual(used, {"a": (0, []), "b": (0, [])})

    def test_does_not_fit_holds_nothing(self):
        c = self.cluster
        self.start_workers("a", "b", cpus=2)
        # 3 nodes asked, 2 exist; 3 PUs per node asked, 2 offered
        j3 = self.submit_gang(nodes=3, tasks=1)
        jbig = self.submit_gang(nodes=2, tasks=3)
        # one node busy: a 2-node gang must wait holding nothing on the other
        blocker = c.submit("sh", "-c", "while [ ! -e %s/go ]; do sleep 0.1; "
                           "done" % self.out, opts=("--cpus", "2"))
        c.wait_state(blocker, "RUNNING")
        j2 = self.submit_gang(nodes=2, tasks=2)
        for j in (j3, jbig, j2):
            self.assertEqual(c.status(j)["state"], "PENDING")
        self.assertIn("needs 3 nodes", c.status(j3)["reason"])
        busy = c.status(blocker)["node"]
        free = "b" if busy == "a" else "a"
        # a plain job that fits still runs on the free node meanwhile
        small = c.submit("true")
        self.assertEqual(c.wait(small), 0)
        self.assertEqual(c.status(small)["node"], free)
        used = self.node_used()
        self.assertEqual(used[free], (0, []))
        self.assertEqual([h["job_id"] for h in used[busy][1]], [blocker])
        self.assertEqual(glob.glob(os.path.join(self.out, "rank.*")), [])
        # once the node is free, the gang that fits runs; the others wait
        open(os.path.join(self.out, "go"), "w").close()
        self.assertEqual(c.wait(blocker), 0)
        self.assertEqual(c.wait(j2), 0)
        self.assertEqual(c.status(j2)["state"], "COMPLETED")
        for j in (j3, jbig):
            self.assertEqual(c.status(j)["state"], "PENDING")
        self.assertEqual(c.status(j3)["attempt"], 0)

    def test_gpus_per_task(self):
        """--gpus-per-task on two nodes with fake GPUs: every task of a node
        sees its node's GPUs (those `yard status --json` lists for that node
        rank) in CUDA_VISIBLE_DEVICES, and no GPU of the other node."""
        c = self.cluster
        for name in ("a", "b"):
            gpus = os.path.join(self.root, name + ".gpus")
            with open(gpus, "w") as f:
                for i in range(2):
                    f.write("0000:%02x:00.0 GPU-%s000000%d-0000-0000-0000-"
                            "000000000000 16384 Fake GPU\n"
                            % (0x3b + i, name * 2, i))
            c.start_worker(name, cpus=2, env={"YARD_FAKE_GPUS": gpus})
        c.wait_nodes_up(["a", "b"])
        job = self.submit_gang(extra=("--gpus-per-task", "1"))
        envs = self.ranks(1, 4)
        st = c.status(job)
        self.assertEqual(st["gpus_per_task"], 1)
        by_rank = {g["rank"]: g for g in st["gang"]}
        self.assertEqual(sorted(by_rank), [0, 1])
        for g in by_rank.values():
            self.assertEqual(len(g["gpu_uuids"]), 2, g)
            self.assertTrue(all(u.startswith("GPU-" + g["node"] * 2)
                                for u in g["gpu_uuids"]), g)
        for e in envs:
            mine = by_rank[int(e["NODE_RANK"])]["gpu_uuids"]
            self.assertEqual(e["CVD"].split(","), mine, e)
        open(os.path.join(self.out, "go"), "w").close()
        self.assertEqual(c.wait(job), 0)

    def test_one_task_failing_stops_the_gang(self):
        c = self.cluster
        self.start_workers("a", "b", cpus=2)
        job = self.submit_gang(env=("FAIL_RANK=3",))
        envs = self.ranks(1, 4)
        self.assertEqual(c.wait(job, timeout=60), 1)
        st = c.status(job)
        self.assertEqual(st["state"], "FAILED")
        self.assertEqual(st["exit_code"], 1)
        self.assertEqual(len(st["attempts"]), 1)
        self.assertIn("NODE_RANK 1", st["reason"])
        # every other task was stopped, on both nodes
        pids = [int(e["PID"]) for e in envs if e["RANK"] != "3"]
        wait_for(lambda: not any(alive(p) for p in pids), 30,
                 "the other tasks to be stopped")
        wait_for(lambda: self.node_used() == {"a": (0, []), "b": (0, [])},
                 10, "both nodes free")

    def test_lost_node_requeues_the_gang(self):
        c = self.cluster
        self.start_workers("a", "b", "c", cpus=2)
        job = self.submit_gang()
        envs = self.ranks(1, 4)
        st = c.wait_state(job, "RUNNING") and c.status(job)
        nodes = [g["node"] for g in st["gang"]]
        victim = nodes[1]
        survivor = nodes[0]
        c.kill_worker(victim)
        # the whole gang goes again, on the two nodes left
        envs2 = self.ranks(2, 4)
        st = c.status(job)
        self.assertEqual(st["attempt"], 2)
        self.assertEqual(st["lost_count"], 1)
        self.assertNotIn(victim, [g["node"] for g in st["gang"]])
        self.assertEqual(sorted(int(e["RANK"]) for e in envs2), [0, 1, 2, 3])
        # the history says where each attempt ran, every node of it
        hist = [[g["node"] for g in a["gang"]] for a in st["attempts"]]
        self.assertEqual(hist[0], nodes)
        self.assertEqual(hist[1], [g["node"] for g in st["gang"]])
        text = c.yard("status", job).stdout.decode()
        self.assertIn(",".join(nodes), text)
        # the surviving node's tasks of attempt 1 were stopped
        old = [int(e["PID"]) for e in envs
               if int(e["NODE_RANK"]) == nodes.index(survivor)]
        wait_for(lambda: not any(alive(p) for p in old), 30,
                 "attempt 1's tasks on %s to be stopped" % survivor)
        open(os.path.join(self.out, "go"), "w").close()
        self.assertEqual(c.wait(job), 0)
        self.assertEqual(c.status(job)["state"], "COMPLETED")

    def test_gang_survives_scheduler_restart(self):
        c = self.cluster
        self.start_workers("a", "b", cpus=2)
        job = self.submit_gang()
        self.ranks(1, 4)
        c.wait_state(job, "RUNNING")
        before = c.status(job)["gang"]
        c.kill_scheduler()
        c.start_scheduler()
        c.wait_nodes_up(["a", "b"])
        st = c.status(job)
        self.assertEqual(st["state"], "RUNNING")
        self.assertEqual([(g["node"], g["cpus"]) for g in st["gang"]],
                         [(g["node"], g["cpus"]) for g in before])
        used = self.node_used()
        self.assertEqual({k: v[0] for k, v in used.items()},
                         {"a": 2, "b": 2})
        open(os.path.join(self.out, "go"), "w").close()
        self.assertEqual(c.wait(job), 0)
        self.assertEqual(c.status(job)["state"], "COMPLETED")

    def test_bad_specs_are_refused(self):
        c = self.cluster
        p = c.yard("submit", "--nodes", "2", "--gpus", "1", "--", "true",
                   check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"--gpus-per-task", p.stderr)
        p = c.yard("submit", "--tasks-per-node", "2", "--", "true",
                   check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"--nodes", p.stderr)
        help_text = c.yard("submit", "--help").stdout.decode()
        for opt in ("--nodes", "--tasks-per-node", "--gpus-per-task",
                    "--cpus-per-task", "--gang-timeout"):
            self.assertIn(opt, help_text)


class GangTimeoutTest(ClusterTest):
    # long enough that a stopped worker is not declared lost meanwhile
    worker_timeout = "60s"

    def test_tasks_not_started_in_time_fail_the_attempt(self):
        c = self.cluster
        out = os.path.join(self.root, "out")
        os.makedirs(out)
        self.start_workers("a", "b", cpus=2)
        stopped = c.workers["b"].proc
        stopped.send_signal(signal.SIGSTOP)
        try:
            job = c.submit("sh", "-c", TASK, opts=(
                "--nodes", "2", "--env", "OUT=" + out,
                "--gang-timeout", "2s"))
            self.assertEqual(c.wait(job, timeout=60), 1)
            st = c.status(job)
            self.assertEqual(st["state"], "FAILED")
            self.assertEqual(st["end_reason"], "spawn-failed")
            self.assertIn("did not all start within 2 s", st["reason"])
            self.assertIn("b", st["reason"].split("not started on:")[1])
            # whatever started on a was stopped
            started = [read_env(p) for p in
                       glob.glob(os.path.join(out, "rank.*"))]
            pids = [int(e["PID"]) for e in started]
            wait_for(lambda: not any(alive(p) for p in pids), 30,
                     "the started tasks to be stopped")
        finally:
            stopped.send_signal(signal.SIGCONT)
        # b comes back: its stale part is stopped, and both nodes are free
        def free():
            used = {n["name"]: n["cpus_used"] for n in c.json("nodes")}
            return used == {"a": 0, "b": 0}
        wait_for(free, 30, "both nodes free")
        open(os.path.join(out, "go"), "w").close()


def torch_missing():
    p = subprocess.run([sys.executable, "-c", "import torch"],
                       capture_output=True)
    if p.returncode == 0:
        return None
    return p.stderr.decode(errors="replace").strip().splitlines()[-1:]


class DistributedTrainingTest(ClusterTest):

    def test_ddp_gloo_two_nodes(self):
        why = torch_missing()
        if why:
            print("skipping the DDP test: %s cannot import torch (%s)"
                  % (sys.executable, why))
            self.skipTest("import torch failed: %s" % why)
        c = self.cluster
        self.start_workers("a", "b", cpus=2)
        script = os.path.join(EXAMPLES, "ddp", "train_ddp.py")
        job = c.submit(sys.executable, script, "--steps", "200",
                       opts=("--nodes", "2", "--tasks-per-node", "2",
                             "--gang-timeout", "60s"))
        rc = c.wait(job, timeout=240)
        st = c.status(job)
        log = c.yard("logs", job).stdout.decode(errors="replace")
        self.assertEqual(rc, 0, "%s\n%s" % (st["reason"], log))
        self.assertEqual(st["state"], "COMPLETED")
        # rank 0's node's log holds its two tasks' lines, each behind its
        # rank
        for r in (0, 1):
            self.assertIn("[rank %d] rank %d/4" % (r, r), log)
        self.assertEqual(log.count("parameters identical"), 2, log)


if __name__ == "__main__":
    unittest.main()
