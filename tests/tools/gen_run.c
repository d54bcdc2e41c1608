/*
 * gen_run.c - writes a synthetic run directory (test.json, history.jsonl,
 * results.json, nodes/<node>/etcd.log) shaped like what `faultline run`
 * leaves, for the report benchmark (100,000 ops) and as a fallback input for
 * report tests. It simulates register clients on 10 processes with
 * partitions and a kill, latency spikes and timeouts during faults, and an
 * invalid linearizability result whose counterexample is a real window of
 * the generated history. Nothing here judges anything: it only produces
 * inputs for the report writers.
 *
 *   gen_run DIR [--ops N] [--seed S] [--xss]
 *
 * --xss puts hostile strings (<script>alert(1)</script> and friends) into
 * the test name, an op value, an error and a log file name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define XSS "<script>alert(1)</script>"

struct ev {
	int64_t time;
	int op;        /* op number */
	bool complete;
};

struct gop {
	int64_t t0, t1;
	int process, f, key; /* f: 0 read 1 write 2 cas */
	int v, v2;
	int type;            /* 0 ok 1 fail 2 info */
	int64_t inv_index;
};

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static double urand(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static int cmp_ev(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->time != y->time)
		return (x->time > y->time) - (x->time < y->time);
	return (x->op > y->op) - (x->op < y->op);
}

static FILE *open_in(const char *dir, const char *name)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (!f) {
		fprintf(stderr, "gen_run: %s: %s\n", p, strerror(errno));
		exit(1);
	}
	return f;
}

static const char *fname[] = {"read", "write", "cas"};
static const char *tname[] = {"ok", "fail", "info"};

static void put_value(FILE *f, const struct gop *o, bool completion, bool xss)
{
	if (xss) {
		fputs("\"" XSS "\"", f);
		return;
	}
	if (o->f == 0)
		fprintf(f, completion && o->type == 0 && o->v >= 0 ? "%d" : "null", o->v);
	else if (o->f == 1)
		fprintf(f, "%d", o->v);
	else
		fprintf(f, "[%d,%d]", o->v, o->v2);
}

/* Faults: partitions at 10-15 s, 30-36 s, 50-54 s of a 60 s run, a kill
 * at 40-43 s (scaled to the run's duration). */
static const double fault_at[][2] = {{10, 15}, {30, 36}, {50, 54}, {40, 43}};

static bool in_fault(int64_t t, int64_t dur)
{
	double s = (double)t / (double)dur * 60.0;
	for (int i = 0; i < 4; i++)
		if (s >= fault_at[i][0] && s < fault_at[i][1])
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	long n = 1000;
	bool xss = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			n = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			rng = strtoull(argv[++i], NULL, 10) * 2654435761u + 1;
		else if (!strcmp(argv[i], "--xss"))
			xss = true;
		else
			dir = argv[i];
	}
	if (!dir || n < 20) {
		fprintf(stderr, "usage: gen_run DIR [--ops N>=20] [--seed S] [--xss]\n");
		return 2;
	}
	char p[4096];
	mkdir(dir, 0755);
	snprintf(p, sizeof p, "%s/nodes", dir);
	mkdir(p, 0755);

	const int conc = 10;
	const int64_t dur = 60000000000ll; /* 60 s */
	const int64_t gap = dur / n;
	struct gop *ops = calloc((size_t)n, sizeof *ops);
	struct ev *evs = calloc((size_t)n * 2, sizeof *evs);
	int64_t busy_until[10] = {0};
	int proc_of[10];
	for (int w = 0; w < conc; w++)
		proc_of[w] = w;
	for (long i = 0; i < n; i++) {
		struct gop *o = &ops[i];
		int w = (int)(i % conc);
		o->t0 = i * gap + (int64_t)(urand() * (double)gap * 0.5);
		if (o->t0 <= busy_until[w])
			o->t0 = busy_until[w] + 1000;
		o->process = proc_of[w];
		o->f = (int)(rnd() % 3);
		o->key = (int)(rnd() % 5);
		o->v = (int)(rnd() % 5);
		o->v2 = (int)(rnd() % 5);
		bool fault = in_fault(o->t0, dur);
		double lat = 300000.0 * (1.0 + 6.0 * urand() * urand());
		if (fault)
			lat *= 1.0 + 30.0 * urand();
		o->type = 0; /* ok or fail decided below, in completion order */
		if (fault && rnd() % 8 == 0) {
			o->type = 2;
			lat = 50000000.0; /* a 50 ms timeout */
		}
		o->t1 = o->t0 + (int64_t)lat;
		busy_until[w] = o->t1;
		if (o->type == 2)
			proc_of[w] += conc; /* Jepsen: a process whose op is info is retired */
		evs[2 * i] = (struct ev){o->t0, (int)i, false};
		evs[2 * i + 1] = (struct ev){o->t1, (int)i, true};
	}
	qsort(evs, (size_t)n * 2, sizeof *evs, cmp_ev);

	/* Outcomes: each ok op takes effect at its completion (inside its
	 * interval), so the history is linearizable as generated; info ops
	 * take no effect (allowed: their outcome is unknown). */
	int state[5] = {-1, -1, -1, -1, -1}, prev[5] = {-1, -1, -1, -1, -1};
	long bad = -1;
	for (size_t e2 = 0; e2 < (size_t)n * 2; e2++) {
		struct gop *o = &ops[evs[e2].op];
		if (!evs[e2].complete || o->type == 2)
			continue;
		int *st = &state[o->key];
		if (o->f == 0) {
			o->v = *st;
			/* The anomaly: one read in the second half returns the
			 * value its key held before the last write - a stale read,
			 * as from a node cut off from the majority. */
			if (bad < 0 && evs[e2].op >= n / 2 && prev[o->key] >= 0 && prev[o->key] != *st) {
				o->v = prev[o->key];
				bad = evs[e2].op;
			}
		} else if (o->f == 1 || (o->f == 2 && *st == o->v)) {
			if (*st != (o->f == 1 ? o->v : o->v2))
				prev[o->key] = *st;
			*st = o->f == 1 ? o->v : o->v2;
			o->type = 0;
		} else {
			o->type = 1; /* cas: the register did not hold the expected value */
		}
	}
	if (bad < 0)
		bad = n / 2;
	long xss_op = n / 3;

	FILE *h = open_in(dir, "history.jsonl");
	int64_t index = 0;
	size_t e = 0;
	/* Nemesis ops are merged in by time. */
	struct { int64_t t; const char *line; } nem[8];
	int nn = 0;
	static const char *grudge[] = {
		"{\"n1\":[\"n3\",\"n4\",\"n5\"],\"n2\":[\"n3\",\"n4\",\"n5\"],\"n3\":[\"n1\",\"n2\"],\"n4\":[\"n1\",\"n2\"],\"n5\":[\"n1\",\"n2\"]}",
		"{\"n4\":[\"n1\",\"n2\",\"n3\",\"n5\"],\"n1\":[\"n4\"],\"n2\":[\"n4\"],\"n3\":[\"n4\"],\"n5\":[\"n4\"]}",
		"{\"n1\":[\"n2\",\"n3\",\"n4\",\"n5\"],\"n2\":[\"n1\"],\"n3\":[\"n1\"],\"n4\":[\"n1\"],\"n5\":[\"n1\"]}"};
	char *lines[8];
	for (int i = 0; i < 4; i++) {
		bool kill = i == 3;
		int64_t a = (int64_t)(fault_at[i][0] / 60.0 * (double)dur);
		int64_t b = (int64_t)(fault_at[i][1] / 60.0 * (double)dur);
		size_t sz = 1024;
		lines[2 * i] = malloc(sz);
		lines[2 * i + 1] = malloc(sz);
		snprintf(lines[2 * i], sz, "\"f\":\"start-%s\",\"value\":%s", kill ? "kill" : "partition",
			 kill ? "[\"n2\",\"n5\"]" : grudge[i]);
		snprintf(lines[2 * i + 1], sz, "\"f\":\"stop-%s\",\"value\":%s", kill ? "kill" : "partition",
			 kill ? "[\"n2\",\"n5\"]" : "null");
		nem[nn].t = a;
		nem[nn++].line = lines[2 * i];
		nem[nn].t = b;
		nem[nn++].line = lines[2 * i + 1];
	}
	for (int i = 0; i < nn; i++) /* sort the 8 nemesis events by time */
		for (int j = i + 1; j < nn; j++)
			if (nem[j].t < nem[i].t) {
				int64_t t = nem[i].t;
				const char *l = nem[i].line;
				nem[i] = nem[j];
				nem[j].t = t;
				nem[j].line = l;
			}
	int ni = 0;
	while (e < (size_t)n * 2 || ni < nn) {
		if (ni < nn && (e == (size_t)n * 2 || nem[ni].t <= evs[e].time)) {
			fprintf(h, "{\"index\":%" PRId64 ",\"time\":%" PRId64 ",\"type\":\"invoke\",\"process\":\"nemesis\",%s}\n",
				index++, nem[ni].t, nem[ni].line);
			fprintf(h, "{\"index\":%" PRId64 ",\"time\":%" PRId64 ",\"type\":\"info\",\"process\":\"nemesis\",%s}\n",
				index++, nem[ni].t + 20000000, nem[ni].line);
			ni++;
			continue;
		}
		struct ev *ev = &evs[e++];
		struct gop *o = &ops[ev->op];
		bool hostile = xss && ev->op == xss_op;
		if (!ev->complete)
			o->inv_index = index;
		fprintf(h, "{\"index\":%" PRId64 ",\"time\":%" PRId64 ",\"type\":\"%s\",\"process\":%d,\"f\":\"%s\",\"key\":\"%d\",\"value\":",
			index++, ev->time, ev->complete ? tname[o->type] : "invoke", o->process, fname[o->f], o->key);
		put_value(h, o, ev->complete, hostile);
		if (ev->complete)
			fprintf(h, ",\"node\":\"n%d\"", 1 + o->process % 5);
		if (ev->complete && o->type == 2)
			fputs(hostile ? ",\"error\":\"<img src=x onerror=alert(2)>\"" : ",\"error\":\"timeout\"", h);
		if (ev->complete && o->type == 1)
			fputs(",\"error\":\"compare failed\"", h);
		fputs("}\n", h);
	}
	fclose(h);

	FILE *t = open_in(dir, "test.json");
	fprintf(t, "{\"name\":\"%s\",\"db\":\"etcd\",\"workload\":\"register\","
		   "\"nodes\":[{\"name\":\"n1\",\"host\":\"10.213.131.11\"},{\"name\":\"n2\",\"host\":\"10.213.131.12\"},"
		   "{\"name\":\"n3\",\"host\":\"10.213.131.13\"},{\"name\":\"n4\",\"host\":\"10.213.131.14\"},"
		   "{\"name\":\"n5\",\"host\":\"10.213.131.15\"}],"
		   "\"concurrency\":%d,\"time_limit\":60,\"seed\":42,\"nemesis\":[\"partition\",\"kill\"],"
		   "\"read_mode\":\"serializable\",\"synthetic\":\"generated by tests/tools/gen_run\"}\n",
		xss ? "synthetic <img src=x onerror=alert(3)>" : "synthetic-register", conc);
	fclose(t);

	/* A stand-in results.json shaped like the linearizability checker's
	 * (checkers/checker.h), so the report can be exercised without running
	 * the checker; `faultline check` on history.jsonl gives the real one.
	 * The window: ops invoked within 3 ms before the bad read's completion
	 * and completed after its invoke. */
	FILE *r = open_in(dir, "results.json");
	struct gop *b = &ops[bad];
	fprintf(r, "{\"valid\":false,\"checkers\":{\"linearizable\":{\"valid\":false,\"model\":\"cas-register\",\"keys\":5,"
		   "\"failures\":[{\"key\":\"%d\",\"message\":\"read %d of key %d by process %d cannot follow any order of the "
		   "concurrent ops: a stale read\",",
		b->key, b->v, b->key, b->process);
	fprintf(r, "\"op\":{\"index\":%" PRId64 ",\"process\":%d,\"f\":\"read\",\"value\":%d,\"type\":\"ok\","
		   "\"invoke_time\":%" PRId64 ",\"complete_time\":%" PRId64 "},",
		b->inv_index, b->process, b->v, b->t0, b->t1);
	fputs("\"prefix\":[", r);
	int np = 0;
	for (long i = bad - 8; i < bad; i++)
		if (i >= 0 && ops[i].t1 < b->t0)
			fprintf(r, np++ ? ",%" PRId64 : "%" PRId64, ops[i].inv_index);
	fputs("],\"concurrent\":[", r);
	int nc = 0;
	for (long i = bad - 10; i <= bad + 10 && i < n; i++) {
		if (i < 0 || ops[i].t0 > b->t1 || ops[i].t1 < b->t0 - 3000000)
			continue;
		struct gop *o = &ops[i];
		fprintf(r, "%s{\"index\":%" PRId64 ",\"process\":%d,\"f\":\"%s\",\"value\":", nc++ ? "," : "",
			o->inv_index, o->process, fname[o->f]);
		put_value(r, o, true, false);
		fprintf(r, ",\"type\":\"%s\",\"invoke_time\":%" PRId64 ",\"complete_time\":%" PRId64 "}",
			tname[o->type], o->t0, o->type == 2 ? -1 : o->t1);
	}
	fprintf(r, "],\"states\":[\"%d\"]}]},\"perf\":{\"valid\":true}}}\n", state[b->key]);
	fclose(r);

	const char *nodes[] = {"n1", "n2", "n3", "n4", "n5"};
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/nodes/%s", dir, nodes[i]);
		mkdir(p, 0755);
		snprintf(p, sizeof p, "nodes/%s/etcd.log", nodes[i]);
		FILE *l = open_in(dir, p);
		fprintf(l, "synthetic etcd log of %s\n", nodes[i]);
		fclose(l);
	}
	if (xss) {
		FILE *l = open_in(dir, "nodes/n1/" "<img src=x onerror=alert(4)>.log");
		fclose(l);
	}
	for (int i = 0; i < 8; i++)
		free(lines[i]);
	free(ops);
	free(evs);
	return 0;
}
