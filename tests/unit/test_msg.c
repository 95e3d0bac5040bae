/* test_msg.c - the wire codec: round trips, and every way a frame can be
 * refused (oversized, garbage, wrong version, no body, wrong framing). */
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
        cmocka_unit_test (test_refusals),
        cmocka_unit_test (test_error_init),
        cmocka_unit_test (test_sockets),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
