/*
 * clock.c - clock faults: bump a node's wall clock by an offset, or strobe
 * it (jump back and forth) for a while, with faultline-clockd on the node,
 * which calls clock_settime and keeps the offset it applied in
 * faultline-clock.offset in the node's workdir. stop and heal undo exactly
 * that offset, so a reset needs no time source, and heal finds the file
 * even after the controller died.
 *
 * Where the fault would not be what it claims, it is refused, and the
 * failed op says so: CLOCK_REALTIME belongs to the kernel, so a node that
 * shares the controller's kernel (local-cluster nodes, loopback nodes; the
 * boot_id tells) cannot have a clock of its own - changing it would change
 * every node's and the controller's. Those report "unsupported on this
 * node". (libfaketime could fake the time of a database linked against
 * libc; etcd is a Go binary that reads the clock without libc.) Two
 * targets sharing one kernel are refused for the same reason.
 *
 * Options (nemesis_opts.clock): "mode" (bump, strobe, or a list to pick
 * from), "offset_ms" (bump; default a random +-2^7..2^18 ms), "delta_ms",
 * "period_ms", "duration_ms" (strobe), targets (default one).
 */
#include "test.h"
#include "rng.h"
#include "nemesis_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const clock_keys[] = {"mode",     "offset_ms",   "delta_ms", "period_ms",
					 "duration_ms", "targets", "nodes",    NULL};

static int mode_ok(json_t *m)
{
	return json_is_string(m) &&
	       (!strcmp(json_string_value(m), "bump") || !strcmp(json_string_value(m), "strobe"));
}

static int clock_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	const char *where = "nemesis_opts.clock";
	double d;
	if (nem_opts_keys(o, clock_keys, where, err, errlen) < 0 ||
	    nem_opts_num(o, "offset_ms", 1000, -1e10, 1e10, where, &d, err, errlen) < 0 ||
	    nem_opts_num(o, "delta_ms", 100, 1, 1e9, where, &d, err, errlen) < 0 ||
	    nem_opts_num(o, "period_ms", 100, 1, 1e6, where, &d, err, errlen) < 0 ||
	    nem_opts_num(o, "duration_ms", 1000, 1, 600000, where, &d, err, errlen) < 0)
		return -1;
	json_t *m = o ? json_object_get(o, "mode") : NULL;
	if (m && !mode_ok(m)) {
		bool good = json_is_array(m) && json_array_size(m) > 0;
		size_t i;
		json_t *e;
		json_array_foreach(m, i, e) good = good && mode_ok(e);
		if (!good) {
			snprintf(err, errlen, "%s.mode: expected bump, strobe or a list of them", where);
			return -1;
		}
	}
	return nem_targets_check(t, o, where, err, errlen);
}

static json_t *clock_plan(struct nemesis_ctx *c)
{
	json_t *o = nem_opts(c->test, "clock");
	json_t *m = o ? json_object_get(o, "mode") : NULL;
	const char *mode = json_is_string(m)  ? json_string_value(m)
			   : json_is_array(m) ? nem_pick(c, m)
			   : nem_rand_int(c, 2)  ? "strobe"
						 : "bump";
	json_t *spec = json_pack("{s:s}", "mode", mode);
	json_t *v;
	if (!strcmp(mode, "bump")) {
		if ((v = o ? json_object_get(o, "offset_ms") : NULL))
			json_object_set(spec, "offset_ms", v);
		else
			json_object_set_new(spec, "offset_ms",
					    json_integer((nem_rand_int(c, 2) ? 1 : -1) *
							 (1LL << (7 + nem_rand_int(c, 12)))));
	} else {
		const char *keys[] = {"delta_ms", "period_ms", "duration_ms"};
		json_int_t defs[] = {1LL << (4 + nem_rand_int(c, 9)), 1LL << (4 + nem_rand_int(c, 7)),
				     2000};
		for (int i = 0; i < 3; i++) {
			if ((v = o ? json_object_get(o, keys[i]) : NULL))
				json_object_set(spec, keys[i], v);
			else
				json_object_set_new(spec, keys[i], json_integer(defs[i]));
		}
	}
	nem_targets_plan(c, o, "one", spec);
	return spec;
}

static void trim(char *s)
{
	size_t l = strlen(s);
	while (l && (s[l - 1] == '\n' || s[l - 1] == ' ' || s[l - 1] == '\r'))
		s[--l] = 0;
}

/* Refuse nodes whose clock is not theirs alone. */
static int clock_own_kernels(struct nemesis_ctx *c, const bool *want, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	char *mine = file_read_all("/proc/sys/kernel/random/boot_id", NULL);
	if (mine)
		trim(mine);
	char **scripts = xcalloc((size_t)n, sizeof *scripts);
	for (int i = 0; i < n; i++)
		if (want[i])
			scripts[i] = xstrdup("cat /proc/sys/kernel/random/boot_id\n");
	struct ssh_result *rs = xcalloc((size_t)n, sizeof *rs);
	int rc = nem_run(c, scripts, rs, 0, err, errlen) ? -1 : 0;
	for (int i = 0; i < n && rc == 0; i++) {
		if (!want[i])
			continue;
		trim(rs[i].out);
		if (!rs[i].out[0]) {
			snprintf(err, errlen, "%s: cannot read its boot_id", c->test->nodes[i].name);
			rc = -1;
		} else if (mine && !strcmp(mine, rs[i].out)) {
			snprintf(err, errlen,
				 "unsupported on this node: %s runs on the controller's own kernel "
				 "(same boot_id), so it has no clock of its own: setting it would set "
				 "every local node's and the controller's%s",
				 c->test->nodes[i].name,
				 c->test->cluster ? " (local-cluster nodes share the host clock)" : "");
			rc = -1;
		}
		for (int j = 0; j < i && rc == 0; j++)
			if (want[j] && !strcmp(rs[j].out, rs[i].out)) {
				snprintf(err, errlen,
					 "unsupported on this node: %s and %s share one kernel, so one "
					 "clock",
					 c->test->nodes[j].name, c->test->nodes[i].name);
				rc = -1;
			}
	}
	nem_results_free(rs, n);
	free(rs);
	nem_scripts_free(scripts, n);
	free(mine);
	return rc;
}

static char *reset_script(struct nemesis_ctx *c, int i)
{
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, i);
	buf_puts(&b, "if [ -e \"$W/faultline-clock.offset\" ]; then\n"
		     "  \"$W/bin/faultline-clockd\" reset --state \"$W/faultline-clock.offset\" || exit 1\n"
		     "fi\n");
	return buf_steal(&b);
}

static json_t *clock_start(struct nemesis_ctx *c, json_t *spec, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	const char *mode = json_string_value(json_object_get(spec, "mode"));
	if (!mode || (strcmp(mode, "bump") && strcmp(mode, "strobe"))) {
		snprintf(err, errlen, "clock: mode must be bump or strobe");
		return NULL;
	}
	bool bump = !strcmp(mode, "bump");
	double offset = json_number_value(json_object_get(spec, "offset_ms"));
	double delta = json_number_value(json_object_get(spec, "delta_ms"));
	double period = json_number_value(json_object_get(spec, "period_ms"));
	double duration = json_number_value(json_object_get(spec, "duration_ms"));
	if (bump ? offset == 0 : (delta <= 0 || period <= 0 || duration <= 0)) {
		snprintf(err, errlen, bump ? "clock: bump needs offset_ms"
					   : "clock: strobe needs delta_ms, period_ms, duration_ms");
		return NULL;
	}
	bool *want = nem_targets_want(c, spec, "one", false, err, errlen);
	if (!want)
		return NULL;
	json_t *applied = NULL;
	char **scripts = NULL;
	if (clock_own_kernels(c, want, err, errlen) < 0 ||
	    nem_helper_ensure(c, "clockd", want, err, errlen) < 0)
		goto out;
	scripts = xcalloc((size_t)n, sizeof *scripts);
	json_t *nodes = json_object();
	for (int i = 0; i < n; i++) {
		if (!want[i])
			continue;
		struct buf b;
		buf_init(&b);
		nem_prelude(&b, c->test, i);
		if (bump)
			buf_printf(&b, "\"$W/bin/faultline-clockd\" bump --ms %.0f", offset);
		else
			buf_printf(&b, "\"$W/bin/faultline-clockd\" strobe --ms %.0f --period-ms %.0f"
				       " --duration-ms %.0f", delta, period, duration);
		buf_puts(&b, " --state \"$W/faultline-clock.offset\"\n");
		scripts[i] = buf_steal(&b);
		json_object_set_new(nodes, c->test->nodes[i].name,
				    bump ? json_pack("{s:f}", "offset_ms", offset)
					 : json_pack("{s:f, s:f, s:f}", "delta_ms", delta,
						     "period_ms", period, "duration_ms", duration));
	}
	applied = json_pack("{s:s, s:o}", "mode", mode, "nodes", nodes);
	int timeout = bump ? 0 : (int)duration + 30000;
	if (nem_run(c, scripts, NULL, timeout, err, errlen) > 0)
		applied = nem_rollback(c, applied, want, reset_script, err, errlen);
out:
	nem_scripts_free(scripts, n);
	free(want);
	return applied;
}

static int clock_stop(struct nemesis_ctx *c, json_t *applied, json_t **result, char *err,
		      size_t errlen)
{
	return nem_stop_applied(c, applied, reset_script, result, "clocks-reset", "reset-failed", err, errlen);
}

static int clock_heal(struct nemesis_ctx *c, char *err, size_t errlen)
{
	return nem_run_fn(c, NULL, reset_script, 0, err, errlen) ? -1 : 0;
}

const struct nemesis nemesis_clock = {
	.name = "clock",
	.check = clock_check,
	.plan = clock_plan,
	.start = clock_start,
	.stop = clock_stop,
	.heal = clock_heal,
};
