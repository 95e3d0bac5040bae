"""Malformed frames sent to each socket leave the daemons serving."""
import os
import unittest

import zmq

from harness import ClusterTest


def frames():
    """Bad inputs: garbage, empty, oversized, two payload frames, another
    protocol version, an envelope without a body, a worker message on the
    client port and a client message on the worker port."""
    v2 = b"\x08\x02\x10\x01\x82\x01\x00"             # version 2, nodes{}
    nobody = b"\x08\x01\x10\x05"                     # version 1, no body
    nodes = b"\x08\x01\x10\x07\x82\x01\x00"          # valid NodesRequest
    heartbeat = b"\x08\x01\x10\x08\xd2\x02\x04\x0a\x02w9"  # Heartbeat{name:w9}
    return [[b"\xff\xfe garbage \x00\x01"], [b""], [b"x" * (5 << 20)],
            [b"a", b"b"], [v2], [nobody], [heartbeat], [nodes],
            [b"\x0a\xff\xff\xff\xff\x0f"]]


class MalformedTest(ClusterTest):

    def blast(self, endpoint):
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 1000)
        s.connect(endpoint)
        for parts in frames():
            s.send_multipart(parts)
        # the scheduler answers what it can identify; drain what comes back
        poller = zmq.Poller()
        poller.register(s, zmq.POLLIN)
        replies = 0
        while poller.poll(1000):
            s.recv_multipart()
            replies += 1
        s.close()
        return replies

    def test_malformed_frames(self):
        c = self.cluster
        self.start_workers("w1")
        self.blast(c.client_ep)
        self.blast(c.worker_ep)
        self.assertTrue(c.scheduler.alive())
        self.assertTrue(c.workers["w1"].alive())
        job = c.submit("echo", "still-serving")
        self.assertEqual(c.wait(job), 0)
        self.assertIn(b"still-serving", c.yard("logs", job).stdout)
        with open(os.path.join(self.root, "scheduler.log"), "rb") as f:
            log = f.read()
        self.assertRegex(log.decode(errors="replace"),
                         "(?i)(malformed|invalid|drop|not a valid)")

    def test_other_protocol_version_gets_clear_error(self):
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(self.cluster.client_ep)
        s.send(b"\x08\x02\x10\x2a\x82\x01\x00")  # v2, request 42, nodes{}
        self.assertTrue(s.poll(5000), "no answer to a version-2 request")
        reply = s.recv()
        s.close()
        # version 1, request_id 42, error{code: 71 (EPROTO), message}
        self.assertTrue(reply.startswith(b"\x08\x01\x10\x2a\x1a"), reply)
        self.assertIn(b"\x08\x47", reply)
        self.assertIn(b"version 2", reply)

    def test_malformed_frames_to_worker(self):
        """A worker only connects; a peer that binds where the worker
        connects and speaks garbage must not crash it."""
        c = self.cluster
        ctx = zmq.Context.instance()
        r = ctx.socket(zmq.ROUTER)
        port = r.bind_to_random_port("tcp://127.0.0.1")
        from harness import Daemon, WORKER_BIN
        d = Daemon([WORKER_BIN, "--scheduler", "tcp://127.0.0.1:%d" % port,
                    "--name", "wx", "--work-dir",
                    os.path.join(self.root, "wx"), "--log-level", "debug"],
                   os.path.join(self.root, "worker-wx.log"))
        try:
            poller = zmq.Poller()
            poller.register(r, zmq.POLLIN)
            self.assertTrue(poller.poll(10000), "worker did not register")
            ident = r.recv_multipart()[0]
            for parts in frames():
                r.send_multipart([ident] + parts)
            # a Dispatch with no spec: refused, not crashed
            r.send_multipart([ident, b"\x08\x01\x10\x09\xe2\x02\x04\x08\x05\x10\x01"])
            # the worker keeps talking (heartbeats or registers)
            got = 0
            while got < 3 and poller.poll(10000):
                r.recv_multipart()
                got += 1
            self.assertEqual(got, 3)
            self.assertTrue(d.alive())
        finally:
            d.stop()
            r.close()


if __name__ == "__main__":
    unittest.main()
