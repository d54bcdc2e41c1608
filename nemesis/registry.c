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
 * first (so restarted or resumed processes meet a healed network), the
 * network last. */
static const struct nemesis *const kinds[] = {
	&nemesis_slow, &nemesis_pause,  &nemesis_kill,
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
