/*
 * client.h - the client interface: how a worker talks to the database.
 *
 * open() binds a client to one node; invoke() turns an invocation into its
 * completion. A completion is ok (it happened), fail (it certainly did not)
 * or info (unknown: timeout, connection lost mid-request). When in doubt,
 * info: a wrong fail makes the checker lie.
 */
#ifndef FAULTLINE_CLIENT_H
#define FAULTLINE_CLIENT_H

#include <stddef.h>

struct test;
struct op;

struct client_ops {
	const char *name;
	void *(*open)(const struct test *t, int node, char *err, size_t errlen);
	/* Fill out (type, value, error) from inv. out arrives as a copy of inv
	 * with type OP_INVOKE; invoke must set out->type to ok/fail/info. */
	void (*invoke)(void *client, const struct op *inv, struct op *out);
	void (*close)(void *client);
};

/* The client for a database name ("etcd"), or NULL. */
const struct client_ops *client_find(const char *db);

#endif
