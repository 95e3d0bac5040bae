/* deps.c - dependency and array indexes (see deps.h).
 *
 * Both maps are open-addressing hash tables on the 64-bit id with linear
 * probing and backward-shift deletion (no tombstones, so a long-lived
 * scheduler whose parents come and go never degrades).  Each entry carries
 * a vector of ids: the dependents of a parent, or the held members of an
 * array (a FIFO: head is the next to release).
 */
#include "deps.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct entry {
    uint64_t key;        /* 0: free slot (job ids start at 1) */
    uint64_t *v;
    size_t n, cap, head;
    uint32_t running;
};

struct map {
    struct entry *slot;
    size_t cap;          /* a power of two, or 0 */
    size_t count;
};

struct yard_deps {
    struct map edges;
    struct map arrays;
};

yard_dep_result_t
yard_dep_eval (Yard__Dependency__Condition cond, Yard__JobState st)
{
    if (!yard_job_state_is_terminal (st))
        return YARD_DEP_WAIT;
    bool ok = st == YARD__JOB_STATE__JOB_COMPLETED;
    switch (cond) {
    case YARD__DEPENDENCY__CONDITION__ANY: return YARD_DEP_MET;
    case YARD__DEPENDENCY__CONDITION__NOTOK:
        return ok ? YARD_DEP_NEVER : YARD_DEP_MET;
    default: return ok ? YARD_DEP_MET : YARD_DEP_NEVER;
    }
}

const char *
yard_dep_cond_name (Yard__Dependency__Condition cond)
{
    switch (cond) {
    case YARD__DEPENDENCY__CONDITION__OK: return "ok";
    case YARD__DEPENDENCY__CONDITION__ANY: return "any";
    case YARD__DEPENDENCY__CONDITION__NOTOK: return "notok";
    default: return "?";
    }
}

/* ---- the map ---- */

static size_t
hash (uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static struct entry *
map_find (const struct map *m, uint64_t key)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = hash (key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->slot[i].key == key)
            return &m->slot[i];
        if (m->slot[i].key == 0)
            return NULL;
    }
}

static int
map_grow (struct map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct entry *v = calloc (cap, sizeof v[0]);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slot[i].key == 0)
            continue;
        size_t j = hash (m->slot[i].key, cap);
        while (v[j].key != 0)
            j = (j + 1) & (cap - 1);
        v[j] = m->slot[i];
    }
    free (m->slot);
    m->slot = v;
    m->cap = cap;
    return 0;
}

/* The entry of key, created empty if absent.  NULL: out of memory. */
static struct entry *
map_get (struct map *m, uint64_t key)
{
    struct entry *e = map_find (m, key);
    if (e)
        return e;
    if ((m->count + 1) * 2 > m->cap && map_grow (m) < 0)
        return NULL;
    size_t i = hash (key, m->cap);
    while (m->slot[i].key != 0)
        i = (i + 1) & (m->cap - 1);
    memset (&m->slot[i], 0, sizeof m->slot[i]);
    m->slot[i].key = key;
    m->count++;
    return &m->slot[i];
}

/* Remove e (its vector already taken or freed) by backward shift. */
static void
map_remove (struct map *m, struct entry *e)
{
    size_t i = (size_t)(e - m->slot), mask = m->cap - 1;
    for (size_t j = (i + 1) & mask; m->slot[j].key != 0; j = (j + 1) & mask) {
        size_t h = hash (m->slot[j].key, m->cap);
        /* slot j may move to the hole i when its home h is not in (i, j] */
        if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
            m->slot[i] = m->slot[j];
            i = j;
        }
    }
    memset (&m->slot[i], 0, sizeof m->slot[i]);
    m->count--;
}

static void
map_clear (struct map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free (m->slot[i].v);
    if (m->cap)
        memset (m->slot, 0, m->cap * sizeof m->slot[0]);
    m->count = 0;
}

static int
vec_push (struct entry *e, uint64_t id)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 4;
        uint64_t *v = realloc (e->v, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = id;
    return 0;
}

/* ---- the object ---- */

yard_deps_t *
yard_deps_create (void)
{
    yard_deps_t *d = calloc (1, sizeof *d);
    if (!d)
        errno = ENOMEM;
    return d;
}

void
yard_deps_destroy (yard_deps_t **dp)
{
    if (!dp || !*dp)
        return;
    yard_deps_t *d = *dp;
    map_clear (&d->edges);
    map_clear (&d->arrays);
    free (d->edges.slot);
    free (d->arrays.slot);
    free (d);
    *dp = NULL;
}

void
yard_deps_clear (yard_deps_t *d)
{
    map_clear (&d->edges);
    map_clear (&d->arrays);
}

int
yard_deps_add (yard_deps_t *d, uint64_t parent, uint64_t child)
{
    if (parent == 0)
        return -EINVAL;
    struct entry *e = map_get (&d->edges, parent);
    if (!e)
        return -ENOMEM;
    if (vec_push (e, child) < 0) {
        if (e->n == 0)
            map_remove (&d->edges, e);
        return -ENOMEM;
    }
    return 0;
}

size_t
yard_deps_take (yard_deps_t *d, uint64_t parent, uint64_t **out)
{
    *out = NULL;
    struct entry *e = map_find (&d->edges, parent);
    if (!e)
        return 0;
    size_t n = e->n;
    *out = e->v;
    e->v = NULL;
    map_remove (&d->edges, e);
    return n;
}

size_t
yard_deps_parents (const yard_deps_t *d)
{
    return d->edges.count;
}

uint32_t
yard_deps_running (const yard_deps_t *d, uint64_t array_id)
{
    const struct entry *e = map_find (&d->arrays, array_id);
    return e ? e->running : 0;
}

int
yard_deps_run_inc (yard_deps_t *d, uint64_t array_id)
{
    struct entry *e = map_get (&d->arrays, array_id);
    if (!e)
        return -ENOMEM;
    e->running++;
    return 0;
}

/* Drop an array entry that no longer holds anything. */
static void
array_gc (struct map *m, struct entry *e)
{
    if (e->running == 0 && e->head == e->n) {
        free (e->v);
        e->v = NULL;
        map_remove (m, e);
    }
}

void
yard_deps_run_dec (yard_deps_t *d, uint64_t array_id)
{
    struct entry *e = map_find (&d->arrays, array_id);
    if (!e)
        return;
    if (e->running > 0)
        e->running--;
    array_gc (&d->arrays, e);
}

int
yard_deps_hold (yard_deps_t *d, uint64_t array_id, uint64_t job_id)
{
    struct entry *e = map_get (&d->arrays, array_id);
    if (!e)
        return -ENOMEM;
    if (e->head > 0 && e->head == e->n)
        e->head = e->n = 0; /* drained: reuse the vector from its start */
    if (vec_push (e, job_id) < 0) {
        array_gc (&d->arrays, e);
        return -ENOMEM;
    }
    return 0;
}

uint64_t
yard_deps_unhold (yard_deps_t *d, uint64_t array_id)
{
    struct entry *e = map_find (&d->arrays, array_id);
    if (!e || e->head == e->n)
        return 0;
    uint64_t id = e->v[e->head++];
    array_gc (&d->arrays, e);
    return id;
}

/* ---- array membership ---- */

static bool
parse_u64 (const char *text, uint64_t max, uint64_t *out)
{
    if (!text || *text < '0' || *text > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

bool
yard_job_array_member (const Yard__JobSpec *spec, uint64_t *array_id,
                       uint32_t *index)
{
    *array_id = 0;
    *index = 0;
    if (!spec || !spec->array || !spec->array->set)
        return false;
    uint64_t id = 0, idx = 0;
    bool have_id = false, have_idx = false;
    for (size_t i = spec->n_env; i-- > 0 && !(have_id && have_idx);) {
        const Yard__EnvVar *e = spec->env[i];
        if (!e || !e->key)
            continue;
        if (!have_id && strcmp (e->key, "YARD_ARRAY_ID") == 0)
            have_id = parse_u64 (e->value, UINT64_MAX, &id);
        else if (!have_idx && strcmp (e->key, "YARD_ARRAY_INDEX") == 0)
            have_idx = parse_u64 (e->value, UINT32_MAX, &idx);
    }
    if (!have_id || !have_idx || id == 0)
        return false;
    *array_id = id;
    *index = (uint32_t)idx;
    return true;
}
