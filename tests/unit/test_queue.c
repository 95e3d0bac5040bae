/* test_queue.c - the scheduler's in-memory indexes: the pending heap and
 * job map (scheduler/queue.c), plus the smaller pieces they index: the
 * worker registry (node.c), job spec validation (job.c) and the UTF-8
 * checks applied to what goes back on the wire (utf8.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job.h"
#include "node.h"
#include "queue.h"
#include "utf8.h"

/* Deterministic pseudo-random numbers (xorshift64*), so failures replay. */
static uint64_t rng_state = 88172645463325252ULL;

static uint64_t
rng (void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static yard_job_t *
mkjob (uint64_t id, int32_t priority)
{
    yard_job_t *job = yard_job_create ();
    assert_non_null (job);
    job->id = id;
    job->priority = priority;
    return job;
}

static void
free_jobs (yard_job_t **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        yard_job_destroy (&v[i]);
    free (v);
}

/* Pop everything and check the run order: priority desc, then id asc. */
static size_t
drain_checked (yard_queue_t *q)
{
    yard_job_t *prev = NULL, *job;
    size_t n = 0;
    while ((job = yard_queue_pop (q))) {
        assert_int_equal (job->heap_idx, YARD_JOB_NO_HEAP);
        if (prev) {
            assert_true (yard_job_cmp (prev, job) < 0);
            assert_true (prev->priority > job->priority
                         || (prev->priority == job->priority
                             && prev->id < job->id));
        }
        prev = job;
        n++;
    }
    return n;
}

static void
test_destroy_null (void **state)
{
    (void)state;
    yard_queue_t *q = NULL;
    yard_queue_destroy (&q);
    yard_queue_destroy (NULL);
    yard_job_t *job = NULL;
    yard_job_destroy (&job);
    yard_job_destroy (NULL);
    yard_nodes_t *ns = NULL;
    yard_nodes_destroy (&ns);
    yard_nodes_destroy (NULL);

    q = yard_queue_create ();
    assert_non_null (q);
    assert_null (yard_queue_peek (q));
    assert_null (yard_queue_pop (q));
    assert_int_equal (yard_queue_count (q), 0);
    assert_int_equal (yard_queue_pending (q), 0);
    yard_queue_destroy (&q);
    assert_null (q);
}

static void
test_heap_order (void **state)
{
    (void)state;
    yard_queue_t *q = yard_queue_create ();
    assert_non_null (q);
    /* Submit order is id order; priorities interleave, with ties. */
    static const int32_t prio[] = {0, 5, 0, 5, -3, 10, 0, 5, -3, 10, 7};
    size_t n = sizeof prio / sizeof prio[0];
    yard_job_t **v = calloc (n, sizeof v[0]);
    for (size_t i = 0; i < n; i++)
        v[i] = mkjob (i + 1, prio[i]);
    /* push in a scrambled order: the heap, not the push order, decides */
    for (size_t i = 0; i < n; i++)
        assert_int_equal (yard_queue_push (q, v[(i * 7) % n]), 0);
    assert_int_equal (yard_queue_pending (q), n);
    assert_int_equal (yard_queue_push (q, v[3]), -EEXIST);

    static const uint64_t expect[] = {6, 10, 11, 2, 4, 8, 1, 3, 7, 5, 9};
    assert_ptr_equal (yard_queue_peek (q), v[5]);
    for (size_t i = 0; i < n; i++) {
        yard_job_t *job = yard_queue_pop (q);
        assert_non_null (job);
        assert_int_equal (job->id, expect[i]);
    }
    assert_null (yard_queue_pop (q));
    free_jobs (v, n);
    yard_queue_destroy (&q);
}

static void
test_heap_remove (void **state)
{
    (void)state;
    yard_queue_t *q = yard_queue_create ();
    size_t n = 200;
    yard_job_t **v = calloc (n, sizeof v[0]);
    for (size_t i = 0; i < n; i++) {
        v[i] = mkjob (i + 1, (int32_t)(rng () % 7) - 3);
        assert_int_equal (yard_queue_push (q, v[i]), 0);
    }
    /* remove the head, the last slot, and arbitrary ones */
    yard_job_t *head = yard_queue_peek (q);
    assert_int_equal (yard_queue_unqueue (q, head), 0);
    assert_int_equal (head->heap_idx, YARD_JOB_NO_HEAP);
    assert_int_equal (yard_queue_unqueue (q, head), -ENOENT);
    size_t removed = 1;
    for (size_t i = 0; i < n; i += 3) {
        if (v[i] == head)
            continue;
        assert_int_equal (yard_queue_unqueue (q, v[i]), 0);
        assert_int_equal (v[i]->heap_idx, YARD_JOB_NO_HEAP);
        removed++;
    }
    assert_int_equal (yard_queue_pending (q), n - removed);
    /* a removed job can come back (a requeue) */
    assert_int_equal (yard_queue_push (q, v[0]), 0);
    removed--;
    /* rank counts the jobs that run first */
    yard_job_t **sorted;
    size_t ns;
    assert_int_equal (yard_queue_sorted (q, &sorted, &ns), 0);
    assert_int_equal (ns, n - removed);
    for (size_t i = 0; i < ns; i++) {
        assert_int_equal (yard_queue_rank (q, sorted[i]), i);
        if (i > 0)
            assert_true (yard_job_cmp (sorted[i - 1], sorted[i]) < 0);
    }
    free (sorted);
    assert_int_equal (drain_checked (q), n - removed);
    free_jobs (v, n);
    yard_queue_destroy (&q);
}

static void
test_heap_many (void **state)
{
    (void)state;
    yard_queue_t *q = yard_queue_create ();
    size_t n = 100000;
    yard_job_t **v = calloc (n, sizeof v[0]);
    for (size_t i = 0; i < n; i++) {
        v[i] = mkjob (i + 1, (int32_t)(rng () % 100) - 50);
        assert_int_equal (yard_queue_push (q, v[i]), 0);
    }
    /* interleave removals and pushes, as cancels and requeues do */
    for (size_t i = 0; i < n; i += 2)
        assert_int_equal (yard_queue_unqueue (q, v[(i * 7919) % n]), 0);
    size_t left = yard_queue_pending (q);
    assert_int_equal (left, n - n / 2);
    for (size_t i = 0; i < n; i++)
        if (v[i]->heap_idx == YARD_JOB_NO_HEAP && (i % 5) == 0) {
            assert_int_equal (yard_queue_push (q, v[i]), 0);
            left++;
        }
    assert_int_equal (drain_checked (q), left);
    /* clear_pending forgets every position */
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal (yard_queue_push (q, v[i]), 0);
    yard_queue_clear_pending (q);
    assert_int_equal (yard_queue_pending (q), 0);
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal (v[i]->heap_idx, YARD_JOB_NO_HEAP);
    free_jobs (v, n);
    yard_queue_destroy (&q);
}

static int
count_cb (yard_job_t *job, void *arg)
{
    (void)job;
    (*(size_t *)arg)++;
    return 0;
}

static int
stop_cb (yard_job_t *job, void *arg)
{
    (void)job;
    (void)arg;
    return 42;
}

static void
test_map (void **state)
{
    (void)state;
    yard_queue_t *q = yard_queue_create ();
    yard_job_t *a = mkjob (1, 0), *b = mkjob (2, 0), *dup = mkjob (1, 0);
    yard_job_t *zero = mkjob (0, 0);
    assert_int_equal (yard_queue_add (q, a), 0);
    assert_int_equal (yard_queue_add (q, b), 0);
    assert_int_equal (yard_queue_add (q, dup), -EEXIST);
    assert_int_equal (yard_queue_add (q, zero), -EINVAL);
    assert_ptr_equal (yard_queue_find (q, 1), a);
    assert_ptr_equal (yard_queue_find (q, 2), b);
    assert_null (yard_queue_find (q, 3));
    assert_null (yard_queue_find (q, 0));
    assert_int_equal (yard_queue_count (q), 2);
    /* del also takes the job out of the heap */
    assert_int_equal (yard_queue_push (q, a), 0);
    assert_int_equal (yard_queue_del (q, a), 0);
    assert_int_equal (a->heap_idx, YARD_JOB_NO_HEAP);
    assert_int_equal (yard_queue_pending (q), 0);
    assert_null (yard_queue_find (q, 1));
    assert_int_equal (yard_queue_del (q, a), -ENOENT);
    assert_int_equal (yard_queue_del (q, dup), -ENOENT); /* not the entry */
    assert_int_equal (yard_queue_foreach (q, stop_cb, NULL), 42);
    yard_job_destroy (&a);
    yard_job_destroy (&b);
    yard_job_destroy (&dup);
    yard_job_destroy (&zero);
    yard_queue_destroy (&q);
}

static void
test_map_growth (void **state)
{
    (void)state;
    yard_queue_t *q = yard_queue_create ();
    size_t n = 50000;
    yard_job_t **v = calloc (n, sizeof v[0]);
    /* half sequential ids (the usual case), half scattered */
    for (size_t i = 0; i < n; i++) {
        uint64_t id = i < n / 2 ? i + 1 : (rng () | 1ULL << 40) + i;
        v[i] = mkjob (id, 0);
        assert_int_equal (yard_queue_add (q, v[i]), 0);
    }
    assert_int_equal (yard_queue_count (q), n);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal (yard_queue_find (q, v[i]->id), v[i]);
    /* deleting from the middle of probe clusters must keep every other
     * entry reachable (backward shift) */
    for (size_t i = 0; i < n; i += 2)
        assert_int_equal (yard_queue_del (q, v[i]), 0);
    for (size_t i = 0; i < n; i++) {
        if (i % 2 == 0)
            assert_null (yard_queue_find (q, v[i]->id));
        else
            assert_ptr_equal (yard_queue_find (q, v[i]->id), v[i]);
    }
    size_t count = 0;
    assert_int_equal (yard_queue_foreach (q, count_cb, &count), 0);
    assert_int_equal (count, n / 2);
    assert_int_equal (yard_queue_count (q), n / 2);
    /* and re-adding works after deletions */
    for (size_t i = 0; i < n; i += 2)
        assert_int_equal (yard_queue_add (q, v[i]), 0);
    assert_int_equal (yard_queue_count (q), n);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal (yard_queue_find (q, v[i]->id), v[i]);
    free_jobs (v, n);
    yard_queue_destroy (&q);
}

/* ---- worker registry ---- */

static yard_peer_t
mkpeer (uint32_t x)
{
    yard_peer_t p = {.len = 5};
    p.id[0] = 0;
    memcpy (p.id + 1, &x, 4);
    return p;
}

static void
test_nodes (void **state)
{
    (void)state;
    yard_nodes_t *ns = yard_nodes_create ();
    assert_non_null (ns);
    assert_null (yard_nodes_add (ns, ""));
    assert_int_equal (errno, EINVAL);
    assert_null (yard_nodes_add (ns, "has space"));
    assert_null (yard_nodes_add (ns, "a/b"));
    size_t n = 300;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf (name, sizeof name, "w%zu", i);
        yard_node_t *node = yard_nodes_add (ns, name);
        assert_non_null (node);
        assert_int_equal (node->state, YARD__NODE_STATE__NODE_DOWN);
        yard_peer_t p = mkpeer ((uint32_t)i);
        assert_int_equal (yard_nodes_bind (ns, node, &p), 0);
    }
    assert_null (yard_nodes_add (ns, "w3"));
    assert_int_equal (errno, EEXIST);
    assert_int_equal (yard_nodes_count (ns), n);
    for (size_t i = 0; i < n; i++) {
        yard_peer_t p = mkpeer ((uint32_t)i);
        yard_node_t *node = yard_nodes_by_peer (ns, &p);
        assert_non_null (node);
        assert_ptr_equal (node, yard_nodes_at (ns, i));
    }
    yard_node_t *w1 = yard_nodes_get (ns, "w1");
    yard_node_t *w2 = yard_nodes_get (ns, "w2");
    /* a new connection for w1 */
    yard_peer_t p1 = mkpeer (1), pnew = mkpeer (100000);
    assert_int_equal (yard_nodes_bind (ns, w1, &pnew), 0);
    assert_null (yard_nodes_by_peer (ns, &p1));
    assert_ptr_equal (yard_nodes_by_peer (ns, &pnew), w1);
    /* w2 takes over w1's routing id: w1 is unbound */
    assert_int_equal (yard_nodes_bind (ns, w2, &pnew), 0);
    assert_false (w1->bound);
    assert_ptr_equal (yard_nodes_by_peer (ns, &pnew), w2);
    yard_nodes_unbind (ns, w2);
    yard_nodes_unbind (ns, w2);
    assert_null (yard_nodes_by_peer (ns, &pnew));
    /* every other node is still reachable after the deletions */
    for (size_t i = 3; i < n; i++) {
        yard_peer_t p = mkpeer ((uint32_t)i);
        assert_ptr_equal (yard_nodes_by_peer (ns, &p), yard_nodes_at (ns, i));
    }
    /* free capacity saturates */
    w1->cpus = 4;
    w1->cpus_used = 6;
    assert_int_equal (yard_node_free_cpus (w1), 0);
    w1->memory = 10;
    w1->memory_used = 3;
    assert_int_equal (yard_node_free_memory (w1), 7);
    yard_nodes_destroy (&ns);
    assert_null (ns);
}

/* ---- job spec checks ---- */

static void
test_spec_check (void **state)
{
    (void)state;
    yard_error_t err;
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    assert_int_equal (yard_job_spec_check (NULL, &err), -EINVAL);
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "argv is empty"));

    char *argv[] = {"python3", "train.py"};
    spec.argv = argv;
    spec.n_argv = 2;
    assert_int_equal (yard_job_spec_check (&spec, &err), 0);
    assert_int_equal (spec.cpus, 1);     /* defaults applied */
    assert_int_equal (spec.grace_s, 10);
    assert_string_equal (spec.name, "python3"); /* named after its command */
    free (spec.name);
    spec.name = "train";

    char *empty[] = {"x", ""};
    spec.argv = empty;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "argv[1]"));
    spec.argv = argv;

    char *big = malloc (YARD_JOB_MAX_ARG + 1);
    memset (big, 'a', YARD_JOB_MAX_ARG);
    big[YARD_JOB_MAX_ARG] = '\0';
    char *bigv[] = {"x", big};
    spec.argv = bigv;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "64 KiB"));
    big[YARD_JOB_MAX_ARG - 1] = '\0'; /* just under the limit */
    assert_int_equal (yard_job_spec_check (&spec, &err), 0);
    /* 20 arguments of ~64 KiB exceed the 1 MiB total */
    char *many[20];
    for (int i = 0; i < 20; i++)
        many[i] = big;
    spec.argv = many;
    spec.n_argv = 20;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "1 MiB"));
    spec.argv = argv;
    spec.n_argv = 2;

    Yard__EnvVar e1 = YARD__ENV_VAR__INIT, e2 = YARD__ENV_VAR__INIT;
    Yard__EnvVar *env[] = {&e1, &e2};
    e1.key = "A";
    e1.value = "1";
    e2.key = "";
    spec.env = env;
    spec.n_env = 2;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "env[1]"));
    e2.key = "B=C";
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "'='"));
    e2.key = "B";
    assert_int_equal (yard_job_spec_check (&spec, &err), 0);

    char name[300];
    memset (name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    spec.name = name;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "name"));
    name[YARD_JOB_MAX_NAME] = '\0';
    assert_int_equal (yard_job_spec_check (&spec, &err), 0);

    spec.cpus = YARD_JOB_MAX_CPUS + 1;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "cpus"));
    spec.cpus = YARD_JOB_MAX_CPUS;
    spec.gpus = YARD_JOB_MAX_GPUS + 1;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "gpus"));
    spec.gpus = YARD_JOB_MAX_GPUS;
    assert_int_equal (yard_job_spec_check (&spec, &err), 0);
    assert_int_equal (spec.cpus, YARD_JOB_MAX_CPUS);
    free (big);
}

static void
test_utf8 (void **state)
{
    (void)state;
    assert_true (yard_utf8_valid (NULL));
    assert_true (yard_utf8_valid (""));
    assert_true (yard_utf8_valid ("plain ascii"));
    assert_true (yard_utf8_valid ("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x82"));
    assert_false (yard_utf8_valid ("\xff"));
    assert_false (yard_utf8_valid ("\xc3"));             /* cut */
    assert_false (yard_utf8_valid ("\xc0\xaf"));         /* overlong */
    assert_false (yard_utf8_valid ("\xed\xa0\x80"));     /* surrogate */
    assert_false (yard_utf8_valid ("\xf4\x90\x80\x80")); /* > U+10FFFF */
    char s1[] = "ok\xffok\xe2\x82";
    assert_string_equal (yard_utf8_sanitize (s1), "ok?ok??");
    char s2[] = "caf\xc3\xa9";
    assert_string_equal (yard_utf8_sanitize (s2), "caf\xc3\xa9");

    /* specs and node names refuse it */
    yard_error_t err;
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    char *argv[] = {"x", "\xc3("};
    spec.argv = argv;
    spec.n_argv = 2;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "argv[1] is not valid UTF-8"));
    spec.n_argv = 1;
    spec.name = "\xff";
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "name"));
    spec.name = "r\xc3\xa9sum\xc3\xa9";
    assert_int_equal (yard_job_spec_check (&spec, &err), 0);
    assert_int_equal (yard_node_name_check ("n\xc3\xb6" "de"), 0);
    assert_int_equal (yard_node_name_check ("n\xff"), -EINVAL);
}

static void
test_job_record (void **state)
{
    (void)state;
    yard_job_t *a = mkjob (7, 3), *b = mkjob (9, 1);
    assert_int_equal (yard_job_set_node (a, "w1"), 0);
    assert_int_equal (yard_job_set_reason (a, "lost %d times", 2), 0);
    assert_string_equal (a->reason, "lost 2 times");
    assert_int_equal (yard_job_set_reason (b, NULL), 0);
    assert_null (b->reason);
    b->heap_idx = 5;
    yard_job_swap_record (a, b);
    assert_int_equal (a->id, 9);
    assert_int_equal (b->id, 7);
    assert_string_equal (b->node, "w1");
    assert_null (a->node);
    assert_int_equal (b->heap_idx, 5); /* links stay */
    assert_int_equal (yard_job_cpus (a), 1);
    assert_int_equal (yard_job_grace (a), 10);
    Yard__JobInfo info;
    yard_job_info (b, &info, "why");
    assert_int_equal (info.id, 7);
    assert_string_equal (info.node, "w1");
    assert_string_equal (info.reason, "why");
    yard_job_info (a, &info, NULL);
    assert_string_equal (info.node, "");
    assert_string_equal (info.reason, "");
    yard_job_destroy (&a);
    yard_job_destroy (&b);
    assert_null (a);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_destroy_null),
        cmocka_unit_test (test_heap_order),
        cmocka_unit_test (test_heap_remove),
        cmocka_unit_test (test_heap_many),
        cmocka_unit_test (test_map),
        cmocka_unit_test (test_map_growth),
        cmocka_unit_test (test_nodes),
        cmocka_unit_test (test_spec_check),
        cmocka_unit_test (test_utf8),
        cmocka_unit_test (test_job_record),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
