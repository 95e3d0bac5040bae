// train_loan_cuda.cu - the CUDA forward/backward pass of train_loan (see
// loan_cuda.h).  The rest of the trainer (arguments, data, checkpoints,
// metrics, the step loop) is train_loan.c, built with YARD_LOAN_CUDA.
#include "loan_cuda.h"

#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <vector>

#define MAX_DIMS 8
#define MAX_HIDDEN 256
#define THREADS 128

namespace {

struct state {
    int dims = 0, kind = 0;
    uint32_t hidden = 0, batch = 0;
    size_t n = 0, nparams = 0;
    double *x = nullptr, *y = nullptr;   // data set
    double *p = nullptr, *v = nullptr;   // parameters, momentum
    double *g = nullptr;                 // batch x nparams per-example grads
    double *loss = nullptr, *ok = nullptr; // per example of the batch
    uint32_t *order = nullptr;
    std::vector<double> h_loss, h_ok;
    char device[256] = "";
} S;

bool
check (cudaError_t e, const char *what)
{
    if (e == cudaSuccess)
        return true;
    fprintf (stderr, "train_loan_cuda: %s: %s\n", what, cudaGetErrorString (e));
    return false;
}

__device__ double
sigmoid (double z)
{
    return 1.0 / (1.0 + exp (-z));
}

// One thread per example of the batch: forward, loss, and its gradient into
// row i of g (every entry written, so g needs no clearing).
__global__ void
example_grad (const double *x, const double *y, const uint32_t *order,
              size_t lo, size_t count, int dims, int kind, uint32_t H,
              size_t nparams, const double *p, double *g, double *loss,
              double *ok)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= count)
        return;
    size_t r = order[lo + i];
    const double *xr = x + r * dims;
    double yr = y[r];
    double *gr = g + i * nparams;
    double prob;
    if (kind == 0) {
        double z = p[dims];
        for (int k = 0; k < dims; k++)
            z += p[k] * xr[k];
        prob = sigmoid (z);
        double e = prob - yr;
        for (int k = 0; k < dims; k++)
            gr[k] = e * xr[k];
        gr[dims] = e;
    } else {
        const double *W1 = p, *b1 = p + (size_t)H * dims;
        const double *w2 = b1 + H, *b2 = w2 + H;
        double h[MAX_HIDDEN];
        double z = *b2;
        for (uint32_t j = 0; j < H; j++) {
            double a = b1[j];
            for (int k = 0; k < dims; k++)
                a += W1[(size_t)j * dims + k] * xr[k];
            h[j] = a > 0 ? a : 0; // ReLU
            z += w2[j] * h[j];
        }
        prob = sigmoid (z);
        double e = prob - yr;
        double *gW1 = gr, *gb1 = gr + (size_t)H * dims;
        double *gw2 = gb1 + H, *gb2 = gw2 + H;
        *gb2 = e;
        for (uint32_t j = 0; j < H; j++) {
            gw2[j] = e * h[j];
            double d = h[j] > 0 ? e * w2[j] : 0.0;
            gb1[j] = d;
            for (int k = 0; k < dims; k++)
                gW1[(size_t)j * dims + k] = d * xr[k];
        }
    }
    double pc = prob < 1e-12 ? 1e-12 : prob > 1 - 1e-12 ? 1 - 1e-12 : prob;
    loss[i] = -(yr * log (pc) + (1 - yr) * log (1 - pc));
    ok[i] = (prob >= 0.5) == (yr >= 0.5) ? 1.0 : 0.0;
}

// One thread per parameter: its gradient summed over the batch in example
// order (deterministic), then the momentum update.
__global__ void
reduce_update (const double *g, size_t count, size_t nparams, double scale,
               double *p, double *v)
{
    size_t j = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (j >= nparams)
        return;
    double sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += g[i * nparams + j];
    v[j] = 0.9 * v[j] - scale * sum;
    p[j] += v[j];
}

unsigned
blocks (size_t n)
{
    return (unsigned)((n + THREADS - 1) / THREADS);
}

} // namespace

extern "C" int
loan_cuda_init (const double *x, const double *y, size_t n, int dims,
                int kind, uint32_t hidden, size_t nparams, uint32_t batch)
{
    if (dims > MAX_DIMS || hidden > MAX_HIDDEN || n == 0 || batch == 0) {
        fprintf (stderr, "train_loan_cuda: unsupported shape\n");
        return -1;
    }
    int dev = 0;
    cudaDeviceProp prop;
    if (!check (cudaGetDevice (&dev), "no CUDA device")
        || !check (cudaGetDeviceProperties (&prop, dev), "device properties"))
        return -1;
    snprintf (S.device, sizeof S.device, "%s", prop.name);
    S.dims = dims;
    S.kind = kind;
    S.hidden = hidden;
    S.n = n;
    S.nparams = nparams;
    S.batch = batch;
    S.h_loss.resize (batch);
    S.h_ok.resize (batch);
    if (!check (cudaMalloc (&S.x, n * dims * sizeof (double)), "cudaMalloc")
        || !check (cudaMalloc (&S.y, n * sizeof (double)), "cudaMalloc")
        || !check (cudaMalloc (&S.p, nparams * sizeof (double)), "cudaMalloc")
        || !check (cudaMalloc (&S.v, nparams * sizeof (double)), "cudaMalloc")
        || !check (cudaMalloc (&S.g, (size_t)batch * nparams
                                         * sizeof (double)),
                   "cudaMalloc")
        || !check (cudaMalloc (&S.loss, batch * sizeof (double)),
                   "cudaMalloc")
        || !check (cudaMalloc (&S.ok, batch * sizeof (double)), "cudaMalloc")
        || !check (cudaMalloc (&S.order, n * sizeof (uint32_t)),
                   "cudaMalloc")
        || !check (cudaMemcpy (S.x, x, n * dims * sizeof (double),
                               cudaMemcpyHostToDevice),
                   "copy of the data set")
        || !check (cudaMemcpy (S.y, y, n * sizeof (double),
                               cudaMemcpyHostToDevice),
                   "copy of the labels"))
        return -1;
    return 0;
}

extern "C" int
loan_cuda_put_params (const double *p, const double *v)
{
    size_t b = S.nparams * sizeof (double);
    return check (cudaMemcpy (S.p, p, b, cudaMemcpyHostToDevice), "put")
                   && check (cudaMemcpy (S.v, v, b, cudaMemcpyHostToDevice),
                             "put")
               ? 0
               : -1;
}

extern "C" int
loan_cuda_get_params (double *p, double *v)
{
    size_t b = S.nparams * sizeof (double);
    return check (cudaMemcpy (p, S.p, b, cudaMemcpyDeviceToHost), "get")
                   && check (cudaMemcpy (v, S.v, b, cudaMemcpyDeviceToHost),
                             "get")
               ? 0
               : -1;
}

extern "C" int
loan_cuda_set_order (const size_t *order, size_t n)
{
    std::vector<uint32_t> o (n);
    for (size_t i = 0; i < n; i++)
        o[i] = (uint32_t)order[i];
    return check (cudaMemcpy (S.order, o.data (), n * sizeof (uint32_t),
                              cudaMemcpyHostToDevice),
                  "copy of the epoch order")
               ? 0
               : -1;
}

extern "C" int
loan_cuda_step (size_t lo, size_t hi, double scale, double *loss,
                double *correct)
{
    size_t count = hi - lo;
    if (count == 0 || count > S.batch)
        return -1;
    example_grad<<<blocks (count), THREADS>>> (
        S.x, S.y, S.order, lo, count, S.dims, S.kind, S.hidden, S.nparams,
        S.p, S.g, S.loss, S.ok);
    reduce_update<<<blocks (S.nparams), THREADS>>> (S.g, count, S.nparams,
                                                    scale, S.p, S.v);
    if (!check (cudaGetLastError (), "kernel launch")
        || !check (cudaMemcpy (S.h_loss.data (), S.loss,
                               count * sizeof (double),
                               cudaMemcpyDeviceToHost),
                   "copy of the batch loss")
        || !check (cudaMemcpy (S.h_ok.data (), S.ok, count * sizeof (double),
                               cudaMemcpyDeviceToHost),
                   "copy of the batch loss"))
        return -1;
    double l = 0, c = 0;
    for (size_t i = 0; i < count; i++) {
        l += S.h_loss[i];
        c += S.h_ok[i];
    }
    *loss = l;
    *correct = c;
    return 0;
}

extern "C" const char *
loan_cuda_device (void)
{
    return S.device;
}

extern "C" void
loan_cuda_fini (void)
{
    cudaFree (S.x);
    cudaFree (S.y);
    cudaFree (S.p);
    cudaFree (S.v);
    cudaFree (S.g);
    cudaFree (S.loss);
    cudaFree (S.ok);
    cudaFree (S.order);
    S = state ();
}
