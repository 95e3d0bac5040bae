"""Start real yard-scheduler and yard-worker processes on loopback in a temp
dir, and drive them with the real `yard` CLI.

Every test gets its own directory, free ports (the scheduler binds
tcp://127.0.0.1:0 and reports the ports it got in STATE_DIR/endpoints), and
its own daemons, which are stopped (and their logs printed on failure) when
the test ends.  Waiting is always for a condition with a deadline, never a
bare sleep.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ.get("YARD_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
SCHEDULER_BIN = os.path.join(BUILD, "scheduler", "yard-scheduler")
WORKER_BIN = os.path.join(BUILD, "worker", "yard-worker")
YARD_BIN = os.path.join(BUILD, "client", "yard")


def wait_for(cond, timeout=20.0, what="condition", interval=0.02):
    """Poll cond() until it returns a true value; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


class Daemon:
    def __init__(self, argv, logpath, env=None):
        self.argv = argv
        self.logpath = logpath
        self.log = open(logpath, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)

    def alive(self):
        return self.proc.poll() is None

    def kill9(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout=15):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Cluster:
    """A scheduler and named workers in one temp dir."""

    def __init__(self, root, worker_timeout="5s", heartbeat="1s"):
        self.root = root
        self.state_dir = os.path.join(root, "scheduler")
        self.worker_timeout = worker_timeout
        self.heartbeat = heartbeat
        self.scheduler = None
        self.client_ep = "tcp://127.0.0.1:0"
        self.worker_ep = "tcp://127.0.0.1:0"
        self.workers = {}
        self.old_daemons = []

    # -- scheduler ---------------------------------------------------------
    def start_scheduler(self, extra=()):
        endpoints = os.path.join(self.state_dir, "endpoints")
        if os.path.exists(endpoints):
            os.unlink(endpoints)
        os.makedirs(self.state_dir, exist_ok=True)
        argv = [SCHEDULER_BIN, "--state-dir", self.state_dir,
                "--client-endpoint", self.client_ep,
                "--worker-endpoint", self.worker_ep,
                "--worker-timeout", self.worker_timeout,
                "--heartbeat", self.heartbeat, "--log-level", "debug"]
        argv += list(extra)
        self.scheduler = Daemon(argv, os.path.join(self.root, "scheduler.log"))

        def ready():
            if not self.scheduler.alive():
                raise AssertionError("yard-scheduler exited with %s:\n%s" % (
                    self.scheduler.proc.returncode, self.tail("scheduler.log")))
            try:
                with open(endpoints) as f:
                    kv = dict(line.strip().split("=", 1) for line in f
                              if "=" in line)
                return kv
            except FileNotFoundError:
                return None
        kv = wait_for(ready, what="scheduler endpoints file")
        # later restarts reuse the same ports, so workers find it again
        self.client_ep = kv["client"]
        self.worker_ep = kv["worker"]
        return self.scheduler

    def kill_scheduler(self):
        self.scheduler.kill9()
        self.old_daemons.append(self.scheduler)

    # -- workers -----------------------------------------------------------
    def start_worker(self, name, cpus=2, memory="1G", extra=(), env=None):
        """cpus=None: no --cpus (the worker's default); env: variables added
        to the worker's environment (e.g. YARD_HWLOC_XMLFILE)."""
        work = os.path.join(self.root, "worker-" + name)
        argv = [WORKER_BIN, "--scheduler", self.worker_ep, "--name", name,
                "--work-dir", work, "--memory", memory,
                "--log-level", "debug"] + list(extra)
        if cpus is not None:
            argv += ["--cpus", str(cpus)]
        # no GPU discovery through this machine's CUDA or PCI bus unless
        # asked: tests must not depend on its GPUs, and both cudart and
        # hwloc's pci plugin (libpciaccess) leak under LeakSanitizer, which
        # would turn a clean worker exit into 134 in the ASan run
        wenv = dict(os.environ)
        wenv.setdefault("YARD_FAKE_GPUS", os.devnull)
        wenv.setdefault("HWLOC_COMPONENTS", "-pci")
        wenv.update(env or {})
        d = Daemon(argv, os.path.join(self.root, "worker-%s.log" % name),
                   env=wenv)
        self.workers[name] = d
        return d

    def kill_worker(self, name):
        d = self.workers.pop(name)
        d.kill9()
        self.old_daemons.append(d)

    def wait_nodes_up(self, names, timeout=20):
        def up():
            nodes = self.json("nodes")
            states = {n["name"]: n["state"] for n in nodes}
            return all(states.get(n) == "UP" for n in names)
        wait_for(up, timeout, "nodes %s UP" % ",".join(names))

    # -- CLI ---------------------------------------------------------------
    def yard(self, *args, check=True, timeout=60, input=None):
        env = dict(os.environ, YARD_SCHEDULER=self.client_ep)
        p = subprocess.run([YARD_BIN] + [str(a) for a in args], env=env,
                           capture_output=True, timeout=timeout, input=input)
        if check and p.returncode != 0:
            raise AssertionError("yard %s exited %d\nstdout: %s\nstderr: %s"
                                 % (" ".join(map(str, args)), p.returncode,
                                    p.stdout.decode(errors="replace"),
                                    p.stderr.decode(errors="replace")))
        return p

    def json(self, *args):
        return json.loads(self.yard("--json", *args).stdout)

    def submit(self, *cmd, opts=()):
        p = self.yard("submit", *opts, "--", *cmd)
        out = p.stdout.decode().strip()
        assert out.isdigit(), "submit printed %r" % out
        return int(out)

    def status(self, job):
        return self.json("status", job)

    def wait(self, job, timeout=60):
        return self.yard("wait", job, check=False, timeout=timeout).returncode

    def wait_state(self, job, state, timeout=20):
        return wait_for(lambda: self.status(job)["state"] == state, timeout,
                        "job %s to be %s" % (job, state))

    # -- teardown ----------------------------------------------------------
    def tail(self, name, n=60):
        try:
            with open(os.path.join(self.root, name), "rb") as f:
                return b"".join(f.readlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def dump_logs(self):
        out = []
        for name in sorted(os.listdir(self.root)):
            if name.endswith(".log"):
                out.append("==== %s ====\n%s" % (name, self.tail(name)))
        return "\n".join(out)

    def stop(self):
        codes = {}
        for name, d in list(self.workers.items()):
            codes[name] = d.stop()
        if self.scheduler:
            codes["scheduler"] = self.scheduler.stop()
        for d in self.old_daemons:
            d.log.close()
        return codes


class ClusterTest(unittest.TestCase):
    """Base class: self.cluster is a fresh cluster with a running scheduler;
    start_workers() adds workers and waits for them."""

    worker_timeout = "5s"

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="yard-it-")
        self.cluster = Cluster(self.root, worker_timeout=self.worker_timeout)
        self.cluster.start_scheduler()

    def start_workers(self, *names, cpus=2):
        for n in names:
            self.cluster.start_worker(n, cpus=cpus)
        self.cluster.wait_nodes_up(names)

    def tearDown(self):
        failed = self._outcome.result is not None and any(
            t is self for t, _ in
            self._outcome.result.errors + self._outcome.result.failures)
        self.cluster.stop()
        if failed or os.environ.get("YARD_KEEP_LOGS"):
            print("\n--- daemon logs of %s (%s) ---\n%s" % (
                self.id(), self.root, self.cluster.dump_logs()))
        if not os.environ.get("YARD_KEEP_TMP"):
            shutil.rmtree(self.root, ignore_errors=True)

    def ledger(self, path):
        """Lines of a file that jobs append to."""
        try:
            with open(path) as f:
                return [l.split() for l in f if l.strip()]
        except FileNotFoundError:
            return []
