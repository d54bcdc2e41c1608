/*
 * progress.c - what a run shows while it runs: on a terminal one line
 * rewritten in place (elapsed/limit, ops/s over the last interval, ok/fail/
 * info counts, the faults active now); otherwise, e.g. in CI logs, a plain
 * log line every few seconds so the log stays readable.
 */
#include "nemesis.h"
#include "runner.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct progress {
	FILE *out;
	bool tty;
	double limit_s;
	struct runner_stats *st;
	struct nemesis_schedule *ns;
	int64_t last_ns;  /* elapsed at the last print */
	int64_t last_ops;
	bool printed;
};

struct progress *progress_new(FILE *stream, double limit_s, struct runner_stats *st,
			      struct nemesis_schedule *ns)
{
	struct progress *p = xcalloc(1, sizeof *p);
	p->out = stream;
	p->tty = isatty(fileno(stream));
	p->limit_s = limit_s;
	p->st = st;
	p->ns = ns;
	return p;
}

void progress_tick(struct progress *p, int64_t elapsed_ns)
{
	int64_t every = p->tty ? 500000000LL : 5000000000LL;
	if (elapsed_ns - p->last_ns < every)
		return;
	int64_t ok = atomic_load(&p->st->ok), fl = atomic_load(&p->st->fail),
		info = atomic_load(&p->st->info);
	int64_t ops = ok + fl + info;
	double rate = (double)(ops - p->last_ops) * 1e9 / (double)(elapsed_ns - p->last_ns);
	p->last_ns = elapsed_ns;
	p->last_ops = ops;
	char faults[160] = "";
	if (p->ns)
		nemesis_schedule_active(p->ns, faults, sizeof faults);
	char line[320];
	snprintf(line, sizeof line, "%5.1f/%.0fs  %7.0f ops/s  ok %lld  fail %lld  info %lld%s%s",
		 (double)elapsed_ns / 1e9, p->limit_s, rate, (long long)ok, (long long)fl,
		 (long long)info, faults[0] ? "  faults: " : "", faults);
	if (p->tty) {
		fprintf(p->out, "\r\033[K%s", line);
		fflush(p->out);
		p->printed = true;
	} else {
		log_info("%s", line);
	}
}

void progress_done(struct progress *p)
{
	if (!p)
		return;
	if (p->tty && p->printed) {
		fputs("\n", p->out);
		fflush(p->out);
	}
	free(p);
}
