/*
 * nodes.h - the nodes of a test: SSH sessions built from a test's nodes and
 * SSH settings, connected in parallel. Local-cluster nodes and remote
 * hosts take this same path.
 */
#ifndef FAULTLINE_NODES_H
#define FAULTLINE_NODES_H

#include <stddef.h>

struct test;
struct ssh_opts;
struct ssh_node;

/* The ssh_opts of a test (port: the default; each node has its own). */
void nodes_ssh_opts(struct ssh_opts *o, const struct test *t);
/* An unconnected session per node (caller frees with ssh_nodes_free). */
struct ssh_node **nodes_sessions(const struct test *t, int connect_timeout_ms);
/* Connect every node in parallel and start its shell. NULL + err (the
 * nodes that failed and why) unless all of them are reachable. */
struct ssh_node **nodes_connect(const struct test *t, char *err, size_t errlen);
/* Connect what can be connected: unreachable nodes become NULL entries,
 * each reported through report(node, why). Returns the number reached;
 * *out (n_nodes entries) always allocated. */
int nodes_connect_each(const struct test *t, struct ssh_node ***out,
		       void (*report)(const char *why, void *ctx), void *ctx);

#endif
