/*
 * runner.h - runs a test: the phases of `faultline run` (db setup, client
 * setup, workers + nemesis, heal, recovery, the workload's final ops, logs,
 * teardown, check_history, report) and the worker pool they are built on.
 *
 * The worker pool is usable on its own (runner_run_local): the benchmark
 * drives the real workers, generator and history writer with an in-process
 * client and no nodes.
 */
#ifndef FAULTLINE_RUNNER_H
#define FAULTLINE_RUNNER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct test;
struct client_ops;
struct workload;
struct generator;
struct history_writer;
struct ssh_node;
struct nemesis_schedule;

struct runner_stats {
	_Atomic int64_t ok, fail, info;
};

/* --- the worker pool --- */
struct workers;
/* Start t->concurrency workers drawing ops from gen (which outlives them:
 * the workload's final ops come from its state after the workers are
 * done); they stop at deadline_ns (monotonic) or on workers_stop /
 * runner_request_stop. NULL + err if none could start. */
struct workers *workers_start(const struct test *t, const struct client_ops *client,
			      struct generator *gen, struct history_writer *hw,
			      int64_t t0_ns, int64_t deadline_ns, struct runner_stats *st,
			      char *err, size_t errlen);
void workers_stop(struct workers *w);
/* True once every worker has returned. */
bool workers_done(struct workers *w);
/* Join and free. Returns 0, or -1 if the history could not be written. */
int workers_join(struct workers *w);
/* First process id no worker has used (for final reads). */
int64_t workers_next_process(struct workers *w);

/* Run the workers against `client` for `seconds`, writing dir/history.jsonl;
 * no nodes, db or nemesis (benchmark entry point). Returns 0 or -1. */
int runner_run_local(const struct test *t, const struct client_ops *client,
		     const struct workload *wl, const char *dir, double seconds,
		     struct runner_stats *st);

/* --- a whole test --- */
/* Run one repetition of a test on connected nodes. Returns the exit code
 * (0 valid, 1 invalid, 2 unknown, 255 internal); *interrupted is set when a
 * signal stopped it. */
int runner_run_once(struct test *t, struct ssh_node **ssh, int attempt, bool *interrupted);

/* Signals: the signal thread calls runner_request_stop; every phase polls. */
void runner_request_stop(void);
bool runner_stop_requested(void);

/* --- progress (progress.c) --- */
struct progress;
/* A live line on a tty (stream is a terminal), plain log lines otherwise. */
struct progress *progress_new(FILE *stream, double limit_s, struct runner_stats *st,
			      struct nemesis_schedule *ns);
/* Call often; prints when due. elapsed_ns since the phase started. */
void progress_tick(struct progress *p, int64_t elapsed_ns);
void progress_done(struct progress *p);

#endif
