"""A client request that arrives while workers stream messages is handled
inside the worker batch in progress (scheduler/server.c, on_socket): it is
answered before the stream ends, and the stream's replies are all there,
in order.

The scheduler is stopped (SIGSTOP) while a simulated worker queues
thousands of heartbeats and a client queues one submission; once it
continues, both ports are readable at once.  How many heartbeat replies
precede the acknowledgement depends on how fast the scheduler's zmq I/O
thread fills its queues, so the test asserts no exact figure; the latency
itself is measured by yard-loadgen (docs/benchmarks.md)."""
import os
import signal
import sys
import time
import unittest

import zmq

from harness import ClusterTest, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from yard import yard_pb2 as pb  # noqa: E402

HEARTBEATS = 3000


def queued_at(endpoint):
    """Bytes waiting in the kernel on the scheduler's side of the
    connections to endpoint (tcp://127.0.0.1:PORT): the receive queues of
    the established sockets whose local port is PORT."""
    port = int(endpoint.rsplit(":", 1)[1])
    total = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, state = fields[1], fields[3]
            if state == "01" and int(local.split(":")[1], 16) == port:
                total += int(fields[4].split(":")[1], 16)
    return total


class ClientFairnessTest(ClusterTest):

    def test_client_ack_ahead_of_a_worker_stream(self):
        c = self.cluster
        ctx = zmq.Context()
        self.addCleanup(ctx.destroy, 0)
        worker = ctx.socket(zmq.DEALER)
        worker.setsockopt(zmq.SNDHWM, 0)
        worker.setsockopt(zmq.RCVHWM, 0)
        worker.connect(c.worker_ep)
        client = ctx.socket(zmq.DEALER)
        client.setsockopt(zmq.SNDHWM, 0)
        client.connect(c.client_ep)
        # both connections are up before the scheduler stops
        hb = pb.Envelope(version=1, request_id=1,
                         heartbeat=pb.Heartbeat(name="sim", instance=1))
        worker.send(hb.SerializeToString())
        self.assertTrue(worker.poll(20000), "no heartbeat reply")
        worker.recv()
        ping = pb.Envelope(version=1, request_id=1,
                           submit=pb.SubmitRequest(spec=pb.JobSpec(
                               name="first", argv=["true"])))
        client.send(ping.SerializeToString())
        self.assertTrue(client.poll(20000), "no submit reply")
        client.recv()

        pid = c.scheduler.proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            for i in range(HEARTBEATS):
                hb.request_id = i + 2
                worker.send(hb.SerializeToString())
            sub = pb.Envelope(version=1, request_id=2,
                              submit=pb.SubmitRequest(spec=pb.JobSpec(
                                  name="probe", argv=["true"])))
            client.send(sub.SerializeToString())
            # both are in the scheduler's receive queues before it goes on
            wait_for(lambda: queued_at(c.client_ep) > 0
                     and queued_at(c.worker_ep) > 0,
                     what="the messages queued at the stopped scheduler")
        finally:
            os.kill(pid, signal.SIGCONT)

        # one message at a time, the client's first: the count is the
        # worker replies that left the scheduler before the acknowledgement
        replies = 0
        acked_after = None
        deadline = time.monotonic() + 60
        poller = zmq.Poller()
        poller.register(worker, zmq.POLLIN)
        poller.register(client, zmq.POLLIN)
        while replies < HEARTBEATS and time.monotonic() < deadline:
            if acked_after is None:
                try:
                    data = client.recv(zmq.NOBLOCK)
                    env = pb.Envelope()
                    env.ParseFromString(data)
                    self.assertEqual(env.WhichOneof("body"), "submit_reply")
                    self.assertEqual(env.request_id, 2)
                    acked_after = replies
                except zmq.Again:
                    pass
            try:
                data = worker.recv(zmq.NOBLOCK)
                env = pb.Envelope()
                env.ParseFromString(data)
                self.assertEqual(env.WhichOneof("body"), "heartbeat_reply")
                self.assertEqual(env.request_id, replies + 2)
                replies += 1
            except zmq.Again:
                poller.poll(200)
        self.assertEqual(replies, HEARTBEATS, "heartbeat replies missing")
        if acked_after is None and client.poll(20000):
            client.recv()
            acked_after = replies
        self.assertIsNotNone(acked_after, "the submission was not answered")
        self.assertLess(acked_after, HEARTBEATS,
                        "the submission waited for the whole stream")

if __name__ == "__main__":
    unittest.main()
