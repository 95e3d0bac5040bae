/* job.c - the scheduler's job record: life cycle, spec validation and the
 * JobInfo view of it (see job.h). */
#include "stagespec.h"
#include "job.h"
#include "place.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps.h"
#include "retry.h"
#include "utf8.h"

yard_job_t *
yard_job_create (void)
{
    yard_job_t *job = calloc (1, sizeof *job);
    if (!job)
        return NULL;
    job->state = YARD__JOB_STATE__JOB_PENDING;
    job->heap_idx = YARD_JOB_NO_HEAP;
    job->wait_idx = YARD_JOB_NO_HEAP;
    return job;
}

void
yard_job_destroy (yard_job_t **jobp)
{
    if (!jobp || !*jobp)
        return;
    yard_job_t *job = *jobp;
    if (job->spec)
        yard__job_spec__free_unpacked (job->spec, NULL);
    free (job->node);
    free (job->reason);
    free (job->live_usage);
    if (job->ahead) {
        yard_alloc_free (&job->ahead->alloc);
        free (job->ahead);
    }
    free (job);
    *jobp = NULL;
}

int
yard_job_set_node (yard_job_t *job, const char *node)
{
    char *copy = NULL;
    if (node && *node && !(copy = strdup (node)))
        return -ENOMEM;
    free (job->node);
    job->node = copy;
    return 0;
}

int
yard_job_set_reason (yard_job_t *job, const char *fmt, ...)
{
    char *text = NULL;
    if (fmt && *fmt) {
        va_list ap;
        va_start (ap, fmt);
        int n = vasprintf (&text, fmt, ap);
        va_end (ap);
        if (n < 0)
            return -ENOMEM;
    }
    free (job->reason);
    job->reason = text;
    return 0;
}

#define SWAP(T, x, y)                                                     \
    do {                                                                  \
        T tmp_ = (x);                                                     \
        (x) = (y);                                                        \
        (y) = tmp_;                                                       \
    } while (0)

void
yard_job_swap_record (yard_job_t *a, yard_job_t *b)
{
    SWAP (uint64_t, a->id, b->id);
    SWAP (Yard__JobState, a->state, b->state);
    SWAP (int32_t, a->priority, b->priority);
    SWAP (Yard__JobSpec *, a->spec, b->spec);
    SWAP (int64_t, a->submit_ms, b->submit_ms);
    SWAP (int64_t, a->start_ms, b->start_ms);
    SWAP (int64_t, a->end_ms, b->end_ms);
    SWAP (uint32_t, a->attempt, b->attempt);
    SWAP (char *, a->node, b->node);
    SWAP (int32_t, a->exit_code, b->exit_code);
    SWAP (int32_t, a->term_signal, b->term_signal);
    SWAP (Yard__EndReason, a->end_reason, b->end_reason);
    SWAP (char *, a->reason, b->reason);
    SWAP (bool, a->cancel_requested, b->cancel_requested);
    SWAP (uint32_t, a->lost_count, b->lost_count);
    SWAP (uint32_t, a->retries_used, b->retries_used);
    SWAP (int64_t, a->eligible_ms, b->eligible_ms);
}

uint32_t
yard_job_cpus (const yard_job_t *job)
{
    if (!job->spec)
        return YARD_JOB_DEFAULT_CPUS;
    uint32_t c = job->spec->cpus ? job->spec->cpus : YARD_JOB_DEFAULT_CPUS;
    if (job->spec->nodes > 0) /* a gang: per node, every task's PUs */
        return c * yard_job_tasks (job);
    return c;
}

uint32_t
yard_job_gpus (const yard_job_t *job)
{
    if (job->spec && job->spec->nodes > 0)
        return job->spec->gpus_per_task * yard_job_tasks (job);
    return job->spec ? job->spec->gpus : 0;
}

uint32_t
yard_job_tasks (const yard_job_t *job)
{
    if (!job->spec || job->spec->tasks_per_node == 0)
        return 1;
    return job->spec->tasks_per_node;
}

bool
yard_job_is_gang (const yard_job_t *job)
{
    return job->spec && job->spec->nodes > 0;
}

uint64_t
yard_job_memory (const yard_job_t *job)
{
    return job->spec ? job->spec->memory_bytes : 0;
}

uint32_t
yard_job_grace (const yard_job_t *job)
{
    if (!job->spec || job->spec->grace_s == 0)
        return YARD_JOB_DEFAULT_GRACE_S;
    return job->spec->grace_s;
}

bool
yard_job_is_active (const yard_job_t *job)
{
    return job->state == YARD__JOB_STATE__JOB_ASSIGNED
           || job->state == YARD__JOB_STATE__JOB_RUNNING
           || job->state == YARD__JOB_STATE__JOB_PREEMPTING;
}

/* A string field of at most max bytes (protobuf-c gives "" for absent ones,
 * but a hand-built message may hold NULL). */
static int
check_text (const char *s, size_t max, const char *field, yard_error_t *err)
{
    size_t n = s ? strlen (s) : 0;
    if (n > max)
        return yard_errorf (err, EINVAL, "%s is %zu bytes long; at most %zu "
                            "are allowed", field, n, max);
    if (!yard_utf8_valid (s))
        return yard_errorf (err, EINVAL, "%s is not valid UTF-8", field);
    return 0;
}

/* Gang fields: nodes > 0 makes a gang; the others need it. */
static int
gang_check (const Yard__JobSpec *spec, yard_error_t *err)
{
    if (spec->nodes == 0) {
        if (spec->tasks_per_node || spec->gpus_per_task
            || spec->gang_timeout_s)
            return yard_errorf (err, EINVAL, "tasks_per_node, gpus_per_task "
                                "and gang_timeout need nodes >= 1");
        return 0;
    }
    if (spec->nodes > YARD_JOB_MAX_NODES)
        return yard_errorf (err, EINVAL, "nodes %u is out of range: at most "
                            "%u", spec->nodes, YARD_JOB_MAX_NODES);
    if (spec->gpus)
        return yard_errorf (err, EINVAL, "a multi-node job asks for GPUs "
                            "per task (gpus_per_task), not gpus");
    uint64_t tasks = spec->tasks_per_node ? spec->tasks_per_node : 1;
    uint64_t cpus = spec->cpus ? spec->cpus : YARD_JOB_DEFAULT_CPUS;
    if (tasks > YARD_JOB_MAX_TASKS)
        return yard_errorf (err, EINVAL, "tasks_per_node %u is out of range: "
                            "at most %u", spec->tasks_per_node,
                            YARD_JOB_MAX_TASKS);
    if (tasks * cpus > YARD_JOB_MAX_CPUS)
        return yard_errorf (err, EINVAL, "tasks_per_node x cpus is %llu: at "
                            "most %u per node", (unsigned long long)(tasks
                            * cpus), YARD_JOB_MAX_CPUS);
    if (tasks * spec->gpus_per_task > YARD_JOB_MAX_GPUS)
        return yard_errorf (err, EINVAL, "tasks_per_node x gpus_per_task is "
                            "%llu: at most %u per node",
                            (unsigned long long)(tasks * spec->gpus_per_task),
                            YARD_JOB_MAX_GPUS);
    if (spec->gang_timeout_s > YARD_JOB_MAX_GANG_TIMEOUT_S)
        return yard_errorf (err, EINVAL, "gang_timeout %u s is out of range: "
                            "at most %u s", spec->gang_timeout_s,
                            YARD_JOB_MAX_GANG_TIMEOUT_S);
    return 0;
}

int
yard_job_spec_check (Yard__JobSpec *spec, yard_error_t *err)
{
    int rc;
    if (!spec)
        return yard_errorf (err, EINVAL, "spec is missing: the request must "
                            "carry a job spec");
    if (spec->n_argv == 0 || !spec->argv)
        return yard_errorf (err, EINVAL,
                            "argv is empty: give the command after --");
    /* Sum in 64 bits with an early exit, so a huge count cannot wrap. */
    uint64_t total = 0;
    for (size_t i = 0; i < spec->n_argv; i++) {
        const char *a = spec->argv[i];
        size_t n = a ? strlen (a) : 0;
        if (n == 0)
            return yard_errorf (err, EINVAL, "argv[%zu] is empty: every "
                                "argument of the command must be non-empty",
                                i);
        if (n >= YARD_JOB_MAX_ARG)
            return yard_errorf (err, EINVAL, "argv[%zu] is %zu bytes long; "
                                "each argument must be under 64 KiB (pass "
                                "large data in a file)", i, n);
        if (!yard_utf8_valid (a))
            return yard_errorf (err, EINVAL, "argv[%zu] is not valid UTF-8",
                                i);
        total += n + 1;
        if (total >= YARD_JOB_MAX_ARGV_ENV)
            goto too_big;
    }
    if (spec->n_env > 0 && !spec->env)
        return yard_errorf (err, EINVAL, "env is malformed");
    for (size_t i = 0; i < spec->n_env; i++) {
        const Yard__EnvVar *e = spec->env[i];
        const char *k = e ? e->key : NULL;
        if (!k || !*k)
            return yard_errorf (err, EINVAL, "env[%zu] has an empty key: "
                                "use KEY=VALUE", i);
        if (!yard_utf8_valid (k) || !yard_utf8_valid (e->value))
            return yard_errorf (err, EINVAL, "env[%zu] is not valid UTF-8",
                                i);
        if (strchr (k, '='))
            return yard_errorf (err, EINVAL, "env[%zu] key '%.64s' contains "
                                "'=': use KEY=VALUE with no '=' in KEY", i,
                                k);
        total += strlen (k) + 1 + (e->value ? strlen (e->value) : 0) + 1;
        if (total >= YARD_JOB_MAX_ARGV_ENV)
            goto too_big;
    }
    if ((rc = check_text (spec->name, YARD_JOB_MAX_NAME, "name", err)) < 0
        || (rc = check_text (spec->workdir, YARD_JOB_MAX_PATH, "workdir",
                             err)) < 0
        || (rc = check_text (spec->submit_dir, YARD_JOB_MAX_PATH,
                             "submit_dir", err)) < 0
        || (rc = check_text (spec->user, YARD_JOB_MAX_LABEL, "user", err)) < 0
        || (rc = check_text (spec->submit_host, YARD_JOB_MAX_LABEL,
                             "submit_host", err)) < 0)
        return rc;
    if (spec->cpus > YARD_JOB_MAX_CPUS)
        return yard_errorf (err, EINVAL, "cpus %u is out of range: at most "
                            "%u", spec->cpus, YARD_JOB_MAX_CPUS);
    if (spec->gpus > YARD_JOB_MAX_GPUS)
        return yard_errorf (err, EINVAL, "gpus %u is out of range: at most "
                            "%u", spec->gpus, YARD_JOB_MAX_GPUS);
    if (yard_retry_spec_check (spec, err) < 0)
        return -EINVAL;
    if (yard_stage_spec_check (spec, err) < 0) /* stagespec.c */
        return -EINVAL;
    if ((rc = gang_check (spec, err)) < 0)
        return rc;
    if (!spec->name || !*spec->name) {
        /* unnamed jobs go by their command's base name, as in Slurm */
        const char *base = strrchr (spec->argv[0], '/');
        base = base && base[1] ? base + 1 : spec->argv[0];
        char *name = strndup (base, YARD_JOB_MAX_NAME);
        if (!name)
            return yard_errorf (err, ENOMEM, "out of memory");
        /* the spec was unpacked with the default (malloc) allocator, so
         * free_unpacked frees this like any decoded string */
        spec->name = name;
    }
    if (spec->cpus == 0)
        spec->cpus = YARD_JOB_DEFAULT_CPUS;
    if (spec->grace_s == 0)
        spec->grace_s = YARD_JOB_DEFAULT_GRACE_S;
    if (spec->nodes > 0) {
        if (spec->tasks_per_node == 0)
            spec->tasks_per_node = 1;
        if (spec->gang_timeout_s == 0)
            spec->gang_timeout_s = YARD_JOB_DEFAULT_GANG_TIMEOUT_S;
    }
    return 0;
too_big:
    return yard_errorf (err, EINVAL, "argv and env together exceed 1 MiB: "
                        "pass large data in a file");
}

static char *
text_or_empty (const char *s)
{
    return (char *)(s ? s : protobuf_c_empty_string);
}

void
yard_job_info (const yard_job_t *job, Yard__JobInfo *info, const char *reason)
{
    yard__job_info__init (info);
    info->id = job->id;
    info->state = job->state;
    info->spec = job->spec;
    info->attempt = job->attempt;
    info->node = text_or_empty (job->node);
    info->submit_time_ms = job->submit_ms;
    info->start_time_ms = job->start_ms;
    info->end_time_ms = job->end_ms;
    info->exit_code = job->exit_code;
    info->term_signal = job->term_signal;
    info->end_reason = job->end_reason;
    info->reason = text_or_empty (reason ? reason : job->reason);
    info->cancel_requested = job->cancel_requested;
    info->lost_count = job->lost_count;
    info->retries_used = job->retries_used;
    info->eligible_time_ms = job->eligible_ms;
    (void)yard_job_array_member (job->spec, &info->array_id,
                                 &info->array_index);
}
