/*
 * history_read.c - reads a history file into struct op, one op at a time:
 * faultline's history.jsonl (one JSON object per line, see design.md) and
 * Jepsen's EDN (op maps one after another, or one vector/list of them).
 * Both go through the same op-map conversion, so a Jepsen history and a
 * faultline history look the same to every checker.
 *
 * JSONL lines are parsed by a small scanner for the flat lines the runner
 * writes (the common case, and the one that must be fast for million-op
 * histories); anything it does not recognise goes to jansson, which also
 * produces the error position. A torn last line (a run killed mid-write: no
 * trailing newline and unparseable, or not JSON with only blank lines after
 * it) is skipped with a warning; a bad line anywhere else is an error
 * "FILE:LINE:COL: message".
 *
 * EDN values of Jepsen's independent workloads are [key value] tuples; the
 * key becomes op->key and the value op->value (see edn_split_tuple).
 */
#include "edn.h"
#include "history.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void herr(struct history_error *err, const char *path, long line, long col,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void herr(struct history_error *err, const char *path, long line, long col,
		 const char *fmt, ...)
{
	if (!err)
		return;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(err->msg, sizeof err->msg, "%s:%ld:%ld: %s", path, line, col, msg);
	else
		snprintf(err->msg, sizeof err->msg, "%s: %s", path, msg);
}

/* A key as a string: strings stay, integers print in decimal, others as
 * compact JSON. */
static char *key_to_string(json_t *k)
{
	if (json_is_string(k))
		return xstrdup(json_string_value(k));
	if (json_is_integer(k))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(k));
	char *s = json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	return s ? s : xstrdup("?");
}

static char *value_to_text(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	return s ? s : xstrdup("?");
}

/* Convert one op object (from JSON or EDN) into *op. Returns 0 or -1 with
 * *why set to a static message. Consumes nothing: obj stays the caller's. */
static int op_from_object(json_t *obj, int64_t default_index, struct op *op, const char **why)
{
	memset(op, 0, sizeof *op);
	op->index = default_index;
	op->time = -1;
	op->process = 0;
	if (!json_is_object(obj)) {
		*why = "an op must be a map/object";
		return -1;
	}
	json_t *t = json_object_get(obj, "type");
	if (!json_is_string(t) || !op_type_parse(json_string_value(t), &op->type)) {
		*why = "op needs \"type\": invoke, ok, fail or info";
		return -1;
	}
	json_t *p = json_object_get(obj, "process");
	if (json_is_integer(p) && json_integer_value(p) >= 0) {
		op->process = json_integer_value(p);
	} else if (json_is_string(p) && !strcmp(json_string_value(p), "nemesis")) {
		op->process = PROCESS_NEMESIS;
	} else if (!p || json_is_null(p)) {
		op->process = PROCESS_NONE;
	} else {
		*why = "op needs \"process\": a non-negative integer or \"nemesis\"";
		return -1;
	}
	json_t *f = json_object_get(obj, "f");
	json_t *val = json_object_get(obj, "value");
	if (json_is_string(f))
		op->f = xstrdup(json_string_value(f));
	else if (f && !json_is_null(f))
		op->f = value_to_text(f);
	else if (json_is_array(val) && json_array_size(val) &&
		 json_is_array(json_array_get(val, 0)))
		op->f = xstrdup("txn"); /* Elle's histories leave :f out of transactions */
	else {
		*why = "op needs \"f\"";
		return -1;
	}
	json_t *v;
	if ((v = json_object_get(obj, "index")) && json_is_integer(v))
		op->index = json_integer_value(v);
	if ((v = json_object_get(obj, "time")) && json_is_integer(v))
		op->time = json_integer_value(v);
	if ((v = json_object_get(obj, "key")) && !json_is_null(v))
		op->key = key_to_string(v);
	v = json_object_get(obj, "value");
	op->value = v ? json_incref(v) : json_null();
	if ((v = json_object_get(obj, "node")) && !json_is_null(v))
		op->node = value_to_text(v);
	if ((v = json_object_get(obj, "error")) && !json_is_null(v))
		op->error = value_to_text(v);
	const char *k;
	json_object_foreach(obj, k, v) {
		static const char *known[] = {"type", "process", "f", "index", "time",
					      "key", "value", "node", "error"};
		bool is_known = false;
		for (size_t i = 0; i < sizeof known / sizeof *known; i++)
			if (!strcmp(k, known[i]))
				is_known = true;
		if (is_known)
			continue;
		if (!op->extra)
			op->extra = json_object();
		json_object_set(op->extra, k, v);
	}
	return 0;
}

/* ---------------------------------------------------------------- JSONL */

/* The fast scanner: the runner writes flat objects whose members are
 * strings without escapes, integers, null, or (for "value") any JSON, which
 * is handed to jansson on its own. Returns 1 parsed, 0 not handled (caller
 * falls back to jansson). */
struct scan {
	const char *p, *end;
};

static void sc_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

/* A plain string (no escapes, no control bytes); returns length or -1. */
static long sc_str(struct scan *s, const char **start)
{
	if (s->p >= s->end || *s->p != '"')
		return -1;
	const char *q = ++s->p;
	while (q < s->end && *q != '"') {
		if (*q == '\\' || (unsigned char)*q < 0x20 || (unsigned char)*q >= 0x80)
			return -1;
		q++;
	}
	if (q >= s->end)
		return -1;
	*start = s->p;
	long n = q - s->p;
	s->p = q + 1;
	return n;
}

static bool sc_int(struct scan *s, int64_t *out)
{
	const char *q = s->p;
	bool neg = false;
	if (q < s->end && *q == '-') {
		neg = true;
		q++;
	}
	if (q >= s->end || !isdigit((unsigned char)*q) || (*q == '0' && q + 1 < s->end && isdigit((unsigned char)q[1])))
		return false;
	uint64_t v = 0;
	int nd = 0;
	while (q < s->end && isdigit((unsigned char)*q)) {
		v = v * 10 + (uint64_t)(*q - '0');
		if (++nd > 18)
			return false;
		q++;
	}
	if (q < s->end && (*q == '.' || *q == 'e' || *q == 'E'))
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	s->p = q;
	return true;
}

/* Find the end of one JSON value starting at s->p by bracket/quote
 * matching (validity is checked later by jansson). */
static const char *sc_skip_value(struct scan *s)
{
	const char *q = s->p;
	int depth = 0;
	bool in_str = false;
	for (; q < s->end; q++) {
		char c = *q;
		if (in_str) {
			if (c == '\\')
				q++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '[' || c == '{')
			depth++;
		else if (c == ']' || c == '}') {
			if (depth == 0)
				return q;
			depth--;
		} else if (c == ',' && depth == 0)
			return q;
	}
	return depth == 0 && !in_str ? q : NULL;
}

static json_t *sc_value(struct scan *s)
{
	const char *st;
	long n;
	int64_t iv;
	if (s->p < s->end && *s->p == '"') {
		struct scan save = *s;
		if ((n = sc_str(s, &st)) >= 0)
			return json_stringn(st, (size_t)n);
		*s = save;
	} else if (s->p < s->end && (*s->p == '-' || isdigit((unsigned char)*s->p))) {
		if (sc_int(s, &iv))
			return json_integer(iv);
	} else if (s->end - s->p >= 4 && !memcmp(s->p, "null", 4)) {
		s->p += 4;
		return json_null();
	}
	const char *e = sc_skip_value(s);
	if (!e || e == s->p)
		return NULL;
	json_t *v = json_loadb(s->p, (size_t)(e - s->p), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (v)
		s->p = e;
	return v;
}

static int jsonl_fast(const char *line, size_t len, int64_t default_index, struct op *op)
{
	struct scan s = {line, line + len};
	memset(op, 0, sizeof *op);
	op->index = default_index;
	op->time = -1;
	bool have_type = false, have_proc = false, have_f = false;
	sc_ws(&s);
	if (s.p >= s.end || *s.p++ != '{')
		return 0;
	for (;;) {
		sc_ws(&s);
		const char *k;
		long kn = sc_str(&s, &k);
		if (kn < 0)
			goto fallback;
		sc_ws(&s);
		if (s.p >= s.end || *s.p++ != ':')
			goto fallback;
		sc_ws(&s);
#define KEY(name) (kn == (long)sizeof(name) - 1 && !memcmp(k, name, sizeof(name) - 1))
		const char *vs;
		long vn;
		if (KEY("index") || KEY("time")) {
			int64_t iv;
			if (!sc_int(&s, &iv))
				goto fallback;
			if (KEY("index"))
				op->index = iv;
			else
				op->time = iv;
		} else if (KEY("type")) {
			if ((vn = sc_str(&s, &vs)) < 0)
				goto fallback;
			char tb[8];
			if (vn >= (long)sizeof tb)
				goto fallback;
			memcpy(tb, vs, (size_t)vn);
			tb[vn] = 0;
			if (!op_type_parse(tb, &op->type))
				goto fallback;
			have_type = true;
		} else if (KEY("process")) {
			int64_t iv;
			if (sc_int(&s, &iv) && iv >= 0)
				op->process = iv;
			else if ((vn = sc_str(&s, &vs)) == 7 && !memcmp(vs, "nemesis", 7))
				op->process = PROCESS_NEMESIS;
			else
				goto fallback;
			have_proc = true;
		} else if (KEY("f") || KEY("key") || KEY("node") || KEY("error")) {
			char **dst = KEY("f") ? &op->f : KEY("key") ? &op->key : KEY("node") ? &op->node : &op->error;
			if (*dst || (vn = sc_str(&s, &vs)) < 0)
				goto fallback;
			*dst = xmalloc((size_t)vn + 1);
			memcpy(*dst, vs, (size_t)vn);
			(*dst)[vn] = 0;
			if (KEY("f"))
				have_f = true;
		} else if (KEY("value")) {
			if (op->value || !(op->value = sc_value(&s)))
				goto fallback;
		} else {
			goto fallback;
		}
#undef KEY
		sc_ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
			continue;
		}
		if (s.p < s.end && *s.p == '}') {
			s.p++;
			break;
		}
		goto fallback;
	}
	sc_ws(&s);
	if (s.p != s.end || !have_type || !have_proc || !have_f)
		goto fallback;
	if (!op->value)
		op->value = json_null();
	return 1;
fallback:
	op_free(op);
	return 0;
}

/* Parse one line. Returns 1 op, 0 blank line, -1 error (err set; *not_json
 * tells a line that is not JSON at all from JSON that is not an op). */
static int jsonl_line(const char *path, long lineno, const char *line, size_t len,
		      int64_t default_index, struct op *op, struct history_error *err,
		      bool *not_json)
{
	*not_json = false;
	size_t i = 0;
	while (i < len && isspace((unsigned char)line[i]))
		i++;
	if (i == len)
		return 0;
	if (jsonl_fast(line, len, default_index, op))
		return 1;
	json_error_t je;
	json_t *obj = json_loadb(line, len, JSON_ALLOW_NUL, &je);
	if (!obj) {
		herr(err, path, lineno, je.column > 0 ? je.column : 1, "%s", je.text);
		*not_json = true;
		return -1;
	}
	const char *why = NULL;
	int rc = op_from_object(obj, default_index, op, &why);
	json_decref(obj);
	if (rc < 0) {
		op_free(op);
		herr(err, path, lineno, 1, "%s", why);
		return -1;
	}
	return 1;
}

/* Only whitespace left in f (consumes it). */
static bool rest_is_blank(FILE *f)
{
	int c;
	while ((c = getc(f)) != EOF)
		if (!isspace(c))
			return false;
	return !ferror(f);
}

static int stream_jsonl(FILE *f, const char *path, history_op_cb cb, void *ctx,
			struct history_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int64_t count = 0;
	int rc = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		bool complete = line[n - 1] == '\n';
		struct op op;
		struct history_error lerr;
		bool not_json;
		int r = jsonl_line(path, lineno, line, (size_t)n, count, &op, &lerr, &not_json);
		if (r < 0) {
			/* getline returns a line without '\n' only at end of file:
			 * that is the torn write of a killed run, not bad data. So
			 * is a last line cut short that got its newline back (a
			 * copy through an editor): not JSON, nothing after it. */
			if (!complete || (not_json && rest_is_blank(f))) {
				log_warn("%s:%ld: ignoring torn last line (does not parse)", path,
					 lineno);
				break;
			}
			if (err)
				*err = lerr;
			rc = -1;
			break;
		}
		if (r == 0)
			continue;
		count++;
		if (cb(&op, ctx) != 0)
			break;
	}
	if (rc == 0 && ferror(f)) {
		herr(err, path, 0, 0, "read error: %s", strerror(errno));
		rc = -1;
	}
	free(line);
	return rc;
}

/* ------------------------------------------------------------------ EDN */

static bool is_scalar(json_t *v)
{
	return json_is_string(v) || json_is_integer(v);
}

/* Jepsen's independent histories carry values [k v]; a plain op's value
 * can be a 2-vector too (cas [old new], a set read [1 2]), so split only
 * where the shape says tuple: the first element is a scalar key and the
 * second is what that f's value looks like. */
static void edn_split_tuple(struct op *op)
{
	json_t *v = op->value;
	if (op->key || !json_is_array(v) || json_array_size(v) != 2 ||
	    op->process == PROCESS_NEMESIS)
		return;
	json_t *k = json_array_get(v, 0), *x = json_array_get(v, 1);
	if (!is_scalar(k))
		return;
	const char *f = op->f;
	bool tuple;
	if (!strcmp(f, "cas") || !strcmp(f, "compare-and-set"))
		tuple = json_is_array(x) && json_array_size(x) == 2;
	else if (!strcmp(f, "txn"))
		tuple = json_is_array(x);
	else if (!strcmp(f, "read") || !strcmp(f, "write") || !strcmp(f, "get") ||
		 !strcmp(f, "put") || !strcmp(f, "append") || !strcmp(f, "add") ||
		 !strcmp(f, "enqueue") || !strcmp(f, "dequeue") || !strcmp(f, "r") ||
		 !strcmp(f, "w"))
		/* a scalar register read/write is never a 2-vector; a set read
		 * that is ([1 2]) is ambiguous only if its first element is a
		 * key-like scalar and the second a scalar, i.e. also a tuple
		 * shape; Jepsen writes set reads as #{...} sets of other sizes
		 * in practice. */
		tuple = true;
	else
		tuple = false;
	if (!tuple)
		return;
	op->key = key_to_string(k);
	json_t *nv = json_incref(x);
	json_decref(op->value);
	op->value = nv;
}

static int edn_emit(json_t *obj, struct edn_reader *r, const char *path, int64_t idx,
		    history_op_cb cb, void *ctx, struct history_error *err, int *stop)
{
	struct op op;
	const char *why = NULL;
	int rc = op_from_object(obj, idx, &op, &why);
	json_decref(obj);
	if (rc < 0) {
		int line, col;
		edn_reader_pos(r, &line, &col);
		op_free(&op);
		herr(err, path, line, col, "%s", why);
		return -1;
	}
	edn_split_tuple(&op);
	*stop = cb(&op, ctx) != 0;
	return 0;
}

static int stream_edn(FILE *f, const char *path, history_op_cb cb, void *ctx,
		      struct history_error *err)
{
	struct edn_reader *r = edn_reader_new(f, path);
	int64_t idx = 0;
	int stop = 0, rc = 0;
	int seq = edn_enter_seq(r);
	json_t *v = NULL;
	int got;
	if (seq < 0) {
		rc = -1;
	} else if (seq == 1) {
		while (!stop && (got = edn_read_elem(r, &v)) == 1)
			if ((rc = edn_emit(v, r, path, idx++, cb, ctx, err, &stop)) < 0)
				break;
		if (rc == 0 && !stop && got < 0)
			rc = -1;
		if (rc == 0 && !stop && (got = edn_read(r, &v)) != 0) {
			if (got == 1) {
				json_decref(v);
				int line, col;
				edn_reader_pos(r, &line, &col);
				herr(err, path, line, col, "unexpected value after the history's closing bracket");
				edn_reader_free(r);
				return -1;
			}
			rc = -1;
		}
	} else {
		while (!stop && (got = edn_read(r, &v)) == 1)
			if ((rc = edn_emit(v, r, path, idx++, cb, ctx, err, &stop)) < 0)
				break;
		if (rc == 0 && !stop && got < 0)
			rc = -1;
	}
	if (rc < 0 && err && edn_reader_error(r)[0])
		snprintf(err->msg, sizeof err->msg, "%s", edn_reader_error(r));
	edn_reader_free(r);
	return rc;
}

/* --------------------------------------------------------------- common */

static enum history_format guess_format(FILE *f, const char *path)
{
	size_t pl = strlen(path);
	if (pl >= 6 && !strcmp(path + pl - 6, ".jsonl"))
		return HISTORY_JSONL;
	if (pl >= 5 && !strcmp(path + pl - 5, ".json"))
		return HISTORY_JSONL;
	if (pl >= 4 && !strcmp(path + pl - 4, ".edn"))
		return HISTORY_EDN;
	/* Look at the first significant bytes: {" is JSON, anything else EDN. */
	char head[256];
	size_t n = fread(head, 1, sizeof head, f);
	rewind(f);
	size_t i = 0;
	while (i < n && isspace((unsigned char)head[i]))
		i++;
	if (i < n && head[i] == '{') {
		i++;
		while (i < n && isspace((unsigned char)head[i]))
			i++;
		if (i < n && head[i] == '"')
			return HISTORY_JSONL;
		if (i == n || head[i] == '}')
			return HISTORY_JSONL;
	}
	return i == n ? HISTORY_JSONL : HISTORY_EDN;
}

int history_stream_file(FILE *f, const char *name, enum history_format fmt,
			history_op_cb cb, void *ctx, struct history_error *err)
{
	if (err)
		err->msg[0] = '\0';
	if (fmt == HISTORY_AUTO)
		fmt = guess_format(f, name);
	return fmt == HISTORY_EDN ? stream_edn(f, name, cb, ctx, err)
				  : stream_jsonl(f, name, cb, ctx, err);
}

int history_stream(const char *path, enum history_format fmt,
		   history_op_cb cb, void *ctx, struct history_error *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		herr(err, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	int rc = history_stream_file(f, path, fmt, cb, ctx, err);
	fclose(f);
	return rc;
}

static int load_cb(struct op *op, void *ctx)
{
	history_push(ctx, op);
	return 0;
}

int history_load(const char *path, enum history_format fmt,
		 struct history *h, struct history_error *err)
{
	history_init(h);
	int rc = history_stream(path, fmt, load_cb, h, err);
	if (rc < 0)
		history_free(h);
	return rc;
}
