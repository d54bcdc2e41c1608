/*
 * etcd_counter.c - the etcd client of the counter workload: one key holds
 * the counter as a decimal; an add is a compare-and-swap loop of Txns, a
 * read a range.
 *
 *   add n -> POST /v3/kv/txn  compare MOD(counter) == rev
 *                             success: put counter = v + n
 *                             failure: range counter   (the fresh v, rev)
 *            again with the fresh value while the op's time lasts
 *   read  -> POST /v3/kv/range counter (+ serializable with --read-mode
 *            serializable); a missing key reads 0
 * The first attempt uses the value and revision this client saw last, so
 * an uncontended add costs one round trip. An attempt whose compare failed
 * changed nothing, so retrying it is safe; an add that ran out of time
 * after compare failures only is a fail ("contention"), one whose last
 * attempt is unknown is info. Honesty rules as in etcd_client.c.
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

#define COUNTER_KEY "counter"

struct etcd_counter {
	struct etcd_conn conn;
	const struct test *t;
	bool serializable;
	int64_t value, rev;   /* last seen (rev 0: the key did not exist) */
};

static void *etcd_counter_open(const struct test *t, int node, char *err, size_t errlen)
{
	struct etcd_counter *c = xcalloc(1, sizeof *c);
	if (etcd_conn_open(&c->conn, t, node, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	c->t = t;
	c->serializable = etcd_serializable(t);
	return c;
}

static void etcd_counter_close(void *client)
{
	struct etcd_counter *c = client;
	etcd_conn_close(&c->conn);
	free(c);
}

/* The counter in a range reply (kvs): 0 with rev 0 when absent. -1 if the
 * stored value is not a number. */
static int counter_parse(json_t *range, int64_t *value, int64_t *rev)
{
	json_t *kv = json_array_get(json_object_get(range, "kvs"), 0);
	*value = 0;
	*rev = 0;
	if (!kv)
		return 0;
	char *s = etcd_kv_value(kv);
	long long v;
	char extra;
	int ok = s && sscanf(s, "%lld%c", &v, &extra) == 1;
	free(s);
	if (!ok)
		return -1;
	*value = (int64_t)v;
	*rev = etcd_int(json_object_get(kv, "mod_revision"));
	return 0;
}

static void etcd_counter_add(struct etcd_counter *c, const struct op *inv, struct op *out)
{
	if (!json_is_integer(inv->value)) {
		etcd_set_error(out, "add needs an integer amount");
		out->type = OP_FAIL;
		return;
	}
	int64_t amount = (int64_t)json_integer_value(inv->value);
	int64_t deadline = etcd_deadline(c->t);
	for (int attempt = 1;; attempt++) {
		char val[32];
		snprintf(val, sizeof val, "%lld", (long long)(c->value + amount));
		json_t *req = json_pack("{s:[o], s:[o], s:[{s:o}]}", "compare",
					etcd_cmp_mod(COUNTER_KEY, c->rev), "success",
					etcd_put_op(COUNTER_KEY, val), "failure", "request_range",
					etcd_range_req(COUNTER_KEY, false, false, false));
		json_t *reply;
		enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/txn", req, deadline, &reply, out);
		json_decref(req);
		if (o != ETCD_OK) {
			/* Earlier attempts failed their compare: only this one counts. */
			etcd_complete_error(out, o, false);
			return;
		}
		if (json_is_true(json_object_get(reply, "succeeded"))) {
			c->value += amount;
			c->rev = etcd_int(json_object_get(json_object_get(reply, "header"), "revision"));
			json_decref(reply);
			free(out->error);
			out->error = NULL;
			out->type = OP_OK;
			return;
		}
		json_t *range = json_object_get(json_array_get(json_object_get(reply, "responses"), 0),
						"response_range");
		int bad = counter_parse(range, &c->value, &c->rev);
		json_decref(reply);
		if (bad) {
			etcd_set_error(out, "the counter key holds a non-number");
			out->type = OP_FAIL;
			return;
		}
		if (!etcd_may_retry(c->t, deadline)) {
			etcd_set_error(out, "contention: the compare failed %d times", attempt);
			out->type = OP_FAIL;
			return;
		}
	}
}

static void etcd_counter_read(struct etcd_counter *c, struct op *out)
{
	json_t *req = etcd_range_req(COUNTER_KEY, false, c->serializable, false);
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/range", req, 0, &reply, out);
	json_decref(req);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, true);
		return;
	}
	int64_t v, rev;
	int bad = counter_parse(reply, &v, &rev);
	json_decref(reply);
	if (bad) {
		etcd_set_error(out, "the counter key holds a non-number");
		out->type = OP_FAIL;
		return;
	}
	json_decref(out->value);
	out->value = json_integer((json_int_t)v);
	out->type = OP_OK;
}

static void etcd_counter_invoke(void *client, const struct op *inv, struct op *out)
{
	struct etcd_counter *c = client;
	const char *f = inv->f ? inv->f : "";
	if (!strcmp(f, "add"))
		etcd_counter_add(c, inv, out);
	else if (!strcmp(f, "read"))
		etcd_counter_read(c, out);
	else {
		etcd_set_error(out, "etcd counter client: unknown op %.40s", f);
		out->type = OP_FAIL;
	}
}

const struct client_ops etcd_counter_ops = {
	.name = "etcd-counter",
	.open = etcd_counter_open,
	.invoke = etcd_counter_invoke,
	.close = etcd_counter_close,
};
