/*
 * etcd_txn.c - the etcd clients of the transactional workloads, append
 * (list-append) and rw-register: a transaction of micro-ops over a few
 * keys becomes an optimistic etcd transaction.
 *
 *   1. snapshot: one Txn of ranges over the transaction's keys (one
 *      revision; + serializable with --read-mode serializable)
 *   2. a read-only transaction completes there, with the snapshot's values
 *   3. otherwise the micro-ops run on the snapshot (a read sees the
 *      transaction's own earlier writes) and commit as
 *      POST /v3/kv/txn compare MOD(k) == snapshot rev, for every key read
 *                          or written
 *                      success: put the new value of each written key
 *                      failure: range every key      (a fresh snapshot)
 *      again with the fresh snapshot while the op's time lasts.
 * The compares make a committed transaction serializable at its commit
 * revision, and etcd commits linearizably: with linearizable reads etcd
 * claims strict serializability. With serializable reads only the
 * read-only transactions can see a stale snapshot (a read-write one would
 * fail its compares), which is what the transaction checker should find.
 *
 * append: the key "append/<k>" holds the JSON list of the values appended
 * to it; a key never written reads []. rw-register: "rw/<k>" holds the
 * JSON value last written; never written reads null. Attempts whose compare
 * failed changed nothing: a transaction out of time after those only is a
 * fail ("contention"), one whose last attempt is unknown is info. Honesty
 * rules as in etcd_client.c.
 */
#include "client.h"
#include "etcd.h"
#include "etcd_http.h"
#include "history.h"
#include "test.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct etcd_txn {
	struct etcd_conn conn;
	const struct test *t;
	bool serializable;
	bool append;          /* list-append, else rw-register */
};

/* One key of a transaction: its etcd key and the snapshot. */
struct txn_key {
	json_t *id;           /* the workload's key (borrowed) */
	char *name;           /* "append/3" */
	json_t *value;        /* snapshot value (own): list, or any value / null */
	int64_t rev;          /* snapshot mod_revision, 0 when absent */
	bool written;
};

static void *etcd_txn_open_kind(const struct test *t, int node, bool append, char *err,
				size_t errlen)
{
	struct etcd_txn *c = xcalloc(1, sizeof *c);
	if (etcd_conn_open(&c->conn, t, node, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	c->t = t;
	c->serializable = etcd_serializable(t);
	c->append = append;
	return c;
}

static void *etcd_append_open(const struct test *t, int node, char *err, size_t errlen)
{
	return etcd_txn_open_kind(t, node, true, err, errlen);
}

static void *etcd_rw_open(const struct test *t, int node, char *err, size_t errlen)
{
	return etcd_txn_open_kind(t, node, false, err, errlen);
}

static void etcd_txn_close(void *client)
{
	struct etcd_txn *c = client;
	etcd_conn_close(&c->conn);
	free(c);
}

static char *key_name(const struct etcd_txn *c, json_t *id)
{
	char *k = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY);
	char *name = xasprintf("%s/%s", c->append ? "append" : "rw", k ? k : "null");
	free(k);
	return name;
}

/* The transaction's distinct keys; -1 if a micro-op is malformed. */
static int txn_keys(const struct etcd_txn *c, json_t *txn, struct txn_key **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!json_is_array(txn) || !json_array_size(txn))
		return -1;
	struct txn_key *ks = xcalloc(json_array_size(txn), sizeof *ks);
	size_t nk = 0, i;
	json_t *mop;
	const char *w = c->append ? "append" : "w";
	json_array_foreach(txn, i, mop) {
		const char *f = json_string_value(json_array_get(mop, 0));
		json_t *id = json_array_get(mop, 1);
		if (!json_is_array(mop) || json_array_size(mop) != 3 || !f || !id ||
		    (strcmp(f, "r") && strcmp(f, w))) {
			free(ks);
			return -1;
		}
		size_t j = 0;
		while (j < nk && !json_equal(ks[j].id, id))
			j++;
		if (j == nk) {
			ks[nk].id = id;
			ks[nk].name = key_name(c, id);
			nk++;
		}
		if (strcmp(f, "r"))
			ks[j].written = true;
	}
	*out = ks;
	*n = nk;
	return 0;
}

static void keys_free(struct txn_key *ks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ks[i].name);
		json_decref(ks[i].value);
	}
	free(ks);
}

/* Load the snapshot from a txn reply whose responses are one range per
 * key, in order. -1 if a stored value is not JSON. */
static int snapshot_load(const struct etcd_txn *c, json_t *reply, struct txn_key *ks, size_t n)
{
	json_t *rs = json_object_get(reply, "responses");
	for (size_t i = 0; i < n; i++) {
		json_t *kv = json_array_get(json_object_get(json_object_get(json_array_get(rs, i),
									    "response_range"),
							    "kvs"),
					    0);
		json_decref(ks[i].value);
		ks[i].value = NULL;
		ks[i].rev = 0;
		if (!kv) {
			ks[i].value = c->append ? json_array() : json_null();
			continue;
		}
		char *s = etcd_kv_value(kv);
		ks[i].value = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
		free(s);
		if (!ks[i].value || (c->append && !json_is_array(ks[i].value)))
			return -1;
		ks[i].rev = etcd_int(json_object_get(kv, "mod_revision"));
	}
	return 0;
}

static json_t *ranges(struct txn_key *ks, size_t n, bool serializable)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o}", "request_range",
						   etcd_range_req(ks[i].name, false, serializable,
								  false)));
	return a;
}

static struct txn_key *key_of(struct txn_key *ks, size_t n, json_t *id)
{
	for (size_t i = 0; i < n; i++)
		if (json_equal(ks[i].id, id))
			return &ks[i];
	return NULL;
}

/* Run the micro-ops on the snapshot: the completed value (reads filled in)
 * and, in *state, each key's value after the transaction. */
static json_t *txn_apply(const struct etcd_txn *c, json_t *txn, struct txn_key *ks, size_t n,
			 json_t **state)
{
	for (size_t i = 0; i < n; i++)
		state[i] = json_deep_copy(ks[i].value);
	json_t *done = json_array();
	size_t i;
	json_t *mop;
	json_array_foreach(txn, i, mop) {
		const char *f = json_string_value(json_array_get(mop, 0));
		json_t *id = json_array_get(mop, 1);
		size_t k = (size_t)(key_of(ks, n, id) - ks);
		if (!strcmp(f, "r")) {
			/* a copy: a later append in this txn must not change it */
			json_array_append_new(done, json_pack("[s, O, o]", f, id,
							      json_deep_copy(state[k])));
		} else if (c->append) {
			json_array_append(state[k], json_array_get(mop, 2));
			json_array_append(done, mop);
		} else {
			json_decref(state[k]);
			state[k] = json_incref(json_array_get(mop, 2));
			json_array_append(done, mop);
		}
	}
	return done;
}

static void etcd_txn_invoke(void *client, const struct op *inv, struct op *out)
{
	struct etcd_txn *c = client;
	if (!inv->f || strcmp(inv->f, "txn")) {
		etcd_set_error(out, "etcd txn client: unknown op %.40s", inv->f ? inv->f : "");
		out->type = OP_FAIL;
		return;
	}
	struct txn_key *ks;
	size_t n;
	if (txn_keys(c, inv->value, &ks, &n) < 0) {
		etcd_set_error(out, "txn needs [[\"r\"|\"%s\", key, value], ...]",
			       c->append ? "append" : "w");
		out->type = OP_FAIL;
		return;
	}
	bool writes = false;
	for (size_t i = 0; i < n; i++)
		writes |= ks[i].written;
	int64_t deadline = etcd_deadline(c->t);
	json_t *req = json_pack("{s:o}", "success", ranges(ks, n, c->serializable));
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/txn", req, deadline, &reply, out);
	json_decref(req);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, true); /* only a read so far */
		keys_free(ks, n);
		return;
	}
	int bad = snapshot_load(c, reply, ks, n);
	json_decref(reply);
	json_t **state = xcalloc(n, sizeof *state);
	for (int attempt = 1;; attempt++) {
		if (bad) {
			etcd_set_error(out, "a key holds a value that is not %s",
				       c->append ? "a JSON list" : "JSON");
			out->type = OP_FAIL;
			break;
		}
		json_t *done = txn_apply(c, inv->value, ks, n, state);
		if (!writes) {
			json_decref(out->value);
			out->value = done;
			out->type = OP_OK;
			break;
		}
		if (attempt > 1 && !etcd_may_retry(c->t, deadline)) {
			json_decref(done);
			etcd_set_error(out, "contention: the compare failed %d times", attempt - 1);
			out->type = OP_FAIL;
			break;
		}
		json_t *cmp = json_array(), *puts = json_array();
		for (size_t i = 0; i < n; i++) {
			json_array_append_new(cmp, etcd_cmp_mod(ks[i].name, ks[i].rev));
			if (!ks[i].written)
				continue;
			char *v = json_dumps(state[i], JSON_COMPACT | JSON_ENCODE_ANY);
			json_array_append_new(puts, etcd_put_op(ks[i].name, v ? v : "null"));
			free(v);
		}
		req = json_pack("{s:o, s:o, s:o}", "compare", cmp, "success", puts, "failure",
				ranges(ks, n, false));
		o = etcd_call_json(&c->conn, "/v3/kv/txn", req, deadline, &reply, out);
		json_decref(req);
		for (size_t i = 0; i < n; i++) {
			json_decref(state[i]);
			state[i] = NULL;
		}
		if (o != ETCD_OK) {
			json_decref(done);
			etcd_complete_error(out, o, false);
			break;
		}
		if (json_is_true(json_object_get(reply, "succeeded"))) {
			json_decref(reply);
			json_decref(out->value);
			out->value = done;
			free(out->error);
			out->error = NULL;
			out->type = OP_OK;
			break;
		}
		json_decref(done);
		bad = snapshot_load(c, reply, ks, n);
		json_decref(reply);
	}
	for (size_t i = 0; i < n; i++)
		json_decref(state[i]);
	free(state);
	keys_free(ks, n);
}

const struct client_ops etcd_append_ops = {
	.name = "etcd-append",
	.open = etcd_append_open,
	.invoke = etcd_txn_invoke,
	.close = etcd_txn_close,
};

const struct client_ops etcd_rw_register_ops = {
	.name = "etcd-rw-register",
	.open = etcd_rw_open,
	.invoke = etcd_txn_invoke,
	.close = etcd_txn_close,
};
