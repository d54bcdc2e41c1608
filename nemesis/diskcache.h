/*
 * diskcache.h - the dirty-range cache of one file, as faultline-diskd
 * (nemesis/daemons/diskd.c) keeps it: what a program wrote but did not
 * fsync yet, held apart from the file on disk ("the backing file") so that
 * it can be written out by an fsync (dc_flush) or dropped as a crash would
 * drop it (dc_drop).
 *
 * A file's cached state is: its size as programs see it; how many leading
 * bytes of the backing file are still visible (a truncate not yet flushed
 * hides what lies past it, even when the file grows again); and the written
 * ranges, sorted, never overlapping or touching (a write merges with every
 * range it overlaps or touches). Reads merge the three: backing bytes below
 * the visible limit, zeros elsewhere, written ranges on top.
 *
 * Pure logic on memory: the backing file is reached only through the
 * callbacks given to dc_read and dc_flush, so tests/unit/test_diskcache.c
 * checks it against a model without any filesystem.
 */
#ifndef FAULTLINE_DISKCACHE_H
#define FAULTLINE_DISKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dc_range {
	uint64_t off;
	size_t len, cap;
	unsigned char *data;
};

struct dc_file {
	uint64_t base;   /* size of the backing file (as last flushed or found) */
	uint64_t keep;   /* backing bytes below this are visible (<= base) */
	uint64_t size;   /* size programs see */
	struct dc_range *r;
	size_t n, cap;
	uint64_t bytes;  /* sum of the ranges' lengths */
};

/* A clean file whose backing file has backing_size bytes. */
void dc_init(struct dc_file *f, uint64_t backing_size);
/* Free the ranges (the file is left clean, at its backing size). */
void dc_free(struct dc_file *f);
/* Anything not flushed: ranges, a truncate, a size change. */
bool dc_dirty(const struct dc_file *f);

/* Cache a write; the size grows to cover it. 0, or -ENOMEM (nothing
 * changed). */
int dc_write(struct dc_file *f, uint64_t off, const void *buf, size_t len);
/* Cache a truncate (or an extension: the new bytes read as zeros). */
void dc_truncate(struct dc_file *f, uint64_t size);

/* Reads n bytes of the backing file at off into buf: the count read (short
 * at its end), or -errno. */
typedef ssize_t (*dc_read_fn)(void *ctx, void *buf, size_t n, uint64_t off);
/* Read [off, off+len) as programs see it: the count (short at the end of
 * the file, 0 past it), or a negative errno from backing. */
ssize_t dc_read(const struct dc_file *f, void *buf, size_t len, uint64_t off,
		dc_read_fn backing, void *ctx);

/* How dc_flush changes the backing file: 0 or -errno each. */
struct dc_backing {
	int (*truncate)(void *ctx, uint64_t size);
	int (*write)(void *ctx, const void *buf, size_t n, uint64_t off);
};
/* Write the cached state to the backing file: the truncate first (what it
 * hid must not come back), the ranges, then the size. On success the file
 * is clean at its new size; on an error it stays dirty (a later flush
 * repeats the same writes). Returns the number of range bytes written, or
 * a negative errno. The caller fsyncs the backing file afterwards. */
long long dc_flush(struct dc_file *f, const struct dc_backing *b, void *ctx);
/* Drop the cached state (a crash): the file is again what the backing
 * file holds. Returns the number of range bytes dropped. */
uint64_t dc_drop(struct dc_file *f);

#endif
