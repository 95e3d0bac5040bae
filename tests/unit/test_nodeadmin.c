/* test_nodeadmin.c - node labels and drains in the scheduler: label
 * validation, constraint and GPU-type matching, the displayed state, the
 * joined form kept in state.db, and the node_admin table itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nodeadmin.h"
#include "store.h"
#include "store_nodeadmin.h"

static void
test_label_check (void **state)
{
    (void)state;
    yard_error_t e = {0};
    static const char *const good[] = {
        "gpu", "gpu=a100", "rack.row-3_b=", "k=hello world!", "a=b=c",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal (yard_label_check (good[i], &e), 0);
    char longkey[80], longval[300];
    memset (longkey, 'k', 64);
    longkey[64] = '\0';
    snprintf (longval, sizeof longval, "k=%0256d", 0);
    static const char *const bad[] = {
        "", "=v", "bad key", "k/x=1", "k=\x01", "k=caf\xc3\xa9", "k=a\nb",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (yard_label_check (bad[i], &e), -EINVAL);
        assert_int_equal (e.code, EINVAL);
        assert_true (strlen (e.text) > 0);
    }
    assert_int_equal (yard_label_check (NULL, NULL), -EINVAL);
    assert_int_equal (yard_label_check (longkey, &e), -EINVAL);
    longkey[63] = '\0';
    assert_int_equal (yard_label_check (longkey, &e), 0);
    assert_int_equal (yard_label_check (longval, &e), -EINVAL);
    longval[strlen (longval) - 1] = '\0'; /* 255 characters */
    assert_int_equal (yard_label_check (longval, &e), 0);
}

static void
test_labels_and_constraints (void **state)
{
    (void)state;
    yard_nodeadmin_t a = {0};
    assert_int_equal (yard_nodeadmin_label_set (&a, "gpu=a100", NULL), 0);
    assert_int_equal (yard_nodeadmin_label_set (&a, "ib", NULL), 0);
    assert_int_equal (yard_nodeadmin_label_set (&a, "zone=eu", NULL), 0);
    /* same key: replaced in place */
    assert_int_equal (yard_nodeadmin_label_set (&a, "gpu=h100", NULL), 0);
    assert_int_equal (a.nlabels, 3);
    assert_string_equal (a.labels[0], "gpu=h100");
    assert_int_equal (yard_nodeadmin_label_set (&a, "bad key", NULL),
                      -EINVAL);
    assert_int_equal (a.nlabels, 3);

    assert_true (yard_nodeadmin_has (&a, "gpu"));
    assert_true (yard_nodeadmin_has (&a, "gpu=h100"));
    assert_false (yard_nodeadmin_has (&a, "gpu=a100"));
    assert_false (yard_nodeadmin_has (&a, "gp"));
    assert_true (yard_nodeadmin_has (&a, "ib"));
    assert_false (yard_nodeadmin_has (&a, "ib=1")); /* "ib" has no value */
    assert_false (yard_nodeadmin_has (&a, NULL));

    char *want[] = { "zone=eu", "gpu", "ssd" };
    assert_int_equal (yard_nodeadmin_missing (&a, want, 2), -1);
    assert_int_equal (yard_nodeadmin_missing (&a, want, 3), 2);
    assert_int_equal (yard_nodeadmin_missing (&a, want, 0), -1);

    /* joined form round trip; invalid entries are dropped on load */
    char *j = yard_nodeadmin_labels_join (&a);
    assert_string_equal (j, "gpu=h100\nib\nzone=eu");
    yard_nodeadmin_t b = {0};
    assert_int_equal (yard_nodeadmin_labels_parse (&b, j), 0);
    assert_int_equal (b.nlabels, 3);
    assert_string_equal (b.labels[2], "zone=eu");
    assert_int_equal (yard_nodeadmin_labels_parse (&b, "x=1\n\nbad key\ny"),
                      0);
    assert_int_equal (b.nlabels, 2);
    assert_string_equal (b.labels[1], "y");
    free (j);

    assert_int_equal (yard_nodeadmin_label_unset (&a, "ib"), 1);
    assert_int_equal (yard_nodeadmin_label_unset (&a, "gpu=whatever"), 1);
    assert_int_equal (yard_nodeadmin_label_unset (&a, "nope"), 0);
    assert_int_equal (a.nlabels, 1);
    assert_string_equal (a.labels[0], "zone=eu");
    j = yard_nodeadmin_labels_join (&b);
    yard_nodeadmin_clear (&b);
    assert_int_equal (yard_nodeadmin_labels_parse (&b, ""), 0);
    assert_int_equal (b.nlabels, 0);
    free (j);

    /* too many labels */
    for (int i = 0; i < YARD_LABELS_MAX + 5; i++) {
        char l[32];
        snprintf (l, sizeof l, "k%d", i);
        int rc = yard_nodeadmin_label_set (&b, l, NULL);
        assert_int_equal (rc, i < YARD_LABELS_MAX ? 0 : -E2BIG);
    }
    yard_nodeadmin_clear (&a);
    yard_nodeadmin_clear (&b);
    yard_nodeadmin_clear (NULL);
}

static void
test_drain (void **state)
{
    (void)state;
    yard_nodeadmin_t a = {0};
    assert_int_equal (yard_nodeadmin_set_drain (&a, true, true, "health "
                                                "check: bad", 5), 0);
    assert_true (a.drain && a.drain_health);
    assert_string_equal (a.reason, "health check: bad");
    assert_int_equal (a.since_ms, 5);
    assert_int_equal (yard_nodeadmin_set_drain (&a, false, true, "x", 6), 0);
    assert_false (a.drain || a.drain_health);
    assert_null (a.reason);
    yard_nodeadmin_clear (&a);
}

static void
test_gpu_type (void **state)
{
    (void)state;
    Yard__GpuInfo g0 = YARD__GPU_INFO__INIT, g1 = YARD__GPU_INFO__INIT;
    g0.name = "NVIDIA H100 80GB HBM3";
    g1.name = "NVIDIA A100-SXM4-40GB";
    Yard__GpuInfo *gs[] = { &g0, &g1 };
    Yard__Topology t = YARD__TOPOLOGY__INIT;
    t.gpus = gs;
    t.n_gpus = 2;
    assert_true (yard_gpu_type_match (&t, "h100"));
    assert_true (yard_gpu_type_match (&t, "A100-sxm"));
    assert_true (yard_gpu_type_match (&t, ""));
    assert_true (yard_gpu_type_match (&t, NULL));
    assert_false (yard_gpu_type_match (&t, "v100"));
    assert_false (yard_gpu_type_match (NULL, "h100"));
    assert_true (yard_gpu_type_match (NULL, ""));
    t.n_gpus = 0;
    assert_false (yard_gpu_type_match (&t, "h100"));
}

static void
test_display_state (void **state)
{
    (void)state;
    const Yard__NodeState up = YARD__NODE_STATE__NODE_UP;
    assert_string_equal (yard_node_display_state (YARD__NODE_STATE__NODE_DOWN,
                                                  true, 8, 0, 0), "down");
    assert_string_equal (
        yard_node_display_state (YARD__NODE_STATE__NODE_LEAVING, false, 8, 2,
                                 1), "leaving");
    assert_string_equal (yard_node_display_state (up, true, 8, 2, 1),
                         "draining");
    assert_string_equal (yard_node_display_state (up, true, 8, 0, 0),
                         "drained");
    assert_string_equal (yard_node_display_state (up, false, 8, 8, 2),
                         "allocated");
    assert_string_equal (yard_node_display_state (up, false, 8, 3, 1),
                         "mixed");
    assert_string_equal (yard_node_display_state (up, false, 8, 0, 0),
                         "idle");
}

static int
count_row (const char *name, bool drain, bool health, const char *reason,
           int64_t since_ms, const char *labels, void *arg)
{
    int *n = arg;
    assert_string_equal (name, "w1");
    assert_true (drain);
    assert_false (health);
    assert_string_equal (reason, "swap disk");
    assert_int_equal (since_ms, 42);
    assert_string_equal (labels, "gpu=a100\nib");
    (*n)++;
    return 0;
}

static void
test_store (void **state)
{
    (void)state;
    char dir[] = "/tmp/test_nodeadmin.XXXXXX", path[128];
    assert_non_null (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/state.db", dir);
    yard_error_t e = {0};
    yard_store_t *st = yard_store_create (path, false, &e);
    assert_non_null (st);
    assert_int_equal (yard_store_nodeadmin_init (st, &e), 0);
    assert_int_equal (yard_store_nodeadmin_init (st, &e), 0); /* again */
    yard_nodeadmin_t a = {0};
    assert_int_equal (yard_nodeadmin_label_set (&a, "gpu=a100", NULL), 0);
    assert_int_equal (yard_nodeadmin_label_set (&a, "ib", NULL), 0);
    assert_int_equal (yard_nodeadmin_set_drain (&a, true, false, "swap disk",
                                                42), 0);
    assert_int_equal (yard_store_nodeadmin_put (st, "w1", &a), 0);
    assert_int_equal (yard_store_commit (st), 0);
    yard_store_destroy (&st);
    assert_null (st);

    st = yard_store_create (path, false, &e);
    assert_non_null (st);
    assert_int_equal (yard_store_nodeadmin_init (st, &e), 0);
    int n = 0;
    assert_int_equal (yard_store_nodeadmin_load (st, count_row, &n), 0);
    assert_int_equal (n, 1);
    assert_int_equal (yard_store_node_forget (st, "w1"), 0);
    assert_int_equal (yard_store_commit (st), 0);
    n = 0;
    assert_int_equal (yard_store_nodeadmin_load (st, count_row, &n), 0);
    assert_int_equal (n, 0);
    yard_store_destroy (&st);
    yard_store_destroy (NULL);
    yard_nodeadmin_clear (&a);
    unlink (path);
    char wal[160];
    snprintf (wal, sizeof wal, "%s-wal", path);
    unlink (wal);
    snprintf (wal, sizeof wal, "%s-shm", path);
    unlink (wal);
    rmdir (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_label_check),
        cmocka_unit_test (test_labels_and_constraints),
        cmocka_unit_test (test_drain),
        cmocka_unit_test (test_gpu_type),
        cmocka_unit_test (test_display_state),
        cmocka_unit_test (test_store),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
