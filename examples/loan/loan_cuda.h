/* loan_cuda.h - the CUDA forward/backward pass of train_loan (built as
 * train_loan_cuda when YARD_CUDA=ON and nvcc is found).
 *
 * The data set, the parameters and the momentum live on the GPU for the
 * whole run.  Each step runs one thread per example of the mini-batch
 * (forward, loss, per-example gradient into its own row), then one thread
 * per parameter that sums its column in example order and applies the
 * momentum update: no atomics, so a run is deterministic on a given GPU
 * and build, and resuming from a checkpoint gives the same weights bit for
 * bit as never stopping.  (The CPU build computes the same sums in the same
 * order but its exp() and fused multiply-adds differ in the last bits.)
 *
 * Every function returns 0 or -1 after printing the CUDA error to stderr.
 */
#ifndef LOAN_CUDA_H
#define LOAN_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copy the (standardised) training set to the GPU: x is n rows of dims,
 * y n labels.  kind 0 logistic regression, 1 MLP with hidden units;
 * batch is the largest mini-batch. */
int loan_cuda_init (const double *x, const double *y, size_t n, int dims,
                    int kind, uint32_t hidden, size_t nparams,
                    uint32_t batch);

/* Parameters and momentum: host to GPU (after init or a checkpoint load)
 * and back (before a checkpoint, an evaluation or the end). */
int loan_cuda_put_params (const double *p, const double *v);
int loan_cuda_get_params (double *p, double *v);

/* The epoch's example order (n indices). */
int loan_cuda_set_order (const size_t *order, size_t n);

/* One SGD step on the examples order[lo..hi): gradient, then
 * v = 0.9 v - scale g, p += v.  *loss and *correct: the batch's summed log
 * loss and count of right predictions (summed on the host, in order). */
int loan_cuda_step (size_t lo, size_t hi, double scale, double *loss,
                    double *correct);

/* The GPU the run uses ("NVIDIA H100 80GB HBM3"), for the log. */
const char *loan_cuda_device (void);

void loan_cuda_fini (void);

#ifdef __cplusplus
}
#endif

#endif
