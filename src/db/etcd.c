/*
 * etcd.c - the etcd database (Debian's etcd-server, 3.4) as a struct db:
 * its lifecycle on one node, driven through that node's SSH session, and
 * its health and leadership read from the controller over HTTP (libcurl).
 *
 * Remote hosts and local-cluster nodes take the same path. On a node
 * everything lives in its workdir (test->nodes[i].workdir): the data
 * directory etcd.data/, the log etcd.log and etcd.pid, written by the
 * launching shell from $!. etcd is started detached from the SSH session
 * (setsid + nohup, stdin from /dev/null, output to the log) so it outlives
 * the command that launched it. It listens on the node's address only, never
 * on 127.0.0.1, so a partition of the node cuts its client traffic too.
 *
 * A pid from the pid file is only trusted when /proc says the process is an
 * etcd serving this very data directory: a stale pid file must never make us
 * signal an unrelated process (local-cluster nodes share one pid space).
 *
 * setup waits until the node reports healthy, which etcd only does once a
 * quorum has elected a leader: call it on all nodes at once (db_on_all).
 * start does not wait for health (a restarted member may sit in a minority
 * partition); callers that need it poll `healthy`.
 */
#include "db.h"
#include "etcd.h"

#include "client.h"
#include "opts.h"
#include "ssh.h"
#include "test.h"
#include "util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <net/if.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ETCD_CLIENT_PORT 2379
#define ETCD_PEER_PORT 2380
#define ETCD_DEFAULT_WORKDIR "/var/lib/faultline"
#define ETCD_SETUP_HEALTH_MS 30000
#define ETCD_CMD_TIMEOUT_MS 30000
#define ETCD_HTTP_TIMEOUT_MS 2000
/* Exit status our scripts use for "etcd is not installed". */
#define ETCD_EXIT_MISSING 127
/* Exit status for "not running" where that is an error. */
#define ETCD_EXIT_NOT_RUNNING 3
#define ETCD_EXIT_NO_DATA 4

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void etcd_curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static const char *etcd_workdir(const struct test *t, int node)
{
	const char *w = t->nodes[node].workdir;
	return w && *w ? w : ETCD_DEFAULT_WORKDIR;
}

/* Host as it appears in a URL: IPv6 literals need brackets. */
static char *etcd_url(const char *host, int port)
{
	if (strchr(host, ':'))
		return xasprintf("http://[%s]:%d", host, port);
	return xasprintf("http://%s:%d", host, port);
}

/* etcd can only bind to IP addresses: a DNS name is resolved here, on the
 * controller, which for remote hosts is the address we reach them by. */
static char *etcd_listen_host(const char *host)
{
	char *ip = host_to_ip(host);
	return ip ? ip : xstrdup(host);
}

char *etcd_client_url(const struct test *t, int node)
{
	return etcd_url(t->nodes[node].host, ETCD_CLIENT_PORT);
}

/* ---- the shell scripts run on the node ---- */

/* The listen address as /proc/net/tcp writes it (IPv4: 8 hex digits of
 * the address in host byte order), or "" when it cannot say (IPv6, names). */
static void proc_net_hex(const char *ip, char *out, size_t n)
{
	struct in_addr a;
	out[0] = 0;
	if (inet_pton(AF_INET, ip, &a) == 1)
		snprintf(out, n, "%08X", (unsigned)a.s_addr);
}

/* Common prelude: W (workdir); etcd_pid, which prints the pid of the etcd
 * serving $W/etcd.data or fails (a process whose every thread has exited
 * counts as gone: a zombie nobody reaps stays in /proc); etcd_ports_busy,
 * true while a socket still listens on our client or peer port (a killed
 * etcd's threads may hold them a moment after its main thread died);
 * etcd_stop, which kills it and waits for both; etcd_why, the line of its
 * log that says why it stopped; etcd_wipe, which removes the data dir, or
 * only what it holds when it is a mountpoint (disk faults mount it through
 * faultline-diskd). */
static void script_prelude(struct buf *b, const struct test *t, int node)
{
	char *ip = etcd_listen_host(t->nodes[node].host);
	char hex[16];
	proc_net_hex(ip, hex, sizeof hex);
	free(ip);
	buf_puts(b, "W=");
	buf_sh_quote(b, etcd_workdir(t, node));
	buf_printf(b, "\nHEXIP=%s\n", hex);
	buf_puts(b, "etcd_pid() {\n"
		 "  p=$(cat \"$W/etcd.pid\" 2>/dev/null) || return 1\n"
		 "  case \"$p\" in ''|*[!0-9]*) return 1;; esac\n"
		 "  [ \"$(cat /proc/$p/comm 2>/dev/null)\" = etcd ] || return 1\n"
		 "  tr '\\0' '\\n' </proc/$p/cmdline 2>/dev/null | grep -qxF -- \"$W/etcd.data\" || return 1\n"
		 "  for s in /proc/$p/task/*/stat; do\n"
		 "    st=$(sed 's/^.*) //' \"$s\" 2>/dev/null | cut -c1) || continue\n"
		 "    case \"$st\" in Z|X|'') ;; *) echo $p; return 0;; esac\n"
		 "  done\n"
		 "  return 1\n"
		 "}\n"
		 "etcd_ports_busy() {\n"
		 "  [ -n \"$HEXIP\" ] || return 1\n"
		 "  awk -v a=\"$HEXIP\" '$4 == \"0A\" && ($2 == a \":094B\" || $2 == a \":094C\") {f = 1} END {exit !f}' /proc/net/tcp 2>/dev/null\n"
		 "}\n"
		 "etcd_stop() {\n"
		 "  p=$(etcd_pid) && kill -9 $p\n"
		 "  i=0; while [ $i -lt 200 ] && { etcd_pid >/dev/null || etcd_ports_busy; }; do sleep 0.05; i=$((i+1)); done\n"
		 "  ! etcd_pid >/dev/null || { echo \"etcd pid $p did not die\" >&2; exit 1; }\n"
		 "  ! etcd_ports_busy || { echo \"ports 2379/2380 still in use 10 s after etcd was stopped\" >&2; exit 1; }\n"
		 "}\n"
		 "etcd_wipe() {\n"
		 "  if mountpoint -q \"$W/etcd.data\" 2>/dev/null; then\n"
		 "    find \"$W/etcd.data\" -mindepth 1 -maxdepth 1 -exec rm -rf {} +\n"
		 "  else\n"
		 "    rm -rf \"$W/etcd.data\"\n"
		 "  fi\n"
		 "}\n"
		 "etcd_why() {\n"
		 "  l=$(grep -E '\"level\":\"(fatal|panic|error)\"' \"$W/etcd.log\" 2>/dev/null | tail -n 1)\n"
		 "  m=$(printf '%s' \"$l\" | sed -n 's/.*\"msg\":\"\\([^\"]*\\)\".*/\\1/p')\n"
		 "  e=$(printf '%s' \"$l\" | sed -n 's/.*\"error\":\"\\([^\"]*\\)\".*/\\1/p')\n"
		 "  if [ -n \"$m$e\" ]; then printf '%s%s%s' \"$m\" \"${e:+: }\" \"$e\"; return; fi\n"
		 "  grep -v '^[[:space:]]' \"$W/etcd.log\" 2>/dev/null | grep -v '^goroutine ' | tail -n 1 | cut -c1-300\n"
		 "}\n");
}

static void script_need_etcd(struct buf *b)
{
	/* bash's command -v also names non-executable files: check -x too. */
	buf_printf(b, "e=$(command -v etcd 2>/dev/null) && [ -f \"$e\" ] && [ -x \"$e\" ] || exit %d\n",
		   ETCD_EXIT_MISSING);
}

/* The cluster token differs for every setup (every process, and within
 * one every repetition: the seed advances per repetition), so a member
 * wiped and restarted by setup can never be taken for a member of the
 * previous incarnation still running on a node not yet reset (same token
 * and peer URLs would give the same cluster ID, and the old leader's data
 * would flow into the new cluster). A process-wide nonce alone is not
 * enough: with --test-count N --leave-db-running, repetition 2 would
 * reuse repetition 1's token. Members started later from existing data
 * ignore the token. */
static pthread_once_t nonce_once = PTHREAD_ONCE_INIT;
static char nonce[48];
static void etcd_nonce_init(void)
{
	snprintf(nonce, sizeof nonce, "%ld-%lld", (long)getpid(), (long long)now_ns());
}

char *etcd_cluster_token(const struct test *t)
{
	pthread_once(&nonce_once, etcd_nonce_init);
	return xasprintf("faultline-%s-%s-%llu",
			 t->cluster ? t->cluster : t->name ? t->name : "test", nonce,
			 (unsigned long long)t->seed);
}

/* Start etcd in the background from the existing or a fresh data dir. */
static void script_launch(struct buf *b, const struct test *t, int node)
{
	const struct node *me = &t->nodes[node];
	char *listen = etcd_listen_host(me->host);
	char *peer_listen = etcd_url(listen, ETCD_PEER_PORT);
	char *client_listen = etcd_url(listen, ETCD_CLIENT_PORT);
	char *peer_adv = etcd_url(me->host, ETCD_PEER_PORT);
	char *client_adv = etcd_url(me->host, ETCD_CLIENT_PORT);
	struct buf cluster;
	buf_init(&cluster);
	for (int i = 0; i < t->n_nodes; i++) {
		char *u = etcd_url(t->nodes[i].host, ETCD_PEER_PORT);
		buf_printf(&cluster, "%s%s=%s", i ? "," : "", t->nodes[i].name, u);
		free(u);
	}
	char *token = etcd_cluster_token(t);

	buf_puts(b, "cd \"$W\" || exit 1\n"
		    "setsid nohup etcd --name ");
	buf_sh_quote(b, me->name);
	buf_puts(b, " --data-dir \"$W/etcd.data\" --listen-peer-urls ");
	buf_sh_quote(b, peer_listen);
	buf_puts(b, " --listen-client-urls ");
	buf_sh_quote(b, client_listen);
	buf_puts(b, " --advertise-client-urls ");
	buf_sh_quote(b, client_adv);
	buf_puts(b, " --initial-advertise-peer-urls ");
	buf_sh_quote(b, peer_adv);
	buf_puts(b, " --initial-cluster ");
	buf_sh_quote(b, cluster.data);
	buf_puts(b, " --initial-cluster-token ");
	buf_sh_quote(b, token);
	/* Short timeouts so that a partition or a kill causes an election
	 * within about a second, which is what a fault test wants. */
	buf_puts(b, " --initial-cluster-state new --logger zap --heartbeat-interval 100"
		    " --election-timeout 1000 </dev/null >>\"$W/etcd.log\" 2>&1 &\n"
		    "p=$!\n"
		    "echo $p >\"$W/etcd.pid\"\n"
		    /* A bad flag, a busy port or a locked data dir kills etcd
		     * within moments: report it now, with the log's words. */
		    "i=0; while [ $i -lt 6 ]; do sleep 0.05; i=$((i+1)); done\n"
		    "if ! etcd_pid >/dev/null; then\n"
		    "  echo \"etcd exited at once: $(etcd_why)\" >&2\n"
		    "  exit 1\n"
		    "fi\n"
		    "echo $p\n");
	free(token);
	buf_free(&cluster);
	free(listen);
	free(peer_listen);
	free(client_listen);
	free(peer_adv);
	free(client_adv);
}

/* What the scripts above mean by their exit codes. */
static const struct db_exit etcd_exits[] = {
	{ETCD_EXIT_MISSING, "etcd not found (install the Debian package etcd-server)"},
	{ETCD_EXIT_NOT_RUNNING, "cannot %s: etcd is not running"},
	{ETCD_EXIT_NO_DATA, "cannot %s: no etcd data in %s/etcd.data (run setup first)"},
	{0, NULL},
};

/* Run script on node; 0, or -1 with err naming node and cause. out (may be
 * NULL) receives stdout. */
static int etcd_run(struct db_ctx *c, int node, const char *what, const char *script,
		    char **out, char *err, size_t errlen)
{
	return db_run_script(c, node, what, script, ETCD_CMD_TIMEOUT_MS, etcd_exits,
			     etcd_workdir(c->test, node), out, err, errlen);
}

/* ---- HTTP from the controller ---- */

/* libcurl's progress callback: abort a transfer whose bridge vanished
 * (it could only wait for its timeout). Checked at most every 100 ms per
 * thread: if_nametoindex costs a socket. */
static int etcd_bridge_gone(void *dev, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	static __thread int64_t next_check;
	int64_t now = now_ns();
	if (now < next_check)
		return 0;
	next_check = now + 100000000LL;
	return if_nametoindex(dev) == 0;
}

void etcd_curl_bind(void *curl, const struct test *t)
{
	if (t->bind_device && *t->bind_device) {
		char *dev = xasprintf("if!%s", t->bind_device);
		curl_easy_setopt((CURL *)curl, CURLOPT_INTERFACE, dev);
		free(dev);
		curl_easy_setopt((CURL *)curl, CURLOPT_XFERINFOFUNCTION, etcd_bridge_gone);
		curl_easy_setopt((CURL *)curl, CURLOPT_XFERINFODATA, t->bind_device);
		curl_easy_setopt((CURL *)curl, CURLOPT_NOPROGRESS, 0L);
	}
}

static size_t curl_collect(char *p, size_t size, size_t nmemb, void *userdata)
{
	buf_append(userdata, p, size * nmemb);
	return size * nmemb;
}

static CURL *etcd_http(const struct test *t, const char *url, const char *post_body,
		       struct buf *body)
{
	pthread_once(&curl_once, etcd_curl_init);
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)ETCD_HTTP_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)ETCD_HTTP_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_PROXY, ""); /* never via an http_proxy */
	etcd_curl_bind(h, t);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	if (post_body) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_body);
	}
	return h;
}

static int etcd_healthy(const struct test *t, int node, char *err, size_t errlen)
{
	char *base = etcd_client_url(t, node);
	char *url = xasprintf("%s/health", base);
	struct buf body;
	buf_init(&body);
	int rc = -1;
	CURL *h = etcd_http(t, url, NULL, &body);
	CURLcode cc = h ? curl_easy_perform(h) : CURLE_FAILED_INIT;
	if (cc != CURLE_OK) {
		db_node_err(t, node, err, errlen, "etcd unreachable at %s: %s", base,
			    curl_easy_strerror(cc));
	} else {
		json_t *j = json_loadb(body.data, body.len, 0, NULL);
		const char *health = json_string_value(json_object_get(j, "health"));
		if (health && strcmp(health, "true") == 0)
			rc = 0;
		else
			db_node_err(t, node, err, errlen, "etcd unhealthy at %s: %.200s", base,
				    body.len ? body.data : "(empty reply)");
		json_decref(j);
	}
	if (h)
		curl_easy_cleanup(h);
	buf_free(&body);
	free(url);
	free(base);
	return rc;
}

static int etcd_wait_healthy(const struct test *t, int node, int timeout_ms, char *err,
			     size_t errlen)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	char last[512] = "";
	while (etcd_healthy(t, node, last, sizeof last) != 0) {
		if (now_ns() >= deadline) {
			db_node_err(t, node, err, errlen, "etcd not healthy after %d s: %s",
				    timeout_ms / 1000, last);
			return -1;
		}
		usleep(100 * 1000);
	}
	return 0;
}

/* ---- lifecycle ---- */

static int etcd_setup(struct db_ctx *c, int node, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	script_need_etcd(&b);
	buf_puts(&b, "mkdir -p \"$W\" || exit 1\n"
		     "etcd_stop\n"
		     "etcd_wipe && rm -f \"$W/etcd.pid\" || exit 1\n"
		     ": >\"$W/etcd.log\"\n");
	script_launch(&b, c->test, node);
	int rc = etcd_run(c, node, "start etcd", b.data, NULL, err, errlen);
	buf_free(&b);
	if (rc == 0)
		rc = etcd_wait_healthy(c->test, node, ETCD_SETUP_HEALTH_MS, err, errlen);
	return rc;
}

static int etcd_teardown(struct db_ctx *c, int node, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	/* The log stays: it may still be fetched after the run. */
	buf_puts(&b, "etcd_stop\n"
		     "etcd_wipe && rm -f \"$W/etcd.pid\"\n");
	int rc = etcd_run(c, node, "tear down etcd", b.data, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

static int etcd_start(struct db_ctx *c, int node, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	script_need_etcd(&b);
	buf_printf(&b, "if etcd_pid >/dev/null; then exit 0; fi\n"
		       "[ -d \"$W/etcd.data/member\" ] || exit %d\n",
		   ETCD_EXIT_NO_DATA);
	script_launch(&b, c->test, node);
	int rc = etcd_run(c, node, "start etcd", b.data, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

static int etcd_signal(struct db_ctx *c, int node, const char *sig, const char *what,
		       char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	buf_printf(&b, "p=$(etcd_pid) || exit %d\nkill -%s $p\n", ETCD_EXIT_NOT_RUNNING, sig);
	int rc = etcd_run(c, node, what, b.data, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

/* Killing a node whose etcd is already dead is not an error: the wanted
 * state holds. */
static int etcd_kill(struct db_ctx *c, int node, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	buf_puts(&b, "etcd_stop\n");
	int rc = etcd_run(c, node, "kill etcd", b.data, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

static int etcd_pause(struct db_ctx *c, int node, char *err, size_t errlen)
{
	return etcd_signal(c, node, "STOP", "pause etcd", err, errlen);
}

static int etcd_resume(struct db_ctx *c, int node, char *err, size_t errlen)
{
	return etcd_signal(c, node, "CONT", "resume etcd", err, errlen);
}

static long etcd_pid(struct db_ctx *c, int node)
{
	struct buf b;
	buf_init(&b);
	script_prelude(&b, c->test, node);
	buf_puts(&b, "etcd_pid || true\n");
	char *out = NULL;
	char err[512];
	long pid = -1;
	if (etcd_run(c, node, "read etcd pid", b.data, &out, err, sizeof err) == 0) {
		pid = db_pid_of(out);
	} else {
		log_warn("%s", err);
	}
	free(out);
	buf_free(&b);
	return pid;
}

static int etcd_logs(struct db_ctx *c, int node, const char *dir, char *err, size_t errlen)
{
	char *remote = xasprintf("%s/etcd.log", etcd_workdir(c->test, node));
	char *local = xasprintf("%s/etcd.log", dir);
	int rc = ssh_download(c->ssh[node], remote, local, err, errlen);
	free(remote);
	free(local);
	return rc;
}

/* ---- leadership ---- */

/* etcd's JSON gateway encodes uint64 as strings; accept numbers too. */
static unsigned long long json_u64(json_t *j)
{
	if (json_is_string(j))
		return strtoull(json_string_value(j), NULL, 10);
	if (json_is_integer(j))
		return (unsigned long long)json_integer_value(j);
	return 0;
}

struct etcd_status {
	unsigned long long member, leader, term;
	bool ok;
};

static void etcd_status_parse(const struct buf *body, struct etcd_status *st)
{
	json_t *j = json_loadb(body->data, body->len, 0, NULL);
	json_t *hdr = json_object_get(j, "header");
	st->member = json_u64(json_object_get(hdr, "member_id"));
	st->leader = json_u64(json_object_get(j, "leader"));
	json_t *term = json_object_get(j, "raftTerm");
	st->term = json_u64(term ? term : json_object_get(j, "raft_term"));
	st->ok = j && st->member != 0;
	json_decref(j);
}

/* Ask every node at once (curl multi), then trust a node that says it is
 * the leader itself; if a stale leader in a minority still believes so, the
 * one with the higher term wins. */
static int etcd_primaries(struct db_ctx *c, bool *is_primary, char *err, size_t errlen)
{
	const struct test *t = c->test;
	int n = t->n_nodes;
	pthread_once(&curl_once, etcd_curl_init);
	CURLM *m = curl_multi_init();
	CURL **h = xcalloc((size_t)n, sizeof *h);
	struct buf *bodies = xcalloc((size_t)n, sizeof *bodies);
	char **urls = xcalloc((size_t)n, sizeof *urls);
	for (int i = 0; i < n; i++) {
		buf_init(&bodies[i]);
		char *base = etcd_client_url(t, i);
		urls[i] = xasprintf("%s/v3/maintenance/status", base);
		free(base);
		h[i] = etcd_http(t, urls[i], "{}", &bodies[i]);
		if (h[i])
			curl_multi_add_handle(m, h[i]);
	}
	int running = 1;
	while (running) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	CURLMsg *msg;
	int left;
	bool *done_ok = xcalloc((size_t)n, sizeof *done_ok);
	while ((msg = curl_multi_info_read(m, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		for (int i = 0; i < n; i++)
			if (h[i] == msg->easy_handle)
				done_ok[i] = msg->data.result == CURLE_OK;
	}
	int best = -1;
	unsigned long long best_term = 0;
	for (int i = 0; i < n; i++) {
		struct etcd_status st = {0};
		if (done_ok[i])
			etcd_status_parse(&bodies[i], &st);
		if (st.ok && st.leader == st.member && (best < 0 || st.term > best_term)) {
			best = i;
			best_term = st.term;
		}
		if (h[i]) {
			curl_multi_remove_handle(m, h[i]);
			curl_easy_cleanup(h[i]);
		}
		buf_free(&bodies[i]);
		free(urls[i]);
	}
	curl_multi_cleanup(m);
	free(done_ok);
	free(h);
	free(bodies);
	free(urls);
	for (int i = 0; i < n; i++)
		is_primary[i] = i == best;
	if (best < 0 && err && errlen)
		snprintf(err, errlen, "etcd: no node reports being the leader");
	return best < 0 ? 0 : 1;
}

/* ---- options ---- */

static int etcd_check(const struct test *t, json_t *opts, char *err, size_t errlen)
{
	(void)t;
	static const char *const keys[] = {"read_mode", NULL};
	const char *rm;
	if (opts_keys(opts, keys, "db_opts", err, errlen) < 0 ||
	    opts_enum(opts, "read_mode", "linearizable", "linearizable|serializable", "db_opts", &rm,
		      err, errlen) < 0)
		return -1;
	return 0;
}

static const struct db_client etcd_clients[] = {
	{"register", &etcd_client_ops},
	{"set", &etcd_set_ops},
	{"counter", &etcd_counter_ops},
	{"bank", &etcd_bank_ops},
	{"append", &etcd_append_ops},
	{"rw-register", &etcd_rw_register_ops},
	{"lock", &etcd_lock_ops},
	{NULL, NULL},
};

const struct db etcd_db = {
	.name = "etcd",
	.summary = "etcd 3.4 (Debian etcd-server), v3 JSON gateway",
	.check = etcd_check,
	.setup = etcd_setup,
	.teardown = etcd_teardown,
	.start = etcd_start,
	.kill = etcd_kill,
	.pause = etcd_pause,
	.resume = etcd_resume,
	.pid = etcd_pid,
	.logs = etcd_logs,
	.primaries = etcd_primaries,
	.healthy = etcd_healthy,
	.clients = etcd_clients,
	.data_dir = "etcd.data",
};
