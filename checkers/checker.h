/*
 * checker.h - the checker interface: judge a history.
 *
 * check() returns a JSON object with at least "valid": true | false |
 * "unknown" and whatever explains the verdict. results.json is
 *   {"valid": <worst>, "checkers": {"<name>": <check result>, ...}}
 * The linearizability checker's result is:
 *   {"valid": ..., "model": "cas-register", "keys": <n checked>,
 *    "unfinished_keys": ["k", ...],            (present when unknown)
 *    "failures": [ {                          (present when invalid)
 *        "key": "7" | null,
 *        "message": "read 3 of key 7 cannot follow ...",   (words)
 *        "op": {op json, with "index"},          (op that cannot be linearized)
 *        "prefix": [op index, ...],              (longest linearizable prefix, in order)
 *        "concurrent": [{op json}, ...],         (ops in the window, with invoke & complete times)
 *        "states": ["<model describe>", ...]     (model states reachable at that point)
 *    } ] }
 * In "concurrent", each op json carries "index" (the invoke's index),
 * "process", "f", "value", "type" (completion type), "invoke_time",
 * "complete_time" (ns, -1 if never completed).
 */
#ifndef FAULTLINE_CHECKER_H
#define FAULTLINE_CHECKER_H

#include <jansson.h>
#include <stdbool.h>

struct history;

struct check_opts {
	const char *model;       /* model name for linearizability */
	json_t *init;            /* initial model state or NULL for the model's default */
	double timeout;          /* seconds; 0 = none */
	int threads;             /* 0 = number of cores */
	bool nil_read_unknown;   /* Knossos reading: a nil read constrains nothing */
};

struct checker {
	const char *name;
	json_t *(*check)(const struct history *h, const struct check_opts *o);
};

const struct checker *checker_find(const char *name);

/* Combine verdicts: false beats "unknown" beats true. */
json_t *checker_merge_valid(json_t *a, json_t *b);
/* Map a verdict to the exit code (0/1/2). */
int checker_exit_code(json_t *valid);

#endif
