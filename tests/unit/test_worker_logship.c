/* test_worker_logship.c - log shipping offsets: one chunk in flight,
 * chunk size cap, resend after the ack timeout, acks that go backwards,
 * bogus acks, rewind after a register, completion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "logship.h"

static void
test_empty_log (void **state)
{
    (void)state;
    struct logship ls;
    uint64_t off;
    size_t len;
    logship_init (&ls);
    assert_false (logship_next (&ls, 0, 0, &off, &len));
    assert_true (logship_complete (&ls, 0));
    assert_false (logship_complete (&ls, 1));
}

static void
test_one_in_flight (void **state)
{
    (void)state;
    struct logship ls;
    uint64_t off;
    size_t len;
    logship_init (&ls);
    assert_true (logship_next (&ls, 100, 1000, &off, &len));
    assert_int_equal (off, 0);
    assert_int_equal (len, 100);
    logship_sent (&ls, off, len, 1000);
    /* more data, but a chunk is in flight */
    assert_false (logship_next (&ls, 500, 1001, &off, &len));
    assert_false (logship_complete (&ls, 100));
    assert_int_equal (logship_ack (&ls, 100, 500), 0);
    assert_int_equal (ls.acked, 100);
    assert_true (logship_next (&ls, 500, 1002, &off, &len));
    assert_int_equal (off, 100);
    assert_int_equal (len, 400);
    logship_sent (&ls, off, len, 1002);
    assert_int_equal (logship_ack (&ls, 500, 500), 0);
    assert_false (logship_next (&ls, 500, 1003, &off, &len));
    assert_true (logship_complete (&ls, 500));
}

static void
test_chunk_cap (void **state)
{
    (void)state;
    struct logship ls;
    uint64_t off;
    size_t len;
    uint64_t size = 3ull * LOGSHIP_CHUNK_MAX + 7;
    logship_init (&ls);
    int chunks = 0;
    while (logship_next (&ls, size, 0, &off, &len)) {
        assert_int_equal (off, ls.acked);
        assert_true (len <= LOGSHIP_CHUNK_MAX);
        logship_sent (&ls, off, len, 0);
        logship_ack (&ls, off + len, size);
        chunks++;
    }
    assert_int_equal (chunks, 4);
    assert_true (logship_complete (&ls, size));
}

static void
test_resend_after_timeout (void **state)
{
    (void)state;
    struct logship ls;
    uint64_t off;
    size_t len;
    logship_init (&ls);
    logship_ack (&ls, 10, 10); /* the scheduler holds 10 already */
    assert_true (logship_next (&ls, 50, 0, &off, &len));
    logship_sent (&ls, off, len, 0);
    assert_false (
        logship_next (&ls, 80, LOGSHIP_ACK_TIMEOUT_MS - 1, &off, &len));
    /* no ack in time: again from what is acknowledged, with what is new */
    assert_true (logship_next (&ls, 80, LOGSHIP_ACK_TIMEOUT_MS, &off, &len));
    assert_int_equal (off, 10);
    assert_int_equal (len, 70);
}

static void
test_ack_goes_back (void **state)
{
    (void)state;
    struct logship ls;
    uint64_t off;
    size_t len;
    logship_init (&ls);
    logship_sent (&ls, 0, 100, 0);
    logship_ack (&ls, 100, 200);
    logship_sent (&ls, 100, 100, 0);
    /* a scheduler that lost its tail answers with what it holds */
    assert_int_equal (logship_ack (&ls, 40, 200), 0);
    assert_true (logship_next (&ls, 200, 1, &off, &len));
    assert_int_equal (off, 40);
    assert_int_equal (len, 160);
}

static void
test_bogus_ack (void **state)
{
    (void)state;
    struct logship ls;
    logship_init (&ls);
    logship_sent (&ls, 0, 10, 0);
    assert_int_equal (logship_ack (&ls, 1000, 10), -ERANGE);
    assert_int_equal (ls.acked, 10);
    assert_true (logship_complete (&ls, 10));
}

static void
test_rewind (void **state)
{
    (void)state;
    struct logship ls;
    uint64_t off;
    size_t len;
    logship_init (&ls);
    logship_ack (&ls, 30, 30);
    logship_sent (&ls, 30, 20, 5);
    assert_false (logship_next (&ls, 50, 6, &off, &len));
    logship_rewind (&ls);
    assert_true (logship_next (&ls, 50, 6, &off, &len));
    assert_int_equal (off, 30);
    assert_int_equal (len, 20);
}

/* a log the job truncated: nothing to send, never a negative length */
static void
test_shrunk_log (void **state)
{
    (void)state;
    struct logship ls;
    uint64_t off;
    size_t len;
    logship_init (&ls);
    logship_ack (&ls, 100, 100);
    assert_false (logship_next (&ls, 20, 0, &off, &len));
    assert_true (logship_complete (&ls, 20));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_empty_log),
        cmocka_unit_test (test_one_in_flight),
        cmocka_unit_test (test_chunk_cap),
        cmocka_unit_test (test_resend_after_timeout),
        cmocka_unit_test (test_ack_goes_back),
        cmocka_unit_test (test_bogus_ack),
        cmocka_unit_test (test_rewind),
        cmocka_unit_test (test_shrunk_log),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
