/* cli_args.c - see cli_args.h.
 *
 * One small option iterator serves every command: a table lists the
 * options a command takes, the iterator hands them out one by one with
 * their values, and the command's parser checks the values.  getopt is not
 * used: it keeps global state and permutes argv, and `yard submit` must
 * leave everything after the command's first word untouched.
 */
#include "cli_args.h"
#include "cli_deps.h"
#include "cli_retry.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct opt {
    const char *name; /* "--name" */
    char shortc;      /* 'f' for "-f", 0 for none */
    bool has_arg;
    int id;
};

struct optiter {
    int argc;
    char **argv;
    int i;
    const char *cmd;       /* "yard" or "yard submit", for messages */
    const char *help_cmd;  /* "yard --help" or "yard submit --help" */
    bool stop_at_operand;  /* the first operand ends the options */
    bool operands_only;    /* after "--" */
};

enum {
    NEXT_END = 0,
    NEXT_OPTION = 1,
    NEXT_OPERAND = 2,
};

/* Options every command takes. */
enum { OPT_JSON = 1, OPT_HELP, FIRST_CMD_OPT };

static const struct opt *
find_long (const struct opt *opts, const char *name, size_t len)
{
    for (const struct opt *o = opts; o->name; o++)
        if (strlen (o->name) == len && strncmp (o->name, name, len) == 0)
            return o;
    return NULL;
}

static const struct opt *
find_short (const struct opt *opts, char c)
{
    for (const struct opt *o = opts; o->name; o++)
        if (o->shortc && o->shortc == c)
            return o;
    return NULL;
}

/* The next option (NEXT_OPTION, *id and *val set), operand (NEXT_OPERAND,
 * *val set) or the end (NEXT_END; with stop_at_operand, it->i is then the
 * first operand).  Returns a negative errno for a bad option. */
static int
next (struct optiter *it, const struct opt *opts, int *id, const char **val,
      yard_error_t *err)
{
    *val = NULL;
    if (it->i >= it->argc)
        return NEXT_END;
    const char *a = it->argv[it->i];
    if (!it->operands_only && strcmp (a, "--") == 0) {
        it->i++;
        if (it->stop_at_operand)
            return NEXT_END;
        it->operands_only = true;
        if (it->i >= it->argc)
            return NEXT_END;
        a = it->argv[it->i];
    }
    if (it->operands_only || a[0] != '-' || a[1] == '\0') {
        if (it->stop_at_operand)
            return NEXT_END;
        it->i++;
        *val = a;
        return NEXT_OPERAND;
    }
    const struct opt *o;
    const char *inline_val = NULL;
    if (a[1] == '-') {
        const char *eq = strchr (a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen (a);
        o = find_long (opts, a, len);
        if (!o)
            return yard_errorf (err, EINVAL,
                                "unknown option '%.*s' for '%s' (see '%s')",
                                (int)len, a, it->cmd, it->help_cmd);
        if (eq) {
            if (!o->has_arg)
                return yard_errorf (err, EINVAL,
                                    "option '%s' takes no value", o->name);
            inline_val = eq + 1;
        }
    } else {
        o = a[2] == '\0' ? find_short (opts, a[1]) : NULL;
        if (!o)
            return yard_errorf (err, EINVAL,
                                "unknown option '%s' for '%s' (see '%s')", a,
                                it->cmd, it->help_cmd);
    }
    it->i++;
    *id = o->id;
    if (o->has_arg) {
        if (inline_val)
            *val = inline_val;
        else if (it->i < it->argc)
            *val = it->argv[it->i++];
        else
            return yard_errorf (err, EINVAL, "option '%s' needs a value (see "
                                "'%s')", o->name, it->help_cmd);
    }
    return NEXT_OPTION;
}

static void
iter_init (struct optiter *it, int argc, char **argv, const char *cmd,
           const char *help_cmd, int first)
{
    memset (it, 0, sizeof *it);
    it->argc = argc;
    it->argv = argv;
    it->i = first;
    it->cmd = cmd;
    it->help_cmd = help_cmd;
}

int
cli_parse_timeout (const char *s, int64_t *ms, yard_error_t *err)
{
    size_t n = s ? strlen (s) : 0;
    if (n > 2 && strcmp (s + n - 2, "ms") == 0) {
        char num[32];
        uint64_t v;
        if (n - 2 < sizeof num) {
            memcpy (num, s, n - 2);
            num[n - 2] = '\0';
            int rc = yard_parse_u64 (num, &v);
            if (rc == 0 && v <= (uint64_t)INT64_MAX) {
                *ms = (int64_t)v;
                return 0;
            }
        }
        return yard_errorf (err, EINVAL,
                            "invalid duration '%s': use e.g. 500ms, 10s, 5m "
                            "or 1h", s);
    }
    uint64_t sec;
    int rc = yard_parse_duration (s, &sec, err);
    if (rc < 0)
        return rc;
    if (sec > (uint64_t)INT64_MAX / 1000)
        return yard_errorf (err, ERANGE, "duration '%s' is too long", s);
    *ms = (int64_t)sec * 1000;
    return 0;
}

int
cli_parse_job_id (const char *s, uint64_t *id, yard_error_t *err)
{
    uint64_t v;
    if (yard_parse_u64 (s, &v) < 0 || v == 0)
        return yard_errorf (err, EINVAL,
                            "invalid job id '%s': expected a job number such "
                            "as 42 (see 'yard queue')", s ? s : "");
    *id = v;
    return 0;
}

/* ---- global options ---------------------------------------------------- */

enum { G_SCHEDULER = FIRST_CMD_OPT, G_TIMEOUT, G_VERSION };

static const struct opt global_opts[] = {
    { "--scheduler", 0, true, G_SCHEDULER },
    { "--timeout", 0, true, G_TIMEOUT },
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { "--version", 0, false, G_VERSION },
    { NULL, 0, false, 0 },
};

int
cli_parse_global (int argc, char **argv, struct cli_global *g,
                  yard_error_t *err)
{
    struct optiter it;
    int id = 0, rc;
    const char *val;

    memset (g, 0, sizeof *g);
    iter_init (&it, argc, argv, "yard", "yard --help", 1);
    it.stop_at_operand = true;
    while ((rc = next (&it, global_opts, &id, &val, err)) == NEXT_OPTION) {
        switch (id) {
        case G_SCHEDULER:
            if (!*val)
                return yard_errorf (err, EINVAL,
                                    "--scheduler needs an endpoint such as "
                                    "tcp://HOST:7700");
            g->scheduler = val;
            break;
        case G_TIMEOUT: {
            int64_t ms;
            if ((rc = cli_parse_timeout (val, &ms, err)) < 0)
                return rc;
            if (ms <= 0 || ms > INT_MAX)
                return yard_errorf (err, ERANGE,
                                    "--timeout must be between 1ms and 24 "
                                    "days, got '%s'", val);
            g->timeout_ms = (int)ms;
            break;
        }
        case OPT_JSON: g->json = true; break;
        case OPT_HELP: g->help = true; break;
        case G_VERSION: g->version = true; break;
        }
    }
    if (rc < 0)
        return rc;
    g->cmd_index = it.i;
    return 0;
}

/* ---- submit ------------------------------------------------------------ */

enum {
    S_NAME = FIRST_CMD_OPT,
    S_CPUS,
    S_GPUS,
    S_MEM,
    S_TIME,
    S_PRIORITY,
    S_ENV,
    S_WORKDIR,
    S_GRACE,
    S_RETRIES,
    S_RETRY_EXIT_CODES,
    S_RETRY_BACKOFF,
    S_SIGNAL,
    S_REQUEUE_ON_TIMEOUT,
    S_PREEMPTIBLE,
    S_AFTER,
    S_ARRAY,
    S_CONSTRAINT,
    S_GPU_TYPE,
    S_STAGE_IN,
    S_COLLECT,
    S_KEEP_CHECKPOINTS,
    S_NODES,
    S_TASKS_PER_NODE,
    S_GPUS_PER_TASK,
    S_CPUS_PER_TASK,
    S_GANG_TIMEOUT,
};

static const struct opt submit_opts[] = {
    { "--name", 0, true, S_NAME },
    { "--cpus", 0, true, S_CPUS },
    { "--gpus", 0, true, S_GPUS },
    { "--mem", 0, true, S_MEM },
    { "--time", 0, true, S_TIME },
    { "--priority", 0, true, S_PRIORITY },
    { "--env", 0, true, S_ENV },
    { "--workdir", 0, true, S_WORKDIR },
    { "--grace", 0, true, S_GRACE },
    { "--retries", 0, true, S_RETRIES },
    { "--retry-exit-codes", 0, true, S_RETRY_EXIT_CODES },
    { "--retry-backoff", 0, true, S_RETRY_BACKOFF },
    { "--signal", 0, true, S_SIGNAL },
    { "--requeue-on-timeout", 0, false, S_REQUEUE_ON_TIMEOUT },
    { "--preemptible", 0, false, S_PREEMPTIBLE },
    { "--after", 0, true, S_AFTER },
    { "--array", 0, true, S_ARRAY },
    { "--constraint", 0, true, S_CONSTRAINT },
    { "--gpu-type", 0, true, S_GPU_TYPE },
    { "--stage-in", 0, true, S_STAGE_IN },
    { "--collect", 0, true, S_COLLECT },
    { "--keep-checkpoints", 0, true, S_KEEP_CHECKPOINTS },
    { "--nodes", 0, true, S_NODES },
    { "--tasks-per-node", 0, true, S_TASKS_PER_NODE },
    { "--gpus-per-task", 0, true, S_GPUS_PER_TASK },
    { "--cpus-per-task", 0, true, S_CPUS_PER_TASK },
    { "--gang-timeout", 0, true, S_GANG_TIMEOUT },
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { NULL, 0, false, 0 },
};

static int
parse_count (const char *opt, const char *s, uint32_t *out, yard_error_t *err)
{
    int rc = yard_parse_u32 (s, out);
    if (rc == -ERANGE)
        return yard_errorf (err, ERANGE, "%s '%s' is too large", opt, s);
    if (rc < 0)
        return yard_errorf (err, EINVAL,
                            "invalid %s '%s': expected a whole number such as "
                            "4", opt, s);
    return 0;
}

/* Append "KEY=VALUE" (from "KEY=VALUE", or "KEY" taken from our own
 * environment) to the spec's environment. */
static int
add_env (struct cli_submit *s, const char *arg, yard_error_t *err)
{
    const char *eq = strchr (arg, '=');
    char *kv;
    if (eq == arg || !*arg)
        return yard_errorf (err, EINVAL,
                            "invalid --env '%s': use --env KEY=VALUE, or "
                            "--env KEY to pass KEY from your environment", arg);
    if (eq) {
        kv = strdup (arg);
    } else {
        const char *v = getenv (arg);
        if (!v)
            return yard_errorf (err, EINVAL,
                                "--env %s: %s is not set in your environment "
                                "(use --env %s=VALUE)", arg, arg, arg);
        if (asprintf (&kv, "%s=%s", arg, v) < 0)
            kv = NULL;
    }
    if (!kv)
        return yard_errorf (err, ENOMEM, "out of memory");
    char **v = realloc (s->env_store, (s->spec.envc + 2) * sizeof *v);
    if (!v) {
        free (kv);
        return yard_errorf (err, ENOMEM, "out of memory");
    }
    v[s->spec.envc++] = kv;
    v[s->spec.envc] = NULL;
    s->env_store = v;
    s->spec.env = v;
    return 0;
}

int
cli_parse_submit (int argc, char **argv, struct cli_submit *s,
                  yard_error_t *err)
{
    struct optiter it;
    int id = 0, rc;
    const char *val;
    uint64_t u;
    bool cpus_given = false, cpt_given = false;

    memset (s, 0, sizeof *s);
    iter_init (&it, argc, argv, "yard submit", "yard submit --help", 1);
    it.stop_at_operand = true;
    while ((rc = next (&it, submit_opts, &id, &val, err)) == NEXT_OPTION) {
        switch (id) {
        case S_NAME:
            if (!*val)
                return yard_errorf (err, EINVAL, "--name needs a non-empty "
                                                 "name");
            s->spec.name = val;
            break;
        case S_CPUS:
            if ((rc = parse_count ("--cpus", val, &s->spec.cpus, err)) < 0)
                return rc;
            cpus_given = true;
            break;
        case S_CPUS_PER_TASK:
            if ((rc = parse_count ("--cpus-per-task", val, &s->spec.cpus,
                                   err)) < 0)
                return rc;
            if (s->spec.cpus == 0)
                return yard_errorf (err, EINVAL, "--cpus-per-task must be "
                                    "at least 1");
            cpt_given = true;
            break;
        case S_NODES:
            if ((rc = parse_count ("--nodes", val, &s->spec.nodes, err)) < 0)
                return rc;
            if (s->spec.nodes == 0)
                return yard_errorf (err, EINVAL, "--nodes must be at least "
                                    "1");
            break;
        case S_TASKS_PER_NODE:
            if ((rc = parse_count ("--tasks-per-node", val,
                                   &s->spec.tasks_per_node, err)) < 0)
                return rc;
            if (s->spec.tasks_per_node == 0)
                return yard_errorf (err, EINVAL, "--tasks-per-node must be "
                                    "at least 1");
            break;
        case S_GPUS_PER_TASK:
            if ((rc = parse_count ("--gpus-per-task", val,
                                   &s->spec.gpus_per_task, err)) < 0)
                return rc;
            break;
        case S_GANG_TIMEOUT:
            if ((rc = yard_parse_duration (val, &u, err)) < 0)
                return rc;
            if (u == 0 || u > 7 * 86400)
                return yard_errorf (err, ERANGE, "--gang-timeout '%s': from "
                                    "1s to 7d", val);
            s->spec.gang_timeout_s = (uint32_t)u;
            break;
        case S_GPUS:
            if ((rc = parse_count ("--gpus", val, &s->spec.gpus, err)) < 0)
                return rc;
            break;
        case S_MEM:
            if ((rc = yard_parse_size (val, &s->spec.memory_bytes, err)) < 0)
                return rc;
            break;
        case S_TIME:
            if ((rc = yard_parse_duration (val, &s->spec.time_limit_s, err))
                < 0)
                return rc;
            break;
        case S_PRIORITY:
            if ((rc = yard_parse_i32 (val, &s->spec.priority)) < 0)
                return yard_errorf (err, -rc,
                                    "invalid --priority '%s': expected a "
                                    "whole number such as 10 or -5", val);
            break;
        case S_ENV:
            if ((rc = add_env (s, val, err)) < 0)
                return rc;
            break;
        case S_WORKDIR:
            if (!*val)
                return yard_errorf (err, EINVAL, "--workdir needs a "
                                                 "directory");
            s->spec.workdir = val;
            break;
        case S_GRACE:
            if ((rc = yard_parse_duration (val, &u, err)) < 0)
                return rc;
            if (u > UINT32_MAX)
                return yard_errorf (err, ERANGE, "--grace '%s' is too long",
                                    val);
            s->spec.grace_s = (uint32_t)u;
            break;
        case S_RETRIES:
            if ((rc = parse_count ("--retries", val, &s->spec.retries, err))
                < 0)
                return rc;
            break;
        case S_RETRY_EXIT_CODES:
            if ((rc = cli_parse_exit_codes (val, &s->exit_codes,
                                            &s->spec.n_retry_exit_codes,
                                            err)) < 0)
                return rc;
            s->spec.retry_exit_codes = s->exit_codes;
            break;
        case S_RETRY_BACKOFF:
            if ((rc = yard_parse_duration (val, &u, err)) < 0)
                return rc;
            if (u == 0 || u > 3600)
                return yard_errorf (err, ERANGE, "--retry-backoff '%s': "
                                    "from 1s to 1h", val);
            s->spec.retry_backoff_s = (uint32_t)u;
            break;
        case S_SIGNAL: {
            int32_t signo;
            bool warn;
            uint32_t secs;
            if ((rc = cli_parse_signal (val, &signo, &warn, &secs, err)) < 0)
                return rc;
            if (warn) {
                s->spec.warn_signal = signo;
                s->spec.warn_seconds = secs;
            } else {
                s->spec.stop_signal = signo;
            }
            break;
        }
        case S_REQUEUE_ON_TIMEOUT: s->spec.requeue_on_timeout = true; break;
        case S_PREEMPTIBLE: s->spec.preemptible = true; break;
        case S_AFTER: /* cli_deps.c */
            if ((rc = cli_add_after (val, &s->deps, &s->spec.n_after, err))
                < 0)
                return rc;
            s->spec.after = s->deps;
            break;
        case S_ARRAY:
            if ((rc = cli_parse_array (val, &s->spec, err)) < 0)
                return rc;
            break;
        case S_CONSTRAINT: {
            /* the scheduler checks the label syntax (one rule, one
             * place); only emptiness is caught here */
            if (!*val)
                return yard_errorf (err, EINVAL, "--constraint needs a "
                                    "label: KEY or KEY=VALUE");
            char **v = realloc (s->constraints, (s->spec.n_constraints + 1)
                                                    * sizeof v[0]);
            if (!v)
                return yard_errorf (err, ENOMEM, "out of memory");
            s->constraints = v;
            v[s->spec.n_constraints++] = (char *)val;
            s->spec.constraints = v;
            break;
        }
        case S_GPU_TYPE:
            if (!*val)
                return yard_errorf (err, EINVAL, "--gpu-type needs a name "
                                    "such as H100");
            s->spec.gpu_type = val;
            break;
        case S_STAGE_IN: { /* PATH=DIGEST; the scheduler checks both */
            const char *eq = strrchr (val, '=');
            if (!eq || eq == val || !eq[1])
                return yard_errorf (err, EINVAL, "--stage-in needs "
                                    "PATH=DIGEST (a digest 'yard artifact "
                                    "put' printed), got '%s'", val);
            yard_stage_in_t *v = realloc (s->stage_in, (s->spec.n_stage_in
                                                        + 1) * sizeof v[0]);
            if (!v)
                return yard_errorf (err, ENOMEM, "out of memory");
            s->stage_in = v;
            char *path = strndup (val, (size_t)(eq - val));
            if (!path)
                return yard_errorf (err, ENOMEM, "out of memory");
            v[s->spec.n_stage_in].path = path;
            v[s->spec.n_stage_in++].digest = eq + 1;
            s->spec.stage_in = v;
            break;
        }
        case S_KEEP_CHECKPOINTS:
            if ((rc = parse_count ("--keep-checkpoints", val,
                                   &s->spec.keep_checkpoints, err)) < 0)
                return rc;
            if (s->spec.keep_checkpoints == 0)
                return yard_errorf (err, EINVAL, "--keep-checkpoints must be "
                                    "at least 1");
            break;
        case S_COLLECT: {
            if (!*val)
                return yard_errorf (err, EINVAL, "--collect needs a folder "
                                    "name");
            char **v = realloc (s->collect, (s->spec.n_collect + 1)
                                                * sizeof v[0]);
            if (!v)
                return yard_errorf (err, ENOMEM, "out of memory");
            s->collect = v;
            v[s->spec.n_collect++] = (char *)val;
            s->spec.collect = v;
            break;
        }
        case OPT_JSON: s->json = true; break;
        case OPT_HELP: s->help = true; break;
        }
    }
    if (rc < 0)
        return rc;
    if (s->help)
        return 0;
    if (s->spec.gpu_type && s->spec.gpus == 0 && s->spec.gpus_per_task == 0)
        return yard_errorf (err, EINVAL, "--gpu-type needs --gpus N (N >= 1)");
    if (s->spec.nodes == 0
        && (s->spec.tasks_per_node || s->spec.gpus_per_task
            || s->spec.gang_timeout_s || cpt_given))
        return yard_errorf (err, EINVAL, "--tasks-per-node, --gpus-per-task, "
                            "--cpus-per-task and --gang-timeout need --nodes "
                            "N: yard submit --nodes 2 --tasks-per-node 4 "
                            "--gpus-per-task 1 -- CMD");
    if (s->spec.nodes > 0 && s->spec.gpus)
        return yard_errorf (err, EINVAL, "a multi-node job asks for GPUs per "
                            "task: use --gpus-per-task N instead of --gpus");
    if (cpus_given && cpt_given)
        return yard_errorf (err, EINVAL, "give --cpus-per-task or --cpus, "
                            "not both (with --nodes both mean PUs per task)");
    if (it.i >= argc)
        return yard_errorf (err, EINVAL,
                            "no command to run: yard submit [OPTIONS] -- CMD "
                            "[ARGS...]");
    s->spec.argv = &argv[it.i];
    s->spec.argc = (size_t)(argc - it.i);
    return 0;
}

void
cli_submit_clear (struct cli_submit *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->env_store && i < s->spec.envc; i++)
        free (s->env_store[i]);
    free (s->env_store);
    free (s->exit_codes);
    free (s->deps);
    free (s->constraints);
    for (size_t i = 0; s->stage_in && i < s->spec.n_stage_in; i++)
        free ((char *)s->stage_in[i].path);
    free (s->stage_in);
    free (s->collect);
    memset (s, 0, sizeof *s);
}

/* ---- commands that take one job --------------------------------------- */

static const struct opt json_help_opts[] = {
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { NULL, 0, false, 0 },
};

/* `cancel --array ARRAY_ID`: every unfinished member (cli_deps.h) */
enum { C_ARRAY = FIRST_CMD_OPT };
static const struct opt cancel_opts[] = {
    { "--array", 0, false, C_ARRAY },
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { NULL, 0, false, 0 },
};

/* Take the single JOB operand. */
static int
take_job (const char *cmd, const char *val, uint64_t *job_id, bool *have,
          yard_error_t *err)
{
    if (*have)
        return yard_errorf (err, EINVAL,
                            "unexpected argument '%s': yard %s takes one job "
                            "id", val, cmd);
    *have = true;
    return cli_parse_job_id (val, job_id, err);
}

static int
need_job (const char *cmd, bool have, yard_error_t *err)
{
    if (!have)
        return yard_errorf (err, EINVAL,
                            "missing job id: yard %s JOB (see 'yard %s "
                            "--help')", cmd, cmd);
    return 0;
}

/* Names for messages: argv[0] is the command as the user typed it. */
static void
cmd_names (char **argv, char *cmd, size_t clen, char *help, size_t hlen,
           const char **name)
{
    *name = argv[0];
    snprintf (cmd, clen, "yard %s", argv[0]);
    snprintf (help, hlen, "yard %s --help", argv[0]);
}

int
cli_parse_job_args (int argc, char **argv, struct cli_job_args *a,
                    yard_error_t *err)
{
    struct optiter it;
    char cmd[64], help[80];
    const char *name, *val;
    bool have = false;
    int id = 0, rc;

    memset (a, 0, sizeof *a);
    cmd_names (argv, cmd, sizeof cmd, help, sizeof help, &name);
    iter_init (&it, argc, argv, cmd, help, 1);
    const struct opt *opts =
        strcmp (name, "cancel") == 0 ? cancel_opts : json_help_opts;
    while ((rc = next (&it, opts, &id, &val, err)) != NEXT_END) {
        if (rc < 0)
            return rc;
        if (rc == NEXT_OPERAND) {
            if ((rc = take_job (name, val, &a->job_id, &have, err)) < 0)
                return rc;
        } else if (id == C_ARRAY) {
            a->array = true;
        } else if (id == OPT_JSON) {
            a->json = true;
        } else if (id == OPT_HELP) {
            a->help = true;
        }
    }
    return a->help ? 0 : need_job (name, have, err);
}

/* ---- queue, nodes ----------------------------------------------------- */

enum { Q_ALL = FIRST_CMD_OPT, Q_LIMIT };

static const struct opt queue_opts[] = {
    { "--all", 'a', false, Q_ALL },
    { "--limit", 'n', true, Q_LIMIT },
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { NULL, 0, false, 0 },
};

int
cli_parse_queue (int argc, char **argv, struct cli_queue *q, yard_error_t *err)
{
    struct optiter it;
    const char *val;
    int id = 0, rc;

    memset (q, 0, sizeof *q);
    iter_init (&it, argc, argv, "yard queue", "yard queue --help", 1);
    while ((rc = next (&it, queue_opts, &id, &val, err)) != NEXT_END) {
        if (rc < 0)
            return rc;
        if (rc == NEXT_OPERAND)
            return yard_errorf (err, EINVAL,
                                "unexpected argument '%s': yard queue takes "
                                "no job ids (see 'yard status JOB')", val);
        switch (id) {
        case Q_ALL: q->all = true; break;
        case Q_LIMIT:
            if ((rc = parse_count ("--limit", val, &q->limit, err)) < 0)
                return rc;
            if (q->limit == 0)
                return yard_errorf (err, EINVAL, "--limit must be at least 1");
            break;
        case OPT_JSON: q->json = true; break;
        case OPT_HELP: q->help = true; break;
        }
    }
    return 0;
}

int
cli_parse_nodes (int argc, char **argv, struct cli_nodes *n, yard_error_t *err)
{
    struct optiter it;
    const char *val;
    int id = 0, rc, ops = 0;

    memset (n, 0, sizeof *n);
    iter_init (&it, argc, argv, "yard nodes", "yard nodes --help", 1);
    while ((rc = next (&it, json_help_opts, &id, &val, err)) != NEXT_END) {
        if (rc < 0)
            return rc;
        if (rc == NEXT_OPERAND) {
            if (ops == 0 && strcmp (val, "show") == 0) {
                ops++;
                continue;
            }
            if (ops == 1) {
                n->show = val;
                ops++;
                continue;
            }
            return yard_errorf (err, EINVAL,
                                "unexpected argument '%s': use 'yard nodes' "
                                "or 'yard nodes show NODE'", val);
        }
        if (id == OPT_JSON)
            n->json = true;
        else if (id == OPT_HELP)
            n->help = true;
    }
    if (ops == 1 && !n->help)
        return yard_errorf (err, EINVAL, "yard nodes show needs a node name: "
                            "yard nodes show NODE");
    return 0;
}

/* ---- logs, wait -------------------------------------------------------- */

enum { L_FOLLOW = FIRST_CMD_OPT, L_ATTEMPT };

static const struct opt logs_opts[] = {
    { "--follow", 'f', false, L_FOLLOW },
    { "--attempt", 0, true, L_ATTEMPT },
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { NULL, 0, false, 0 },
};

int
cli_parse_logs (int argc, char **argv, struct cli_logs *l, yard_error_t *err)
{
    struct optiter it;
    const char *val;
    bool have = false;
    int id = 0, rc;

    memset (l, 0, sizeof *l);
    iter_init (&it, argc, argv, "yard logs", "yard logs --help", 1);
    while ((rc = next (&it, logs_opts, &id, &val, err)) != NEXT_END) {
        if (rc < 0)
            return rc;
        if (rc == NEXT_OPERAND) {
            if ((rc = take_job ("logs", val, &l->job_id, &have, err)) < 0)
                return rc;
            continue;
        }
        switch (id) {
        case L_FOLLOW: l->follow = true; break;
        case L_ATTEMPT:
            if ((rc = parse_count ("--attempt", val, &l->attempt, err)) < 0)
                return rc;
            break;
        case OPT_JSON: l->json = true; break;
        case OPT_HELP: l->help = true; break;
        }
    }
    return l->help ? 0 : need_job ("logs", have, err);
}

enum { W_TIMEOUT = FIRST_CMD_OPT };

static const struct opt wait_opts[] = {
    { "--timeout", 't', true, W_TIMEOUT },
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { NULL, 0, false, 0 },
};

int
cli_parse_wait (int argc, char **argv, struct cli_wait *w, yard_error_t *err)
{
    struct optiter it;
    const char *val;
    bool have = false;
    int id = 0, rc;

    memset (w, 0, sizeof *w);
    w->timeout_ms = -1;
    iter_init (&it, argc, argv, "yard wait", "yard wait --help", 1);
    while ((rc = next (&it, wait_opts, &id, &val, err)) != NEXT_END) {
        if (rc < 0)
            return rc;
        if (rc == NEXT_OPERAND) {
            if ((rc = take_job ("wait", val, &w->job_id, &have, err)) < 0)
                return rc;
            continue;
        }
        switch (id) {
        case W_TIMEOUT:
            if ((rc = cli_parse_timeout (val, &w->timeout_ms, err)) < 0)
                return rc;
            break;
        case OPT_JSON: w->json = true; break;
        case OPT_HELP: w->help = true; break;
        }
    }
    return w->help ? 0 : need_job ("wait", have, err);
}

/* ---- help ------------------------------------------------------------- */

int
cli_parse_help (int argc, char **argv, struct cli_help *h, yard_error_t *err)
{
    struct optiter it;
    const char *val;
    int id = 0, rc;

    memset (h, 0, sizeof *h);
    iter_init (&it, argc, argv, "yard help", "yard help", 1);
    while ((rc = next (&it, json_help_opts, &id, &val, err)) != NEXT_END) {
        if (rc < 0)
            return rc;
        if (rc == NEXT_OPERAND) {
            if (h->topic)
                return yard_errorf (err, EINVAL,
                                    "unexpected argument '%s': yard help "
                                    "[COMMAND]", val);
            h->topic = val;
        }
    }
    return 0;
}

/* ---- metrics ----------------------------------------------------------- */

enum { M_KEY = FIRST_CMD_OPT, M_ALL, M_CSV };

static const struct opt metrics_opts[] = {
    { "--key", 'k', true, M_KEY },
    { "--all", 'a', false, M_ALL },
    { "--csv", 0, false, M_CSV },
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { NULL, 0, false, 0 },
};

int
cli_parse_metrics (int argc, char **argv, struct cli_metrics *m,
                   yard_error_t *err)
{
    struct optiter it;
    const char *val;
    bool have = false;
    int id = 0, rc;

    memset (m, 0, sizeof *m);
    iter_init (&it, argc, argv, "yard metrics", "yard metrics --help", 1);
    while ((rc = next (&it, metrics_opts, &id, &val, err)) != NEXT_END) {
        if (rc < 0)
            return rc;
        if (rc == NEXT_OPERAND) {
            if ((rc = take_job ("metrics", val, &m->job_id, &have, err)) < 0)
                return rc;
            continue;
        }
        switch (id) {
        case M_KEY:
            if (!*val)
                return yard_errorf (err, EINVAL, "--key needs a metric name "
                                    "(see 'yard metrics --help')");
            m->key = val;
            break;
        case M_ALL: m->all = true; break;
        case M_CSV: m->csv = true; break;
        case OPT_JSON: m->json = true; break;
        case OPT_HELP: m->help = true; break;
        }
    }
    if (m->json && m->csv)
        return yard_errorf (err, EINVAL, "--json and --csv cannot be used "
                            "together");
    return m->help ? 0 : need_job ("metrics", have, err);
}

/* ---- submit-many ------------------------------------------------------- */

static const struct opt submit_many_opts[] = {
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { NULL, 0, false, 0 },
};

int
cli_parse_submit_many (int argc, char **argv, struct cli_submit_many *m,
                       yard_error_t *err)
{
    struct optiter it;
    const char *val;
    int id = 0, rc;

    memset (m, 0, sizeof *m);
    iter_init (&it, argc, argv, "yard submit-many", "yard submit-many --help",
               1);
    while ((rc = next (&it, submit_many_opts, &id, &val, err)) != NEXT_END) {
        if (rc < 0)
            return rc;
        if (rc == NEXT_OPERAND) {
            if (m->file)
                return yard_errorf (err, EINVAL, "submit-many reads one file "
                                    "(got '%s' and '%s')", m->file, val);
            m->file = val;
            continue;
        }
        if (id == OPT_JSON)
            m->json = true;
        else if (id == OPT_HELP)
            m->help = true;
    }
    if (m->file && strcmp (m->file, "-") == 0)
        m->file = NULL;
    return 0;
}

int
cli_split_words (const char *line, char ***words, int *n, yard_error_t *err)
{
    size_t len = strlen (line);
    /* at most one word per two characters (a character and a blank), and
     * no word longer than the line */
    size_t max = len / 2 + 2;
    char **w = malloc (max * sizeof *w + len + 1);
    if (!w)
        return yard_errorf (err, ENOMEM, "out of memory");
    char *buf = (char *)(w + max), *o = buf;
    int count = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        w[count++] = o;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            if (*p == '\'') {
                const char *end = strchr (p + 1, '\'');
                if (!end)
                    goto unterminated;
                memcpy (o, p + 1, (size_t)(end - p - 1));
                o += end - p - 1;
                p = end + 1;
            } else if (*p == '"') {
                for (p++; *p != '"'; p++) {
                    if (!*p)
                        goto unterminated;
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                        p++;
                    *o++ = *p;
                }
                p++;
            } else if (*p == '\\') {
                if (!p[1]) {
                    free (w);
                    return yard_errorf (err, EINVAL, "a backslash ends the "
                                        "line: nothing left to escape");
                }
                *o++ = p[1];
                p += 2;
            } else
                *o++ = *p++;
        }
        *o++ = '\0';
    }
    w[count] = NULL;
    *words = w;
    *n = count;
    return 0;
unterminated:
    free (w);
    return yard_errorf (err, EINVAL, "a quote (%c) is not closed", *p ? *p
                                                                       : '"');
}

/* ---- watch ------------------------------------------------------------- */

enum { WA_INTERVAL = FIRST_CMD_OPT, WA_PLAIN };

static const struct opt watch_opts[] = {
    { "--interval", 'n', true, WA_INTERVAL },
    { "--plain", 0, false, WA_PLAIN },
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { NULL, 0, false, 0 },
};

int
cli_parse_watch (int argc, char **argv, struct cli_watch *w,
                 yard_error_t *err)
{
    struct optiter it;
    const char *val;
    bool have = false;
    int id = 0, rc;

    memset (w, 0, sizeof *w);
    w->interval_ms = 2000;
    iter_init (&it, argc, argv, "yard watch", "yard watch --help", 1);
    while ((rc = next (&it, watch_opts, &id, &val, err)) != NEXT_END) {
        if (rc < 0)
            return rc;
        if (rc == NEXT_OPERAND) {
            if ((rc = take_job ("watch", val, &w->job_id, &have, err)) < 0)
                return rc;
            continue;
        }
        switch (id) {
        case WA_INTERVAL: {
            int64_t ms;
            if ((rc = cli_parse_timeout (val, &ms, err)) < 0)
                return rc;
            if (ms < 100 || ms > 3600 * 1000)
                return yard_errorf (err, EINVAL, "invalid --interval '%s': "
                                    "from 100ms to 1h, e.g. 500ms, 2s", val);
            w->interval_ms = ms;
            break;
        }
        case WA_PLAIN: w->plain = true; break;
        case OPT_JSON: w->json = true; break;
        case OPT_HELP: w->help = true; break;
        }
    }
    return w->help ? 0 : need_job ("watch", have, err);
}

/* ---- events ------------------------------------------------------------ */

enum { EV_JOB = FIRST_CMD_OPT, EV_NODES, EV_COUNT, EV_PIPELINES, EV_RUN };

static const struct opt events_opts[] = {
    { "--job", 'j', true, EV_JOB },
    { "--nodes", 0, false, EV_NODES },
    { "--pipelines", 0, false, EV_PIPELINES },
    { "--run", 0, true, EV_RUN },
    { "--count", 'c', true, EV_COUNT },
    { "--json", 0, false, OPT_JSON },
    { "--help", 'h', false, OPT_HELP },
    { NULL, 0, false, 0 },
};

int
cli_parse_events (int argc, char **argv, struct cli_events *ev,
                  yard_error_t *err)
{
    struct optiter it;
    const char *val;
    bool have = false;
    int id = 0, rc;

    memset (ev, 0, sizeof *ev);
    iter_init (&it, argc, argv, "yard events", "yard events --help", 1);
    while ((rc = next (&it, events_opts, &id, &val, err)) != NEXT_END) {
        if (rc < 0)
            return rc;
        if (rc == NEXT_OPERAND)
            return yard_errorf (err, EINVAL, "unexpected argument '%s': "
                                "yard events [--job J] [--nodes] "
                                "[--pipelines] [--run R] [--count N] "
                                "[--json]", val);
        switch (id) {
        case EV_JOB:
            if ((rc = take_job ("events --job", val, &ev->job_id, &have,
                                err)) < 0)
                return rc;
            break;
        case EV_NODES: ev->nodes = true; break;
        case EV_PIPELINES: ev->pipelines = true; break;
        case EV_RUN:
            if (yard_parse_u64 (val, &ev->run_id) < 0 || ev->run_id == 0)
                return yard_errorf (err, EINVAL, "invalid --run '%s': a "
                                    "pipeline run id", val);
            ev->pipelines = true;
            break;
        case EV_COUNT:
            if (yard_parse_u64 (val, &ev->count) < 0 || ev->count == 0)
                return yard_errorf (err, EINVAL, "invalid --count '%s': a "
                                    "number of events, at least 1", val);
            break;
        case OPT_JSON: ev->json = true; break;
        case OPT_HELP: ev->help = true; break;
        }
    }
    if (ev->pipelines && ev->job_id)
        return yard_errorf (err, EINVAL, "--job and --pipelines (or --run) "
                            "go apart: yard events --pipelines [--run R]");
    if (ev->run_id && ev->nodes)
        return yard_errorf (err, EINVAL, "--run shows only the run's "
                            "changes: leave out --nodes");
    return 0;
}
