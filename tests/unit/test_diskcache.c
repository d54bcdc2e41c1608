/*
 * test_diskcache.c - the dirty-range cache of faultline-diskd
 * (nemesis/diskcache.c), against a model: a byte array for the disk below
 * and one for what programs see. Random writes, truncates, reads, flushes
 * and drops over many seeds must agree with the model byte for byte;
 * ranges stay sorted, disjoint and non-touching with their byte count
 * right; a flush writes the truncate before the ranges and the size after;
 * a failing backing write leaves the file dirty and a later flush or drop
 * shows exactly what reached the disk; appends stay one range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diskcache.h"

#define SPACE 3000 /* largest offset + length the random ops reach */

/* The disk below, as the callbacks see it. */
struct disk {
	unsigned char data[2 * SPACE];
	uint64_t size;
	int fail_write_at;  /* fail the Nth write call (1-based), 0: never */
	int writes;
	char log[4096];     /* "T5 W0+3 T9 " */
};

static ssize_t disk_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct disk *d = ctx;
	if (off >= d->size)
		return 0;
	if (n > d->size - off)
		n = (size_t)(d->size - off);
	memcpy(buf, d->data + off, n);
	return (ssize_t)n;
}

static void disk_log(struct disk *d, char op, unsigned long long a, long long n)
{
	size_t l = strlen(d->log);
	if (n < 0)
		snprintf(d->log + l, sizeof d->log - l, "%c%llu ", op, a);
	else
		snprintf(d->log + l, sizeof d->log - l, "%c%llu+%lld ", op, a, n);
}

static int disk_truncate(void *ctx, uint64_t size)
{
	struct disk *d = ctx;
	if (size > d->size)
		memset(d->data + d->size, 0, (size_t)(size - d->size));
	d->size = size;
	disk_log(d, 'T', (unsigned long long)size, -1);
	return 0;
}

static int disk_write(void *ctx, const void *buf, size_t n, uint64_t off)
{
	struct disk *d = ctx;
	if (++d->writes == d->fail_write_at)
		return -EIO;
	if (off > d->size)
		memset(d->data + d->size, 0, (size_t)(off - d->size));
	memcpy(d->data + off, buf, n);
	if (off + n > d->size)
		d->size = off + n;
	disk_log(d, 'W', (unsigned long long)off, (long long)n);
	return 0;
}

static const struct dc_backing disk_ops = {disk_truncate, disk_write};

/* What programs should see. */
struct model {
	unsigned char data[2 * SPACE];
	uint64_t size;
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_invariants(const struct dc_file *f)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < f->n; i++) {
		assert_true(f->r[i].len > 0);
		assert_true(f->r[i].len <= f->r[i].cap);
		assert_true(f->r[i].off + f->r[i].len <= f->size);
		if (i > 0) /* disjoint and not touching */
			assert_true(f->r[i - 1].off + f->r[i - 1].len < f->r[i].off);
		bytes += f->r[i].len;
	}
	assert_int_equal(bytes, f->bytes);
	assert_true(f->keep <= f->base);
	assert_true(f->keep <= f->size);
}

static void check_view(const struct dc_file *f, struct disk *d, const struct model *m)
{
	assert_int_equal(f->size, m->size);
	unsigned char buf[2 * SPACE + 16];
	memset(buf, 0xee, sizeof buf);
	ssize_t n = dc_read(f, buf, sizeof buf, 0, disk_read, d);
	assert_int_equal(n, (ssize_t)m->size);
	assert_memory_equal(buf, m->data, (size_t)m->size);
}

static void model_write(struct model *m, uint64_t off, const unsigned char *p, size_t len)
{
	if (off > m->size)
		memset(m->data + m->size, 0, (size_t)(off - m->size));
	memcpy(m->data + off, p, len);
	if (off + len > m->size)
		m->size = off + len;
}

static void model_truncate(struct model *m, uint64_t size)
{
	if (size > m->size)
		memset(m->data + m->size, 0, (size_t)(size - m->size));
	m->size = size;
}

static void test_random_against_model(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 400; seed++) {
		uint64_t s = seed * 0x9e3779b97f4a7c15ull;
		struct disk *d = calloc(1, sizeof *d);
		struct model *m = calloc(1, sizeof *m);
		/* Some data on the disk to begin with. */
		d->size = rng_next(&s) % 1000;
		for (uint64_t i = 0; i < d->size; i++)
			d->data[i] = (unsigned char)rng_next(&s);
		memcpy(m->data, d->data, (size_t)d->size);
		m->size = d->size;
		struct dc_file f;
		dc_init(&f, d->size);
		unsigned char tag = 1;
		for (int step = 0; step < 300; step++) {
			int what = (int)(rng_next(&s) % 100);
			if (what < 55) {
				uint64_t off = rng_next(&s) % (SPACE - 200);
				size_t len = 1 + (size_t)(rng_next(&s) % (what < 10 ? 200 : 24));
				unsigned char p[256];
				for (size_t i = 0; i < len; i++)
					p[i] = (unsigned char)(tag + i);
				tag = (unsigned char)(tag + 7);
				assert_int_equal(dc_write(&f, off, p, len), 0);
				model_write(m, off, p, len);
			} else if (what < 68) {
				uint64_t size = rng_next(&s) % SPACE;
				dc_truncate(&f, size);
				model_truncate(m, size);
			} else if (what < 88) {
				uint64_t off = rng_next(&s) % SPACE;
				size_t len = (size_t)(rng_next(&s) % 300);
				unsigned char buf[300];
				ssize_t n = dc_read(&f, buf, len, off, disk_read, d);
				size_t want = off >= m->size ? 0 : (size_t)(m->size - off) < len ? (size_t)(m->size - off) : len;
				assert_int_equal(n, (ssize_t)want);
				assert_memory_equal(buf, m->data + off, want);
			} else if (what < 95) {
				assert_true(dc_flush(&f, &disk_ops, d) >= 0);
				assert_false(dc_dirty(&f));
				/* The disk now holds exactly the view. */
				assert_int_equal(d->size, m->size);
				assert_memory_equal(d->data, m->data, (size_t)m->size);
			} else {
				uint64_t bytes = f.bytes;
				assert_int_equal(dc_drop(&f), bytes);
				assert_false(dc_dirty(&f));
				memcpy(m->data, d->data, (size_t)d->size);
				m->size = d->size;
			}
			check_invariants(&f);
			check_view(&f, d, m);
		}
		dc_free(&f);
		free(d);
		free(m);
	}
}

static void test_appends_stay_one_range(void **state)
{
	(void)state;
	struct dc_file f;
	dc_init(&f, 100);
	unsigned char p[10];
	memset(p, 'a', sizeof p);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(dc_write(&f, 100 + (uint64_t)i * 10, p, sizeof p), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.r[0].off, 100);
	assert_int_equal(f.r[0].len, 10000);
	assert_int_equal(f.bytes, 10000);
	assert_int_equal(f.size, 10100);
	/* A write before the range that touches it joins it too. */
	assert_int_equal(dc_write(&f, 90, p, sizeof p), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.r[0].off, 90);
	dc_free(&f);
}

static void test_bridge_merges(void **state)
{
	(void)state;
	struct dc_file f;
	dc_init(&f, 0);
	assert_int_equal(dc_write(&f, 0, "aaaa", 4), 0);
	assert_int_equal(dc_write(&f, 10, "bbbb", 4), 0);
	assert_int_equal(dc_write(&f, 20, "cccc", 4), 0);
	assert_int_equal(f.n, 3);
	assert_int_equal(dc_write(&f, 2, "XXXXXXXXXXXXXXXX", 16), 0); /* 2..18 */
	assert_int_equal(f.n, 2);
	assert_int_equal(f.r[0].off, 0);
	assert_int_equal(f.r[0].len, 18);
	assert_memory_equal(f.r[0].data, "aaXXXXXXXXXXXXXXXX", 18);
	assert_int_equal(f.bytes, 22);
	dc_free(&f);
}

static void test_truncate_hides_backing(void **state)
{
	(void)state;
	struct disk d = {.size = 8};
	memcpy(d.data, "ABCDEFGH", 8);
	struct dc_file f;
	dc_init(&f, 8);
	dc_truncate(&f, 2);
	assert_int_equal(dc_write(&f, 6, "z", 1), 0);
	char buf[16];
	assert_int_equal(dc_read(&f, buf, sizeof buf, 0, disk_read, &d), 7);
	/* CDEF were truncated away: they read as zeros, not as the disk's. */
	assert_memory_equal(buf, "AB\0\0\0\0z", 7);
	assert_int_equal(dc_flush(&f, &disk_ops, &d), 1);
	assert_string_equal(d.log, "T2 W6+1 ");
	assert_int_equal(d.size, 7);
	assert_memory_equal(d.data, "AB\0\0\0\0z", 7);
	/* Growing without data: the size alone is written. */
	d.log[0] = 0;
	dc_truncate(&f, 20);
	assert_true(dc_dirty(&f));
	assert_int_equal(dc_flush(&f, &disk_ops, &d), 0);
	assert_string_equal(d.log, "T20 ");
	dc_free(&f);
}

static void test_failed_flush_then_drop(void **state)
{
	(void)state;
	struct disk d = {.size = 4};
	memcpy(d.data, "abcd", 4);
	struct dc_file f;
	dc_init(&f, 4);
	dc_truncate(&f, 1);
	assert_int_equal(dc_write(&f, 10, "one", 3), 0);
	assert_int_equal(dc_write(&f, 20, "two", 3), 0);
	d.fail_write_at = 2;
	assert_int_equal(dc_flush(&f, &disk_ops, &d), -EIO);
	assert_true(dc_dirty(&f));
	/* Programs still see the cached state. */
	char buf[32];
	assert_int_equal(dc_read(&f, buf, sizeof buf, 0, disk_read, &d), 23);
	assert_memory_equal(buf, "a\0\0\0\0\0\0\0\0\0one\0\0\0\0\0\0\0two", 23);
	/* A crash now shows what reached the disk: the truncate and "one". */
	dc_drop(&f);
	assert_int_equal(f.size, 13);
	assert_int_equal(dc_read(&f, buf, sizeof buf, 0, disk_read, &d), 13);
	assert_memory_equal(buf, "a\0\0\0\0\0\0\0\0\0one", 13);
	dc_free(&f);

	/* The same failure, then a flush that works: every write again. */
	struct disk d2 = {.size = 4};
	memcpy(d2.data, "abcd", 4);
	dc_init(&f, 4);
	dc_truncate(&f, 1);
	assert_int_equal(dc_write(&f, 10, "one", 3), 0);
	assert_int_equal(dc_write(&f, 20, "two", 3), 0);
	d2.fail_write_at = 2;
	assert_int_equal(dc_flush(&f, &disk_ops, &d2), -EIO);
	d2.fail_write_at = 0;
	assert_int_equal(dc_flush(&f, &disk_ops, &d2), 6);
	assert_int_equal(d2.size, 23);
	assert_memory_equal(d2.data, "a\0\0\0\0\0\0\0\0\0one\0\0\0\0\0\0\0two", 23);
	assert_false(dc_dirty(&f));
	dc_free(&f);
}

static void test_clean_file(void **state)
{
	(void)state;
	struct disk d = {.size = 3};
	memcpy(d.data, "xyz", 3);
	struct dc_file f;
	dc_init(&f, 3);
	assert_false(dc_dirty(&f));
	assert_int_equal(dc_flush(&f, &disk_ops, &d), 0);
	assert_string_equal(d.log, "");
	char buf[8];
	assert_int_equal(dc_read(&f, buf, 8, 1, disk_read, &d), 2);
	assert_memory_equal(buf, "yz", 2);
	assert_int_equal(dc_read(&f, buf, 8, 3, disk_read, &d), 0);
	assert_int_equal(dc_read(&f, buf, 8, 99, disk_read, &d), 0);
	/* A write of nothing changes nothing. */
	assert_int_equal(dc_write(&f, 50, "", 0), 0);
	assert_false(dc_dirty(&f));
	assert_int_equal(dc_drop(&f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_appends_stay_one_range),
		cmocka_unit_test(test_bridge_merges),
		cmocka_unit_test(test_truncate_hides_backing),
		cmocka_unit_test(test_failed_flush_then_drop),
		cmocka_unit_test(test_clean_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
