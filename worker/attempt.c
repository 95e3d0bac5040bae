/* attempt.c - one attempt's process and files (see attempt.h).
 *
 * Design note.  The job is spawned with UV_PROCESS_DETACHED, so it calls
 * setsid() and leads a new session and process group whose id is its pid:
 * every signal goes to the whole group (kill(-pid)), a terminal hangup or a
 * worker crash does not reach it, and a scheduler outage does not touch it.
 * Its stdout and stderr are both the one output.log, opened here with
 * O_APPEND so that the interleaving is the order of the writes and nothing
 * we append (notes) overwrites the job's bytes.  Every descriptor we open is
 * O_CLOEXEC: a job must not inherit the worker's lock or sockets (a job that
 * held the lock fd would keep a restarted worker out of its own dir).
 */
#include "attempt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bind.h"
#include "jobenv.h"
#include "log.h"
#include "nvml.h"
#include "spawn.h"
#include "util.h"

extern char **environ;

_Static_assert (METRICS_CHILD_FD == 3, "YARD_METRICS_FD is set to \"3\"");

/* uv timers take milliseconds in a uint64_t; a hundred years is forever */
#define LIMIT_MAX_S (100ull * 365 * 86400)

/* Format a message; a long one is cut, which is fine for a message. */
static void msgf (char *buf, size_t len, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void
msgf (char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, len, fmt, ap);
    va_end (ap);
}

static void
handle_closed (uv_handle_t *h)
{
    struct attempt *a = h->data;
    if (--a->open_handles == 0)
        free (a);
}

struct attempt *
attempt_create (const struct attempt_host *host, uint64_t job_id, uint32_t num)
{
    struct attempt *a = calloc (1, sizeof *a);
    if (!a)
        return NULL;
    a->host = host;
    a->job_id = job_id;
    a->num = num;
    a->state = ATTEMPT_NEW;
    a->log_wfd = a->log_rfd = -1;
    a->pidfd = -1;
    a->grace_s = ATTEMPT_GRACE_DEFAULT_S;
    logship_init (&a->ship);
    if (jobdir_path (a->dir, sizeof a->dir, host->jobs_root, job_id, num)
        < 0) {
        free (a);
        errno = ENAMETOOLONG;
        return NULL;
    }
    uv_timer_init (host->loop, &a->limit_timer);
    uv_timer_init (host->loop, &a->kill_timer);
    a->limit_timer.data = a->kill_timer.data = a;
    a->open_handles = 2;
    return a;
}

/* Append "yard-worker: <line>" to the log, for people reading `yard logs`. */
static void note (struct attempt *a, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void
note (struct attempt *a, const char *fmt, ...)
{
    if (a->log_wfd < 0)
        return;
    char line[1024];
    int n = snprintf (line, sizeof line, "yard-worker: ");
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end (ap);
    size_t len = strlen (line);
    line[len++] = '\n';
    if (write (a->log_wfd, line, len) < 0)
        log_debug ("job %" PRIu64 ".%" PRIu32 ": cannot write to its log: %s",
                   a->job_id, a->num, strerror (errno));
}

static uint64_t
log_fd_size (int fd)
{
    struct stat st;
    if (fd < 0 || fstat (fd, &st) < 0)
        return 0;
    return (uint64_t)st.st_size;
}

static void
close_fd (int *fd)
{
    if (*fd >= 0) {
        close (*fd);
        *fd = -1;
    }
}

/* Fix the result, persist it, and close what only a live attempt needs. */
static void
finish (struct attempt *a)
{
    struct jobdir_result *r = &a->result;
    r->end_time_ms = yard_now_ms ();
    /* an attempt that never started (refused, given back, killed while
     * staging) has no start: the scheduler would take one as a run */
    if (r->start_time_ms == 0)
        r->start_time_ms = a->start_time_ms;
    close_fd (&a->log_wfd);
    r->log_size = log_fd_size (a->log_rfd);
    if (a->has_dir) {
        /* durable later, if it is not acknowledged at once (jobdir.h) */
        int rc = jobdir_result_save (a->dir, a->job_id, a->num, r);
        if (rc < 0)
            log_err ("job %" PRIu64 ".%" PRIu32 ": cannot save its result "
                     "in %s: %s (it is kept in memory only)",
                     a->job_id, a->num, a->dir, strerror (-rc));
    }
    a->state = ATTEMPT_ENDED;
}

/* End a NEW attempt: message goes to the result and the log, detail (may
 * be NULL) to the log only. */
static void
end_unstarted (struct attempt *a, Yard__EndReason reason, int32_t exit_code,
               const char *message, const char *detail)
{
    if (a->state != ATTEMPT_NEW)
        return;
    memset (&a->result, 0, sizeof a->result);
    a->result.reason = reason;
    a->result.exit_code = exit_code;
    msgf (a->result.message, sizeof a->result.message, "%s", message);
    /* the log is where users look first: make sure the reason is there */
    if (a->log_wfd < 0 && a->has_dir) {
        char path[PATH_MAX];
        if (snprintf (path, sizeof path, "%s/" JOBDIR_LOG, a->dir)
            < (int)sizeof path)
            a->log_wfd
                = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (a->log_rfd < 0)
            a->log_rfd = open (path, O_RDONLY | O_CLOEXEC);
    }
    note (a, "%s", message);
    if (detail)
        note (a, "%s", detail);
    log_warn ("job %" PRIu64 ".%" PRIu32 ": not started: %s", a->job_id,
              a->num, message);
    finish (a);
}

void
attempt_refuse (struct attempt *a, Yard__EndReason reason, int32_t exit_code,
                const char *message)
{
    end_unstarted (a, reason, exit_code, message, NULL);
}

static const char *
reason_text (struct attempt *a, Yard__EndReason reason, char *buf, size_t len)
{
    char d[32];
    switch (reason) {
    case YARD__END_REASON__END_TIMEOUT:
        msgf (buf, len, "time limit of %s reached",
              yard_format_duration ((int64_t)a->time_limit_s * 1000, d,
                                    sizeof d));
        break;
    case YARD__END_REASON__END_CANCELLED:
        msgf (buf, len, "cancelled");
        break;
    case YARD__END_REASON__END_PREEMPTED:
        msgf (buf, len, "preempted (to be requeued)");
        break;
    case YARD__END_REASON__END_STALE:
        msgf (buf, len,
              "killed: attempt %" PRIu32 " is no longer the "
              "job's current attempt",
              a->num);
        break;
    case YARD__END_REASON__END_LOST:
        msgf (buf, len, "stopped: worker %s shut down", a->host->node);
        break;
    default:
        msgf (buf, len, "killed (%s)", yard_end_reason_name (reason));
        break;
    }
    return buf;
}

bool
attempt_usage_begin (struct attempt *a, struct usage *s)
{
    memset (s, 0, sizeof *s);
    if (a->state != ATTEMPT_RUNNING || a->pid <= 0)
        return false;
    s->peak_rss_bytes = a->usage.peak_rss_bytes;
    s->gpu_peak_memory_bytes = a->usage.gpu_peak_memory_bytes;
    /* no cgroup, or v1 groups that do not count both CPU and memory */
    return bind_usage (a->bind, s) < 0 || !s->has_cpu || !s->has_rss;
}

void
attempt_usage_end (struct attempt *a, struct usage *s,
                   const struct usage *proc)
{
    if (a->state != ATTEMPT_RUNNING || a->pid <= 0)
        return;
    if (proc)
        usage_merge (s, proc);
    if (nvml_sample (bind_gpus (a->bind), s) == 0) {
        a->gpu_util_sum += s->gpu_util_pct;
        a->gpu_util_samples++;
    }
    s->time_ms = yard_now_ms ();
    a->usage = *s;
}

/* What the ended attempt used: its cgroup (still there), the rusage
 * (the shim's, or ours from wait4), and what the last sample saw (GPU, peaks). */
static void
final_usage (struct attempt *a)
{
    struct usage f, r;
    char path[PATH_MAX];
    memset (&f, 0, sizeof f);
    memset (&r, 0, sizeof r);
    (void)bind_usage (a->bind, &f);
    if (!a->has_rusage && a->has_dir
        && snprintf (path, sizeof path, "%s/" JOBDIR_USAGE, a->dir)
               < (int)sizeof path
        && usage_read_rusage (path, &r) == 0)
        usage_merge (&f, &r);
    if (a->has_rusage) {
        memset (&r, 0, sizeof r);
        usage_from_rusage (&a->rusage, &r);
        usage_merge (&f, &r);
    }
    usage_merge (&f, &a->usage);
    f.rss_bytes = 0;
    f.gpu_memory_bytes = 0;
    /* the final record's utilisation is the mean over the attempt */
    f.gpu_util_pct = a->gpu_util_samples
                         ? (uint32_t)(a->gpu_util_sum / a->gpu_util_samples)
                         : 0;
    f.final = true;
    f.time_ms = yard_now_ms ();
    a->result.usage = f;
}

static void
ended (struct attempt *a, int64_t status, int term_signal)
{
    /* what is left of the group: children that outlived the leader */
    if (kill (-a->pid, SIGKILL) == 0)
        log_debug ("job %" PRIu64 ".%" PRIu32 ": killed stragglers of "
                   "process group %d",
                   a->job_id, a->num, a->pid);
    uv_timer_stop (&a->limit_timer);
    uv_timer_stop (&a->kill_timer);
    /* what the job wrote before it died is in the pipe: take it now */
    metrics_drain (a->metrics);

    /* The scheduler words the end itself from reason, exit_code and
     * term_signal ("exited with status 3", "cancelled by user", ...) and
     * appends the message: it carries only what it cannot know. */
    struct jobdir_result *r = &a->result;
    char what[256];
    memset (r, 0, sizeof *r);
    r->start_time_ms = a->start_time_ms;
    r->exit_code = (int32_t)status;
    r->term_signal = term_signal;
    if (a->kill_reason != YARD__END_REASON__END_NONE) {
        r->reason = a->kill_reason;
        reason_text (a, a->kill_reason, what, sizeof what);
        if (r->reason == YARD__END_REASON__END_LOST)
            msgf (r->message, sizeof r->message, "worker shut down");
        else if (r->reason == YARD__END_REASON__END_STALE)
            msgf (r->message, sizeof r->message,
                  "attempt %" PRIu32 " is no "
                  "longer the job's current attempt",
                  a->num);
    } else if (a->bind
               && bind_oom (a->bind, r->message, sizeof r->message)) {
        /* its memory cgroup killed it (or something in it) */
        r->reason = YARD__END_REASON__END_OOM;
        msgf (what, sizeof what, "%s", r->message);
    } else if (term_signal) {
        r->reason = YARD__END_REASON__END_SIGNALED;
        msgf (what, sizeof what, "killed by signal %d (%s)", term_signal,
              strsignal (term_signal));
    } else {
        r->reason = YARD__END_REASON__END_EXITED;
        msgf (what, sizeof what, "exited with status %d", (int)status);
    }
    final_usage (a);
    finish (a);
    bind_destroy (&a->bind); /* its cgroups: the job is over */
    log_info ("job %" PRIu64 ".%" PRIu32 ": pid %d ended: %s", a->job_id,
              a->num, a->pid, what);
    if (a->host->exit_cb)
        a->host->exit_cb (a, a->host->arg);
}

static void
exit_cb (uv_process_t *proc, int64_t status, int term_signal)
{
    ended (proc->data, status, term_signal);
}

/* The pidfd of a job from spawn_start is readable: it ended. */
static void
pid_poll_cb (uv_poll_t *p, int status, int events)
{
    struct attempt *a = p->data;
    (void)status;
    (void)events;
    int ws = 0;
    int rc = spawn_reap (a->pid, &ws, &a->rusage);
    if (rc == 0)
        return; /* not yet (or a poll error on a live one: wait on) */
    uv_poll_stop (p);
    if (rc < 0) {
        /* cannot happen: nobody else reaps it */
        log_err ("job %" PRIu64 ".%" PRIu32 ": cannot reap pid %d: %s",
                 a->job_id, a->num, a->pid, strerror (-rc));
        ended (a, 0, SIGKILL);
        return;
    }
    a->has_rusage = rc == 1;
    if (WIFSIGNALED (ws))
        ended (a, 0, WTERMSIG (ws));
    else
        ended (a, WIFEXITED (ws) ? WEXITSTATUS (ws) : 0, 0);
}

static void
pid_poll_closed (uv_handle_t *h)
{
    struct attempt *a = h->data;
    if (a->pidfd >= 0)
        close (a->pidfd);
    a->pidfd = -1;
    handle_closed (h);
}

static void
kill_timer_cb (uv_timer_t *t)
{
    struct attempt *a = t->data;
    if (a->state != ATTEMPT_RUNNING)
        return;
    log_info ("job %" PRIu64 ".%" PRIu32 ": grace period over, SIGKILL to "
              "process group %d",
              a->job_id, a->num, a->pid);
    note (a, "grace period over: sending SIGKILL");
    kill (-a->pid, SIGKILL);
}

void
attempt_kill (struct attempt *a, Yard__EndReason reason, uint32_t grace_s)
{
    char why[256];
    if (a->state != ATTEMPT_RUNNING
        || a->kill_reason != YARD__END_REASON__END_NONE)
        return;
    a->kill_reason = reason;
    reason_text (a, reason, why, sizeof why);
    int sig = a->stop_signal > 0 ? a->stop_signal : SIGTERM;
    const char *sname = sigabbrev_np (sig) ? sigabbrev_np (sig) : "?";
    log_info ("job %" PRIu64 ".%" PRIu32 ": %s: SIG%s to process group "
              "%d, SIGKILL in %" PRIu32 "s",
              a->job_id, a->num, why, sname, a->pid, grace_s);
    note (a, "%s: sending SIG%s, SIGKILL in %" PRIu32 "s", why, sname,
          grace_s);
    if (kill (-a->pid, sig) < 0 && errno != ESRCH)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": kill(-%d, SIG%s): %s",
                  a->job_id, a->num, a->pid, sname, strerror (errno));
    uv_timer_start (&a->kill_timer, kill_timer_cb, (uint64_t)grace_s * 1000,
                    0);
}

void
attempt_kill_now (struct attempt *a, Yard__EndReason reason)
{
    if (a->state != ATTEMPT_RUNNING)
        return;
    if (a->kill_reason == YARD__END_REASON__END_NONE)
        a->kill_reason = reason;
    uv_timer_stop (&a->kill_timer);
    kill (-a->pid, SIGKILL);
}

/* The limit timer fires twice when a warning is asked for: first
 * warn_seconds before the limit (warn_signal to the group, then re-armed
 * for the rest), then at the limit. */
static void
limit_timer_cb (uv_timer_t *t)
{
    struct attempt *a = t->data;
    if (a->warn_signal > 0 && !a->warned && a->state == ATTEMPT_RUNNING) {
        a->warned = true;
        const char *sname = sigabbrev_np (a->warn_signal);
        log_info ("job %" PRIu64 ".%" PRIu32 ": time limit in %" PRIu32
                  "s: SIG%s to process group %d", a->job_id, a->num,
                  a->warn_seconds, sname ? sname : "?", a->pid);
        note (a, "time limit in %" PRIu32 "s: sending SIG%s",
              a->warn_seconds, sname ? sname : "?");
        if (kill (-a->pid, a->warn_signal) < 0 && errno != ESRCH)
            log_warn ("job %" PRIu64 ".%" PRIu32 ": kill(-%d, %d): %s",
                      a->job_id, a->num, a->pid, a->warn_signal,
                      strerror (errno));
        uv_timer_start (&a->limit_timer, limit_timer_cb,
                        (uint64_t)a->warn_seconds * 1000, 0);
        return;
    }
    attempt_kill (a, YARD__END_REASON__END_TIMEOUT, a->grace_s);
}

/* Start the job with spawn_start (spawn.h): its cgroups and affinity
 * from a->bind, its end seen on a pidfd.  0 (a->pid set) or a negative
 * errno, as uv_spawn would say it. */
static int
spawn_direct (struct attempt *a, const char *file, char **argv, char **env,
              const char *cwd, int metrics_fd)
{
    struct spawn_opts o = {
        .file = file,
        .argv = argv,
        .env = env,
        .cwd = cwd,
        .out_fd = a->log_wfd,
        .err_fd = a->log_wfd,
        .fd3 = a->metrics ? metrics_fd : -1,
    };
    (void)bind_cgroup_dirs (a->bind, o.cgroups);
    cpu_set_t *set = NULL;
    int rc = bind_cpu_mask (a->bind, &set, &o.cpus_size);
    if (rc == -EXDEV)
        note (a, "warning: PUs %s are not all on this machine (a fixture "
              "topology?): running unbound", bind_cpus (a->bind));
    else if (rc < 0)
        note (a, "warning: cannot bind to PUs %s: %s: running unbound",
              bind_cpus (a->bind), strerror (-rc));
    o.cpus = set;
    pid_t pid;
    int fd;
    rc = spawn_start (&o, &pid, &fd);
    if (set)
        CPU_FREE (set);
    if (rc < 0)
        return rc;
    a->pid = pid;
    a->pidfd = fd;
    if ((rc = uv_poll_init (a->host->loop, &a->pid_poll, fd)) < 0) {
        /* cannot watch it: it must not run unsupervised */
        kill (-pid, SIGKILL);
        int ws;
        while (waitpid (pid, &ws, 0) < 0 && errno == EINTR)
            ;
        close (fd);
        a->pidfd = -1;
        a->pid = 0;
        return rc;
    }
    a->pid_poll.data = a;
    a->poll_used = true;
    a->open_handles++;
    uv_poll_start (&a->pid_poll, UV_READABLE, pid_poll_cb);
    return 0;
}

/* Why uv_spawn failed, in words, and the shell's exit code for it. */
static int32_t
spawn_error (struct attempt *a, const char *argv0, const char *path, int err,
             char *buf, size_t len)
{
    const char *node = a->host->node;
    char found[PATH_MAX];
    if (err == UV_ENOENT
        && jobenv_which (argv0, path, found, sizeof found) == 0) {
        /* execvp found the file, so what is missing is its interpreter */
        msgf (buf, len,
              "command '%s'%s%s%s could not be started on node %s: "
              "its interpreter (#! line) or a library was not found",
              argv0, strcmp (found, argv0) ? " (" : "",
              strcmp (found, argv0) ? found : "",
              strcmp (found, argv0) ? ")" : "", node);
        return 127;
    }
    if (err == UV_ENOENT) {
        msgf (buf, len, "command '%s' not found on node %s: %s%s", argv0, node,
              uv_strerror (err),
              strchr (argv0, '/') ? "" : " in the job's PATH");
        return 127;
    }
    if (err == UV_EACCES || err == UV_EPERM || err == -ENOEXEC
        || err == UV_EISDIR) {
        msgf (buf, len, "command '%s' cannot be executed on node %s: %s",
              argv0, node, uv_strerror (err));
        return 126;
    }
    msgf (buf, len, "command '%s' could not be started on node %s: %s", argv0,
          node, uv_strerror (err));
    return 126;
}

/* Refuse with a printf message; returns -code. */
static int refuse (struct attempt *a, int code, int32_t exit_code,
                   const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
static int
refuse (struct attempt *a, int code, int32_t exit_code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    attempt_refuse (a, YARD__END_REASON__END_SPAWN_FAILED, exit_code, msg);
    return code < 0 ? code : -code;
}

static int
open_log (struct attempt *a)
{
    char path[PATH_MAX];
    if (snprintf (path, sizeof path, "%s/" JOBDIR_LOG, a->dir)
        >= (int)sizeof path)
        return -ENAMETOOLONG;
    a->log_wfd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (a->log_wfd < 0)
        return -errno;
    a->log_rfd = open (path, O_RDONLY | O_CLOEXEC);
    if (a->log_rfd < 0) {
        int e = errno;
        close_fd (&a->log_wfd);
        return -e;
    }
    return 0;
}

/* The attempt dir: a spare one renamed (dirpool.h), else made (its
 * parent exists but for the first attempt after the work dir went).
 * 0 or a negative errno. */
static int
make_dir (struct attempt *a)
{
    if (a->has_dir)
        return 0;
    if (dirpool_take (a->host->pool, a->dir) < 0
        && mkdir (a->dir, 0700) < 0 && errno != EEXIST) {
        int rc = yard_mkdir_p (a->dir);
        if (rc < 0)
            return rc;
    }
    a->has_dir = true;
    return 0;
}

/* The job's checkpoint dir ckpt, which outlives its attempts: the empty
 * one a spare attempt dir brought (renamed; replacing an empty one is
 * harmless), else made.  1 when it is the spare (so empty: no checkpoint
 * to look for), 0 otherwise, or a negative errno. */
static int
make_ckpt_dir (struct attempt *a, const char *ckpt)
{
    char spare[PATH_MAX];
    if (snprintf (spare, sizeof spare, "%s/" JOBDIR_SPARE_CKPT, a->dir)
        < (int)sizeof spare) {
        if (rename (spare, ckpt) == 0)
            return 1;
        if (errno != ENOENT)
            (void)rmdir (spare); /* the job's dir is there already */
    }
    if (mkdir (ckpt, 0700) == 0 || errno == EEXIST)
        return 0;
    return yard_mkdir_p (ckpt);
}

int
attempt_prepare (struct attempt *a)
{
    int rc;
    if (a->has_dir && a->log_wfd >= 0)
        return 0;
    if ((rc = make_dir (a)) < 0)
        return rc;
    return a->log_wfd >= 0 ? 0 : open_log (a);
}

void
attempt_note (struct attempt *a, const char *fmt, ...)
{
    char line[900];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line, sizeof line, fmt, ap);
    va_end (ap);
    note (a, "%s", line);
}

int
attempt_start (struct attempt *a, const Yard__JobSpec *spec)
{
    return attempt_start_alloc (a, spec, NULL);
}

/* Does the spec set key itself?  (It then wins over our defaults.) */
static bool
spec_has_env (const Yard__JobSpec *spec, const char *key)
{
    for (size_t i = 0; i < spec->n_env; i++)
        if (spec->env[i] && spec->env[i]->key
            && strcmp (spec->env[i]->key, key) == 0)
            return true;
    return false;
}

/* metrics_ckpt_f: hand a job's announcement to the worker */
static void
announced (const char *entry, int64_t step, void *arg)
{
    struct attempt *a = arg;
    if (a->host->ckpt_cb)
        a->host->ckpt_cb (a, entry, step, a->host->arg);
}

int
attempt_start_alloc (struct attempt *a, const Yard__JobSpec *spec,
                     const Yard__Allocation *alloc)
{
    const char *node = a->host->node;
    char ckpt[PATH_MAX], latest[PATH_MAX], cwd[PATH_MAX];
    yard_error_t err = { 0 };
    jobenv_t *env = NULL;
    char **argv = NULL;
    int rc;

    if (a->state != ATTEMPT_NEW)
        return -EINVAL;
    if ((rc = make_dir (a)) < 0)
        return refuse (a, rc, 1,
                       "cannot create the job dir %s on node %s: "
                       "%s",
                       a->dir, node, strerror (-rc));
    if (a->log_wfd < 0 && (rc = open_log (a)) < 0)
        return refuse (a, rc, 1,
                       "cannot create the log file in %s on node "
                       "%s: %s",
                       a->dir, node, strerror (-rc));

    if (!spec)
        return refuse (a, EINVAL, 1, "the dispatch has no job spec");
    if (spec->n_argv == 0 || !spec->argv[0] || spec->argv[0][0] == '\0')
        return refuse (a, EINVAL, 1,
                       "the job spec has an empty command "
                       "(argv)");
    for (size_t i = 0; i < spec->n_argv; i++)
        if (!spec->argv[i])
            return refuse (a, EINVAL, 1,
                           "the job spec has a missing "
                           "argv[%zu]",
                           i);
    if (spec->grace_s)
        a->grace_s = spec->grace_s;
    a->ckpt_keep = spec->keep_checkpoints;
    a->time_limit_s = spec->time_limit_s;
    if (a->time_limit_s > LIMIT_MAX_S)
        a->time_limit_s = LIMIT_MAX_S;
    /* signals outside 1..64 are the scheduler's to refuse; here they
     * fall back to the defaults rather than kill(2) with garbage */
    a->stop_signal = spec->stop_signal > 0 && spec->stop_signal < 65
                         ? spec->stop_signal
                         : SIGTERM;
    if (spec->warn_signal > 0 && spec->warn_signal < 65
        && a->time_limit_s > spec->warn_seconds) {
        a->warn_signal = spec->warn_signal;
        a->warn_seconds = spec->warn_seconds;
    }

    /* the checkpoint dir outlives the attempt: the next one resumes */
    if (snprintf (ckpt, sizeof ckpt, "%s/%" PRIu64, a->host->ckpt_root,
                  a->job_id)
        >= (int)sizeof ckpt)
        return refuse (a, ENAMETOOLONG, 1, "checkpoint dir name too long");
    if ((rc = make_ckpt_dir (a, ckpt)) < 0)
        return refuse (a, rc, 1,
                       "cannot create the checkpoint dir %s on "
                       "node %s: %s",
                       ckpt, node, strerror (-rc));
    rc = rc == 1 ? -ENOENT
                 : jobenv_latest_checkpoint (ckpt, latest, sizeof latest);
    if (rc < 0 && rc != -ENOENT)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot read %s: %s "
                  "(starting without a checkpoint)",
                  a->job_id, a->num, ckpt, strerror (-rc));
    bool resume = rc == 0;

    if ((rc = jobenv_resolve_cwd (spec, a->dir, node, cwd, sizeof cwd, &err))
        < 0)
        return refuse (a, rc, 1, "%s", err.text);

    struct jobenv_ctx ctx = {
        .job_id = a->job_id,
        .attempt = a->num,
        .node = node,
        .job_dir = a->dir,
        .checkpoint_dir = ckpt,
        .latest_checkpoint = resume ? latest : NULL,
        .inputs_dir = a->inputs_dir[0] ? a->inputs_dir : NULL,
        .outputs_dir = a->outputs_dir[0] ? a->outputs_dir : NULL,
    };
    if (!(env = jobenv_create (environ))) {
        rc = -errno;
        return refuse (a, rc, 1, "out of memory building the environment");
    }
    if ((rc = jobenv_build (env, spec, &ctx, &err)) < 0) {
        jobenv_destroy (&env);
        return refuse (a, rc, 1, "%s", err.text);
    }
    /* its PUs, GPUs and memory limit (bind.h); none for an attempt that
     * came without an Allocation and asked for no memory */
    if ((alloc || spec->memory_bytes > 0 || a->gang.on)
        && !(a->bind = bind_create (a->job_id, a->num, alloc,
                                    spec->memory_bytes))) {
        jobenv_destroy (&env);
        return refuse (a, ENOMEM, 1, "out of memory");
    }
    if (a->bind) {
        char upath[PATH_MAX];
        if (snprintf (upath, sizeof upath, "%s/" JOBDIR_USAGE, a->dir)
            < (int)sizeof upath)
            bind_set_usage_file (a->bind, upath);
    }
    if (a->bind && (rc = bind_env (a->bind, env,
                                   spec_has_env (spec, "OMP_NUM_THREADS")))
                       < 0) {
        jobenv_destroy (&env);
        return refuse (a, rc, 1, "out of memory building the environment");
    }
    if (a->gang.on && (rc = gang_env (&a->gang, env)) < 0) {
        jobenv_destroy (&env);
        return refuse (a, rc, 1, "out of memory building the environment");
    }
    if (!(argv = calloc (spec->n_argv + 1, sizeof *argv))) {
        jobenv_destroy (&env);
        return refuse (a, ENOMEM, 1, "out of memory");
    }
    for (size_t i = 0; i < spec->n_argv; i++)
        argv[i] = spec->argv[i];
    /* through the shim only when the command is there: a missing one
     * stays a spawn failure with its usual explanation */
    char **shim_argv = NULL, found[PATH_MAX];
    const char *direct = NULL;
    if (a->gang.on) {
        /* a gang's tasks: yard-exec starts them, their lines behind
         * their ranks (gang.h) */
        uint32_t tasks = a->gang.tasks;
        rc = bind_argv_tasks (a->bind, tasks, a->gang.node_rank * tasks,
                              !spec_has_env (spec, "OMP_NUM_THREADS"), argv,
                              spec->n_argv, &shim_argv);
        if (rc < 0) {
            free (argv);
            jobenv_destroy (&env);
            return refuse (a, -rc, 1, "cannot start %u tasks: %s", tasks,
                           rc == -ENOENT ? "yard-exec is not installed next "
                           "to yard-worker" : strerror (-rc));
        }
        free (argv);
        argv = shim_argv;
    } else if (jobenv_which (argv[0], jobenv_get (env, "PATH"), found,
                             sizeof found) == 0) {
        /* the file to exec: argv[0] itself when it names a path (relative
         * to the job's cwd), else where the job's PATH has it */
        bool slash = strchr (argv[0], '/') != NULL;
        const char *file = slash ? argv[0] : found[0] == '/' ? found : NULL;
        if (file && spawn_available ()) {
            /* one fork and exec: the child joins the cgroups and sets
             * the affinity itself (spawn.h), no shim */
            direct = file;
        } else if (a->bind) {
            bind_set_exec_path (a->bind, slash ? "" : file);
            if (bind_argv (a->bind, argv, spec->n_argv, &shim_argv) == 0) {
                free (argv);
                argv = shim_argv;
            }
        }
    }

    /* fd 3: the metrics pipe (see metrics.h); a job without one still
     * runs, with YARD_METRICS_FD unset */
    int metrics_fd = -1;
    a->metrics = metrics_create (a->host->loop, a->dir, a->job_id, a->num,
                                 &metrics_fd);
    if (!a->metrics)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": no metrics pipe: %s",
                  a->job_id, a->num, strerror (errno));
    if (a->metrics
        && jobenv_set (env, "YARD_METRICS_FD", "3") < 0)
        metrics_destroy (&a->metrics);
    if (!a->metrics)
        jobenv_unset (env, "YARD_METRICS_FD");
    else
        (void)metrics_on_checkpoint (a->metrics, ckpt, announced, a);

    uv_stdio_container_t stdio[4] = {
        { .flags = UV_IGNORE }, /* libuv makes it /dev/null */
        { .flags = UV_INHERIT_FD, .data.fd = a->log_wfd },
        { .flags = UV_INHERIT_FD, .data.fd = a->log_wfd },
        { .flags = UV_INHERIT_FD, .data.fd = metrics_fd },
    };
    uv_process_options_t opt = {
        .exit_cb = exit_cb,
        .file = argv[0],
        .args = argv,
        .env = jobenv_vector (env),
        .cwd = cwd,
        .flags = UV_PROCESS_DETACHED,
        .stdio_count = a->metrics ? 4 : 3,
        .stdio = stdio,
    };
    if (direct)
        rc = spawn_direct (a, direct, argv, jobenv_vector (env), cwd,
                           metrics_fd);
    else {
        a->proc.data = a;
        rc = uv_spawn (a->host->loop, &a->proc, &opt);
        /* uv_spawn initialised the handle even when it failed: close it
         * later */
        a->proc_used = true;
        a->open_handles++;
        if (rc == 0)
            a->pid = a->proc.pid;
    }
    if (a->metrics)
        (void)metrics_spawned (a->metrics, rc == 0);
    if (rc < 0) {
        char msg[512], detail[PATH_MAX + 64];
        const char *path = jobenv_get (env, "PATH");
        int32_t code = spawn_error (a, spec->argv[0], path, rc, msg,
                                    sizeof msg);
        msgf (detail, sizeof detail, "the job's PATH was %s",
              path ? path : "unset (/bin:/usr/bin)");
        free (argv);
        jobenv_destroy (&env);
        end_unstarted (a, YARD__END_REASON__END_SPAWN_FAILED, code, msg,
                       detail);
        return rc;
    }
    free (argv);
    jobenv_destroy (&env);

    a->start_time_ms = yard_now_ms ();
    a->state = ATTEMPT_RUNNING;
    struct jobdir_started s
        = { .pid = a->pid, .start_time_ms = a->start_time_ms };
    jobdir_started_identify (&s);
    if ((rc = jobdir_started_write (a->dir, &s)) < 0)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot write its pid file: "
                  "%s (a worker crash would leave it unsupervised)",
                  a->job_id, a->num, strerror (-rc));
    if (a->time_limit_s > 0)
        uv_timer_start (&a->limit_timer, limit_timer_cb,
                        (a->time_limit_s - a->warn_seconds) * 1000, 0);
    log_info ("job %" PRIu64 ".%" PRIu32 ": started '%s' as pid %d in %s%s",
              a->job_id, a->num, spec->argv[0], a->pid, cwd,
              ctx.latest_checkpoint ? " (resuming from a checkpoint)" : "");
    return 0;
}

int
attempt_recover (struct attempt *a, const char *dir)
{
    if (snprintf (a->dir, sizeof a->dir, "%s", dir) >= (int)sizeof a->dir)
        return -ENAMETOOLONG;
    a->has_dir = true;
    int rc
        = jobdir_recover (dir, a->job_id, a->num, a->host->node, &a->result);
    char path[PATH_MAX];
    if (snprintf (path, sizeof path, "%s/" JOBDIR_LOG, a->dir)
        < (int)sizeof path)
        a->log_rfd = open (path, O_RDONLY | O_CLOEXEC);
    if (a->log_rfd < 0 && a->result.log_size > 0) {
        /* the log is gone: ship nothing rather than wait forever */
        log_warn ("job %" PRIu64 ".%" PRIu32 ": its log %s is missing",
                  a->job_id, a->num, path);
        a->result.log_size = 0;
    }
    a->start_time_ms = a->result.start_time_ms;
    a->state = ATTEMPT_ENDED;
    a->metrics = metrics_recover (a->host->loop, a->dir, a->job_id, a->num);
    if (!a->metrics)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot load its metrics: %s",
                  a->job_id, a->num, strerror (errno));
    return rc;
}

uint64_t
attempt_log_size (const struct attempt *a)
{
    if (a->state == ATTEMPT_ENDED)
        return a->result.log_size;
    return log_fd_size (a->log_rfd);
}

ssize_t
attempt_log_read (const struct attempt *a, uint64_t off, void *buf, size_t len)
{
    if (a->log_rfd < 0)
        return 0;
    for (;;) {
        ssize_t n = pread (a->log_rfd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -errno : n;
    }
}

struct rm_work {
    uv_work_t req;
    int rc;
    char path[PATH_MAX];
};

static void
rm_work_cb (uv_work_t *req)
{
    struct rm_work *w = req->data;
    w->rc = jobdir_remove_tree (w->path);
}

static void
rm_after_cb (uv_work_t *req, int status)
{
    struct rm_work *w = req->data;
    if (status < 0 || w->rc < 0)
        log_warn ("cannot remove %s: %s", w->path,
                  strerror (status < 0 ? -status : -w->rc));
    free (w);
}

int
attempt_remove_dir (struct attempt *a)
{
    if (!a->has_dir)
        return 0;
    if (dirpool_give (a->host->pool, a->dir) == 0) {
        a->has_dir = false;
        return 0;
    }
    struct rm_work *w = calloc (1, sizeof *w);
    if (!w)
        return -ENOMEM;
    int rc = jobdir_trash (a->dir, w->path, sizeof w->path);
    if (rc < 0) {
        free (w);
        return rc;
    }
    a->has_dir = false;
    w->req.data = w;
    if ((rc = uv_queue_work (a->host->loop, &w->req, rm_work_cb, rm_after_cb))
        < 0) {
        /* the trash is removed at the next start */
        free (w);
        return rc;
    }
    return 0;
}

void
attempt_destroy (struct attempt **ap)
{
    if (!ap || !*ap)
        return;
    struct attempt *a = *ap;
    *ap = NULL;
    stage_abandon (a->stage);
    stage_abandon (a->collect);
    stage_abandon (a->inputs);
    stage_abandon (a->ckpt_stage);
    a->stage = a->collect = a->inputs = a->ckpt_stage = NULL;
    free (a->dispatch);
    a->dispatch = NULL;
    if (a->state == ATTEMPT_RUNNING)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": leaving pid %d unsupervised",
                  a->job_id, a->num, a->pid);
    close_fd (&a->log_wfd);
    close_fd (&a->log_rfd);
    metrics_destroy (&a->metrics);
    if (a->state == ATTEMPT_RUNNING)
        bind_forget (&a->bind);
    else
        bind_destroy (&a->bind);
    uv_close ((uv_handle_t *)&a->limit_timer, handle_closed);
    uv_close ((uv_handle_t *)&a->kill_timer, handle_closed);
    if (a->proc_used)
        uv_close ((uv_handle_t *)&a->proc, handle_closed);
    if (a->poll_used)
        uv_close ((uv_handle_t *)&a->pid_poll, pid_poll_closed);
}
