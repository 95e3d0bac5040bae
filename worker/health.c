/* health.c - the periodic node health check (see health.h).
 *
 * One check at a time: the interval timer spawns `/bin/sh -c CMD` in its
 * own process group (UV_PROCESS_DETACHED: setsid) with stdin from
 * /dev/null and stdout+stderr into one pipe, and arms the deadline timer.
 * A check ends when the process has exited and its pipe has reached EOF,
 * or one second after the exit if something it started keeps the pipe
 * open (its output so far is what counts).  At the deadline the whole
 * group is killed, so a hung check never piles up behind the next one.
 *
 * Handles are freed in their close callbacks: health_destroy marks the
 * object dead and the last close callback frees it (libuv's rule that the
 * memory of a handle outlives its uv_close).
 */
#include "health.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define EXIT_DRAIN_MS 1000 /* wait for the pipe's EOF after the exit */

struct health {
    uv_loop_t *loop;
    char *cmd;
    uint64_t interval_ms;
    uint64_t timeout_ms;
    health_report_f cb;
    void *arg;

    uv_timer_t tick;     /* every interval */
    uv_timer_t deadline; /* the running check's timeout, then its drain */
    uv_process_t proc;
    uv_pipe_t out;
    int open_handles; /* closes still to come before the free */
    bool dead;        /* health_destroy was called */

    bool running; /* a check is in flight */
    bool proc_open, out_open;
    bool exited, eof, timed_out;
    int64_t exit_status;
    int term_signal;
    char buf[HEALTH_OUTPUT_MAX];
    size_t len;
};

char *
health_first_line (const char *out, size_t n, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    buf[0] = '\0';
    size_t i = 0;
    while (i < n) {
        /* skip leading blanks and empty lines */
        while (i < n
               && (out[i] == ' ' || out[i] == '\t' || out[i] == '\r'
                   || out[i] == '\n'))
            i++;
        size_t start = i;
        while (i < n && out[i] != '\n')
            i++;
        size_t end = i;
        while (end > start
               && (out[end - 1] == ' ' || out[end - 1] == '\t'
                   || out[end - 1] == '\r'))
            end--;
        if (end == start)
            continue;
        size_t k = end - start < len - 1 ? end - start : len - 1;
        for (size_t j = 0; j < k; j++) {
            unsigned char c = (unsigned char)out[start + j];
            buf[j] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
        buf[k] = '\0';
        return buf;
    }
    return buf;
}

static void
on_close (uv_handle_t *hd)
{
    health_t *h = hd->data;
    if (hd == (uv_handle_t *)&h->proc)
        h->proc_open = false;
    else if (hd == (uv_handle_t *)&h->out)
        h->out_open = false;
    if (--h->open_handles == 0 && h->dead) {
        free (h->cmd);
        free (h);
    }
}

static void
close_handle (health_t *h, uv_handle_t *hd)
{
    if (!uv_is_closing (hd)) {
        hd->data = h;
        uv_close (hd, on_close);
    }
}

/* The check is over (exit and EOF, drain timeout, or kill): report. */
static void
finish (health_t *h)
{
    if (!h->running)
        return;
    h->running = false;
    uv_timer_stop (&h->deadline);
    if (h->out_open)
        close_handle (h, (uv_handle_t *)&h->out);
    if (h->proc_open)
        close_handle (h, (uv_handle_t *)&h->proc);
    char line[HEALTH_REASON_MAX];
    char reason[HEALTH_REASON_MAX];
    health_first_line (h->buf, h->len, line, sizeof line);
    bool ok = !h->timed_out && h->exited && h->exit_status == 0
              && h->term_signal == 0;
    if (ok)
        reason[0] = '\0';
    else if (h->timed_out)
        snprintf (reason, sizeof reason, "timed out after %llus%s%.200s",
                  (unsigned long long)(h->timeout_ms / 1000),
                  *line ? ": " : "", line);
    else if (*line)
        snprintf (reason, sizeof reason, "%s", line);
    else if (h->term_signal)
        snprintf (reason, sizeof reason, "killed by signal %d",
                  h->term_signal);
    else
        snprintf (reason, sizeof reason, "exited with status %lld",
                  (long long)h->exit_status);
    if (!h->dead && h->cb)
        h->cb (ok, reason, h->arg);
}

static void
on_alloc (uv_handle_t *hd, size_t suggested, uv_buf_t *b)
{
    health_t *h = hd->data;
    (void)suggested;
    if (h->len < sizeof h->buf) {
        b->base = h->buf + h->len;
        b->len = sizeof h->buf - h->len;
    } else {
        /* full: read into a scratch area and drop it, so the pipe drains
         * and the command never blocks on a full pipe */
        static char sink[1024];
        b->base = sink;
        b->len = sizeof sink;
    }
}

static void
on_read (uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    health_t *h = s->data;
    if (n > 0 && b->base == h->buf + h->len)
        h->len += (size_t)n;
    if (n < 0) { /* UV_EOF or an error: no more output either way */
        h->eof = true;
        uv_read_stop (s);
        if (h->exited)
            finish (h);
    }
}

static void
on_deadline (uv_timer_t *t)
{
    health_t *h = t->data;
    if (h->exited) { /* the drain after the exit ran out */
        finish (h);
        return;
    }
    h->timed_out = true;
    /* the whole group: the shell and whatever it started */
    if (h->proc.pid > 0)
        (void)uv_kill (-h->proc.pid, SIGKILL);
}

static void
on_proc_exit (uv_process_t *p, int64_t status, int signo)
{
    health_t *h = p->data;
    h->exited = true;
    h->exit_status = status;
    h->term_signal = signo;
    if (h->eof) {
        finish (h);
        return;
    }
    uv_timer_start (&h->deadline, on_deadline, EXIT_DRAIN_MS, 0);
}

static void
run_check (health_t *h)
{
    /* a check still running, or the last one's handles still closing */
    if (h->running || h->dead || h->out_open || h->proc_open)
        return;
    h->exited = h->eof = h->timed_out = false;
    h->exit_status = 0;
    h->term_signal = 0;
    h->len = 0;
    /* one pipe for stdout and stderr: made here, so that both ends of
     * the child can be the same fd (the read end is non-blocking) */
    uv_file fds[2];
    int rc = uv_pipe (fds, UV_NONBLOCK_PIPE, 0);
    if (rc < 0) {
        log_err ("health check: cannot create a pipe: %s", uv_strerror (rc));
        return;
    }
    if ((rc = uv_pipe_init (h->loop, &h->out, 0)) < 0) {
        log_err ("health check: cannot create a pipe: %s", uv_strerror (rc));
        close (fds[0]);
        close (fds[1]);
        return;
    }
    h->out.data = h;
    h->out_open = true;
    h->open_handles++;
    if ((rc = uv_pipe_open (&h->out, fds[0])) < 0)
        close (fds[0]); /* the handle stays unopened: EOF below */
    char *args[] = { "/bin/sh", "-c", h->cmd, NULL };
    uv_stdio_container_t io[3];
    io[0].flags = UV_IGNORE;
    io[1].flags = UV_INHERIT_FD;
    io[1].data.fd = fds[1];
    io[2].flags = UV_INHERIT_FD;
    io[2].data.fd = fds[1];
    uv_process_options_t o;
    memset (&o, 0, sizeof o);
    o.file = args[0];
    o.args = args;
    o.exit_cb = on_proc_exit;
    o.stdio = io;
    o.stdio_count = 3;
    o.flags = UV_PROCESS_DETACHED; /* its own group, killed as one */
    h->proc.data = h;
    h->running = true;
    int src = uv_spawn (h->loop, &h->proc, &o);
    close (fds[1]); /* the child has its copy: EOF when it is done */
    if ((rc = src) < 0) {
        /* uv_spawn initialised the handle: it must still be closed */
        h->proc_open = true;
        h->open_handles++;
        h->exited = h->eof = true;
        h->exit_status = 127;
        h->len = (size_t)snprintf (h->buf, sizeof h->buf,
                                   "cannot run the health check: %s",
                                   uv_strerror (rc));
        finish (h);
        return;
    }
    h->proc_open = true;
    h->open_handles++;
    if (uv_read_start ((uv_stream_t *)&h->out, on_alloc, on_read) < 0)
        h->eof = true;
    uv_timer_start (&h->deadline, on_deadline, h->timeout_ms, 0);
}

static void
on_tick (uv_timer_t *t)
{
    run_check (t->data);
}

health_t *
health_create (uv_loop_t *loop, const char *cmd, uint64_t interval_ms,
               uint64_t timeout_ms, health_report_f cb, void *arg)
{
    if (!loop || !cmd || !*cmd || interval_ms == 0 || timeout_ms == 0) {
        errno = EINVAL;
        return NULL;
    }
    health_t *h = calloc (1, sizeof *h);
    if (!h)
        return NULL;
    if (!(h->cmd = strdup (cmd)))
        goto error;
    h->loop = loop;
    h->interval_ms = interval_ms;
    h->timeout_ms = timeout_ms;
    h->cb = cb;
    h->arg = arg;
    uv_timer_init (loop, &h->tick);
    uv_timer_init (loop, &h->deadline);
    h->tick.data = h->deadline.data = h;
    h->open_handles = 2;
    return h;
error:
    free (h);
    errno = ENOMEM;
    return NULL;
}

int
health_start (health_t *h)
{
    if (!h || h->dead)
        return -EINVAL;
    return uv_timer_start (&h->tick, on_tick, 0, h->interval_ms);
}

void
health_destroy (health_t **hp)
{
    if (!hp || !*hp)
        return;
    health_t *h = *hp;
    *hp = NULL;
    h->dead = true;
    if (h->running && !h->exited && h->proc.pid > 0)
        (void)uv_kill (-h->proc.pid, SIGKILL);
    h->running = false;
    if (h->out_open)
        close_handle (h, (uv_handle_t *)&h->out);
    if (h->proc_open)
        close_handle (h, (uv_handle_t *)&h->proc);
    close_handle (h, (uv_handle_t *)&h->tick);
    close_handle (h, (uv_handle_t *)&h->deadline);
}
