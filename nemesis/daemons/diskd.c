/*
 * diskd.c - faultline-diskd, the disk faults' filesystem (nemesis/disk.c):
 * a FUSE passthrough (libfuse3, high-level API) mounted over a database's
 * data directory, on top of that very directory (opened before the mount,
 * reached through that descriptor), with a page cache of its own so that a
 * crash can be played back: written-but-not-fsynced data is kept in the
 * daemon (per file: dirty ranges, a pending truncate, diskcache.h) and only
 * reaches the directory below when the program fsyncs. A control socket in
 * the node's workdir takes commands:
 *
 *   lose-unfsynced   drop every unsynced range and truncate, undo every
 *                    rename no directory fsync made durable: the files
 *                    look as after a power failure
 *   flush            write and fsync everything, make every rename durable
 *   delay ops=read,write,fsync ms=M [dist=constant|uniform|exponential]
 *                    latency before each such operation (uniform: 0..2M)
 *   errors ops=... p=P [errno=EIO|ENOSPC]
 *                    fail a proportion P of those operations
 *   full on|off      disk full: ENOSPC for writes past a file's end,
 *                    fallocate and new files (overwrites still work)
 *   clear            no delay, no errors, not full
 *   write-through on|off   flush, then write through (nothing cached: what
 *                    heal leaves behind when the mount must stay)
 *   counters | status      JSON counters / one line of what is active
 *
 * What is and is not covered (the README says the same):
 * - write(2), pwrite, writev: cached until fsync/fdatasync of that file (or
 *   sync_file_range? no: only fsync, fdatasync, msync(MS_SYNC), O_SYNC,
 *   O_DSYNC and RWF_DSYNC writes, which the kernel turns into FUSE fsync).
 *   Writes through a file opened O_SYNC or O_DSYNC are flushed at once.
 * - mmap: the mount is not direct_io, so the kernel page cache sits in
 *   front of the daemon and mmap works. Shared read mappings see exactly
 *   the daemon's view (etcd's bbolt: read-only mmap of its db file, writes
 *   with pwrite, fdatasync: fully covered). Stores into a shared writable
 *   mapping reach the daemon when the kernel writes the page back (msync,
 *   munmap, writeback) and are cached like writes; pages still dirty in the
 *   kernel at a lose are pushed to the daemon first (disk.c runs sync -f on
 *   the mount before lose-unfsynced), so they are lost too. After a lose a
 *   process that still maps the file keeps its pages; a new open re-reads
 *   (files are opened without keep_cache and attributes are never cached).
 * - O_DIRECT: accepted; the kernel sends such I/O straight to the daemon,
 *   which caches it like any write (a disk's volatile write cache loses
 *   O_DIRECT writes without fsync too). Alignment is not enforced.
 * - truncate, ftruncate, O_TRUNC and fallocate growing a file: cached like
 *   writes (a lose brings the old size and bytes back).
 * - rename: applied at once, and journaled until an fsync of the directory
 *   it landed in; lose-unfsynced undoes the journaled ones, newest first
 *   (a replaced file is kept in a hidden trash directory to come back).
 *   Dirty data belongs to the inode, so a renamed file keeps its unsynced
 *   writes. A file created at the old name after the rename is replaced by
 *   the undo.
 * - create, mkdir, unlink, rmdir, link, symlink, chmod, chown, utimens:
 *   applied at once and durable (as if the directory had been fsynced);
 *   a file created and never fsynced survives a lose, empty. An unlinked
 *   file's unsynced data goes with its last name and descriptor.
 * - not implemented: xattrs, fallocate hole punching, file locks (the
 *   kernel keeps flock/POSIX locks locally, which is what a single node
 *   needs), copy_file_range (the kernel falls back to read+write).
 *
 *   faultline-diskd [--daemon] [--pidfile F] [--log F] --socket S
 *                   [--writeback-ms N] [--max-dirty-mb N] DIR
 *   faultline-diskd --ctl S COMMAND [ARG...]
 *   faultline-diskd --is-mounted DIR | --unmount [--lazy] DIR | --version
 *
 * --writeback-ms N writes back (without fsync) data dirty for N ms, as a
 * kernel's periodic writeback would (default 0: never); --max-dirty-mb
 * bounds the daemon's memory (default 256): past it, the file being written
 * is written back. Written-back data survives a lose. On SIGTERM or an
 * unmount everything cached is flushed before the daemon exits.
 */
#define FUSE_USE_VERSION 312
#include <fuse.h>

#include "diskcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DISKD_VERSION "faultline-diskd 1"
#define TRASH ".faultline-diskd"
#define FSTYPE "fuse.faultline-diskd"

static int rootfd = -1, trashfd = -1;
static char mnt[PATH_MAX];
static int64_t writeback_ns;
static uint64_t max_dirty = 256ull << 20;
static atomic_bool write_through;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s faultline-diskd %ld: ", ts, (long)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- counters ---- */

enum { OP_READ, OP_WRITE, OP_FSYNC, N_OPS };
static const char *const op_names[N_OPS] = {"read", "write", "fsync"};

static struct {
	atomic_ullong ops[N_OPS], bytes_read, bytes_written;
	atomic_ullong dirty_bytes;      /* cached now */
	atomic_ullong flushed_bytes, writeback_bytes;
	atomic_ullong lost_bytes, lost_files, loses;
	atomic_ullong renames_journaled, renames_undone, renames_committed, undo_failed;
	atomic_ullong errors[N_OPS], enospc_full, delayed, delay_us;
} ctr;

/* ---- faults ---- */

enum dist { DIST_CONSTANT, DIST_UNIFORM, DIST_EXPONENTIAL };
static const char *const dist_names[] = {"constant", "uniform", "exponential"};

struct faults {
	bool delay[N_OPS];
	enum dist dist;
	double ms;
	bool err[N_OPS];
	double p;
	int errnum;
	bool full;
};
static struct faults faults;
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;

static struct faults faults_now(void)
{
	pthread_mutex_lock(&fault_lock);
	struct faults f = faults;
	pthread_mutex_unlock(&fault_lock);
	return f;
}

static double rand_unit(void)
{
	static __thread uint64_t s;
	if (!s)
		s = (uint64_t)now_ns() ^ ((uint64_t)pthread_self() * 0x9e3779b97f4a7c15ull) ^ 1;
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (double)((s * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

/* Before an operation of kind op: its latency, then maybe its failure
 * (an errno to return, else 0). */
static int fault_before(int op)
{
	struct faults f = faults_now();
	atomic_fetch_add(&ctr.ops[op], 1);
	if (f.delay[op] && f.ms > 0) {
		double ms = f.dist == DIST_CONSTANT ? f.ms
			    : f.dist == DIST_UNIFORM ? 2 * f.ms * rand_unit()
						      : -f.ms * log(1 - rand_unit());
		if (ms > 60000)
			ms = 60000;
		struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
				      .tv_nsec = (long)(fmod(ms, 1000) * 1e6)};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		atomic_fetch_add(&ctr.delayed, 1);
		atomic_fetch_add(&ctr.delay_us, (unsigned long long)(ms * 1000));
	}
	if (f.err[op] && rand_unit() < f.p) {
		atomic_fetch_add(&ctr.errors[op], 1);
		return f.errnum;
	}
	return 0;
}

static bool disk_full(void) { return faults_now().full; }

static int enospc_full(void)
{
	atomic_fetch_add(&ctr.enospc_full, 1);
	return -ENOSPC;
}

/* ---- paths ---- */

/* The backing path of a FUSE path, relative to rootfd. */
static const char *rel(const char *path) { return path[0] == '/' && path[1] ? path + 1 : "."; }

/* The trash directory is invisible through the mount. */
static bool hidden(const char *path)
{
	size_t l = strlen(TRASH);
	return path && path[0] == '/' && !strncmp(path + 1, TRASH, l) &&
	       (path[1 + l] == 0 || path[1 + l] == '/');
}

/* Give a new file to the caller (the daemon runs as root). */
static void own(const char *path)
{
	struct fuse_context *cx = fuse_get_context();
	if (cx && (cx->uid != geteuid() || cx->gid != getegid()))
		if (fchownat(rootfd, rel(path), cx->uid, cx->gid, AT_SYMLINK_NOFOLLOW) < 0)
			logf_("chown %s: %s", path, strerror(errno));
}

/* ---- files: one per backing inode, while open or dirty ---- */

struct dfile {
	dev_t dev;
	ino_t ino;
	int fd;          /* O_RDWR on the backing inode when possible */
	int opens;       /* table_lock */
	pthread_mutex_t lock;
	struct dc_file c;
	int64_t dirty_since;
	struct dfile *next;
};

#define NBUCKET 4096
static struct dfile *table[NBUCKET];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t bucket(dev_t dev, ino_t ino)
{
	return (size_t)(((uint64_t)ino * 0x9e3779b97f4a7c15ull) ^ (uint64_t)dev) % NBUCKET;
}

static struct dfile *df_find(dev_t dev, ino_t ino)
{
	for (struct dfile *d = table[bucket(dev, ino)]; d; d = d->next)
		if (d->dev == dev && d->ino == ino)
			return d;
	return NULL;
}

static void df_unlink_table(struct dfile *df)
{
	struct dfile **pp = &table[bucket(df->dev, df->ino)];
	while (*pp && *pp != df)
		pp = &(*pp)->next;
	if (*pp)
		*pp = df->next;
}

static void df_destroy(struct dfile *df)
{
	atomic_fetch_sub(&ctr.dirty_bytes, df->c.bytes);
	dc_free(&df->c);
	close(df->fd);
	pthread_mutex_destroy(&df->lock);
	free(df);
}

/* table_lock held: remove df when nothing needs it any more (no open,
 * nothing cached; or its inode has no name left, so its data is gone). */
static void df_maybe_free(struct dfile *df)
{
	if (df->opens > 0)
		return;
	struct stat st;
	bool gone = fstat(df->fd, &st) == 0 && st.st_nlink == 0;
	pthread_mutex_lock(&df->lock);
	bool dirty = dc_dirty(&df->c);
	pthread_mutex_unlock(&df->lock);
	if (dirty && !gone)
		return;
	df_unlink_table(df);
	df_destroy(df);
}

/* table_lock held: the entry for fd's inode (fd is taken over or closed). */
static struct dfile *df_get(int fd, int *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	struct dfile *df = df_find(st.st_dev, st.st_ino);
	if (df) {
		close(fd);
		return df;
	}
	df = calloc(1, sizeof *df);
	if (!df) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	df->dev = st.st_dev;
	df->ino = st.st_ino;
	df->fd = fd;
	pthread_mutex_init(&df->lock, NULL);
	dc_init(&df->c, (uint64_t)st.st_size);
	size_t b = bucket(df->dev, df->ino);
	df->next = table[b];
	table[b] = df;
	return df;
}

/* Open the backing file read-write if at all possible (flushes need it,
 * whatever the program asked for); O_APPEND, O_TRUNC, O_DIRECT and the
 * sync flags are the daemon's business, not the backing file's. */
static int backing_open(const char *path, int flags, mode_t mode)
{
	int f = (flags & (O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC;
	int fd = openat(rootfd, rel(path), f | O_RDWR, mode);
	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == ETXTBSY || errno == EPERM))
		fd = openat(rootfd, rel(path), f | (flags & O_ACCMODE), mode);
	return fd < 0 ? -errno : fd;
}

static ssize_t backing_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct dfile *df = ctx;
	ssize_t r;
	while ((r = pread(df->fd, buf, n, (off_t)off)) < 0 && errno == EINTR)
		;
	return r < 0 ? -errno : r;
}

static int backing_truncate(void *ctx, uint64_t size)
{
	struct dfile *df = ctx;
	return ftruncate(df->fd, (off_t)size) < 0 ? -errno : 0;
}

static int backing_write(void *ctx, const void *buf, size_t n, uint64_t off)
{
	struct dfile *df = ctx;
	const char *p = buf;
	while (n > 0) {
		ssize_t w = pwrite(df->fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static const struct dc_backing backing_ops = {backing_truncate, backing_write};

enum flush_how { FLUSH_ONLY, FLUSH_DATASYNC, FLUSH_SYNC };

/* df->lock held: write df's cached state to the backing file, then fsync
 * it as asked. 0 or -errno (the state stays cached on error). */
static int df_flush_locked(struct dfile *df, enum flush_how how, atomic_ullong *count)
{
	uint64_t before = df->c.bytes;
	long long w = dc_flush(&df->c, &backing_ops, df);
	if (w < 0)
		return (int)w;
	atomic_fetch_sub(&ctr.dirty_bytes, before);
	atomic_fetch_add(count, (unsigned long long)w);
	df->dirty_since = 0;
	if (how == FLUSH_DATASYNC && fdatasync(df->fd) < 0)
		return -errno;
	if (how == FLUSH_SYNC && fsync(df->fd) < 0)
		return -errno;
	return 0;
}

/* ---- rename journal ---- */

struct jent {
	char *from, *to;
	bool exchange;
	bool trash;            /* the replaced target lives in TRASH/name */
	char name[32];
	dev_t pdev;            /* the directory the new name is in */
	ino_t pino;
	dev_t fdev;            /* exchange: the other directory */
	ino_t fino;
};
static struct jent *journal;
static size_t n_journal, cap_journal;
static unsigned long long trash_seq;
static pthread_mutex_t ns_lock = PTHREAD_MUTEX_INITIALIZER;

static void parent_of(const char *path, char *out, size_t n)
{
	snprintf(out, n, "%s", path);
	char *s = strrchr(out, '/');
	if (s == out || !s)
		snprintf(out, n, "/");
	else
		*s = 0;
}

static int dir_id(const char *path, dev_t *dev, ino_t *ino)
{
	char p[PATH_MAX];
	parent_of(path, p, sizeof p);
	struct stat st;
	if (fstatat(rootfd, rel(p), &st, 0) < 0)
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static void jent_free(struct jent *e)
{
	free(e->from);
	free(e->to);
}

/* Forget the replaced inode of a committed entry (table_lock taken here:
 * its cached data, if any, goes with it). */
static void trash_drop(const char *name)
{
	struct stat st;
	bool have = fstatat(trashfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (unlinkat(trashfd, name, 0) < 0 && errno != ENOENT)
		unlinkat(trashfd, name, AT_REMOVEDIR);
	if (have) {
		pthread_mutex_lock(&table_lock);
		struct dfile *df = df_find(st.st_dev, st.st_ino);
		if (df)
			df_maybe_free(df);
		pthread_mutex_unlock(&table_lock);
	}
}

/* ns_lock held: make entries durable (all when dev/ino are 0). */
static unsigned commit_renames(dev_t dev, ino_t ino, bool all)
{
	size_t j = 0;
	unsigned n = 0;
	for (size_t i = 0; i < n_journal; i++) {
		struct jent *e = &journal[i];
		bool hit = all || (e->pdev == dev && e->pino == ino) ||
			   (e->exchange && e->fdev == dev && e->fino == ino);
		if (!hit) {
			journal[j++] = *e;
			continue;
		}
		if (e->trash)
			trash_drop(e->name);
		jent_free(e);
		n++;
	}
	n_journal = j;
	atomic_fetch_add(&ctr.renames_committed, n);
	return n;
}

/* ns_lock held: undo every journaled rename, newest first. */
static unsigned undo_renames(void)
{
	unsigned n = 0;
	while (n_journal > 0) {
		struct jent *e = &journal[--n_journal];
		bool ok;
		if (e->exchange) {
			ok = renameat2(rootfd, rel(e->to), rootfd, rel(e->from), RENAME_EXCHANGE) == 0;
		} else {
			ok = renameat(rootfd, rel(e->to), rootfd, rel(e->from)) == 0;
			if (e->trash && renameat(trashfd, e->name, rootfd, rel(e->to)) < 0) {
				ok = false;
				trash_drop(e->name);
			}
		}
		if (ok)
			n++;
		else
			atomic_fetch_add(&ctr.undo_failed, 1);
		jent_free(e);
	}
	atomic_fetch_add(&ctr.renames_undone, n);
	return n;
}

static int journal_add(const struct jent *e)
{
	if (n_journal == cap_journal) {
		size_t cap = cap_journal ? cap_journal * 2 : 16;
		struct jent *j = realloc(journal, cap * sizeof *j);
		if (!j)
			return -ENOMEM;
		journal = j;
		cap_journal = cap;
	}
	journal[n_journal++] = *e;
	atomic_fetch_add(&ctr.renames_journaled, 1);
	return 0;
}

/* ---- whole-filesystem operations (control commands) ---- */

struct totals {
	unsigned long long bytes, files, renames;
	int err;
};

static struct totals flush_all(enum flush_how how, bool commit, atomic_ullong *count)
{
	struct totals t = {0};
	if (commit)
		pthread_mutex_lock(&ns_lock);
	pthread_mutex_lock(&table_lock);
	for (size_t b = 0; b < NBUCKET; b++)
		for (struct dfile *df = table[b], *next; df; df = next) {
			next = df->next;
			pthread_mutex_lock(&df->lock);
			uint64_t bytes = df->c.bytes;
			bool dirty = dc_dirty(&df->c);
			int rc = dirty ? df_flush_locked(df, how, count) : 0;
			pthread_mutex_unlock(&df->lock);
			if (rc < 0 && !t.err)
				t.err = rc;
			if (dirty && rc == 0) {
				t.files++;
				t.bytes += bytes;
			}
			df_maybe_free(df);
		}
	pthread_mutex_unlock(&table_lock);
	if (commit) {
		t.renames = commit_renames(0, 0, true);
		pthread_mutex_unlock(&ns_lock);
		/* Directories and the flushed files, durable on the disk below. */
		if (syncfs(rootfd) < 0 && !t.err)
			t.err = -errno;
	}
	return t;
}

static struct totals lose_all(void)
{
	struct totals t = {0};
	pthread_mutex_lock(&ns_lock);
	pthread_mutex_lock(&table_lock);
	for (size_t b = 0; b < NBUCKET; b++)
		for (struct dfile *df = table[b], *next; df; df = next) {
			next = df->next;
			pthread_mutex_lock(&df->lock);
			bool dirty = dc_dirty(&df->c);
			uint64_t dropped = dc_drop(&df->c);
			df->dirty_since = 0;
			pthread_mutex_unlock(&df->lock);
			atomic_fetch_sub(&ctr.dirty_bytes, dropped);
			if (dirty) {
				t.files++;
				t.bytes += dropped;
			}
			df_maybe_free(df);
		}
	pthread_mutex_unlock(&table_lock);
	t.renames = undo_renames();
	pthread_mutex_unlock(&ns_lock);
	atomic_fetch_add(&ctr.lost_bytes, t.bytes);
	atomic_fetch_add(&ctr.lost_files, t.files);
	atomic_fetch_add(&ctr.loses, 1);
	return t;
}

/* ---- FUSE operations ---- */

#define OFILE_MAGIC 0xfa17d15cu

struct ofile {
	unsigned magic;
	struct dfile *df;
	int sync;   /* 0, FLUSH_DATASYNC (O_DSYNC) or FLUSH_SYNC (O_SYNC) */
};

struct odir {
	DIR *d;
	bool root;
};

/* The open file behind fi, or NULL: the kernel also passes handles of
 * open directories to setattr, and there libfuse's high-level API hands
 * over a handle of its own, never ours. */
static struct ofile *ofile_of(const struct fuse_file_info *fi)
{
	struct ofile *of = fi && fi->fh ? (struct ofile *)(uintptr_t)fi->fh : NULL;
	return of && of->magic == OFILE_MAGIC ? of : NULL;
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* The daemon's view must be the only one: no attribute, entry or
	 * data caching across opens, inode numbers of the files below. */
	cfg->use_ino = 1;
	cfg->nullpath_ok = 0; /* paths, except of unlinked files */
	cfg->hard_remove = 1;
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 0;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	return NULL;
}

/* st of a regular file with cached state: the size programs see. */
static void size_override(struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return;
	pthread_mutex_lock(&table_lock);
	struct dfile *df = df_find(st->st_dev, st->st_ino);
	if (df) {
		pthread_mutex_lock(&df->lock);
		st->st_size = (off_t)df->c.size;
		pthread_mutex_unlock(&df->lock);
	}
	pthread_mutex_unlock(&table_lock);
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct ofile *of = ofile_of(fi);
	if (of) {
		if (fstat(of->df->fd, st) < 0)
			return -errno;
	} else {
		if (!path || hidden(path))
			return -ENOENT;
		if (fstatat(rootfd, rel(path), st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	size_override(st);
	return 0;
}

static int op_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(rootfd, rel(path), buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int op_mknod(const char *path, mode_t mode, dev_t rdev)
{
	if (hidden(path))
		return -EPERM;
	if (disk_full())
		return enospc_full();
	if (mknodat(rootfd, rel(path), mode, rdev) < 0)
		return -errno;
	own(path);
	return 0;
}

static int op_mkdir(const char *path, mode_t mode)
{
	if (hidden(path))
		return -EPERM;
	if (disk_full())
		return enospc_full();
	if (mkdirat(rootfd, rel(path), mode) < 0)
		return -errno;
	own(path);
	return 0;
}

/* After a name went away: forget the inode's cache if it was the last. */
static void reap(const struct stat *st)
{
	pthread_mutex_lock(&table_lock);
	struct dfile *df = df_find(st->st_dev, st->st_ino);
	if (df)
		df_maybe_free(df);
	pthread_mutex_unlock(&table_lock);
}

static int op_unlink(const char *path)
{
	if (hidden(path))
		return -ENOENT;
	struct stat st;
	bool have = fstatat(rootfd, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (unlinkat(rootfd, rel(path), 0) < 0)
		return -errno;
	if (have)
		reap(&st);
	return 0;
}

static int op_rmdir(const char *path)
{
	if (hidden(path))
		return -ENOENT;
	return unlinkat(rootfd, rel(path), AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int op_symlink(const char *target, const char *path)
{
	if (hidden(path))
		return -EPERM;
	if (disk_full())
		return enospc_full();
	if (symlinkat(target, rootfd, rel(path)) < 0)
		return -errno;
	own(path);
	return 0;
}

static int op_link(const char *from, const char *to)
{
	if (hidden(from) || hidden(to))
		return -EPERM;
	if (disk_full())
		return enospc_full();
	return linkat(rootfd, rel(from), rootfd, rel(to), 0) < 0 ? -errno : 0;
}

static bool dir_empty(const char *path)
{
	int fd = openat(rootfd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
	if (hidden(from) || hidden(to))
		return -EPERM;
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (atomic_load(&write_through))
		return renameat2(rootfd, rel(from), rootfd, rel(to), flags) < 0 ? -errno : 0;
	pthread_mutex_lock(&ns_lock);
	struct jent e = {.exchange = (flags & RENAME_EXCHANGE) != 0};
	struct stat sf, stt;
	int rc = 0;
	if (fstatat(rootfd, rel(from), &sf, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = -errno;
		goto out;
	}
	bool target = fstatat(rootfd, rel(to), &stt, AT_SYMLINK_NOFOLLOW) == 0;
	if (target && sf.st_dev == stt.st_dev && sf.st_ino == stt.st_ino) {
		/* Two names of one inode: rename does nothing. */
		rc = renameat2(rootfd, rel(from), rootfd, rel(to), flags) < 0 ? -errno : 0;
		goto out;
	}
	/* A directory is replaced only by a directory, and only when empty:
	 * checked here, since it goes to the trash before the rename. */
	if (target && !flags && S_ISDIR(stt.st_mode)) {
		if (!S_ISDIR(sf.st_mode)) {
			rc = -EISDIR;
			goto out;
		}
		if (!dir_empty(to)) {
			rc = -ENOTEMPTY;
			goto out;
		}
	}
	if ((rc = dir_id(to, &e.pdev, &e.pino)) < 0 ||
	    (e.exchange && (rc = dir_id(from, &e.fdev, &e.fino)) < 0))
		goto out;
	/* Keep the inode the rename replaces, so that an undo can put it
	 * back: a hard link for a file (the rename itself stays atomic), a
	 * move for an (empty) directory. */
	if (target && !flags) {
		snprintf(e.name, sizeof e.name, "r%llu", ++trash_seq);
		int r = S_ISDIR(stt.st_mode) ? renameat(rootfd, rel(to), trashfd, e.name)
					     : linkat(rootfd, rel(to), trashfd, e.name, 0);
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		e.trash = true;
	}
	if (renameat2(rootfd, rel(from), rootfd, rel(to), flags) < 0) {
		rc = -errno;
		if (e.trash) {
			if (S_ISDIR(stt.st_mode))
				renameat(trashfd, e.name, rootfd, rel(to));
			else
				unlinkat(trashfd, e.name, 0);
		}
		goto out;
	}
	e.from = strdup(from);
	e.to = strdup(to);
	if (!e.from || !e.to || journal_add(&e) < 0) {
		/* Out of memory: the rename stands, durable. */
		if (e.trash)
			trash_drop(e.name);
		jent_free(&e);
	}
out:
	pthread_mutex_unlock(&ns_lock);
	return rc;
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct ofile *of = ofile_of(fi);
	if (!path && of)
		return fchmod(of->df->fd, mode) < 0 ? -errno : 0;
	if (!path || hidden(path))
		return -ENOENT;
	return fchmodat(rootfd, rel(path), mode, 0) < 0 ? -errno : 0;
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	struct ofile *of = ofile_of(fi);
	if (!path && of)
		return fchown(of->df->fd, uid, gid) < 0 ? -errno : 0;
	if (!path || hidden(path))
		return -ENOENT;
	return fchownat(rootfd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Cache a size change of df (table_lock not held). */
static int df_truncate(struct dfile *df, off_t size)
{
	int e = fault_before(OP_WRITE);
	if (e)
		return -e;
	pthread_mutex_lock(&df->lock);
	uint64_t before = df->c.bytes;
	dc_truncate(&df->c, (uint64_t)size);
	atomic_fetch_sub(&ctr.dirty_bytes, before - df->c.bytes);
	if (dc_dirty(&df->c) && !df->dirty_since)
		df->dirty_since = now_ns();
	int rc = 0;
	if (atomic_load(&write_through))
		rc = df_flush_locked(df, FLUSH_ONLY, &ctr.flushed_bytes);
	pthread_mutex_unlock(&df->lock);
	return rc;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	if (size < 0)
		return -EINVAL;
	struct ofile *of = ofile_of(fi);
	if (of)
		return df_truncate(of->df, size);
	if (!path || hidden(path))
		return -ENOENT;
	int fd = backing_open(path, O_WRONLY, 0);
	if (fd < 0)
		return fd;
	int err = 0;
	pthread_mutex_lock(&table_lock);
	struct dfile *df = df_get(fd, &err);
	if (df)
		df->opens++;
	pthread_mutex_unlock(&table_lock);
	if (!df)
		return err;
	int rc = df_truncate(df, size);
	pthread_mutex_lock(&table_lock);
	df->opens--;
	df_maybe_free(df);
	pthread_mutex_unlock(&table_lock);
	return rc;
}

static int file_open(const char *path, struct fuse_file_info *fi, int fd)
{
	struct ofile *of = calloc(1, sizeof *of);
	if (!of) {
		close(fd);
		return -ENOMEM;
	}
	int err = 0;
	pthread_mutex_lock(&table_lock);
	struct dfile *df = df_get(fd, &err);
	if (df)
		df->opens++;
	pthread_mutex_unlock(&table_lock);
	if (!df) {
		free(of);
		return err;
	}
	of->magic = OFILE_MAGIC;
	of->df = df;
	if ((fi->flags & O_SYNC) == O_SYNC)
		of->sync = FLUSH_SYNC;
	else if (fi->flags & O_DSYNC)
		of->sync = FLUSH_DATASYNC;
	/* Never keep the kernel's pages across opens: after a lose, the
	 * next open must read what the daemon holds. */
	fi->keep_cache = 0;
	fi->direct_io = 0;
	fi->fh = (uint64_t)(uintptr_t)of;
	if (fi->flags & O_TRUNC) {
		int rc = df_truncate(df, 0);
		if (rc < 0) {
			pthread_mutex_lock(&table_lock);
			df->opens--;
			df_maybe_free(df);
			pthread_mutex_unlock(&table_lock);
			free(of);
			return rc;
		}
	}
	(void)path;
	return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	if (hidden(path))
		return -ENOENT;
	int fd = backing_open(path, fi->flags & ~O_CREAT, 0);
	if (fd < 0)
		return fd;
	return file_open(path, fi, fd);
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	if (hidden(path))
		return -EPERM;
	struct stat st;
	bool existed = fstatat(rootfd, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!existed && disk_full())
		return enospc_full();
	int fd = backing_open(path, fi->flags | O_CREAT, mode);
	if (fd < 0)
		return fd;
	if (!existed)
		own(path);
	return file_open(path, fi, fd);
}

static int op_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	(void)path;
	struct dfile *df = ((struct ofile *)(uintptr_t)fi->fh)->df;
	int e = fault_before(OP_READ);
	if (e)
		return -e;
	pthread_mutex_lock(&df->lock);
	ssize_t n = dc_read(&df->c, buf, size, (uint64_t)off, backing_read, df);
	pthread_mutex_unlock(&df->lock);
	if (n > 0)
		atomic_fetch_add(&ctr.bytes_read, (unsigned long long)n);
	return (int)n;
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)path;
	struct ofile *of = (struct ofile *)(uintptr_t)fi->fh;
	struct dfile *df = of->df;
	int e = fault_before(OP_WRITE);
	if (e)
		return -e;
	pthread_mutex_lock(&df->lock);
	if ((uint64_t)off + size > df->c.size && disk_full()) {
		pthread_mutex_unlock(&df->lock);
		return enospc_full();
	}
	uint64_t before = df->c.bytes;
	int rc = dc_write(&df->c, (uint64_t)off, buf, size);
	if (rc == 0) {
		atomic_fetch_add(&ctr.dirty_bytes, df->c.bytes - before);
		atomic_fetch_add(&ctr.bytes_written, size);
		if (!df->dirty_since)
			df->dirty_since = now_ns();
		if (of->sync)
			rc = df_flush_locked(df, (enum flush_how)of->sync, &ctr.flushed_bytes);
		else if (atomic_load(&write_through))
			rc = df_flush_locked(df, FLUSH_ONLY, &ctr.flushed_bytes);
		else if (atomic_load(&ctr.dirty_bytes) > max_dirty)
			rc = df_flush_locked(df, FLUSH_ONLY, &ctr.writeback_bytes);
	}
	pthread_mutex_unlock(&df->lock);
	return rc < 0 ? rc : (int)size;
}

static int op_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	if (fstatvfs(rootfd, st) < 0)
		return -errno;
	if (disk_full())
		st->f_bfree = st->f_bavail = 0;
	return 0;
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	struct ofile *of = (struct ofile *)(uintptr_t)fi->fh;
	pthread_mutex_lock(&table_lock);
	of->df->opens--;
	df_maybe_free(of->df);
	pthread_mutex_unlock(&table_lock);
	of->magic = 0;
	free(of);
	return 0;
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	struct dfile *df = ((struct ofile *)(uintptr_t)fi->fh)->df;
	int e = fault_before(OP_FSYNC);
	if (e)
		return -e;
	pthread_mutex_lock(&df->lock);
	int rc = df_flush_locked(df, datasync ? FLUSH_DATASYNC : FLUSH_SYNC, &ctr.flushed_bytes);
	pthread_mutex_unlock(&df->lock);
	return rc;
}

static int op_fallocate(const char *path, int mode, off_t off, off_t len,
			struct fuse_file_info *fi)
{
	(void)path;
	if (mode & ~FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	struct ofile *of = ofile_of(fi);
	if (!of)
		return -EBADF;
	struct dfile *df = of->df;
	if (disk_full())
		return enospc_full();
	/* Space is reserved below; a new size is cached like a truncate. */
	if (fallocate(df->fd, FALLOC_FL_KEEP_SIZE, off, len) < 0 && errno != EOPNOTSUPP)
		return -errno;
	pthread_mutex_lock(&df->lock);
	uint64_t size = df->c.size;
	pthread_mutex_unlock(&df->lock);
	if (!(mode & FALLOC_FL_KEEP_SIZE) && (uint64_t)(off + len) > size)
		return df_truncate(df, off + len);
	return 0;
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct ofile *of = ofile_of(fi);
	if (!path && of)
		return futimens(of->df->fd, tv) < 0 ? -errno : 0;
	if (!path || hidden(path))
		return -ENOENT;
	return utimensat(rootfd, rel(path), tv, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int op_opendir(const char *path, struct fuse_file_info *fi)
{
	if (hidden(path))
		return -ENOENT;
	int fd = openat(rootfd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct odir *od = calloc(1, sizeof *od);
	if (!od || !(od->d = fdopendir(fd))) {
		int e = od ? errno : ENOMEM;
		close(fd);
		free(od);
		return -e;
	}
	od->root = !strcmp(rel(path), ".");
	fi->fh = (uint64_t)(uintptr_t)od;
	return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)path, (void)off, (void)flags;
	struct odir *od = (struct odir *)(uintptr_t)fi->fh;
	rewinddir(od->d);
	struct dirent *de;
	while ((errno = 0, de = readdir(od->d))) {
		if (od->root && !strcmp(de->d_name, TRASH))
			continue;
		struct stat st = {.st_ino = de->d_ino, .st_mode = (mode_t)DTTOIF(de->d_type)};
		if (filler(buf, de->d_name, &st, 0, 0))
			break;
	}
	return errno ? -errno : 0;
}

static int op_releasedir(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	struct odir *od = (struct odir *)(uintptr_t)fi->fh;
	closedir(od->d);
	free(od);
	return 0;
}

/* An fsync of a directory makes the renames into it durable. */
static int op_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path, (void)datasync;
	struct odir *od = (struct odir *)(uintptr_t)fi->fh;
	int e = fault_before(OP_FSYNC);
	if (e)
		return -e;
	struct stat st;
	if (fstat(dirfd(od->d), &st) < 0)
		return -errno;
	pthread_mutex_lock(&ns_lock);
	commit_renames(st.st_dev, st.st_ino, false);
	pthread_mutex_unlock(&ns_lock);
	return fsync(dirfd(od->d)) < 0 ? -errno : 0;
}

static const struct fuse_operations ops = {
	.init = op_init,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.chmod = op_chmod,
	.chown = op_chown,
	.truncate = op_truncate,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.statfs = op_statfs,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.create = op_create,
	.utimens = op_utimens,
	.fallocate = op_fallocate,
};

/* ---- background writeback ---- */

static void *writeback_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
		int64_t now = now_ns();
		pthread_mutex_lock(&table_lock);
		for (size_t b = 0; b < NBUCKET; b++)
			for (struct dfile *df = table[b]; df; df = df->next) {
				pthread_mutex_lock(&df->lock);
				if (df->dirty_since && now - df->dirty_since >= writeback_ns)
					df_flush_locked(df, FLUSH_ONLY, &ctr.writeback_bytes);
				pthread_mutex_unlock(&df->lock);
			}
		pthread_mutex_unlock(&table_lock);
	}
	return NULL;
}

/* ---- control channel ---- */

struct out {
	char s[2048];
};

static void reply(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->s, sizeof o->s, fmt, ap);
	va_end(ap);
}

/* "read,write" -> mask; false on an unknown name. */
static bool parse_ops(const char *v, bool *mask)
{
	char tmp[128];
	snprintf(tmp, sizeof tmp, "%s", v);
	for (int i = 0; i < N_OPS; i++)
		mask[i] = false;
	char *save = NULL;
	for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int k = -1;
		for (int i = 0; i < N_OPS; i++)
			if (!strcmp(t, op_names[i]))
				k = i;
		if (!strcmp(t, "all")) {
			for (int i = 0; i < N_OPS; i++)
				mask[i] = true;
			continue;
		}
		if (k < 0)
			return false;
		mask[k] = true;
	}
	return true;
}

static bool parse_num(const char *v, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(d) || d < min || d > max)
		return false;
	*out = d;
	return true;
}

static void describe(struct faults *f, char *s, size_t n)
{
	size_t l = 0;
	s[0] = 0;
	bool any = false;
	for (int i = 0; i < N_OPS; i++)
		any |= f->delay[i];
	if (any && f->ms > 0) {
		l += (size_t)snprintf(s + l, n - l, "slow I/O (%s %.0f ms:", dist_names[f->dist], f->ms);
		for (int i = 0; i < N_OPS && l < n; i++)
			if (f->delay[i])
				l += (size_t)snprintf(s + l, n - l, " %s", op_names[i]);
		l += (size_t)snprintf(s + l, n - l, ")");
	}
	any = false;
	for (int i = 0; i < N_OPS; i++)
		any |= f->err[i];
	if (any && f->p > 0 && l < n) {
		l += (size_t)snprintf(s + l, n - l, "%sI/O errors (%s, p=%g:", l ? ", " : "",
				      f->errnum == ENOSPC ? "ENOSPC" : "EIO", f->p);
		for (int i = 0; i < N_OPS && l < n; i++)
			if (f->err[i])
				l += (size_t)snprintf(s + l, n - l, " %s", op_names[i]);
		l += (size_t)snprintf(s + l, n - l, ")");
	}
	if (f->full && l < n)
		snprintf(s + l, n - l, "%sdisk full", l ? ", " : "");
}

static void cmd_counters(struct out *o)
{
	struct faults f = faults_now();
	char active[512];
	describe(&f, active, sizeof active);
	pthread_mutex_lock(&ns_lock);
	size_t pending = n_journal;
	pthread_mutex_unlock(&ns_lock);
	size_t files = 0, dirty_files = 0;
	pthread_mutex_lock(&table_lock);
	for (size_t b = 0; b < NBUCKET; b++)
		for (struct dfile *df = table[b]; df; df = df->next) {
			files++;
			pthread_mutex_lock(&df->lock);
			dirty_files += dc_dirty(&df->c);
			pthread_mutex_unlock(&df->lock);
		}
	pthread_mutex_unlock(&table_lock);
#define C(x) (unsigned long long)atomic_load(&ctr.x)
	reply(o,
	      "ok {\"mount\":\"%s\",\"write_through\":%s,\"faults\":\"%s\","
	      "\"reads\":%llu,\"writes\":%llu,\"fsyncs\":%llu,\"bytes_read\":%llu,"
	      "\"bytes_written\":%llu,\"files\":%zu,\"dirty_files\":%zu,\"dirty_bytes\":%llu,"
	      "\"flushed_bytes\":%llu,\"writeback_bytes\":%llu,\"loses\":%llu,\"lost_bytes\":%llu,"
	      "\"lost_files\":%llu,\"renames_pending\":%zu,\"renames_journaled\":%llu,"
	      "\"renames_committed\":%llu,\"renames_undone\":%llu,\"undo_failed\":%llu,"
	      "\"read_errors\":%llu,\"write_errors\":%llu,\"fsync_errors\":%llu,"
	      "\"enospc_full\":%llu,\"delayed\":%llu,\"delay_ms\":%.1f}",
	      mnt, atomic_load(&write_through) ? "true" : "false", active, C(ops[OP_READ]),
	      C(ops[OP_WRITE]), C(ops[OP_FSYNC]), C(bytes_read), C(bytes_written), files,
	      dirty_files, C(dirty_bytes), C(flushed_bytes), C(writeback_bytes), C(loses),
	      C(lost_bytes), C(lost_files), pending, C(renames_journaled), C(renames_committed),
	      C(renames_undone), C(undo_failed), C(errors[OP_READ]), C(errors[OP_WRITE]),
	      C(errors[OP_FSYNC]), C(enospc_full), C(delayed), (double)C(delay_us) / 1000.0);
#undef C
}

/* What heal would change, in words; empty when nothing (a leftover check). */
static void cmd_status(struct out *o)
{
	struct faults f = faults_now();
	char active[512];
	describe(&f, active, sizeof active);
	pthread_mutex_lock(&ns_lock);
	size_t pending = n_journal;
	pthread_mutex_unlock(&ns_lock);
	unsigned long long dirty = atomic_load(&ctr.dirty_bytes);
	char what[1024];
	size_t l = (size_t)snprintf(what, sizeof what, "%s", active);
	if (!atomic_load(&write_through) && l < sizeof what)
		l += (size_t)snprintf(what + l, sizeof what - l, "%scaching writes", l ? ", " : "");
	if (dirty && l < sizeof what)
		l += (size_t)snprintf(what + l, sizeof what - l, ", %llu bytes unsynced", dirty);
	if (pending && l < sizeof what)
		snprintf(what + l, sizeof what - l, ", %zu renames pending", pending);
	reply(o, "ok%s%s", what[0] ? " " : "", what);
}

static void cmd_run(char *line, struct out *o)
{
	char *argv[16];
	int argc = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t\r\n", &save); t && argc < 16;
	     t = strtok_r(NULL, " \t\r\n", &save))
		argv[argc++] = t;
	if (argc == 0) {
		reply(o, "error empty command");
		return;
	}
	const char *cmd = argv[0];
	if (!strcmp(cmd, "ping")) {
		reply(o, "ok %s pid %ld on %s", DISKD_VERSION, (long)getpid(), mnt);
	} else if (!strcmp(cmd, "lose-unfsynced")) {
		struct totals t = lose_all();
		logf_("lose-unfsynced: %llu bytes of %llu files dropped, %llu renames undone",
		      t.bytes, t.files, t.renames);
		reply(o, "ok {\"lost_bytes\":%llu,\"lost_files\":%llu,\"renames_undone\":%llu}",
		      t.bytes, t.files, t.renames);
	} else if (!strcmp(cmd, "flush")) {
		struct totals t = flush_all(FLUSH_DATASYNC, true, &ctr.flushed_bytes);
		logf_("flush: %llu bytes of %llu files, %llu renames made durable%s%s", t.bytes,
		      t.files, t.renames, t.err ? ": " : "", t.err ? strerror(-t.err) : "");
		if (t.err)
			reply(o, "error flush: %s", strerror(-t.err));
		else
			reply(o, "ok {\"flushed_bytes\":%llu,\"flushed_files\":%llu,"
				 "\"renames_committed\":%llu}",
			      t.bytes, t.files, t.renames);
	} else if (!strcmp(cmd, "delay") || !strcmp(cmd, "errors")) {
		bool delay = !strcmp(cmd, "delay");
		struct faults f = faults_now();
		bool mask[N_OPS] = {true, true, true};
		double ms = -1, p = -1;
		enum dist dist = DIST_EXPONENTIAL;
		int errnum = EIO;
		for (int i = 1; i < argc; i++) {
			char *eq = strchr(argv[i], '=');
			if (!eq) {
				reply(o, "error %s: expected key=value, got %s", cmd, argv[i]);
				return;
			}
			*eq = 0;
			const char *k = argv[i], *v = eq + 1;
			bool good = true;
			if (!strcmp(k, "ops"))
				good = parse_ops(v, mask);
			else if (delay && !strcmp(k, "ms"))
				good = parse_num(v, 0, 60000, &ms);
			else if (delay && !strcmp(k, "dist")) {
				int d = -1;
				for (int j = 0; j < 3; j++)
					if (!strcmp(v, dist_names[j]))
						d = j;
				good = d >= 0;
				dist = (enum dist)(d < 0 ? 0 : d);
			} else if (!delay && !strcmp(k, "p"))
				good = parse_num(v, 0, 1, &p);
			else if (!delay && !strcmp(k, "errno")) {
				good = !strcmp(v, "EIO") || !strcmp(v, "ENOSPC");
				errnum = !strcmp(v, "ENOSPC") ? ENOSPC : EIO;
			} else
				good = false;
			if (!good) {
				reply(o, "error %s: bad %s=%s", cmd, k, v);
				return;
			}
		}
		if (delay ? ms < 0 : p < 0) {
			reply(o, "error %s: needs %s", cmd, delay ? "ms=" : "p=");
			return;
		}
		for (int i = 0; i < N_OPS; i++)
			if (delay)
				f.delay[i] = mask[i];
			else
				f.err[i] = mask[i];
		if (delay) {
			f.ms = ms;
			f.dist = dist;
		} else {
			f.p = p;
			f.errnum = errnum;
		}
		pthread_mutex_lock(&fault_lock);
		faults = f;
		pthread_mutex_unlock(&fault_lock);
		char active[512];
		describe(&f, active, sizeof active);
		logf_("%s", active);
		reply(o, "ok %s", active);
	} else if (!strcmp(cmd, "full") && argc == 2 &&
		   (!strcmp(argv[1], "on") || !strcmp(argv[1], "off"))) {
		pthread_mutex_lock(&fault_lock);
		faults.full = !strcmp(argv[1], "on");
		pthread_mutex_unlock(&fault_lock);
		logf_("disk full %s", argv[1]);
		reply(o, "ok disk full %s", argv[1]);
	} else if (!strcmp(cmd, "clear")) {
		pthread_mutex_lock(&fault_lock);
		memset(&faults, 0, sizeof faults);
		pthread_mutex_unlock(&fault_lock);
		logf_("faults cleared");
		reply(o, "ok cleared");
	} else if (!strcmp(cmd, "write-through") && argc == 2 &&
		   (!strcmp(argv[1], "on") || !strcmp(argv[1], "off"))) {
		bool on = !strcmp(argv[1], "on");
		struct totals t = {0};
		if (on) {
			atomic_store(&write_through, true);
			t = flush_all(FLUSH_DATASYNC, true, &ctr.flushed_bytes);
		} else {
			atomic_store(&write_through, false);
		}
		logf_("write-through %s", argv[1]);
		if (t.err)
			reply(o, "error flush: %s", strerror(-t.err));
		else
			reply(o, "ok write-through %s", argv[1]);
	} else if (!strcmp(cmd, "counters")) {
		cmd_counters(o);
	} else if (!strcmp(cmd, "status")) {
		cmd_status(o);
	} else {
		reply(o, "error unknown command %s (ping, lose-unfsynced, flush, delay, errors, full, "
			 "clear, write-through, counters, status)", cmd);
	}
}

static int ctl_listen(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof a.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	unlink(path);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || chmod(path, 0600) < 0 ||
	    listen(s, 8) < 0) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

static void *ctl_main(void *arg)
{
	int s = (int)(intptr_t)arg;
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			logf_("control socket: %s", strerror(errno));
			return NULL;
		}
		struct timeval tv = {10, 0};
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		/* Commands, one a line, each answered by one line. */
		char line[1024];
		size_t n = 0;
		bool eof = false, broken = false;
		while (!eof && !broken) {
			ssize_t r = read(c, line + n, sizeof line - 1 - n);
			if (r <= 0)
				eof = true;
			else
				n += (size_t)r;
			line[n] = 0;
			char *nl;
			while (!broken && ((nl = strchr(line, '\n')) || (eof && n) || n == sizeof line - 1)) {
				size_t used = nl ? (size_t)(nl + 1 - line) : n;
				if (nl)
					*nl = 0;
				struct out o;
				cmd_run(line, &o);
				size_t l = strlen(o.s);
				if (l > sizeof o.s - 2)
					l = sizeof o.s - 2;
				o.s[l++] = '\n';
				broken = write(c, o.s, l) != (ssize_t)l;
				memmove(line, line + used, n - used);
				n -= used;
				line[n] = 0;
			}
		}
		close(c);
	}
	return NULL;
}

/* --ctl SOCK CMD...: one command, its reply on stdout; 0 if "ok". */
static int ctl_client(const char *path, int argc, char **argv)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof a.sun_path) {
		fprintf(stderr, "faultline-diskd: socket path too long\n");
		return 2;
	}
	strcpy(a.sun_path, path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		fprintf(stderr, "faultline-diskd: cannot reach %s: %s\n", path, strerror(errno));
		return 3;
	}
	char cmd[1024];
	size_t l = 0;
	for (int i = 0; i < argc && l < sizeof cmd; i++)
		l += (size_t)snprintf(cmd + l, sizeof cmd - l, "%s%s", i ? " " : "", argv[i]);
	if (l >= sizeof cmd - 1) {
		fprintf(stderr, "faultline-diskd: command too long\n");
		return 2;
	}
	cmd[l++] = '\n';
	/* A flush of much cached data takes a while, a hung daemon forever:
	 * give up before the node script's own timeout. */
	struct timeval tv = {25, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (write(s, cmd, l) != (ssize_t)l) {
		fprintf(stderr, "faultline-diskd: %s: %s\n", path, strerror(errno));
		return 3;
	}
	shutdown(s, SHUT_WR);
	char buf[4096];
	size_t n = 0;
	ssize_t r;
	errno = 0;
	while (n < sizeof buf - 1 && (r = read(s, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	close(s);
	if (!n) {
		fprintf(stderr, "faultline-diskd: no reply from %s%s\n", path,
			errno == EAGAIN ? " within 25 s" : "");
		return 3;
	}
	fputs(buf, stdout);
	return strncmp(buf, "ok", 2) ? 1 : 0;
}

/* ---- mount table ---- */

/* /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

/* Is a faultline-diskd filesystem mounted at path (absolute, canonical)? */
static bool is_mounted(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		char *save = NULL, *field[16];
		int n = 0;
		for (char *t = strtok_r(line, " \n", &save); t && n < 16; t = strtok_r(NULL, " \n", &save))
			field[n++] = t;
		int dash = -1;
		for (int i = 6; i < n; i++)
			if (!strcmp(field[i], "-")) {
				dash = i;
				break;
			}
		if (n < 5 || dash < 0 || dash + 1 >= n)
			continue;
		unescape(field[4]);
		found = !strcmp(field[4], path) && !strcmp(field[dash + 1], FSTYPE);
	}
	fclose(f);
	return found;
}

/* The absolute path of dir without following a dead FUSE mount: realpath
 * of its parent (stat of a dead mountpoint fails with ENOTCONN). */
static int canonical(const char *dir, char *out)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", dir);
	size_t l = strlen(tmp);
	while (l > 1 && tmp[l - 1] == '/')
		tmp[--l] = 0;
	char *slash = strrchr(tmp, '/');
	char parent[PATH_MAX];
	const char *base;
	if (!slash) {
		snprintf(parent, sizeof parent, ".");
		base = tmp;
	} else {
		*slash = 0;
		snprintf(parent, sizeof parent, "%s", slash == tmp ? "/" : tmp);
		base = slash + 1;
	}
	char rp[PATH_MAX];
	if (!realpath(parent, rp))
		return -1;
	if (snprintf(out, PATH_MAX, "%s%s%s", rp, strcmp(rp, "/") ? "/" : "", base) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* ---- the daemon ---- */

static int usage(void)
{
	fprintf(stderr,
		"usage: faultline-diskd [--daemon] [--pidfile F] [--log F] --socket S\n"
		"                       [--writeback-ms N] [--max-dirty-mb N] DIR\n"
		"       faultline-diskd --ctl S COMMAND [ARG...]\n"
		"       faultline-diskd --is-mounted DIR | --unmount [--lazy] DIR | --version\n");
	return 2;
}

static bool num_arg(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* An earlier daemon's trash (it died before committing): its renames can
 * no longer be undone, so they stand. */
static int trash_setup(void)
{
	if (mkdirat(rootfd, TRASH, 0700) < 0 && errno != EEXIST)
		return -1;
	trashfd = openat(rootfd, TRASH, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (trashfd < 0)
		return -1;
	int fd = dup(trashfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			if (unlinkat(trashfd, de->d_name, 0) < 0)
				unlinkat(trashfd, de->d_name, AT_REMOVEDIR);
	closedir(d);
	return 0;
}

static void notify(int fd, const char *msg)
{
	if (fd >= 0 && write(fd, msg, strlen(msg)) < 0)
		return;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		puts(DISKD_VERSION);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "--ctl"))
		return argc >= 4 ? ctl_client(argv[2], argc - 3, argv + 3) : usage();
	if (argc == 3 && !strcmp(argv[1], "--is-mounted")) {
		char p[PATH_MAX];
		return canonical(argv[2], p) == 0 && is_mounted(p) ? 0 : 1;
	}
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "--unmount")) {
		bool lazy = argc == 4 && !strcmp(argv[2], "--lazy");
		if (argc == 4 && !lazy)
			return usage();
		char p[PATH_MAX];
		if (canonical(argv[argc - 1], p) < 0 || !is_mounted(p))
			return 0;
		if (umount2(p, lazy ? MNT_DETACH : 0) < 0) {
			fprintf(stderr, "faultline-diskd: cannot unmount %s: %s\n", p, strerror(errno));
			return errno == EBUSY ? 16 : 1;
		}
		return 0;
	}
	const char *pidfile = NULL, *logpath = NULL, *sock = NULL, *dir = NULL;
	bool daemon = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long n;
		if (!strcmp(a, "--daemon")) {
			daemon = true;
		} else if (!strcmp(a, "--help")) {
			return usage();
		} else if (a[0] == '-' && a[1] == '-') {
			if (!v) {
				fprintf(stderr, "faultline-diskd: %s needs a value (see --help)\n", a);
				return 2;
			}
			i++;
			if (!strcmp(a, "--pidfile"))
				pidfile = v;
			else if (!strcmp(a, "--log"))
				logpath = v;
			else if (!strcmp(a, "--socket"))
				sock = v;
			else if (!strcmp(a, "--writeback-ms") && num_arg(v, 0, 3600000, &n))
				writeback_ns = (int64_t)n * 1000000;
			else if (!strcmp(a, "--max-dirty-mb") && num_arg(v, 1, 1 << 20, &n))
				max_dirty = (uint64_t)n << 20;
			else {
				fprintf(stderr, "faultline-diskd: bad option %s %s (see --help)\n", a, v);
				return 2;
			}
		} else if (!dir) {
			dir = a;
		} else {
			return usage();
		}
	}
	if (!dir || !sock)
		return usage();
	if (canonical(dir, mnt) < 0) {
		fprintf(stderr, "faultline-diskd: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (is_mounted(mnt)) {
		fprintf(stderr, "faultline-diskd: %s is already mounted through faultline-diskd\n", mnt);
		return 1;
	}
	int ready = -1;
	if (daemon) {
		/* The launcher returns once the mount is live (or says why not). */
		int p[2];
		if (pipe(p) < 0) {
			perror("faultline-diskd: pipe");
			return 1;
		}
		pid_t c = fork();
		if (c < 0) {
			perror("faultline-diskd: fork");
			return 1;
		}
		if (c > 0) {
			close(p[1]);
			char msg[512];
			ssize_t r = read(p[0], msg, sizeof msg - 1);
			if (r <= 0 || strncmp(msg, "ok", 2)) {
				if (r > 0) {
					msg[r] = 0;
					fprintf(stderr, "faultline-diskd: %s\n", msg);
				} else {
					fprintf(stderr, "faultline-diskd: exited before the mount was ready"
							" (see its log)\n");
				}
				_exit(1);
			}
			_exit(0);
		}
		close(p[0]);
		ready = p[1];
		setsid();
		if (fork() > 0)
			_exit(0);
		int null = open("/dev/null", O_RDWR);
		int lf = logpath ? open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
		dup2(null, 0);
		dup2(lf >= 0 ? lf : null, 1);
		dup2(lf >= 0 ? lf : null, 2);
		if (chdir("/") != 0)
			return 1;
	}
	umask(0);
	char msg[PATH_MAX + 256];
	rootfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || trash_setup() < 0) {
		snprintf(msg, sizeof msg, "%s: %s", mnt, strerror(errno));
		notify(ready, msg);
		logf_("%s", msg);
		return 1;
	}
	int ls = ctl_listen(sock);
	if (ls < 0) {
		snprintf(msg, sizeof msg, "control socket %s: %s", sock, strerror(errno));
		notify(ready, msg);
		logf_("%s", msg);
		return 1;
	}
	char *fargv[] = {argv[0], "-o",
			 "allow_other,default_permissions,fsname=faultline-diskd,subtype=faultline-diskd",
			 NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse *fuse = fuse_new(&args, &ops, sizeof ops, NULL);
	fuse_opt_free_args(&args);
	if (!fuse || fuse_mount(fuse, mnt) != 0) {
		snprintf(msg, sizeof msg, "cannot mount %s (FUSE: is /dev/fuse there, are we root?)",
			 mnt);
		notify(ready, msg);
		logf_("%s", msg);
		unlink(sock);
		return 1;
	}
	if (pidfile) {
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
		    rename(tmp, pidfile) != 0) {
			snprintf(msg, sizeof msg, "cannot write %s", pidfile);
			notify(ready, msg);
			fuse_unmount(fuse);
			unlink(sock);
			return 1;
		}
	}
	/* Only the FUSE threads take the termination signals: the loop
	 * notices them there. */
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigaddset(&term, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	pthread_t th;
	pthread_create(&th, NULL, ctl_main, (void *)(intptr_t)ls);
	pthread_detach(th);
	if (writeback_ns > 0) {
		pthread_create(&th, NULL, writeback_main, NULL);
		pthread_detach(th);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct fuse_session *se = fuse_get_session(fuse);
	fuse_set_signal_handlers(se);
	logf_("mounted on %s (writeback %lld ms, max %llu MB unsynced)", mnt,
	      (long long)(writeback_ns / 1000000), (unsigned long long)(max_dirty >> 20));
	notify(ready, "ok");
	if (ready >= 0)
		close(ready);
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(lc, 64);
	int rc = fuse_loop_mt(fuse, lc);
	fuse_loop_cfg_destroy(lc);
	/* Stopping is never a crash: what was cached reaches the disk. */
	struct totals t = flush_all(FLUSH_DATASYNC, true, &ctr.flushed_bytes);
	logf_("stopping: %llu bytes of %llu files flushed%s%s", t.bytes, t.files,
	      t.err ? ", error: " : "", t.err ? strerror(-t.err) : "");
	fuse_remove_signal_handlers(se);
	/* Unmounted already, unless stopped by a signal (libfuse then says it
	 * cannot unmount when another mount namespace held the last copy). */
	fuse_unmount(fuse);
	fuse_destroy(fuse);
	unlinkat(rootfd, TRASH, AT_REMOVEDIR);
	unlink(sock);
	if (pidfile)
		unlink(pidfile);
	return rc == 0 && !t.err ? 0 : 1;
}
