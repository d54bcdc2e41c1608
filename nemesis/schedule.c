/*
 * schedule.c - the fault schedule of a run (nemesis.h): a thread that
 * every --nemesis-interval seconds starts or stops a fault, with targets
 * and parameters from the seeded rng, and writes each as a nemesis op pair
 * (invoke, then info - or fail when nothing was applied) to the history.
 *
 * Modes (nemesis_opts.schedule):
 *   alternate (default)  start one random kind, next tick stop it, ...
 *   mix                  each tick toggles one random kind (Jepsen's mix of
 *                        per-fault start/stop cycles): faults overlap;
 *   together             start every kind, next tick stop them all.
 *
 * Applied faults are kept in nemesis.json in the run directory, rewritten
 * atomically at every change (with the spec of a fault being applied, so a
 * crash mid-apply is visible too). Nothing depends on it for healing -
 * `faultline heal` finds every fault on the nodes themselves - but it says
 * what a crashed run left behind. The schedule heals leftovers of an
 * earlier run before its first fault, stops what is active at the end, and
 * then heals every kind on every node.
 */
#include "test.h"
#include "rng.h"
#include "history.h"
#include "nemesis_impl.h"
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum sched_mode { MODE_ALTERNATE, MODE_MIX, MODE_TOGETHER };

struct sched_fault {
	const struct nemesis *kind;
	json_t *applied; /* what start applied; NULL while inactive */
};

struct nemesis_schedule {
	struct nemesis_ctx c;
	uint64_t rng;
	const struct test *t;
	struct history_writer *hw;
	int64_t t0;
	char *state_path;
	enum sched_mode mode;
	struct sched_fault *f;
	int nf;
	json_t *pending; /* {"kind": spec} while a start is under way */

	pthread_t th;
	bool started;
	pthread_mutex_t lock; /* stop, cond; active text */
	pthread_cond_t cond;
	bool stop;
	char active[200];
	bool failed; /* a stop or heal did not succeed */
};

static void sched_op(struct nemesis_schedule *s, enum op_type type, const char *f,
		     json_t *value, const char *error)
{
	struct op o;
	memset(&o, 0, sizeof o);
	o.type = type;
	o.process = PROCESS_NEMESIS;
	o.f = xstrdup(f);
	o.value = value ? json_incref(value) : json_null();
	o.error = error && *error ? xstrdup(error) : NULL;
	o.time = now_ns() - s->t0;
	if (s->hw && history_writer_append(s->hw, &o) < 0)
		log_error("nemesis: cannot write %s to the history", f);
	op_free(&o);
}

static void sched_state_write(struct nemesis_schedule *s, bool healed)
{
	if (!s->state_path)
		return;
	json_t *active = json_object();
	for (int i = 0; i < s->nf; i++)
		if (s->f[i].applied)
			json_object_set(active, s->f[i].kind->name, s->f[i].applied);
	json_t *st = json_pack("{s:o, s:O, s:b, s:I}", "active", active, "pending", s->pending,
			       "healed", healed, "time", (json_int_t)(now_ns() - s->t0));
	char *text = json_dumps(st, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text || file_write_all(s->state_path, text, strlen(text)) < 0)
		log_warn("nemesis: cannot write %s: %s", s->state_path, strerror(errno));
	free(text);
	json_decref(st);
}

static void sched_active_update(struct nemesis_schedule *s)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < s->nf; i++)
		if (s->f[i].applied)
			buf_printf(&b, "%s%s", b.len ? " " : "", s->f[i].kind->name);
	pthread_mutex_lock(&s->lock);
	snprintf(s->active, sizeof s->active, "%s", b.len ? b.data : "");
	pthread_mutex_unlock(&s->lock);
	buf_free(&b);
}

static void fault_start(struct nemesis_schedule *s, struct sched_fault *f)
{
	char fname[64], err[1024] = "";
	snprintf(fname, sizeof fname, "start-%s", f->kind->name);
	json_t *spec = f->kind->plan(&s->c);
	json_object_set(s->pending, f->kind->name, spec);
	sched_state_write(s, false);
	sched_op(s, OP_INVOKE, fname, spec, NULL);
	int64_t t = now_ns();
	json_t *applied = f->kind->start(&s->c, spec, err, sizeof err);
	double ms = (double)(now_ns() - t) / 1e6;
	if (!applied) {
		log_warn("nemesis: %s failed (%.0f ms): %s", fname, ms, err);
		sched_op(s, OP_FAIL, fname, spec, err[0] ? err : "not applied");
	} else {
		if (err[0])
			log_warn("nemesis: %s applied in part (%.0f ms): %s", fname, ms, err);
		else
			log_info("nemesis: %s (%.0f ms)", fname, ms);
		sched_op(s, OP_INFO, fname, applied, err);
		f->applied = applied;
	}
	json_object_del(s->pending, f->kind->name);
	json_decref(spec);
	sched_state_write(s, false);
	sched_active_update(s);
}

static void fault_stop(struct nemesis_schedule *s, struct sched_fault *f)
{
	char fname[64], err[1024] = "";
	snprintf(fname, sizeof fname, "stop-%s", f->kind->name);
	sched_op(s, OP_INVOKE, fname, NULL, NULL);
	json_t *result = NULL;
	int64_t t = now_ns();
	int rc = f->kind->stop(&s->c, f->applied, &result, err, sizeof err);
	double ms = (double)(now_ns() - t) / 1e6;
	if (rc < 0) {
		log_warn("nemesis: %s failed (%.0f ms): %s", fname, ms, err);
		sched_op(s, OP_INFO, fname, result, err[0] ? err : "stop failed");
	} else {
		log_info("nemesis: %s (%.0f ms)", fname, ms);
		sched_op(s, OP_INFO, fname, result, NULL);
		json_decref(f->applied);
		f->applied = NULL;
	}
	if (result)
		json_decref(result);
	sched_state_write(s, false);
	sched_active_update(s);
}

/* Stop every active fault; false if none was active. */
static bool sched_stop_all(struct nemesis_schedule *s)
{
	bool any = false;
	for (int i = 0; i < s->nf; i++)
		if (s->f[i].applied) {
			fault_stop(s, &s->f[i]);
			any = true;
		}
	return any;
}

static void sched_tick(struct nemesis_schedule *s)
{
	if (s->mode == MODE_MIX) {
		struct sched_fault *f = &s->f[nem_rand_int(&s->c, s->nf)];
		if (f->applied)
			fault_stop(s, f);
		else
			fault_start(s, f);
	} else if (!sched_stop_all(s)) {
		if (s->mode == MODE_ALTERNATE)
			fault_start(s, &s->f[nem_rand_int(&s->c, s->nf)]);
		else
			for (int i = 0; i < s->nf; i++)
				fault_start(s, &s->f[i]);
	}
}

/* Wait one interval; false once asked to stop. */
static bool sched_wait(struct nemesis_schedule *s)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = (int64_t)(s->t->nemesis_interval * 1e9);
	ts.tv_sec += (time_t)(ns / 1000000000LL);
	ts.tv_nsec += (long)(ns % 1000000000LL);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT)
		;
	bool go = !s->stop;
	pthread_mutex_unlock(&s->lock);
	return go;
}

static void *sched_main(void *arg)
{
	struct nemesis_schedule *s = arg;
	while (sched_wait(s))
		sched_tick(s);
	return NULL;
}

static void sched_free(struct nemesis_schedule *s)
{
	for (int i = 0; i < s->nf; i++)
		if (s->f[i].applied)
			json_decref(s->f[i].applied);
	free(s->f);
	if (s->pending)
		json_decref(s->pending);
	free(s->state_path);
	nemesis_ctx_free(&s->c);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct nemesis_schedule *nemesis_schedule_start(const struct test *t, struct ssh_node **ssh,
						const struct db *db, struct history_writer *hw,
						const char *run_dir, int64_t t0_ns, char *err,
						size_t errlen)
{
	if (t->n_nemesis < 1) {
		snprintf(err, errlen, "no faults to schedule");
		return NULL;
	}
	struct nemesis_schedule *s = xcalloc(1, sizeof *s);
	s->t = t;
	s->hw = hw;
	s->t0 = t0_ns;
	/* Its own stream: the same seed gives the same faults whatever the
	 * workers do. */
	s->rng = rng_stream(t->seed, 0x6e656d65736973ULL);
	s->pending = json_object();
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (nemesis_ctx_init(&s->c, t, ssh, db, &s->rng, err, errlen) < 0) {
		sched_free(s);
		return NULL;
	}
	const char *mode = t->nemesis_opts
				   ? json_string_value(json_object_get(t->nemesis_opts, "schedule"))
				   : NULL;
	s->mode = !mode || !strcmp(mode, "alternate") ? MODE_ALTERNATE
		  : !strcmp(mode, "mix")              ? MODE_MIX
						      : MODE_TOGETHER;
	s->f = xcalloc((size_t)t->n_nemesis, sizeof *s->f);
	for (int i = 0; i < t->n_nemesis; i++) {
		s->f[i].kind = nemesis_find(t->nemesis[i]);
		if (!s->f[i].kind) {
			snprintf(err, errlen, "unknown fault '%s'", t->nemesis[i]);
			sched_free(s);
			return NULL;
		}
	}
	s->nf = t->n_nemesis;
	if (run_dir)
		s->state_path = store_path(run_dir, "nemesis.json");
	/* Leftovers of an earlier, crashed run would skew this one. */
	char herr[1024];
	if (nemesis_heal_all_err(t, ssh, db, herr, sizeof herr) < 0) {
		snprintf(err, errlen, "healing leftovers before the first fault: %s", herr);
		sched_free(s);
		return NULL;
	}
	for (int i = 0; i < s->nf; i++)
		if (s->f[i].kind->setup && s->f[i].kind->setup(&s->c, err, errlen) < 0) {
			sched_free(s);
			return NULL;
		}
	sched_state_write(s, false);
	if (pthread_create(&s->th, NULL, sched_main, s) != 0) {
		snprintf(err, errlen, "cannot start the schedule thread");
		sched_free(s);
		return NULL;
	}
	s->started = true;
	return s;
}

int nemesis_schedule_finish(struct nemesis_schedule *s)
{
	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->started)
		pthread_join(s->th, NULL);
	sched_stop_all(s);
	char err[2048];
	int64_t t = now_ns();
	int rc = nemesis_heal_all_err(s->t, s->c.ssh, s->c.db, err, sizeof err);
	if (rc < 0)
		log_error("nemesis: heal failed: %s", err);
	else
		log_info("nemesis: every node healed (%.0f ms)", (double)(now_ns() - t) / 1e6);
	sched_state_write(s, rc == 0);
	sched_free(s);
	return rc;
}

void nemesis_schedule_active(struct nemesis_schedule *s, char *out, size_t n)
{
	if (!s) {
		if (n)
			out[0] = 0;
		return;
	}
	pthread_mutex_lock(&s->lock);
	snprintf(out, n, "%s", s->active);
	pthread_mutex_unlock(&s->lock);
}
