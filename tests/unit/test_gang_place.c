/* test_gang_place.c - scheduler/gang_place.c: gang jobs take N distinct
 * nodes or nothing, leave no partial holds when they do not fit, prefer
 * the tightest nodes (fragmentation), and get each node's GPUs packed so
 * that task i's GPUs (indices i*G..i*G+G-1) share a NUMA node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gang_place.h"
#include "place.h"
#include "topo.h"

#define FIX(name) YARD_FIXTURES "/" name

static topo_t *
load (const char *xml, const char *gpus)
{
    struct topo_source src
        = { .xml_file = xml, .fake_gpus = gpus, .no_cuda = gpus == NULL };
    yard_error_t err = { 0 };
    topo_t *t = topo_discover (&src, &err);
    if (!t)
        fail_msg ("cannot load %s: %s", xml, err.text);
    return t;
}

static int
gpu_numa (const Yard__Topology *t, const char *uuid)
{
    for (size_t i = 0; i < t->n_gpus; i++)
        if (strcmp (t->gpus[i]->uuid, uuid) == 0)
            return t->gpus[i]->numa_node;
    return -9;
}

static size_t
held (yard_place_t *const *p, size_t n, uint64_t job)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] && yard_place_get (p[i], job))
            k++;
    return k;
}

/* Three CPU-only nodes of 4 PUs: a 2-node job of 2 tasks x 2 PUs takes two
 * distinct whole nodes; a second one does not fit and holds nothing. */
static void
test_all_or_nothing (void **state)
{
    (void)state;
    yard_place_t *p[3];
    for (int i = 0; i < 3; i++)
        assert_non_null (p[i] = yard_place_create (NULL, 4));
    yard_gang_req_t req = { .nnodes = 2, .tasks = 2, .cpus_per_task = 2 };
    assert_int_equal (yard_gang_node_cpus (&req), 4);
    size_t ch[2];
    const Yard__Allocation *a[2];
    assert_int_equal (yard_gang_place (p, 3, 7, &req, ch, a), 0);
    assert_int_not_equal (ch[0], ch[1]);
    assert_string_equal (a[0]->cpus, "0-3");
    assert_string_equal (a[1]->cpus, "0-3");
    assert_int_equal (held (p, 3, 7), 2);
    /* one node left: a 2-node job must not hold it */
    assert_int_equal (yard_gang_place (p, 3, 8, &req, ch, a), -ENOSPC);
    assert_int_equal (held (p, 3, 8), 0);
    /* a single-node gang fits in what is left */
    req.nnodes = 1;
    assert_int_equal (yard_gang_place (p, 3, 8, &req, ch, a), 0);
    assert_int_equal (held (p, 3, 8), 1);
    /* the same job cannot be placed twice on a node */
    yard_gang_release (p, 7, (size_t[]){ 0, 1, 2 }, 3);
    assert_int_equal (held (p, 3, 7), 0);
    for (int i = 0; i < 3; i++)
        yard_place_destroy (&p[i]);
}

/* Nodes that may not be used (NULL) and nodes too small are skipped; the
 * job waits rather than taking a partial set. */
static void
test_no_partial_holds (void **state)
{
    (void)state;
    yard_place_t *p[3]
        = { yard_place_create (NULL, 8), NULL, yard_place_create (NULL, 2) };
    yard_place_t *other = yard_place_create (NULL, 8);
    yard_gang_req_t req = { .nnodes = 2, .tasks = 2, .cpus_per_task = 2 };
    size_t ch[2];
    const Yard__Allocation *a[2];
    assert_int_equal (yard_gang_place (p, 3, 1, &req, ch, a), -ENOSPC);
    assert_int_equal (held (p, 3, 1), 0);
    assert_int_equal (yard_place_free_pus (p[0]), 8);
    p[1] = other;
    assert_int_equal (yard_gang_place (p, 3, 1, &req, ch, a), 0);
    assert_true ((ch[0] == 0 && ch[1] == 1) || (ch[0] == 1 && ch[1] == 0));
    assert_int_equal (yard_place_free_pus (p[2]), 2);
    req.nnodes = 0;
    assert_int_equal (yard_gang_place (p, 3, 2, &req, ch, a), -EINVAL);
    req.nnodes = 4;
    assert_int_equal (yard_gang_place (p, 3, 2, &req, ch, a), -ENOSPC);
    for (int i = 0; i < 3; i++)
        yard_place_destroy (&p[i]);
}

/* Fragmentation: a small gang goes to the nodes with the least to spare,
 * so that an empty node stays whole for a bigger gang after it. */
static void
test_best_fit (void **state)
{
    (void)state;
    yard_place_t *p[3];
    for (int i = 0; i < 3; i++)
        p[i] = yard_place_create (NULL, 8);
    const Yard__Allocation *one;
    assert_int_equal (yard_place_alloc (p[0], 100, 4, 0, 0, &one), 0);
    assert_int_equal (yard_place_alloc (p[2], 101, 4, 0, 0, &one), 0);
    yard_gang_req_t small = { .nnodes = 2, .tasks = 1, .cpus_per_task = 4 };
    size_t ch[2];
    const Yard__Allocation *a[2];
    assert_int_equal (yard_gang_place (p, 3, 1, &small, ch, a), 0);
    assert_true ((ch[0] == 0 && ch[1] == 2) || (ch[0] == 2 && ch[1] == 0));
    assert_int_equal (yard_place_free_pus (p[1]), 8);
    yard_gang_req_t big = { .nnodes = 1, .tasks = 2, .cpus_per_task = 4 };
    assert_int_equal (yard_gang_place (p, 3, 2, &big, ch, a), 0);
    assert_int_equal (ch[0], 1);
    for (int i = 0; i < 3; i++)
        yard_place_destroy (&p[i]);
}

/* GPU per task: two 8-GPU servers, 2 nodes x 2 tasks x 2 GPUs: each node
 * holds 4 GPUs; task 0's two (indices 0-1) and task 1's two (2-3) are each
 * on one NUMA node.  A third such gang does not fit on GPUs and holds
 * nothing, even though PUs are free. */
static void
test_gpu_per_task (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p[2]
        = { yard_place_create (t, t->pus), yard_place_create (t, t->pus) };
    yard_gang_req_t req
        = { .nnodes = 2, .tasks = 2, .cpus_per_task = 2, .gpus_per_task = 2 };
    assert_int_equal (yard_gang_node_gpus (&req), 4);
    size_t ch[2];
    const Yard__Allocation *a[2];
    for (uint64_t job = 1; job <= 2; job++) {
        assert_int_equal (yard_gang_place (p, 2, job, &req, ch, a), 0);
        for (int r = 0; r < 2; r++) {
            assert_int_equal (a[r]->n_gpu_uuids, 4);
            for (int task = 0; task < 2; task++)
                assert_int_equal (gpu_numa (t, a[r]->gpu_uuids[task * 2]),
                                  gpu_numa (t, a[r]->gpu_uuids[task * 2 + 1]));
        }
    }
    assert_int_equal (yard_place_free_gpus (p[0]), 0);
    assert_int_equal (yard_gang_place (p, 2, 3, &req, ch, a), -ENOSPC);
    assert_int_equal (held (p, 2, 3), 0);
    yard_place_destroy (&p[0]);
    yard_place_destroy (&p[1]);
    topo_destroy (&tp);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_all_or_nothing),
        cmocka_unit_test (test_no_partial_holds),
        cmocka_unit_test (test_best_fit),
        cmocka_unit_test (test_gpu_per_task),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
