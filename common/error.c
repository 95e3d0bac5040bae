/* error.c - see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int
yard_errorf (yard_error_t *err, int code, const char *fmt, ...)
{
    if (code < 0)
        code = -code;
    if (err) {
        va_list ap;
        va_start (ap, fmt);
        err->code = code;
        err->request_id = 0;
        vsnprintf (err->text, sizeof err->text, fmt, ap);
        va_end (ap);
    }
    return -code;
}

void
yard_error_clear (yard_error_t *err)
{
    if (err) {
        err->code = 0;
        err->text[0] = '\0';
        err->request_id = 0;
    }
}
