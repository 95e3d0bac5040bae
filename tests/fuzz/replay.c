/* replay.c - run a fuzz target over every file of its corpus, so the corpus
 * is replayed by ordinary test runs (SQLite's fuzzcheck idea).
 * Usage: replay DIR... ; exits non-zero if an input cannot be read. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
run_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        perror (path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc (buf, cap);
            if (!nb) {
                free (buf);
                fclose (f);
                return -1;
            }
            buf = nb;
        }
        size_t n = fread (buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose (f);
    LLVMFuzzerTestOneInput (buf, len);
    free (buf);
    return 0;
}

int
main (int argc, char **argv)
{
    int count = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir (argv[i]);
        if (!d) {
            perror (argv[i]);
            return 1;
        }
        struct dirent *de;
        while ((de = readdir (d))) {
            if (de->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf (path, sizeof path, "%s/%s", argv[i], de->d_name);
            if (run_file (path) < 0) {
                closedir (d);
                return 1;
            }
            count++;
        }
        closedir (d);
    }
    /* the empty input and a few edge cases, whatever the corpus holds */
    LLVMFuzzerTestOneInput ((const uint8_t *)"", 0);
    printf ("replayed %d inputs\n", count);
    return count > 0 ? 0 : 1;
}
