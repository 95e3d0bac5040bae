/* log.h - the one logging API of the daemons.
 *
 * Levels are syslog's.  The level is checked before the arguments are
 * formatted, so a debug line in a hot path costs one comparison.  In the
 * foreground lines go to stderr with a timestamp; as a service (--syslog)
 * they go to syslog, which journald picks up.  Libraries (libyard) never log.
 */
#ifndef YARD_LOG_H
#define YARD_LOG_H

#include <stdbool.h>
#include <syslog.h>

extern int yard__log_level;

/* Set the program name shown in each line, the maximum level printed, and
 * whether lines go to syslog instead of stderr. */
void yard_log_init (const char *ident, int level, bool use_syslog);

/* Parse "err", "warning", "notice", "info", "debug" (or 0-7).  Returns the
 * level or -1. */
int yard_log_level_parse (const char *s);

void yard_log_write (int level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define yard_log(level, ...)                                              \
    do {                                                                  \
        if ((level) <= yard__log_level)                                   \
            yard_log_write ((level), __VA_ARGS__);                        \
    } while (0)

#define log_err(...) yard_log (LOG_ERR, __VA_ARGS__)
#define log_warn(...) yard_log (LOG_WARNING, __VA_ARGS__)
#define log_notice(...) yard_log (LOG_NOTICE, __VA_ARGS__)
#define log_info(...) yard_log (LOG_INFO, __VA_ARGS__)
#define log_debug(...) yard_log (LOG_DEBUG, __VA_ARGS__)

#endif
