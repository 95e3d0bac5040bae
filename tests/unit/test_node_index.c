/* test_node_index.c - the scheduler's free-capacity heaps over the worker
 * registry (scheduler/node.c): the order yard_nodes_best visits nodes in,
 * the O(1) maxima, and a randomized comparison with a linear scan under
 * reservations, drains, (un)binding, state changes and removals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node.h"

static uint64_t rng_state = 2463534242ULL;

static uint64_t
rng (void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static yard_node_t *
mknode (yard_nodes_t *ns, int i, uint32_t cpus, uint32_t gpus, uint64_t mem)
{
    char name[32];
    snprintf (name, sizeof name, "n%d", i);
    yard_node_t *node = yard_nodes_add (ns, name);
    assert_non_null (node);
    node->cpus = cpus;
    node->gpus = gpus;
    node->memory = mem;
    node->state = YARD__NODE_STATE__NODE_UP;
    yard_peer_t peer = {.len = 4};
    memcpy (peer.id, &i, sizeof i);
    assert_int_equal (yard_nodes_bind (ns, node, &peer), 0);
    return node;
}

static bool
accept_all (yard_node_t *node, void *arg)
{
    (void)node;
    (void)arg;
    return true;
}

struct want {
    uint32_t gpus;
    uint64_t memory;
};

static bool
accept_fit (yard_node_t *node, void *arg)
{
    const struct want *w = arg;
    return yard_node_free_gpus (node) >= w->gpus
           && yard_node_free_memory (node) >= w->memory;
}

static void
test_order (void **state)
{
    (void)state;
    yard_nodes_t *ns = yard_nodes_create ();
    assert_non_null (ns);
    uint32_t c, g;
    uint64_t m;
    assert_null (yard_nodes_best (ns, 1, accept_all, NULL));
    yard_nodes_max_free (ns, &c, &g, &m);
    assert_true (c == 0 && g == 0 && m == 0);

    yard_node_t *a = mknode (ns, 0, 4, 0, 100);
    yard_node_t *b = mknode (ns, 1, 4, 2, 50);
    yard_node_t *d = mknode (ns, 2, 2, 0, 400);
    /* equal free CPUs, never assigned: creation order */
    assert_ptr_equal (yard_nodes_best (ns, 1, accept_all, NULL), a);
    yard_nodes_max_free (ns, &c, &g, &m);
    assert_int_equal (c, 4);
    assert_int_equal (g, 2);
    assert_int_equal (m, 400);
    /* least recently assigned among equals */
    a->last_assign = 1;
    yard_nodes_changed (ns, a);
    assert_ptr_equal (yard_nodes_best (ns, 1, accept_all, NULL), b);
    /* most free CPUs first */
    b->cpus_used = 3;
    yard_nodes_changed (ns, b);
    assert_ptr_equal (yard_nodes_best (ns, 1, accept_all, NULL), a);
    /* the walk goes past nodes the job does not fit */
    struct want w = {.gpus = 1, .memory = 0};
    assert_ptr_equal (yard_nodes_best (ns, 1, accept_fit, &w), b);
    assert_null (yard_nodes_best (ns, 2, accept_fit, &w));
    w = (struct want){.gpus = 0, .memory = 300};
    assert_ptr_equal (yard_nodes_best (ns, 2, accept_fit, &w), d);
    assert_null (yard_nodes_best (ns, 3, accept_fit, &w));
    /* drained, unbound, down or leaving nodes are closed */
    a->admin.drain = true;
    yard_nodes_changed (ns, a);
    assert_ptr_equal (yard_nodes_best (ns, 1, accept_all, NULL), d);
    yard_nodes_unbind (ns, d);
    assert_ptr_equal (yard_nodes_best (ns, 1, accept_all, NULL), b);
    b->state = YARD__NODE_STATE__NODE_LEAVING;
    yard_nodes_changed (ns, b);
    assert_null (yard_nodes_best (ns, 1, accept_all, NULL));
    yard_nodes_max_free (ns, &c, &g, &m);
    assert_true (c == 0 && g == 0 && m == 0);
    a->admin.drain = false;
    yard_nodes_changed (ns, a);
    yard_nodes_max_free (ns, &c, &g, &m);
    assert_int_equal (c, 4);
    assert_int_equal (g, 0);
    assert_int_equal (m, 100);
    yard_nodes_remove (ns, a);
    assert_null (yard_nodes_best (ns, 1, accept_all, NULL));
    yard_nodes_destroy (&ns);
    assert_null (ns);
}

/* The node a linear scan picks: the old dispatch loop's rule. */
static yard_node_t *
scan_best (yard_nodes_t *ns, uint32_t cpus, const struct want *w)
{
    yard_node_t *best = NULL;
    for (size_t i = 0; i < yard_nodes_count (ns); i++) {
        yard_node_t *node = yard_nodes_at (ns, i);
        uint32_t f = yard_node_free_cpus (node);
        if (!yard_node_open (node) || f < cpus || !accept_fit (node, (void *)w))
            continue;
        if (!best || f > yard_node_free_cpus (best)
            || (f == yard_node_free_cpus (best)
                && node->last_assign < best->last_assign))
            best = node;
    }
    return best;
}

static void
test_against_scan (void **state)
{
    (void)state;
    yard_nodes_t *ns = yard_nodes_create ();
    assert_non_null (ns);
    int next = 0;
    for (; next < 300; next++)
        (void)mknode (ns, next, 1 + (uint32_t)(rng () % 8),
                      (uint32_t)(rng () % 3), 1000 * (1 + rng () % 16));
    uint64_t seq = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = yard_nodes_count (ns);
        yard_node_t *node = yard_nodes_at (ns, rng () % n);
        switch (rng () % 10) {
        case 0:
            node->admin.drain = !node->admin.drain;
            yard_nodes_changed (ns, node);
            break;
        case 1:
            if (node->bound) {
                yard_nodes_unbind (ns, node);
            } else {
                yard_peer_t peer = {.len = 8};
                uint64_t id = rng ();
                memcpy (peer.id, &id, sizeof id);
                assert_int_equal (yard_nodes_bind (ns, node, &peer), 0);
            }
            break;
        case 2:
            if (rng () % 20 == 0 && n > 50) {
                yard_nodes_remove (ns, node);
            } else {
                (void)mknode (ns, next++, 1 + (uint32_t)(rng () % 8), 1,
                              4000);
            }
            break;
        case 3:
            node->state = node->state == YARD__NODE_STATE__NODE_UP
                              ? YARD__NODE_STATE__NODE_LEAVING
                              : YARD__NODE_STATE__NODE_UP;
            yard_nodes_changed (ns, node);
            break;
        case 4:
        case 5:
            node->cpus_used = node->cpus_used ? node->cpus_used - 1 : 0;
            node->gpus_used = node->gpus_used ? node->gpus_used - 1 : 0;
            node->memory_used = node->memory_used >= 500
                                    ? node->memory_used - 500
                                    : 0;
            yard_nodes_changed (ns, node);
            break;
        default: {
            uint32_t cpus = 1 + (uint32_t)(rng () % 4);
            struct want w = {.gpus = (uint32_t)(rng () % 2),
                             .memory = 500 * (rng () % 4)};
            yard_node_t *want = scan_best (ns, cpus, &w);
            yard_node_t *got = yard_nodes_best (ns, cpus, accept_fit, &w);
            assert_ptr_equal (got, want);
            uint32_t mc, mg, sc = 0, sg = 0;
            uint64_t mm, sm = 0;
            yard_nodes_max_free (ns, &mc, &mg, &mm);
            for (size_t i = 0; i < yard_nodes_count (ns); i++) {
                yard_node_t *x = yard_nodes_at (ns, i);
                if (!yard_node_open (x))
                    continue;
                if (yard_node_free_cpus (x) > sc)
                    sc = yard_node_free_cpus (x);
                if (yard_node_free_gpus (x) > sg)
                    sg = yard_node_free_gpus (x);
                if (yard_node_free_memory (x) > sm)
                    sm = yard_node_free_memory (x);
            }
            assert_int_equal (mc, sc);
            assert_int_equal (mg, sg);
            assert_int_equal (mm, sm);
            if (got) { /* place it, as dispatch does */
                got->cpus_used += cpus;
                got->gpus_used += w.gpus;
                got->memory_used += w.memory;
                got->last_assign = ++seq;
                yard_nodes_changed (ns, got);
            }
        }
        }
    }
    yard_nodes_destroy (&ns);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_order),
        cmocka_unit_test (test_against_scan),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
