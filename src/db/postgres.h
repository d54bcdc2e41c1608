/*
 * postgres.h - what the PostgreSQL database (postgres.c) shares with its
 * connection layer (postgres_conn.c) and its clients (postgres_client.c,
 * postgres_txn.c, postgres_bank.c, postgres_set.c).
 *
 * The controller talks to every node with libpq as the superuser, whose
 * password is drawn at random once per faultline process (never logged,
 * never stored on the controller: every setup sets it again). Every wait is bounded by a
 * deadline of our own (non-blocking libpq), because a partitioned node
 * drops packets and libpq alone would wait for TCP to give up.
 */
#ifndef FAULTLINE_POSTGRES_H
#define FAULTLINE_POSTGRES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct test;
struct client_ops;

/* ---- db_opts, read back after postgres_check filled them in ---- */

enum pg_ha { PG_HA_NONE, PG_HA_PATRONI };

struct pg_opts {
	const char *isolation;  /* "SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED" */
	bool synchronous;
	enum pg_ha ha;
	bool read_replicas;     /* read_from = replicas */
	int port;
	int patroni_port;
};

void pg_opts_get(const struct test *t, struct pg_opts *o);
/* The superuser password of this process's setups: drawn once, or
 * $FAULTLINE_POSTGRES_PASSWORD (at most 32 characters) when set. */
const char *pg_password(void);

/* ---- connections (postgres_conn.c) ---- */

/* How a statement ended. */
enum pg_io {
	PG_IO_OK,       /* a result arrived (which may be an error: see sqlstate) */
	PG_IO_LOST,     /* the connection broke: no answer */
	PG_IO_TIMEOUT,  /* no answer before the deadline (connection now useless) */
};

/* Connect to node as the superuser (database postgres) within the
 * deadline (CLOCK_MONOTONIC ns). NULL with err ("n2: connection refused").
 * The password never appears in err. */
PGconn *pg_connect(const struct test *t, int node, int64_t deadline, char *err, size_t errlen);
/* Is the server a hot standby (a replica)? */
bool pg_conn_standby(PGconn *c);
/* Send sql with text params, wait for its results until deadline. On
 * PG_IO_OK *res is the last result (caller PQclear()s it); otherwise *res
 * is NULL and err says why. */
enum pg_io pg_exec(PGconn *c, const char *sql, int nparams, const char *const *params,
		   int64_t deadline, PGresult **res, char *err, size_t errlen);
/* pg_exec that wants PGRES_COMMAND_OK or PGRES_TUPLES_OK: 0, or -1 with
 * err (the server's message when it answered). */
int pg_exec_ok(PGconn *c, const char *sql, int64_t deadline, char *err, size_t errlen);

/* ---- completions: the honest classification of an error ---- */

enum pg_outcome { PG_FAIL, PG_INFO };

/* What an error means for a transaction. before_commit: the error came
 * before COMMIT was sent (then the transaction cannot have committed:
 * fail, whatever the error). At COMMIT: serialization failure, deadlock,
 * integrity violations and read-only errors are certain aborts (fail);
 * anything else - no answer, a lost connection, a shutdown while waiting
 * for a synchronous standby - may hide a commit (info). sqlstate NULL:
 * no answer from the server. */
enum pg_outcome pg_classify(const char *sqlstate, bool before_commit);
/* A short name for a SQLSTATE class the history shows
 * ("serialization-failure", "deadlock", ...), or NULL. */
const char *pg_sqlstate_name(const char *sqlstate);

/* ---- clients ---- */

extern const struct client_ops pg_append_client;
extern const struct client_ops pg_rw_register_client;
extern const struct client_ops pg_bank_client;
extern const struct client_ops pg_set_client;

#endif
