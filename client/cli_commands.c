/* cli_commands.c - see cli_commands.h.
 *
 * Each command is parse (cli_args.c), then one or a few libyard calls, then
 * render (cli_render.c).  The rules for what goes where:
 * - stdout carries the result only (a job id, a table, JSON, log bytes), so
 *   that scripts can use it; everything for people goes to stderr;
 * - every failure prints one line "yard: WHAT" to stderr, and the exit
 *   status says which kind it was (see enum cli_exit).
 */
#include "cli_cores.h"
#include "cli_commands.h"
#include "cli_gang.h"
#include "cli_metrics.h"
#include "cli_many.h"
#include "cli_watch.h"
#include "cli_events.h"
#include "cli_pipeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_args.h"
#include "cli_artifact.h"
#include "cli_deps.h"
#include "cli_models.h"
#include "cli_nodeadmin.h"
#include "cli_render.h"
#include "cli_topo.h"
#include "util.h"

/* `yard logs -f`: how long one long poll may wait for new output. */
#define FOLLOW_WAIT_MS 10000u
/* Bytes asked per logs request (the protocol's maximum). */
#define LOG_CHUNK (1024u * 1024)
/* Pause between polls that the scheduler answers at once with nothing new
 * (a job not started yet, an attempt over with the next not begun). */
#define IDLE_POLL_MS 1000

struct cli_ctx {
    const struct cli_global *g;
    FILE *out;
    FILE *err;
    yard_client_t *client;
};

struct cli_cmd {
    const char *name;
    int (*run) (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
                char **argv);
    const char *usage;
    const char *summary;
    const char *help;
};

static const struct cli_cmd *find_cmd (const char *name);
static void print_main_help (FILE *f);

/* ---- shared plumbing --------------------------------------------------- */

static int
usage_error (struct cli_ctx *ctx, const struct cli_cmd *cmd,
             const yard_error_t *e)
{
    fprintf (ctx->err, "yard: %s\n", e->text);
    if (cmd)
        fprintf (ctx->err, "usage: %s\n", cmd->usage);
    return CLI_EXIT_USAGE;
}

static int
print_cmd_help (FILE *f, const struct cli_cmd *cmd)
{
    fprintf (f, "usage: %s\n\n%s.\n%s", cmd->usage, cmd->summary, cmd->help);
    return CLI_EXIT_OK;
}

/* Create the client.  Returns 0 or an exit status. */
static int
connect_client (struct cli_ctx *ctx)
{
    const char *ep = ctx->g->scheduler;
    if (!ep) {
        const char *env = getenv ("YARD_SCHEDULER");
        ep = env && *env ? env : YARD_DEFAULT_SCHEDULER;
    }
    if (!(ctx->client = yard_client_create (ep))) {
        int e = errno;
        if (e == ENOMEM) {
            fprintf (ctx->err, "yard: out of memory\n");
            return CLI_EXIT_ERROR;
        }
        fprintf (ctx->err,
                 "yard: invalid scheduler endpoint '%s' (%s): use e.g. "
                 "tcp://HOST:7700 or ipc:///PATH in --scheduler or "
                 "YARD_SCHEDULER\n",
                 ep, strerror (e));
        return CLI_EXIT_USAGE;
    }
    if (ctx->g->timeout_ms > 0)
        yard_client_set_timeout (ctx->client, ctx->g->timeout_ms);
    return 0;
}

/* Report a failed libyard call.  Returns the exit status. */
static int
call_failed (struct cli_ctx *ctx, int rc)
{
    fprintf (ctx->err, "yard: %s\n", yard_client_errmsg (ctx->client));
    return rc == -ETIMEDOUT ? CLI_EXIT_UNREACHABLE : CLI_EXIT_ERROR;
}

/* Print j (stolen) as JSON.  Returns an exit status. */
static int
emit_json (struct cli_ctx *ctx, json_t *j, bool compact)
{
    if (!j) {
        fprintf (ctx->err, "yard: out of memory\n");
        return CLI_EXIT_ERROR;
    }
    int rc = cli_json_print (ctx->out, j, compact);
    json_decref (j);
    return rc < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

static bool
want_json (const struct cli_ctx *ctx, bool cmd_json)
{
    return cmd_json || ctx->g->json;
}

static void
nap (int64_t ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
    nanosleep (&ts, NULL);
}

/* ---- submit ------------------------------------------------------------ */

static int
cmd_submit (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
            char **argv)
{
    struct cli_submit s;
    yard_error_t e = { 0 };
    uint64_t id, *ids = NULL;
    size_t nids = 0;
    int rc;

    if (cli_parse_submit (argc, argv, &s, &e) < 0) {
        cli_submit_clear (&s);
        return usage_error (ctx, cmd, &e);
    }
    if (s.help) {
        cli_submit_clear (&s);
        return print_cmd_help (ctx->out, cmd);
    }
    if ((rc = connect_client (ctx)) != 0)
        goto out;
    /* every id of an array, for --json; stdout keeps the first (the array
     * id) so that scripts written for one job keep working */
    if ((rc = yard_submit_array (ctx->client, &s.spec, &ids, &nids)) < 0) {
        rc = call_failed (ctx, rc);
        goto out;
    }
    id = ids[0];
    if (want_json (ctx, s.json)) {
        json_t *j = json_pack ("{s:I}", "id", (json_int_t)id);
        if (j && s.spec.array) {
            json_t *a = json_array ();
            for (size_t i = 0; a && i < nids; i++)
                json_array_append_new (a, json_integer ((json_int_t)ids[i]));
            json_object_set_new (j, "ids", a);
        }
        rc = emit_json (ctx, j, false);
    } else {
        fprintf (ctx->out, "%" PRIu64 "\n", id);
        rc = CLI_EXIT_OK;
    }
out:
    free (ids);
    cli_submit_clear (&s);
    return rc;
}

/* ---- status, cancel ---------------------------------------------------- */

static int
cmd_status (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
            char **argv)
{
    struct cli_job_args a;
    yard_error_t e = { 0 };
    yard_job_t *job = NULL;
    int rc;

    if (cli_parse_job_args (argc, argv, &a, &e) < 0)
        return usage_error (ctx, cmd, &e);
    if (a.help)
        return print_cmd_help (ctx->out, cmd);
    if ((rc = connect_client (ctx)) != 0)
        return rc;
    if ((rc = yard_job_status (ctx->client, a.job_id, &job)) < 0)
        return call_failed (ctx, rc);
    if (want_json (ctx, a.json))
        rc = emit_json (ctx, cli_job_json (job), false);
    else
        rc = cli_print_job (ctx->out, job, yard_now_ms ()) < 0 ? CLI_EXIT_ERROR
                                                               : CLI_EXIT_OK;
    yard_job_free (&job);
    return rc;
}

static int
cmd_cancel (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
            char **argv)
{
    struct cli_job_args a;
    yard_error_t e = { 0 };
    yard_job_t *job = NULL;
    int rc;

    if (cli_parse_job_args (argc, argv, &a, &e) < 0)
        return usage_error (ctx, cmd, &e);
    if (a.help)
        return print_cmd_help (ctx->out, cmd);
    if ((rc = connect_client (ctx)) != 0)
        return rc;
    if ((rc = a.array ? yard_cancel_array (ctx->client, a.job_id, &job)
                      : yard_cancel (ctx->client, a.job_id, &job)) < 0)
        return call_failed (ctx, rc);
    rc = CLI_EXIT_OK;
    const char *state = yard_job_state_str (job->state);
    char sum[512];
    if (want_json (ctx, a.json))
        rc = emit_json (ctx, cli_job_json (job), false);
    else if (a.array)
        fprintf (ctx->out, "array %s\n", cli_deps_summary (job, sum,
                                                          sizeof sum));
    else if (job->state == YARD_JOB_CANCELLED)
        fprintf (ctx->out, "job %" PRIu64 ": %s\n", job->id, state);
    else if (yard_job_state_finished (job->state))
        fprintf (ctx->out, "job %" PRIu64 " already finished: %s\n", job->id,
                 state);
    else if (job->cancel_requested)
        fprintf (ctx->out,
                 "job %" PRIu64 ": %s, cancel requested (stopping%s%s)\n",
                 job->id, state, *job->node ? " on " : "", job->node);
    else
        fprintf (ctx->out, "job %" PRIu64 ": %s\n", job->id, state);
    yard_job_free (&job);
    return rc;
}

static int
cmd_requeue (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
             char **argv)
{
    struct cli_job_args a;
    yard_error_t e = { 0 };
    yard_job_t *job = NULL;
    int rc;

    if (cli_parse_job_args (argc, argv, &a, &e) < 0)
        return usage_error (ctx, cmd, &e);
    if (a.help)
        return print_cmd_help (ctx->out, cmd);
    if ((rc = connect_client (ctx)) != 0)
        return rc;
    if ((rc = yard_requeue (ctx->client, a.job_id, &job)) < 0)
        return call_failed (ctx, rc);
    rc = CLI_EXIT_OK;
    const char *state = yard_job_state_str (job->state);
    if (want_json (ctx, a.json))
        rc = emit_json (ctx, cli_job_json (job), false);
    else if (job->state == YARD_JOB_PENDING)
        fprintf (ctx->out, "job %" PRIu64 " is PENDING: nothing to stop, it "
                 "runs when resources allow\n", job->id);
    else
        fprintf (ctx->out, "job %" PRIu64 ": %s (stopping%s%s; it will run "
                 "again as a new attempt)\n", job->id, state,
                 *job->node ? " on " : "", job->node);
    yard_job_free (&job);
    return rc;
}

/* ---- queue, nodes ------------------------------------------------------ */

static int
cmd_queue (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
           char **argv)
{
    struct cli_queue q;
    yard_error_t e = { 0 };
    yard_job_t *jobs = NULL;
    size_t n = 0;
    int rc;

    if (cli_parse_queue (argc, argv, &q, &e) < 0)
        return usage_error (ctx, cmd, &e);
    if (q.help)
        return print_cmd_help (ctx->out, cmd);
    if ((rc = connect_client (ctx)) != 0)
        return rc;
    if ((rc = yard_queue (ctx->client, q.all, q.limit, &jobs, &n)) < 0)
        return call_failed (ctx, rc);
    if (want_json (ctx, q.json))
        rc = emit_json (ctx, cli_jobs_json (jobs, n), false);
    else
        rc = cli_print_queue (ctx->out, jobs, n, yard_now_ms ()) < 0
                 ? CLI_EXIT_ERROR
                 : CLI_EXIT_OK;
    yard_jobs_free (&jobs, n);
    return rc;
}

/* `yard nodes show NODE`: one node of the list, with its topology. */
static int
show_node (struct cli_ctx *ctx, const struct cli_nodes *a,
           const yard_node_t *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp (nodes[i].name, a->show) != 0)
            continue;
        if (want_json (ctx, a->json))
            return emit_json (ctx, cli_node_json (&nodes[i]), false);
        if (cli_print_node_show (ctx->out, &nodes[i], yard_now_ms ()) < 0)
            return CLI_EXIT_ERROR;
        cli_holdings_print (ctx->out, &nodes[i]); /* who holds what */
        cli_cores_print (ctx->out, &nodes[i]);
        return CLI_EXIT_OK;
    }
    fprintf (ctx->err, "yard: no node named '%s' (see 'yard nodes')\n",
             a->show);
    return CLI_EXIT_ERROR;
}

/* `yard nodes drain NODE --requeue`, once the drain is committed: stop
 * and requeue every job running on the node, as `yard requeue` does (a
 * preemption, never counted against --retries).  The requeued job ids go
 * into *ids (malloc'd).  Returns an exit status: CLI_EXIT_ERROR when a
 * requeue failed for a job that is still running. */
static int
requeue_node_jobs (struct cli_ctx *ctx, const char *node, uint64_t **ids,
                   size_t *n_ids)
{
    yard_job_t *jobs = NULL;
    size_t n = 0;
    int rc = yard_queue (ctx->client, false, 0, &jobs, &n);
    if (rc < 0)
        return call_failed (ctx, rc);
    *ids = calloc (n ? n : 1, sizeof **ids);
    if (!*ids) {
        yard_jobs_free (&jobs, n);
        fprintf (ctx->err, "yard: out of memory\n");
        return CLI_EXIT_ERROR;
    }
    int status = CLI_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        const yard_job_t *j = &jobs[i];
        if (j->state != YARD_JOB_ASSIGNED && j->state != YARD_JOB_RUNNING)
            continue;
        bool on = cli_job_on_node (j, node);
        if (!on && j->nodes > 0) { /* a gang: its nodes from its status */
            yard_job_t *full = NULL;
            if (yard_job_status (ctx->client, j->id, &full) == 0)
                on = cli_job_on_node (full, node);
            yard_job_free (&full);
        }
        if (!on)
            continue;
        yard_job_t *after = NULL;
        if ((rc = yard_requeue (ctx->client, j->id, &after)) == 0)
            (*ids)[(*n_ids)++] = j->id;
        else {
            /* a job that ended meanwhile has nothing left to requeue */
            yard_job_t *now = NULL;
            bool ended = yard_job_status (ctx->client, j->id, &now) == 0
                         && yard_job_state_finished (now->state);
            yard_job_free (&now);
            if (!ended) {
                fprintf (ctx->err, "yard: job %" PRIu64 ": %s\n", j->id,
                         yard_client_errmsg (ctx->client));
                status = rc == -ETIMEDOUT ? CLI_EXIT_UNREACHABLE
                                          : CLI_EXIT_ERROR;
            }
        }
        yard_job_free (&after);
    }
    yard_jobs_free (&jobs, n);
    return status;
}

/* `yard nodes drain|resume|label|unlabel|remove NODE ...` */
static int
node_admin (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
            char **argv)
{
    struct cli_nodeadmin a;
    yard_error_t e = { 0 };
    yard_node_t *node = NULL;
    int rc;

    if (cli_parse_nodeadmin (argc, argv, &a, &e) < 0) {
        cli_nodeadmin_clear (&a);
        return usage_error (ctx, cmd, &e);
    }
    if (a.help) {
        cli_nodeadmin_clear (&a);
        return print_cmd_help (ctx->out, cmd);
    }
    if ((rc = connect_client (ctx)) != 0
        || (rc = yard_node_admin (ctx->client, a.node, a.action, a.reason,
                                  a.labels, a.n_labels, &node)) < 0) {
        cli_nodeadmin_clear (&a);
        return rc > 0 ? rc : call_failed (ctx, rc);
    }
    uint64_t *ids = NULL;
    size_t n_ids = 0;
    int rq = a.requeue ? requeue_node_jobs (ctx, a.node, &ids, &n_ids)
                       : CLI_EXIT_OK;
    if (want_json (ctx, a.json)) {
        json_t *o = node ? cli_node_json (node)
                         : json_pack ("{s:s,s:b}", "name", a.node, "removed",
                                      1);
        if (o && a.requeue) {
            json_t *arr = json_array ();
            for (size_t i = 0; arr && i < n_ids; i++)
                json_array_append_new (arr, json_integer ((json_int_t)ids[i]));
            if (!arr || json_object_set_new (o, "requeued", arr) < 0) {
                json_decref (o);
                o = NULL;
            }
        }
        rc = emit_json (ctx, o, false);
    } else {
        rc = cli_print_nodeadmin (ctx->out, &a, node) < 0 ? CLI_EXIT_ERROR
                                                          : CLI_EXIT_OK;
        for (size_t i = 0; i < n_ids; i++)
            fprintf (ctx->out, "job %" PRIu64 ": PREEMPTING (stopping on %s;"
                     " it will run again as a new attempt)\n", ids[i],
                     a.node);
    }
    free (ids);
    yard_nodes_free (&node, 1);
    cli_nodeadmin_clear (&a);
    return rc != CLI_EXIT_OK ? rc : rq;
}

static int
cmd_nodes (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
           char **argv)
{
    struct cli_nodes a;
    yard_error_t e = { 0 };
    yard_node_t *nodes = NULL;
    size_t n = 0;
    int rc;

    if (argc >= 2 && cli_nodeadmin_is_verb (argv[1]))
        return node_admin (ctx, cmd, argc, argv);
    if (cli_parse_nodes (argc, argv, &a, &e) < 0)
        return usage_error (ctx, cmd, &e);
    if (a.help)
        return print_cmd_help (ctx->out, cmd);
    if ((rc = connect_client (ctx)) != 0)
        return rc;
    if ((rc = yard_nodes (ctx->client, &nodes, &n)) < 0)
        return call_failed (ctx, rc);
    if (a.show)
        rc = show_node (ctx, &a, nodes, n);
    else if (want_json (ctx, a.json))
        rc = emit_json (ctx, cli_nodes_json (nodes, n), false);
    else
        rc = cli_print_nodes (ctx->out, nodes, n, yard_now_ms ()) < 0
                 ? CLI_EXIT_ERROR
                 : CLI_EXIT_OK;
    yard_nodes_free (&nodes, n);
    return rc;
}

/* ---- metrics, watch, events, artifact, checkpoints --------------------- */

/* Commands whose options parse into `struct cli_NAME` (with help and json
 * members) and whose work is one cli_NAME_run against the client: parse,
 * answer --help, connect, run. */
#define CLI_CLIENT_CMD(name)                                                  \
    static int cmd_##name (struct cli_ctx *ctx, const struct cli_cmd *cmd,    \
                           int argc, char **argv)                             \
    {                                                                         \
        struct cli_##name a;                                                  \
        yard_error_t e = { 0 };                                               \
        int rc;                                                               \
        if (cli_parse_##name (argc, argv, &a, &e) < 0)                        \
            return usage_error (ctx, cmd, &e);                                \
        if (a.help)                                                           \
            return print_cmd_help (ctx->out, cmd);                            \
        if ((rc = connect_client (ctx)) != 0)                                 \
            return rc;                                                        \
        return cli_##name##_run (ctx->client, &a, want_json (ctx, a.json),    \
                                 ctx->out, ctx->err);                         \
    }

CLI_CLIENT_CMD (metrics)     /* cli_metrics.c */
CLI_CLIENT_CMD (watch)       /* cli_watch.c */
CLI_CLIENT_CMD (submit_many) /* cli_many.c */
CLI_CLIENT_CMD (events)      /* cli_events.c */
CLI_CLIENT_CMD (artifact)    /* cli_artifact.c */
CLI_CLIENT_CMD (checkpoints) /* cli_artifact.c */

/* ---- pipelines and datasets (cli_pipeline.c) --------------------------- */

static bool
asks_help (int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h"))
            return true;
    return false;
}

static int
cmd_pipeline (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
              char **argv)
{
    int rc;
    if (asks_help (argc, argv))
        return print_cmd_help (argc < 2 ? ctx->err : ctx->out, cmd)
               + (argc < 2 ? CLI_EXIT_USAGE : 0);
    if ((rc = connect_client (ctx)) != 0)
        return rc;
    if (!strcmp (cmd->name, "dataset"))
        return cli_dataset_main (ctx->client, argc, argv, ctx->g->json,
                                 ctx->out, ctx->err);
    return cli_pipeline_main (ctx->client, argc, argv, ctx->g->json,
                              ctx->out, ctx->err);
}

/* ---- logs -------------------------------------------------------------- */

/* Write the part of lg at or after offset; returns 0 or -EIO. */
static int
write_log (struct cli_ctx *ctx, const yard_logs_t *lg, uint64_t offset,
           bool json)
{
    size_t skip = 0;
    if (lg->offset < offset) /* a reply that overlaps what we have */
        skip = offset - lg->offset >= lg->len ? lg->len
                                              : (size_t)(offset - lg->offset);
    const uint8_t *p = lg->data + skip;
    size_t len = lg->len - skip;
    if (json) {
        if (len == 0 && !lg->eof)
            return 0;
        json_t *j = json_pack ("{s:I,s:I,s:I,s:o,s:b,s:s}", "id",
                               (json_int_t)lg->job_id, "attempt",
                               (json_int_t)lg->attempt, "offset",
                               (json_int_t)(lg->offset + skip), "data",
                               cli_json_string ((const char *)p, len), "eof",
                               lg->eof, "state",
                               yard_job_state_str (lg->state));
        if (!j)
            return -ENOMEM;
        int rc = cli_json_print (ctx->out, j, true);
        json_decref (j);
        fflush (ctx->out);
        return rc;
    }
    if (len && fwrite (p, 1, len, ctx->out) != len)
        return -EIO;
    return fflush (ctx->out) == 0 ? 0 : -EIO;
}

/* Follow or dump a job's log.  Attempt 0 (the latest) is resolved by the
 * first reply and then kept, so that a new attempt starting halfway does
 * not splice two logs together.  When following without an explicit
 * attempt and an attempt ends while the job goes on (its node was lost, it
 * was preempted), the next attempt is followed in turn. */
static int
cmd_logs (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
          char **argv)
{
    struct cli_logs l;
    yard_error_t e = { 0 };
    yard_logs_t *lg = NULL;
    int rc;

    if (cli_parse_logs (argc, argv, &l, &e) < 0)
        return usage_error (ctx, cmd, &e);
    if (l.help)
        return print_cmd_help (ctx->out, cmd);
    if ((rc = connect_client (ctx)) != 0)
        return rc;
    bool json = want_json (ctx, l.json);
    uint32_t attempt = l.attempt;
    uint32_t done_attempt = 0; /* an attempt followed to its end */
    uint64_t offset = 0;
    bool reached = false, lost = false;

    for (;;) {
        uint32_t wait = l.follow ? FOLLOW_WAIT_MS : 0;
        int64_t t0 = yard_mono_ms ();
        rc = yard_logs_read (ctx->client, l.job_id, attempt, offset, LOG_CHUNK,
                             wait, &lg);
        if (rc == -ETIMEDOUT && l.follow && reached) {
            /* the scheduler went away after answering: a restart, most
             * likely; keep asking (the user stops us with Ctrl-C) */
            if (!lost)
                fprintf (ctx->err, "yard: %s; still trying\n",
                         yard_client_errmsg (ctx->client));
            lost = true;
            continue;
        }
        if (rc < 0)
            return call_failed (ctx, rc);
        reached = true;
        lost = false;
        bool idle = yard_mono_ms () - t0 < IDLE_POLL_MS / 4;

        if (lg->attempt == 0 || (attempt == 0 && lg->attempt == done_attempt)) {
            /* no attempt to read yet: not started, or the next attempt of a
             * requeued job not dispatched yet */
            enum yard_job_state st = lg->state;
            yard_logs_free (&lg);
            if (!l.follow) {
                if (done_attempt == 0)
                    fprintf (ctx->err,
                             "yard: job %" PRIu64 " has no output: it %s (%s)\n",
                             l.job_id,
                             yard_job_state_finished (st) ? "never started"
                                                          : "has not started yet",
                             yard_job_state_str (st));
                return CLI_EXIT_OK;
            }
            if (yard_job_state_finished (st) || st == YARD_JOB_UNKNOWN)
                return CLI_EXIT_OK; /* it ended without (another) attempt */
            if (idle)
                nap (IDLE_POLL_MS);
            continue;
        }
        if (attempt == 0) {
            attempt = lg->attempt;
            offset = 0;
        }
        if (write_log (ctx, lg, offset, json) < 0) {
            yard_logs_free (&lg);
            fprintf (ctx->err, "yard: cannot write the log: %s\n",
                     strerror (errno ? errno : EIO));
            return CLI_EXIT_ERROR;
        }
        if (lg->next_offset > offset)
            offset = lg->next_offset;
        bool eof = lg->eof, empty = lg->len == 0;
        enum yard_job_state st = lg->state;
        yard_logs_free (&lg);

        if (!eof) {
            if (!l.follow && empty)
                return CLI_EXIT_OK; /* all there is for now */
            if (l.follow && empty && idle)
                nap (IDLE_POLL_MS / 4); /* a scheduler that does not park */
            continue;
        }
        /* this attempt is over and its whole log printed */
        if (!l.follow || l.attempt != 0 || yard_job_state_finished (st)
            || st == YARD_JOB_UNKNOWN)
            return CLI_EXIT_OK;
        fprintf (ctx->err,
                 "yard: attempt %u of job %" PRIu64 " ended and the job is %s: "
                 "following its next attempt\n",
                 attempt, l.job_id, yard_job_state_str (st));
        done_attempt = attempt;
        attempt = 0;
        offset = 0;
    }
}

/* ---- wait -------------------------------------------------------------- */

int
cli_wait_exit_code (const yard_job_t *job)
{
    switch (job->state) {
    case YARD_JOB_COMPLETED:
        return CLI_EXIT_OK;
    case YARD_JOB_TIMEOUT:
        return CLI_EXIT_JOB_TIMEOUT;
    case YARD_JOB_CANCELLED:
        return CLI_EXIT_JOB_CANCELLED;
    case YARD_JOB_FAILED:
        if (job->term_signal > 0 && job->term_signal < 128)
            return 128 + job->term_signal;
        if (job->exit_code > 0 && job->exit_code <= 255)
            return job->exit_code;
        return CLI_EXIT_ERROR;
    default:
        return CLI_EXIT_ERROR;
    }
}

/* The line `yard wait` prints on stderr for an ending other than COMPLETED:
 * the scheduler's own explanation when it gave one, else ours. */
static void
print_ending (FILE *f, const yard_job_t *job)
{
    char d[32];

    fprintf (f, "yard: job %" PRIu64 " %s", job->id,
             yard_job_state_str (job->state));
    if (*job->reason) {
        char *clean = cli_utf8_lossy (job->reason, strlen (job->reason), NULL);
        fprintf (f, ": %s", clean ? clean : job->reason);
        free (clean);
    } else if (job->state == YARD_JOB_FAILED) {
        if (job->end_reason == YARD_END_SPAWN_FAILED) {
            fprintf (f, ": could not start (exit code %d)", job->exit_code);
        } else if (job->term_signal > 0) {
            const char *s = strsignal (job->term_signal);
            fprintf (f, ": killed by signal %d (%s)", job->term_signal,
                     s ? s : "?");
        } else if (job->end_reason == YARD_END_EXITED || job->exit_code) {
            fprintf (f, ": exit code %d", job->exit_code);
        } else if (job->end_reason != YARD_END_NONE) {
            fprintf (f, ": %s", yard_end_reason_str (job->end_reason));
        }
    } else if (job->state == YARD_JOB_TIMEOUT && job->time_limit_s) {
        uint64_t s = job->time_limit_s;
        if (s > (uint64_t)(INT64_MAX / 1000))
            s = (uint64_t)(INT64_MAX / 1000);
        fprintf (f, ": killed at its time limit of %s",
                 yard_format_duration ((int64_t)s * 1000, d, sizeof d));
    }
    fputc ('\n', f);
}

static int
cmd_wait (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
          char **argv)
{
    struct cli_wait w;
    yard_error_t e = { 0 };
    yard_job_t *job = NULL;
    char d[32];
    int rc;

    if (cli_parse_wait (argc, argv, &w, &e) < 0)
        return usage_error (ctx, cmd, &e);
    if (w.help)
        return print_cmd_help (ctx->out, cmd);
    if ((rc = connect_client (ctx)) != 0)
        return rc;
    if ((rc = yard_wait (ctx->client, w.job_id, w.timeout_ms, &job)) < 0)
        return call_failed (ctx, rc);
    if (want_json (ctx, w.json)
        && emit_json (ctx, cli_job_json (job), false) != CLI_EXIT_OK) {
        yard_job_free (&job);
        return CLI_EXIT_ERROR;
    }
    if (!yard_job_state_finished (job->state)) {
        fprintf (ctx->err, "yard: job %" PRIu64 " is still %s after %s\n",
                 job->id, yard_job_state_str (job->state),
                 yard_format_duration (w.timeout_ms, d, sizeof d));
        yard_job_free (&job);
        return CLI_EXIT_WAIT_TIMEOUT;
    }
    rc = cli_wait_exit_code (job);
    if (job->state != YARD_JOB_COMPLETED)
        print_ending (ctx->err, job);
    yard_job_free (&job);
    return rc;
}

/* ---- help -------------------------------------------------------------- */

static int
cmd_help (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
          char **argv)
{
    struct cli_help h;
    yard_error_t e = { 0 };

    if (cli_parse_help (argc, argv, &h, &e) < 0)
        return usage_error (ctx, cmd, &e);
    if (!h.topic) {
        print_main_help (ctx->out);
        return CLI_EXIT_OK;
    }
    const struct cli_cmd *c = find_cmd (h.topic);
    if (!c) {
        fprintf (ctx->err,
                 "yard: no help for '%s': it is not a yard command (see "
                 "'yard help')\n",
                 h.topic);
        return CLI_EXIT_USAGE;
    }
    return print_cmd_help (ctx->out, c);
}

/* ---- the table --------------------------------------------------------- */

/* ---- model, schedule, trigger (cli_models.c) ---------------------------- */

static int
cmd_models (struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc,
            char **argv)
{
    if (cli_models_wants_help (argc, argv))
        return print_cmd_help (ctx->out, cmd);
    int rc = connect_client (ctx);
    if (rc != 0)
        return rc;
    return cli_models_run (ctx->client, argc, argv, ctx->g->json, ctx->out,
                           ctx->err);
}

static const struct cli_cmd commands[] = {
    {
        "submit", cmd_submit,
        "yard submit [OPTIONS] [--] CMD [ARGS...]",
        "Submit a job and print its id",
        "\n"
        "Everything after '--', or from the first word that is not an option,\n"
        "is the command, passed as it is.\n"
        "\n"
        "options:\n"
        "  --name NAME      a name to recognize the job by\n"
        "  --cpus N         whole cores to reserve, every hardware thread of\n"
        "                   each (default 1; PUs on an oversubscribed node)\n"
        "  --gpus N         GPUs to reserve (default 0)\n"
        "  --mem SIZE       memory to reserve, e.g. 512M, 16G (default: none)\n"
        "  --time DUR       time limit, e.g. 90s, 30m, 2h, 1d, 1h30m, HH:MM:SS\n"
        "                   (default: none)\n"
        "  --priority P     higher runs first (default 0; may be negative)\n"
        "  --env K=V        set K in the job's environment (repeatable);\n"
        "  --env K          pass K with its value from your environment\n"
        "  --workdir DIR    directory to run in; must exist on the node\n"
        "                   (default: the current directory when the node has\n"
        "                   it)\n"
        "  --grace DUR      time between SIGTERM and SIGKILL when stopping\n"
        "                   (default 10s)\n"
        "  --retries N      run again after a failure (non-zero exit, signal,\n"
        "                   could not start) up to N times (default 0)\n"
        "  --retry-exit-codes C,C  exit codes that always run it again\n"
        "  --retry-backoff DUR  wait before the first retry, doubled at each\n"
        "                   retry, at most 1h (default 10s)\n"
        "  --signal SIG     stop with SIG instead of SIGTERM (USR1, 10, ...)\n"
        "  --signal SIG@S   send SIG S seconds before the time limit\n"
        "  --requeue-on-timeout  at the time limit, run again (new attempt)\n"
        "                   instead of ending TIMEOUT\n"
        "  --preemptible    may be stopped and requeued for higher-priority\n"
        "                   jobs\n"
        "  --constraint L   run only on a node with label L: KEY (any value)\n"
        "                   or KEY=VALUE (repeatable: every one must match;\n"
        "                   see 'yard nodes label')\n"
        "  --gpu-type NAME  run only on a node whose GPU model contains NAME\n"
        "                   (case-insensitive, e.g. h100); needs --gpus\n"
        "  --after JOB[:COND]  start only after job JOB ended: :ok (default)\n"
        "                   completed, :any however, :notok failed or was\n"
        "                   cancelled; repeatable, or JOB,JOB...; cancelled\n"
        "                   when it can never be met\n"
        "  --array A-B[:S][%K]  one job per index A..B by S (or one index A),\n"
        "                   at most K running at once; each gets\n"
        "                   YARD_ARRAY_INDEX and YARD_ARRAY_ID; prints the\n"
        "                   first id (the array id)\n"
        "  --stage-in PATH=DIGEST  before the job starts, fetch the artifact\n"
        "                   DIGEST ('yard artifact put') to $YARD_INPUTS/PATH:\n"
        "                   a folder becomes a folder, a file a file\n"
        "                   (repeatable, up to 64; PATH relative, no '..')\n"
        "  --collect NAME   the job writes into the folder $YARD_OUTPUTS/NAME;\n"
        "                   after it exits 0 the folder is stored in the\n"
        "                   artifact store and its digest shown by 'yard\n"
        "                   status' (repeatable, up to 16)\n"
        "  --keep-checkpoints N  keep the newest N of the job's checkpoints (in\n"
        "                   the artifact store and on the worker; default 2;\n"
        "                   see 'yard checkpoints')\n"
        "  --json           print {\"id\": N} (an array: and \"ids\": [...])\n"
        "\n"
        "multi-node jobs (all nodes or none; one process per task, each with\n"
        "RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, NODE_RANK,\n"
        "MASTER_ADDR and MASTER_PORT as torchrun sets them):\n"
        "  --nodes N        run on N distinct nodes\n"
        "  --tasks-per-node T  processes per node (default 1)\n"
        "  --gpus-per-task G   GPUs per task; each task sees all of its node's\n"
        "                   T*G GPUs, its own at indices LOCAL_RANK*G.. so that\n"
        "                   torch.cuda.set_device(LOCAL_RANK) works\n"
        "  --cpus-per-task C   cores per task (default 1; --cpus means the same\n"
        "                   with --nodes); each task is bound to its own\n"
        "                   share of its node's PUs (C cores' worth) and gets\n"
        "                   OMP_NUM_THREADS = their number\n"
        "  --gang-timeout DUR  fail the attempt when the tasks of every node\n"
        "                   have not started within DUR (default 120s)\n"
        "  Any task failing, or any node lost, stops the whole job: it is one\n"
        "  attempt (retries and requeue apply to all of it).  'yard logs'\n"
        "  shows the output of every task of node rank 0, each line behind\n"
        "  its rank: [rank 1] ...\n"
        "\n"
        "examples:\n"
        "  yard submit --name resnet --gpus 1 --mem 16G --time 4h -- \\\n"
        "      python train.py --epochs 90\n"
        "  yard submit --nodes 2 --tasks-per-node 4 --gpus-per-task 1 \\\n"
        "      --cpus-per-task 8 -- python train_ddp.py\n",
    },
    {
        "submit-many", cmd_submit_many, "yard submit-many [--json] [FILE|-]",
        "Submit one job per line of FILE (or of standard input)",
        "\n"
        "Each line is what would follow 'yard submit': options, then the\n"
        "command.  Words are split as a shell splits them ('...', \"...\" and\n"
        "backslashes quote), but nothing is expanded: no $VAR, no ~, no *.\n"
        "Blank lines and lines starting with # are skipped.  All the jobs go\n"
        "to the scheduler at once (up to 512 in flight), which commits them\n"
        "in batches: thousands a second rather than one per round trip.\n"
        "Each job is acknowledged once committed; a line that does not parse,\n"
        "or that the scheduler refuses, fails alone.\n"
        "\n"
        "Prints one line per job, in order: its id (an array's first id), or\n"
        "'-' when it was not submitted; says why on standard error.  Exit\n"
        "status 0 when every job was submitted, 1 when some were not, 3 when\n"
        "the scheduler stopped answering (a job sent and not answered may or\n"
        "may not have been committed: it is never sent twice).\n"
        "\n"
        "options:\n"
        "  --json           print [{\"line\": N, \"id\": ID} or {\"line\": N,\n"
        "                   \"error\": TEXT, \"code\": ERRNO}, ...]\n"
        "\n"
        "example:\n"
        "  for lr in 0.1 0.01 0.001; do\n"
        "    echo \"--name lr-$lr --cpus 4 -- python3 train.py --lr $lr\"\n"
        "  done | yard submit-many\n",
    },
    {
        "status", cmd_status, "yard status [--json] JOB",
        "Show one job: state, node, command, resources, times, exit status",
        "\n"
        "Ends with the job's attempt history, oldest first: for each attempt\n"
        "the node that ran it, when it started and ended, its runtime and\n"
        "why it ended (exited, signaled, timeout, preempted, lost, ...),\n"
        "then what each attempt used (CPU time, peak memory, GPU).  Retries\n"
        "used of --retries, and when a job waiting to retry is eligible.\n"
        "\n"
        "options:\n"
        "  --json           print the job object, with 'attempts'\n",
    },
    {
        "queue", cmd_queue, "yard queue [--all] [--limit N] [--json]",
        "List pending and running jobs, highest priority first",
        "\n"
        "options:\n"
        "  -a, --all        include finished jobs (newest first)\n"
        "  -n, --limit N    list at most N finished jobs (default 1000)\n"
        "  --json           print an array of job objects\n"
        "\n"
        "AGE/TIME is how long a pending job has waited, or how long a\n"
        "started job has run.\n",
    },
    {
        "nodes", cmd_nodes, "yard nodes [--json]\n"
        "       yard nodes show [--json] NODE\n"
        "       yard nodes drain [--requeue] [--json] NODE [--reason TEXT]\n"
        "       yard nodes resume [--json] NODE\n"
        "       yard nodes label [--json] NODE KEY[=VALUE]...\n"
        "       yard nodes unlabel [--json] NODE KEY...\n"
        "       yard nodes remove [--json] NODE",
        "List the worker nodes, show one node's hardware, or administer one",
        "\n"
        "'yard nodes' lists each node with its state, free/total CPUs,\n"
        "free/total cores (CORES; with free/total PUs where a node has more\n"
        "PUs than cores: '2/4 (4/8 PUs)'), memory and GPUs (with the GPU\n"
        "model, e.g. '8/8 H100'), all free/total, labels, and why it is\n"
        "drained or down.\n"
        "A job's --cpus counts whole cores, so jobs never share a core,\n"
        "unless the node is labelled 'oversubscribe' or the scheduler runs\n"
        "with --oversubscribe (jobs then get PUs).\n"
        "States: idle, mixed (some CPUs used), allocated (all used),\n"
        "draining (drained, jobs still running), drained, leaving (its\n"
        "worker is shutting down), down.\n"
        "\n"
        "drain: no new jobs go to the node; running jobs finish.  With\n"
        "--requeue, its running jobs are also stopped (their stop signal,\n"
        "then SIGKILL after their grace time) and queued again as a new\n"
        "attempt, as 'yard requeue' does: a preemption, which never counts\n"
        "against --retries; a job that saves a checkpoint on SIGTERM resumes\n"
        "from it on another node.  resume:\n"
        "lift the drain.  label: set labels that jobs can ask for with\n"
        "'yard submit --constraint' (KEY of [A-Za-z0-9._-], up to 63; VALUE\n"
        "printable, up to 255).  unlabel: remove labels by key.  remove:\n"
        "forget a node that is down and has no jobs.  A failing worker\n"
        "health check drains its node ('health check: ...') and a passing\n"
        "one resumes it; an admin drain is only lifted by 'resume'.\n"
        "\n"
        "'yard nodes show NODE' prints the node's state and since when\n"
        "(with the reason when it is drained or down), then its topology as\n"
        "its worker found it (hwloc and the CUDA runtime): sockets, NUMA\n"
        "nodes with their PUs and memory, and each GPU with its UUID, PCI\n"
        "bus id, memory, NUMA node, PCIe switch ('-': none) and local PUs;\n"
        "who holds what; each core\n"
        "with its PUs and the jobs holding it, and the NUMA distance matrix\n"
        "when the machine reports one.\n"
        "\n"
        "options:\n"
        "  --reason TEXT    drain: why (shown in 'yard nodes')\n"
        "  --requeue        drain: also stop and requeue the node's jobs\n"
        "  --json           print the node objects (with their 'topology';\n"
        "                   drain --requeue adds 'requeued': the job ids)\n",
    },
    {
        "cancel", cmd_cancel, "yard cancel [--array] [--json] JOB",
        "Cancel a job and print its resulting state",
        "\n"
        "A pending job is cancelled at once; a running one is stopped by its\n"
        "worker (SIGTERM, then SIGKILL after its grace time).  Cancelling a\n"
        "finished job changes nothing and is not an error.\n"
        "\n"
        "Cancelling one member of an array cancels only that member; with\n"
        "--array, JOB is an array id (its first job) and every unfinished\n"
        "member is cancelled.\n",
    },
    {
        "requeue", cmd_requeue, "yard requeue [--json] JOB",
        "Stop a running job and queue it again as a new attempt",
        "\n"
        "The worker sends the job its stop signal (SIGTERM unless --signal\n"
        "said otherwise), then SIGKILL after its grace time; the job is\n"
        "PREEMPTING until then, then PENDING.  A job that saved a checkpoint\n"
        "resumes from it.  A requeue never counts against --retries.  A\n"
        "pending job is left as it is; a finished one is an error.\n",
    },
    {
        "logs", cmd_logs, "yard logs [-f] [--attempt N] [--json] JOB",
        "Print a job's output (stdout and stderr, as written)",
        "\n"
        "options:\n"
        "  -f, --follow     keep printing as the job writes, until it ends\n"
        "  --attempt N      the log of attempt N (default: the latest)\n"
        "  --json           one JSON object per chunk: id, attempt, offset,\n"
        "                   data, eof, state\n",
    },
    {
        "metrics", cmd_metrics,
        "yard metrics [--key K] [--all] [--json|--csv] JOB",
        "Show the metrics a job reported: a summary and plot per key",
        "\n"
        "A job reports metrics by writing JSON lines such as\n"
        "{\"step\": 100, \"loss\": 0.31} to the fd in $YARD_METRICS_FD.\n"
        "Points that a later attempt redid (it resumed from an earlier step)\n"
        "are superseded and left out unless --all.\n"
        "\n"
        "options:\n"
        "  -k, --key K      only metric K\n"
        "  -a, --all        include superseded points\n"
        "  --csv            print attempt,step,key,value,time_ms\n"
        "  --json           print an array of point objects\n",
    },
    {
        "wait", cmd_wait, "yard wait [--timeout DUR] [--json] JOB",
        "Wait for a job to finish and exit with its exit status",
        "\n"
        "exit status: the job's exit code when it exited; 128+N when it was\n"
        "killed by signal N; 124 when it hit its time limit (TIMEOUT); 125\n"
        "when it was CANCELLED; 1 for other failures; 4 when --timeout\n"
        "passed first.  Nothing is printed on stdout unless --json; an\n"
        "ending other than COMPLETED is described on stderr.\n"
        "\n"
        "options:\n"
        "  -t, --timeout DUR  give up after DUR (default: wait as long as it\n"
        "                     takes; a scheduler restart does not end the wait)\n",
    },
    {"model", cmd_models, CLI_MODEL_USAGE, CLI_MODEL_SUMMARY,
     CLI_MODEL_HELP},
    {"schedule", cmd_models, CLI_SCHEDULE_USAGE, CLI_SCHEDULE_SUMMARY,
     CLI_SCHEDULE_HELP},
    {"trigger", cmd_models, CLI_TRIGGER_USAGE, CLI_TRIGGER_SUMMARY,
     CLI_TRIGGER_HELP},
    {
        "pipeline", cmd_pipeline,
        "yard pipeline run [--param K=V]... [--resume RUN] [--json] FILE\n"
        "       yard pipeline rerun [--json] RUN\n"
        "       yard pipeline status [--json] RUN\n"
        "       yard pipeline list [--limit N] [--json] [NAME]\n"
        "       yard pipeline cancel [--json] RUN\n"
        "       yard pipeline explain [--json] RUN STEP\n"
        "       yard pipeline wait [--timeout DUR] [--json] RUN",
        "Run a pipeline (a DAG of steps in YAML), reusing unchanged steps",
        "\n"
        "run: read FILE (see docs/pipelines.md), upload its declared code\n"
        "files and start a run; prints the run with each step's state.  A\n"
        "step with 'reuse: true' whose cache key (command, env, params used,\n"
        "code file and input contents) matches a completed step whose outputs\n"
        "are still stored is reused without running.\n"
        "  -p, --param K=V  set or override a pipeline parameter\n"
        "  --resume RUN     reuse the steps that completed in RUN (same keys)\n"
        "                   and run the failed step and what follows\n"
        "rerun RUN: run RUN's pipeline again as it was, resuming RUN.\n"
        "status RUN: the steps in order with needs, state, reused or ran,\n"
        "job and duration.  list: the newest runs (of pipeline NAME).\n"
        "cancel RUN: stop its running steps; waiting steps never start.\n"
        "explain RUN STEP: why the step was reused, or which parts of its\n"
        "cache key changed since the previous run of the same step.\n"
        "wait RUN: wait until the run is over; exit 0 when it completed, 1\n"
        "when it failed or was cancelled, 4 when --timeout passed first.\n"
        "It follows the run's pushed events (polls an older scheduler).\n"
        "\n"
        "options:\n"
        "  --json           machine-readable output\n",
    },
    {
        "dataset", cmd_pipeline,
        "yard dataset add [--json] NAME PATH\n"
        "       yard dataset list [--json] [NAME]",
        "Register and list dataset versions for pipelines",
        "\n"
        "add: upload the file or folder PATH to the scheduler's artifact store\n"
        "and register it as the next version (1, 2, ...) of dataset NAME,\n"
        "with its content digest and size.  The version is stored before the\n"
        "command returns.  Pipeline steps read it as dataset:NAME@latest or\n"
        "dataset:NAME@VERSION; @latest is resolved when a run starts.\n"
        "list: every version of NAME, or of every dataset.\n"
        "\n"
        "options:\n"
        "  --json           machine-readable output\n",
    },
    {
        "watch", cmd_watch,
        "yard watch [--interval DUR] [--plain] [--json] JOB",
        "Follow a job live until it ends; exit with its exit status",
        "\n"
        "Shows the job's state, attempt, node and elapsed time, the latest\n"
        "value of each metric it reported, its step rate (steps/s) and, when\n"
        "it reported {\"total_steps\": N} on its metrics channel, the time\n"
        "left (ETA), and what its attempt uses (CPU, memory, GPU).  On a\n"
        "terminal the view is redrawn in place; otherwise one line is printed\n"
        "per change.  Exits like 'yard wait' once the job ends.\n"
        "\n"
        "options:\n"
        "  -n, --interval DUR  how often metrics and resource use are\n"
        "                      refreshed (default 2s; state changes show at\n"
        "                      once)\n"
        "  --plain          one line per change even on a terminal\n"
        "  --json           one JSON object per change: id, state, attempt,\n"
        "                   node, elapsed_ms, step, total_steps, steps_per_s,\n"
        "                   eta_s, metrics, usage, time_ms\n",
    },
    {
        "events", cmd_events,
        "yard events [--job J] [--nodes] [--pipelines] [--run R]\n"
        "            [--count N] [--json]",
        "Print job (node, pipeline) state changes live, as they happen",
        "\n"
        "The scheduler pushes an event for each state change once it is\n"
        "committed (no polling).  Each line: the time, the job, its old and\n"
        "new state, its attempt and node.  Runs until interrupted.\n"
        "\n"
        "options:\n"
        "  -j, --job J      only job J; stop once it ended\n"
        "  --nodes          node state changes too (UP, DOWN, LEAVING)\n"
        "  --pipelines      pipeline run and step state changes too:\n"
        "                   \"pipeline 3 step train completed\",\n"
        "                   \"pipeline 3 completed\"\n"
        "  --run R          only the changes of pipeline run R; stop once\n"
        "                   it ended\n"
        "  -c, --count N    stop after N events\n"
        "  --json           one JSON object per event: seq, time_ms, kind,\n"
        "                   job_id, state, old_state, attempt, node, reason\n"
        "                   (exit_code, end_reason once a job ended);\n"
        "                   kind pipeline: run_id, step (\"\" for the run),\n"
        "                   state, reason\n",
    },
    {
        "artifact", cmd_artifact,
        "yard artifact put [--json] PATH\n"
        "       yard artifact get [--json] DIGEST DEST\n"
        "       yard artifact stat [--json] DIGEST",
        "Store files and folders in the artifact store and fetch them back",
        "\n"
        "The store names content by its sha256 (the DIGEST, 64 hex digits):\n"
        "the same bytes always get the same digest, and storing what the\n"
        "store holds already sends nothing.  A folder is stored as a tree:\n"
        "its files with their relative paths and modes (symlinks and special\n"
        "files are refused; empty folders are not kept).\n"
        "\n"
        "put PATH     store a file or a folder; prints DIGEST SIZE KIND\n"
        "             (KIND: file, or tree of N files).  An upload that was\n"
        "             cut off (timeout, scheduler restart) continues from\n"
        "             where it stopped when the same put is made again.\n"
        "get DIGEST DEST  fetch it: a tree becomes the folder DEST, a file\n"
        "             the file DEST.  DEST must not exist; it appears only\n"
        "             once complete and checked against the digest.\n"
        "stat DIGEST  whether the store holds it, its kind and size; exits 1\n"
        "             when it does not.\n"
        "\n"
        "options:\n"
        "  --json           print {digest, kind, size, files, present, and\n"
        "                   sent_bytes (put) or received_bytes and path (get)}\n"
        "\n"
        "exit status: 0 done; 1 refused (no such artifact, DEST exists,\n"
        "content that does not match its digest, disk full); 2 usage; 3 no\n"
        "answer from the scheduler.\n",
    },
    {
        "checkpoints", cmd_checkpoints, "yard checkpoints [--json] JOB",
        "List a job's recorded checkpoints, newest first",
        "\n"
        "Workers that do not share a checkpoint root (yard-worker without\n"
        "--checkpoint-root) store each new checkpoint a job writes into\n"
        "$YARD_CHECKPOINT_DIR in the scheduler's artifact store (at once\n"
        "when the job announces it on its metrics channel:\n"
        "{\"checkpoint\":\"ckpt-100.pt\",\"step\":100}); the job's next\n"
        "attempt, on whichever node, starts from the newest.  The store\n"
        "keeps the newest N of each job ('yard submit --keep-checkpoints\n"
        "N', default 2), and so does the worker's disk.  Fetch one with\n"
        "'yard artifact get DIGEST DEST'.  With a shared root, the\n"
        "checkpoints a job announces are listed, without a digest.\n"
        "\n"
        "columns: STEP (announced, else the last number in the name, - when\n"
        "it has none), SIZE, TIME (when it was complete), ATTEMPT and NODE\n"
        "that wrote it, NAME in the checkpoint dir, DIGEST ('(shared root)'\n"
        "when not in the store).\n"
        "\n"
        "options:\n"
        "  --json           print an array of {step, attempt, name, digest,\n"
        "                   size, time_ms, time, node}\n",
    },
    {
        "help", cmd_help, "yard help [COMMAND]",
        "Show the help of yard or of one command",
        "",
    },
};

static const struct cli_cmd *
find_cmd (const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp (commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void
print_main_help (FILE *f)
{
    fprintf (f,
             "usage: yard [--scheduler EP] [--timeout DUR] [--json] COMMAND "
             "[ARGS...]\n"
             "\n"
             "Submit and manage jobs on a Trainyard scheduler.\n"
             "\n"
             "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf (f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf (f,
             "\n"
             "options:\n"
             "  --scheduler EP   the scheduler's client endpoint (default:\n"
             "                   $YARD_SCHEDULER, else %s)\n"
             "  --timeout DUR    how long to wait for the scheduler's answer\n"
             "                   (default 5s; e.g. 500ms, 10s, 1m)\n"
             "  --json           machine-readable output (also accepted after\n"
             "                   the command)\n"
             "  -h, --help       this help; 'yard COMMAND --help' for a "
             "command's\n"
             "  --version        print the version\n"
             "\n"
             "exit status:\n"
             "  0    success\n"
             "  1    the scheduler refused the request or reported an error\n"
             "       (no such job, invalid job spec); the message says why\n"
             "  2    usage error (unknown command or option, invalid value)\n"
             "  3    the scheduler could not be reached within the timeout\n"
             "  yard wait: the job's exit code, 128+N when killed by signal "
             "N,\n"
             "       124 TIMEOUT, 125 CANCELLED, 1 other failures, 4 when its\n"
             "       --timeout passed first\n",
             YARD_DEFAULT_SCHEDULER);
}

int
cli_run (int argc, char **argv, FILE *out, FILE *err)
{
    struct cli_global g;
    yard_error_t e = { 0 };
    struct cli_ctx ctx = { .g = &g, .out = out, .err = err };
    int rc;

    if (cli_parse_global (argc, argv, &g, &e) < 0) {
        fprintf (err, "yard: %s\n", e.text);
        return CLI_EXIT_USAGE;
    }
    if (g.version) {
        fprintf (out, "yard %s (libyard %s)\n", YARD_VERSION, yard_version ());
        return CLI_EXIT_OK;
    }
    if (g.help) {
        print_main_help (out);
        return CLI_EXIT_OK;
    }
    if (g.cmd_index >= argc) {
        fprintf (err, "yard: no command given\n");
        print_main_help (err);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[g.cmd_index];
    const struct cli_cmd *cmd = find_cmd (name);
    if (!cmd) {
        fprintf (err,
                 "yard: unknown command '%s': the commands are submit, "
                 "status, queue, nodes, cancel, logs, metrics, wait, watch, events, "
                 "artifact, checkpoints, pipeline, dataset, model, schedule, "
                 "trigger and help (see "
                 "'yard --help')\n",
                 name);
        return CLI_EXIT_USAGE;
    }
    rc = cmd->run (&ctx, cmd, argc - g.cmd_index, argv + g.cmd_index);
    yard_client_destroy (&ctx.client);
    if (fflush (out) != 0 && rc == CLI_EXIT_OK) {
        fprintf (err, "yard: cannot write the output: %s\n", strerror (errno));
        rc = CLI_EXIT_ERROR;
    }
    return rc;
}
