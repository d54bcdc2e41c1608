/*
 * bench_runner.c - throughput of the runner's own machinery: the real
 * workers, generator and history writer driving an in-process no-op client
 * (defined here, test-only), 10 workers for 10 s, no nodes. Whatever this
 * reaches is the ceiling the harness puts on any database; the goal is
 * >= 100,000 ops/s (200,000 history lines/s) on a 2-core machine.
 * BENCH_SECONDS overrides the duration. The history written is checked to
 * hold exactly two lines per op.
 */
#include "client.h"
#include "config.h"
#include "history.h"
#include "runner.h"
#include "util.h"
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int noop_token;

static void *noop_open(const struct test *t, int node, char *err, size_t errlen)
{
	(void)t, (void)node, (void)err, (void)errlen;
	return &noop_token;
}

/* A register that always answers at once: reads see 0, writes and cas
 * succeed. */
static void noop_invoke(void *client, const struct op *inv, struct op *out)
{
	(void)client;
	if (inv->f && !strcmp(inv->f, "read")) {
		json_decref(out->value);
		out->value = json_integer(0);
	}
	out->type = OP_OK;
}

static void noop_close(void *client) { (void)client; }

static const struct client_ops noop_client = {
	.name = "noop", .open = noop_open, .invoke = noop_invoke, .close = noop_close,
};

static long count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long n = 0;
	int c;
	char chunk[1 << 16];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		for (size_t i = 0; i < got; i++)
			n += chunk[i] == '\n';
	(void)c;
	fclose(f);
	return n;
}

int main(void)
{
	double secs = 10;
	const char *e = getenv("BENCH_SECONDS");
	if (e)
		parse_double(e, 0.1, 3600, &secs);
	struct test t;
	test_init_defaults(&t);
	t.nodes = xcalloc(1, sizeof *t.nodes);
	t.nodes[0].name = xstrdup("n1");
	t.nodes[0].host = xstrdup("127.0.0.1");
	t.nodes[0].ssh_port = 22;
	t.n_nodes = 1;
	t.concurrency = 10;
	t.seed = 1;
	char dir[] = "/tmp/faultline-bench-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	struct runner_stats st;
	memset(&st, 0, sizeof st);
	int64_t start = now_ns();
	int r = runner_run_local(&t, &noop_client, workload_find("register"), dir, secs, &st);
	double elapsed = (double)(now_ns() - start) / 1e9;
	long ops = (long)(atomic_load(&st.ok) + atomic_load(&st.fail) + atomic_load(&st.info));
	char *hist = xasprintf("%s/history.jsonl", dir);
	long lines = count_lines(hist);
	printf("BENCH runner_noop_ops_per_s: %.0f (goal >= 100000)\n", ops / elapsed);
	printf("# %ld ops, %ld history lines in %.1f s, concurrency %d\n", ops, lines, elapsed,
	       t.concurrency);
	unlink(hist);
	rmdir(dir);
	free(hist);
	test_free(&t);
	if (r < 0 || lines != 2 * ops) {
		fprintf(stderr, "bench_runner: history has %ld lines for %ld ops\n", lines, ops);
		return 1;
	}
	return 0;
}
