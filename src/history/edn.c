/*
 * edn.c - hand-written streaming EDN reader (see edn.h). A recursive-descent
 * parser over a buffered byte stream that tracks line and column, so every
 * error points at the offending character. Nesting depth is capped so a
 * hostile file cannot exhaust the stack.
 */
#include "edn.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define EDN_MAX_DEPTH 256
#define EDN_BUFSZ 65536
#define EDN_KW_SLOTS 64
#define EDN_KW_MAX 48

struct edn_reader {
	FILE *f;                       /* NULL: memory only */
	const unsigned char *p;        /* bytes being read: own buffer, prefix or memory */
	size_t pos, len;
	const unsigned char *pre;      /* served before f (edn_reader_new_prefixed) */
	size_t pre_len;
	size_t consumed;               /* bytes of earlier buffers (edn_reader_offset) */
	unsigned char *own;            /* EDN_BUFSZ, allocated at the first read from f */
	char *name;
	int line, col;
	int vline, vcol;  /* start of the last value */
	int seq_close;    /* closing byte of the entered sequence, 0 if none */
	char err[512];
	bool failed;
	bool kw_op_fields; /* keyword-exact forms only of an op map's :value and :key */
	int top_depth;     /* depth of the value edn_read/edn_read_elem is reading */
	struct buf tok;   /* scratch for tokens and strings, reused (no malloc per token) */
	json_t *kw[EDN_KW_SLOTS]; /* recent keywords (kw_string) */
};

static struct edn_reader *reader_alloc(const char *name)
{
	struct edn_reader *r = xcalloc(1, sizeof *r);
	r->name = xstrdup(name ? name : "<edn>");
	r->line = 1;
	r->col = 1;
	return r;
}

struct edn_reader *edn_reader_new(FILE *f, const char *name)
{
	struct edn_reader *r = reader_alloc(name);
	r->f = f;
	return r;
}

struct edn_reader *edn_reader_new_prefixed(FILE *f, const char *name, const void *prefix,
					   size_t n)
{
	struct edn_reader *r = edn_reader_new(f, name);
	r->pre = prefix;
	r->pre_len = n;
	return r;
}

struct edn_reader *edn_reader_new_mem(const char *name) { return reader_alloc(name); }

void edn_reader_reset(struct edn_reader *r, const char *s, size_t len, int line, int col)
{
	r->f = NULL;
	r->pre = NULL;
	r->p = (const unsigned char *)s;
	r->pos = 0;
	r->len = len;
	r->consumed = 0;
	r->line = line;
	r->col = col;
	r->vline = line;
	r->vcol = col;
	r->seq_close = 0;
	r->failed = false;
	r->err[0] = '\0';
}

void edn_reader_free(struct edn_reader *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->own);
	buf_free(&r->tok);
	for (int i = 0; i < EDN_KW_SLOTS; i++)
		json_decref(r->kw[i]);
	free(r);
}

const char *edn_reader_error(const struct edn_reader *r) { return r->err; }

void edn_reader_pos(const struct edn_reader *r, int *line, int *col)
{
	*line = r->vline;
	*col = r->vcol;
}

size_t edn_reader_offset(const struct edn_reader *r) { return r->consumed + r->pos; }

void edn_reader_set_seq(struct edn_reader *r, int close) { r->seq_close = close; }

void edn_reader_kw_op_fields(struct edn_reader *r) { r->kw_op_fields = true; }

void edn_reader_set_line(struct edn_reader *r, int line)
{
	r->line = line;
	r->col = 1;
}

/* ------------------------------------------------------ printable text */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0)
		k = 2, cp = s[0] & 0x1F;
	else if ((s[0] & 0xF0) == 0xE0)
		k = 3, cp = s[0] & 0x0F;
	else if ((s[0] & 0xF8) == 0xF0)
		k = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp < 0xA0))
		return 0; /* overlong, out of range, surrogate, C1 control */
	return k;
}

void text_printable(char *buf, size_t cap)
{
	if (!cap)
		return;
	size_t n = strlen(buf);
	bool clean = true;
	for (size_t i = 0; i < n && clean;) {
		unsigned char c = (unsigned char)buf[i];
		size_t k = utf8_len((const unsigned char *)buf + i, n - i);
		clean = k && c != 0x7f && (c >= 0x20 || k > 1);
		i += k ? k : 1;
	}
	if (clean)
		return;
	char *src = xstrdup(buf);
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)src[i];
		size_t k = utf8_len((const unsigned char *)src + i, n - i);
		if (k && c != 0x7f && (c >= 0x20 || k > 1)) {
			if (o + k >= cap)
				break;
			memcpy(buf + o, src + i, k);
			o += k;
			i += k;
		} else {
			if (o + 4 >= cap)
				break;
			snprintf(buf + o, 5, "\\x%02x", c);
			o += 4;
			i++;
		}
	}
	buf[o] = '\0';
	free(src);
}

/* A byte for a message: 'c' when printable, else "byte 0xNN". */
static const char *byte_desc(int c, char out[16])
{
	if (c > 0x20 && c < 0x7f)
		snprintf(out, 16, "'%c'", c);
	else if (c == ' ')
		snprintf(out, 16, "' '");
	else
		snprintf(out, 16, "byte 0x%02x", c & 0xff);
	return out;
}

static int edn_fail(struct edn_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int edn_fail(struct edn_reader *r, const char *fmt, ...)
{
	if (r->failed)
		return -1;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof r->err, "%s:%d:%d: %s", r->name, r->line, r->col, msg);
	text_printable(r->err, sizeof r->err);
	r->failed = true;
	return -1;
}

static bool fill(struct edn_reader *r)
{
	if (r->pos < r->len)
		return true;
	r->consumed += r->len;
	r->pos = r->len = 0;
	if (r->pre) {
		r->p = r->pre;
		r->len = r->pre_len;
		r->pre = NULL;
		if (r->len)
			return true;
	}
	if (!r->f)
		return false;
	if (!r->own)
		r->own = xmalloc(EDN_BUFSZ);
	r->p = r->own;
	r->len = fread(r->own, 1, EDN_BUFSZ, r->f);
	return r->len > 0;
}

/* Next byte without consuming it, or -1 at end of input. */
static int peek(struct edn_reader *r)
{
	if (!fill(r))
		return -1;
	return r->p[r->pos];
}

static int next(struct edn_reader *r)
{
	if (!fill(r))
		return -1;
	int c = r->p[r->pos++];
	if (c == '\n') {
		r->line++;
		r->col = 1;
	} else {
		r->col++;
	}
	return c;
}

static void skip_ws(struct edn_reader *r)
{
	for (;;) {
		int c = peek(r);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f') {
			next(r);
		} else if (c == ';') {
			while ((c = peek(r)) != -1 && c != '\n')
				next(r);
		} else {
			return;
		}
	}
}

/* Characters that may appear inside a symbol, keyword or number token
 * (ASCII letters and digits first: most of every token). */
static bool is_token_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c > 0 && c < 0x80 && strchr(".*+!-_?$%&=<>/:#'", c) != NULL);
}

/* Appends the token's bytes span by span from the buffer (a token never
 * holds a newline, so only the column moves). */
static void read_token(struct edn_reader *r, struct buf *b)
{
	while (fill(r)) {
		size_t start = r->pos;
		while (r->pos < r->len && is_token_char(r->p[r->pos]))
			r->pos++;
		buf_append(b, r->p + start, r->pos - start);
		r->col += (int)(r->pos - start);
		if (r->pos < r->len)
			return;
	}
}

/* Keywords repeat in every op (:type :invoke :f :read ...): the reader
 * hands out shared references to the ones it made recently instead of a
 * new string each time (jansson strings are immutable here). */
static json_t *kw_string(struct edn_reader *r, const char *s, size_t n)
{
	if (n > EDN_KW_MAX)
		return json_stringn(s, n);
	json_t **slot = &r->kw[hash_fnv1a(s, n) % EDN_KW_SLOTS];
	if (*slot && json_string_length(*slot) == n && !memcmp(json_string_value(*slot), s, n))
		return json_incref(*slot);
	json_t *v = json_stringn(s, n);
	if (v) {
		json_decref(*slot);
		*slot = json_incref(v);
	}
	return v;
}

/* The reader's scratch buffer, emptied. Callers are done with it before
 * reading any nested value. */
static struct buf *tok_begin(struct edn_reader *r)
{
	r->tok.len = 0;
	if (r->tok.data)
		r->tok.data[0] = '\0';
	return &r->tok;
}

static int read_value(struct edn_reader *r, json_t **out, json_t **kw, int depth);

static int read_number(struct edn_reader *r, const char *tok, json_t **out, json_t **kw)
{
	size_t n = strlen(tok);
	char *t = xstrdup(tok);
	bool real = false;
	if (n > 1 && (t[n - 1] == 'N' || t[n - 1] == 'M')) {
		real = t[n - 1] == 'M';
		t[--n] = '\0';
	}
	if (strpbrk(t, ".eE/"))
		real = true;
	int rc = 0;
	if (!real) {
		char *end;
		errno = 0;
		long long v = strtoll(t, &end, 10);
		if (*end)
			rc = edn_fail(r, "malformed number '%s'", tok);
		else if (errno == ERANGE) {
			/* Beyond int64: the digits, for checkers that read keys
			 * and names; the exact form "<digits>N" (Clojure's bigint
			 * literal) keeps it apart from the string of its digits. */
			const char *d = t[0] == '+' ? t + 1 : t;
			*out = json_string(d);
			if (kw) {
				char *k = xasprintf("%sN", d);
				*kw = json_string(k);
				free(k);
			}
		} else
			*out = json_integer(v);
	} else {
		char *end;
		double v;
		char *slash = strchr(t, '/');
		if (slash) {
			*slash = '\0';
			double a = strtod(t, &end);
			bool okn = *end == '\0';
			double b = strtod(slash + 1, &end);
			v = (okn && *end == '\0' && b != 0) ? a / b : 0;
			if (!okn || *end || b == 0)
				rc = edn_fail(r, "malformed ratio '%s'", tok);
		} else {
			v = strtod(t, &end);
			if (*end)
				rc = edn_fail(r, "malformed number '%s'", tok);
		}
		if (rc == 0)
			*out = json_real(v);
	}
	free(t);
	return rc;
}

static int read_symbolic(struct edn_reader *r, json_t **out, json_t **kw)
{
	struct buf *b = tok_begin(r);
	int c = peek(r);
	bool keyword = c == ':';
	if (keyword)
		next(r);
	read_token(r, b);
	int rc = 0;
	char cd[16];
	if (b->len == 0) {
		rc = c == -1 ? edn_fail(r, "unexpected end of input")
			     : edn_fail(r, "unexpected character %s", byte_desc(c, cd));
	} else if (keyword) {
		*out = kw_string(r, b->data, b->len);
		if (kw && *out) {
			char *k = xasprintf(":%s", b->data);
			*kw = json_string(k);
			free(k);
		}
	} else if (isdigit((unsigned char)b->data[0]) ||
		   ((b->data[0] == '-' || b->data[0] == '+') && b->len > 1 &&
		    isdigit((unsigned char)b->data[1]))) {
		rc = read_number(r, b->data, out, kw);
	} else if (!strcmp(b->data, "nil")) {
		*out = json_null();
	} else if (!strcmp(b->data, "true")) {
		*out = json_true();
	} else if (!strcmp(b->data, "false")) {
		*out = json_false();
	} else {
		*out = json_stringn(b->data, b->len);
	}
	if (rc == 0 && !*out)
		rc = edn_fail(r, "invalid UTF-8 in symbol");
	return rc;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_utf8(struct buf *b, unsigned cp)
{
	char s[4];
	size_t n;
	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xC0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else {
		s[0] = (char)(0xE0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	}
	buf_append(b, s, n);
}

static int read_string(struct edn_reader *r, json_t **out)
{
	struct buf *b = tok_begin(r);
	int sl = r->line, sc = r->col;
	char cd[16];
	next(r); /* opening quote */
	for (;;) {
		/* a run of plain bytes at once */
		if (fill(r)) {
			size_t st = r->pos;
			while (r->pos < r->len && r->p[r->pos] != '"' && r->p[r->pos] != '\\' &&
			       r->p[r->pos] != '\n')
				r->pos++;
			if (r->pos > st) {
				buf_append(b, r->p + st, r->pos - st);
				r->col += (int)(r->pos - st);
			}
		}
		int c = next(r);
		if (c == -1)
			return edn_fail(r, "unterminated string opened at %d:%d", sl, sc);
		if (c == '"')
			break;
		if (c == '\\') {
			int e = next(r);
			char ch;
			switch (e) {
			case 't': ch = '\t'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case '"': ch = '"'; break;
			case '\\': ch = '\\'; break;
			case 'u': {
				unsigned cp = 0;
				for (int i = 0; i < 4; i++) {
					int h = hexval(next(r));
					if (h < 0)
						return edn_fail(r, "bad \\u escape in string");
					cp = cp * 16 + (unsigned)h;
				}
				if (cp >= 0xD800 && cp <= 0xDFFF)
					return edn_fail(r, "\\u%04x is half of a surrogate pair", cp);
				put_utf8(b, cp); /* \u0000 too: JSONL allows NUL in strings */
				continue;
			}
			default:
				return e == -1 ? edn_fail(r, "unterminated string")
					       : edn_fail(r, "unknown escape \\ followed by %s in string",
							  byte_desc(e, cd));
			}
			buf_append(b, &ch, 1);
			continue;
		}
		char ch = (char)c;
		buf_append(b, &ch, 1);
	}
	*out = json_stringn(b->data ? b->data : "", b->len);
	if (!*out)
		return edn_fail(r, "invalid UTF-8 in string");
	return 0;
}

static int read_char(struct edn_reader *r, json_t **out)
{
	next(r); /* backslash */
	struct buf *b = tok_begin(r);
	int c = next(r);
	if (c == -1)
		return edn_fail(r, "unexpected end of input after '\\'");
	char ch = (char)c;
	buf_append(b, &ch, 1);
	if (isalpha(c))
		read_token(r, b);
	const char *s = b->data;
	if (b->len > 1) {
		if (!strcmp(s, "newline")) s = "\n";
		else if (!strcmp(s, "space")) s = " ";
		else if (!strcmp(s, "tab")) s = "\t";
		else if (!strcmp(s, "return")) s = "\r";
		else if (!strcmp(s, "backspace")) s = "\b";
		else if (!strcmp(s, "formfeed")) s = "\f";
	}
	*out = json_string(s);
	return *out ? 0 : edn_fail(r, "invalid character literal");
}

/* Render a map key as an object key: strings as themselves, others as JSON. */
static char *key_string(json_t *k)
{
	if (json_is_string(k))
		return xstrdup(json_string_value(k));
	char *s = json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	return s ? s : xstrdup("?");
}

/* The keyword-exact collection: created at the first child that has a
 * keyword-exact form, from the plain children read so far. */
static void kw_coll_add(json_t **kcoll, json_t *coll, bool is_map, const char *key, json_t *v,
			json_t *vk)
{
	if (!*kcoll) {
		if (!vk)
			return;
		*kcoll = is_map ? json_object() : json_array();
		if (is_map) {
			const char *k;
			json_t *x;
			json_object_foreach(coll, k, x)
				if (strcmp(k, key) != 0)
					json_object_set(*kcoll, k, x);
		} else {
			for (size_t i = 0; i + 1 < json_array_size(coll); i++)
				json_array_append(*kcoll, json_array_get(coll, i));
		}
	}
	if (is_map)
		json_object_set(*kcoll, key, vk ? vk : v);
	else
		json_array_append(*kcoll, vk ? vk : v);
}

static int read_coll(struct edn_reader *r, int close, bool is_map, json_t **out, json_t **kw,
		     int depth)
{
	int sl = r->line, sc = r->col;
	json_t *coll = is_map ? json_object() : json_array();
	json_t *kcoll = NULL;
	json_t *key = NULL;
	int rc = 0;
	char cd[16];
	for (;;) {
		skip_ws(r);
		int c = peek(r);
		if (c == -1) {
			rc = edn_fail(r, "unterminated collection opened at %d:%d", sl, sc);
			break;
		}
		if (c == close) {
			next(r);
			break;
		}
		if (c == ')' || c == ']' || c == '}') {
			rc = edn_fail(r, "unexpected %s (collection opened at %d:%d)",
				      byte_desc(c, cd), sl, sc);
			break;
		}
		json_t *v = NULL, *vk = NULL;
		bool want = kw && (!is_map || key);
		if (want && is_map && r->kw_op_fields && depth == r->top_depth)
			want = json_is_string(key) && (!strcmp(json_string_value(key), "value") ||
						       !strcmp(json_string_value(key), "key"));
		if (read_value(r, &v, want ? &vk : NULL, depth + 1) < 0) {
			rc = -1;
			break;
		}
		if (!v) /* #_ discarded the form */
			continue;
		if (!is_map) {
			json_array_append(coll, v);
			if (kw)
				kw_coll_add(&kcoll, coll, false, NULL, v, vk);
			json_decref(v);
			json_decref(vk);
		} else if (!key) {
			key = v;
		} else {
			char *ks = key_string(key);
			json_object_set(coll, ks, v);
			if (kw)
				kw_coll_add(&kcoll, coll, true, ks, v, vk);
			free(ks);
			json_decref(v);
			json_decref(vk);
			json_decref(key);
			key = NULL;
		}
	}
	if (rc == 0 && key)
		rc = edn_fail(r, "map opened at %d:%d has an odd number of forms", sl, sc);
	json_decref(key);
	if (rc < 0) {
		json_decref(coll);
		json_decref(kcoll);
		return -1;
	}
	*out = coll;
	if (kw)
		*kw = kcoll;
	return 0;
}

static int read_dispatch(struct edn_reader *r, json_t **out, json_t **kw, int depth)
{
	next(r); /* '#' */
	int c = peek(r);
	char cd[16];
	if (c == '{')
		return next(r), read_coll(r, '}', false, out, kw, depth);
	if (c == '_') {
		next(r);
		skip_ws(r);
		json_t *v = NULL;
		if (read_value(r, &v, NULL, depth + 1) < 0)
			return -1;
		if (v)
			json_decref(v);
		*out = NULL;
		return 0;
	}
	if (c == '#') { /* ##Inf ##-Inf ##NaN: not JSON numbers, keep the name */
		next(r);
		struct buf *b = tok_begin(r);
		read_token(r, b);
		if (b->len == 0)
			return edn_fail(r, "malformed '##' literal");
		*out = json_stringn(b->data, b->len);
		return 0;
	}
	if (isalpha(c)) { /* tagged literal: the value stands for itself */
		struct buf *b = tok_begin(r);
		read_token(r, b);
		skip_ws(r);
		if (peek(r) == -1)
			return edn_fail(r, "tagged literal without a value");
		return read_value(r, out, kw, depth + 1);
	}
	return c == -1 ? edn_fail(r, "unexpected end of input after '#'")
		       : edn_fail(r, "unsupported dispatch '#' followed by %s", byte_desc(c, cd));
}

/* Reads one form. *out is NULL (and 0 returned) for a discarded #_ form. */
static int read_value(struct edn_reader *r, json_t **out, json_t **kw, int depth)
{
	*out = NULL;
	if (kw)
		*kw = NULL;
	if (depth > EDN_MAX_DEPTH)
		return edn_fail(r, "nesting deeper than %d", EDN_MAX_DEPTH);
	skip_ws(r);
	int c = peek(r);
	char cd[16];
	switch (c) {
	case -1:
		return edn_fail(r, "unexpected end of input");
	case '"':
		return read_string(r, out);
	case '[':
		return next(r), read_coll(r, ']', false, out, kw, depth);
	case '(':
		return next(r), read_coll(r, ')', false, out, kw, depth);
	case '{':
		return next(r), read_coll(r, '}', true, out, kw, depth);
	case '#':
		return read_dispatch(r, out, kw, depth);
	case '\\':
		return read_char(r, out);
	case ')':
	case ']':
	case '}':
		return edn_fail(r, "unexpected %s", byte_desc(c, cd));
	default:
		return read_symbolic(r, out, kw);
	}
}

int edn_read(struct edn_reader *r, json_t **out, json_t **kw)
{
	for (;;) {
		if (r->failed)
			return -1;
		skip_ws(r);
		if (peek(r) == -1)
			return 0;
		r->vline = r->line;
		r->vcol = r->col;
		r->top_depth = 0;
		if (read_value(r, out, kw, 0) < 0)
			return -1;
		if (*out)
			return 1;
	}
}

int edn_enter_seq(struct edn_reader *r)
{
	if (r->failed)
		return -1;
	skip_ws(r);
	int c = peek(r);
	if (c != '[' && c != '(')
		return 0;
	next(r);
	r->seq_close = c == '[' ? ']' : ')';
	return 1;
}

int edn_read_elem(struct edn_reader *r, json_t **out, json_t **kw)
{
	for (;;) {
		if (r->failed)
			return -1;
		skip_ws(r);
		int c = peek(r);
		if (c == -1)
			return edn_fail(r, "unterminated top-level '%c'", r->seq_close == ']' ? '[' : '(');
		if (c == r->seq_close) {
			next(r);
			r->seq_close = 0;
			return 0;
		}
		r->vline = r->line;
		r->vcol = r->col;
		r->top_depth = 1;
		if (read_value(r, out, kw, 1) < 0)
			return -1;
		if (*out)
			return 1;
	}
}

int edn_parse(const char *s, size_t len, const char *name, json_t **out,
	      char *err, size_t errlen)
{
	struct edn_reader *r = reader_alloc(name);
	edn_reader_reset(r, s, len, 1, 1);
	json_t *v = NULL;
	int rc = edn_read(r, &v, NULL);
	if (rc == 0)
		edn_fail(r, "no value");
	if (rc == 1) {
		json_t *extra = NULL;
		if (edn_read(r, &extra, NULL) != 0) {
			if (extra)
				json_decref(extra);
			if (!r->failed)
				edn_fail(r, "more than one value");
			json_decref(v);
			v = NULL;
			rc = -1;
		}
	}
	if (rc == 1) {
		*out = v;
		edn_reader_free(r);
		return 0;
	}
	snprintf(err, errlen, "%s", r->err);
	edn_reader_free(r);
	return -1;
}
