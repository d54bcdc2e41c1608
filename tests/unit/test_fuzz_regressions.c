/*
 * test_fuzz_regressions.c - replays every input kept under tests/fuzz/
 * through the same entry points the libFuzzer harnesses run
 * (tests/fuzz/fuzz_common.h): each crasher in crashers/ (named
 * <harness>-crash-..., -leak-..., -timeout-...) must now be accepted or
 * rejected with an error message, and each seed in seeds/ must parse. Under
 * `make test SANITIZE=1` this is where a fixed crash, leak or UB would show
 * up again. Also checks what the seeds promise (the torn register.jsonl
 * yields its 9 complete ops), which last lines count as torn (only one
 * without its newline) and which are errors (a complete last line that
 * does not parse, JSON that is not an op, anything followed by more ops),
 * and inputs too large or deep for the
 * fuzzers' 1 KiB cap: a value straddling the EDN reader's 64 KiB refill, a
 * 1 MiB JSONL line, nesting bombs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#undef test_free /* cmocka's allocator macro; ours frees a struct test */

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fuzz/fuzz_common.h"
#include "edn.h"

/* The tests read tests/fuzz/ relative to the repository root: the cwd
 * under tests/run.sh, else found from build/tests/<this binary>. */
static int chdir_root(void **state)
{
	(void)state;
	if (access("tests/fuzz/seeds", R_OK) == 0)
		return 0;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return -1;
	exe[n] = 0;
	char *d = dirname(dirname(dirname(exe)));
	return chdir(d) == 0 && access("tests/fuzz/seeds", R_OK) == 0 ? 0 : -1;
}

static uint8_t *read_input(const char *path, size_t *len)
{
	char *d = file_read_all(path, len);
	assert_non_null(d);
	return (uint8_t *)d;
}

enum harness { H_NONE, H_JSONL, H_EDN, H_CONFIG };

static void run_harness(enum harness h, const uint8_t *d, size_t n, struct fuzz_result *res)
{
	switch (h) {
	case H_JSONL: fuzz_history_run(d, n, HISTORY_JSONL, res); break;
	case H_EDN: fuzz_history_run(d, n, HISTORY_EDN, res); break;
	case H_CONFIG: fuzz_config_run(d, n, res); break;
	case H_NONE: fail_msg("no harness"); break;
	}
}

/* Files of a directory, sorted, dotfiles skipped; returns the count. */
static int list_dir(const char *dir, char ***out)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), k = 0;
	assert_true(n >= 0);
	*out = calloc((size_t)n + 1, sizeof **out);
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.')
			(*out)[k++] = xasprintf("%s/%s", dir, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return k;
}

static void free_list(char **l)
{
	for (char **p = l; *p; p++)
		free(*p);
	free(l);
}

static enum harness harness_by_prefix(const char *base)
{
	if (!strncmp(base, "fuzz_history_jsonl-", 19))
		return H_JSONL;
	if (!strncmp(base, "fuzz_history_edn-", 17))
		return H_EDN;
	if (!strncmp(base, "fuzz_config-", 12))
		return H_CONFIG;
	return H_NONE;
}

static enum harness harness_by_ext(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot)
		return H_NONE;
	if (!strcmp(dot, ".jsonl"))
		return H_JSONL;
	if (!strcmp(dot, ".edn"))
		return H_EDN;
	if (!strcmp(dot, ".json"))
		return H_CONFIG;
	return H_NONE;
}

static void test_crashers_replay(void **state)
{
	(void)state;
	char **files;
	int n = list_dir("tests/fuzz/crashers", &files);
	for (int i = 0; i < n; i++) {
		const char *base = strrchr(files[i], '/') + 1;
		enum harness h = harness_by_prefix(base);
		if (h == H_NONE)
			fail_msg("%s: name must start with the harness (fuzz_history_jsonl-, "
				 "fuzz_history_edn-, fuzz_config-)", files[i]);
		size_t len;
		uint8_t *d = read_input(files[i], &len);
		struct fuzz_result res;
		run_harness(h, d, len, &res);
		/* Accepted, or rejected with a message naming the cause. */
		if (res.rc != 0 && (res.rc != -1 || !res.msg[0]))
			fail_msg("%s: rc %d, message '%s'", files[i], res.rc, res.msg);
		free(d);
	}
	printf("# replayed %d crashers\n", n);
	free_list(files);
}

static void test_seeds_parse(void **state)
{
	(void)state;
	/* config.json names its sudo password's variable; the value only has
	 * to exist for config_finish to accept it. */
	setenv("SUDO_PW", "fuzz-seed-sudo-password", 1);
	char **files;
	int n = list_dir("tests/fuzz/seeds", &files);
	int used = 0;
	for (int i = 0; i < n; i++) {
		enum harness h = harness_by_ext(files[i]);
		if (h == H_NONE)
			continue;
		used++;
		size_t len;
		uint8_t *d = read_input(files[i], &len);
		struct fuzz_result res;
		run_harness(h, d, len, &res);
		if (res.rc != 0)
			fail_msg("seed %s rejected: %s", files[i], res.msg);
		if (h != H_CONFIG) {
			if (res.ops < 1)
				fail_msg("seed %s: no op read", files[i]);
			/* The path entry point reads the same ops. */
			struct history hist;
			struct history_error err;
			assert_int_equal(history_load(files[i], HISTORY_AUTO, &hist, &err), 0);
			assert_int_equal((long)hist.n, res.ops);
			history_free(&hist);
		}
		free(d);
	}
	assert_true(used >= 3);
	free_list(files);
}

/* The seed's last line is torn mid-number (a killed run): the 9 lines
 * before it are the history. */
static void test_torn_seed_register(void **state)
{
	(void)state;
	struct history h;
	struct history_error err;
	assert_int_equal(history_load("tests/fuzz/seeds/register.jsonl", HISTORY_JSONL, &h, &err), 0);
	assert_int_equal(h.n, 9);
	for (size_t i = 0; i < h.n; i++)
		assert_int_equal(h.ops[i].index, (int64_t)i);
	assert_int_equal(h.ops[8].type, OP_OK);
	assert_string_equal(h.ops[8].f, "txn");
	assert_int_equal(h.ops[2].process, PROCESS_NEMESIS);
	assert_string_equal(json_string_value(h.ops[6].value), "<script>alert(1)</script>");
	history_free(&h);

	size_t len;
	uint8_t *d = read_input("tests/fuzz/seeds/register.jsonl", &len);
	struct fuzz_result res;
	fuzz_history_run(d, len, HISTORY_JSONL, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.ops, 9);
	free(d);
}

/* Which last lines are torn (ignored) and which are errors. */
static void test_torn_line_rules(void **state)
{
	(void)state;
	static const char op[] = "{\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":1}\n";
	struct {
		const char *tail;
		int rc;
		long ops;
	} cases[] = {
		{"{\"type\":\"ok\",\"proc", 0, 2},             /* cut short, no newline: torn */
		/* Only a last line without its newline is torn (issue 13): a
		 * complete line that does not parse is bad data. */
		{"{\"type\":\"ok\",\"proc\n", -1, 2},          /* cut short, newline back */
		{"{\"type\":\"ok\",\"proc\n\n  \n", -1, 2},    /* ... then blank lines */
		{"\x01\x02garbage\n", -1, 2},                  /* not JSON at all, last */
		{"{\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":123456789012345678901}\n",
		 -1, 2},                                        /* a too-big integer, last */
		{"{\"type\":\"done\",\"process\":1,\"f\":\"r\"}\n", -1, 2}, /* JSON, not an op */
		{"{\"type\":\"ok\",\"proc\n{\"type\":\"ok\",\"process\":1,\"f\":\"r\"}\n", -1, 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf b;
		buf_init(&b);
		buf_puts(&b, op);
		buf_puts(&b, op);
		buf_puts(&b, cases[i].tail);
		struct fuzz_result res;
		fuzz_history_run((uint8_t *)b.data, b.len, HISTORY_JSONL, &res);
		if (res.rc != cases[i].rc || (res.rc == 0 && res.ops != cases[i].ops))
			fail_msg("case %zu: rc %d ops %ld (%s), want rc %d", i, res.rc, res.ops, res.msg,
				 cases[i].rc);
		if (res.rc < 0)
			assert_non_null(strstr(res.msg, "fuzz-input:3:"));
		buf_free(&b);
	}
}

static int count_cb(struct op *op, void *ctx)
{
	json_t **keep = ctx;
	if (!*keep)
		*keep = json_incref(op->value);
	op_free(op);
	return 0;
}

/* A string and a keyword that straddle the EDN reader's 64 KiB refill. */
static void test_edn_value_across_refill(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "[{:type :invoke, :f :write, :process 0, :value \"");
	size_t body = 0;
	while (b.len < 65536 + 64) { /* é and x alternately, so a refill may split é */
		buf_append(&b, body % 3 ? "x" : "\xc3\xa9", body % 3 ? 1 : 2);
		body += body % 3 ? 1 : 2;
	}
	buf_puts(&b, "\"}\n {:type :ok, :f :write-something-long, :process 0}]");
	struct fuzz_result res;
	fuzz_history_run((uint8_t *)b.data, b.len, HISTORY_EDN, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.ops, 2);
	FILE *f = fmemopen(b.data, b.len, "r");
	json_t *v = NULL;
	struct history_error err;
	assert_int_equal(history_stream_file(f, "refill", HISTORY_EDN, count_cb, &v, &err), 0);
	fclose(f);
	assert_true(json_is_string(v));
	assert_int_equal(json_string_length(v), body);
	json_decref(v);
	buf_free(&b);
}

/* One JSONL line of 1 MiB (a huge set read) is read whole. */
static void test_jsonl_huge_line(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"index\":0,\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":[");
	for (int i = 0; b.len < (1 << 20); i++)
		buf_printf(&b, "%s%d", i ? "," : "", i);
	buf_puts(&b, "]}\n");
	struct fuzz_result res;
	fuzz_history_run((uint8_t *)b.data, b.len, HISTORY_JSONL, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.ops, 1);
	buf_free(&b);
}

/* Nesting bombs are errors, not stack overflows. */
static void test_nesting_bombs(void **state)
{
	(void)state;
	size_t n = 200000;
	char *s = malloc(n + 1);
	struct fuzz_result res;
	static const char opens[] = "[({";
	for (int k = 0; k < 3; k++) {
		memset(s, opens[k], n);
		s[n] = 0;
		fuzz_history_run((uint8_t *)s, n, HISTORY_EDN, &res);
		assert_int_equal(res.rc, -1);
		assert_non_null(strstr(res.msg, "nesting deeper"));
	}
	/* JSONL: the fast scanner's value skipper is iterative; jansson caps depth. */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":");
	for (size_t i = 0; i < n; i++)
		buf_append(&b, "[", 1);
	buf_puts(&b, "\n{\"type\":\"ok\",\"process\":1,\"f\":\"read\"}\n");
	fuzz_history_run((uint8_t *)b.data, b.len, HISTORY_JSONL, &res);
	assert_int_equal(res.rc, -1);
	assert_non_null(strstr(res.msg, "fuzz-input:1:"));
	buf_free(&b);
	/* Config: a deep value under a key is rejected by the parser. */
	buf_init(&b);
	buf_puts(&b, "{\"nemesis_opts\":");
	for (size_t i = 0; i < n; i++)
		buf_append(&b, "[", 1);
	fuzz_config_run((uint8_t *)b.data, b.len, &res);
	assert_int_equal(res.rc, -1);
	assert_int_equal(res.stage, 1);
	buf_free(&b);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crashers_replay),
		cmocka_unit_test(test_seeds_parse),
		cmocka_unit_test(test_torn_seed_register),
		cmocka_unit_test(test_torn_line_rules),
		cmocka_unit_test(test_edn_value_across_refill),
		cmocka_unit_test(test_jsonl_huge_line),
		cmocka_unit_test(test_nesting_bombs),
	};
	return cmocka_run_group_tests(tests, chdir_root, NULL);
}
