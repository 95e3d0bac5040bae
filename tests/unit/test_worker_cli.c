/* test_worker_cli.c - yard-worker's command line: defaults, validation,
 * and the --insecure rule for a scheduler that is not on this machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define ARGV(...)                                                             \
    (char *[]) { "yard-worker", __VA_ARGS__, NULL }
#define ARGC(...)                                                             \
    ((int)(sizeof (char *[]){ "yard-worker", __VA_ARGS__ } / sizeof (char *)))

static int
parse (int argc, char **argv, struct cli_opts *o, yard_error_t *err)
{
    return cli_parse (argc, argv, o, err);
}

static void
test_defaults (void **state)
{
    (void)state;
    struct cli_opts o;
    yard_error_t err = { 0 };
    char *argv[] = { "yard-worker", NULL };
    setenv ("XDG_STATE_HOME", "/xdg/state", 1);
    assert_int_equal (parse (1, argv, &o, &err), 0);
    assert_string_equal (o.endpoint, YARD_DEFAULT_WORKER_EP);
    char host[256] = "";
    gethostname (host, sizeof host - 1);
    if (cli_name_valid (host)) {
        assert_string_equal (o.name, host);
        char want[512];
        snprintf (want, sizeof want, "/xdg/state/yard/worker-%s", host);
        assert_string_equal (o.workdir, want);
    }
    assert_int_equal (o.cpus, (uint32_t)sysconf (_SC_NPROCESSORS_ONLN));
    assert_true (o.memory_bytes > 0);
    assert_false (o.insecure);
    assert_false (o.help);

    /* no XDG_STATE_HOME (or a relative one): under HOME */
    setenv ("XDG_STATE_HOME", "relative", 1);
    setenv ("HOME", "/home/u", 1);
    assert_int_equal (
        parse (ARGC ("--name", "n1"), ARGV ("--name", "n1"), &o, &err), 0);
    assert_string_equal (o.workdir, "/home/u/.local/state/yard/worker-n1");
    unsetenv ("XDG_STATE_HOME");
    unsetenv ("HOME");
    assert_int_equal (
        parse (ARGC ("--name", "n1"), ARGV ("--name", "n1"), &o, &err),
        -EINVAL);
    assert_non_null (strstr (err.text, "--work-dir"));
    /* --work-dir needs neither */
    assert_int_equal (parse (ARGC ("--name", "n1", "--work-dir", "d"),
                             ARGV ("--name", "n1", "--work-dir", "d"), &o,
                             &err),
                      0);
    assert_string_equal (o.workdir, "d");
    setenv ("HOME", "/home/u", 1);
}

static void
test_options (void **state)
{
    (void)state;
    struct cli_opts o;
    yard_error_t err = { 0 };
    assert_int_equal (
        parse (ARGC ("--scheduler", "ipc:///tmp/s", "--name", "gpu-01.a_b",
                     "--work-dir", "/w", "--cpus", "8", "--memory", "16G",
                     "--log-level", "debug", "--syslog"),
               ARGV ("--scheduler", "ipc:///tmp/s", "--name", "gpu-01.a_b",
                     "--work-dir", "/w", "--cpus", "8", "--memory", "16G",
                     "--log-level", "debug", "--syslog"),
               &o, &err),
        0);
    assert_string_equal (o.endpoint, "ipc:///tmp/s");
    assert_string_equal (o.name, "gpu-01.a_b");
    assert_string_equal (o.workdir, "/w");
    assert_int_equal (o.cpus, 8);
    assert_int_equal (o.memory_bytes, 16ull << 30);
    assert_int_equal (o.log_level, 7);
    assert_true (o.use_syslog);

    assert_int_equal (parse (ARGC ("--name=x", "--cpus=2"),
                             ARGV ("--name=x", "--cpus=2"), &o, &err),
                      0);
    assert_string_equal (o.name, "x");
    assert_int_equal (o.cpus, 2);

    assert_int_equal (parse (ARGC ("--help"), ARGV ("--help"), &o, &err), 0);
    assert_true (o.help);
    assert_int_equal (parse (ARGC ("-V"), ARGV ("-V"), &o, &err), 0);
    assert_true (o.version);
}

/* --help names the environment variables the worker reads: the fixture
 * backends, the libraries it loads, the cgroup root and the shim. */
static void
test_help_environment (void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&out, &len);
    assert_non_null (f);
    cli_usage (f);
    fclose (f);
    static const char *const vars[]
        = { "YARD_HWLOC_XMLFILE", "YARD_FAKE_GPUS", "YARD_CUDART",
            "YARD_NVML",          "YARD_CGROUP_ROOT", "YARD_EXEC" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        assert_non_null (strstr (out, vars[i]));
    /* every line fits an 80-column terminal */
    for (const char *p = out; *p;) {
        const char *nl = strchr (p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen (p);
        assert_true (n <= 79);
        p += n + (nl ? 1 : 0);
    }
    free (out);
}

static void
test_insecure (void **state)
{
    (void)state;
    struct cli_opts o;
    yard_error_t err = { 0 };
    assert_int_equal (
        parse (ARGC ("--scheduler", "tcp://10.1.2.3:7701", "--name", "n"),
               ARGV ("--scheduler", "tcp://10.1.2.3:7701", "--name", "n"), &o,
               &err),
        -EINVAL);
    assert_non_null (strstr (err.text, "--insecure"));
    assert_int_equal (parse (ARGC ("--scheduler", "tcp://10.1.2.3:7701",
                                   "--insecure", "--name", "n"),
                             ARGV ("--scheduler", "tcp://10.1.2.3:7701",
                                   "--insecure", "--name", "n"),
                             &o, &err),
                      0);
    assert_true (o.insecure);
    assert_int_equal (
        parse (ARGC ("--scheduler", "tcp://localhost:1", "--name", "n"),
               ARGV ("--scheduler", "tcp://localhost:1", "--name", "n"), &o,
               &err),
        0);
}

static void
test_usage_errors (void **state)
{
    (void)state;
    struct cli_opts o;
    yard_error_t err = { 0 };
    struct {
        int argc;
        char **argv;
        const char *says;
    } cases[] = {
        { ARGC ("--bogus"), ARGV ("--bogus"), "unknown option" },
        { ARGC ("--name"), ARGV ("--name"), "needs a value" },
        { ARGC ("--name", "a b"), ARGV ("--name", "a b"),
          "invalid node name" },
        { ARGC ("--name", ".x"), ARGV ("--name", ".x"), "invalid node name" },
        { ARGC ("--name", "x/y"), ARGV ("--name", "x/y"),
          "invalid node name" },
        { ARGC ("--name", "n", "--cpus", "0"),
          ARGV ("--name", "n", "--cpus", "0"), "CPU count" },
        { ARGC ("--name", "n", "--cpus", "-1"),
          ARGV ("--name", "n", "--cpus", "-1"), "CPU count" },
        { ARGC ("--name", "n", "--memory", "lots"),
          ARGV ("--name", "n", "--memory", "lots"), "size" },
        { ARGC ("--name", "n", "--memory", "0"),
          ARGV ("--name", "n", "--memory", "0"), "more than 0" },
        { ARGC ("--name", "n", "--log-level", "loud"),
          ARGV ("--name", "n", "--log-level", "loud"), "log level" },
        { ARGC ("--name", "n", "--scheduler", "http://x"),
          ARGV ("--name", "n", "--scheduler", "http://x"), "endpoint" },
        { ARGC ("--name", "n", "--work-dir", ""),
          ARGV ("--name", "n", "--work-dir", ""), "empty" },
        { ARGC ("--name", "n", "stray"), ARGV ("--name", "n", "stray"),
          "unexpected argument" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        yard_error_clear (&err);
        assert_int_equal (parse (cases[i].argc, cases[i].argv, &o, &err),
                          -EINVAL);
        if (!strstr (err.text, cases[i].says))
            fail_msg ("case %zu: '%s' does not say '%s'", i, err.text,
                      cases[i].says);
    }
}

static void
test_name_rule (void **state)
{
    (void)state;
    assert_true (cli_name_valid ("w1"));
    assert_true (cli_name_valid ("node-01.cluster_a"));
    assert_false (cli_name_valid (""));
    assert_false (cli_name_valid ("-x"));
    assert_false (cli_name_valid ("a:b"));
    char longname[80];
    memset (longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false (cli_name_valid (longname));
    longname[CLI_NAME_MAX] = '\0';
    assert_true (cli_name_valid (longname));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults),
        cmocka_unit_test (test_options),
        cmocka_unit_test (test_insecure),
        cmocka_unit_test (test_usage_errors),
        cmocka_unit_test (test_help_environment),
        cmocka_unit_test (test_name_rule),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
