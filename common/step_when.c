/* step_when.c - conditions of conditional pipeline steps (see
 * step_when.h). */
#include "step_when.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ops[] = {">=", "<=", "==", "!=", ">", "<"};

/* Copy the name at *p (letters, digits, '_', '-', and with dots also '.',
 * which metric keys such as psi.age hold) into out; *p moves past it. */
static int
word (const char **p, char *out, size_t len, bool dots)
{
    size_t n = 0;
    const char *s = *p;
    for (;; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'
              || (dots && c == '.')))
            break;
        if (n + 1 >= len)
            return -1;
        out[n++] = c;
    }
    if (n == 0)
        return -1;
    out[n] = '\0';
    *p = s;
    return 0;
}

int
yard_step_when_parse (const char *text, yard_step_when_t *w,
                      yard_error_t *err)
{
    memset (w, 0, sizeof *w);
    const char *p = text ? text : "";
    while (*p == ' ')
        p++;
    if (strncmp (p, "steps.", 6) != 0)
        goto bad;
    p += 6;
    if (word (&p, w->step, sizeof w->step, false) < 0
        || strncmp (p, ".metrics.", 9) != 0)
        goto bad;
    p += 9;
    if (word (&p, w->key, sizeof w->key, true) < 0)
        goto bad;
    while (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen (ops[i]);
        if (strncmp (p, ops[i], n) == 0) {
            memcpy (w->op, ops[i], n);
            p += n;
            break;
        }
    }
    if (!w->op[0])
        return yard_errorf (err, EINVAL,
                            "when '%s': the operator must be one of >, >=, "
                            "<, <=, ==, !=",
                            text);
    while (*p == ' ')
        p++;
    char *end;
    errno = 0;
    w->value = strtod (p, &end);
    if (end == p || errno || !isfinite (w->value))
        return yard_errorf (err, EINVAL, "when '%s': compare with a number",
                            text);
    while (*end == ' ')
        end++;
    if (*end)
        goto bad;
    return 0;
bad:
    return yard_errorf (err, EINVAL,
                        "when '%s' is not understood: use "
                        "steps.STEP.metrics.KEY OP NUMBER (e.g. "
                        "steps.drift.metrics.psi_max > 0.2)",
                        text ? text : "");
}

bool
yard_step_when_eval (const yard_step_when_t *w, bool have, double v,
                     char *why, size_t len)
{
    if (!have) {
        if (why)
            snprintf (why, len, "step %s reported no metric %s", w->step,
                      w->key);
        return false;
    }
    bool ok;
    if (!strcmp (w->op, ">"))
        ok = v > w->value;
    else if (!strcmp (w->op, ">="))
        ok = v >= w->value;
    else if (!strcmp (w->op, "<"))
        ok = v < w->value;
    else if (!strcmp (w->op, "<="))
        ok = v <= w->value;
    else if (!strcmp (w->op, "=="))
        ok = v == w->value;
    else
        ok = v != w->value;
    if (why)
        snprintf (why, len, "steps.%s.metrics.%s = %g, %s%s %g", w->step,
                  w->key, v, ok ? "" : "not ", w->op, w->value);
    return ok;
}

bool
yard_step_when_needed (const yard_step_when_t *w, char *const *needs,
                       size_t n_needs)
{
    for (size_t i = 0; i < n_needs; i++)
        if (strcmp (needs[i], w->step) == 0)
            return true;
    return false;
}
