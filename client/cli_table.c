/* cli_table.c - see cli_table.h. */
#include "cli_table.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define COL_GAP 2

struct cli_table {
    size_t ncols;
    char **headers;
    bool *right;
    char **cells;   /* rows * ncols, row-major */
    size_t rows;
    size_t cap;     /* rows the cells array holds */
};

size_t
cli_text_width (const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        if ((*p & 0xC0) != 0x80) /* not a continuation byte */
            w++;
    return w;
}

char *
cli_text_clean (const char *s, size_t max)
{
    if (!s)
        s = "";
    size_t n = strnlen (s, max);
    char *out = malloc (n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || c == '\n' || c == '\r')
            out[i] = ' ';
        else if (c < 0x20 || c == 0x7f)
            out[i] = '?';
        else
            out[i] = (char)c;
    }
    out[n] = '\0';
    return out;
}

cli_table_t *
cli_table_create (size_t ncols, const char *const *headers)
{
    if (ncols == 0 || !headers) {
        errno = EINVAL;
        return NULL;
    }
    cli_table_t *t = calloc (1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    if (!(t->headers = calloc (ncols, sizeof *t->headers))
        || !(t->right = calloc (ncols, sizeof *t->right)))
        goto error;
    for (size_t i = 0; i < ncols; i++)
        if (!(t->headers[i] = cli_text_clean (headers[i], SIZE_MAX)))
            goto error;
    return t;
error:
    cli_table_destroy (&t);
    errno = ENOMEM;
    return NULL;
}

void
cli_table_destroy (cli_table_t **tp)
{
    if (!tp || !*tp)
        return;
    cli_table_t *t = *tp;
    for (size_t i = 0; t->headers && i < t->ncols; i++)
        free (t->headers[i]);
    for (size_t i = 0; t->cells && i < t->rows * t->ncols; i++)
        free (t->cells[i]);
    free (t->headers);
    free (t->right);
    free (t->cells);
    free (t);
    *tp = NULL;
}

int
cli_table_align_right (cli_table_t *t, size_t col)
{
    if (!t || col >= t->ncols)
        return -EINVAL;
    t->right[col] = true;
    return 0;
}

int
cli_table_add_row (cli_table_t *t, const char *const *cells)
{
    if (!t || !cells)
        return -EINVAL;
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **c = realloc (t->cells, cap * t->ncols * sizeof *c);
        if (!c)
            return -ENOMEM;
        t->cells = c;
        t->cap = cap;
    }
    char **row = &t->cells[t->rows * t->ncols];
    for (size_t i = 0; i < t->ncols; i++) {
        if (!(row[i] = cli_text_clean (cells[i] ? cells[i] : "-", SIZE_MAX))) {
            while (i-- > 0)
                free (row[i]);
            return -ENOMEM;
        }
    }
    t->rows++;
    return 0;
}

size_t
cli_table_rows (const cli_table_t *t)
{
    return t ? t->rows : 0;
}

static void
pad (FILE *out, size_t n)
{
    while (n-- > 0)
        fputc (' ', out);
}

/* One line, without trailing blanks even when the last cells are empty. */
static int
print_row (const cli_table_t *t, char *const *row, const size_t *width,
           FILE *out)
{
    char *line = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&line, &size);
    if (!f)
        return -ENOMEM;
    for (size_t c = 0; c < t->ncols; c++) {
        size_t w = cli_text_width (row[c]);
        bool last = c + 1 == t->ncols;
        if (t->right[c])
            pad (f, width[c] - w);
        fputs (row[c], f);
        if (!last && !t->right[c])
            pad (f, width[c] - w);
        if (!last)
            pad (f, COL_GAP);
    }
    if (fclose (f) != 0) {
        free (line);
        return -ENOMEM;
    }
    while (size > 0 && line[size - 1] == ' ')
        size--;
    fwrite (line, 1, size, out);
    fputc ('\n', out);
    free (line);
    return 0;
}

int
cli_table_print (const cli_table_t *t, FILE *out)
{
    if (!t || !out)
        return -EINVAL;
    size_t *width = calloc (t->ncols, sizeof *width);
    if (!width)
        return -ENOMEM;
    for (size_t c = 0; c < t->ncols; c++) {
        width[c] = cli_text_width (t->headers[c]);
        for (size_t r = 0; r < t->rows; r++) {
            size_t w = cli_text_width (t->cells[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    }
    int rc = print_row (t, t->headers, width, out);
    for (size_t r = 0; r < t->rows && rc == 0; r++)
        rc = print_row (t, &t->cells[r * t->ncols], width, out);
    free (width);
    if (rc == 0 && ferror (out))
        rc = -EIO;
    return rc;
}
