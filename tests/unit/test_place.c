/* test_place.c - scheduler/place.c on the fixture topologies: GPU
 * locality and packing, CPU-only jobs kept off GPU-local PUs, no double
 * allocation under random alloc/free, spreading when no NUMA node fits,
 * packing by PCIe switch within a NUMA node,
 * claims after a restart, reshape; and common/cpulist.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
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

static const char *
gpu_switch (const Yard__Topology *t, const char *uuid)
{
    for (size_t i = 0; i < t->n_gpus; i++)
        if (strcmp (t->gpus[i]->uuid, uuid) == 0)
            return t->gpus[i]->pci_switch;
    return "?";
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

/* On the 8-GPU server (two PCIe switches of two GPUs per socket) a 2-GPU
 * job on an empty node gets the two GPUs of one switch. */
static void
test_switch_empty (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_alloc (p, 1, 2, 2, 0, &a), 0);
    assert_int_equal (a->n_gpu_uuids, 2);
    const char *sw = gpu_switch (t, a->gpu_uuids[0]);
    assert_string_not_equal (sw, "");
    assert_string_equal (gpu_switch (t, a->gpu_uuids[1]), sw);
    assert_string_equal (sw, "0000:16:00.0");
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* With one GPU of a switch taken, a 2-GPU job takes a whole free switch
 * of the same NUMA node rather than the other GPU of the first switch and
 * one of the next; a 1-GPU job then fills the half-used switch. */
static void
test_switch_whole_free (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    char first[64];
    assert_int_equal (yard_place_alloc (p, 1, 1, 1, 0, &a), 0);
    snprintf (first, sizeof first, "%s", gpu_switch (t, a->gpu_uuids[0]));
    int n = gpu_numa (t, a->gpu_uuids[0]);
    assert_int_equal (yard_place_alloc (p, 2, 2, 2, 0, &a), 0);
    const char *sw = gpu_switch (t, a->gpu_uuids[0]);
    assert_string_not_equal (sw, "");
    assert_string_equal (gpu_switch (t, a->gpu_uuids[1]), sw);
    assert_string_not_equal (sw, first);
    assert_int_equal (gpu_numa (t, a->gpu_uuids[0]), n);
    assert_int_equal (yard_place_alloc (p, 3, 1, 1, 0, &a), 0);
    assert_string_equal (gpu_switch (t, a->gpu_uuids[0]), first);
    /* the NUMA node is full: the next 2-GPU job gets a switch of the
     * other one, whole */
    assert_int_equal (yard_place_alloc (p, 4, 2, 2, 0, &a), 0);
    assert_int_not_equal (gpu_numa (t, a->gpu_uuids[0]), n);
    assert_string_equal (gpu_switch (t, a->gpu_uuids[0]),
                         gpu_switch (t, a->gpu_uuids[1]));
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* Fragmentation: after jobs come and go, a 1-GPU job fills the hole in a
 * half-used switch instead of breaking a whole free one, so that the next
 * 2-GPU job still finds a whole switch. */
static void
test_switch_fragmentation (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    /* four 1-GPU jobs fill socket 0, switch by switch */
    for (uint64_t j = 1; j <= 4; j++) {
        assert_int_equal (yard_place_alloc (p, j, 1, 1, 0, &a), 0);
        assert_string_equal (a->gpu_bus_ids[0], t->gpus[j - 1]->pci_bus_id);
    }
    /* switch 0000:16:00.0 whole free, 0000:38:00.0 half */
    assert_int_equal (yard_place_release (p, 1), 0);
    assert_int_equal (yard_place_release (p, 2), 0);
    assert_int_equal (yard_place_release (p, 4), 0);
    assert_int_equal (yard_place_alloc (p, 5, 1, 1, 0, &a), 0);
    assert_string_equal (a->gpu_bus_ids[0], "0000:5d:00.0");
    assert_int_equal (yard_place_alloc (p, 6, 2, 2, 0, &a), 0);
    assert_string_equal (gpu_switch (t, a->gpu_uuids[0]), "0000:16:00.0");
    assert_string_equal (gpu_switch (t, a->gpu_uuids[1]), "0000:16:00.0");
    /* a 3-GPU job on socket 1: one whole switch and one GPU of the other */
    assert_int_equal (yard_place_alloc (p, 7, 2, 3, 0, &a), 0);
    int per[4] = { 0 };
    for (size_t i = 0; i < a->n_gpu_uuids; i++) {
        assert_int_equal (gpu_numa (t, a->gpu_uuids[i]), 1);
        per[strcmp (gpu_switch (t, a->gpu_uuids[i]), "0000:98:00.0") ? 1
                                                                      : 0]++;
    }
    assert_int_equal (per[0], 2);
    assert_int_equal (per[1], 1);
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* Switches are matched by id, not by GPU order; GPUs with no switch
 * (a root port each) are taken in order as before. */
static void
test_switch_handbuilt (void **state)
{
    (void)state;
    Yard__Topology t;
    Yard__NumaInfo numa, *nump = &numa;
    Yard__GpuInfo gpu[4], *gpup[4];
    static const char *const bus[4] = { "0000:18:00.0", "0000:2a:00.0",
                                        "0000:3a:00.0", "0000:5d:00.0" };
    static const char *const uuid[4] = { "GPU-0", "GPU-1", "GPU-2", "GPU-3" };
    /* GPUs 0 and 2 under switch X, 1 and 3 under Y */
    static const char *const sw[4] = { "0000:16:00.0", "0000:28:00.0",
                                       "0000:16:00.0", "0000:28:00.0" };
    yard__topology__init (&t);
    t.packages = t.numa_nodes = 1;
    t.cores = t.pus = 16;
    yard__numa_info__init (&numa);
    numa.cpus = "0-15";
    for (int i = 0; i < 4; i++) {
        yard__gpu_info__init (&gpu[i]);
        gpu[i].uuid = (char *)uuid[i];
        gpu[i].pci_bus_id = (char *)bus[i];
        gpu[i].pci_switch = (char *)sw[i];
        gpu[i].numa_node = 0;
        gpu[i].local_cpus = "0-15";
        gpup[i] = &gpu[i];
    }
    t.n_numa = 1;
    t.numa = &nump;
    t.n_gpus = 4;
    t.gpus = gpup;
    yard_place_t *p = yard_place_create (&t, 16);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_alloc (p, 1, 1, 2, 0, &a), 0);
    assert_string_equal (a->gpu_uuids[0], "GPU-0");
    assert_string_equal (a->gpu_uuids[1], "GPU-2");
    assert_int_equal (yard_place_alloc (p, 2, 1, 2, 0, &a), 0);
    assert_string_equal (a->gpu_uuids[0], "GPU-1");
    assert_string_equal (a->gpu_uuids[1], "GPU-3");
    yard_place_destroy (&p);
    /* no switch known: in bus order */
    for (int i = 0; i < 4; i++)
        gpu[i].pci_switch = "";
    p = yard_place_create (&t, 16);
    assert_int_equal (yard_place_alloc (p, 1, 1, 1, 0, &a), 0);
    assert_string_equal (a->gpu_uuids[0], "GPU-0");
    assert_int_equal (yard_place_alloc (p, 2, 1, 2, 0, &a), 0);
    assert_string_equal (a->gpu_uuids[0], "GPU-1");
    assert_string_equal (a->gpu_uuids[1], "GPU-2");
    yard_place_destroy (&p);
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
    /* whole cores: count the cores none of whose PUs is GPU-local */
    uint32_t nonlocal = 0, nonlocal_pus = 0;
    for (size_t c = 0; c < t->n_core_list; c++) {
        bool in[4096] = { 0 };
        int n = yard_cpulist_parse (t->core_list[c]->pus, in, 4096);
        bool any = false;
        for (uint32_t k = 0; k < 4096; k++)
            any |= in[k] && local[k];
        if (!any) {
            nonlocal++;
            nonlocal_pus += (uint32_t)n;
        }
    }
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    if (nonlocal > 0) {
        assert_int_equal (yard_place_alloc (p, 1, nonlocal, 0, 0, &a), 0);
        bool got[4096] = { 0 };
        assert_int_equal (yard_cpulist_parse (a->cpus, got, 4096),
                          (int)nonlocal_pus);
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
    assert_int_equal (yard_place_free_pus (p), t->cores - 4);
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

/* The core (index in t's core list) of each PU; -1 for none. */
static void
core_map (const Yard__Topology *t, int *core, size_t n)
{
    for (size_t k = 0; k < n; k++)
        core[k] = -1;
    for (size_t c = 0; c < t->n_core_list; c++) {
        bool in[4096] = { 0 };
        assert_true (yard_cpulist_parse (t->core_list[c]->pus, in, 4096) > 0);
        for (size_t k = 0; k < n; k++)
            if (in[k])
                core[k] = (int)c;
    }
}

/* Random alloc/free on t: no PU or GPU is ever held twice, no two jobs
 * share a core unless share, each job gets whole cores (share: PUs),
 * counts agree. */
static void
random_no_overlap (const Yard__Topology *t, bool share, unsigned seed)
{
    yard_place_t *p = yard_place_create (t, t->pus);
    yard_place_set_share (p, share);
    int core[4096];
    core_map (t, core, 4096);
    uint32_t ncores = (uint32_t)t->n_core_list;
    uint32_t npergpu = t->n_gpus;
    srand (seed);
    bool live[64] = { 0 };
    for (int step = 0; step < 4000; step++) {
        uint64_t id = (uint64_t)(rand () % 64);
        uint32_t c = 0;
        if (live[id]) {
            assert_int_equal (yard_place_release (p, id), 0);
            live[id] = false;
        } else {
            c = 1 + (uint32_t)(rand () % 12);
            uint32_t g = npergpu ? (uint32_t)(rand () % 4) : 0;
            bool fits = yard_place_fits (p, c, g);
            const Yard__Allocation *a = NULL;
            int rc = yard_place_alloc (p, id, c, g, 0, &a);
            assert_int_equal (rc, fits ? 0 : -ENOSPC);
            live[id] = rc == 0;
            if (rc == 0) {
                /* c cores (share: c PUs), each whole */
                bool mine[4096] = { 0 }, seen[4096] = { 0 };
                int n = yard_cpulist_parse (a->cpus, mine, 4096);
                uint32_t units = 0;
                for (size_t k = 0; k < 4096; k++)
                    if (mine[k] && !seen[core[k]]) {
                        seen[core[k]] = true;
                        units++;
                    }
                if (share) {
                    assert_int_equal (n, (int)c);
                } else {
                    assert_int_equal (units, c);
                    for (size_t k = 0; k < 4096; k++)
                        if (core[k] >= 0 && seen[core[k]])
                            assert_true (mine[k]);
                }
            }
        }
        bool pus[4096] = { 0 };
        int holder[4096];
        for (size_t k = 0; k < 4096; k++)
            holder[k] = -1;
        bool gpus[8] = { 0 };
        uint32_t npus = 0, ngpus = 0, held_cores = 0;
        for (size_t i = 0; i < yard_place_count (p); i++) {
            uint64_t job = yard_place_job_at (p, i);
            const Yard__Allocation *a = yard_place_get (p, job);
            bool mine[4096] = { 0 };
            int n = yard_cpulist_parse (a->cpus, mine, 4096);
            assert_true (n >= 0);
            for (size_t k = 0; k < 4096; k++)
                if (mine[k]) {
                    assert_false (pus[k]);
                    pus[k] = true;
                    npus++;
                    int *h = &holder[core[k]];
                    if (*h < 0)
                        held_cores++;
                    else if (!share)
                        assert_int_equal (*h, (int)job); /* no sharing */
                    *h = (int)job;
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
        uint32_t cores, fcores, tpus, fpus;
        yard_place_counts (p, &cores, &fcores, &tpus, &fpus);
        assert_int_equal (cores, ncores);
        assert_int_equal (fcores, ncores - held_cores);
        assert_int_equal (fpus, t->pus - npus);
        assert_int_equal (yard_place_free_pus (p),
                          share ? t->pus - npus : ncores - held_cores);
        assert_int_equal (yard_place_free_gpus (p), t->n_gpus - ngpus);
    }
    yard_place_destroy (&p);
}

static void
test_random_no_overlap (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"));
    const Yard__Topology *t = topo_proto (tp);
    assert_int_equal (t->n_core_list, 32);
    assert_int_equal (t->pus, 64);
    random_no_overlap (t, false, 42);
    random_no_overlap (t, true, 43);
    topo_destroy (&tp);
    tp = load (FIX ("laptop.xml"), NULL);
    random_no_overlap (topo_proto (tp), false, 44);
    random_no_overlap (topo_proto (tp), true, 45);
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
    assert_int_equal (yard_place_free_pus (p), t->cores - 4);
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
    assert_int_equal (yard_place_free_pus (p), t->cores - 6);
    assert_int_equal (yard_place_free_gpus (p), 4);
    assert_int_equal (yard_place_claim (p, 5, saved), -EBUSY);
    /* ... or with none: its GPUs are gone, PUs 0..15 stay, each a core
     * of its own now */
    assert_int_equal (yard_place_reshape (p, NULL, 16), 0);
    assert_int_equal (yard_place_gpus (p), 0);
    assert_true (yard_place_fits (p, 1, 3)); /* GPUs untracked now */
    yard_place_clear (p);
    assert_int_equal (yard_place_free_pus (p), 16);
    yard_alloc_free (&saved);
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* SMT: a job's cpus count cores and it gets every PU of each; a core any
 * of whose PUs is held is not free (fragmentation); sharing places PUs. */
static void
test_whole_cores (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("laptop.xml"), NULL); /* 4 cores x 2 PUs */
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    uint32_t cores, fcores, pus, fpus;
    yard_place_counts (p, &cores, &fcores, &pus, &fpus);
    assert_int_equal (cores, 4);
    assert_int_equal (pus, 8);
    assert_int_equal (yard_place_free_pus (p), 4);
    assert_int_equal (yard_place_alloc (p, 1, 1, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "0-1");
    assert_int_equal (yard_place_alloc (p, 2, 2, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "2-5");
    assert_false (yard_place_fits (p, 2, 0));
    assert_int_equal (yard_place_alloc (p, 3, 2, 0, 0, &a), -ENOSPC);
    /* an oversubscribed node hands out single PUs */
    yard_place_set_share (p, true);
    assert_int_equal (yard_place_free_pus (p), 2);
    assert_int_equal (yard_place_alloc (p, 3, 1, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "6");
    yard_place_set_share (p, false);
    /* core 3 is half held: no whole core is left */
    yard_place_counts (p, &cores, &fcores, &pus, &fpus);
    assert_int_equal (fcores, 0);
    assert_int_equal (fpus, 1);
    assert_false (yard_place_fits (p, 1, 0));
    /* releasing job 1 frees core 0: a new job gets it, not PU 7 */
    assert_int_equal (yard_place_release (p, 1), 0);
    assert_int_equal (yard_place_alloc (p, 4, 1, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "0-1");
    /* a claimed allocation of a single PU blocks its sibling too */
    assert_int_equal (yard_place_release (p, 2), 0);
    Yard__Allocation one = YARD__ALLOCATION__INIT;
    one.cpus = "3";
    assert_int_equal (yard_place_claim (p, 5, &one), 0);
    assert_int_equal (yard_place_free_pus (p), 1); /* core 2 (PUs 4-5) */
    assert_int_equal (yard_place_alloc (p, 6, 1, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "4-5");
    yard_place_destroy (&p);
    topo_destroy (&tp);
}

/* A 4-NUMA, 16-PU topology without GPUs (4 PUs per node) with an optional
 * core list of one PU per core and an optional distance matrix. */
struct numa4 {
    Yard__Topology t;
    Yard__NumaInfo numa[4], *nump[4];
    Yard__CoreInfo core[16], *corep[16];
    char names[16][4];
    uint32_t dist[16];
};

static void
numa4_make (struct numa4 *f, bool cores, const uint32_t *dist)
{
    static const char *lists[4] = { "0-3", "4-7", "8-11", "12-15" };
    yard__topology__init (&f->t);
    f->t.numa_nodes = 4;
    f->t.cores = f->t.pus = 16;
    for (int i = 0; i < 4; i++) {
        yard__numa_info__init (&f->numa[i]);
        f->numa[i].os_index = (uint32_t)i;
        f->numa[i].cpus = (char *)lists[i];
        f->nump[i] = &f->numa[i];
    }
    f->t.n_numa = 4;
    f->t.numa = f->nump;
    for (int c = 0; cores && c < 16; c++) {
        yard__core_info__init (&f->core[c]);
        f->core[c].os_index = (uint32_t)c;
        snprintf (f->names[c], sizeof f->names[c], "%d", c);
        f->core[c].pus = f->names[c];
        f->corep[c] = &f->core[c];
    }
    f->t.n_core_list = cores ? 16 : 0;
    f->t.core_list = f->corep;
    if (dist) {
        memcpy (f->dist, dist, sizeof f->dist);
        f->t.numa_distances = f->dist;
        f->t.n_numa_distances = 16;
    }
}

/* Without SMT a core is a PU: the same sequence of allocations and
 * releases gives the same PUs with and without a core list. */
static void
test_no_smt_identical (void **state)
{
    (void)state;
    struct numa4 f1, f2;
    numa4_make (&f1, false, NULL);
    numa4_make (&f2, true, NULL);
    yard_place_t *p1 = yard_place_create (&f1.t, 16);
    yard_place_t *p2 = yard_place_create (&f2.t, 16);
    srand (7);
    bool live[16] = { 0 };
    for (int step = 0; step < 2000; step++) {
        uint64_t id = (uint64_t)(rand () % 16);
        if (live[id]) {
            assert_int_equal (yard_place_release (p1, id), 0);
            assert_int_equal (yard_place_release (p2, id), 0);
            live[id] = false;
            continue;
        }
        uint32_t c = 1 + (uint32_t)(rand () % 6);
        const Yard__Allocation *a1 = NULL, *a2 = NULL;
        int rc = yard_place_alloc (p1, id, c, 0, 0, &a1);
        assert_int_equal (yard_place_alloc (p2, id, c, 0, 0, &a2), rc);
        if (rc == 0)
            assert_string_equal (a1->cpus, a2->cpus);
        live[id] = rc == 0;
        assert_int_equal (yard_place_free_pus (p1), yard_place_free_pus (p2));
    }
    yard_place_destroy (&p1);
    yard_place_destroy (&p2);
}

/* A job spanning NUMA nodes grows onto the node closest (by the reported
 * distances) to those it already has; without distances, onto the next
 * by index as before. */
static void
test_numa_distance (void **state)
{
    (void)state;
    /* node 0 is closest to 3, then 2, then 1 */
    static const uint32_t d[16] = { 10, 30, 20, 11,
                                    30, 10, 20, 20,
                                    20, 20, 10, 20,
                                    11, 20, 20, 10 };
    struct numa4 f;
    numa4_make (&f, true, d);
    yard_place_t *p = yard_place_create (&f.t, 16);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_alloc (p, 1, 2, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "0-1");
    assert_int_equal (yard_place_alloc (p, 2, 6, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "2-3,12-15");
    /* node 0 and 3 are full: a 4-PU job starts on the lowest free node
     * and stays there */
    assert_int_equal (yard_place_alloc (p, 3, 4, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "4-7");
    yard_place_destroy (&p);

    numa4_make (&f, true, NULL);
    p = yard_place_create (&f.t, 16);
    assert_int_equal (yard_place_alloc (p, 1, 2, 0, 0, &a), 0);
    assert_int_equal (yard_place_alloc (p, 2, 6, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "2-7");
    yard_place_destroy (&p);

    /* a malformed matrix (wrong size) is ignored */
    numa4_make (&f, true, d);
    f.t.n_numa_distances = 5;
    p = yard_place_create (&f.t, 16);
    assert_int_equal (yard_place_alloc (p, 1, 2, 0, 0, &a), 0);
    assert_int_equal (yard_place_alloc (p, 2, 6, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "2-7");
    yard_place_destroy (&p);
}

/* The numa4-smt fixture (hwloc's distances, 2 cores x 2 PUs per NUMA
 * node, nodes paired 0-1 and 2-3): whole cores, grown by distance. */
static void
test_numa_distance_fixture (void **state)
{
    (void)state;
    topo_t *tp = load (FIX ("numa4-smt.xml"), NULL);
    const Yard__Topology *t = topo_proto (tp);
    yard_place_t *p = yard_place_create (t, t->pus);
    const Yard__Allocation *a;
    assert_int_equal (yard_place_free_pus (p), 8);
    assert_int_equal (yard_place_alloc (p, 1, 1, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "0-1");
    /* the other core of node 0, then its pair, node 1 */
    assert_int_equal (yard_place_alloc (p, 2, 3, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "2-7");
    assert_int_equal (yard_place_release (p, 2), 0);
    assert_int_equal (yard_place_alloc (p, 3, 1, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "2-3");
    /* node 0 is full: a 3-core job starts on node 1 and grows to node 3
     * (20 from node 1), not node 2 (22), the next by index */
    assert_int_equal (yard_place_alloc (p, 4, 3, 0, 0, &a), 0);
    assert_string_equal (a->cpus, "4-7,12-13");
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
        cmocka_unit_test (test_switch_empty),
        cmocka_unit_test (test_switch_whole_free),
        cmocka_unit_test (test_switch_fragmentation),
        cmocka_unit_test (test_switch_handbuilt),
        cmocka_unit_test (test_cpu_only_avoids_gpu_pus),
        cmocka_unit_test (test_cpu_only_handbuilt),
        cmocka_unit_test (test_random_no_overlap),
        cmocka_unit_test (test_claim_and_reshape),
        cmocka_unit_test (test_oversubscribed),
        cmocka_unit_test (test_whole_cores),
        cmocka_unit_test (test_no_smt_identical),
        cmocka_unit_test (test_numa_distance),
        cmocka_unit_test (test_numa_distance_fixture),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
