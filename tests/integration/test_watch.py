"""`yard watch`: one update per change with --json and plain lines when
stdout is not a terminal, the latest metrics, a step rate and an ETA from
{"total_steps": N}, resource use, and the job's exit status at the end."""
import json
import unittest

from harness import ClusterTest

# 40 steps over ~4 s, total_steps announced first; exits with argv[1]
TRAINER = r'''
import os, sys, time
fd = int(os.environ["YARD_METRICS_FD"])
os.write(fd, b'{"total_steps": 40}\n')
for s in range(1, 41):
    time.sleep(0.1)
    os.write(fd, b'{"step": %d, "loss": %f}\n' % (s, 1.0 / s))
sys.exit(int(sys.argv[1]))
'''


class WatchTest(ClusterTest):

    def test_json_updates_until_end(self):
        c = self.cluster
        self.start_workers("w1")
        job = c.submit("/usr/bin/python3", "-c", TRAINER, "3")
        p = c.yard("watch", "--json", "--interval", "300ms", job,
                   check=False, timeout=60)
        self.assertEqual(p.returncode, 3, p.stderr)
        ups = [json.loads(l) for l in p.stdout.decode().splitlines()]
        self.assertGreaterEqual(len(ups), 3, ups)
        # one object per change: no two consecutive updates alike
        for a, b in zip(ups, ups[1:]):
            self.assertNotEqual(
                {k: v for k, v in a.items() if k not in ("time_ms",
                                                          "elapsed_ms")},
                {k: v for k, v in b.items() if k not in ("time_ms",
                                                          "elapsed_ms")})
        last = ups[-1]
        self.assertEqual(last["id"], job)
        self.assertEqual(last["state"], "FAILED")
        self.assertEqual(last["exit_code"], 3)
        self.assertEqual(last["step"], 40)
        self.assertEqual(last["total_steps"], 40)
        self.assertAlmostEqual(last["metrics"]["loss"], 1.0 / 40, places=5)
        running = [u for u in ups if u["state"] == "RUNNING"]
        self.assertTrue(running, ups)
        rated = [u for u in running if u["steps_per_s"]]
        self.assertTrue(rated, running)
        # ~10 steps/s; loose bounds for a loaded machine
        self.assertTrue(1 < rated[-1]["steps_per_s"] < 50, rated[-1])
        self.assertIsNotNone(rated[-1]["eta_s"])
        self.assertEqual(running[-1]["attempt"], 1)
        self.assertEqual(running[-1]["node"], "w1")

    def test_plain_lines(self):
        c = self.cluster
        self.start_workers("w1")
        job = c.submit("/usr/bin/python3", "-c", TRAINER, "0")
        p = c.yard("watch", "--interval", "300ms", job, check=False,
                   timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.decode().splitlines()
        self.assertTrue(lines)
        self.assertNotIn("\033", p.stdout.decode())  # no terminal codes
        self.assertIn("job %d COMPLETED" % job, lines[-1])
        self.assertIn("step 40/40", lines[-1])
        self.assertIn("loss=0.025", lines[-1])

    def test_finished_job_and_errors(self):
        c = self.cluster
        self.start_workers("w1")
        job = c.submit("/bin/true")
        self.assertEqual(c.wait(job), 0)
        p = c.yard("watch", "--json", job, check=False)
        self.assertEqual(p.returncode, 0)
        ups = [json.loads(l) for l in p.stdout.decode().splitlines()]
        self.assertEqual(len(ups), 1)
        self.assertEqual(ups[0]["state"], "COMPLETED")
        p = c.yard("watch", "999999", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("999999", p.stderr.decode())
        p = c.yard("watch", "--interval", "5ms", job, check=False)
        self.assertEqual(p.returncode, 2)
        p = c.yard("watch", "--help")
        self.assertIn("total_steps", p.stdout.decode())


if __name__ == "__main__":
    unittest.main()
