/*
 * packet.c - packet faults on the traffic between DB nodes: delay (mean,
 * jitter, distribution), loss, duplication, reordering, corruption, rate.
 *
 * Each target node shapes what it sends to its DB peers, on the best path
 * its kernel offers, detected once per node:
 *   netem:   a prio root qdisc (handle fa17:) with netem on a fourth band
 *            that only u32 filters for peer addresses lead to, so the
 *            controller's traffic and everything else keeps the default
 *            bands;
 *   nfqueue: where the kernel has no netem (this machine's, many container
 *            and cloud kernels): FAULTLINE-PKT-OUT queues packets to peers
 *            (NFQUEUE 64023, --queue-bypass so traffic flows if the daemon
 *            dies) to faultline-packetd on the node, which delays, drops,
 *            duplicates, reorders and corrupts with the same parameters.
 *            The daemon is uploaded over SFTP where it is missing or stale.
 * The history records the parameters and which path each node used.
 *
 * Options (nemesis_opts.packet): the parameters (delay_ms, jitter_ms,
 * distribution, loss, duplicate, reorder, corrupt, rate_kbit), "path"
 * (auto, netem, nfqueue) and targets (default all). Without parameters each
 * fault picks one of a few behaviours at random.
 */
#include "packet.h"

#include "test.h"
#include "rng.h"
#include "nemesis_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PATH_UNKNOWN = 0, PATH_NETEM = 1, PATH_NFQUEUE = 2 };

static const char *const packet_keys[] = {
	"delay_ms", "jitter_ms", "distribution", "loss", "duplicate", "reorder", "corrupt",
	"rate_kbit", "path", "targets", "nodes", NULL};

static int str_opt(json_t *o, const char *key, const char *def, const char *choices,
		   const char *where, char *out, size_t outlen, char *err, size_t errlen)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	const char *s = v ? json_string_value(v) : def;
	if (!s) {
		snprintf(err, errlen, "%s.%s: expected a string (%s)", where, key, choices);
		return -1;
	}
	size_t n = strlen(s);
	for (const char *c = choices; *c;) {
		size_t cl = strcspn(c, "|");
		if (cl == n && !strncmp(c, s, n) && n < outlen) {
			memcpy(out, s, n + 1);
			return 0;
		}
		c += cl + (c[cl] == '|');
	}
	snprintf(err, errlen, "%s.%s: expected one of %s, got '%s'", where, key, choices, s);
	return -1;
}

int packet_params_parse(json_t *o, const char *where, struct packet_params *p, char *err,
			size_t errlen)
{
	memset(p, 0, sizeof *p);
	if (o && !json_is_object(o)) {
		snprintf(err, errlen, "%s: expected an object", where);
		return -1;
	}
	if (nem_opts_keys(o, packet_keys, where, err, errlen) < 0 ||
	    nem_opts_num(o, "delay_ms", 0, 0, 60000, where, &p->delay_ms, err, errlen) < 0 ||
	    nem_opts_num(o, "jitter_ms", 0, 0, 60000, where, &p->jitter_ms, err, errlen) < 0 ||
	    nem_opts_num(o, "loss", 0, 0, 1, where, &p->loss, err, errlen) < 0 ||
	    nem_opts_num(o, "duplicate", 0, 0, 1, where, &p->duplicate, err, errlen) < 0 ||
	    nem_opts_num(o, "reorder", 0, 0, 1, where, &p->reorder, err, errlen) < 0 ||
	    nem_opts_num(o, "corrupt", 0, 0, 1, where, &p->corrupt, err, errlen) < 0 ||
	    nem_opts_num(o, "rate_kbit", 0, 0, 1e8, where, &p->rate_kbit, err, errlen) < 0 ||
	    str_opt(o, "distribution", "normal", "normal|uniform|pareto", where, p->distribution,
		    sizeof p->distribution, err, errlen) < 0 ||
	    str_opt(o, "path", "auto", "auto|netem|nfqueue", where, p->path, sizeof p->path, err,
		    errlen) < 0)
		return -1;
	if (p->reorder > 0 && p->delay_ms <= 0) {
		snprintf(err, errlen, "%s.reorder: needs delay_ms > 0 (reordered packets overtake "
			 "delayed ones)", where);
		return -1;
	}
	if (p->jitter_ms > 0 && p->delay_ms <= 0) {
		snprintf(err, errlen, "%s.jitter_ms: needs delay_ms > 0", where);
		return -1;
	}
	return 0;
}

int packet_params_any(const struct packet_params *p)
{
	return p->delay_ms > 0 || p->loss > 0 || p->duplicate > 0 || p->reorder > 0 ||
	       p->corrupt > 0 || p->rate_kbit > 0;
}

json_t *packet_params_json(const struct packet_params *p)
{
	json_t *o = json_object();
	if (p->delay_ms > 0) {
		json_object_set_new(o, "delay_ms", json_real(p->delay_ms));
		json_object_set_new(o, "jitter_ms", json_real(p->jitter_ms));
		if (p->jitter_ms > 0)
			json_object_set_new(o, "distribution", json_string(p->distribution));
	}
	if (p->loss > 0)
		json_object_set_new(o, "loss", json_real(p->loss));
	if (p->duplicate > 0)
		json_object_set_new(o, "duplicate", json_real(p->duplicate));
	if (p->reorder > 0)
		json_object_set_new(o, "reorder", json_real(p->reorder));
	if (p->corrupt > 0)
		json_object_set_new(o, "corrupt", json_real(p->corrupt));
	if (p->rate_kbit > 0)
		json_object_set_new(o, "rate_kbit", json_real(p->rate_kbit));
	return o;
}

/* ---- the commands ---- */

void packet_netem_opts(const struct packet_params *p, struct buf *out)
{
	/* netem's default queue (1000 packets) would drop on its own under a
	 * long delay: the limit must not become a second, unasked-for loss. */
	buf_puts(out, "limit 100000");
	if (p->delay_ms > 0) {
		buf_printf(out, " delay %gms", p->delay_ms);
		if (p->jitter_ms > 0) {
			buf_printf(out, " %gms", p->jitter_ms);
			/* uniform is netem's built-in; it has no table to name. */
			if (strcmp(p->distribution, "uniform"))
				buf_printf(out, " distribution %s", p->distribution);
		}
	}
	if (p->loss > 0)
		buf_printf(out, " loss random %g%%", p->loss * 100);
	if (p->duplicate > 0)
		buf_printf(out, " duplicate %g%%", p->duplicate * 100);
	if (p->reorder > 0)
		buf_printf(out, " reorder %g%%", p->reorder * 100);
	if (p->corrupt > 0)
		buf_printf(out, " corrupt %g%%", p->corrupt * 100);
	if (p->rate_kbit > 0)
		buf_printf(out, " rate %gkbit", p->rate_kbit);
}

void packet_netem_root_cmds(const struct packet_params *p, const char *dev, struct buf *out)
{
	buf_printf(out, "tc qdisc add dev %s root handle " NEM_QDISC_HANDLE ": prio bands 4\n", dev);
	buf_printf(out, "tc qdisc add dev %s parent " NEM_QDISC_HANDLE ":4 handle fa18: netem ", dev);
	packet_netem_opts(p, out);
	buf_puts(out, "\n");
}

void packet_netem_filter_cmd(const char *dev, const char *addr, struct buf *out)
{
	if (nem_addr_is_v6(addr))
		buf_printf(out, "tc filter add dev %s parent " NEM_QDISC_HANDLE ": protocol ipv6 prio 2"
				" u32 match ip6 dst %s/128 flowid " NEM_QDISC_HANDLE ":4\n",
			   dev, addr);
	else
		buf_printf(out, "tc filter add dev %s parent " NEM_QDISC_HANDLE ": protocol ip prio 1"
				" u32 match ip dst %s/32 flowid " NEM_QDISC_HANDLE ":4\n",
			   dev, addr);
}

void packet_packetd_args(const struct packet_params *p, uint64_t seed, struct buf *out)
{
	buf_printf(out, "--queue %d --mark %d --delay-us %.0f --jitter-us %.0f --distribution %s"
			" --loss %.6g --duplicate %.6g --reorder %.6g --corrupt %.6g --rate-bps %.0f"
			" --seed %llu",
		   NEM_QUEUE_NUM, NEM_MARK, p->delay_ms * 1000, p->jitter_ms * 1000, p->distribution,
		   p->loss, p->duplicate, p->reorder, p->corrupt, p->rate_kbit * 1000,
		   (unsigned long long)seed);
}

/* ---- node scripts ---- */

/* Prints "netem" where tc can build netem behind prio, else "nfqueue".
 * The probe adds and removes a qdisc on lo (handle fa1e:), which is what
 * tells a missing module apart from one that would load on demand. */
static char *detect_script(struct nemesis_ctx *c, int i)
{
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, i);
	buf_puts(&b,
		 "fl_qdisc_probe() {\n"
		 "  o=$(tc qdisc add dev lo root handle fa1e: \"$1\" 2>&1) && {\n"
		 "    tc qdisc del dev lo root handle fa1e: >/dev/null 2>&1; return 0; }\n"
		 "  case \"$o\" in *nknown*|*'not found'*|*'No such file'*) return 1;; esac\n"
		 "  [ -e \"/sys/module/sch_$1\" ] || modinfo \"sch_$1\" >/dev/null 2>&1\n"
		 "}\n"
		 "if command -v tc >/dev/null 2>&1 && fl_qdisc_probe netem && fl_qdisc_probe prio; then\n"
		 "  echo netem\n"
		 "else\n"
		 "  echo nfqueue\n"
		 "fi\n");
	return buf_steal(&b);
}

/* Undo on one node. The daemon is told to stop first and waited for
 * last: the queue rule has --queue-bypass, so packets flow whether the
 * rule or the daemon goes first, and the two overlap. Families: those of
 * the cluster's addresses (heal's final purge covers both anyway). */
static char *stop_script(struct nemesis_ctx *c, int i)
{
	bool fam[2] = {false, false};
	for (int j = 0; j < c->test->n_nodes; j++)
		fam[nem_addr_is_v6(c->addr[j])] = true;
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, i);
	buf_printf(&b, "r=0\n"
		       "fl_stop_helper packetd &\n"
		       "for ipt in%s%s; do\n"
		       "  if command -v $ipt >/dev/null 2>&1 && $ipt -w -S FAULTLINE-PKT-OUT >/dev/null 2>&1; then\n"
		       "    $ipt -w -F FAULTLINE-PKT-OUT || r=1\n"
		       "  fi\n"
		       "done\n",
		   fam[0] ? " iptables" : "", fam[1] ? " ip6tables" : "");
	buf_puts(&b, /* One listing of this namespace's qdiscs (/sys/class/net
		      * may show the host's devices, not the node's). */
		 "if command -v tc >/dev/null 2>&1; then\n"
		 "  for d in $(tc qdisc show 2>/dev/null | sed -n 's/^qdisc prio " NEM_QDISC_HANDLE
		 ": dev \\([^ ]*\\) root.*/\\1/p'); do\n"
		 "    tc qdisc del dev \"$d\" root handle " NEM_QDISC_HANDLE ": || r=1\n"
		 "  done\n"
		 "fi\n"
		 "wait\n"
		 "exit $r\n");
	return buf_steal(&b);
}

static char *netem_script(struct nemesis_ctx *c, int i, const struct packet_params *p)
{
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, i);
	buf_puts(&b, "fl_netem_root() {\n"
		     "  tc qdisc show dev \"$1\" | grep -q '^qdisc prio " NEM_QDISC_HANDLE
		     ": root' && return 0\n");
	packet_netem_root_cmds(p, "\"$1\"", &b);
	buf_puts(&b, "}\n");
	for (int j = 0; j < c->test->n_nodes; j++) {
		if (j == i)
			continue;
		buf_puts(&b, "a=");
		buf_sh_quote(&b, c->addr[j]);
		buf_puts(&b, "\nd=$(ip -o route get \"$a\" 2>/dev/null | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p')\n"
			     "[ -n \"$d\" ] || { echo \"no route to $a\" >&2; exit 1; }\n"
			     "fl_netem_root \"$d\" || exit 1\n");
		/* Addresses are numeric (resolved and checked here). */
		packet_netem_filter_cmd("\"$d\"", c->addr[j], &b);
		b.len--; /* the newline */
		b.data[b.len] = 0;
		buf_puts(&b, " || exit 1\n");
	}
	return buf_steal(&b);
}

static char *nfqueue_script(struct nemesis_ctx *c, int i, const struct packet_params *p,
			    uint64_t seed)
{
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, i);
	buf_puts(&b, "fl_stop_helper packetd\n"
		     "\"$W/bin/faultline-packetd\" --daemon --pidfile \"$W/faultline-packetd.pid\""
		     " --log \"$W/faultline-packetd.log\" ");
	packet_packetd_args(p, seed, &b);
	buf_puts(&b, " || exit 1\n");
	for (int fam = 0; fam < 2; fam++) {
		bool v6 = fam == 1;
		struct buf list, batch;
		buf_init(&list);
		buf_init(&batch);
		if (nem_peer_list(c, NULL, i, v6, &list) > 0) {
			const char *ipt = v6 ? "ip6tables" : "iptables";
			/* packetd's own duplicates carry the mark and pass. */
			buf_printf(&batch, ":FAULTLINE-PKT-OUT - [0:0]\n"
					   "-A FAULTLINE-PKT-OUT -m mark --mark %d -j RETURN\n"
					   "-A FAULTLINE-PKT-OUT -d %s -j NFQUEUE --queue-num %d --queue-bypass\n",
				   NEM_MARK, list.data, NEM_QUEUE_NUM);
			nem_ipt_apply(c, i, &b, ipt, batch.data);
		}
		buf_free(&list);
		buf_free(&batch);
	}
	return buf_steal(&b);
}

/* Detect the path of every node in want that is not known yet. */
static int packet_detect(struct nemesis_ctx *c, const bool *want, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	char **scripts = xcalloc((size_t)n, sizeof *scripts);
	bool any = false;
	for (int i = 0; i < n; i++)
		if (want[i] && c->packet_path[i] == PATH_UNKNOWN) {
			scripts[i] = detect_script(c, i);
			any = true;
		}
	int failed = 0;
	if (any) {
		struct ssh_result *rs = xcalloc((size_t)n, sizeof *rs);
		failed = nem_run(c, scripts, rs, 0, err, errlen);
		for (int i = 0; i < n; i++)
			if (scripts[i] && rs[i].status == 0 && rs[i].out)
				c->packet_path[i] = strstr(rs[i].out, "netem") ? PATH_NETEM : PATH_NFQUEUE;
		nem_results_free(rs, n);
		free(rs);
	}
	nem_scripts_free(scripts, n);
	return failed ? -1 : 0;
}

/* ---- the nemesis ---- */

static int packet_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	struct packet_params p;
	if (packet_params_parse(o, "nemesis_opts.packet", &p, err, errlen) < 0)
		return -1;
	return nem_targets_check(t, o, "nemesis_opts.packet", err, errlen);
}

static json_t *packet_plan(struct nemesis_ctx *c)
{
	json_t *o = nem_opts(c->test, "packet");
	struct packet_params p;
	char err[256];
	json_t *spec;
	if (o && packet_params_parse(o, "", &p, err, sizeof err) == 0 && packet_params_any(&p)) {
		spec = packet_params_json(&p);
	} else {
		/* Jepsen-like behaviours, one per fault. */
		static const char *const presets[] = {
			"{\"delay_ms\":50,\"jitter_ms\":10,\"distribution\":\"normal\"}",
			"{\"loss\":0.2}",
			"{\"duplicate\":0.2}",
			"{\"delay_ms\":20,\"reorder\":0.25}",
			"{\"corrupt\":0.05}",
			"{\"rate_kbit\":1000}",
		};
		int k = nem_rand_int(c, (int)(sizeof presets / sizeof *presets));
		spec = json_loads(presets[k], 0, NULL);
	}
	json_t *path = o ? json_object_get(o, "path") : NULL;
	if (path)
		json_object_set(spec, "path", path);
	nem_targets_plan(c, o, "all", spec);
	return spec;
}

static json_t *packet_start(struct nemesis_ctx *c, json_t *spec, char *err, size_t errlen)
{
	const struct test *t = c->test;
	int n = t->n_nodes;
	struct packet_params p;
	/* The spec's targets are read below; parse only the parameters. */
	json_t *params = json_deep_copy(spec);
	json_object_del(params, "targets");
	json_object_del(params, "nodes");
	int pr = packet_params_parse(params, "packet", &p, err, errlen);
	json_decref(params);
	if (pr < 0)
		return NULL;
	if (!packet_params_any(&p)) {
		snprintf(err, errlen, "packet: no behaviour asked for (delay_ms, loss, duplicate, "
			 "reorder, corrupt or rate_kbit)");
		return NULL;
	}
	bool *want = nem_targets_want(c, spec, "all", false, err, errlen);
	if (!want)
		return NULL;
	json_t *applied = NULL;
	char **scripts = NULL;
	if (nem_net_own(c, want, err, errlen) < 0 || packet_detect(c, want, err, errlen) < 0)
		goto out;
	bool *need_daemon = xcalloc((size_t)n, sizeof *need_daemon);
	int *path = xcalloc((size_t)n, sizeof *path);
	bool any_daemon = false;
	for (int i = 0; i < n; i++) {
		if (!want[i])
			continue;
		path[i] = !strcmp(p.path, "netem")     ? PATH_NETEM
			  : !strcmp(p.path, "nfqueue") ? PATH_NFQUEUE
						       : c->packet_path[i];
		if (path[i] == PATH_NETEM && c->packet_path[i] != PATH_NETEM) {
			snprintf(err, errlen, "%s: path netem asked for, but the kernel has no netem "
				 "(use path auto or nfqueue)", t->nodes[i].name);
			free(need_daemon);
			free(path);
			goto out;
		}
		need_daemon[i] = path[i] == PATH_NFQUEUE;
		any_daemon = any_daemon || need_daemon[i];
	}
	if (any_daemon && nem_helper_ensure(c, "packetd", need_daemon, err, errlen) < 0) {
		free(need_daemon);
		free(path);
		goto out;
	}
	free(need_daemon);
	scripts = xcalloc((size_t)n, sizeof *scripts);
	json_t *nodes = json_object();
	for (int i = 0; i < n; i++) {
		if (!want[i])
			continue;
		scripts[i] = path[i] == PATH_NETEM ? netem_script(c, i, &p)
						   : nfqueue_script(c, i, &p, rng_next(c->rng));
		json_object_set_new(nodes, t->nodes[i].name,
				    json_string(path[i] == PATH_NETEM ? "netem" : "nfqueue"));
	}
	free(path);
	applied = packet_params_json(&p);
	json_object_set_new(applied, "nodes", nodes);
	int failed = nem_run(c, scripts, NULL, 0, err, errlen);
	nem_chains_ok(c, failed == 0);
	if (failed > 0) /* take back what did apply */
		applied = nem_rollback(c, applied, want, stop_script, err, errlen);
out:
	nem_scripts_free(scripts, n);
	free(want);
	return applied;
}

static int packet_stop(struct nemesis_ctx *c, json_t *applied, json_t **result, char *err,
		       size_t errlen)
{
	return nem_stop_applied(c, applied, stop_script, result, "packets-healed", "heal-failed", err, errlen);
}

static int packet_heal(struct nemesis_ctx *c, char *err, size_t errlen)
{
	return nem_run_fn(c, NULL, stop_script, 0, err, errlen) ? -1 : 0;
}

const struct nemesis nemesis_packet = {
	.name = "packet",
	.check = packet_check,
	.plan = packet_plan,
	.start = packet_start,
	.stop = packet_stop,
	.heal = packet_heal,
};
