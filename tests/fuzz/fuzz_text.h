/* fuzz_text.h - the fuzz input as a C string, for the targets whose
 * parsers read NUL-terminated text. */
#ifndef YARD_FUZZ_TEXT_H
#define YARD_FUZZ_TEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A malloc'd copy of data[0..size) with a NUL after it (an embedded NUL
 * ends the text early, as it would for the parser); NULL when out of
 * memory. */
static inline char *
fuzz_text (const uint8_t *data, size_t size)
{
    char *s = malloc (size + 1);
    if (!s)
        return NULL;
    memcpy (s, data, size);
    s[size] = '\0';
    return s;
}

#endif
