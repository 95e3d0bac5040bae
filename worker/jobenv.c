/* jobenv.c - a job's environment and working directory (see jobenv.h). */
#include "jobenv.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct jobenv {
    char **vec; /* NULL-terminated, each entry malloc'd "KEY=VALUE" */
    size_t count;
    size_t cap; /* slots in vec, the NULL included */
};

/* Variables the worker always sets or clears itself. */
static const char *const contract_keys[] = {
    "YARD_JOB_ID", "YARD_ATTEMPT",           "YARD_JOB_NAME",
    "YARD_NODE",   "YARD_JOB_DIR",           "YARD_CHECKPOINT_DIR",
    "YARD_RESUME", "YARD_LATEST_CHECKPOINT", "YARD_INPUTS",
    "YARD_OUTPUTS",
};

static bool
key_valid (const char *key)
{
    return key && key[0] != '\0' && strchr (key, '=') == NULL;
}

/* Index of key in env, or -1.  keylen: length of key. */
static ssize_t
find (const jobenv_t *env, const char *key, size_t keylen)
{
    for (size_t i = 0; i < env->count; i++) {
        const char *e = env->vec[i];
        if (strncmp (e, key, keylen) == 0 && e[keylen] == '=')
            return (ssize_t)i;
    }
    return -1;
}

static int
grow (jobenv_t *env)
{
    if (env->count + 1 < env->cap)
        return 0;
    size_t cap = env->cap ? env->cap * 2 : 64;
    char **v = realloc (env->vec, cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    env->vec = v;
    env->cap = cap;
    return 0;
}

/* Append a copy of entry (already "KEY=VALUE", key not present). */
static int
append (jobenv_t *env, char *entry)
{
    int rc = grow (env);
    if (rc < 0)
        return rc;
    env->vec[env->count++] = entry;
    env->vec[env->count] = NULL;
    return 0;
}

jobenv_t *
jobenv_create (char *const *base)
{
    jobenv_t *env = calloc (1, sizeof *env);
    if (!env)
        return NULL;
    if (grow (env) < 0)
        goto error;
    env->vec[0] = NULL;
    for (size_t i = 0; base && base[i]; i++) {
        const char *eq = strchr (base[i], '=');
        if (!eq || eq == base[i])
            continue;
        size_t keylen = (size_t)(eq - base[i]);
        ssize_t at = find (env, base[i], keylen);
        char *copy = strdup (base[i]);
        if (!copy)
            goto error;
        if (at >= 0) { /* a duplicate in base: the later one wins, as getenv */
            free (env->vec[at]);
            env->vec[at] = copy;
        } else if (append (env, copy) < 0) {
            free (copy);
            goto error;
        }
    }
    return env;
error:
    jobenv_destroy (&env);
    errno = ENOMEM;
    return NULL;
}

void
jobenv_destroy (jobenv_t **envp)
{
    if (!envp || !*envp)
        return;
    jobenv_t *env = *envp;
    for (size_t i = 0; i < env->count; i++)
        free (env->vec[i]);
    free (env->vec);
    free (env);
    *envp = NULL;
}

int
jobenv_set (jobenv_t *env, const char *key, const char *value)
{
    if (!key_valid (key))
        return -EINVAL;
    if (!value)
        value = "";
    size_t kl = strlen (key), vl = strlen (value);
    char *entry = malloc (kl + vl + 2);
    if (!entry)
        return -ENOMEM;
    memcpy (entry, key, kl);
    entry[kl] = '=';
    memcpy (entry + kl + 1, value, vl + 1);
    ssize_t at = find (env, key, kl);
    if (at >= 0) {
        free (env->vec[at]);
        env->vec[at] = entry;
        return 0;
    }
    int rc = append (env, entry);
    if (rc < 0)
        free (entry);
    return rc;
}

void
jobenv_unset (jobenv_t *env, const char *key)
{
    if (!key_valid (key))
        return;
    ssize_t at = find (env, key, strlen (key));
    if (at < 0)
        return;
    free (env->vec[at]);
    /* keep the order: people diff environments */
    memmove (&env->vec[at], &env->vec[at + 1],
             (env->count - (size_t)at) * sizeof env->vec[0]);
    env->count--;
}

const char *
jobenv_get (const jobenv_t *env, const char *key)
{
    if (!key_valid (key))
        return NULL;
    size_t kl = strlen (key);
    ssize_t at = find (env, key, kl);
    return at < 0 ? NULL : env->vec[at] + kl + 1;
}

char **
jobenv_vector (jobenv_t *env)
{
    return env->vec;
}

size_t
jobenv_count (const jobenv_t *env)
{
    return env->count;
}

/* True when the spec itself sets key (so it overrides the worker's value). */
static bool
spec_sets (const Yard__JobSpec *spec, const char *key)
{
    for (size_t i = 0; i < spec->n_env; i++)
        if (spec->env[i] && spec->env[i]->key
            && strcmp (spec->env[i]->key, key) == 0)
            return true;
    return false;
}

int
jobenv_build (jobenv_t *env, const Yard__JobSpec *spec,
              const struct jobenv_ctx *ctx, yard_error_t *err)
{
    int rc;

    for (size_t i = 0; i < spec->n_env; i++) {
        const Yard__EnvVar *v = spec->env[i];
        if (!v || !key_valid (v->key))
            return yard_errorf (err, EINVAL,
                                "invalid environment variable name '%s' in "
                                "the job spec (env[%zu]): a name must be "
                                "non-empty and have no '='",
                                v && v->key ? v->key : "", i);
        if ((rc = jobenv_set (env, v->key, v->value)) < 0)
            return yard_errorf (err, -rc, "cannot set %s: out of memory",
                                v->key);
    }

    /* A YARD_RESUME left over from the worker's or the submitter's
     * environment would make a fresh job look for a checkpoint. */
    for (size_t i = 0; i < sizeof contract_keys / sizeof contract_keys[0]; i++)
        jobenv_unset (env, contract_keys[i]);

    char job_id[32], attempt[16], threads[16];
    snprintf (job_id, sizeof job_id, "%" PRIu64, ctx->job_id);
    snprintf (attempt, sizeof attempt, "%" PRIu32, ctx->attempt);
    snprintf (threads, sizeof threads, "%" PRIu32,
              spec->cpus ? spec->cpus : 1);
    struct {
        const char *key;
        const char *value;
    } set[] = {
        { "YARD_JOB_ID", job_id },
        { "YARD_ATTEMPT", attempt },
        { "YARD_JOB_NAME", spec->name },
        { "YARD_NODE", ctx->node },
        { "YARD_JOB_DIR", ctx->job_dir },
        { "YARD_CHECKPOINT_DIR", ctx->checkpoint_dir },
        { "YARD_RESUME", ctx->latest_checkpoint ? "1" : NULL },
        { "YARD_LATEST_CHECKPOINT", ctx->latest_checkpoint },
        { "YARD_INPUTS", ctx->inputs_dir },
        { "YARD_OUTPUTS", ctx->outputs_dir },
        { "OMP_NUM_THREADS",
          spec_sets (spec, "OMP_NUM_THREADS") ? NULL : threads },
        /* so that a CPU job does not grab the node's GPUs */
        { "CUDA_VISIBLE_DEVICES", spec->gpus == 0 ? "" : NULL },
    };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        if (!set[i].value)
            continue;
        if ((rc = jobenv_set (env, set[i].key, set[i].value)) < 0)
            return yard_errorf (err, -rc, "cannot set %s: out of memory",
                                set[i].key);
    }
    return 0;
}

/* Checkpoint writers save to "x.tmp" or ".x" and rename when complete. */
static bool
checkpoint_in_progress (const char *name)
{
    size_t n = strlen (name);
    return name[0] == '.' || (n >= 4 && strcmp (name + n - 4, ".tmp") == 0);
}

int
jobenv_latest_checkpoint (const char *dir, char *buf, size_t len)
{
    DIR *d = opendir (dir);
    if (!d)
        return -errno;
    char best[NAME_MAX + 1] = "";
    struct timespec best_t = { 0, 0 };
    struct dirent *de;
    int rc = -ENOENT;
    errno = 0;
    while ((de = readdir (d))) {
        struct stat st;
        if (checkpoint_in_progress (de->d_name))
            continue;
        if (fstatat (dirfd (d), de->d_name, &st, 0) < 0)
            continue; /* removed meanwhile, or a dangling link */
        bool newer = rc < 0 || st.st_mtim.tv_sec > best_t.tv_sec
                     || (st.st_mtim.tv_sec == best_t.tv_sec
                         && (st.st_mtim.tv_nsec > best_t.tv_nsec
                             || (st.st_mtim.tv_nsec == best_t.tv_nsec
                                 && strcmp (de->d_name, best) > 0)));
        if (newer) {
            snprintf (best, sizeof best, "%s", de->d_name);
            best_t = st.st_mtim;
            rc = 0;
        }
    }
    closedir (d);
    if (rc < 0)
        return rc;
    if ((size_t)snprintf (buf, len, "%s/%s", dir, best) >= len)
        return -ENAMETOOLONG;
    return 0;
}

static int
is_dir (const char *path)
{
    struct stat st;
    if (stat (path, &st) < 0)
        return -errno;
    return S_ISDIR (st.st_mode) ? 0 : -ENOTDIR;
}

int
jobenv_resolve_cwd (const Yard__JobSpec *spec, const char *job_dir,
                    const char *node, char *buf, size_t len, yard_error_t *err)
{
    const char *dir = job_dir;
    if (spec->workdir && spec->workdir[0]) {
        const char *w = spec->workdir;
        int rc;
        if (w[0] != '/')
            return yard_errorf (err, EINVAL,
                                "workdir %s is not an absolute path", w);
        if ((rc = is_dir (w)) == -ENOENT)
            return yard_errorf (
                err, ENOENT, "workdir %s does not exist on node %s", w, node);
        if (rc == -ENOTDIR)
            return yard_errorf (err, ENOTDIR,
                                "workdir %s is not a directory on node %s", w,
                                node);
        if (rc < 0)
            return yard_errorf (err, -rc,
                                "workdir %s is not usable on node "
                                "%s: %s",
                                w, node, strerror (-rc));
        if (access (w, X_OK) < 0)
            return yard_errorf (err, errno,
                                "workdir %s is not usable on "
                                "node %s: %s",
                                w, node, strerror (errno));
        dir = w;
    } else if (spec->submit_dir && spec->submit_dir[0] == '/'
               && is_dir (spec->submit_dir) == 0
               && access (spec->submit_dir, X_OK) == 0) {
        /* the submitter's cwd, when this node shares that file system */
        dir = spec->submit_dir;
    }
    if (strlen (dir) >= len)
        return yard_errorf (err, ENAMETOOLONG, "working dir %s is too long",
                            dir);
    memcpy (buf, dir, strlen (dir) + 1);
    return 0;
}

int
jobenv_which (const char *argv0, const char *path, char *buf, size_t len)
{
    if (!argv0 || !argv0[0])
        return -ENOENT;
    if (strchr (argv0, '/')) {
        if (strlen (argv0) >= len)
            return -ENAMETOOLONG;
        memcpy (buf, argv0, strlen (argv0) + 1);
        if (access (argv0, F_OK) < 0)
            return -ENOENT;
        return access (argv0, X_OK) == 0 && is_dir (argv0) != 0 ? 0 : -EACCES;
    }
    if (!path)
        path = "/bin:/usr/bin"; /* glibc's default when PATH is unset */
    bool found_denied = false;
    const char *p = path;
    for (;;) {
        const char *colon = strchr (p, ':');
        size_t dl = colon ? (size_t)(colon - p) : strlen (p);
        /* an empty element means the current directory */
        int n = dl ? snprintf (buf, len, "%.*s/%s", (int)dl, p, argv0)
                   : snprintf (buf, len, "%s", argv0);
        if (n > 0 && (size_t)n < len && access (buf, F_OK) == 0) {
            if (access (buf, X_OK) == 0 && is_dir (buf) != 0)
                return 0;
            found_denied = true;
        }
        if (!colon)
            break;
        p = colon + 1;
    }
    return found_denied ? -EACCES : -ENOENT;
}
