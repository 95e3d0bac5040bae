/* conn.h - libyard's transport: one request, one reply, bounded in time.
 *
 * A connection owns a ZeroMQ context and a DEALER connected to the
 * scheduler's client port.  yard__conn_request() stamps a fresh request id
 * on the envelope, sends it and waits for the reply that carries the same
 * id; anything else that arrives meanwhile (a late answer to a request this
 * side gave up on, a frame that does not decode) is dropped.  See conn.c for
 * why the socket is recreated after each timeout and how a lost connection
 * is detected.
 */
#ifndef YARD_CLIENT_CONN_H
#define YARD_CLIENT_CONN_H

#include <stdint.h>

#include "error.h"
#include "msg.h"

typedef struct yard__conn yard__conn_t;

/* Flags for yard__conn_request. */
enum {
    /* The request may be sent twice without harm: when the connection drops
     * while it waits (the scheduler restarted), send it again at once on a
     * new socket instead of waiting for the timeout. */
    YARD__CONN_IDEMPOTENT = 1 << 0,
};

/* Create a connection to endpoint (copied).  The DEALER connects in the
 * background: this succeeds whether or not the scheduler runs.  Returns
 * NULL with errno set (EINVAL: malformed endpoint, EPROTONOSUPPORT, ENOMEM,
 * EMFILE). */
yard__conn_t *yard__conn_create (const char *endpoint);

/* Close the socket and the context.  Accepts NULL; sets *conn to NULL. */
void yard__conn_destroy (yard__conn_t **conn);

const char *yard__conn_endpoint (const yard__conn_t *conn);

/* Send req (its request_id is overwritten; the caller keeps ownership) and
 * wait up to timeout_ms for the matching reply, which goes to *reply (free
 * with yard_msg_free).  Returns 0, or a negative errno with err filled:
 * -ETIMEDOUT no reply in time (the socket has been recreated), -EMSGSIZE the
 * request is too large, -EBADMSG/-EPROTO/-EMSGSIZE when the only frames that
 * came back could not be decoded, or a ZeroMQ error. */
int yard__conn_request (yard__conn_t *conn, yard_env_t *req, int64_t timeout_ms,
                        int flags, yard_env_t **reply, yard_error_t *err);

/* Pipelined requests, none sent twice.  yard__conn_ids reserves n
 * consecutive request ids (the first returned); yard__conn_send sends req
 * with one of them without waiting; yard__conn_recv waits up to timeout_ms
 * for the reply to any request with an id in [lo, hi] (anything else is
 * dropped), to *reply (free with yard_msg_free).  Both return 0 or a
 * negative errno with err filled, as yard__conn_request does.  A send
 * that fails with -EMSGSIZE (too large) or -EAGAIN (the socket's queue is
 * full: receive answers first) queued nothing and leaves the requests
 * sent before as they were; after any other failure (-ETIMEDOUT among
 * others) the socket has been closed, so the requests still waiting will
 * get no answer. */
uint64_t yard__conn_ids (yard__conn_t *conn, uint64_t n);
int yard__conn_send (yard__conn_t *conn, yard_env_t *req, uint64_t id,
                     yard_error_t *err);
int yard__conn_recv (yard__conn_t *conn, uint64_t lo, uint64_t hi,
                     int64_t timeout_ms, yard_env_t **reply,
                     yard_error_t *err);

#endif
