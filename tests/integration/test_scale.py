"""200 queued jobs across 2 workers all complete exactly once."""
import os
import unittest

from harness import ClusterTest


class ScaleTest(ClusterTest):

    def test_200_jobs_exactly_once(self):
        c = self.cluster
        self.start_workers("w1", "w2")
        ledger = os.path.join(self.root, "ledger")
        jobs = [c.submit("sh", "-c", 'echo "$YARD_JOB_ID $YARD_ATTEMPT '
                         '$YARD_NODE" >> ' + ledger) for _ in range(200)]
        self.assertEqual(len(set(jobs)), 200)
        for j in jobs:
            self.assertEqual(c.wait(j), 0, "job %d" % j)
        lines = self.ledger(ledger)
        self.assertEqual(len(lines), 200)
        self.assertEqual(sorted(int(l[0]) for l in lines), sorted(jobs))
        self.assertTrue(all(l[1] == "1" for l in lines))
        nodes = {l[2] for l in lines}
        self.assertEqual(nodes, {"w1", "w2"})
        done = [j for j in c.json("queue", "--all", "--limit", "1000")
                if j["state"] == "COMPLETED"]
        self.assertEqual(len(done), 200)


if __name__ == "__main__":
    unittest.main()
