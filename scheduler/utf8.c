/* utf8.c - UTF-8 validation and repair (see utf8.h). */
#include "utf8.h"

#include <stddef.h>

/* Length of the valid sequence at s, 0 when invalid.  The string is
 * NUL-terminated and NUL is never a continuation byte, so no read goes
 * past its end. */
static size_t
seq_len (const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong */
        unsigned char hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xf4 ? 0x8f : 0xbf; /* <= U+10FFFF */
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80
                       && (s[3] & 0xc0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

bool
yard_utf8_valid (const char *s)
{
    if (!s)
        return true;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = seq_len (p);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

char *
yard_utf8_sanitize (char *s)
{
    if (!s)
        return s;
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = seq_len (p);
        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
    return s;
}
