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
 * connection the next attempt waits ETCD_CLIENT_RETRY_NS (inside that op).
 */
#include "client.h"
#include "etcd.h"
#include "history.h"
#include "test.h"
#include "util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Pause between attempts on a node that refused the last one. */
#define ETCD_CLIENT_RETRY_NS 100000000LL

struct etcd_client {
	CURL *curl;
	struct curl_slist *headers;
	char *url_range, *url_put, *url_txn;
	struct buf resp;
	bool warm;           /* the handle may hold a live connection */
	int64_t retry_at;    /* after "refused": no new attempt before this */
	bool serializable;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t etcd_client_once = PTHREAD_ONCE_INIT;
static void etcd_client_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* --- base64 (RFC 4648, padded): what the gateway uses for bytes --- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		char q[4] = {b64chars[p[i] >> 2], b64chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
			     b64chars[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)],
			     b64chars[p[i + 2] & 63]};
		buf_append(b, q, 4);
	}
	if (n - i == 1) {
		char q[4] = {b64chars[p[i] >> 2], b64chars[(p[i] & 3) << 4], '=', '='};
		buf_append(b, q, 4);
	} else if (n - i == 2) {
		char q[4] = {b64chars[p[i] >> 2], b64chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
			     b64chars[(p[i + 1] & 15) << 2], '='};
		buf_append(b, q, 4);
	}
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;
	return p ? (int)(p - b64chars) : -1;
}

/* Decode into out (NUL-terminated); -1 if malformed. */
static int b64_decode(const char *s, struct buf *out)
{
	size_t n = strlen(s);
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++)
			v[k] = s[i + k] == '=' ? 0 : b64_val(s[i + k]);
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
			return -1;
		unsigned char o[3] = {(unsigned char)(v[0] << 2 | v[1] >> 4),
				      (unsigned char)(v[1] << 4 | v[2] >> 2),
				      (unsigned char)(v[2] << 6 | v[3])};
		size_t k = s[i + 2] == '=' ? 1 : s[i + 3] == '=' ? 2 : 3;
		buf_append(out, o, k);
	}
	if (!out->data)
		buf_append(out, "", 0);
	return 0;
}

/* --- HTTP --- */

static size_t etcd_client_write_cb(char *p, size_t sz, size_t n, void *ud)
{
	buf_append(ud, p, sz * n);
	return sz * n;
}

static void *etcd_client_open(const struct test *t, int node, char *err, size_t errlen)
{
	pthread_once(&etcd_client_once, etcd_client_global_init);
	struct etcd_client *c = xcalloc(1, sizeof *c);
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		snprintf(err, errlen, "%s: curl_easy_init failed", t->nodes[node].name);
		return NULL;
	}
	char *base = etcd_client_url(t, node);
	c->url_range = xasprintf("%s/v3/kv/range", base);
	c->url_put = xasprintf("%s/v3/kv/put", base);
	c->url_txn = xasprintf("%s/v3/kv/txn", base);
	free(base);
	const char *rm = json_string_value(json_object_get(t->db_opts, "read_mode"));
	c->serializable = rm && !strcmp(rm, "serializable");
	buf_init(&c->resp);
	c->headers = curl_slist_append(NULL, "Content-Type: application/json");
	c->headers = curl_slist_append(c->headers, "Expect:");
	long timeout_ms = (long)(t->op_timeout * 1000);
	if (timeout_ms < 1)
		timeout_ms = 1;
	CURL *h = c->curl;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, etcd_client_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	etcd_curl_bind(h, t);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	return c;
}

static void etcd_client_close(void *client)
{
	struct etcd_client *c = client;
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	free(c->url_range);
	free(c->url_put);
	free(c->url_txn);
	buf_free(&c->resp);
	free(c);
}

enum http_outcome {
	HTTP_OK,        /* 200 with a JSON body in *reply */
	HTTP_REJECTED,  /* definitely not applied (4xx, or never sent) */
	HTTP_UNKNOWN,   /* may or may not have been applied */
	HTTP_TIMEOUT,   /* unknown, and it took the whole op timeout */
};

static void set_error(struct op *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct op *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(out->error);
	out->error = s ? s : xstrdup("error");
}

/* The gateway's error body: {"error":"...","code":14,"message":"..."}. */
static void gateway_message(const struct buf *resp, char *msg, size_t n)
{
	json_t *j = resp->len ? json_loadb(resp->data, resp->len, 0, NULL) : NULL;
	const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
	if (!m && j)
		m = json_string_value(json_object_get(j, "error"));
	snprintf(msg, n, "%.200s", m ? m : (resp->len ? resp->data : "(empty body)"));
	if (j)
		json_decref(j);
}

static enum http_outcome etcd_post(struct etcd_client *c, const char *url, const char *body,
				   json_t **reply, struct op *out)
{
	*reply = NULL;
	/* A node that refuses connections would otherwise be hammered with
	 * thousands of instant fails a second; pausing inside the op only
	 * widens its window, which costs the checker nothing. */
	int64_t now = now_ns();
	if (c->retry_at > now) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(c->retry_at - now)};
		nanosleep(&ts, NULL);
	}
	c->resp.len = 0;
	c->errbuf[0] = 0;
	bool was_warm = c->warm;
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	CURLcode cc = curl_easy_perform(c->curl);
	if (cc != CURLE_OK) {
		c->warm = false;
		const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
		switch (cc) {
		case CURLE_OPERATION_TIMEDOUT:
			set_error(out, "timeout");
			return HTTP_TIMEOUT;
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
			set_error(out, "%s: %s", was_warm ? "connection lost" : "connection refused",
				  why);
			c->retry_at = now_ns() + ETCD_CLIENT_RETRY_NS;
			return was_warm ? HTTP_UNKNOWN : HTTP_REJECTED;
		default:
			set_error(out, "%s", why);
			return HTTP_UNKNOWN;
		}
	}
	long code = 0;
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	c->warm = true;
	if (code != 200) {
		char msg[256];
		gateway_message(&c->resp, msg, sizeof msg);
		set_error(out, "http %ld: %s", code, msg);
		/* 408: the gateway gave up waiting, the proposal may still apply. */
		return (code >= 400 && code < 500 && code != 408) ? HTTP_REJECTED : HTTP_UNKNOWN;
	}
	json_error_t je;
	*reply = json_loadb(c->resp.data ? c->resp.data : "", c->resp.len, 0, &je);
	if (!*reply || !json_is_object(*reply) || !json_object_get(*reply, "header")) {
		set_error(out, "unparsable reply: %.120s", c->resp.len ? c->resp.data : "");
		if (*reply)
			json_decref(*reply);
		*reply = NULL;
		return HTTP_UNKNOWN;
	}
	return HTTP_OK;
}

/* Body pieces: "key":"<b64>" */
static void body_kv(struct buf *b, const char *name, const char *s)
{
	buf_printf(b, "\"%s\":\"", name);
	b64_encode(b, s, strlen(s));
	buf_puts(b, "\"");
}

static bool int_value(json_t *v, char *out, size_t n)
{
	if (!json_is_integer(v))
		return false;
	snprintf(out, n, "%lld", (long long)json_integer_value(v));
	return true;
}

/* Map a non-ok outcome to the completion type. */
static void complete_error(struct op *out, enum http_outcome o, bool is_read)
{
	if (o == HTTP_TIMEOUT)
		out->type = OP_INFO;
	else if (o == HTTP_REJECTED || is_read)
		out->type = OP_FAIL;
	else
		out->type = OP_INFO;
}

static void etcd_read(struct etcd_client *c, const struct op *inv, struct op *out)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{");
	body_kv(&b, "key", inv->key ? inv->key : "");
	if (c->serializable)
		buf_puts(&b, ",\"serializable\":true");
	buf_puts(&b, "}");
	json_t *reply;
	enum http_outcome o = etcd_post(c, c->url_range, b.data, &reply, out);
	buf_free(&b);
	if (o != HTTP_OK) {
		complete_error(out, o, true);
		return;
	}
	json_t *kvs = json_object_get(reply, "kvs");
	json_t *nv = json_null();
	if (json_array_size(kvs) > 0) {
		const char *v64 = json_string_value(json_object_get(json_array_get(kvs, 0), "value"));
		struct buf dec;
		buf_init(&dec);
		long lv;
		if (!v64 || b64_decode(v64, &dec) < 0 || !parse_long(dec.data, 0, INT64_MAX, &lv)) {
			set_error(out, "unexpected value in etcd: %.60s", dec.data ? dec.data : "?");
			out->type = OP_FAIL;
			buf_free(&dec);
			json_decref(reply);
			return;
		}
		buf_free(&dec);
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
		set_error(out, "write needs an integer value");
		out->type = OP_FAIL;
		return;
	}
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{");
	body_kv(&b, "key", inv->key ? inv->key : "");
	buf_puts(&b, ",");
	body_kv(&b, "value", val);
	buf_puts(&b, "}");
	json_t *reply;
	enum http_outcome o = etcd_post(c, c->url_put, b.data, &reply, out);
	buf_free(&b);
	if (o != HTTP_OK) {
		complete_error(out, o, false);
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
		set_error(out, "cas needs [expected, new] integers");
		out->type = OP_FAIL;
		return;
	}
	const char *key = inv->key ? inv->key : "";
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"compare\":[{");
	body_kv(&b, "key", key);
	buf_puts(&b, ",\"target\":\"VALUE\",\"result\":\"EQUAL\",");
	body_kv(&b, "value", from);
	buf_puts(&b, "}],\"success\":[{\"request_put\":{");
	body_kv(&b, "key", key);
	buf_puts(&b, ",");
	body_kv(&b, "value", to);
	buf_puts(&b, "}}]}");
	json_t *reply;
	enum http_outcome o = etcd_post(c, c->url_txn, b.data, &reply, out);
	buf_free(&b);
	if (o != HTTP_OK) {
		complete_error(out, o, false);
		return;
	}
	/* proto3 JSON leaves out false booleans: no "succeeded" means false. */
	if (json_is_true(json_object_get(reply, "succeeded"))) {
		out->type = OP_OK;
	} else {
		out->type = OP_FAIL;
		set_error(out, "compare failed");
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
		set_error(out, "etcd client: unknown op %.40s", f);
		out->type = OP_FAIL;
	}
}

const struct client_ops etcd_client_ops = {
	.name = "etcd",
	.open = etcd_client_open,
	.invoke = etcd_client_invoke,
	.close = etcd_client_close,
};
