"""Events pushed by the scheduler: a subscriber sees a job's states in
order (PENDING, ASSIGNED, RUNNING, COMPLETED) without polling, through the
Python client's events() and `yard events`; a job filter; node events; a
subscription that is not renewed lapses."""
import json
import os
import subprocess
import time
import unittest

import zmq

import harness
from harness import ClusterTest, wait_for

import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
from yard import client as yc  # noqa: E402
from yard import yard_pb2 as pb  # noqa: E402

ORDER = ["PENDING", "ASSIGNED", "RUNNING", "COMPLETED"]


class EventsTest(ClusterTest):

    def client(self):
        return yc.Client(self.cluster.client_ep, timeout=10)

    def job_states(self, evs, job):
        return [e["state"] for e in evs
                if e["kind"] == "job" and e["job_id"] == job]

    def test_python_sees_states_in_order(self):
        self.start_workers("w1")
        cl = self.client()
        gen = cl.events(timeout=30)  # subscribed when it returns
        job = cl.submit(["/bin/sh", "-c", "exit 0"])
        seen = []
        for e in gen:
            seen.append(e)
            if e["kind"] == "job" and e["job_id"] == job and \
                    e["state"] in yc.FINISHED_STATES:
                break
        gen.close()
        evs = [e for e in seen if e["kind"] == "job" and e["job_id"] == job]
        self.assertEqual([e["state"] for e in evs], ORDER, seen)
        # each event names the state before it
        self.assertEqual([e["old_state"] for e in evs[1:]], ORDER[:-1])
        self.assertEqual(evs[-1]["exit_code"], 0)
        self.assertEqual(evs[2]["node"], "w1")
        self.assertEqual(evs[2]["attempt"], 1)
        seqs = [e["seq"] for e in seen]
        self.assertEqual(seqs, sorted(seqs))
        cl.close()

    def test_cli_job_filter_and_failure(self):
        c = self.cluster
        self.start_workers("w1")
        cl = self.client()
        # a job that waits for a file: the CLI subscribes while it runs
        flag = os.path.join(self.root, "go")
        job = cl.submit(["/bin/sh", "-c",
                         "while [ ! -e %s ]; do sleep 0.05; done; exit 3"
                         % flag])
        other = cl.submit(["/bin/true"])
        c.wait_state(job, "RUNNING")
        env = dict(os.environ, YARD_SCHEDULER=c.client_ep)
        p = subprocess.Popen([harness.YARD_BIN, "events", "--json", "--job",
                              str(job)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        # readiness: the scheduler logged the subscription
        wait_for(lambda: "subscribed (job %d" % job in
                 c.tail("scheduler.log", 400), 20, "the subscription")
        open(flag, "w").close()
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        evs = [json.loads(l) for l in out.decode().splitlines()]
        self.assertEqual([e["job_id"] for e in evs], [job], evs)
        self.assertEqual(evs[-1]["state"], "FAILED")
        self.assertEqual(evs[-1]["old_state"], "RUNNING")
        self.assertEqual(evs[-1]["exit_code"], 3)
        self.assertEqual(c.wait(other), 0)
        # a job that already ended: said at once, no wait
        p = c.yard("events", "--job", job, check=False, timeout=20)
        self.assertEqual(p.returncode, 0)
        self.assertIn("already ended", p.stderr.decode())
        cl.close()

    def test_node_events(self):
        c = self.cluster
        cl = self.client()
        gen = cl.events(nodes=True, timeout=30)
        c.start_worker("w1")
        first = next(e for e in gen if e["kind"] == "node")
        self.assertEqual((first["node"], first["state"]), ("w1", "UP"))
        c.kill_worker("w1")  # lost after the worker timeout (5 s)
        down = next(e for e in gen if e["kind"] == "node")
        self.assertEqual((down["node"], down["state"]), ("w1", "DOWN"))
        gen.close()
        cl.close()

    def test_subscription_lapses(self):
        c = self.cluster
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(c.client_ep)
        env = pb.Envelope(version=1, request_id=77)
        env.events_subscribe.ttl_ms = 1000
        s.send(env.SerializeToString())
        self.assertTrue(s.poll(10000))
        r = pb.Envelope()
        r.ParseFromString(s.recv())
        self.assertEqual(r.request_id, 77)
        self.assertEqual(r.WhichOneof("body"), "events_subscribed")
        self.assertEqual(r.events_subscribed.ttl_ms, 1000)
        # not renewed: it lapses and is dropped by the scheduler's cron
        wait_for(lambda: "lapsed" in c.tail("scheduler.log", 400), 20,
                 "the subscription to lapse")
        s.close()


if __name__ == "__main__":
    unittest.main()
