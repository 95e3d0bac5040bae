/* nvml.c - the few NVML entry points a resource sample needs, found with
 * dlsym (see nvml.h).  NVML's C types are declared here by their ABI (an
 * opaque device handle, two structs of plain integers): the worker builds
 * with no NVIDIA headers. */
#include "nvml.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef void *nvml_device_t;
struct nvml_utilization {
    unsigned int gpu;
    unsigned int memory;
};
struct nvml_memory {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};

static struct {
    bool tried;
    void *lib;
    int (*init) (void);
    int (*shutdown) (void);
    int (*by_uuid) (const char *, nvml_device_t *);
    int (*util) (nvml_device_t, struct nvml_utilization *);
    int (*mem) (nvml_device_t, struct nvml_memory *);
} n;

static bool
nvml_load (void)
{
    if (n.tried)
        return n.lib != NULL;
    n.tried = true;
    const char *name = getenv ("YARD_NVML");
    if (!name || !*name)
        name = "libnvidia-ml.so.1";
    void *lib = dlopen (name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        log_debug ("no NVML (%s): GPU use is not measured", dlerror ());
        return false;
    }
    n.init = (int (*) (void))dlsym (lib, "nvmlInit_v2");
    n.shutdown = (int (*) (void))dlsym (lib, "nvmlShutdown");
    n.by_uuid = (int (*) (const char *, nvml_device_t *))dlsym (
        lib, "nvmlDeviceGetHandleByUUID");
    n.util = (int (*) (nvml_device_t, struct nvml_utilization *))dlsym (
        lib, "nvmlDeviceGetUtilizationRates");
    n.mem = (int (*) (nvml_device_t, struct nvml_memory *))dlsym (
        lib, "nvmlDeviceGetMemoryInfo");
    int rc = -1;
    if (!n.init || !n.by_uuid || !n.util || !n.mem
        || (rc = n.init ()) != 0) {
        log_warn ("NVML %s unusable (%s): GPU use is not measured", name,
                  rc > 0 ? "nvmlInit failed" : "entry points missing");
        dlclose (lib);
        return false;
    }
    n.lib = lib;
    log_info ("NVML loaded from %s: GPU use is measured", name);
    return true;
}

int
nvml_sample (const char *uuids, struct usage *u)
{
    if (!uuids || !*uuids)
        return -ENODEV;
    if (!nvml_load ())
        return -ENOTSUP;
    char list[4096];
    snprintf (list, sizeof list, "%s", uuids);
    unsigned long long used = 0;
    unsigned int util = 0, count = 0;
    char *save = NULL;
    for (char *id = strtok_r (list, ",", &save); id;
         id = strtok_r (NULL, ",", &save)) {
        nvml_device_t dev;
        struct nvml_utilization ut;
        struct nvml_memory mem;
        if (n.by_uuid (id, &dev) != 0 || n.util (dev, &ut) != 0
            || n.mem (dev, &mem) != 0)
            continue;
        util += ut.gpu;
        used += mem.used;
        count++;
    }
    if (count == 0)
        return -ENODEV;
    u->has_gpu = true;
    u->gpu_util_pct = util / count;
    u->gpu_memory_bytes = used;
    if (used > u->gpu_peak_memory_bytes)
        u->gpu_peak_memory_bytes = used;
    return 0;
}

void
nvml_fini (void)
{
    if (n.lib) {
        if (n.shutdown)
            n.shutdown ();
        dlclose (n.lib);
    }
    memset (&n, 0, sizeof n);
}
