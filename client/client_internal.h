/* client_internal.h - knobs of yard_client_t that are not public API.
 *
 * They exist for tests, which cannot wait 30 s for a long poll to run out.
 */
#ifndef YARD_CLIENT_INTERNAL_H
#define YARD_CLIENT_INTERNAL_H

#include <stdint.h>

#include "msg.h"
#include "yard/yard.h"

/* The longest single WaitRequest long poll yard_wait sends (default and
 * maximum 30 s).  Returns 0 or -EINVAL when ms is 0 or above the default. */
int yard__client_set_max_poll (yard_client_t *c, uint32_t ms);

/* For calls outside client.c (metrics.c): send req, wait for a reply of
 * body type want (an ErrorReply becomes its -errno and errmsg); and set
 * errmsg, returning -code.  env types are msg.h's (protobuf), which the
 * public header never shows. */
int yard__client_call (yard_client_t *c, yard_env_t *req, int want,
                       yard_env_t **reply);
int yard__client_fail (yard_client_t *c, int code, const char *msg);

#endif
