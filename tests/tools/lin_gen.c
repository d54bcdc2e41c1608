/*
 * lin_gen.c - generates kv histories that are hard for a linearizability
 * checker, like Porcupine's c50 tests: many processes on few keys, mostly
 * appends of unique strings with gets that return the whole string, a few
 * puts that replace it, and some ops that time out (info) or never
 * complete. A simulated linearizable store produces them: every op gets a
 * linearization point inside its [invoke, complete] interval and the store
 * applies ops in that order, so the history is linearizable by
 * construction. Then, on request, gets are made impossible in a way only
 * a search can tell: two appends that did not overlap in time are shown
 * in the wrong order (--bad one: one get of the history; --bad every: one
 * get on every key).
 *
 *   lin_gen [--ops N] [--keys K] [--procs P] [--seed S] [--format jsonl|edn]
 *           [--puts PCT] [--gets PCT] [--info PCT] [--bad none|one|every]
 *
 * Writes the history to stdout: JSONL with a "key" field, or Jepsen EDN
 * (one op map per line in a vector, values as independent [key value]
 * tuples). Exit 0, or 254 for bad arguments.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

enum { GET, PUT, APPEND };
enum { OK, FAIL, INFO, PENDING };

struct gop {
	int64_t t_inv, t_lin, t_ret;
	int proc, key, f, outcome;
	bool applied;
	uint32_t arg;            /* put/append value number */
	char *result;            /* get result */
	uint32_t *seen;          /* get: the append numbers after the last put, in order */
	size_t nseen;
	uint32_t base;           /* get: the put it sees (0: none) */
};

struct event {
	int64_t t;
	uint32_t op;
	int kind; /* 0 invoke, 1 linearize, 2 complete */
};

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->kind - y->kind;
}

struct keystate {
	uint32_t base;           /* value number of the last put, 0 none */
	uint32_t *apps;          /* appends since */
	size_t n, cap;
};

static void value_text(char *out, size_t n, const struct gop *ops, uint32_t num, bool put)
{
	const struct gop *o = &ops[num - 1];
	snprintf(out, n, "%s %d %" PRIu32 " y", put ? "p" : "x", o->proc, num);
}

/* The string a get shows: its put's value, then its appends. */
static char *render(const struct gop *ops, uint32_t base, const uint32_t *apps, size_t n)
{
	size_t cap = 64 + n * 24, len = 0;
	char *s = malloc(cap);
	s[0] = 0;
	char v[40];
	if (base) {
		value_text(v, sizeof v, ops, base, true);
		len += (size_t)snprintf(s + len, cap - len, "%s", v);
	}
	for (size_t i = 0; i < n; i++) {
		value_text(v, sizeof v, ops, apps[i], false);
		len += (size_t)snprintf(s + len, cap - len, "%s", v);
	}
	return s;
}

/* Make get g impossible: swap two appends it shows that did not overlap
 * (the first completed before the second was invoked). */
static bool make_impossible(struct gop *ops, struct gop *g)
{
	for (size_t tries = 0; tries < 64 && g->nseen >= 2; tries++) {
		size_t i = (size_t)(rng() % (g->nseen - 1));
		for (size_t j = i + 1; j < g->nseen; j++) {
			const struct gop *a = &ops[g->seen[i] - 1], *b = &ops[g->seen[j] - 1];
			if (a->outcome == OK && a->t_ret < b->t_inv) {
				uint32_t *sw = malloc(g->nseen * sizeof *sw);
				memcpy(sw, g->seen, g->nseen * sizeof *sw);
				sw[i] = g->seen[j];
				sw[j] = g->seen[i];
				free(g->result);
				g->result = render(ops, g->base, sw, g->nseen);
				free(sw);
				return true;
			}
		}
	}
	return false;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	fputs(s, f); /* letters, digits, spaces only */
	fputc('"', f);
}

static void write_event(FILE *f, bool edn, const struct gop *ops, const struct gop *o, int kind)
{
	static const char *fname[] = {"get", "put", "append"};
	static const char *tname[] = {"ok", "fail", "info"};
	const char *type = kind == 0 ? "invoke" : tname[o->outcome];
	char v[40] = "";
	const char *val = NULL;
	if (o->f == GET) {
		val = kind == 2 && o->outcome == OK ? o->result : NULL;
	} else {
		value_text(v, sizeof v, ops, (uint32_t)(o - ops) + 1, o->f == PUT);
		val = v;
	}
	if (edn) {
		fprintf(f, "{:type :%s, :f :%s, :process %d, :time %" PRId64 ", :value [%d ", type,
			fname[o->f], o->proc, kind == 0 ? o->t_inv : o->t_ret, o->key);
		if (val)
			json_str(f, val);
		else
			fputs("nil", f);
		fputs(kind == 2 && o->outcome == INFO ? "], :error :timeout}\n" : "]}\n", f);
	} else {
		fprintf(f, "{\"type\":\"%s\",\"process\":%d,\"time\":%" PRId64 ",\"f\":\"%s\",\"key\":\"%d\",\"value\":",
			type, o->proc, kind == 0 ? o->t_inv : o->t_ret, fname[o->f], o->key);
		if (val)
			json_str(f, val);
		else
			fputs("null", f);
		fputs(kind == 2 && o->outcome == INFO ? ",\"error\":\"timeout\"}\n" : "}\n", f);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: lin_gen [--ops N] [--keys K] [--procs P] [--seed S] [--format jsonl|edn]\n"
			"               [--puts PCT] [--gets PCT] [--info PCT] [--bad none|one|every]\n");
	return 254;
}

int main(int argc, char **argv)
{
	long nops = 2000, nkeys = 10, nprocs = 50, puts = 5, gets = 35, info = 1;
	uint64_t seed = 1;
	bool edn = false;
	int bad = 0; /* 0 none, 1 one, 2 every key */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return usage();
		i++;
		if (!strcmp(a, "--ops"))
			nops = atol(v);
		else if (!strcmp(a, "--keys"))
			nkeys = atol(v);
		else if (!strcmp(a, "--procs"))
			nprocs = atol(v);
		else if (!strcmp(a, "--seed"))
			seed = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--puts"))
			puts = atol(v);
		else if (!strcmp(a, "--gets"))
			gets = atol(v);
		else if (!strcmp(a, "--info"))
			info = atol(v);
		else if (!strcmp(a, "--format") && (!strcmp(v, "jsonl") || !strcmp(v, "edn")))
			edn = !strcmp(v, "edn");
		else if (!strcmp(a, "--bad") && !strcmp(v, "none"))
			bad = 0;
		else if (!strcmp(a, "--bad") && !strcmp(v, "one"))
			bad = 1;
		else if (!strcmp(a, "--bad") && !strcmp(v, "every"))
			bad = 2;
		else
			return usage();
	}
	if (nops <= 0 || nkeys <= 0 || nprocs <= 0 || puts < 0 || gets < 0 || info < 0 ||
	    puts + gets > 100)
		return usage();
	rng_state = seed * 0x2545F4914F6CDD1DULL + 1;
	struct gop *ops = calloc((size_t)nops, sizeof *ops);
	struct event *ev = malloc((size_t)nops * 3 * sizeof *ev);
	int64_t *clock = calloc((size_t)nprocs, sizeof *clock);
	int *pid = malloc((size_t)nprocs * sizeof *pid);
	struct keystate *ks = calloc((size_t)nkeys, sizeof *ks);
	if (!ops || !ev || !clock || !pid || !ks)
		return 255;
	for (long p = 0; p < nprocs; p++)
		pid[p] = (int)p;
	for (long i = 0; i < nops; i++) {
		/* the least recently busy worker goes next: all stay concurrent */
		long w = 0;
		for (long p = 1; p < nprocs; p++)
			if (clock[p] < clock[w])
				w = p;
		struct gop *o = &ops[i];
		o->proc = pid[w];
		o->t_inv = clock[w] + 1 + (int64_t)(rng() % 1000);
		o->t_lin = o->t_inv + 1 + (int64_t)(rng() % 20000);
		o->t_ret = o->t_lin + 1 + (int64_t)(rng() % 20000);
		clock[w] = o->t_ret;
		o->key = (int)(rng() % (uint64_t)nkeys);
		unsigned r = (unsigned)(rng() % 100);
		o->f = r < (unsigned)gets ? GET : r < (unsigned)(gets + puts) ? PUT : APPEND;
		o->arg = (uint32_t)i + 1;
		unsigned fate = (unsigned)(rng() % 100);
		o->outcome = fate < (unsigned)info ? (rng() & 1 ? INFO : PENDING) : OK;
		o->applied = o->outcome == OK || (rng() & 1);
		if (o->outcome != OK)
			pid[w] += (int)nprocs; /* an info retires the process (Jepsen) */
		ev[3 * i] = (struct event){o->t_inv, (uint32_t)i, 0};
		ev[3 * i + 1] = (struct event){o->t_lin, (uint32_t)i, 1};
		ev[3 * i + 2] = (struct event){o->t_ret, (uint32_t)i, 2};
	}
	qsort(ev, (size_t)nops * 3, sizeof *ev, cmp_event);
	/* the store, in linearization order */
	for (size_t e = 0; e < (size_t)nops * 3; e++) {
		if (ev[e].kind != 1)
			continue;
		struct gop *o = &ops[ev[e].op];
		struct keystate *k = &ks[o->key];
		if (!o->applied)
			continue;
		if (o->f == GET) {
			o->base = k->base;
			o->nseen = k->n;
			o->seen = malloc((k->n + 1) * sizeof *o->seen);
			memcpy(o->seen, k->apps, k->n * sizeof *o->seen);
			o->result = render(ops, k->base, k->apps, k->n);
		} else if (o->f == PUT) {
			k->base = o->arg;
			k->n = 0;
		} else {
			if (k->n == k->cap) {
				k->cap = k->cap ? k->cap * 2 : 64;
				k->apps = realloc(k->apps, k->cap * sizeof *k->apps);
			}
			k->apps[k->n++] = o->arg;
		}
	}
	/* impossible gets: one in the middle of the history, or one per key */
	if (bad) {
		bool *done = calloc((size_t)nkeys, sizeof *done);
		long start = bad == 1 ? nops / 2 : nops / 3;
		for (long i = start, left = bad == 1 ? 1 : nkeys; i < nops && left > 0; i++) {
			struct gop *o = &ops[i];
			if (o->f == GET && o->outcome == OK && !done[o->key] && make_impossible(ops, o)) {
				done[o->key] = true;
				left--;
			}
		}
		free(done);
	}
	FILE *f = stdout;
	if (edn)
		fputs("[", f);
	for (size_t e = 0; e < (size_t)nops * 3; e++) {
		struct gop *o = &ops[ev[e].op];
		if (ev[e].kind == 1 || (ev[e].kind == 2 && o->outcome == PENDING))
			continue;
		write_event(f, edn, ops, o, ev[e].kind);
	}
	if (edn)
		fputs("]\n", f);
	for (long i = 0; i < nops; i++) {
		free(ops[i].result);
		free(ops[i].seen);
	}
	for (long k = 0; k < nkeys; k++)
		free(ks[k].apps);
	free(ks);
	free(ops);
	free(ev);
	free(clock);
	free(pid);
	return fflush(f) == 0 ? 0 : 255;
}
