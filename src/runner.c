/*
 * runner.c - runs a test (runner.h): the worker pool and the phases of one
 * repetition of `faultline run`.
 *
 * Workers: t->concurrency threads. Worker w starts as process w; process p
 * is bound to node p mod n and owns one client (one keep-alive connection).
 * Every invocation is written to the history before the client sees it and
 * gets exactly one completion. A completion of type info retires the
 * process (its op may still take effect at any later time, so the process
 * can never issue another): the worker closes the client and carries on as
 * process p + concurrency with a fresh one, as in Jepsen.
 *
 * Phases of a repetition, each of which is logged and ends with the history
 * fsynced: run dir + test.json -> db setup -> client setup -> workers (+
 * nemesis schedule) for time_limit -> heal -> recovery -> the workload's
 * final ops -> logs -> client and db teardown -> check_history (the same
 * judging path as `faultline check`) -> results.json -> report. The
 * client comes from the db's table for the workload; ops come from the
 * workload's generator, which outlives the workers so its final ops can
 * use what it handed out. Whatever fails or is interrupted, the faults are
 * healed and what was set up is torn down before returning.
 */
#include "runner.h"
#include "adapter.h"
#include "check.h"
#include "client.h"
#include "db.h"
#include "generator.h"
#include "history.h"
#include "nemesis.h"
#include "par.h"
#include "report.h"
#include "results.h"
#include "ssh.h"
#include "store.h"
#include "test.h"
#include "util.h"
#include "workload.h"

#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static atomic_bool stop_requested;

void runner_request_stop(void) { atomic_store(&stop_requested, true); }
bool runner_stop_requested(void) { return atomic_load(&stop_requested); }

/* Sleep until the monotonic time `until`, waking early on a stop. */
static void sleep_until(int64_t until, atomic_bool *stop)
{
	for (;;) {
		int64_t now = now_ns();
		if (now >= until || runner_stop_requested() || (stop && atomic_load(stop)))
			return;
		int64_t step = until - now;
		if (step > 100000000LL)
			step = 100000000LL;
		struct timespec ts = {.tv_sec = step / 1000000000LL, .tv_nsec = step % 1000000000LL};
		nanosleep(&ts, NULL);
	}
}

/* ---------------- the worker pool ---------------- */

struct worker {
	struct workers *pool;
	int id;
	pthread_t thread;
	bool started;
};

struct workers {
	const struct test *t;
	const struct client_ops *client;
	struct history_writer *hw;
	struct generator *gen;
	struct runner_stats *st;
	int64_t t0, deadline;
	atomic_bool stop;
	atomic_bool failed;
	atomic_int running;
	_Atomic int64_t next_process;
	struct worker *w;
	int n;
};

static bool worker_should_stop(struct workers *p)
{
	return atomic_load(&p->stop) || runner_stop_requested() || now_ns() >= p->deadline;
}

static void worker_count(struct workers *p, enum op_type type)
{
	if (type == OP_OK)
		atomic_fetch_add(&p->st->ok, 1);
	else if (type == OP_FAIL)
		atomic_fetch_add(&p->st->fail, 1);
	else
		atomic_fetch_add(&p->st->info, 1);
}

static void worker_note_process(struct workers *p, int64_t process)
{
	int64_t seen = atomic_load(&p->next_process);
	while (process + 1 > seen &&
	       !atomic_compare_exchange_weak(&p->next_process, &seen, process + 1))
		;
}

/* One op: invoke -> client -> completion (left in *out, which the caller
 * frees). Returns the completion type, or -1 if the history could not be
 * written. */
static int worker_do_op(struct workers *p, void *client, int node, struct op *inv, struct op *out_)
{
	inv->time = now_ns() - p->t0;
	if (history_writer_append(p->hw, inv) < 0)
		return -1;
	struct op *out = out_;
	op_copy(out, inv);
	free(out->error);
	out->error = NULL;
	p->client->invoke(client, inv, out);
	out->time = now_ns() - p->t0;
	out->process = inv->process;
	free(out->node);
	out->node = xstrdup(p->t->nodes[node].name);
	if (out->type == OP_INVOKE) {
		/* A client that forgot to complete: nobody knows what happened. */
		out->type = OP_INFO;
		free(out->error);
		out->error = xstrdup("client returned no completion");
	}
	int type = (int)out->type;
	if (history_writer_append(p->hw, out) < 0)
		return -1;
	worker_count(p, (enum op_type)type);
	return type;
}

static void *worker_main(void *arg)
{
	struct worker *me = arg;
	struct workers *p = me->pool;
	const struct test *t = p->t;
	struct gen_worker gw;
	generator_worker_init(p->gen, &gw, me->id);
	worker_note_process(p, gw.process);
	void *client = NULL;
	int node = 0;
	bool warned = false;
	struct op last;  /* the current process's previous completion */
	bool have_last = false;
	while (!worker_should_stop(p)) {
		if (!client) {
			node = (int)(gw.process % t->n_nodes);
			char err[256] = "";
			client = p->client->open(t, node, err, sizeof err);
			if (!client) {
				if (!warned)
					log_warn("worker %d: cannot open a client on %s: %s", me->id,
						 t->nodes[node].name, err);
				warned = true;
				sleep_until(now_ns() + 200000000LL, &p->stop);
				continue;
			}
		}
		int64_t due = generator_due(&gw, now_ns());
		if (due > now_ns()) {
			sleep_until(due < p->deadline ? due : p->deadline, &p->stop);
			if (worker_should_stop(p))
				break;
		}
		struct op inv, out;
		memset(&inv, 0, sizeof inv);
		memset(&out, 0, sizeof out);
		generator_next(&gw, have_last ? &last : NULL, &inv);
		int type = worker_do_op(p, client, node, &inv, &out);
		op_free(&inv);
		if (have_last)
			op_free(&last);
		last = out;
		have_last = true;
		if (type < 0) {
			atomic_store(&p->failed, true);
			atomic_store(&p->stop, true);
			break;
		}
		if (type == OP_INFO) {
			p->client->close(client);
			client = NULL;
			generator_set_process(&gw, gw.process + t->concurrency);
			worker_note_process(p, gw.process);
			op_free(&last);
			have_last = false;
		}
	}
	if (have_last)
		op_free(&last);
	if (client)
		p->client->close(client);
	atomic_fetch_sub(&p->running, 1);
	return NULL;
}

struct workers *workers_start(const struct test *t, const struct client_ops *client,
			      struct generator *gen, struct history_writer *hw,
			      int64_t t0_ns, int64_t deadline_ns, struct runner_stats *st,
			      char *err, size_t errlen)
{
	if (t->n_nodes < 1 || t->concurrency < 1) {
		snprintf(err, errlen, "workers need at least one node and one worker");
		return NULL;
	}
	struct workers *p = xcalloc(1, sizeof *p);
	p->t = t;
	p->client = client;
	p->hw = hw;
	p->gen = gen;
	p->st = st;
	p->t0 = t0_ns;
	p->deadline = deadline_ns;
	p->n = t->concurrency;
	p->w = xcalloc((size_t)p->n, sizeof *p->w);
	atomic_init(&p->next_process, 0);
	int started = 0;
	for (int i = 0; i < p->n; i++) {
		p->w[i].pool = p;
		p->w[i].id = i;
		atomic_fetch_add(&p->running, 1);
		int e = pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]);
		if (e) {
			atomic_fetch_sub(&p->running, 1);
			log_error("worker %d: cannot start a thread: %s", i, strerror(e));
			continue;
		}
		p->w[i].started = true;
		started++;
	}
	if (started == 0) {
		snprintf(err, errlen, "no worker thread could start");
		workers_join(p);
		return NULL;
	}
	return p;
}

void workers_stop(struct workers *w) { atomic_store(&w->stop, true); }
bool workers_done(struct workers *w) { return atomic_load(&w->running) == 0; }
int64_t workers_next_process(struct workers *w) { return atomic_load(&w->next_process); }

int workers_join(struct workers *p)
{
	for (int i = 0; i < p->n; i++)
		if (p->w[i].started)
			pthread_join(p->w[i].thread, NULL);
	int r = atomic_load(&p->failed) ? -1 : 0;
	free(p->w);
	free(p);
	return r;
}

int runner_run_local(const struct test *t, const struct client_ops *client,
		     const struct workload *wl, const char *dir, double seconds,
		     struct runner_stats *st)
{
	char *path = store_path(dir, "history.jsonl");
	struct history_writer *hw = history_writer_open(path);
	if (!hw) {
		log_error("cannot create %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	char err[256];
	int64_t t0 = now_ns();
	struct generator *gen = generator_new(t, wl);
	struct workers *w = workers_start(t, client, gen, hw, t0, t0 + (int64_t)(seconds * 1e9),
					  st, err, sizeof err);
	int r = -1;
	if (w)
		r = workers_join(w);
	else
		log_error("%s", err);
	generator_free(gen);
	history_writer_close(hw);
	return r;
}

/* ---------------- one repetition ---------------- */

struct run {
	struct test *t;
	struct ssh_node **ssh;
	const struct db *db;
	const struct workload *wl;
	const struct client_ops *client;
	struct db_ctx dbc;
	struct generator *gen;
	char *dir;
	json_t *test_json;  /* test.json as written (history_start added at t0) */
	char *hist_path;
	struct history_writer *hw;
	struct nemesis_schedule *ns;
	struct runner_stats st;
	int64_t t0;
	bool db_set_up;    /* teardown owed */
	bool client_set_up; /* client teardown owed */
	bool healed;       /* the schedule stopped and healed every node */
	bool gone;         /* the local cluster vanished: nothing left to reach */
	bool interrupted;
	char error[512];   /* first internal error, for results.json */
};

static void run_error(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_error(struct run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	if (!r->error[0])
		snprintf(r->error, sizeof r->error, "%s", msg);
}

static void run_sync(struct run *r)
{
	if (r->hw)
		history_writer_sync(r->hw);
}

/* One final op (an invocation the workload asked for after recovery), by
 * its own fresh process on node `node`. */
static void run_final_op(struct run *r, struct op *inv, int node)
{
	char err[256] = "";
	void *c = r->client->open(r->t, node, err, sizeof err);
	if (!c) {
		run_error(r, "final %s%s%s: %s", inv->f, inv->key ? " of key " : "",
			  inv->key ? inv->key : "", err);
		return;
	}
	inv->type = OP_INVOKE;
	if (!inv->value)
		inv->value = json_null();
	inv->time = now_ns() - r->t0;
	if (history_writer_append(r->hw, inv) >= 0) {
		struct op out;
		op_copy(&out, inv);
		r->client->invoke(c, inv, &out);
		out.time = now_ns() - r->t0;
		free(out.node);
		out.node = xstrdup(r->t->nodes[node].name);
		if (out.type == OP_INVOKE)
			out.type = OP_INFO;
		history_writer_append(r->hw, &out);
		op_free(&out);
	}
	r->client->close(c);
}

/* The workload's final ops (a set's final read, a bank's balances): each
 * by a fresh process, spread over the nodes. */
static void run_final_ops(struct run *r, int64_t first_process)
{
	if (!r->wl->final)
		return;
	struct op *ops = NULL;
	size_t n = r->wl->final(generator_workload_state(r->gen), r->t,
				generator_max_key(r->gen), &ops);
	log_info("final ops: %zu", n);
	for (size_t i = 0; i < n; i++) {
		if (!runner_stop_requested()) {
			ops[i].process = first_process + (int64_t)i;
			run_final_op(r, &ops[i], (int)(i % (size_t)r->t->n_nodes));
		}
		op_free(&ops[i]);
	}
	free(ops);
}

static int logs_node(void *ctx, int i, char *err, size_t errlen)
{
	struct run *r = ctx;
	char *dir = xasprintf("%s/nodes/%s", r->dir, r->t->nodes[i].name);
	int rc = 0;
	if (mkdir_p(dir, 0755) < 0) {
		snprintf(err, errlen, "%s: cannot create %s: %s", r->t->nodes[i].name, dir,
			 strerror(errno));
		rc = -1;
	} else if (r->db->logs) {
		rc = r->db->logs(&r->dbc, i, dir, err, errlen);
	}
	free(dir);
	return rc;
}

/* Download every node's logs into nodes/<node>/ (in parallel). */
static void run_logs(struct run *r)
{
	log_info("downloading logs");
	char err[2048];
	if (par_each(r->t->n_nodes, NULL, logs_node, r, err, sizeof err))
		log_warn("logs: %s", err);
}

static void run_teardown(struct run *r)
{
	char err[2048];
	if (r->client_set_up && r->client->teardown) {
		if (r->client->teardown(r->t, err, sizeof err) < 0)
			log_warn("client teardown: %s", err);
	}
	r->client_set_up = false;
	if (!r->db_set_up)
		return;
	if (r->t->leave_db_running) {
		log_info("leaving %s running (--leave-db-running)", r->db->name);
		if (nemesis_db_release(r->t, r->ssh, r->db, err, sizeof err) < 0)
			run_error(r, "disk: %s", err);
		return;
	}
	log_info("tearing down %s", r->db->name);
	if (db_on_all(&r->dbc, r->db->teardown, err, sizeof err) < 0)
		run_error(r, "db teardown: %s", err);
	if (nemesis_db_release(r->t, r->ssh, r->db, err, sizeof err) < 0)
		run_error(r, "disk: unmounting the data dirs: %s", err);
	r->db_set_up = false;
}

/* Stop the nemesis schedule (heals) and, after an error or a signal, heal
 * every fault kind if the schedule never got to. */
static void run_heal(struct run *r, bool thorough)
{
	if (r->ns) {
		log_info("healing");
		if (nemesis_schedule_finish(r->ns) < 0)
			run_error(r, "nemesis: healing failed (run `faultline heal`)");
		else
			r->healed = true;
		r->ns = NULL;
		run_sync(r);
	}
	if (thorough && !r->healed && r->t->n_nemesis > 0 && r->ssh &&
	    nemesis_heal_all(r->t, r->ssh, r->db) < 0)
		run_error(r, "nemesis: heal failed (run `faultline heal`)");
}

/* The check options a test implies: what `faultline check RUN_DIR` reads
 * back from test.json, so both judge alike. */
static void run_check_ctx(const struct run *r, struct check_ctx *ctx, json_t *test)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->model = r->wl->model;
	ctx->timeout = r->t->checker_timeout;
	ctx->opts = r->t->checker_opts;
	ctx->test = test;
}

/* Judge the history with the test's checkers. Returns results.json. */
static json_t *run_checkers(struct run *r, json_t *test)
{
	struct check_ctx ctx;
	run_check_ctx(r, &ctx, test);
	char err[700];
	log_info("checking %s", r->hist_path);
	int64_t start = now_ns();
	json_t *res = check_history(r->hist_path, HISTORY_JSONL, (const char *const *)r->t->checkers,
				    (size_t)r->t->n_checkers, &ctx, err, sizeof err);
	if (!res) {
		run_error(r, "check: %s", err);
		return json_pack("{s:s, s:s, s:o}", "valid", "unknown", "error", err, "checkers",
				 json_object());
	}
	const char *name;
	json_t *c;
	json_object_foreach(json_object_get(res, "checkers"), name, c)
		log_info("checker %s: %s", name, verdict_word(verdict_of_result(c)));
	log_info("checked %lld ops in %.1f s",
		 (long long)json_integer_value(json_object_get(res, "ops")),
		 (double)(now_ns() - start) / 1e9);
	return res;
}

static void run_report(struct run *r)
{
	char err[400];
	if (report_write(r->dir, err, sizeof err) < 0)
		log_warn("report: %s", err);
	if (junit_write(r->dir, err, sizeof err) < 0)
		log_warn("junit: %s", err);
	if (store_index_write(r->t->store, err, sizeof err) < 0)
		log_warn("store index: %s", err);
}

/* A local cluster whose bridge vanished (removed under the run, by hand or
 * a tool that ignored the run lock): every connection is bound to it, so
 * nothing can leave the machine, but the run is over. True (and the run's
 * error set) once it is gone. */
static bool run_cluster_gone(struct run *r)
{
	const char *dev = r->t->bind_device;
	if (!dev || !*dev || if_nametoindex(dev) != 0)
		return false;
	r->gone = true;
	run_error(r, "cluster %s: its bridge %s is gone (the cluster was removed under the run); "
		  "stopped", r->t->cluster ? r->t->cluster : "?", dev);
	return true;
}

/* Record the wall-clock instant of history time 0 in test.json, so times
 * in the history can be matched to lines in the nodes' logs. */
static void run_mark_start(struct run *r)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[64], frac[32];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(frac, sizeof frac, ".%06ldZ", ts.tv_nsec / 1000);
	char *s = xasprintf("%s%s", when, frac);
	json_object_set_new(r->test_json, "history_start", json_string(s));
	free(s);
	store_write_json(r->dir, "test.json", r->test_json);
}

/* The main phase: workers (+ nemesis) for time_limit, with progress. */
static int run_main_phase(struct run *r)
{
	char err[512];
	struct test *t = r->t;
	r->t0 = now_ns();
	run_mark_start(r);
	int64_t deadline = r->t0 + (int64_t)(t->time_limit * 1e9);
	if (t->n_nemesis > 0) {
		r->ns = nemesis_schedule_start(t, r->ssh, r->db, r->hw, r->dir, r->t0, err, sizeof err);
		if (!r->ns) {
			run_error(r, "nemesis: %s", err);
			return -1;
		}
	}
	log_info("running %s for %.0f s: %d workers on %d nodes, seed %llu%s", t->workload,
		 t->time_limit, t->concurrency, t->n_nodes, (unsigned long long)t->seed,
		 t->n_nemesis ? ", with faults" : "");
	struct workers *w = workers_start(t, r->client, r->gen, r->hw, r->t0, deadline, &r->st,
					  err, sizeof err);
	if (!w) {
		run_error(r, "workers: %s", err);
		return -1;
	}
	struct progress *pg = progress_new(stderr, t->time_limit, &r->st, r->ns);
	bool gone = false;
	while (!workers_done(w)) {
		progress_tick(pg, now_ns() - r->t0);
		sleep_until(now_ns() + 100000000LL, NULL);
		if (runner_stop_requested() || (!gone && (gone = run_cluster_gone(r))))
			workers_stop(w);
	}
	progress_done(pg);
	int64_t next_process = workers_next_process(w);
	int rc = workers_join(w);
	run_sync(r);
	log_info("workers done: %lld ok, %lld fail, %lld info",
		 (long long)atomic_load(&r->st.ok), (long long)atomic_load(&r->st.fail),
		 (long long)atomic_load(&r->st.info));
	if (rc < 0) {
		run_error(r, "history: writing %s failed; test stopped", r->hist_path);
		return -1;
	}
	if (runner_stop_requested() || gone)
		return gone ? -1 : 0;
	bool had_faults = r->ns != NULL;
	run_heal(r, false);
	if ((had_faults || r->wl->final) && t->recovery_time > 0) {
		log_info("recovery: %.0f s without faults", t->recovery_time);
		sleep_until(now_ns() + (int64_t)(t->recovery_time * 1e9), NULL);
	}
	if (!runner_stop_requested())
		run_final_ops(r, next_process);
	run_sync(r);
	return 0;
}

static json_t *test_json(const struct run *r, int attempt)
{
	json_t *j = json_deep_copy(r->t->resolved);
	json_object_set_new(j, "seed", json_integer((json_int_t)r->t->seed));
	json_object_set_new(j, "attempt", json_integer(attempt));
	char ts[32];
	timestamp_utc(ts, sizeof ts);
	json_object_set_new(j, "start_time", json_string(ts));
	return j;
}

/* db setup on every node, then the client's once-per-test setup. */
static int run_setup(struct run *r)
{
	char err[2048];
	log_info("setting up %s on %d nodes", r->db->name, r->t->n_nodes);
	r->db_set_up = true; /* a partial setup is torn down too */
	/* Disk faults: the data dirs mounted through faultline-diskd first. */
	if (nemesis_db_prepare(r->t, r->ssh, r->db, err, sizeof err) < 0) {
		run_error(r, "disk: mounting the data dirs: %s", err);
		return -1;
	}
	if (db_on_all(&r->dbc, r->db->setup, err, sizeof err) < 0) {
		run_error(r, "db setup: %s", err);
		return -1;
	}
	if (r->client->setup) {
		r->client_set_up = true;
		if (r->client->setup(r->t, err, sizeof err) < 0) {
			run_error(r, "client setup: %s", err);
			return -1;
		}
	}
	return 0;
}

int runner_run_once(struct test *t, struct ssh_node **ssh, int attempt, bool *interrupted)
{
	struct run r;
	memset(&r, 0, sizeof r);
	r.t = t;
	r.ssh = ssh;
	r.db = db_find(t->db);
	r.wl = workload_find(t->workload);
	r.client = test_client(t);
	r.dbc.test = t;
	r.dbc.ssh = ssh;
	*interrupted = false;
	if (!r.db || !r.wl || !r.client) {
		log_error("no database, workload or client for %s/%s", t->db, t->workload);
		return EXIT_INTERNAL;
	}
	char err[512];
	r.dir = store_run_dir_create(t->store, t->name, err, sizeof err);
	if (!r.dir) {
		log_error("%s", err);
		return EXIT_INTERNAL;
	}
	char *logp = store_path(r.dir, "faultline.log");
	log_open(logp);
	free(logp);
	json_t *tj = test_json(&r, attempt);
	r.test_json = tj;
	store_write_json(r.dir, "test.json", tj);
	store_link_latest(t->store, r.dir);
	log_info("run %d of %d: %s", attempt, t->test_count, r.dir);
	r.hist_path = store_path(r.dir, "history.jsonl");
	r.hw = history_writer_open(r.hist_path);
	r.gen = generator_new(t, r.wl);
	if (!r.hw) {
		run_error(&r, "cannot create %s: %s", r.hist_path, strerror(errno));
		goto finish;
	}
	if (!runner_stop_requested() && run_setup(&r) == 0 && !runner_stop_requested())
		run_main_phase(&r);

finish:
	r.interrupted = runner_stop_requested();
	if (r.interrupted)
		log_warn("interrupted: stopping workers, healing, tearing down");
	if (r.gone) {
		/* Every connection was bound to the vanished bridge (and fails
		 * at once now): there are no logs to fetch, nothing to tear down. */
		log_warn("the cluster is gone: no logs or teardown");
		r.db_set_up = r.client_set_up = false;
	}
	run_heal(&r, (r.interrupted || r.error[0]) && !r.gone);
	if (r.hw) {
		history_writer_close(r.hw);
		r.hw = NULL;
	}
	if (r.db_set_up)
		run_logs(&r);
	run_teardown(&r);

	json_t *results;
	if (r.error[0] || r.interrupted) {
		results = json_pack("{s:s, s:o}", "valid", "unknown", "checkers", json_object());
		if (r.error[0])
			json_object_set_new(results, "error", json_string(r.error));
		if (r.interrupted)
			json_object_set_new(results, "interrupted", json_true());
	} else {
		results = run_checkers(&r, tj);
	}
	store_write_json(r.dir, "results.json", results);
	int code = r.error[0] && !r.interrupted
			   ? EXIT_INTERNAL
			   : verdict_exit_code(verdict_of_result(results),
					       t->fail_on && !strcmp(t->fail_on, "unknown"));
	json_decref(results);
	json_decref(tj);
	run_report(&r);
	log_info("results: %s/results.json -> exit %d", r.dir, code);
	printf("%s\n", r.dir);
	fflush(stdout);
	*interrupted = r.interrupted;
	log_close();
	generator_free(r.gen);
	free(r.hist_path);
	free(r.dir);
	return code;
}
