/* test_cli_nodeadmin.c - `yard nodes drain|resume|label|unlabel|remove`
 * parsing, the displayed state and the --json fields of a node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "cli_nodeadmin.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof ((char *[]){ __VA_ARGS__ }) / sizeof (char *)))
#define PARSE(a, e, ...) cli_parse_nodeadmin (ARGC (__VA_ARGS__),           \
                                              ARGV (__VA_ARGS__), a, e)

static void
test_parse (void **state)
{
    (void)state;
    struct cli_nodeadmin a;
    yard_error_t e = { 0 };
    assert_true (cli_nodeadmin_is_verb ("drain"));
    assert_false (cli_nodeadmin_is_verb ("show"));
    assert_false (cli_nodeadmin_is_verb (NULL));

    assert_int_equal (PARSE (&a, &e, "nodes", "drain", "w1", "--reason",
                             "swap disk", "--json"), 0);
    assert_int_equal (a.action, YARD_NODE_DRAIN);
    assert_string_equal (a.node, "w1");
    assert_string_equal (a.reason, "swap disk");
    assert_true (a.json);
    cli_nodeadmin_clear (&a);

    assert_int_equal (PARSE (&a, &e, "nodes", "drain", "--reason=x", "w1"), 0);
    assert_string_equal (a.reason, "x");
    cli_nodeadmin_clear (&a);

    assert_int_equal (PARSE (&a, &e, "nodes", "label", "w1", "gpu=a100",
                             "ib"), 0);
    assert_int_equal (a.action, YARD_NODE_LABEL);
    assert_int_equal (a.n_labels, 2);
    assert_string_equal (a.labels[1], "ib");
    cli_nodeadmin_clear (&a);

    assert_int_equal (PARSE (&a, &e, "nodes", "remove", "w1"), 0);
    assert_int_equal (a.action, YARD_NODE_REMOVE);
    cli_nodeadmin_clear (&a);

    assert_int_equal (PARSE (&a, &e, "nodes", "resume", "--help"), 0);
    assert_true (a.help);
    cli_nodeadmin_clear (&a);

    /* errors */
    assert_int_equal (PARSE (&a, &e, "nodes", "drain"), -EINVAL);
    cli_nodeadmin_clear (&a);
    assert_int_equal (PARSE (&a, &e, "nodes", "label", "w1"), -EINVAL);
    /* a bare KEY is a label too: the message says so */
    assert_non_null (strstr (e.text, "KEY[=VALUE]..."));
    cli_nodeadmin_clear (&a);
    /* --reason is optional: a drain without one says nothing more */
    assert_int_equal (PARSE (&a, &e, "nodes", "drain", "w1"), 0);
    assert_int_equal (a.action, YARD_NODE_DRAIN);
    assert_null (a.reason);
    cli_nodeadmin_clear (&a);
    assert_int_equal (PARSE (&a, &e, "nodes", "unlabel", "w1", "k=v"),
                      -EINVAL);
    cli_nodeadmin_clear (&a);
    assert_int_equal (PARSE (&a, &e, "nodes", "resume", "w1", "--reason",
                             "x"), -EINVAL);
    cli_nodeadmin_clear (&a);
    assert_int_equal (PARSE (&a, &e, "nodes", "drain", "w1", "--reason"),
                      -EINVAL);
    cli_nodeadmin_clear (&a);
    assert_int_equal (PARSE (&a, &e, "nodes", "remove", "w1", "w2"), -EINVAL);
    cli_nodeadmin_clear (&a);
    assert_int_equal (PARSE (&a, &e, "nodes", "drain", "w1", "--bogus"),
                      -EINVAL);
    assert_non_null (strstr (e.text, "--bogus"));
    cli_nodeadmin_clear (&a);
    cli_nodeadmin_clear (NULL);
}

static void
test_drain_requeue (void **state)
{
    (void)state;
    struct cli_nodeadmin a;
    yard_error_t e = { 0 };
    assert_int_equal (PARSE (&a, &e, "nodes", "drain", "w1", "--requeue",
                             "--reason", "swap disk"), 0);
    assert_true (a.requeue);
    assert_string_equal (a.node, "w1");
    cli_nodeadmin_clear (&a);
    assert_int_equal (PARSE (&a, &e, "nodes", "drain", "w1"), 0);
    assert_false (a.requeue);
    cli_nodeadmin_clear (&a);
    /* only a drain requeues */
    assert_int_equal (PARSE (&a, &e, "nodes", "resume", "w1", "--requeue"),
                      -EINVAL);
    assert_non_null (strstr (e.text, "--requeue is for 'yard nodes drain'"));
    cli_nodeadmin_clear (&a);

    /* which jobs run on a node: the attempt's node, or any gang node */
    yard_gang_node_t gang[2] = { { .node = "w1" }, { .node = "w3" } };
    yard_job_t single = { .node = "w2" };
    yard_job_t multi = { .node = "w1", .gang = gang, .n_gang = 2 };
    assert_true (cli_job_on_node (&single, "w2"));
    assert_false (cli_job_on_node (&single, "w1"));
    assert_true (cli_job_on_node (&multi, "w1"));
    assert_true (cli_job_on_node (&multi, "w3"));
    assert_false (cli_job_on_node (&multi, "w2"));
    assert_false (cli_job_on_node (NULL, "w2"));
}

static void
test_display_and_json (void **state)
{
    (void)state;
    char *labels[] = { "gpu=a100", "ib" };
    yard_node_t n = { .name = "w1", .state = YARD_NODE_UP, .cpus = 8,
                      .cpus_used = 2, .running_jobs = 1, .labels = labels,
                      .n_labels = 2, .drain = true,
                      .state_reason = "swap disk", .state_since_ms = 7 };
    assert_string_equal (yard_node_display_state (&n), "draining");
    n.running_jobs = 0;
    n.cpus_used = 0;
    assert_string_equal (yard_node_display_state (&n), "drained");
    n.drain = false;
    assert_string_equal (yard_node_display_state (&n), "idle");
    n.cpus_used = 8;
    n.running_jobs = 2;
    assert_string_equal (yard_node_display_state (&n), "allocated");
    n.cpus_used = 1;
    assert_string_equal (yard_node_display_state (&n), "mixed");
    n.state = YARD_NODE_DOWN;
    assert_string_equal (yard_node_display_state (&n), "down");
    assert_string_equal (yard_node_display_state (NULL), "unknown");

    char buf[64];
    assert_string_equal (cli_node_labels (&n, buf, sizeof buf), "gpu=a100,ib");
    assert_string_equal (cli_node_labels (&n, buf, 8), "gpu=...");
    n.n_labels = 0;
    assert_string_equal (cli_node_labels (&n, buf, sizeof buf), "-");
    n.n_labels = 2;

    json_t *o = json_object ();
    assert_true (cli_node_admin_json (o, &n));
    assert_string_equal (json_string_value (json_object_get (o,
                                                             "display_state")),
                         "down");
    assert_string_equal (json_string_value (json_object_get (o,
                                                             "state_reason")),
                         "swap disk");
    assert_int_equal (json_array_size (json_object_get (o, "labels")), 2);
    assert_int_equal (json_integer_value (json_object_get (o,
                                                           "state_since_ms")),
                      7);
    json_decref (o);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse),
        cmocka_unit_test (test_drain_requeue),
        cmocka_unit_test (test_display_and_json),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
