/* fake_cudart.c - a stand-in libcudart for test_topo: the few entry points
 * worker/topo.c looks up, describing two GPUs in the reverse of their PCI
 * order (so a test sees that GPUs are known by bus id, not ordinal).
 * FAKE_CUDART_FAIL=1: cudaGetDeviceCount fails as with no driver (35) and
 * leaves the count alone; FAKE_CUDART_DUP=1: a third device repeats the
 * first's PCI device. */
#include <stdlib.h>
#include <string.h>

static int
env_on (const char *name)
{
    const char *v = getenv (name);
    return v && strcmp (v, "1") == 0;
}

int
cudaGetDeviceCount (int *count)
{
    if (env_on ("FAKE_CUDART_FAIL"))
        return 35;
    *count = env_on ("FAKE_CUDART_DUP") ? 3 : 2;
    return 0;
}

static const char *const busids[] = { "0000:9A:00.0", "0000:18:00.0",
                                      "0000:9a:00.0" };

int
cudaDeviceGetPCIBusId (char *buf, int len, int dev)
{
    if (dev < 0 || dev > 2 || len < 13)
        return 101; /* invalid device */
    strncpy (buf, busids[dev], (size_t)len);
    return 0;
}

int
cudaDeviceGetAttribute (int *value, int attr, int dev)
{
    if (dev < 0 || dev > 2)
        return 101;
    switch (attr) {
    case 75: *value = 9; return 0;  /* compute capability major */
    case 76: *value = 0; return 0;  /* minor */
    default: return 1;              /* invalid value */
    }
}

/* Only the head of cudaDeviceProp; the caller's buffer is far larger. */
struct prop_head {
    char name[256];
    unsigned char uuid[16];
    char luid[8];
    unsigned int luid_node_mask;
    size_t total_global_mem;
};

int
cudaGetDeviceProperties_v2 (void *prop, int dev)
{
    struct prop_head *p = prop;
    if (dev < 0 || dev > 2)
        return 101;
    memset (p, 0, sizeof *p);
    strcpy (p->name, "NVIDIA H100 80GB HBM3");
    for (int i = 0; i < 16; i++)
        p->uuid[i] = (unsigned char)(dev % 2 * 0x10 + i);
    p->total_global_mem = (size_t)85520809984ULL;
    return 0;
}

const char *
cudaGetErrorString (int err)
{
    return err == 35 ? "CUDA driver version is insufficient for CUDA "
                       "runtime version"
                     : "fake error";
}
