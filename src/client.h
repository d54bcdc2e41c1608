/*
 * client.h - the client interface (v2): how a worker talks to the
 * database. A database lists its clients, one per workload it runs
 * (db.h); the runner gets one through db_client().
 *
 * setup/teardown run once per test on the controller, before the workers
 * start and after the final ops (schemas, initial rows, bank balances).
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
	/* Optional (NULL): once per test, with every node set up. 0, or -1
	 * with err (the run stops: exit 255). */
	int (*setup)(const struct test *t, char *err, size_t errlen);
	/* Optional (NULL): once per test, after the final ops. */
	int (*teardown)(const struct test *t, char *err, size_t errlen);
	void *(*open)(const struct test *t, int node, char *err, size_t errlen);
	/* Fill out (type, value, error) from inv. out arrives as a copy of inv
	 * with type OP_INVOKE; invoke must set out->type to ok/fail/info. */
	void (*invoke)(void *client, const struct op *inv, struct op *out);
	void (*close)(void *client);
};

#endif
