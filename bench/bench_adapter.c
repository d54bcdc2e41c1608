/*
 * bench_adapter.c - what the adapter path (src/db/adapter_client.c) costs
 * faultline per op on the controller: the real workers, generator and
 * history writer drive (a) the adapter client with adapters that answer at
 * once (build/tests/tools/adapterx, so nearly all the time left is
 * faultline's) and (b) an in-process client that does nothing, no nodes.
 * faultline's own CPU time (getrusage RUSAGE_SELF: every thread of this
 * process, none of the adapters') per op, (a) minus (b), is the cost of
 * going through an adapter: encoding the request, the pipe round trip's
 * system calls, parsing the reply. Goal: <= 50 us per op. Also printed:
 * the round trip's wall time with one worker (what an op's latency gains,
 * scheduling of the adapter process included). BENCH_SECONDS sets each
 * phase's length (default 5).
 */
#include "adapter.h"
#include "client.h"
#include "config.h"
#include "history.h"
#include "runner.h"
#include "util.h"
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int noop_token;

static void *noop_open(const struct test *t, int node, char *err, size_t errlen)
{
	(void)t, (void)node, (void)err, (void)errlen;
	return &noop_token;
}

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

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

struct phase {
	long ops;
	double cpu_us_per_op, wall_us_per_op, ops_per_s;
};

static int run_phase(struct test *t, const struct client_ops *c, double secs, struct phase *ph)
{
	char dir[] = "/tmp/faultline-bench-adapter-XXXXXX";
	if (!mkdtemp(dir))
		return -1;
	struct runner_stats st;
	memset(&st, 0, sizeof st);
	double cpu0 = cpu_seconds();
	int64_t t0 = now_ns();
	int r = runner_run_local(t, c, workload_find("register"), dir, secs, &st);
	double wall = (double)(now_ns() - t0) / 1e9;
	double cpu = cpu_seconds() - cpu0;
	ph->ops = (long)(atomic_load(&st.ok) + atomic_load(&st.fail) + atomic_load(&st.info));
	ph->cpu_us_per_op = ph->ops ? cpu * 1e6 / (double)ph->ops : 0;
	ph->wall_us_per_op = ph->ops ? wall * 1e6 * t->concurrency / (double)ph->ops : 0;
	ph->ops_per_s = (double)ph->ops / wall;
	char *hist = xasprintf("%s/history.jsonl", dir);
	unlink(hist);
	rmdir(dir);
	free(hist);
	return r < 0 || ph->ops == 0 || atomic_load(&st.info) > 0 ? -1 : 0;
}

int main(void)
{
	double secs = 5;
	const char *e = getenv("BENCH_SECONDS");
	if (e)
		parse_double(e, 0.1, 3600, &secs);
	const char *build = getenv("BUILD");
	char *tool = xasprintf("%s/tests/tools/adapterx", build && *build ? build : "build");
	if (access(tool, X_OK) < 0) {
		printf("BENCH adapter_cost_us_per_op: skipped (%s not built: make unit)\n", tool);
		free(tool);
		return 0;
	}
	struct test t;
	test_init_defaults(&t);
	t.nodes = xcalloc(1, sizeof *t.nodes);
	t.nodes[0].name = xstrdup("n1");
	t.nodes[0].host = xstrdup("127.0.0.1");
	t.n_nodes = 1;
	t.seed = 1;
	t.client = json_pack("{s:[s]}", "exec", tool);
	char err[300];
	if (adapter_check(&t, t.client, err, sizeof err) < 0) {
		fprintf(stderr, "bench_adapter: %s\n", err);
		return 1;
	}
	struct phase native4, adapter4, native1, adapter1;
	int rc = 0;
	t.concurrency = 4;
	rc |= run_phase(&t, &noop_client, secs, &native4);
	rc |= run_phase(&t, &adapter_client_ops, secs, &adapter4);
	t.concurrency = 1;
	rc |= run_phase(&t, &noop_client, secs, &native1);
	rc |= run_phase(&t, &adapter_client_ops, secs, &adapter1);
	if (rc) {
		fprintf(stderr, "bench_adapter: a phase failed (no ops, or info ops from adapterx)\n");
		return 1;
	}
	printf("BENCH adapter_cost_us_per_op: %.1f (faultline CPU per op through an adapter, above "
	       "the in-process client; goal <= 50)\n",
	       adapter4.cpu_us_per_op - native4.cpu_us_per_op);
	printf("# 4 workers: adapter %.0f ops/s, %.1f us CPU/op; in-process %.0f ops/s, %.1f us CPU/op\n",
	       adapter4.ops_per_s, adapter4.cpu_us_per_op, native4.ops_per_s, native4.cpu_us_per_op);
	printf("BENCH adapter_roundtrip_us: %.1f (wall time per op with 1 worker, adapter process "
	       "scheduling included; in-process client: %.1f)\n",
	       adapter1.wall_us_per_op, native1.wall_us_per_op);
	free(tool);
	test_free(&t);
	return 0;
}
