/* fake_nvml.c - a stand-in libnvidia-ml for test_worker_usage and the
 * resource-use integration test: the entry points worker/nvml.c looks up,
 * knowing "GPU-fake-0" (40%, 1 GiB used), "GPU-fake-1" (80%, 3 GiB used)
 * and each UUID listed in $FAKE_NVML_UUIDS (comma-separated: 50%, 2 GiB
 * used). */
#include <stdlib.h>
#include <string.h>

static int
listed (const char *uuid)
{
    const char *l = getenv ("FAKE_NVML_UUIDS");
    size_t n = strlen (uuid);
    while (l && *l) {
        const char *end = strchr (l, ',');
        size_t len = end ? (size_t)(end - l) : strlen (l);
        if (len == n && strncmp (l, uuid, n) == 0)
            return 1;
        l = end ? end + 1 : NULL;
    }
    return 0;
}

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
    else if (listed (uuid))
        *dev = (void *)3;
    else
        return 13; /* NVML_ERROR_NOT_FOUND */
    return 0;
}

int
nvmlDeviceGetUtilizationRates (void *dev, struct util *u)
{
    u->gpu = dev == (void *)1 ? 40 : dev == (void *)2 ? 80 : 50;
    u->memory = 10;
    return 0;
}

int
nvmlDeviceGetMemoryInfo (void *dev, struct mem *m)
{
    m->total = 16ULL << 30;
    m->used = dev == (void *)1   ? 1ULL << 30
              : dev == (void *)2 ? 3ULL << 30
                                 : 2ULL << 30;
    m->free = m->total - m->used;
    return 0;
}
