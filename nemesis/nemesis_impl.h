/*
 * nemesis_impl.h - what the fault kinds share (node.c, options.c): running
 * scripts on many nodes at once, the shell prelude every node script
 * starts with, node-side helper binaries (uploaded when missing), the
 * iptables chain layout, target selection and option parsing.
 *
 * Everything faultline leaves on a node carries a name it owns, so heal can
 * find it without any record from the controller:
 *   iptables chains FAULTLINE-IN / FAULTLINE-OUT (jumped to from INPUT and
 *     OUTPUT) and under them FAULTLINE-PART-IN, FAULTLINE-PART-OUT,
 *     FAULTLINE-SLOW-OUT, FAULTLINE-PKT-OUT;
 *   tc root qdisc handle fa17: (netem path);
 *   NFQUEUE number 64023 and packet mark 0xfa17 (userspace path);
 *   in the node's workdir: bin/faultline-<helper>, faultline-<helper>.pid,
 *   faultline-killed (a kill not yet undone), faultline-clock.offset,
 *   faultline-diskd.mnt (the data dir mounted through faultline-diskd) and
 *   faultline-diskd.sock (its control socket).
 */
#ifndef FAULTLINE_NEMESIS_IMPL_H
#define FAULTLINE_NEMESIS_IMPL_H

#include "nemesis.h"
#include "ssh.h"
#include "util.h"

#include <jansson.h>
#include <stdbool.h>

#define NEM_QDISC_HANDLE "fa17"
#define NEM_QUEUE_NUM 64023
#define NEM_MARK 0xfa17
#define NEM_CMD_TIMEOUT_MS 30000

extern const struct nemesis nemesis_partition;
extern const struct nemesis nemesis_packet;
extern const struct nemesis nemesis_kill;
extern const struct nemesis nemesis_pause;
extern const struct nemesis nemesis_slow;
extern const struct nemesis nemesis_clock;
extern const struct nemesis nemesis_disk;

/* Append to a leftovers script (after nem_prelude): a line for a
 * faultline-diskd with faults, unsynced data or a dead mount. */
void nem_disk_leftovers(struct buf *b);

/* ---- nodes (node.c) ---- */

const char *nem_workdir(const struct test *t, int node);
/* The prelude of every node script: W=<workdir> and shell functions
 * fl_alive PID, fl_stop_helper NAME (stop faultline-NAME by its pid file,
 * only if /proc/PID/exe is that program), fl_ipt_ensure BIN (the chain
 * layout), fl_ipt_ready BIN (ensure if not in place). */
void nem_prelude(struct buf *b, const struct test *t, int node);

/* Append to a node script: load `body` (chain declarations and rules of
 * one kind, iptables-restore syntax without *filter/COMMIT) with `ipt`
 * (iptables or ip6tables), the chain layout ensured. */
void nem_ipt_apply(struct nemesis_ctx *c, int node, struct buf *b, const char *ipt,
		   const char *body);
/* After scripts using nem_ipt_apply ran on every node: remember whether
 * the layout is known to be in place (skips re-checking it). */
void nem_chains_ok(struct nemesis_ctx *c, bool ok);

/* Run scripts[i] on node i in parallel (NULL: node skipped). rs (may be
 * NULL) receives each result (caller frees with nem_results_free). Returns
 * the number of nodes that failed (transport error or non-zero exit);
 * err gets "n1: why; n3: why". */
int nem_run(struct nemesis_ctx *c, char *const *scripts, struct ssh_result *rs,
	    int timeout_ms, char *err, size_t errlen);
void nem_results_free(struct ssh_result *rs, int n);
/* Free an array of n scripts (and the array). */
void nem_scripts_free(char **scripts, int n);
/* A per-node script builder (returns a malloc'd script). */
typedef char *(*nem_script_fn)(struct nemesis_ctx *c, int node);
/* Build fn's script for every node with want[node] (NULL: all) and run
 * them in parallel: nem_run's count of failed nodes. */
int nem_run_fn(struct nemesis_ctx *c, const bool *want, nem_script_fn fn, int timeout_ms,
	       char *err, size_t errlen);
/* After a start that failed on some nodes: undo it on the wanted nodes with
 * fn. Returns NULL (applied freed: nothing is left applied) when the undo
 * worked, else applied, with "; rollback failed: why" added to err. */
json_t *nem_rollback(struct nemesis_ctx *c, json_t *applied, const bool *want,
		     nem_script_fn fn, char *err, size_t errlen);
/* Append "; <what>: <why>" to err (what may be NULL). */
void nem_err_append(char *err, size_t errlen, const char *what, const char *why);
/* want[] (calloc'd) of the nodes named by the keys of applied's "nodes". */
bool *nem_want_applied(struct nemesis_ctx *c, json_t *applied);
/* stop() for kinds undone by a script per node: runs fn on the nodes of
 * applied; *result (if asked) is ok_word or fail_word. 0 or -1. */
int nem_stop_applied(struct nemesis_ctx *c, json_t *applied, nem_script_fn fn, json_t **result,
		     const char *ok_word, const char *fail_word, char *err, size_t errlen);
/* nem_targets as a want[] (calloc'd), or NULL with err set. */
bool *nem_targets_want(struct nemesis_ctx *c, json_t *spec, const char *def, bool avoid_busy,
		       char *err, size_t errlen);

/* Run fn(c, node, ...) for every node with want[node] (NULL: all nodes)
 * in parallel threads. Returns the number that failed; err joined. */
typedef int (*nem_node_fn)(struct nemesis_ctx *c, int node, void *arg, char *err,
			   size_t errlen);
int nem_each(struct nemesis_ctx *c, const bool *want, nem_node_fn fn, void *arg, char *err,
	     size_t errlen);

/* The local file of helper faultline-NAME (next to this executable, or
 * in $FAULTLINE_HELPER_DIR). Caller frees. */
char *nem_helper_local(const char *name);
/* Make sure $W/bin/faultline-NAME on every node in want[] is this build's
 * (POSIX cksum compared; uploaded over SFTP when missing or different) and
 * runs there (--version). 0 or -1 with err naming the nodes. */
int nem_helper_ensure(struct nemesis_ctx *c, const char *name, const bool *want, char *err,
		      size_t errlen);
/* POSIX cksum (CRC and length) of a local file; -1 on error. */
int nem_cksum_file(const char *path, uint32_t *crc, uint64_t *len);
/* POSIX cksum of a buffer. */
uint32_t nem_cksum(const unsigned char *p, size_t n);

/* Network faults need each node in a network namespace of its own: rules
 * on a node sharing the controller's would cut the controller's traffic,
 * and nodes sharing one would pile their rules up. Checks the nodes in
 * want (NULL: all) once per context. 0, or -1 with err ("unsupported on
 * this node: ..."). */
int nem_net_own(struct nemesis_ctx *c, const bool *want, char *err, size_t errlen);

bool nem_addr_is_v6(const char *addr);
/* "iptables" or "ip6tables" for an address. */
const char *nem_ipt_bin(const char *addr);

/* Append "name" of node i and a comma list "a,b" of addresses of the nodes
 * in want (excluding `self`), per family; returns count. */
int nem_peer_list(struct nemesis_ctx *c, const bool *peers, int self, bool v6, struct buf *out);

/* ---- targets and options (options.c) ---- */

/* nemesis_opts.<kind> (borrowed) or NULL. */
json_t *nem_opts(const struct test *t, const char *kind);
/* Reject keys of o not in keys (NULL-terminated). where: "nemesis_opts.packet". */
int nem_opts_keys(json_t *o, const char *const *keys, const char *where, char *err,
		  size_t errlen);
/* Read a number key in [min, max] (default if absent). */
int nem_opts_num(json_t *o, const char *key, double def, double min, double max,
		 const char *where, double *out, char *err, size_t errlen);

/* Targets. In a spec: {"targets": "one"|"minority"|"majority"|"all"|
 * "primaries"} or {"nodes": ["n1", ...]}. In options, "targets" may also
 * be a list of those words (one is picked per fault). */
bool nem_target_word(const char *s);
/* Validate o's "targets"/"nodes" (options or spec). */
int nem_targets_check(const struct test *t, json_t *o, const char *where, char *err,
		      size_t errlen);
/* Set spec's "targets" or "nodes" from the options (default word def). */
void nem_targets_plan(struct nemesis_ctx *c, json_t *opts, const char *def, json_t *spec);
/* Resolve spec's targets into node indices (out has n_nodes slots). Nodes
 * busy with another process fault are passed over when avoid_busy.
 * Returns the count, or -1 with err. */
int nem_targets(struct nemesis_ctx *c, json_t *spec, const char *def, bool avoid_busy,
		int *out, char *err, size_t errlen);
/* ["n1","n3"] for node indices. */
json_t *nem_node_names(const struct test *t, const int *idx, int n);
/* Index of node called name, or -1. */
int nem_node_index(const struct test *t, const char *name);
/* Pick one element of a JSON array of strings with the rng. */
const char *nem_pick(struct nemesis_ctx *c, json_t *arr);

/* The nodes that lead now, asked from the database: their indexes in out
 * (n_nodes slots); the count, or -1 with err (none known, or the database
 * cannot say). */
int nem_primaries(struct nemesis_ctx *c, int *out, char *err, size_t errlen);

/* rng helpers on c->rng. */
double nem_rand_unit(struct nemesis_ctx *c);
int nem_rand_int(struct nemesis_ctx *c, int n);

/* SIGCONT the running database of every node in want (NULL: all). */
int nem_resume_dbs(struct nemesis_ctx *c, const bool *want, char *err, size_t errlen);

/* The majority of n nodes and the largest minority. */
static inline int nem_majority(int n) { return n / 2 + 1; }
static inline int nem_minority(int n) { return (n - 1) / 2; }

#endif
