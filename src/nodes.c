/*
 * nodes.c - SSH sessions for the nodes of a test (nodes.h): the options
 * come from the test (user, key, known_hosts, sudo password), the port
 * from each node; connecting fans out with par_each.
 */
#include "nodes.h"

#include "par.h"
#include "ssh.h"
#include "test.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libssh's default when a test does not say. */
#define NODES_CONNECT_MS 5000

void nodes_ssh_opts(struct ssh_opts *o, const struct test *t)
{
	memset(o, 0, sizeof *o);
	o->user = t->username && *t->username ? t->username : "root";
	o->private_key = t->private_key;
	o->known_hosts = t->known_hosts;
	o->accept_new = t->ssh_accept_new;
	o->sudo_password = t->sudo_password;
	o->port = 22;
	o->bind_device = t->bind_device;
	o->connect_timeout_ms = t->ssh_timeout_ms > 0 ? t->ssh_timeout_ms : NODES_CONNECT_MS;
}

struct ssh_node **nodes_sessions(const struct test *t, int connect_timeout_ms)
{
	struct ssh_opts base;
	nodes_ssh_opts(&base, t);
	if (connect_timeout_ms > 0)
		base.connect_timeout_ms = connect_timeout_ms;
	struct ssh_node **nodes = xcalloc((size_t)(t->n_nodes > 0 ? t->n_nodes : 1), sizeof *nodes);
	for (int i = 0; i < t->n_nodes; i++) {
		struct ssh_opts o = base;
		if (t->nodes[i].ssh_port > 0)
			o.port = t->nodes[i].ssh_port;
		nodes[i] = ssh_node_new(t->nodes[i].name, t->nodes[i].host, &o);
	}
	return nodes;
}

struct ssh_node **nodes_connect(const struct test *t, char *err, size_t errlen)
{
	struct ssh_node **nodes = nodes_sessions(t, 0);
	if (ssh_connect_all(nodes, t->n_nodes, err, errlen) < 0 ||
	    ssh_shells_ready(nodes, t->n_nodes, err, errlen) < 0) {
		ssh_nodes_free(nodes, t->n_nodes);
		return NULL;
	}
	return nodes;
}

struct connect_each {
	struct ssh_node **nodes;
	char (*why)[512];
};

static int connect_one(void *ctx, int i, char *err, size_t errlen)
{
	struct connect_each *e = ctx;
	int rc = ssh_node_connect(e->nodes[i], e->why[i], sizeof e->why[i]);
	if (rc < 0)
		snprintf(err, errlen, "%s", e->why[i]);
	return rc;
}

int nodes_connect_each(const struct test *t, struct ssh_node ***out,
		       void (*report)(const char *why, void *ctx), void *ctx)
{
	struct connect_each e = {nodes_sessions(t, 0), xcalloc((size_t)t->n_nodes + 1, 512)};
	par_each(t->n_nodes, NULL, connect_one, &e, NULL, 0);
	int up = 0;
	for (int i = 0; i < t->n_nodes; i++) {
		if (!e.why[i][0]) {
			up++;
			continue;
		}
		if (report)
			report(e.why[i], ctx);
		ssh_node_free(e.nodes[i]);
		e.nodes[i] = NULL;
	}
	free(e.why);
	*out = e.nodes;
	return up;
}
