/* cpulist.c - "0-3,8" lists (see cpulist.h). */
#include "cpulist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One decimal number at *p, advancing p.  -EINVAL unless a digit is there,
 * -ERANGE past YARD_CPULIST_MAX. */
static long
number (const char **p)
{
    const char *s = *p;
    long v = 0;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v >= YARD_CPULIST_MAX)
            return -ERANGE;
    }
    *p = s;
    return v;
}

/* Walk the list; with set, mark (two passes: check, then mark, so a failed
 * call changes nothing). */
static int
walk (const char *text, bool *set, size_t n, long *top)
{
    const char *p = text;
    int count = 0;
    *top = -1;
    if (!p)
        return -EINVAL;
    while (*p) {
        long a = number (&p), b;
        if (a < 0)
            return (int)a;
        b = a;
        if (*p == '-') {
            p++;
            if ((b = number (&p)) < 0)
                return (int)b;
            if (b < a)
                return -EINVAL;
        }
        if (*p == ',') {
            p++;
            if (!*p)
                return -EINVAL;
        } else if (*p) {
            return -EINVAL;
        }
        if (b > *top)
            *top = b;
        if (n && (size_t)b >= n)
            return -ERANGE;
        for (long i = a; i <= b; i++)
            if (set && !set[i]) {
                set[i] = true;
                count++;
            } else if (!set) {
                count++;
            }
    }
    return count;
}

int
yard_cpulist_parse (const char *text, bool *set, size_t n)
{
    long top;
    int rc = walk (text, NULL, n ? n : 1, &top);
    if (rc < 0)
        return rc;
    if (n == 0)
        return rc == 0 ? 0 : -ERANGE;
    /* count distinct: indexes named twice count once */
    bool *seen = calloc (n, sizeof *seen);
    if (!seen)
        return -ENOMEM;
    rc = walk (text, seen, n, &top);
    for (size_t i = 0; i < n; i++)
        if (seen[i])
            set[i] = true;
    free (seen);
    return rc;
}

int
yard_cpulist_extent (const char *text)
{
    long top;
    int rc = walk (text, NULL, 0, &top);
    return rc < 0 ? rc : (int)(top + 1);
}

char *
yard_cpulist_format (const bool *set, size_t n)
{
    size_t cap = 16, len = 0;
    char *out = malloc (cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < n;) {
        if (!set[i]) {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < n && set[j + 1])
            j++;
        char item[48];
        int k = j == i ? snprintf (item, sizeof item, "%s%zu",
                                   len ? "," : "", i)
                       : snprintf (item, sizeof item, "%s%zu-%zu",
                                   len ? "," : "", i, j);
        if (len + (size_t)k + 1 > cap) {
            while (len + (size_t)k + 1 > cap)
                cap *= 2;
            char *v = realloc (out, cap);
            if (!v) {
                free (out);
                errno = ENOMEM;
                return NULL;
            }
            out = v;
        }
        memcpy (out + len, item, (size_t)k + 1);
        len += (size_t)k;
        i = j + 1;
    }
    return out;
}
