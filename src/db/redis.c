/*
 * redis.c - Redis with Sentinel failover (Debian's redis-server and
 * redis-sentinel, 7.0) as a struct db: redis-server on every node (n1 the
 * first primary, every other node `replicaof n1`) and redis-sentinel on
 * every node, quorum a majority, all monitoring the primary under the name
 * "faultline". Sentinel's failover is what a test exercises: a primary cut
 * off with a minority keeps acknowledging writes, the majority promotes a
 * replica, and on heal the old primary is demoted and resynchronised,
 * discarding what it acknowledged meanwhile.
 *
 * On a node everything lives in its workdir: redis.conf and sentinel.conf
 * (both written fresh by setup; Redis rewrites redis.conf on REPLICAOF and
 * Sentinel rewrites its own, so both stay writable), the data directories
 * redis.data/ and sentinel.data/ (each process's working directory), the
 * logs redis.log and sentinel.log, and the pid files redis-server.pid and
 * redis-sentinel.pid written by the launching shell from $!. Processes are
 * started detached (setsid + nohup) and ended by their own pid; a pid is
 * only trusted when /proc says it is that program running in that data
 * directory (local-cluster nodes share one pid space). Both listen on the
 * node's address only, so a partition of the node cuts their traffic.
 * redis.data is db.data_dir: disk faults mount it through faultline-diskd,
 * and setup and teardown then wipe what it holds (rwipe).
 *
 * kill, pause, resume and pid act on redis-server: the sentinels stay up and
 * watch, as in production. Health, setup's readiness and `primaries` (the
 * primary named by the sentinel with the highest config epoch) are asked
 * from the controller through redis_conn.c. db_opts are validated here
 * (redis_opts_check) before any node is touched.
 */
#include "db.h"
#include "redis.h"

#include "opts.h"
#include "par.h"
#include "ssh.h"
#include "test.h"
#include "util.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REDIS_DEFAULT_WORKDIR "/var/lib/faultline"
#define REDIS_CMD_TIMEOUT_MS 30000
#define REDIS_SETUP_READY_MS 60000
#define REDIS_PROBE_TIMEOUT_MS 2000
/* Sentinel's timers, shorter than the 30 s / 180 s of Redis's sample
 * sentinel.conf so that a failover happens within a fault of a test's
 * length: the primary is judged down after 3 s, and a failover whose
 * election split the votes (it happens: three sentinels on the majority
 * side must agree) is retried after 2 x 5 s. The rest of Redis and
 * Sentinel keeps its defaults unless db_opts says otherwise. */
#define REDIS_DEFAULT_DOWN_AFTER_MS 3000
#define REDIS_DEFAULT_FAILOVER_TIMEOUT_MS 5000
/* Exit statuses of our scripts. */
#define REDIS_EXIT_NO_SERVER 97
#define REDIS_EXIT_NO_SENTINEL 98
#define REDIS_EXIT_NOT_RUNNING 3
#define REDIS_EXIT_NO_DATA 4

/* ---- options ---- */

static const char *const redis_keys[] = {
	"appendonly",	 "appendfsync",		"min_replicas_to_write", "min_replicas_max_lag",
	"down_after_ms", "failover_timeout_ms", "wait",			 "port",
	"sentinel_port", NULL,
};

static int redis_wait_check(const struct test *t, json_t *opts, char *err, size_t errlen)
{
	json_t *w = json_object_get(opts, "wait");
	if (!w || json_is_null(w)) {
		json_object_set_new(opts, "wait", json_null());
		return 0;
	}
	static const char *const keys[] = {"replicas", "timeout_ms", NULL};
	long v;
	if (!json_is_object(w)) {
		snprintf(err, errlen, "db_opts.wait: expected null or {\"replicas\": N, \"timeout_ms\": MS}");
		return -1;
	}
	if (t->n_nodes < 2) {
		snprintf(err, errlen, "db_opts.wait: needs at least 2 nodes (test has %d)", t->n_nodes);
		return -1;
	}
	if (opts_keys(w, keys, "db_opts.wait", err, errlen) < 0 ||
	    opts_int(w, "replicas", 1, 1, t->n_nodes - 1, "db_opts.wait", &v, err, errlen) < 0 ||
	    /* WAIT 0 would block forever. */
	    opts_int(w, "timeout_ms", 1000, 1, 600000, "db_opts.wait", &v, err, errlen) < 0)
		return -1;
	return 0;
}

/* Every node must have an address redis can bind and sentinels can name. */
static int redis_hosts_check(const struct test *t, char *err, size_t errlen)
{
	for (int i = 0; i < t->n_nodes; i++) {
		char *ip = redis_node_ip(t, i);
		if (!ip) {
			snprintf(err, errlen, "nodes: %s: host %.100s does not resolve to an IP address",
				 t->nodes[i].name, t->nodes[i].host);
			return -1;
		}
		free(ip);
	}
	return 0;
}

int redis_opts_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	const char *s;
	bool b;
	long v, port, sport;
	int maxrep = t->n_nodes > 1 ? t->n_nodes - 1 : 0;
	if (opts_keys(o, redis_keys, "db_opts", err, errlen) < 0 ||
	    opts_bool(o, "appendonly", false, "db_opts", &b, err, errlen) < 0 ||
	    opts_enum(o, "appendfsync", "everysec", "always|everysec|no", "db_opts", &s, err,
		      errlen) < 0 ||
	    opts_int(o, "min_replicas_to_write", 0, 0, maxrep, "db_opts", &v, err, errlen) < 0 ||
	    opts_int(o, "min_replicas_max_lag", 10, 1, 3600, "db_opts", &v, err, errlen) < 0 ||
	    opts_int(o, "down_after_ms", REDIS_DEFAULT_DOWN_AFTER_MS, 100, 3600000, "db_opts", &v,
		     err, errlen) < 0 ||
	    opts_int(o, "failover_timeout_ms", REDIS_DEFAULT_FAILOVER_TIMEOUT_MS, 1000, 86400000,
		     "db_opts", &v, err, errlen) < 0 ||
	    opts_int(o, "port", 6379, 1, 65535, "db_opts", &port, err, errlen) < 0 ||
	    opts_int(o, "sentinel_port", 26379, 1, 65535, "db_opts", &sport, err, errlen) < 0 ||
	    redis_wait_check(t, o, err, errlen) < 0)
		return -1;
	if (port == sport) {
		snprintf(err, errlen, "db_opts.sentinel_port: must differ from db_opts.port (%ld)", port);
		return -1;
	}
	return redis_hosts_check(t, err, errlen);
}

static long opt_int(json_t *o, const char *key, long def)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	return json_is_integer(v) ? (long)json_integer_value(v) : def;
}

void redis_opts_get(const struct test *t, struct redis_opts *o)
{
	json_t *j = t->db_opts;
	json_t *ao = j ? json_object_get(j, "appendonly") : NULL;
	const char *fs = j ? json_string_value(json_object_get(j, "appendfsync")) : NULL;
	json_t *w = j ? json_object_get(j, "wait") : NULL;
	*o = (struct redis_opts){
		.appendonly = json_is_true(ao),
		.appendfsync = fs ? fs : "everysec",
		.min_replicas_to_write = (int)opt_int(j, "min_replicas_to_write", 0),
		.min_replicas_max_lag = (int)opt_int(j, "min_replicas_max_lag", 10),
		.down_after_ms = (int)opt_int(j, "down_after_ms", REDIS_DEFAULT_DOWN_AFTER_MS),
		.failover_timeout_ms =
			(int)opt_int(j, "failover_timeout_ms", REDIS_DEFAULT_FAILOVER_TIMEOUT_MS),
		.wait_replicas = json_is_object(w) ? (int)opt_int(w, "replicas", 1) : 0,
		.wait_timeout_ms = json_is_object(w) ? (int)opt_int(w, "timeout_ms", 1000) : 0,
		.port = (int)opt_int(j, "port", 6379),
		.sentinel_port = (int)opt_int(j, "sentinel_port", 26379),
	};
}

/* ---- addresses ---- */

char *redis_node_ip(const struct test *t, int node)
{
	char *ip = host_to_ip(t->nodes[node].host);
	/* It goes into redis.conf and sentinel.conf: digits, hex, dots and
	 * colons only (no IPv6 zone, no spaces). */
	if (ip && (!*ip || ip[strspn(ip, "0123456789abcdefABCDEF.:")])) {
		free(ip);
		ip = NULL;
	}
	return ip;
}

int redis_node_of_ip(const struct test *t, const char *ip)
{
	for (int i = 0; ip && i < t->n_nodes; i++) {
		char *a = redis_node_ip(t, i);
		bool same = a && !strcmp(a, ip);
		free(a);
		if (same)
			return i;
	}
	return -1;
}

static const char *redis_workdir(const struct test *t, int node)
{
	const char *w = t->nodes[node].workdir;
	return w && *w ? w : REDIS_DEFAULT_WORKDIR;
}

/* ---- the shell scripts run on the node ---- */

/* W (workdir), rpid PROG DIR (pid of PROG running in DIR, or fail; zombies
 * count as gone), rstop PROG DIR (SIGKILL and wait), launch PROG CONF DIR
 * LOG (detached, pid file from $!), and alive PROG DIR LOG (fails with the
 * log's last words when PROG died at once: a bad config, a busy port). */
static void script_prelude(struct buf *b, const struct test *t, int node)
{
	buf_puts(b, "W=");
	buf_sh_quote(b, redis_workdir(t, node));
	buf_puts(b, "\n"
		    "rpid() {\n"
		    "  p=$(cat \"$W/$1.pid\" 2>/dev/null) || return 1\n"
		    "  case \"$p\" in ''|*[!0-9]*) return 1;; esac\n"
		    "  [ \"$(cat /proc/$p/comm 2>/dev/null)\" = \"$1\" ] || return 1\n"
		    "  d=$(cd \"$2\" 2>/dev/null && pwd -P) || return 1\n"
		    "  [ \"$(readlink /proc/$p/cwd 2>/dev/null)\" = \"$d\" ] || return 1\n"
		    "  grep -q '^State:[[:space:]]*Z' /proc/$p/status 2>/dev/null && return 1\n"
		    "  echo $p\n"
		    "}\n"
		    "rstop() {\n"
		    "  p=$(rpid \"$1\" \"$2\") || return 0\n"
		    "  kill -9 $p\n"
		    "  i=0; while [ $i -lt 100 ] && rpid \"$1\" \"$2\" >/dev/null; do sleep 0.05; i=$((i+1)); done\n"
		    "  ! rpid \"$1\" \"$2\" >/dev/null || { echo \"$1 pid $p did not die\" >&2; exit 1; }\n"
		    "}\n"
		    "launch() {\n"
		    "  (cd \"$3\" && exec setsid nohup \"$1\" \"$2\" </dev/null >>\"$4\" 2>&1) &\n"
		    "  echo $! >\"$W/$1.pid\"\n"
		    "}\n"
		    /* A data dir that is a mountpoint (disk faults mount it through
		     * faultline-diskd) keeps itself and loses what it holds. */
		    "rwipe() {\n"
		    "  if mountpoint -q \"$1\" 2>/dev/null; then\n"
		    "    find \"$1\" -mindepth 1 -maxdepth 1 -exec rm -rf {} +\n"
		    "  else\n"
		    "    rm -rf \"$1\"\n"
		    "  fi\n"
		    "}\n"
		    "alive() {\n"
		    "  rpid \"$1\" \"$2\" >/dev/null && return 0\n"
		    "  echo \"$1 exited at once: $(tail -n 3 \"$3\" | tr '\\n' ' ')\" >&2\n"
		    "  exit 1\n"
		    "}\n");
}

/* bash's command -v also names non-executable files: check -x too. */
static void script_need_programs(struct buf *b)
{
	buf_printf(b,
		   "e=$(command -v redis-server 2>/dev/null) && [ -f \"$e\" ] && [ -x \"$e\" ] || exit %d\n"
		   "e=$(command -v redis-sentinel 2>/dev/null) && [ -f \"$e\" ] && [ -x \"$e\" ] || exit %d\n",
		   REDIS_EXIT_NO_SERVER, REDIS_EXIT_NO_SENTINEL);
}

/* printf '%s' 'TEXT' >"$W/NAME": the config text reaches the shell quoted. */
static void script_write_file(struct buf *b, const char *name, const char *text)
{
	buf_puts(b, "printf '%s' ");
	buf_sh_quote(b, text);
	buf_printf(b, " >\"$W/%s\" || exit 1\n", name);
}

static char *redis_conf(const struct test *t, int node, const struct redis_opts *o,
			const char *ip, const char *primary_ip)
{
	(void)t;
	struct buf c;
	buf_init(&c);
	buf_printf(&c,
		   "bind %s\nport %d\nprotected-mode no\ndaemonize no\n"
		   "appendonly %s\nappendfsync %s\n"
		   "min-replicas-to-write %d\nmin-replicas-max-lag %d\n",
		   ip, o->port, o->appendonly ? "yes" : "no", o->appendfsync,
		   o->min_replicas_to_write, o->min_replicas_max_lag);
	if (node != 0)
		buf_printf(&c, "replicaof %s %d\n", primary_ip, o->port);
	return buf_steal(&c);
}

static char *sentinel_conf(const struct test *t, const struct redis_opts *o, const char *ip,
			   const char *primary_ip)
{
	struct buf c;
	buf_init(&c);
	buf_printf(&c,
		   "bind %s\nport %d\nprotected-mode no\ndaemonize no\n"
		   "sentinel monitor %s %s %d %d\n"
		   "sentinel down-after-milliseconds %s %d\n"
		   "sentinel failover-timeout %s %d\n"
		   "sentinel parallel-syncs %s 1\n",
		   ip, o->sentinel_port, REDIS_MASTER_NAME, primary_ip, o->port, t->n_nodes / 2 + 1,
		   REDIS_MASTER_NAME, o->down_after_ms, REDIS_MASTER_NAME, o->failover_timeout_ms,
		   REDIS_MASTER_NAME);
	return buf_steal(&c);
}

static const char script_launch_server[] =
	"launch redis-server \"$W/redis.conf\" \"$W/redis.data\" \"$W/redis.log\"\n";
static const char script_launch_sentinel[] =
	"launch redis-sentinel \"$W/sentinel.conf\" \"$W/sentinel.data\" \"$W/sentinel.log\"\n";
static const char script_server_alive[] =
	"i=0; while [ $i -lt 6 ]; do sleep 0.05; i=$((i+1)); done\n"
	"alive redis-server \"$W/redis.data\" \"$W/redis.log\"\n";
static const char script_sentinel_alive[] =
	"i=0; while [ $i -lt 6 ]; do sleep 0.05; i=$((i+1)); done\n"
	"alive redis-sentinel \"$W/sentinel.data\" \"$W/sentinel.log\"\n";

/* What the scripts above mean by their exit codes. */
static const struct db_exit redis_exits[] = {
	{REDIS_EXIT_NO_SERVER, "redis-server not found (install the Debian package redis-server)"},
	{REDIS_EXIT_NO_SENTINEL, "redis-sentinel not found (install the Debian package redis-sentinel)"},
	{REDIS_EXIT_NOT_RUNNING, "cannot %s: redis-server is not running"},
	{REDIS_EXIT_NO_DATA, "cannot %s: no redis data in %s (run setup first)"},
	{0, NULL},
};

/* Run script on node; 0, or -1 with err naming node and cause. */
static int redis_run(struct db_ctx *c, int node, const char *what, const char *script,
		     char **out, char *err, size_t errlen)
{
	return db_run_script(c, node, what, script, REDIS_CMD_TIMEOUT_MS, redis_exits,
			     redis_workdir(c->test, node), out, err, errlen);
}

/* ---- from the controller ---- */

static int redis_ping(const struct test *t, int node, int port, const char *what, char *err,
		      size_t errlen)
{
	char why[300];
	redisContext *c = redis_connect(t, t->nodes[node].host, port, REDIS_PROBE_TIMEOUT_MS, why,
					sizeof why);
	if (!c) {
		db_node_err(t, node, err, errlen, "%s unreachable: %s", what, why);
		return -1;
	}
	redisReply *r = redis_cmd(c, "PING", NULL);
	int rc = r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG") ? 0 : -1;
	if (rc < 0)
		db_node_err(t, node, err, errlen, "%s does not answer PING: %.200s", what,
			    r ? (r->str ? r->str : "unexpected reply") : c->errstr);
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return rc;
}

static int redis_healthy(const struct test *t, int node, char *err, size_t errlen)
{
	struct redis_opts o;
	redis_opts_get(t, &o);
	if (redis_ping(t, node, o.port, "redis-server", err, errlen) < 0 ||
	    redis_ping(t, node, o.sentinel_port, "redis-sentinel", err, errlen) < 0)
		return -1;
	return 0;
}

/* Is the node's replication in place: a replica linked to its primary, and
 * its sentinel knowing every other sentinel and every replica (so a
 * failover can be authorised and has candidates)? why says what is not. */
static bool redis_node_ready(const struct test *t, int node, const struct redis_opts *o,
			     char *why, size_t whylen)
{
	bool ready = false;
	char w[300];
	redisContext *c = redis_connect(t, t->nodes[node].host, o->port, REDIS_PROBE_TIMEOUT_MS, w,
					sizeof w);
	redisReply *r = c ? redis_cmd(c, "INFO", "replication", NULL) : NULL;
	char role[32] = "", link[32] = "";
	if (!r || r->type != REDIS_REPLY_STRING) {
		snprintf(why, whylen, "redis-server: %.250s", c ? "no INFO reply" : w);
	} else {
		redis_info_field(r->str, "role", role, sizeof role);
		redis_info_field(r->str, "master_link_status", link, sizeof link);
		if (node == 0 && strcmp(role, "master"))
			snprintf(why, whylen, "redis-server is %s, not the primary", role);
		else if (node != 0 && strcmp(link, "up"))
			snprintf(why, whylen, "replica link to the primary is %s", link[0] ? link : role);
		else
			ready = true;
	}
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	if (!ready)
		return false;
	ready = false;
	c = redis_connect(t, t->nodes[node].host, o->sentinel_port, REDIS_PROBE_TIMEOUT_MS, w,
			  sizeof w);
	r = c ? redis_cmd(c, "SENTINEL", "MASTER", REDIS_MASTER_NAME, NULL) : NULL;
	const char *slaves = redis_pairs_get(r, "num-slaves");
	const char *others = redis_pairs_get(r, "num-other-sentinels");
	long ns = -1, no = -1;
	if (!slaves || !others || !parse_long(slaves, 0, 1000, &ns) || !parse_long(others, 0, 1000, &no))
		snprintf(why, whylen, "redis-sentinel: %.250s", c ? "no SENTINEL MASTER reply" : w);
	else if (ns < t->n_nodes - 1 || no < t->n_nodes - 1)
		snprintf(why, whylen, "sentinel knows %ld of %d replicas and %ld of %d other sentinels",
			 ns, t->n_nodes - 1, no, t->n_nodes - 1);
	else
		ready = true;
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return ready;
}

static int redis_wait_ready(const struct test *t, int node, char *err, size_t errlen)
{
	struct redis_opts o;
	redis_opts_get(t, &o);
	int64_t deadline = now_ns() + (int64_t)REDIS_SETUP_READY_MS * 1000000;
	char why[300] = "";
	while (!redis_node_ready(t, node, &o, why, sizeof why)) {
		if (now_ns() >= deadline) {
			db_node_err(t, node, err, errlen, "not ready after %d s: %s",
				    REDIS_SETUP_READY_MS / 1000, why);
			return -1;
		}
		usleep(200 * 1000);
	}
	return 0;
}

/* ---- lifecycle ---- */

static int redis_preflight(struct db_ctx *c, int node, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_need_programs(&b);
	int rc = redis_run(c, node, "check for redis", b.data, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

/* Has the first primary (n1) every replica online? Sentinels started
 * after that learn every replica from their first INFO, instead of at the
 * next refresh ten seconds later. */
static bool redis_replicas_online(const struct test *t, const struct redis_opts *o, char *why,
				  size_t whylen)
{
	char w[300];
	redisContext *c = redis_connect(t, t->nodes[0].host, o->port, REDIS_PROBE_TIMEOUT_MS, w,
					sizeof w);
	redisReply *r = c ? redis_cmd(c, "INFO", "replication", NULL) : NULL;
	int online = 0;
	for (const char *p = r && r->type == REDIS_REPLY_STRING ? r->str : NULL;
	     p && (p = strstr(p, ",state=online")); p++)
		online++;
	bool ok = online >= t->n_nodes - 1;
	if (!ok)
		snprintf(why, whylen, "%s: %d of %d replicas online", t->nodes[0].name, online,
			 t->n_nodes - 1);
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return ok;
}

/* CONFIG SET repl-diskless-sync-delay on n1; with old (may be NULL) set
 * to the value it had. The first full syncs of a fresh cluster need not
 * wait Redis's default 5 s for more replicas; the default is put back
 * before the sentinels start, so a run sees Redis as configured. */
static int redis_sync_delay(const struct test *t, const struct redis_opts *o, const char *value,
			    char *old, size_t oldlen)
{
	char w[300];
	redisContext *c = redis_connect(t, t->nodes[0].host, o->port, REDIS_PROBE_TIMEOUT_MS, w,
					sizeof w);
	if (!c)
		return -1;
	int rc = -1;
	redisReply *r = old ? redis_cmd(c, "CONFIG", "GET", "repl-diskless-sync-delay", NULL) : NULL;
	if (old && r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_STRING)
		snprintf(old, oldlen, "%s", r->element[1]->str);
	if (r)
		freeReplyObject(r);
	if (!old || old[0]) {
		r = redis_cmd(c, "CONFIG", "SET", "repl-diskless-sync-delay", value, NULL);
		rc = r && r->type == REDIS_REPLY_STATUS ? 0 : -1;
		if (r)
			freeReplyObject(r);
	}
	redisFree(c);
	return rc;
}

/* Setup of one node, in three steps that overlap with the other nodes':
 * a fresh redis-server (n1 the primary, the others its replicas); once n1
 * has every replica online, redis-sentinel; then wait until the node's
 * replication and sentinel are ready. */
static int redis_setup(struct db_ctx *c, int node, char *err, size_t errlen)
{
	const struct test *t = c->test;
	struct redis_opts o;
	redis_opts_get(t, &o);
	char *ip = redis_node_ip(t, node), *pip = redis_node_ip(t, 0);
	if (!ip || !pip) {
		db_node_err(t, node, err, errlen, "host %s does not resolve to an IP address",
			    t->nodes[ip ? 0 : node].host);
		free(ip);
		free(pip);
		return -1;
	}
	char *rconf = redis_conf(t, node, &o, ip, pip);
	char *sconf = sentinel_conf(t, &o, ip, pip);
	struct buf b;
	buf_init(&b);
	script_prelude(&b, t, node);
	script_need_programs(&b);
	buf_puts(&b, "mkdir -p \"$W\" || exit 1\n"
		     "rstop redis-sentinel \"$W/sentinel.data\"\n"
		     "rstop redis-server \"$W/redis.data\"\n"
		     "rwipe \"$W/redis.data\" && rm -rf \"$W/sentinel.data\" \"$W/redis.conf\" \"$W/sentinel.conf\""
		     " \"$W/redis-server.pid\" \"$W/redis-sentinel.pid\" || exit 1\n"
		     "mkdir -p \"$W/redis.data\" \"$W/sentinel.data\" || exit 1\n"
		     ": >\"$W/redis.log\"; : >\"$W/sentinel.log\"\n");
	script_write_file(&b, "redis.conf", rconf);
	script_write_file(&b, "sentinel.conf", sconf);
	buf_puts(&b, script_launch_server);
	buf_puts(&b, script_server_alive);
	int rc = redis_run(c, node, "start redis-server", b.data, NULL, err, errlen);
	buf_free(&b);
	free(rconf);
	free(sconf);
	free(ip);
	free(pip);
	int64_t deadline = now_ns() + (int64_t)REDIS_SETUP_READY_MS * 1000000;
	char why[300] = "", delay[32] = "";
	if (rc == 0 && node == 0)
		redis_sync_delay(t, &o, "0", delay, sizeof delay);
	while (rc == 0 && !redis_replicas_online(t, &o, why, sizeof why)) {
		if (now_ns() >= deadline) {
			db_node_err(t, node, err, errlen, "not ready after %d s: %s",
				    REDIS_SETUP_READY_MS / 1000, why);
			return -1;
		}
		usleep(100 * 1000);
	}
	if (rc == 0 && node == 0 && delay[0] && redis_sync_delay(t, &o, delay, NULL, 0) < 0) {
		db_node_err(t, node, err, errlen, "cannot restore repl-diskless-sync-delay %s", delay);
		rc = -1;
	}
	if (rc == 0) {
		buf_init(&b);
		script_prelude(&b, t, node);
		buf_puts(&b, script_launch_sentinel);
		buf_puts(&b, script_sentinel_alive);
		rc = redis_run(c, node, "start redis-sentinel", b.data, NULL, err, errlen);
		buf_free(&b);
	}
	if (rc == 0)
		rc = redis_wait_ready(t, node, err, errlen);
	return rc;
}

static int redis_teardown(struct db_ctx *c, int node, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	/* The logs stay: they may still be fetched after the run. */
	buf_puts(&b, "rstop redis-sentinel \"$W/sentinel.data\"\n"
		     "rstop redis-server \"$W/redis.data\"\n"
		     "rwipe \"$W/redis.data\"; rm -rf \"$W/sentinel.data\" \"$W/redis.conf\" \"$W/sentinel.conf\""
		     " \"$W/redis-server.pid\" \"$W/redis-sentinel.pid\"\n");
	int rc = redis_run(c, node, "tear down redis", b.data, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

/* Start whichever of the two is not running, from the existing data and
 * the configs as Redis and Sentinel last rewrote them. */
static int redis_start(struct db_ctx *c, int node, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	script_need_programs(&b);
	buf_printf(&b, "[ -d \"$W/redis.data\" ] && [ -f \"$W/redis.conf\" ] && [ -f \"$W/sentinel.conf\" ]"
		       " || exit %d\n",
		   REDIS_EXIT_NO_DATA);
	buf_puts(&b, "rpid redis-server \"$W/redis.data\" >/dev/null || ");
	buf_puts(&b, script_launch_server);
	buf_puts(&b, "rpid redis-sentinel \"$W/sentinel.data\" >/dev/null || ");
	buf_puts(&b, script_launch_sentinel);
	buf_puts(&b, script_server_alive);
	buf_puts(&b, "alive redis-sentinel \"$W/sentinel.data\" \"$W/sentinel.log\"\n");
	int rc = redis_run(c, node, "start redis", b.data, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

/* Killing a node whose redis-server is already dead is fine: the wanted
 * state holds. */
static int redis_kill(struct db_ctx *c, int node, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	buf_puts(&b, "rstop redis-server \"$W/redis.data\"\n");
	int rc = redis_run(c, node, "kill redis-server", b.data, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

static int redis_signal(struct db_ctx *c, int node, const char *sig, const char *what, char *err,
			size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	buf_printf(&b, "p=$(rpid redis-server \"$W/redis.data\") || exit %d\nkill -%s $p\n",
		   REDIS_EXIT_NOT_RUNNING, sig);
	int rc = redis_run(c, node, what, b.data, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

static int redis_pause(struct db_ctx *c, int node, char *err, size_t errlen)
{
	return redis_signal(c, node, "STOP", "pause redis-server", err, errlen);
}

static int redis_resume(struct db_ctx *c, int node, char *err, size_t errlen)
{
	return redis_signal(c, node, "CONT", "resume redis-server", err, errlen);
}

static long redis_pid(struct db_ctx *c, int node)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	buf_puts(&b, "rpid redis-server \"$W/redis.data\" || true\n");
	char *out = NULL;
	char err[512];
	long pid = -1;
	if (redis_run(c, node, "read the redis-server pid", b.data, &out, err, sizeof err) == 0) {
		pid = db_pid_of(out);
	} else {
		log_warn("%s", err);
	}
	free(out);
	buf_free(&b);
	return pid;
}

/* The logs, and the configs as Redis and Sentinel rewrote them (roles,
 * config epoch, known replicas and sentinels: what happened, in their
 * words). Only a missing log is an error. */
static int redis_logs(struct db_ctx *c, int node, const char *dir, char *err, size_t errlen)
{
	static const char *const files[] = {"redis.log", "sentinel.log", "redis.conf",
					    "sentinel.conf"};
	int rc = 0;
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char *remote = xasprintf("%s/%s", redis_workdir(c->test, node), files[i]);
		char *local = xasprintf("%s/%s", dir, files[i]);
		char e[300] = "";
		if (ssh_download(c->ssh[node], remote, local, e, sizeof e) < 0 && i < 2 && rc == 0) {
			snprintf(err, errlen, "%s", e);
			rc = -1;
		}
		free(remote);
		free(local);
	}
	return rc;
}

/* ---- leadership ---- */

struct sentinel_view {
	char ip[64];
	long long epoch;
	bool ok;
};

struct primaries_job {
	const struct test *t;
	int port;
	struct sentinel_view *v;
};

static int primaries_ask(void *ctx, int i, char *err, size_t errlen)
{
	struct primaries_job *j = ctx;
	char why[300];
	redisContext *c = redis_connect(j->t, j->t->nodes[i].host, j->port, REDIS_PROBE_TIMEOUT_MS,
					why, sizeof why);
	redisReply *r = c ? redis_cmd(c, "SENTINEL", "MASTER", REDIS_MASTER_NAME, NULL) : NULL;
	const char *ip = redis_pairs_get(r, "ip");
	const char *ep = redis_pairs_get(r, "config-epoch");
	long e;
	if (ip && ep && parse_long(ep, 0, 1L << 40, &e)) {
		snprintf(j->v[i].ip, sizeof j->v[i].ip, "%s", ip);
		j->v[i].epoch = e;
		j->v[i].ok = true;
	} else {
		snprintf(err, errlen, "%s: sentinel: %s", j->t->nodes[i].name,
			 c ? (r && r->type == REDIS_REPLY_ERROR ? r->str : "no answer") : why);
	}
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return j->v[i].ok ? 0 : -1;
}

/* Every sentinel is asked at once; the primary named with the highest
 * config epoch wins (a sentinel cut off with the old primary still names
 * it, under the epoch it had). */
static int redis_primaries(struct db_ctx *c, bool *is_primary, char *err, size_t errlen)
{
	const struct test *t = c->test;
	struct redis_opts o;
	redis_opts_get(t, &o);
	struct primaries_job j = {t, o.sentinel_port, xcalloc((size_t)t->n_nodes, sizeof *j.v)};
	char perr[1024] = "";
	par_each(t->n_nodes, NULL, primaries_ask, &j, perr, sizeof perr);
	int best = -1;
	for (int i = 0; i < t->n_nodes; i++)
		if (j.v[i].ok && (best < 0 || j.v[i].epoch > j.v[best].epoch))
			best = i;
	int node = best >= 0 ? redis_node_of_ip(t, j.v[best].ip) : -1;
	for (int i = 0; i < t->n_nodes; i++)
		is_primary[i] = i == node;
	if (node < 0 && err && errlen)
		snprintf(err, errlen, "redis: %s",
			 best >= 0 ? "sentinels name a primary that is not a node of the test"
				   : perr[0] ? perr : "no sentinel names a primary");
	free(j.v);
	return node < 0 ? 0 : 1;
}

static int redis_check(const struct test *t, json_t *opts, char *err, size_t errlen)
{
	return redis_opts_check(t, opts, err, errlen);
}

static const struct db_client redis_clients[] = {
	{"set", &redis_set_client},
	{"append", &redis_append_client},
	{"register", &redis_register_client},
	{NULL, NULL},
};

const struct db redis_db = {
	.name = "redis",
	.summary = "Redis 7.0 with Sentinel failover (Debian redis-server, redis-sentinel), hiredis",
	.check = redis_check,
	.preflight = redis_preflight,
	.setup = redis_setup,
	.teardown = redis_teardown,
	.start = redis_start,
	.kill = redis_kill,
	.pause = redis_pause,
	.resume = redis_resume,
	.pid = redis_pid,
	.logs = redis_logs,
	.primaries = redis_primaries,
	.healthy = redis_healthy,
	.clients = redis_clients,
	.data_dir = "redis.data",
};
