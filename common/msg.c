/* msg.c - see msg.h.
 *
 * The envelope's own layer is read and written here, its body by
 * protobuf-c.  protobuf-c packs, sizes, unpacks and frees a message by
 * walking every field descriptor of its type, and the envelope has one per
 * body type (63): walking them to find the one body set was about a tenth
 * of the scheduler's instructions per job (callgrind, scheduler-core
 * load), more than the bodies themselves.  An envelope is version (field
 * 1), request_id (2) and one body (a message field): encode writes these
 * three fields as protobuf-c would, in field order, with the same bytes
 * (tests/unit/test_msg.c compares them for every body type), and has
 * protobuf-c pack the body alone.  Decode reads a frame of that shape the
 * same way and has protobuf-c unpack the body alone; a frame of any other
 * shape (a field twice, an unknown field, a field of the wrong wire type,
 * anything truncated or invalid) goes to yard__envelope__unpack whole,
 * which decides as it always did.
 */
#include "msg.h"

#include <errno.h>
#include <stdbool.h>
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

/* Wire types (the low 3 bits of a field's key). */
enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static size_t
varint_size (uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t
varint_put (uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* The longest key or length prefix protobuf-c reads (its
 * parse_tag_and_wiretype and scan_length_prefix): a frame with a longer
 * one goes to protobuf-c, which refuses it. */
#define PBC_MAX_PREFIX 5

/* A varint at p (at most len bytes) into *v: its length in bytes, or 0 if
 * it is truncated or longer than a uint64 (the decoder then leaves the
 * frame to protobuf-c). */
static size_t
varint_get (const uint8_t *p, size_t len, uint64_t *v)
{
    uint64_t r = 0;
    for (size_t i = 0; i < len && i < 10; i++) {
        if (i == 9 && p[i] > 1)
            return 0;
        r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

/* The body field numbered num of the envelope, or NULL if there is none
 * (or it is not a message: every body is). */
static const ProtobufCFieldDescriptor *
body_field_of (uint64_t num)
{
    if (num <= 2 || num > UINT32_MAX)
        return NULL;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field (
        &yard__envelope__descriptor, (unsigned)num);
    return f && f->type == PROTOBUF_C_TYPE_MESSAGE
                   && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
               ? f
               : NULL;
}

static ProtobufCMessage **
body_slot (const yard_env_t *env, const ProtobufCFieldDescriptor *f)
{
    return (ProtobufCMessage **)((char *)env + f->offset);
}

/* The field of env's body and, in *body, the body itself; NULL if env is
 * not of the shape this file writes itself (no body set, or unknown fields
 * kept from a decode). */
static const ProtobufCFieldDescriptor *
body_of (const yard_env_t *env, ProtobufCMessage **body)
{
    if (env->body_case == YARD__ENVELOPE__BODY__NOT_SET
        || env->base.n_unknown_fields)
        return NULL;
    const ProtobufCFieldDescriptor *f = body_field_of (env->body_case);
    if (!f || !(*body = *body_slot (env, f)))
        return NULL;
    return f;
}

/* A frame of exactly a version, a request id (either may be absent, as
 * protobuf-c leaves out a zero) and one body, in any order, each once: its
 * envelope, with the body unpacked by protobuf-c.  NULL for any other
 * frame (and if the body does not unpack, or out of memory): the caller
 * then has protobuf-c read the whole frame. */
static yard_env_t *
decode_plain (const uint8_t *p, size_t len)
{
    uint64_t version = 0, request_id = 0, blen = 0;
    bool has_version = false, has_request_id = false;
    const ProtobufCFieldDescriptor *f = NULL;
    const uint8_t *bp = NULL;
    size_t o = 0;
    while (o < len) {
        uint64_t key;
        /* protobuf-c refuses a key, or a length prefix, of more than 5
         * bytes (even one that only pads a small number with 0x80s) */
        size_t k = varint_get (p + o, len - o, &key);
        if (!k || k > PBC_MAX_PREFIX)
            return NULL;
        o += k;
        uint64_t num = key >> 3;
        unsigned wire = (unsigned)(key & 7);
        if (wire == WIRE_VARINT && num == 1 && !has_version) {
            k = varint_get (p + o, len - o, &version);
            if (!k || version > UINT32_MAX)
                return NULL;
            has_version = true;
        } else if (wire == WIRE_VARINT && num == 2 && !has_request_id) {
            if (!(k = varint_get (p + o, len - o, &request_id)))
                return NULL;
            has_request_id = true;
        } else if (wire == WIRE_LEN && !f && (f = body_field_of (num))) {
            if (!(k = varint_get (p + o, len - o, &blen))
                || k > PBC_MAX_PREFIX || blen > len - o - k)
                return NULL;
            bp = p + o + k;
            k += (size_t)blen;
        } else {
            return NULL;
        }
        o += k;
    }
    if (!f)
        return NULL;
    ProtobufCMessage *body = protobuf_c_message_unpack (f->descriptor, NULL,
                                                        (size_t)blen, bp);
    if (!body)
        return NULL;
    yard_env_t *env = malloc (sizeof *env);
    if (!env) {
        protobuf_c_message_free_unpacked (body, NULL);
        return NULL;
    }
    yard__envelope__init (env);
    env->version = (uint32_t)version;
    env->request_id = request_id;
    env->body_case = (Yard__Envelope__BodyCase)f->id;
    *body_slot (env, f) = body;
    return env;
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
    yard_env_t *env = decode_plain (data, len);
    if (!env)
        env = yard__envelope__unpack (NULL, len, data);
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
        /* the envelope holds nothing but its body (and unknown fields,
         * which protobuf-c frees) */
        ProtobufCMessage *body;
        if (body_of (*env, &body)) {
            protobuf_c_message_free_unpacked (body, NULL);
            free (*env);
        } else {
            yard__envelope__free_unpacked (*env, NULL);
        }
        *env = NULL;
    }
}

int
yard_msg_encode (yard_env_t *env, uint8_t **buf, size_t *len)
{
    env->version = YARD_PROTOCOL_VERSION;
    ProtobufCMessage *body = NULL;
    const ProtobufCFieldDescriptor *f = body_of (env, &body);
    size_t n, blen = 0;
    if (f) {
        blen = protobuf_c_message_get_packed_size (body);
        n = (env->version ? 1 + varint_size (env->version) : 0)
            + (env->request_id ? 1 + varint_size (env->request_id) : 0)
            + varint_size ((uint64_t)f->id << 3 | WIRE_LEN)
            + varint_size (blen) + blen;
    } else {
        n = yard__envelope__get_packed_size (env);
    }
    if (n > YARD_MAX_FRAME)
        return -EMSGSIZE;
    uint8_t *b = malloc (n ? n : 1);
    if (!b)
        return -ENOMEM;
    if (f) {
        size_t o = 0;
        if (env->version) {
            b[o++] = 1 << 3 | WIRE_VARINT;
            o += varint_put (b + o, env->version);
        }
        if (env->request_id) {
            b[o++] = 2 << 3 | WIRE_VARINT;
            o += varint_put (b + o, env->request_id);
        }
        o += varint_put (b + o, (uint64_t)f->id << 3 | WIRE_LEN);
        o += varint_put (b + o, blen);
        protobuf_c_message_pack (body, b + o);
    } else {
        yard__envelope__pack (env, b);
    }
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
