/* test_sched_topology.c - a node's topology in the scheduler: checks and
 * copies (topology.c) and persistence in state.db, a database made before
 * the node_topology table included.  The fixture is shared with
 * test_cli_topo.c (node_topology_fixture.h). */
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
#include <sqlite3.h>

#include "node_topology_fixture.h"
#include "store.h"
#include "topology.h"

static void
test_check_and_copy (void **state)
{
    (void)state;
    struct fixture f;
    char why[256];
    make (&f);
    assert_int_equal (yard_topo_check (&f.t, why, sizeof why), 0);
    assert_int_equal (yard_topo_check (NULL, why, sizeof why), 0);

    Yard__Topology *c = NULL;
    assert_int_equal (yard_topo_copy (&f.t, &c), 0);
    assert_non_null (c);
    assert_int_equal (c->n_gpus, 2);
    assert_string_equal (c->gpus[1]->pci_bus_id, "0000:9a:00.0");
    assert_int_equal (c->gpus[1]->numa_node, 1);
    assert_string_equal (c->numa[0]->cpus, "0-31");
    yard_topo_free (&c);
    assert_null (c);
    yard_topo_free (NULL);
    assert_int_equal (yard_topo_copy (NULL, &c), 0);
    assert_null (c);

    f.gpu[1].name = "bad \xff utf8";
    assert_int_equal (yard_topo_check (&f.t, why, sizeof why), -EINVAL);
    assert_non_null (strstr (why, "GPU 1"));
    /* the PCIe switch id: kept by the copy, bounded like the bus id */
    make (&f);
    f.gpu[0].pci_switch = "0000:16:00.0";
    assert_int_equal (yard_topo_check (&f.t, why, sizeof why), 0);
    assert_int_equal (yard_topo_copy (&f.t, &c), 0);
    assert_string_equal (c->gpus[0]->pci_switch, "0000:16:00.0");
    assert_string_equal (c->gpus[1]->pci_switch, "");
    yard_topo_free (&c);
    char longsw[YARD_TOPO_MAX_TEXT + 2];
    memset (longsw, 'a', sizeof longsw - 1);
    longsw[sizeof longsw - 1] = '\0';
    f.gpu[0].pci_switch = longsw;
    assert_int_equal (yard_topo_check (&f.t, why, sizeof why), -EINVAL);
    assert_non_null (strstr (why, "switch"));
    make (&f);
    f.t.n_gpus = YARD_TOPO_MAX_GPUS + 1; /* checked before the array */
    assert_int_equal (yard_topo_check (&f.t, why, sizeof why), -EINVAL);
    /* cores and distances: a matrix must be n_numa x n_numa */
    make (&f);
    Yard__CoreInfo core = YARD__CORE_INFO__INIT, *corep = &core;
    core.pus = "0,32";
    f.t.core_list = &corep;
    f.t.n_core_list = 1;
    uint32_t d[4] = { 10, 21, 21, 10 };
    f.t.numa_distances = d;
    f.t.n_numa_distances = 4;
    assert_int_equal (yard_topo_check (&f.t, why, sizeof why), 0);
    assert_int_equal (yard_topo_copy (&f.t, &c), 0);
    assert_int_equal (c->n_numa_distances, 4);
    assert_string_equal (c->core_list[0]->pus, "0,32");
    yard_topo_free (&c);
    f.t.n_numa_distances = 3;
    assert_int_equal (yard_topo_check (&f.t, why, sizeof why), -EINVAL);
    assert_non_null (strstr (why, "distances"));
    f.t.n_numa_distances = 4;
    core.pus = "bad \xff";
    assert_int_equal (yard_topo_check (&f.t, why, sizeof why), -EINVAL);
    core.pus = "0";
    f.t.n_core_list = YARD_TOPO_MAX_CORES + 1;
    assert_int_equal (yard_topo_check (&f.t, why, sizeof why), -EINVAL);
    assert_null (yard_topo_unpack ("\xff\xff\xff", 3));
}

struct seen {
    int n;
    Yard__Topology *topo;
};

static int
node_cb (const yard_store_node_t *row, void *arg)
{
    struct seen *s = arg;
    s->n++;
    if (row->topology)
        s->topo = yard_topo_unpack (row->topology, row->topology_len);
    return 0;
}

static void
test_store (void **state)
{
    (void)state;
    char dir[] = "/tmp/yard-test-nodetopo-XXXXXX", db[64];
    yard_error_t err = { 0 };
    struct fixture f;
    assert_non_null (mkdtemp (dir));
    snprintf (db, sizeof db, "%s/state.db", dir);

    /* a database from before the node_topology table: a v1 nodes table */
    sqlite3 *raw;
    assert_int_equal (sqlite3_open (db, &raw), SQLITE_OK);
    assert_int_equal (sqlite3_exec (raw,
        "CREATE TABLE nodes (name TEXT PRIMARY KEY, instance INTEGER NOT NULL"
        " DEFAULT 0, hostname TEXT NOT NULL DEFAULT '', version TEXT NOT NULL"
        " DEFAULT '', cpus INTEGER NOT NULL DEFAULT 0, memory INTEGER NOT NULL"
        " DEFAULT 0, gpus INTEGER NOT NULL DEFAULT 0, registered_ms INTEGER"
        " NOT NULL DEFAULT 0, last_seen_ms INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO nodes (name, cpus) VALUES ('old', 4);",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (raw);

    yard_store_t *st = yard_store_create (db, true, &err);
    if (!st)
        fail_msg ("open: %s", err.text);
    struct seen s = { 0 };
    assert_int_equal (yard_store_nodes (st, node_cb, &s), 0);
    assert_int_equal (s.n, 1);
    assert_null (s.topo); /* the old node has none */

    make (&f);
    uint8_t *buf;
    size_t len;
    assert_int_equal (yard_topo_pack (&f.t, &buf, &len), 0);
    yard_store_node_t row = { .name = "old", .cpus = 64, .gpus = 2,
                              .topology = buf, .topology_len = len };
    assert_int_equal (yard_store_node_put (st, &row), 0);
    assert_int_equal (yard_store_commit (st), 0);
    free (buf);
    yard_store_destroy (&st);

    /* reopened: the topology is back */
    assert_non_null (st = yard_store_create (db, true, &err));
    memset (&s, 0, sizeof s);
    assert_int_equal (yard_store_nodes (st, node_cb, &s), 0);
    assert_int_equal (s.n, 1);
    assert_non_null (s.topo);
    assert_int_equal (s.topo->n_gpus, 2);
    assert_string_equal (s.topo->gpus[0]->uuid, "GPU-a");
    yard_topo_free (&s.topo);

    /* a register without one (an older worker) clears it */
    row.topology = NULL;
    row.topology_len = 0;
    assert_int_equal (yard_store_node_put (st, &row), 0);
    assert_int_equal (yard_store_commit (st), 0);
    memset (&s, 0, sizeof s);
    assert_int_equal (yard_store_nodes (st, node_cb, &s), 0);
    assert_null (s.topo);
    yard_store_destroy (&st);

    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal (system (cmd), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_check_and_copy),
        cmocka_unit_test (test_store),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
