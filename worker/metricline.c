/* metricline.c - parse one metrics line (see metricline.h). */
#include "metricline.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

int
metricline_parse (const char *line, size_t len, int64_t *last_step,
                  metricline_point_f cb, void *arg)
{
    if (len > METRICLINE_MAX)
        return -EBADMSG;
    /* a trailing \r (a job on a Windows-minded library) is whitespace to
     * jansson; a NUL byte inside the line is not JSON */
    if (memchr (line, '\0', len))
        return -EBADMSG;
    json_error_t jerr;
    json_t *o = json_loadb (line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return -EBADMSG;
    if (!json_is_object (o)) {
        json_decref (o);
        return -EBADMSG;
    }
    json_t *st = json_object_get (o, "step");
    int64_t step = *last_step;
    if (json_is_integer (st))
        step = (int64_t)json_integer_value (st);

    int n = 0, rc = 0;
    const char *key;
    json_t *v;
    json_object_foreach (o, key, v) {
        if (strcmp (key, "step") == 0 || !json_is_number (v))
            continue;
        size_t klen = strlen (key);
        if (klen == 0 || klen > METRICLINE_KEY_MAX)
            continue;
        double d = json_number_value (v);
        if (!isfinite (d))
            continue;
        if (cb && (rc = cb (step, key, d, arg)) != 0)
            break;
        n++;
    }
    json_decref (o);
    if (rc != 0)
        return rc;
    *last_step = step;
    return n;
}
