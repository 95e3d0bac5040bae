/* test_place.c - scheduler/place.c on the fixture topologies: GPU
 * locality and packing, CPU-only jobs kept off GPU-local PUs, no double
 * allocation under random alloc/free, spreading when no NUMA node fits,
 * claims after a restart, reshape; and common/cpulist.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpulist.h"
#include "node_topology_fixture.h"
#include "place.h"
#include "topo.h"

#define FIX(name) YARD_FIXTURES "/" name

static topo_t *
load (const char *xml, const char *gpus)
{
    struct topo_source src = { .xml_file = xml, .fake_gpus = gpus,
                               .no_cuda = gpus == NULL };
    yard_error_t err = { 0 };
    topo_t *t = topo_discover (&src, &err);
    if (!t)
        fail_msg ("cannot load %s: %s", xml, err.text);
    return t;
}

/* The NUMA node (os index) of every PU in list, or -2 when they differ. */
static int
numa_of (const Yard__Topology *t, const char *list)
{
    bool pus[4096] = { 0 };
    assert_true (yard_cpulist_parse (list, pus, 4096) > 0);
    int found = -1;
    for (size_t i = 0; i < t->n_numa; i++) {
        bool in[4096] = { 0 };
        assert_true (yard_cpulist_parse (t->numa[i]->cpus, in, 4096) > 0);
        for (size_t k = 0; k < 4096; k++)
            if (pus[k] && in[k]) {
                if (found >= 0 && found != (int)t->numa[i]->os_index)
                    return -2;
                found = (int)t->numa[i]->os_index;
            }
    }
    return found;
}

static int
gpu_numa (const Yard__Topology *t, const char *uuid)
{
    for (size_t i = 0; i < t->n_gpus; i++)
        if (strcmp (t->gpus[i]->uuid, uuid) == 0)
            return t->gpus[i]->numa_node;
    return -9;
}

static void
test_cpulist (void **state)
{
    (void)state;
    bool s[16] = { 0 };
    assert_int_equal (yard_cpulist_parse ("0-3,8,10-11", s, 16), 7);
    char *txt = yard_cpulist_format (s, 16);
    assert_string_equal (txt, "0-3,8,10-11");
    free (txt);
    assert_int_equal (yard_cpulist_parse ("", s, 16), 0);
    assert_int_equal (yard_cpulist_parse ("1,1,2", (bool[4]){ 0 }, 4), 2);
    assert_int_equal (yard_cpulist_parse ("3-1", s, 16), -EINVAL);
    assert_int_equal (yard_cpulist_parse ("1,", s, 16), -EINVAL);
    assert_int_equal (yard_cpulist_parse ("a", s, 16), -EINVAL);
    assert_int_equal (yard_cpulist_parse ("16", s, 16), -ERANGE);
    assert_int_equal (yard_cpulist_parse ("99999999", s, 16), -ERANGE);
    assert_int_equal (yard_cpulist_extent ("0-3,8"), 9);
    assert_int_equal (yard_cpulist_extent (""), 0);
    bool none[4] = { 0 };
    txt = yard_cpulist_format (none, 4);
    assert_string_equal (txt, "");
    free (txt);
}

static void
test_destroy_null (void **state)
{
    (void)state;
    yard_place_t *p = NULL;
    yard_place_destroy (&p);
    yard_place_destroy (NULL);
    Yard__Allocation *a = NULL;
    yard_alloc_free (&a);
    assert_int_equal (yard_alloc_copy (NULL, &a), 0);
    assert_null (a);
}

/* No topology: PUs 0..cpus-1, no GPUs, the counters limit GPUs. */
static void
test_no_topology (void **state)
{
    (void)state;
    yard_place_t *p = yard_place_create (NULL, 4);
    assert_non_null (p);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_alloc (p, 1, 3, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "0-2");
    assert_int_equal (yard_place_alloc (p, 1, 1, 0, 0, &a), -EEXIST);
    assert_int_equal (yard_place_alloc (p, 2, 2, 0, 0, &a), -ENOSPC);
    assert_int_equal (yard_place_alloc (p, 2, 1, 2, 0, &a), 0);
    assert_string_equal (a->cpus, "3");
    assert_int_equal (a->n_gpu_uuids, 0);
    assert_int_equal (yard_place_free_pus (p), 0);
    assert_int_equal (yard_place_release (p, 1), 0);
    assert_int_equal (yard_place_release (p, 1), -ENOENT);
    assert_int_equal (yard_place_free_pus (p), 3);
    yard_place_destroy (&p);
    assert_null (p);
}

/* A 4-GPU job on the 8-GPU server: one NUMA node's 4 GPUs and its PUs. */
static void
test_gpu_locality (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    assert_int_equal (t->n_gpus, 8);
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_alloc (p, 1, 8, 4, 1 << 20, &a), 0);
    assert_int_equal (a->n_gpu_uuids, 4);
    assert_int_equal (a->n_gpu_bus_ids, 4);
    int n = gpu_numa (t, a->gpu_uuids[0]);
    assert_true (n >= 0);
    for (size_t i = 1; i < 4; i++)
        assert_int_equal (gpu_numa (t, a->gpu_uuids[i]), n);
    assert_int_equal (numa_of (t, a->cpus), n);
    assert_int_equal (a->memory_bytes, 1 << 20);
    /* the second 4-GPU job gets the other NUMA node, whole */
    assert_int_equal (yard_place_alloc (p, 2, 8, 4, 0, &a), 0);
    int m = gpu_numa (t, a->gpu_uuids[0]);
    assert_int_not_equal (m, n);
    for (size_t i = 1; i < 4; i++)
        assert_int_equal (gpu_numa (t, a->gpu_uuids[i]), m);
    assert_int_equal (numa_of (t, a->cpus), m);
    assert_int_equal (yard_place_free_gpus (p), 0);
    assert_false (yard_place_fits (p, 1, 1));
    assert_int_equal (yard_place_alloc (p, 3, 1, 1, 0, &a), -ENOSPC);
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* Two 2-GPU jobs share a NUMA node before a third spills. */
static void
test_packing (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_alloc (p, 1, 2, 2, 0, &a), 0);
    int n1 = gpu_numa (t, a->gpu_uuids[0]);
    assert_int_equal (gpu_numa (t, a->gpu_uuids[1]), n1);
    assert_int_equal (yard_place_alloc (p, 2, 2, 2, 0, &a), 0);
    assert_int_equal (gpu_numa (t, a->gpu_uuids[0]), n1);
    assert_int_equal (gpu_numa (t, a->gpu_uuids[1]), n1);
    /* a 4-GPU job still finds a whole NUMA node */
    assert_int_equal (yard_place_alloc (p, 3, 2, 4, 0, &a), 0);
    int n3 = gpu_numa (t, a->gpu_uuids[0]);
    assert_int_not_equal (n3, n1);
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* 4 GPUs free but 2 on each NUMA node: the job spreads (fewest NUMA
 * nodes) rather than waiting. */
static void
test_fragmented (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_alloc (p, 1, 1, 2, 0, &a), 0);
    assert_int_equal (yard_place_alloc (p, 2, 1, 2, 0, &a), 0); /* packed */
    assert_int_equal (yard_place_alloc (p, 3, 1, 2, 0, &a), 0); /* other */
    assert_int_equal (yard_place_release (p, 1), 0); /* 2 + 2 free */
    assert_int_equal (yard_place_free_gpus (p), 4);
    assert_int_equal (yard_place_alloc (p, 4, 4, 4, 0, &a), 0);
    assert_int_equal (a->n_gpu_uuids, 4);
    int n0 = 0, n1 = 0;
    for (size_t i = 0; i < 4; i++)
        if (gpu_numa (t, a->gpu_uuids[i]) == 0)
            n0++;
        else
            n1++;
    assert_int_equal (n0, 2);
    assert_int_equal (n1, 2);
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* CPU-only jobs take PUs no GPU is local to while there are any. */
static void
test_cpu_only_avoids_gpu_pus (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    bool local[4096] = { 0 };
    for (size_t g = 0; g < t->n_gpus; g++)
        (void)yard_cpulist_parse (t->gpus[g]->local_cpus, local, 4096);
    uint32_t nonlocal = 0;
    for (uint32_t k = 0; k < t->pus; k++)
        nonlocal += !local[k];
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    if (nonlocal > 0) {
        assert_int_equal (yard_place_alloc (p, 1, nonlocal, 0, 0, &a), 0);
        bool got[4096] = { 0 };
        assert_int_equal (yard_cpulist_parse (a->cpus, got, 4096),
                          (int)nonlocal);
        for (uint32_t k = 0; k < t->pus; k++)
            if (got[k])
                assert_false (local[k]);
    }
    /* then GPU-local ones: the job is still placed */
    assert_int_equal (yard_place_alloc (p, 2, 2, 0, 0, &a), 0);
    yard_place_destroy (&p);
    topo_destroy (&tp);

    /* workstation: every PU is GPU-local; CPU jobs just get PUs */
    tp = load (FIX ("workstation-4gpu.xml"), FIX ("workstation-4gpu.gpus"));
    t = topo_proto (tp);
    p = yard_place_create (t, t->pus);
    assert_int_equal (yard_place_alloc (p, 1, 4, 0, 0, &a), 0);
    assert_int_equal (yard_place_free_pus (p), t->pus - 4);
    assert_int_equal (yard_place_alloc (p, 2, 2, 4, 0, &a), 0);
    assert_int_equal (a->n_gpu_uuids, 4);
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* Hand-built: each GPU local to half its NUMA node's PUs, so PUs 16-31
 * and 48-63 are local to no GPU: CPU-only jobs go there first, GPU jobs to
 * their GPU's local PUs. */
static void
test_cpu_only_handbuilt (void **state)
{
    (void)state;
    struct fixture f;
    make (&f);
    f.gpu[0].local_cpus = "0-15";
    f.gpu[1].local_cpus = "32-47";
    yard_place_t *p = yard_place_create (&f.t, 64);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_alloc (p, 1, 16, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "16-31");
    assert_int_equal (yard_place_alloc (p, 2, 16, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "48-63");
    assert_int_equal (yard_place_alloc (p, 3, 4, 1, 0, &a), 0);
    assert_int_equal (a->n_gpu_uuids, 1);
    assert_string_equal (a->cpus,
                         strcmp (a->gpu_uuids[0], "GPU-a") ? "32-35" : "0-3");
    /* only GPU-local PUs are left: CPU jobs take them */
    assert_int_equal (yard_place_alloc (p, 4, 2, 0, 0, &a), 0);
    yard_place_destroy (&p);
}

/* Random alloc/free: no PU or GPU is ever held twice, counts agree. */
static void
test_random_no_overlap (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p = yard_place_create (t, t->pus);
    srand (42);
    bool live[64] = { 0 };
    for (int step = 0; step < 4000; step++) {
        uint64_t id = (uint64_t)(rand () % 64);
        if (live[id]) {
            assert_int_equal (yard_place_release (p, id), 0);
            live[id] = false;
        } else {
            uint32_t c = 1 + (uint32_t)(rand () % 12);
            uint32_t g = (uint32_t)(rand () % 4);
            bool fits = yard_place_fits (p, c, g);
            int rc = yard_place_alloc (p, id, c, g, 0, NULL);
            assert_int_equal (rc, fits ? 0 : -ENOSPC);
            live[id] = rc == 0;
        }
        bool pus[4096] = { 0 };
        bool gpus[8] = { 0 };
        uint32_t npus = 0, ngpus = 0;
        for (size_t i = 0; i < yard_place_count (p); i++) {
            const Yard__Allocation *a
                = yard_place_get (p, yard_place_job_at (p, i));
            bool mine[4096] = { 0 };
            int n = yard_cpulist_parse (a->cpus, mine, 4096);
            assert_true (n >= 0);
            for (size_t k = 0; k < 4096; k++)
                if (mine[k]) {
                    assert_false (pus[k]);
                    pus[k] = true;
                    npus++;
                }
            for (size_t j = 0; j < a->n_gpu_uuids; j++) {
                int g = -1;
                for (size_t x = 0; x < t->n_gpus; x++)
                    if (!strcmp (t->gpus[x]->uuid, a->gpu_uuids[j]))
                        g = (int)x;
                assert_true (g >= 0);
                assert_false (gpus[g]);
                gpus[g] = true;
                ngpus++;
            }
        }
        assert_int_equal (yard_place_free_pus (p), t->pus - npus);
        assert_int_equal (yard_place_free_gpus (p), 8 - ngpus);
    }
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* After a restart: stored allocations are claimed back; overlaps and
 * unknown GPUs are refused; reshape keeps the holds. */
static void
test_claim_and_reshape (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_alloc (p, 1, 4, 2, 0, &a), 0);
    Yard__Allocation *saved = NULL;
    assert_int_equal (yard_alloc_copy (a, &saved), 0);
    yard_place_destroy (&p);

    p = yard_place_create (t, t->pus); /* the restarted scheduler */
    assert_int_equal (yard_place_claim (p, 1, saved), 0);
    assert_int_equal (yard_place_claim (p, 1, saved), -EEXIST);
    assert_int_equal (yard_place_claim (p, 2, saved), -EBUSY);
    assert_int_equal (yard_place_free_pus (p), t->pus - 4);
    assert_int_equal (yard_place_free_gpus (p), 6);
    /* a new job does not get the claimed PUs or GPUs */
    assert_int_equal (yard_place_alloc (p, 3, 2, 2, 0, &a), 0);
    assert_string_not_equal (a->gpu_uuids[0], saved->gpu_uuids[0]);

    Yard__Allocation bad = YARD__ALLOCATION__INIT;
    char *uu[] = { "GPU-nope" };
    bad.cpus = "60";
    bad.gpu_uuids = uu;
    bad.n_gpu_uuids = 1;
    assert_int_equal (yard_place_claim (p, 4, &bad), -EINVAL);
    bad.n_gpu_uuids = 0;
    bad.cpus = "99999";
    assert_int_equal (yard_place_claim (p, 4, &bad), -EINVAL);
    bad.cpus = "x";
    assert_int_equal (yard_place_claim (p, 4, &bad), -EINVAL);
    assert_int_equal (yard_place_claim (p, 4, NULL), -EINVAL);

    /* the worker re-registers with the same hardware: nothing moves */
    assert_int_equal (yard_place_reshape (p, t, t->pus), 0);
    assert_int_equal (yard_place_free_pus (p), t->pus - 6);
    assert_int_equal (yard_place_free_gpus (p), 4);
    assert_int_equal (yard_place_claim (p, 5, saved), -EBUSY);
    /* ... or with none: its GPUs are gone, PUs 0..7 stay */
    assert_int_equal (yard_place_reshape (p, NULL, 8), 0);
    assert_int_equal (yard_place_gpus (p), 0);
    assert_true (yard_place_fits (p, 1, 3)); /* GPUs untracked now */
    yard_place_clear (p);
    assert_int_equal (yard_place_free_pus (p), 8);
    yard_alloc_free (&saved);
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* More CPUs offered than PUs: no PU binding, GPUs still exclusive. */
static void
test_oversubscribed (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("laptop.xml"), NULL);
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p = yard_place_create (t, t->pus * 4);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_free_pus (p), UINT32_MAX);
    assert_int_equal (yard_place_alloc (p, 1, t->pus * 2, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "");
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_cpulist),
        cmocka_unit_test (test_destroy_null),
        cmocka_unit_test (test_no_topology),
        cmocka_unit_test (test_gpu_locality),
        cmocka_unit_test (test_packing),
        cmocka_unit_test (test_fragmented),
        cmocka_unit_test (test_cpu_only_avoids_gpu_pus),
        cmocka_unit_test (test_cpu_only_handbuilt),
        cmocka_unit_test (test_random_no_overlap),
        cmocka_unit_test (test_claim_and_reshape),
        cmocka_unit_test (test_oversubscribed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
