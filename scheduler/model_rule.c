/* model_rule.c - model names and registration conditions (see
 * models.h): pure functions, unit-tested on their own. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"

bool
yard_model_name_ok (const char *name)
{
    size_t n = name ? strlen (name) : 0;
    if (n == 0 || n > 128 || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum (c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

int
yard_model_when_parse (const char *text, yard_model_when_t *w,
                       yard_error_t *err)
{
    memset (w, 0, sizeof *w);
    if (!text || !*text || strcmp (text, "always") == 0) {
        w->always = true;
        return 0;
    }
    char key[128], op[4], rhs[64], extra[2];
    int n = sscanf (text, "metric %127s %3s %63s %1s", key, op, rhs, extra);
    if (n != 3 || strncmp (text, "metric ", 7) != 0)
        return yard_errorf (err, EINVAL,
                            "register condition '%s' is not understood: use "
                            "\"always\" or \"metric KEY > latest\" (also >=, "
                            "<, <=, or a number instead of latest)",
                            text);
    if (strcmp (op, ">") && strcmp (op, ">=") && strcmp (op, "<")
        && strcmp (op, "<="))
        return yard_errorf (err, EINVAL,
                            "register condition '%s': the operator must be "
                            ">, >=, < or <=, got '%s'",
                            text, op);
    snprintf (w->key, sizeof w->key, "%s", key);
    snprintf (w->op, sizeof w->op, "%s", op);
    if (strcmp (rhs, "latest") == 0) {
        w->vs_latest = true;
        return 0;
    }
    char *end;
    errno = 0;
    w->constant = strtod (rhs, &end);
    if (*end || errno || !isfinite (w->constant))
        return yard_errorf (err, EINVAL,
                            "register condition '%s': compare with latest or "
                            "a number, not '%s'",
                            text, rhs);
    return 0;
}

static bool
compare (const char *op, double a, double b)
{
    if (strcmp (op, ">") == 0)
        return a > b;
    if (strcmp (op, ">=") == 0)
        return a >= b;
    if (strcmp (op, "<") == 0)
        return a < b;
    return a <= b;
}

bool
yard_model_when_holds (const yard_model_when_t *w, bool have_value,
                       double value, bool have_latest, double latest,
                       char *why, size_t len)
{
    if (w->always) {
        snprintf (why, len, "registered always");
        return true;
    }
    if (!have_value) {
        snprintf (why, len, "the job reported no metric %s", w->key);
        return false;
    }
    double rhs = w->constant;
    if (w->vs_latest) {
        if (!have_latest) {
            snprintf (why, len, "%s %g: no earlier version to beat", w->key,
                      value);
            return true;
        }
        rhs = latest;
    }
    bool ok = compare (w->op, value, rhs);
    snprintf (why, len, "%s %g %s%s %s%g", w->key, value, ok ? "" : "is not ",
              w->op, w->vs_latest ? "latest " : "", rhs);
    return ok;
}
