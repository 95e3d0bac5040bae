/* jobenv.h - what a job sees when it starts: its environment and its
 * working directory (the job contract of docs/architecture.md).
 *
 * A jobenv_t is a "KEY=VALUE" vector built from the worker's environment,
 * then the spec's variables (which override it), then the contract
 * variables, which override both: a job cannot be handed a stale
 * YARD_JOB_ID or a GPU it did not ask for by an environment captured at
 * submit time.  OMP_NUM_THREADS is the one contract value a spec may set
 * itself (a job may know better how many threads it wants).
 *
 * Everything here is pure apart from reading the file system, so it is
 * tested without spawning anything.
 */
#ifndef WORKER_JOBENV_H
#define WORKER_JOBENV_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "yard.pb-c.h"

typedef struct jobenv jobenv_t;

/* A copy of base (a NULL-terminated "KEY=VALUE" vector such as environ; may
 * be NULL).  Entries without '=' are dropped.  Returns NULL with errno set. */
jobenv_t *jobenv_create (char *const *base);
void jobenv_destroy (jobenv_t **env);

/* Set key to value, replacing an existing entry.  Returns 0, -EINVAL (empty
 * key or a key with '='), or -ENOMEM. */
int jobenv_set (jobenv_t *env, const char *key, const char *value);
void jobenv_unset (jobenv_t *env, const char *key);

/* The value of key, or NULL.  Borrowed: valid until env changes. */
const char *jobenv_get (const jobenv_t *env, const char *key);

/* The NULL-terminated vector for uv_spawn.  Borrowed: valid until env
 * changes or is destroyed. */
char **jobenv_vector (jobenv_t *env);
size_t jobenv_count (const jobenv_t *env);

/* What the worker knows about the attempt beyond its spec. */
struct jobenv_ctx {
    uint64_t job_id;
    uint32_t attempt;
    const char *node;              /* the worker's name */
    const char *job_dir;           /* the attempt dir (YARD_JOB_DIR) */
    const char *checkpoint_dir;    /* YARD_CHECKPOINT_DIR */
    const char *latest_checkpoint; /* NULL when there is none */
    const char *inputs_dir;        /* YARD_INPUTS: staged inputs (NULL:
                                      the spec stages none) */
    const char *outputs_dir;       /* YARD_OUTPUTS: folders collected
                                      after exit 0 (NULL: none) */
};

/* Apply spec->env and then the job contract to env.  Returns 0, or -EINVAL
 * with err naming a spec variable that cannot be set, or -ENOMEM. */
int jobenv_build (jobenv_t *env, const Yard__JobSpec *spec,
                  const struct jobenv_ctx *ctx, yard_error_t *err);

/* The newest entry (by mtime; names starting with '.' or ending in ".tmp"
 * are work in progress and skipped) of the checkpoint dir, as a full path
 * in buf.  Ties go to the greater name, so the choice is stable.  Returns 0,
 * -ENOENT when there is none (or no such dir), -ENAMETOOLONG, or another
 * negative errno from reading the dir. */
int jobenv_latest_checkpoint (const char *dir, char *buf, size_t len);

/* Where the job runs: spec->workdir when set (it must be an absolute path
 * to a directory on this node, else -ENOENT/-ENOTDIR/-EINVAL with err
 * saying so); else spec->submit_dir when it is a directory here; else
 * job_dir.  The result goes to buf.  Returns 0 or a negative errno. */
int jobenv_resolve_cwd (const Yard__JobSpec *spec, const char *job_dir,
                        const char *node, char *buf, size_t len,
                        yard_error_t *err);

/* Where argv0 would be found on path (a PATH value; NULL: the default
 * search path), the way execvp() looks.  Returns 0 with the path in buf
 * when found and executable, -EACCES when found but not executable,
 * -ENOENT when not found, -ENAMETOOLONG.  Only used to say precisely why a
 * command could not start: uv_spawn() does the real search. */
int jobenv_which (const char *argv0, const char *path, char *buf, size_t len);

#endif
