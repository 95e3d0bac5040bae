/* metricline.c - parse one metrics line (see metricline.h). */
#include "metricline.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

int
metricline_ckpt_entry (const char *dir, const char *path, char *entry,
                       size_t len)
{
    if (!path || !*path || len == 0)
        return -EINVAL;
    const char *rest = path;
    if (path[0] == '/') {
        size_t dl = dir ? strlen (dir) : 0;
        while (dl > 1 && dir[dl - 1] == '/')
            dl--;
        if (dl == 0 || strncmp (path, dir, dl) != 0 || path[dl] != '/')
            return -EINVAL;
        rest = path + dl;
    }
    /* every part is checked: "a/../../x" leaves the folder, and a name
     * that goes up and back ("../dir/x") is refused rather than resolved */
    const char *first = NULL;
    size_t first_len = 0;
    for (const char *p = rest; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr (p, '/');
        size_t n = e ? (size_t)(e - p) : strlen (p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return -EINVAL;
        if (!(n == 1 && p[0] == '.') && !first) {
            first = p;
            first_len = n;
        }
        p += n;
    }
    if (!first)
        return -EINVAL;
    if (first_len >= len || first_len > METRICLINE_ENTRY_MAX)
        return -ENAMETOOLONG;
    memcpy (entry, first, first_len);
    entry[first_len] = '\0';
    return 0;
}

int
metricline_parse (const char *line, size_t len, int64_t *last_step,
                  metricline_point_f cb, void *arg)
{
    return metricline_parse_ckpt (line, len, last_step, NULL, NULL, cb, arg);
}

int
metricline_parse_ckpt (const char *line, size_t len, int64_t *last_step,
                       const char *ckpt_dir, struct metricline_ckpt *ck,
                       metricline_point_f cb, void *arg)
{
    if (ck) {
        ck->found = false;
        ck->entry[0] = '\0';
        ck->step = -1;
    }
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
    json_t *cp = json_object_get (o, "checkpoint");
    if (cp && ck) {
        if (!json_is_string (cp)
            || metricline_ckpt_entry (ckpt_dir, json_string_value (cp),
                                      ck->entry, sizeof ck->entry)
                   < 0) {
            ck->entry[0] = '\0';
            json_decref (o);
            return -EBADMSG;
        }
        ck->step = json_is_integer (st) ? step : -1;
    }

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
    if (cp && ck)
        ck->found = true;
    return n;
}
