/*
 * postgres_txn.c - the PostgreSQL clients of the transactional workloads
 * append and rw-register (their op shapes: workloads/append.c,
 * workloads/rw_register.c), on the shared transaction runner of
 * postgres_client.c.
 *
 * Schema as in Jepsen's PostgreSQL tests: a few tables (id bigint primary
 * key, val), a key living in table key mod PG_TXN_TABLES, so transactions
 * touch several tables.
 *   append k v: INSERT INTO txnN AS t (id, val) VALUES (k, 'v')
 *               ON CONFLICT (id) DO UPDATE SET val = t.val || ',' || 'v'
 *   r k (append): SELECT val FROM txnN WHERE id = k  -> [1,2,3], or null
 *               when the row does not exist
 *   w k v:      INSERT INTO regN AS t (id, val) VALUES (k, v)
 *               ON CONFLICT (id) DO UPDATE SET val = excluded.val
 *   r k (rw):   SELECT val FROM regN WHERE id = k   -> v, or null
 * A transaction of reads only is read-only (read_from = replicas sends it
 * to a replica). Reads are filled into the completion only when it is ok.
 */
#include "postgres_client.h"

#include "client.h"
#include "history.h"
#include "test.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_TXN_TABLES 3

struct txn_kind {
	const char *table;    /* "txn" or "reg" */
	const char *val_type; /* SQL type of val */
	const char *write;    /* the micro-op that writes: "append" or "w" */
};

static const struct txn_kind kind_append = {"txn", "text", "append"};
static const struct txn_kind kind_rw = {"reg", "bigint", "w"};

/* "1,2,3" -> [1,2,3]; an element that is not an integer stays a string
 * (the checker then says what is wrong with it). */
static json_t *append_list(const char *s)
{
	json_t *a = json_array();
	while (s && *s) {
		size_t n = strcspn(s, ",");
		char tok[64];
		snprintf(tok, sizeof tok, "%.*s", (int)(n < sizeof tok - 1 ? n : sizeof tok - 1), s);
		long v;
		if (parse_long(tok, INT64_MIN, INT64_MAX, &v))
			json_array_append_new(a, json_integer(v));
		else
			json_array_append_new(a, json_stringn(s, n));
		s += n;
		if (*s == ',')
			s++;
	}
	return a;
}

struct txn_run {
	const struct txn_kind *k;
	json_t *result;   /* the micro-ops with reads filled in */
};

static int txn_body(struct pg_txn *x, const struct op *inv, struct op *out, void *arg)
{
	(void)inv, (void)out;
	struct txn_run *run = arg;
	const struct txn_kind *k = run->k;
	size_t i;
	json_t *mop;
	json_array_foreach(run->result, i, mop) {
		const char *f = json_string_value(json_array_get(mop, 0));
		char key[32], val[32], sql[200];
		if (!pg_int_text(json_array_get(mop, 1), key, sizeof key))
			return pgx_abort(x, "micro-op %zu: the key is not an integer", i);
		long long table = json_integer_value(json_array_get(mop, 1)) % PG_TXN_TABLES;
		if (table < 0)
			table = -table;
		if (f && !strcmp(f, k->write)) {
			if (!pg_int_text(json_array_get(mop, 2), val, sizeof val))
				return pgx_abort(x, "micro-op %zu: the value is not an integer", i);
			if (k == &kind_append)
				snprintf(sql, sizeof sql, "INSERT INTO txn%lld AS t (id, val) VALUES ($1, $2) "
					 "ON CONFLICT (id) DO UPDATE SET val = t.val || ',' || $2", table);
			else
				snprintf(sql, sizeof sql, "INSERT INTO reg%lld AS t (id, val) VALUES ($1, $2) "
					 "ON CONFLICT (id) DO UPDATE SET val = excluded.val", table);
			const char *p[] = {key, val};
			if (pgx_exec(x, sql, 2, p, NULL) < 0)
				return -1;
		} else if (f && !strcmp(f, "r")) {
			snprintf(sql, sizeof sql, "SELECT val FROM %s%lld WHERE id = $1", k->table, table);
			const char *p[] = {key};
			PGresult *r;
			if (pgx_exec(x, sql, 1, p, &r) < 0)
				return -1;
			json_t *v = json_null();
			if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
				const char *s = PQgetvalue(r, 0, 0);
				long lv;
				if (k == &kind_append)
					v = append_list(s);
				else if (parse_long(s, INT64_MIN, INT64_MAX, &lv))
					v = json_integer(lv);
				else
					v = json_string(s);
			}
			PQclear(r);
			json_array_set_new(mop, 2, v);
		} else {
			return pgx_abort(x, "micro-op %zu: unknown function %.20s", i, f ? f : "?");
		}
	}
	return 0;
}

static void txn_invoke(const struct txn_kind *k, void *client, const struct op *inv, struct op *out)
{
	if (!inv->f || strcmp(inv->f, "txn") || !json_is_array(inv->value)) {
		out->type = OP_FAIL;
		pg_set_error(out, "postgres %s client: expected a txn op", k->write);
		return;
	}
	bool read_only = true;
	size_t i;
	json_t *mop;
	json_array_foreach(inv->value, i, mop) {
		if (!json_is_array(mop) || json_array_size(mop) != 3) {
			out->type = OP_FAIL;
			pg_set_error(out, "micro-op %zu: expected [f, key, value]", i);
			return;
		}
		const char *f = json_string_value(json_array_get(mop, 0));
		if (!f || strcmp(f, "r"))
			read_only = false;
	}
	struct txn_run run = {k, json_deep_copy(inv->value)};
	pgc_txn(client, inv, out, read_only, txn_body, &run);
	if (out->type == OP_OK) {
		json_decref(out->value);
		out->value = run.result;
	} else {
		json_decref(run.result);
	}
}

static void append_invoke(void *c, const struct op *inv, struct op *out)
{
	txn_invoke(&kind_append, c, inv, out);
}

static void rw_invoke(void *c, const struct op *inv, struct op *out)
{
	txn_invoke(&kind_rw, c, inv, out);
}

static int tables_create(PGconn *c, int64_t deadline, void *arg, char *err, size_t errlen)
{
	const struct txn_kind *k = arg;
	for (int i = 0; i < PG_TXN_TABLES; i++) {
		char sql[200];
		snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s%d", k->table, i);
		if (pg_exec_ok(c, sql, deadline, err, errlen) < 0)
			return -1;
		snprintf(sql, sizeof sql, "CREATE TABLE %s%d (id bigint PRIMARY KEY, val %s NOT NULL)",
			 k->table, i, k->val_type);
		if (pg_exec_ok(c, sql, deadline, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int append_setup(const struct test *t, char *err, size_t errlen)
{
	return pg_schema_setup(t, tables_create, (void *)&kind_append, err, errlen);
}

static int rw_setup(const struct test *t, char *err, size_t errlen)
{
	return pg_schema_setup(t, tables_create, (void *)&kind_rw, err, errlen);
}

const struct client_ops pg_append_client = {
	.name = "postgres-append",
	.setup = append_setup,
	.open = pgc_open,
	.invoke = append_invoke,
	.close = pgc_close,
};

const struct client_ops pg_rw_register_client = {
	.name = "postgres-rw-register",
	.setup = rw_setup,
	.open = pgc_open,
	.invoke = rw_invoke,
	.close = pgc_close,
};
