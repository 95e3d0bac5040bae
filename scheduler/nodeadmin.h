/* nodeadmin.h - what admins and health checks set on a node: the drain
 * flag with its reason, and labels; and the pure rules built on them
 * (label syntax, constraint and GPU-type matching, the displayed state).
 *
 * Kept apart from node.c so that the rules are unit-tested without a
 * scheduler, and so that the registry stays about connections.  The
 * struct is embedded in yard_node_t (node->admin); it is persisted by
 * store_nodeadmin.c and survives worker re-registers and restarts.
 */
#ifndef YARD_SCHED_NODEADMIN_H
#define YARD_SCHED_NODEADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "yard.pb-c.h"

#define YARD_LABEL_KEY_MAX 63
#define YARD_LABEL_VALUE_MAX 255
#define YARD_LABELS_MAX 64 /* per node */
#define YARD_DRAIN_REASON_MAX 1024

typedef struct yard_nodeadmin {
    bool drain;        /* takes no new jobs */
    bool drain_health; /* the drain came from the health check: only a
                          healthy report (or an admin resume) lifts it */
    char *reason;      /* owned, why drained; NULL when none */
    int64_t since_ms;  /* unix ms of the last drain/resume */
    char **labels;     /* owned, "key" or "key=value", unique keys, in
                          the order they were first set */
    size_t nlabels;
} yard_nodeadmin_t;

/* Free what a holds and zero it.  Accepts NULL. */
void yard_nodeadmin_clear (yard_nodeadmin_t *a);

/* A valid label: key [A-Za-z0-9._-]{1,63}, optionally "=" and a value of
 * up to 255 printable ASCII characters.  0 or -EINVAL with err filled. */
int yard_label_check (const char *label, yard_error_t *err);

/* Set label (replacing the one with the same key).  0, -EINVAL (bad
 * label, err filled), -E2BIG (too many labels) or -ENOMEM; a failed call
 * changes nothing. */
int yard_nodeadmin_label_set (yard_nodeadmin_t *a, const char *label,
                              yard_error_t *err);

/* Remove the label with key's key ("k" or "k=v": only the key counts).
 * Returns 1 when one was removed, 0 when none had that key. */
int yard_nodeadmin_label_unset (yard_nodeadmin_t *a, const char *key);

/* Does the node carry constraint: "key" (any value) or "key=value"
 * (exactly)? */
bool yard_nodeadmin_has (const yard_nodeadmin_t *a, const char *constraint);

/* Index of the first of constraints[0..n) that a lacks, or -1 when it
 * has them all. */
int yard_nodeadmin_missing (const yard_nodeadmin_t *a,
                            char *const *constraints, size_t n);

/* Does any GPU of topo have a model name containing gpu_type (ASCII case
 * insensitive)?  "" or NULL matches every node. */
bool yard_gpu_type_match (const Yard__Topology *topo, const char *gpu_type);

/* Set (drain true) or clear the drain.  reason is copied ("" or NULL:
 * none).  0 or -ENOMEM (nothing changed). */
int yard_nodeadmin_set_drain (yard_nodeadmin_t *a, bool drain, bool health,
                              const char *reason, int64_t now_ms);

/* Labels as one string, '\n' between them (for state.db); NULL with errno
 * on failure, "" when none.  Free the result. */
char *yard_nodeadmin_labels_join (const yard_nodeadmin_t *a);

/* Replace a's labels with those of a joined string; invalid entries are
 * skipped (state.db is trusted but not blindly).  0 or -ENOMEM. */
int yard_nodeadmin_labels_parse (yard_nodeadmin_t *a, const char *joined);

/* The state shown to people: "down", "leaving", "drained" (drain, no
 * jobs), "draining" (drain, jobs), "allocated" (every CPU used), "mixed"
 * (some), "idle".  Static strings. */
const char *yard_node_display_state (Yard__NodeState state, bool drain,
                                     uint32_t cpus, uint32_t cpus_used,
                                     uint32_t njobs);

#endif
