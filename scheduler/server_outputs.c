/* server_outputs.c - the outputs an attempt collected (JobSpec.collect):
 * taken from its JobFinished into job_outputs in the batch that applies
 * it (so they are durable before the JobFinishedAck leaves), and shown in
 * each AttemptInfo of a JobInfo. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "log.h"
#include "server_int.h"
#include "store_artifacts.h"

int
yard__outputs_init (yard_server_t *s, yard_error_t *err)
{
    return yard_store_artifacts_init (s->store, err);
}

int
yard__outputs_record (yard_server_t *s, const yard_job_t *job,
                      const Yard__JobFinished *f)
{
    for (size_t i = 0; i < f->n_outputs; i++) {
        const Yard__NamedDigest *o = f->outputs[i];
        if (!o || !o->name || !*o->name || strlen (o->name) > 255
            || !yard_digest_valid (o->digest)) {
            log_warn ("job %" PRIu64 " attempt %u: output %zu with a bad "
                      "name or digest ignored",
                      job->id, f->attempt, i);
            continue;
        }
        int rc = yard_store_output_put (s->store, job->id, f->attempt,
                                        o->name, o->digest, o->size);
        if (rc < 0) {
            log_err ("cannot record output %s of job %" PRIu64 ": %s",
                     o->name, job->id, yard_store_errmsg (s->store));
            return yard__fail (s, rc);
        }
    }
    return 0;
}

struct fill {
    Yard__JobInfo *info;
    int err;
};

static int
add_output (uint32_t attempt, const char *name, const char *digest,
            uint64_t size, void *arg)
{
    struct fill *f = arg;
    Yard__AttemptInfo *a = NULL;
    for (size_t i = 0; i < f->info->n_attempts; i++)
        if (f->info->attempts[i]->attempt == attempt)
            a = f->info->attempts[i];
    if (!a)
        return 0;
    Yard__NamedDigest **v
        = realloc (a->outputs, (a->n_outputs + 1) * sizeof v[0]);
    if (!v)
        return f->err = -ENOMEM;
    a->outputs = v;
    size_t nl = strlen (name) + 1, dl = strlen (digest) + 1;
    Yard__NamedDigest *o = malloc (sizeof *o + nl + dl);
    if (!o)
        return f->err = -ENOMEM;
    yard__named_digest__init (o);
    char *p = (char *)(o + 1);
    memcpy (p, name, nl);
    memcpy (p + nl, digest, dl);
    o->name = p;
    o->digest = p + nl;
    o->size = size;
    a->outputs[a->n_outputs++] = o;
    return 0;
}

int
yard__outputs_fill (yard_server_t *s, Yard__JobInfo *info)
{
    struct fill f = { info, 0 };
    int rc = yard_store_outputs (s->store, info->id, add_output, &f);
    return rc < 0 ? rc : f.err;
}

void
yard__outputs_free (Yard__AttemptInfo *a)
{
    for (size_t i = 0; i < a->n_outputs; i++)
        free (a->outputs[i]);
    free (a->outputs);
    a->outputs = NULL;
    a->n_outputs = 0;
}
