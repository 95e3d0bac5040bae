/* logship.c - log shipping offsets (see logship.h). */
#include "logship.h"

#include <errno.h>
#include <string.h>

void
logship_init (struct logship *ls)
{
    memset (ls, 0, sizeof *ls);
}

bool
logship_next (const struct logship *ls, uint64_t size, int64_t now_ms,
              uint64_t *off, size_t *len)
{
    if (ls->in_flight && now_ms - ls->sent_ms < LOGSHIP_ACK_TIMEOUT_MS)
        return false;
    if (size <= ls->acked)
        return false;
    uint64_t n = size - ls->acked;
    if (n > LOGSHIP_CHUNK_MAX)
        n = LOGSHIP_CHUNK_MAX;
    *off = ls->acked;
    *len = (size_t)n;
    return true;
}

void
logship_sent (struct logship *ls, uint64_t off, size_t len, int64_t now_ms)
{
    ls->in_flight = true;
    ls->sent_end = off + len;
    ls->sent_ms = now_ms;
}

int
logship_ack (struct logship *ls, uint64_t next_offset, uint64_t size)
{
    int rc = 0;
    if (next_offset > size) {
        next_offset = size;
        rc = -ERANGE;
    }
    ls->acked = next_offset;
    ls->in_flight = false;
    return rc;
}

void
logship_rewind (struct logship *ls)
{
    ls->in_flight = false;
}

bool
logship_complete (const struct logship *ls, uint64_t final_size)
{
    return !ls->in_flight && ls->acked >= final_size;
}
