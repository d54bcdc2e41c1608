/*
 * etcd_lock.c - the etcd client of the lock workload: etcd's v3 lock API
 * held with a lease, and a fenced write under it.
 *
 *   acquire -> POST /v3/lease/grant {TTL: workload_opts.lease_ttl}; a
 *              thread keeps the lease alive (POST /v3/lease/keepalive every
 *              TTL/3, on its own connection to the same node) while the
 *              lock is wanted or held;
 *              POST /v3/lock/lock {name, lease} (waits while another holds
 *              it) -> the lock key; POST /v3/kv/range of that key -> its
 *              create revision, the fencing token (ok value)
 *   write   -> POST /v3/kv/put {"lock-data" = token, prev_kv}: ok value
 *              [token, the token it replaced or null]. Deliberately not
 *              guarded by the lock key: what lands in the store after a
 *              newer holder's write is what the fencing check looks for.
 *              A client whose keepalive learnt that the lease is gone does
 *              not write (fail: nothing sent).
 *   release -> POST /v3/lock/unlock {key}, then the lease is revoked.
 * close (after an info, or at the end) stops the keepalive and revokes the
 * lease (best effort), so a lock this process may hold is let go; until
 * then the lease keeps it, or its TTL runs out.
 *
 * Honesty (etcd_client.c's rules): an acquire whose lease could not be
 * granted certainly took no lock: fail; a lock request that timed out may
 * still be granted later: info; a lock granted whose token could not be
 * read: info. A lock granted whose key is already gone (etcd 3.4 grants a
 * waiter whose lease expired while it waited) is what the service said:
 * ok, with a null token and an error saying so; the write under it is
 * refused by this client (no token), the release goes ahead.
 * An unlock rejected before it was applied: fail (the workload retries).
 */
#include "client.h"
#include "etcd.h"
#include "etcd_http.h"
#include "history.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOCK_NAME "faultline-lock"
#define LOCK_DATA "lock-data"
/* How long close may spend revoking the lease. */
#define LOCK_REVOKE_NS 1000000000LL

struct etcd_lock {
	struct etcd_conn conn;
	const struct test *t;
	int node;
	long ttl;
	int64_t lease;         /* 0: none */
	char *key;             /* the lock key while held */
	/* keepalive */
	pthread_t ka;
	bool ka_running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool ka_stop;
	atomic_bool lease_lost; /* a keepalive answer said the lease is gone */
};

static void *etcd_lock_open(const struct test *t, int node, char *err, size_t errlen)
{
	struct etcd_lock *c = xcalloc(1, sizeof *c);
	if (etcd_conn_open(&c->conn, t, node, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	c->t = t;
	c->node = node;
	c->ttl = json_integer_value(json_object_get(t->workload_opts, "lease_ttl"));
	if (c->ttl < 1)
		c->ttl = 5;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	return c;
}

/* ---- the lease ---- */

static void *keepalive_main(void *arg)
{
	struct etcd_lock *c = arg;
	struct etcd_conn kc;
	char err[256];
	bool have = etcd_conn_open(&kc, c->t, c->node, err, sizeof err) == 0;
	int64_t period = (int64_t)c->ttl * 1000000000LL / 3;
	char body[64];
	snprintf(body, sizeof body, "{\"ID\":\"%lld\"}", (long long)c->lease);
	pthread_mutex_lock(&c->mu);
	while (!c->ka_stop) {
		pthread_mutex_unlock(&c->mu);
		if (have) {
			struct op scratch;
			memset(&scratch, 0, sizeof scratch);
			json_t *reply;
			/* A renewal must come back within a period to be of use. */
			enum etcd_outcome o = etcd_call(&kc, "/v3/lease/keepalive", body,
							now_ns() + period, false, &reply, &scratch);
			if (o == ETCD_OK) {
				json_t *res = json_object_get(reply, "result");
				if (etcd_int(json_object_get(res, "TTL")) <= 0)
					atomic_store(&c->lease_lost, true);
				json_decref(reply);
			} else if (o == ETCD_REJECTED && scratch.error &&
				   strstr(scratch.error, "lease not found")) {
				atomic_store(&c->lease_lost, true);
			}
			free(scratch.error);
		}
		pthread_mutex_lock(&c->mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t at = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + period;
		ts.tv_sec = at / 1000000000LL;
		ts.tv_nsec = at % 1000000000LL;
		while (!c->ka_stop && pthread_cond_timedwait(&c->cv, &c->mu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&c->mu);
	if (have)
		etcd_conn_close(&kc);
	return NULL;
}

static void keepalive_start(struct etcd_lock *c)
{
	c->ka_stop = false;
	atomic_store(&c->lease_lost, false);
	c->ka_running = pthread_create(&c->ka, NULL, keepalive_main, c) == 0;
}

static void keepalive_stop(struct etcd_lock *c)
{
	if (!c->ka_running)
		return;
	pthread_mutex_lock(&c->mu);
	c->ka_stop = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->ka, NULL);
	c->ka_running = false;
}

/* Stop renewing and revoke the lease (best effort: an expired lease does
 * the same, later). Forgets the lock. */
static void lease_drop(struct etcd_lock *c, int64_t deadline)
{
	keepalive_stop(c);
	if (c->lease) {
		char body[64];
		snprintf(body, sizeof body, "{\"ID\":\"%lld\"}", (long long)c->lease);
		struct op scratch;
		memset(&scratch, 0, sizeof scratch);
		json_t *reply;
		if (etcd_call(&c->conn, "/v3/lease/revoke", body, deadline, true, &reply,
			      &scratch) == ETCD_OK)
			json_decref(reply);
		free(scratch.error);
	}
	c->lease = 0;
	free(c->key);
	c->key = NULL;
}

/* ---- the ops ---- */

static void etcd_lock_acquire(struct etcd_lock *c, struct op *out)
{
	if (c->lease) {
		etcd_set_error(out, "already holding a lease");
		out->type = OP_FAIL;
		return;
	}
	int64_t deadline = etcd_deadline(c->t);
	char body[128];
	snprintf(body, sizeof body, "{\"TTL\":\"%ld\"}", c->ttl);
	json_t *reply;
	enum etcd_outcome o = etcd_call(&c->conn, "/v3/lease/grant", body, deadline, true, &reply,
					out);
	if (o != ETCD_OK) {
		/* No lease, no lock request: the lock was certainly not taken.
		 * (A lease granted unbeknown to us holds nothing and expires.) */
		out->type = OP_FAIL;
		return;
	}
	c->lease = etcd_int(json_object_get(reply, "ID"));
	json_decref(reply);
	if (!c->lease) {
		etcd_set_error(out, "lease grant without an ID");
		out->type = OP_FAIL;
		return;
	}
	keepalive_start(c);
	char *name = etcd_b64s(LOCK_NAME);
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)c->lease);
	json_t *req = json_pack("{s:s, s:s}", "name", name, "lease", id);
	free(name);
	o = etcd_call_json(&c->conn, "/v3/lock/lock", req, deadline, &reply, out);
	json_decref(req);
	if (o != ETCD_OK) {
		if (o == ETCD_REJECTED) {
			lease_drop(c, now_ns() + LOCK_REVOKE_NS);
			out->type = OP_FAIL;
		} else {
			out->type = OP_INFO; /* may be granted later: close lets it go */
		}
		return;
	}
	c->key = etcd_unb64(json_string_value(json_object_get(reply, "key")), NULL);
	json_decref(reply);
	if (!c->key) {
		etcd_set_error(out, "lock granted without a key");
		out->type = OP_INFO;
		return;
	}
	/* The token: the lock key's create revision (its place in the queue). */
	req = etcd_range_req(c->key, false, false, false);
	o = etcd_call_json(&c->conn, "/v3/kv/range", req, deadline, &reply, out);
	json_decref(req);
	if (o != ETCD_OK) {
		out->type = OP_INFO; /* held, token unknown */
		return;
	}
	json_t *kv = json_array_get(json_object_get(reply, "kvs"), 0);
	int64_t token = etcd_int(json_object_get(kv, "create_revision"));
	json_decref(reply);
	json_decref(out->value);
	free(out->error);
	out->error = NULL;
	out->type = OP_OK;
	if (!kv || token <= 0) {
		/* etcd 3.4 answers a lock request whose lease expired while it
		 * waited (its key deleted, the next waiter holding the lock) with
		 * success. The service granted it: ok, for the checker to judge,
		 * but with no token, so this process writes nothing under it. */
		out->value = json_null();
		etcd_set_error(out, "granted, but the lock key is already gone (its lease "
			       "expired): no token");
		return;
	}
	out->value = json_integer((json_int_t)token);
}

static void etcd_lock_write(struct etcd_lock *c, const struct op *inv, struct op *out)
{
	if (!json_is_integer(inv->value)) {
		etcd_set_error(out, "no fencing token (the lock key was gone when granted): not writing");
		out->type = OP_FAIL;
		return;
	}
	if (atomic_load(&c->lease_lost)) {
		etcd_set_error(out, "the lease expired: not writing");
		out->type = OP_FAIL;
		return;
	}
	char tok[32];
	snprintf(tok, sizeof tok, "%lld", (long long)json_integer_value(inv->value));
	json_t *put = etcd_put_op(LOCK_DATA, tok);
	json_t *req = json_object_get(put, "request_put");
	json_object_set_new(req, "prev_kv", json_true());
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/kv/put", req, 0, &reply, out);
	json_decref(put);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, false);
		return;
	}
	json_t *prev = json_null();
	json_t *pkv = json_object_get(reply, "prev_kv");
	if (pkv) {
		char *s = etcd_kv_value(pkv);
		long long v;
		char extra;
		prev = s && sscanf(s, "%lld%c", &v, &extra) == 1 ? json_integer(v)
								   : json_string(s ? s : "?");
		free(s);
	}
	json_decref(reply);
	json_decref(out->value);
	out->value = json_pack("[O, o]", inv->value, prev);
	out->type = OP_OK;
}

static void etcd_lock_release(struct etcd_lock *c, struct op *out)
{
	if (!c->key) {
		etcd_set_error(out, "not holding the lock");
		out->type = OP_FAIL;
		return;
	}
	char *k = etcd_b64s(c->key);
	json_t *req = json_pack("{s:s}", "key", k);
	free(k);
	json_t *reply;
	enum etcd_outcome o = etcd_call_json(&c->conn, "/v3/lock/unlock", req, 0, &reply, out);
	json_decref(req);
	if (o != ETCD_OK) {
		etcd_complete_error(out, o, false);
		return;
	}
	json_decref(reply);
	lease_drop(c, now_ns() + LOCK_REVOKE_NS);
	out->type = OP_OK;
}

static void etcd_lock_invoke(void *client, const struct op *inv, struct op *out)
{
	struct etcd_lock *c = client;
	const char *f = inv->f ? inv->f : "";
	if (!strcmp(f, "acquire"))
		etcd_lock_acquire(c, out);
	else if (!strcmp(f, "write"))
		etcd_lock_write(c, inv, out);
	else if (!strcmp(f, "release"))
		etcd_lock_release(c, out);
	else {
		etcd_set_error(out, "etcd lock client: unknown op %.40s", f);
		out->type = OP_FAIL;
	}
}

static void etcd_lock_close(void *client)
{
	struct etcd_lock *c = client;
	lease_drop(c, now_ns() + LOCK_REVOKE_NS);
	etcd_conn_close(&c->conn);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

const struct client_ops etcd_lock_ops = {
	.name = "etcd-lock",
	.open = etcd_lock_open,
	.invoke = etcd_lock_invoke,
	.close = etcd_lock_close,
};
