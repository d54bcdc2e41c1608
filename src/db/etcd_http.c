/*
 * etcd_http.c - the etcd clients' shared transport (etcd_http.h): one
 * libcurl easy handle per connection, POSTs of JSON to the v3 gateway, the
 * outcome of each call judged for honesty, base64, and the small JSON
 * pieces every request is built from.
 */
#include "etcd_http.h"
#include "etcd.h"

#include "history.h"
#include "test.h"
#include "util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Pause between attempts on a node that refused the last one. */
#define ETCD_RETRY_NS 100000000LL

static pthread_once_t etcd_http_once = PTHREAD_ONCE_INIT;
static void etcd_http_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- base64 (RFC 4648, padded): what the gateway uses for bytes ---- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		*o++ = b64chars[p[i] >> 2];
		*o++ = b64chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = b64chars[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = b64chars[p[i + 2] & 63];
	}
	if (n - i == 1) {
		*o++ = b64chars[p[i] >> 2];
		*o++ = b64chars[(p[i] & 3) << 4];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		*o++ = b64chars[p[i] >> 2];
		*o++ = b64chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = b64chars[(p[i + 1] & 15) << 2];
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;
	return p ? (int)(p - b64chars) : -1;
}

char *etcd_unb64(const char *s, size_t *outn)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n % 4)
		return NULL;
	struct buf out;
	buf_init(&out);
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++)
			v[k] = s[i + k] == '=' ? 0 : b64_val(s[i + k]);
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0) {
			buf_free(&out);
			return NULL;
		}
		unsigned char o[3] = {(unsigned char)(v[0] << 2 | v[1] >> 4),
				      (unsigned char)(v[1] << 4 | v[2] >> 2),
				      (unsigned char)(v[2] << 6 | v[3])};
		size_t k = s[i + 2] == '=' ? 1 : s[i + 3] == '=' ? 2 : 3;
		buf_append(&out, o, k);
	}
	if (outn)
		*outn = out.len;
	return buf_steal(&out);
}

/* ---- JSON pieces ---- */

int64_t etcd_int(json_t *v)
{
	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	long long x = 0;
	if (json_is_string(v) && sscanf(json_string_value(v), "%lld", &x) == 1)
		return (int64_t)x;
	return 0;
}

char *etcd_kv_value(json_t *kv)
{
	json_t *v = json_object_get(kv, "value");
	if (!v)
		return kv ? xstrdup("") : NULL; /* proto3 leaves out an empty value */
	return etcd_unb64(json_string_value(v), NULL);
}

char *etcd_kv_key(json_t *kv) { return etcd_unb64(json_string_value(json_object_get(kv, "key")), NULL); }

/* The smallest key greater than every key with this prefix, or NULL when
 * there is none (the prefix is all 0xff bytes). */
static char *prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *e = xstrdup(prefix);
	while (n > 0) {
		unsigned char c = (unsigned char)e[n - 1];
		if (c < 0xff) {
			e[n - 1] = (char)(c + 1);
			e[n] = '\0';
			return e;
		}
		n--;
	}
	free(e);
	return NULL;
}

json_t *etcd_range_req(const char *key, bool prefix, bool serializable, bool keys_only)
{
	char *k = etcd_b64s(key);
	json_t *o = json_pack("{s:s}", "key", k);
	free(k);
	if (prefix) {
		char *end = prefix_end(key);
		/* no end: "\0" (base64 "AA==") is etcd's "every key from key on" */
		char *e = end ? etcd_b64s(end) : xstrdup("AA==");
		json_object_set_new(o, "range_end", json_string(e));
		free(e);
		free(end);
	}
	if (serializable)
		json_object_set_new(o, "serializable", json_true());
	if (keys_only)
		json_object_set_new(o, "keys_only", json_true());
	return o;
}

json_t *etcd_put_op(const char *key, const char *value)
{
	char *k = etcd_b64s(key), *v = etcd_b64s(value);
	json_t *o = json_pack("{s:{s:s, s:s}}", "request_put", "key", k, "value", v);
	free(k);
	free(v);
	return o;
}

json_t *etcd_cmp_mod(const char *key, int64_t mod_revision)
{
	char *k = etcd_b64s(key);
	char rev[32];
	snprintf(rev, sizeof rev, "%lld", (long long)mod_revision);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "key", k, "target", "MOD", "result", "EQUAL",
			      "mod_revision", rev);
	free(k);
	return o;
}

bool etcd_serializable(const struct test *t)
{
	const char *rm = json_string_value(json_object_get(t->db_opts, "read_mode"));
	return rm && !strcmp(rm, "serializable");
}

int64_t etcd_deadline(const struct test *t)
{
	double s = t->op_timeout > 0 ? t->op_timeout : 5;
	return now_ns() + (int64_t)(s * 1e9);
}

bool etcd_may_retry(const struct test *t, int64_t deadline)
{
	double s = t->op_timeout > 0 ? t->op_timeout : 5;
	return deadline - now_ns() >= (int64_t)(s * 1e9 / 4);
}

/* ---- errors and completions ---- */

void etcd_set_error(struct op *out, const char *fmt, ...)
{
	if (!out)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(out->error);
	out->error = s ? s : xstrdup("error");
}

void etcd_complete_error(struct op *out, enum etcd_outcome o, bool is_read)
{
	if (o == ETCD_TIMEOUT)
		out->type = OP_INFO;
	else if (o == ETCD_REJECTED || is_read)
		out->type = OP_FAIL;
	else
		out->type = OP_INFO;
}

/* ---- the connection ---- */

static size_t etcd_write_cb(char *p, size_t sz, size_t n, void *ud)
{
	buf_append(ud, p, sz * n);
	return sz * n;
}

int etcd_conn_open(struct etcd_conn *c, const struct test *t, int node, char *err,
		   size_t errlen)
{
	pthread_once(&etcd_http_once, etcd_http_global_init);
	memset(c, 0, sizeof *c);
	CURL *h = curl_easy_init();
	if (!h) {
		snprintf(err, errlen, "%s: curl_easy_init failed", t->nodes[node].name);
		return -1;
	}
	c->curl = h;
	c->base = etcd_client_url(t, node);
	buf_init(&c->resp);
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	hd = curl_slist_append(hd, "Expect:");
	c->headers = hd;
	c->timeout_ms = (long)(t->op_timeout * 1000);
	if (c->timeout_ms < 1)
		c->timeout_ms = 1;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, etcd_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	etcd_curl_bind(h, t);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	return 0;
}

void etcd_conn_close(struct etcd_conn *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	free(c->base);
	buf_free(&c->resp);
	memset(c, 0, sizeof *c);
}

/* The gateway's error body: {"error":"...","code":14,"message":"..."}. */
static void gateway_message(const struct buf *resp, char *msg, size_t n)
{
	json_t *j = resp->len ? json_loadb(resp->data, resp->len, JSON_DISABLE_EOF_CHECK, NULL)
			      : NULL;
	const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
	if (!m && j)
		m = json_string_value(json_object_get(j, "error"));
	snprintf(msg, n, "%.200s", m ? m : (resp->len ? resp->data : "(empty body)"));
	if (j)
		json_decref(j);
}

enum etcd_outcome etcd_call(struct etcd_conn *c, const char *path, const char *body,
			    int64_t deadline, bool need_header, json_t **reply, struct op *out)
{
	*reply = NULL;
	/* A node that refuses connections would otherwise be hammered with
	 * thousands of instant fails a second; pausing inside the op only
	 * widens its window, which costs the checker nothing. */
	int64_t now = now_ns();
	if (c->retry_at > now) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(c->retry_at - now)};
		nanosleep(&ts, NULL);
		now = now_ns();
	}
	long ms = c->timeout_ms;
	if (deadline) {
		int64_t left = (deadline - now) / 1000000;
		if (left < 1) {
			/* Not sent: certainly not applied. */
			etcd_set_error(out, "out of time before sending");
			return ETCD_REJECTED;
		}
		if (left < ms)
			ms = (long)left;
	}
	char *url = xasprintf("%s%s", c->base, path);
	c->resp.len = 0;
	c->errbuf[0] = 0;
	bool was_warm = c->warm;
	CURL *h = c->curl;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
	CURLcode cc = curl_easy_perform(h);
	free(url);
	if (cc != CURLE_OK) {
		c->warm = false;
		const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
		switch (cc) {
		case CURLE_OPERATION_TIMEDOUT:
			etcd_set_error(out, "timeout");
			return ETCD_TIMEOUT;
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
			etcd_set_error(out, "%s: %s", was_warm ? "connection lost" : "connection refused",
				       why);
			c->retry_at = now_ns() + ETCD_RETRY_NS;
			return was_warm ? ETCD_UNKNOWN : ETCD_REJECTED;
		default:
			etcd_set_error(out, "%s", why);
			return ETCD_UNKNOWN;
		}
	}
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	c->warm = true;
	if (code != 200) {
		char msg[256];
		gateway_message(&c->resp, msg, sizeof msg);
		etcd_set_error(out, "http %ld: %s", code, msg);
		/* 408: the gateway gave up waiting, the proposal may still apply. */
		return (code >= 400 && code < 500 && code != 408) ? ETCD_REJECTED : ETCD_UNKNOWN;
	}
	/* Streaming endpoints (lease keepalive) answer one JSON object per
	 * line: the first is the answer. */
	json_error_t je;
	*reply = json_loadb(c->resp.data ? c->resp.data : "", c->resp.len, JSON_DISABLE_EOF_CHECK,
			    &je);
	if (!*reply || !json_is_object(*reply) ||
	    (need_header && !json_object_get(*reply, "header"))) {
		etcd_set_error(out, "unparsable reply: %.120s", c->resp.len ? c->resp.data : "");
		if (*reply)
			json_decref(*reply);
		*reply = NULL;
		return ETCD_UNKNOWN;
	}
	return ETCD_OK;
}

enum etcd_outcome etcd_call_json(struct etcd_conn *c, const char *path, json_t *body,
				 int64_t deadline, json_t **reply, struct op *out)
{
	char *s = json_dumps(body, JSON_COMPACT);
	enum etcd_outcome o = etcd_call(c, path, s ? s : "{}", deadline, true, reply, out);
	free(s);
	return o;
}

int etcd_setup_call(const struct test *t, const char *path, const char *body, double seconds,
		    char *err, size_t errlen)
{
	int64_t end = now_ns() + (int64_t)(seconds * 1e9);
	struct op scratch;
	memset(&scratch, 0, sizeof scratch);
	for (int round = 0;; round++) {
		for (int i = 0; i < t->n_nodes; i++) {
			struct etcd_conn c;
			if (etcd_conn_open(&c, t, i, err, errlen) < 0)
				continue;
			json_t *reply;
			enum etcd_outcome o = etcd_call(&c, path, body, 0, true, &reply, &scratch);
			etcd_conn_close(&c);
			if (o == ETCD_OK) {
				json_decref(reply);
				free(scratch.error);
				return 0;
			}
			snprintf(err, errlen, "%s: %s %s", t->nodes[i].name, path,
				 scratch.error ? scratch.error : "failed");
		}
		if (now_ns() > end)
			break;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000L};
		nanosleep(&ts, NULL);
	}
	free(scratch.error);
	return -1;
}
