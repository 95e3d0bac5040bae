"""The worker port as a worker sees it, with a scripted worker on a raw
DEALER against the real scheduler: a worker that registered with
dispatch_acks gets its JobFinishedAcks inside its next Dispatch (alone
only when no Dispatch follows), a short job reported by its JobFinished
alone still has its start and its RUNNING event, and a worker that did not
ask gets every JobFinishedAck alone."""
import os
import random
import sys
import time
import unittest

import zmq

from harness import ClusterTest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
from yard import client as yc  # noqa: E402
from yard import yard_pb2 as pb  # noqa: E402


class ScriptedWorker:
    """One DEALER speaking the worker protocol, one message at a time."""

    def __init__(self, endpoint, name, dispatch_acks):
        self.name = name
        self.rid = 0
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.send(worker_register=pb.WorkerRegister(
            name=name, instance=random.getrandbits(63) + 1,
            hostname="wire", version="test", cpus=1, memory_bytes=1 << 30,
            dispatch_acks=dispatch_acks))
        self.expect("register_reply")

    def send(self, **body):
        self.rid += 1
        env = pb.Envelope(version=1, request_id=self.rid, **body)
        self.sock.send(env.SerializeToString())

    def recv(self, timeout=10.0):
        """The next message other than a heartbeat reply, or None."""
        deadline = time.monotonic() + timeout
        last_hb = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() - last_hb > 0.5:
                self.send(heartbeat=pb.Heartbeat(name=self.name, running=1))
                last_hb = time.monotonic()
            if not self.sock.poll(100):
                continue
            env = pb.Envelope()
            env.ParseFromString(self.sock.recv())
            if env.WhichOneof("body") != "heartbeat_reply":
                return env
        return None

    def expect(self, kind, timeout=10.0):
        env = self.recv(timeout)
        assert env is not None, "no %s within %s s" % (kind, timeout)
        assert env.WhichOneof("body") == kind, \
            "expected %s, got %s" % (kind, env)
        return getattr(env, kind)

    def quiet(self, seconds):
        """Nothing but heartbeat replies for this long."""
        env = self.recv(seconds)
        assert env is None, "unexpected %s" % env

    def finished(self, d, start_ms, started=False):
        if started:
            self.send(job_started=pb.JobStarted(
                job_id=d.job_id, attempt=d.attempt, pid=4242,
                start_time_ms=start_ms))
        self.send(job_finished=pb.JobFinished(
            job_id=d.job_id, attempt=d.attempt, reason=pb.END_EXITED,
            exit_code=0, start_time_ms=start_ms,
            end_time_ms=start_ms + 5))

    def close(self):
        self.sock.close()


class WireTest(ClusterTest):

    def submit_true(self, n):
        cl = yc.Client(self.cluster.client_ep, timeout=10)
        ids = [cl.submit(["/bin/true"]) for _ in range(n)]
        cl.close()
        return ids

    def test_acks_ride_in_the_next_dispatch(self):
        c = self.cluster
        a, b, d3 = self.submit_true(3)
        cl = yc.Client(c.client_ep, timeout=10)
        events = cl.events(timeout=30)  # subscribed when it returns
        w = ScriptedWorker(c.worker_ep, "wire1", dispatch_acks=True)
        try:
            start = int(time.time() * 1000) - 1000
            d = w.expect("dispatch")
            self.assertEqual(d.job_id, a)
            self.assertEqual(len(d.finished_acks), 0)
            # the start rides in the JobFinished, as yard-worker reports a
            # short job: no JobStarted
            w.finished(d, start)
            # the ack for a comes inside b's dispatch, not alone
            d = w.expect("dispatch")
            self.assertEqual(d.job_id, b)
            self.assertEqual([(k.job_id, k.attempt) for k in d.finished_acks],
                             [(a, 1)])
            w.finished(d, start + 10)
            d = w.expect("dispatch")
            self.assertEqual(d.job_id, d3)
            self.assertEqual([(k.job_id, k.attempt) for k in d.finished_acks],
                             [(b, 1)])
            # the queue is empty now: the last ack leaves alone
            w.finished(d, start + 20)
            ack = w.expect("job_finished_ack")
            self.assertEqual((ack.job_id, ack.attempt), (d3, 1))
            w.quiet(0.5)
            # a duplicate report (a lost ack) is acknowledged again
            w.send(job_finished=pb.JobFinished(
                job_id=a, attempt=1, reason=pb.END_EXITED,
                start_time_ms=start, end_time_ms=start + 5))
            ack = w.expect("job_finished_ack")
            self.assertEqual((ack.job_id, ack.attempt), (a, 1))
        finally:
            w.close()
        st = c.status(a)
        self.assertEqual(st["state"], "COMPLETED")
        self.assertEqual(st["start_time_ms"], start)
        self.assertEqual(st["attempts"][0]["start_time_ms"], start)
        # its start reported with its end still shows as RUNNING, in order
        seen = []
        for e in events:
            if e["kind"] == "job" and e["job_id"] == a:
                seen.append((e["old_state"], e["state"]))
                if e["state"] == "COMPLETED":
                    break
        events.close()
        cl.close()
        self.assertEqual(seen, [("PENDING", "ASSIGNED"),
                                ("ASSIGNED", "RUNNING"),
                                ("RUNNING", "COMPLETED")])

    def test_worker_without_dispatch_acks(self):
        c = self.cluster
        a, b = self.submit_true(2)
        w = ScriptedWorker(c.worker_ep, "wire2", dispatch_acks=False)
        try:
            start = int(time.time() * 1000)
            d = w.expect("dispatch")
            self.assertEqual(d.job_id, a)
            w.finished(d, start, started=True)
            # its ack comes alone, before the next dispatch
            ack = w.expect("job_finished_ack")
            self.assertEqual((ack.job_id, ack.attempt), (a, 1))
            d = w.expect("dispatch")
            self.assertEqual(d.job_id, b)
            self.assertEqual(len(d.finished_acks), 0)
            w.finished(d, start, started=True)
            ack = w.expect("job_finished_ack")
            self.assertEqual((ack.job_id, ack.attempt), (b, 1))
        finally:
            w.close()
        for j in (a, b):
            self.assertEqual(c.status(j)["state"], "COMPLETED")


if __name__ == "__main__":
    unittest.main()
