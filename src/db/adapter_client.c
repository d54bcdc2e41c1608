/*
 * adapter_client.c - the adapter client (adapter.h): a struct client_ops
 * that runs any workload against any database through a program the user
 * wrote (client.exec), one adapter process per worker process, on the
 * controller, spoken to in JSON lines (protocol 1, docs/ADAPTERS.md):
 *
 *   faultline -> adapter   {"type":"init","protocol":1,"node":"n2",...}
 *   adapter -> faultline   {"type":"init_ok"}
 *   faultline -> adapter   {"type":"invoke","id":1,"process":3,"f":"read","key":"3","value":null}
 *   adapter -> faultline   {"type":"ok","id":1,"value":2}     (or fail / info, + "error")
 *   ...                     setup / teardown hooks: {"type":"setup","id":1} -> {"type":"ok"}
 *
 * The adapter is user code and may misbehave in every way; the runner, not
 * the adapter, writes the history, and only the fields it takes from a
 * parsed reply (type, value, error) ever reach it, serialised again by
 * jansson, so nothing an adapter prints can forge or tear a history line.
 * Anything but a well-formed reply in time - a timeout (op_timeout), an
 * exit, a line that is not JSON, longer than max_line, a reply for another
 * request, output nobody asked for - completes the op as info (nobody
 * knows whether it happened), which retires the process; the adapter is
 * killed (its process group, by its pid) and the worker's next process
 * gets a fresh one. The adapter's stderr goes to the run's log (debug
 * level: faultline.log), one sanitised line per line.
 *
 * Between the client's setup and teardown a few adapters per node are
 * started and greeted ahead of need (spares), so an interpreter's start-up
 * is not paid inside the run.
 *
 * The child gets only fds 0-2 (nothing else faultline has open, the
 * history file least of all), its own process group (a Ctrl-C reaches
 * faultline, which then closes the adapters itself), default signal
 * dispositions and mask, and the environment minus the sudo password's
 * variable, plus FAULTLINE_NODE, FAULTLINE_HOST, FAULTLINE_NODES, ...
 */
#include "adapter.h"

#include "client.h"
#include "db.h"
#include "history.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define ADAPTER_MAX_LINE_DEFAULT (16L << 20)
#define ADAPTER_INIT_TIMEOUT_DEFAULT 10.0
#define ADAPTER_HOOK_TIMEOUT_DEFAULT 60.0
/* How long a closed adapter may take to exit on EOF before it is killed. */
#define ADAPTER_EXIT_GRACE_MS 1000
/* stderr: the longest line logged whole, and the most lines per adapter. */
#define ADAPTER_ERR_LINE 2000
#define ADAPTER_ERR_LINES 10000
#define ADAPTER_READ_CHUNK 65536

struct adapter {
	pid_t pid;
	int in, out, errfd;  /* our ends: its stdin, stdout, stderr */
	struct buf rd;       /* stdout bytes read: consumed up to rd_off */
	size_t rd_off;
	struct buf eline;    /* the stderr line being collected */
	bool eline_cut;      /* the current stderr line was too long */
	long err_lines;
	bool exited;         /* EOF seen on stdout */
	bool dead;           /* broken: kill at close, answer nothing more */
	char dead_why[300];
	int64_t next_id;
	int64_t init_deadline;
	size_t max_line;
	double op_timeout;
	char label[96];      /* "adapter n2 p7 (pid 1234)" for the log */
};

/* ---------------- options ---------------- */

static double client_num(const struct test *t, const char *key, double def)
{
	json_t *v = json_object_get(t->client, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

json_t *adapter_split_command(const char *cmd)
{
	json_t *a = json_array();
	const char *p = cmd;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *s = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (p > s)
			json_array_append_new(a, json_stringn(s, (size_t)(p - s)));
	}
	return a;
}

/* Is the program found (a path with a slash, or a name on PATH)? */
static bool program_found(const char *prog)
{
	if (strchr(prog, '/')) {
		struct stat st;
		return stat(prog, &st) == 0 && S_ISREG(st.st_mode) && access(prog, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	char *dirs = xstrdup(path), *save = NULL;
	bool found = false;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *f = xasprintf("%s/%s", *d ? d : ".", prog);
		struct stat st;
		found = stat(f, &st) == 0 && S_ISREG(st.st_mode) && access(f, X_OK) == 0;
		free(f);
	}
	free(dirs);
	return found;
}

static bool env_name_ok(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static int check_number(json_t *c, const char *key, double def, double min, double max,
			char *err, size_t errlen)
{
	json_t *v = json_object_get(c, key);
	if (!v) {
		json_object_set_new(c, key, json_real(def));
		return 0;
	}
	if (!json_is_number(v) || json_number_value(v) < min || json_number_value(v) > max) {
		snprintf(err, errlen, "client.%s: expected a number in %g..%g", key, min, max);
		return -1;
	}
	return 0;
}

int adapter_check(const struct test *t, json_t *c, char *err, size_t errlen)
{
	(void)t;
	static const char *const keys[] = {"exec", "env", "opts", "port", "max_line",
					   "init_timeout", "hook_timeout", NULL};
	if (!json_is_object(c)) {
		snprintf(err, errlen, "client: expected an object {\"exec\": [\"program\", \"arg\"...]}");
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(c, k, v) {
		bool known = false;
		for (const char *const *p = keys; *p; p++)
			known |= !strcmp(*p, k);
		if (!known) {
			snprintf(err, errlen, "client.%s: unknown key (exec, env, opts, port, max_line, "
				 "init_timeout, hook_timeout)", k);
			return -1;
		}
	}
	json_t *ex = json_object_get(c, "exec");
	if (json_is_string(ex)) {
		json_object_set_new(c, "exec", adapter_split_command(json_string_value(ex)));
		ex = json_object_get(c, "exec");
	}
	if (!ex) {
		snprintf(err, errlen, "client.exec: missing (the adapter program and its arguments)");
		return -1;
	}
	if (!json_is_array(ex) || json_array_size(ex) == 0) {
		snprintf(err, errlen, "client.exec: expected a non-empty array of strings");
		return -1;
	}
	size_t i;
	json_array_foreach(ex, i, v) {
		if (!json_is_string(v) || !*json_string_value(v)) {
			snprintf(err, errlen, "client.exec[%zu]: expected a non-empty string", i);
			return -1;
		}
	}
	const char *prog = json_string_value(json_array_get(ex, 0));
	if (!program_found(prog)) {
		snprintf(err, errlen, "client.exec[0]: %.200s: %s", prog,
			 strchr(prog, '/') ? "not an executable file" : "not found on PATH");
		return -1;
	}
	json_t *env = json_object_get(c, "env");
	if (env && !json_is_object(env)) {
		snprintf(err, errlen, "client.env: expected an object of strings");
		return -1;
	}
	json_object_foreach(env, k, v) {
		if (!env_name_ok(k) || !json_is_string(v)) {
			snprintf(err, errlen, "client.env.%.60s: expected a variable name (letters, "
				 "digits, _) with a string value", k);
			return -1;
		}
	}
	json_t *port = json_object_get(c, "port");
	if (port && (!json_is_integer(port) || json_integer_value(port) < 1 ||
		     json_integer_value(port) > 65535)) {
		snprintf(err, errlen, "client.port: expected an integer in 1..65535");
		return -1;
	}
	json_t *ml = json_object_get(c, "max_line");
	if (!ml)
		json_object_set_new(c, "max_line", json_integer(ADAPTER_MAX_LINE_DEFAULT));
	else if (!json_is_integer(ml) || json_integer_value(ml) < 1024 ||
		 json_integer_value(ml) > (1L << 30)) {
		snprintf(err, errlen, "client.max_line: expected an integer in 1024..1073741824 (bytes)");
		return -1;
	}
	if (check_number(c, "init_timeout", ADAPTER_INIT_TIMEOUT_DEFAULT, 0.01, 3600, err, errlen) < 0 ||
	    check_number(c, "hook_timeout", ADAPTER_HOOK_TIMEOUT_DEFAULT, 0.01, 86400, err, errlen) < 0)
		return -1;
	if (!json_object_get(c, "opts"))
		json_object_set_new(c, "opts", json_object());
	return 0;
}

const struct client_ops *test_client(const struct test *t)
{
	if (t->client && json_object_get(t->client, "exec"))
		return &adapter_client_ops;
	return db_client(db_find(t->db), t->workload);
}

/* ---------------- the child ---------------- */

/* The adapter's port: client.port, else db_opts.port; 0 if neither. */
static long adapter_port(const struct test *t)
{
	json_t *p = json_object_get(t->client, "port");
	if (!p)
		p = json_object_get(t->db_opts, "port");
	return json_is_integer(p) ? (long)json_integer_value(p) : 0;
}

static void env_add(char ***envp, size_t *n, char *entry)
{
	*envp = xrealloc(*envp, (*n + 2) * sizeof **envp);
	(*envp)[(*n)++] = entry;
	(*envp)[*n] = NULL;
}

/* faultline's environment without the sudo password's variable, any
 * FAULTLINE_* (ours replace them) or what client.env sets, plus ours and
 * client.env. */
static char **adapter_env(const struct test *t, int node)
{
	char **envp = NULL;
	size_t n = 0;
	size_t skip_len = t->sudo_password_env ? strlen(t->sudo_password_env) : 0;
	for (char **e = environ; e && *e; e++) {
		if (!strncmp(*e, "FAULTLINE_", 10))
			continue;
		if (skip_len && !strncmp(*e, t->sudo_password_env, skip_len) && (*e)[skip_len] == '=')
			continue;
		const char *eq = strchr(*e, '=');
		char *name = eq ? strndup(*e, (size_t)(eq - *e)) : NULL;
		bool overridden = name && json_object_get(json_object_get(t->client, "env"), name);
		free(name);
		if (!overridden)
			env_add(&envp, &n, xstrdup(*e));
	}
	struct buf hosts, names;
	buf_init(&hosts);
	buf_init(&names);
	for (int i = 0; i < t->n_nodes; i++) {
		buf_printf(&hosts, "%s%s", i ? "," : "", t->nodes[i].host);
		buf_printf(&names, "%s%s", i ? "," : "", t->nodes[i].name);
	}
	env_add(&envp, &n, xasprintf("FAULTLINE_PROTOCOL=%d", ADAPTER_PROTOCOL));
	env_add(&envp, &n, xasprintf("FAULTLINE_NODE=%s", t->nodes[node].name));
	env_add(&envp, &n, xasprintf("FAULTLINE_HOST=%s", t->nodes[node].host));
	env_add(&envp, &n, xasprintf("FAULTLINE_NODES=%s", hosts.data ? hosts.data : ""));
	env_add(&envp, &n, xasprintf("FAULTLINE_NODE_NAMES=%s", names.data ? names.data : ""));
	env_add(&envp, &n, xasprintf("FAULTLINE_WORKLOAD=%s", t->workload));
	env_add(&envp, &n, xasprintf("FAULTLINE_DB=%s", t->db));
	env_add(&envp, &n, xasprintf("FAULTLINE_OP_TIMEOUT=%g", t->op_timeout));
	long port = adapter_port(t);
	if (port)
		env_add(&envp, &n, xasprintf("FAULTLINE_PORT=%ld", port));
	if (t->bind_device && *t->bind_device)
		env_add(&envp, &n, xasprintf("FAULTLINE_BIND_DEVICE=%s", t->bind_device));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(t->client, "env"), k, v)
		env_add(&envp, &n, xasprintf("%s=%s", k, json_string_value(v)));
	buf_free(&hosts);
	buf_free(&names);
	return envp;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A write to an adapter that exited must be an EPIPE error, not a
 * signal that ends faultline. */
static pthread_once_t sigpipe_once = PTHREAD_ONCE_INIT;
static void sigpipe_ignore(void) { signal(SIGPIPE, SIG_IGN); }

/* Start the adapter with its stdin/stdout/stderr on pipes. 0, or -1 + err. */
static int adapter_spawn(struct adapter *a, const struct test *t, int node, char *err,
			 size_t errlen)
{
	pthread_once(&sigpipe_once, sigpipe_ignore);
	int p_in[2] = {-1, -1}, p_out[2] = {-1, -1}, p_err[2] = {-1, -1};
	if (pipe2(p_in, O_CLOEXEC) < 0 || pipe2(p_out, O_CLOEXEC) < 0 || pipe2(p_err, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s: cannot create pipes for the adapter: %s",
			 t->nodes[node].name, strerror(errno));
		for (int i = 0; i < 2; i++) {
			close_fd(&p_in[i]);
			close_fd(&p_out[i]);
			close_fd(&p_err[i]);
		}
		return -1;
	}
	json_t *ex = json_object_get(t->client, "exec");
	size_t argc = json_array_size(ex);
	char **argv = xcalloc(argc + 1, sizeof *argv);
	for (size_t i = 0; i < argc; i++)
		argv[i] = xstrdup(json_string_value(json_array_get(ex, i)));
	char **envp = adapter_env(t, node);

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p_in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, p_out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p_err[1], 2);
	/* Whatever else is open here (the history, the log, sockets, other
	 * adapters' pipes) stays out of the adapter's reach. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none, defaults;
	sigemptyset(&none);
	sigemptyset(&defaults);
	int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaddset(&defaults, sigs[i]);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &defaults);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close_fd(&p_in[0]);
	close_fd(&p_out[1]);
	close_fd(&p_err[1]);
	if (e) {
		snprintf(err, errlen, "%s: cannot start adapter %.200s: %s", t->nodes[node].name,
			 argv[0], strerror(e));
		close_fd(&p_in[1]);
		close_fd(&p_out[0]);
		close_fd(&p_err[0]);
	} else {
		a->pid = pid;
		a->in = p_in[1];
		a->out = p_out[0];
		a->errfd = p_err[0];
		fcntl(a->in, F_SETFL, O_NONBLOCK);
		fcntl(a->out, F_SETFL, O_NONBLOCK);
		fcntl(a->errfd, F_SETFL, O_NONBLOCK);
	}
	strv_free(argv);
	strv_free(envp);
	return e ? -1 : 0;
}

/* ---------------- stderr -> log ---------------- */

/* One stderr line into the log: control characters and bytes outside
 * ASCII become '?', so no line can forge or garble another. */
static void adapter_log_line(struct adapter *a, const char *s, size_t n, bool cut)
{
	if (a->err_lines++ >= ADAPTER_ERR_LINES) {
		if (a->err_lines == ADAPTER_ERR_LINES + 1)
			log_debug("%s: stderr: more than %d lines; the rest is not logged", a->label,
				  ADAPTER_ERR_LINES);
		return;
	}
	char *clean = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		clean[i] = ch < 0x20 || ch >= 0x7f ? (ch == '\t' ? ' ' : '?') : (char)ch;
	}
	clean[n] = 0;
	log_debug("%s: stderr: %s%s", a->label, clean, cut ? " [line cut]" : "");
	free(clean);
}

static void adapter_err_bytes(struct adapter *a, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		size_t room = ADAPTER_ERR_LINE - a->eline.len;
		if (take > room) {
			a->eline_cut = true;
			buf_append(&a->eline, p, room);
		} else {
			buf_append(&a->eline, p, take);
		}
		if (nl) {
			adapter_log_line(a, a->eline.data ? a->eline.data : "", a->eline.len,
					 a->eline_cut);
			a->eline.len = 0;
			a->eline_cut = false;
			take++;
		}
		p += take;
		n -= take;
	}
}

/* Read what stderr holds now (never blocks); at EOF the fd is closed. */
static void adapter_drain_err(struct adapter *a)
{
	char chunk[8192];
	while (a->errfd >= 0) {
		ssize_t r = read(a->errfd, chunk, sizeof chunk);
		if (r > 0) {
			adapter_err_bytes(a, chunk, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			if (a->eline.len)
				adapter_log_line(a, a->eline.data, a->eline.len, a->eline_cut);
			a->eline.len = 0;
			close_fd(&a->errfd);
		}
		return;
	}
}

/* ---------------- lines ---------------- */

/* A short, printable excerpt of bytes the adapter sent, for errors. */
static void excerpt(const char *s, size_t n, char *out, size_t outlen)
{
	size_t k = 0;
	const char *nl = memchr(s, '\n', n);
	if (nl)
		n = (size_t)(nl - s);
	for (size_t i = 0; i < n && k + 4 < outlen && i < 80; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[k++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	if (n > 80 && k + 4 < outlen) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = 0;
}

/* How the adapter ended, once it has: "exited with status 3". */
static void adapter_exit_text(struct adapter *a, char *out, size_t outlen)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	/* WNOWAIT: the zombie keeps its pid (and so its process group id)
	 * reserved until close kills the group and reaps it. */
	int64_t until = now_ns() + 200000000LL;
	while (waitid(P_PID, (id_t)a->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0 &&
	       now_ns() < until) {
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
	}
	if (si.si_pid == 0)
		snprintf(out, outlen, "closed its stdout");
	else if (si.si_code == CLD_EXITED)
		snprintf(out, outlen, "exited with status %d", si.si_status);
	else
		snprintf(out, outlen, "was killed by signal %d (%s)", si.si_status,
			 strsignal(si.si_status));
}

static int ms_until(int64_t deadline)
{
	int64_t left = deadline - now_ns();
	if (left <= 0)
		return 0;
	int64_t ms = (left + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* The next line of the adapter's stdout (without its newline, NUL-
 * terminated in place; valid until the next read), waiting until
 * deadline. 0, or -1 with why. */
static int adapter_read_line(struct adapter *a, int64_t deadline, char **line, size_t *len,
			     char *why, size_t whylen)
{
	size_t scanned = 0;
	for (;;) {
		size_t avail = a->rd.len - a->rd_off;
		char *start = a->rd.data ? a->rd.data + a->rd_off : NULL;
		char *nl = avail > scanned ? memchr(start + scanned, '\n', avail - scanned) : NULL;
		if (nl && (size_t)(nl - start) <= a->max_line) {
			*nl = 0;
			*line = start;
			*len = (size_t)(nl - start);
			a->rd_off += *len + 1;
			return 0;
		}
		if (nl || avail > a->max_line) {
			snprintf(why, whylen, "adapter wrote a line longer than max_line (%zu bytes)",
				 a->max_line);
			return -1;
		}
		scanned = avail;
		if (a->exited) {
			char how[120];
			adapter_exit_text(a, how, sizeof how);
			snprintf(why, whylen, "adapter %s%s", how,
				 avail ? " in the middle of a line" : " without a reply");
			return -1;
		}
		struct pollfd pf[2] = {{.fd = a->out, .events = POLLIN},
				       {.fd = a->errfd, .events = POLLIN}};
		int timeout = ms_until(deadline);
		int pr = timeout > 0 ? poll(pf, a->errfd >= 0 ? 2 : 1, timeout) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			snprintf(why, whylen, "timeout: no reply from the adapter in %g s",
				 a->op_timeout);
			return -1;
		}
		if (pf[1].revents)
			adapter_drain_err(a);
		if (!pf[0].revents)
			continue;
		/* Compact before growing: consumed bytes are never needed again. */
		if (a->rd_off && a->rd_off == a->rd.len) {
			a->rd.len = a->rd_off = 0;
		} else if (a->rd_off > (1u << 16)) {
			memmove(a->rd.data, a->rd.data + a->rd_off, a->rd.len - a->rd_off);
			a->rd.len -= a->rd_off;
			a->rd_off = 0;
		}
		if (a->rd.cap - a->rd.len < ADAPTER_READ_CHUNK + 1) {
			a->rd.cap = a->rd.len + ADAPTER_READ_CHUNK + 1;
			a->rd.data = xrealloc(a->rd.data, a->rd.cap);
		}
		ssize_t r = read(a->out, a->rd.data + a->rd.len, ADAPTER_READ_CHUNK);
		if (r > 0)
			a->rd.len += (size_t)r;
		else if (r == 0)
			a->exited = true;
		else if (errno != EAGAIN && errno != EINTR) {
			snprintf(why, whylen, "reading the adapter's stdout: %s", strerror(errno));
			return -1;
		}
	}
}

/* Write one JSON value as a line to the adapter's stdin by deadline. */
static int adapter_send(struct adapter *a, json_t *msg, int64_t deadline, char *why,
			size_t whylen)
{
	char *s = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s) {
		snprintf(why, whylen, "request cannot be encoded as JSON");
		return -1;
	}
	size_t n = strlen(s);
	s[n++] = '\n'; /* in place of the NUL: s is a byte string from here on */
	size_t off = 0;
	int rc = 0;
	while (off < n) {
		ssize_t w = write(a->in, s + off, n - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = {.fd = a->in, .events = POLLOUT};
			int timeout = ms_until(deadline);
			if (timeout > 0 && poll(&pf, 1, timeout) >= 0)
				continue;
			snprintf(why, whylen, "timeout: the adapter does not read its stdin");
		} else if (w < 0 && errno == EPIPE) {
			char how[120];
			adapter_exit_text(a, how, sizeof how);
			snprintf(why, whylen, "adapter %s", how);
		} else {
			snprintf(why, whylen, "writing to the adapter: %s", strerror(errno));
		}
		rc = -1;
		break;
	}
	free(s);
	return rc;
}

/* Output the adapter wrote without being asked (a reply to no request):
 * once that happens replies can no longer be matched to requests. */
static bool adapter_unsolicited(struct adapter *a, char *why, size_t whylen)
{
	if (a->rd.len == a->rd_off)
		a->rd.len = a->rd_off = 0;
	if (!a->exited && a->rd.len == a->rd_off) {
		if (a->rd.cap - a->rd.len < 4097) {
			a->rd.cap = a->rd.len + 4097;
			a->rd.data = xrealloc(a->rd.data, a->rd.cap);
		}
		ssize_t r = read(a->out, a->rd.data + a->rd.len, 4096);
		if (r > 0)
			a->rd.len += (size_t)r;
		else if (r == 0)
			a->exited = true;
	}
	if (a->rd.len > a->rd_off) {
		char ex[100];
		excerpt(a->rd.data + a->rd_off, a->rd.len - a->rd_off, ex, sizeof ex);
		snprintf(why, whylen, "adapter wrote output nobody asked for: %s", ex);
		return true;
	}
	if (a->exited) {
		char how[120];
		adapter_exit_text(a, how, sizeof how);
		snprintf(why, whylen, "adapter %s", how);
		return true;
	}
	return false;
}

/* Send msg as the next request (it gets its "id"). 0, or -1 + why. */
static int adapter_request(struct adapter *a, json_t *msg, int64_t deadline, char *why,
			   size_t whylen)
{
	json_object_set_new(msg, "id", json_integer(a->next_id++));
	if (adapter_unsolicited(a, why, whylen) || adapter_send(a, msg, deadline, why, whylen) < 0)
		return -1;
	return 0;
}

/* The reply to the last request, parsed into *reply (an object with a
 * string "type", and "id" equal to the request's when present). 0, or -1
 * + why. */
static int adapter_reply(struct adapter *a, int64_t deadline, json_t **reply, char *why,
			 size_t whylen)
{
	*reply = NULL;
	int64_t id = a->next_id - 1;
	char *line;
	size_t len;
	if (adapter_read_line(a, deadline, &line, &len, why, whylen) < 0)
		return -1;
	json_error_t je;
	json_t *r = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	char ex[100];
	if (!r || !json_is_object(r)) {
		excerpt(line, len, ex, sizeof ex);
		snprintf(why, whylen, "adapter reply is not a JSON object: %s", ex);
		json_decref(r);
		return -1;
	}
	if (!json_is_string(json_object_get(r, "type"))) {
		excerpt(line, len, ex, sizeof ex);
		snprintf(why, whylen, "adapter reply has no \"type\": %s", ex);
		json_decref(r);
		return -1;
	}
	json_t *rid = json_object_get(r, "id");
	if (rid && !(json_is_integer(rid) && json_integer_value(rid) == id)) {
		excerpt(line, len, ex, sizeof ex);
		snprintf(why, whylen, "adapter reply is for another request (sent id %lld): %s",
			 (long long)id, ex);
		json_decref(r);
		return -1;
	}
	*reply = r;
	return 0;
}

static int adapter_roundtrip(struct adapter *a, json_t *msg, int64_t deadline, json_t **reply,
			     char *why, size_t whylen)
{
	*reply = NULL;
	if (adapter_request(a, msg, deadline, why, whylen) < 0)
		return -1;
	return adapter_reply(a, deadline, reply, why, whylen);
}

/* ---------------- lifecycle ---------------- */

/* Stop the adapter: EOF on its stdin, a grace period to exit on its own
 * (none when broken), then SIGKILL to its process group, and reap it. */
static void adapter_stop(struct adapter *a)
{
	close_fd(&a->in);
	if (a->pid > 0) {
		int64_t until = now_ns() + (a->dead ? 0 : (int64_t)ADAPTER_EXIT_GRACE_MS * 1000000);
		siginfo_t si;
		for (;;) {
			memset(&si, 0, sizeof si);
			if (waitid(P_PID, (id_t)a->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
			    si.si_pid != 0 || now_ns() >= until)
				break;
			adapter_drain_err(a);
			struct timespec ts = {0, 2000000};
			nanosleep(&ts, NULL);
		}
		/* The group dies with its leader: an adapter that is a shell
		 * script leaves no orphan holding the pipes. The leader is not
		 * reaped yet, so its pid still names this group. */
		kill(-a->pid, SIGKILL);
		kill(a->pid, SIGKILL);
		int st;
		while (waitpid(a->pid, &st, 0) < 0 && errno == EINTR)
			;
		if (si.si_pid != 0 && si.si_code == CLD_EXITED && si.si_status != 0)
			log_debug("%s: exited with status %d", a->label, si.si_status);
		a->pid = -1;
	}
	adapter_drain_err(a);
	close_fd(&a->errfd);
	close_fd(&a->out);
}

static void adapter_free(struct adapter *a)
{
	adapter_stop(a);
	buf_free(&a->rd);
	buf_free(&a->eline);
	free(a);
}

static json_t *adapter_init_msg(const struct test *t, int node)
{
	json_t *nodes = json_array();
	for (int i = 0; i < t->n_nodes; i++)
		json_array_append_new(nodes, json_pack("{s:s, s:s}", "name", t->nodes[i].name, "host",
						       t->nodes[i].host));
	json_t *m = json_pack("{s:s, s:i, s:s, s:s, s:o, s:s, s:s, s:O, s:O, s:O, s:f}", "type",
			      "init", "protocol", ADAPTER_PROTOCOL, "node", t->nodes[node].name,
			      "host", t->nodes[node].host, "nodes", nodes, "workload", t->workload,
			      "db", t->db, "db_opts", t->db_opts, "workload_opts",
			      t->workload_opts, "opts", json_object_get(t->client, "opts"),
			      "op_timeout", t->op_timeout);
	long port = adapter_port(t);
	if (port)
		json_object_set_new(m, "port", json_integer(port));
	return m;
}

/* Start an adapter for node and send it init (adapter_greet waits for
 * the answer, so that many can start at once). NULL + err. */
static struct adapter *adapter_launch(const struct test *t, int node, bool hooks, char *err,
				      size_t errlen)
{
	struct adapter *a = xcalloc(1, sizeof *a);
	a->in = a->out = a->errfd = a->pid = -1;
	buf_init(&a->rd);
	buf_init(&a->eline);
	a->next_id = 1;
	a->max_line = (size_t)json_integer_value(json_object_get(t->client, "max_line"));
	if (a->max_line < 1024)
		a->max_line = ADAPTER_MAX_LINE_DEFAULT;
	a->op_timeout = t->op_timeout;
	if (adapter_spawn(a, t, node, err, errlen) < 0) {
		free(a);
		return NULL;
	}
	snprintf(a->label, sizeof a->label, "adapter %s%s (pid %ld)", t->nodes[node].name,
		 hooks ? " hooks" : "", (long)a->pid);
	double init_s = client_num(t, "init_timeout", ADAPTER_INIT_TIMEOUT_DEFAULT);
	a->init_deadline = now_ns() + (int64_t)(init_s * 1e9);
	json_t *init = adapter_init_msg(t, node);
	int rc = adapter_request(a, init, a->init_deadline, a->dead_why, sizeof a->dead_why);
	json_decref(init);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", t->nodes[node].name, a->dead_why);
		a->dead = true;
		adapter_free(a);
		return NULL;
	}
	return a;
}

/* Wait for the init_ok of a launched adapter. 0, or -1 with err (and a
 * freed). */
static int adapter_greet(struct adapter *a, const struct test *t, int node, char *err,
			 size_t errlen)
{
	double init_s = client_num(t, "init_timeout", ADAPTER_INIT_TIMEOUT_DEFAULT);
	json_t *reply = NULL;
	char why[300];
	int rc = adapter_reply(a, a->init_deadline, &reply, why, sizeof why);
	const char *type = rc == 0 ? json_string_value(json_object_get(reply, "type")) : NULL;
	json_t *proto = rc == 0 ? json_object_get(reply, "protocol") : NULL;
	if (rc == 0 && strcmp(type, "init_ok")) {
		const char *e = json_string_value(json_object_get(reply, "error"));
		snprintf(why, sizeof why, "adapter answered init with \"%.20s\"%s%.200s, not init_ok",
			 type, e ? ": " : "", e ? e : "");
		rc = -1;
	} else if (rc == 0 && proto && !(json_is_integer(proto) &&
					 json_integer_value(proto) == ADAPTER_PROTOCOL)) {
		snprintf(why, sizeof why, "adapter speaks protocol %.20s; faultline speaks %d",
			 json_is_integer(proto) ? "another version" : "(not a number)",
			 ADAPTER_PROTOCOL);
		rc = -1;
	}
	json_decref(reply);
	if (rc < 0) {
		if (!strncmp(why, "timeout", 7))
			snprintf(why, sizeof why, "timeout: no init_ok from the adapter in %g s "
				 "(client.init_timeout)", init_s);
		snprintf(err, errlen, "%s: %s", t->nodes[node].name, why);
		a->dead = true;
		adapter_free(a);
		return -1;
	}
	return 0;
}

/* Start an adapter for node and wait for its init_ok. NULL + err. */
static struct adapter *adapter_start(const struct test *t, int node, bool hooks, char *err,
				     size_t errlen)
{
	struct adapter *a = adapter_launch(t, node, hooks, err, errlen);
	if (a && adapter_greet(a, t, node, err, errlen) < 0)
		return NULL;
	return a;
}

/* ---------------- spares ----------------
 *
 * Starting an adapter costs its interpreter's start-up: tens of ms for
 * Python, far more on a loaded machine. Paid inside the run it would stall
 * each fresh process - after a timeout, that is, exactly while a fault is
 * on. So between the client's setup and teardown every node keeps a few
 * adapters started and greeted ahead: open() takes one (each still serves
 * one process only, and is checked for having died meanwhile), and a
 * thread starts its replacement. Without setup (the benchmark's local
 * runs) open() starts its adapter itself. */
struct spares {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct test *t;
	int n_nodes;
	int target;            /* ready adapters kept per node */
	struct adapter ***q;   /* per node: ready adapters, a stack of target */
	int *len;
	bool active, stop;
	pthread_t thread;
};

static struct spares sp = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* How many workers a node serves (process p runs on node p mod n). */
static int workers_per_node(const struct test *t)
{
	int n = t->n_nodes > 0 ? t->n_nodes : 1;
	return (t->concurrency + n - 1) / n;
}

/* Start count[i] adapters for each node i at once, wait for all their
 * init_oks, and keep those that answered. Called without the lock.
 * Returns how many failed, err the first reason. */
static int spares_fill(const int *count, char *err, size_t errlen)
{
	int n = 0;
	for (int i = 0; i < sp.n_nodes; i++)
		n += count[i];
	struct adapter **batch = xcalloc((size_t)n + 1, sizeof *batch);
	int *node = xcalloc((size_t)n + 1, sizeof *node);
	int k = 0, failed = 0;
	char e[400];
	for (int i = 0; i < sp.n_nodes; i++)
		for (int j = 0; j < count[i]; j++) {
			node[k] = i;
			batch[k] = adapter_launch(sp.t, i, false, e, sizeof e);
			if (!batch[k] && !failed++)
				snprintf(err, errlen, "%s", e);
			k++;
		}
	for (k = 0; k < n; k++)
		if (batch[k] && adapter_greet(batch[k], sp.t, node[k], e, sizeof e) < 0) {
			batch[k] = NULL;
			if (!failed++)
				snprintf(err, errlen, "%s", e);
		}
	pthread_mutex_lock(&sp.mu);
	for (k = 0; k < n; k++) {
		if (!batch[k])
			continue;
		if (sp.stop || sp.len[node[k]] >= sp.target) {
			pthread_mutex_unlock(&sp.mu);
			adapter_free(batch[k]);
			pthread_mutex_lock(&sp.mu);
		} else {
			sp.q[node[k]][sp.len[node[k]]++] = batch[k];
		}
	}
	pthread_mutex_unlock(&sp.mu);
	free(batch);
	free(node);
	return failed;
}

/* Refill: whatever the nodes lack, started at once. */
static void *spares_main(void *arg)
{
	(void)arg;
	int *want = xcalloc((size_t)sp.n_nodes, sizeof *want);
	bool warned = false;
	pthread_mutex_lock(&sp.mu);
	while (!sp.stop) {
		int total = 0;
		for (int i = 0; i < sp.n_nodes; i++)
			total += want[i] = sp.target - sp.len[i];
		if (total == 0) {
			pthread_cond_wait(&sp.cv, &sp.mu);
			continue;
		}
		pthread_mutex_unlock(&sp.mu);
		char err[400];
		int failed = spares_fill(want, err, sizeof err);
		pthread_mutex_lock(&sp.mu);
		if (failed) {
			if (!warned)
				log_warn("adapter: cannot start a spare: %s", err);
			warned = true;
			/* A broken adapter is retried once a second, not in a loop. */
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			if (!sp.stop)
				pthread_cond_timedwait(&sp.cv, &sp.mu, &until);
		}
	}
	pthread_mutex_unlock(&sp.mu);
	free(want);
	return NULL;
}

static void spares_stop(void)
{
	pthread_mutex_lock(&sp.mu);
	bool was = sp.active;
	sp.stop = true;
	pthread_cond_broadcast(&sp.cv);
	pthread_mutex_unlock(&sp.mu);
	if (was)
		pthread_join(sp.thread, NULL);
	if (!sp.q)
		return;
	/* EOF to all first: their grace periods to exit run at once. */
	for (int i = 0; i < sp.n_nodes; i++)
		for (int k = 0; k < sp.len[i]; k++)
			close_fd(&sp.q[i][k]->in);
	for (int i = 0; i < sp.n_nodes; i++) {
		for (int k = 0; k < sp.len[i]; k++)
			adapter_free(sp.q[i][k]);
		free(sp.q[i]);
	}
	free(sp.q);
	free(sp.len);
	sp.q = NULL;
	sp.len = NULL;
	sp.active = false;
}

/* Fill every node's spares (all started at once), so the workers start
 * with theirs, then keep them topped up. */
static void spares_start(const struct test *t)
{
	spares_stop();
	int per = workers_per_node(t);
	sp.t = t;
	sp.n_nodes = t->n_nodes;
	/* All of a node's workers may lose their process at once (their ops
	 * time out together when the node is cut off). */
	sp.target = per < 1 ? 1 : per > 8 ? 8 : per;
	sp.q = xcalloc((size_t)sp.n_nodes, sizeof *sp.q);
	sp.len = xcalloc((size_t)sp.n_nodes, sizeof *sp.len);
	int *want = xcalloc((size_t)sp.n_nodes, sizeof *want);
	for (int i = 0; i < sp.n_nodes; i++) {
		sp.q[i] = xcalloc((size_t)sp.target, sizeof **sp.q);
		want[i] = sp.target;
	}
	sp.stop = false;
	char err[400];
	if (spares_fill(want, err, sizeof err))
		log_debug("adapter: spares: %s", err);
	free(want);
	sp.active = pthread_create(&sp.thread, NULL, spares_main, NULL) == 0;
	if (!sp.active)
		spares_stop();
}

/* A ready adapter for node, or NULL. */
static struct adapter *spares_take(const struct test *t, int node)
{
	struct adapter *a = NULL;
	pthread_mutex_lock(&sp.mu);
	while (sp.active && sp.t == t && node < sp.n_nodes && sp.len[node] > 0 && !a) {
		a = sp.q[node][--sp.len[node]];
		char why[300];
		/* One that died or spoke while it waited is no use. */
		if (adapter_unsolicited(a, why, sizeof why)) {
			log_debug("%s: spare dropped: %s", a->label, why);
			a->dead = true;
			pthread_mutex_unlock(&sp.mu);
			adapter_free(a);
			pthread_mutex_lock(&sp.mu);
			a = NULL;
		}
	}
	if (sp.active)
		pthread_cond_signal(&sp.cv);
	pthread_mutex_unlock(&sp.mu);
	return a;
}

/* ---------------- client_ops ---------------- */

/* The runner opens one client per worker process, so one adapter per
 * process; open() is not told the process number: every request carries
 * it. */
static void *adapter_open(const struct test *t, int node, char *err, size_t errlen)
{
	struct adapter *a = spares_take(t, node);
	return a ? a : adapter_start(t, node, false, err, errlen);
}

static void set_error(struct op *out, const char *why)
{
	free(out->error);
	out->error = xstrdup(why);
}

static void adapter_invoke(void *client, const struct op *inv, struct op *out)
{
	struct adapter *a = client;
	out->type = OP_INFO;
	if (a->dead) {
		char e[400];
		snprintf(e, sizeof e, "adapter unusable after: %s", a->dead_why);
		set_error(out, e);
		return;
	}
	json_t *req = json_pack("{s:s, s:s, s:O}", "type", "invoke", "f", inv->f ? inv->f : "",
				"value", inv->value ? inv->value : json_null());
	if (inv->process >= 0)
		json_object_set_new(req, "process", json_integer(inv->process));
	if (inv->key)
		json_object_set_new(req, "key", json_string(inv->key));
	json_t *reply;
	char why[300];
	int rc = adapter_roundtrip(a, req, now_ns() + (int64_t)(a->op_timeout * 1e9), &reply, why,
				   sizeof why);
	json_decref(req);
	if (rc < 0) {
		a->dead = true;
		snprintf(a->dead_why, sizeof a->dead_why, "%s", why);
		set_error(out, why);
		log_debug("%s: %s", a->label, why);
		return;
	}
	const char *type = json_string_value(json_object_get(reply, "type"));
	if (!strcmp(type, "ok"))
		out->type = OP_OK;
	else if (!strcmp(type, "fail"))
		out->type = OP_FAIL;
	else if (!strcmp(type, "info"))
		out->type = OP_INFO;
	else {
		snprintf(why, sizeof why, "adapter reply type \"%.40s\" is not ok, fail or info", type);
		a->dead = true;
		snprintf(a->dead_why, sizeof a->dead_why, "%s", why);
		set_error(out, why);
		json_decref(reply);
		return;
	}
	/* A fail or info completion says nothing new about the value: it keeps
	 * the invocation's, as the checkers expect. */
	json_t *v = json_object_get(reply, "value");
	if (v && out->type == OP_OK) {
		json_decref(out->value);
		out->value = json_incref(v);
	}
	json_t *e = json_object_get(reply, "error");
	if (json_is_string(e)) {
		set_error(out, json_string_value(e));
	} else if (e && !json_is_null(e)) {
		char *s = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
		set_error(out, s ? s : "error");
		free(s);
	}
	json_decref(reply);
}

static void adapter_close(void *client)
{
	if (client)
		adapter_free(client);
}

/* A hook (setup or teardown) in an adapter of its own, on the first node. */
static int adapter_hook(const struct test *t, const char *hook, char *err, size_t errlen)
{
	char e[400];
	struct adapter *a = adapter_start(t, 0, true, e, sizeof e);
	if (!a) {
		snprintf(err, errlen, "adapter %s: %s", hook, e);
		return -1;
	}
	double secs = client_num(t, "hook_timeout", ADAPTER_HOOK_TIMEOUT_DEFAULT);
	json_t *msg = json_pack("{s:s}", "type", hook);
	json_t *reply;
	char why[300];
	int rc = adapter_roundtrip(a, msg, now_ns() + (int64_t)(secs * 1e9), &reply, why, sizeof why);
	json_decref(msg);
	if (rc == 0) {
		const char *type = json_string_value(json_object_get(reply, "type"));
		if (strcmp(type, "ok")) {
			const char *re = json_string_value(json_object_get(reply, "error"));
			snprintf(why, sizeof why, "answered %.20s%s%.200s", type, re ? ": " : "",
				 re ? re : "");
			rc = -1;
		}
		json_decref(reply);
	} else {
		a->dead = true;
		if (!strncmp(why, "timeout", 7))
			snprintf(why, sizeof why, "timeout: no reply in %g s (client.hook_timeout)", secs);
	}
	if (rc < 0)
		snprintf(err, errlen, "adapter %s: %s", hook, why);
	adapter_free(a);
	return rc;
}

static int adapter_setup(const struct test *t, char *err, size_t errlen)
{
	if (adapter_hook(t, "setup", err, errlen) < 0)
		return -1;
	spares_start(t);
	return 0;
}

static int adapter_teardown(const struct test *t, char *err, size_t errlen)
{
	spares_stop();
	return adapter_hook(t, "teardown", err, errlen);
}

const struct client_ops adapter_client_ops = {
	.name = "adapter",
	.setup = adapter_setup,
	.teardown = adapter_teardown,
	.open = adapter_open,
	.invoke = adapter_invoke,
	.close = adapter_close,
};
