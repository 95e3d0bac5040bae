/* msg.h - the wire codec: one Envelope per ZeroMQ frame.
 *
 * Decoding is defensive: a frame larger than YARD_MAX_FRAME, one that is not
 * a valid Envelope, one with another major protocol version, or one with no
 * body is refused with an error that says which; nothing here asserts on
 * input.  Sending never blocks (ZMQ_DONTWAIT): a full pipe is an error the
 * caller logs, never a stalled loop.
 */
#ifndef YARD_MSG_H
#define YARD_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "yard.pb-c.h"

#define YARD_PROTOCOL_VERSION 1
#define YARD_MAX_FRAME (4u * 1024 * 1024)
#define YARD_MAX_ROUTING_ID 255

typedef Yard__Envelope yard_env_t;

/* A ROUTER peer's routing id, copied out of the identity frame. */
typedef struct yard_peer {
    uint8_t id[YARD_MAX_ROUTING_ID];
    size_t len;
} yard_peer_t;

/* Hex of the peer id into buf (for logs).  Returns buf. */
const char *yard_peer_str (const yard_peer_t *peer, char *buf, size_t len);

/* Decode one frame.  On success *out owns the envelope (free it with
 * yard_msg_free).  Returns 0, -EMSGSIZE (too large), -EBADMSG (not an
 * envelope or no body), or -EPROTO (other major version, err->request_id
 * set to the envelope's request id), filling err. */
int yard_msg_decode (const void *data, size_t len, yard_env_t **out,
                     yard_error_t *err);

void yard_msg_free (yard_env_t **env);

/* Encode env (its version field is set to YARD_PROTOCOL_VERSION) into a
 * malloc'd buffer.  Returns 0, -EMSGSIZE or -ENOMEM. */
int yard_msg_encode (yard_env_t *env, uint8_t **buf, size_t *len);

/* Send env on sock, preceded by the peer's identity frame when peer is not
 * NULL (ROUTER sockets).  Non-blocking.  Returns 0 or a negative errno
 * (-EAGAIN: the peer's pipe is full; -EHOSTUNREACH: unknown peer). */
int yard_msg_send (void *sock, const yard_peer_t *peer, yard_env_t *env);

/* Send an already encoded envelope (from yard_msg_encode); buf is consumed
 * whatever happens (handed to ZeroMQ without a copy, or freed).  Returns as
 * yard_msg_send. */
int yard_msg_send_buf (void *sock, const yard_peer_t *peer, uint8_t *buf,
                       size_t len);

/* Receive one message without blocking.  For a ROUTER pass peer to get the
 * identity frame.  Returns 0 with *out set, -EAGAIN when nothing is waiting,
 * or another negative errno for a malformed message (already consumed whole,
 * err says why; peer is filled when known). */
int yard_msg_recv (void *sock, yard_peer_t *peer, yard_env_t **out,
                   yard_error_t *err);

/* Name of the body's message type, for logs ("submit", "heartbeat", ...). */
const char *yard_msg_type_name (const yard_env_t *env);

/* Initialise env as an ErrorReply answer to request_id.  err_body must live
 * until the send. */
void yard_msg_error_init (yard_env_t *env, Yard__ErrorReply *err_body,
                          uint64_t request_id, int code, const char *text);

#endif
