/* fake_nvml.c - a stand-in libnvidia-ml for test_worker_usage: the entry
 * points worker/nvml.c looks up, knowing two GPUs ("GPU-fake-0" at 40%
 * with 1 GiB used, "GPU-fake-1" at 80% with 3 GiB used). */
#include <string.h>

struct util {
    unsigned int gpu, memory;
};
struct mem {
    unsigned long long total, free, used;
};

int
nvmlInit_v2 (void)
{
    return 0;
}

int
nvmlShutdown (void)
{
    return 0;
}

int
nvmlDeviceGetHandleByUUID (const char *uuid, void **dev)
{
    if (strcmp (uuid, "GPU-fake-0") == 0)
        *dev = (void *)1;
    else if (strcmp (uuid, "GPU-fake-1") == 0)
        *dev = (void *)2;
    else
        return 13; /* NVML_ERROR_NOT_FOUND */
    return 0;
}

int
nvmlDeviceGetUtilizationRates (void *dev, struct util *u)
{
    u->gpu = dev == (void *)1 ? 40 : 80;
    u->memory = 10;
    return 0;
}

int
nvmlDeviceGetMemoryInfo (void *dev, struct mem *m)
{
    m->total = 16ULL << 30;
    m->used = dev == (void *)1 ? 1ULL << 30 : 3ULL << 30;
    m->free = m->total - m->used;
    return 0;
}
