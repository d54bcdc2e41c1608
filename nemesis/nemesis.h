/*
 * nemesis.h - the nemesis interface and the fault schedule.
 *
 * Each fault kind (partition.c, packet.c, process.c for kill and pause,
 * slow.c, clock.c, disk.c) is a struct nemesis. plan() chooses what to do next
 * from the seeded rng and the test's nemesis_opts (the start op's invoke
 * value); start() applies such a spec and returns a JSON value describing
 * exactly what was applied (targets, parameters, path used); stop() undoes
 * what start applied; heal() removes every fault of its kind from every
 * node, idempotently, even without knowing what was applied (after a
 * crash): everything a fault leaves on a node is named by faultline (chains
 * FAULTLINE-*, qdisc handle fa17:, pid files and markers in the node's
 * workdir), so heal finds it there.
 *
 * schedule.c drives them during a run: every interval it starts or stops
 * faults (schedule alternate, mix or together), writes each as a nemesis op
 * to the history, records applied faults in a state file in the run
 * directory, and heals at the end.
 *
 * Adding a fault kind: one file in nemesis/ defining a struct nemesis, one
 * line in the table of registry.c (which also sets the heal order).
 */
#ifndef FAULTLINE_NEMESIS_H
#define FAULTLINE_NEMESIS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct test;
struct ssh_node;
struct history_writer;

/* What a fault run needs. Built by nemesis_ctx_init. */
struct nemesis_ctx {
	const struct test *test;
	struct ssh_node **ssh;   /* one per test node; a NULL entry (unreachable) is skipped */
	const struct db *db;     /* may be NULL: process faults then fail */
	struct db_ctx dbc;       /* {test, ssh} for the db's calls */
	uint64_t *rng;           /* seeded */
	json_t *opts;            /* test->nemesis_opts (borrowed) or NULL */
	char **addr;             /* each node's IP address, as its peers see it */
	/* Per node: the process fault holding its database ("kill", "pause",
	 * "slow") or NULL, so two process faults never fight over one node. */
	const char **busy;
	/* Per node: faultline's iptables layout known to be in place (set
	 * after a successful apply; saves re-checking it every fault). */
	bool *chains_ok;
	/* Per node: packet path chosen by detection (0 unknown, 1 netem,
	 * 2 nfqueue). */
	int *packet_path;
	/* Per node: helper binaries verified in this context (bit per
	 * helper), so a run checks each node's copy once, not per fault. */
	unsigned *helpers_ok;
	/* Per node: "boot_id:net:[inode]", the network namespace it lives in
	 * (NULL until asked), to refuse network faults on nodes sharing one. */
	char **netid;
	/* Heal: nodes without a session are skipped quietly (reported once
	 * by the caller) instead of failing every step. */
	bool skip_unreachable;
};

int nemesis_ctx_init(struct nemesis_ctx *c, const struct test *t, struct ssh_node **ssh,
		     const struct db *db, uint64_t *rng, char *err, size_t errlen);
void nemesis_ctx_free(struct nemesis_ctx *c);

struct nemesis {
	const char *name;        /* "partition", "packet", "kill", ... */
	/* Validate this kind's options (opts = nemesis_opts.<name>, may be
	 * NULL) before any node is touched. 0 or -1 with err. */
	int (*check)(const struct test *t, json_t *opts, char *err, size_t errlen);
	/* Optional preparation on the nodes before the first start. */
	int (*setup)(struct nemesis_ctx *c, char *err, size_t errlen);
	/* What to do next (new reference): the start op's invoke value. */
	json_t *(*plan)(struct nemesis_ctx *c);
	/* Apply spec. Returns the history value of what was applied (new
	 * reference) with err empty; NULL with err set if nothing was applied
	 * (a failed op); or a value with err set if it was applied only in
	 * part and could not be rolled back (an info op: stop it later). */
	json_t *(*start)(struct nemesis_ctx *c, json_t *spec, char *err, size_t errlen);
	/* Undo what start applied. *result (may be set, new reference) says
	 * what was done. 0, or -1 with err. */
	int (*stop)(struct nemesis_ctx *c, json_t *applied, json_t **result, char *err,
		    size_t errlen);
	/* Remove every fault of this kind from every node. Idempotent. */
	int (*heal)(struct nemesis_ctx *c, char *err, size_t errlen);
};

const struct nemesis *nemesis_find(const char *name);
/* The known fault names, comma-separated (for errors and --help). */
const char *nemesis_names(void);
/* Validate test->nemesis and test->nemesis_opts (config_finish calls it,
 * once the nodes are known). 0 or -1 with err naming the key. */
int nemesis_check_test(const struct test *t, char *err, size_t errlen);

/* The schedule: runs in its own thread during the main phase. */
struct nemesis_schedule;
struct nemesis_schedule *nemesis_schedule_start(const struct test *t,
						struct ssh_node **ssh,
						const struct db *db,
						struct history_writer *hw,
						const char *run_dir,
						int64_t t0_ns,
						char *err, size_t errlen);
/* Stop the schedule thread, stop active faults, heal everything. */
int nemesis_schedule_finish(struct nemesis_schedule *s);
/* Short text of the faults active now, for the progress line. */
void nemesis_schedule_active(struct nemesis_schedule *s, char *out, size_t n);

/* Heal every fault kind on every node (faultline heal, signal handlers).
 * Nodes whose ssh entry is NULL are skipped (and make it return -1). */
int nemesis_heal_all(const struct test *t, struct ssh_node **ssh, const struct db *db);
/* Faults an earlier run left on the nodes (a crashed or kill -9'd run):
 * returns how many nodes carry some, described in out ("n1: partition
 * rules (iptables), faultline-packetd running; n3: etcd stopped
 * (SIGSTOP)"). Unreachable nodes are skipped. */
int nemesis_leftovers(const struct test *t, struct ssh_node **ssh, const struct db *db,
		      char *out, size_t outlen);
/* Same, with every problem written to err ("n2: ...; n3: ..."). */
int nemesis_heal_all_err(const struct test *t, struct ssh_node **ssh, const struct db *db,
			 char *err, size_t errlen);

/* Disk faults (disk.c) need the database's data directory (db->data_dir)
 * mounted through faultline-diskd before the database first writes: the
 * runner calls nemesis_db_prepare before db setup and nemesis_db_release
 * after db teardown (with --leave-db-running: the mount stays, flushed and
 * writing through). Both do nothing unless the disk fault is enabled.
 * 0, or -1 with err. */
int nemesis_db_prepare(const struct test *t, struct ssh_node **ssh, const struct db *db,
		       char *err, size_t errlen);
int nemesis_db_release(const struct test *t, struct ssh_node **ssh, const struct db *db,
		       char *err, size_t errlen);

#endif
