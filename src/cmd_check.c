/*
 * cmd_check.c - `faultline check`: judge history files (faultline JSONL or
 * Jepsen EDN) with the linearizability checker, outside any run. Ops are
 * streamed from the file straight into the checker's compact form, so a
 * history is never held twice. The model comes from --model, else from the
 * workload named in the run directory's test.json, else cas-register.
 * Exit code: the worst verdict over all files (0 valid, 1 invalid,
 * 2 unknown), 254 for bad input (unreadable file, parse error with
 * line:column, unknown model, an op the model does not know).
 */
#include "checker.h"
#include "cmd.h"
#include "edn.h"
#include "history.h"
#include "linearizable.h"
#include "model.h"
#include "util.h"

#include <getopt.h>
#include <pthread.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char check_usage[] =
	"usage: faultline check [options] HISTORY...\n"
	"\n"
	"Judge histories for linearizability: faultline history.jsonl or Jepsen EDN\n"
	"(history.edn, or a vector/list of op maps). Keys are checked independently\n"
	"and in parallel.\n"
	"\n"
	"options:\n"
	"  --model M             register, cas-register, multi-register, kv, mutex,\n"
	"                        queue, set (default: from the run's test.json, else\n"
	"                        cas-register)\n"
	"  --init VALUE          initial model state, JSON or EDN (e.g. '{:x 0 :y 0}')\n"
	"  --format F            jsonl, edn or auto (default auto: by extension/content)\n"
	"  --timeout S           give up after S seconds: verdict unknown, naming the\n"
	"                        unfinished keys (default: none)\n"
	"  --nil-read MODE       empty (default): a read of nil reads the empty register;\n"
	"                        unknown: a nil read constrains nothing (Knossos)\n"
	"  --threads N           worker threads (default: number of cores)\n"
	"  --json                print each file's result object (one JSON line per file)\n"
	"  -h, --help            this text\n"
	"\n"
	"exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input\n";

struct check_cli {
	const char *model;
	const char *init_text;
	enum history_format fmt;
	struct check_opts opts;
	bool json;
};

/* A workload's model, for histories inside a run directory. */
static const char *model_for_workload(const char *w)
{
	if (!strcmp(w, "register") || !strcmp(w, "cas-register"))
		return "cas-register";
	return model_find(w) ? w : NULL;
}

static char *model_from_test_json(const char *history)
{
	char *dup = xstrdup(history);
	char *path = xasprintf("%s/test.json", dirname(dup));
	free(dup);
	json_t *t = json_load_file(path, 0, NULL);
	free(path);
	if (!t)
		return NULL;
	const char *name = NULL;
	json_t *m = json_object_get(t, "model");
	json_t *w = json_object_get(t, "workload");
	if (json_is_string(m) && model_find(json_string_value(m)))
		name = json_string_value(m);
	else if (json_is_string(w))
		name = model_for_workload(json_string_value(w));
	else if (json_is_object(w) && json_is_string(json_object_get(w, "name")))
		name = model_for_workload(json_string_value(json_object_get(w, "name")));
	char *r = name ? xstrdup(name) : NULL;
	json_decref(t);
	return r;
}

static int parse_init(const char *text, json_t **out, char *err, size_t errlen)
{
	*out = json_loads(text, JSON_DECODE_ANY, NULL);
	if (*out)
		return 0;
	return edn_parse(text, strlen(text), "--init", out, err, errlen);
}

/* Reading and judging overlap: a reader thread parses the file into
 * batches of ops while this thread encodes them into the checker, so a
 * large history costs max(parse, encode) rather than their sum. */
#define FEED_BATCH 4096
#define FEED_RING 8

struct feed_batch {
	struct op ops[FEED_BATCH];
	size_t n;
	struct feed_batch *next; /* on the spent list */
};

struct feed {
	struct lin_builder *b;
	const char *file;
	enum history_format fmt;
	pthread_mutex_t mu;
	pthread_cond_t changed;
	struct feed_batch *ring[FEED_RING];
	size_t head, count;
	struct feed_batch *cur;
	/* Batches the consumer is done with go back to the reader, which frees
	 * their ops: memory is freed by the thread that allocated it, which
	 * keeps malloc's arenas uncontended. */
	struct feed_batch *spent;
	bool done, stop;
	int stream_rc;
	struct history_error herr;
	char err[512];
	bool failed;
};

static void batch_free(struct feed_batch *bt)
{
	for (size_t i = 0; i < bt->n; i++)
		op_free(&bt->ops[i]);
	free(bt);
}

static void feed_put(struct feed *f, struct feed_batch *bt)
{
	pthread_mutex_lock(&f->mu);
	while (f->count == FEED_RING && !f->stop)
		pthread_cond_wait(&f->changed, &f->mu);
	if (f->stop) {
		pthread_mutex_unlock(&f->mu);
		batch_free(bt);
		return;
	}
	f->ring[(f->head + f->count++) % FEED_RING] = bt;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->mu);
}

static struct feed_batch *feed_new_batch(struct feed *f)
{
	struct feed_batch *spent = NULL, *bt = NULL;
	if (__atomic_load_n(&f->spent, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&f->mu);
		spent = f->spent;
		f->spent = NULL;
		pthread_mutex_unlock(&f->mu);
	}
	while (spent) {
		struct feed_batch *nx = spent->next;
		for (size_t i = 0; i < spent->n; i++)
			op_free(&spent->ops[i]);
		if (!bt)
			bt = spent;
		else
			free(spent);
		spent = nx;
	}
	if (!bt)
		bt = xmalloc(sizeof *bt);
	bt->n = 0;
	bt->next = NULL;
	return bt;
}

static int feed_op(struct op *op, void *ctx)
{
	struct feed *f = ctx;
	if (!f->cur)
		f->cur = feed_new_batch(f);
	f->cur->ops[f->cur->n++] = *op;
	if (f->cur->n == FEED_BATCH) {
		feed_put(f, f->cur);
		f->cur = NULL;
	}
	return __atomic_load_n(&f->stop, __ATOMIC_RELAXED) ? 1 : 0;
}

static void *feed_reader(void *arg)
{
	struct feed *f = arg;
	int rc = history_stream(f->file, f->fmt, feed_op, f, &f->herr);
	if (f->cur) {
		feed_put(f, f->cur);
		f->cur = NULL;
	}
	pthread_mutex_lock(&f->mu);
	f->stream_rc = rc;
	f->done = true;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Consume every batch; f->failed if an op was rejected. */
static void feed_consume(struct feed *f)
{
	for (;;) {
		pthread_mutex_lock(&f->mu);
		while (f->count == 0 && !f->done)
			pthread_cond_wait(&f->changed, &f->mu);
		if (f->count == 0) {
			pthread_mutex_unlock(&f->mu);
			return;
		}
		struct feed_batch *bt = f->ring[f->head];
		f->head = (f->head + 1) % FEED_RING;
		f->count--;
		pthread_cond_broadcast(&f->changed);
		pthread_mutex_unlock(&f->mu);
		for (size_t i = 0; i < bt->n && !f->failed; i++) {
			if (lin_add(f->b, &bt->ops[i], f->err, sizeof f->err) < 0) {
				f->failed = true;
				pthread_mutex_lock(&f->mu);
				f->stop = true;
				pthread_cond_broadcast(&f->changed);
				pthread_mutex_unlock(&f->mu);
			}
		}
		pthread_mutex_lock(&f->mu);
		bt->next = f->spent;
		f->spent = bt;
		pthread_mutex_unlock(&f->mu);
	}
}

/* Stream file into f->b. Returns 0, or -1 after printing the error. */
static int feed_file(struct feed *f)
{
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->changed, NULL);
	pthread_t tid;
	int rc = 0;
	if (pthread_create(&tid, NULL, feed_reader, f) != 0) {
		feed_reader(f);
		feed_consume(f);
	} else {
		feed_consume(f);
		pthread_join(tid, NULL);
	}
	while (f->spent) {
		struct feed_batch *nx = f->spent->next;
		batch_free(f->spent);
		f->spent = nx;
	}
	if (f->failed) {
		fprintf(stderr, "faultline check: %s: %s\n", f->file, f->err);
		rc = -1;
	} else if (f->stream_rc < 0) {
		fprintf(stderr, "faultline check: %s\n", f->herr.msg);
		rc = -1;
	}
	pthread_cond_destroy(&f->changed);
	pthread_mutex_destroy(&f->mu);
	return rc;
}

static void print_human(const char *file, json_t *r)
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
		return;
	}
	printf("%s: unknown (%s; unfinished keys:", file,
	       json_string_value(json_object_get(r, "unknown_reason")) ?: "undecided");
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(r, "unfinished_keys"), i, k) {
		if (i == 20) {
			printf(" ...");
			break;
		}
		printf(" %s", json_is_string(k) ? json_string_value(k) : "(none)");
	}
	printf(")\n");
}

/* Returns the exit code for one file. */
static int check_file(struct check_cli *cli, const char *file)
{
	char *auto_model = NULL;
	struct check_opts o = cli->opts;
	o.model = cli->model;
	if (!o.model)
		o.model = auto_model = model_from_test_json(file);
	if (!o.model)
		o.model = "cas-register";
	char err[512];
	struct feed *f = xcalloc(1, sizeof *f);
	f->b = lin_begin(&o, err, sizeof err);
	free(auto_model);
	if (!f->b) {
		fprintf(stderr, "faultline check: %s\n", err);
		free(f);
		return EXIT_BADARGS;
	}
	f->file = file;
	f->fmt = cli->fmt;
	if (feed_file(f) < 0) {
		lin_abort(f->b);
		free(f);
		return EXIT_BADARGS;
	}
	json_t *r = lin_finish(f->b);
	free(f);
	if (cli->json) {
		json_object_set_new(r, "file", json_string(file));
		char *s = json_dumps(r, JSON_COMPACT);
		puts(s ? s : "{}");
		free(s);
	} else {
		print_human(file, r);
	}
	int code = checker_exit_code(json_object_get(r, "valid"));
	json_decref(r);
	fflush(stdout);
	return code;
}

static int worse(int a, int b)
{
	/* bad input beats invalid beats unknown beats valid */
	static const int rank[] = {0, 2, 1};
	if (a == EXIT_BADARGS || b == EXIT_BADARGS)
		return EXIT_BADARGS;
	if (a > 2 || b > 2)
		return a > b ? a : b;
	return rank[a] >= rank[b] ? a : b;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"model", required_argument, NULL, 'm'},
		{"init", required_argument, NULL, 'i'},
		{"format", required_argument, NULL, 'f'},
		{"timeout", required_argument, NULL, 't'},
		{"nil-read", required_argument, NULL, 'n'},
		{"threads", required_argument, NULL, 'j'},
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct check_cli cli;
	memset(&cli, 0, sizeof cli);
	cli.fmt = HISTORY_AUTO;
	long lv;
	double dv;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!model_find(optarg)) {
				fprintf(stderr, "faultline check: unknown model '%s' (known: register, "
					"cas-register, multi-register, kv, mutex, queue, set)\n", optarg);
				return EXIT_BADARGS;
			}
			cli.model = optarg;
			break;
		case 'i':
			cli.init_text = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json"))
				cli.fmt = HISTORY_JSONL;
			else if (!strcmp(optarg, "edn"))
				cli.fmt = HISTORY_EDN;
			else if (!strcmp(optarg, "auto"))
				cli.fmt = HISTORY_AUTO;
			else {
				fprintf(stderr, "faultline check: --format must be jsonl, edn or auto, not '%s'\n", optarg);
				return EXIT_BADARGS;
			}
			break;
		case 't':
			if (!parse_double(optarg, 0, 1e9, &dv)) {
				fprintf(stderr, "faultline check: --timeout must be a number of seconds, not '%s'\n", optarg);
				return EXIT_BADARGS;
			}
			cli.opts.timeout = dv;
			break;
		case 'n':
			if (!strcmp(optarg, "unknown"))
				cli.opts.nil_read_unknown = true;
			else if (strcmp(optarg, "empty") != 0) {
				fprintf(stderr, "faultline check: --nil-read must be empty or unknown, not '%s'\n", optarg);
				return EXIT_BADARGS;
			}
			break;
		case 'j':
			if (!parse_long(optarg, 0, 1024, &lv)) {
				fprintf(stderr, "faultline check: --threads must be 0..1024, not '%s'\n", optarg);
				return EXIT_BADARGS;
			}
			cli.opts.threads = (int)lv;
			break;
		case 'J':
			cli.json = true;
			break;
		case 'h':
			fputs(check_usage, stdout);
			return 0;
		default:
			fprintf(stderr, "faultline check: unknown or incomplete option '%s' (see --help)\n",
				argv[optind - 1]);
			return EXIT_BADARGS;
		}
	}
	if (optind >= argc) {
		fputs("faultline check: no history file given (see --help)\n", stderr);
		return EXIT_BADARGS;
	}
	json_t *init = NULL;
	if (cli.init_text) {
		char err[512];
		if (parse_init(cli.init_text, &init, err, sizeof err) < 0) {
			fprintf(stderr, "faultline check: --init is neither JSON nor EDN: %s\n", err);
			return EXIT_BADARGS;
		}
		cli.opts.init = init;
	}
	int code = EXIT_VALID;
	for (int i = optind; i < argc; i++)
		code = worse(code, check_file(&cli, argv[i]));
	if (init)
		json_decref(init);
	return code;
}
