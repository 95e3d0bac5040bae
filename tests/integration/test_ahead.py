"""Dispatch ahead (yard-scheduler --dispatch-ahead, scheduler/server_ahead.c):
a job that finds no free slot waits on a worker as the successor of a
running job of its shape and starts there when that job ends; the worker
gives it back when that job runs past the wait.

The workers here have one CPU, so one slot: a second job is a successor
or it is pending.  Jobs write to a ledger, so that "ran once" is checked
on what ran, not on what the scheduler says."""
import json
import os
import re
import unittest

from harness import ClusterTest, wait_for


def gate_script(ledger, gate):
    """A job that records its start, waits for the gate file, records its
    end."""
    return ('echo start $YARD_JOB_ID >> %s; '
            'while [ ! -e %s ]; do sleep 0.05; done; '
            'echo end $YARD_JOB_ID >> %s' % (ledger, gate, ledger))


def quick_script(ledger):
    return 'echo ran $YARD_JOB_ID >> %s' % ledger


class AheadBase(ClusterTest):

    ahead_ms = 1000

    def setUp(self):
        super().setUp()
        c = self.cluster
        # the base class started a scheduler without the option
        c.scheduler.stop()
        c.old_daemons.append(c.scheduler)
        c.start_scheduler(extra=["--dispatch-ahead", str(self.ahead_ms)])
        self.ledger_path = os.path.join(self.root, "ledger")
        self.gate = os.path.join(self.root, "gate")

    def followed(self):
        """{successor: predecessor} from the scheduler's log."""
        out = {}
        with open(os.path.join(self.root, "scheduler.log"),
                  errors="replace") as f:
            for line in f:
                m = re.search(r"job (\d+) attempt \d+ ASSIGNED to \S+ after "
                              r"job (\d+)", line)
                if m:
                    out[int(m.group(1))] = int(m.group(2))
        return out

    def ran(self, word):
        return [int(l[1]) for l in self.ledger(self.ledger_path)
                if l[0] == word]

    def gated_job(self):
        """One worker of one slot, running job A until the gate opens."""
        self.start_workers("w1", cpus=1)
        a = self.cluster.submit("sh", "-c",
                                gate_script(self.ledger_path, self.gate))
        wait_for(lambda: self.ran("start") == [a], what="job A to start")
        return a

    def successor(self, a, script=None):
        """Job B, submitted while A runs: it waits on w1 behind A."""
        b = self.cluster.submit(
            "sh", "-c", script or quick_script(self.ledger_path))
        wait_for(lambda: self.followed().get(b) == a,
                 what="job B to follow job A")
        return b


class AheadTest(AheadBase):

    ahead_ms = 5000

    def test_short_jobs_follow_one_another(self):
        c = self.cluster
        a = self.gated_job()
        n = 30
        lines = "".join("sh -c '%s'\n" % quick_script(self.ledger_path)
                        for _ in range(n))
        p = c.yard("--json", "submit-many", "-", input=lines.encode())
        jobs = [r["id"] for r in json.loads(p.stdout)]
        self.assertEqual(len(jobs), n)
        # one slot, held by A: the first of them waits on w1 behind A, the
        # second behind the first (a chain of two), the rest in the queue
        wait_for(lambda: self.followed().get(jobs[1]) == jobs[0],
                 what="the second job to follow the first")
        self.assertEqual(self.followed().get(jobs[0]), a)
        self.assertEqual(len(self.followed()), 2)
        self.assertEqual(c.status(jobs[2])["state"], "PENDING")
        open(self.gate, "w").close()
        for j in jobs:
            self.assertEqual(c.wait(j), 0, c.status(j))
        self.assertEqual(c.wait(a), 0, c.status(a))
        self.assertEqual(sorted(self.ran("ran")), sorted(jobs))  # each once
        # the ledger: A ended before the first of them ran (same slot)
        order = [(l[0], int(l[1])) for l in self.ledger(self.ledger_path)]
        self.assertLess(order.index(("end", a)), order.index(("ran", jobs[0])))
        # none was given back: each waited less than the wait
        for j in jobs:
            self.assertEqual(c.status(j)["attempt"], 1, c.status(j))

    def test_cancel_a_waiting_successor(self):
        c = self.cluster
        a = self.gated_job()
        b = self.successor(a)
        st = c.status(b)
        self.assertEqual(st["state"], "ASSIGNED", st)
        self.assertEqual(st["reason"], "waits on w1 for job %d to end" % a)
        c.yard("cancel", b)
        c.wait_state(b, "CANCELLED")
        open(self.gate, "w").close()
        self.assertEqual(c.wait(a), 0, c.status(a))
        self.assertEqual(self.ran("ran"), [])
        # the slot is free again: a new job runs at once
        d = c.submit("sh", "-c", quick_script(self.ledger_path))
        self.assertEqual(c.wait(d), 0, c.status(d))
        self.assertEqual(self.ran("ran"), [d])

    def test_requeue_of_the_predecessor_stops_its_successor(self):
        c = self.cluster
        a = self.gated_job()
        b = self.successor(a)
        c.yard("requeue", a)
        # A is stopped and sent again; B, which never started, went back
        # to the queue with it
        wait_for(lambda: c.status(a)["attempt"] >= 2, timeout=20,
                 what="job A sent again")
        open(self.gate, "w").close()
        self.assertEqual(c.wait(a), 0, c.status(a))
        self.assertEqual(c.wait(b), 0, c.status(b))
        self.assertEqual(self.ran("ran"), [b])
        # B's first attempt was stopped unstarted: it ran in its second
        self.assertGreaterEqual(c.status(b)["attempt"], 2, c.status(b))


class AheadGiveBackTest(AheadBase):

    ahead_ms = 300

    def test_successors_given_back_when_their_predecessor_runs_long(self):
        c = self.cluster
        a = self.gated_job()
        # two at once: B waits behind A, C behind B
        line = "sh -c '%s'\n" % quick_script(self.ledger_path)
        p = c.yard("--json", "submit-many", "-", input=(line * 2).encode())
        b, d = [r["id"] for r in json.loads(p.stdout)]
        wait_for(lambda: self.followed().get(d) == b,
                 what="job C to follow job B")
        self.assertEqual(self.followed().get(b), a)
        # the wait passes: B comes back unstarted, and C with it; both
        # wait for a free slot from now on
        for j in (b, d):
            wait_for(lambda: "given back" in (c.status(j).get("reason")
                                              or ""),
                     timeout=20, what="job %d given back" % j)
            st = c.status(j)
            self.assertEqual(st["state"], "PENDING", st)
        self.assertEqual(self.ran("ran"), [])
        # a free slot elsewhere: both run there, not behind A again
        self.cluster.start_worker("w2", cpus=1)
        for j in (b, d):
            self.assertEqual(c.wait(j), 0, c.status(j))
            self.assertEqual(c.status(j)["node"], "w2")
        self.assertEqual(c.status(a)["state"], "RUNNING")
        open(self.gate, "w").close()
        self.assertEqual(c.wait(a), 0, c.status(a))
        self.assertEqual(sorted(self.ran("ran")), [b, d])


class AheadDurabilityTest(AheadBase):

    ahead_ms = 60000  # the successor waits for as long as the test needs

    def test_scheduler_kill9_with_a_successor_waiting(self):
        c = self.cluster
        a = self.gated_job()
        b = self.successor(a)
        c.kill_scheduler()
        c.start_scheduler(extra=["--dispatch-ahead", str(self.ahead_ms)])
        # the worker registers again and forgets B; the scheduler sends it
        # again, behind A or once A ends
        wait_for(lambda: c.status(b)["attempt"] >= 2, timeout=20,
                 what="job B sent again after the restart")
        self.assertEqual(c.status(a)["state"], "RUNNING")
        self.assertEqual(self.ran("ran"), [])
        open(self.gate, "w").close()
        self.assertEqual(c.wait(a), 0, c.status(a))
        self.assertEqual(c.wait(b), 0, c.status(b))
        self.assertEqual(self.ran("ran"), [b])  # once
        self.assertEqual(self.ran("end"), [a])

    def test_scheduler_kill9_after_the_successor_started(self):
        """The successor starts when A ends, with no word from the
        scheduler; a scheduler killed before it learns of A's end finds
        both in the worker's register."""
        c = self.cluster
        gate_b = self.gate + "-b"
        a = self.gated_job()
        b = self.successor(a, gate_script(self.ledger_path, gate_b))
        c.kill_scheduler()
        open(self.gate, "w").close()
        wait_for(lambda: self.ran("start") == [a, b],
                 what="job B to start after A, scheduler down")
        c.start_scheduler(extra=["--dispatch-ahead", str(self.ahead_ms)])
        self.assertEqual(c.wait(a), 0, c.status(a))
        c.wait_state(b, "RUNNING")
        open(gate_b, "w").close()
        self.assertEqual(c.wait(b), 0, c.status(b))
        self.assertEqual(self.ran("start"), [a, b])
        self.assertEqual(c.status(b)["attempt"], 1, c.status(b))

    def test_worker_kill9_with_a_successor_waiting(self):
        """A successor lives in its worker's memory alone: a worker killed
        and started again has forgotten it, and the scheduler sends it
        again; it runs once.  (The restarted worker reports A, which it
        cannot supervise, as lost: A runs again too.)"""
        c = self.cluster
        a = self.gated_job()
        b = self.successor(a)
        c.kill_worker("w1")
        c.start_worker("w1", cpus=1)
        wait_for(lambda: c.status(b)["attempt"] >= 2, timeout=20,
                 what="job B sent again after the worker's restart")
        open(self.gate, "w").close()
        self.assertEqual(c.wait(a), 0, c.status(a))
        self.assertEqual(c.wait(b), 0, c.status(b))
        self.assertEqual(self.ran("ran"), [b])  # once
        self.assertEqual(self.ran("end"), [a])


if __name__ == "__main__":
    unittest.main()
