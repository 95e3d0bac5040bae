/* cli_many.c - `yard submit-many [FILE]`: many jobs in one exchange
 * (yard_submit_many), one per line, each line written as what follows
 * `yard submit`. */
#include "cli_many.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_commands.h"
#include "cli_render.h"

struct line_job {
    int lineno;
    char **words;         /* the line's words (cli_split_words), owned */
    char **argv;          /* "submit" and the words, owned array */
    struct cli_submit s;  /* borrows the words */
    char *error;          /* why it was not submitted, or NULL */
    int code;             /* errno of the refusal */
    uint64_t id;
};

struct batch {
    struct line_job *v;
    size_t n, cap;
};

static void
batch_free (struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        cli_submit_clear (&b->v[i].s);
        free (b->v[i].argv);
        free (b->v[i].words);
        free (b->v[i].error);
    }
    free (b->v);
}

static int
refuse (struct line_job *j, int code, const char *text)
{
    free (j->error);
    j->error = strdup (text);
    j->code = code;
    return j->error ? 0 : -ENOMEM;
}

/* Parse one line into a new entry of b (a refused one when it does not
 * parse).  0, or -ENOMEM. */
static int
add_line (struct batch *b, const char *line, int lineno)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct line_job *v = realloc (b->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        b->v = v;
        b->cap = cap;
    }
    struct line_job *j = &b->v[b->n++];
    memset (j, 0, sizeof *j);
    j->lineno = lineno;
    yard_error_t e = { 0 };
    int n;
    if (cli_split_words (line, &j->words, &n, &e) < 0)
        return e.code == ENOMEM ? -ENOMEM : refuse (j, EINVAL, e.text);
    /* "submit" in front, as cli_parse_submit expects it */
    if (!(j->argv = malloc ((size_t)(n + 2) * sizeof *j->argv)))
        return -ENOMEM;
    j->argv[0] = "submit";
    memcpy (j->argv + 1, j->words, (size_t)(n + 1) * sizeof *j->words);
    if (cli_parse_submit (n + 1, j->argv, &j->s, &e) < 0)
        return refuse (j, EINVAL, e.text);
    if (j->s.help || j->s.json)
        return refuse (j, EINVAL, "--help and --json are options of "
                                  "submit-many, not of its lines");
    return 0;
}

/* Read every line of in into b. */
static int
read_lines (FILE *in, struct batch *b)
{
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (rc == 0 && getline (&line, &cap, in) >= 0) {
        lineno++;
        const char *p = line + strspn (line, " \t\r\n");
        if (*p == '\0' || *p == '#')
            continue;
        rc = add_line (b, line, lineno);
    }
    if (rc == 0 && ferror (in))
        rc = errno ? -errno : -EIO;
    free (line);
    return rc;
}

static json_t *
result_json (const struct batch *b)
{
    json_t *a = json_array ();
    for (size_t i = 0; a && i < b->n; i++) {
        const struct line_job *j = &b->v[i];
        json_t *o = j->id ? json_pack ("{s:i,s:I}", "line", j->lineno, "id",
                                       (json_int_t)j->id)
                          : json_pack ("{s:i,s:s,s:i}", "line", j->lineno,
                                       "error", j->error ? j->error : "",
                                       "code", j->code);
        if (!o || json_array_append_new (a, o) < 0) {
            json_decref (a);
            return NULL;
        }
    }
    return a;
}

int
cli_submit_many_run (yard_client_t *c, const struct cli_submit_many *m,
                     bool json, FILE *out, FILE *err)
{
    struct batch b = { 0 };
    FILE *in = m->file ? fopen (m->file, "r") : stdin;
    if (!in) {
        fprintf (err, "yard: cannot open %s: %s\n", m->file, strerror (errno));
        return CLI_EXIT_USAGE;
    }
    int rc = read_lines (in, &b);
    if (in != stdin)
        fclose (in);
    if (rc < 0) {
        fprintf (err, "yard: cannot read %s: %s\n",
                 m->file ? m->file : "standard input", strerror (-rc));
        batch_free (&b);
        return CLI_EXIT_ERROR;
    }
    /* the lines that parsed, in order */
    size_t n = 0;
    yard_job_spec_t *specs = calloc (b.n ? b.n : 1, sizeof *specs);
    yard_submitted_t *res = calloc (b.n ? b.n : 1, sizeof *res);
    size_t *line_of = calloc (b.n ? b.n : 1, sizeof *line_of);
    if (!specs || !res || !line_of) {
        fprintf (err, "yard: out of memory\n");
        rc = CLI_EXIT_ERROR;
        goto out;
    }
    for (size_t i = 0; i < b.n; i++)
        if (!b.v[i].error) {
            line_of[n] = i;
            specs[n++] = b.v[i].s.spec;
        }
    int got = n ? yard_submit_many (c, specs, n, res) : 0;
    for (size_t k = 0; k < n; k++) {
        struct line_job *j = &b.v[line_of[k]];
        j->id = res[k].job_id;
        if (res[k].error < 0)
            (void)refuse (j, -res[k].error, res[k].message
                                                ? res[k].message
                                                : strerror (-res[k].error));
    }
    size_t refused = 0;
    for (size_t i = 0; i < b.n; i++)
        if (!b.v[i].id) {
            refused++;
            fprintf (err, "yard: line %d: %s\n", b.v[i].lineno,
                     b.v[i].error ? b.v[i].error : "not submitted");
        }
    if (got < 0) /* why the exchange failed */
        fprintf (err, "yard: %s\n", yard_client_errmsg (c));
    if (json) {
        json_t *j = result_json (&b);
        rc = j && cli_json_print (out, j, false) == 0 ? CLI_EXIT_OK
                                                      : CLI_EXIT_ERROR;
        if (!j)
            fprintf (err, "yard: out of memory\n");
        json_decref (j);
    } else {
        for (size_t i = 0; i < b.n; i++)
            if (b.v[i].id)
                fprintf (out, "%" PRIu64 "\n", b.v[i].id);
            else
                fputs ("-\n", out);
        rc = CLI_EXIT_OK;
    }
    if (got == -ETIMEDOUT)
        rc = CLI_EXIT_UNREACHABLE;
    else if (rc == CLI_EXIT_OK && (got < 0 || refused))
        rc = CLI_EXIT_ERROR;
out:
    yard_submitted_clear (res, n);
    free (res);
    free (line_of);
    free (specs);
    batch_free (&b);
    return rc;
}
