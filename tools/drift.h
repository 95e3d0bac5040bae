/* drift.h - distribution drift between a reference and a current sample
 * of one numeric column: population stability index and the two-sample
 * Kolmogorov-Smirnov statistic.
 *
 * PSI: the reference's deciles (linear interpolation between order
 * statistics, numpy's default) cut the line into at most 10 bins (equal
 * edges merged); with r_i and c_i the fractions of the reference and the
 * current sample in bin i, each floored at YARD_DRIFT_EPS,
 *     PSI = sum_i (c_i - r_i) * ln(c_i / r_i).
 * A value x falls in the first bin whose upper edge is >= x.
 * KS: the largest distance between the two empirical distribution
 * functions, sup_x |F_ref(x) - F_cur(x)|, in [0, 1].
 */
#ifndef YARD_TOOLS_DRIFT_H
#define YARD_TOOLS_DRIFT_H

#include <stddef.h>

#define YARD_DRIFT_BINS 10
#define YARD_DRIFT_EPS 1e-4

/* Both functions sort their arrays in place and return the statistic, or
 * -1 when either sample is empty. */
double yard_drift_psi (double *ref, size_t nref, double *cur, size_t ncur);
double yard_drift_ks (double *ref, size_t nref, double *cur, size_t ncur);

#endif
