/* utf8.h - UTF-8 checks for text that goes back on the wire.
 *
 * proto3 `string` fields must hold valid UTF-8, and strict decoders (the
 * Python client) refuse a whole message when one does not.  protobuf-c
 * does not check, so a single bad byte in a job name would make `yard
 * queue` fail for every Python user.  The scheduler therefore refuses
 * invalid UTF-8 where it can say no (job specs, worker identities) and
 * repairs free text it must accept (a worker's end message) or builds
 * itself by truncation.
 */
#ifndef YARD_SCHED_UTF8_H
#define YARD_SCHED_UTF8_H

#include <stdbool.h>

/* True when s (NUL-terminated, may be NULL) is valid UTF-8: no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
bool yard_utf8_valid (const char *s);

/* Replace, in place, every byte that does not belong to a valid sequence
 * with '?' (a sequence cut by truncation included).  Returns s. */
char *yard_utf8_sanitize (char *s);

#endif
