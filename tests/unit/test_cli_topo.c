/* test_cli_topo.c - a node's topology on the client side: the conversion
 * to yard_topology_t (types_topo.c), and the CLI's parsing and rendering of
 * `yard nodes [show NODE]` (cli_topo.c, cli_render.c, cli_args.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_args.h"
#include "cli_render.h"
#include "cli_topo.h"
#include "node_topology_fixture.h"
#include "types.h"

static void
test_client_and_cli (void **state)
{
    (void)state;
    struct fixture f;
    make (&f);
    f.gpu[1].pci_switch = "0000:98:00.0"; /* GPU-a: under no switch */
    Yard__NodeInfo ni = YARD__NODE_INFO__INIT;
    ni.name = "gpu1";
    ni.hostname = "host";
    ni.version = "0.1.0";
    ni.state = YARD__NODE_STATE__NODE_UP;
    ni.cpus = 64;
    ni.gpus = 2;
    ni.gpus_used = 1;
    ni.topology = &f.t;
    yard_node_t nd;
    assert_int_equal (yard__node_from_proto (&ni, &nd), 0);
    assert_true (nd.topology.known);
    assert_int_equal (nd.topology.n_gpus, 2);
    assert_string_equal (nd.topology.gpus[1].local_cpus, "32-63");
    assert_int_equal (nd.topology.gpus[1].numa_node, 1);
    assert_string_equal (nd.topology.gpus[1].pci_switch, "0000:98:00.0");
    assert_string_equal (nd.topology.gpus[0].pci_switch, "");

    char model[64];
    assert_string_equal (cli_gpu_model (&nd.topology, model, sizeof model),
                         "H100");

    char *out = NULL;
    size_t outlen = 0;
    FILE *fp = open_memstream (&out, &outlen);
    assert_int_equal (cli_print_nodes (fp, &nd, 1, 0), 0);
    assert_int_equal (cli_print_node_show (fp, &nd, 0), 0);
    fclose (fp);
    assert_non_null (strstr (out, "1/2 H100"));
    assert_non_null (strstr (out, "2 sockets, 2 NUMA nodes, 32 cores, 64 PUs"));
    assert_non_null (strstr (out, "0000:9a:00.0  GPU-b"));
    assert_non_null (strstr (out, "9.0"));
    assert_non_null (strstr (out, "SWITCH"));
    assert_non_null (strstr (out, "1     0000:98:00.0  32-63"));
    assert_non_null (strstr (out, "0     -             0-31"));
    free (out);

    json_t *j = cli_node_json (&nd);
    assert_non_null (j);
    json_t *g = json_array_get (
        json_object_get (json_object_get (j, "topology"), "gpus"), 1);
    assert_string_equal (json_string_value (json_object_get (g, "uuid")),
                         "GPU-b");
    assert_int_equal (json_integer_value (json_object_get (g, "numa_node")),
                      1);
    assert_string_equal (json_string_value (json_object_get (g, "pci_switch")),
                         "0000:98:00.0");
    json_decref (j);
    yard__node_clear (&nd);

    /* an older worker: no topology */
    ni.topology = NULL;
    assert_int_equal (yard__node_from_proto (&ni, &nd), 0);
    assert_false (nd.topology.known);
    j = cli_node_json (&nd);
    assert_true (json_is_null (json_object_get (j, "topology")));
    json_decref (j);
    yard__node_clear (&nd);
}

/* `yard nodes show` says what state the node is in, why and since when:
 * a drained node, a down one, an idle one without a reason line. */
static char *
show (const Yard__NodeInfo *ni, int64_t now_ms)
{
    yard_node_t nd;
    assert_int_equal (yard__node_from_proto (ni, &nd), 0);
    char *out = NULL;
    size_t outlen = 0;
    FILE *fp = open_memstream (&out, &outlen);
    assert_non_null (fp);
    assert_int_equal (cli_print_node_show (fp, &nd, now_ms), 0);
    fclose (fp);
    yard__node_clear (&nd);
    return out;
}

static void
test_show_state_reason_since (void **state)
{
    (void)state;
    Yard__NodeInfo ni = YARD__NODE_INFO__INIT;
    ni.name = "gpu1";
    ni.hostname = "host";
    ni.version = "0.1.0";
    ni.state = YARD__NODE_STATE__NODE_UP;
    ni.cpus = 8;
    ni.drain = true;
    ni.state_reason = "replace DIMM";
    ni.state_since_ms = 1000;
    char *out = show (&ni, 1000 + 5 * 60 * 1000);
    assert_non_null (strstr (out, "drained (since 5m"));
    assert_non_null (strstr (out, "replace DIMM"));
    free (out);

    ni.state = YARD__NODE_STATE__NODE_DOWN;
    ni.drain = false;
    ni.state_reason = "not responding";
    out = show (&ni, 1000 + 90 * 1000);
    assert_non_null (strstr (out, "down (since 1m30s"));
    assert_non_null (strstr (out, "not responding"));
    free (out);

    /* idle, no time known: the state alone, no reason line */
    ni.state = YARD__NODE_STATE__NODE_UP;
    ni.state_reason = "";
    ni.state_since_ms = 0;
    out = show (&ni, 5000);
    assert_non_null (strstr (out, "idle\n"));
    assert_null (strstr (out, "reason:"));
    free (out);
}

static void
test_gpu_model (void **state)
{
    (void)state;
    static const struct {
        const char *name, *want;
    } cases[] = {
        { "NVIDIA H100 80GB HBM3", "H100" },
        { "NVIDIA RTX 6000 Ada Generation", "RTX 6000" },
        { "NVIDIA A100-SXM4-80GB", "A100" },
        { "Tesla V100-SXM2-16GB", "Tesla V100" },
        { "NVIDIA GeForce RTX 4090", "RTX 4090" },
        { "", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        yard_gpu_t g = { .name = (char *)cases[i].name };
        yard_topology_t t = { .known = true, .gpus = &g, .n_gpus = 1 };
        char buf[64];
        assert_string_equal (cli_gpu_model (&t, buf, sizeof buf),
                             cases[i].want);
    }
    yard_gpu_t two[2] = { { .name = "NVIDIA H100 80GB HBM3" },
                          { .name = "NVIDIA A100-SXM4-80GB" } };
    yard_topology_t t = { .known = true, .gpus = two, .n_gpus = 2 };
    char buf[64];
    assert_string_equal (cli_gpu_model (&t, buf, sizeof buf), "mixed");
    t.n_gpus = 0;
    assert_string_equal (cli_gpu_model (&t, buf, sizeof buf), "");
}

static void
test_parse_nodes_show (void **state)
{
    (void)state;
    struct cli_nodes n;
    yard_error_t e = { 0 };
    char *a1[] = { "nodes", "show", "gpu1", "--json" };
    assert_int_equal (cli_parse_nodes (4, a1, &n, &e), 0);
    assert_string_equal (n.show, "gpu1");
    assert_true (n.json);
    char *a2[] = { "nodes", "show" };
    assert_int_equal (cli_parse_nodes (2, a2, &n, &e), -EINVAL);
    assert_non_null (strstr (e.text, "yard nodes show NODE"));
    char *a3[] = { "nodes", "show", "a", "b" };
    assert_int_equal (cli_parse_nodes (4, a3, &n, &e), -EINVAL);
    char *a4[] = { "nodes" };
    assert_int_equal (cli_parse_nodes (1, a4, &n, &e), 0);
    assert_null (n.show);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_client_and_cli),
        cmocka_unit_test (test_gpu_model),
        cmocka_unit_test (test_show_state_reason_since),
        cmocka_unit_test (test_parse_nodes_show),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
