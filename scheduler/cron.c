/* cron.c - 5-field cron expressions (see cron.h).
 *
 * A field becomes a bit set; the next fire time is found by walking
 * forward from the minute after `after`, skipping a whole day when the day
 * does not match and a whole hour when the hour does not, so the walk is at
 * most a few thousand steps even for a yearly schedule. */
#include "cron.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *field_name[5] = {"minute", "hour", "day-of-month",
                                    "month", "day-of-week"};
static const int field_min[5] = {0, 0, 1, 1, 0};
static const int field_max[5] = {59, 23, 31, 12, 7};

static int
parse_num (const char **p, int *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > 1000)
            return -1;
        s++;
    }
    *p = s;
    *out = (int)v;
    return 0;
}

/* One field (text of length n) into *bits; *any when it is exactly `*`. */
static int
parse_field (int f, const char *text, size_t n, uint64_t *bits, bool *any,
             yard_error_t *err)
{
    char buf[128];
    if (n == 0 || n >= sizeof buf)
        return yard_errorf (err, EINVAL, "cron %s field is %s", field_name[f],
                            n ? "too long" : "empty");
    memcpy (buf, text, n);
    buf[n] = '\0';
    *bits = 0;
    *any = strcmp (buf, "*") == 0;
    if (buf[0] == ',' || buf[n - 1] == ',' || strstr (buf, ",,"))
        return yard_errorf (err, EINVAL, "cron %s field '%s' has an empty "
                            "list item", field_name[f], buf);
    const int lo = field_min[f], hi = field_max[f];
    char *save = NULL;
    for (char *item = strtok_r (buf, ",", &save); item;
         item = strtok_r (NULL, ",", &save)) {
        const char *p = item;
        int a, b, step = 1;
        if (*p == '*') {
            a = lo;
            b = hi;
            p++;
        } else {
            if (parse_num (&p, &a) < 0)
                goto bad;
            b = a;
            if (*p == '-') {
                p++;
                if (parse_num (&p, &b) < 0)
                    goto bad;
            } else if (*p == '/') {
                b = hi; /* "5/10": from 5 to the end by 10 */
            }
        }
        if (*p == '/') {
            p++;
            if (parse_num (&p, &step) < 0 || step < 1)
                goto bad;
        }
        if (*p != '\0')
            goto bad;
        if (a < lo || b > hi || a > b)
            return yard_errorf (err, EINVAL,
                                "cron %s field: '%s' is outside %d-%d",
                                field_name[f], item, lo, hi);
        for (int v = a; v <= b; v += step)
            *bits |= 1ull << v;
        continue;
    bad:
        return yard_errorf (err, EINVAL,
                            "cron %s field: cannot read '%s' (use *, N, A-B, "
                            "lists with ',' and steps with '/')",
                            field_name[f], item);
    }
    if (*bits == 0)
        return yard_errorf (err, EINVAL, "cron %s field matches nothing",
                            field_name[f]);
    return 0;
}

static const struct {
    const char *name, *expr;
} shortcuts[] = {
    {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

int
yard_cron_parse (const char *expr, yard_cron_t *c, yard_error_t *err)
{
    if (!expr)
        return yard_errorf (err, EINVAL, "no cron expression");
    memset (c, 0, sizeof *c);
    while (*expr == ' ' || *expr == '\t')
        expr++;
    if (*expr == '@') {
        for (size_t i = 0; i < sizeof shortcuts / sizeof shortcuts[0]; i++)
            if (strcmp (expr, shortcuts[i].name) == 0)
                return yard_cron_parse (shortcuts[i].expr, c, err);
        return yard_errorf (err, EINVAL, "unknown cron shortcut '%s'", expr);
    }
    const char *p = expr;
    uint64_t bits[5];
    bool any[5];
    for (int f = 0; f < 5; f++) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (p == start)
            return yard_errorf (err, EINVAL,
                                "cron expression '%s' has %d fields, needs 5 "
                                "(minute hour day-of-month month "
                                "day-of-week)",
                                expr, f);
        int rc = parse_field (f, start, (size_t)(p - start), &bits[f], &any[f],
                              err);
        if (rc < 0)
            return rc;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        return yard_errorf (err, EINVAL,
                            "cron expression '%s' has more than 5 fields",
                            expr);
    c->minute = bits[0];
    c->hour = (uint32_t)bits[1];
    c->dom = (uint32_t)bits[2];
    c->month = (uint32_t)bits[3];
    c->dow = (uint32_t)(bits[4] & 0x7f);
    if (bits[4] & (1u << 7))
        c->dow |= 1u; /* 7 is Sunday too */
    c->dom_any = any[2];
    c->dow_any = any[4];
    return 0;
}

static bool
day_matches (const yard_cron_t *c, const struct tm *tm)
{
    if (!(c->month & (1u << (tm->tm_mon + 1))))
        return false;
    bool dom = (c->dom >> tm->tm_mday) & 1u;
    bool dow = (c->dow >> tm->tm_wday) & 1u;
    if (c->dom_any || c->dow_any)
        return dom && dow; /* the `*` one matches every day */
    return dom || dow;
}

int64_t
yard_cron_next (const yard_cron_t *c, int64_t after_ms)
{
    /* the first whole minute strictly after after_ms */
    int64_t t = after_ms >= 0 ? after_ms / 60000 : (after_ms - 59999) / 60000;
    t = (t + 1) * 60;
    const int64_t limit = t + 8ll * 366 * 86400;
    while (t <= limit) {
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r (&tt, &tm))
            return -1;
        if (!day_matches (c, &tm)) {
            t += 86400 - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
            continue;
        }
        if (!((c->hour >> tm.tm_hour) & 1u)) {
            t += 3600 - (tm.tm_min * 60 + tm.tm_sec);
            continue;
        }
        if (!((c->minute >> tm.tm_min) & 1ull)) {
            t += 60;
            continue;
        }
        return t * 1000;
    }
    return -1;
}

bool
yard_cron_due (const yard_cron_t *c, int64_t last_ms, int64_t now_ms)
{
    int64_t next = yard_cron_next (c, last_ms);
    return next >= 0 && next <= now_ms;
}
