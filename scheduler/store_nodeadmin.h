/* store_nodeadmin.h - node drain flags and labels in state.db's node_admin
 * table, and forgetting a removed node.
 *
 * Part of the store object (it shares its transaction, see store_int.h).
 * Like job_alloc, the table is created IF NOT EXISTS at every open rather
 * than by a user_version step, so any database gains it and an older
 * scheduler just ignores it.
 */
#ifndef YARD_SCHED_STORE_NODEADMIN_H
#define YARD_SCHED_STORE_NODEADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "nodeadmin.h"
#include "store.h"

/* Create the node_admin table if missing.  0 or -errno with err filled. */
int yard_store_nodeadmin_init (yard_store_t *st, yard_error_t *err);

/* Write name's drain flag and labels (in the batch transaction).  0 or
 * -errno. */
int yard_store_nodeadmin_put (yard_store_t *st, const char *name,
                              const yard_nodeadmin_t *a);

/* One row as loaded: strings borrowed for the duration of the call. */
typedef int (*yard_store_nodeadmin_f) (const char *name, bool drain,
                                       bool health, const char *reason,
                                       int64_t since_ms, const char *labels,
                                       void *arg);

/* Call cb for every row; a non-zero return stops and is returned.  0 or
 * -errno. */
int yard_store_nodeadmin_load (yard_store_t *st, yard_store_nodeadmin_f cb,
                               void *arg);

/* Delete every row about node name (nodes, node_topology, node_admin), in
 * the batch transaction.  0 or -errno. */
int yard_store_node_forget (yard_store_t *st, const char *name);

#endif
