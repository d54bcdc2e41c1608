/*
 * process.c - process faults through the db interface: kill (SIGKILL the
 * database, restart it on stop) and pause (SIGSTOP, SIGCONT on stop).
 *
 * Targets: one, minority, majority, all, primaries, or named nodes. A node
 * held by one process fault (kill, pause or slow) is passed over by the
 * others until it is released, so two faults never fight over one
 * process. Before a kill, a marker file faultline-killed is left in the
 * node's workdir and removed once the database runs again: heal restarts
 * exactly the databases faultline killed, even after the controller died.
 * Pause needs no marker: heal sends SIGCONT to every node's database
 * (harmless to a running one).
 *
 * History: invoke {"targets":"minority"}, completion {"n2":"killed",
 * "n4":"killed"}; stop completes with {"n2":"started",...}.
 *
 * Options (nemesis_opts.kill / .pause): "targets" (a word or a list of
 * words to pick from) or "nodes".
 */
#include "test.h"
#include "nemesis_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const proc_keys[] = {"targets", "nodes", NULL};

static int proc_check(const struct test *t, json_t *o, const char *kind, char *err, size_t errlen)
{
	char where[64];
	snprintf(where, sizeof where, "nemesis_opts.%s", kind);
	if (nem_opts_keys(o, proc_keys, where, err, errlen) < 0)
		return -1;
	return nem_targets_check(t, o, where, err, errlen);
}

static json_t *proc_plan(struct nemesis_ctx *c, const char *kind)
{
	json_t *o = nem_opts(c->test, kind);
	json_t *spec = json_object();
	if (!o || (!json_object_get(o, "targets") && !json_object_get(o, "nodes"))) {
		static const char *const words[] = {"one", "minority", "majority", "all",
						    "primaries"};
		int nw = db_has_primaries(c->db, c->test) ? 5 : 4;
		json_object_set_new(spec, "targets", json_string(words[nem_rand_int(c, nw)]));
		return spec;
	}
	nem_targets_plan(c, o, "one", spec);
	return spec;
}

/* A node script with the prelude; 0 if it ran and exited 0. */
static int node_sh(struct nemesis_ctx *c, int node, const char *body, int *status, char *err,
		   size_t errlen)
{
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, node);
	buf_puts(&b, body);
	struct ssh_result r;
	int rc = ssh_exec(c->ssh[node], b.data, NEM_CMD_TIMEOUT_MS, &r);
	buf_free(&b);
	if (status)
		*status = r.status;
	if (rc < 0 && err && errlen)
		snprintf(err, errlen, "%s", r.err && *r.err ? r.err : "SSH failed");
	ssh_result_free(&r);
	return rc < 0 ? -1 : r.status == 0 ? 0 : 1;
}

/* One fault on many nodes: fn per node in parallel, then the value
 * {"node": word} for those that worked; err names the others. */
struct proc_job {
	int (*fn)(struct nemesis_ctx *c, int node, char *err, size_t errlen);
	bool *ok;
};

static int proc_job_run(struct nemesis_ctx *c, int node, void *argp, char *err, size_t errlen)
{
	struct proc_job *j = argp;
	int rc = j->fn(c, node, err, errlen);
	j->ok[node] = rc == 0;
	return rc;
}

static json_t *proc_on(struct nemesis_ctx *c, const bool *want,
		       int (*fn)(struct nemesis_ctx *, int, char *, size_t), const char *word,
		       bool *ok, char *err, size_t errlen)
{
	struct proc_job j = {.fn = fn, .ok = ok};
	nem_each(c, want, proc_job_run, &j, err, errlen);
	json_t *v = json_object();
	for (int i = 0; i < c->test->n_nodes; i++)
		if (want[i] && ok[i])
			json_object_set_new(v, c->test->nodes[i].name, json_string(word));
	return v;
}

/* Nodes named in an applied value. */
static bool *applied_nodes(struct nemesis_ctx *c, json_t *applied)
{
	bool *want = xcalloc((size_t)c->test->n_nodes, sizeof *want);
	const char *name;
	json_t *v;
	json_object_foreach(applied, name, v) {
		int i = nem_node_index(c->test, name);
		if (i >= 0)
			want[i] = true;
	}
	return want;
}

/* Common start: resolve targets, run fn, hold the nodes that worked. */
static json_t *proc_start(struct nemesis_ctx *c, json_t *spec, const char *kind,
			  int (*fn)(struct nemesis_ctx *, int, char *, size_t), const char *word,
			  char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	if (!c->db) {
		snprintf(err, errlen, "%s: no database to act on", kind);
		return NULL;
	}
	bool *want = nem_targets_want(c, spec, "one", true, err, errlen);
	if (!want)
		return NULL;
	bool *ok = xcalloc((size_t)n, sizeof *ok);
	err[0] = 0;
	json_t *v = proc_on(c, want, fn, word, ok, err, errlen);
	for (int i = 0; i < n; i++)
		if (ok[i])
			c->busy[i] = kind;
	free(want);
	free(ok);
	if (json_object_size(v) == 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static int proc_stop(struct nemesis_ctx *c, json_t *applied, const char *kind,
		     int (*fn)(struct nemesis_ctx *, int, char *, size_t), const char *word,
		     json_t **result, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	bool *want = applied_nodes(c, applied);
	bool *ok = xcalloc((size_t)n, sizeof *ok);
	err[0] = 0;
	json_t *v = proc_on(c, want, fn, word, ok, err, errlen);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (!want[i])
			continue;
		if (ok[i] && c->busy[i] && !strcmp(c->busy[i], kind))
			c->busy[i] = NULL;
		if (!ok[i])
			rc = -1;
	}
	free(want);
	free(ok);
	if (result)
		*result = v;
	else
		json_decref(v);
	return rc;
}

/* ---- kill ---- */

static int kill_one(struct nemesis_ctx *c, int node, char *err, size_t errlen)
{
	/* The marker goes first: a controller dying between the two still
	 * leaves heal a reason to restart. */
	if (node_sh(c, node, "mkdir -p \"$W\" && touch \"$W/faultline-killed\"\n", NULL, err,
		    errlen) != 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot write %s/faultline-killed",
				 nem_workdir(c->test, node));
		return -1;
	}
	if (c->db->kill(&c->dbc, node, err, errlen) < 0) {
		node_sh(c, node, "rm -f \"$W/faultline-killed\"\n", NULL, NULL, 0);
		return -1;
	}
	return 0;
}

static int restart_one(struct nemesis_ctx *c, int node, char *err, size_t errlen)
{
	if (c->db->start(&c->dbc, node, err, errlen) < 0)
		return -1;
	node_sh(c, node, "rm -f \"$W/faultline-killed\"\n", NULL, NULL, 0);
	return 0;
}

static int kill_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	return proc_check(t, o, "kill", err, errlen);
}

static json_t *kill_plan(struct nemesis_ctx *c) { return proc_plan(c, "kill"); }

static json_t *kill_start(struct nemesis_ctx *c, json_t *spec, char *err, size_t errlen)
{
	return proc_start(c, spec, "kill", kill_one, "killed", err, errlen);
}

static int kill_stop(struct nemesis_ctx *c, json_t *applied, json_t **result, char *err,
		     size_t errlen)
{
	return proc_stop(c, applied, "kill", restart_one, "started", result, err, errlen);
}

/* Restart where a marker says faultline killed the database. */
static int kill_heal_one(struct nemesis_ctx *c, int node, void *arg, char *err, size_t errlen)
{
	(void)arg;
	int st = 0;
	int r = node_sh(c, node, "[ -e \"$W/faultline-killed\" ]\n", &st, err, errlen);
	if (r < 0)
		return -1;
	if (r == 1)
		return 0; /* no marker: nothing of ours to undo */
	if (!c->db) {
		snprintf(err, errlen, "killed by faultline, but no database given to restart it");
		return -1;
	}
	if (restart_one(c, node, err, errlen) < 0) {
		size_t l = strlen(err);
		snprintf(err + l, errlen - l, " (killed by faultline, not restarted; if the database "
			 "is gone on purpose, remove %s/faultline-killed)", nem_workdir(c->test, node));
		return -1;
	}
	if (c->busy[node] && !strcmp(c->busy[node], "kill"))
		c->busy[node] = NULL;
	return 0;
}

static int kill_heal(struct nemesis_ctx *c, char *err, size_t errlen)
{
	return nem_each(c, NULL, kill_heal_one, NULL, err, errlen) ? -1 : 0;
}

const struct nemesis nemesis_kill = {
	.name = "kill",
	.check = kill_check,
	.plan = kill_plan,
	.start = kill_start,
	.stop = kill_stop,
	.heal = kill_heal,
};

/* ---- pause ---- */

static int pause_one(struct nemesis_ctx *c, int node, char *err, size_t errlen)
{
	return c->db->pause(&c->dbc, node, err, errlen);
}

static int resume_one(struct nemesis_ctx *c, int node, char *err, size_t errlen)
{
	return c->db->resume(&c->dbc, node, err, errlen);
}

static int pause_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	return proc_check(t, o, "pause", err, errlen);
}

static json_t *pause_plan(struct nemesis_ctx *c) { return proc_plan(c, "pause"); }

static json_t *pause_start(struct nemesis_ctx *c, json_t *spec, char *err, size_t errlen)
{
	return proc_start(c, spec, "pause", pause_one, "paused", err, errlen);
}

static int pause_stop(struct nemesis_ctx *c, json_t *applied, json_t **result, char *err,
		      size_t errlen)
{
	return proc_stop(c, applied, "pause", resume_one, "resumed", result, err, errlen);
}

/* SIGCONT every node's running database. */
static int resume_if_running(struct nemesis_ctx *c, int node, void *arg, char *err, size_t errlen)
{
	(void)arg;
	if (c->db->pid(&c->dbc, node) < 0)
		return 0;
	if (c->db->resume(&c->dbc, node, err, errlen) < 0)
		return -1;
	if (c->busy[node] && !strcmp(c->busy[node], "pause"))
		c->busy[node] = NULL;
	return 0;
}

int nem_resume_dbs(struct nemesis_ctx *c, const bool *want, char *err, size_t errlen)
{
	if (!c->db)
		return 0;
	return nem_each(c, want, resume_if_running, NULL, err, errlen) ? -1 : 0;
}

static int pause_heal(struct nemesis_ctx *c, char *err, size_t errlen)
{
	return nem_resume_dbs(c, NULL, err, errlen);
}

const struct nemesis nemesis_pause = {
	.name = "pause",
	.check = pause_check,
	.plan = pause_plan,
	.start = pause_start,
	.stop = pause_stop,
	.heal = pause_heal,
};
