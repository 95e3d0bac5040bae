"""Kill -9 of the scheduler and of workers: no acknowledged job is lost,
running jobs are not interrupted by a scheduler restart, nothing runs twice,
and the jobs of a lost worker finish on another one."""
import os
import signal
import subprocess
import threading
import unittest

from harness import ClusterTest, wait_for, YARD_BIN


def job_script(ledger, seconds):
    return ('echo "start $YARD_JOB_ID $YARD_ATTEMPT $YARD_NODE" >> %s; '
            'sleep %s; echo "end $YARD_JOB_ID $YARD_ATTEMPT $YARD_NODE" >> %s'
            % (ledger, seconds, ledger))


class SchedulerCrashTest(ClusterTest):

    def test_kill9_with_jobs_queued_and_running(self):
        c = self.cluster
        self.start_workers("w1", "w2")
        ledger = os.path.join(self.root, "ledger")
        jobs = [c.submit("sh", "-c", job_script(ledger, 2)) for _ in range(12)]

        def running():
            return [j["id"] for j in c.json("queue")
                    if j["state"] == "RUNNING"]
        first = wait_for(lambda: len(running()) == 4 and running(),
                         what="4 running jobs")
        c.kill_scheduler()
        # jobs keep running and finish while the scheduler is down
        wait_for(lambda: any(l[0] == "end" for l in self.ledger(ledger)),
                 30, "a job to finish during the outage")
        c.start_scheduler()
        for j in jobs:
            self.assertEqual(c.wait(j), 0, "job %d" % j)
        lines = self.ledger(ledger)
        for j in jobs:
            starts = [l for l in lines if l[0] == "start" and int(l[1]) == j]
            ends = [l for l in lines if l[0] == "end" and int(l[1]) == j]
            self.assertEqual(len(starts), 1, "job %d started %s" % (j, starts))
            self.assertEqual(len(ends), 1, "job %d ended %s" % (j, ends))
            self.assertEqual(starts[0][2], "1")
        for j in first:
            st = c.status(j)
            self.assertEqual(st["state"], "COMPLETED")
            self.assertEqual(st["attempt"], 1)

    def test_kill9_with_a_job_dispatched_not_started(self):
        # The dispatch writes the attempt's row only (scheduler/store.c):
        # a restart must read the job as ASSIGNED on its node, not PENDING,
        # and the job must run once.  The worker is stopped so that the job
        # stays dispatched and unstarted across the restart.
        c = self.cluster
        self.start_workers("w1")
        ledger = os.path.join(self.root, "ledger")
        w1 = c.workers["w1"].proc
        w1.send_signal(signal.SIGSTOP)
        try:
            job = c.submit("sh", "-c", job_script(ledger, 0))
            wait_for(lambda: c.status(job)["state"] == "ASSIGNED", 10,
                     "the job dispatched")
            c.kill_scheduler()
            c.start_scheduler()
            st = c.status(job)
            self.assertEqual(st["state"], "ASSIGNED")
            self.assertEqual(st["node"], "w1")
            self.assertEqual(st["attempt"], 1)
            self.assertEqual(st["reason"], "")
        finally:
            w1.send_signal(signal.SIGCONT)
        self.assertEqual(c.wait(job), 0)
        starts = [l for l in self.ledger(ledger) if l[0] == "start"]
        self.assertEqual(len(starts), 1, starts)

    def test_acknowledged_submissions_survive_kill9(self):
        c = self.cluster
        acked = []
        stop = threading.Event()
        env = dict(os.environ, YARD_SCHEDULER=c.client_ep)

        def submitter():
            while not stop.is_set():
                p = subprocess.run([YARD_BIN, "--timeout", "2s", "submit",
                                    "--", "true"], env=env,
                                   capture_output=True)
                if p.returncode == 0:
                    acked.append(int(p.stdout))
                elif p.returncode == 3:
                    return      # scheduler gone
                else:
                    raise AssertionError(p.stderr)
        t = threading.Thread(target=submitter)
        t.start()
        wait_for(lambda: len(acked) >= 25, 60, "25 acknowledged submissions")
        c.kill_scheduler()
        stop.set()
        t.join(30)
        c.start_scheduler()
        for j in acked:
            self.assertEqual(c.status(j)["state"], "PENDING", "job %d" % j)
        self.start_workers("w1")
        for j in acked:
            self.assertEqual(c.wait(j), 0)
            self.assertEqual(c.status(j)["attempt"], 1)


    def test_submit_many_survives_kill9(self):
        """yard submit-many: every job printed is committed, under its own
        line's spec; a refused line fails alone."""
        c = self.cluster
        lines = ["# a sweep", ""]
        for i in range(300):
            lines.append("--name 'step %d' --env I=%d -- sh -c 'exit 0' %d"
                         % (i, i, i))
        lines.insert(50, "--gpus 99 -- true")       # refused by the scheduler
        lines.insert(100, "--no-such-option -- true")  # refused here
        p = c.yard("submit-many", check=False,
                   input=("\n".join(lines) + "\n").encode())
        self.assertEqual(p.returncode, 1, p.stderr)
        out = p.stdout.decode().split("\n")[:-1]
        self.assertEqual(len(out), 302)
        err = p.stderr.decode()
        self.assertIn("line 51: gpus 99 is out of range", err)
        self.assertIn("line 101: unknown option '--no-such-option'", err)
        self.assertEqual(out[48], "-")
        self.assertEqual(out[98], "-")
        ids = [int(x) for x in out if x != "-"]
        self.assertEqual(len(set(ids)), 300)
        c.kill_scheduler()
        c.start_scheduler()
        queued = {j["id"]: j for j in c.json("queue")}
        self.assertEqual(sorted(queued), sorted(ids))
        for i, job in enumerate(ids):
            self.assertEqual(queued[job]["name"], "step %d" % i)
            self.assertEqual(queued[job]["state"], "PENDING")
        st = c.status(ids[123])
        self.assertEqual(st["env"], {"I": "123"})
        self.assertEqual(st["argv"], ["sh", "-c", "exit 0", "123"])


class WorkerCrashTest(ClusterTest):

    def test_kill9_worker_requeues_on_other(self):
        c = self.cluster
        self.start_workers("w1", "w2")
        ledger = os.path.join(self.root, "ledger")
        jobs = [c.submit("sh", "-c", job_script(ledger, 1),
                         opts=("--cpus", "2")) for _ in range(2)]
        for j in jobs:
            c.wait_state(j, "RUNNING")
        victim = c.status(jobs[0])["node"]
        other = "w2" if victim == "w1" else "w1"
        c.kill_worker(victim)
        for j in jobs:
            self.assertEqual(c.wait(j), 0)
        st = c.status(jobs[0])
        self.assertEqual(st["node"], other)
        self.assertEqual(st["attempt"], 2)
        nodes = {n["name"]: n["state"] for n in c.json("nodes")}
        self.assertEqual(nodes[victim], "DOWN")
        self.assertEqual(nodes[other], "UP")

    def test_worker_restart_reports_finished_jobs(self):
        """A job that ends while its worker is down is reported once the
        worker is back, and not run again."""
        c = self.cluster
        self.start_workers("w1")
        ledger = os.path.join(self.root, "ledger")
        job = c.submit("sh", "-c", job_script(ledger, 0))
        self.assertEqual(c.wait(job), 0)
        c.stop()
        self.assertEqual(len(self.ledger(ledger)), 2)


class WorkerShutdownTest(ClusterTest):
    """A worker stopped with SIGTERM says goodbye: its jobs are requeued as
    soon as it has stopped them, and its name is free again at once (the
    worker timeout here is far longer than the test may take)."""

    worker_timeout = "120s"

    def test_sigterm_worker_requeues_at_once(self):
        c = self.cluster
        self.start_workers("w1", "w2")
        ledger = os.path.join(self.root, "ledger")
        job = c.submit("sh", "-c", 'echo "start $YARD_ATTEMPT $YARD_NODE" '
                       '>> %s; exec sleep 300' % ledger)
        c.wait_state(job, "RUNNING")
        # RUNNING means spawned: the script must have written its line
        # before its worker stops it
        wait_for(lambda: len(self.ledger(ledger)) == 1, 30,
                 "attempt 1 to write its start line")
        first = c.status(job)["node"]
        other = "w2" if first == "w1" else "w1"
        self.assertEqual(c.workers.pop(first).stop(), 0)
        st = wait_for(lambda: (lambda s: s["state"] == "RUNNING"
                               and s["attempt"] == 2 and s)(c.status(job)),
                      30, "attempt 2 running")
        self.assertEqual(st["node"], other)
        nodes = {n["name"]: n["state"] for n in c.json("nodes")}
        self.assertEqual(nodes[first], "DOWN")
        # the name is free again at once
        c.start_worker(first)
        c.wait_nodes_up([first], timeout=30)
        # RUNNING means spawned: wait for the script itself to have run
        wait_for(lambda: len(self.ledger(ledger)) == 2, 30,
                 "attempt 2 to write its start line")
        c.yard("cancel", job)
        self.assertEqual(c.wait(job), 125)
        self.assertEqual([l[:2] for l in self.ledger(ledger)],
                         [["start", "1"], ["start", "2"]])



class GroupCommitTest(ClusterTest):
    """--sync full: commits are fdatasync'd by a thread of their own, and
    nothing is answered before its sync returned."""

    def test_failed_sync_acknowledges_nothing_and_exits(self):
        c = self.cluster
        first = c.submit("true")   # acknowledged: synced
        # The WAL's name now leads nowhere (a symbolic link to itself), so
        # the next sync fails (ELOOP) as a failing disk would; SQLite keeps
        # writing through the descriptor it has.
        wal = os.path.join(c.state_dir, "state.db-wal")
        os.rename(wal, wal + ".aside")
        os.symlink("state.db-wal", wal)
        p = c.yard("--timeout", "3s", "submit", "--", "true", check=False)
        self.assertNotEqual(p.returncode, 0, "acknowledged: %s" % p.stdout)
        wait_for(lambda: not c.scheduler.alive(), 10, "the scheduler to exit")
        self.assertEqual(c.scheduler.proc.returncode, 1)
        self.assertIn("cannot make the state store durable",
                      c.tail("scheduler.log"))
        # SQLite's close moved its log into the database and removed the
        # name; what was acknowledged is there after a restart
        if os.path.lexists(wal):
            os.unlink(wal)
        c.old_daemons.append(c.scheduler)
        c.start_scheduler()
        self.assertEqual(c.status(first)["state"], "PENDING")

    def test_sync_normal_survives_kill9(self):
        """--sync normal answers right after the commit (no sync thread):
        what it acknowledged survives a crash of the process, and the
        WAL trick above does not stop it."""
        c = self.cluster
        c.kill_scheduler()
        c.start_scheduler(extra=("--sync", "normal"))
        wal = os.path.join(c.state_dir, "state.db-wal")
        os.rename(wal, wal + ".aside")
        os.symlink("state.db-wal", wal)
        jobs = [c.submit("true") for _ in range(5)]
        self.assertTrue(c.scheduler.alive())
        c.kill_scheduler()
        # the log SQLite wrote through its descriptor is the WAL again
        os.unlink(wal)
        os.rename(wal + ".aside", wal)
        c.start_scheduler()
        for j in jobs:
            self.assertEqual(c.status(j)["state"], "PENDING", "job %d" % j)


if __name__ == "__main__":
    unittest.main()
