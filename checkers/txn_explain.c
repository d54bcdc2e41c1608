/*
 * txn_explain.c - one anomaly instance (struct tcase) as a failure object
 * for results.json: the kind, a one-line message, the evidence as data
 * (transactions with index/process/value, micro-ops, keys, values) and,
 * for cycles, the edges with their key and value and an explanation in
 * Elle's words:
 *
 *   Let T1 = {...}, T2 = {...}. Then T1 < T2 because T2 observed T1's
 *   append of 1 to key "y"; however T2 < T1 because T1 did not observe
 *   T2's append of 8 to key 255: a contradiction!
 *
 * Keys and values are written as JSON (a string key is quoted, an integer
 * key is not), so typed keys stay apart in the text as in the data. The
 * model explains each data edge (txn_model.explain); process and real-time
 * edges explain themselves.
 */
#include "txn.h"

#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static char *jtext(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	json_decref(v);
	return s ? s : xstrdup("?");
}

static char *atom_text(const struct tstore *st, atom_t a)
{
	return jtext(tstore_atom_json(st, a));
}

static char *key_text(const struct tstore *st, uint32_t key)
{
	return jtext(tstore_atom_json(st, st->keys[key].atom));
}

static json_t *key_json(const struct tstore *st, uint32_t key)
{
	return tstore_atom_json(st, st->keys[key].atom);
}

/* The txn for the explanation text: {"index":..,"process":..,"value":..}. */
static char *txn_text(struct tstore *st, uint32_t t)
{
	json_t *full = tstore_txn_json(st, t);
	json_t *o = json_object();
	json_object_set(o, "index", json_object_get(full, "index"));
	json_object_set(o, "process", json_object_get(full, "process"));
	const char *type = json_string_value(json_object_get(full, "type"));
	if (type && strcmp(type, "ok"))
		json_object_set(o, "type", json_object_get(full, "type"));
	json_object_set(o, "value", json_object_get(full, "value"));
	json_decref(full);
	return jtext(o);
}

static const char *type_name(uint8_t t)
{
	switch (t) {
	case EDGE_WW: return "ww";
	case EDGE_WR: return "wr";
	case EDGE_RW: return "rw";
	case EDGE_PROC: return "process";
	case EDGE_RT: return "realtime";
	default: return "?";
	}
}

/* One step a -> b: its JSON edge and the "because" clause. */
static json_t *edge_explain(struct tstore *st, uint32_t a, uint32_t b, uint8_t type,
			    const char *an, const char *bn, struct buf *why)
{
	const struct ttxn *ta = &st->txns[a], *tb = &st->txns[b];
	json_t *e = json_object();
	json_object_set_new(e, "from", json_integer(ta->index));
	json_object_set_new(e, "to", json_integer(tb->index));
	json_object_set_new(e, "type", json_string(type_name(type)));
	if (type == EDGE_PROC) {
		json_object_set_new(e, "process", json_integer(ta->process));
		buf_printf(why, "process %" PRId64 " executed %s before %s", ta->process, an, bn);
		return e;
	}
	if (type == EDGE_RT) {
		json_object_set_new(e, "completed_index", json_integer(ta->index));
		json_object_set_new(e, "invoked_index", json_integer(tb->inv_index));
		buf_printf(why, "%s completed (index %" PRId64 ") before %s was invoked (index %" PRId64 ")",
			   an, ta->index, bn, tb->inv_index);
		if (ta->time >= 0 && tb->inv_time >= 0 && tb->inv_time > ta->time) {
			double dt = (double)(tb->inv_time - ta->time) / 1e9;
			json_object_set_new(e, "seconds", json_real(dt));
			buf_printf(why, ", %.6f seconds earlier", dt);
		}
		return e;
	}
	struct texpl x;
	if (!st->model->explain(st, a, b, type, &x)) {
		buf_printf(why, "of a %s dependency", type_name(type));
		return e;
	}
	json_object_set_new(e, "key", key_json(st, x.key));
	json_object_set_new(e, "value", tstore_atom_json(st, x.value));
	char *k = key_text(st, x.key), *v = atom_text(st, x.value);
	char *p = x.prev_known ? atom_text(st, x.prev) : NULL;
	bool list = st->model == &txn_list_append;
	if (type == EDGE_WR) {
		if (list)
			buf_printf(why, "%s observed %s's append of %s to key %s", bn, an, v, k);
		else
			buf_printf(why, "%s read key %s = %s, which %s wrote", bn, k, v, an);
	} else if (type == EDGE_WW) {
		json_object_set_new(e, "prev", tstore_atom_json(st, x.prev));
		if (list)
			buf_printf(why, "%s appended %s after %s appended %s to key %s", bn, v, an,
				   p, k);
		else
			buf_printf(why, "%s set key %s to %s, and %s set it to %s, which came later "
					"in its version order", an, k, p, bn, v);
	} else {
		json_object_set_new(e, "read", tstore_atom_json(st, x.prev));
		if (list && x.prev == ATOM_NIL)
			buf_printf(why, "%s observed the initial (empty) state of key %s, which %s "
					"changed by appending %s", an, k, bn, v);
		else if (list)
			buf_printf(why, "%s did not observe %s's append of %s to key %s", an, bn, v,
				   k);
		else
			buf_printf(why, "%s read key %s = %s%s, and %s set it to %s, which came "
					"later in its version order", an, k, p,
				   x.prev == ATOM_NIL ? " (the initial state)" : "", bn, v);
	}
	free(k);
	free(v);
	free(p);
	return e;
}

static const char *cycle_words(enum tkind k, uint32_t rw)
{
	static char buf[160];
	int b = k % 5, v = k / 5;
	const char *base[] = {
		"a write cycle (ww edges only)",
		"circular information flow (ww and wr edges)",
		"a cycle with exactly one anti-dependency (rw) edge",
		"a cycle whose anti-dependency (rw) edges are never adjacent",
		"a cycle with adjacent anti-dependency (rw) edges",
	};
	snprintf(buf, sizeof buf, "%s%s", base[b],
		 v == 1 ? ", through process order" : v == 2 ? ", through real-time order" : "");
	(void)rw;
	return buf;
}

static json_t *explain_cycle(struct tstore *st, const struct tcase *c)
{
	uint32_t n = c->n_steps;
	json_t *txns = json_array(), *edges = json_array();
	struct buf text, msg;
	buf_init(&text);
	buf_init(&msg);
	char name[24], next[24];
	buf_puts(&text, "Let ");
	uint32_t rw = 0;
	for (uint32_t i = 0; i < n; i++) {
		json_t *t = tstore_txn_json(st, c->steps[i].txn);
		snprintf(name, sizeof name, "T%u", i + 1);
		json_object_set_new(t, "name", json_string(name));
		json_array_append_new(txns, t);
		char *tt = txn_text(st, c->steps[i].txn);
		buf_printf(&text, "%s%s = %s", i ? ", " : "", name, tt);
		free(tt);
		rw += c->steps[i].type == EDGE_RW;
	}
	buf_puts(&text, ". Then ");
	for (uint32_t i = 0; i < n; i++) {
		snprintf(name, sizeof name, "T%u", i + 1);
		snprintf(next, sizeof next, "T%u", (i + 1) % n + 1);
		if (i == n - 1)
			buf_puts(&text, n > 1 ? "; however " : "");
		else if (i)
			buf_puts(&text, "; ");
		buf_printf(&text, "%s < %s because ", name, next);
		json_array_append_new(edges, edge_explain(st, c->steps[i].txn,
							  c->steps[(i + 1) % n].txn,
							  c->steps[i].type, name, next, &text));
	}
	buf_puts(&text, ": a contradiction!");
	buf_printf(&msg, "%s among %u transactions (indices", cycle_words(c->kind, rw), n);
	for (uint32_t i = 0; i < n; i++)
		buf_printf(&msg, "%s%" PRId64, i ? ", " : " ", st->txns[c->steps[i].txn].index);
	buf_puts(&msg, ")");
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s}", "kind", tkind_name(c->kind), "message",
			      msg.data, "txns", txns, "edges", edges, "explanation", text.data);
	json_object_set_new(o, "scc_size", json_integer(c->scc_size));
	buf_free(&text);
	buf_free(&msg);
	return o;
}

static json_t *mop_json(struct tstore *st, uint32_t mop)
{
	return mop == TXN_NONE ? json_null() : tstore_mop_json(st, &st->mops[mop]);
}

/* The elements of list-append read mop, and how often each repeats. */
static json_t *duplicates_json(struct tstore *st, uint32_t mop)
{
	const struct tmop *m = &st->mops[mop];
	json_t *l = st->model->read_json(st, m), *out = json_array();
	size_t n = json_array_size(l);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(l, i);
		size_t cnt = 0;
		bool first = true;
		for (size_t j = 0; j < n; j++)
			if (json_equal(json_array_get(l, j), e)) {
				cnt++;
				if (j < i)
					first = false;
			}
		if (cnt > 1 && first)
			json_array_append_new(out, json_pack("[O, I]", e, (json_int_t)cnt));
	}
	json_decref(l);
	return out;
}

json_t *txn_explain_case(struct tstore *st, const struct tcase *c)
{
	if (c->kind < K_N_CYCLE)
		return explain_cycle(st, c);
	const char *kind = tkind_name(c->kind);
	json_t *o = json_object();
	json_object_set_new(o, "kind", json_string(kind));
	struct buf msg;
	buf_init(&msg);
	char *k = c->key != TXN_NONE ? key_text(st, c->key) : NULL;
	if (c->key != TXN_NONE)
		json_object_set_new(o, "key", key_json(st, c->key));
	if (c->txn[0] != TXN_NONE)
		json_object_set_new(o, "op", tstore_txn_json(st, c->txn[0]));
	if (c->mop != TXN_NONE && c->kind != K_LOST_UPDATE && c->kind != K_INCOMPAT_ORDER)
		json_object_set_new(o, "mop", mop_json(st, c->mop));
	int64_t idx = c->txn[0] != TXN_NONE ? st->txns[c->txn[0]].index : -1;
	char *v = NULL;
	switch (c->kind) {
	case K_G1A:
	case K_G1B:
		v = atom_text(st, c->v);
		json_object_set_new(o, "element", tstore_atom_json(st, c->v));
		json_object_set_new(o, "writer", tstore_txn_json(st, c->txn[1]));
		buf_printf(&msg, "op %" PRId64 " read %s of key %s, %s by op %" PRId64 "%s", idx,
			   v, k, st->model == &txn_list_append ? "appended" : "written",
			   st->txns[c->txn[1]].index,
			   c->kind == K_G1A ? ", which failed (aborted read)"
					    : ", which later wrote the key again (intermediate read)");
		break;
	case K_INTERNAL:
		if (c->list != TXN_NONE) {
			const struct tlist *l = &st->lists[c->list];
			json_t *e = tstore_list_json(st, l->a, l->n);
			char *et = jtext(json_incref(e));
			json_object_set_new(o, "expected", e);
			json_object_set_new(o, "expected_suffix_only", json_boolean(c->flag));
			buf_printf(&msg, "op %" PRId64 " read key %s inconsistently with its own "
					 "earlier reads and appends: expected %s%s", idx, k,
				   c->flag ? "a list ending in " : "", et);
			free(et);
		} else {
			v = atom_text(st, c->v);
			json_object_set_new(o, "expected", tstore_atom_json(st, c->v));
			buf_printf(&msg, "op %" PRId64 " read key %s inconsistently with its own "
					 "earlier read or write: expected %s", idx, k, v);
		}
		break;
	case K_FUTURE_READ:
		v = atom_text(st, c->v);
		json_object_set_new(o, "element", tstore_atom_json(st, c->v));
		buf_printf(&msg, "op %" PRId64 " read %s in key %s before appending it itself", idx,
			   v, k);
		break;
	case K_DIRTY_UPDATE: {
		const struct tlist *l = &st->lists[c->list];
		json_object_set_new(o, "values", tstore_list_json(st, l->a, l->n));
		json_object_set_new(o, "txns", json_pack("[o, o]", tstore_txn_json(st, c->txn[0]),
							 tstore_txn_json(st, c->txn[1])));
		buf_printf(&msg, "key %s: op %" PRId64 " committed an append after one of failed op "
				 "%" PRId64, k, st->txns[c->txn[1]].index, st->txns[c->txn[0]].index);
		break;
	}
	case K_LOST_UPDATE: {
		json_t *val = st->model == &txn_list_append
				      ? (st->mops[c->mop].flags & MOPF_NIL
						 ? json_array()
						 : st->model->read_json(st, &st->mops[c->mop]))
				      : tstore_atom_json(st, c->v);
		v = jtext(json_incref(val));
		json_object_set_new(o, "value", val);
		json_t *ts = json_array();
		for (uint32_t i = 0; i < c->n_steps && i < CASE_CAP; i++)
			json_array_append_new(ts, tstore_txn_json(st, c->steps[i].txn));
		json_object_set_new(o, "txns", ts);
		json_object_set_new(o, "count", json_integer(c->n));
		buf_printf(&msg, "%u committed transactions read key %s = %s and then all wrote it",
			   c->n, k, v);
		break;
	}
	case K_INCOMPAT_ORDER: {
		const struct tmop *m = &st->mops[c->mop];
		json_t *order = tstore_list_json(st, st->keys[c->key].list, c->n);
		json_t *read = st->model->read_json(st, m);
		json_object_set_new(o, "values", json_pack("[o, o]", order, read));
		json_object_set_new(o, "mop", mop_json(st, c->mop));
		buf_printf(&msg, "key %s: op %" PRId64 "'s read is not a prefix of (nor extends) "
				 "the order earlier reads showed, %" PRIu64 " such read(s) on this key",
			   k, idx, (uint64_t)st->keys[c->key].incompat);
		break;
	}
	case K_DUPLICATES:
		json_object_set_new(o, "duplicates", duplicates_json(st, c->mop));
		buf_printf(&msg, "op %" PRId64 " read key %s with an element more than once", idx, k);
		break;
	case K_CYCLIC_VERSIONS: {
		const struct tlist *l = &st->lists[c->list];
		json_object_set_new(o, "values", tstore_list_json(st, l->a, l->n));
		json_t *src = json_array();
		for (int i = 0; i < 4; i++)
			if (c->flag >> i & 1)
				json_array_append_new(src, json_string(txn_version_source_name(i)));
		json_object_set_new(o, "sources", src);
		buf_printf(&msg, "key %s: the version order inferred from these sources has a "
				 "cycle among %u values (the last source was left out)", k, l->n);
		break;
	}
	case K_EMPTY_GRAPH:
		buf_printf(&msg, "no dependency between any two transactions: nothing to judge");
		break;
	default:
		buf_printf(&msg, "%s", kind);
		break;
	}
	json_object_set_new(o, "message", json_string(msg.data));
	buf_free(&msg);
	free(k);
	free(v);
	return o;
}
