/*
 * diskcache.c - the dirty-range cache of one file (diskcache.h), used by
 * faultline-diskd. Ranges live in a sorted array; a write finds the ranges
 * it overlaps or touches by binary search and merges them into one, so a
 * log appended in small writes stays one range that grows by doubling.
 */
#include "diskcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void dc_init(struct dc_file *f, uint64_t backing_size)
{
	memset(f, 0, sizeof *f);
	f->base = f->keep = f->size = backing_size;
}

static void ranges_free(struct dc_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->r[i].data);
	free(f->r);
	f->r = NULL;
	f->n = f->cap = 0;
	f->bytes = 0;
}

void dc_free(struct dc_file *f)
{
	ranges_free(f);
	f->keep = f->size = f->base;
}

bool dc_dirty(const struct dc_file *f)
{
	return f->n > 0 || f->keep != f->base || f->size != f->base;
}

static uint64_t range_end(const struct dc_range *r) { return r->off + r->len; }

/* First range ending at or after off (so overlapping or touching a write
 * that starts at off), or n. */
static size_t first_reaching(const struct dc_file *f, uint64_t off)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (range_end(&f->r[mid]) < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert_range(struct dc_file *f, size_t at, uint64_t off, const void *buf, size_t len)
{
	unsigned char *data = malloc(len);
	if (!data)
		return -ENOMEM;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct dc_range *r = realloc(f->r, cap * sizeof *r);
		if (!r) {
			free(data);
			return -ENOMEM;
		}
		f->r = r;
		f->cap = cap;
	}
	memmove(&f->r[at + 1], &f->r[at], (f->n - at) * sizeof *f->r);
	memcpy(data, buf, len);
	f->r[at] = (struct dc_range){.off = off, .len = len, .cap = len, .data = data};
	f->n++;
	f->bytes += len;
	return 0;
}

int dc_write(struct dc_file *f, uint64_t off, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	uint64_t end = off + len;
	size_t i = first_reaching(f, off), j = i;
	while (j < f->n && f->r[j].off <= end)
		j++;
	if (i == j) {
		int rc = insert_range(f, i, off, buf, len);
		if (rc < 0)
			return rc;
	} else {
		/* Ranges i..j-1 all overlap or touch [off, end): together with
		 * it they span one contiguous run, which becomes range i. */
		struct dc_range *a = &f->r[i];
		uint64_t noff = off < a->off ? off : a->off;
		uint64_t last = range_end(&f->r[j - 1]);
		uint64_t nend = end > last ? end : last;
		size_t nlen = (size_t)(nend - noff);
		size_t old = 0;
		for (size_t k = i; k < j; k++)
			old += f->r[k].len;
		if (a->off == noff) {
			if (nlen > a->cap) {
				size_t cap = a->cap * 2 > nlen ? a->cap * 2 : nlen;
				unsigned char *d = realloc(a->data, cap);
				if (!d)
					return -ENOMEM;
				a->data = d;
				a->cap = cap;
			}
			for (size_t k = i + 1; k < j; k++)
				memcpy(a->data + (f->r[k].off - noff), f->r[k].data, f->r[k].len);
		} else {
			unsigned char *d = malloc(nlen);
			if (!d)
				return -ENOMEM;
			for (size_t k = i; k < j; k++)
				memcpy(d + (f->r[k].off - noff), f->r[k].data, f->r[k].len);
			free(a->data);
			a->data = d;
			a->cap = nlen;
		}
		memcpy(a->data + (off - noff), buf, len);
		a->off = noff;
		a->len = nlen;
		for (size_t k = i + 1; k < j; k++)
			free(f->r[k].data);
		memmove(&f->r[i + 1], &f->r[j], (f->n - j) * sizeof *f->r);
		f->n -= j - i - 1;
		f->bytes = f->bytes - old + nlen;
	}
	if (end > f->size)
		f->size = end;
	return 0;
}

void dc_truncate(struct dc_file *f, uint64_t size)
{
	while (f->n && f->r[f->n - 1].off >= size) {
		f->n--;
		f->bytes -= f->r[f->n].len;
		free(f->r[f->n].data);
	}
	if (f->n && range_end(&f->r[f->n - 1]) > size) {
		struct dc_range *r = &f->r[f->n - 1];
		size_t cut = (size_t)(range_end(r) - size);
		r->len -= cut;
		f->bytes -= cut;
	}
	if (size < f->keep)
		f->keep = size;
	f->size = size;
}

ssize_t dc_read(const struct dc_file *f, void *buf, size_t len, uint64_t off,
		dc_read_fn backing, void *ctx)
{
	if (off >= f->size || len == 0)
		return 0;
	if (len > f->size - off)
		len = (size_t)(f->size - off);
	unsigned char *p = buf;
	size_t got = 0;
	if (off < f->keep) {
		size_t want = f->keep - off < len ? (size_t)(f->keep - off) : len;
		/* A short read is the end of the backing file (holes and a
		 * file that grew in the cache read as zeros). */
		while (got < want) {
			ssize_t r = backing(ctx, p + got, want - got, off + got);
			if (r < 0)
				return r;
			if (r == 0)
				break;
			got += (size_t)r;
		}
	}
	memset(p + got, 0, len - got);
	uint64_t end = off + len;
	for (size_t k = first_reaching(f, off + 1); k < f->n && f->r[k].off < end; k++) {
		const struct dc_range *r = &f->r[k];
		uint64_t s = r->off > off ? r->off : off;
		uint64_t e = range_end(r) < end ? range_end(r) : end;
		if (s < e)
			memcpy(p + (s - off), r->data + (s - r->off), (size_t)(e - s));
	}
	return (ssize_t)len;
}

long long dc_flush(struct dc_file *f, const struct dc_backing *b, void *ctx)
{
	if (!dc_dirty(f))
		return 0;
	/* base follows what the backing file really holds at every step, so
	 * that a drop after a failed flush shows exactly that. */
	if (f->keep < f->base) {
		int rc = b->truncate(ctx, f->keep);
		if (rc < 0)
			return rc;
		f->base = f->keep;
	}
	long long written = 0;
	for (size_t k = 0; k < f->n; k++) {
		const struct dc_range *r = &f->r[k];
		int rc = b->write(ctx, r->data, r->len, r->off);
		if (rc < 0)
			return rc;
		written += (long long)r->len;
		if (range_end(r) > f->base)
			f->base = range_end(r);
	}
	if (f->size != f->base) {
		int rc = b->truncate(ctx, f->size);
		if (rc < 0)
			return rc;
		f->base = f->size;
	}
	ranges_free(f);
	f->keep = f->size = f->base;
	return written;
}

uint64_t dc_drop(struct dc_file *f)
{
	uint64_t dropped = f->bytes;
	ranges_free(f);
	f->keep = f->size = f->base;
	return dropped;
}
