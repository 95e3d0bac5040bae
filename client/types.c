/* types.c - see types.h.  Also the public names of states and the free
 * functions of the result types. */
#include "types.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The public enums mirror the wire's values; these keep the two honest. */
_Static_assert ((int)YARD_JOB_LOST == (int)YARD__JOB_STATE__JOB_LOST
                    && (int)YARD_JOB_PREEMPTING
                           == (int)YARD__JOB_STATE__JOB_PREEMPTING
                    && (int)YARD_JOB_COMPLETED
                           == (int)YARD__JOB_STATE__JOB_COMPLETED,
                "enum yard_job_state must mirror JobState");
_Static_assert ((int)YARD_END_OOM == (int)YARD__END_REASON__END_OOM
                    && (int)YARD_END_RETURNED
                           == (int)YARD__END_REASON__END_RETURNED
                    && (int)YARD_END_STALE == (int)YARD__END_REASON__END_STALE
                    && (int)YARD_END_SPAWN_FAILED
                           == (int)YARD__END_REASON__END_SPAWN_FAILED,
                "enum yard_end_reason must mirror EndReason");
_Static_assert ((int)YARD_NODE_DOWN == (int)YARD__NODE_STATE__NODE_DOWN
                    && (int)YARD_NODE_LEAVING
                           == (int)YARD__NODE_STATE__NODE_LEAVING,
                "enum yard_node_state must mirror NodeState");

const char *
yard_job_state_str (enum yard_job_state state)
{
    return yard_job_state_name ((Yard__JobState)state);
}

const char *
yard_end_reason_str (enum yard_end_reason reason)
{
    return yard_end_reason_name ((Yard__EndReason)reason);
}

const char *
yard_node_state_str (enum yard_node_state state)
{
    return yard_node_state_name ((Yard__NodeState)state);
}

bool
yard_job_state_finished (enum yard_job_state state)
{
    return yard_job_state_is_terminal ((Yard__JobState)state);
}

const char *
yard_version (void)
{
    return YARD_VERSION;
}

/* A copy of s, "" when s is NULL (protobuf-c gives "" for absent strings,
 * but a hand-built message may hold NULL). */
static char *
dup_str (const char *s)
{
    return strdup (s ? s : "");
}

/* A NULL-terminated copy of n strings. */
static char **
dup_strv (char *const *v, size_t n)
{
    char **out = calloc (n + 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(out[i] = dup_str (v ? v[i] : NULL))) {
            while (i-- > 0)
                free (out[i]);
            free (out);
            return NULL;
        }
    }
    return out;
}

static void
free_strv (char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free (*p);
    free (v);
}

/* "KEY=VALUE" strings from the spec's EnvVar list. */
static char **
env_strv (Yard__EnvVar *const *env, size_t n)
{
    char **out = calloc (n + 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *k = env && env[i] && env[i]->key ? env[i]->key : "";
        const char *v = env && env[i] && env[i]->value ? env[i]->value : "";
        size_t kl = strlen (k), vl = strlen (v);
        if (!(out[i] = malloc (kl + vl + 2))) {
            free_strv (out);
            return NULL;
        }
        memcpy (out[i], k, kl);
        out[i][kl] = '=';
        memcpy (out[i] + kl + 1, v, vl + 1);
    }
    return out;
}

static void
usage_from (const Yard__ResourceUse *u, yard_usage_t *o)
{
    memset (o, 0, sizeof *o);
    if (!u)
        return;
    o->has_cpu = u->has_cpu;
    o->cpu_user_us = u->cpu_user_us;
    o->cpu_system_us = u->cpu_system_us;
    o->has_rss = u->has_rss;
    o->peak_rss_bytes = u->peak_rss_bytes;
    o->rss_bytes = u->rss_bytes;
    o->has_gpu = u->has_gpu;
    o->gpu_util_pct = u->gpu_util_pct;
    o->gpu_memory_bytes = u->gpu_memory_bytes;
    o->gpu_peak_memory_bytes = u->gpu_peak_memory_bytes;
    o->final = u->final;
    o->time_ms = u->time_ms;
    snprintf (o->source, sizeof o->source, "%s", u->source ? u->source : "");
}

int
yard__job_from_proto (const Yard__JobInfo *in, yard_job_t *out)
{
    static const Yard__JobSpec empty_spec = YARD__JOB_SPEC__INIT;
    const Yard__JobSpec *spec = in->spec ? in->spec : &empty_spec;

    memset (out, 0, sizeof *out);
    out->id = in->id;
    out->state = (enum yard_job_state)in->state;
    out->attempt = in->attempt;
    out->submit_time_ms = in->submit_time_ms;
    out->start_time_ms = in->start_time_ms;
    out->end_time_ms = in->end_time_ms;
    out->exit_code = in->exit_code;
    out->term_signal = in->term_signal;
    out->end_reason = (enum yard_end_reason)in->end_reason;
    out->cancel_requested = in->cancel_requested;
    out->lost_count = in->lost_count;
    out->cpus = spec->cpus;
    out->gpus = spec->gpus;
    out->memory_bytes = spec->memory_bytes;
    out->time_limit_s = spec->time_limit_s;
    out->priority = spec->priority;
    out->grace_s = spec->grace_s;
    out->retries = spec->retries;
    out->retry_backoff_s = spec->retry_backoff_s;
    out->stop_signal = spec->stop_signal;
    out->warn_signal = spec->warn_signal;
    out->warn_seconds = spec->warn_seconds;
    out->requeue_on_timeout = spec->requeue_on_timeout;
    out->preemptible = spec->preemptible;
    out->retries_used = in->retries_used;
    out->eligible_time_ms = in->eligible_time_ms;
    out->array_id = in->array_id;
    out->array_index = in->array_index;
    out->nodes = spec->nodes;
    out->tasks_per_node = spec->tasks_per_node;
    out->gpus_per_task = spec->gpus_per_task;
    out->gang_timeout_s = spec->gang_timeout_s;
    out->master_port = in->master_port;
    if (in->n_array_states) {
        size_t n = sizeof out->array_states / sizeof out->array_states[0];
        out->has_array_states = true;
        for (size_t i = 0; i < in->n_array_states && i < n; i++)
            out->array_states[i] = in->array_states[i];
    }
    out->argc = spec->n_argv;
    out->envc = spec->n_env;
    if (!(out->name = dup_str (spec->name)) || !(out->node = dup_str (in->node))
        || !(out->reason = dup_str (in->reason))
        || !(out->workdir = dup_str (spec->workdir))
        || !(out->user = dup_str (spec->user))
        || !(out->submit_dir = dup_str (spec->submit_dir))
        || !(out->submit_host = dup_str (spec->submit_host))
        || !(out->argv = dup_strv (spec->argv, spec->n_argv))
        || !(out->env = env_strv (spec->env, spec->n_env))) {
        yard__job_clear (out);
        return -ENOMEM;
    }
    usage_from (in->usage, &out->usage);
    if (in->n_latest_metrics) {
        out->latest_metrics = calloc (in->n_latest_metrics,
                                      sizeof out->latest_metrics[0]);
        if (!out->latest_metrics) {
            yard__job_clear (out);
            return -ENOMEM;
        }
        for (size_t i = 0; i < in->n_latest_metrics; i++) {
            const Yard__MetricRecord *m = in->latest_metrics[i];
            struct yard_metric *o = &out->latest_metrics[i];
            out->n_latest_metrics++;
            if (!(o->key = dup_str (m ? m->key : NULL))) {
                yard__job_clear (out);
                return -ENOMEM;
            }
            if (m) {
                o->attempt = m->attempt;
                o->step = m->step;
                o->value = m->value;
                o->time_ms = m->time_ms;
            }
        }
    }
    const Yard__Allocation *al = in->alloc;
    out->alloc_ngpus = al ? al->n_gpu_uuids : 0;
    out->alloc_memory_bytes = al ? al->memory_bytes : 0;
    if (!(out->alloc_cpus = dup_str (al ? al->cpus : NULL))
        || !(out->alloc_gpus = dup_strv (al ? al->gpu_uuids : NULL,
                                         out->alloc_ngpus))) {
        yard__job_clear (out);
        return -ENOMEM;
    }
    if (yard__gang_from_proto (in, out) < 0) {
        yard__job_clear (out);
        return -ENOMEM;
    }
    if (in->n_attempts) {
        if (!(out->attempts = calloc (in->n_attempts, sizeof out->attempts[0]))) {
            yard__job_clear (out);
            return -ENOMEM;
        }
        for (size_t i = 0; i < in->n_attempts; i++) {
            const Yard__AttemptInfo *a = in->attempts[i];
            yard_attempt_t *o = &out->attempts[out->n_attempts++];
            if (a) {
                o->attempt = a->attempt;
                o->start_time_ms = a->start_time_ms;
                o->end_time_ms = a->end_time_ms;
                o->end_reason = (enum yard_end_reason)a->end_reason;
                o->exit_code = a->exit_code;
                o->term_signal = a->term_signal;
                usage_from (a->usage, &o->usage);
            }
            if (!(o->node = dup_str (a ? a->node : NULL))
                || !(o->reason = dup_str (a ? a->reason : NULL))
                || (a && a->n_outputs
                    && !(o->outputs = calloc (a->n_outputs,
                                              sizeof o->outputs[0])))
                || yard__gang_attempt_from_proto (a, o) < 0) {
                yard__job_clear (out);
                return -ENOMEM;
            }
            for (size_t k = 0; a && k < a->n_outputs; k++) {
                const Yard__NamedDigest *nd = a->outputs[k];
                yard_output_t *op = &o->outputs[o->n_outputs++];
                if (!(op->name = dup_str (nd ? nd->name : NULL))) {
                    yard__job_clear (out);
                    return -ENOMEM;
                }
                snprintf (op->digest, sizeof op->digest, "%s",
                          nd && nd->digest ? nd->digest : "");
                op->size = nd ? nd->size : 0;
            }
        }
    }
    return 0;
}

void
yard__job_clear (yard_job_t *job)
{
    if (!job)
        return;
    free (job->name);
    free (job->node);
    free (job->reason);
    free (job->workdir);
    free (job->user);
    free (job->submit_dir);
    free (job->submit_host);
    free_strv (job->argv);
    free_strv (job->env);
    free (job->alloc_cpus);
    free_strv (job->alloc_gpus);
    yard__gang_clear (job); /* before the attempts it also frees from */
    for (size_t i = 0; i < job->n_attempts; i++) {
        free (job->attempts[i].node);
        free (job->attempts[i].reason);
        for (size_t k = 0; k < job->attempts[i].n_outputs; k++)
            free (job->attempts[i].outputs[k].name);
        free (job->attempts[i].outputs);
    }
    free (job->attempts);
    for (size_t i = 0; i < job->n_latest_metrics; i++)
        free (job->latest_metrics[i].key);
    free (job->latest_metrics);
    memset (job, 0, sizeof *job);
}

void
yard_job_free (yard_job_t **job)
{
    if (!job || !*job)
        return;
    yard__job_clear (*job);
    free (*job);
    *job = NULL;
}

void
yard_jobs_free (yard_job_t **jobs, size_t count)
{
    if (!jobs || !*jobs)
        return;
    for (size_t i = 0; i < count; i++)
        yard__job_clear (&(*jobs)[i]);
    free (*jobs);
    *jobs = NULL;
}

int
yard__node_from_proto (const Yard__NodeInfo *in, yard_node_t *out)
{
    memset (out, 0, sizeof *out);
    out->state = (enum yard_node_state)in->state;
    out->cpus = in->cpus;
    out->cpus_used = in->cpus_used;
    out->memory_bytes = in->memory_bytes;
    out->memory_used = in->memory_used;
    out->gpus = in->gpus;
    out->gpus_used = in->gpus_used;
    out->running_jobs = in->running_jobs;
    out->last_seen_ms = in->last_seen_ms;
    out->registered_ms = in->registered_ms;
    out->cores_total = in->cores_total;
    out->cores_free = in->cores_free;
    out->pus_free = in->pus_free;
    out->oversubscribe = in->oversubscribe;
    if (!(out->name = dup_str (in->name))
        || !(out->hostname = dup_str (in->hostname))
        || !(out->version = dup_str (in->version))
        || yard__topology_from_proto (in->topology, &out->topology) < 0
        || yard__node_admin_from_proto (in, out) < 0
        || yard__holdings_from_proto (in, out) < 0) {
        yard__node_clear (out);
        return -ENOMEM;
    }
    return 0;
}

void
yard__node_clear (yard_node_t *node)
{
    if (!node)
        return;
    free (node->name);
    free (node->hostname);
    free (node->version);
    yard__topology_clear (&node->topology);
    yard__node_admin_clear (node);
    yard__holdings_clear (node);
    memset (node, 0, sizeof *node);
}

void
yard_nodes_free (yard_node_t **nodes, size_t count)
{
    if (!nodes || !*nodes)
        return;
    for (size_t i = 0; i < count; i++)
        yard__node_clear (&(*nodes)[i]);
    free (*nodes);
    *nodes = NULL;
}

int
yard__logs_from_proto (const Yard__LogsReply *in, yard_logs_t **out)
{
    size_t len = in->data.data ? in->data.len : 0;
    yard_logs_t *l = calloc (1, sizeof *l);
    if (!l)
        return -ENOMEM;
    if (!(l->data = malloc (len + 1))) {
        free (l);
        return -ENOMEM;
    }
    if (len)
        memcpy (l->data, in->data.data, len);
    l->data[len] = '\0';
    l->len = len;
    l->job_id = in->job_id;
    l->attempt = in->attempt;
    l->offset = in->offset;
    l->next_offset = in->offset + len;
    l->eof = in->eof;
    l->state = (enum yard_job_state)in->state;
    *out = l;
    return 0;
}

void
yard_logs_free (yard_logs_t **logs)
{
    if (!logs || !*logs)
        return;
    free ((*logs)->data);
    free (*logs);
    *logs = NULL;
}
