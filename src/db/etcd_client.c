/*
 * etcd_client.c - the etcd client (struct client_ops) the register workload
 * runs through: etcd 3.4's v3 JSON gateway over libcurl, one easy handle
 * (one keep-alive connection) per worker process.
 *
 *   read  -> POST /v3/kv/range {key}            (+ serializable with
 *                                                --read-mode serializable)
 *   write -> POST /v3/kv/put   {key, value}
 *   cas   -> POST /v3/kv/txn   compare VALUE == old, then put new
 * Keys and values travel base64-encoded; values are decimal integers.
 *
 * Completions must be honest (client.h): ok only on an answer that proves
 * the op happened, fail only when it certainly did not, info otherwise.
 * Every etcd client follows these rules, with the transport shared in
 * etcd_http.c:
 *  - a txn answered with succeeded=false: fail (the compare did not hold);
 *  - HTTP 4xx from the gateway: the request was rejected before it was
 *    proposed: fail;  5xx (timeouts, leader changes): info;
 *  - timeout, connection reset, empty or partial reply: info;
 *  - connection refused: fail only on a cold handle. libcurl silently
 *    retries a request on a fresh connection when a reused keep-alive
 *    connection dies without a reply, so once a handle has a live
 *    connection, "refused" may hide a first attempt that reached the
 *    server. A handle is cold when it was just opened or its last transfer
 *    broke its connection.
 * Reads change nothing, so a read error is a fail, except a timeout: it
 * stays info so the op's latency stays truthful. After a refused
 * connection the next attempt waits a moment (inside that op).
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

struct etcd_client {
	struct etcd_conn conn;
	bool serializable;
};

static void *etcd_client_open(const struct test *t, int node, char *err, size_t errlen)
{
	struct etcd_client *c = xcalloc(1, sizeof *c);
	if (etcd_conn_open(&c->conn, t, node, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	c->serializable = etcd_serializable(t);
	return c;
}

static void etcd_client_close(void *client)
{
	struct etcd_client *c = client;
	if (!c)
		return;
	etcd_conn_close(&c->conn);
	free(c);
}

static bool int_value(json_t *v, char *out, size_t n)
{
	if (!json_is_integer(v))
		return false;
	snprintf(out, n, "%lld", (long long)json_integer_value(v));
	return true;
}

static void etcd_read(struct etcd_client *c, const struct op *inv, struct op *out)
{
	json_t *req = etcd_range_req(inv->key ? inv->key : "", false, c->serializable, false);
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/range", req, 0, &reply, out);
	json_decref(req);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, true);
		return;
	}
	json_t *kvs = json_object_get(reply, "kvs");
	json_t *nv = json_null();
	if (json_array_size(kvs) > 0) {
		char *dec = etcd_kv_value(json_array_get(kvs, 0));
		long lv;
		if (!dec || !parse_long(dec, 0, INT64_MAX, &lv)) {
			etcd_set_error(out, "unexpected value in etcd: %.60s", dec ? dec : "?");
			out->type = OP_FAIL;
			free(dec);
			json_decref(reply);
			return;
		}
		free(dec);
		nv = json_integer(lv);
	}
	if (out->value)
		json_decref(out->value);
	out->value = nv;
	out->type = OP_OK;
	json_decref(reply);
}

static void etcd_write(struct etcd_client *c, const struct op *inv, struct op *out)
{
	char val[32];
	if (!int_value(inv->value, val, sizeof val)) {
		etcd_set_error(out, "write needs an integer value");
		out->type = OP_FAIL;
		return;
	}
	json_t *put = etcd_put_op(inv->key ? inv->key : "", val);
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/put",
					     json_object_get(put, "request_put"), 0, &reply, out);
	json_decref(put);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, false);
		return;
	}
	out->type = OP_OK;
	json_decref(reply);
}

static void etcd_cas(struct etcd_client *c, const struct op *inv, struct op *out)
{
	char from[32], to[32];
	if (!json_is_array(inv->value) || json_array_size(inv->value) != 2 ||
	    !int_value(json_array_get(inv->value, 0), from, sizeof from) ||
	    !int_value(json_array_get(inv->value, 1), to, sizeof to)) {
		etcd_set_error(out, "cas needs [expected, new] integers");
		out->type = OP_FAIL;
		return;
	}
	const char *key = inv->key ? inv->key : "";
	char *k64 = etcd_b64s(key), *f64 = etcd_b64s(from);
	json_t *req = json_pack("{s:[{s:s, s:s, s:s, s:s}], s:[o]}", "compare", "key", k64,
				"target", "VALUE", "result", "EQUAL", "value", f64, "success",
				etcd_put_op(key, to));
	free(k64);
	free(f64);
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/txn", req, 0, &reply, out);
	json_decref(req);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, false);
		return;
	}
	/* proto3 JSON leaves out false booleans: no "succeeded" means false. */
	if (json_is_true(json_object_get(reply, "succeeded"))) {
		out->type = OP_OK;
	} else {
		out->type = OP_FAIL;
		etcd_set_error(out, "compare failed");
	}
	json_decref(reply);
}

static void etcd_client_invoke(void *client, const struct op *inv, struct op *out)
{
	struct etcd_client *c = client;
	const char *f = inv->f ? inv->f : "";
	if (!strcmp(f, "read"))
		etcd_read(c, inv, out);
	else if (!strcmp(f, "write"))
		etcd_write(c, inv, out);
	else if (!strcmp(f, "cas"))
		etcd_cas(c, inv, out);
	else {
		etcd_set_error(out, "etcd client: unknown op %.40s", f);
		out->type = OP_FAIL;
	}
}

const struct client_ops etcd_client_ops = {
	.name = "etcd",
	.open = etcd_client_open,
	.invoke = etcd_client_invoke,
	.close = etcd_client_close,
};
