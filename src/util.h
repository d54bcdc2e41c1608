/*
 * util.h - small shared helpers every module uses: exit codes, logging,
 * allocation that dies on OOM, a growable string buffer, shell quoting and
 * monotonic time. Shell quoting lives here because every command sent to a
 * node is a shell string, and every value that reaches one must pass through
 * sh_quote() (security rule: nothing from config, database or history reaches
 * a shell unescaped).
 */
#ifndef FAULTLINE_UTIL_H
#define FAULTLINE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Exit codes (Jepsen's convention, fixed by the design). */
enum {
	EXIT_VALID = 0,
	EXIT_INVALID = 1,
	EXIT_UNKNOWN = 2,
	EXIT_BADARGS = 254,
	EXIT_INTERNAL = 255,
};

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Logging goes to stderr and, once log_open() was called, to a file too
 * (faultline.log in the run directory). Thread-safe; one line per call. */
void log_set_level(enum log_level lvl);
int log_open(const char *path);
void log_close(void);
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
/* Secrets registered here are replaced by "***" in every logged line. */
void log_add_secret(const char *secret);
/* The value of environment variable NAME (a copy, or NULL if unset), taken
 * out of the environment: unset, and its bytes in the process's original
 * environment block wiped, so neither children nor /proc/PID/environ (of
 * faultline or anything cloned from it) show it. A second call for the same
 * name returns the value taken first. */
char *env_take_secret(const char *name);

/* The last non-empty line of s, without its line end (for one-line error
 * messages from a command's output); "" if there is none. */
void last_line(const char *s, char *out, size_t outlen);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);

/* Hashing for tables keyed by bytes (the checkers' interners). */
uint64_t hash_bytes(const void *p, size_t len);
/* The hash of tag followed by p[0..len) (interned values: 's' + a
 * string's bytes...), without putting them together: the history reader
 * hashes scalars with it for the checkers. */
uint64_t hash_tagged(char tag, const void *p, size_t len);
/* a[0..n) == b[0..n), for the short byte strings of hot loops (a value,
 * a literal of the history format): up to 16 bytes as two overlapping
 * loads each side, no call. */
static inline bool mem_eq(const void *a, const void *b, size_t n)
{
	const char *p = a, *q = b;
	if (n > 16)
		return !memcmp(p, q, n);
	if (n >= 8) {
		uint64_t a0, b0, a1, b1;
		memcpy(&a0, p, 8);
		memcpy(&b0, q, 8);
		memcpy(&a1, p + n - 8, 8);
		memcpy(&b1, q + n - 8, 8);
		return a0 == b0 && a1 == b1;
	}
	if (n >= 4) {
		uint32_t a0, b0, a1, b1;
		memcpy(&a0, p, 4);
		memcpy(&b0, q, 4);
		memcpy(&a1, p + n - 4, 4);
		memcpy(&b1, q + n - 4, 4);
		return a0 == b0 && a1 == b1;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] != q[i])
			return false;
	return true;
}

static inline uint64_t hash_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable NUL-terminated byte buffer. */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_init(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *buf_steal(struct buf *b); /* returns data (never NULL), resets b */
void buf_free(struct buf *b);

/* POSIX-shell single-quote s: abc -> 'abc', it's -> 'it'\''s'. Newlines and
 * every other byte are safe inside single quotes. Caller frees. */
char *sh_quote(const char *s);
/* Append sh_quote(s) to b. */
void buf_sh_quote(struct buf *b, const char *s);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t now_ns(void);
/* Wall-clock UTC timestamp "YYYYmmddTHHMMSS" into out (>= 16 bytes). */
void timestamp_utc(char *out, size_t n);

/* mkdir -p; returns 0 or -1 with errno. */
int mkdir_p(const char *path, unsigned mode);
/* Read a whole file; NULL on error (errno set). *len may be NULL. */
char *file_read_all(const char *path, size_t *len);
/* Write a file atomically (tmp + rename). */
int file_write_all(const char *path, const void *data, size_t len);

/* Parse a non-negative integer / double with range check; false if malformed. */
bool parse_long(const char *s, long min, long max, long *out);
bool parse_double(const char *s, double min, double max, double *out);

/* Numeric address of a host name (IPv4/IPv6 as is); NULL if unresolvable. */
char *host_to_ip(const char *host);

/* The names of a registry: table holds n pointers to structs whose first
 * member is `const char *name`. Returns "a, b, c", built once into *cache
 * (each registry keeps its own static cache). */
const char *registry_names(const void *const *table, size_t n, char **cache);

/* 32-bit FNV-1a: small, stable names and table slots (not for security). */
uint32_t hash_fnv1a(const void *p, size_t n);

#endif
