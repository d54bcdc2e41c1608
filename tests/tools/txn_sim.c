/*
 * txn_sim.c - a simulator of transactional databases whose isolation level
 * is known by construction, writing list-append histories (Elle's workload)
 * for the elle checker's tests and benchmark. Same seed, same history.
 *
 *   txn_sim --db DB [--txns N] [--processes P] [--keys K] [--max-writes W]
 *           [--max-len L] [--key-dist uniform|exponential] [--seed S]
 *           [--info-rate R] [--format jsonl|edn] [--out FILE]
 *
 * Clients are P processes running one transaction at a time: 1..L micro-ops,
 * each a read ["r", k, [..]] or an append ["append", k, v] with v unique per
 * key; K keys are live at a time and a key that took W appends is replaced
 * by a fresh one (as Elle's generator does), so lists stay short. A discrete
 * event simulation in virtual time runs each transaction as invoke, start,
 * one step per micro-op, commit, completion, with random delays, and the
 * database decides what every step sees:
 *
 *   strict-serializable  everything happens atomically at the commit instant
 *                        (inside the invoke..completion window)
 *   serializable         as strict, except that read-only transactions read
 *                        a consistent snapshot up to 64 commits old (a
 *                        follower read): serializable, not strict
 *   snapshot-isolation   reads see the snapshot taken at start plus the
 *                        transaction's own appends; at commit, first
 *                        committer wins: a transaction appending to a key
 *                        someone committed after its snapshot aborts (fail)
 *   read-committed       a read sees the latest committed state; an append
 *                        takes the key's write lock (NOWAIT: held by another
 *                        transaction -> abort) and applies to the latest
 *                        committed list; commit installs the locked keys
 *   none                 no concurrency control: every micro-op reads or
 *                        changes the shared state when it runs; a
 *                        transaction may "fail" with its appends kept
 *
 * A fraction --info-rate of completions time out (type info, process
 * retired, value = the invocation's): the transaction committed or not at
 * random. Output goes to --out or stdout.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum db { DB_STRICT, DB_SER, DB_SI, DB_RC, DB_NONE };
static const char *const db_names[] = {"strict-serializable", "serializable",
				       "snapshot-isolation", "read-committed", "none"};

static uint64_t rng_s;
static uint64_t rnd(void)
{
	uint64_t z = (rng_s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static double urand(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static int64_t irand(int64_t n) { return n > 0 ? (int64_t)(rnd() % (uint64_t)n) : 0; }

static void *xrealloc_or_die(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fprintf(stderr, "txn_sim: out of memory\n");
		exit(255);
	}
	return q;
}

/* ---- keys: committed lists, versions, locks ---- */

struct ver { int64_t seq; int32_t len; };

struct key {
	int32_t *list;        /* committed appends, in order */
	int32_t len, cap;
	int64_t last_commit;  /* seq of the last commit that appended here */
	int32_t lock;         /* read-committed: transaction id holding it + 1 */
	int32_t next_value;   /* next value to append */
	struct ver *vers;     /* serializable: committed length after each commit */
	int32_t nvers, capvers;
};

static struct key *keys;
static int64_t nkeys, capkeys;
static int64_t commit_seq;

static int64_t key_new(void)
{
	if (nkeys == capkeys) {
		capkeys = capkeys ? capkeys * 2 : 1024;
		keys = xrealloc_or_die(keys, (size_t)capkeys * sizeof *keys);
	}
	memset(&keys[nkeys], 0, sizeof keys[nkeys]);
	keys[nkeys].next_value = 1;
	return nkeys++;
}

static void key_push(struct key *k, int32_t v)
{
	if (k->len == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 8;
		k->list = xrealloc_or_die(k->list, (size_t)k->cap * sizeof *k->list);
	}
	k->list[k->len++] = v;
}

static void key_version(struct key *k)
{
	if (k->nvers == k->capvers) {
		k->capvers = k->capvers ? k->capvers * 2 : 4;
		k->vers = xrealloc_or_die(k->vers, (size_t)k->capvers * sizeof *k->vers);
	}
	k->vers[k->nvers++] = (struct ver){commit_seq, k->len};
}

/* Committed length of k as of commit seq (serializable's stale reads). */
static int32_t key_len_at(const struct key *k, int64_t seq)
{
	int32_t lo = 0, hi = k->nvers; /* first version with seq > seq */
	while (lo < hi) {
		int32_t mid = (lo + hi) / 2;
		if (k->vers[mid].seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? k->vers[lo - 1].len : 0;
}

/* ---- transactions ---- */

enum { M_READ, M_APPEND };

struct mop {
	int f;
	int64_t key;
	int32_t value;        /* append */
	int32_t *read;        /* read result */
	int32_t nread;
	bool done;
};

struct txn {
	struct mop *mops;
	int n;
	int64_t process;
	int64_t snapshot;     /* SI / serializable: commit seq of the snapshot */
	int step;             /* next micro-op to run */
	bool aborted, committed;
	/* private versions (SI: snapshot + own appends; RC: locked keys) */
	int64_t *pkey;
	int32_t **plist, *plen, *pcap;
	int np;
};

struct opts {
	enum db db;
	int64_t txns, keys, max_writes, max_len;
	int processes;
	bool exponential, edn;
	double info_rate;
	uint64_t seed;
};

static int64_t *active;   /* live key ids */
static int64_t nactive;

static int64_t pick_key_slot(const struct opts *o)
{
	if (!o->exponential)
		return irand(nactive);
	/* P(slot i) ~ 2^-i, folded into range */
	int64_t i = 0;
	while (i + 1 < nactive && urand() < 0.5)
		i++;
	return i;
}

static void txn_gen(struct txn *t, const struct opts *o)
{
	t->n = 1 + (int)irand(o->max_len);
	t->mops = xrealloc_or_die(NULL, (size_t)t->n * sizeof *t->mops);
	memset(t->mops, 0, (size_t)t->n * sizeof *t->mops);
	for (int i = 0; i < t->n; i++) {
		struct mop *m = &t->mops[i];
		int64_t slot = pick_key_slot(o);
		m->f = urand() < 0.5 ? M_READ : M_APPEND;
		if (m->f == M_APPEND && keys[active[slot]].next_value > o->max_writes)
			active[slot] = key_new();
		m->key = active[slot];
		if (m->f == M_APPEND)
			m->value = keys[m->key].next_value++;
	}
}

static int txn_private(struct txn *t, int64_t key)
{
	for (int i = 0; i < t->np; i++)
		if (t->pkey[i] == key)
			return i;
	return -1;
}

/* A private copy of key's list (first n committed elements). */
static int txn_private_new(struct txn *t, int64_t key, int32_t n)
{
	t->pkey = xrealloc_or_die(t->pkey, (size_t)(t->np + 1) * sizeof *t->pkey);
	t->plist = xrealloc_or_die(t->plist, (size_t)(t->np + 1) * sizeof *t->plist);
	t->plen = xrealloc_or_die(t->plen, (size_t)(t->np + 1) * sizeof *t->plen);
	t->pcap = xrealloc_or_die(t->pcap, (size_t)(t->np + 1) * sizeof *t->pcap);
	int i = t->np++;
	t->pkey[i] = key;
	t->pcap[i] = n + 8;
	t->plist[i] = xrealloc_or_die(NULL, (size_t)t->pcap[i] * sizeof(int32_t));
	if (n)
		memcpy(t->plist[i], keys[key].list, (size_t)n * sizeof(int32_t));
	t->plen[i] = n;
	return i;
}

static void txn_private_push(struct txn *t, int i, int32_t v)
{
	if (t->plen[i] == t->pcap[i]) {
		t->pcap[i] *= 2;
		t->plist[i] = xrealloc_or_die(t->plist[i], (size_t)t->pcap[i] * sizeof(int32_t));
	}
	t->plist[i][t->plen[i]++] = v;
}

static void read_into(struct mop *m, const int32_t *list, int32_t n)
{
	m->read = xrealloc_or_die(NULL, (size_t)(n ? n : 1) * sizeof(int32_t));
	if (n)
		memcpy(m->read, list, (size_t)n * sizeof(int32_t));
	m->nread = n;
	m->done = true;
}

static void txn_free(struct txn *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->mops[i].read);
	free(t->mops);
	for (int i = 0; i < t->np; i++)
		free(t->plist[i]);
	free(t->pkey);
	free(t->plist);
	free(t->plen);
	free(t->pcap);
	memset(t, 0, sizeof *t);
}

/* Everything at once against the committed state (strict serializable,
 * serializable's update transactions). */
static void txn_run_atomic(struct txn *t)
{
	commit_seq++;
	for (int i = 0; i < t->n; i++) {
		struct mop *m = &t->mops[i];
		struct key *k = &keys[m->key];
		if (m->f == M_READ) {
			read_into(m, k->list, k->len);
		} else {
			key_push(k, m->value);
			k->last_commit = commit_seq;
		}
	}
	for (int i = 0; i < t->n; i++)
		if (t->mops[i].f == M_APPEND)
			key_version(&keys[t->mops[i].key]);
	t->committed = true;
}

static bool txn_read_only(const struct txn *t)
{
	for (int i = 0; i < t->n; i++)
		if (t->mops[i].f == M_APPEND)
			return false;
	return true;
}

/* One micro-op at its step time (SI, RC, none). */
static void txn_step(struct txn *t, const struct opts *o, int tid)
{
	struct mop *m = &t->mops[t->step++];
	struct key *k = &keys[m->key];
	int p = txn_private(t, m->key);
	if (t->aborted)
		return;
	switch (o->db) {
	case DB_SI:
		if (p < 0)
			p = txn_private_new(t, m->key, key_len_at(k, t->snapshot));
		if (m->f == M_READ)
			read_into(m, t->plist[p], t->plen[p]);
		else
			txn_private_push(t, p, m->value);
		break;
	case DB_RC:
		if (m->f == M_READ) {
			if (p >= 0)
				read_into(m, t->plist[p], t->plen[p]);
			else
				read_into(m, k->list, k->len);
			break;
		}
		if (p < 0) {
			if (k->lock && k->lock != tid + 1) {
				t->aborted = true; /* NOWAIT */
				return;
			}
			k->lock = tid + 1;
			p = txn_private_new(t, m->key, k->len);
		}
		txn_private_push(t, p, m->value);
		break;
	case DB_NONE:
		if (m->f == M_READ) {
			read_into(m, k->list, k->len);
		} else {
			key_push(k, m->value);
			m->done = true;
		}
		break;
	default:
		break;
	}
}

static void txn_release_locks(struct txn *t, int tid)
{
	for (int i = 0; i < t->np; i++)
		if (keys[t->pkey[i]].lock == tid + 1)
			keys[t->pkey[i]].lock = 0;
}

/* Commit (or abort) at the commit instant; commit = false for an info
 * transaction that the database dropped. */
static void txn_commit(struct txn *t, const struct opts *o, int tid, bool commit)
{
	switch (o->db) {
	case DB_STRICT:
		if (commit)
			txn_run_atomic(t);
		break;
	case DB_SER:
		if (!commit)
			break;
		if (txn_read_only(t)) {
			int64_t snap = commit_seq - irand(64);
			for (int i = 0; i < t->n; i++) {
				struct key *k = &keys[t->mops[i].key];
				read_into(&t->mops[i], k->list, key_len_at(k, snap < 0 ? 0 : snap));
			}
			t->committed = true;
		} else {
			txn_run_atomic(t);
		}
		break;
	case DB_SI:
		if (t->aborted || !commit)
			break;
		for (int i = 0; i < t->np; i++) {
			struct key *k = &keys[t->pkey[i]];
			bool wrote = false;
			for (int j = 0; j < t->n; j++)
				wrote |= t->mops[j].f == M_APPEND && t->mops[j].key == t->pkey[i];
			if (wrote && k->last_commit > t->snapshot) {
				t->aborted = true; /* first committer wins */
				return;
			}
		}
		commit_seq++;
		for (int j = 0; j < t->n; j++) {
			struct mop *m = &t->mops[j];
			if (m->f == M_APPEND) {
				key_push(&keys[m->key], m->value);
				keys[m->key].last_commit = commit_seq;
				key_version(&keys[m->key]);
			}
		}
		t->committed = true;
		break;
	case DB_RC:
		if (!t->aborted && commit) {
			commit_seq++;
			for (int j = 0; j < t->n; j++) {
				struct mop *m = &t->mops[j];
				if (m->f == M_APPEND) {
					key_push(&keys[m->key], m->value);
					keys[m->key].last_commit = commit_seq;
				}
			}
			t->committed = true;
		}
		txn_release_locks(t, tid);
		break;
	case DB_NONE:
		t->committed = true;
		break;
	}
}

/* ---- output ---- */

struct out {
	FILE *f;
	bool edn;
	int64_t index;
	char *buf;
	size_t len, cap;
};

static void out_grow(struct out *w, size_t n)
{
	if (w->len + n + 1 > w->cap) {
		w->cap = (w->len + n + 1) * 2;
		w->buf = xrealloc_or_die(w->buf, w->cap);
	}
}

static void out_puts(struct out *w, const char *s)
{
	size_t n = strlen(s);
	out_grow(w, n);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void out_int(struct out *w, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
	out_grow(w, (size_t)n);
	memcpy(w->buf + w->len, tmp, (size_t)n);
	w->len += (size_t)n;
}

/* One op line. full: reads carry their results (ok completions). */
static void out_op(struct out *w, const char *type, int64_t time, int64_t process,
		   const struct txn *t, bool full)
{
	w->len = 0;
	const char *sep = w->edn ? " " : ",";
	if (w->edn) {
		out_puts(w, "{:index ");
		out_int(w, w->index++);
		out_puts(w, ", :time ");
		out_int(w, time);
		out_puts(w, ", :type :");
		out_puts(w, type);
		out_puts(w, ", :process ");
		out_int(w, process);
		out_puts(w, ", :f :txn, :value [");
	} else {
		out_puts(w, "{\"index\":");
		out_int(w, w->index++);
		out_puts(w, ",\"time\":");
		out_int(w, time);
		out_puts(w, ",\"type\":\"");
		out_puts(w, type);
		out_puts(w, "\",\"process\":");
		out_int(w, process);
		out_puts(w, ",\"f\":\"txn\",\"value\":[");
	}
	for (int i = 0; i < t->n; i++) {
		const struct mop *m = &t->mops[i];
		if (i)
			out_puts(w, sep);
		out_puts(w, w->edn ? (m->f == M_READ ? "[:r " : "[:append ")
				   : (m->f == M_READ ? "[\"r\"," : "[\"append\","));
		out_int(w, m->key);
		out_puts(w, sep);
		if (m->f == M_APPEND) {
			out_int(w, m->value);
		} else if (!full || !m->done) {
			out_puts(w, w->edn ? "nil" : "null");
		} else {
			out_puts(w, "[");
			for (int32_t j = 0; j < m->nread; j++) {
				if (j)
					out_puts(w, sep);
				out_int(w, m->read[j]);
			}
			out_puts(w, "]");
		}
		out_puts(w, "]");
	}
	out_puts(w, w->edn ? "]}\n" : "]}\n");
	fwrite(w->buf, 1, w->len, w->f);
}

/* ---- the event loop ---- */

enum ev_kind { EV_INVOKE, EV_START, EV_STEP, EV_COMMIT, EV_COMPLETE };

struct ev {
	int64_t time;
	int worker;
	int kind;
};

struct heap {
	struct ev *e;
	size_t n, cap;
};

static bool ev_less(const struct ev *a, const struct ev *b)
{
	return a->time != b->time ? a->time < b->time : a->worker < b->worker;
}

static void heap_push(struct heap *h, struct ev e)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->e = xrealloc_or_die(h->e, h->cap * sizeof *h->e);
	}
	size_t i = h->n++;
	while (i && ev_less(&e, &h->e[(i - 1) / 2])) {
		h->e[i] = h->e[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->e[i] = e;
}

static struct ev heap_pop(struct heap *h)
{
	struct ev top = h->e[0], last = h->e[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && ev_less(&h->e[c + 1], &h->e[c]))
			c++;
		if (!ev_less(&h->e[c], &last))
			break;
		h->e[i] = h->e[c];
		i = c;
	}
	if (h->n)
		h->e[i] = last;
	return top;
}

/* Microsecond-scale delays, in ns. */
static int64_t delay(int64_t mean_us)
{
	return 1000 + (int64_t)(urand() * 2.0 * (double)mean_us * 1000.0);
}

static int usage(void)
{
	fprintf(stderr, "usage: txn_sim --db strict-serializable|serializable|snapshot-isolation|"
			"read-committed|none [--txns N] [--processes P] [--keys K]\n"
			"               [--max-writes W] [--max-len L] [--key-dist uniform|exponential]\n"
			"               [--seed S] [--info-rate R] [--format jsonl|edn] [--out FILE]\n");
	return 254;
}

static int parse(int argc, char **argv, struct opts *o, const char **out)
{
	*o = (struct opts){.db = DB_STRICT, .txns = 10000, .keys = 10, .max_writes = 32,
			   .max_len = 4, .processes = 5, .info_rate = 0.0, .seed = 1};
	bool have_db = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--db")) {
			int d;
			for (d = 0; d < 5 && strcmp(v, db_names[d]); d++)
				;
			if (d == 5)
				return -1;
			o->db = (enum db)d;
			have_db = true;
		} else if (!strcmp(a, "--txns")) {
			o->txns = atoll(v);
		} else if (!strcmp(a, "--processes")) {
			o->processes = atoi(v);
		} else if (!strcmp(a, "--keys")) {
			o->keys = atoll(v);
		} else if (!strcmp(a, "--max-writes")) {
			o->max_writes = atoll(v);
		} else if (!strcmp(a, "--max-len")) {
			o->max_len = atoll(v);
		} else if (!strcmp(a, "--key-dist")) {
			if (strcmp(v, "uniform") && strcmp(v, "exponential"))
				return -1;
			o->exponential = !strcmp(v, "exponential");
		} else if (!strcmp(a, "--seed")) {
			o->seed = strtoull(v, NULL, 10);
		} else if (!strcmp(a, "--info-rate")) {
			o->info_rate = atof(v);
		} else if (!strcmp(a, "--format")) {
			if (strcmp(v, "jsonl") && strcmp(v, "edn"))
				return -1;
			o->edn = !strcmp(v, "edn");
		} else if (!strcmp(a, "--out")) {
			*out = v;
		} else {
			return -1;
		}
	}
	if (!have_db || o->txns < 0 || o->processes < 1 || o->keys < 1 || o->max_writes < 1 ||
	    o->max_len < 1 || o->info_rate < 0 || o->info_rate > 1)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	const char *out_path = NULL;
	if (parse(argc, argv, &o, &out_path) < 0)
		return usage();
	rng_s = o.seed * 0x2545f4914f6cdd1dULL + 1;
	struct out w = {.f = stdout, .edn = o.edn};
	if (out_path && !(w.f = fopen(out_path, "w"))) {
		perror(out_path);
		return 254;
	}
	static char iobuf[1 << 20];
	setvbuf(w.f, iobuf, _IOFBF, sizeof iobuf);
	if (o.edn)
		fputs("[\n", w.f);

	active = calloc((size_t)o.keys, sizeof *active);
	nactive = o.keys;
	for (int64_t i = 0; i < o.keys; i++)
		active[i] = key_new();

	int P = o.processes;
	struct txn *tx = calloc((size_t)P, sizeof *tx);
	int64_t *proc = calloc((size_t)P, sizeof *proc);
	bool *info = calloc((size_t)P, sizeof *info);
	struct heap h = {0};
	for (int p = 0; p < P; p++) {
		proc[p] = p;
		heap_push(&h, (struct ev){delay(50), p, EV_INVOKE});
	}
	int64_t started = 0;
	while (h.n) {
		struct ev e = heap_pop(&h);
		struct txn *t = &tx[e.worker];
		switch (e.kind) {
		case EV_INVOKE:
			if (started >= o.txns)
				break;
			started++;
			txn_gen(t, &o);
			t->process = proc[e.worker];
			info[e.worker] = urand() < o.info_rate;
			out_op(&w, "invoke", e.time, t->process, t, false);
			heap_push(&h, (struct ev){e.time + delay(20), e.worker, EV_START});
			break;
		case EV_START:
			t->snapshot = commit_seq;
			heap_push(&h, (struct ev){e.time + delay(20), e.worker,
						  o.db == DB_SI || o.db == DB_RC || o.db == DB_NONE
							  ? EV_STEP
							  : EV_COMMIT});
			break;
		case EV_STEP:
			txn_step(t, &o, e.worker);
			heap_push(&h, (struct ev){e.time + delay(20), e.worker,
						  t->step < t->n ? EV_STEP : EV_COMMIT});
			break;
		case EV_COMMIT:
			txn_commit(t, &o, e.worker, !info[e.worker] || urand() < 0.5);
			heap_push(&h, (struct ev){e.time + delay(20), e.worker, EV_COMPLETE});
			break;
		case EV_COMPLETE:
			if (info[e.worker]) {
				out_op(&w, "info", e.time, t->process, t, false);
				proc[e.worker] += P; /* retired */
			} else if (o.db == DB_NONE && urand() < 0.02) {
				out_op(&w, "fail", e.time, t->process, t, false); /* effects kept */
			} else if (t->aborted || !t->committed) {
				out_op(&w, "fail", e.time, t->process, t, false);
			} else {
				out_op(&w, "ok", e.time, t->process, t, true);
			}
			txn_free(t);
			heap_push(&h, (struct ev){e.time + delay(10), e.worker, EV_INVOKE});
			break;
		}
	}
	if (o.edn)
		fputs("]\n", w.f);
	int rc = 0;
	if (fflush(w.f) != 0 || (out_path && fclose(w.f) != 0)) {
		perror(out_path ? out_path : "stdout");
		rc = 255;
	}
	for (int p = 0; p < P; p++)
		txn_free(&tx[p]);
	for (int64_t k = 0; k < nkeys; k++) {
		free(keys[k].list);
		free(keys[k].vers);
	}
	free(keys);
	free(active);
	free(tx);
	free(proc);
	free(info);
	free(h.e);
	free(w.buf);
	return rc;
}
