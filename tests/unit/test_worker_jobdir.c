/* test_worker_jobdir.c - the attempt dir on disk: names, the result file
 * round trip and its checked record, the pid/started files, spare dirs, telling our orphaned process group
 * from a reused pid, the restart scan and recovery (orphans killed and
 * reported lost), and removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobdir.h"
#include "util.h"
#include "tmpdir_fixture.h"

TMPDIR_FIXTURE ("jobdir")

static void
write_file (const char *dir, const char *name, const char *text)
{
    char p[PATH_MAX];
    assert_true (snprintf (p, sizeof p, "%s/%s", dir, name) < (int)sizeof p);
    int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
    close (fd);
}

static char *
read_file (const char *dir, const char *name)
{
    static char buf[8192];
    char p[PATH_MAX];
    assert_true (snprintf (p, sizeof p, "%s/%s", dir, name) < (int)sizeof p);
    int fd = open (p, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read (fd, buf, sizeof buf - 1);
    close (fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static int
count_entries (const char *dir)
{
    DIR *d = opendir (dir);
    assert_non_null (d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)))
        if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
            n++;
    closedir (d);
    return n;
}

static bool
exists (const char *path)
{
    struct stat st;
    return lstat (path, &st) == 0;
}

/* A process that leads its own group, as a job does.  With a member, the
 * leader forks a member and exits, leaving a leaderless group whose id is
 * returned.  Reap it with reap(). */
static pid_t
spawn_group (bool leaderless)
{
    int pfd[2];
    assert_int_equal (pipe (pfd), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        setsid ();
        close (pfd[0]);
        if (leaderless) {
            pid_t m = fork ();
            if (m == 0) {
                close (pfd[1]);
                execl ("/bin/sleep", "sleep", "30", (char *)NULL);
                _exit (127);
            }
            /* tell the parent the member exists, then leave it */
            (void)!write (pfd[1], "x", 1);
            _exit (0);
        }
        (void)!write (pfd[1], "x", 1);
        close (pfd[1]);
        execl ("/bin/sleep", "sleep", "30", (char *)NULL);
        _exit (127);
    }
    close (pfd[1]);
    char c;
    assert_int_equal (read (pfd[0], &c, 1), 1);
    close (pfd[0]);
    if (leaderless)
        assert_int_equal (waitpid (pid, NULL, 0), pid);
    return pid;
}

static void
test_names (void **state)
{
    (void)state;
    uint64_t id;
    uint32_t at;
    assert_int_equal (jobdir_name_parse ("42.3", &id, &at), 0);
    assert_int_equal (id, 42);
    assert_int_equal (at, 3);
    assert_int_equal (
        jobdir_name_parse ("18446744073709551615.4294967295", &id, &at), 0);
    const char *bad[]
        = { "42",           "42.", ".3",         "0.1",   "1.0",  "042.3",
            "4.03",         "a.1", "1.b",        "1.2.3", "-1.2", "1.+2",
            "1.4294967296", "",    ".trash-1.1", "1 .1",  NULL };
    for (int i = 0; bad[i]; i++)
        assert_int_equal (jobdir_name_parse (bad[i], &id, &at), -EINVAL);
    char buf[64];
    assert_int_equal (jobdir_path (buf, sizeof buf, "/w/jobs", 42, 3), 0);
    assert_string_equal (buf, "/w/jobs/42.3");
    assert_int_equal (jobdir_path (buf, 8, "/w/jobs", 42, 3), -ENAMETOOLONG);
}

static void
test_result_round_trip (void **state)
{
    (void)state;
    struct jobdir_result r = {
        .reason = YARD__END_REASON__END_SIGNALED,
        .exit_code = 0,
        .term_signal = 9,
        .start_time_ms = 1700000000123,
        .end_time_ms = 1700000009999,
        .log_size = 123456789012ull,
    };
    snprintf (r.message, sizeof r.message, "killed by signal 9 (Killed)");
    struct jobdir_result got;
    assert_int_equal (jobdir_result_read (tmp, 7, 2, &got), -ENOENT);
    assert_int_equal (jobdir_result_write (tmp, 7, 2, &r), 0);
    assert_int_equal (jobdir_result_read (tmp, 7, 2, &got), 0);
    assert_int_equal (got.reason, r.reason);
    assert_int_equal (got.exit_code, r.exit_code);
    assert_int_equal (got.term_signal, r.term_signal);
    assert_int_equal (got.start_time_ms, r.start_time_ms);
    assert_int_equal (got.end_time_ms, r.end_time_ms);
    assert_int_equal (got.log_size, r.log_size);
    assert_string_equal (got.message, r.message);
    /* it is a packed JobFinished naming its attempt */
    assert_int_equal (jobdir_result_read (tmp, 7, 3, &got), -EBADMSG);
    assert_int_equal (jobdir_result_read (tmp, 8, 2, &got), -EBADMSG);
    /* one file, written in place: no temp file */
    assert_int_equal (count_entries (tmp), 1);
    /* garbage is refused, not trusted */
    write_file (tmp, JOBDIR_RESULT, "\xff\xff\xff\xff garbage");
    assert_int_equal (jobdir_result_read (tmp, 7, 2, &got), -EBADMSG);
}

/* The record is checked: a torn one (a crash in the middle of its write)
 * is unreadable, a spare dir's marker reads as no result, and an older
 * worker's bare message is still read. */
static void
test_result_record (void **state)
{
    (void)state;
    struct jobdir_result r = { .reason = YARD__END_REASON__END_EXITED,
                               .exit_code = 3 };
    snprintf (r.message, sizeof r.message, "a message long enough to tear");
    struct jobdir_result got;
    char p[PATH_MAX];
    struct stat st;
    snprintf (p, sizeof p, "%s/" JOBDIR_RESULT, tmp);
    assert_int_equal (jobdir_result_write (tmp, 7, 2, &r), 0);
    assert_int_equal (stat (p, &st), 0);
    assert_int_equal (st.st_size, 4096); /* fixed: a rewrite keeps it */
    ino_t ino = st.st_ino;
    r.exit_code = 4;
    assert_int_equal (jobdir_result_write (tmp, 7, 2, &r), 0);
    assert_int_equal (stat (p, &st), 0);
    assert_int_equal (st.st_ino, ino);
    assert_int_equal (jobdir_result_read (tmp, 7, 2, &got), 0);
    assert_int_equal (got.exit_code, 4);
    /* saved without a sync, then synced: the same record, same file */
    r.exit_code = 5;
    assert_int_equal (jobdir_result_save (tmp, 7, 2, &r), 0);
    assert_int_equal (jobdir_result_read (tmp, 7, 2, &got), 0);
    assert_int_equal (got.exit_code, 5);
    assert_int_equal (jobdir_result_sync (tmp), 0);
    assert_int_equal (stat (p, &st), 0);
    assert_int_equal (st.st_ino, ino);
    assert_int_equal (st.st_size, 4096);
    char none[PATH_MAX];
    snprintf (none, sizeof none, "%s/no-such-dir", tmp);
    assert_int_equal (jobdir_result_sync (none), -ENOENT);

    /* torn: a byte of the message differs from what the head says */
    int fd = open (p, O_RDWR);
    assert_true (fd >= 0);
    char c;
    assert_int_equal (pread (fd, &c, 1, 80), 1);
    c ^= 0x55;
    assert_int_equal (pwrite (fd, &c, 1, 80), 1);
    close (fd);
    assert_int_equal (jobdir_result_read (tmp, 7, 2, &got), -EBADMSG);

    /* a spare dir's: none yet */
    write_file (tmp, JOBDIR_RESULT, "\xffYR0 and what was there before");
    assert_int_equal (jobdir_result_read (tmp, 7, 2, &got), -ENOENT);

    /* an older worker's bare JobFinished */
    Yard__JobFinished m = YARD__JOB_FINISHED__INIT;
    m.job_id = 7;
    m.attempt = 2;
    m.reason = YARD__END_REASON__END_EXITED;
    m.exit_code = 5;
    uint8_t buf[256];
    size_t n = yard__job_finished__pack (&m, buf);
    fd = open (p, O_WRONLY | O_TRUNC);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, buf, n), (ssize_t)n);
    close (fd);
    assert_int_equal (jobdir_result_read (tmp, 7, 2, &got), 0);
    assert_int_equal (got.exit_code, 5);
}

/* A finished attempt's dir made a spare one: the same inodes, emptied;
 * an empty checkpoint dir kept, everything else gone. */
static void
test_recycle (void **state)
{
    (void)state;
    char d[PATH_MAX], p[PATH_MAX + 64];
    struct stat st;
    snprintf (d, sizeof d, "%s/9.1", tmp);
    assert_int_equal (mkdir (d, 0700), 0);
    write_file (d, JOBDIR_LOG, "hello\n");
    struct jobdir_started s = { .pid = getpid (), .start_time_ms = 1 };
    jobdir_started_identify (&s);
    assert_int_equal (jobdir_started_write (d, &s), 0);
    struct jobdir_result r = { .reason = YARD__END_REASON__END_EXITED };
    assert_int_equal (jobdir_result_write (d, 9, 1, &r), 0);
    write_file (d, "metrics", "x");
    snprintf (p, sizeof p, "%s/outputs", d);
    assert_int_equal (mkdir (p, 0700), 0);
    write_file (p, "model.bin", "weights");
    snprintf (p, sizeof p, "%s/" JOBDIR_SPARE_CKPT, d);
    assert_int_equal (mkdir (p, 0700), 0);
    ino_t inos[3];
    const char *kept[3] = { JOBDIR_LOG, JOBDIR_STARTED, JOBDIR_RESULT };
    for (int i = 0; i < 3; i++) {
        snprintf (p, sizeof p, "%s/%s", d, kept[i]);
        assert_int_equal (stat (p, &st), 0);
        inos[i] = st.st_ino;
    }

    assert_int_equal (jobdir_recycle (d), 0);
    assert_int_equal (count_entries (d), 4);
    for (int i = 0; i < 3; i++) {
        snprintf (p, sizeof p, "%s/%s", d, kept[i]);
        assert_int_equal (stat (p, &st), 0);
        assert_int_equal (st.st_ino, inos[i]);
    }
    snprintf (p, sizeof p, "%s/" JOBDIR_LOG, d);
    assert_int_equal (stat (p, &st), 0);
    assert_int_equal (st.st_size, 0);
    struct jobdir_started s2;
    assert_true (jobdir_started_read (d, &s2) < 0);
    struct jobdir_result got;
    assert_int_equal (jobdir_result_read (d, 9, 1, &got), -ENOENT);
    /* nothing of the last record is left in it */
    snprintf (p, sizeof p, "%s/" JOBDIR_RESULT, d);
    int fd = open (p, O_RDONLY);
    assert_true (fd >= 0);
    char rec[4096];
    assert_int_equal (read (fd, rec, sizeof rec), (ssize_t)sizeof rec);
    close (fd);
    for (size_t i = 4; i < sizeof rec; i++)
        assert_int_equal (rec[i], 0);
    snprintf (p, sizeof p, "%s/" JOBDIR_SPARE_CKPT, d);
    assert_true (jobdir_is_empty (p));

    /* the next attempt writes over them */
    assert_int_equal (jobdir_started_write (d, &s), 0);
    assert_int_equal (jobdir_started_read (d, &s2), 0);
    assert_int_equal (s2.pid, s.pid);
    assert_int_equal (jobdir_result_write (d, 10, 1, &r), 0);
    assert_int_equal (jobdir_result_read (d, 10, 1, &got), 0);

    /* what a job left in place of our files is never written through */
    char outside[PATH_MAX];
    snprintf (outside, sizeof outside, "%s/outside", tmp);
    write_file (tmp, "outside", "precious");
    snprintf (p, sizeof p, "%s/" JOBDIR_RESULT, d);
    assert_int_equal (unlink (p), 0);
    assert_int_equal (symlink (outside, p), 0);
    assert_int_equal (jobdir_result_write (d, 10, 1, &r), 0);
    assert_string_equal (read_file (tmp, "outside"), "precious");
    assert_int_equal (jobdir_result_read (d, 10, 1, &got), 0);
    snprintf (p, sizeof p, "%s/" JOBDIR_STARTED, d);
    assert_int_equal (unlink (p), 0);
    assert_int_equal (link (outside, p), 0);
    assert_int_equal (jobdir_started_write (d, &s), 0);
    assert_string_equal (read_file (tmp, "outside"), "precious");
    assert_int_equal (unlink (p), 0);
    assert_int_equal (symlink (outside, p), 0);
    assert_true (jobdir_recycle (d) < 0); /* the caller removes it then */
    assert_string_equal (read_file (tmp, "outside"), "precious");
    assert_int_equal (unlink (p), 0);

    /* a checkpoint dir that is not empty is not kept */
    snprintf (p, sizeof p, "%s/" JOBDIR_SPARE_CKPT, d);
    write_file (p, "ckpt-1", "state");
    assert_false (jobdir_is_empty (p));
    assert_int_equal (jobdir_recycle (d), 0);
    assert_false (exists (p));
}

static void
test_started_files (void **state)
{
    (void)state;
    struct jobdir_started s = { .pid = getpid (), .start_time_ms = 1234 };
    jobdir_started_identify (&s);
    assert_true (s.proc_start > 0);
    assert_true (strlen (s.boot_id) > 0);
    assert_int_equal (jobdir_started_write (tmp, &s), 0);
    /* one file: no pid file any more, no temp file left behind */
    char p[PATH_MAX];
    snprintf (p, sizeof p, "%s/" JOBDIR_PID, tmp);
    assert_int_equal (access (p, F_OK), -1);
    assert_int_equal (count_entries (tmp), 1);
    struct jobdir_started got;
    assert_int_equal (jobdir_started_read (tmp, &got), 0);
    assert_int_equal (got.pid, s.pid);
    assert_int_equal (got.start_time_ms, 1234);
    assert_int_equal (got.proc_start, s.proc_start);
    assert_string_equal (got.boot_id, s.boot_id);

    /* only a pid file (older worker, or a lost started file) */
    char want[32];
    snprintf (want, sizeof want, "%d\n", (int)getpid ());
    write_file (tmp, JOBDIR_PID, want);
    snprintf (p, sizeof p, "%s/" JOBDIR_STARTED, tmp);
    unlink (p);
    assert_int_equal (jobdir_started_read (tmp, &got), 0);
    assert_int_equal (got.pid, s.pid);
    assert_int_equal (got.proc_start, 0);
    write_file (tmp, JOBDIR_PID, "1\n");
    assert_int_equal (jobdir_started_read (tmp, &got), -EBADMSG);
    write_file (tmp, JOBDIR_PID, "12ab\n");
    assert_int_equal (jobdir_started_read (tmp, &got), -EBADMSG);
    snprintf (p, sizeof p, "%s/" JOBDIR_PID, tmp);
    unlink (p);
    assert_int_equal (jobdir_started_read (tmp, &got), -ENOENT);
}

static void
test_group_alive (void **state)
{
    (void)state;
    pid_t pid = spawn_group (false);
    struct jobdir_started s = { .pid = pid };
    jobdir_started_identify (&s);
    assert_true (jobdir_group_alive (&s));

    /* the pid now names another process: not ours */
    struct jobdir_started other = s;
    other.proc_start = s.proc_start + 1;
    assert_false (jobdir_group_alive (&other));
    /* another boot: nothing of ours survived it */
    snprintf (other.boot_id, sizeof other.boot_id, "not-this-boot");
    other.proc_start = s.proc_start;
    assert_false (jobdir_group_alive (&other));
    /* a process that does not lead its group (ourselves) */
    struct jobdir_started me = { .pid = getpid () };
    jobdir_started_identify (&me);
    if (getpgrp () != getpid ())
        assert_false (jobdir_group_alive (&me));

    kill (-pid, SIGKILL);
    assert_int_equal (waitpid (pid, NULL, 0), pid);
    assert_false (jobdir_group_alive (&s));
    struct jobdir_started none = { .pid = 0 };
    assert_false (jobdir_group_alive (&none));
}

static void
make_attempt (const char *root, const char *name, char *dir, size_t len)
{
    assert_true (snprintf (dir, len, "%s/%s", root, name) < (int)len);
    assert_int_equal (yard_mkdir_p (dir), 0);
}

static void
test_recover_with_result (void **state)
{
    (void)state;
    char dir[PATH_MAX];
    make_attempt (tmp, "5.1", dir, sizeof dir);
    write_file (dir, JOBDIR_LOG, "hello\n");
    struct jobdir_result r = { .reason = YARD__END_REASON__END_EXITED,
                               .exit_code = 3,
                               .log_size = 6,
                               .start_time_ms = 10,
                               .end_time_ms = 20 };
    snprintf (r.message, sizeof r.message, "exited with status 3");
    assert_int_equal (jobdir_result_write (dir, 5, 1, &r), 0);
    struct jobdir_result got;
    assert_int_equal (jobdir_recover (dir, 5, 1, "w1", &got), 0);
    assert_int_equal (got.reason, YARD__END_REASON__END_EXITED);
    assert_int_equal (got.exit_code, 3);
    assert_int_equal (got.log_size, 6);
    /* the log is not touched */
    assert_string_equal (read_file (dir, JOBDIR_LOG), "hello\n");
}

static void
test_recover_orphan (void **state)
{
    (void)state;
    char dir[PATH_MAX];
    make_attempt (tmp, "6.2", dir, sizeof dir);
    write_file (dir, JOBDIR_LOG, "step 1\n");
    pid_t pid = spawn_group (false);
    struct jobdir_started s = { .pid = pid, .start_time_ms = 1111 };
    jobdir_started_identify (&s);
    assert_int_equal (jobdir_started_write (dir, &s), 0);

    struct jobdir_result got;
    assert_int_equal (jobdir_recover (dir, 6, 2, "w1", &got), 0);
    /* killed: we cannot supervise what is not our child */
    int status;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFSIGNALED (status));
    assert_int_equal (WTERMSIG (status), SIGKILL);
    assert_int_equal (got.reason, YARD__END_REASON__END_LOST);
    assert_string_equal (got.message, "worker restarted");
    assert_int_equal (got.start_time_ms, 1111);
    assert_true (got.end_time_ms > 0);
    const char *log = read_file (dir, JOBDIR_LOG);
    assert_non_null (strstr (log, "step 1\nyard-worker: attempt lost on "
                                  "node w1"));
    assert_int_equal (got.log_size, strlen (log));
    /* and the result is on disk: a second restart reads the same */
    struct jobdir_result again;
    assert_int_equal (jobdir_result_read (dir, 6, 2, &again), 0);
    assert_int_equal (again.reason, YARD__END_REASON__END_LOST);
    assert_int_equal (again.log_size, got.log_size);
}

static void
test_recover_orphan_leaderless (void **state)
{
    (void)state;
    char dir[PATH_MAX];
    make_attempt (tmp, "6.3", dir, sizeof dir);
    /* the leader exited; a child it left behind still runs */
    pid_t pgid = spawn_group (true);
    struct jobdir_started s = { .pid = pgid, .start_time_ms = 1 };
    assert_true (kill (-pgid, 0) == 0);
    assert_true (jobdir_group_alive (&s));
    assert_int_equal (jobdir_started_write (dir, &s), 0);
    struct jobdir_result got;
    assert_int_equal (jobdir_recover (dir, 6, 3, "w1", &got), 0);
    assert_int_equal (got.reason, YARD__END_REASON__END_LOST);
    assert_non_null (strstr (read_file (dir, JOBDIR_LOG), "was killed"));
}

static void
test_recover_never_started (void **state)
{
    (void)state;
    char dir[PATH_MAX];
    make_attempt (tmp, "6.4", dir, sizeof dir);
    struct jobdir_result got;
    assert_int_equal (jobdir_recover (dir, 6, 4, "w1", &got), 0);
    assert_int_equal (got.reason, YARD__END_REASON__END_LOST);
    assert_true (got.log_size > 0); /* the note */
}

struct seen {
    int count;
    uint64_t ids[8];
    uint32_t attempts[8];
};

static void
scan_cb (const char *dir, uint64_t job_id, uint32_t attempt, void *arg)
{
    struct seen *s = arg;
    char want[PATH_MAX];
    snprintf (want, sizeof want, "%s/jobs/%llu.%u", tmp,
              (unsigned long long)job_id, attempt);
    assert_string_equal (dir, want);
    assert_true (s->count < 8);
    s->ids[s->count] = job_id;
    s->attempts[s->count] = attempt;
    s->count++;
}

static void
test_scan (void **state)
{
    (void)state;
    char root[PATH_MAX], dir[PATH_MAX], trash[PATH_MAX];
    snprintf (root, sizeof root, "%s/jobs", tmp);
    assert_int_equal (jobdir_scan (root, scan_cb, NULL), -ENOENT);
    make_attempt (root, "1.1", dir, sizeof dir);
    make_attempt (root, "2.7", dir, sizeof dir);
    make_attempt (root, ".trash-3.1-999", trash, sizeof trash);
    write_file (trash, "junk", "x");
    make_attempt (root, "not-a-job", dir, sizeof dir);
    write_file (root, "4.1", "a file, not a dir");
    struct seen s = { 0 };
    assert_int_equal (jobdir_scan (root, scan_cb, &s), 2);
    assert_int_equal (s.count, 2);
    uint64_t sum = s.ids[0] + s.ids[1];
    assert_int_equal (sum, 3);
    assert_int_equal (s.attempts[0] + s.attempts[1], 8);
    /* interrupted removals are finished */
    assert_false (exists (trash));
    assert_true (exists (dir));
}

static void
test_trash_and_remove (void **state)
{
    (void)state;
    char dir[PATH_MAX], sub[PATH_MAX + 8], trash[PATH_MAX];
    make_attempt (tmp, "9.1", dir, sizeof dir);
    snprintf (sub, sizeof sub, "%s/a/b", dir);
    assert_int_equal (yard_mkdir_p (sub), 0);
    write_file (sub, "f", "data");
    write_file (dir, JOBDIR_LOG, "log");
    /* a job may leave read-only dirs and symlinks pointing out */
    char link[PATH_MAX + 8];
    snprintf (link, sizeof link, "%s/out", dir);
    assert_int_equal (symlink (tmp, link), 0);
    assert_int_equal (chmod (sub, 0500), 0);
    assert_int_equal (jobdir_trash (dir, trash, sizeof trash), 0);
    assert_false (exists (dir));
    assert_non_null (strstr (trash, "/" JOBDIR_TRASH_PREFIX "9.1-"));
    assert_int_equal (jobdir_remove_tree (trash), 0);
    assert_false (exists (trash));
    assert_true (exists (tmp)); /* the symlink was not followed */
    assert_int_equal (jobdir_remove_tree ("/nonexistent/yard"), 0);
}

static void
test_note_and_size (void **state)
{
    (void)state;
    assert_int_equal (jobdir_log_size (tmp), 0);
    assert_int_equal (jobdir_note (tmp, "hello %d", 42), 0);
    assert_string_equal (read_file (tmp, JOBDIR_LOG),
                         "yard-worker: hello 42\n");
    assert_int_equal (jobdir_log_size (tmp), 22);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_names),
        cmocka_unit_test_setup_teardown (test_result_round_trip, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_started_files, setup, teardown),
        cmocka_unit_test_setup_teardown (test_result_record, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_recycle, setup, teardown),
        cmocka_unit_test (test_group_alive),
        cmocka_unit_test_setup_teardown (test_recover_with_result, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_recover_orphan, setup, teardown),
        cmocka_unit_test_setup_teardown (test_recover_orphan_leaderless, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_recover_never_started, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_scan, setup, teardown),
        cmocka_unit_test_setup_teardown (test_trash_and_remove, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_note_and_size, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
