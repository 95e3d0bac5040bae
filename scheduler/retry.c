/* retry.c - the retry policy (see retry.h). */
#include "retry.h"

#include <errno.h>
#include <stddef.h>

int64_t
yard_retry_backoff_ms (const Yard__JobSpec *spec, uint32_t retries_used)
{
    int64_t base = spec && spec->retry_backoff_s
                       ? (int64_t)spec->retry_backoff_s
                       : YARD_RETRY_DEFAULT_BACKOFF_S;
    int64_t d = base;
    /* doubling past the cap would overflow long before 2^retries_used is
     * computed for a job with many retries: stop at the cap */
    for (uint32_t i = 0; i < retries_used && d < YARD_RETRY_MAX_BACKOFF_S;
         i++)
        d *= 2;
    if (d > YARD_RETRY_MAX_BACKOFF_S)
        d = YARD_RETRY_MAX_BACKOFF_S;
    return d * 1000;
}

bool
yard_retry_is_job_failure (Yard__EndReason why, int32_t exit_code)
{
    switch (why) {
    case YARD__END_REASON__END_EXITED: return exit_code != 0;
    case YARD__END_REASON__END_SIGNALED:
    case YARD__END_REASON__END_SPAWN_FAILED:
    case YARD__END_REASON__END_OOM: return true;
    default: return false;
    }
}

bool
yard_retry_exit_listed (const Yard__JobSpec *spec, int32_t exit_code)
{
    if (!spec)
        return false;
    for (size_t i = 0; i < spec->n_retry_exit_codes; i++)
        if (spec->retry_exit_codes[i] == exit_code)
            return true;
    return false;
}

yard_retry_verdict_t
yard_retry_decide (const Yard__JobSpec *spec, uint32_t retries_used,
                   bool cancel_requested, Yard__EndReason why,
                   int32_t exit_code)
{
    if (cancel_requested)
        return YARD_RETRY_NO;
    switch (why) {
    case YARD__END_REASON__END_LOST:
    case YARD__END_REASON__END_RETURNED: /* a successor that never ran */
    case YARD__END_REASON__END_PREEMPTED: return YARD_RETRY_FREE;
    case YARD__END_REASON__END_TIMEOUT:
        return spec && spec->requeue_on_timeout ? YARD_RETRY_FREE
                                                : YARD_RETRY_NO;
    default: break;
    }
    if (!yard_retry_is_job_failure (why, exit_code))
        return YARD_RETRY_NO;
    /* the listed codes are asked for by the job itself ("retry me"), so
     * they are honoured whatever the count; only exits carry a code */
    if (why == YARD__END_REASON__END_EXITED
        && yard_retry_exit_listed (spec, exit_code))
        return YARD_RETRY_COUNTED;
    if (spec && retries_used < spec->retries)
        return YARD_RETRY_COUNTED;
    return YARD_RETRY_NO;
}

int
yard_retry_spec_check (const Yard__JobSpec *spec, yard_error_t *err)
{
    if (spec->retries > YARD_RETRY_MAX_RETRIES)
        return yard_errorf (err, EINVAL, "retries %u is out of range: at "
                            "most %u", spec->retries, YARD_RETRY_MAX_RETRIES);
    if (spec->n_retry_exit_codes > YARD_RETRY_MAX_EXIT_CODES)
        return yard_errorf (err, EINVAL, "retry_exit_codes has %zu entries: "
                            "at most %u", spec->n_retry_exit_codes,
                            YARD_RETRY_MAX_EXIT_CODES);
    for (size_t i = 0; i < spec->n_retry_exit_codes; i++)
        if (spec->retry_exit_codes[i] < 1 || spec->retry_exit_codes[i] > 255)
            return yard_errorf (err, EINVAL, "retry exit code %d is out of "
                                "range: 1 to 255",
                                (int)spec->retry_exit_codes[i]);
    if (spec->retry_backoff_s > YARD_RETRY_MAX_BACKOFF_S)
        return yard_errorf (err, EINVAL, "retry_backoff_s %u is out of "
                            "range: at most %u", spec->retry_backoff_s,
                            YARD_RETRY_MAX_BACKOFF_S);
    if (spec->stop_signal < 0 || spec->stop_signal > 64)
        return yard_errorf (err, EINVAL, "stop_signal %d is not a signal "
                            "number (1 to 64)", (int)spec->stop_signal);
    if (spec->warn_signal < 0 || spec->warn_signal > 64)
        return yard_errorf (err, EINVAL, "warn_signal %d is not a signal "
                            "number (1 to 64)", (int)spec->warn_signal);
    if (spec->warn_signal && spec->time_limit_s == 0)
        return yard_errorf (err, EINVAL, "a warning signal needs a time "
                            "limit (--time) to be sent before");
    if (spec->warn_signal && spec->warn_seconds >= spec->time_limit_s)
        return yard_errorf (err, EINVAL, "the warning (%u s before the "
                            "limit) must come after the start: the time "
                            "limit is %llu s", spec->warn_seconds,
                            (unsigned long long)spec->time_limit_s);
    return 0;
}
