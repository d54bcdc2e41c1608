/*
 * util.c - the shared helpers declared in util.h: logging with secret
 * redaction, allocation that dies on OOM, string buffers, shell quoting,
 * time, and small file helpers. Nothing here knows about tests or nodes.
 */
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_level log_min = LOG_INFO;
static FILE *log_file;
static char **log_secrets; /* longest first: a secret inside another goes after it */
static int log_n_secrets;

void log_set_level(enum log_level lvl) { log_min = lvl; }

int log_open(const char *path)
{
	FILE *f = fopen(path, "a");
	if (!f)
		return -1;
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = f;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}

void log_add_secret(const char *secret)
{
	if (!secret || !*secret)
		return;
	/* No limit (a 17th secret used to go unredacted); each secret once,
	 * since every connection to a node registers its sudo password. */
	size_t len = strlen(secret);
	pthread_mutex_lock(&log_lock);
	int at = log_n_secrets;
	for (int i = 0; i < log_n_secrets; i++) {
		if (!strcmp(log_secrets[i], secret)) {
			pthread_mutex_unlock(&log_lock);
			return;
		}
		if (at == log_n_secrets && strlen(log_secrets[i]) < len)
			at = i;
	}
	log_secrets = xrealloc(log_secrets, (size_t)(log_n_secrets + 1) * sizeof *log_secrets);
	memmove(log_secrets + at + 1, log_secrets + at,
		(size_t)(log_n_secrets - at) * sizeof *log_secrets);
	log_secrets[at] = xstrdup(secret);
	log_n_secrets++;
	pthread_mutex_unlock(&log_lock);
}

char *env_take_secret(const char *name)
{
	static char *taken_name, *taken_value;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&lock);
	char *copy = NULL;
	if (taken_name && !strcmp(taken_name, name)) {
		copy = xstrdup(taken_value);
	} else {
		char *v = getenv(name);
		if (v) {
			copy = xstrdup(v);
			free(taken_name);
			free(taken_value);
			taken_name = xstrdup(name);
			taken_value = xstrdup(v);
			/* /proc/PID/environ reads the block the kernel laid out at
			 * exec, which unsetenv leaves as it was. */
			memset(v, 0, strlen(v));
			unsetenv(name);
		}
	}
	pthread_mutex_unlock(&lock);
	return copy;
}

/* Replace every registered secret by *** so no log line can carry one. */
static void log_redact(struct buf *b)
{
	for (int i = 0; i < log_n_secrets; i++) {
		size_t sl = strlen(log_secrets[i]);
		char *p;
		while ((p = memmem(b->data, b->len, log_secrets[i], sl))) {
			size_t off = (size_t)(p - b->data);
			struct buf nb;
			buf_init(&nb);
			buf_append(&nb, b->data, off);
			buf_puts(&nb, "***");
			buf_append(&nb, p + sl, b->len - off - sl);
			buf_free(b);
			*b = nb;
		}
	}
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	if (lvl < log_min && !log_file)
		return;
	struct buf b;
	buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	buf_puts(&b, msg ? msg : "(log formatting failed)");
	free(msg);
	pthread_mutex_lock(&log_lock);
	log_redact(&b);
	if (lvl >= log_min)
		fprintf(stderr, "%s%s\n", lvl >= LOG_WARN ? "faultline: " : "", b.data);
	if (log_file) {
		char ts[32];
		struct timespec now;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(log_file, "%s.%03ldZ %-5s %s\n", ts, now.tv_nsec / 1000000,
			names[lvl], b.data);
		fflush(log_file);
	}
	pthread_mutex_unlock(&log_lock);
	buf_free(&b);
}

static void oom(void)
{
	fputs("faultline: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

uint64_t hash_bytes(const void *p, size_t len)
{
	/* FNV-1a over 8-byte words, finished with a strong mix. */
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ len;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
		s += 8;
		len -= 8;
	}
	while (len--)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return hash_mix(h);
}

uint64_t hash_tagged(char tag, const void *p, size_t len)
{
	/* the FNV-1a of hash_bytes over tag + p, words taken across the seam */
	const unsigned char *s = p;
	size_t total = len + 1;
	uint64_t h = 0xcbf29ce484222325ULL ^ total;
	uint64_t carry = (unsigned char)tag; /* the byte before s */
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		/* little-endian: the word starting at the tag's position */
		uint64_t word = carry | w << 8;
		carry = w >> 56;
		h = (h ^ word) * 0x100000001b3ULL;
		h ^= h >> 29;
		s += 8;
		len -= 8;
	}
	/* tail: carry then len bytes = len + 1 bytes, maybe one more word */
	unsigned char t[9];
	t[0] = (unsigned char)carry;
	memcpy(t + 1, s, len);
	size_t tl = len + 1, i = 0;
	if (tl >= 8) {
		uint64_t w;
		memcpy(&w, t, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
		i = 8;
	}
	for (; i < tl; i++)
		h = (h ^ t[i]) * 0x100000001b3ULL;
	return hash_mix(h);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return s;
}

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void buf_puts(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
}

char *buf_steal(struct buf *b)
{
	char *d = b->data ? b->data : xstrdup("");
	buf_init(b);
	return d;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_sh_quote(struct buf *b, const char *s)
{
	buf_puts(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			buf_puts(b, "'\\''");
		else
			buf_append(b, s, 1);
	}
	buf_puts(b, "'");
}

char *sh_quote(const char *s)
{
	struct buf b;
	buf_init(&b);
	buf_sh_quote(&b, s ? s : "");
	return buf_steal(&b);
}

int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void timestamp_utc(char *out, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y%m%dT%H%M%S", &tm);
}

int mkdir_p(const char *path, unsigned mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int r = mkdir(p, mode);
	free(p);
	return (r < 0 && errno != EEXIST) ? -1 : 0;
}

char *file_read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b;
	buf_init(&b);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		buf_free(&b);
		errno = EIO;
		return NULL;
	}
	if (len)
		*len = b.len;
	return buf_steal(&b);
}

int file_write_all(const char *path, const void *data, size_t len)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			free(tmp);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

bool parse_long(const char *s, long min, long max, long *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool parse_double(const char *s, double min, double max, double *out)
{
	if (!s || !*s)
		return false;
	/* Decimal only: strtod would also take "0x10", "inf" and "nan". */
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789.eE+-", *p))
			return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || v != v || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Numeric address of a host name (an address stays as it is); NULL when
 * it does not resolve. */
char *host_to_ip(const char *host)
{
	unsigned char tmp[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1)
		return xstrdup(host);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char ip[INET6_ADDRSTRLEN] = "";
	if (getaddrinfo(host, NULL, &hints, &res) == 0 && res) {
		getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST);
		freeaddrinfo(res);
	}
	return ip[0] ? xstrdup(ip) : NULL;
}

uint32_t hash_fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;

const char *registry_names(const void *const *table, size_t n, char **cache)
{
	pthread_mutex_lock(&names_lock);
	if (!*cache) {
		struct buf b;
		buf_init(&b);
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", *(const char *const *)table[i]);
		*cache = buf_steal(&b);
	}
	pthread_mutex_unlock(&names_lock);
	return *cache;
}

void last_line(const char *s, char *out, size_t outlen)
{
	const char *end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	const char *start = end;
	while (start > s && start[-1] != '\n')
		start--;
	snprintf(out, outlen, "%.*s", (int)(end - start), start);
}
