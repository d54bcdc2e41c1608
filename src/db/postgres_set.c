/*
 * postgres_set.c - the PostgreSQL client of the set workload (op shapes:
 * workloads/set.c), on the shared transaction runner of
 * postgres_client.c.
 *
 * One table set_elems (v bigint primary key). An add is one INSERT in its
 * own transaction (explicit BEGIN/COMMIT, so an error before COMMIT is a
 * certain fail and only a COMMIT without answer is info); a read is one
 * SELECT of every element in a read-only transaction (with read_from =
 * replicas, on a replica).
 */
#include "postgres_client.h"

#include "client.h"
#include "history.h"
#include "test.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_body(struct pg_txn *x, const struct op *inv, struct op *out, void *arg)
{
	(void)out, (void)arg;
	char v[32];
	if (!pg_int_text(inv->value, v, sizeof v))
		return pgx_abort(x, "add needs an integer element");
	const char *p[] = {v};
	return pgx_exec(x, "INSERT INTO set_elems (v) VALUES ($1)", 1, p, NULL);
}

static int read_body(struct pg_txn *x, const struct op *inv, struct op *out, void *arg)
{
	(void)inv, (void)out;
	PGresult *r;
	if (pgx_exec(x, "SELECT v FROM set_elems ORDER BY v", 0, NULL, &r) < 0)
		return -1;
	json_t *elems = arg;
	for (int i = 0; i < PQntuples(r); i++) {
		long e;
		const char *s = PQgetvalue(r, i, 0);
		json_array_append_new(elems, parse_long(s, INT64_MIN, INT64_MAX, &e) ? json_integer(e)
										     : json_string(s));
	}
	PQclear(r);
	return 0;
}

static void set_invoke(void *client, const struct op *inv, struct op *out)
{
	const char *f = inv->f ? inv->f : "";
	if (!strcmp(f, "add")) {
		pgc_txn(client, inv, out, false, add_body, NULL);
	} else if (!strcmp(f, "read")) {
		json_t *elems = json_array();
		pgc_txn(client, inv, out, true, read_body, elems);
		if (out->type == OP_OK) {
			json_decref(out->value);
			out->value = elems;
		} else {
			json_decref(elems);
		}
	} else {
		out->type = OP_FAIL;
		pg_set_error(out, "postgres set client: unknown op %.40s", f);
	}
}

static int set_schema(PGconn *c, int64_t deadline, void *arg, char *err, size_t errlen)
{
	(void)arg;
	return pg_exec_ok(c, "DROP TABLE IF EXISTS set_elems", deadline, err, errlen) < 0 ||
			       pg_exec_ok(c, "CREATE TABLE set_elems (v bigint PRIMARY KEY)", deadline,
					  err, errlen) < 0
		       ? -1
		       : 0;
}

static int set_setup(const struct test *t, char *err, size_t errlen)
{
	return pg_schema_setup(t, set_schema, NULL, err, errlen);
}

const struct client_ops pg_set_client = {
	.name = "postgres-set",
	.setup = set_setup,
	.open = pgc_open,
	.invoke = set_invoke,
	.close = pgc_close,
};
