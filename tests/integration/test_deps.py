"""Pipelines: job dependencies (--after JOB[:ok|:any|:notok]) and job arrays
(--array A-B[:S][%K]), through the real CLI, including a scheduler killed
while a dependent waits."""
import os
import sys
import time

from harness import ClusterTest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import yard                                         # noqa: E402

# Appends "NAME" to the ledger $1 (after sleeping $2 s) and exits $3.
STEP = 'sleep "$2"; echo "$4" >> "$1"; exit "$3"'

# An array member: records "start IDX T" / "end IDX T" (append-only, each
# line one write(2) shorter than PIPE_BUF, so concurrent members never
# interleave), sleeping in between.
MEMBER = r'''
echo "start $YARD_ARRAY_INDEX $YARD_ARRAY_ID $(date +%s%N)" >> "$1"
sleep "$2"
echo "end $YARD_ARRAY_INDEX $YARD_ARRAY_ID $(date +%s%N)" >> "$1"
'''


class DepsTest(ClusterTest):

    def step(self, ledger, name, secs=0, code=0, opts=()):
        return self.cluster.submit("/bin/sh", "-c", STEP, "step", ledger,
                                   str(secs), str(code), name,
                                   opts=("--name", name) + tuple(opts))

    def test_chain_runs_in_order(self):
        c = self.cluster
        self.start_workers("w1", "w2", cpus=4)
        led = os.path.join(self.root, "chain")
        a = self.step(led, "A", secs=3)  # long enough to be seen waiting
        b = self.step(led, "B", opts=("--after", str(a)))
        cc = self.step(led, "C", opts=("--after", "%d:ok" % b))
        st = c.status(b)
        self.assertEqual(st["state"], "PENDING")
        self.assertIn("waiting for job %d" % a, st["reason"])
        self.assertIn("waiting for job %d" % a,
                      c.yard("queue").stdout.decode())
        self.assertEqual(c.wait(cc), 0)
        self.assertEqual(self.ledger(led), [["A"], ["B"], ["C"]])
        self.assertEqual(c.status(b)["state"], "COMPLETED")

    def test_failed_parent_cancels_the_chain(self):
        c = self.cluster
        self.start_workers("w1")
        led = os.path.join(self.root, "fail")
        a = self.step(led, "A", secs=1, code=3)
        b = self.step(led, "B", opts=("--after", "%d:ok" % a))
        cc = self.step(led, "C", opts=("--after", str(b)))
        nb = self.step(led, "notok", opts=("--after", "%d:notok" % a))
        an = self.step(led, "any", opts=("--after", "%d:any" % a))
        c.wait_state(cc, "CANCELLED")
        st = c.status(b)
        self.assertEqual(st["state"], "CANCELLED")
        self.assertIn("dependency on job %d can never be met (%d FAILED)"
                      % (a, a), st["reason"])
        self.assertIn("(%d CANCELLED)" % b, c.status(cc)["reason"])
        self.assertEqual(c.wait(nb), 0)
        self.assertEqual(c.wait(an), 0)
        self.assertEqual(sorted(self.ledger(led)), [["A"], ["any"],
                                                   ["notok"]])
        # a dependency already impossible at submit: accepted, cancelled
        d = self.step(led, "D", opts=("--after", "%d:ok" % a))
        c.wait_state(d, "CANCELLED")
        self.assertIn("(%d FAILED)" % a, c.status(d)["reason"])
        # and :notok on a job that completed
        e = self.step(led, "E", opts=("--after", "%d:notok" % nb))
        c.wait_state(e, "CANCELLED")
        self.assertIn("(%d COMPLETED)" % nb, c.status(e)["reason"])

    def test_long_cascade_and_doom_at_restart(self):
        c = self.cluster
        self.start_workers("w1")
        led = os.path.join(self.root, "cascade")
        a = self.step(led, "A", secs=3, code=1)
        # a long chain: the cancellations go through a worklist, in order
        chain = [a]
        for i in range(150):
            chain.append(self.step(led, "C%d" % i,
                                   opts=("--after", str(chain[-1]))))
        c.wait_state(chain[-1], "CANCELLED", timeout=30)
        for prev, j in zip(chain[1:], chain[2:]):
            self.assertIn("(%d CANCELLED)" % prev, c.status(j)["reason"])
        # a parent that fails while the scheduler is down: its dependent is
        # cancelled once the restarted scheduler has loaded its jobs
        a2 = self.step(led, "A2", secs=2, code=1)
        b2 = self.step(led, "B2", opts=("--after", str(a2)))
        ok2 = self.step(led, "OK2", opts=("--after", "%d:notok" % a2))
        c.wait_state(a2, "RUNNING")
        c.kill_scheduler()
        time.sleep(3)
        c.start_scheduler()
        c.wait_state(b2, "CANCELLED")
        self.assertIn("(%d FAILED)" % a2, c.status(b2)["reason"])
        self.assertEqual(c.wait(ok2), 0)
        self.assertEqual(self.ledger(led), [["A"], ["A2"], ["OK2"]])

    def test_unknown_dependency(self):
        c = self.cluster
        p = c.yard("submit", "--after", "99999", "--", "true", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no job 99999", p.stderr.decode())
        p = c.yard("submit", "--after", "1:maybe", "--", "true", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unknown condition", p.stderr.decode())

    def test_waiting_dependent_survives_scheduler_kill(self):
        c = self.cluster
        self.start_workers("w1")
        led = os.path.join(self.root, "kill")
        a = self.step(led, "A", secs=4)
        b = self.step(led, "B", opts=("--after", str(a)))
        c.wait_state(a, "RUNNING")
        c.kill_scheduler()
        c.start_scheduler()
        st = c.status(b)
        self.assertEqual(st["state"], "PENDING")
        self.assertEqual(c.wait(b), 0)
        self.assertEqual(self.ledger(led), [["A"], ["B"]])
        # X finished before the kill (read from the store at load), A2
        # while the scheduler was down (reported by its worker after)
        x = self.step(led, "X")
        a2 = self.step(led, "A2", secs=3)
        b2 = self.step(led, "B2", opts=("--after", "%d,%d:any" % (a2, x)))
        c.wait_state(x, "COMPLETED")
        c.wait_state(a2, "RUNNING")
        c.kill_scheduler()
        time.sleep(4)  # A2 ends meanwhile; the worker keeps its result
        c.start_scheduler()
        self.assertEqual(c.wait(b2), 0)
        self.assertEqual(self.ledger(led)[-3:], [["X"], ["A2"], ["B2"]])

    def test_array_with_limit(self):
        c = self.cluster
        self.start_workers("w1", "w2", cpus=8)
        led = os.path.join(self.root, "array")
        out = c.json("submit", "--array", "0-49%5", "--name", "arr", "--",
                     "/bin/sh", "-c", MEMBER, "member", led, "0.3")
        ids = out["ids"]
        self.assertEqual(len(ids), 50)
        self.assertEqual(out["id"], ids[0])
        self.assertEqual(ids, list(range(ids[0], ids[0] + 50)))
        st = c.status(ids[7])
        self.assertEqual(st["array_id"], ids[0])
        self.assertEqual(st["array_index"], 7)
        self.assertEqual(st["name"], "arr[7]")
        for j in ids:
            c.wait(j)
        states = {c.status(j)["state"] for j in ids}
        self.assertEqual(states, {"COMPLETED"})
        rows = self.ledger(led)
        starts = sorted(int(r[1]) for r in rows if r[0] == "start")
        self.assertEqual(starts, list(range(50)))  # each exactly once
        self.assertEqual({int(r[2]) for r in rows}, {ids[0]})
        events = sorted((int(r[3]), 0 if r[0] == "end" else 1) for r in rows)
        running = peak = 0
        for _, kind in events:
            running += 1 if kind else -1
            peak = max(peak, running)
        self.assertLessEqual(peak, 5)
        self.assertGreaterEqual(peak, 2)  # it did run in parallel
        # the plain output is the array id, one line
        p = c.yard("submit", "--array", "1-9:2", "--", "true")
        first = int(p.stdout.decode().strip())
        st = c.status(first + 4)
        self.assertEqual(st["array_index"], 9)
        # limits
        p = c.yard("submit", "--array", "0-100000", "--", "true", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("100000", p.stderr.decode())

    def test_array_member_cancel(self):
        c = self.cluster
        self.start_workers("w1")
        out = c.json("submit", "--array", "0-3%1", "--", "sleep", "30")
        ids = out["ids"]
        c.wait_state(ids[0], "RUNNING")
        st = c.status(ids[1])
        self.assertEqual(st["state"], "PENDING")
        c.yard("cancel", ids[2])
        self.assertEqual(c.status(ids[2])["state"], "CANCELLED")
        self.assertEqual(c.status(ids[1])["state"], "PENDING")
        c.yard("cancel", ids[0])
        c.wait_state(ids[1], "RUNNING")
        self.assertEqual(c.status(ids[3])["state"], "PENDING")
        text = c.yard("status", ids[0]).stdout.decode()
        self.assertIn("array:       %d index 0" % ids[0], text)
        self.assertIn("members:     %d-%d: 2 CANCELLED, 1 RUNNING, "
                      "1 PENDING" % (ids[0], ids[3]), text)
        st = c.status(ids[0])["array_states"]
        self.assertEqual((st["CANCELLED"], st["RUNNING"], st["PENDING"]),
                         (2, 1, 1))
        self.assertNotIn("array_states", c.status(ids[1]))
        # --array: every unfinished member
        p = c.yard("cancel", "--array", ids[0])
        self.assertIn("array %d-%d: 3 CANCELLED" % (ids[0], ids[3]),
                      p.stdout.decode())
        c.wait_state(ids[1], "CANCELLED")
        self.assertEqual(c.status(ids[3])["state"], "CANCELLED")
        p = c.yard("cancel", "--array", ids[1], check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no array %d" % ids[1], p.stderr.decode())

    def test_python_client(self):
        c = self.cluster
        self.start_workers("w1", cpus=4)
        led = os.path.join(self.root, "py")
        with yard.Client(c.client_ep) as y:
            ids = y.submit(["/bin/sh", "-c", MEMBER, "m", led, "0"],
                           name="py", array="0-5:2%2")
            self.assertEqual(len(ids), 3)
            last = y.submit(["/bin/sh", "-c", STEP, "s", led, "0", "0",
                             "last"], after=[(i, "ok") for i in ids] +
                            [ids[0]])
            self.assertEqual(y.wait(last, timeout=30)["state"], "COMPLETED")
            st = y.status(ids[2])
            self.assertEqual((st["array_id"], st["array_index"]),
                             (ids[0], 4))
            self.assertIsNone(y.status(last)["array_id"])
            with self.assertRaises(ValueError):
                y.submit(["true"], array="9-1")
            with self.assertRaises(ValueError):
                y.submit(["true"], after=[(ids[0], "maybe")])
        rows = self.ledger(led)
        self.assertEqual(rows[-1], ["last"])
        self.assertEqual(sorted(int(r[1]) for r in rows if r[0] == "start"),
                         [0, 2, 4])
