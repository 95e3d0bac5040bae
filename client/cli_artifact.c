/* cli_artifact.c - `yard artifact` (see cli_artifact.h). */
#include "cli_artifact.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_render.h"
#include "cli_table.h"
#include "digest.h"
#include "util.h"

static const struct {
    const char *word;
    enum cli_artifact_verb verb;
    int operands;
} verbs[] = {
    { "put", CLI_ARTIFACT_PUT, 1 },
    { "get", CLI_ARTIFACT_GET, 2 },
    { "stat", CLI_ARTIFACT_STAT, 1 },
};

int
cli_parse_artifact (int argc, char **argv, struct cli_artifact *a,
                    yard_error_t *err)
{
    const char *ops[2] = { NULL, NULL };
    int nops = 0, want = 0;
    bool dashdash = false;

    memset (a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (!dashdash && strcmp (w, "--") == 0) {
            dashdash = true;
            continue;
        }
        if (!dashdash && w[0] == '-' && w[1] != '\0') {
            if (strcmp (w, "--json") == 0)
                a->json = true;
            else if (strcmp (w, "-h") == 0 || strcmp (w, "--help") == 0)
                a->help = true;
            else
                return yard_errorf (err, EINVAL,
                                    "unknown option '%s' for 'yard "
                                    "artifact' (see 'yard artifact --help')",
                                    w);
            continue;
        }
        if (a->verb == 0) {
            for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++)
                if (strcmp (w, verbs[v].word) == 0) {
                    a->verb = verbs[v].verb;
                    want = verbs[v].operands;
                }
            if (a->verb == 0)
                return yard_errorf (err, EINVAL,
                                    "unknown artifact command '%s': use put, "
                                    "get or stat",
                                    w);
            continue;
        }
        if (nops >= want)
            return yard_errorf (err, EINVAL,
                                "too many arguments for 'yard artifact %s' "
                                "('%s')",
                                verbs[a->verb - 1].word, w);
        ops[nops++] = w;
    }
    if (a->help)
        return 0;
    if (a->verb == 0)
        return yard_errorf (err, EINVAL,
                            "'yard artifact' needs a command: put, get or "
                            "stat");
    if (nops < want)
        return yard_errorf (err, EINVAL, "%s",
                            a->verb == CLI_ARTIFACT_PUT
                                ? "'yard artifact put' needs the PATH of a "
                                  "file or folder"
                            : a->verb == CLI_ARTIFACT_GET
                                ? "'yard artifact get' needs a DIGEST and a "
                                  "DEST that does not exist yet"
                                : "'yard artifact stat' needs a DIGEST");
    if (a->verb == CLI_ARTIFACT_PUT) {
        a->path = ops[0];
    } else {
        a->digest = ops[0];
        a->path = ops[1];
    }
    if (a->digest && !yard_digest_valid (a->digest))
        return yard_errorf (err, EINVAL,
                            "'%s' is not an artifact digest: a digest is the "
                            "64 lowercase hex digits that 'yard artifact put' "
                            "printed",
                            a->digest);
    return 0;
}

json_t *
cli_artifact_json (const struct cli_artifact *a, const yard_artifact_t *art)
{
    bool absent = a->verb == CLI_ARTIFACT_STAT && !art->present;
    json_t *o = json_pack ("{s:s,s:s?,s:I,s:I,s:b}", "digest", art->digest,
                           "kind",
                           absent ? NULL : art->is_tree ? "tree" : "file",
                           "size",
                           (json_int_t)art->size, "files",
                           (json_int_t)art->files, "present", art->present);
    if (!o)
        return NULL;
    int rc = 0;
    if (a->verb == CLI_ARTIFACT_PUT)
        rc = json_object_set_new (o, "sent_bytes",
                                  json_integer ((json_int_t)art->sent_bytes));
    else if (a->verb == CLI_ARTIFACT_GET)
        rc = json_object_set_new (o, "received_bytes",
                                  json_integer ((json_int_t)art->sent_bytes))
             || json_object_set_new (o, "path", json_string (a->path));
    else if (!art->present)
        rc = json_object_set_new (o, "partial",
                                  json_integer ((json_int_t)art->partial));
    if (rc) {
        json_decref (o);
        return NULL;
    }
    return o;
}

int
cli_print_artifact (FILE *out, const struct cli_artifact *a,
                    const yard_artifact_t *art)
{
    char sz[32];
    yard_format_size (art->size, sz, sizeof sz);
    if (a->verb == CLI_ARTIFACT_STAT && !art->present) {
        fprintf (out, "%s  absent", art->digest);
        if (art->partial)
            fprintf (out, " (an unfinished upload holds %" PRIu64 " bytes)",
                     art->partial);
        fputc ('\n', out);
    } else if (art->is_tree) {
        fprintf (out, "%s  %s  tree of %" PRIu64 " file%s\n", art->digest, sz,
                 art->files, art->files == 1 ? "" : "s");
    } else {
        fprintf (out, "%s  %s  file\n", art->digest, sz);
    }
    return ferror (out) ? -EIO : 0;
}

bool
cli_outputs_json (json_t *o, const yard_attempt_t *a)
{
    json_t *arr = json_array ();
    if (!arr)
        return false;
    for (size_t i = 0; i < a->n_outputs; i++) {
        json_t *j = json_pack ("{s:s,s:s,s:I}", "name", a->outputs[i].name,
                               "digest", a->outputs[i].digest, "size",
                               (json_int_t)a->outputs[i].size);
        if (!j || json_array_append_new (arr, j) < 0) {
            json_decref (arr);
            return false;
        }
    }
    return json_object_set_new (o, "outputs", arr) == 0;
}

int
cli_print_outputs (FILE *out, const yard_job_t *job)
{
    bool first = true;
    for (size_t i = 0; i < job->n_attempts; i++) {
        const yard_attempt_t *a = &job->attempts[i];
        for (size_t k = 0; k < a->n_outputs; k++) {
            char sz[32];
            yard_format_size (a->outputs[k].size, sz, sizeof sz);
            fprintf (out, "%-12s attempt %u  %s  %s  %s\n",
                     first ? "outputs:" : "", a->attempt,
                     a->outputs[k].name, a->outputs[k].digest, sz);
            first = false;
        }
    }
    return ferror (out) ? -EIO : 0;
}

int
cli_artifact_run (yard_client_t *c, const struct cli_artifact *a, bool json,
                  FILE *out, FILE *err)
{
    yard_artifact_t art;
    int rc;

    switch (a->verb) {
    case CLI_ARTIFACT_PUT:
        rc = yard_artifact_put (c, a->path, &art);
        break;
    case CLI_ARTIFACT_GET:
        rc = yard_artifact_get (c, a->digest, a->path, &art);
        break;
    default:
        rc = yard_artifact_stat (c, a->digest, &art);
        break;
    }
    if (rc < 0) {
        fprintf (err, "yard: %s\n", yard_client_errmsg (c));
        return rc == -ETIMEDOUT ? CLI_EXIT_UNREACHABLE : CLI_EXIT_ERROR;
    }
    if (json) {
        json_t *j = cli_artifact_json (a, &art);
        if (!j) {
            fprintf (err, "yard: out of memory\n");
            return CLI_EXIT_ERROR;
        }
        rc = cli_json_print (out, j, false);
        json_decref (j);
    } else {
        rc = cli_print_artifact (out, a, &art);
    }
    if (rc < 0)
        return CLI_EXIT_ERROR;
    /* stat of an artifact the store does not hold: say so in the status */
    return a->verb == CLI_ARTIFACT_STAT && !art.present ? CLI_EXIT_ERROR
                                                        : CLI_EXIT_OK;
}

/* ---- yard checkpoints ---- */

int
cli_parse_checkpoints (int argc, char **argv, struct cli_checkpoints *a,
                       yard_error_t *err)
{
    bool have = false;
    memset (a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (strcmp (w, "--json") == 0) {
            a->json = true;
        } else if (strcmp (w, "-h") == 0 || strcmp (w, "--help") == 0) {
            a->help = true;
        } else if (w[0] == '-') {
            return yard_errorf (err, EINVAL,
                                "unknown option '%s' for 'yard checkpoints' "
                                "(see 'yard checkpoints --help')",
                                w);
        } else if (have) {
            return yard_errorf (err, EINVAL,
                                "'yard checkpoints' takes one job id");
        } else if (yard_parse_u64 (w, &a->job_id) < 0 || a->job_id == 0) {
            return yard_errorf (err, EINVAL,
                                "'%s' is not a job id (a number such as 42)",
                                w);
        } else {
            have = true;
        }
    }
    if (!a->help && !have)
        return yard_errorf (err, EINVAL, "'yard checkpoints' needs a job id");
    return 0;
}

int
cli_print_checkpoints (FILE *out, const yard_checkpoint_t *v, size_t n)
{
    if (n == 0) {
        fprintf (out, "no checkpoints recorded (on workers that share a "
                      "checkpoint root, only those a job announces on its "
                      "metrics channel are)\n");
        return ferror (out) ? -EIO : 0;
    }
    static const char *const hdr[] = { "STEP", "SIZE", "TIME", "ATTEMPT",
                                       "NODE", "NAME", "DIGEST" };
    cli_table_t *t = cli_table_create (7, hdr);
    if (!t)
        return -ENOMEM;
    (void)cli_table_align_right (t, 0);
    (void)cli_table_align_right (t, 1);
    (void)cli_table_align_right (t, 3);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char step[24], size[32], when[48], att[16];
        if (v[i].step >= 0)
            snprintf (step, sizeof step, "%" PRId64, v[i].step);
        else
            snprintf (step, sizeof step, "-");
        yard_format_size (v[i].size, size, sizeof size);
        cli_time_local (v[i].time_ms, when, sizeof when);
        snprintf (att, sizeof att, "%u", v[i].attempt);
        /* no digest: on a shared checkpoint root, not in the store */
        const char *cells[] = { step, size, when, att, v[i].node, v[i].name,
                                *v[i].digest ? v[i].digest
                                                            : "(shared root)" };
        rc = cli_table_add_row (t, cells);
    }
    if (rc == 0)
        rc = cli_table_print (t, out);
    cli_table_destroy (&t);
    return rc < 0 ? rc : (ferror (out) ? -EIO : 0);
}

json_t *
cli_checkpoints_json (const yard_checkpoint_t *v, size_t n)
{
    json_t *arr = json_array ();
    for (size_t i = 0; arr && i < n; i++) {
        char iso[48];
        json_t *o = json_pack ("{s:I,s:I,s:s,s:s,s:I,s:I,s:s,s:s}", "step",
                               (json_int_t)v[i].step, "attempt",
                               (json_int_t)v[i].attempt, "name", v[i].name,
                               "digest", v[i].digest, "size",
                               (json_int_t)v[i].size, "time_ms",
                               (json_int_t)v[i].time_ms, "time",
                               cli_time_iso (v[i].time_ms, iso, sizeof iso),
                               "node", v[i].node);
        if (!o || json_array_append_new (arr, o) < 0) {
            json_decref (arr);
            return NULL;
        }
    }
    return arr;
}

int
cli_checkpoints_run (yard_client_t *c, const struct cli_checkpoints *a,
                     bool json, FILE *out, FILE *err)
{
    yard_checkpoint_t *v = NULL;
    size_t n = 0;
    int rc = yard_checkpoints (c, a->job_id, &v, &n);
    if (rc < 0) {
        fprintf (err, "yard: %s\n", yard_client_errmsg (c));
        return rc == -ETIMEDOUT ? CLI_EXIT_UNREACHABLE : CLI_EXIT_ERROR;
    }
    if (json) {
        json_t *j = cli_checkpoints_json (v, n);
        rc = j ? cli_json_print (out, j, false) : -ENOMEM;
        json_decref (j);
    } else {
        rc = cli_print_checkpoints (out, v, n);
    }
    yard_checkpoints_free (&v, n);
    return rc < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
