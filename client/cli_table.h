/* cli_table.h - aligned text tables for the yard CLI.
 *
 * Rows are collected first and printed at the end, so each column is as
 * wide as its widest cell.  Cells are copied; control characters in them
 * (a newline in a reason, an escape sequence in a job name) are replaced so
 * that one cell can neither break the table nor drive the terminal.
 */
#ifndef YARD_CLI_TABLE_H
#define YARD_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct cli_table cli_table_t;

/* A table with ncols columns named by headers (copied).  Returns NULL with
 * errno set (EINVAL when ncols is 0, ENOMEM). */
cli_table_t *cli_table_create (size_t ncols, const char *const *headers);

/* Accepts NULL; sets *t to NULL. */
void cli_table_destroy (cli_table_t **t);

/* Right-align column col (numbers).  Returns 0 or -EINVAL. */
int cli_table_align_right (cli_table_t *t, size_t col);

/* Append a row of ncols cells (copied; NULL prints as "-").  Returns 0 or
 * -ENOMEM. */
int cli_table_add_row (cli_table_t *t, const char *const *cells);

size_t cli_table_rows (const cli_table_t *t);

/* Print the header and the rows: columns two spaces apart, the last column
 * not padded (no trailing blanks).  Returns 0 or -EIO. */
int cli_table_print (const cli_table_t *t, FILE *out);

/* Display width of s: its UTF-8 code points (wide characters count one). */
size_t cli_text_width (const char *s);

/* A copy of s, at most max bytes of it, with control characters replaced by
 * '?' (tabs and newlines by spaces).  Returns NULL on ENOMEM. */
char *cli_text_clean (const char *s, size_t max);

#endif
