/* test_cron.c - cron expressions (scheduler/cron.c): parsing, errors, and
 * next fire times checked against dates worked out by hand. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cron.h"

/* unix ms of a UTC date */
static int64_t
at (int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm (&tm) * 1000;
}

static int64_t
next (const char *expr, int64_t after)
{
    yard_cron_t c;
    yard_error_t err;
    assert_int_equal (yard_cron_parse (expr, &c, &err), 0);
    return yard_cron_next (&c, after);
}

static void
test_next (void **state)
{
    (void)state;
    /* every minute: the next whole minute, strictly after */
    assert_true (next ("* * * * *", at (2024, 1, 1, 10, 7, 30))
                 == at (2024, 1, 1, 10, 8, 0));
    assert_true (next ("* * * * *", at (2024, 1, 1, 10, 7, 0))
                 == at (2024, 1, 1, 10, 8, 0));
    /* steps */
    assert_true (next ("*/15 * * * *", at (2024, 1, 1, 10, 7, 0))
                 == at (2024, 1, 1, 10, 15, 0));
    assert_true (next ("*/15 * * * *", at (2024, 1, 1, 10, 45, 0))
                 == at (2024, 1, 1, 11, 0, 0));
    assert_true (next ("5/20 * * * *", at (2024, 1, 1, 10, 26, 0))
                 == at (2024, 1, 1, 10, 45, 0));
    assert_true (next ("10-50/20 * * * *", at (2024, 1, 1, 10, 51, 0))
                 == at (2024, 1, 1, 11, 10, 0));
    /* lists, and the day rolls over; 2024-01-05 is a Friday */
    assert_true (next ("0,30 9 * * 1-5", at (2024, 1, 5, 9, 30, 0))
                 == at (2024, 1, 8, 9, 0, 0));
    /* the year rolls over */
    assert_true (next ("0 0 1 1 *", at (2024, 6, 1, 0, 0, 0))
                 == at (2025, 1, 1, 0, 0, 0));
    /* 29 February: the next leap year */
    assert_true (next ("0 0 29 2 *", at (2024, 3, 1, 0, 0, 0))
                 == at (2028, 2, 29, 0, 0, 0));
    /* both day fields restricted: either matches (Friday 5th before 13th) */
    assert_true (next ("0 0 13 * 5", at (2024, 1, 1, 0, 0, 0))
                 == at (2024, 1, 5, 0, 0, 0));
    /* day-of-month restricted, day-of-week `*`: only the 13th */
    assert_true (next ("0 0 13 * *", at (2024, 1, 1, 0, 0, 0))
                 == at (2024, 1, 13, 0, 0, 0));
    /* 7 is Sunday: 2024-01-07 */
    assert_true (next ("0 0 * * 7", at (2024, 1, 1, 0, 0, 0))
                 == at (2024, 1, 7, 0, 0, 0));
    assert_true (next ("0 0 * * 0", at (2024, 1, 1, 0, 0, 0))
                 == at (2024, 1, 7, 0, 0, 0));
    /* shortcuts */
    assert_true (next ("@hourly", at (2024, 1, 1, 10, 7, 0))
                 == at (2024, 1, 1, 11, 0, 0));
    assert_true (next ("@weekly", at (2024, 1, 1, 0, 0, 0))
                 == at (2024, 1, 7, 0, 0, 0));
    /* never: 30 February */
    assert_true (next ("0 0 30 2 *", at (2024, 1, 1, 0, 0, 0)) == -1);
}

static void
test_due (void **state)
{
    (void)state;
    yard_cron_t c;
    assert_int_equal (yard_cron_parse ("* * * * *", &c, NULL), 0);
    int64_t last = at (2024, 1, 1, 10, 0, 30);
    assert_false (yard_cron_due (&c, last, at (2024, 1, 1, 10, 0, 59)));
    assert_true (yard_cron_due (&c, last, at (2024, 1, 1, 10, 1, 0)));
    /* three hours missed: due (once: the caller moves last to now) */
    assert_true (yard_cron_due (&c, last, at (2024, 1, 1, 13, 0, 30)));
    assert_int_equal (yard_cron_parse ("0 3 * * *", &c, NULL), 0);
    assert_false (yard_cron_due (&c, at (2024, 1, 1, 3, 0, 0),
                                 at (2024, 1, 2, 2, 59, 0)));
    assert_true (yard_cron_due (&c, at (2024, 1, 1, 3, 0, 0),
                                at (2024, 1, 2, 3, 0, 0)));
}

static void
test_errors (void **state)
{
    (void)state;
    static const char *bad[] = {
        "",           "* * * *",     "* * * * * *", "60 * * * *",
        "* 24 * * *", "* * 0 * *",   "* * 32 * *",  "* * * 13 *",
        "* * * * 8",  "a * * * *",   "5-1 * * * *", "*/0 * * * *",
        "1,,2 * * * *", "1- * * * *", "@often",     "*/ * * * *",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        yard_cron_t c;
        yard_error_t err;
        yard_error_clear (&err);
        assert_int_equal (yard_cron_parse (bad[i], &c, &err), -EINVAL);
        assert_int_equal (err.code, EINVAL);
        assert_true (err.text[0] != '\0');
    }
    yard_cron_t c;
    yard_error_t err;
    assert_int_equal (yard_cron_parse ("61 * * * *", &c, &err), -EINVAL);
    assert_non_null (strstr (err.text, "minute"));
    assert_int_equal (yard_cron_parse (NULL, &c, NULL), -EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_next),
        cmocka_unit_test (test_due),
        cmocka_unit_test (test_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
