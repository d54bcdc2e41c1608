/*
 * postgres.c - PostgreSQL (Debian's postgresql, 15) as a struct db: one
 * primary and streaming replicas, or, with db_opts.ha = "patroni", Patroni
 * on every node keeping its leader lock in the cluster's own etcd, so a
 * killed or isolated primary is replaced by a replica (a real failover).
 *
 * Remote hosts and local-cluster nodes take the same path, over SSH. On a
 * node everything lives in its workdir: pg/ (owned by the postgres user,
 * as PostgreSQL refuses to run as root) holds the data directory, the
 * socket directory, the replicas' pgpass and patroni.yml; next to it are
 * postgres.log (or patroni.log and etcd.log) and the pid files written by
 * the launching shell from $!. The server runs as postgres, started
 * detached (setsid nohup setpriv) so it outlives the SSH command, and
 * listens on the node's address only. Processes are ended by their own
 * pid, and a pid is trusted only when /proc says it is a postgres serving
 * this data directory (or a patroni reading this patroni.yml).
 *
 * Without Patroni, n1 (the first node) is initdb'd as the primary; every
 * other node takes a base backup from it (retrying until the backup
 * carries this setup's token, so a replica can never copy a previous
 * incarnation of the primary still running) and follows it by streaming
 * replication, asynchronous unless db_opts.synchronous (then every commit
 * waits for one standby: synchronous_standby_names ANY 1). There is no
 * failover: a killed primary is down until restarted.
 *
 * With Patroni, setup starts etcd on every node (etcd.c's own setup: same
 * code, same files) and then Patroni, which bootstraps one primary and
 * clones the others; db_opts.synchronous turns on Patroni's
 * synchronous_mode. kill/pause act on Patroni and its postgres (etcd, the
 * consensus store, stays up); a partition cuts etcd, replication and
 * Patroni's traffic alike.
 *
 * Errors name the node and the cause; a node without PostgreSQL (or
 * Patroni, or etcd) names the Debian package to install, from preflight
 * (exit 254, before anything changed) as well as from setup.
 *
 * db_opts (checked before any node is touched, defaults written back):
 *   isolation    read-committed | repeatable-read | serializable (default)
 *   synchronous  false (default) | true: commits wait for a standby
 *   ha           none (default) | patroni
 *   read_from    primary (default) | replicas: read-only transactions on
 *                hot standbys (postgres_client.c)
 *   port         5432; patroni_port (Patroni's REST API) 8008
 *   fsync        true (default) | false: fsync = off
 *   synchronous_commit  on (default) | off | local | remote_write |
 *                remote_apply
 * The data directory pg/data is db.data_dir: disk faults mount it through
 * faultline-diskd, and setup and teardown then wipe what it holds (pg_wipe).
 * The controller's password for the superuser: see pg_password().
 */
#include "db.h"
#include "etcd.h"
#include "postgres.h"

#include "client.h"
#include "opts.h"
#include "par.h"
#include "ssh.h"
#include "test.h"
#include "util.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

extern const struct db etcd_db;

#define PG_DEFAULT_WORKDIR "/var/lib/faultline"
#define PG_CMD_TIMEOUT_MS 30000
/* A replica's base backup and a Patroni bootstrap wait for the primary. */
#define PG_SETUP_CMD_TIMEOUT_MS 120000
#define PG_SETUP_READY_MS 120000
#define PG_PING_TIMEOUT_S "2"
/* Exit statuses of our node scripts. */
#define PG_EXIT_MISSING 120
#define PG_EXIT_PATRONI_MISSING 121
#define PG_EXIT_NOT_RUNNING 122
#define PG_EXIT_NO_DATA 123

/* ---- options ---- */

void pg_opts_get(const struct test *t, struct pg_opts *o)
{
	json_t *j = t->db_opts;
	const char *iso = opts_get_str(j, "isolation");
	o->isolation = iso && !strcmp(iso, "read-committed")    ? "READ COMMITTED"
		       : iso && !strcmp(iso, "repeatable-read") ? "REPEATABLE READ"
								: "SERIALIZABLE";
	o->synchronous = opts_get_bool(j, "synchronous");
	const char *ha = opts_get_str(j, "ha");
	o->ha = ha && !strcmp(ha, "patroni") ? PG_HA_PATRONI : PG_HA_NONE;
	const char *rf = opts_get_str(j, "read_from");
	o->read_replicas = rf && !strcmp(rf, "replicas");
	long p = opts_get_int(j, "port");
	o->port = p > 0 ? (int)p : 5432;
	p = opts_get_int(j, "patroni_port");
	o->patroni_port = p > 0 ? (int)p : 8008;
}

static int postgres_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = {"isolation", "synchronous", "ha", "read_from", "port",
					   "patroni_port", "fsync", "synchronous_commit", NULL};
	const char *iso, *ha, *rf, *sc;
	bool sync, fsync;
	long port, pport;
	if (opts_keys(o, keys, "db_opts", err, errlen) < 0 ||
	    opts_enum(o, "isolation", "serializable", "read-committed|repeatable-read|serializable",
		      "db_opts", &iso, err, errlen) < 0 ||
	    opts_bool(o, "synchronous", false, "db_opts", &sync, err, errlen) < 0 ||
	    opts_enum(o, "ha", "none", "none|patroni", "db_opts", &ha, err, errlen) < 0 ||
	    opts_enum(o, "read_from", "primary", "primary|replicas", "db_opts", &rf, err, errlen) < 0 ||
	    opts_int(o, "port", 5432, 1, 65535, "db_opts", &port, err, errlen) < 0 ||
	    opts_int(o, "patroni_port", 8008, 1, 65535, "db_opts", &pport, err, errlen) < 0 ||
	    opts_bool(o, "fsync", true, "db_opts", &fsync, err, errlen) < 0 ||
	    opts_enum(o, "synchronous_commit", "on", "on|off|local|remote_write|remote_apply",
		      "db_opts", &sc, err, errlen) < 0)
		return -1;
	if (!strcmp(rf, "replicas") && t->n_nodes < 2) {
		snprintf(err, errlen, "db_opts.read_from: replicas needs at least 2 nodes (test has %d)",
			 t->n_nodes);
		return -1;
	}
	if (sync && t->n_nodes < 2) {
		snprintf(err, errlen, "db_opts.synchronous: needs a standby, so at least 2 nodes "
			 "(test has %d)", t->n_nodes);
		return -1;
	}
	if (!strcmp(ha, "patroni")) {
		if (port == pport || port == 2379 || port == 2380) {
			snprintf(err, errlen, "db_opts.port: %ld is taken by %s on every node", port,
				 port == pport ? "Patroni's REST API (db_opts.patroni_port)" : "etcd");
			return -1;
		}
		if (pport == 2379 || pport == 2380) {
			snprintf(err, errlen, "db_opts.patroni_port: %ld is taken by etcd on every node",
				 pport);
			return -1;
		}
	}
	return 0;
}

/* ---- the password ----
 * Random per process, unless FAULTLINE_POSTGRES_PASSWORD sets it (to
 * connect with psql to a database left running, or from a test driver).
 * Either way it is masked in every log line. */

static pthread_once_t pw_once = PTHREAD_ONCE_INIT;
static char pw[33];

static void pg_password_init(void)
{
	char *env = env_take_secret("FAULTLINE_POSTGRES_PASSWORD");
	if (env && *env && strlen(env) < sizeof pw) {
		snprintf(pw, sizeof pw, "%s", env);
		log_add_secret(pw);
		free(env);
		return;
	}
	free(env);
	unsigned char r[16];
	size_t got = 0;
	while (got < sizeof r) {
		ssize_t n = getrandom(r + got, sizeof r - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof r) {
		/* No kernel randomness: still a per-process value, never a constant. */
		uint64_t x = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof r; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
			r[i] = (unsigned char)(x >> 56);
	}
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(pw + 2 * i, 3, "%02x", r[i]);
	log_add_secret(pw);
}

const char *pg_password(void)
{
	pthread_once(&pw_once, pg_password_init);
	return pw;
}

/* ---- helpers ---- */

static const char *pg_workdir(const struct test *t, int node)
{
	const char *w = t->nodes[node].workdir;
	return w && *w ? w : PG_DEFAULT_WORKDIR;
}

/* The address a server binds to: a DNS name is resolved on the controller,
 * which for remote hosts is the address we reach them by. */
static char *pg_listen_host(const char *host)
{
	char *ip = host_to_ip(host);
	return ip ? ip : xstrdup(host);
}

/* "host:port", with brackets for IPv6 literals. */
static char *host_port(const char *host, int port)
{
	return strchr(host, ':') ? xasprintf("[%s]:%d", host, port) : xasprintf("%s:%d", host, port);
}

/* A postgresql.conf string literal: '...' with ' doubled. */
static void conf_str(struct buf *b, const char *s)
{
	buf_puts(b, "'");
	for (; *s; s++)
		buf_append(b, *s == '\'' ? "''" : s, *s == '\'' ? 2 : 1);
	buf_puts(b, "'");
}

/* ---- the shell scripts run on the node ---- */

/* Common prelude: W, P, D, S; as_pg (run as the postgres user); pg_bin
 * (find the server binaries: newest /usr/lib/postgresql/N/bin, else PATH);
 * pid_ok PID COMM-GLOB LINE (PID is a live COMM whose command line has the
 * argument LINE); pg_pids, pg_pid and patroni_pid; tree (a pid and all its
 * descendants); pg_wipe (remove P, or only what D holds when D is a
 * mountpoint); pg_stop (SIGKILL Patroni and every postmaster serving D
 * with all their children, until none is left). */
static void script_prelude(struct buf *b, const struct test *t, int node)
{
	buf_puts(b, "W=");
	buf_sh_quote(b, pg_workdir(t, node));
	buf_puts(b, "\nP=\"$W/pg\" D=\"$W/pg/data\" S=\"$W/pg/sock\"\n"
		 "as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- \"$@\"; }\n"
		 "pg_bin() {\n"
		 "  for B in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do\n"
		 "    [ -x \"$B/postgres\" ] && [ -x \"$B/initdb\" ] && [ -x \"$B/pg_basebackup\" ] && return 0\n"
		 "  done\n"
		 "  e=$(command -v postgres 2>/dev/null) && e=$(readlink -f \"$e\") && B=${e%/*} &&\n"
		 "    [ -x \"$B/postgres\" ] && [ -x \"$B/initdb\" ] && [ -x \"$B/pg_basebackup\" ]\n"
		 "}\n"
		 "pid_ok() {\n"
		 "  case \"$1\" in ''|*[!0-9]*) return 1;; esac\n"
		 "  c=$(cat /proc/$1/comm 2>/dev/null) || return 1\n"
		 "  case \"$c\" in $2) ;; *) return 1;; esac\n"
		 "  tr '\\0' '\\n' </proc/$1/cmdline 2>/dev/null | grep -qxF -- \"$3\" || return 1\n"
		 "  ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null\n"
		 "}\n"
		 /* Every postmaster serving $D, found by its command line: Patroni
		  * starts postgres detached, and one it was starting when it was
		  * killed has no pid file yet. */
		 "pg_pids() {\n"
		 "  for f in $(grep -lzxF -- \"$D\" /proc/[0-9]*/cmdline 2>/dev/null); do\n"
		 "    p=${f#/proc/}; p=${p%/cmdline}; pid_ok \"$p\" postgres \"$D\" && echo $p\n"
		 "  done\n"
		 "}\n"
		 "pg_pid() {\n"
		 "  p=$(head -n 1 \"$D/postmaster.pid\" 2>/dev/null)\n"
		 "  pid_ok \"$p\" postgres \"$D\" || { p=$(cat \"$W/postgres.pid\" 2>/dev/null); pid_ok \"$p\" postgres \"$D\"; } ||\n"
		 "    { set -- $(pg_pids); p=${1:-}; [ -n \"$p\" ]; } || return 1\n"
		 "  echo $p\n"
		 "}\n"
		 "patroni_pid() {\n"
		 "  p=$(cat \"$W/patroni.pid\" 2>/dev/null)\n"
		 "  pid_ok \"$p\" patroni \"$P/patroni.yml\" || return 1\n"
		 "  echo $p\n"
		 "}\n"
		 "tree() {\n"
		 "  ps -e -o pid= -o ppid= | awk -v root=\"$1\" '{ kids[$2] = kids[$2] \" \" $1 }\n"
		 "    END { todo = root; while (todo != \"\") { n = split(todo, a, \" \"); todo = \"\";\n"
		 "      for (i = 1; i <= n; i++) { print a[i]; if (a[i] in kids) todo = todo kids[a[i]] } } }'\n"
		 "}\n"
		 /* Stop the root first, so it forks nothing while we list. */
		 "tree_signal() { kill -STOP $2 2>/dev/null; for q in $(tree $2); do kill -$1 $q 2>/dev/null; done; }\n"
		 /* The data dir may be a mountpoint (disk faults mount it through
		  * faultline-diskd): then only what it holds goes. */
		 "pg_wipe() {\n"
		 "  if mountpoint -q \"$D\" 2>/dev/null; then\n"
		 "    find \"$D\" -mindepth 1 -maxdepth 1 -exec rm -rf {} + &&\n"
		 "    find \"$P\" -mindepth 1 -maxdepth 1 ! -name data -exec rm -rf {} +\n"
		 "  else\n"
		 "    rm -rf \"$P\"\n"
		 "  fi\n"
		 "}\n"
		 /* Until two rounds in a row find nothing: a postmaster Patroni
		  * was spawning when it died may show up a moment later. */
		 "pg_stop() {\n"
		 "  i=0 quiet=0\n"
		 "  while [ $i -lt 100 ]; do\n"
		 "    found=\n"
		 "    if p=$(patroni_pid); then tree_signal 9 $p; found=1; fi\n"
		 "    for p in $(pg_pids); do tree_signal 9 $p; found=1; done\n"
		 "    if [ -n \"$found\" ]; then quiet=0; else quiet=$((quiet+1)); [ $quiet -lt 2 ] || return 0; fi\n"
		 "    sleep 0.05; i=$((i+1))\n"
		 "  done\n"
		 "  echo \"postgres or patroni did not die\" >&2; exit 1\n"
		 "}\n");
}

static void script_need_pg(struct buf *b, bool patroni)
{
	buf_printf(b, "pg_bin && id -u postgres >/dev/null 2>&1 || exit %d\n", PG_EXIT_MISSING);
	if (patroni)
		buf_printf(b, "e=$(command -v patroni 2>/dev/null) && [ -f \"$e\" ] && [ -x \"$e\" ] || exit %d\n",
			   PG_EXIT_PATRONI_MISSING);
}

/* The postgres user must be able to reach $W: grant the search bit on
 * every directory above it that denies it (a local cluster's state
 * directory is root's 0700). Only x, never r: nothing becomes listable. */
static void script_reach(struct buf *b)
{
	buf_puts(b, "mkdir -p \"$W\" || exit 1\n"
		    "set --; d=$W; while [ \"$d\" != / ] && [ \"$d\" != . ]; do set -- \"$d\" \"$@\"; d=$(dirname \"$d\"); done\n"
		    "for d in \"$@\"; do as_pg test -x \"$d\" || chmod o+x \"$d\" || exit 1; done\n"
		    "cd \"$W\" || exit 1\n");
}

/* Start a detached process as postgres: $1 pid file, $2 log, rest the
 * command; checks it is still alive a moment later (a bad setting, a busy
 * port or a locked data dir end it at once) with $pidfn. */
static void script_launch_fn(struct buf *b)
{
	buf_puts(b, "launch() {\n"
		    "  pf=$1 lf=$2 fn=$3; shift 3\n"
		    "  cd \"$W\" || exit 1\n"
		    "  setsid nohup setpriv --reuid=postgres --regid=postgres --init-groups -- \"$@\" </dev/null >>\"$lf\" 2>&1 &\n"
		    "  echo $! >\"$pf\"\n"
		    "  i=0; while [ $i -lt 6 ]; do sleep 0.05; i=$((i+1)); done\n"
		    "  $fn >/dev/null || { echo \"$1 exited at once: $(tail -n 3 \"$lf\" | tr '\\n' ' ')\" >&2; exit 1; }\n"
		    "}\n");
}

/* A killed postmaster's lock files (data directory, socket) name a pid
 * that may linger as a zombie until init reaps it (seconds, on some
 * hosts), and postgres refuses to start while that pid exists: a lock
 * whose pid is dead or a zombie is stale (a zombie holds no shared
 * memory), so it goes. */
static void script_stale_lock(struct buf *b)
{
	buf_puts(b, "for lf in \"$D/postmaster.pid\" \"$S\"/.s.PGSQL.*.lock; do\n"
		    "  lp=$(head -n 1 \"$lf\" 2>/dev/null) && case \"$lp\" in ''|*[!0-9]*) ;; *)\n"
		    "    if [ ! -d /proc/$lp ] || grep -q '^State:[[:space:]]*Z' /proc/$lp/status 2>/dev/null; then\n"
		    "      rm -f \"$lf\"; fi;; esac\n"
		    "done\n");
}

static void script_launch_pg(struct buf *b)
{
	script_stale_lock(b);
	script_launch_fn(b);
	buf_puts(b, "launch \"$W/postgres.pid\" \"$W/postgres.log\" pg_pid \"$B/postgres\" -D \"$D\"\n");
}

static void script_launch_patroni(struct buf *b)
{
	script_stale_lock(b);
	script_launch_fn(b);
	/* Patroni takes the server binaries' directory from its environment
	 * (it overrides patroni.yml), found on the node by pg_bin. */
	buf_puts(b, "export PATRONI_POSTGRESQL_BIN_DIR=\"$B\"\n"
		    "launch \"$W/patroni.pid\" \"$W/patroni.log\" patroni_pid \"$(command -v patroni)\" \"$P/patroni.yml\"\n");
}

/* What the scripts above mean by their exit codes. */
static const struct db_exit pg_exits[] = {
	{PG_EXIT_MISSING, "PostgreSQL not found (install the Debian package postgresql)"},
	{PG_EXIT_PATRONI_MISSING, "patroni not found (install the Debian package patroni)"},
	{PG_EXIT_NOT_RUNNING, "cannot %s: postgres is not running"},
	{PG_EXIT_NO_DATA, "cannot %s: no postgres data in %s/pg/data (run setup first)"},
	{0, NULL},
};

/* Run script on node; 0, or -1 with err naming node and cause. */
static int pg_run(struct db_ctx *c, int node, const char *what, const char *script,
		  int timeout_ms, char **out, char *err, size_t errlen)
{
	return db_run_script(c, node, what, script, timeout_ms, pg_exits,
			     pg_workdir(c->test, node), out, err, errlen);
}

/* ---- configuration written to the nodes ---- */

/* postgresql.conf lines of one node (appended last, so they win over a
 * copy of the primary's). */
static void node_conf(struct buf *b, const struct test *t, int node, bool primary)
{
	struct pg_opts o;
	pg_opts_get(t, &o);
	char *listen = pg_listen_host(t->nodes[node].host);
	char sock[1024];
	snprintf(sock, sizeof sock, "%s/pg/sock", pg_workdir(t, node));
	buf_printf(b, "\n# faultline: node %s\nlisten_addresses = ", t->nodes[node].name);
	conf_str(b, listen);
	buf_printf(b, "\nport = %d\nunix_socket_directories = ", o.port);
	conf_str(b, sock);
	buf_puts(b, "\ncluster_name = ");
	conf_str(b, t->nodes[node].name);
	buf_printf(b, "\nwal_level = replica\nmax_wal_senders = 16\nmax_replication_slots = 16\n"
		      "wal_keep_size = '1GB'\nhot_standby = on\nhot_standby_feedback = on\n"
		      "max_connections = %d\nshared_buffers = '32MB'\n"
		      "log_line_prefix = '%%m [%%p] %%q%%u@%%d '\n",
		   t->concurrency * 2 + 50);
	/* Durability as configured (what the disk fault's lose-unfsynced
	 * tests): fsync off skips every fsync, synchronous_commit off
	 * acknowledges a commit before its WAL is flushed. */
	const char *sc = opts_get_str(t->db_opts, "synchronous_commit");
	if (json_is_false(json_object_get(t->db_opts, "fsync")))
		buf_puts(b, "fsync = off\n");
	if (sc && strcmp(sc, "on"))
		buf_printf(b, "synchronous_commit = %s\n", sc);
	if (primary && o.synchronous) {
		/* Every commit waits until one standby has flushed it; standbys
		 * name themselves by cluster_name (the walreceiver's
		 * application_name). */
		struct buf names;
		buf_init(&names);
		buf_puts(&names, "ANY 1 (");
		for (int i = 0, k = 0; i < t->n_nodes; i++) {
			if (i == node)
				continue;
			buf_puts(&names, k++ ? ", \"" : "\"");
			for (const char *s = t->nodes[i].name; *s; s++)
				buf_append(&names, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
			buf_puts(&names, "\"");
		}
		buf_puts(&names, ")");
		buf_puts(b, "synchronous_standby_names = ");
		conf_str(b, names.data);
		buf_puts(b, "\n");
		buf_free(&names);
	}
	free(listen);
}

static const char pg_hba[] =
	"local all all peer\n"
	"host all all 0.0.0.0/0 scram-sha-256\n"
	"host all all ::/0 scram-sha-256\n"
	"host replication all 0.0.0.0/0 scram-sha-256\n"
	"host replication all ::/0 scram-sha-256\n";

/* Patroni's configuration (JSON is YAML: jansson does the quoting). */
static char *patroni_yml(const struct test *t, int node)
{
	struct pg_opts o;
	pg_opts_get(t, &o);
	const struct node *me = &t->nodes[node];
	const char *w = pg_workdir(t, node);
	char *listen = pg_listen_host(me->host);
	char *token = etcd_cluster_token(t);
	char *rest_listen = host_port(listen, o.patroni_port), *rest_adv = host_port(me->host, o.patroni_port);
	char *pg_listen = host_port(listen, o.port), *pg_adv = host_port(me->host, o.port);
	char *data = xasprintf("%s/pg/data", w), *sock = xasprintf("%s/pg/sock", w),
	     *pgpass = xasprintf("%s/pg/pgpass", w);
	json_t *hosts = json_array();
	for (int i = 0; i < t->n_nodes; i++) {
		char *hp = host_port(t->nodes[i].host, 2379);
		json_array_append_new(hosts, json_string(hp));
		free(hp);
	}
	json_t *hba = json_array();
	for (const char *s = pg_hba; *s;) {
		const char *e = strchr(s, '\n');
		json_array_append_new(hba, json_stringn(s, (size_t)(e - s)));
		s = e + 1;
	}
	/* Short timings, so an isolated or killed primary is replaced within
	 * seconds (Patroni wants loop_wait + 2 * retry_timeout <= ttl). */
	json_t *dcs = json_pack(
		"{s:i, s:i, s:i, s:i, s:b, s:{s:b, s:b, s:{s:s, s:s, s:s, s:i, s:i, s:s, s:i}}}",
		"ttl", 10, "loop_wait", 1, "retry_timeout", 4, "maximum_lag_on_failover", 1048576,
		"synchronous_mode", o.synchronous, "postgresql", "use_pg_rewind", 1, "use_slots", 1,
		"parameters", "wal_level", "replica", "hot_standby", "on", "wal_log_hints", "on",
		"max_wal_senders", 16, "max_replication_slots", 16, "wal_keep_size", "1GB",
		"max_connections", t->concurrency * 2 + 50);
	json_t *cfg = json_pack(
		"{s:s, s:s, s:s, s:{s:s}, s:{s:s, s:s}, s:{s:o}, "
		"s:{s:o, s:[{s:s}, s, {s:s}, {s:s}]}, "
		"s:{s:s, s:s, s:s, s:s, s:b, s:b, s:b, "
		"s:{s:{s:s, s:s}, s:{s:s, s:s}}, s:{s:s, s:s, s:s, s:s}, s:o}}",
		"scope", token, "namespace", "/faultline/", "name", me->name,
		"log", "level", "INFO",
		"restapi", "listen", rest_listen, "connect_address", rest_adv,
		"etcd3", "hosts", hosts,
		"bootstrap", "dcs", dcs, "initdb", "encoding", "UTF8", "no-locale", "auth-local",
		"peer", "auth-host", "scram-sha-256",
		"postgresql", "listen", pg_listen, "connect_address", pg_adv, "data_dir", data,
		"pgpass", pgpass, "use_unix_socket", 1, "remove_data_directory_on_rewind_failure", 1,
		"remove_data_directory_on_diverged_timelines", 1,
		"authentication", "superuser", "username", "postgres", "password", pg_password(),
		"replication", "username", "replicator", "password", pg_password(),
		"parameters", "unix_socket_directories", sock, "shared_buffers", "32MB",
		"log_line_prefix", "%m [%p] %q%u@%d ", "hot_standby_feedback", "on",
		"pg_hba", hba);
	char *s = cfg ? json_dumps(cfg, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
	json_decref(cfg);
	free(listen), free(token), free(rest_listen), free(rest_adv), free(pg_listen), free(pg_adv);
	free(data), free(sock), free(pgpass);
	return s;
}

/* ---- readiness, from the controller ---- */

static int pg_ping(const struct test *t, int node)
{
	struct pg_opts o;
	pg_opts_get(t, &o);
	char port[16];
	snprintf(port, sizeof port, "%d", o.port);
	const char *keys[] = {"host", "port", "dbname", "connect_timeout", "gssencmode", NULL};
	const char *vals[] = {t->nodes[node].host, port, "postgres", PG_PING_TIMEOUT_S, "disable", NULL};
	return PQpingParams(keys, vals, 0);
}

static int postgres_healthy(const struct test *t, int node, char *err, size_t errlen)
{
	struct pg_opts o;
	pg_opts_get(t, &o);
	switch (pg_ping(t, node)) {
	case PQPING_OK:
		return 0;
	case PQPING_REJECT:
		db_node_err(t, node, err, errlen, "postgres at %s:%d is not accepting connections yet",
			    t->nodes[node].host, o.port);
		return -1;
	default:
		db_node_err(t, node, err, errlen, "postgres unreachable at %s:%d", t->nodes[node].host,
			    o.port);
		return -1;
	}
}

static int pg_wait_ready(const struct test *t, int node, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	char last[400] = "";
	while (postgres_healthy(t, node, last, sizeof last) != 0) {
		if (now_ns() >= deadline) {
			db_node_err(t, node, err, errlen, "postgres not ready after %d s (%s)",
				    timeout_ms / 1000, last);
			return -1;
		}
		usleep(200 * 1000);
	}
	return 0;
}

/* ---- lifecycle ---- */

static bool pg_patroni(const struct test *t)
{
	struct pg_opts o;
	pg_opts_get(t, &o);
	return o.ha == PG_HA_PATRONI;
}

static int postgres_preflight(struct db_ctx *c, int node, char *err, size_t errlen)
{
	bool patroni = pg_patroni(c->test);
	if (patroni && etcd_db.preflight && etcd_db.preflight(c, node, err, errlen) < 0)
		return -1;
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	script_need_pg(&b, patroni);
	if (patroni)
		buf_puts(&b, "e=$(command -v etcd 2>/dev/null) && [ -f \"$e\" ] && [ -x \"$e\" ] || "
			     "{ echo 'etcd not found (install the Debian package etcd-server)' >&2; exit 1; }\n");
	int rc = pg_run(c, node, "check the node", b.data, PG_CMD_TIMEOUT_MS, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

/* The start of every setup: stop what runs, wipe the data, new log. */
static void script_reset(struct buf *b, const char *log)
{
	script_reach(b);
	buf_printf(b, "pg_stop\n"
		      "pg_wipe && rm -f \"$W/postgres.pid\" \"$W/patroni.pid\" || exit 1\n"
		      ": >\"$W/%s\"\n"
		      "install -d -o postgres -g postgres -m 700 \"$P\" \"$D\" \"$S\" || exit 1\n"
		      "umask 077\n",
		  log);
}

static int setup_primary(struct db_ctx *c, int node, char *err, size_t errlen)
{
	const struct test *t = c->test;
	struct buf b, conf;
	buf_init(&b);
	buf_init(&conf);
	node_conf(&conf, t, node, true);
	char *token = etcd_cluster_token(t);
	script_prelude(&b, t, node);
	script_need_pg(&b, false);
	script_reset(&b, "postgres.log");
	buf_puts(&b, "printf '%s\\n' ");
	buf_sh_quote(&b, pg_password());
	buf_puts(&b, " >\"$P/pw\" && chown postgres \"$P/pw\" || exit 1\n"
		     "as_pg \"$B/initdb\" -D \"$D\" -U postgres --pwfile=\"$P/pw\" -A scram-sha-256 "
		     "--auth-local=peer -E UTF8 --no-locale --no-sync >>\"$W/postgres.log\" 2>&1 ||\n"
		     "  { rm -f \"$P/pw\"; echo \"initdb failed: $(tail -n 2 \"$W/postgres.log\" | tr '\\n' ' ')\" >&2; exit 1; }\n"
		     "rm -f \"$P/pw\"\n"
		     "printf '%s\\n' ");
	buf_sh_quote(&b, conf.data);
	buf_puts(&b, " >>\"$D/postgresql.conf\" || exit 1\nprintf '%s' ");
	buf_sh_quote(&b, pg_hba);
	buf_puts(&b, " >\"$D/pg_hba.conf\" || exit 1\nprintf '%s\\n' ");
	buf_sh_quote(&b, token);
	buf_puts(&b, " >\"$D/faultline.token\" && chown postgres \"$D/faultline.token\" || exit 1\n");
	script_launch_pg(&b);
	int rc = pg_run(c, node, "set up the primary", b.data, PG_SETUP_CMD_TIMEOUT_MS, NULL, err,
			errlen);
	free(token);
	buf_free(&conf);
	buf_free(&b);
	return rc;
}

static int setup_replica(struct db_ctx *c, int node, char *err, size_t errlen)
{
	const struct test *t = c->test;
	struct pg_opts o;
	pg_opts_get(t, &o);
	struct buf b, conf;
	buf_init(&b);
	buf_init(&conf);
	node_conf(&conf, t, node, false);
	char *token = etcd_cluster_token(t);
	char port[16];
	snprintf(port, sizeof port, "%d", o.port);
	script_prelude(&b, t, node);
	script_need_pg(&b, false);
	script_reset(&b, "postgres.log");
	buf_puts(&b, "printf '*:*:*:postgres:%s\\n' ");
	buf_sh_quote(&b, pg_password());
	buf_puts(&b, " >\"$P/pgpass\" && chown postgres \"$P/pgpass\" || exit 1\nT=");
	buf_sh_quote(&b, token);
	buf_puts(&b, "\nPH=");
	buf_sh_quote(&b, t->nodes[0].host);
	buf_puts(&b, "\nPP=");
	buf_sh_quote(&b, port);
	/* The primary may still be starting (or still be the previous
	 * setup's): retry until a backup carries this setup's token. */
	buf_puts(&b, "\nok= i=0\n"
		     "while [ $i -lt 300 ]; do\n"
		     "  find \"$D\" -mindepth 1 -delete 2>/dev/null\n"
		     "  if as_pg env PGPASSFILE=\"$P/pgpass\" PGCONNECT_TIMEOUT=2 \"$B/pg_basebackup\" -h \"$PH\" -p \"$PP\" "
		     "-U postgres -w -D \"$D\" -X stream -R -c fast --no-sync >>\"$W/postgres.log\" 2>&1 &&\n"
		     "     [ \"$(cat \"$D/faultline.token\" 2>/dev/null)\" = \"$T\" ]; then ok=1; break; fi\n"
		     "  sleep 0.2; i=$((i+1))\n"
		     "done\n"
		     "[ -n \"$ok\" ] || { echo \"no base backup from $PH: $(tail -n 2 \"$W/postgres.log\" | tr '\\n' ' ')\" >&2; exit 1; }\n"
		     "printf '%s\\n' ");
	buf_sh_quote(&b, conf.data);
	buf_puts(&b, " >>\"$D/postgresql.conf\" || exit 1\n");
	script_launch_pg(&b);
	int rc = pg_run(c, node, "set up a replica", b.data, PG_SETUP_CMD_TIMEOUT_MS, NULL, err,
			errlen);
	free(token);
	buf_free(&conf);
	buf_free(&b);
	return rc;
}

static int setup_patroni(struct db_ctx *c, int node, char *err, size_t errlen)
{
	const struct test *t = c->test;
	/* etcd first (on every node at once, like any setup): Patroni's
	 * store. Same code and files as db etcd. */
	if (etcd_db.setup(c, node, err, errlen) < 0)
		return -1;
	char *yml = patroni_yml(t, node);
	if (!yml) {
		db_node_err(t, node, err, errlen, "cannot build patroni.yml");
		return -1;
	}
	struct buf b;
	buf_init(&b);
	script_prelude(&b, t, node);
	script_need_pg(&b, true);
	script_reset(&b, "patroni.log");
	/* Patroni initdb's or clones into the empty data directory. */
	buf_puts(&b, "printf '%s\\n' ");
	buf_sh_quote(&b, yml);
	buf_puts(&b, " >\"$P/patroni.yml\" && chown postgres \"$P/patroni.yml\" || exit 1\n");
	script_launch_patroni(&b);
	int rc = pg_run(c, node, "start patroni", b.data, PG_CMD_TIMEOUT_MS, NULL, err, errlen);
	free(yml);
	buf_free(&b);
	return rc;
}

static int postgres_setup(struct db_ctx *c, int node, char *err, size_t errlen)
{
	int rc = pg_patroni(c->test) ? setup_patroni(c, node, err, errlen)
		 : node == 0	     ? setup_primary(c, node, err, errlen)
				     : setup_replica(c, node, err, errlen);
	if (rc == 0)
		rc = pg_wait_ready(c->test, node, PG_SETUP_READY_MS, err, errlen);
	return rc;
}

static int postgres_teardown(struct db_ctx *c, int node, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	/* The logs stay: they may still be fetched after the run. */
	buf_puts(&b, "pg_stop\n"
		     "pg_wipe && rm -f \"$W/postgres.pid\" \"$W/patroni.pid\"\n");
	int rc = pg_run(c, node, "tear down postgres", b.data, PG_CMD_TIMEOUT_MS, NULL, err, errlen);
	buf_free(&b);
	if (pg_patroni(c->test)) {
		char e2[400];
		if (etcd_db.teardown(c, node, e2, sizeof e2) < 0 && rc == 0) {
			snprintf(err, errlen, "%s", e2);
			rc = -1;
		}
	}
	return rc;
}

static int postgres_start(struct db_ctx *c, int node, char *err, size_t errlen)
{
	bool patroni = pg_patroni(c->test);
	if (patroni && etcd_db.start(c, node, err, errlen) < 0)
		return -1;
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	script_need_pg(&b, patroni);
	if (patroni) {
		buf_printf(&b, "if patroni_pid >/dev/null; then exit 0; fi\n"
			       "[ -f \"$P/patroni.yml\" ] || exit %d\n",
			   PG_EXIT_NO_DATA);
		script_launch_patroni(&b);
	} else {
		buf_printf(&b, "if pg_pid >/dev/null; then exit 0; fi\n"
			       "[ -f \"$D/PG_VERSION\" ] || exit %d\n",
			   PG_EXIT_NO_DATA);
		script_launch_pg(&b);
	}
	int rc = pg_run(c, node, patroni ? "start patroni" : "start postgres", b.data,
			PG_CMD_TIMEOUT_MS, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

/* Killing a node whose database is already dead is not an error. */
static int postgres_kill(struct db_ctx *c, int node, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	buf_puts(&b, "pg_stop\n");
	int rc = pg_run(c, node, "kill postgres", b.data, PG_CMD_TIMEOUT_MS, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

/* SIGSTOP/SIGCONT to Patroni (if any) and the postmaster with every
 * backend: stopping the postmaster alone would leave its sessions
 * answering. */
static int pg_signal(struct db_ctx *c, int node, const char *sig, const char *what, char *err,
		     size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	buf_printf(&b, "n=0\n"
		       "if p=$(patroni_pid); then tree_signal %s $p; n=1; fi\n"
		       "if p=$(pg_pid); then tree_signal %s $p; n=1; fi\n"
		       "[ $n = 1 ] || exit %d\n",
		   sig, sig, PG_EXIT_NOT_RUNNING);
	int rc = pg_run(c, node, what, b.data, PG_CMD_TIMEOUT_MS, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

static int postgres_pause(struct db_ctx *c, int node, char *err, size_t errlen)
{
	return pg_signal(c, node, "STOP", "pause postgres", err, errlen);
}

static int postgres_resume(struct db_ctx *c, int node, char *err, size_t errlen)
{
	return pg_signal(c, node, "CONT", "resume postgres", err, errlen);
}

static long postgres_pid(struct db_ctx *c, int node)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	buf_puts(&b, pg_patroni(c->test) ? "patroni_pid || true\n" : "pg_pid || true\n");
	char *out = NULL;
	char err[512];
	long pid = -1;
	if (pg_run(c, node, "read the postgres pid", b.data, PG_CMD_TIMEOUT_MS, &out, err,
		   sizeof err) == 0) {
		pid = db_pid_of(out);
	} else {
		log_warn("%s", err);
	}
	free(out);
	buf_free(&b);
	return pid;
}

static int postgres_logs(struct db_ctx *c, int node, const char *dir, char *err, size_t errlen)
{
	bool patroni = pg_patroni(c->test);
	const char *name = patroni ? "patroni.log" : "postgres.log";
	char *remote = xasprintf("%s/%s", pg_workdir(c->test, node), name);
	char *local = xasprintf("%s/%s", dir, name);
	int rc = ssh_download(c->ssh[node], remote, local, err, errlen);
	free(remote);
	free(local);
	if (rc == 0 && patroni)
		rc = etcd_db.logs(c, node, dir, err, errlen);
	return rc;
}

/* ---- leadership ---- */

struct prim_job {
	const struct test *t;
	bool *primary;
	long *timeline;
};

/* Is the node a primary (not in recovery), and on which timeline: the
 * first 8 hex digits of its current WAL file's name. */
static int prim_ask(void *ctx, int i, char *err, size_t errlen)
{
	struct prim_job *j = ctx;
	int64_t deadline = now_ns() + 2000000000LL;
	PGconn *c = pg_connect(j->t, i, deadline, err, errlen);
	if (!c)
		return 0; /* unreachable: not known to lead */
	PGresult *r;
	char e[300];
	if (pg_exec(c, "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN '0' ELSE "
		       "substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END",
		    0, NULL, deadline, &r, e, sizeof e) == PG_IO_OK) {
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
			j->primary[i] = !strcmp(PQgetvalue(r, 0, 0), "f");
			j->timeline[i] = strtol(PQgetvalue(r, 0, 1), NULL, 16);
		}
		PQclear(r);
	}
	PQfinish(c);
	return 0;
}

/* Ask every node at once; of the nodes that say they are primary (an
 * isolated old primary may still think so), the newest timeline wins. */
static int postgres_primaries(struct db_ctx *c, bool *is_primary, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	struct prim_job j = {c->test, xcalloc((size_t)n, sizeof(bool)), xcalloc((size_t)n, sizeof(long))};
	par_each(n, NULL, prim_ask, &j, NULL, 0);
	int best = -1;
	for (int i = 0; i < n; i++)
		if (j.primary[i] && (best < 0 || j.timeline[i] > j.timeline[best]))
			best = i;
	for (int i = 0; i < n; i++)
		is_primary[i] = i == best;
	if (best < 0 && err && errlen)
		snprintf(err, errlen, "postgres: no node answers as primary");
	free(j.primary);
	free(j.timeline);
	return best < 0 ? 0 : 1;
}

static const struct db_client postgres_clients[] = {
	{"append", &pg_append_client},
	{"rw-register", &pg_rw_register_client},
	{"bank", &pg_bank_client},
	{"set", &pg_set_client},
	{NULL, NULL},
};

const struct db postgres_db = {
	.name = "postgres",
	.summary = "PostgreSQL 15 (Debian postgresql): primary + streaming replicas, or Patroni HA "
		   "(db_opts.ha)",
	.check = postgres_check,
	.preflight = postgres_preflight,
	.setup = postgres_setup,
	.teardown = postgres_teardown,
	.start = postgres_start,
	.kill = postgres_kill,
	.pause = postgres_pause,
	.resume = postgres_resume,
	.pid = postgres_pid,
	.logs = postgres_logs,
	.primaries = postgres_primaries,
	.healthy = postgres_healthy,
	.clients = postgres_clients,
	.data_dir = "pg/data",
};
