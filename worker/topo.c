/* topo.c - node discovery: hwloc for the CPUs and PCI locality, a fake GPU
 * list or the CUDA runtime for the GPUs (see topo.h).
 *
 * Design notes.
 * - The result is kept as the wire message it becomes (Yard__Topology and
 *   its arrays, every string malloc'd here), so the worker sends it as is
 *   and nothing is converted twice.
 * - hwloc drops I/O objects unless asked: the I/O type filter is set to
 *   KEEP_IMPORTANT (GPUs, NICs, storage and the bridges above them), for a
 *   real machine and for XML alike, or no GPU would ever find its PCI device.
 * - The CUDA runtime is loaded with dlopen and its entry points looked up
 *   with dlsym, so the worker builds without CUDA headers and runs where
 *   there is no runtime or driver (then: no GPUs, one log line).  We use
 *   the calls whose ABI cannot drift (cudaGetDeviceCount,
 *   cudaDeviceGetAttribute, cudaDeviceGetPCIBusId).  Name, UUID and total
 *   memory exist only in cudaDeviceProp; we read just its head (name[256],
 *   cudaUUID_t, luid[8], luidDeviceNodeMask, totalGlobalMem), which has not
 *   moved since CUDA 10, into a buffer far larger than the struct has ever
 *   been.  The library stays loaded: unloading cudart at run time is known
 *   to crash in its destructors, and we load it once.
 * - GPUs are sorted by PCI bus id and deduplicated by bus id and UUID: one
 *   entry per PCI device whatever order or aliases a backend gives.
 */
#include "topo.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <hwloc.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define FAKE_LINE_MAX 1024
#define UUID_MAX 80
#define NAME_MAX_LEN 255

struct topo {
    Yard__Topology msg;
    Yard__NumaInfo *numa;
    Yard__NumaInfo **numap;
    Yard__CoreInfo *cores;
    Yard__CoreInfo **corep;
    Yard__GpuInfo *gpus;
    Yard__GpuInfo **gpup;
    size_t gpu_cap;
};

void
topo_source_from_env (struct topo_source *src)
{
    const char *x = getenv (TOPO_ENV_XMLFILE);
    const char *g = getenv (TOPO_ENV_FAKE_GPUS);
    const char *c = getenv (TOPO_ENV_CUDART);
    memset (src, 0, sizeof *src);
    src->xml_file = x && *x ? x : NULL;
    src->fake_gpus = g && *g ? g : NULL;
    src->cudart = c && *c ? c : NULL;
}

int
topo_busid_normalize (const char *in, char *out, size_t len)
{
    unsigned dom = 0, bus, dev, fn;
    char tail;
    if (!in)
        return -EINVAL;
    /* "DDDD:BB:DD.F" (CUDA may give 8 domain digits) or "BB:DD.F" */
    if (sscanf (in, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4) {
        dom = 0;
        if (sscanf (in, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3)
            return -EINVAL;
    }
    for (const char *p = in; *p; p++)
        if (!isxdigit ((unsigned char)*p) && *p != ':' && *p != '.')
            return -EINVAL;
    if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
        return -EINVAL;
    if (snprintf (out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn)
        >= (int)len)
        return -EINVAL;
    return 0;
}

/* ---- the message's storage ---- */

static void
free_str (char **s)
{
    if (*s && *s != protobuf_c_empty_string)
        free (*s);
    *s = (char *)protobuf_c_empty_string;
}

static int
set_str (char **field, const char *s)
{
    char *c = strdup (s ? s : "");
    if (!c)
        return -ENOMEM;
    free_str (field);
    *field = c;
    return 0;
}

static void
gpu_free (Yard__GpuInfo *g)
{
    free_str (&g->uuid);
    free_str (&g->name);
    free_str (&g->pci_bus_id);
    free_str (&g->local_cpus);
    free_str (&g->pci_switch);
}

void
topo_destroy (topo_t **tp)
{
    if (!tp || !*tp)
        return;
    topo_t *t = *tp;
    for (size_t i = 0; i < t->msg.n_numa; i++)
        free_str (&t->numa[i].cpus);
    for (size_t i = 0; i < t->msg.n_gpus; i++)
        gpu_free (&t->gpus[i]);
    for (size_t i = 0; i < t->msg.n_core_list; i++)
        free_str (&t->cores[i].pus);
    free_str (&t->msg.source);
    free (t->numa);
    free (t->numap);
    free (t->cores);
    free (t->corep);
    free (t->msg.numa_distances);
    free (t->gpus);
    free (t->gpup);
    free (t);
    *tp = NULL;
}

const Yard__Topology *
topo_proto (const topo_t *t)
{
    return &t->msg;
}

/* A new, zeroed GPU entry at the end (pointers fixed up at the end). */
static Yard__GpuInfo *
gpu_add (topo_t *t)
{
    if (t->msg.n_gpus == t->gpu_cap) {
        size_t cap = t->gpu_cap ? t->gpu_cap * 2 : 8;
        Yard__GpuInfo *g = realloc (t->gpus, cap * sizeof *g);
        if (!g)
            return NULL;
        t->gpus = g;
        t->gpu_cap = cap;
    }
    Yard__GpuInfo *g = &t->gpus[t->msg.n_gpus++];
    yard__gpu_info__init (g);
    g->numa_node = -1;
    return g;
}

static int
gpu_cmp (const void *a, const void *b)
{
    return strcmp (((const Yard__GpuInfo *)a)->pci_bus_id,
                   ((const Yard__GpuInfo *)b)->pci_bus_id);
}

/* Sort by bus id, build the pointer array.  Returns 0 or -ENOMEM. */
static int
gpus_finish (topo_t *t)
{
    size_t n = t->msg.n_gpus;
    if (n == 0)
        return 0;
    qsort (t->gpus, n, sizeof t->gpus[0], gpu_cmp);
    if (!(t->gpup = calloc (n, sizeof t->gpup[0])))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        t->gpup[i] = &t->gpus[i];
    t->msg.gpus = t->gpup;
    return 0;
}

/* The GPU already listed with this bus id or UUID, or NULL. */
static const Yard__GpuInfo *
gpu_find (const topo_t *t, const char *busid, const char *uuid)
{
    for (size_t i = 0; i < t->msg.n_gpus; i++)
        if (strcmp (t->gpus[i].pci_bus_id, busid) == 0
            || (uuid && *uuid && strcmp (t->gpus[i].uuid, uuid) == 0))
            return &t->gpus[i];
    return NULL;
}

/* ---- hwloc ---- */

static int
load_hwloc (hwloc_topology_t *hp, const struct topo_source *src,
            yard_error_t *err)
{
    hwloc_topology_t h;
    if (src->xml_file) {
        /* hwloc's own message for a missing file is a bare -1: say it */
        FILE *f = fopen (src->xml_file, "r");
        if (!f)
            return yard_errorf (err, errno, "cannot read the hwloc XML %s "
                                "(%s=%s): %s", src->xml_file,
                                TOPO_ENV_XMLFILE, src->xml_file,
                                strerror (errno));
        fclose (f);
    }
    if (hwloc_topology_init (&h) < 0)
        return yard_errorf (err, ENOMEM, "cannot initialise hwloc: %s",
                            strerror (errno));
    hwloc_topology_set_io_types_filter (h, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    if (src->xml_file && hwloc_topology_set_xml (h, src->xml_file) < 0) {
        int e = errno ? errno : EINVAL;
        hwloc_topology_destroy (h);
        return yard_errorf (err, e, "hwloc cannot use the XML %s: %s",
                            src->xml_file, strerror (e));
    }
    if (hwloc_topology_load (h) < 0) {
        int e = errno ? errno : EINVAL;
        hwloc_topology_destroy (h);
        if (src->xml_file)
            return yard_errorf (err, EINVAL, "hwloc cannot load the XML %s "
                                "(not a valid hwloc topology?): %s",
                                src->xml_file, strerror (e));
        return yard_errorf (err, e, "hwloc cannot read this machine's "
                            "topology: %s", strerror (e));
    }
    *hp = h;
    return 0;
}

static uint32_t
count (hwloc_topology_t h, hwloc_obj_type_t type)
{
    int n = hwloc_get_nbobjs_by_type (h, type);
    return n > 0 ? (uint32_t)n : 0;
}

/* A bitmap as a list ("0-15,32-47") into *field.  Returns 0 or -ENOMEM. */
static int
set_list (char **field, hwloc_const_bitmap_t set)
{
    char *s = NULL;
    if (!set)
        return set_str (field, "");
    if (hwloc_bitmap_list_asprintf (&s, set) < 0 || !s)
        return -ENOMEM;
    free_str (field);
    *field = s;
    return 0;
}

static int
fill_cpus (topo_t *t, hwloc_topology_t h)
{
    t->msg.packages = count (h, HWLOC_OBJ_PACKAGE);
    t->msg.numa_nodes = count (h, HWLOC_OBJ_NUMANODE);
    t->msg.cores = count (h, HWLOC_OBJ_CORE);
    t->msg.pus = count (h, HWLOC_OBJ_PU);
    size_t n = t->msg.numa_nodes;
    if (n == 0)
        return 0;
    if (!(t->numa = calloc (n, sizeof t->numa[0]))
        || !(t->numap = calloc (n, sizeof t->numap[0])))
        return -ENOMEM;
    hwloc_obj_t o = NULL;
    size_t i = 0;
    while (i < n
           && (o = hwloc_get_next_obj_by_type (h, HWLOC_OBJ_NUMANODE, o))) {
        Yard__NumaInfo *ni = &t->numa[i];
        yard__numa_info__init (ni);
        t->numap[i] = ni;
        t->msg.n_numa = ++i;
        ni->os_index = o->os_index;
        ni->memory_bytes = o->attr ? o->attr->numanode.local_memory : 0;
        if (set_list (&ni->cpus, o->cpuset) < 0)
            return -ENOMEM;
    }
    t->msg.numa = t->numap;
    return 0;
}

/* Each core's PUs (the cpuset lists PUs by OS index). */
static int
fill_cores (topo_t *t, hwloc_topology_t h)
{
    size_t n = count (h, HWLOC_OBJ_CORE);
    if (n == 0)
        return 0;
    if (!(t->cores = calloc (n, sizeof t->cores[0]))
        || !(t->corep = calloc (n, sizeof t->corep[0])))
        return -ENOMEM;
    t->msg.core_list = t->corep;
    hwloc_obj_t o = NULL;
    size_t i = 0;
    while (i < n && (o = hwloc_get_next_obj_by_type (h, HWLOC_OBJ_CORE, o))) {
        Yard__CoreInfo *ci = &t->cores[i];
        yard__core_info__init (ci);
        t->corep[i] = ci;
        t->msg.n_core_list = ++i;
        ci->os_index = o->os_index;
        if (set_list (&ci->pus, o->cpuset) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* The NUMA latency matrix in the order of msg.numa, when hwloc has one
 * covering every NUMA node (from the ACPI SLIT or the XML); else none. */
static int
fill_distances (topo_t *t, hwloc_topology_t h)
{
    size_t n = t->msg.n_numa;
    unsigned nr = 1;
    struct hwloc_distances_s *d = NULL;
    if (n < 2
        || hwloc_distances_get_by_type (h, HWLOC_OBJ_NUMANODE, &nr, &d,
                                        HWLOC_DISTANCES_KIND_MEANS_LATENCY,
                                        0) < 0
        || nr == 0)
        return 0;
    int rc = 0;
    size_t *pos = calloc (d->nbobjs + 1, sizeof *pos);
    uint32_t *m = calloc (n * n, sizeof *m);
    bool *set = calloc (n * n, sizeof *set);
    if (!pos || !m || !set) {
        rc = -ENOMEM;
        goto out;
    }
    for (unsigned a = 0; a < d->nbobjs; a++) {
        pos[a] = n;
        for (size_t i = 0; i < n; i++)
            if (d->objs[a] && d->objs[a]->os_index == t->numa[i].os_index)
                pos[a] = i;
    }
    for (unsigned a = 0; a < d->nbobjs; a++)
        for (unsigned b = 0; b < d->nbobjs; b++) {
            if (pos[a] == n || pos[b] == n)
                continue;
            uint64_t v = d->values[a * d->nbobjs + b];
            m[pos[a] * n + pos[b]] = v > UINT32_MAX ? UINT32_MAX
                                                    : (uint32_t)v;
            set[pos[a] * n + pos[b]] = true;
        }
    for (size_t i = 0; i < n * n; i++)
        if (!set[i])
            goto out; /* partial: report none */
    t->msg.numa_distances = m;
    t->msg.n_numa_distances = n * n;
    m = NULL;
out:
    free (pos);
    free (m);
    free (set);
    hwloc_distances_release (h, d);
    return rc;
}

/* A PCI-to-PCI bridge; a host bridge (the root complex) is not one. */
static bool
is_pci_bridge (hwloc_obj_t o)
{
    return o && o->type == HWLOC_OBJ_BRIDGE && o->attr
           && o->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI;
}

/* The PCIe switch above a PCI device, into buf (16 bytes or more): the bus
 * id of the bridge just above the device's own bridge (a switch's upstream
 * port above its downstream port), "0000:17:00.0"; "" when the device's
 * bridge hangs off the host bridge (a root port) or it has none. */
static void
pci_switch (hwloc_obj_t pci, char *buf, size_t len)
{
    if (len)
        buf[0] = '\0';
    /* GPU -> downstream port -> upstream port -> ... -> host bridge: the
     * switch is known by the bridge right above the GPU's own port, when
     * that one is a PCI bridge too */
    hwloc_obj_t port = pci ? pci->parent : NULL;
    if (!is_pci_bridge (port) || !is_pci_bridge (port->parent))
        return;
    const struct hwloc_pcidev_attr_s *a
        = &port->parent->attr->bridge.upstream.pci;
    snprintf (buf, len, "%04x:%02x:%02x.%01x", a->domain, a->bus, a->dev,
              a->func);
}

/* The NUMA node and PUs close to the GPU, from its PCI device.  Unknown
 * (-1, "") when hwloc has no such device or it sits above several NUMA
 * nodes.  Returns 0 or -ENOMEM. */
static int
gpu_locality (hwloc_topology_t h, Yard__GpuInfo *g)
{
    hwloc_obj_t pci = hwloc_get_pcidev_by_busidstring (h, g->pci_bus_id);
    g->numa_node = -1;
    if (!pci) {
        log_warn ("GPU %s (%s): hwloc has no PCI device %s, its NUMA node "
                  "and CPUs are unknown", g->uuid, g->name, g->pci_bus_id);
        return set_str (&g->local_cpus, "");
    }
    hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj (h, pci);
    if (anc && anc->nodeset && hwloc_bitmap_weight (anc->nodeset) == 1)
        g->numa_node = hwloc_bitmap_first (anc->nodeset);
    if (set_list (&g->local_cpus, anc ? anc->cpuset : NULL) < 0)
        return -ENOMEM;
    char sw[32];
    pci_switch (pci, sw, sizeof sw);
    return set_str (&g->pci_switch, sw);
}


/* ---- GPUs: a fake list ---- */

/* One line "PCI_BUS_ID UUID MEMORY_MIB NAME...", already trimmed. */
static int
fake_line (topo_t *t, const char *path, unsigned lineno, char *line,
           yard_error_t *err)
{
    char *save = NULL;
    char *bus = strtok_r (line, " \t", &save);
    char *uuid = strtok_r (NULL, " \t", &save);
    char *mib = strtok_r (NULL, " \t", &save);
    char *name = save;
    char busid[32];
    uint64_t m;

    while (name && (*name == ' ' || *name == '\t'))
        name++;
    if (!bus || !uuid || !mib || !name || !*name)
        return yard_errorf (err, EINVAL, "%s line %u: expected 'PCI_BUS_ID "
                            "UUID MEMORY_MIB NAME...'", path, lineno);
    if (topo_busid_normalize (bus, busid, sizeof busid) < 0)
        return yard_errorf (err, EINVAL, "%s line %u: '%.40s' is not a PCI "
                            "bus id like 0000:3b:00.0", path, lineno, bus);
    if (strlen (uuid) > UUID_MAX)
        return yard_errorf (err, EINVAL, "%s line %u: the UUID is longer "
                            "than %d characters", path, lineno, UUID_MAX);
    if (yard_parse_u64 (mib, &m) < 0 || m == 0 || m > (UINT64_MAX >> 20))
        return yard_errorf (err, EINVAL, "%s line %u: '%.40s' is not a "
                            "memory size in MiB (a whole number > 0)", path,
                            lineno, mib);
    if (strlen (name) > NAME_MAX_LEN)
        return yard_errorf (err, EINVAL, "%s line %u: the name is longer "
                            "than %d bytes", path, lineno, NAME_MAX_LEN);
    for (const char *p = line; p < name + strlen (name); p++)
        if (*p && ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f))
            return yard_errorf (err, EINVAL, "%s line %u: control "
                                "character", path, lineno);
    if (gpu_find (t, busid, uuid))
        return yard_errorf (err, EINVAL, "%s line %u: a GPU with bus id %s "
                            "or UUID %s is already listed (one line per PCI "
                            "device)", path, lineno, busid, uuid);
    if (t->msg.n_gpus >= TOPO_MAX_GPUS)
        return yard_errorf (err, EINVAL, "%s line %u: more than %d GPUs",
                            path, lineno, TOPO_MAX_GPUS);
    Yard__GpuInfo *g = gpu_add (t);
    if (!g)
        return yard_errorf (err, ENOMEM, "out of memory");
    g->index = (uint32_t)(t->msg.n_gpus - 1);
    g->memory_bytes = m << 20;
    if (set_str (&g->pci_bus_id, busid) < 0 || set_str (&g->uuid, uuid) < 0
        || set_str (&g->name, name) < 0)
        return yard_errorf (err, ENOMEM, "out of memory");
    return 0;
}

static int
load_fake_gpus (topo_t *t, const char *path, yard_error_t *err)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return yard_errorf (err, errno, "cannot read the GPU list %s (%s): "
                            "%s", path, TOPO_ENV_FAKE_GPUS, strerror (errno));
    char buf[FAKE_LINE_MAX + 2];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets (buf, sizeof buf, f)) {
        lineno++;
        size_t len = strlen (buf);
        if (len > FAKE_LINE_MAX && buf[len - 1] != '\n') {
            rc = yard_errorf (err, EINVAL, "%s line %u: longer than %d "
                              "bytes", path, lineno, FAKE_LINE_MAX);
            break;
        }
        while (len > 0 && isspace ((unsigned char)buf[len - 1]))
            buf[--len] = '\0';
        char *p = buf;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        if ((rc = fake_line (t, path, lineno, p, err)) < 0)
            break;
    }
    if (rc == 0 && ferror (f))
        rc = yard_errorf (err, EIO, "cannot read the GPU list %s: %s", path,
                          strerror (errno));
    fclose (f);
    return rc;
}

/* ---- GPUs: the CUDA runtime ---- */

/* The few cudart entry points we use; see the design note at the top. */
typedef int (*cuda_count_f) (int *count);
typedef int (*cuda_attr_f) (int *value, int attr, int device);
typedef int (*cuda_busid_f) (char *busid, int len, int device);
typedef int (*cuda_props_f) (void *prop, int device);
typedef const char *(*cuda_errstr_f) (int error);

enum { /* enum cudaDeviceAttr */
       CUDA_ATTR_PCI_BUS = 33,
       CUDA_ATTR_PCI_DEVICE = 34,
       CUDA_ATTR_PCI_DOMAIN = 50,
       CUDA_ATTR_CC_MAJOR = 75,
       CUDA_ATTR_CC_MINOR = 76 };

/* The head of cudaDeviceProp (CUDA >= 10). */
struct cuda_prop_head {
    char name[256];
    unsigned char uuid[16];
    char luid[8];
    unsigned int luid_node_mask;
    size_t total_global_mem;
};

static void *
cudart_open (const char *first)
{
    if (first) {
        void *lib = dlopen (first, RTLD_NOW | RTLD_LOCAL);
        if (lib)
            return lib;
        log_warn ("cannot load the CUDA runtime %s (%s): trying the usual "
                  "names", first, dlerror ());
    }
    static const char *const names[] = {
        "libcudart.so",    "libcudart.so.13", "libcudart.so.12",
        "libcudart.so.11.0", "libcudart.so.10.2", "libcudart.so.10.1",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *lib = dlopen (names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib)
            return lib;
    }
    /* The toolkit's own folder, which is often not in the loader's path
     * (the CUDA installer does not add it; $CUDA_HOME where it is set). */
    const char *home = getenv ("CUDA_HOME");
    const char *const dirs[] = { home && *home ? home : NULL,
                                 "/usr/local/cuda" };
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        if (!dirs[d])
            continue;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char path[4096];
            int n = snprintf (path, sizeof path, "%s/lib64/%s", dirs[d],
                              names[i]);
            if (n < 0 || (size_t)n >= sizeof path)
                continue;
            void *lib = dlopen (path, RTLD_NOW | RTLD_LOCAL);
            if (lib)
                return lib;
        }
    }
    return NULL;
}

static const char *
cuda_err (cuda_errstr_f errstr, int rc, char *buf, size_t len)
{
    const char *s = errstr ? errstr (rc) : NULL;
    snprintf (buf, len, "CUDA error %d%s%s", rc, s ? ": " : "", s ? s : "");
    return buf;
}

/* One CUDA device into t.  Returns 0, 1 (skipped, logged) or -ENOMEM. */
static int
cuda_one (topo_t *t, int dev, cuda_attr_f attr, cuda_busid_f busid_fn,
          cuda_props_f props_fn, cuda_errstr_f errstr)
{
    char raw[64] = "", busid[32], ebuf[160];
    int v, rc;
    if (busid_fn && busid_fn (raw, (int)sizeof raw, dev) == 0) {
        raw[sizeof raw - 1] = '\0';
    } else if (attr) {
        int dom = 0, bus = 0, d = 0;
        if ((rc = attr (&dom, CUDA_ATTR_PCI_DOMAIN, dev)) != 0
            || (rc = attr (&bus, CUDA_ATTR_PCI_BUS, dev)) != 0
            || (rc = attr (&d, CUDA_ATTR_PCI_DEVICE, dev)) != 0) {
            log_warn ("CUDA device %d: no PCI bus id (%s): skipped", dev,
                      cuda_err (errstr, rc, ebuf, sizeof ebuf));
            return 1;
        }
        snprintf (raw, sizeof raw, "%04x:%02x:%02x.0", (unsigned)dom,
                  (unsigned)bus, (unsigned)d);
    }
    if (topo_busid_normalize (raw, busid, sizeof busid) < 0) {
        log_warn ("CUDA device %d: bad PCI bus id '%s': skipped", dev, raw);
        return 1;
    }
    /* far larger than any cudaDeviceProp; aligned for the size_t in it */
    union cuda_prop {
        struct cuda_prop_head head;
        unsigned char bytes[16384];
    } *prop = calloc (1, sizeof *prop);
    char uuid[UUID_MAX + 1] = "";
    if (!prop)
        return -ENOMEM;
    if (props_fn && (rc = props_fn (prop, dev)) == 0) {
        const unsigned char *u = prop->head.uuid;
        prop->head.name[sizeof prop->head.name - 1] = '\0';
        snprintf (uuid, sizeof uuid,
                  "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                  "%02x%02x%02x%02x%02x%02x",
                  u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
                  u[10], u[11], u[12], u[13], u[14], u[15]);
    } else {
        log_warn ("CUDA device %d (%s): no properties (%s): its name, UUID "
                  "and memory are unknown", dev, busid,
                  props_fn ? cuda_err (errstr, rc, ebuf, sizeof ebuf)
                           : "no cudaGetDeviceProperties");
    }
    if (gpu_find (t, busid, uuid)) {
        log_warn ("CUDA device %d: %s %s is listed twice: counted once", dev,
                  busid, uuid);
        free (prop);
        return 1;
    }
    Yard__GpuInfo *g = gpu_add (t);
    if (!g) {
        free (prop);
        return -ENOMEM;
    }
    g->index = (uint32_t)dev;
    g->memory_bytes = prop->head.total_global_mem;
    if (attr && attr (&v, CUDA_ATTR_CC_MAJOR, dev) == 0 && v >= 0)
        g->cc_major = (uint32_t)v;
    if (attr && attr (&v, CUDA_ATTR_CC_MINOR, dev) == 0 && v >= 0)
        g->cc_minor = (uint32_t)v;
    rc = set_str (&g->pci_bus_id, busid) < 0 || set_str (&g->uuid, uuid) < 0
                 || set_str (&g->name, prop->head.name) < 0
             ? -ENOMEM
             : 0;
    free (prop);
    return rc;
}

/* GPUs from the CUDA runtime; none (logged once) when it or the driver is
 * missing.  Returns 0 or -ENOMEM. */
static int
load_cuda (topo_t *t, const char *first)
{
    void *lib = cudart_open (first);
    if (!lib) {
        log_info ("no CUDA runtime (libcudart.so) found: no GPUs");
        return 0;
    }
    cuda_count_f count_fn = (cuda_count_f)dlsym (lib, "cudaGetDeviceCount");
    cuda_attr_f attr = (cuda_attr_f)dlsym (lib, "cudaDeviceGetAttribute");
    cuda_busid_f busid_fn
        = (cuda_busid_f)dlsym (lib, "cudaDeviceGetPCIBusId");
    cuda_props_f props_fn
        = (cuda_props_f)dlsym (lib, "cudaGetDeviceProperties_v2");
    if (!props_fn)
        props_fn = (cuda_props_f)dlsym (lib, "cudaGetDeviceProperties");
    cuda_errstr_f errstr = (cuda_errstr_f)dlsym (lib, "cudaGetErrorString");
    if (!count_fn) {
        log_warn ("the CUDA runtime has no cudaGetDeviceCount: no GPUs");
        return 0;
    }
    /* with no driver, cudaGetDeviceCount fails (35, insufficient driver)
     * and leaves n as it was */
    int n = 0;
    int rc = count_fn (&n);
    if (rc != 0) {
        char ebuf[160];
        log_info ("CUDA runtime found, but it reports no usable GPU (%s): "
                  "no GPUs", cuda_err (errstr, rc, ebuf, sizeof ebuf));
        return 0;
    }
    if (n > TOPO_MAX_GPUS) {
        log_warn ("CUDA reports %d GPUs; using the first %d", n,
                  TOPO_MAX_GPUS);
        n = TOPO_MAX_GPUS;
    }
    for (int d = 0; d < n; d++)
        if ((rc = cuda_one (t, d, attr, busid_fn, props_fn, errstr)) < 0)
            return rc;
    return 0;
}

/* ---- discovery ---- */

topo_t *
topo_discover (const struct topo_source *src, yard_error_t *err)
{
    hwloc_topology_t h = NULL;
    char source[2 * 4096 + 64];
    int e = ENOMEM, rc;
    topo_t *t = calloc (1, sizeof *t);
    if (!t) {
        yard_errorf (err, ENOMEM, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    yard__topology__init (&t->msg);
    if ((rc = load_hwloc (&h, src, err)) < 0) {
        e = -rc;
        goto error;
    }
    if (fill_cpus (t, h) < 0 || fill_cores (t, h) < 0
        || fill_distances (t, h) < 0)
        goto nomem;
    if (src->fake_gpus) {
        if ((rc = load_fake_gpus (t, src->fake_gpus, err)) < 0) {
            e = -rc;
            goto error;
        }
    } else if (!src->no_cuda && load_cuda (t, src->cudart) < 0) {
        goto nomem;
    }
    for (size_t i = 0; i < t->msg.n_gpus; i++)
        if (gpu_locality (h, &t->gpus[i]) < 0)
            goto nomem;
    if (gpus_finish (t) < 0)
        goto nomem;
    snprintf (source, sizeof source, "%s%s%s%s",
              src->xml_file ? "xml:" : "hwloc",
              src->xml_file ? src->xml_file : "",
              src->fake_gpus ? "+fake-gpus:" : src->no_cuda ? "" : "+cudart",
              src->fake_gpus ? src->fake_gpus : "");
    if (set_str (&t->msg.source, source) < 0)
        goto nomem;
    hwloc_topology_destroy (h);
    return t;

nomem:
    yard_errorf (err, ENOMEM, "out of memory");
    e = ENOMEM;
error:
    if (h)
        hwloc_topology_destroy (h);
    /* the proto arrays may be half built: free through the counts */
    t->msg.gpus = t->gpup;
    topo_destroy (&t);
    errno = e;
    return NULL;
}

char *
topo_summary (const topo_t *t, char *buf, size_t len)
{
    const Yard__Topology *m = &t->msg;
    const char *model = m->n_gpus ? m->gpus[0]->name : "";
    bool mixed = false;
    for (size_t i = 1; i < m->n_gpus; i++)
        if (strcmp (m->gpus[i]->name, model) != 0)
            mixed = true;
    snprintf (buf, len,
              "%" PRIu32 " package%s, %" PRIu32 " NUMA, %" PRIu32
              " cores, %" PRIu32 " PUs, %zu GPU%s%s%s%s from %s",
              m->packages, m->packages == 1 ? "" : "s", m->numa_nodes,
              m->cores, m->pus, m->n_gpus, m->n_gpus == 1 ? "" : "s",
              m->n_gpus ? " (" : "", m->n_gpus ? (mixed ? "mixed" : model) : "",
              m->n_gpus ? ")" : "", m->source);
    return buf;
}
