/* train_loan.c - predict loan default: a training program that runs the way
 * long jobs should run under Trainyard.
 *
 * It trains logistic regression or a one-hidden-layer MLP with mini-batch
 * SGD (momentum 0.9) on the data set of gen_loans.py, and:
 *   - checkpoints every --checkpoint-every steps and on SIGTERM into
 *     $YARD_CHECKPOINT_DIR, atomically (temp file, fsync, rename, fsync of
 *     the directory), keeping the last two;
 *   - resumes from $YARD_LATEST_CHECKPOINT when it is set;
 *   - is deterministic: the shuffle of each epoch is a function of (seed,
 *     epoch) and a checkpoint holds the parameters, the momentum and the
 *     step, so a run interrupted and resumed any number of times ends with
 *     the same weights, bit for bit, as one that never stopped;
 *   - reports {"step","loss","acc"} and checkpoint events as JSON lines on
 *     $YARD_METRICS_FD, never blocking on it.
 *
 *   train_loan --data DIR [--model logreg|mlp] [--hidden H] [--epochs E]
 *              [--batch B] [--lr LR] [--seed S] [--checkpoint-every N]
 *              [--log-every N] [--out FILE] [--step-delay-ms MS]
 *
 * The final model is written to --out as text with exact (hex) floats, and
 * its fingerprint (FNV-1a of the parameters) is printed, so runs can be
 * compared.  Exit status: 0 done, 143 stopped by SIGTERM after saving a
 * checkpoint, 1 error, 2 usage.
 *
 * Built with YARD_LOAN_CUDA (train_loan_cuda, CMake option YARD_CUDA), each
 * step's forward and backward pass and the update run on the GPU instead
 * (train_loan_cuda.cu, loan_cuda.h); everything else is this file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef YARD_LOAN_CUDA
#include "loan_cuda.h"
#endif

#define DIMS 8
#define MAX_HIDDEN 256
#define CKPT_MAGIC "YARDLOAN"
#define CKPT_VERSION 1u
#define CKPT_KEEP 2

enum model_kind { MODEL_LOGREG = 0, MODEL_MLP = 1 };

struct config {
    const char *data;
    const char *out;
    enum model_kind model;
    uint32_t hidden;
    uint32_t epochs;
    uint32_t batch;
    double lr;
    uint64_t seed;
    uint64_t ckpt_every;
    uint64_t log_every;
    long step_delay_ms;
};

struct dataset {
    size_t n;
    double *x; /* n * DIMS, standardised */
    double *y;
};

/* Parameters and momentum live in one flat array each, so checkpointing is
 * one write and the fingerprint one loop. */
struct model {
    enum model_kind kind;
    uint32_t hidden;
    size_t nparams;
    double *p; /* parameters */
    double *v; /* momentum */
    double *g; /* gradient scratch */
};

static volatile sig_atomic_t stop_requested;
static int metrics_fd = -1;

static void
on_term (int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- deterministic randomness (splitmix64) ---- */

static uint64_t
splitmix (uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double
uniform (uint64_t *s)
{
    return (double)(splitmix (s) >> 11) * 0x1.0p-53;
}

static void
epoch_order (size_t *order, size_t n, uint64_t seed, uint64_t epoch)
{
    uint64_t s = seed * 0x100000001b3ULL ^ (epoch + 1) * 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(splitmix (&s) % (i + 1));
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* ---- data ---- */

static int
load_csv (const char *path, struct dataset *d)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        fprintf (stderr, "train_loan: %s: %s\n", path, strerror (errno));
        return -1;
    }
    size_t cap = 1024;
    d->n = 0;
    d->x = malloc (cap * DIMS * sizeof (double));
    d->y = malloc (cap * sizeof (double));
    char line[1024];
    int lineno = 0;
    while (fgets (line, sizeof line, f)) {
        lineno++;
        if (lineno == 1 && strstr (line, "income"))
            continue; /* header */
        if (d->n == cap) {
            cap *= 2;
            d->x = realloc (d->x, cap * DIMS * sizeof (double));
            d->y = realloc (d->y, cap * sizeof (double));
        }
        if (!d->x || !d->y) {
            fclose (f);
            return -1;
        }
        char *p = line, *end;
        for (int k = 0; k <= DIMS; k++) {
            double v = strtod (p, &end);
            if (end == p) {
                fprintf (stderr, "train_loan: %s:%d: malformed row\n", path,
                         lineno);
                fclose (f);
                return -1;
            }
            if (k < DIMS)
                d->x[d->n * DIMS + k] = v;
            else
                d->y[d->n] = v;
            p = end + (*end == ',');
        }
        d->n++;
    }
    fclose (f);
    if (d->n == 0) {
        fprintf (stderr, "train_loan: %s: no rows\n", path);
        return -1;
    }
    return 0;
}

/* Standardise with the training set's mean and deviation (applied to the
 * test set as well). */
static void
standardise (struct dataset *train, struct dataset *test)
{
    for (int k = 0; k < DIMS; k++) {
        double mean = 0, var = 0;
        for (size_t i = 0; i < train->n; i++)
            mean += train->x[i * DIMS + k];
        mean /= (double)train->n;
        for (size_t i = 0; i < train->n; i++) {
            double d = train->x[i * DIMS + k] - mean;
            var += d * d;
        }
        double sd = sqrt (var / (double)train->n);
        if (sd == 0)
            sd = 1;
        for (size_t i = 0; i < train->n; i++)
            train->x[i * DIMS + k] = (train->x[i * DIMS + k] - mean) / sd;
        for (size_t i = 0; test && i < test->n; i++)
            test->x[i * DIMS + k] = (test->x[i * DIMS + k] - mean) / sd;
    }
}

/* ---- model ---- */

static int
model_init (struct model *m, const struct config *c)
{
    m->kind = c->model;
    m->hidden = c->model == MODEL_MLP ? c->hidden : 0;
    m->nparams = m->kind == MODEL_MLP
                     ? (size_t)m->hidden * DIMS + m->hidden + m->hidden + 1
                     : DIMS + 1;
    m->p = calloc (m->nparams, sizeof (double));
    m->v = calloc (m->nparams, sizeof (double));
    m->g = calloc (m->nparams, sizeof (double));
    if (!m->p || !m->v || !m->g)
        return -1;
    uint64_t s = c->seed;
    if (m->kind == MODEL_MLP) {
        double scale = sqrt (2.0 / DIMS);
        for (size_t i = 0; i < (size_t)m->hidden * DIMS; i++)
            m->p[i] = (uniform (&s) * 2 - 1) * scale;
        size_t w2 = (size_t)m->hidden * DIMS + m->hidden;
        for (size_t i = 0; i < m->hidden; i++)
            m->p[w2 + i] = (uniform (&s) * 2 - 1) * sqrt (1.0 / m->hidden);
    }
    return 0;
}

static double
sigmoid (double z)
{
    return 1.0 / (1.0 + exp (-z));
}

/* Forward one example; with grad != NULL, add d(loss)/d(params) into grad.
 * Returns the predicted probability. */
static double
model_step (const struct model *m, const double *x, double y, double *grad)
{
    if (m->kind == MODEL_LOGREG) {
        double z = m->p[DIMS];
        for (int k = 0; k < DIMS; k++)
            z += m->p[k] * x[k];
        double p = sigmoid (z);
        if (grad) {
            double e = p - y;
            for (int k = 0; k < DIMS; k++)
                grad[k] += e * x[k];
            grad[DIMS] += e;
        }
        return p;
    }
    uint32_t H = m->hidden;
    const double *W1 = m->p, *b1 = m->p + (size_t)H * DIMS;
    const double *w2 = b1 + H, *b2 = w2 + H;
    double h[MAX_HIDDEN];
    double z = *b2;
    for (uint32_t j = 0; j < H; j++) {
        double a = b1[j];
        for (int k = 0; k < DIMS; k++)
            a += W1[(size_t)j * DIMS + k] * x[k];
        h[j] = a > 0 ? a : 0; /* ReLU */
        z += w2[j] * h[j];
    }
    double p = sigmoid (z);
    if (grad) {
        double e = p - y;
        double *gW1 = grad, *gb1 = grad + (size_t)H * DIMS;
        double *gw2 = gb1 + H, *gb2 = gw2 + H;
        *gb2 += e;
        for (uint32_t j = 0; j < H; j++) {
            gw2[j] += e * h[j];
            if (h[j] > 0) {
                double d = e * w2[j];
                gb1[j] += d;
                for (int k = 0; k < DIMS; k++)
                    gW1[(size_t)j * DIMS + k] += d * x[k];
            }
        }
    }
    return p;
}

static uint64_t
fingerprint (const struct model *m)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const unsigned char *b = (const unsigned char *)m->p;
    for (size_t i = 0; i < m->nparams * sizeof (double); i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---- checkpoints ---- */

struct ckpt_header {
    char magic[8];
    uint32_t version;
    uint32_t kind;
    uint32_t hidden;
    uint32_t batch;
    uint64_t seed;
    uint64_t step;
    uint64_t nparams;
    uint64_t checksum; /* FNV-1a of p and v */
};

static uint64_t
fnv (uint64_t h, const void *data, size_t len)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int
write_all (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write (fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int
is_ckpt_name (const char *name)
{
    size_t n = strlen (name);
    return strncmp (name, "ckpt-", 5) == 0 && n > 9
           && strcmp (name + n - 4, ".bin") == 0;
}

static int
cmp_names (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

/* Keep the newest CKPT_KEEP checkpoints (names sort by step). */
static void
prune (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d)
        return;
    char *names[4096];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir (d)) && n < 4096)
        if (is_ckpt_name (de->d_name))
            names[n++] = strdup (de->d_name);
    closedir (d);
    qsort (names, n, sizeof names[0], cmp_names);
    for (size_t i = 0; i < n; i++) {
        if (names[i] && i + CKPT_KEEP < n) {
            char path[4096];
            snprintf (path, sizeof path, "%s/%s", dir, names[i]);
            unlink (path);
        }
        free (names[i]);
    }
}

static int
save_checkpoint (const char *dir, const struct config *c,
                 const struct model *m, uint64_t step, char *path,
                 size_t pathlen)
{
    struct ckpt_header h;
    memset (&h, 0, sizeof h);
    memcpy (h.magic, CKPT_MAGIC, 8);
    h.version = CKPT_VERSION;
    h.kind = m->kind;
    h.hidden = m->hidden;
    h.batch = c->batch;
    h.seed = c->seed;
    h.step = step;
    h.nparams = m->nparams;
    h.checksum = fnv (fnv (0xcbf29ce484222325ULL, m->p,
                           m->nparams * sizeof (double)),
                      m->v, m->nparams * sizeof (double));
    char tmp[4096 + 8];
    if (snprintf (path, pathlen, "%s/ckpt-%012llu.bin", dir,
                  (unsigned long long)step) >= (int)pathlen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (write_all (fd, &h, sizeof h) < 0
        || write_all (fd, m->p, m->nparams * sizeof (double)) < 0
        || write_all (fd, m->v, m->nparams * sizeof (double)) < 0
        || fsync (fd) < 0) {
        close (fd);
        unlink (tmp);
        return -1;
    }
    close (fd);
    if (rename (tmp, path) < 0)
        return -1;
    int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync (dfd);
        close (dfd);
    }
    prune (dir);
    return 0;
}

static int
load_checkpoint (const char *path, const struct config *c, struct model *m,
                 uint64_t *step)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf (stderr, "train_loan: checkpoint %s: %s\n", path,
                 strerror (errno));
        return -1;
    }
    struct ckpt_header h;
    size_t bytes = m->nparams * sizeof (double);
    int ok = read (fd, &h, sizeof h) == (ssize_t)sizeof h
             && memcmp (h.magic, CKPT_MAGIC, 8) == 0
             && h.version == CKPT_VERSION && h.nparams == m->nparams
             && read (fd, m->p, bytes) == (ssize_t)bytes
             && read (fd, m->v, bytes) == (ssize_t)bytes;
    close (fd);
    if (!ok) {
        fprintf (stderr, "train_loan: %s is not a checkpoint of this "
                 "model\n", path);
        return -1;
    }
    uint64_t sum = fnv (fnv (0xcbf29ce484222325ULL, m->p, bytes), m->v,
                        bytes);
    if (sum != h.checksum) {
        fprintf (stderr, "train_loan: %s is corrupt (checksum)\n", path);
        return -1;
    }
    if (h.kind != (uint32_t)c->model || h.hidden != m->hidden
        || h.batch != c->batch || h.seed != c->seed) {
        fprintf (stderr, "train_loan: %s was made with other settings "
                 "(model, hidden, batch or seed)\n", path);
        return -1;
    }
    *step = h.step;
    return 0;
}

/* ---- metrics ---- */

static void
metric (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static void
metric (const char *fmt, ...)
{
    if (metrics_fd < 0)
        return;
    char line[512];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (line, sizeof line - 1, fmt, ap);
    va_end (ap);
    if (n <= 0 || n >= (int)sizeof line - 1)
        return;
    line[n++] = '\n';
    /* non-blocking: a metric is never worth stalling training for */
    if (write (metrics_fd, line, (size_t)n) < 0 && errno != EAGAIN)
        metrics_fd = -1;
}

/* Create the directories above path (like mkdir -p of its dirname). */
static void
make_parents (const char *path)
{
    char buf[4096];
    if (snprintf (buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return;
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir (buf, 0755);
            *p = '/';
        }
    }
}

/* ---- main ---- */

static void
usage (void)
{
    fprintf (stderr,
             "usage: train_loan --data DIR [--model logreg|mlp] [--hidden H]"
             " [--epochs E]\n"
             "                  [--batch B] [--lr LR] [--seed S] "
             "[--checkpoint-every N]\n"
             "                  [--log-every N] [--out FILE] "
             "[--step-delay-ms MS]\n");
}

static int
parse_args (int argc, char **argv, struct config *c)
{
    *c = (struct config){.model = MODEL_MLP, .hidden = 16, .epochs = 5,
                         .batch = 64, .lr = 0.05, .seed = 7,
                         .ckpt_every = 100, .log_every = 50};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp (a, "--help") == 0) {
            usage ();
            exit (0);
        }
        if (!v) {
            usage ();
            return -1;
        }
        i++;
        errno = 0;
        if (strcmp (a, "--data") == 0)
            c->data = v;
        else if (strcmp (a, "--out") == 0)
            c->out = v;
        else if (strcmp (a, "--model") == 0) {
            if (strcmp (v, "mlp") == 0)
                c->model = MODEL_MLP;
            else if (strcmp (v, "logreg") == 0)
                c->model = MODEL_LOGREG;
            else
                return -1;
            end = (char *)v + strlen (v);
        } else if (strcmp (a, "--hidden") == 0)
            c->hidden = (uint32_t)strtoul (v, &end, 10);
        else if (strcmp (a, "--epochs") == 0)
            c->epochs = (uint32_t)strtoul (v, &end, 10);
        else if (strcmp (a, "--batch") == 0)
            c->batch = (uint32_t)strtoul (v, &end, 10);
        else if (strcmp (a, "--lr") == 0)
            c->lr = strtod (v, &end);
        else if (strcmp (a, "--seed") == 0)
            c->seed = strtoull (v, &end, 10);
        else if (strcmp (a, "--checkpoint-every") == 0)
            c->ckpt_every = strtoull (v, &end, 10);
        else if (strcmp (a, "--log-every") == 0)
            c->log_every = strtoull (v, &end, 10);
        else if (strcmp (a, "--step-delay-ms") == 0)
            c->step_delay_ms = strtol (v, &end, 10);
        else {
            fprintf (stderr, "train_loan: unknown option %s\n", a);
            return -1;
        }
        if (end && (*end || errno)) {
            fprintf (stderr, "train_loan: bad value for %s: %s\n", a, v);
            return -1;
        }
    }
    if (!c->data || c->batch == 0 || c->epochs == 0 || c->hidden == 0
        || c->hidden > MAX_HIDDEN || !(c->lr > 0)) {
        usage ();
        return -1;
    }
    return 0;
}

static double
accuracy (const struct model *m, const struct dataset *d)
{
    size_t ok = 0;
    for (size_t i = 0; i < d->n; i++)
        ok += (model_step (m, &d->x[i * DIMS], d->y[i], NULL) >= 0.5)
              == (d->y[i] >= 0.5);
    return (double)ok / (double)d->n;
}

int
main (int argc, char **argv)
{
    struct config c;
    if (parse_args (argc, argv, &c) < 0)
        return 2;
    const char *mfd = getenv ("YARD_METRICS_FD");
    if (mfd && *mfd) {
        metrics_fd = atoi (mfd);
        int fl = fcntl (metrics_fd, F_GETFL);
        if (fl < 0 || fcntl (metrics_fd, F_SETFL, fl | O_NONBLOCK) < 0)
            metrics_fd = -1;
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction (SIGTERM, &sa, NULL);
    setvbuf (stdout, NULL, _IOLBF, 0);

    char path[4096];
    struct dataset train = {0}, test = {0};
    snprintf (path, sizeof path, "%s/train.csv", c.data);
    if (load_csv (path, &train) < 0)
        return 1;
    snprintf (path, sizeof path, "%s/test.csv", c.data);
    int have_test = load_csv (path, &test) == 0;
    standardise (&train, have_test ? &test : NULL);

    struct model m;
    if (model_init (&m, &c) < 0)
        return 1;
    uint64_t step = 0;
    const char *latest = getenv ("YARD_LATEST_CHECKPOINT");
    if (latest && *latest) {
        if (load_checkpoint (latest, &c, &m, &step) < 0)
            return 1;
        printf ("resuming from %s at step %llu (attempt %s)\n", latest,
                (unsigned long long)step,
                getenv ("YARD_ATTEMPT") ? getenv ("YARD_ATTEMPT") : "?");
    }
#ifdef YARD_LOAN_CUDA
    if (loan_cuda_init (train.x, train.y, train.n, DIMS, (int)m.kind,
                        m.hidden, m.nparams, c.batch) < 0
        || loan_cuda_put_params (m.p, m.v) < 0)
        return 1;
    printf ("on GPU %s\n", loan_cuda_device ());
#endif
    const char *ckdir = getenv ("YARD_CHECKPOINT_DIR");
    uint64_t per_epoch = (train.n + c.batch - 1) / c.batch;
    uint64_t total = per_epoch * c.epochs;
    printf ("training %s on %zu applicants: %llu steps (%u epochs of "
            "%llu), batch %u, lr %g\n",
            c.model == MODEL_MLP ? "an MLP" : "logistic regression", train.n,
            (unsigned long long)total, c.epochs,
            (unsigned long long)per_epoch, c.batch, c.lr);

    size_t *order = malloc (train.n * sizeof *order);
    uint64_t order_epoch = UINT64_MAX;
    int first_point = 1;
    double win_loss = 0, win_ok = 0;
    size_t win_n = 0;
    int rc = 0;
    while (step < total) {
        uint64_t epoch = step / per_epoch, k = step % per_epoch;
        if (epoch != order_epoch) {
            epoch_order (order, train.n, c.seed, epoch);
            order_epoch = epoch;
#ifdef YARD_LOAN_CUDA
            if (loan_cuda_set_order (order, train.n) < 0) {
                rc = 1;
                break;
            }
#endif
        }
        size_t lo = (size_t)(k * c.batch);
        size_t hi = lo + c.batch < train.n ? lo + c.batch : train.n;
#ifdef YARD_LOAN_CUDA
        double bl, bo;
        if (loan_cuda_step (lo, hi, c.lr / (double)(hi - lo), &bl, &bo) < 0) {
            rc = 1;
            break;
        }
        win_loss += bl;
        win_ok += bo;
        win_n += hi - lo;
#else
        memset (m.g, 0, m.nparams * sizeof (double));
        for (size_t i = lo; i < hi; i++) {
            size_t r = order[i];
            double y = train.y[r];
            double p = model_step (&m, &train.x[r * DIMS], y, m.g);
            double pc = p < 1e-12 ? 1e-12 : p > 1 - 1e-12 ? 1 - 1e-12 : p;
            win_loss -= y * log (pc) + (1 - y) * log (1 - pc);
            win_ok += (p >= 0.5) == (y >= 0.5);
            win_n++;
        }
        double scale = c.lr / (double)(hi - lo);
        for (size_t j = 0; j < m.nparams; j++) {
            m.v[j] = 0.9 * m.v[j] - scale * m.g[j];
            m.p[j] += m.v[j];
        }
#endif
        step++;
        if (step % c.log_every == 0 || step == total) {
            printf ("step %llu/%llu epoch %llu loss %.4f acc %.4f\n",
                    (unsigned long long)step, (unsigned long long)total,
                    (unsigned long long)epoch + 1, win_loss / win_n,
                    win_ok / win_n);
            /* total_steps rides on the attempt's first point: a line of
             * its own would need a step, and any step it took would mark
             * points of the attempt this one resumed from as redone */
            if (first_point)
                metric ("{\"step\":%llu,\"loss\":%.6f,\"acc\":%.6f,"
                        "\"total_steps\":%llu}",
                        (unsigned long long)step, win_loss / win_n,
                        win_ok / win_n, (unsigned long long)total);
            else
                metric ("{\"step\":%llu,\"loss\":%.6f,\"acc\":%.6f}",
                        (unsigned long long)step, win_loss / win_n,
                        win_ok / win_n);
            first_point = 0;
            win_loss = win_ok = 0;
            win_n = 0;
        }
        int stop = stop_requested;
        if (ckdir && *ckdir
            && (step % c.ckpt_every == 0 || stop || step == total)) {
#ifdef YARD_LOAN_CUDA
            if (loan_cuda_get_params (m.p, m.v) < 0) {
                rc = 1;
                break;
            }
#endif
            if (save_checkpoint (ckdir, &c, &m, step, path, sizeof path)
                < 0) {
                fprintf (stderr, "train_loan: checkpoint at step %llu: "
                         "%s\n", (unsigned long long)step, strerror (errno));
            } else {
                metric ("{\"checkpoint\":\"%s\",\"step\":%llu}", path,
                        (unsigned long long)step);
            }
        }
        if (stop) {
            printf ("SIGTERM: stopped at step %llu%s\n",
                    (unsigned long long)step,
                    ckdir ? ", checkpoint saved" : "");
            rc = 143;
            break;
        }
        if (c.step_delay_ms > 0) {
            struct timespec ts = {c.step_delay_ms / 1000,
                                  (c.step_delay_ms % 1000) * 1000000L};
            nanosleep (&ts, NULL);
        }
    }
#ifdef YARD_LOAN_CUDA
    if (rc != 1 && loan_cuda_get_params (m.p, m.v) < 0)
        rc = 1;
    loan_cuda_fini ();
#endif
    if (rc == 0) {
        double tr = accuracy (&m, &train);
        double te = have_test ? accuracy (&m, &test) : 0;
        printf ("done: train accuracy %.4f, test accuracy %.4f\n", tr, te);
        metric ("{\"step\":%llu,\"train_acc\":%.6f,\"test_acc\":%.6f}",
                (unsigned long long)step, tr, te);
        if (c.out) {
            char tmp[4096];
            if (snprintf (tmp, sizeof tmp, "%s.tmp", c.out)
                >= (int)sizeof tmp) {
                fprintf (stderr, "train_loan: --out path too long\n");
                return 1;
            }
            make_parents (c.out);
            FILE *f = fopen (tmp, "w");
            if (!f) {
                fprintf (stderr, "train_loan: %s: %s\n", tmp,
                         strerror (errno));
                return 1;
            }
            fprintf (f, "model %s hidden %u params %zu test_acc %.6f\n",
                     m.kind == MODEL_MLP ? "mlp" : "logreg", m.hidden,
                     m.nparams, te);
            for (size_t j = 0; j < m.nparams; j++)
                fprintf (f, "%a\n", m.p[j]);
            if (fflush (f) != 0 || fsync (fileno (f)) < 0 || fclose (f) != 0
                || rename (tmp, c.out) < 0) {
                fprintf (stderr, "train_loan: %s: %s\n", c.out,
                         strerror (errno));
                return 1;
            }
        }
    }
    printf ("weights fingerprint %016llx\n",
            (unsigned long long)fingerprint (&m));
    free (order);
    free (m.p);
    free (m.v);
    free (m.g);
    free (train.x);
    free (train.y);
    free (test.x);
    free (test.y);
    return rc;
}
