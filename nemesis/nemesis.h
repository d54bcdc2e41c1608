/*
 * nemesis.h - the nemesis interface and the fault schedule.
 *
 * Each fault kind (partition.c, packet.c, process.c, clock.c, ...) is a
 * struct nemesis. start() applies a fault chosen from the seeded rng and
 * returns a JSON value describing exactly what was applied (targets,
 * parameters, path used); stop() undoes the fault it applied; heal()
 * removes every fault of its kind from every node, idempotently, even
 * without knowing what was applied (after a crash).
 *
 * schedule.c drives them during a run: it alternates start/stop every
 * interval, writes each as a nemesis op to the history, records applied
 * faults in a state file in the run directory, and heals at the end.
 */
#ifndef FAULTLINE_NEMESIS_H
#define FAULTLINE_NEMESIS_H

#include <jansson.h>
#include <stdint.h>

struct test;
struct ssh_node;
struct history_writer;
struct db;

struct nemesis_ctx {
	const struct test *test;
	struct ssh_node **ssh;   /* one per test node */
	const struct db *db;
	uint64_t *rng;           /* seeded */
};

struct nemesis {
	const char *name;        /* "partition", "packet", "kill", ... */
	int (*setup)(struct nemesis_ctx *c, char *err, size_t errlen);
	/* Apply a fault. Returns the history value (new reference) or NULL
	 * with err set if it failed to apply. */
	json_t *(*start)(struct nemesis_ctx *c, char *err, size_t errlen);
	/* Undo what start applied (applied = start's value). */
	int (*stop)(struct nemesis_ctx *c, json_t *applied, char *err, size_t errlen);
	/* Remove every fault of this kind from every node. Idempotent. */
	int (*heal)(struct nemesis_ctx *c, char *err, size_t errlen);
};

const struct nemesis *nemesis_find(const char *name);

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

/* Heal every fault kind on every node (faultline heal, signal handlers). */
int nemesis_heal_all(const struct test *t, struct ssh_node **ssh, const struct db *db);

#endif
