/*
 * redis_conn.c - the controller's side of talking to Redis and Sentinel
 * (redis.h), shared by the db (redis.c: health, setup, primaries) and the
 * workload clients (redis_client.c).
 *
 * Every connection is a socket from net_tcp_connect, bound to the local
 * cluster's bridge when there is one, handed to hiredis (redisConnectFd)
 * with a timeout on every read and write. hiredis reports a timeout as an
 * I/O error with errno EAGAIN; that is the one failure after which the
 * request may still be applied late, and is told apart from a connection
 * that closed or reset mid-request.
 *
 * The verdict rules (ok / fail / info) live here as pure functions, pinned
 * by tests/unit/test_redis.c:
 *  - an error reply means Redis executed nothing of that command (READONLY
 *    on a demoted primary, NOREPLICAS under min-replicas-to-write,
 *    EXECABORT, a failed EXEC): fail. The one script we send (cas) writes
 *    as its last step, so a script error also left nothing behind;
 *  - a timeout: info, for reads too (the op's latency stays truthful);
 *  - a connection lost mid-request: info for a write, fail for a read;
 *  - WAIT acknowledging fewer replicas than asked: info.
 */
#include "redis.h"

#include "net.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define REDIS_MAX_ARGS 32

redisContext *redis_connect(const struct test *t, const char *host, int port, int timeout_ms,
			    char *why, size_t whylen)
{
	if (timeout_ms < 1)
		timeout_ms = 1;
	int e = 0;
	char w[200] = "";
	int fd = net_tcp_connect(host, port, t->bind_device, timeout_ms, &e, w, sizeof w);
	if (fd < 0) {
		snprintf(why, whylen, "%s:%d: %s", host, port, w[0] ? w : net_errno_text(e));
		return NULL;
	}
	redisContext *c = redisConnectFd(fd);
	if (!c) {
		close(fd);
		snprintf(why, whylen, "%s:%d: out of memory", host, port);
		return NULL;
	}
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
		snprintf(why, whylen, "%s:%d: %s", host, port, c->errstr[0] ? c->errstr : "setup failed");
		redisFree(c);
		return NULL;
	}
	return c;
}

redisReply *redis_cmd(redisContext *c, const char *arg0, ...)
{
	const char *argv[REDIS_MAX_ARGS];
	int argc = 0;
	va_list ap;
	va_start(ap, arg0);
	for (const char *a = arg0; a && argc < REDIS_MAX_ARGS; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	return redisCommandArgv(c, argc, argv, NULL);
}

int redis_sentinel_primary(redisContext *s, char *ip, size_t iplen, int *port, char *why,
			   size_t whylen)
{
	redisReply *r = redis_cmd(s, "SENTINEL", "get-master-addr-by-name", REDIS_MASTER_NAME, NULL);
	if (!r) {
		snprintf(why, whylen, "%s",
			 redis_io_error(s) == REDIS_IO_TIMEOUT ? "timeout" : s->errstr);
		return -1;
	}
	int rc = -1;
	long p;
	if (r->type == REDIS_REPLY_ERROR)
		snprintf(why, whylen, "%.200s", r->str);
	else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		 r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
		snprintf(why, whylen, "knows no primary");
	else if (!parse_long(r->element[1]->str, 1, 65535, &p))
		snprintf(why, whylen, "names a bad port %.20s", r->element[1]->str);
	else {
		snprintf(ip, iplen, "%s", r->element[0]->str);
		*port = (int)p;
		rc = 0;
	}
	freeReplyObject(r);
	return rc;
}

bool redis_info_field(const char *info, const char *field, char *out, size_t outlen)
{
	size_t fl = strlen(field);
	for (const char *p = info; p && *p;) {
		const char *eol = strpbrk(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > fl && !strncmp(p, field, fl) && p[fl] == ':') {
			snprintf(out, outlen, "%.*s", (int)(len - fl - 1), p + fl + 1);
			return true;
		}
		if (!eol)
			break;
		p = eol + strspn(eol, "\r\n");
	}
	return false;
}

const char *redis_pairs_get(const redisReply *r, const char *key)
{
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];
		if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING && !strcmp(k->str, key))
			return v->str;
	}
	return NULL;
}

/* ---- verdicts ---- */

enum redis_io redis_io_error(const redisContext *c)
{
	if (!c || !c->err)
		return REDIS_IO_NONE;
	/* hiredis keeps only strerror's text: a socket timeout is EAGAIN. */
	if (c->err == REDIS_ERR_IO &&
	    (!strcmp(c->errstr, strerror(EAGAIN)) || !strcmp(c->errstr, strerror(EWOULDBLOCK)) ||
	     !strcmp(c->errstr, strerror(ETIMEDOUT))))
		return REDIS_IO_TIMEOUT;
	return REDIS_IO_LOST;
}

enum redis_verdict redis_error_verdict(const char *msg, char *kind, size_t kindlen)
{
	const char *m = msg ? msg : "";
	size_t n = strcspn(m, " \r\n");
	if (kind && kindlen)
		snprintf(kind, kindlen, "%.*s", (int)(n ? n : 3), n ? m : "ERR");
	return REDIS_VERDICT_FAIL;
}

enum redis_verdict redis_io_verdict(enum redis_io io, bool writes)
{
	switch (io) {
	case REDIS_IO_NONE:
		return REDIS_VERDICT_OK;
	case REDIS_IO_TIMEOUT:
		return REDIS_VERDICT_INFO;
	case REDIS_IO_LOST:
	default:
		return writes ? REDIS_VERDICT_INFO : REDIS_VERDICT_FAIL;
	}
}

enum redis_verdict redis_wait_verdict(long long acks, int want)
{
	return acks >= want && want >= 0 ? REDIS_VERDICT_OK : REDIS_VERDICT_INFO;
}
