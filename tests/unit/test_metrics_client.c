/* test_metrics_client.c - the job-side helpers of libyard
 * (yard_metric_write, yard_metrics_log): lines on $YARD_METRICS_FD, never
 * blocking on a full pipe, no SIGPIPE when the reader is gone. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "yard/yard.h"

static void
test_helpers (void **state)
{
    (void)state;
    int p[2];
    assert_int_equal (pipe (p), 0);
    char v[16];
    snprintf (v, sizeof v, "%d", p[1]);
    setenv ("YARD_METRICS_FD", v, 1);

    assert_int_equal (yard_metrics_log (7, "loss", 0.5), 0);
    assert_int_equal (yard_metric_write ("{\"step\":8,\"acc\":1}\n"), 0);
    assert_int_equal (yard_metrics_log (9, "x", NAN), -EDOM);
    assert_int_equal (yard_metrics_log (9, "", 1), -EINVAL);
    assert_int_equal (yard_metrics_log (9, "q\"k", 1), 0);
    assert_int_equal (yard_metrics_checkpoint ("ckpt-10.pt", 10), 0);
    assert_int_equal (yard_metrics_checkpoint ("/c/a\"b\n", -1), 0);
    assert_int_equal (yard_metrics_checkpoint ("", 1), -EINVAL);
    assert_int_equal (yard_metrics_checkpoint (NULL, 1), -EINVAL);
    char buf[256];
    ssize_t n = read (p[0], buf, sizeof buf - 1);
    assert_true (n > 0);
    buf[n] = '\0';
    assert_string_equal (buf, "{\"step\":7,\"loss\":0.5}\n"
                              "{\"step\":8,\"acc\":1}\n"
                              "{\"step\":9,\"q\\\"k\":1}\n"
                              "{\"checkpoint\":\"ckpt-10.pt\",\"step\":10}\n"
                              "{\"checkpoint\":\"/c/a\\\"b\\u000a\"}\n");
    /* the inherited fd stays blocking for other writers */
    assert_false (fcntl (p[1], F_GETFL) & O_NONBLOCK);

    /* a full pipe: dropped and counted, never blocking */
    char big[4000];
    memset (big, ' ', sizeof big);
    memcpy (big, "{}", 2);
    big[sizeof big - 1] = '\0';
    int rc = 0, i;
    for (i = 0; i < 1000 && rc == 0; i++)
        rc = yard_metric_write (big);
    assert_int_equal (rc, -EAGAIN);
    assert_true (yard_metrics_dropped () >= 1);
    char huge[5000];
    memset (huge, ' ', sizeof huge);
    huge[sizeof huge - 1] = '\0';
    assert_int_equal (yard_metric_write (huge), -EMSGSIZE);

    /* the reader is gone: EPIPE, not a fatal SIGPIPE */
    close (p[0]);
    assert_int_equal (yard_metrics_log (10, "loss", 1), -EPIPE);
    close (p[1]);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_helpers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
