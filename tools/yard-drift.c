/* yard-drift - compare a current CSV data set with the reference it was
 * trained on, column by column, and report drift as job metrics.
 *
 * For every numeric column (every non-empty value of the reference parses
 * as a number; --columns picks some) it computes the population stability
 * index (10 decile bins of the reference) and the two-sample
 * Kolmogorov-Smirnov statistic (tools/drift.h), prints a table, and, when
 * YARD_METRICS_FD is set (inside a yard job), writes one metrics line
 *   {"psi.COL": .., "ks.COL": .., "psi_max": .., "ks_max": ..}
 * Exit status: 0 no drift (or no --threshold), 3 psi_max above
 * --threshold, 2 bad usage or unreadable input.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drift.h"

#define EXIT_DRIFT 3
#define EXIT_USAGE 2

typedef struct column {
    char *name;
    double *v;
    size_t n, cap;
    bool numeric;  /* no non-empty value failed to parse */
} column_t;

typedef struct table {
    column_t *col;
    size_t ncol;
} table_t;

static void
usage (FILE *f)
{
    fprintf (f,
             "Usage: yard-drift --reference CSV --current CSV [--threshold "
             "PSI] [--columns a,b]\n"
             "\n"
             "Compare the numeric columns of CURRENT with REFERENCE (both "
             "CSV with a header\n"
             "row): population stability index over 10 decile bins of the "
             "reference, and\n"
             "the two-sample Kolmogorov-Smirnov statistic.  Inside a yard "
             "job the values are\n"
             "written as metrics psi.COL, ks.COL, psi_max and ks_max.\n"
             "\n"
             "  -r, --reference CSV   the data set the model was trained on\n"
             "  -c, --current CSV     the data set to check\n"
             "  -t, --threshold PSI   exit 3 when psi_max is above PSI "
             "(0.2 is a common\n"
             "                        rule of thumb for a significant "
             "shift)\n"
             "  -C, --columns a,b     only these columns (default: every "
             "numeric one)\n"
             "  -h, --help            this text\n"
             "\n"
             "Exit status: 0 no drift above the threshold (or none given), "
             "3 drift above\n"
             "the threshold, 2 bad usage or unreadable input.\n");
}

/* Split one CSV line in place into fields (double quotes understood, no
 * embedded newlines).  Returns the count, at most max. */
static size_t
split_csv (char *line, char **field, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return n;
        if (*p == '"') {
            char *w = ++p;
            field[n++] = w;
            while (*p) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            while (*p && *p != ',')
                p++;
            char *end = p;
            *w = '\0';
            if (!*end)
                return n;
            p = end + 1;
        } else {
            field[n++] = p;
            char *comma = strchr (p, ',');
            if (!comma)
                return n;
            *comma = '\0';
            p = comma + 1;
        }
    }
}

static void
table_free (table_t *t)
{
    for (size_t i = 0; i < t->ncol; i++) {
        free (t->col[i].name);
        free (t->col[i].v);
    }
    free (t->col);
    t->col = NULL;
    t->ncol = 0;
}

static int
push (column_t *c, double x)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        double *v = realloc (c->v, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = x;
    return 0;
}

#define MAX_COLS 4096

static int
read_csv (const char *path, table_t *t)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        fprintf (stderr, "yard-drift: cannot open %s: %s\n", path,
                 strerror (errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    char **field = calloc (MAX_COLS, sizeof *field);
    int rc = -1;
    if (!field)
        goto out;
    if ((len = getline (&line, &cap, f)) < 0) {
        fprintf (stderr, "yard-drift: %s is empty (a header row is needed)\n",
                 path);
        goto out;
    }
    line[strcspn (line, "\r\n")] = '\0';
    size_t n = split_csv (line, field, MAX_COLS);
    if (!(t->col = calloc (n, sizeof t->col[0])))
        goto out;
    t->ncol = n;
    for (size_t i = 0; i < n; i++) {
        t->col[i].numeric = true;
        if (!(t->col[i].name = strdup (field[i])))
            goto out;
    }
    size_t lineno = 1;
    while ((len = getline (&line, &cap, f)) >= 0) {
        lineno++;
        line[strcspn (line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        size_t m = split_csv (line, field, MAX_COLS);
        for (size_t i = 0; i < m && i < t->ncol; i++) {
            const char *s = field[i];
            while (*s == ' ')
                s++;
            if (!*s)
                continue; /* a missing value */
            char *end;
            errno = 0;
            double x = strtod (s, &end);
            while (*end == ' ')
                end++;
            if (*end || errno == ERANGE || !isfinite (x)) {
                t->col[i].numeric = false;
                continue;
            }
            if (push (&t->col[i], x) < 0)
                goto out;
        }
    }
    if (ferror (f)) {
        fprintf (stderr, "yard-drift: cannot read %s: %s\n", path,
                 strerror (errno));
        goto out;
    }
    rc = 0;
out:
    if (rc < 0 && errno == ENOMEM)
        fprintf (stderr, "yard-drift: out of memory reading %s\n", path);
    free (field);
    free (line);
    fclose (f);
    return rc;
}

static column_t *
find_col (table_t *t, const char *name)
{
    for (size_t i = 0; i < t->ncol; i++)
        if (strcmp (t->col[i].name, name) == 0)
            return &t->col[i];
    return NULL;
}

static bool
wanted (const char *columns, const char *name)
{
    if (!columns)
        return true;
    size_t n = strlen (name);
    for (const char *p = columns; *p;) {
        size_t k = strcspn (p, ",");
        if (k == n && strncmp (p, name, n) == 0)
            return true;
        p += k;
        if (*p == ',')
            p++;
    }
    return false;
}

int
main (int argc, char **argv)
{
    const char *ref_path = NULL, *cur_path = NULL, *columns = NULL;
    double threshold = NAN;
    static const struct option opts[] = {
        {"reference", required_argument, NULL, 'r'},
        {"current", required_argument, NULL, 'c'},
        {"threshold", required_argument, NULL, 't'},
        {"columns", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long (argc, argv, "r:c:t:C:h", opts, NULL)) != -1) {
        switch (o) {
        case 'r': ref_path = optarg; break;
        case 'c': cur_path = optarg; break;
        case 'C': columns = optarg; break;
        case 't': {
            char *end;
            threshold = strtod (optarg, &end);
            if (*end || !isfinite (threshold) || threshold < 0) {
                fprintf (stderr, "yard-drift: --threshold wants a number >= "
                                 "0, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case 'h': usage (stdout); return 0;
        default: usage (stderr); return EXIT_USAGE;
        }
    }
    if (!ref_path || !cur_path || optind != argc) {
        fprintf (stderr, "yard-drift: --reference and --current are needed "
                         "(and nothing else)\n");
        usage (stderr);
        return EXIT_USAGE;
    }
    table_t ref = {0}, cur = {0};
    int status = EXIT_USAGE;
    json_t *m = json_object ();
    if (!m || read_csv (ref_path, &ref) < 0 || read_csv (cur_path, &cur) < 0)
        goto out;
    if (columns) {
        for (const char *p = columns; *p;) {
            size_t k = strcspn (p, ",");
            char name[256];
            snprintf (name, sizeof name, "%.*s", (int)k, p);
            column_t *rc = find_col (&ref, name);
            if (!rc || !rc->numeric || !find_col (&cur, name)) {
                fprintf (stderr, "yard-drift: column '%s' is not a numeric "
                                 "column of both files\n", name);
                goto out;
            }
            p += k;
            if (*p == ',')
                p++;
        }
    }
    double psi_max = 0, ks_max = 0;
    size_t compared = 0;
    printf ("%-24s %10s %10s %10s %10s\n", "COLUMN", "PSI", "KS", "REF_N",
            "CUR_N");
    for (size_t i = 0; i < ref.ncol; i++) {
        column_t *r = &ref.col[i];
        if (!r->numeric || r->n == 0 || !wanted (columns, r->name))
            continue;
        column_t *c = find_col (&cur, r->name);
        if (!c || c->n == 0) {
            fprintf (stderr, "yard-drift: column '%s' has no values in %s\n",
                     r->name, cur_path);
            goto out;
        }
        double psi = yard_drift_psi (r->v, r->n, c->v, c->n);
        double ks = yard_drift_ks (r->v, r->n, c->v, c->n);
        printf ("%-24s %10.4f %10.4f %10zu %10zu\n", r->name, psi, ks, r->n,
                c->n);
        char key[300];
        snprintf (key, sizeof key, "psi.%s", r->name);
        json_object_set_new (m, key, json_real (psi));
        snprintf (key, sizeof key, "ks.%s", r->name);
        json_object_set_new (m, key, json_real (ks));
        if (psi > psi_max)
            psi_max = psi;
        if (ks > ks_max)
            ks_max = ks;
        compared++;
    }
    if (compared == 0) {
        fprintf (stderr, "yard-drift: no numeric column to compare\n");
        goto out;
    }
    json_object_set_new (m, "psi_max", json_real (psi_max));
    json_object_set_new (m, "ks_max", json_real (ks_max));
    printf ("psi_max %.4f ks_max %.4f", psi_max, ks_max);
    bool drift = !isnan (threshold) && psi_max > threshold;
    if (!isnan (threshold))
        printf (" threshold %.4f: %s", threshold,
                drift ? "DRIFT" : "no drift");
    printf ("\n");
    fflush (stdout);
    const char *fd_s = getenv ("YARD_METRICS_FD");
    if (fd_s && *fd_s) {
        char *end;
        long fd = strtol (fd_s, &end, 10);
        char *text = json_dumps (m, JSON_COMPACT | JSON_SORT_KEYS);
        if (*end || fd < 0 || !text) {
            fprintf (stderr, "yard-drift: cannot write metrics to "
                             "YARD_METRICS_FD=%s\n", fd_s);
        } else {
            size_t len = strlen (text);
            text[len] = '\n';
            const char *p = text;
            size_t left = len + 1;
            while (left > 0) {
                ssize_t w = write ((int)fd, p, left);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {
                    fprintf (stderr, "yard-drift: writing metrics: %s\n",
                             strerror (errno));
                    break;
                }
                p += w;
                left -= (size_t)w;
            }
        }
        free (text);
    }
    status = drift ? EXIT_DRIFT : 0;
out:
    json_decref (m);
    table_free (&ref);
    table_free (&cur);
    return status;
}
