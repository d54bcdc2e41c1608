/*
 * etcd_set.c - the etcd client of the set workload: one key per element
 * under a prefix, so an add is a single put and a read is a single range
 * over the prefix (one revision of the store: a whole, consistent set).
 *
 *   add e -> POST /v3/kv/put   {key "set/<e>", value "<e>"}
 *   read  -> POST /v3/kv/range {prefix "set/", keys_only} (+ serializable
 *            with --read-mode serializable); the elements are parsed back
 *            from the keys
 * Elements are JSON values (the workload's integers), written as their
 * compact JSON text. Completions follow etcd_client.c's honesty rules.
 */
#include "client.h"
#include "etcd.h"
#include "etcd_http.h"
#include "history.h"
#include "test.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define SET_PREFIX "set/"

struct etcd_set {
	struct etcd_conn conn;
	bool serializable;
};

static void *etcd_set_open(const struct test *t, int node, char *err, size_t errlen)
{
	struct etcd_set *c = xcalloc(1, sizeof *c);
	if (etcd_conn_open(&c->conn, t, node, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	c->serializable = etcd_serializable(t);
	return c;
}

static void etcd_set_close(void *client)
{
	struct etcd_set *c = client;
	etcd_conn_close(&c->conn);
	free(c);
}

static void etcd_set_add(struct etcd_set *c, const struct op *inv, struct op *out)
{
	char *e = json_dumps(inv->value ? inv->value : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
	char *key = xasprintf(SET_PREFIX "%s", e ? e : "null");
	json_t *put = etcd_put_op(key, e ? e : "null");
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/put",
					     json_object_get(put, "request_put"), 0, &reply, out);
	json_decref(put);
	free(key);
	free(e);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, false);
		return;
	}
	out->type = OP_OK;
	json_decref(reply);
}

static void etcd_set_read(struct etcd_set *c, struct op *out)
{
	json_t *req = etcd_range_req(SET_PREFIX, true, c->serializable, true);
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/range", req, 0, &reply, out);
	json_decref(req);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, true);
		return;
	}
	json_t *elems = json_array();
	size_t i;
	json_t *kv;
	json_array_foreach(json_object_get(reply, "kvs"), i, kv) {
		char *key = etcd_kv_key(kv);
		json_t *e = key && !strncmp(key, SET_PREFIX, strlen(SET_PREFIX))
				    ? json_loads(key + strlen(SET_PREFIX), JSON_DECODE_ANY, NULL)
				    : NULL;
		if (!e) {
			/* Not ours: say so rather than drop an element silently. */
			etcd_set_error(out, "unexpected key in etcd: %.60s", key ? key : "?");
			out->type = OP_FAIL;
			free(key);
			json_decref(elems);
			json_decref(reply);
			return;
		}
		json_array_append_new(elems, e);
		free(key);
	}
	json_decref(reply);
	json_decref(out->value);
	out->value = elems;
	out->type = OP_OK;
}

static void etcd_set_invoke(void *client, const struct op *inv, struct op *out)
{
	struct etcd_set *c = client;
	const char *f = inv->f ? inv->f : "";
	if (!strcmp(f, "add"))
		etcd_set_add(c, inv, out);
	else if (!strcmp(f, "read"))
		etcd_set_read(c, out);
	else {
		etcd_set_error(out, "etcd set client: unknown op %.40s", f);
		out->type = OP_FAIL;
	}
}

const struct client_ops etcd_set_ops = {
	.name = "etcd-set",
	.open = etcd_set_open,
	.invoke = etcd_set_invoke,
	.close = etcd_set_close,
};
