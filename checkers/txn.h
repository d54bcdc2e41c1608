/*
 * txn.h - the insides of the transaction isolation checker (elle.c), shared
 * by its modules:
 *
 *   txn_store.c     what the checker keeps of a history: interned keys and
 *                   values ("atoms"), transactions and their micro-ops in
 *                   flat arrays, invoke/completion pairing, and the process
 *                   and real-time orders, computed while the ops stream by
 *   txn_append.c    list-append: version orders from the longest read, the
 *                   non-cycle anomalies, ww/wr/rw edges, edge explanations
 *   txn_register.c  rw-register: the same from inferred version graphs
 *   txn_graph.c     the dependency graph (CSR) and its algorithms: Tarjan
 *                   SCCs over filtered views, topological labels for
 *                   reachability, shortest paths
 *   txn_cycles.c    per strongly connected component, which cycle anomalies
 *                   exist (decided exactly) and the shortest example of each
 *   txn_models.c    consistency models and anomaly implications (Elle's
 *                   tables): what a set of models forbids, what a set of
 *                   anomalies rules out
 *   txn_explain.c   failures as JSON, with Elle-style explanations
 *
 * Nothing here holds jansson values per op: a million transactions take a
 * few dozen bytes each.
 */
#ifndef FAULTLINE_TXN_H
#define FAULTLINE_TXN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct op;
struct pairing;

#define TXN_NONE UINT32_MAX

/* ---- atoms: keys and values ----
 * An integer in [-2^62, 2^62) is itself shifted left by one; anything else
 * (a string, a bigger number, a list...) is interned by its JSON text and
 * stored as (id << 1) | 1. So equal JSON values get equal atoms, and an
 * integer key 1 differs from the string key "1". */
typedef uint64_t atom_t;
#define ATOM_NIL UINT64_MAX /* no value: the initial state, a nil read */

/* ---- an open-addressing hash map (a, b) -> v (v != TXN_NONE) ---- */
struct tmap_ent {
	uint64_t a;
	uint32_t b;
	uint32_t v;
};
struct tmap {
	struct tmap_ent *e;
	size_t cap, n;
};
uint32_t tmap_get(const struct tmap *m, uint64_t a, uint32_t b);
/* Sets (a, b) -> v; returns the previous value or TXN_NONE. */
uint32_t tmap_put(struct tmap *m, uint64_t a, uint32_t b, uint32_t v);
void tmap_free(struct tmap *m);

/* ---- transactions ---- */
enum mop_f { MOP_APPEND = 1, MOP_READ = 2, MOP_WRITE = 3 };
#define MOPF_NIL 1      /* a read without a value (nil) */
#define MOPF_INCOMPAT 2 /* list read not a prefix of the key's order so far */
#define MOPF_STORED 16  /* list read kept whole in lists[aux] */
#define MOPF_EXT 4      /* register: the external read / final write of its key in the txn */
#define MOPF_INTERM 8   /* a write or append its txn later overwrote / followed on that key */

struct tmop {
	uint32_t key;  /* key id */
	uint32_t txn;  /* its transaction */
	uint32_t len;  /* list read: length */
	uint32_t aux;  /* list read with MOPF_STORED: index in lists; append: position in
			* the key's version order (TXN_NONE: never read) */
	atom_t v;      /* append/write: the value; list read: last element; register read: value */
	uint8_t f;     /* enum mop_f */
	uint8_t flags; /* MOPF_* */
};

enum txn_type { TT_OK = 0, TT_INFO = 1, TT_FAIL = 2, TT_OPEN = 3 };

struct ttxn {
	int64_t index;     /* history index of the completion (of the invoke if none) */
	int64_t inv_index; /* history index of the invoke */
	int64_t process;
	int64_t inv_time, time; /* ns; -1 unknown */
	uint32_t mop_off;  /* first micro-op in mops */
	uint32_t rt_lo, rt_hi; /* ok txns: real-time successors are txns [rt_lo, rt_hi) */
	uint32_t proc_next;    /* ok txns: next ok txn of the same process */
	uint16_t n_mops;
	uint8_t type;      /* enum txn_type */
	uint8_t flags;
};

/* A transaction is a vertex of the graph iff it may have committed. */
static inline bool txn_live(const struct ttxn *t)
{
	return t->type == TT_OK || t->type == TT_INFO;
}

struct tlist {
	atom_t *a;
	uint32_t n;
};

struct tkey {
	atom_t atom;
	/* list-append: the longest read so far, every other read a prefix of it */
	atom_t *list;
	uint32_t len, cap;
	uint32_t incompat;        /* reads that were not prefixes */
	uint32_t incompat_mop;    /* the first such read (global mop index) */
	uint32_t incompat_len;    /* and the length of the order it contradicted */
	/* writers of small non-negative integer values: wdir[x] = mop + 1
	 * (0: none; the rest in tstore.wmap, see tstore_writer) */
	uint32_t *wdir;
	uint32_t wdir_cap, n_writes;
};

/* ---- anomalies ---- */
enum tkind {
	/* cycles: base kinds times {plain, -process, -realtime} */
	K_G0, K_G1C, K_GSINGLE, K_GNONADJ, K_G2ITEM,
	K_G0_P, K_G1C_P, K_GSINGLE_P, K_GNONADJ_P, K_G2ITEM_P,
	K_G0_RT, K_G1C_RT, K_GSINGLE_RT, K_GNONADJ_RT, K_G2ITEM_RT,
	/* the rest */
	K_G1A, K_G1B, K_INTERNAL, K_FUTURE_READ, K_DIRTY_UPDATE, K_LOST_UPDATE,
	K_INCOMPAT_ORDER, K_DUPLICATES, K_CYCLIC_VERSIONS, K_EMPTY_GRAPH,
	K_N
};
#define K_N_CYCLE 15
/* Variant v (0 plain, 1 process, 2 realtime) of base cycle kind b (0..4). */
#define K_CYCLE(b, v) ((enum tkind)((v) * 5 + (b)))
const char *tkind_name(enum tkind k);

#define EDGE_WW 1
#define EDGE_WR 2
#define EDGE_RW 4
#define EDGE_PROC 8
#define EDGE_RT 16
#define EDGE_D (EDGE_WW | EDGE_WR)

struct tstep {
	uint32_t txn;  /* this step goes from txn to the next step's txn (cyclically) */
	uint8_t type;  /* one EDGE_* bit */
};

/* One anomaly instance. Which fields mean what depends on kind (see
 * txn_explain.c, which renders them). */
struct tcase {
	uint8_t kind;
	uint8_t flag;
	uint32_t txn[2];
	uint32_t key;
	uint32_t mop;       /* a global micro-op index, or TXN_NONE */
	uint32_t list;      /* an index in lists, or TXN_NONE */
	uint32_t n;         /* a count or length */
	atom_t v;
	struct tstep *steps; /* a cycle, or the txns of a lost update */
	uint32_t n_steps;
	uint32_t scc_size;
};

#define CASE_CAP 8 /* instances kept per kind; the rest are only counted */

struct tcases {
	struct tcase *c;
	size_t n, cap;
	uint64_t count[K_N];
};

/* ---- the store ---- */
enum txn_model_id { TM_AUTO = 0, TM_LIST_APPEND, TM_RW_REGISTER };

struct tedge {
	uint32_t from, to;
	uint8_t mask;
};
struct tedges {
	struct tedge *e;
	size_t n, cap;
};
void tedges_add(struct tedges *es, uint32_t from, uint32_t to, uint8_t mask);

/* An edge's explanation: key (atom), the value(s) involved, and which
 * micro-ops of a and b. */
struct texpl {
	uint32_t key;
	atom_t value;       /* wr: value read; ww/rw: the value b wrote */
	atom_t prev;        /* ww: the value a wrote; rw: what a read (ATOM_NIL: initial) */
	bool prev_known;
};

struct txn_model;

struct tstore {
	/* interned atoms */
	json_t **ijson;
	char **itext;
	uint32_t n_intern, cap_intern;
	struct tmap itab;
	/* keys */
	struct tmap keymap;
	struct tkey *keys;
	uint32_t n_keys, cap_keys;
	/* transactions */
	struct ttxn *txns;
	uint32_t n_txns, cap_txns;
	struct tmop *mops;
	size_t n_mops, cap_mops;
	struct tlist *lists;
	uint32_t n_lists, cap_lists;
	struct pairing *open;
	uint32_t *kdir;       /* small non-negative integer keys: kdir[x] = key id + 1 */
	size_t kdir_cap;
	struct tmap procmap;  /* process -> its last ok txn */
	struct tmap wmap;     /* (value, key id) -> the micro-op that appended/wrote it,
			       * but for those in keys[].wdir */
	/* the micro-ops of the op being added, parsed (txn_store.c) */
	struct pmop *pm;
	uint32_t n_pm, cap_pm;
	atom_t *pa;           /* their list reads' elements */
	size_t n_pa, cap_pa;
	uint32_t *rtq;        /* ok txns whose real-time window is still open, FIFO */
	size_t rtq_head, rtq_n, rtq_cap;
	/* the model */
	enum txn_model_id model_id;
	bool model_forced;    /* from checker_opts: never switched by the data */
	const struct txn_model *model;
	void *mstate;         /* the model's own state */
	/* verdict inputs */
	struct tcases cases;
	uint64_t n_ok, n_info, n_fail, n_skipped;
	/* options the models read */
	bool wfr_keys, sequential_keys, linearizable_keys;
	/* --timeout: a now_ns() deadline for the cycle search (0 none), and
	 * whether it passed (the search stopped: nothing more is proven) */
	int64_t deadline;
	bool timed_out;
};

struct txn_model {
	const char *name;
	/* A read's value as the txn completed: fills m (len, v, flags). a[0..n)
	 * are a list's elements (list-append), or the one value read
	 * (rw-register, n 1). 0, or -1 with err for a value of the wrong shape. */
	int (*read)(struct tstore *st, uint32_t txn, struct tmop *m, const atom_t *a, uint32_t n,
		    char *err, size_t errlen);
	/* A completed txn (its mops stored): checks that need one txn only
	 * (internal...). */
	void (*txn_done)(struct tstore *st, uint32_t txn);
	/* After the last op: version orders, the non-cycle anomalies, and the
	 * ww/wr/rw edges. */
	void (*analyze)(struct tstore *st, struct tedges *out);
	/* Why edge a -type-> b (one of EDGE_WW/WR/RW): fills key/value/text
	 * parts (see struct texpl). false if it cannot say (never expected). */
	bool (*explain)(struct tstore *st, uint32_t a, uint32_t b, uint8_t type,
			struct texpl *out);
	/* A read micro-op's value as JSON (new reference). */
	json_t *(*read_json)(struct tstore *st, const struct tmop *m);
	void (*free)(struct tstore *st);
};
extern const struct txn_model txn_list_append, txn_rw_register;
/* rw-register's version-order sources, by bit (cyclic-versions cases). */
const char *txn_version_source_name(int src);

/* txn_store.c */
void tstore_init(struct tstore *st);
void tstore_free(struct tstore *st);
atom_t tstore_atom(struct tstore *st, json_t *v);
json_t *tstore_atom_json(const struct tstore *st, atom_t a); /* new reference */
uint32_t tstore_key(struct tstore *st, atom_t a);
/* The micro-op that appended/wrote v to key, or TXN_NONE. */
uint32_t tstore_writer(const struct tstore *st, atom_t v, uint32_t key);
/* Record it; returns the previous one (TXN_NONE if none). */
uint32_t tstore_writer_put(struct tstore *st, atom_t v, uint32_t key, uint32_t mop);
/* One op of the history. 0, or -1 with err (bad input: a 254). */
int tstore_add(struct tstore *st, const struct op *op, char *err, size_t errlen);
/* After the last op: txns still open become info. 0 or -1 with err. */
int tstore_close(struct tstore *st, char *err, size_t errlen);
uint32_t tstore_list_add(struct tstore *st, const atom_t *a, uint32_t n);
/* The txn as JSON: {"index", "process", "type", "value"} (new reference). */
json_t *tstore_txn_json(struct tstore *st, uint32_t txn);
/* A micro-op as JSON ["r", k, v] (new reference). */
json_t *tstore_mop_json(struct tstore *st, const struct tmop *m);
json_t *tstore_list_json(const struct tstore *st, const atom_t *a, uint32_t n);
/* Record an anomaly instance (copied; steps copied). */
void tstore_case(struct tstore *st, const struct tcase *c);
const char *tstore_process_name(int64_t process, char *buf, size_t n);

/* ---- the graph (txn_graph.c) ---- */
struct tgraph {
	uint32_t n;           /* vertices = txns */
	uint32_t *off;        /* n + 1 */
	uint32_t *to;
	uint8_t *mask;
	const struct ttxn *txns;
	uint8_t *live;        /* per txn: 1 ok, 2 info (a vertex), 0 not */
	uint8_t xmask;        /* EDGE_PROC, EDGE_RT or 0: the extra order in use */
	size_t n_edges, n_rt, n_proc;
};

/* A filtered view: which edges, and optionally the layered graph whose
 * vertices are (txn, last edge was rw) for cycles without adjacent rw
 * edges: vertex 2t + l. Only edges between vertices of the same full
 * strongly connected component (within[], txn-indexed) are seen. */
struct tview {
	uint8_t mask;
	bool layered;
	const uint32_t *within;
};

void tgraph_build(struct tgraph *g, const struct tstore *st, struct tedges *es, uint8_t xmask);
void tgraph_free(struct tgraph *g);
static inline uint32_t tview_nodes(const struct tgraph *g, const struct tview *v)
{
	return v->layered ? 2 * g->n : g->n;
}
/* Tarjan (iterative) from the given roots (view vertices). comp[] (view
 * vertices; TXN_NONE for unvisited) gets component ids in completion
 * order, which is a reverse topological order of the condensation. Returns
 * the number of components; sizes[] (may be NULL) gets their sizes
 * (caller frees *sizes). */
uint32_t tgraph_scc(const struct tgraph *g, const struct tview *v, const uint32_t *roots,
		    size_t n_roots, uint32_t *comp, uint32_t **sizes);
/* Iterate the out-edges of view vertex u: *cur starts at 0. */
bool tgraph_next(const struct tgraph *g, const struct tview *v, uint32_t u, uint64_t *cur,
		 uint32_t *w, uint8_t *type);

/* Reachability in a view, for many queries: topological labels of the
 * condensation, then a pruned depth-first search. */
struct treach {
	const struct tgraph *g;
	struct tstore *st;        /* its deadline; may be NULL */
	const struct tview *v;
	const uint32_t *comp;     /* view vertex -> component (from tgraph_scc) */
	uint32_t *x1, *x2, *lvl;  /* per component */
	uint32_t *stamp, cur_stamp;
	uint32_t *stack;
	size_t stack_cap;
	uint64_t visits;
};
void treach_init(struct treach *r, const struct tgraph *g, const struct tview *v,
		 const uint32_t *comp, uint32_t n_comps);
bool treach_query(struct treach *r, uint32_t from, uint32_t to);
void treach_free(struct treach *r);

/* Shortest path from s to t in view v, through vertices u with
 * keep[u] == keep_id (keep NULL: any), of at most max_len edges (s == t:
 * a shortest cycle through s). Returns the number of edges (0: no such
 * path) and fills path[0..len] (vertices, s first) and types[0..len).
 * Gives up after budget vertex visits (returns 0); visits says how many
 * it made. */
struct tbfs {
	struct tstore *st;        /* its deadline; may be NULL */
	uint64_t visits;
	uint32_t *parent;
	uint8_t *ptype;
	uint32_t *stamp, cur;
	uint32_t *queue;
	uint32_t nodes;
};
void tbfs_init(struct tbfs *b, uint32_t nodes);
void tbfs_free(struct tbfs *b);
uint32_t tbfs_path(struct tbfs *b, const struct tgraph *g, const struct tview *v, uint32_t s,
		   uint32_t t, const uint32_t *keep, uint32_t keep_id, uint64_t budget,
		   uint32_t *path, uint8_t *types, uint32_t max_len);

/* Has st's deadline passed? (sets st->timed_out; cheap to call often) */
bool tstore_expired(struct tstore *st);

/* ---- cycle search (txn_cycles.c) ---- */
struct tcycle_stats {
	uint32_t sccs;        /* nontrivial components of the full graph */
	uint32_t largest;
	uint64_t reach_queries, reach_visits;
};
/* Search every nontrivial component of g for each cycle kind the graph
 * can show; records one instance per (component, kind) with tstore_case. */
void tcycles_search(struct tstore *st, const struct tgraph *g, struct tcycle_stats *stats);
/* The kind of a cycle, from its edge types (K_N if it is not a cycle
 * anomaly: no data edge). */
enum tkind tcycle_classify(const struct tstep *s, uint32_t n);

/* ---- consistency models (txn_models.c) ---- */
bool txn_model_known(const char *name);
const char *txn_model_list(void);     /* for error messages */
bool txn_anomaly_known(const char *name);
/* Anomaly names prohibited by the models plus the extra anomalies (and
 * every anomaly implying one of those): a NULL-terminated array the caller
 * frees (the strings are static). */
const char **txn_prohibited(const char *const *models, size_t nm, const char *const *anoms,
			    size_t na);
/* {"not": [weakest models ruled out], "also_not": [the stronger ones]}
 * for a set of anomaly names (friendly model names, sorted). */
void txn_boundary(const char *const *anoms, size_t n, json_t **not_, json_t **also_not);
/* Does the set (NULL-terminated) contain name? */
bool txn_set_has(const char *const *set, const char *name);

/* ---- explanations (txn_explain.c) ---- */
/* One failure object for a recorded case (new reference). */
json_t *txn_explain_case(struct tstore *st, const struct tcase *c);

#endif
