/* drift.c - PSI and KS statistics (see drift.h). */
#include "drift.h"

#include <math.h>
#include <stdlib.h>

static int
cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[n] (n > 0), linear interpolation. */
static double
quantile (const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor (pos);
    if (lo + 1 >= n)
        return v[n - 1];
    double frac = pos - (double)lo;
    return v[lo] + frac * (v[lo + 1] - v[lo]);
}

/* Counts of sorted v[n] in the bins whose upper edges are edge[0..nedge-1]
 * (the last bin is open above). */
static void
bin_counts (const double *v, size_t n, const double *edge, size_t nedge,
            size_t *count)
{
    size_t b = 0;
    for (size_t i = 0; i < n; i++) {
        while (b < nedge && v[i] > edge[b])
            b++;
        count[b]++;
    }
}

double
yard_drift_psi (double *ref, size_t nref, double *cur, size_t ncur)
{
    if (nref == 0 || ncur == 0)
        return -1;
    qsort (ref, nref, sizeof ref[0], cmp_double);
    qsort (cur, ncur, sizeof cur[0], cmp_double);
    double edge[YARD_DRIFT_BINS - 1];
    size_t nedge = 0;
    for (int k = 1; k < YARD_DRIFT_BINS; k++) {
        double e = quantile (ref, nref, (double)k / YARD_DRIFT_BINS);
        if (nedge == 0 || e > edge[nedge - 1])
            edge[nedge++] = e;
    }
    size_t rc[YARD_DRIFT_BINS] = {0}, cc[YARD_DRIFT_BINS] = {0};
    bin_counts (ref, nref, edge, nedge, rc);
    bin_counts (cur, ncur, edge, nedge, cc);
    double psi = 0;
    for (size_t b = 0; b <= nedge; b++) {
        double r = (double)rc[b] / (double)nref;
        double c = (double)cc[b] / (double)ncur;
        if (r < YARD_DRIFT_EPS)
            r = YARD_DRIFT_EPS;
        if (c < YARD_DRIFT_EPS)
            c = YARD_DRIFT_EPS;
        psi += (c - r) * log (c / r);
    }
    return psi;
}

double
yard_drift_ks (double *ref, size_t nref, double *cur, size_t ncur)
{
    if (nref == 0 || ncur == 0)
        return -1;
    qsort (ref, nref, sizeof ref[0], cmp_double);
    qsort (cur, ncur, sizeof cur[0], cmp_double);
    size_t i = 0, j = 0;
    double d = 0;
    while (i < nref && j < ncur) {
        /* step past every copy of the smaller value in both samples */
        double x = ref[i] < cur[j] ? ref[i] : cur[j];
        while (i < nref && ref[i] <= x)
            i++;
        while (j < ncur && cur[j] <= x)
            j++;
        double gap = fabs ((double)i / (double)nref - (double)j / (double)ncur);
        if (gap > d)
            d = gap;
    }
    return d;
}
