/* zwatcher.h - join a ZeroMQ socket to a libuv loop.
 *
 * Design note.  ZMQ_FD is edge-triggered: it signals that the socket's
 * state *may* have changed, not that a message waits, and it will not
 * signal again for messages that were already queued when it fired, nor for
 * messages that became readable as a side effect of a send.  A watcher that
 * only reacts to uv_poll therefore stalls.  As in flux-core's zwatcher, the
 * poll handle only wakes the loop; the real test is ZMQ_EVENTS, read in
 * a check handle (after I/O) and a prepare handle (before the loop blocks).
 * When ZMQ_EVENTS says POLLIN in prepare, an idle handle is started so the
 * loop does not block and the check callback runs again at once.  The user
 * callback may therefore read a bounded batch (fairness) and send freely
 * from anywhere: whatever is left is seen on the next turn.
 */
#ifndef YARD_ZWATCHER_H
#define YARD_ZWATCHER_H

#include <uv.h>

typedef struct yard_zwatcher yard_zwatcher_t;

/* Called when the socket has at least one message to read. */
typedef void (*yard_zwatcher_f) (yard_zwatcher_t *w, void *zsock, void *arg);

/* Create and start a watcher for zsock on loop.  Returns NULL with errno
 * set.  The socket stays owned by the caller and must outlive the watcher's
 * close (destroy it, run the loop once, then close the socket). */
yard_zwatcher_t *yard_zwatcher_create (uv_loop_t *loop, void *zsock,
                                       yard_zwatcher_f cb, void *arg);

/* Stop and close the watcher; its memory is freed from the close callbacks
 * on a later loop turn.  Accepts NULL; NULLs the caller's pointer. */
void yard_zwatcher_destroy (yard_zwatcher_t **w);

#endif
