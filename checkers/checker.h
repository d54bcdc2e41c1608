/*
 * checker.h - the checker interface (v2, streaming) and the checker
 * registry.
 *
 * A checker judges one history. It sees the ops one at a time, in history
 * order, through add(), and gives its verdict in finish(); it never needs
 * the history held in memory by anyone else. check_history() (check.h)
 * reads a history once and feeds every op to every checker of the test: it
 * is the one judging path of `faultline run` and `faultline check`.
 *
 * A result is a JSON object:
 *   {"valid": true | false | "unknown",
 *    "failures": [{"kind": "...", "message": "in words", ...}, ...],
 *    ...whatever else explains the verdict}
 * Every failure carries a "kind" (the report picks its drawing by kind and
 * shows readable JSON for a kind it does not know) and a one-line
 * "message". A checker that could not decide says "unknown", never true.
 *
 * Adding a checker: one file in checkers/ defining a struct checker, and
 * one line in the table of checker.c.
 */
#ifndef FAULTLINE_CHECKER_H
#define FAULTLINE_CHECKER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct op;

/* What a checker knows besides the ops. Everything is optional. */
struct check_ctx {
	const char *model;       /* linearizability model (NULL: the workload's, else cas-register) */
	json_t *init;            /* initial model state, or NULL for the model's default */
	double timeout;          /* seconds for the whole check (reading included); 0 none */
	int threads;             /* 0 = number of cores */
	bool nil_read_unknown;   /* Knossos reading: a nil read constrains nothing */
	bool lenient;            /* pairing problems (a completion without an invoke, a
				  * second invoke of an open process, a completion
				  * whose f differs) are counted, not refused */
	json_t *opts;            /* checker_opts: {"<checker name>": {...}} or NULL */
	json_t *test;            /* the run's test.json, or NULL (an imported history) */
};

struct checker {
	const char *name;
	const char *summary;     /* one line, for --help */
	/* Validate this checker's options (checker_opts.<name>, may be NULL)
	 * before any node is touched. NULL: it takes none. 0, or -1 with err. */
	int (*check_opts)(json_t *opts, char *err, size_t errlen);
	/* Start judging a history. NULL with err if ctx is unusable (unknown
	 * model, bad initial state): a 254 error. */
	void *(*begin)(const struct check_ctx *ctx, char *err, size_t errlen);
	/* One op, in history order (nemesis ops included: skip what does not
	 * concern you). The op is borrowed. Returns 0, or -1 with err for
	 * input this checker cannot judge (an op its model does not know):
	 * a 254 error, never a verdict. */
	int (*add)(void *state, const struct op *op, char *err, size_t errlen);
	/* Optional (NULL: none): add() will see this op soon, a few ops from
	 * now; every op goes through here once, in order, before add(). A
	 * hint to start fetching what add() will touch (a table far larger
	 * than the cache); it must not change any verdict. */
	void (*prefetch)(void *state, const struct op *op);
	/* Reader flags (history.h: HISTORY_VALUE_TEXT, HISTORY_SCALAR_TEXT)
	 * for values this checker takes as text and tokens instead of trees
	 * (op->value NULL); check.c asks the reader for those every judge of
	 * the history takes. 0: trees only. */
	unsigned read_text;
	/* The verdict (new reference); frees state. */
	json_t *(*finish)(void *state);
	/* Give up without a verdict; frees state. */
	void (*abort)(void *state);
};

const struct checker *checker_find(const char *name);
/* The known checker names, comma-separated (for errors and --help). */
const char *checker_names(void);
struct history;
/* Judge a loaded history with one checker (tests, small tools): begin,
 * add every op, finish. Input the checker refuses gives
 * {"valid": "unknown", "error": "..."}. */
json_t *checker_run(const struct checker *c, const struct history *h,
		    const struct check_ctx *ctx);
/* This checker's options object in ctx->opts (borrowed), or NULL. */
json_t *checker_opts(const struct check_ctx *ctx, const char *name);

#endif
