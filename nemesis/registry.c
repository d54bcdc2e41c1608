/*
 * registry.c - the fault kinds by name, validation of a test's faults and
 * nemesis_opts (before any node is touched), the context every kind works
 * in, and heal-everything: every kind's heal on every node, then the
 * faultline chain layout itself removed, so a healed node carries no
 * faultline rule at all.
 */
#include "test.h"
#include "nemesis_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Heal order matters a little: the slow-node daemon and paused databases
 * first (so restarted or resumed processes meet a healed network), disks
 * before killed databases restart (so they restart on a healed data dir),
 * the network last. */
static const struct nemesis *const kinds[] = {
	&nemesis_slow, &nemesis_pause,  &nemesis_disk, &nemesis_kill,
	&nemesis_partition, &nemesis_packet, &nemesis_clock,
};
#define N_KINDS (sizeof kinds / sizeof *kinds)

const struct nemesis *nemesis_find(const char *name)
{
	for (size_t i = 0; name && i < N_KINDS; i++)
		if (!strcmp(kinds[i]->name, name))
			return kinds[i];
	return NULL;
}

const char *nemesis_names(void)
{
	static char *cache;
	return registry_names((const void *const *)kinds, N_KINDS, &cache);
}

int nemesis_check_test(const struct test *t, char *err, size_t errlen)
{
	for (int i = 0; i < t->n_nemesis; i++)
		if (!nemesis_find(t->nemesis[i])) {
			snprintf(err, errlen, "nemesis[%d]: unknown fault '%s' (known: %s)", i,
				 t->nemesis[i], nemesis_names());
			return -1;
		}
	/* A kind without options is checked too: it may refuse the test
	 * itself (disk faults need a database with a data directory). */
	for (int i = 0; i < t->n_nemesis; i++) {
		const struct nemesis *kind = nemesis_find(t->nemesis[i]);
		if (kind->check && !nem_opts(t, kind->name) && kind->check(t, NULL, err, errlen) < 0)
			return -1;
	}
	json_t *o = t->nemesis_opts;
	if (!o)
		return 0;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (!strcmp(k, "schedule")) {
			const char *s = json_string_value(v);
			if (!s || (strcmp(s, "alternate") && strcmp(s, "mix") && strcmp(s, "together"))) {
				snprintf(err, errlen, "nemesis_opts.schedule: expected alternate, mix or "
					 "together");
				return -1;
			}
			continue;
		}
		const struct nemesis *kind = nemesis_find(k);
		if (!kind) {
			snprintf(err, errlen, "nemesis_opts.%s: unknown key (schedule, or a fault: %s)", k,
				 nemesis_names());
			return -1;
		}
		if (!json_is_object(v)) {
			snprintf(err, errlen, "nemesis_opts.%s: expected an object", k);
			return -1;
		}
		bool enabled = false;
		for (int i = 0; i < t->n_nemesis; i++)
			enabled |= !strcmp(t->nemesis[i], k);
		if (!enabled) {
			/* Options of a fault that never runs are a typo or a forgotten
			 * --nemesis: say so rather than ignore them. */
			snprintf(err, errlen, "nemesis_opts.%s: fault %s is not enabled (add it to "
				 "nemesis / --nemesis)", k, k);
			return -1;
		}
		if (kind->check && kind->check(t, v, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int nemesis_ctx_init(struct nemesis_ctx *c, const struct test *t, struct ssh_node **ssh,
		     const struct db *db, uint64_t *rng, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->test = t;
	c->ssh = ssh;
	c->db = db;
	c->dbc.test = t;
	c->dbc.ssh = ssh;
	c->rng = rng;
	c->opts = t->nemesis_opts;
	int n = t->n_nodes;
	c->addr = xcalloc((size_t)(n ? n : 1), sizeof *c->addr);
	c->busy = xcalloc((size_t)(n ? n : 1), sizeof *c->busy);
	c->chains_ok = xcalloc((size_t)(n ? n : 1), sizeof *c->chains_ok);
	c->packet_path = xcalloc((size_t)(n ? n : 1), sizeof *c->packet_path);
	c->helpers_ok = xcalloc((size_t)(n ? n : 1), sizeof *c->helpers_ok);
	c->netid = xcalloc((size_t)(n ? n : 1), sizeof *c->netid);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		c->addr[i] = host_to_ip(t->nodes[i].host);
		if (!c->addr[i]) {
			if (rc == 0)
				snprintf(err, errlen, "%s: cannot resolve host %s", t->nodes[i].name,
					 t->nodes[i].host);
			rc = -1;
			c->addr[i] = xstrdup(t->nodes[i].host);
		}
	}
	return rc;
}

void nemesis_ctx_free(struct nemesis_ctx *c)
{
	for (int i = 0; i < c->test->n_nodes; i++) {
		if (c->addr)
			free(c->addr[i]);
		if (c->netid)
			free(c->netid[i]);
	}
	free(c->netid);
	free(c->addr);
	free(c->busy);
	free(c->chains_ok);
	free(c->packet_path);
	free(c->helpers_ok);
	memset(c, 0, sizeof *c);
}

/* Remove the chain layout (jumps, then every FAULTLINE-* chain). */
static char *purge_chains_script(struct nemesis_ctx *c, int node)
{
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, node);
	buf_puts(&b, "r=0\n"
		     "for ipt in iptables ip6tables; do\n"
		     "  command -v $ipt >/dev/null 2>&1 || continue\n"
		     "  $ipt -w -S >/dev/null 2>&1 || continue\n"
		     "  while $ipt -w -D INPUT -j FAULTLINE-IN 2>/dev/null; do :; done\n"
		     "  while $ipt -w -D OUTPUT -j FAULTLINE-OUT 2>/dev/null; do :; done\n"
		     "  chains=$($ipt -w -S | sed -n 's/^-N \\(FAULTLINE-[A-Za-z0-9_-]*\\)$/\\1/p')\n"
		     "  for ch in $chains; do $ipt -w -F \"$ch\" || r=1; done\n"
		     "  for ch in $chains; do $ipt -w -X \"$ch\" || r=1; done\n"
		     "done\n"
		     "exit $r\n");
	return buf_steal(&b);
}

int nemesis_heal_all_err(const struct test *t, struct ssh_node **ssh, const struct db *db,
			 char *err, size_t errlen)
{
	uint64_t rng = 1;
	struct nemesis_ctx c;
	char e[1024] = "";
	err[0] = 0;
	nemesis_ctx_init(&c, t, ssh, db, &rng, e, sizeof e);
	c.skip_unreachable = true;
	int rc = 0;
	for (int i = 0; i < t->n_nodes; i++)
		if (!ssh || !ssh[i]) {
			nem_err_append(err, errlen, t->nodes[i].name, "not reachable over SSH, not healed");
			rc = -1;
		}
	for (size_t k = 0; k < N_KINDS; k++) {
		e[0] = 0;
		if (kinds[k]->heal(&c, e, sizeof e) < 0) {
			nem_err_append(err, errlen, kinds[k]->name, e[0] ? e : "failed");
			rc = -1;
		}
	}
	e[0] = 0;
	if (nem_run_fn(&c, NULL, purge_chains_script, 0, e, sizeof e) > 0) {
		nem_err_append(err, errlen, "chains", e[0] ? e : "failed");
		rc = -1;
	}
	nemesis_ctx_free(&c);
	return rc;
}

int nemesis_heal_all(const struct test *t, struct ssh_node **ssh, const struct db *db)
{
	char err[2048];
	int rc = nemesis_heal_all_err(t, ssh, db, err, sizeof err);
	if (rc < 0)
		log_error("nemesis heal: %s", err);
	return rc;
}

/* What faultline may have left on a node, in words, one per line: rules in
 * its fault chains (the empty chain layout itself is harmless), its netem
 * qdisc, its daemons, a kill not undone, a clock offset, a disk fault. */
static char *leftovers_script(struct nemesis_ctx *c, int node)
{
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, node);
	buf_puts(&b, "for ipt in iptables ip6tables; do\n"
		     "  r=$(\"$ipt\" -w -S 2>/dev/null) || continue\n"
		     "  printf '%s\\n' \"$r\" | grep -q '^-A FAULTLINE-PART-' && echo \"partition rules ($ipt)\"\n"
		     "  printf '%s\\n' \"$r\" | grep -q '^-A FAULTLINE-PKT-' && echo \"packet rules ($ipt)\"\n"
		     "  printf '%s\\n' \"$r\" | grep -q '^-A FAULTLINE-SLOW-' && echo \"slow-node rules ($ipt)\"\n"
		     "done\n"
		     "tc qdisc show 2>/dev/null | grep -q ' " NEM_QDISC_HANDLE ": ' && echo 'netem qdisc'\n"
		     "for h in packetd slowd; do\n"
		     "  p=$(cat \"$W/faultline-$h.pid\" 2>/dev/null) && fl_alive \"$p\" && echo \"faultline-$h running\"\n"
		     "done\n"
		     "[ -e \"$W/faultline-killed\" ] && echo 'database killed by a fault and not restarted'\n"
		     "[ -e \"$W/faultline-clock.offset\" ] && echo 'clock offset'\n");
	nem_disk_leftovers(&b);
	buf_puts(&b, "exit 0\n");
	return buf_steal(&b);
}

/* arg: a 512-byte slot per node for "etcd stopped (SIGSTOP)". */
static int paused_db(struct nemesis_ctx *c, int node, void *arg, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	char *slot = (char *)arg + 512 * node;
	long pid = c->db->pid(&c->dbc, node);
	if (pid <= 0)
		return 0;
	char cmd[160];
	snprintf(cmd, sizeof cmd, "grep -q '^State:[[:space:]]*T' /proc/%ld/status 2>/dev/null", pid);
	struct ssh_result r;
	int rc = ssh_exec(c->ssh[node], cmd, NEM_CMD_TIMEOUT_MS, &r);
	bool paused = rc == 0 && r.status == 0;
	ssh_result_free(&r);
	if (paused)
		snprintf(slot, 512, "%s stopped (SIGSTOP)", c->db->name);
	return 0;
}

int nemesis_leftovers(const struct test *t, struct ssh_node **ssh, const struct db *db,
		      char *out, size_t outlen)
{
	uint64_t rng = 1;
	struct nemesis_ctx c;
	char e[1024] = "";
	out[0] = 0;
	nemesis_ctx_init(&c, t, ssh, db, &rng, e, sizeof e);
	c.skip_unreachable = true;
	int n = t->n_nodes, found = 0;
	char **scripts = xcalloc((size_t)n, sizeof *scripts);
	struct ssh_result *rs = xcalloc((size_t)n, sizeof *rs);
	for (int i = 0; i < n; i++)
		scripts[i] = leftovers_script(&c, i);
	nem_run(&c, scripts, rs, 0, e, sizeof e);
	char *paused = xcalloc((size_t)n, 512);
	if (db && db->pid)
		nem_each(&c, NULL, paused_db, paused, e, sizeof e);
	for (int i = 0; i < n; i++) {
		struct buf what;
		buf_init(&what);
		for (char *line = rs[i].out, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = 0;
			if (*line)
				buf_printf(&what, "%s%s", what.len ? ", " : "", line);
		}
		if (paused[512 * i])
			buf_printf(&what, "%s%s", what.len ? ", " : "", paused + 512 * i);
		if (what.len) {
			found++;
			nem_err_append(out, outlen, t->nodes[i].name, what.data);
		}
		buf_free(&what);
	}
	free(paused);
	nem_results_free(rs, n);
	free(rs);
	nem_scripts_free(scripts, n);
	nemesis_ctx_free(&c);
	return found;
}
