/*
 * partition.c - network partitions between DB nodes, with iptables on the
 * nodes themselves.
 *
 * The grudge (grudge.c) says which pairs are cut; each node then drops, in
 * its own chains FAULTLINE-PART-IN (from the peers it must not hear) and
 * FAULTLINE-PART-OUT (to the peers it must not reach), so both directions
 * are cut even if one side's rules were lost. Only peer DB-node addresses
 * are matched: the controller's SSH and client traffic, which comes from
 * an address that is not a DB node, is never cut. A partition is applied
 * as one iptables-restore batch per node (atomic, one process), all nodes
 * in parallel, and healed by flushing the two chains.
 *
 * History: the start op's invoke value is the request ({"grudge":
 * "majority"}), its completion the exact cut, Jepsen-style:
 * {"n1":["n2","n3"],"n2":["n1"],"n3":["n1"]}.
 *
 * Options (nemesis_opts.partition): "grudges": names to choose from
 * (default: all that can cut this many nodes), "groups": explicit
 * components [["n1","n2"],["n3","n4","n5"]] (grudge "groups"; a node in no
 * group keeps talking to everyone). "primaries" and "primary-minority" (the
 * primary with a minority of the others, {n1,n2} | {n3,n4,n5} when n1 leads)
 * ask the database who leads when the fault starts; primary-minority is
 * only used when named, so the default choice of existing seeds stays put.
 */
#include "test.h"
#include "grudge.h"
#include "nemesis_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const part_keys[] = {"grudges", "groups", NULL};

/* groups JSON -> group index per node (-1: in none). */
static int groups_parse(const struct test *t, json_t *g, int *comp, const char *where, char *err,
			size_t errlen)
{
	int n = t->n_nodes;
	for (int i = 0; i < n; i++)
		comp[i] = -1;
	if (!json_is_array(g) || json_array_size(g) < 2) {
		snprintf(err, errlen, "%s: expected a list of at least two groups of node names",
			 where);
		return -1;
	}
	size_t gi;
	json_t *grp;
	json_array_foreach(g, gi, grp) {
		if (!json_is_array(grp) || json_array_size(grp) == 0) {
			snprintf(err, errlen, "%s[%zu]: expected a non-empty list of node names", where,
				 gi);
			return -1;
		}
		size_t k;
		json_t *e;
		json_array_foreach(grp, k, e) {
			int idx = json_is_string(e) ? nem_node_index(t, json_string_value(e)) : -1;
			if (idx < 0) {
				snprintf(err, errlen, "%s[%zu][%zu]: not a node of this test", where, gi, k);
				return -1;
			}
			if (comp[idx] >= 0) {
				snprintf(err, errlen, "%s[%zu][%zu]: node %s is in two groups", where, gi, k,
					 t->nodes[idx].name);
				return -1;
			}
			comp[idx] = (int)gi;
		}
	}
	return 0;
}

static int part_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	const char *where = "nemesis_opts.partition";
	if (nem_opts_keys(o, part_keys, where, err, errlen) < 0)
		return -1;
	json_t *groups = o ? json_object_get(o, "groups") : NULL;
	if (groups) {
		int *comp = xcalloc((size_t)t->n_nodes, sizeof *comp);
		int r = groups_parse(t, groups, comp, "nemesis_opts.partition.groups", err, errlen);
		free(comp);
		if (r < 0)
			return -1;
	}
	json_t *g = o ? json_object_get(o, "grudges") : NULL;
	if (!g)
		return 0;
	json_t *one = NULL;
	if (json_is_string(g)) {
		one = json_array();
		json_array_append(one, g);
		g = one;
	}
	if (!json_is_array(g) || json_array_size(g) == 0) {
		snprintf(err, errlen, "%s.grudges: expected a non-empty list of grudge names", where);
		return -1;
	}
	size_t i;
	json_t *e;
	json_array_foreach(g, i, e) {
		int k = json_is_string(e) ? grudge_kind_parse(json_string_value(e)) : -1;
		if (k < 0)
			snprintf(err, errlen, "%s.grudges[%zu]: unknown grudge (known: %s)", where, i,
				 grudge_kind_names());
		else if (t->n_nodes < grudge_min_nodes(k))
			snprintf(err, errlen, "%s.grudges[%zu]: %s needs at least %d nodes (test has %d)",
				 where, i, grudge_kind_name(k), grudge_min_nodes(k), t->n_nodes);
		else if (k == GRUDGE_GROUPS && !groups)
			snprintf(err, errlen, "%s.grudges[%zu]: groups needs %s.groups", where, i, where);
		else
			continue;
		if (one)
			json_decref(one);
		return -1;
	}
	if (one)
		json_decref(one);
	return 0;
}

static json_t *part_plan(struct nemesis_ctx *c)
{
	json_t *o = nem_opts(c->test, "partition");
	json_t *g = o ? json_object_get(o, "grudges") : NULL;
	const char *pick;
	if (json_is_array(g)) {
		pick = nem_pick(c, g);
	} else if (json_is_string(g)) {
		pick = json_string_value(g);
	} else if (o && json_object_get(o, "groups")) {
		pick = "groups";
	} else {
		/* Every default grudge that can cut this cluster. */
		static const int defaults[] = {GRUDGE_ONE, GRUDGE_MAJORITY, GRUDGE_MAJORITIES_RING,
					       GRUDGE_BRIDGE, GRUDGE_MINORITY_THIRD,
					       GRUDGE_PRIMARIES};
		int usable[6], nu = 0;
		for (int i = 0; i < 6; i++)
			if (c->test->n_nodes >= grudge_min_nodes(defaults[i]) &&
			    (defaults[i] != GRUDGE_PRIMARIES || db_has_primaries(c->db, c->test)))
				usable[nu++] = defaults[i];
		pick = grudge_kind_name(nu ? usable[nem_rand_int(c, nu)] : GRUDGE_ONE);
	}
	return json_pack("{s:s}", "grudge", pick);
}

/* The history value: whom each node cannot reach. */
static json_t *cut_json(const struct test *t, const bool *cut)
{
	int n = t->n_nodes;
	json_t *o = json_object();
	for (int i = 0; i < n; i++) {
		json_t *a = json_array();
		for (int j = 0; j < n; j++)
			if (cut[i * n + j])
				json_array_append_new(a, json_string(t->nodes[j].name));
		if (json_array_size(a))
			json_object_set_new(o, t->nodes[i].name, a);
		else
			json_decref(a);
	}
	return o;
}

/* The shell for node i: rules for `peers` (NULL or none: just empty the
 * chains). Only families the node has peers in are touched. */
static char *part_script(struct nemesis_ctx *c, int i, const bool *peers, bool stop_fast)
{
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, i);
	for (int fam = 0; fam < 2; fam++) {
		bool v6 = fam == 1;
		bool any_family = false;
		for (int j = 0; j < c->test->n_nodes; j++)
			any_family = any_family || (j != i && nem_addr_is_v6(c->addr[j]) == v6);
		if (!any_family)
			continue;
		const char *ipt = v6 ? "ip6tables" : "iptables";
		struct buf list, batch;
		buf_init(&list);
		buf_init(&batch);
		int np = peers ? nem_peer_list(c, peers, i, v6, &list) : 0;
		if (!peers && stop_fast) {
			/* Stop within a run: the chains are ours and in place. */
			buf_printf(&b, "printf '*filter\\n:FAULTLINE-PART-IN - [0:0]\\n"
				       ":FAULTLINE-PART-OUT - [0:0]\\nCOMMIT\\n' | %s-restore -w --noflush"
				       " || exit 1\n",
				   ipt);
			buf_free(&list);
			buf_free(&batch);
			continue;
		}
		if (!peers) {
			/* Heal: empty our chains where they exist; nothing to build. */
			buf_printf(&b, "if %s -w -S FAULTLINE-PART-IN >/dev/null 2>&1; then\n"
				       "  %s -w -F FAULTLINE-PART-IN && %s -w -F FAULTLINE-PART-OUT || exit 1\n"
				       "fi\n",
				   ipt, ipt, ipt);
			buf_free(&list);
			buf_free(&batch);
			continue;
		}
		buf_puts(&batch, ":FAULTLINE-PART-IN - [0:0]\n:FAULTLINE-PART-OUT - [0:0]\n");
		if (np > 0)
			buf_printf(&batch, "-A FAULTLINE-PART-IN -s %s -j DROP\n"
					   "-A FAULTLINE-PART-OUT -d %s -j DROP\n",
				   list.data, list.data);
		nem_ipt_apply(c, i, &b, ipt, batch.data);
		buf_free(&list);
		buf_free(&batch);
	}
	return buf_steal(&b);
}

/* Apply cut (NULL: remove) on every node; returns the number that
 * failed. A stop within a run where the layout is known takes the short
 * way; heal checks every chain first, assuming nothing. */
static int part_apply(struct nemesis_ctx *c, const bool *cut, bool heal, char *err,
		      size_t errlen)
{
	int n = c->test->n_nodes;
	char **scripts = xcalloc((size_t)n, sizeof *scripts);
	for (int i = 0; i < n; i++)
		scripts[i] = part_script(c, i, cut ? &cut[i * n] : NULL,
					 !heal && c->chains_ok && c->chains_ok[i]);
	int failed = nem_run(c, scripts, NULL, 0, err, errlen);
	nem_scripts_free(scripts, n);
	if (cut)
		nem_chains_ok(c, failed == 0);
	return failed;
}

static json_t *part_start(struct nemesis_ctx *c, json_t *spec, char *err, size_t errlen)
{
	const struct test *t = c->test;
	int n = t->n_nodes;
	const char *gname = json_is_string(spec) ? json_string_value(spec)
						 : json_string_value(json_object_get(spec, "grudge"));
	int kind = grudge_kind_parse(gname);
	if (kind < 0) {
		snprintf(err, errlen, "unknown grudge '%s' (known: %s)", gname ? gname : "",
			 grudge_kind_names());
		return NULL;
	}
	int *groups = NULL;
	int np = 0;
	int *prim = xcalloc((size_t)n, sizeof *prim);
	if (kind == GRUDGE_GROUPS) {
		json_t *g = json_object_get(spec, "groups");
		if (!g) {
			json_t *o = nem_opts(t, "partition");
			g = o ? json_object_get(o, "groups") : NULL;
		}
		groups = xcalloc((size_t)n, sizeof *groups);
		if (groups_parse(t, g, groups, "groups", err, errlen) < 0) {
			free(groups);
			free(prim);
			return NULL;
		}
	}
	if (kind == GRUDGE_PRIMARIES || kind == GRUDGE_PRIMARY_MINORITY) {
		char perr[300] = "";
		int k = nem_primaries(c, prim + np, perr, sizeof perr);
		if (k < 0) {
			snprintf(err, errlen, "no primary to isolate: %s", perr);
			free(groups);
			free(prim);
			return NULL;
		}
		np += k;
	}
	if (nem_net_own(c, NULL, err, errlen) < 0) {
		free(groups);
		free(prim);
		return NULL;
	}
	bool *cut = xcalloc((size_t)n * (size_t)n, sizeof *cut);
	int grc = grudge_make(kind, n, c->rng, prim, np, groups, cut, err, errlen);
	free(groups);
	free(prim);
	if (grc < 0) {
		free(cut);
		return NULL;
	}
	json_t *applied = cut_json(t, cut);
	int failed = part_apply(c, cut, false, err, errlen);
	free(cut);
	if (failed == 0)
		return applied;
	/* Partly applied: take it back so the history can say "not applied". */
	char rerr[512] = "";
	if (part_apply(c, NULL, true, rerr, sizeof rerr) == 0) {
		json_decref(applied);
		return NULL;
	}
	nem_err_append(err, errlen, "rollback failed", rerr);
	return applied;
}

static int part_stop(struct nemesis_ctx *c, json_t *applied, json_t **result, char *err,
		     size_t errlen)
{
	(void)applied;
	int failed = part_apply(c, NULL, false, err, errlen);
	if (result)
		*result = json_string(failed ? "heal-failed" : "network-healed");
	return failed ? -1 : 0;
}

static int part_heal(struct nemesis_ctx *c, char *err, size_t errlen)
{
	return part_apply(c, NULL, true, err, errlen) ? -1 : 0;
}

const struct nemesis nemesis_partition = {
	.name = "partition",
	.check = part_check,
	.plan = part_plan,
	.start = part_start,
	.stop = part_stop,
	.heal = part_heal,
};
