/*
 * postgres_bank.c - the PostgreSQL client of the bank workload (op shapes:
 * workloads/bank.c), on the shared transaction runner of
 * postgres_client.c.
 *
 * One table accounts (id text primary key, balance bigint), created with
 * exactly workload_opts.initial by the client setup. A transfer reads both
 * balances and writes the new ones as values computed by the client (as
 * Jepsen's bank clients do, not as balance = balance - n), so it is the
 * isolation level, not the statement, that must keep concurrent transfers
 * from losing each other's updates. A transfer that would leave the
 * source negative (unless workload_opts.negative_ok) is rolled back: fail.
 * A read is one SELECT of every balance in a read-only transaction.
 */
#include "postgres_client.h"

#include "client.h"
#include "history.h"
#include "opts.h"
#include "test.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The balance of account id, or -1 with the completion set. */
static int bank_balance(struct pg_txn *x, const char *id, long *out)
{
	const char *p[] = {id};
	PGresult *r;
	if (pgx_exec(x, "SELECT balance FROM accounts WHERE id = $1", 1, p, &r) < 0)
		return -1;
	bool found = PQntuples(r) == 1 && parse_long(PQgetvalue(r, 0, 0), INT64_MIN, INT64_MAX, out);
	PQclear(r);
	return found ? 0 : pgx_abort(x, "no account %.40s", id);
}

static int bank_set(struct pg_txn *x, const char *id, long balance)
{
	char b[32];
	snprintf(b, sizeof b, "%ld", balance);
	const char *p[] = {id, b};
	return pgx_exec(x, "UPDATE accounts SET balance = $2 WHERE id = $1", 2, p, NULL);
}

static int transfer_body(struct pg_txn *x, const struct op *inv, struct op *out, void *arg)
{
	(void)out, (void)arg;
	const char *from = json_string_value(json_object_get(inv->value, "from"));
	const char *to = json_string_value(json_object_get(inv->value, "to"));
	json_t *amount = json_object_get(inv->value, "amount");
	if (!from || !to || !json_is_integer(amount))
		return pgx_abort(x, "transfer needs from, to and an integer amount");
	long n = (long)json_integer_value(amount), fb, tb;
	if (bank_balance(x, from, &fb) < 0 || bank_balance(x, to, &tb) < 0)
		return -1;
	if (fb - n < 0 && !opts_get_bool(pgx_test(x)->workload_opts, "negative_ok"))
		return pgx_abort(x, "insufficient funds: %s has %ld", from, fb);
	return bank_set(x, from, fb - n) < 0 || bank_set(x, to, tb + n) < 0 ? -1 : 0;
}

static int read_body(struct pg_txn *x, const struct op *inv, struct op *out, void *arg)
{
	(void)inv, (void)out;
	PGresult *r;
	if (pgx_exec(x, "SELECT id, balance FROM accounts ORDER BY id", 0, NULL, &r) < 0)
		return -1;
	json_t *balances = arg;
	for (int i = 0; i < PQntuples(r); i++) {
		long b;
		const char *v = PQgetvalue(r, i, 1);
		json_object_set_new(balances, PQgetvalue(r, i, 0),
				    parse_long(v, INT64_MIN, INT64_MAX, &b) ? json_integer(b)
									    : json_string(v));
	}
	PQclear(r);
	return 0;
}

static void bank_invoke(void *client, const struct op *inv, struct op *out)
{
	const char *f = inv->f ? inv->f : "";
	if (!strcmp(f, "transfer")) {
		pgc_txn(client, inv, out, false, transfer_body, NULL);
	} else if (!strcmp(f, "read")) {
		json_t *balances = json_object();
		pgc_txn(client, inv, out, true, read_body, balances);
		if (out->type == OP_OK) {
			json_decref(out->value);
			out->value = balances;
		} else {
			json_decref(balances);
		}
	} else {
		out->type = OP_FAIL;
		pg_set_error(out, "postgres bank client: unknown op %.40s", f);
	}
}

static int bank_schema(PGconn *c, int64_t deadline, void *arg, char *err, size_t errlen)
{
	const struct test *t = arg;
	if (pg_exec_ok(c, "DROP TABLE IF EXISTS accounts", deadline, err, errlen) < 0 ||
	    pg_exec_ok(c, "CREATE TABLE accounts (id text PRIMARY KEY, balance bigint NOT NULL)",
		       deadline, err, errlen) < 0)
		return -1;
	const char *id;
	json_t *v;
	json_object_foreach(json_object_get(t->workload_opts, "initial"), id, v) {
		char b[32];
		snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
		const char *p[] = {id, b};
		PGresult *r;
		if (pg_exec(c, "INSERT INTO accounts (id, balance) VALUES ($1, $2)", 2, p, deadline, &r,
			    err, errlen) != PG_IO_OK)
			return -1;
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			snprintf(err, errlen, "account %.40s: %s", id, PQresultErrorMessage(r));
		PQclear(r);
		if (!ok)
			return -1;
	}
	return 0;
}

static int bank_setup(const struct test *t, char *err, size_t errlen)
{
	return pg_schema_setup(t, bank_schema, (void *)t, err, errlen);
}

const struct client_ops pg_bank_client = {
	.name = "postgres-bank",
	.setup = bank_setup,
	.open = pgc_open,
	.invoke = bank_invoke,
	.close = pgc_close,
};
