/* nvml.h - GPU utilisation and memory of an attempt's GPUs through NVML.
 *
 * libnvidia-ml.so.1 is loaded with dlopen on first use, never linked, so
 * the worker runs on nodes without a driver: there every sample answers
 * -ENOTSUP and the GPU fields of a ResourceUse stay unset.  YARD_NVML names
 * another library to load (the tests' fake one).
 */
#ifndef WORKER_NVML_H
#define WORKER_NVML_H

#include "usage.h"

/* Sample the GPUs named in uuids (comma-separated NVML/CUDA UUIDs,
 * "GPU-..."): mean utilisation, memory used summed, and the peak raised
 * to it.  0, -ENOTSUP (no NVML), -ENODEV (no GPU of the list known). */
int nvml_sample (const char *uuids, struct usage *u);

/* Shut NVML down and unload it (at worker exit).  Safe without nvml_sample
 * having run. */
void nvml_fini (void);

#endif
