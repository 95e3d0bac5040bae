/* sched_rows.h - what schedules (schedules.c) and triggers (triggers.c)
 * have in common: both keep a named, encoded PipelineSpec in a row of the
 * state database (store_models.h), fire it by copying the due rows out of
 * the read before any run is started (no read stays open while the runs
 * write), and answer the same add and remove requests but for their noun.
 *
 * Static inline helpers: each of the two files includes this header. */
#ifndef YARD_SCHED_ROWS_H
#define YARD_SCHED_ROWS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "models.h"
#include "sched_spec.h"
#include "server_int.h"
#include "store_models.h"
#include "util.h"

/* A copy of a row that is to fire: its name and its encoded spec. */
typedef struct yard_sched_due {
    char *name;
    uint8_t *pipeline;
    size_t len;
} yard_sched_due_t;

typedef struct yard_sched_dues {
    yard_sched_due_t *v;
    size_t n;
} yard_sched_dues_t;

/* Append a copy of r's name and spec.  0 or -ENOMEM; what was copied
 * before a failure is freed by yard__sched_dues_free. */
static inline int
yard__sched_dues_push (yard_sched_dues_t *d, const yard_store_sched_t *r)
{
    yard_sched_due_t *v = realloc (d->v, (d->n + 1) * sizeof v[0]);
    if (!v)
        return -ENOMEM;
    d->v = v;
    yard_sched_due_t *e = &v[d->n++];
    e->name = strdup (r->name);
    e->pipeline = malloc (r->pipeline_len ? r->pipeline_len : 1);
    e->len = r->pipeline_len;
    if (!e->name || !e->pipeline)
        return -ENOMEM;
    memcpy (e->pipeline, r->pipeline, r->pipeline_len);
    return 0;
}

static inline void
yard__sched_dues_free (yard_sched_dues_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free (d->v[i].name);
        free (d->v[i].pipeline);
    }
    free (d->v);
    d->v = NULL;
    d->n = 0;
}

/* yard_store_schedules and yard_store_triggers read the rows with this
 * walk (and store_models.h's callback). */
typedef int (*yard_sched_walk_f) (yard_store_t *st, yard_store_sched_f cb,
                                  void *arg);

static inline int
yard__sched_count_row (const yard_store_sched_t *r, void *arg)
{
    (void)r;
    (*(size_t *)arg)++;
    return 0;
}

/* true when name can name a NOUN (a schedule, a trigger); otherwise the
 * EINVAL reply is sent. */
static inline bool
yard__sched_name_check (yard_server_t *s, const yard_peer_t *peer,
                        uint64_t rid, const char *noun, const char *name)
{
    if (yard_model_name_ok (name))
        return true;
    yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                       "'%s' is not a %s name (1-128 of letters, digits, "
                       "'.', '_', '-')",
                       name ? name : "", noun);
    return false;
}

/* Add r (its name, spec and the noun's own columns set) with add_fn: its
 * spec is checked and named, fewer than max rows (read with walk) may
 * exist, and a name may be taken once.  0 when added; otherwise the error
 * reply is sent, and a store failure fails the batch.  r->created_ms is
 * set here, and r->pipeline_name (the spec's name) for the add only. */
static inline int
yard__sched_add (yard_server_t *s, const yard_peer_t *peer, uint64_t rid,
                 const char *noun, size_t max, yard_sched_walk_f walk,
                 int (*add_fn) (yard_store_t *, const yard_store_sched_t *),
                 yard_store_sched_t *r)
{
    yard_error_t err;
    yard_error_clear (&err);
    char *pname = NULL;
    int rc = yard__sched_spec_check (r->pipeline, r->pipeline_len, &pname,
                                     &err);
    if (rc < 0) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, -rc, "%s", err.text);
        return rc;
    }
    size_t count = 0;
    if ((rc = walk (s->store, yard__sched_count_row, &count)) == 0
        && count >= max) {
        free (pname);
        yard__reply_error (s, YARD__CLIENT, peer, rid, ENOSPC,
                           "at most %zu %ss", max, noun);
        return -ENOSPC;
    }
    r->pipeline_name = pname;
    r->created_ms = yard_now_ms ();
    if (rc == 0)
        rc = add_fn (s->store, r);
    r->pipeline_name = NULL;
    free (pname);
    if (rc == -EEXIST) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EEXIST,
                           "there is already a %s %s (yard %s remove %s "
                           "first)",
                           noun, r->name, noun, r->name);
        return rc;
    }
    if (rc < 0) {
        yard__fail (s, rc);
        yard__reply_store_error (s, peer, rid, rc);
        return rc;
    }
    return 0;
}

/* Remove the NOUN called name with remove_fn.  0 when removed (the caller
 * answers); otherwise the error reply is sent, and a store failure fails
 * the batch. */
static inline int
yard__sched_remove (yard_server_t *s, const yard_peer_t *peer, uint64_t rid,
                    const char *noun, const char *name,
                    int (*remove_fn) (yard_store_t *, const char *))
{
    int rc = yard_model_name_ok (name) ? remove_fn (s->store, name) : -ENOENT;
    if (rc == -ENOENT) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, ENOENT,
                           "no %s %s (yard %s list shows them)", noun,
                           name ? name : "", noun);
        return rc;
    }
    if (rc < 0) {
        yard__fail (s, rc);
        yard__reply_store_error (s, peer, rid, rc);
        return rc;
    }
    log_info ("%s %s removed", noun, name);
    return 0;
}

#endif
