/* error.h - user-facing errors: a code (errno value) and a sentence.
 *
 * Functions that can fail because of user input take an optional
 * caller-owned yard_error_t and fill it with text that says what went wrong
 * and what to do.  They return a negative errno, so the usual
 * `if ((rc = f (..., err)) < 0) return rc;` chains work.
 */
#ifndef YARD_ERROR_H
#define YARD_ERROR_H

#include <stdint.h>

typedef struct yard_error {
    int code;          /* positive errno value, 0 when no error */
    char text[512];
    uint64_t request_id; /* the wire request the error is about, 0: none
                          * (set by the codec for a version mismatch) */
} yard_error_t;

/* Fill err (may be NULL) and return -code. */
int yard_errorf (yard_error_t *err, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Clear err (may be NULL). */
void yard_error_clear (yard_error_t *err);

#endif
