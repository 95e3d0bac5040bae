/* test_util.c - parsers and formatters of common/util.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

static void
test_parse_size (void **state)
{
    (void)state;
    uint64_t b;
    yard_error_t err;
    assert_int_equal (yard_parse_size ("0", &b, &err), 0);
    assert_int_equal (b, 0);
    assert_int_equal (yard_parse_size ("512", &b, &err), 0);
    assert_int_equal (b, 512);
    assert_int_equal (yard_parse_size ("4K", &b, &err), 0);
    assert_int_equal (b, 4096);
    assert_int_equal (yard_parse_size ("16G", &b, &err), 0);
    assert_int_equal (b, 16ULL << 30);
    assert_int_equal (yard_parse_size ("1.5g", &b, &err), 0);
    assert_int_equal (b, 3ULL << 29);
    assert_int_equal (yard_parse_size ("2GiB", &b, &err), 0);
    assert_int_equal (b, 2ULL << 30);
    assert_int_equal (yard_parse_size ("100MB", &b, &err), 0);
    assert_int_equal (b, 100ULL << 20);
    assert_int_equal (yard_parse_size ("12Q", &b, &err), -EINVAL);
    assert_non_null (strstr (err.text, "12Q"));
    assert_int_equal (yard_parse_size ("", &b, &err), -EINVAL);
    assert_int_equal (yard_parse_size ("-1G", &b, &err), -EINVAL);
    assert_int_equal (yard_parse_size ("1GX", &b, &err), -EINVAL);
    assert_int_equal (yard_parse_size ("99999999999T", &b, &err), -ERANGE);
    assert_int_equal (yard_parse_size (NULL, &b, NULL), -EINVAL);
}

static void
test_parse_duration (void **state)
{
    (void)state;
    uint64_t s;
    yard_error_t err;
    assert_int_equal (yard_parse_duration ("90", &s, &err), 0);
    assert_int_equal (s, 90);
    assert_int_equal (yard_parse_duration ("90s", &s, &err), 0);
    assert_int_equal (s, 90);
    assert_int_equal (yard_parse_duration ("5m", &s, &err), 0);
    assert_int_equal (s, 300);
    assert_int_equal (yard_parse_duration ("2h", &s, &err), 0);
    assert_int_equal (s, 7200);
    assert_int_equal (yard_parse_duration ("1d", &s, &err), 0);
    assert_int_equal (s, 86400);
    assert_int_equal (yard_parse_duration ("1h30m", &s, &err), 0);
    assert_int_equal (s, 5400);
    assert_int_equal (yard_parse_duration ("1d2h3m4s", &s, &err), 0);
    assert_int_equal (s, 93784);
    assert_int_equal (yard_parse_duration ("01:02:03", &s, &err), 0);
    assert_int_equal (s, 3723);
    assert_int_equal (yard_parse_duration ("10:00", &s, &err), 0);
    assert_int_equal (s, 600);
    assert_int_equal (yard_parse_duration ("1h30", &s, &err), -EINVAL);
    assert_int_equal (yard_parse_duration ("30m1h", &s, &err), -EINVAL);
    assert_int_equal (yard_parse_duration ("1x", &s, &err), -EINVAL);
    assert_int_equal (yard_parse_duration ("", &s, &err), -EINVAL);
    assert_int_equal (yard_parse_duration ("1:2:3:4", &s, &err), -EINVAL);
    assert_int_equal (yard_parse_duration ("1::2", &s, &err), -EINVAL);
    assert_int_equal (yard_parse_duration ("-5", &s, &err), -EINVAL);
    assert_int_equal (yard_parse_duration ("999999999999d", &s, &err),
                      -ERANGE);
}

static void
test_parse_numbers (void **state)
{
    (void)state;
    uint32_t u;
    int32_t i;
    uint64_t v;
    assert_int_equal (yard_parse_u32 ("42", &u), 0);
    assert_int_equal (u, 42);
    assert_int_equal (yard_parse_u32 ("4294967296", &u), -ERANGE);
    assert_int_equal (yard_parse_u32 ("-1", &u), -EINVAL);
    assert_int_equal (yard_parse_u32 ("1a", &u), -EINVAL);
    assert_int_equal (yard_parse_u32 ("", &u), -EINVAL);
    assert_int_equal (yard_parse_i32 ("-7", &i), 0);
    assert_int_equal (i, -7);
    assert_int_equal (yard_parse_i32 ("+7", &i), 0);
    assert_int_equal (i, 7);
    assert_int_equal (yard_parse_i32 ("3000000000", &i), -ERANGE);
    assert_int_equal (yard_parse_u64 ("18446744073709551615", &v), 0);
    assert_int_equal (yard_parse_u64 ("18446744073709551616", &v), -ERANGE);
}

static void
test_format (void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal (yard_format_size (0, buf, sizeof buf), "0");
    assert_string_equal (yard_format_size (1536, buf, sizeof buf), "1.5K");
    assert_string_equal (yard_format_size (16ULL << 30, buf, sizeof buf),
                         "16G");
    assert_string_equal (yard_format_duration (45000, buf, sizeof buf), "45s");
    assert_string_equal (yard_format_duration (192000, buf, sizeof buf),
                         "3m12s");
    assert_string_equal (yard_format_duration (7500000, buf, sizeof buf),
                         "2h05m");
    assert_string_equal (yard_format_duration (273600000, buf, sizeof buf),
                         "3d04h");
    assert_string_equal (yard_format_duration (-5, buf, sizeof buf), "0s");
}

static void
test_states (void **state)
{
    (void)state;
    assert_string_equal (yard_job_state_name (YARD__JOB_STATE__JOB_RUNNING),
                         "RUNNING");
    assert_string_equal (yard_job_state_name ((Yard__JobState)99), "UNKNOWN");
    assert_int_equal (yard_job_state_parse ("completed"),
                      YARD__JOB_STATE__JOB_COMPLETED);
    assert_int_equal (yard_job_state_parse ("nope"), -1);
    assert_true (yard_job_state_is_terminal (YARD__JOB_STATE__JOB_TIMEOUT));
    assert_false (yard_job_state_is_terminal (YARD__JOB_STATE__JOB_PENDING));
}

static void
test_endpoints (void **state)
{
    (void)state;
    assert_true (yard_endpoint_is_local ("tcp://127.0.0.1:7700"));
    assert_true (yard_endpoint_is_local ("tcp://127.3.2.1:*"));
    assert_true (yard_endpoint_is_local ("tcp://localhost:1"));
    assert_true (yard_endpoint_is_local ("tcp://[::1]:5"));
    assert_true (yard_endpoint_is_local ("ipc:///tmp/x"));
    assert_false (yard_endpoint_is_local ("tcp://0.0.0.0:7700"));
    assert_false (yard_endpoint_is_local ("tcp://*:7700"));
    assert_false (yard_endpoint_is_local ("tcp://10.0.0.1:7700"));
    assert_false (yard_endpoint_is_local ("tcp://127.0.0.1;10.0.0.2:7700"));
    assert_false (yard_endpoint_is_local (NULL));
    char buf[64];
    assert_int_equal (yard_endpoint_normalize ("tcp://127.0.0.1:0", buf,
                                               sizeof buf), 0);
    assert_string_equal (buf, "tcp://127.0.0.1:*");
    assert_int_equal (yard_endpoint_normalize ("tcp://127.0.0.1:7700", buf,
                                               sizeof buf), 0);
    assert_string_equal (buf, "tcp://127.0.0.1:7700");
    assert_int_equal (yard_endpoint_normalize ("tcp://127.0.0.1:7700", buf, 4),
                      -ENAMETOOLONG);
}

static void
test_files (void **state)
{
    (void)state;
    char dir[] = "/tmp/yard-test-util-XXXXXX";
    assert_non_null (mkdtemp (dir));
    char path[256], file[300];
    snprintf (path, sizeof path, "%s/a/b/c", dir);
    assert_int_equal (yard_mkdir_p (path), 0);
    assert_int_equal (yard_mkdir_p (path), 0);
    snprintf (file, sizeof file, "%s/f", path);
    assert_int_equal (yard_write_file_atomic (file, "hello", 5), 0);
    assert_int_equal (yard_write_file_atomic (file, "bye", 3), 0);
    FILE *f = fopen (file, "r");
    assert_non_null (f);
    char buf[16] = {0};
    assert_int_equal (fread (buf, 1, sizeof buf, f), 3);
    fclose (f);
    assert_string_equal (buf, "bye");
    /* a file where a directory should be */
    snprintf (path, sizeof path, "%s/a/b/c/f/g", dir);
    assert_true (yard_mkdir_p (path) < 0);
    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal (system (cmd), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_size),
        cmocka_unit_test (test_parse_duration),
        cmocka_unit_test (test_parse_numbers),
        cmocka_unit_test (test_format),
        cmocka_unit_test (test_states),
        cmocka_unit_test (test_endpoints),
        cmocka_unit_test (test_files),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
