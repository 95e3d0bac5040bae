"""Pipeline events: when a run or a step changes state, the scheduler
pushes an Event (kind PIPELINE) after the commit, to the Python client's
events(pipelines=True), `yard events --pipelines` and `yard events --run
R`; `yard pipeline wait` and pipeline_wait follow them."""
import json
import os
import subprocess
import sys
import textwrap
import threading
import unittest

import zmq

import harness
from harness import ClusterTest, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
from yard import client as yc  # noqa: E402
from yard import yard_pb2 as pb  # noqa: E402

CHAIN = """\
    name: chain
    steps:
      a:
        run: %s echo a > ${outputs.o}/x
        outputs: [o]
      b:
        needs: [a]
        run: cat ${steps.a.outputs.o}/x > ${outputs.o}/x
        outputs: [o]
      c:
        needs: [b]
        run: cat ${steps.b.outputs.o}/x
    """


class PipelineEventsTest(ClusterTest):

    def setUp(self):
        super().setUp()
        self.start_workers("w1", cpus=4)
        self.dir = os.path.join(self.root, "pipe")
        os.makedirs(self.dir)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def client(self):
        return yc.Client(self.cluster.client_ep, timeout=10)

    def check_chain(self, evs, run, a_started=False):
        """The events of run: the steps of a -> b -> c each go running then
        completed, one after the other, and the run ends completed
        (a_started: a was running before the subscription)."""
        mine = [(e["step"], e["state"]) for e in evs
                if e["kind"] == "pipeline" and e["run_id"] == run]
        steps = [m for m in mine if m[0]]
        want = [("a", "running"), ("a", "completed"),
                ("b", "running"), ("b", "completed"),
                ("c", "running"), ("c", "completed")]
        self.assertEqual(steps, want[1:] if a_started else want, evs)
        self.assertEqual(mine[-1], ("", "completed"), evs)
        seqs = [e["seq"] for e in evs]
        self.assertEqual(seqs, sorted(seqs))

    def test_python_sees_steps_then_run(self):
        cl = self.client()
        gen = cl.events(pipelines=True, timeout=60)  # subscribed now
        path = self.write("chain.yaml", CHAIN % "")
        run = self.cluster.json("pipeline", "run", path)["id"]
        seen = []
        for e in gen:
            seen.append(e)
            if e["kind"] == "pipeline" and e["run_id"] == run and \
                    not e["step"] and e["state"] != "running":
                break
        gen.close()
        self.check_chain(seen, run)
        # the run's creation comes first, and job events still come
        pl = [e for e in seen if e["kind"] == "pipeline"]
        self.assertEqual((pl[0]["step"], pl[0]["state"]), ("", "running"))
        self.assertTrue(any(e["kind"] == "job" for e in seen), seen)
        cl.close()

    def test_cli_run_filter_and_wait(self):
        c = self.cluster
        flag = os.path.join(self.root, "go")
        path = self.write("chain.yaml", CHAIN % (
            "while [ ! -e %s ]; do sleep 0.05; done;" % flag))
        run = c.json("pipeline", "run", path)["id"]
        env = dict(os.environ, YARD_SCHEDULER=c.client_ep)
        ev = subprocess.Popen([harness.YARD_BIN, "events", "--json", "--run",
                               str(run)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
        wait = subprocess.Popen([harness.YARD_BIN, "pipeline", "wait",
                                 "--json", str(run)], env=env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        # readiness: the scheduler logged both subscriptions
        wait_for(lambda: c.tail("scheduler.log", 400).count(
                 "pipelines, run %d," % run) >= 2, 20, "the subscriptions")
        open(flag, "w").close()
        out, err = ev.communicate(timeout=60)
        self.assertEqual(ev.returncode, 0, err)
        evs = [json.loads(l) for l in out.decode().splitlines()]
        # only the run's pipeline events, and it stopped at the run's end
        self.assertEqual({(e["kind"], e["run_id"]) for e in evs},
                         {("pipeline", run)}, evs)
        self.check_chain(evs, run, a_started=True)
        out, err = wait.communicate(timeout=60)
        self.assertEqual(wait.returncode, 0, err)
        self.assertEqual(json.loads(out)["state"], "completed")
        # text lines, and a run that already ended is said at once
        p = c.yard("events", "--run", run, check=False, timeout=20)
        self.assertEqual(p.returncode, 0)
        self.assertIn("already ended", p.stderr.decode())
        bad = c.yard("events", "--run", run, "--job", 1, check=False)
        self.assertEqual(bad.returncode, 2, bad)

    def test_text_lines_and_python_wait(self):
        c = self.cluster
        env = dict(os.environ, YARD_SCHEDULER=c.client_ep)
        ev = subprocess.Popen([harness.YARD_BIN, "events", "--pipelines",
                               "--count", "100"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for(lambda: "pipelines, run 0," in c.tail("scheduler.log", 400),
                 20, "the subscription")
        path = self.write("chain.yaml", CHAIN % "")
        run = c.json("pipeline", "run", path)["id"]
        cl = self.client()
        r = cl.pipeline_wait(run, timeout=60)
        self.assertEqual(r["state"], "completed")
        cl.close()
        wait_for(lambda: "subscribed (job 0, pipelines, run %d," % run
                 in c.tail("scheduler.log", 400), 5, "pipeline_wait's "
                 "subscription")
        ev.terminate()
        out, _ = ev.communicate(timeout=20)
        lines = [l.split(" ", 2)[2] for l in out.decode().splitlines()]
        self.assertIn("pipeline %d step a completed" % run, lines)
        self.assertIn("pipeline %d completed" % run, lines)
        self.assertLess(lines.index("pipeline %d step c completed" % run),
                        lines.index("pipeline %d completed" % run))


class OldScheduler(threading.Thread):
    """A scheduler from before pipeline events: it answers EventsSubscribe
    without EventsSubscribed.pipelines, and PipelineStatusRequest with run
    7 running for its first `running` answers, then completed."""

    def __init__(self, running=3):
        super().__init__(daemon=True)
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = "tcp://127.0.0.1:%d" % port
        self.running = running
        self.status_calls = 0
        self.subscribes = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            if not self.sock.poll(50):
                continue
            frames = self.sock.recv_multipart()
            req = pb.Envelope()
            req.ParseFromString(frames[-1])
            out = pb.Envelope(version=yc.PROTOCOL_VERSION,
                              request_id=req.request_id)
            body = req.WhichOneof("body")
            if body == "events_subscribe":
                self.subscribes += 1
                out.events_subscribed.ttl_ms = \
                    0 if req.events_subscribe.cancel else 30000
            elif body == "pipeline_status":
                self.status_calls += 1
                info = out.pipeline_info
                info.id = req.pipeline_status.run_id
                info.name = "old"
                info.state = (pb.PIPELINE_RUNNING
                              if self.status_calls <= self.running
                              else pb.PIPELINE_COMPLETED)
            else:
                out.error.code = 95
                out.error.message = "unknown request"
            self.sock.send_multipart(frames[:-1] + [out.SerializeToString()])

    def stop(self):
        self.halt.set()
        self.join(5)
        self.sock.close(0)
        self.ctx.term()


class OldSchedulerTest(unittest.TestCase):
    """From a scheduler without pipeline events, `yard pipeline wait` and
    pipeline_wait poll the run's status."""

    def setUp(self):
        self.old = OldScheduler()
        self.old.start()

    def tearDown(self):
        self.old.stop()

    def test_cli_wait_polls(self):
        env = dict(os.environ, YARD_SCHEDULER=self.old.endpoint)
        p = subprocess.run([harness.YARD_BIN, "pipeline", "wait", "--json",
                            "7"], env=env, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p)
        self.assertEqual(json.loads(p.stdout)["state"], "completed")
        self.assertGreaterEqual(self.old.subscribes, 1)
        self.assertGreaterEqual(self.old.status_calls, 4)

    def test_python_wait_polls(self):
        cl = yc.Client(self.old.endpoint, timeout=10)
        r = cl.pipeline_wait(7, timeout=60, interval=0.05)
        self.assertEqual(r["state"], "completed")
        self.assertGreaterEqual(self.old.subscribes, 1)
        self.assertGreaterEqual(self.old.status_calls, 4)
        cl.close()


if __name__ == "__main__":
    unittest.main()
