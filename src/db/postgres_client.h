/*
 * postgres_client.h - the machinery every PostgreSQL client shares
 * (postgres_client.c): finding the primary (or a replica), running one
 * transaction with an honest completion, and the once-per-test schema
 * setup. The workload clients (postgres_txn.c for append and rw-register,
 * postgres_bank.c, postgres_set.c) only say which statements a transaction
 * runs.
 */
#ifndef FAULTLINE_POSTGRES_CLIENT_H
#define FAULTLINE_POSTGRES_CLIENT_H

#include "postgres.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct op;
struct test;
struct pg_txn;

/* The statements between BEGIN and COMMIT. 0 to commit; -1 when the
 * transaction must not commit, with the completion already set (by
 * pgx_exec on an error, or pgx_abort). */
typedef int (*pg_body_fn)(struct pg_txn *x, const struct op *inv, struct op *out, void *arg);

void *pgc_open(const struct test *t, int node, char *err, size_t errlen);
void pgc_close(void *client);
/* Run inv as one transaction at db_opts.isolation: BEGIN, body, COMMIT.
 * read_only: the body only reads (with read_from = replicas it goes to a
 * replica, and any error is a fail: it changed nothing). out gets ok with
 * whatever the body put in its value, or fail/info with an error. */
void pgc_txn(void *client, const struct op *inv, struct op *out, bool read_only, pg_body_fn body,
	     void *arg);

/* One statement of a body, with text params. 0 (and *res, if res is not
 * NULL, for the caller to PQclear), or -1 with the completion set to fail
 * (nothing was committed: COMMIT was never sent). */
int pgx_exec(struct pg_txn *x, const char *sql, int nparams, const char *const *params,
	     PGresult **res);
/* The test a transaction runs in. */
const struct test *pgx_test(const struct pg_txn *x);
/* The body gives up (insufficient funds, malformed op): fail with error. */
int pgx_abort(struct pg_txn *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void pg_set_error(struct op *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A micro-op's key or value as the decimal text a statement takes; false
 * if it is not an integer. */
bool pg_int_text(json_t *v, char *out, size_t n);

/* Client setup: on the primary (waiting up to a minute for one), fn runs
 * the schema statements in autocommit (pg_exec_ok, pg_exec); then
 * every replica is waited for until it has replayed them, so the first
 * reads from a replica see the initial rows. 0 or -1 with err. */
typedef int (*pg_schema_fn)(PGconn *c, int64_t deadline, void *arg, char *err, size_t errlen);
int pg_schema_setup(const struct test *t, pg_schema_fn fn, void *arg, char *err, size_t errlen);

#endif
