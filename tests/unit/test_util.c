/*
 * test_util.c - unit tests for the shared helpers in src/util.c, above all
 * sh_quote: every value that reaches a node's shell goes through it, so it
 * is checked against a real /bin/sh with hostile strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Run `printf %s <quoted>` through /bin/sh and return what it printed. */
static char *shell_roundtrip(const char *s)
{
	char *q = sh_quote(s);
	char *cmd = xasprintf("printf %%s %s", q);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct buf b;
	buf_init(&b);
	char chunk[256];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		buf_append(&b, chunk, n);
	assert_int_equal(pclose(p), 0);
	free(q);
	free(cmd);
	return buf_steal(&b);
}

static void test_sh_quote_hostile(void **state)
{
	(void)state;
	const char *cases[] = {
		"plain", "", "it's", "'", "''", "$(touch /tmp/faultline-pwned)",
		"`id`", "a; rm -rf /", "line1\nline2", "\\'\\\"", "$HOME ${IFS} *",
		"--option", "x\ty", "\"double\"", "!history", "a'b'c'",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *got = shell_roundtrip(cases[i]);
		assert_string_equal(got, cases[i]);
		free(got);
	}
	assert_int_not_equal(access("/tmp/faultline-pwned", F_OK), 0);
}

static void test_buf(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.data));
	assert_memory_equal(b.data, "0,1,2,", 6);
	char *s = buf_steal(&b);
	assert_null(b.data);
	free(s);
	s = buf_steal(&b); /* empty buffer still gives a string */
	assert_string_equal(s, "");
	free(s);
}

static void test_parse(void **state)
{
	(void)state;
	long l;
	double d;
	assert_true(parse_long("5", 1, 255, &l));
	assert_int_equal(l, 5);
	assert_false(parse_long("0", 1, 255, &l));
	assert_false(parse_long("300", 1, 255, &l));
	assert_false(parse_long("5x", 1, 255, &l));
	assert_false(parse_long("", 1, 255, &l));
	assert_true(parse_double("2.5", 0, 10, &d));
	assert_false(parse_double("nan", 0, 10, &d));
	assert_false(parse_double("-1", 0, 10, &d));
}

static void test_file_roundtrip(void **state)
{
	(void)state;
	char dir[] = "/tmp/fl-util-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *sub = xasprintf("%s/a/b/c", dir);
	assert_int_equal(mkdir_p(sub, 0755), 0);
	assert_int_equal(mkdir_p(sub, 0755), 0); /* idempotent */
	char *f = xasprintf("%s/x.txt", sub);
	assert_int_equal(file_write_all(f, "hello\0world", 11), 0);
	size_t len;
	char *got = file_read_all(f, &len);
	assert_int_equal(len, 11);
	assert_memory_equal(got, "hello\0world", 11);
	free(got);
	char *rm = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
	free(rm);
	free(f);
	free(sub);
}

/* The line an error message quotes from a command's output. */
static void test_last_line(void **state)
{
	(void)state;
	char out[64];
	last_line("first\nsecond line\n\n  \r\n", out, sizeof out);
	assert_string_equal(out, "second line");
	last_line("only", out, sizeof out);
	assert_string_equal(out, "only");
	last_line("\n\n", out, sizeof out);
	assert_string_equal(out, "");
	last_line("a\nthis one is far too long for the buffer", out, 8);
	assert_string_equal(out, "this on");
}

/* A secret taken from the environment leaves it: children cannot inherit
 * it, the bytes getenv pointed at are wiped, and asking again still works. */
static void test_env_take_secret(void **state)
{
	(void)state;
	assert_null(env_take_secret("FL_UNIT_NOT_SET"));
	setenv("FL_UNIT_PW", "s3cr3t-value", 1);
	char *where = getenv("FL_UNIT_PW");
	char *pw = env_take_secret("FL_UNIT_PW");
	assert_string_equal(pw, "s3cr3t-value");
	assert_null(getenv("FL_UNIT_PW"));
	assert_int_equal(where[0], 0);
	char *again = env_take_secret("FL_UNIT_PW");
	assert_string_equal(again, "s3cr3t-value");
	free(pw);
	free(again);
}

static void test_log_redacts_secrets(void **state)
{
	(void)state;
	char path[] = "/tmp/fl-log-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open(path), 0);
	log_add_secret("hunter2");
	log_set_level(LOG_ERROR); /* keep stderr quiet; the file gets all */
	log_info("sudo password is hunter2, twice hunter2");
	log_close();
	char *got = file_read_all(path, NULL);
	assert_non_null(strstr(got, "sudo password is ***, twice ***"));
	assert_null(strstr(got, "hunter2"));
	free(got);
	/* Many secrets (there used to be room for 16), registered many times,
	 * and one inside another. */
	assert_int_equal(log_open(path), 0);
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 40; i++) {
			char s[32];
			snprintf(s, sizeof s, "secret-%02d-x", i);
			log_add_secret(s);
		}
	log_add_secret("hunter2hunter2");
	log_info("last secret-39-x and hunter2hunter2 and hunter2");
	log_close();
	got = file_read_all(path, NULL);
	assert_non_null(strstr(got, "last *** and *** and ***"));
	free(got);
	unlink(path);
}

/* hash_tagged(tag, p, len) is hash_bytes of tag + p, for every length
 * (the word loop and the tail meet at each offset), with no copy. */
static void test_hash_tagged(void **state)
{
	(void)state;
	char buf[80], cat[81];
	for (int i = 0; i < 80; i++)
		buf[i] = (char)(i * 37 + 11);
	for (size_t len = 0; len <= 72; len++)
		for (int tag = 0; tag < 256; tag += 85) {
			cat[0] = (char)tag;
			memcpy(cat + 1, buf + 3, len);
			assert_true(hash_tagged((char)tag, buf + 3, len) == hash_bytes(cat, len + 1));
		}
	assert_true(hash_tagged('s', "1", 1) != hash_tagged('i', "1", 1));
}

/* mem_eq agrees with memcmp for every length and every differing byte. */
static void test_mem_eq(void **state)
{
	(void)state;
	char a[40], b[40];
	for (int i = 0; i < 40; i++)
		a[i] = b[i] = (char)('a' + i);
	for (size_t n = 0; n <= 40; n++) {
		assert_true(mem_eq(a, b, n));
		for (size_t k = 0; k < n; k++) {
			b[k] ^= 1;
			assert_false(mem_eq(a, b, n));
			b[k] ^= 1;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_tagged),
		cmocka_unit_test(test_mem_eq),
		cmocka_unit_test(test_sh_quote_hostile),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_file_roundtrip),
		cmocka_unit_test(test_log_redacts_secrets),
		cmocka_unit_test(test_env_take_secret),
		cmocka_unit_test(test_last_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
