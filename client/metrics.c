/* metrics.c - libyard's metrics calls: yard_metrics (ask the scheduler)
 * and yard_metric_write / yard_metrics_log (for jobs: report to the
 * worker through $YARD_METRICS_FD).
 *
 * Design note on the job side.  The fd a job inherits is the write end of
 * a pipe the worker reads; it is blocking, so that `echo ... >&3` in a
 * shell job just works.  Training code must never wait on it, but setting
 * O_NONBLOCK on it would change it for every process sharing it (the file
 * status flags belong to the open file description).  So we open our own
 * description of the same pipe through /proc/self/fd/N with O_NONBLOCK
 * (Linux allows that for pipes); without /proc we use the inherited fd and
 * write only when poll() says the pipe has room.  A line of at most
 * PIPE_BUF bytes is written whole or not at all.  If the worker is gone,
 * write() fails with EPIPE: SIGPIPE is blocked around the write (and a
 * SIGPIPE we caused is consumed), so a job that did not ignore SIGPIPE does
 * not die of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "msg.h"
#include "yard/yard.h"

/* ---- asking the scheduler --------------------------------------------- */

YARD_API int
yard_metrics (yard_client_t *c, uint64_t job_id, const char *key,
              bool include_superseded, yard_metric_t **points, size_t *count,
              uint64_t *malformed, bool *truncated)
{
    yard_env_t *reply = NULL;
    if (!c)
        return -EINVAL;
    if (!points || !count)
        return yard__client_fail (c, EINVAL,
                                  "yard_metrics: points and count are "
                                  "required");
    *points = NULL;
    *count = 0;
    Yard__MetricsRequest mr = YARD__METRICS_REQUEST__INIT;
    mr.job_id = job_id;
    mr.key = (char *)(key ? key : "");
    mr.include_superseded = include_superseded;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_METRICS;
    req.metrics = &mr;
    int rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_METRICS_REPLY,
                                &reply);
    if (rc < 0)
        return rc;
    const Yard__MetricsReply *r = reply->metrics_reply;
    yard_metric_t *v = NULL;
    size_t n = 0;
    if (r->job_id != 0 && r->job_id != job_id) {
        rc = yard__client_fail (c, EBADMSG, "the scheduler sent the metrics "
                                            "of another job");
        goto out;
    }
    if (r->n_points && !(v = calloc (r->n_points, sizeof v[0]))) {
        rc = yard__client_fail (c, ENOMEM, "out of memory");
        goto out;
    }
    for (; n < r->n_points; n++) {
        const Yard__MetricRecord *p = r->points[n];
        if (!p)
            break;
        v[n].attempt = p->attempt;
        v[n].step = p->step;
        v[n].value = p->value;
        v[n].time_ms = p->time_ms;
        v[n].superseded = p->superseded;
        if (!(v[n].key = strdup (p->key ? p->key : ""))) {
            yard_metrics_free (&v, n);
            rc = yard__client_fail (c, ENOMEM, "out of memory");
            goto out;
        }
    }
    *points = v;
    *count = n;
    if (malformed)
        *malformed = r->malformed_lines;
    if (truncated)
        *truncated = r->truncated;
out:
    yard_msg_free (&reply);
    return rc;
}

YARD_API void
yard_metrics_free (yard_metric_t **points, size_t count)
{
    if (!points || !*points)
        return;
    for (size_t i = 0; i < count; i++)
        free ((*points)[i].key);
    free (*points);
    *points = NULL;
}

/* ---- reporting, for jobs ---------------------------------------------- */

static atomic_int metrics_fd = -2; /* -2: not looked up yet; -1: none */
static atomic_uint_fast64_t dropped;

/* Our own non-blocking description of $YARD_METRICS_FD's pipe (see the
 * note at the top), or -1. */
static int
get_fd (void)
{
    int fd = atomic_load (&metrics_fd);
    if (fd != -2)
        return fd;
    const char *s = getenv ("YARD_METRICS_FD");
    char *end;
    long n = s && *s ? strtol (s, &end, 10) : -1;
    int nfd = -1;
    if (n >= 0 && n <= INT_MAX && *end == '\0') {
        char path[64];
        snprintf (path, sizeof path, "/proc/self/fd/%ld", n);
        nfd = open (path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (nfd < 0 && fcntl ((int)n, F_GETFD) >= 0)
            nfd = (int)n; /* no /proc: the fd itself, polled first */
    }
    int expected = -2;
    if (!atomic_compare_exchange_strong (&metrics_fd, &expected, nfd)) {
        if (nfd >= 0 && nfd != (int)n)
            close (nfd);
        return expected;
    }
    return nfd;
}

/* write() with SIGPIPE held off, so a job whose worker is gone gets EPIPE
 * rather than a fatal signal. */
static ssize_t
write_nosig (int fd, const void *buf, size_t len)
{
    sigset_t pipe_set, old;
    sigemptyset (&pipe_set);
    sigaddset (&pipe_set, SIGPIPE);
    sigset_t pending;
    sigpending (&pending);
    bool was_pending = sigismember (&pending, SIGPIPE);
    pthread_sigmask (SIG_BLOCK, &pipe_set, &old);
    ssize_t n = write (fd, buf, len);
    int e = errno;
    if (n < 0 && e == EPIPE && !was_pending) {
        struct timespec zero = { 0, 0 };
        (void)sigtimedwait (&pipe_set, NULL, &zero); /* eat ours */
    }
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    errno = e;
    return n;
}

YARD_API int
yard_metric_write (const char *json_line)
{
    if (!json_line)
        return -EINVAL;
    int fd = get_fd ();
    if (fd < 0)
        return -ENOENT;
    size_t len = strlen (json_line);
    while (len > 0 && json_line[len - 1] == '\n')
        len--;
    if (len + 1 > PIPE_BUF)
        return -EMSGSIZE;
    char buf[PIPE_BUF];
    memcpy (buf, json_line, len);
    buf[len++] = '\n';
    /* the inherited fd (no /proc): only write when it cannot block; a
     * write of <= PIPE_BUF bytes then fits whole */
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    if (!(fcntl (fd, F_GETFL) & O_NONBLOCK)
        && (poll (&p, 1, 0) != 1 || !(p.revents & POLLOUT))) {
        atomic_fetch_add (&dropped, 1);
        return -EAGAIN;
    }
    for (;;) {
        ssize_t n = write_nosig (fd, buf, len);
        if (n == (ssize_t)len)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            atomic_fetch_add (&dropped, 1);
            return -EAGAIN;
        }
        return n < 0 ? -errno : -EIO;
    }
}

YARD_API int
yard_metrics_log (int64_t step, const char *key, double value)
{
    if (!key || !*key)
        return -EINVAL;
    if (!isfinite (value))
        return -EDOM;
    char line[PIPE_BUF], esc[PIPE_BUF];
    size_t j = 0;
    for (const char *k = key; *k; k++) {
        if ((unsigned char)*k < 0x20)
            return -EINVAL;
        if (j + 3 >= sizeof esc)
            return -EMSGSIZE;
        if (*k == '"' || *k == '\\')
            esc[j++] = '\\';
        esc[j++] = *k;
    }
    esc[j] = '\0';
    int n = snprintf (line, sizeof line, "{\"step\":%lld,\"%s\":%.17g}",
                      (long long)step, esc, value);
    if (n < 0 || (size_t)n >= sizeof line)
        return -EMSGSIZE;
    return yard_metric_write (line);
}

YARD_API int
yard_metrics_checkpoint (const char *path, int64_t step)
{
    if (!path || !*path)
        return -EINVAL;
    char line[PIPE_BUF], esc[PIPE_BUF];
    size_t j = 0;
    for (const char *p = path; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (j + 7 >= sizeof esc)
            return -EMSGSIZE;
        if (c < 0x20) {
            j += (size_t)snprintf (esc + j, sizeof esc - j, "\\u%04x", c);
            continue;
        }
        if (c == '"' || c == '\\')
            esc[j++] = '\\';
        esc[j++] = (char)c;
    }
    esc[j] = '\0';
    int n = step >= 0 ? snprintf (line, sizeof line,
                                  "{\"checkpoint\":\"%s\",\"step\":%lld}",
                                  esc, (long long)step)
                      : snprintf (line, sizeof line, "{\"checkpoint\":\"%s\"}",
                                  esc);
    if (n < 0 || (size_t)n >= sizeof line)
        return -EMSGSIZE;
    return yard_metric_write (line);
}

YARD_API uint64_t
yard_metrics_dropped (void)
{
    return atomic_load (&dropped);
}
