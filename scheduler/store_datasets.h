/* store_datasets.h - datasets (named, numbered versions of artifacts) and
 * the artifact references that keep blobs from the garbage collector.
 *
 * datasets(name, version, digest, size, created_ms): versions count from 1
 * per name.  artifact_refs(digest, owner): each row keeps its artifact (and,
 * for a tree, every blob it lists) out of yard_artifacts_gc; owners are
 * "dataset:NAME@V", "run:ID" (a dataset version a pipeline run resolved)
 * and "step:RUN/STEP" (a step's outputs).
 */
#ifndef YARD_SCHED_STORE_DATASETS_H
#define YARD_SCHED_STORE_DATASETS_H

#include <stdint.h>

#include "error.h"
#include "store.h"
#include "store_artifacts.h"

typedef struct yard_dataset_row {
    const char *name;
    uint32_t version;
    const char *digest;
    uint64_t size;
    int64_t created_ms;
} yard_dataset_row_t;

typedef int (*yard_dataset_f) (const yard_dataset_row_t *row, void *arg);

/* Create the tables when missing (at open). */
int yard_store_datasets_init (yard_store_t *st, yard_error_t *err);

/* Resolve a dataset version (0: the latest) to its digest (65 bytes),
 * version and size.  -ENOENT: no such dataset or version. */
int yard_store_dataset_resolve (yard_store_t *st, const char *name,
                                uint32_t version, char digest[65],
                                uint32_t *version_out, uint64_t *size);

/* Register digest as the next version of name (in the batch transaction);
 * *version gets its number.  Adds the artifact reference. */
int yard_store_dataset_add (yard_store_t *st, const char *name,
                            const char *digest, uint64_t size,
                            int64_t created_ms, uint32_t *version);

/* Every version of name (NULL or "": of every dataset), by name then
 * version. */
int yard_store_datasets_list (yard_store_t *st, const char *name,
                              yard_dataset_f cb, void *arg);

/* yard_store_artifact_ref: store_artifacts.h */

/* Every digest some owner keeps, once each, sorted: the `keep` list of
 * yard_artifacts_gc.  cb's non-zero return stops the walk and is
 * returned. */
typedef int (*yard_artifact_ref_f) (const char *digest, void *arg);
int yard_store_artifact_refs (yard_store_t *st, yard_artifact_ref_f cb,
                              void *arg);

#endif
