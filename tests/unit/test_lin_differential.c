/*
 * test_lin_differential.c - the linearizability checker against a brute
 * force reference, on several thousand small random histories per model
 * (register, cas-register, kv, mutex, queue, set, multi-register), each
 * written both as faultline JSONL and as Jepsen EDN and read by the real
 * reader: both forms must get the reference's verdict.
 *
 * The histories come from a simulated store: every op gets a
 * linearization point inside its [invoke, complete] interval and results
 * are what the store held there, then some results are corrupted so both
 * verdicts are common. They mix value types that must stay distinct
 * (1, "1", :a, [1 2], nil), use f aliases (compare-and-set, offer...),
 * independent [k v] tuples with integer, string and keyword keys (1 and
 * "1" are different keys), and ops that fail, end info, or never complete.
 *
 * The reference knows nothing of the checker: values are canonical EDN
 * text compared as strings (Clojure equality), models are written here
 * again, and it tries every order that respects real time: an op may be
 * placed once every ok op that completed before its invoke is placed; ok
 * ops must all be placed; info and pending ops may be placed (after their
 * invoke) or not; failed ops never are.
 *
 * Then longer kv and register histories, beyond the brute force's reach:
 * the search with every reduction (read shortcut, pruning by what reads
 * reveal, forgotten states) must agree with the plain search.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "checker.h"
#include "history.h"
#include "results.h"
#include "util.h"

#define HISTORIES 3000  /* per model */
#define MAXOPS 9
#define SLEN 160        /* a state or value as text */

static uint64_t rng_s = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
	rng_s ^= rng_s << 13;
	rng_s ^= rng_s >> 7;
	rng_s ^= rng_s << 17;
	return (unsigned)(rng_s >> 11) % n;
}

/* A value in its two spellings: EDN (canonical: the reference compares
 * these texts) and JSONL (a keyword :a is the string ":a"). */
struct val {
	const char *edn, *json;
};

static const struct val mixed[] = {
	{"nil", "null"},     {"0", "0"},           {"1", "1"},         {"2", "2"},
	{"\"1\"", "\"1\""},  {"\"2\"", "\"2\""},   {"\"a\"", "\"a\""}, {":a", "\":a\""},
	{":b", "\":b\""},    {"[1 2]", "[1,2]"},   {"[\"a\" :b]", "[\"a\",\":b\"]"},
	{"1.5", "1.5"},      {"true", "true"},
};
#define NMIXED (sizeof mixed / sizeof *mixed)
/* kv strings (appended; some look like numbers) */
static const char *const kvs[] = {"x", "y", "1", "ab"};
/* keys of independent histories and registers of multi-register */
static const struct val keys[] = {{"1", "1"}, {"\"1\"", "\"1\""}, {":k", "\":k\""}};
static const struct val regs[] = {{":x", "\":x\""}, {"1", "1"}, {"\"y\"", "\"y\""}};

enum model { M_REGISTER, M_CAS, M_KV, M_MUTEX, M_QUEUE, M_SET, M_MULTI, NMODELS };
static const char *const model_names[] = {"register", "cas-register", "kv", "mutex",
					  "queue", "set", "multi-register"};

enum bf { F_READ, F_WRITE, F_CAS, F_GET, F_PUT, F_APPEND, F_ACQ, F_REL, F_ENQ, F_DEQ, F_ADD,
	  F_SREAD, F_TXN };

struct mop3 {
	int write;   /* 0 read, 1 write */
	int reg;     /* index in regs */
	int v;       /* index in mixed; read result: -1 nil */
};

struct gop {
	int f, proc, key;           /* key: index in keys, -1 none */
	int a, b;                   /* value indexes (mixed), kv string index */
	char result[SLEN];          /* ok read result, EDN text */
	char result_json[SLEN * 2];
	struct mop3 m[3];
	int nm;
	int type;                   /* OP_OK, OP_FAIL, OP_INFO, OP_INVOKE (pending) */
	bool applied;
	int t_inv, t_lin, t_ret;    /* ret -1: never completed */
	int inv_pos, ret_pos;       /* positions in the written history */
	const char *alias;
};

/* ------------------------------------------------- reference models */

/* States are text: register/kv a value, mutex "0"/"1", queue and set
 * '|'-separated values (the set sorted), multi-register sorted "reg=val|". */
static void set_add(char *st, const char *v)
{
	char items[16][SLEN];
	int n = 0;
	char tmp[SLEN];
	snprintf(tmp, sizeof tmp, "%s", st);
	for (char *save = NULL, *t = strtok_r(tmp, "|", &save); t; t = strtok_r(NULL, "|", &save))
		snprintf(items[n++], SLEN, "%s", t);
	for (int i = 0; i < n; i++)
		if (!strcmp(items[i], v))
			return;
	snprintf(items[n++], SLEN, "%s", v);
	qsort(items, (size_t)n, SLEN, (int (*)(const void *, const void *))strcmp);
	st[0] = 0;
	for (int i = 0; i < n; i++) {
		strcat(st, items[i]);
		strcat(st, "|");
	}
}

static const char *mr_get(const char *st, const char *reg, char *out)
{
	char pat[SLEN];
	snprintf(pat, sizeof pat, "%s=", reg);
	const char *p = st;
	while (p && *p) {
		if (!strncmp(p, pat, strlen(pat))) {
			const char *e = strchr(p, '|');
			snprintf(out, SLEN, "%.*s", (int)(e - p - strlen(pat)), p + strlen(pat));
			return out;
		}
		p = strchr(p, '|');
		if (p)
			p++;
	}
	return "nil";
}

static void mr_put(char *st, const char *reg, const char *v)
{
	char items[8][SLEN];
	int n = 0;
	char tmp[SLEN * 2], pat[SLEN];
	snprintf(tmp, sizeof tmp, "%s", st);
	snprintf(pat, sizeof pat, "%s=", reg);
	for (char *save = NULL, *t = strtok_r(tmp, "|", &save); t; t = strtok_r(NULL, "|", &save))
		if (strncmp(t, pat, strlen(pat)) != 0)
			snprintf(items[n++], SLEN, "%s", t);
	if (strcmp(v, "nil") != 0)
		snprintf(items[n++], SLEN, "%s=%s", reg, v);
	qsort(items, (size_t)n, SLEN, (int (*)(const void *, const void *))strcmp);
	st[0] = 0;
	for (int i = 0; i < n; i++) {
		strcat(st, items[i]);
		strcat(st, "|");
	}
}

/* kv: nil is the empty string */
static const char *kv_norm(const char *v) { return !strcmp(v, "nil") ? "\"\"" : v; }

/* Apply o (with result for reads when known) to st. Returns legality.
 * known: the op's result is known (ok); else reads tell nothing. */
static bool ref_step(enum model m, char *st, const struct gop *o, bool known)
{
	char buf[SLEN];
	switch (o->f) {
	case F_READ:
		return !known || !strcmp(st, o->result);
	case F_WRITE:
		snprintf(st, SLEN, "%s", mixed[o->a].edn);
		return true;
	case F_CAS:
		if (strcmp(st, mixed[o->a].edn) != 0)
			return false;
		snprintf(st, SLEN, "%s", mixed[o->b].edn);
		return true;
	case F_GET:
		return !known || !strcmp(kv_norm(st), kv_norm(o->result));
	case F_PUT:
		snprintf(st, SLEN, "%s", kv_norm(mixed[o->a].edn));
		return true;
	case F_APPEND: {
		const char *cur = kv_norm(st);
		size_t n = strlen(cur);
		if (cur[0] != '"')
			return false; /* not a string */
		snprintf(buf, sizeof buf, "%.*s%s\"", (int)n - 1, cur, kvs[o->a]);
		snprintf(st, SLEN, "%s", buf);
		return true;
	}
	case F_ACQ:
		if (st[0] == '1')
			return false;
		st[0] = '1';
		return true;
	case F_REL:
		if (st[0] != '1')
			return false;
		st[0] = '0';
		return true;
	case F_ENQ:
		if (strlen(st) + strlen(mixed[o->a].edn) + 2 >= SLEN)
			return false;
		strcat(st, mixed[o->a].edn);
		strcat(st, "|");
		return true;
	case F_DEQ: {
		char *bar = strchr(st, '|');
		if (!bar)
			return !known || !strcmp(o->result, "nil");
		if (known && strncmp(st, o->result, (size_t)(bar - st)) != 0)
			return false;
		if (known && strlen(o->result) != (size_t)(bar - st))
			return false;
		memmove(st, bar + 1, strlen(bar + 1) + 1);
		return true;
	}
	case F_ADD:
		set_add(st, mixed[o->a].edn);
		return true;
	case F_SREAD:
		return !known || !strcmp(st, o->result);
	case F_TXN:
		for (int i = 0; i < o->nm; i++) {
			const struct mop3 *x = &o->m[i];
			if (x->write)
				mr_put(st, regs[x->reg].edn, mixed[x->v].edn);
			else if (known && strcmp(mr_get(st, regs[x->reg].edn, buf),
						 x->v < 0 ? "nil" : mixed[x->v].edn) != 0)
				return false;
		}
		return true;
	}
	(void)m;
	return false;
}

/* reads whose result is unknown change nothing and tell nothing */
static bool ref_dropped(const struct gop *o)
{
	if (o->type == OP_FAIL)
		return true;
	bool read = o->f == F_READ || o->f == F_GET || o->f == F_SREAD;
	return read && o->type != OP_OK;
}

static bool ref_dfs(enum model m, struct gop **ops, int n, bool *placed, const char *st,
		    int ok_left)
{
	if (ok_left == 0)
		return true;
	for (int i = 0; i < n; i++) {
		if (placed[i] || ref_dropped(ops[i]))
			continue;
		bool ready = true;
		for (int j = 0; j < n && ready; j++)
			if (!placed[j] && ops[j]->type == OP_OK && ops[j]->ret_pos < ops[i]->inv_pos)
				ready = false;
		if (!ready)
			continue;
		char ns[SLEN];
		snprintf(ns, sizeof ns, "%s", st);
		if (!ref_step(m, ns, ops[i], ops[i]->type == OP_OK))
			continue;
		placed[i] = true;
		bool r = ref_dfs(m, ops, n, placed, ns, ok_left - (ops[i]->type == OP_OK));
		placed[i] = false;
		if (r)
			return true;
	}
	return false;
}

static const char *ref_init(enum model m, bool init_given)
{
	switch (m) {
	case M_KV: return "\"\"";
	case M_MUTEX: return "0";
	case M_QUEUE: case M_SET: return "";
	case M_MULTI: return init_given ? "1=0|" : "";
	default: return "nil";
	}
}

static bool ref_valid(enum model m, struct gop *ops, int n, bool init_given)
{
	for (int k = -1; k < 3; k++) {
		struct gop *sub[MAXOPS];
		int ns = 0, ok = 0;
		for (int i = 0; i < n; i++)
			if (ops[i].key == k) {
				sub[ns++] = &ops[i];
				ok += ops[i].type == OP_OK && !ref_dropped(&ops[i]);
			}
		if (!ns)
			continue;
		bool placed[MAXOPS] = {false};
		if (!ref_dfs(m, sub, ns, placed, ref_init(m, init_given), ok))
			return false;
	}
	return true;
}

/* ------------------------------------------------------- generation */

static int gen_f(enum model m)
{
	unsigned r = rnd(10);
	switch (m) {
	case M_REGISTER: return r < 5 ? F_READ : F_WRITE;
	case M_CAS: return r < 4 ? F_READ : r < 7 ? F_WRITE : F_CAS;
	case M_KV: return r < 4 ? F_GET : r < 6 ? F_PUT : F_APPEND;
	case M_MUTEX: return r < 5 ? F_ACQ : F_REL;
	case M_QUEUE: return r < 5 ? F_ENQ : F_DEQ;
	case M_SET: return r < 6 ? F_ADD : F_SREAD;
	default: return F_TXN;
	}
}

static void val_json_of(const char *edn, char *out, size_t n)
{
	for (size_t i = 0; i < NMIXED; i++)
		if (!strcmp(mixed[i].edn, edn)) {
			snprintf(out, n, "%s", mixed[i].json);
			return;
		}
	/* kv strings and composite states: "..." is the same text */
	snprintf(out, n, "%s", edn);
}

/* Simulate the store at o's linearization point: results and outcome. */
static void sim_apply(enum model m, char st[3 + 1][SLEN], struct gop *o, bool *corrupt)
{
	char *s = st[o->key + 1];
	char buf[SLEN];
	bool read = o->f == F_READ || o->f == F_GET || o->f == F_SREAD || o->f == F_DEQ;
	if (o->f == F_TXN) { /* reads see the txn's own earlier writes */
		char w[SLEN];
		snprintf(w, sizeof w, "%s", s);
		for (int i = 0; i < o->nm; i++) {
			struct mop3 *x = &o->m[i];
			if (x->write) {
				mr_put(w, regs[x->reg].edn, mixed[x->v].edn);
				continue;
			}
			const char *cur = mr_get(w, regs[x->reg].edn, buf);
			x->v = -1;
			for (size_t j = 0; j < NMIXED; j++)
				if (!strcmp(mixed[j].edn, cur))
					x->v = (int)j;
		}
	}
	if (read) {
		if (o->f == F_DEQ) {
			char *bar = strchr(s, '|');
			snprintf(o->result, SLEN, "%.*s", bar ? (int)(bar - s) : 3, bar ? s : "nil");
		} else if (o->f == F_SREAD) {
			snprintf(o->result, SLEN, "%s", s);
		} else {
			snprintf(o->result, SLEN, "%s", s);
		}
	}
	char ns[SLEN];
	snprintf(ns, sizeof ns, "%s", s);
	bool legal = ref_step(m, ns, o, false);
	if (!legal) { /* the store refuses: cas mismatch, lock held... */
		if (o->type == OP_OK && *corrupt && m == M_MUTEX) {
			*corrupt = false; /* ...or a buggy one grants it */
			return;
		}
		if (o->type == OP_OK)
			o->type = OP_FAIL;
		o->applied = false;
		return;
	}
	if (o->applied)
		snprintf(s, SLEN, "%s", ns);
}

static void gen_op(enum model m, struct gop *o, bool keyed)
{
	o->f = gen_f(m);
	o->key = keyed ? (int)rnd(3) : -1;
	o->a = (int)(o->f == F_APPEND ? rnd(4) : rnd(NMIXED));
	o->b = (int)rnd(NMIXED);
	if (o->f == F_CAS && rnd(2))
		o->a = (int)rnd(4); /* nil 0 1 2: often the current value */
	o->nm = 0;
	if (o->f == F_TXN) {
		o->nm = 1 + (int)rnd(3);
		for (int i = 0; i < o->nm; i++)
			o->m[i] = (struct mop3){(int)rnd(2), (int)rnd(3), 1 + (int)rnd(3)};
	}
	o->alias = NULL;
	if (o->f == F_CAS && rnd(2))
		o->alias = "compare-and-set";
	if (o->f == F_ENQ && rnd(2))
		o->alias = "offer";
	if (o->f == F_DEQ && rnd(2))
		o->alias = "poll";
	if (o->f == F_READ && rnd(3) == 0)
		o->alias = "r";
	if (o->f == F_WRITE && rnd(3) == 0)
		o->alias = "w";
}

static const char *f_name(const struct gop *o)
{
	static const char *const names[] = {"read", "write", "cas", "get", "put", "append",
					    "acquire", "release", "enqueue", "dequeue", "add",
					    "read", "txn"};
	return o->alias ? o->alias : names[o->f];
}

/* The value an event carries, EDN and JSON: invoke with the arguments,
 * completions with the result (ok reads) or the arguments. */
static void event_value(const struct gop *o, bool completion, bool edn_set, char *e, char *j)
{
	bool read = o->f == F_READ || o->f == F_GET || o->f == F_SREAD || o->f == F_DEQ;
	e[0] = j[0] = 0;
	if (o->f == F_TXN) {
		strcpy(e, "[");
		strcpy(j, "[");
		for (int i = 0; i < o->nm; i++) {
			const struct mop3 *x = &o->m[i];
			const char *v = x->write || (completion && o->type == OP_OK)
						? (x->v < 0 ? "nil" : mixed[x->v].edn) : "nil";
			char vj[SLEN];
			val_json_of(v, vj, sizeof vj);
			sprintf(e + strlen(e), "%s[:%s %s %s]", i ? " " : "", x->write ? "write" : "read",
				regs[x->reg].edn, v);
			sprintf(j + strlen(j), "%s[\"%s\",%s,%s]", i ? "," : "", x->write ? "write" : "read",
				regs[x->reg].json, vj);
		}
		strcat(e, "]");
		strcat(j, "]");
		return;
	}
	if (read) {
		if (!completion || o->type != OP_OK) {
			strcpy(e, "nil");
			strcpy(j, "null");
		} else if (o->f == F_SREAD) {
			/* a set: #{...} or a vector, any order */
			char tmp[SLEN], items[16][SLEN];
			int n = 0;
			snprintf(tmp, sizeof tmp, "%s", o->result);
			for (char *save = NULL, *t = strtok_r(tmp, "|", &save); t; t = strtok_r(NULL, "|", &save))
				snprintf(items[n++], SLEN, "%s", t);
			for (int i = n - 1; i > 0; i--) {
				int k = (int)rnd((unsigned)i + 1);
				char sw[SLEN];
				memcpy(sw, items[i], SLEN);
				memcpy(items[i], items[k], SLEN);
				memcpy(items[k], sw, SLEN);
			}
			strcpy(e, edn_set ? "#{" : "[");
			strcpy(j, "[");
			for (int i = 0; i < n; i++) {
				char vj[SLEN];
				val_json_of(items[i], vj, sizeof vj);
				sprintf(e + strlen(e), "%s%s", i ? " " : "", items[i]);
				sprintf(j + strlen(j), "%s%s", i ? "," : "", vj);
			}
			strcat(e, edn_set ? "}" : "]");
			strcat(j, "]");
		} else {
			snprintf(e, SLEN, "%s", o->result);
			val_json_of(o->result, j, SLEN * 2);
		}
		return;
	}
	switch (o->f) {
	case F_CAS:
		sprintf(e, "[%s %s]", mixed[o->a].edn, mixed[o->b].edn);
		sprintf(j, "[%s,%s]", mixed[o->a].json, mixed[o->b].json);
		break;
	case F_APPEND:
		sprintf(e, "\"%s\"", kvs[o->a]);
		sprintf(j, "\"%s\"", kvs[o->a]);
		break;
	case F_ACQ:
	case F_REL:
		strcpy(e, "nil");
		strcpy(j, "null");
		break;
	default:
		strcpy(e, mixed[o->a].edn);
		strcpy(j, mixed[o->a].json);
	}
}

struct ev {
	int t, op, kind; /* 0 invoke, 1 lin, 2 complete */
};

static int cmp_ev(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	return x->t != y->t ? (x->t > y->t) - (x->t < y->t) : x->kind - y->kind;
}

/* One random history: ops, and its EDN and JSONL texts. */
static int gen_history(enum model m, struct gop *ops, struct buf *edn, struct buf *jsonl,
		       bool *keyed_out, bool *init_out)
{
	int n = 3 + (int)rnd(MAXOPS - 2);
	int nproc = 2 + (int)rnd(3);
	bool keyed = m != M_MULTI && rnd(2);
	*keyed_out = keyed;
	*init_out = m == M_MULTI && rnd(2);
	int clock[5] = {0}, pid[5] = {0, 1, 2, 3, 4};
	struct ev evs[MAXOPS * 3];
	int ne = 0;
	for (int i = 0; i < n; i++) {
		struct gop *o = &ops[i];
		memset(o, 0, sizeof *o);
		int w = (int)rnd((unsigned)nproc);
		gen_op(m, o, keyed);
		o->proc = pid[w];
		o->t_inv = clock[w] + 1 + (int)rnd(10);
		o->t_lin = o->t_inv + 1 + (int)rnd(20);
		o->t_ret = o->t_lin + 1 + (int)rnd(20);
		clock[w] = o->t_ret;
		unsigned fate = rnd(20);
		o->type = fate < 14 ? OP_OK : fate < 16 ? OP_FAIL : fate < 18 ? OP_INFO : OP_INVOKE;
		o->applied = o->type == OP_OK || (o->type != OP_FAIL && rnd(2));
		if (o->type == OP_INFO || o->type == OP_INVOKE) {
			pid[w] += 5; /* retired: the worker goes on as a new process */
			if (o->type == OP_INVOKE)
				o->t_ret = -1;
		}
		evs[ne++] = (struct ev){o->t_inv, i, 0};
		evs[ne++] = (struct ev){o->t_lin, i, 1};
		if (o->t_ret >= 0)
			evs[ne++] = (struct ev){o->t_ret, i, 2};
	}
	qsort(evs, (size_t)ne, sizeof *evs, cmp_ev);
	char st[4][SLEN];
	for (int k = 0; k < 4; k++)
		snprintf(st[k], SLEN, "%s", ref_init(m, *init_out));
	bool corrupt = rnd(m == M_MUTEX ? 2 : 3) == 0;
	int pos = 0;
	buf_puts(edn, rnd(2) ? "[" : "(");
	for (int e = 0; e < ne; e++) {
		struct gop *o = &ops[evs[e].op];
		if (evs[e].kind == 1) {
			sim_apply(m, st, o, &corrupt);
			continue;
		}
		bool comp = evs[e].kind == 2;
		if (comp && corrupt && rnd(4) == 0 && o->type == OP_OK) {
			/* a wrong result: any pool value */
			if (o->f == F_READ || o->f == F_GET || o->f == F_DEQ)
				snprintf(o->result, SLEN, "%s", mixed[rnd(NMIXED)].edn);
			else if (o->f == F_SREAD)
				set_add(o->result, mixed[rnd(NMIXED)].edn);
			else if (o->f == F_TXN && !o->m[0].write)
				o->m[0].v = (int)rnd(NMIXED);
			corrupt = false;
		}
		if (comp)
			o->ret_pos = pos;
		else
			o->inv_pos = pos;
		pos++;
		const char *type = !comp ? "invoke" : op_type_name((enum op_type)o->type);
		char ve[SLEN * 2], vj[SLEN * 2];
		event_value(o, comp, rnd(2), ve, vj);
		if (keyed) {
			buf_printf(edn, "{:process %d, :type :%s, :f :%s, :value [%s %s]}\n", o->proc, type,
				   f_name(o), keys[o->key].edn, ve);
			buf_printf(jsonl, "{\"process\":%d,\"type\":\"%s\",\"f\":\"%s\",\"key\":%s,\"value\":%s}\n",
				   o->proc, type, f_name(o), keys[o->key].json, vj);
		} else {
			buf_printf(edn, "{:process %d, :type :%s, :f :%s, :value %s}\n", o->proc, type,
				   f_name(o), ve);
			buf_printf(jsonl, "{\"process\":%d,\"type\":\"%s\",\"f\":\"%s\",\"value\":%s}\n",
				   o->proc, type, f_name(o), vj);
		}
	}
	buf_puts(edn, edn->data[0] == '[' ? "]\n" : ")\n");
	for (int i = 0; i < n; i++)
		if (ops[i].t_ret < 0)
			ops[i].ret_pos = 1 << 20;
	return n;
}

/* ------------------------------------------------------------ checking */

static int push_op(struct op *op, void *ctx)
{
	history_push(ctx, op);
	return 0;
}

/* The verdict of check_history, the judging path of `faultline check`
 * (threaded reader, the checker's prefetch), on JSONL text. */
static int check_file(enum model m, const char *text, size_t len, bool init, char *why,
		      size_t whylen)
{
	char path[] = "/tmp/fl-lin-diff-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	json_t *init_v = init ? json_loads("{\"1\": 0}", 0, NULL) : NULL;
	struct check_ctx ctx = {.model = model_names[m], .threads = 1, .init = init_v};
	const char *names[] = {"linearizable"};
	char err[600] = "";
	json_t *res = check_history(path, HISTORY_JSONL, names, 1, &ctx, err, sizeof err);
	unlink(path);
	json_decref(init_v);
	int code = res ? verdict_exit_code(verdict_of(json_object_get(res, "valid")), false) : 254;
	snprintf(why, whylen, "%s", res ? "" : err);
	json_decref(res);
	return code;
}

/* The checker's verdict on text in format fmt: exit code (254: refused). */
static int check_text(enum model m, const char *text, size_t len, enum history_format fmt,
		      bool init, char *why, size_t whylen)
{
	FILE *f = fmemopen((void *)text, len, "r");
	struct history h;
	history_init(&h);
	struct history_error err;
	int rc = history_stream_file(f, fmt == HISTORY_EDN ? "h.edn" : "h.jsonl", fmt, push_op, &h,
				     &err);
	fclose(f);
	if (rc < 0) {
		snprintf(why, whylen, "%s", err.msg);
		history_free(&h);
		return 254;
	}
	json_t *init_v = init ? json_loads("{\"1\": 0}", 0, NULL) : NULL;
	struct check_ctx ctx = {.model = model_names[m], .threads = 1, .init = init_v};
	json_t *r = checker_run(checker_find("linearizable"), &h, &ctx);
	json_decref(init_v);
	history_free(&h);
	const char *e = json_string_value(json_object_get(r, "error"));
	int code = e ? 254 : verdict_exit_code(verdict_of(json_object_get(r, "valid")), false);
	snprintf(why, whylen, "%s", e ? e : "");
	json_decref(r);
	return code;
}

static void run_model(enum model m)
{
	int mismatches = 0, invalid = 0;
	for (int it = 0; it < HISTORIES; it++) {
		struct gop ops[MAXOPS];
		struct buf edn, jsonl;
		buf_init(&edn);
		buf_init(&jsonl);
		bool keyed, init;
		int n = gen_history(m, ops, &edn, &jsonl, &keyed, &init);
		bool want = ref_valid(m, ops, n, init);
		invalid += !want;
		char why[600];
		int ge = check_text(m, edn.data, edn.len, HISTORY_EDN, init, why, sizeof why);
		/* JSONL by check_history on even histories (prefetch), by
		 * checker_run on odd ones (none) */
		int gj = ge != (want ? 0 : 1) ? -1
			 : it % 2 ? check_text(m, jsonl.data, jsonl.len, HISTORY_JSONL, init, why,
					       sizeof why)
				  : check_file(m, jsonl.data, jsonl.len, init, why, sizeof why);
		if (ge != (want ? 0 : 1) || gj != (want ? 0 : 1)) {
			if (mismatches++ < 3)
				print_error("%s: reference says %s, EDN %d, JSONL %d (%s)%s\n%s\n%s\n",
					    model_names[m], want ? "valid" : "invalid", ge, gj, why,
					    init ? " with --init {1 0}" : "", edn.data, jsonl.data);
		}
		buf_free(&edn);
		buf_free(&jsonl);
	}
	print_message("# %s: %d histories, %d invalid, %d mismatches\n", model_names[m], HISTORIES,
		      invalid, mismatches);
	/* both verdicts must be common for the comparison to mean much */
	assert_true(invalid > HISTORIES / 20 && invalid < HISTORIES - HISTORIES / 20);
	assert_int_equal(mismatches, 0);
}

static void test_register(void **state) { (void)state; run_model(M_REGISTER); }
static void test_cas_register(void **state) { (void)state; run_model(M_CAS); }
static void test_kv(void **state) { (void)state; run_model(M_KV); }
static void test_mutex(void **state) { (void)state; run_model(M_MUTEX); }
static void test_queue(void **state) { (void)state; run_model(M_QUEUE); }
static void test_set(void **state) { (void)state; run_model(M_SET); }
static void test_multi_register(void **state) { (void)state; run_model(M_MULTI); }


/* ------------------------------- the reductions against the plain search */

/* Histories too long for the brute force but where the plain search
 * (every reduction off) still finishes: kv appends of unique strings with
 * gets and a few puts, or register writes and reads, from a simulated
 * store with some ops info or pending, sometimes one get shown in an
 * impossible order. The verdicts with all reductions must be the plain
 * search's. */
static int gen_medium(bool kv, struct buf *b, int seed_ops)
{
	int nops = seed_ops, nproc = 3 + (int)rnd(4);
	int clock[8] = {0}, pid[8];
	for (int p = 0; p < 8; p++)
		pid[p] = p;
	struct mo {
		int t_inv, t_lin, t_ret, proc, f, type;
		bool applied;
		char res[512];
	} ops[64];
	struct ev evs[64 * 3];
	int ne = 0;
	for (int i = 0; i < nops; i++) {
		struct mo *o = &ops[i];
		int w = (int)rnd((unsigned)nproc);
		o->proc = pid[w];
		o->t_inv = clock[w] + 1 + (int)rnd(5);
		o->t_lin = o->t_inv + 1 + (int)rnd(30);
		o->t_ret = o->t_lin + 1 + (int)rnd(30);
		clock[w] = o->t_ret;
		unsigned r = rnd(100);
		o->f = r < 35 ? 0 : r < 47 ? 1 : 2; /* get/read, put/write, append (kv) */
		if (!kv && o->f == 2)
			o->f = 1;
		unsigned fate = rnd(100);
		o->type = fate < 88 ? OP_OK : fate < 94 ? OP_INFO : OP_INVOKE;
		o->applied = o->type == OP_OK || rnd(2);
		o->res[0] = 0;
		if (o->type != OP_OK)
			pid[w] += 8;
		evs[ne++] = (struct ev){o->t_inv, i, 0};
		evs[ne++] = (struct ev){o->t_lin, i, 1};
		if (o->type != OP_INVOKE)
			evs[ne++] = (struct ev){o->t_ret, i, 2};
	}
	qsort(evs, (size_t)ne, sizeof *evs, cmp_ev);
	char st[512] = "";
	for (int e = 0; e < ne; e++) {
		struct mo *o = &ops[evs[e].op];
		if (evs[e].kind != 1 || !o->applied)
			continue;
		char v[16];
		snprintf(v, sizeof v, "x%dy", evs[e].op);
		if (o->f == 0)
			snprintf(o->res, sizeof o->res, "%s", st);
		else if (o->f == 1)
			snprintf(st, sizeof st, "%s", v);
		else if (strlen(st) + strlen(v) < sizeof st)
			strcat(st, v);
	}
	if (rnd(2)) { /* one impossible get: its last two appends swapped */
		for (int i = nops / 2; i < nops; i++) {
			struct mo *o = &ops[i];
			char *a = strrchr(o->res, 'x');
			if (o->f != 0 || o->type != OP_OK || !kv || !a || a == o->res)
				continue;
			*a = 0;
			char *pa = strrchr(o->res, 'x');
			*a = 'x';
			if (!pa)
				continue;
			char last[16], prev[16];
			snprintf(last, sizeof last, "%s", a);
			snprintf(prev, sizeof prev, "%.*s", (int)(a - pa), pa);
			sprintf(pa, "%s%s", last, prev);
			break;
		}
		if (!kv) /* a register: one read of a value never written */
			for (int i = nops / 2; i < nops; i++)
				if (ops[i].f == 0 && ops[i].type == OP_OK) {
					snprintf(ops[i].res, sizeof ops[i].res, "x999y");
					break;
				}
	}
	buf_puts(b, "[");
	for (int e = 0; e < ne; e++) {
		if (evs[e].kind == 1)
			continue;
		struct mo *o = &ops[evs[e].op];
		bool comp = evs[e].kind == 2;
		const char *type = comp ? op_type_name((enum op_type)o->type) : "invoke";
		const char *fn = kv ? (o->f == 0 ? "get" : o->f == 1 ? "put" : "append")
				    : (o->f == 0 ? "read" : "write");
		if (o->f == 0)
			buf_printf(b, "{:process %d :type :%s :f :%s :value %s%s%s}\n", o->proc, type, fn,
				   comp && o->type == OP_OK ? "\"" : "",
				   comp && o->type == OP_OK ? o->res : "nil",
				   comp && o->type == OP_OK ? "\"" : "");
		else
			buf_printf(b, "{:process %d :type :%s :f :%s :value \"x%dy\"}\n", o->proc, type, fn,
				   evs[e].op);
	}
	buf_puts(b, "]");
	return 0;
}

static int verdict_env(const char *model, const char *text, bool plain)
{
	if (plain) {
		setenv("FAULTLINE_LIN_NO_SHORTCUT", "1", 1);
		setenv("FAULTLINE_LIN_NO_PRUNE", "1", 1);
	}
	char why[600];
	enum model m = !strcmp(model, "kv") ? M_KV : M_REGISTER;
	int v = check_text(m, text, strlen(text), HISTORY_EDN, false, why, sizeof why);
	unsetenv("FAULTLINE_LIN_NO_SHORTCUT");
	unsetenv("FAULTLINE_LIN_NO_PRUNE");
	return v;
}

static void test_reductions_agree(void **state)
{
	(void)state;
	for (int kv = 0; kv < 2; kv++) {
		int invalid = 0, mism = 0, n = 150;
		for (int it = 0; it < n; it++) {
			struct buf b;
			buf_init(&b);
			gen_medium(kv, &b, 24 + (int)rnd(16));
			int a = verdict_env(kv ? "kv" : "register", b.data, false);
			int p = verdict_env(kv ? "kv" : "register", b.data, true);
			invalid += a == 1;
			if (a != p && mism++ < 3)
				print_error("reductions %d, plain %d:\n%s\n", a, p, b.data);
			buf_free(&b);
		}
		print_message("# %s: %d medium histories, %d invalid, %d mismatches\n",
			      kv ? "kv" : "register", n, invalid, mism);
		assert_int_equal(mism, 0);
		assert_true(invalid > n / 10 && invalid < n - n / 10);
	}
}

int main(void)
{
	/* the search's reductions from the first step, so these histories
	 * exercise them (they otherwise wait for a search that works hard) */
	setenv("FAULTLINE_LIN_EAGER", "1", 1);
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),     cmocka_unit_test(test_cas_register),
		cmocka_unit_test(test_kv),           cmocka_unit_test(test_mutex),
		cmocka_unit_test(test_queue),        cmocka_unit_test(test_set),
		cmocka_unit_test(test_multi_register),
		cmocka_unit_test(test_reductions_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
