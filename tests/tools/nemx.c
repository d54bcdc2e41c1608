/*
 * nemx.c - test driver for the nemesis (nemesis/), used by
 * tests/integration/nemesis.sh and bench/nemesis.sh to apply one fault
 * with exact targets, undo it, heal, and time apply/heal. Not part of the
 * CLI: `faultline run` drives the same code through the schedule.
 *
 *   nemx [run flags: --cluster NAME | --nodes ... | CONFIG.json] OP ...
 *     start KIND [SPEC]          apply; prints the applied JSON on stdout
 *     stop KIND APPLIED          undo what start printed
 *     heal [KIND]                heal one kind, or everything
 *     bench KIND SPEC N          N x (start, stop); prints p50/p99 of each, ms
 *
 * SPEC is a JSON spec as the schedule's plan() makes them (e.g.
 * '{"grudge":"groups","groups":[["n1"],["n2","n3"]]}'); without one, plan()
 * picks from the seeded rng (--seed). Exits 0 on success, 1 when the fault
 * failed (error on stderr), 2 on bad usage.
 */
#include "config.h"
#include "nodes.h"
#include "db.h"
#include "generator.h"
#include "nemesis.h"
#include "ssh.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: nemx [--cluster NAME | --nodes ... | CONFIG.json] "
			"start KIND [SPEC] | stop KIND APPLIED | heal [KIND] | bench KIND SPEC N\n");
	return 2;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(double *v, int n, double q)
{
	qsort(v, (size_t)n, sizeof *v, cmp_dbl);
	int k = (int)(q * n + 0.999999) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k];
}

static json_t *parse_json(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &je);
	if (!j)
		fprintf(stderr, "nemx: bad JSON '%s': %s\n", s, je.text);
	return j;
}

static int do_bench(struct nemesis_ctx *c, const struct nemesis *k, json_t *spec, int n)
{
	double *st = xcalloc((size_t)n, sizeof *st), *sp = xcalloc((size_t)n, sizeof *sp);
	char err[2048];
	int rc = 0;
	for (int i = 0; i < n; i++) {
		int64_t t0 = now_ns();
		err[0] = 0;
		json_t *a = k->start(c, spec, err, sizeof err);
		int64_t t1 = now_ns();
		if (!a || err[0]) {
			fprintf(stderr, "nemx: start %d: %s\n", i, err);
			if (a)
				json_decref(a);
			rc = 1;
			break;
		}
		json_t *res = NULL;
		int r = k->stop(c, a, &res, err, sizeof err);
		int64_t t2 = now_ns();
		json_decref(a);
		if (res)
			json_decref(res);
		if (r < 0) {
			fprintf(stderr, "nemx: stop %d: %s\n", i, err);
			rc = 1;
			break;
		}
		st[i] = (double)(t1 - t0) / 1e6;
		sp[i] = (double)(t2 - t1) / 1e6;
	}
	if (rc == 0)
		printf("start_p50 %.1f start_p99 %.1f stop_p50 %.1f stop_p99 %.1f\n", pct(st, n, 0.5),
		       pct(st, n, 0.99), pct(sp, n, 0.5), pct(sp, n, 0.99));
	free(st);
	free(sp);
	return rc;
}

int main(int argc, char **argv)
{
	int op = 1;
	while (op < argc && strcmp(argv[op], "start") && strcmp(argv[op], "stop") &&
	       strcmp(argv[op], "heal") && strcmp(argv[op], "bench"))
		op++;
	if (op >= argc)
		return usage();
	struct test t;
	struct config_error cerr;
	test_init_defaults(&t);
	if (config_apply_args(&t, op - 1, argv + 1, &cerr) < 0 || config_finish(&t, &cerr) < 0) {
		fprintf(stderr, "nemx: %s\n", cerr.msg);
		test_free(&t);
		return 2;
	}
	char err[2048];
	struct ssh_node **ssh = nodes_connect(&t, err, sizeof err);
	if (!ssh) {
		fprintf(stderr, "nemx: %s\n", err);
		test_free(&t);
		return 1;
	}
	const struct db *db = db_find(t.db);
	const char *cmd = argv[op];
	const struct nemesis *k = op + 1 < argc ? nemesis_find(argv[op + 1]) : NULL;
	int rc = 0;
	uint64_t rng = rng_stream(t.seed, 7);
	struct nemesis_ctx c;
	if (nemesis_ctx_init(&c, &t, ssh, db, &rng, err, sizeof err) < 0) {
		fprintf(stderr, "nemx: %s\n", err);
		rc = 1;
		goto out;
	}
	if (!strcmp(cmd, "heal")) {
		err[0] = 0;
		if (op + 1 < argc && !k) {
			rc = usage();
		} else if (k ? k->heal(&c, err, sizeof err) < 0
			     : nemesis_heal_all_err(&t, ssh, db, err, sizeof err) < 0) {
			fprintf(stderr, "nemx: heal: %s\n", err);
			rc = 1;
		}
	} else if (!k) {
		rc = usage();
	} else if (!strcmp(cmd, "start")) {
		json_t *spec = op + 2 < argc ? parse_json(argv[op + 2]) : k->plan(&c);
		if (!spec) {
			rc = 2;
			goto ctx;
		}
		err[0] = 0;
		json_t *a = k->start(&c, spec, err, sizeof err);
		if (a) {
			char *s = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
			printf("%s\n", s);
			free(s);
			json_decref(a);
		}
		if (!a || err[0]) {
			fprintf(stderr, "nemx: start %s: %s\n", k->name, err);
			rc = 1;
		}
		json_decref(spec);
	} else if (!strcmp(cmd, "stop")) {
		json_t *a = op + 2 < argc ? parse_json(argv[op + 2]) : NULL;
		if (!a) {
			rc = 2;
			goto ctx;
		}
		json_t *res = NULL;
		err[0] = 0;
		if (k->stop(&c, a, &res, err, sizeof err) < 0) {
			fprintf(stderr, "nemx: stop %s: %s\n", k->name, err);
			rc = 1;
		}
		if (res) {
			char *s = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
			printf("%s\n", s);
			free(s);
			json_decref(res);
		}
		json_decref(a);
	} else if (!strcmp(cmd, "bench")) {
		long n;
		json_t *spec = op + 3 < argc ? parse_json(argv[op + 2]) : NULL;
		if (!spec || !parse_long(argv[op + 3], 1, 100000, &n)) {
			if (spec)
				json_decref(spec);
			rc = usage();
			goto ctx;
		}
		rc = do_bench(&c, k, spec, (int)n);
		json_decref(spec);
	} else {
		rc = usage();
	}
ctx:
	nemesis_ctx_free(&c);
out:
	ssh_nodes_free(ssh, t.n_nodes);
	test_free(&t);
	return rc;
}
