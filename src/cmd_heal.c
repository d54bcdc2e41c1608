/*
 * cmd_heal.c - `faultline heal [CONFIG.json | --nodes ... | --cluster NAME]`:
 * remove every fault faultline may have left on every node - partitions
 * and packet rules (the FAULTLINE-* chains), netem qdiscs, packetd and
 * slowd daemons, stopped or killed databases, clock offsets - without any
 * record from the run that applied them (nemesis_heal_all finds them on
 * the nodes: chain names, qdisc handle, pid files and markers in the
 * node's workdir). For after a crash or a kill -9 of `faultline run`.
 *
 * Nodes come from the same config and flags as `run` (the local cluster if
 * exactly one is up). Each node is connected on its own, so one that cannot
 * be reached does not keep the others from being healed. Exit codes: 0
 * every node healed; 254 bad arguments, or no node reachable (nothing was
 * touched); 255 some node unreachable or not healed.
 */
#include "cmd.h"
#include "config.h"
#include "db.h"
#include "nemesis.h"
#include "nodes.h"
#include "runlock.h"
#include "ssh.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char heal_usage[] =
	"usage: faultline heal [CONFIG.json] [--nodes a,b,c | --cluster NAME] [options]\n"
	"\n"
	"Remove every fault faultline may have left on the nodes: partitions and\n"
	"packet rules (iptables chains FAULTLINE-*), netem qdiscs, the packet and\n"
	"slow-node daemons, paused (SIGSTOPped) and killed databases, clock offsets,\n"
	"disk faults (faultline-diskd cleared, flushed and unmounted).\n"
	"Needs no state from the run that applied them: safe after a crash or a\n"
	"kill -9 of `faultline run`, and idempotent. With no node flags, the local\n"
	"cluster is used if exactly one is up. Takes the same node and SSH options as\n"
	"`faultline run`.\n"
	"\n"
	"A cluster in use by a run is refused (exit 254, naming the run); --force\n"
	"heals it anyway (for a run on another host that is gone, or a stuck one).\n"
	"\n"
	"exit: 0 every node healed, 254 bad arguments, no node reachable or in use,\n"
	"      255 some node unreachable or not healed\n"
	"\n"
	"options:\n";

static void heal_report(const char *why, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "faultline heal: %s\n", why);
}

/* --force is heal's own flag: taken out before the run flags are parsed. */
static bool take_force(int *argc, char **argv)
{
	bool force = false;
	int j = 0;
	for (int i = 0; i < *argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else
			argv[j++] = argv[i];
	}
	*argc = j;
	return force;
}

int cmd_heal(int argc, char **argv)
{
	struct test t;
	bool force = take_force(&argc, argv);
	int cfg = config_from_argv(&t, argc, argv, "heal", heal_usage);
	if (cfg >= 0)
		return cfg;
	char lerr[1024];
	struct runlock *lock = NULL;
	if (t.cluster && !(lock = runlock_take(&t, NULL, "faultline heal", false, lerr, sizeof lerr))) {
		if (!force) {
			fprintf(stderr, "faultline heal: %s (--force heals anyway)\n", lerr);
			test_free(&t);
			return EXIT_BADARGS;
		}
		log_warn("%s; healing anyway (--force)", lerr);
	}
	struct ssh_node **ssh;
	int up = nodes_connect_each(&t, &ssh, heal_report, NULL);
	if (up == 0) {
		fprintf(stderr, "faultline heal: no node reachable; nothing healed\n");
		runlock_release(lock);
		ssh_nodes_free(ssh, t.n_nodes);
		test_free(&t);
		return EXIT_BADARGS;
	}
	if (!t.cluster && !(lock = runlock_take(&t, ssh, "faultline heal", force, lerr, sizeof lerr))) {
		fprintf(stderr, "faultline heal: %s (--force heals anyway)\n", lerr);
		ssh_nodes_free(ssh, t.n_nodes);
		test_free(&t);
		return EXIT_BADARGS;
	}
	int64_t t0 = now_ns();
	char err[4096];
	int rc = nemesis_heal_all_err(&t, ssh, db_find(t.db), err, sizeof err);
	double ms = (double)(now_ns() - t0) / 1e6;
	int code = EXIT_VALID;
	if (rc < 0) {
		fprintf(stderr, "faultline heal: %s\n", err);
		code = EXIT_INTERNAL;
	}
	if (up < t.n_nodes)
		code = EXIT_INTERNAL;
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < t.n_nodes; i++)
		if (ssh[i])
			buf_printf(&b, " %s", t.nodes[i].name);
	printf("faultline heal: %s%s (%d of %d nodes reached, %.0f ms)\n",
	       code == EXIT_VALID ? "healed" : "tried", b.data, up, t.n_nodes, ms);
	buf_free(&b);
	runlock_release(lock);
	ssh_nodes_free(ssh, t.n_nodes);
	test_free(&t);
	return code;
}
