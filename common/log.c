/* log.c - stderr/syslog logging with a cheap level check (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int yard__log_level = LOG_INFO;
static const char *log_ident = "yard";
static bool log_syslog;

static const char *level_names[] = {"emerg", "alert", "crit", "err",
                                    "warning", "notice", "info", "debug"};

void
yard_log_init (const char *ident, int level, bool use_syslog)
{
    log_ident = ident ? ident : "yard";
    if (level >= 0 && level <= LOG_DEBUG)
        yard__log_level = level;
    log_syslog = use_syslog;
    if (use_syslog)
        openlog (log_ident, LOG_PID, LOG_DAEMON);
}

int
yard_log_level_parse (const char *s)
{
    if (!s || !*s)
        return -1;
    if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
        return s[0] - '0';
    for (int i = 0; i <= LOG_DEBUG; i++)
        if (strcmp (s, level_names[i]) == 0)
            return i;
    if (strcmp (s, "error") == 0)
        return LOG_ERR;
    if (strcmp (s, "warn") == 0)
        return LOG_WARNING;
    return -1;
}

void
yard_log_write (int level, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    if (log_syslog) {
        vsyslog (level, fmt, ap);
    } else {
        char line[4096];
        struct timespec ts;
        struct tm tm;
        clock_gettime (CLOCK_REALTIME, &ts);
        gmtime_r (&ts.tv_sec, &tm);
        int n = snprintf (line, sizeof line,
                          "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: ",
                          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                          tm.tm_hour, tm.tm_min, tm.tm_sec,
                          ts.tv_nsec / 1000000, log_ident, (int)getpid (),
                          level_names[level & 7]);
        if (n < 0)
            n = 0;
        if ((size_t)n < sizeof line)
            vsnprintf (line + n, sizeof line - (size_t)n, fmt, ap);
        /* one write per line so lines of several processes do not mix */
        size_t len = strnlen (line, sizeof line - 2);
        line[len++] = '\n';
        fwrite (line, 1, len, stderr);
        fflush (stderr);
    }
    va_end (ap);
}
