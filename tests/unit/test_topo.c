/* test_topo.c - node discovery on the fixtures of tests/fixtures/: the
 * counts and NUMA nodes of a laptop, a 2-socket 8-GPU server and a 4-GPU
 * workstation, each GPU's locality from its PCI bus id, and the errors
 * (missing or invalid XML, missing or malformed GPU lists). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topo.h"

#define FIX(name) YARD_FIXTURES "/" name
#define GIB (UINT64_C (1) << 30)

static topo_t *
discover (const char *xml, const char *gpus, yard_error_t *err)
{
    struct topo_source src = { .xml_file = xml, .fake_gpus = gpus,
                               .no_cuda = true };
    return topo_discover (&src, err);
}

/* A temporary GPU list holding text; the path is static. */
static const char *
gpu_file (const char *text)
{
    static char path[64];
    snprintf (path, sizeof path, "/tmp/yard-test-topo-XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
    close (fd);
    return path;
}

/* Cores and the NUMA latency matrix, in the order of the NUMA list. */
static void
test_numa4_distances (void **state)
{
    (void)state;
    yard_error_t err = { 0 };
    topo_t *t = discover (FIX ("numa4-smt.xml"), NULL, &err);
    assert_non_null (t);
    const Yard__Topology *m = topo_proto (t);
    assert_int_equal (m->n_numa, 4);
    assert_int_equal (m->n_core_list, 8);
    assert_string_equal (m->core_list[1]->pus, "2-3");
    assert_string_equal (m->core_list[7]->pus, "14-15");
    static const uint32_t want[16] = { 10, 12, 20, 22, 12, 10, 22, 20,
                                       20, 22, 10, 12, 22, 20, 12, 10 };
    assert_int_equal (m->n_numa_distances, 16);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal (m->numa[i]->os_index, i);
    assert_memory_equal (m->numa_distances, want, sizeof want);
    topo_destroy (&t);
    /* without a matrix (two NUMA nodes, none in the XML): none reported */
    t = discover (FIX ("server-8gpu.xml"), NULL, &err);
    assert_non_null (t);
    assert_int_equal (topo_proto (t)->n_numa_distances, 0);
    assert_int_equal (topo_proto (t)->n_core_list, 32);
    topo_destroy (&t);
}

static void
test_laptop (void **state)
{
    (void)state;
    yard_error_t err = { 0 };
    topo_t *t = discover (FIX ("laptop.xml"), NULL, &err);
    assert_non_null (t);
    const Yard__Topology *m = topo_proto (t);
    assert_int_equal (m->packages, 1);
    assert_int_equal (m->numa_nodes, 1);
    assert_int_equal (m->cores, 4);
    assert_int_equal (m->pus, 8);
    assert_int_equal (m->n_numa, 1);
    assert_int_equal (m->numa[0]->os_index, 0);
    assert_string_equal (m->numa[0]->cpus, "0-7");
    assert_int_equal (m->numa[0]->memory_bytes, 16 * GIB);
    assert_int_equal (m->n_gpus, 0);
    assert_string_equal (m->source, "xml:" FIX ("laptop.xml"));
    /* each core's two hardware threads; one NUMA node: no distances */
    assert_int_equal (m->n_core_list, 4);
    assert_int_equal (m->core_list[0]->os_index, 0);
    assert_string_equal (m->core_list[0]->pus, "0-1");
    assert_string_equal (m->core_list[3]->pus, "6-7");
    assert_int_equal (m->n_numa_distances, 0);
    char buf[512];
    assert_non_null (strstr (topo_summary (t, buf, sizeof buf),
                             "1 package, 1 NUMA, 4 cores, 8 PUs, 0 GPUs"));
    topo_destroy (&t);
    assert_null (t);
    topo_destroy (&t);
    topo_destroy (NULL);
}

static void
test_server (void **state)
{
    (void)state;
    static const char *bus[8] = { "0000:18:00.0", "0000:2a:00.0",
                                  "0000:3a:00.0", "0000:5d:00.0",
                                  "0000:9a:00.0", "0000:ab:00.0",
                                  "0000:ba:00.0", "0000:db:00.0" };
    static const char *sw[4] = { "0000:16:00.0", "0000:38:00.0",
                                 "0000:98:00.0", "0000:b8:00.0" };
    yard_error_t err = { 0 };
    topo_t *t = discover (FIX ("server-8gpu.xml"), FIX ("server-8gpu.gpus"),
                          &err);
    assert_non_null (t);
    const Yard__Topology *m = topo_proto (t);
    assert_int_equal (m->packages, 2);
    assert_int_equal (m->numa_nodes, 2);
    assert_int_equal (m->cores, 32);
    assert_int_equal (m->pus, 64);
    assert_int_equal (m->n_numa, 2);
    assert_string_equal (m->numa[0]->cpus, "0-31");
    assert_string_equal (m->numa[1]->cpus, "32-63");
    assert_int_equal (m->numa[1]->os_index, 1);
    assert_int_equal (m->numa[1]->memory_bytes, 256 * GIB);
    assert_int_equal (m->n_gpus, 8);
    for (int i = 0; i < 8; i++) {
        const Yard__GpuInfo *g = m->gpus[i];
        char uuid[64];
        snprintf (uuid, sizeof uuid,
                  "GPU-8f3c%04x-1b2a-4c5d-9e8f-0a1b2c3d4e%02x", i, i);
        assert_string_equal (g->pci_bus_id, bus[i]);
        assert_string_equal (g->uuid, uuid);
        assert_string_equal (g->name, "NVIDIA H100 80GB HBM3");
        assert_int_equal (g->memory_bytes, UINT64_C (81559) << 20);
        assert_int_equal (g->numa_node, i < 4 ? 0 : 1);
        assert_string_equal (g->local_cpus, i < 4 ? "0-31" : "32-63");
        /* two PCIe switches per socket, two GPUs each, known by their
         * upstream ports */
        assert_string_equal (g->pci_switch, sw[i / 2]);
    }
    assert_string_equal (m->source, "xml:" FIX ("server-8gpu.xml")
                                    "+fake-gpus:" FIX ("server-8gpu.gpus"));
    char buf[512];
    assert_non_null (strstr (topo_summary (t, buf, sizeof buf),
                             "8 GPUs (NVIDIA H100 80GB HBM3)"));
    topo_destroy (&t);
}

static void
test_workstation (void **state)
{
    (void)state;
    yard_error_t err = { 0 };
    topo_t *t = discover (FIX ("workstation-4gpu.xml"),
                          FIX ("workstation-4gpu.gpus"), &err);
    assert_non_null (t);
    const Yard__Topology *m = topo_proto (t);
    assert_int_equal (m->packages, 1);
    assert_int_equal (m->cores, 24);
    assert_int_equal (m->pus, 48);
    assert_int_equal (m->n_gpus, 4);
    assert_string_equal (m->gpus[3]->pci_bus_id, "0000:61:00.0");
    for (size_t i = 0; i < m->n_gpus; i++) {
        assert_int_equal (m->gpus[i]->numa_node, 0);
        assert_string_equal (m->gpus[i]->local_cpus, "0-47");
        assert_int_equal (m->gpus[i]->index, i);
        /* each GPU behind its own root port: no switch */
        assert_string_equal (m->gpus[i]->pci_switch, "");
    }
    topo_destroy (&t);
}

/* A GPU right under the host bridge (no PCI bridge at all, as in many VMs)
 * is under no switch; its locality is still known. */
static void
test_gpu_on_host_bridge (void **state)
{
    (void)state;
    FILE *fp = fopen (FIX ("workstation-4gpu.xml"), "r");
    assert_non_null (fp);
    static char xml[1 << 20];
    size_t n = fread (xml, 1, sizeof xml - 1, fp);
    fclose (fp);
    xml[n] = '\0';
    /* drop the root port above 0000:01:00.0: its line and closing tag */
    char *port = strstr (xml, "pci_busid=\"0000:00:00.0\"");
    assert_non_null (port);
    while (port > xml && port[-1] != '\n')
        port--;
    char *dev = strchr (port, '\n') + 1;
    char *dev_end = strstr (dev, "/>\n");
    assert_non_null (dev_end);
    dev_end += 3;
    char *close_end = strchr (dev_end, '\n') + 1;
    static char out[1 << 20];
    snprintf (out, sizeof out, "%.*s%.*s%s", (int)(port - xml), xml,
              (int)(dev_end - dev), dev, close_end);
    char xml_path[64];
    snprintf (xml_path, sizeof xml_path, "%s", gpu_file (out));
    const char *gpus = gpu_file ("0000:01:00.0 GPU-v 1024 Virtual\n"
                                 "0000:21:00.0 GPU-w 1024 Rooted\n");
    yard_error_t err = { 0 };
    topo_t *t = discover (xml_path, gpus, &err);
    unlink (xml_path);
    unlink (gpus);
    assert_non_null (t);
    const Yard__Topology *m = topo_proto (t);
    assert_int_equal (m->n_gpus, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal (m->gpus[i]->numa_node, 0);
        assert_string_equal (m->gpus[i]->local_cpus, "0-47");
        assert_string_equal (m->gpus[i]->pci_switch, "");
    }
    topo_destroy (&t);
}

/* Order in the list does not matter: sorted by bus id; a bus id hwloc does
 * not know leaves the GPU with unknown locality, not an error. */
static void
test_order_and_unknown_bus (void **state)
{
    (void)state;
    yard_error_t err = { 0 };
    const char *f = gpu_file ("  # comment\n"
                              "0000:9A:00.0 GPU-b 1024 Second GPU  \n"
                              "\n"
                              "\t77:00.0 GPU-x 2048 Nowhere\n"
                              "18:00.0 GPU-a 1024 First\n");
    topo_t *t = discover (FIX ("server-8gpu.xml"), f, &err);
    unlink (f);
    assert_non_null (t);
    const Yard__Topology *m = topo_proto (t);
    assert_int_equal (m->n_gpus, 3);
    assert_string_equal (m->gpus[0]->uuid, "GPU-a");
    assert_string_equal (m->gpus[0]->pci_bus_id, "0000:18:00.0");
    assert_int_equal (m->gpus[0]->numa_node, 0);
    assert_string_equal (m->gpus[1]->pci_bus_id, "0000:77:00.0");
    assert_int_equal (m->gpus[1]->numa_node, -1);
    assert_string_equal (m->gpus[1]->local_cpus, "");
    assert_string_equal (m->gpus[1]->pci_switch, "");
    assert_string_equal (m->gpus[0]->pci_switch, "0000:16:00.0");
    assert_string_equal (m->gpus[2]->uuid, "GPU-b");
    assert_string_equal (m->gpus[2]->pci_switch, "0000:98:00.0");
    assert_string_equal (m->gpus[2]->name, "Second GPU");
    assert_int_equal (m->gpus[2]->numa_node, 1);
    assert_string_equal (m->gpus[2]->local_cpus, "32-63");
    topo_destroy (&t);
}

static void
bad_list (const char *text, const char *want)
{
    yard_error_t err = { 0 };
    const char *f = gpu_file (text);
    errno = 0;
    topo_t *t = discover (FIX ("server-8gpu.xml"), f, &err);
    unlink (f);
    assert_null (t);
    assert_int_equal (errno, EINVAL);
    assert_int_equal (err.code, EINVAL);
    if (!strstr (err.text, want))
        fail_msg ("'%s' does not say '%s'", err.text, want);
}

static void
test_bad_gpu_lists (void **state)
{
    (void)state;
    bad_list ("# ok\n0000:18:00.0 GPU-a 1024\n", "line 2: expected");
    bad_list ("0000:18:00.0\n", "line 1: expected");
    bad_list ("0000:18:00.0 GPU-a 1024 A\nzz:00.0 GPU-b 1 B\n",
              "line 2: 'zz:00.0' is not a PCI bus id");
    bad_list ("0000:18:00.0 GPU-a 80G A\n", "line 1: '80G' is not a memory");
    bad_list ("0000:18:00.0 GPU-a 0 A\n", "line 1: '0' is not a memory");
    bad_list ("0000:18:00.0 GPU-a 1 A\n18:00.0 GPU-b 1 B\n",
              "line 2: a GPU with bus id 0000:18:00.0");
    bad_list ("0000:18:00.0 GPU-a 1 A\n0000:2a:00.0 GPU-a 1 B\n",
              "already listed");
    bad_list ("0000:18:00.0:1 GPU-a 1 A\n", "is not a PCI bus id");
}

static void
test_missing_files (void **state)
{
    (void)state;
    yard_error_t err = { 0 };
    errno = 0;
    assert_null (discover ("/nonexistent/topo.xml", NULL, &err));
    assert_int_equal (errno, ENOENT);
    assert_non_null (strstr (err.text, "/nonexistent/topo.xml"));
    assert_non_null (strstr (err.text, "YARD_HWLOC_XMLFILE"));

    yard_error_clear (&err);
    errno = 0;
    assert_null (discover (FIX ("laptop.xml"), "/nonexistent/gpus", &err));
    assert_int_equal (errno, ENOENT);
    assert_non_null (strstr (err.text, "/nonexistent/gpus"));

    /* a file that is not hwloc XML */
    yard_error_clear (&err);
    const char *f = gpu_file ("this is not XML\n");
    errno = 0;
    topo_t *t = discover (f, NULL, &err);
    unlink (f);
    assert_null (t);
    assert_int_equal (errno, EINVAL);
    assert_non_null (strstr (err.text, "hwloc"));
}

static void
test_busid_normalize (void **state)
{
    (void)state;
    char b[32];
    assert_int_equal (topo_busid_normalize ("0000:3B:00.0", b, sizeof b), 0);
    assert_string_equal (b, "0000:3b:00.0");
    assert_int_equal (topo_busid_normalize ("3b:00.1", b, sizeof b), 0);
    assert_string_equal (b, "0000:3b:00.1");
    assert_int_equal (topo_busid_normalize ("00000000:3B:00.0", b, sizeof b),
                      0);
    assert_string_equal (b, "0000:3b:00.0");
    assert_int_equal (topo_busid_normalize ("", b, sizeof b), -EINVAL);
    assert_int_equal (topo_busid_normalize ("3b:00", b, sizeof b), -EINVAL);
    assert_int_equal (topo_busid_normalize ("3b:00.0 x", b, sizeof b),
                      -EINVAL);
    assert_int_equal (topo_busid_normalize ("0000:3b:20.0", b, sizeof b),
                      -EINVAL);
    assert_int_equal (topo_busid_normalize (NULL, b, sizeof b), -EINVAL);
}

/* The CUDA runtime backend, on a stand-in libcudart (fake_cudart.c): two
 * GPUs whose CUDA order is the reverse of their PCI order. */
static void
test_cudart (void **state)
{
    (void)state;
    yard_error_t err = { 0 };
    struct topo_source src = { .xml_file = FIX ("server-8gpu.xml"),
                               .cudart = FAKE_CUDART };
    unsetenv ("FAKE_CUDART_FAIL");
    unsetenv ("FAKE_CUDART_DUP");
    topo_t *t = topo_discover (&src, &err);
    assert_non_null (t);
    const Yard__Topology *m = topo_proto (t);
    assert_int_equal (m->n_gpus, 2);
    const Yard__GpuInfo *a = m->gpus[0], *b = m->gpus[1];
    assert_string_equal (a->pci_bus_id, "0000:18:00.0");
    assert_int_equal (a->index, 1);
    assert_int_equal (a->numa_node, 0);
    assert_string_equal (a->local_cpus, "0-31");
    assert_string_equal (a->uuid, "GPU-10111213-1415-1617-1819-1a1b1c1d1e1f");
    assert_string_equal (b->pci_bus_id, "0000:9a:00.0");
    assert_int_equal (b->index, 0);
    assert_int_equal (b->numa_node, 1);
    assert_string_equal (b->local_cpus, "32-63");
    assert_string_equal (b->uuid, "GPU-00010203-0405-0607-0809-0a0b0c0d0e0f");
    assert_string_equal (b->name, "NVIDIA H100 80GB HBM3");
    assert_int_equal (b->memory_bytes, UINT64_C (85520809984));
    assert_int_equal (b->cc_major, 9);
    assert_int_equal (b->cc_minor, 0);
    assert_string_equal (m->source, "xml:" FIX ("server-8gpu.xml") "+cudart");
    topo_destroy (&t);

    /* the same PCI device twice: counted once */
    setenv ("FAKE_CUDART_DUP", "1", 1);
    assert_non_null (t = topo_discover (&src, &err));
    assert_int_equal (topo_proto (t)->n_gpus, 2);
    topo_destroy (&t);
    unsetenv ("FAKE_CUDART_DUP");

    /* no driver (error 35): no GPUs, not an error */
    setenv ("FAKE_CUDART_FAIL", "1", 1);
    assert_non_null (t = topo_discover (&src, &err));
    assert_int_equal (topo_proto (t)->n_gpus, 0);
    assert_int_equal (topo_proto (t)->pus, 64);
    topo_destroy (&t);
    unsetenv ("FAKE_CUDART_FAIL");
}

/* This machine through hwloc and, with YARD_TEST_CUDA=1, the CUDA runtime
 * (off by default: cudart keeps allocations LeakSanitizer reports, and a
 * unit test must not depend on the machine's GPUs).  Whatever is found must
 * be self-consistent; no driver is no GPUs, not an error. */
static void
test_this_machine (void **state)
{
    (void)state;
    yard_error_t err = { 0 };
    const char *cuda = getenv ("YARD_TEST_CUDA");
    bool with_cuda = cuda && strcmp (cuda, "1") == 0;
    struct topo_source src = { .no_cuda = !with_cuda };
    /* hwloc's pci plugin leaks under LeakSanitizer too (libpciaccess) */
    if (!with_cuda)
        setenv ("HWLOC_COMPONENTS", "-pci", 0);
    topo_t *t = topo_discover (&src, &err);
    if (!t)
        fail_msg ("discovery failed: %s", err.text);
    const Yard__Topology *m = topo_proto (t);
    assert_true (m->pus >= 1);
    assert_true (m->cores <= m->pus);
    char buf[512];
    print_message ("this machine: %s\n", topo_summary (t, buf, sizeof buf));
    for (size_t i = 0; i < m->n_gpus; i++)
        print_message ("  GPU %u %s %s %s cc %u.%u numa %d cpus %s\n",
                       m->gpus[i]->index, m->gpus[i]->pci_bus_id,
                       m->gpus[i]->uuid, m->gpus[i]->name,
                       m->gpus[i]->cc_major, m->gpus[i]->cc_minor,
                       m->gpus[i]->numa_node, m->gpus[i]->local_cpus);
    topo_destroy (&t);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_laptop),
        cmocka_unit_test (test_numa4_distances),
        cmocka_unit_test (test_server),
        cmocka_unit_test (test_workstation),
        cmocka_unit_test (test_gpu_on_host_bridge),
        cmocka_unit_test (test_order_and_unknown_bus),
        cmocka_unit_test (test_bad_gpu_lists),
        cmocka_unit_test (test_missing_files),
        cmocka_unit_test (test_busid_normalize),
        cmocka_unit_test (test_cudart),
        cmocka_unit_test (test_this_machine),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
