/* syncer.c - group commit on a thread of its own (see syncer.h). */
#include "syncer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct yard_syncer {
    uv_async_t async; /* first: the close callback frees the struct */
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    yard_syncer_sync_f sync;
    void *sync_arg;
    yard_syncer_durable_f on_durable;
    void *cb_arg;
    /* under mu */
    uint64_t want;     /* highest number asked for */
    uint64_t done;     /* highest number made durable */
    int rc;            /* the failed sync's -errno, then nothing more */
    bool quit;
    /* the loop's own */
    uint64_t reported; /* highest number told to on_durable */
    bool failed_told;
};

static void
run (void *arg)
{
    yard_syncer_t *y = arg;
    uv_mutex_lock (&y->mu);
    for (;;) {
        while (!y->quit && y->rc == 0 && y->want <= y->done)
            uv_cond_wait (&y->cv, &y->mu);
        if (y->quit || y->rc != 0)
            break;
        uint64_t target = y->want;
        uv_mutex_unlock (&y->mu);
        int rc = y->sync (y->sync_arg);
        uv_mutex_lock (&y->mu);
        if (rc < 0)
            y->rc = rc;
        else
            y->done = target;
        uv_async_send (&y->async);
    }
    uv_mutex_unlock (&y->mu);
}

static void
free_handle (uv_handle_t *h)
{
    free (h);
}

/* Tell on_durable what the thread did; a failure only when errors (from
 * the wake-up itself, never from inside the caller's work). */
static void
deliver (yard_syncer_t *y, bool errors)
{
    uv_mutex_lock (&y->mu);
    uint64_t done = y->done;
    int rc = y->rc;
    uv_mutex_unlock (&y->mu);
    if (done > y->reported) {
        y->reported = done;
        y->on_durable (done, 0, y->cb_arg);
    }
    if (errors && rc < 0 && !y->failed_told) {
        y->failed_told = true;
        y->on_durable (y->reported, rc, y->cb_arg);
    }
}

static void
on_async (uv_async_t *h)
{
    deliver ((yard_syncer_t *)h, true);
}

void
yard_syncer_poll (yard_syncer_t *y)
{
    deliver (y, false); /* a failure waits for the wake-up, which follows */
}

yard_syncer_t *
yard_syncer_create (uv_loop_t *loop, yard_syncer_sync_f sync, void *sync_arg,
                    yard_syncer_durable_f on_durable, void *cb_arg,
                    yard_error_t *err)
{
    yard_syncer_t *y = calloc (1, sizeof *y);
    if (!y) {
        yard_errorf (err, ENOMEM, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    y->sync = sync;
    y->sync_arg = sync_arg;
    y->on_durable = on_durable;
    y->cb_arg = cb_arg;
    int rc;
    if ((rc = uv_mutex_init (&y->mu)) < 0)
        goto fail_free;
    if ((rc = uv_cond_init (&y->cv)) < 0)
        goto fail_mu;
    if ((rc = uv_async_init (loop, &y->async, on_async)) < 0)
        goto fail_cv;
    if ((rc = uv_thread_create (&y->thread, run, y)) < 0) {
        uv_close ((uv_handle_t *)&y->async, free_handle);
        uv_cond_destroy (&y->cv);
        uv_mutex_destroy (&y->mu);
        yard_errorf (err, -rc, "cannot start the commit sync thread: %s",
                     uv_strerror (rc));
        errno = -rc;
        return NULL; /* freed by the close callback */
    }
    return y;
fail_cv:
    uv_cond_destroy (&y->cv);
fail_mu:
    uv_mutex_destroy (&y->mu);
fail_free:
    free (y);
    yard_errorf (err, -rc, "cannot start the commit sync thread: %s",
                 uv_strerror (rc));
    errno = -rc;
    return NULL;
}

void
yard_syncer_want (yard_syncer_t *y, uint64_t seq)
{
    uv_mutex_lock (&y->mu);
    if (seq > y->want) {
        bool idle = y->want <= y->done;
        y->want = seq;
        if (idle)
            uv_cond_signal (&y->cv);
    }
    uv_mutex_unlock (&y->mu);
}

uint64_t
yard_syncer_close (yard_syncer_t **yp)
{
    if (!yp || !*yp)
        return 0;
    yard_syncer_t *y = *yp;
    uv_mutex_lock (&y->mu);
    y->quit = true;
    uv_cond_signal (&y->cv);
    uv_mutex_unlock (&y->mu);
    uv_thread_join (&y->thread);
    uint64_t done = y->done; /* a failed sync left it at the last good one */
    uv_cond_destroy (&y->cv);
    uv_mutex_destroy (&y->mu);
    uv_close ((uv_handle_t *)&y->async, free_handle);
    *yp = NULL;
    return done;
}
