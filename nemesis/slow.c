/*
 * slow.c - the slow node (gray failure: alive, a member, but sick). The
 * target's database process is duty-cycled by faultline-slowd on the node:
 * stopped stop_ms of every period_ms (default 80 of 100), so it answers,
 * slowly, and keeps its membership. Optionally the node also loses a share
 * of the packets it sends to its DB peers (FAULTLINE-SLOW-OUT, iptables
 * statistic), never of the controller's traffic.
 *
 * slowd runs detached on the node with its pid in faultline-slowd.pid; it
 * sends SIGCONT to the database when told to stop, and heal stops it by
 * that pid file (checked against /proc/PID/exe) and resumes the database.
 *
 * History: invoke {"targets":"one","stop_ms":80,"period_ms":100,"loss":0},
 * completion adds "nodes":{"n3":{"pid":1234}}.
 */
#include "test.h"
#include "nemesis_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const slow_keys[] = {"stop_ms", "period_ms", "loss", "targets", "nodes", NULL};

struct slow_params {
	double stop_ms, period_ms, loss;
};

static int slow_parse(json_t *o, const char *where, struct slow_params *p, char *err,
		      size_t errlen)
{
	if (nem_opts_keys(o, slow_keys, where, err, errlen) < 0 ||
	    nem_opts_num(o, "stop_ms", 80, 1, 60000, where, &p->stop_ms, err, errlen) < 0 ||
	    nem_opts_num(o, "period_ms", 100, 2, 60000, where, &p->period_ms, err, errlen) < 0 ||
	    nem_opts_num(o, "loss", 0, 0, 1, where, &p->loss, err, errlen) < 0)
		return -1;
	if (p->stop_ms >= p->period_ms) {
		snprintf(err, errlen, "%s.stop_ms: must be less than period_ms (%g)", where,
			 p->period_ms);
		return -1;
	}
	return 0;
}

static int slow_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	struct slow_params p;
	if (slow_parse(o, "nemesis_opts.slow", &p, err, errlen) < 0)
		return -1;
	return nem_targets_check(t, o, "nemesis_opts.slow", err, errlen);
}

static json_t *slow_plan(struct nemesis_ctx *c)
{
	json_t *o = nem_opts(c->test, "slow");
	struct slow_params p = {80, 100, 0};
	char err[256];
	if (o)
		slow_parse(o, "", &p, err, sizeof err);
	json_t *spec = json_pack("{s:f, s:f, s:f}", "stop_ms", p.stop_ms, "period_ms", p.period_ms,
				 "loss", p.loss);
	nem_targets_plan(c, o, "one", spec);
	return spec;
}

struct slow_job {
	struct slow_params p;
	long *pid;
};

static int slow_one(struct nemesis_ctx *c, int node, void *argp, char *err, size_t errlen)
{
	struct slow_job *j = argp;
	long pid = c->db->pid(&c->dbc, node);
	if (pid <= 0) {
		snprintf(err, errlen, "%s is not running", c->db->name);
		return -1;
	}
	j->pid[node] = pid;
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, node);
	buf_printf(&b, "fl_stop_helper slowd\n"
		       "\"$W/bin/faultline-slowd\" --daemon --pidfile \"$W/faultline-slowd.pid\""
		       " --log \"$W/faultline-slowd.log\" --pid %ld --stop-ms %.0f --period-ms %.0f"
		       " || exit 1\n",
		   pid, j->p.stop_ms, j->p.period_ms);
	if (j->p.loss > 0) {
		for (int fam = 0; fam < 2; fam++) {
			struct buf list, batch;
			buf_init(&list);
			buf_init(&batch);
			if (nem_peer_list(c, NULL, node, fam == 1, &list) > 0) {
				const char *ipt = fam ? "ip6tables" : "iptables";
				buf_printf(&batch, ":FAULTLINE-SLOW-OUT - [0:0]\n"
						   "-A FAULTLINE-SLOW-OUT -d %s -m statistic --mode random"
						   " --probability %.6f -j DROP\n",
					   list.data, j->p.loss);
				nem_ipt_apply(c, node, &b, ipt, batch.data);
			}
			buf_free(&list);
			buf_free(&batch);
		}
	}
	struct ssh_result r;
	int rc = ssh_exec(c->ssh[node], b.data, NEM_CMD_TIMEOUT_MS, &r);
	buf_free(&b);
	if (rc < 0 || r.status != 0) {
		const char *why = r.err && *r.err ? r.err : r.out && *r.out ? r.out : "failed";
		snprintf(err, errlen, "cannot start faultline-slowd: %.300s", why);
		size_t l = strlen(err);
		while (l && (err[l - 1] == '\n' || err[l - 1] == ' '))
			err[--l] = 0;
		ssh_result_free(&r);
		return -1;
	}
	ssh_result_free(&r);
	return 0;
}

/* Stop slowd and the loss on the node; prints "slowed" if slowd ran. */
static char *slow_undo_script(struct nemesis_ctx *c, int node)
{
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, node);
	buf_puts(&b, "r=0\n"
		     "[ -s \"$W/faultline-slowd.pid\" ] && echo slowed\n"
		     "fl_stop_helper slowd\n"
		     "for ipt in iptables ip6tables; do\n"
		     "  if command -v $ipt >/dev/null 2>&1 && $ipt -w -S FAULTLINE-SLOW-OUT >/dev/null 2>&1; then\n"
		     "    $ipt -w -F FAULTLINE-SLOW-OUT || r=1\n"
		     "  fi\n"
		     "done\n"
		     "exit $r\n");
	return buf_steal(&b);
}

/* Undo on the nodes in want (NULL: all): slowd stopped, loss removed, and
 * the database resumed where slowd was running (it may have died with the
 * database stopped). */
static int slow_undo(struct nemesis_ctx *c, const bool *want, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	char **scripts = xcalloc((size_t)n, sizeof *scripts);
	for (int i = 0; i < n; i++)
		if (!want || want[i])
			scripts[i] = slow_undo_script(c, i);
	struct ssh_result *rs = xcalloc((size_t)n, sizeof *rs);
	int failed = nem_run(c, scripts, rs, 0, err, errlen);
	bool *slowed = xcalloc((size_t)n, sizeof *slowed);
	bool any = false;
	for (int i = 0; i < n; i++) {
		slowed[i] = scripts[i] && rs[i].out && strstr(rs[i].out, "slowed");
		any = any || slowed[i];
		if (scripts[i] && c->busy[i] && !strcmp(c->busy[i], "slow"))
			c->busy[i] = NULL;
	}
	nem_results_free(rs, n);
	free(rs);
	nem_scripts_free(scripts, n);
	if (any && c->db) {
		char rerr[512] = "";
		if (nem_resume_dbs(c, slowed, rerr, sizeof rerr) < 0) {
			failed++;
			nem_err_append(err, errlen, NULL, rerr);
		}
	}
	free(slowed);
	return failed ? -1 : 0;
}

static json_t *slow_start(struct nemesis_ctx *c, json_t *spec, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	struct slow_job j;
	json_t *params = json_deep_copy(spec);
	json_object_del(params, "targets");
	json_object_del(params, "nodes");
	int pr = slow_parse(params, "slow", &j.p, err, errlen);
	json_decref(params);
	if (pr < 0)
		return NULL;
	if (!c->db) {
		snprintf(err, errlen, "slow: no database to act on");
		return NULL;
	}
	bool *want = nem_targets_want(c, spec, "one", true, err, errlen);
	if (!want)
		return NULL;
	json_t *applied = NULL;
	if ((j.p.loss > 0 && nem_net_own(c, want, err, errlen) < 0) ||
	    nem_helper_ensure(c, "slowd", want, err, errlen) < 0)
		goto out;
	j.pid = xcalloc((size_t)n, sizeof *j.pid);
	int failed = nem_each(c, want, slow_one, &j, err, errlen);
	if (failed) {
		char rerr[512] = "";
		if (slow_undo(c, want, rerr, sizeof rerr) < 0) {
			nem_err_append(err, errlen, "rollback failed", rerr);
			failed = -1;
		}
	}
	if (failed <= 0) {
		json_t *nodes = json_object();
		for (int i = 0; i < n; i++)
			if (want[i]) {
				json_object_set_new(nodes, c->test->nodes[i].name,
						    json_pack("{s:I}", "pid", (json_int_t)j.pid[i]));
				if (failed == 0)
					c->busy[i] = "slow";
			}
		applied = json_pack("{s:f, s:f, s:f, s:o}", "stop_ms", j.p.stop_ms, "period_ms",
				    j.p.period_ms, "loss", j.p.loss, "nodes", nodes);
		if (failed < 0)
			for (int i = 0; i < n; i++)
				if (want[i])
					c->busy[i] = "slow";
	}
	free(j.pid);
out:
	free(want);
	return applied;
}

static int slow_stop(struct nemesis_ctx *c, json_t *applied, json_t **result, char *err,
		     size_t errlen)
{
	bool *want = nem_want_applied(c, applied);
	int rc = slow_undo(c, want, err, errlen);
	free(want);
	if (result)
		*result = json_string(rc ? "heal-failed" : "slow-healed");
	return rc;
}

static int slow_heal(struct nemesis_ctx *c, char *err, size_t errlen)
{
	return slow_undo(c, NULL, err, errlen);
}

const struct nemesis nemesis_slow = {
	.name = "slow",
	.check = slow_check,
	.plan = slow_plan,
	.start = slow_start,
	.stop = slow_stop,
	.heal = slow_heal,
};
