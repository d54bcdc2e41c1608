/*
 * etcd_bank.c - the etcd client of the bank workload: each account is a
 * key "bank/<account>" holding its balance as a decimal.
 *
 *   setup    -> one Txn putting workload_opts.initial (every account)
 *   read     -> POST /v3/kv/range over "bank/" (+ serializable with
 *               --read-mode serializable): one revision, every balance
 *   transfer -> a Txn reading both accounts, then
 *               POST /v3/kv/txn compare MOD(from) == r1, MOD(to) == r2
 *                               success: put from - amount, to + amount
 *                               failure: range from, range to
 *               again with the fresh balances while the op's time lasts
 * A transfer that would take an account below zero is refused (fail:
 * nothing was written) unless workload_opts.negative_ok. Attempts whose
 * compare failed changed nothing; a transfer out of time after those only
 * is a fail ("contention"), one whose last attempt is unknown is info.
 * Honesty rules as in etcd_client.c.
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

#define BANK_PREFIX "bank/"

struct etcd_bank {
	struct etcd_conn conn;
	const struct test *t;
	bool serializable, negative_ok;
};

static int etcd_bank_setup(const struct test *t, char *err, size_t errlen)
{
	json_t *init = json_object_get(t->workload_opts, "initial");
	if (!json_is_object(init)) {
		snprintf(err, errlen, "bank: workload_opts.initial is missing");
		return -1;
	}
	json_t *ops = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(init, k, v) {
		char *key = xasprintf(BANK_PREFIX "%s", k);
		char val[32];
		snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
		json_array_append_new(ops, etcd_put_op(key, val));
		free(key);
	}
	json_t *req = json_pack("{s:o}", "success", ops);
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	/* Puts of the opening balances before any transfer: safe to repeat. */
	int rc = etcd_setup_call(t, "/v3/kv/txn", body, 30, err, errlen);
	free(body);
	return rc;
}

static void *etcd_bank_open(const struct test *t, int node, char *err, size_t errlen)
{
	struct etcd_bank *c = xcalloc(1, sizeof *c);
	if (etcd_conn_open(&c->conn, t, node, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	c->t = t;
	c->serializable = etcd_serializable(t);
	c->negative_ok = json_is_true(json_object_get(t->workload_opts, "negative_ok"));
	return c;
}

static void etcd_bank_close(void *client)
{
	struct etcd_bank *c = client;
	etcd_conn_close(&c->conn);
	free(c);
}

struct balance {
	bool exists;
	int64_t value, rev;
};

/* A kv's balance; -1 if it is not a number. */
static int balance_parse(json_t *kv, struct balance *b)
{
	memset(b, 0, sizeof *b);
	if (!kv)
		return 0;
	char *s = etcd_kv_value(kv);
	long long v;
	char extra;
	int ok = s && sscanf(s, "%lld%c", &v, &extra) == 1;
	free(s);
	if (!ok)
		return -1;
	b->exists = true;
	b->value = (int64_t)v;
	b->rev = etcd_int(json_object_get(kv, "mod_revision"));
	return 0;
}

/* Balances of the two ranges of a txn reply (responses[0..1]). */
static int balances_of(json_t *reply, struct balance *from, struct balance *to)
{
	json_t *rs = json_object_get(reply, "responses");
	json_t *a = json_object_get(json_object_get(json_array_get(rs, 0), "response_range"), "kvs");
	json_t *b = json_object_get(json_object_get(json_array_get(rs, 1), "response_range"), "kvs");
	return balance_parse(json_array_get(a, 0), from) < 0 ||
			       balance_parse(json_array_get(b, 0), to) < 0
		       ? -1
		       : 0;
}

static json_t *range_op(const char *key)
{
	return json_pack("{s:o}", "request_range", etcd_range_req(key, false, false, false));
}

static void etcd_bank_transfer(struct etcd_bank *c, const struct op *inv, struct op *out)
{
	const char *from = json_string_value(json_object_get(inv->value, "from"));
	const char *to = json_string_value(json_object_get(inv->value, "to"));
	json_t *am = json_object_get(inv->value, "amount");
	if (!from || !to || !json_is_integer(am) || !strcmp(from, to)) {
		etcd_set_error(out, "transfer needs {from, to, amount}");
		out->type = OP_FAIL;
		return;
	}
	int64_t amount = (int64_t)json_integer_value(am);
	char *kf = xasprintf(BANK_PREFIX "%s", from), *kt = xasprintf(BANK_PREFIX "%s", to);
	int64_t deadline = etcd_deadline(c->t);
	struct balance bf, bt;
	json_t *req = json_pack("{s:[o, o]}", "success", range_op(kf), range_op(kt));
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/txn", req, deadline, &reply, out);
	json_decref(req);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, true); /* only a read so far */
		goto done;
	}
	int bad = balances_of(reply, &bf, &bt);
	json_decref(reply);
	for (int attempt = 1;; attempt++) {
		if (bad || !bf.exists || !bt.exists) {
			etcd_set_error(out, bad ? "a balance is not a number" : "no such account");
			out->type = OP_FAIL;
			goto done;
		}
		if (bf.value < amount && !c->negative_ok) {
			etcd_set_error(out, "insufficient funds: %s has %lld", from,
				       (long long)bf.value);
			out->type = OP_FAIL;
			goto done;
		}
		if (attempt > 1 && !etcd_may_retry(c->t, deadline)) {
			etcd_set_error(out, "contention: the compare failed %d times", attempt - 1);
			out->type = OP_FAIL;
			goto done;
		}
		char vf[32], vt[32];
		snprintf(vf, sizeof vf, "%lld", (long long)(bf.value - amount));
		snprintf(vt, sizeof vt, "%lld", (long long)(bt.value + amount));
		req = json_pack("{s:[o, o], s:[o, o], s:[o, o]}", "compare",
				etcd_cmp_mod(kf, bf.rev), etcd_cmp_mod(kt, bt.rev), "success",
				etcd_put_op(kf, vf), etcd_put_op(kt, vt), "failure", range_op(kf),
				range_op(kt));
		o = etcd_call_json(&c->conn, "/v3/kv/txn", req, deadline, &reply, out);
		json_decref(req);
		if (o != ETCD_OK) {
			etcd_complete_error(out, o, false);
			goto done;
		}
		if (json_is_true(json_object_get(reply, "succeeded"))) {
			json_decref(reply);
			free(out->error);
			out->error = NULL;
			out->type = OP_OK;
			goto done;
		}
		bad = balances_of(reply, &bf, &bt);
		json_decref(reply);
	}
done:
	free(kf);
	free(kt);
}

static void etcd_bank_read(struct etcd_bank *c, struct op *out)
{
	json_t *req = etcd_range_req(BANK_PREFIX, true, c->serializable, false);
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/range", req, 0, &reply, out);
	json_decref(req);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, true);
		return;
	}
	json_t *bal = json_object();
	size_t i;
	json_t *kv;
	json_array_foreach(json_object_get(reply, "kvs"), i, kv) {
		char *key = etcd_kv_key(kv);
		struct balance b;
		if (!key || strncmp(key, BANK_PREFIX, strlen(BANK_PREFIX)) ||
		    balance_parse(kv, &b) < 0) {
			/* Show what is there rather than drop it: the checker judges. */
			char *raw = etcd_kv_value(kv);
			json_object_set_new(bal, key ? key : "?", json_string(raw ? raw : "?"));
			free(raw);
		} else {
			json_object_set_new(bal, key + strlen(BANK_PREFIX), json_integer(b.value));
		}
		free(key);
	}
	json_decref(reply);
	json_decref(out->value);
	out->value = bal;
	out->type = OP_OK;
}

static void etcd_bank_invoke(void *client, const struct op *inv, struct op *out)
{
	struct etcd_bank *c = client;
	const char *f = inv->f ? inv->f : "";
	if (!strcmp(f, "transfer"))
		etcd_bank_transfer(c, inv, out);
	else if (!strcmp(f, "read"))
		etcd_bank_read(c, out);
	else {
		etcd_set_error(out, "etcd bank client: unknown op %.40s", f);
		out->type = OP_FAIL;
	}
}

const struct client_ops etcd_bank_ops = {
	.name = "etcd-bank",
	.setup = etcd_bank_setup,
	.open = etcd_bank_open,
	.invoke = etcd_bank_invoke,
	.close = etcd_bank_close,
};
