/*
 * etcd_http.h - what every etcd client (etcd_client.c for the register,
 * etcd_set.c, etcd_txn.c, etcd_bank.c, etcd_counter.c, etcd_lock.c) shares:
 * one keep-alive connection to a node's v3 JSON gateway (libcurl, bound to
 * the local cluster's bridge), the mapping of transport outcomes to honest
 * completions, base64 and the gateway's JSON quirks.
 *
 * Honesty (client.h): a call's outcome is ETCD_OK only with a 200 and a
 * JSON reply carrying a header; ETCD_REJECTED only when the request
 * certainly was not applied (a 4xx but 408, or a refused connection on a
 * cold handle: libcurl silently retries a request on a fresh connection
 * when a reused keep-alive connection dies without a reply, so once a
 * handle had a live connection "refused" may hide a first attempt that
 * reached the server); ETCD_UNKNOWN or ETCD_TIMEOUT otherwise (5xx, 408,
 * reset, partial or unparsable reply, timeout).
 */
#ifndef FAULTLINE_ETCD_HTTP_H
#define FAULTLINE_ETCD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

struct test;
struct op;

enum etcd_outcome {
	ETCD_OK,        /* 200 with a JSON body in *reply */
	ETCD_REJECTED,  /* definitely not applied (4xx, or never sent) */
	ETCD_UNKNOWN,   /* may or may not have been applied */
	ETCD_TIMEOUT,   /* unknown, and it took the time it was given */
};

struct etcd_conn {
	void *curl;                /* CURL * */
	void *headers;             /* struct curl_slist * */
	char *base;                /* "http://host:2379" */
	struct buf resp;
	bool warm;                 /* the handle may hold a live connection */
	int64_t retry_at;          /* after "refused": no new attempt before this */
	long timeout_ms;           /* the test's op timeout */
	char errbuf[256];
};

/* A connection to node's gateway (nothing is sent yet). 0, or -1 with err. */
int etcd_conn_open(struct etcd_conn *c, const struct test *t, int node, char *err,
		   size_t errlen);
void etcd_conn_close(struct etcd_conn *c);

/* POST body (JSON text) to path ("/v3/kv/range"). deadline: now_ns() value
 * the call must end by (0: the op timeout from now). On ETCD_OK *reply
 * holds the reply (caller decrefs) and, when need_header, it has a
 * "header"; otherwise *reply is NULL and out->error says why (out may be
 * NULL). */
enum etcd_outcome etcd_call(struct etcd_conn *c, const char *path, const char *body,
			    int64_t deadline, bool need_header, json_t **reply, struct op *out);
/* The same with a JSON body (borrowed). */
enum etcd_outcome etcd_call_json(struct etcd_conn *c, const char *path, json_t *body,
				 int64_t deadline, json_t **reply, struct op *out);

/* Completion type for a call that did not succeed: a read may be failed
 * on any error but a timeout (it changes nothing; a timeout stays info so
 * its latency stays truthful); a write only when rejected. */
void etcd_complete_error(struct op *out, enum etcd_outcome o, bool is_read);
void etcd_set_error(struct op *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* base64 of n bytes (malloc'd). */
char *etcd_b64(const char *s, size_t n);
static inline char *etcd_b64s(const char *s) { return etcd_b64(s, strlen(s)); }
/* Decode base64 into a malloc'd NUL-terminated string (*n its length, may
 * be NULL); NULL if malformed. */
char *etcd_unb64(const char *s, size_t *n);
/* proto3 JSON int64 fields are strings ("12"); absent is 0. */
int64_t etcd_int(json_t *v);
/* The decoded value / key of a kv object of a reply (malloc'd, NULL if
 * absent or malformed). */
char *etcd_kv_value(json_t *kv);
char *etcd_kv_key(json_t *kv);

/* A range request object {"key", ["range_end"], ["serializable"]} for
 * key, or for every key under prefix when prefix is true. New reference. */
json_t *etcd_range_req(const char *key, bool prefix, bool serializable, bool keys_only);
/* {"request_put": {"key", "value"}} (new reference). */
json_t *etcd_put_op(const char *key, const char *value);
/* {"key", "target": "MOD", "result": "EQUAL", "mod_revision"} */
json_t *etcd_cmp_mod(const char *key, int64_t mod_revision);

/* db_opts.read_mode is serializable. */
bool etcd_serializable(const struct test *t);
/* now_ns() + the op timeout. */
int64_t etcd_deadline(const struct test *t);
/* Whether a compare-and-swap loop may try again before deadline: only with
 * a quarter of the op timeout left, so that an attempt is not cut short
 * (its outcome would be unknown where giving up is a certain fail). */
bool etcd_may_retry(const struct test *t, int64_t deadline);

/* For a client's setup hook: POST body to path on the first node that
 * answers 200, trying each node (and again) until the time is up. Only for
 * requests that are safe to repeat. 0, or -1 with err. */
int etcd_setup_call(const struct test *t, const char *path, const char *body,
		    double seconds, char *err, size_t errlen);

#endif
