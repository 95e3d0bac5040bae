/* test_msg.c - the wire codec: round trips, the same bytes as protobuf-c
 * for every body type and the same reading of unusual frames, and every
 * way a frame can be refused (oversized, garbage, wrong version, no body,
 * wrong framing). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "msg.h"

/* The bytes protobuf-c writes for env (its version set as
 * yard_msg_encode sets it), into a malloc'd *buf. */
static size_t
reference_pack (yard_env_t *env, uint8_t **buf)
{
    env->version = YARD_PROTOCOL_VERSION;
    size_t n = yard__envelope__get_packed_size (env);
    *buf = malloc (n ? n : 1);
    assert_non_null (*buf);
    assert_int_equal (yard__envelope__pack (env, *buf), n);
    return n;
}

static void
expect_reference_bytes (yard_env_t *env)
{
    uint8_t *got, *want;
    size_t n;
    assert_int_equal (yard_msg_encode (env, &got, &n), 0);
    size_t m = reference_pack (env, &want);
    assert_int_equal (n, m);
    assert_memory_equal (got, want, n);
    free (got);
    free (want);
}

static void
test_round_trip (void **state)
{
    (void)state;
    yard_env_t env = YARD__ENVELOPE__INIT;
    Yard__SubmitRequest sub = YARD__SUBMIT_REQUEST__INIT;
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    char *argv[] = {"python3", "train.py", "--epochs", "3"};
    spec.argv = argv;
    spec.n_argv = 4;
    spec.cpus = 2;
    spec.memory_bytes = 1ULL << 33;
    spec.priority = -5;
    sub.spec = &spec;
    env.request_id = 77;
    env.body_case = YARD__ENVELOPE__BODY_SUBMIT;
    env.submit = &sub;

    uint8_t *buf;
    size_t len;
    assert_int_equal (yard_msg_encode (&env, &buf, &len), 0);
    expect_reference_bytes (&env);
    yard_env_t *out;
    yard_error_t err;
    assert_int_equal (yard_msg_decode (buf, len, &out, &err), 0);
    assert_int_equal (out->version, YARD_PROTOCOL_VERSION);
    assert_int_equal (out->request_id, 77);
    assert_int_equal (out->body_case, YARD__ENVELOPE__BODY_SUBMIT);
    assert_int_equal (out->submit->spec->n_argv, 4);
    assert_string_equal (out->submit->spec->argv[1], "train.py");
    assert_int_equal (out->submit->spec->cpus, 2);
    assert_int_equal (out->submit->spec->memory_bytes, 1ULL << 33);
    assert_int_equal (out->submit->spec->priority, -5);
    assert_string_equal (yard_msg_type_name (out), "submit");
    yard_msg_free (&out);
    assert_null (out);
    yard_msg_free (&out); /* NULL is fine */
    free (buf);
}

/* Every body type, empty, under request ids of every varint length: the
 * encoder writes what protobuf-c writes, and the decoder reads it back to
 * an envelope that protobuf-c packs to the same bytes. */
static void
test_every_body_as_protobuf_c (void **state)
{
    (void)state;
    static const uint64_t ids[] = {0, 1, 127, 128, 300, 1ULL << 32,
                                   UINT64_MAX};
    const ProtobufCMessageDescriptor *d = &yard__envelope__descriptor;
    unsigned bodies = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        assert_int_equal (f->type, PROTOBUF_C_TYPE_MESSAGE);
        const ProtobufCMessageDescriptor *bd = f->descriptor;
        for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
            void *body = calloc (1, bd->sizeof_message);
            assert_non_null (body);
            protobuf_c_message_init (bd, body);
            yard_env_t env = YARD__ENVELOPE__INIT;
            env.request_id = ids[k];
            env.body_case = (Yard__Envelope__BodyCase)f->id;
            *(void **)((char *)&env + f->offset) = body;
            expect_reference_bytes (&env);
            uint8_t *buf;
            size_t n;
            assert_int_equal (yard_msg_encode (&env, &buf, &n), 0);
            yard_env_t *out = NULL;
            assert_int_equal (yard_msg_decode (buf, n, &out, NULL), 0);
            assert_int_equal (out->body_case, f->id);
            assert_int_equal (out->request_id, ids[k]);
            assert_int_equal (out->version, YARD_PROTOCOL_VERSION);
            assert_non_null (*(void **)((char *)out + f->offset));
            uint8_t *again;
            size_t m = reference_pack (out, &again);
            assert_int_equal (m, n);
            assert_memory_equal (again, buf, n);
            free (again);
            free (buf);
            yard_msg_free (&out);
            free (body);
        }
        bodies++;
    }
    assert_true (bodies >= 60); /* every body type, not a few */
}

/* A frame decodes as protobuf-c decodes it: refused alike, or accepted as
 * an envelope that protobuf-c packs to the same bytes. */
static void
expect_decoded_as_protobuf_c (const uint8_t *frame, size_t len)
{
    yard_env_t *ref = yard__envelope__unpack (NULL, len, frame);
    yard_env_t *got = NULL;
    int rc = yard_msg_decode (frame, len, &got, NULL);
    if (!ref) {
        assert_int_equal (rc, -EBADMSG);
        return;
    }
    if (ref->version != YARD_PROTOCOL_VERSION)
        assert_int_equal (rc, -EPROTO);
    else if (ref->body_case == YARD__ENVELOPE__BODY__NOT_SET)
        assert_int_equal (rc, -EBADMSG);
    else {
        assert_int_equal (rc, 0);
        uint8_t *a, *b;
        size_t n = reference_pack (ref, &a), m = reference_pack (got, &b);
        assert_int_equal (n, m);
        assert_memory_equal (a, b, n);
        free (a);
        free (b);
        yard_msg_free (&got);
    }
    yard__envelope__free_unpacked (ref, NULL);
}

/* Frames of a shape yard_msg_encode never writes, each read as protobuf-c
 * reads it (the decoder hands them to it whole). */
static void
test_unusual_frames_as_protobuf_c (void **state)
{
    (void)state;
    /* a NodesRequest (field 16, key 0x82 0x01), a SubmitRequest (field 10,
     * key 0x52) holding an empty JobSpec (its field 1, key 0x0a) */
    static const struct {
        const char *what;
        uint8_t bytes[32];
        size_t len;
    } frames[] = {
        {"plain", {0x08, 0x01, 0x10, 0x05, 0x82, 0x01, 0x00}, 7},
        {"body first", {0x82, 0x01, 0x00, 0x10, 0x05, 0x08, 0x01}, 7},
        {"no request id", {0x08, 0x01, 0x82, 0x01, 0x00}, 5},
        {"version twice", {0x08, 0x02, 0x08, 0x01, 0x82, 0x01, 0x00}, 7},
        {"version twice, last wrong",
         {0x08, 0x01, 0x08, 0x02, 0x82, 0x01, 0x00}, 7},
        {"request id twice", {0x08, 0x01, 0x10, 0x05, 0x10, 0x06, 0x82, 0x01,
                              0x00}, 9},
        {"two bodies", {0x08, 0x01, 0x52, 0x00, 0x82, 0x01, 0x00}, 7},
        {"one body twice", {0x08, 0x01, 0x52, 0x02, 0x0a, 0x00, 0x52, 0x00},
         8},
        {"unknown field", {0x08, 0x01, 0xa0, 0x1f, 0x07, 0x82, 0x01, 0x00}, 8},
        {"field 0", {0x08, 0x01, 0x00, 0x00, 0x82, 0x01, 0x00}, 7},
        {"version as bytes", {0x0a, 0x01, 0x01, 0x82, 0x01, 0x00}, 6},
        {"body as varint", {0x08, 0x01, 0x80, 0x01, 0x00}, 5},
        {"version past 32 bits",
         {0x08, 0x81, 0x80, 0x80, 0x80, 0x10, 0x82, 0x01, 0x00}, 9},
        {"request id of 10 bytes",
         {0x08, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0x01, 0x82, 0x01, 0x00}, 16},
        {"request id of 11 bytes",
         {0x08, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0x81, 0x01, 0x82, 0x01, 0x00}, 17},
        {"body longer than the frame", {0x08, 0x01, 0x82, 0x01, 0x05, 0x00},
         6},
        {"body not a message", {0x08, 0x01, 0x52, 0x02, 0xff, 0xff}, 6},
        {"truncated key", {0x08, 0x01, 0x82}, 3},
        {"truncated version", {0x08}, 1},
        {"no body", {0x08, 0x01, 0x10, 0x05}, 4},
        {"body of a scalar field number", {0x12, 0x00}, 2},
        /* found by the fuzzer: a length prefix of 6 bytes for 0 */
        {"length prefix of 6 bytes",
         {0x08, 0x01, 0xc2, 0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 10},
        {"length prefix of 5 bytes",
         {0x08, 0x01, 0xc2, 0x02, 0x80, 0x80, 0x80, 0x80, 0x00}, 9},
        {"key of 6 bytes",
         {0x08, 0x01, 0x82, 0x81, 0x80, 0x80, 0x80, 0x00, 0x00}, 9},
        {"key of 5 bytes",
         {0x08, 0x01, 0x82, 0x81, 0x80, 0x80, 0x00, 0x00}, 8},
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        print_message ("%s\n", frames[i].what);
        expect_decoded_as_protobuf_c (frames[i].bytes, frames[i].len);
    }
}

static void
test_refusals (void **state)
{
    (void)state;
    yard_env_t *out = (yard_env_t *)0x1;
    yard_error_t err;
    /* garbage */
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
    assert_int_equal (yard_msg_decode (junk, sizeof junk, &out, &err),
                      -EBADMSG);
    assert_null (out);
    assert_int_equal (err.code, EBADMSG);
    /* empty frame: valid protobuf, but version 0 */
    assert_int_equal (yard_msg_decode ("", 0, &out, &err), -EPROTO);
    /* oversized */
    size_t big = YARD_MAX_FRAME + 1;
    uint8_t *b = calloc (1, big);
    assert_int_equal (yard_msg_decode (b, big, &out, &err), -EMSGSIZE);
    free (b);
    /* wrong version */
    yard_env_t env = YARD__ENVELOPE__INIT;
    Yard__NodesRequest nodes = YARD__NODES_REQUEST__INIT;
    env.body_case = YARD__ENVELOPE__BODY_NODES;
    env.nodes = &nodes;
    env.version = 2;
    env.request_id = 4242;
    uint8_t buf[64];
    size_t n = yard__envelope__pack (&env, buf);
    assert_int_equal (yard_msg_decode (buf, n, &out, &err), -EPROTO);
    assert_non_null (strstr (err.text, "version 2"));
    assert_int_equal (err.request_id, 4242); /* so it can be answered */
    /* no body */
    yard_env_t empty = YARD__ENVELOPE__INIT;
    empty.version = YARD_PROTOCOL_VERSION;
    n = yard__envelope__pack (&empty, buf);
    assert_int_equal (yard_msg_decode (buf, n, &out, &err), -EBADMSG);
    /* err may be NULL */
    assert_int_equal (yard_msg_decode (junk, sizeof junk, &out, NULL),
                      -EBADMSG);
}

static void
test_error_init (void **state)
{
    (void)state;
    yard_env_t env;
    Yard__ErrorReply e;
    yard_msg_error_init (&env, &e, 9, -ENOENT, "no job 5");
    uint8_t *buf;
    size_t len;
    assert_int_equal (yard_msg_encode (&env, &buf, &len), 0);
    yard_env_t *out;
    assert_int_equal (yard_msg_decode (buf, len, &out, NULL), 0);
    assert_int_equal (out->body_case, YARD__ENVELOPE__BODY_ERROR);
    assert_int_equal (out->error->code, ENOENT);
    assert_string_equal (out->error->message, "no job 5");
    assert_int_equal (out->request_id, 9);
    yard_msg_free (&out);
    free (buf);
}

/* Real sockets: a ROUTER must survive every kind of bad framing. */
static void
test_sockets (void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new ();
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    assert_int_equal (zmq_bind (router, "inproc://t"), 0);
    assert_int_equal (zmq_connect (dealer, "inproc://t"), 0);

    yard_env_t env = YARD__ENVELOPE__INIT;
    Yard__JobRequest jr = YARD__JOB_REQUEST__INIT;
    jr.job_id = 5;
    env.body_case = YARD__ENVELOPE__BODY_JOB_STATUS;
    env.job_status = &jr;
    env.request_id = 3;

    /* 1: garbage; 2: two payload frames; 3: a good message */
    zmq_send (dealer, "garbage!", 8, 0);
    zmq_send (dealer, "a", 1, ZMQ_SNDMORE);
    zmq_send (dealer, "b", 1, 0);
    assert_int_equal (yard_msg_send (dealer, NULL, &env), 0);

    yard_peer_t peer;
    yard_env_t *out = NULL;
    yard_error_t err;
    zmq_pollitem_t pi = {router, 0, ZMQ_POLLIN, 0};
    int rc;
    int bad = 0, good = 0;
    while (good == 0 && zmq_poll (&pi, 1, 2000) > 0) {
        while ((rc = yard_msg_recv (router, &peer, &out, &err)) != -EAGAIN) {
            if (rc == 0) {
                good++;
                assert_int_equal (out->job_status->job_id, 5);
                /* reply through the routing id */
                Yard__ErrorReply e;
                yard_env_t reply;
                yard_msg_error_init (&reply, &e, out->request_id, ENOENT,
                                     "no job 5");
                assert_int_equal (yard_msg_send (router, &peer, &reply), 0);
                yard_msg_free (&out);
            } else {
                bad++;
                assert_true (peer.len > 0);
            }
        }
    }
    assert_int_equal (bad, 2);
    assert_int_equal (good, 1);

    zmq_pollitem_t pd = {dealer, 0, ZMQ_POLLIN, 0};
    assert_int_equal (zmq_poll (&pd, 1, 2000), 1);
    assert_int_equal (yard_msg_recv (dealer, NULL, &out, &err), 0);
    assert_int_equal (out->body_case, YARD__ENVELOPE__BODY_ERROR);
    assert_int_equal (out->request_id, 3);
    yard_msg_free (&out);
    assert_int_equal (yard_msg_recv (dealer, NULL, &out, &err), -EAGAIN);

    char hex[600];
    assert_true (strlen (yard_peer_str (&peer, hex, sizeof hex)) > 0);
    zmq_close (dealer);
    zmq_close (router);
    zmq_ctx_term (ctx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_every_body_as_protobuf_c),
        cmocka_unit_test (test_unusual_frames_as_protobuf_c),
        cmocka_unit_test (test_refusals),
        cmocka_unit_test (test_error_init),
        cmocka_unit_test (test_sockets),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
