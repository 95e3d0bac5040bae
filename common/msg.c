/* msg.c - see msg.h. */
#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

const char *
yard_peer_str (const yard_peer_t *peer, char *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (len == 0)
        return buf;
    for (size_t i = 0; peer && i < peer->len && o + 3 <= len; i++) {
        buf[o++] = hex[peer->id[i] >> 4];
        buf[o++] = hex[peer->id[i] & 15];
    }
    buf[o] = '\0';
    if (o == 0 && len > 1)
        snprintf (buf, len, "-");
    return buf;
}

int
yard_msg_decode (const void *data, size_t len, yard_env_t **out,
                 yard_error_t *err)
{
    *out = NULL;
    if (len > YARD_MAX_FRAME)
        return yard_errorf (err, EMSGSIZE,
                            "frame of %zu bytes exceeds the %u byte limit",
                            len, YARD_MAX_FRAME);
    yard_env_t *env = yard__envelope__unpack (NULL, len, data);
    if (!env)
        return yard_errorf (err, EBADMSG,
                            "frame of %zu bytes is not a valid envelope", len);
    if (env->version != YARD_PROTOCOL_VERSION) {
        uint32_t v = env->version;
        uint64_t id = env->request_id;
        yard__envelope__free_unpacked (env, NULL);
        int rc = yard_errorf (err, EPROTO,
                              "protocol version %u is not supported "
                              "(this side speaks %u)", v,
                              YARD_PROTOCOL_VERSION);
        if (err) /* so the peer can be answered about this very request */
            err->request_id = id;
        return rc;
    }
    if (env->body_case == YARD__ENVELOPE__BODY__NOT_SET) {
        yard__envelope__free_unpacked (env, NULL);
        return yard_errorf (err, EBADMSG, "envelope has no body");
    }
    *out = env;
    return 0;
}

void
yard_msg_free (yard_env_t **env)
{
    if (env && *env) {
        yard__envelope__free_unpacked (*env, NULL);
        *env = NULL;
    }
}

int
yard_msg_encode (yard_env_t *env, uint8_t **buf, size_t *len)
{
    env->version = YARD_PROTOCOL_VERSION;
    size_t n = yard__envelope__get_packed_size (env);
    if (n > YARD_MAX_FRAME)
        return -EMSGSIZE;
    uint8_t *b = malloc (n ? n : 1);
    if (!b)
        return -ENOMEM;
    yard__envelope__pack (env, b);
    *buf = b;
    *len = n;
    return 0;
}

static void
free_buf (void *data, void *hint)
{
    (void)hint;
    free (data);
}

int
yard_msg_send_buf (void *sock, const yard_peer_t *peer, uint8_t *buf,
                   size_t len)
{
    if (peer) {
        if (zmq_send (sock, peer->id, peer->len, ZMQ_SNDMORE | ZMQ_DONTWAIT)
            < 0) {
            int e = errno;
            free (buf);
            return -e;
        }
    }
    /* Once the identity frame is accepted, ZeroMQ takes the rest of the
     * message whole (multipart messages are atomic). */
    zmq_msg_t m;
    if (zmq_msg_init_data (&m, buf, len, free_buf, NULL) < 0) {
        free (buf);
        return -ENOMEM;
    }
    if (zmq_msg_send (&m, sock, ZMQ_DONTWAIT) < 0) {
        int e = errno;
        zmq_msg_close (&m);
        return -e;
    }
    return 0;
}

int
yard_msg_send (void *sock, const yard_peer_t *peer, yard_env_t *env)
{
    uint8_t *buf;
    size_t len;
    int rc = yard_msg_encode (env, &buf, &len);
    if (rc < 0)
        return rc;
    return yard_msg_send_buf (sock, peer, buf, len);
}

/* Read and drop the rest of a multipart message. */
static void
drain_parts (void *sock)
{
    int more = 1;
    size_t sz = sizeof more;
    while (zmq_getsockopt (sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&m);
            break;
        }
        zmq_msg_close (&m);
    }
}

static int
more_parts (void *sock)
{
    int more = 0;
    size_t sz = sizeof more;
    if (zmq_getsockopt (sock, ZMQ_RCVMORE, &more, &sz) < 0)
        return 0;
    return more;
}

int
yard_msg_recv (void *sock, yard_peer_t *peer, yard_env_t **out,
               yard_error_t *err)
{
    *out = NULL;
    zmq_msg_t m;
    if (peer) {
        peer->len = 0;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, sock, ZMQ_DONTWAIT) < 0) {
            int e = errno;
            zmq_msg_close (&m);
            return -e;
        }
        size_t n = zmq_msg_size (&m);
        if (n > YARD_MAX_ROUTING_ID)
            n = YARD_MAX_ROUTING_ID;
        memcpy (peer->id, zmq_msg_data (&m), n);
        peer->len = n;
        zmq_msg_close (&m);
        if (!more_parts (sock))
            return yard_errorf (err, EBADMSG, "message has no payload frame");
    }
    zmq_msg_init (&m);
    if (zmq_msg_recv (&m, sock, ZMQ_DONTWAIT) < 0) {
        int e = errno;
        zmq_msg_close (&m);
        if (peer) /* identity arrived, payload must follow at once */
            return yard_errorf (err, EBADMSG, "truncated message");
        return -e;
    }
    if (more_parts (sock)) {
        drain_parts (sock);
        zmq_msg_close (&m);
        return yard_errorf (err, EBADMSG,
                            "message has more than one payload frame");
    }
    int rc = yard_msg_decode (zmq_msg_data (&m), zmq_msg_size (&m), out, err);
    zmq_msg_close (&m);
    return rc;
}

const char *
yard_msg_type_name (const yard_env_t *env)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field (
        &yard__envelope__descriptor, (unsigned)env->body_case);
    return f ? f->name : "unknown";
}

void
yard_msg_error_init (yard_env_t *env, Yard__ErrorReply *err_body,
                     uint64_t request_id, int code, const char *text)
{
    yard__envelope__init (env);
    yard__error_reply__init (err_body);
    err_body->code = code < 0 ? -code : code;
    err_body->message = (char *)(text ? text : "");
    env->request_id = request_id;
    env->body_case = YARD__ENVELOPE__BODY_ERROR;
    env->error = err_body;
}
