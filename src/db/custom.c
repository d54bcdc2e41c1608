/*
 * custom.c - databases defined by shell commands in the config, for
 * testing a service faultline has no code for (its clients are adapters:
 * adapter.h). Two of them share this file:
 *
 *   custom  faultline owns the lifecycle: db_opts.setup (commands run in
 *           order), start, kill, pause, resume, teardown, healthy,
 *           primary, logs - each a shell command run over SSH on the node.
 *   none    an already-running service (a staging cluster): nothing is
 *           set up or torn down; network faults always work, kill and
 *           pause only with the commands (or a pidfile) to do them.
 *
 * Commands may use {node}, {host}, {nodes} (every node's host, comma-
 * separated), {workdir}, {pidfile} and {port}, substituted shell-quoted
 * (custom_expand), and the same values as $FAULTLINE_NODE, ... They run in
 * the node's workdir with their output going to files there, which are
 * read back once the command ends: a database started in the background
 * can never hold the SSH channel or write into later commands' output.
 *
 * Defaults come from the pidfile the start command writes (custom:
 * {workdir}/custom.pid): kill is SIGKILL of its pid (waiting until it is
 * gone), pause/resume SIGSTOP/SIGCONT. A pid is only trusted while the
 * process is the one first seen under it: its start time (ticks since
 * boot, immune to clock faults) is stamped in {workdir}/custom.pidstamp,
 * so a stale pidfile whose pid was reused never gets an unrelated process
 * signalled. A db whose config lacks what a requested fault needs (none +
 * kill without a start command) is refused at config time.
 */
#include "custom.h"
#include "db.h"

#include "opts.h"
#include "par.h"
#include "ssh.h"
#include "test.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CUSTOM_TIMEOUT_DEFAULT 60.0
#define CUSTOM_SETUP_TIMEOUT_DEFAULT 60.0
#define CUSTOM_PIDFILE_DEFAULT "{workdir}/custom.pid"
#define CUSTOM_POLL_NS 200000000LL

static bool is_custom(const struct test *t) { return !strcmp(t->db, "custom"); }

static const char *opt(const struct test *t, const char *key)
{
	return json_string_value(json_object_get(t->db_opts, key));
}

static const char *node_workdir(const struct test *t, int node)
{
	const char *w = t->nodes[node].workdir;
	return w && *w ? w : "/var/lib/faultline";
}

/* ---- templates ---- */

static void put(struct buf *out, const char *v, bool quote)
{
	if (quote)
		buf_sh_quote(out, v);
	else
		buf_puts(out, v);
}

static void pidfile_path(struct buf *out, const struct test *t, int node);

void custom_expand(struct buf *out, const char *tmpl, const struct test *t, int node, bool quote)
{
	static const char *const names[] = {"node", "host", "nodes", "workdir", "pidfile", "port"};
	for (const char *p = tmpl; *p;) {
		size_t which = sizeof names / sizeof *names;
		if (*p == '{') {
			for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
				size_t l = strlen(names[i]);
				if (!strncmp(p + 1, names[i], l) && p[1 + l] == '}') {
					which = i;
					break;
				}
			}
		}
		if (which == sizeof names / sizeof *names) {
			buf_append(out, p++, 1);
			continue;
		}
		struct buf v;
		buf_init(&v);
		switch (which) {
		case 0: buf_puts(&v, t->nodes[node].name); break;
		case 1: buf_puts(&v, t->nodes[node].host); break;
		case 2:
			for (int i = 0; i < t->n_nodes; i++)
				buf_printf(&v, "%s%s", i ? "," : "", t->nodes[i].host);
			break;
		case 3: buf_puts(&v, node_workdir(t, node)); break;
		case 4: pidfile_path(&v, t, node); break;
		default: {
			json_t *port = json_object_get(t->db_opts, "port");
			buf_printf(&v, "%lld", (long long)json_integer_value(port));
		}
		}
		put(out, v.data ? v.data : "", quote);
		buf_free(&v);
		p += strlen(names[which]) + 2;
	}
}

/* The pidfile as a path ("" when there is none). */
static void pidfile_path(struct buf *out, const struct test *t, int node)
{
	const char *pf = opt(t, "pidfile");
	if (!pf || !*pf)
		return;
	struct buf raw;
	buf_init(&raw);
	/* {pidfile} inside the pidfile itself is refused by the check. */
	custom_expand(&raw, pf, t, node, false);
	if (raw.data && raw.data[0] != '/')
		buf_printf(out, "%s/%s", node_workdir(t, node), raw.data);
	else if (raw.data)
		buf_puts(out, raw.data);
	buf_free(&raw);
}

/* ---- scripts ---- */

/* Workdir, variables and the pid helpers, first in every script. */
static void script_begin(struct buf *b, const struct test *t, int node)
{
	buf_puts(b, "W=");
	buf_sh_quote(b, node_workdir(t, node));
	buf_puts(b, "\nmkdir -p \"$W\" && cd \"$W\" || exit 1\nexport FAULTLINE_NODE=");
	buf_sh_quote(b, t->nodes[node].name);
	buf_puts(b, " FAULTLINE_HOST=");
	buf_sh_quote(b, t->nodes[node].host);
	buf_puts(b, " FAULTLINE_NODES=");
	custom_expand(b, "{nodes}", t, node, true);
	buf_puts(b, " FAULTLINE_WORKDIR=\"$W\"\nPF=");
	struct buf pf;
	buf_init(&pf);
	pidfile_path(&pf, t, node);
	buf_sh_quote(b, pf.data ? pf.data : "");
	buf_free(&pf);
	buf_puts(b, "\nexport FAULTLINE_PIDFILE=\"$PF\"\n");
	if (json_is_integer(json_object_get(t->db_opts, "port")))
		buf_printf(b, "export FAULTLINE_PORT=%lld\n",
			   (long long)json_integer_value(json_object_get(t->db_opts, "port")));
	buf_puts(b,
		 /* Start time of a live, non-zombie process, in ticks since boot
		  * (field 22 of /proc/PID/stat; the name in field 2 may hold
		  * blanks and parentheses, so cut after its last ") "). */
		 "fl_start() {\n"
		 "  l=$(cat /proc/$1/stat 2>/dev/null) || return 1\n"
		 "  l=${l##*\") \"}\n"
		 "  set -- $l\n"
		 "  case $1 in Z|X|'') return 1;; esac\n"
		 "  shift 19; echo \"$1\"\n"
		 "}\n"
		 /* The pidfile's pid, if it is still the process first seen under
		  * that pid. */
		 "fl_pid() {\n"
		 "  [ -n \"$PF\" ] || return 1\n"
		 "  p=; read -r p <\"$PF\" 2>/dev/null\n"
		 "  case $p in ''|*[!0-9]*) return 1;; esac\n"
		 "  s=$(fl_start $p) || return 1\n"
		 "  sp=; ss=; read -r sp ss <\"$W/custom.pidstamp\" 2>/dev/null\n"
		 "  if [ \"$sp\" = \"$p\" ]; then [ \"$ss\" = \"$s\" ] || return 1\n"
		 "  else echo \"$p $s\" >\"$W/custom.pidstamp\"; fi\n"
		 "  echo $p\n"
		 "}\n"
		 /* SIGKILL the pidfile's process and wait until it is gone. */
		 "fl_stop() {\n"
		 "  p=$(fl_pid) || return 0\n"
		 "  kill -9 $p 2>/dev/null\n"
		 "  i=0; while [ $i -lt 100 ] && fl_start $p >/dev/null; do sleep 0.05; i=$((i+1)); done\n"
		 "  ! fl_start $p >/dev/null || { echo \"pid $p did not die\" >&2; return 1; }\n"
		 "}\n");
}

/* One user command (what: "db_opts.start") with its output in files,
 * shown once it ends; a failure ends the script with the command's status
 * and a last stderr line naming it. */
static void script_user(struct buf *b, const struct test *t, int node, const char *what,
			const char *tmpl)
{
	buf_puts(b, "o=$(mktemp \"$W/.faultline-out.XXXXXX\") && e=$(mktemp \"$W/.faultline-err.XXXXXX\")"
		    " || exit 1\n(\n");
	custom_expand(b, tmpl, t, node, true);
	buf_puts(b, "\n) </dev/null >\"$o\" 2>\"$e\"\nrc=$?\ncat \"$o\"; cat \"$e\" >&2\n"
		    "l=$(grep -v '^[[:space:]]*$' \"$e\" | tail -n 1)\nrm -f \"$o\" \"$e\"\n"
		    "if [ $rc -ne 0 ]; then echo \"");
	buf_puts(b, what);
	buf_puts(b, " failed (exit $rc)${l:+: $l}\" >&2; exit $rc; fi\n");
}

static int cmd_timeout_ms(const struct test *t)
{
	double s = json_number_value(json_object_get(t->db_opts, "timeout"));
	return (int)((s > 0 ? s : CUSTOM_TIMEOUT_DEFAULT) * 1000);
}

/* Run script on node; 0 or -1 with err "n2: cannot WHAT: why". out (may
 * be NULL) receives stdout; *status (may be NULL) the exit status. */
static int custom_run(struct db_ctx *c, int node, const char *what, const char *script,
		      char **out, int *status, char *err, size_t errlen)
{
	struct ssh_result r;
	int rc = ssh_exec(c->ssh[node], script, cmd_timeout_ms(c->test), &r);
	char line[300];
	if (status)
		*status = r.status;
	if (rc < 0) {
		last_line(r.err ? r.err : "", line, sizeof line);
		snprintf(err, errlen, "%s: cannot %s: %s", c->test->nodes[node].name, what,
			 r.timed_out ? "timed out (db_opts.timeout)" : line);
	} else if (r.status == 0) {
		if (out)
			*out = xstrdup(r.out);
	} else {
		last_line(r.err, line, sizeof line);
		snprintf(err, errlen, "%s: cannot %s: %s", c->test->nodes[node].name, what,
			 line[0] ? line : "failed without error output");
	}
	ssh_result_free(&r);
	return rc == 0 && r.status == 0 ? 0 : -1;
}

/* ---- lifecycle ---- */

/* Poll until the node is healthy (db_opts.healthy exits 0) or, without a
 * healthy command, until the pidfile names a live process. */
static int custom_wait_ready(struct db_ctx *c, int node, char *err, size_t errlen)
{
	const struct test *t = c->test;
	const char *healthy = opt(t, "healthy");
	struct buf pf;
	buf_init(&pf);
	pidfile_path(&pf, t, node);
	bool have_pf = pf.len > 0;
	buf_free(&pf);
	if (!healthy && !(is_custom(t) && have_pf))
		return 0;
	struct buf b;
	buf_init(&b);
	script_begin(&b, t, node);
	if (healthy)
		script_user(&b, t, node, "db_opts.healthy", healthy);
	else
		buf_puts(&b, "fl_pid >/dev/null || { echo \"no live process in $PF\" >&2; exit 1; }\n");
	double secs = json_number_value(json_object_get(t->db_opts, "setup_timeout"));
	int64_t deadline = now_ns() + (int64_t)((secs > 0 ? secs : CUSTOM_SETUP_TIMEOUT_DEFAULT) * 1e9);
	char last[400] = "";
	int rc;
	while ((rc = custom_run(c, node, "get healthy", b.data, NULL, NULL, last, sizeof last)) < 0 &&
	       now_ns() < deadline) {
		struct timespec ts = {0, CUSTOM_POLL_NS};
		nanosleep(&ts, NULL);
	}
	buf_free(&b);
	if (rc < 0)
		snprintf(err, errlen, "%s (still, after %g s: db_opts.setup_timeout)", last,
			 secs > 0 ? secs : CUSTOM_SETUP_TIMEOUT_DEFAULT);
	return rc;
}

static int custom_setup(struct db_ctx *c, int node, char *err, size_t errlen)
{
	const struct test *t = c->test;
	if (is_custom(t)) {
		struct buf b;
		buf_init(&b);
		script_begin(&b, t, node);
		/* A leftover of an earlier run (--leave-db-running) goes first. */
		buf_puts(&b, "fl_stop || exit 1\nrm -f \"$W/custom.pidstamp\"\n"
			     "[ -z \"$PF\" ] || rm -f \"$PF\"\n");
		json_t *cmds = json_object_get(t->db_opts, "setup");
		size_t i;
		json_t *cmd;
		json_array_foreach(cmds, i, cmd) {
			char what[40];
			snprintf(what, sizeof what, "db_opts.setup[%zu]", i);
			script_user(&b, t, node, what, json_string_value(cmd));
		}
		script_user(&b, t, node, "db_opts.start", opt(t, "start"));
		int rc = custom_run(c, node, "set up custom", b.data, NULL, NULL, err, errlen);
		buf_free(&b);
		if (rc < 0)
			return -1;
	}
	return custom_wait_ready(c, node, err, errlen);
}

static int custom_teardown(struct db_ctx *c, int node, char *err, size_t errlen)
{
	const struct test *t = c->test;
	if (!is_custom(t))
		return 0; /* none: not ours to stop */
	struct buf b;
	buf_init(&b);
	script_begin(&b, t, node);
	buf_puts(&b, "trc=0\n");
	/* Without a teardown command the kill command stops it; the default
	 * stop runs after either, even when it failed: nothing of the test may
	 * keep running. */
	const char *key = opt(t, "teardown") ? "teardown" : opt(t, "kill") ? "kill" : NULL;
	if (key) {
		char what[40];
		snprintf(what, sizeof what, "db_opts.%s", key);
		buf_puts(&b, "(\n");
		script_user(&b, t, node, what, opt(t, key));
		buf_puts(&b, ") || trc=$?\n");
	}
	buf_puts(&b, "fl_stop || exit 1\nrm -f \"$W/custom.pidstamp\"\n[ -z \"$PF\" ] || rm -f \"$PF\"\n"
		     "exit $trc\n");
	int rc = custom_run(c, node, "tear down custom", b.data, NULL, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

static int custom_start(struct db_ctx *c, int node, char *err, size_t errlen)
{
	const struct test *t = c->test;
	if (!opt(t, "start")) {
		snprintf(err, errlen, "%s: cannot start %s: no start command (db_opts.start)",
			 t->nodes[node].name, t->db);
		return -1;
	}
	struct buf b;
	buf_init(&b);
	script_begin(&b, t, node);
	/* Running already: the wanted state holds. */
	buf_puts(&b, "if fl_pid >/dev/null; then exit 0; fi\nrm -f \"$W/custom.pidstamp\"\n");
	if (is_custom(t))
		buf_puts(&b, "[ -z \"$PF\" ] || rm -f \"$PF\"\n");
	script_user(&b, t, node, "db_opts.start", opt(t, "start"));
	int rc = custom_run(c, node, "start", b.data, NULL, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

void custom_script(struct buf *b, const struct test *t, int node, const char *op)
{
	script_begin(b, t, node);
	if (!strcmp(op, "pid")) {
		buf_puts(b, "fl_pid || echo -1\n");
		return;
	}
	char what[40];
	snprintf(what, sizeof what, "db_opts.%s", op);
	if (opt(t, op)) {
		script_user(b, t, node, what, opt(t, op));
		return;
	}
	const char *sig = !strcmp(op, "pause") ? "STOP" : !strcmp(op, "resume") ? "CONT" : NULL;
	buf_printf(b, "[ -n \"$PF\" ] || { echo 'no %s command (db_opts.%s) and no pidfile' >&2;"
		      " exit 1; }\n", op, op);
	if (sig)
		buf_printf(b, "p=$(fl_pid) || { echo \"%s is not running (no live process in"
			      " $PF)\" >&2; exit 1; }\nkill -%s $p\n", t->db, sig);
	else
		buf_puts(b, "fl_stop || exit 1\n");
}

static int custom_signal(struct db_ctx *c, int node, const char *key, char *err, size_t errlen)
{
	const struct test *t = c->test;
	struct buf b;
	buf_init(&b);
	custom_script(&b, t, node, key);
	char what[40];
	snprintf(what, sizeof what, "%s %s", key, t->db);
	int rc = custom_run(c, node, what, b.data, NULL, NULL, err, errlen);
	buf_free(&b);
	return rc;
}

static int custom_kill(struct db_ctx *c, int node, char *err, size_t errlen)
{
	return custom_signal(c, node, "kill", err, errlen);
}

static int custom_pause(struct db_ctx *c, int node, char *err, size_t errlen)
{
	return custom_signal(c, node, "pause", err, errlen);
}

static int custom_resume(struct db_ctx *c, int node, char *err, size_t errlen)
{
	return custom_signal(c, node, "resume", err, errlen);
}

static long custom_pid(struct db_ctx *c, int node)
{
	struct buf b;
	buf_init(&b);
	custom_script(&b, c->test, node, "pid");
	char *out = NULL, err[400];
	long pid = -1;
	if (custom_run(c, node, "read the pid", b.data, &out, NULL, err, sizeof err) == 0) {
		pid = db_pid_of(out);
	} else {
		log_warn("%s", err);
	}
	free(out);
	buf_free(&b);
	return pid;
}

/* Each of db_opts.logs into dir, under its own name (prefixed with its
 * position when two share one). */
static int custom_logs(struct db_ctx *c, int node, const char *dir, char *err, size_t errlen)
{
	const struct test *t = c->test;
	json_t *logs = json_object_get(t->db_opts, "logs");
	size_t i;
	json_t *p;
	int rc = 0;
	err[0] = 0;
	json_array_foreach(logs, i, p) {
		struct buf raw, remote;
		buf_init(&raw);
		buf_init(&remote);
		custom_expand(&raw, json_string_value(p), t, node, false);
		if (raw.data[0] != '/')
			buf_printf(&remote, "%s/", node_workdir(t, node));
		buf_puts(&remote, raw.data);
		const char *base = strrchr(remote.data, '/') + 1;
		bool clash = false;
		for (size_t j = 0; j < json_array_size(logs); j++) {
			const char *o = json_string_value(json_array_get(logs, j));
			const char *ob = strrchr(o, '/');
			clash |= j != i && !strcmp(ob ? ob + 1 : o, base);
		}
		char *local = clash ? xasprintf("%s/%zu-%s", dir, i, *base ? base : "log")
				    : xasprintf("%s/%s", dir, *base ? base : "log");
		char e[300];
		if (ssh_download(c->ssh[node], remote.data, local, e, sizeof e) < 0) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, "%s%s", l ? "; " : "", e);
			rc = -1;
		}
		free(local);
		buf_free(&raw);
		buf_free(&remote);
	}
	return rc;
}

struct primary_job {
	struct db_ctx *c;
	bool *is;
};

static int primary_node(void *ctx, int node, char *err, size_t errlen)
{
	struct primary_job *j = ctx;
	struct buf b;
	buf_init(&b);
	script_begin(&b, j->c->test, node);
	script_user(&b, j->c->test, node, "db_opts.primary", opt(j->c->test, "primary"));
	int st = -1;
	char e[300];
	int rc = custom_run(j->c, node, "ask for the primary", b.data, NULL, &st, e, sizeof e);
	buf_free(&b);
	j->is[node] = rc == 0;
	if (st < 0) { /* no answer at all: unknown, not "not primary" */
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	return 0;
}

static bool custom_has_primaries(const struct test *t) { return opt(t, "primary") != NULL; }

/* db_opts.primary run on every node: exit 0 means it leads. */
static int custom_primaries(struct db_ctx *c, bool *is_primary, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	for (int i = 0; i < n; i++)
		is_primary[i] = false;
	if (!opt(c->test, "primary")) {
		snprintf(err, errlen, "%s: no primary command (db_opts.primary)", c->test->db);
		return 0;
	}
	struct primary_job j = {c, is_primary};
	int failed = par_each(n, NULL, primary_node, &j, err, errlen);
	int k = 0;
	for (int i = 0; i < n; i++)
		k += is_primary[i];
	if (k == 0 && failed == n)
		return -1;
	if (k == 0 && !failed)
		snprintf(err, errlen, "db_opts.primary: no node says it is primary");
	return k;
}

/* The health check from the controller, through a session of its own
 * (the interface passes none): only `cluster status` asks. */
static int custom_healthy(const struct test *t, int node, char *err, size_t errlen)
{
	if (!opt(t, "healthy"))
		return 0;
	struct ssh_opts o = {
		.user = t->username && *t->username ? t->username : "root",
		.private_key = t->private_key,
		.known_hosts = t->known_hosts,
		.accept_new = t->ssh_accept_new,
		.sudo_password = t->sudo_password,
		.port = t->nodes[node].ssh_port > 0 ? t->nodes[node].ssh_port : 22,
		.connect_timeout_ms = t->ssh_timeout_ms > 0 ? t->ssh_timeout_ms : 5000,
		.bind_device = t->bind_device,
	};
	struct ssh_node **ssh = xcalloc((size_t)t->n_nodes, sizeof *ssh);
	ssh[node] = ssh_node_new(t->nodes[node].name, t->nodes[node].host, &o);
	struct db_ctx c = {.test = t, .ssh = ssh};
	struct buf b;
	buf_init(&b);
	script_begin(&b, t, node);
	script_user(&b, t, node, "db_opts.healthy", opt(t, "healthy"));
	int rc = custom_run(&c, node, "get healthy", b.data, NULL, NULL, err, errlen);
	buf_free(&b);
	ssh_node_free(ssh[node]);
	free(ssh);
	return rc;
}

/* ---- options ---- */

static bool has_nemesis(const struct test *t, const char *kind)
{
	for (int i = 0; i < t->n_nemesis; i++)
		if (!strcmp(t->nemesis[i], kind))
			return true;
	return false;
}

static bool uses(const char *tmpl, const char *placeholder)
{
	return tmpl && strstr(tmpl, placeholder);
}

/* Every command is a non-empty string; {port} and {pidfile} need their
 * options. */
static int check_command(json_t *opts, const char *where, json_t *v, bool has_port, bool has_pf,
			 char *err, size_t errlen)
{
	(void)opts;
	const char *s = json_string_value(v);
	if (!s || !*s) {
		snprintf(err, errlen, "%s: expected a shell command (a non-empty string)", where);
		return -1;
	}
	if (!has_port && uses(s, "{port}")) {
		snprintf(err, errlen, "%s: uses {port}, but db_opts.port is not set", where);
		return -1;
	}
	if (!has_pf && uses(s, "{pidfile}")) {
		snprintf(err, errlen, "%s: uses {pidfile}, but there is no pidfile (db_opts.pidfile)",
			 where);
		return -1;
	}
	return 0;
}

static int custom_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	bool custom = is_custom(t);
	static const char *const keys[] = {"setup", "start", "kill", "pause", "resume", "teardown",
					   "healthy", "primary", "logs", "pidfile", "port", "timeout",
					   "setup_timeout", NULL};
	if (opts_keys(o, keys, "db_opts", err, errlen) < 0)
		return -1;
	if (!custom && (json_object_get(o, "setup") || json_object_get(o, "teardown"))) {
		snprintf(err, errlen, "db_opts.%s: db none runs an already-running service and sets up "
			 "nothing; use db custom to have faultline set it up and tear it down",
			 json_object_get(o, "setup") ? "setup" : "teardown");
		return -1;
	}
	if (custom && !json_object_get(o, "start")) {
		snprintf(err, errlen, "db_opts.start: missing (the command that starts the database "
			 "on a node, in the background, writing its pid to {pidfile})");
		return -1;
	}
	json_t *port = json_object_get(o, "port");
	if (port && (!json_is_integer(port) || json_integer_value(port) < 1 ||
		     json_integer_value(port) > 65535)) {
		snprintf(err, errlen, "db_opts.port: expected an integer in 1..65535");
		return -1;
	}
	json_t *pf = json_object_get(o, "pidfile");
	if (custom && !pf)
		json_object_set_new(o, "pidfile", json_string(CUSTOM_PIDFILE_DEFAULT));
	else if (pf && json_is_null(pf))
		json_object_del(o, "pidfile");
	else if (pf && (!json_is_string(pf) || !*json_string_value(pf) ||
			uses(json_string_value(pf), "{pidfile}"))) {
		snprintf(err, errlen, "db_opts.pidfile: expected a path (relative: to the workdir), "
			 "or null for none");
		return -1;
	}
	bool has_pf = json_object_get(o, "pidfile") != NULL;
	bool has_port = port != NULL;
	json_t *setup = json_object_get(o, "setup");
	if (json_is_string(setup)) {
		json_object_set_new(o, "setup", json_pack("[O]", setup));
		setup = json_object_get(o, "setup");
	}
	if (setup && !json_is_array(setup)) {
		snprintf(err, errlen, "db_opts.setup: expected a command or an array of commands");
		return -1;
	}
	if (custom && !setup)
		json_object_set_new(o, "setup", json_array());
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(o, "setup"), i, v) {
		char where[40];
		snprintf(where, sizeof where, "db_opts.setup[%zu]", i);
		if (check_command(o, where, v, has_port, has_pf, err, errlen) < 0)
			return -1;
	}
	static const char *const cmds[] = {"start", "kill", "pause", "resume", "teardown", "healthy",
					   "primary", NULL};
	for (const char *const *k = cmds; *k; k++) {
		json_t *c = json_object_get(o, *k);
		char where[40];
		snprintf(where, sizeof where, "db_opts.%s", *k);
		if (c && check_command(o, where, c, has_port, has_pf, err, errlen) < 0)
			return -1;
	}
	json_t *logs = json_object_get(o, "logs");
	if (!logs)
		json_object_set_new(o, "logs", json_array());
	else if (!json_is_array(logs)) {
		snprintf(err, errlen, "db_opts.logs: expected an array of paths on the node");
		return -1;
	}
	json_array_foreach(json_object_get(o, "logs"), i, v) {
		const char *s = json_string_value(v);
		if (!s || !*s || s[strlen(s) - 1] == '/') {
			snprintf(err, errlen, "db_opts.logs[%zu]: expected a file path", i);
			return -1;
		}
	}
	double d;
	if (opts_num(o, "timeout", CUSTOM_TIMEOUT_DEFAULT, 1, 86400, "db_opts", &d, err, errlen) < 0 ||
	    opts_num(o, "setup_timeout", CUSTOM_SETUP_TIMEOUT_DEFAULT, 1, 86400, "db_opts", &d, err,
		     errlen) < 0)
		return -1;
	/* What the requested faults need, before any node is touched. */
	bool kill_ok = json_object_get(o, "kill") || has_pf;
	if (has_nemesis(t, "kill") && (!json_object_get(o, "start") || !kill_ok)) {
		snprintf(err, errlen, "nemesis kill: db %s needs %s to kill and restart a node "
			 "(db_opts.kill or a pidfile, and db_opts.start)", t->db,
			 kill_ok ? "a start command" : "a way");
		return -1;
	}
	if (has_nemesis(t, "pause") && !has_pf &&
	    !(json_object_get(o, "pause") && json_object_get(o, "resume"))) {
		snprintf(err, errlen, "nemesis pause: db %s needs db_opts.pause and db_opts.resume, or "
			 "db_opts.pidfile", t->db);
		return -1;
	}
	if (has_nemesis(t, "slow") && !has_pf) {
		snprintf(err, errlen, "nemesis slow: db %s needs the database's pid: db_opts.pidfile",
			 t->db);
		return -1;
	}
	return 0;
}

/* Neither runs a workload by itself: their clients are adapters. */
static const struct db_client custom_clients[] = {
	{NULL, NULL},
};

const struct db custom_db = {
	.name = "custom",
	.summary = "a database defined by shell commands (db_opts: setup, start, kill, ...), "
		   "tested through an adapter (--client-exec)",
	.check = custom_check,
	.setup = custom_setup,
	.teardown = custom_teardown,
	.start = custom_start,
	.kill = custom_kill,
	.pause = custom_pause,
	.resume = custom_resume,
	.pid = custom_pid,
	.logs = custom_logs,
	.primaries = custom_primaries,
	.has_primaries = custom_has_primaries,
	.healthy = custom_healthy,
	.clients = custom_clients,
};

const struct db none_db = {
	.name = "none",
	.summary = "an already-running service faultline does not set up (kill and pause only "
		   "with db_opts commands), tested through an adapter (--client-exec)",
	.check = custom_check,
	.setup = custom_setup,
	.teardown = custom_teardown,
	.start = custom_start,
	.kill = custom_kill,
	.pause = custom_pause,
	.resume = custom_resume,
	.pid = custom_pid,
	.logs = custom_logs,
	.primaries = custom_primaries,
	.has_primaries = custom_has_primaries,
	.healthy = custom_healthy,
	.clients = custom_clients,
};
