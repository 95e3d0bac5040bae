/* zwatcher.c - ZeroMQ socket readiness in a libuv loop (see the design note
 * in zwatcher.h). */
#include "zwatcher.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <zmq.h>

struct yard_zwatcher {
    uv_poll_t poll;
    uv_prepare_t prepare;
    uv_check_t check;
    uv_idle_t idle;
    int open_handles;
    void *zsock;
    yard_zwatcher_f cb;
    void *arg;
};

static bool
readable (yard_zwatcher_t *w)
{
    int events = 0;
    size_t sz = sizeof events;
    if (zmq_getsockopt (w->zsock, ZMQ_EVENTS, &events, &sz) < 0)
        return false;
    return (events & ZMQ_POLLIN) != 0;
}

static void
poll_cb (uv_poll_t *h, int status, int events)
{
    /* Only wakes the loop: the check handle decides. */
    (void)h;
    (void)status;
    (void)events;
}

static void
idle_cb (uv_idle_t *h)
{
    (void)h;
}

static void
prepare_cb (uv_prepare_t *h)
{
    yard_zwatcher_t *w = h->data;
    if (readable (w))
        uv_idle_start (&w->idle, idle_cb);
    else
        uv_idle_stop (&w->idle);
}

static void
check_cb (uv_check_t *h)
{
    yard_zwatcher_t *w = h->data;
    uv_idle_stop (&w->idle);
    if (readable (w))
        w->cb (w, w->zsock, w->arg);
}

yard_zwatcher_t *
yard_zwatcher_create (uv_loop_t *loop, void *zsock, yard_zwatcher_f cb,
                      void *arg)
{
    int fd;
    size_t sz = sizeof fd;
    if (!loop || !zsock || !cb) {
        errno = EINVAL;
        return NULL;
    }
    if (zmq_getsockopt (zsock, ZMQ_FD, &fd, &sz) < 0)
        return NULL;
    yard_zwatcher_t *w = calloc (1, sizeof *w);
    if (!w)
        return NULL;
    w->zsock = zsock;
    w->cb = cb;
    w->arg = arg;
    int rc;
    if ((rc = uv_poll_init (loop, &w->poll, fd)) < 0) {
        free (w);
        errno = -rc;
        return NULL;
    }
    uv_prepare_init (loop, &w->prepare);
    uv_check_init (loop, &w->check);
    uv_idle_init (loop, &w->idle);
    w->open_handles = 4;
    w->poll.data = w->prepare.data = w->check.data = w->idle.data = w;
    uv_poll_start (&w->poll, UV_READABLE, poll_cb);
    uv_prepare_start (&w->prepare, prepare_cb);
    uv_check_start (&w->check, check_cb);
    return w;
}

static void
close_cb (uv_handle_t *h)
{
    yard_zwatcher_t *w = h->data;
    if (--w->open_handles == 0)
        free (w);
}

void
yard_zwatcher_destroy (yard_zwatcher_t **wp)
{
    if (!wp || !*wp)
        return;
    yard_zwatcher_t *w = *wp;
    uv_close ((uv_handle_t *)&w->poll, close_cb);
    uv_close ((uv_handle_t *)&w->prepare, close_cb);
    uv_close ((uv_handle_t *)&w->check, close_cb);
    uv_close ((uv_handle_t *)&w->idle, close_cb);
    *wp = NULL;
}
