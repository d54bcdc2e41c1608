/*
 * cmd_check.c - `faultline check`: judge history files (faultline JSONL or
 * Jepsen EDN) outside any run, through check_history, the same path
 * `faultline run` judges with. For a run directory (or a history inside
 * one) the run's test.json names the checkers, the model and their
 * options, so the run's verdict is reproduced from history.jsonl alone;
 * --write then rewrites its results.json, report.html and junit.xml.
 * Exit code: the worst over all files (0 valid, 1 invalid, 2 unknown),
 * 254 for bad input (unreadable file, parse error with line:column,
 * unknown checker or model, an op the model does not know).
 */
#include "check.h"
#include "checker.h"
#include "cmd.h"
#include "edn.h"
#include "history.h"
#include "model.h"
#include "report.h"
#include "results.h"
#include "store.h"
#include "util.h"
#include "workload.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char check_usage[] =
	"usage: faultline check [options] HISTORY... | RUN_DIR [--write]\n"
	"\n"
	"Judge histories: faultline history.jsonl or Jepsen EDN (history.edn, or a\n"
	"vector/list of op maps). For a run directory (or a history inside one) the\n"
	"checkers, model and options come from its test.json, which reproduces the\n"
	"run's verdict; otherwise the linearizable checker judges.\n"
	"\n"
	"options:\n"
	"  --checker C[,C...]    checkers to run (known: %s)\n"
	"  --model M             linearizability model (known: %s;\n"
	"                        default: from the run's test.json, else cas-register)\n"
	"  --init VALUE          initial model state, JSON or EDN (e.g. '{:x 0 :y 0}')\n"
	"  --consistency-models M1,M2\n"
	"                        for the transaction checker: the models to check\n"
	"  --format F            jsonl, edn or auto (default auto: by extension/content)\n"
	"  --timeout S           give up after S seconds, reading included: verdict\n"
	"                        unknown, naming the unfinished keys (default: none)\n"
	"  --nil-read MODE       empty (default): a read of nil reads the empty register;\n"
	"                        unknown: a nil read constrains nothing (Knossos)\n"
	"  --threads N           worker threads (default: number of cores)\n"
	"  --all-keys            linearizable: check every key to the end even once one\n"
	"                        is invalid (default: the other keys get a bounded extra\n"
	"                        time, then are reported unchecked)\n"
	"  --memory-limit SIZE   linearizable: memory cap of one key's search, e.g. 512M,\n"
	"                        2G (default: 1/8 of RAM, at most 1G, shared by the\n"
	"                        threads); a key over it ends unknown\n"
	"  --lenient             count pairing problems (a completion without an invoke,\n"
	"                        a second invoke of an open process, a completion whose f\n"
	"                        differs) instead of refusing the history\n"
	"  --json                print each file's result (one JSON line per file)\n"
	"  --write               with a RUN_DIR: rewrite its results.json, report.html\n"
	"                        and junit.xml\n"
	"  -h, --help            this text\n"
	"\n"
	"exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input\n";

struct check_cli {
	char **checkers;
	size_t n_checkers;
	const char *model;
	const char *init_text;
	const char *consistency;
	enum history_format fmt;
	struct check_ctx ctx;
	bool timeout_given;
	bool all_keys;
	const char *memory_limit;
	bool json;
	bool write;
};

/* The file to read and, when it lives in a run directory, that directory. */
struct target {
	char *history;
	char *run_dir;  /* NULL: not in a run directory */
	json_t *test;   /* its test.json, or NULL */
};

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void target_init(struct target *tg, const char *arg)
{
	memset(tg, 0, sizeof *tg);
	if (is_dir(arg)) {
		tg->run_dir = xstrdup(arg);
		tg->history = store_path(arg, "history.jsonl");
	} else {
		tg->history = xstrdup(arg);
		char *dup = xstrdup(arg);
		tg->run_dir = xstrdup(dirname(dup));
		free(dup);
	}
	char *tj = store_path(tg->run_dir, "test.json");
	tg->test = json_load_file(tj, JSON_ALLOW_NUL, NULL);
	free(tj);
	if (!json_is_object(tg->test)) {
		json_decref(tg->test);
		tg->test = NULL;
		if (!is_dir(arg)) {
			free(tg->run_dir);
			tg->run_dir = NULL;
		}
	}
}

static void target_free(struct target *tg)
{
	free(tg->history);
	free(tg->run_dir);
	json_decref(tg->test);
}

static const struct workload *test_workload(json_t *test)
{
	json_t *w = json_object_get(test, "workload");
	if (json_is_object(w))
		w = json_object_get(w, "name");
	return workload_find(json_string_value(w));
}

/* A workload's model, for a test.json that names none. */
static const char *test_model(json_t *test)
{
	const char *m = json_string_value(json_object_get(test, "model"));
	if (m && model_find(m))
		return m;
	const struct workload *wl = test_workload(test);
	if (wl && wl->model)
		return wl->model;
	const char *w = json_string_value(json_object_get(test, "workload"));
	return w && model_find(w) ? w : NULL;
}

/* Checkers for a file: --checker, else the run's, else its workload's,
 * else linearizable. Returns a NULL-terminated borrowed array. */
static const char **target_checkers(const struct check_cli *cli, const struct target *tg,
				    size_t *n)
{
	const char **out = xcalloc(32, sizeof *out);
	*n = 0;
	if (cli->n_checkers) {
		for (size_t i = 0; i < cli->n_checkers && *n < 31; i++)
			out[(*n)++] = cli->checkers[i];
		return out;
	}
	json_t *cs = json_object_get(tg->test, "checkers");
	size_t i;
	json_t *c;
	json_array_foreach(cs, i, c) {
		if (json_is_string(c) && *n < 31)
			out[(*n)++] = json_string_value(c);
	}
	if (*n)
		return out;
	const struct workload *wl = test_workload(tg->test);
	for (const char *const *p = wl ? wl->checkers : NULL; p && *p && *n < 31; p++)
		out[(*n)++] = *p;
	if (!*n)
		out[(*n)++] = "linearizable";
	return out;
}

/* checker_opts: the run's, with --consistency-models on top. */
static json_t *target_checker_opts(const struct check_cli *cli, const struct target *tg)
{
	json_t *o = json_object_get(tg->test, "checker_opts");
	o = json_is_object(o) ? json_deep_copy(o) : json_object();
	if (cli->consistency) {
		json_t *elle = json_object_get(o, "elle");
		if (!json_is_object(elle)) {
			elle = json_object();
			json_object_set_new(o, "elle", elle);
		}
		json_t *arr = json_array();
		char *s = xstrdup(cli->consistency), *save = NULL;
		for (char *m = strtok_r(s, ",", &save); m; m = strtok_r(NULL, ",", &save))
			json_array_append_new(arr, json_string(m));
		free(s);
		json_object_set_new(elle, "consistency_models", arr);
	}
	if (cli->all_keys || cli->memory_limit) {
		json_t *lin = json_object_get(o, "linearizable");
		if (!json_is_object(lin)) {
			lin = json_object();
			json_object_set_new(o, "linearizable", lin);
		}
		if (cli->all_keys)
			json_object_set_new(lin, "all_keys", json_true());
		if (cli->memory_limit)
			json_object_set_new(lin, "memory_limit", json_string(cli->memory_limit));
	}
	return o;
}

/* " N keys unchecked/unfinished: a b c ..." for a key list of a result. */
static void print_keys(json_t *r, const char *list, const char *count, const char *what)
{
	json_t *keys = json_object_get(r, list);
	size_t n = json_array_size(keys);
	if (!n)
		return;
	json_int_t total = json_is_integer(json_object_get(r, count))
				   ? json_integer_value(json_object_get(r, count)) : (json_int_t)n;
	printf("  %lld key%s %s:", (long long)total, total == 1 ? "" : "s", what);
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k) {
		if (i == 20) {
			printf(" ...");
			break;
		}
		printf(" %s", json_is_string(k) ? json_string_value(k) : "(none)");
	}
	printf("\n");
}

static void print_lin(const char *file, json_t *r)
{
	json_t *valid = json_object_get(r, "valid");
	const char *model = json_string_value(json_object_get(r, "model"));
	json_int_t keys = json_integer_value(json_object_get(r, "keys"));
	json_int_t ops = json_integer_value(json_object_get(r, "ops"));
	if (json_is_true(valid)) {
		printf("%s: valid (%s, %lld key%s, %lld ops)\n", file, model, (long long)keys,
		       keys == 1 ? "" : "s", (long long)ops);
		return;
	}
	if (json_is_false(valid)) {
		json_t *fails = json_object_get(r, "failures");
		printf("%s: INVALID (%s, %lld of %lld keys not linearizable)\n", file, model,
		       (long long)json_integer_value(json_object_get(r, "invalid_keys")),
		       (long long)keys);
		size_t i;
		json_t *f;
		json_array_foreach(fails, i, f) {
			json_t *k = json_object_get(f, "key");
			char *op = json_dumps(json_object_get(f, "op"), JSON_COMPACT | JSON_ENCODE_ANY);
			printf("  key %s: %s\n    op: %s\n",
			       json_is_string(k) ? json_string_value(k) : "(none)",
			       json_string_value(json_object_get(f, "message")), op ? op : "?");
			free(op);
		}
		print_keys(r, "unchecked_keys", "unchecked_count",
			   "left unchecked because the verdict was already invalid (--all-keys checks them)");
		print_keys(r, "unfinished_keys", "unfinished_count", "undecided");
		const char *mem = json_string_value(json_object_get(r, "memory_limit_message"));
		if (mem)
			printf("  %s\n", mem);
		return;
	}
	const char *why = json_string_value(json_object_get(r, "unknown_reason"));
	const char *mem = json_string_value(json_object_get(r, "memory_limit_message"));
	printf("%s: unknown (%s)\n", file, mem ? mem : why ? why : "undecided");
	print_keys(r, "unfinished_keys", "unfinished_count", "undecided");
}

/* Any checker: its verdict, then each failure's kind and message. */
static void print_generic(const char *name, json_t *r)
{
	enum verdict v = verdict_of_result(r);
	printf("  %s: %s", name, verdict_title(v));
	const char *why = json_string_value(json_object_get(r, "unknown_reason"));
	if (!why)
		why = json_string_value(json_object_get(r, "error"));
	printf("%s%s\n", why ? " - " : "", why ? why : "");
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(r, "failures"), i, f) {
		if (i == 20) {
			printf("    ... %zu more in the results\n",
			       json_array_size(json_object_get(r, "failures")) - 20);
			break;
		}
		printf("    %s: %s\n", json_string_value(json_object_get(f, "kind")) ?: "failure",
		       json_string_value(json_object_get(f, "message")) ?: "");
	}
}

static void print_human(const char *file, json_t *res)
{
	json_t *by = json_object_get(res, "checkers");
	json_t *lin = json_object_get(by, "linearizable");
	if (json_object_size(by) == 1 && lin) {
		print_lin(file, lin);
		return;
	}
	printf("%s: %s (%lld ops)\n", file, verdict_title(verdict_of_result(res)),
	       (long long)json_integer_value(json_object_get(res, "ops")));
	const char *name;
	json_t *r;
	json_object_foreach(by, name, r) {
		if (!strcmp(name, "linearizable")) {
			printf("  linearizable: ");
			print_lin("", r);
		} else {
			print_generic(name, r);
		}
	}
}

/* One JSON line: the checker's own result when one checker ran (the shape
 * of results.json's entry), else the whole results object. */
static void print_json(const char *file, json_t *res)
{
	json_t *by = json_object_get(res, "checkers");
	json_t *out;
	if (json_object_size(by) == 1) {
		void *it = json_object_iter(by);
		out = json_deep_copy(json_object_iter_value(it));
		json_object_set_new(out, "checker", json_string(json_object_iter_key(it)));
	} else {
		out = json_deep_copy(res);
	}
	json_object_set_new(out, "file", json_string(file));
	char *s = json_dumps(out, JSON_COMPACT);
	puts(s ? s : "{}");
	free(s);
	json_decref(out);
}

static int write_run(const struct target *tg, json_t *res)
{
	char err[512];
	if (store_write_json(tg->run_dir, "results.json", res) < 0) {
		fprintf(stderr, "faultline check: cannot write %s/results.json\n", tg->run_dir);
		return EXIT_INTERNAL;
	}
	if (report_write(tg->run_dir, err, sizeof err) < 0 ||
	    junit_write(tg->run_dir, err, sizeof err) < 0) {
		fprintf(stderr, "faultline check: %s\n", err);
		return EXIT_INTERNAL;
	}
	fprintf(stderr, "faultline check: wrote %s/results.json, report.html, junit.xml\n",
		tg->run_dir);
	return 0;
}

/* Returns the exit code for one file. */
static int check_file(struct check_cli *cli, const char *arg)
{
	struct target tg;
	target_init(&tg, arg);
	if (cli->write && !tg.test) {
		fprintf(stderr, "faultline check: --write: %s is not a run directory (no test.json)\n",
			arg);
		target_free(&tg);
		return EXIT_BADARGS;
	}
	struct check_ctx ctx = cli->ctx;
	ctx.model = cli->model ? cli->model : test_model(tg.test);
	ctx.test = tg.test;
	ctx.opts = target_checker_opts(cli, &tg);
	json_t *ct = json_object_get(tg.test, "checker_timeout");
	if (!cli->timeout_given && json_is_number(ct))
		ctx.timeout = json_number_value(ct);
	size_t n;
	const char **names = target_checkers(cli, &tg, &n);
	char err[700];
	json_t *res = check_history(tg.history, cli->fmt, names, n, &ctx, err, sizeof err);
	free(names);
	json_decref(ctx.opts);
	int code;
	if (!res) {
		fprintf(stderr, "faultline check: %s\n", err);
		code = EXIT_BADARGS;
	} else {
		if (cli->json)
			print_json(arg, res);
		else
			print_human(arg, res);
		fflush(stdout);
		code = verdict_exit_code(verdict_of_result(res), false);
		if (cli->write)
			code = exit_code_worst(code, write_run(&tg, res));
		json_decref(res);
	}
	target_free(&tg);
	return code;
}

static int parse_init(const char *text, json_t **out, char *err, size_t errlen)
{
	*out = json_loads(text, JSON_DECODE_ANY, NULL);
	if (*out)
		return 0;
	return edn_parse(text, strlen(text), "--init", out, err, errlen);
}

static int bad(const char *fmt, const char *arg)
{
	fputs("faultline check: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_BADARGS;
}

static void add_checkers(struct check_cli *cli, const char *list)
{
	char *s = xstrdup(list), *save = NULL;
	for (char *c = strtok_r(s, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		cli->checkers = xrealloc(cli->checkers, (cli->n_checkers + 1) * sizeof *cli->checkers);
		cli->checkers[cli->n_checkers++] = xstrdup(c);
	}
	free(s);
}

static int parse_args(struct check_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"checker", required_argument, NULL, 'c'},
		{"model", required_argument, NULL, 'm'},
		{"init", required_argument, NULL, 'i'},
		{"consistency-models", required_argument, NULL, 'M'},
		{"format", required_argument, NULL, 'f'},
		{"timeout", required_argument, NULL, 't'},
		{"nil-read", required_argument, NULL, 'n'},
		{"threads", required_argument, NULL, 'j'},
		{"lenient", no_argument, NULL, 'L'},
		{"all-keys", no_argument, NULL, 'A'},
		{"memory-limit", required_argument, NULL, 'X'},
		{"json", no_argument, NULL, 'J'},
		{"write", no_argument, NULL, 'W'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long lv;
	double dv;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			add_checkers(cli, optarg);
			break;
		case 'm':
			if (!model_find(optarg)) {
				fprintf(stderr, "faultline check: unknown model '%s' (known: %s)\n",
					optarg, model_names_list());
				return EXIT_BADARGS;
			}
			cli->model = optarg;
			break;
		case 'i':
			cli->init_text = optarg;
			break;
		case 'M':
			cli->consistency = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json"))
				cli->fmt = HISTORY_JSONL;
			else if (!strcmp(optarg, "edn"))
				cli->fmt = HISTORY_EDN;
			else if (!strcmp(optarg, "auto"))
				cli->fmt = HISTORY_AUTO;
			else
				return bad("--format must be jsonl, edn or auto, not '%s'", optarg);
			break;
		case 't':
			if (!parse_double(optarg, 0, 1e9, &dv))
				return bad("--timeout must be a number of seconds, not '%s'", optarg);
			cli->ctx.timeout = dv;
			cli->timeout_given = true;
			break;
		case 'n':
			if (!strcmp(optarg, "unknown"))
				cli->ctx.nil_read_unknown = true;
			else if (strcmp(optarg, "empty") != 0)
				return bad("--nil-read must be empty or unknown, not '%s'", optarg);
			break;
		case 'j':
			if (!parse_long(optarg, 0, 1024, &lv))
				return bad("--threads must be 0..1024, not '%s'", optarg);
			cli->ctx.threads = (int)lv;
			break;
		case 'L':
			cli->ctx.lenient = true;
			break;
		case 'A':
			cli->all_keys = true;
			break;
		case 'X': {
			json_t *lin = json_pack("{s:s}", "memory_limit", optarg);
			char e[256];
			int bad_limit = checker_find("linearizable")->check_opts(lin, e, sizeof e);
			json_decref(lin);
			if (bad_limit < 0)
				return bad("--memory-limit must be a size such as 512M or 2G, not '%s'", optarg);
			cli->memory_limit = optarg;
			break;
		}
		case 'J':
			cli->json = true;
			break;
		case 'W':
			cli->write = true;
			break;
		case 'h':
			printf(check_usage, checker_names(), model_names_list());
			return 0;
		default:
			return bad("unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
		}
	}
	for (size_t i = 0; i < cli->n_checkers; i++)
		if (!checker_find(cli->checkers[i])) {
			fprintf(stderr, "faultline check: unknown checker '%s' (known: %s)\n",
				cli->checkers[i], checker_names());
			return EXIT_BADARGS;
		}
	if (optind >= argc)
		return bad("%s", "no history file given (see --help)");
	if (cli->write && argc - optind != 1)
		return bad("%s", "--write takes exactly one RUN_DIR");
	return -1;
}

int cmd_check(int argc, char **argv)
{
	struct check_cli cli;
	memset(&cli, 0, sizeof cli);
	cli.fmt = HISTORY_AUTO;
	int code = parse_args(&cli, argc, argv);
	json_t *init = NULL;
	if (code < 0 && cli.init_text) {
		char err[512];
		if (parse_init(cli.init_text, &init, err, sizeof err) < 0) {
			fprintf(stderr, "faultline check: --init is neither JSON nor EDN: %s\n", err);
			code = EXIT_BADARGS;
		}
		cli.ctx.init = init;
	}
	if (code < 0) {
		code = EXIT_VALID;
		for (int i = optind; i < argc; i++)
			code = exit_code_worst(code, check_file(&cli, argv[i]));
	}
	json_decref(init);
	for (size_t i = 0; i < cli.n_checkers; i++)
		free(cli.checkers[i]);
	free(cli.checkers);
	return code;
}
