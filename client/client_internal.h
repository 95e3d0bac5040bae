/* client_internal.h - knobs of yard_client_t that are not public API.
 *
 * They exist for tests, which cannot wait 30 s for a long poll to run out.
 */
#ifndef YARD_CLIENT_INTERNAL_H
#define YARD_CLIENT_INTERNAL_H

#include <stdint.h>

#include "yard/yard.h"

/* The longest single WaitRequest long poll yard_wait sends (default and
 * maximum 30 s).  Returns 0 or -EINVAL when ms is 0 or above the default. */
int yard__client_set_max_poll (yard_client_t *c, uint32_t ms);

#endif
