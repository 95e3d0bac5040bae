"""A client request waiting behind a stream of worker messages is taken
into the batch in progress within a few of them (scheduler/server.c,
on_socket), rather than waiting for a full batch of worker messages.

The scheduler is stopped (SIGSTOP) while a simulated worker queues
thousands of heartbeats and a client queues one submission; once it
continues, both ports are readable at once.  The client's acknowledgement
must come before the replies to the first full batch (512 messages) of
heartbeats."""
import os
import signal
import sys
import time
import unittest

import zmq

from harness import ClusterTest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from yard import yard_pb2 as pb  # noqa: E402

HEARTBEATS = 3000
FULL_BATCH = 512  # YARD__MAX_BATCH


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
        finally:
            os.kill(pid, signal.SIGCONT)

        replies = 0
        acked_after = None
        deadline = time.monotonic() + 60
        poller = zmq.Poller()
        poller.register(worker, zmq.POLLIN)
        poller.register(client, zmq.POLLIN)
        while replies < HEARTBEATS and time.monotonic() < deadline:
            ready = dict(poller.poll(200))
            while True:
                try:
                    worker.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                replies += 1
            if client in ready and acked_after is None:
                env = pb.Envelope()
                env.ParseFromString(client.recv())
                self.assertEqual(env.WhichOneof("body"), "submit_reply")
                acked_after = replies
        self.assertEqual(replies, HEARTBEATS, "heartbeat replies missing")
        self.assertIsNotNone(acked_after, "the submission was not answered")
        self.assertLess(acked_after, FULL_BATCH // 2,
                        "the client waited for %d worker messages"
                        % acked_after)


if __name__ == "__main__":
    unittest.main()
