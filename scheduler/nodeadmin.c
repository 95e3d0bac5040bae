/* nodeadmin.c - node drain flags, labels and the rules on them (see
 * nodeadmin.h).
 *
 * Labels are few per node (YARD_LABELS_MAX), so a plain array searched
 * linearly is the simplest correct structure; the dispatch pass only
 * consults them for jobs that carry constraints.
 */
#include "nodeadmin.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

void
yard_nodeadmin_clear (yard_nodeadmin_t *a)
{
    if (!a)
        return;
    free (a->reason);
    for (size_t i = 0; i < a->nlabels; i++)
        free (a->labels[i]);
    free (a->labels);
    memset (a, 0, sizeof *a);
}

static bool
key_char (unsigned char c)
{
    return isalnum (c) || c == '.' || c == '_' || c == '-';
}

/* Length of label's key (up to '=' or the end). */
static size_t
key_len (const char *label)
{
    const char *eq = strchr (label, '=');
    return eq ? (size_t)(eq - label) : strlen (label);
}

int
yard_label_check (const char *label, yard_error_t *err)
{
    if (!label || !*label)
        return yard_errorf (err, EINVAL, "empty label");
    size_t k = key_len (label);
    if (k == 0)
        return yard_errorf (err, EINVAL, "label \"%.300s\": empty key", label);
    if (k > YARD_LABEL_KEY_MAX)
        return yard_errorf (err, EINVAL,
                            "label key longer than %d "
                            "characters",
                            YARD_LABEL_KEY_MAX);
    for (size_t i = 0; i < k; i++)
        if (!key_char ((unsigned char)label[i]))
            return yard_errorf (err, EINVAL,
                                "label \"%.*s\": a key is "
                                "made of letters, digits, '.', '_' and "
                                "'-'",
                                (int)k, label);
    if (label[k] == '\0')
        return 0;
    const char *v = label + k + 1;
    size_t vlen = strlen (v);
    if (vlen > YARD_LABEL_VALUE_MAX)
        return yard_errorf (err, EINVAL,
                            "label %.*s: value longer than "
                            "%d characters",
                            (int)k, label, YARD_LABEL_VALUE_MAX);
    for (size_t i = 0; i < vlen; i++)
        if (!isprint ((unsigned char)v[i]) || (unsigned char)v[i] > 126)
            return yard_errorf (err, EINVAL,
                                "label %.*s: the value must "
                                "be printable ASCII",
                                (int)k, label);
    return 0;
}

/* Index of the label whose key equals the key of want, or -1. */
static ssize_t
find_key (const yard_nodeadmin_t *a, const char *want)
{
    size_t k = key_len (want);
    for (size_t i = 0; i < a->nlabels; i++)
        if (key_len (a->labels[i]) == k && memcmp (a->labels[i], want, k) == 0)
            return (ssize_t)i;
    return -1;
}

int
yard_nodeadmin_label_set (yard_nodeadmin_t *a, const char *label,
                          yard_error_t *err)
{
    int rc = yard_label_check (label, err);
    if (rc < 0)
        return rc;
    char *copy = strdup (label);
    if (!copy)
        return yard_errorf (err, ENOMEM, "out of memory");
    ssize_t i = find_key (a, label);
    if (i >= 0) {
        free (a->labels[i]);
        a->labels[i] = copy;
        return 0;
    }
    if (a->nlabels >= YARD_LABELS_MAX) {
        free (copy);
        return yard_errorf (err, E2BIG, "a node has at most %d labels",
                            YARD_LABELS_MAX);
    }
    char **v = realloc (a->labels, (a->nlabels + 1) * sizeof v[0]);
    if (!v) {
        free (copy);
        return yard_errorf (err, ENOMEM, "out of memory");
    }
    a->labels = v;
    a->labels[a->nlabels++] = copy;
    return 0;
}

int
yard_nodeadmin_label_unset (yard_nodeadmin_t *a, const char *key)
{
    ssize_t i = find_key (a, key);
    if (i < 0)
        return 0;
    free (a->labels[i]);
    memmove (&a->labels[i], &a->labels[i + 1],
             (a->nlabels - (size_t)i - 1) * sizeof a->labels[0]);
    a->nlabels--;
    return 1;
}

bool
yard_nodeadmin_has (const yard_nodeadmin_t *a, const char *constraint)
{
    if (!constraint)
        return false;
    ssize_t i = find_key (a, constraint);
    if (i < 0)
        return false;
    if (!strchr (constraint, '='))
        return true; /* "key": any value, or none */
    return strcmp (a->labels[i], constraint) == 0;
}

int
yard_nodeadmin_missing (const yard_nodeadmin_t *a, char *const *constraints,
                        size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!yard_nodeadmin_has (a, constraints[i]))
            return (int)i;
    return -1;
}

/* strstr, ASCII case-insensitive. */
static bool
contains_nocase (const char *hay, const char *needle)
{
    size_t n = strlen (needle);
    for (; *hay; hay++)
        if (strncasecmp (hay, needle, n) == 0)
            return true;
    return n == 0;
}

bool
yard_gpu_type_match (const Yard__Topology *topo, const char *gpu_type)
{
    if (!gpu_type || !*gpu_type)
        return true;
    if (!topo)
        return false;
    for (size_t i = 0; i < topo->n_gpus; i++)
        if (topo->gpus[i] && topo->gpus[i]->name
            && contains_nocase (topo->gpus[i]->name, gpu_type))
            return true;
    return false;
}

int
yard_nodeadmin_set_drain (yard_nodeadmin_t *a, bool drain, bool health,
                          const char *reason, int64_t now_ms)
{
    char *copy = NULL;
    if (drain && reason && *reason) {
        size_t len = strnlen (reason, YARD_DRAIN_REASON_MAX);
        if (!(copy = strndup (reason, len)))
            return -ENOMEM;
    }
    free (a->reason);
    a->reason = copy;
    a->drain = drain;
    a->drain_health = drain && health;
    a->since_ms = now_ms;
    return 0;
}

char *
yard_nodeadmin_labels_join (const yard_nodeadmin_t *a)
{
    size_t len = 1;
    for (size_t i = 0; i < a->nlabels; i++)
        len += strlen (a->labels[i]) + 1;
    char *s = malloc (len), *p = s;
    if (!s)
        return NULL;
    *p = '\0';
    for (size_t i = 0; i < a->nlabels; i++) {
        size_t l = strlen (a->labels[i]);
        if (i > 0)
            *p++ = '\n';
        memcpy (p, a->labels[i], l + 1);
        p += l;
    }
    return s;
}

int
yard_nodeadmin_labels_parse (yard_nodeadmin_t *a, const char *joined)
{
    yard_nodeadmin_t tmp = { 0 };
    char *copy = strdup (joined ? joined : "");
    if (!copy)
        return -ENOMEM;
    int rc = 0;
    char *save = NULL;
    for (char *t = strtok_r (copy, "\n", &save); t;
         t = strtok_r (NULL, "\n", &save)) {
        rc = yard_nodeadmin_label_set (&tmp, t, NULL);
        if (rc == -ENOMEM)
            break;
        rc = 0; /* invalid or too many: skipped */
    }
    free (copy);
    if (rc < 0) {
        yard_nodeadmin_clear (&tmp);
        return rc;
    }
    for (size_t i = 0; i < a->nlabels; i++)
        free (a->labels[i]);
    free (a->labels);
    a->labels = tmp.labels;
    a->nlabels = tmp.nlabels;
    return 0;
}

const char *
yard_node_display_state (Yard__NodeState state, bool drain, uint32_t cpus,
                         uint32_t cpus_used, uint32_t njobs)
{
    if (state == YARD__NODE_STATE__NODE_LEAVING)
        return "leaving";
    if (state != YARD__NODE_STATE__NODE_UP)
        return "down";
    if (drain)
        return njobs > 0 ? "draining" : "drained";
    if (cpus > 0 && cpus_used >= cpus)
        return "allocated";
    if (cpus_used > 0 || njobs > 0)
        return "mixed";
    return "idle";
}
