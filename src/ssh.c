/*
 * ssh.c - the SSH control layer on libssh: one persistent, authenticated
 * session per node, reused for every command, file transfer and thread.
 *
 * Every node has a mutex; a command holds it for its whole life, so
 * commands to one node are serialised while different nodes run in parallel
 * (ssh_exec_all). Commands go to one long-lived remote sh per node (see the
 * exec section): a command then costs a round trip and a fork, not a
 * channel, an sshd fork and a login shell. The TCP
 * connection is made here rather than by libssh so that errors can say
 * exactly what went wrong ("connection refused", "timeout") from errno
 * instead of parsing library messages. Host keys are checked strictly against
 * one known_hosts file (the system-wide files are ignored so they can never
 * vouch for a node); only accept_new records unknown keys. A dropped session
 * is re-established transparently, and a command whose channel could not
 * even be opened is retried once on the new session: it cannot have run.
 * Non-root users run commands through sudo, with the password fed on stdin
 * and registered as a log secret so it never appears in a log line.
 */
#include "ssh.h"

#include "net.h"
#include "par.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define SSH_DEFAULT_CONNECT_MS 5000
#define SSH_DEFAULT_EXEC_MS 60000
#define SSH_IO_CHUNK 32768

struct ssh_node {
	char *name, *host;
	char *user, *private_key, *known_hosts, *sudo_password;
	char *bind_device;    /* NULL, or the local cluster's bridge */
	bool accept_new;
	int port, connect_timeout_ms;
	pthread_mutex_t lock; /* serialises everything on session */
	ssh_session session;  /* NULL while not connected */
	/* The long-lived remote shell commands are written to (see exec). */
	ssh_channel shell;
	struct ssh_channel_callbacks_struct sh_cb;
	struct buf sh_out, sh_err;
	bool sh_closed;
	int sh_status;
	long sh_pid; /* the remote shell's pid */
	char nonce[40];
	char prefix[300];     /* "n2 (10.0.0.5:22)" for error messages */
};

/* Appending to one known_hosts file from parallel connects must not tear lines. */
static pthread_mutex_t known_hosts_lock = PTHREAD_MUTEX_INITIALIZER;

static bool is_root_user(const struct ssh_node *n)
{
	return strcmp(n->user, "root") == 0;
}

static char *default_known_hosts(void)
{
	const char *home = getenv("HOME");
	return xasprintf("%s/.ssh/known_hosts", home && *home ? home : "/root");
}

struct ssh_node *ssh_node_new(const char *name, const char *host,
			      const struct ssh_opts *o)
{
	struct ssh_node *n = xcalloc(1, sizeof *n);
	n->name = xstrdup(name);
	n->host = xstrdup(host);
	n->user = xstrdup(o && o->user && *o->user ? o->user : "root");
	n->private_key = o && o->private_key && *o->private_key ? xstrdup(o->private_key) : NULL;
	n->known_hosts = o && o->known_hosts && *o->known_hosts ? xstrdup(o->known_hosts)
							       : default_known_hosts();
	n->sudo_password = o && o->sudo_password ? xstrdup(o->sudo_password) : NULL;
	n->accept_new = o && o->accept_new;
	n->bind_device = o && o->bind_device && *o->bind_device ? xstrdup(o->bind_device) : NULL;
	n->port = o && o->port > 0 ? o->port : 22;
	n->connect_timeout_ms = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms
								: SSH_DEFAULT_CONNECT_MS;
	if (n->sudo_password)
		log_add_secret(n->sudo_password);
	pthread_mutex_init(&n->lock, NULL);
	buf_init(&n->sh_out);
	buf_init(&n->sh_err);
	if (strchr(host, ':'))
		snprintf(n->prefix, sizeof n->prefix, "%s ([%s]:%d)", name, host, n->port);
	else
		snprintf(n->prefix, sizeof n->prefix, "%s (%s:%d)", name, host, n->port);
	return n;
}

static void shell_close(struct ssh_node *n);

static void node_drop_session(struct ssh_node *n)
{
	shell_close(n);
	if (!n->session)
		return;
	ssh_disconnect(n->session);
	ssh_free(n->session);
	n->session = NULL;
}

void ssh_node_free(struct ssh_node *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	node_drop_session(n);
	pthread_mutex_unlock(&n->lock);
	pthread_mutex_destroy(&n->lock);
	buf_free(&n->sh_out);
	buf_free(&n->sh_err);
	if (n->sudo_password)
		memset(n->sudo_password, 0, strlen(n->sudo_password));
	free(n->sudo_password);
	free(n->name);
	free(n->host);
	free(n->user);
	free(n->private_key);
	free(n->known_hosts);
	free(n->bind_device);
	free(n);
}

const char *ssh_node_name(const struct ssh_node *n) { return n->name; }
const char *ssh_node_host(const struct ssh_node *n) { return n->host; }

static void node_err(const struct ssh_node *n, char *err, size_t errlen,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void node_err(const struct ssh_node *n, char *err, size_t errlen,
		     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", n->prefix, msg);
}

/* Our own TCP connect (net.c), so that failures keep their errno and a
 * local cluster's connections stay on its bridge. Returns fd or -1. */
static int tcp_connect(struct ssh_node *n, char *err, size_t errlen)
{
	int e = 0;
	char why[200];
	int fd = net_tcp_connect(n->host, n->port, n->bind_device, n->connect_timeout_ms, &e, why,
				 sizeof why);
	if (fd < 0)
		node_err(n, err, errlen, "%s", why[0] ? why : net_errno_text(e));
	return fd;
}

static int session_configure(struct ssh_node *n, ssh_session s)
{
	long timeout_s = (n->connect_timeout_ms + 999) / 1000;
	long timeout_us = 0;
	int verbosity = SSH_LOG_NOLOG;
	int no = 0;
	int rc = 0;
	rc |= ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	/* Never read ~/.ssh/config or /etc/ssh/ssh_config: the test's
	 * options are the whole truth about how to reach a node. */
	rc |= ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	rc |= ssh_options_set(s, SSH_OPTIONS_HOST, n->host);
	rc |= ssh_options_set(s, SSH_OPTIONS_PORT, &n->port);
	rc |= ssh_options_set(s, SSH_OPTIONS_USER, n->user);
	rc |= ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, n->known_hosts);
	/* The system-wide file must not vouch for a node. */
	rc |= ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	rc |= ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout_s);
	rc |= ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &timeout_us);
	rc |= ssh_options_set(s, SSH_OPTIONS_PASSWORD_AUTH, &no);
	rc |= ssh_options_set(s, SSH_OPTIONS_KBDINT_AUTH, &no);
	rc |= ssh_options_set(s, SSH_OPTIONS_GSSAPI_AUTH, &no);
	return rc ? -1 : 0;
}

static int session_check_host_key(struct ssh_node *n, ssh_session s, char *err,
				  size_t errlen)
{
	enum ssh_known_hosts_e k = ssh_session_is_known_server(s);
	switch (k) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		node_err(n, err, errlen, "host key mismatch (known_hosts %s)", n->known_hosts);
		return -1;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		break;
	default:
		node_err(n, err, errlen, "cannot check host key against %s: %s",
			 n->known_hosts, ssh_get_error(s));
		return -1;
	}
	if (!n->accept_new) {
		node_err(n, err, errlen, "unknown host key (not in %s; use --ssh-accept-new)",
			 n->known_hosts);
		return -1;
	}
	char *dir = xstrdup(n->known_hosts);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir_p(dir, 0700);
	}
	free(dir);
	pthread_mutex_lock(&known_hosts_lock);
	int rc = ssh_session_update_known_hosts(s);
	pthread_mutex_unlock(&known_hosts_lock);
	if (rc != SSH_OK) {
		node_err(n, err, errlen, "cannot record host key in %s: %s", n->known_hosts,
			 ssh_get_error(s));
		return -1;
	}
	log_info("%s: recorded new host key in %s", n->prefix, n->known_hosts);
	return 0;
}

static int session_authenticate(struct ssh_node *n, ssh_session s, char *err,
				size_t errlen)
{
	int rc;
	if (n->private_key) {
		/* An explicit key is the only credential tried: no agent, no
		 * ~/.ssh/id_* probing that could log in as someone else. */
		ssh_key key = NULL;
		if (ssh_pki_import_privkey_file(n->private_key, NULL, NULL, NULL, &key) != SSH_OK) {
			node_err(n, err, errlen, "cannot read private key %s", n->private_key);
			return -1;
		}
		rc = ssh_userauth_publickey(s, NULL, key);
		ssh_key_free(key);
		if (rc != SSH_AUTH_SUCCESS) {
			node_err(n, err, errlen, "authentication failed (key %s)", n->private_key);
			return -1;
		}
		return 0;
	}
	rc = ssh_userauth_publickey_auto(s, NULL, NULL);
	if (rc != SSH_AUTH_SUCCESS) {
		node_err(n, err, errlen, "authentication failed (ssh-agent and default keys)");
		return -1;
	}
	return 0;
}

static bool error_is_timeout(const char *msg)
{
	return strcasestr(msg, "timeout") || strcasestr(msg, "timed out");
}

/* Establish n->session; caller holds n->lock. */
static int node_connect_locked(struct ssh_node *n, char *err, size_t errlen)
{
	node_drop_session(n);
	int fd = tcp_connect(n, err, errlen);
	if (fd < 0)
		return -1;
	ssh_session s = ssh_new();
	if (!s) {
		close(fd);
		node_err(n, err, errlen, "cannot create ssh session");
		return -1;
	}
	if (session_configure(n, s) < 0) {
		node_err(n, err, errlen, "cannot set ssh options: %s", ssh_get_error(s));
		ssh_free(s);
		close(fd);
		return -1;
	}
	/* From here libssh owns fd and closes it in ssh_disconnect/ssh_free. */
	ssh_options_set(s, SSH_OPTIONS_FD, &fd);
	if (ssh_connect(s) != SSH_OK) {
		const char *m = ssh_get_error(s);
		if (error_is_timeout(m))
			node_err(n, err, errlen, "timeout");
		else
			node_err(n, err, errlen, "ssh handshake failed: %s", m);
		ssh_free(s);
		return -1;
	}
	if (session_check_host_key(n, s, err, errlen) < 0 ||
	    session_authenticate(n, s, err, errlen) < 0) {
		ssh_disconnect(s);
		ssh_free(s);
		return -1;
	}
	n->session = s;
	return 0;
}

int ssh_node_connect(struct ssh_node *n, char *err, size_t errlen)
{
	pthread_mutex_lock(&n->lock);
	int rc = n->session && ssh_is_connected(n->session) ? 0
							      : node_connect_locked(n, err, errlen);
	pthread_mutex_unlock(&n->lock);
	return rc;
}

/* ---- running things on many nodes in threads ---- */

static int par_connect(void *ctx, int i, char *err, size_t errlen)
{
	struct ssh_node **nodes = ctx;
	return ssh_node_connect(nodes[i], err, errlen);
}

int ssh_connect_all(struct ssh_node **nodes, int n, char *err, size_t errlen)
{
	return par_each(n, NULL, par_connect, nodes, err, errlen) ? -1 : 0;
}

/* ---- exec: one long-lived remote shell per node ----
 *
 * Starting a command the classic way (a channel, sshd forking, the login
 * shell starting) costs more than most commands we send. So each node gets
 * one remote POSIX sh on one channel, and commands are written to its stdin:
 *
 *   ( eval 'CMD' ) </dev/null; printf '\nNONCE %d\n' "$?"; printf '\nNONCE\n' >&2
 *
 * eval inside a subshell keeps each command's exit, cd, variables, set
 * options and syntax errors to itself, and quoting CMD with sh_quote means
 * no command can unbalance the stream. The command's stdin is /dev/null, so
 * it can never read the following commands (or a sudo password). NONCE is
 * random per shell; the lines carrying it end each stream and carry the
 * status. One difference from a fresh process per command: $$ names the
 * long-lived shell. For a non-root user the shell itself runs under sudo,
 * whose prompt (a nonce too) is answered with the password only when it
 * appears, so a password can never be fed to the shell as a command.
 */

static void shell_on_close(ssh_session s, ssh_channel ch, void *userdata)
{
	(void)s;
	(void)ch;
	((struct ssh_node *)userdata)->sh_closed = true;
}

static int shell_on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len,
			 int is_stderr, void *userdata)
{
	(void)s;
	(void)ch;
	struct ssh_node *n = userdata;
	buf_append(is_stderr ? &n->sh_err : &n->sh_out, data, len);
	return (int)len;
}

static void shell_on_exit_status(ssh_session s, ssh_channel ch, int status, void *userdata)
{
	(void)s;
	(void)ch;
	((struct ssh_node *)userdata)->sh_status = status;
}

static int signal_number(const char *name)
{
	for (int sig = 1; sig < NSIG; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev && strcmp(abbrev, name) == 0)
			return sig;
	}
	return 0;
}

/* A shell killed by a signal reports 128+signo, as a shell would. */
static void shell_on_exit_signal(ssh_session s, ssh_channel ch, const char *signal, int core,
				 const char *errmsg, const char *lang, void *userdata)
{
	(void)s;
	(void)ch;
	(void)core;
	(void)errmsg;
	(void)lang;
	int sig = signal ? signal_number(signal) : 0;
	((struct ssh_node *)userdata)->sh_status = 128 + (sig ? sig : 0x7f);
}

static void shell_buffers_reset(struct ssh_node *n)
{
	n->sh_out.len = n->sh_err.len = 0;
	if (n->sh_out.data)
		n->sh_out.data[0] = 0;
	if (n->sh_err.data)
		n->sh_err.data[0] = 0;
}

static void shell_close(struct ssh_node *n)
{
	if (!n->shell)
		return;
	ssh_remove_channel_callbacks(n->shell, &n->sh_cb);
	if (n->session && ssh_is_connected(n->session) && !ssh_channel_is_closed(n->shell))
		ssh_channel_close(n->shell);
	ssh_channel_free(n->shell);
	n->shell = NULL;
	shell_buffers_reset(n);
}

static void node_new_nonce(struct ssh_node *n)
{
	unsigned char raw[16];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		/* Uniqueness, not secrecy, is what matters here. */
		uint64_t t = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)n;
		memcpy(raw, &t, sizeof t);
		memcpy(raw + 8, &t, sizeof t);
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(n->nonce + 2 * i, 3, "%02x", raw[i]);
	memcpy(n->nonce, "fl", 2); /* starts with letters: never read as a number */
}

/* Process whatever has arrived, waiting at most wait_ms. false when the
 * transport failed. */
static bool shell_pump(struct ssh_node *n, int wait_ms)
{
	ssh_event ev = ssh_event_new();
	if (!ev)
		return false;
	ssh_event_add_session(ev, n->session);
	int rc = ssh_event_dopoll(ev, wait_ms);
	ssh_event_remove_session(ev, n->session);
	ssh_event_free(ev);
	return rc != SSH_ERROR && ssh_is_connected(n->session);
}

static bool buf_has(const struct buf *b, const char *s)
{
	return b->len && memmem(b->data, b->len, s, strlen(s)) != NULL;
}

enum exec_outcome { EXEC_DONE, EXEC_TIMEOUT, EXEC_NOT_STARTED, EXEC_LOST, EXEC_SHELL_REFUSED };

static int shell_write(struct ssh_node *n, const char *s, size_t len)
{
	return ssh_channel_write(n->shell, s, (uint32_t)len) == (int)len ? 0 : -1;
}

/* Wait for the shell's ready line, answering sudo's prompt once. */
static enum exec_outcome shell_wait_ready(struct ssh_node *n, const char *ready,
					  const char *prompt, char *why, size_t whylen)
{
	int64_t deadline = now_ns() + (int64_t)n->connect_timeout_ms * 1000000 + 10000000000LL;
	bool answered = false;
	while (!buf_has(&n->sh_out, ready) || !memchr(n->sh_out.data, '\n', n->sh_out.len)) {
		if (n->sh_closed) {
			snprintf(why, whylen, "%s", n->sh_err.len ? n->sh_err.data : "remote shell exited\n");
			return EXEC_SHELL_REFUSED;
		}
		if (prompt && buf_has(&n->sh_err, prompt)) {
			if (answered) {
				snprintf(why, whylen, "sudo: incorrect password for user %s\n", n->user);
				return EXEC_SHELL_REFUSED;
			}
			shell_buffers_reset(n);
			size_t pl = strlen(n->sudo_password);
			char *line = xasprintf("%s\n", n->sudo_password);
			int rc = shell_write(n, line, pl + 1);
			memset(line, 0, pl + 1);
			free(line);
			if (rc < 0)
				return EXEC_NOT_STARTED;
			answered = true;
		}
		int64_t left = (deadline - now_ns()) / 1000000;
		if (left <= 0) {
			snprintf(why, whylen, "timeout starting the remote shell");
			return EXEC_NOT_STARTED;
		}
		if (!shell_pump(n, (int)(left > 1000 ? 1000 : left)))
			return EXEC_NOT_STARTED;
	}
	return EXEC_DONE;
}

/* Open the node's shell channel; caller holds n->lock and a session. */
static enum exec_outcome shell_open(struct ssh_node *n, char *why, size_t whylen)
{
	shell_close(n);
	node_new_nonce(n);
	n->sh_closed = false;
	n->sh_status = -1;
	ssh_channel ch = ssh_channel_new(n->session);
	if (!ch || ssh_channel_open_session(ch) != SSH_OK) {
		snprintf(why, whylen, "cannot open channel: %s", ssh_get_error(n->session));
		if (ch)
			ssh_channel_free(ch);
		return EXEC_NOT_STARTED;
	}
	n->shell = ch;
	n->sh_cb = (struct ssh_channel_callbacks_struct){
		.userdata = n,
		.channel_data_function = shell_on_data,
		.channel_exit_status_function = shell_on_exit_status,
		.channel_exit_signal_function = shell_on_exit_signal,
		.channel_close_function = shell_on_close,
	};
	ssh_callbacks_init(&n->sh_cb);
	ssh_set_channel_callbacks(ch, &n->sh_cb);

	char *ready = xasprintf("%s-ready ", n->nonce);
	char *prompt = NULL;
	struct buf start, inner;
	buf_init(&start);
	buf_init(&inner);
	/* $$ survives the exec: it is the shell's pid, for killing a
	 * timed-out command's process tree. */
	buf_printf(&inner, "echo %s-ready $$; exec sh", n->nonce);
	if (is_root_user(n)) {
		buf_puts(&start, inner.data);
	} else if (n->sudo_password) {
		prompt = xasprintf("%s-password:", n->nonce);
		buf_puts(&start, "sudo -S -p ");
		buf_sh_quote(&start, prompt);
		buf_puts(&start, " sh -c ");
		buf_sh_quote(&start, inner.data);
	} else {
		buf_puts(&start, "sudo -n sh -c ");
		buf_sh_quote(&start, inner.data);
	}
	enum exec_outcome out;
	if (ssh_channel_request_exec(ch, start.data) != SSH_OK) {
		snprintf(why, whylen, "exec request failed: %s", ssh_get_error(n->session));
		out = EXEC_NOT_STARTED;
	} else {
		out = shell_wait_ready(n, ready, prompt, why, whylen);
	}
	buf_free(&start);
	buf_free(&inner);
	if (out == EXEC_DONE) {
		char *p = memmem(n->sh_out.data, n->sh_out.len, ready, strlen(ready));
		n->sh_pid = p ? atol(p + strlen(ready)) : 0;
	}
	free(ready);
	free(prompt);
	if (out != EXEC_DONE)
		shell_close(n);
	shell_buffers_reset(n);
	return out;
}

/* The end-of-command markers: "\nNONCE STATUS\n" on stdout, "\nNONCE\n" on
 * stderr. Returns true when both arrived; fills *status and the lengths of
 * the command's own output. */
static bool shell_markers(struct ssh_node *n, int *status, size_t *out_len, size_t *err_len)
{
	char mark[64];
	snprintf(mark, sizeof mark, "\n%s\n", n->nonce);
	if (!n->sh_err.len)
		return false;
	char *e = memmem(n->sh_err.data, n->sh_err.len, mark, strlen(mark));
	if (!e)
		return false;
	snprintf(mark, sizeof mark, "\n%s ", n->nonce);
	if (!n->sh_out.len)
		return false;
	char *o = memmem(n->sh_out.data, n->sh_out.len, mark, strlen(mark));
	if (!o)
		return false;
	char *num = o + strlen(mark);
	char *nl = memchr(num, '\n', (size_t)(n->sh_out.data + n->sh_out.len - num));
	if (!nl)
		return false;
	*status = atoi(num);
	*out_len = (size_t)(o - n->sh_out.data);
	*err_len = (size_t)(e - n->sh_err.data);
	return true;
}

static enum exec_outcome shell_run(struct ssh_node *n, const char *cmd, int timeout_ms,
				   struct ssh_result *r, char *why, size_t whylen)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	/* A session that died while idle shows up here (EOF pending), before
	 * the command is sent, so that case is retried transparently. */
	if (!shell_pump(n, 0) || n->sh_closed) {
		snprintf(why, whylen, "connection lost while idle");
		return EXEC_NOT_STARTED;
	}
	shell_buffers_reset(n);
	struct buf w;
	buf_init(&w);
	buf_puts(&w, "( eval ");
	buf_sh_quote(&w, cmd);
	buf_printf(&w, " ) </dev/null; printf '\\n%%s %%d\\n' %s \"$?\"; printf '\\n%%s\\n' %s >&2\n",
		   n->nonce, n->nonce);
	int wrc = shell_write(n, w.data, w.len);
	buf_free(&w);
	if (wrc < 0) {
		snprintf(why, whylen, "cannot write to channel: %s", ssh_get_error(n->session));
		return EXEC_NOT_STARTED;
	}
	size_t out_len = 0, err_len = 0;
	int status = -1;
	for (;;) {
		if (shell_markers(n, &status, &out_len, &err_len)) {
			r->status = status;
			r->out = xmalloc(out_len + 1);
			memcpy(r->out, n->sh_out.data, out_len);
			r->out[out_len] = 0;
			r->err = xmalloc(err_len + 1);
			memcpy(r->err, n->sh_err.data, err_len);
			r->err[err_len] = 0;
			shell_buffers_reset(n);
			return EXEC_DONE;
		}
		if (n->sh_closed) {
			/* The command ended the shell itself (kill $$) or
			 * something killed it: its status is all we know. */
			if (n->sh_status >= 0 && ssh_is_connected(n->session)) {
				r->status = n->sh_status;
				r->out = xstrdup(n->sh_out.len ? n->sh_out.data : "");
				r->err = xstrdup(n->sh_err.len ? n->sh_err.data : "");
				return EXEC_DONE;
			}
			snprintf(why, whylen, "remote shell exited");
			return EXEC_LOST;
		}
		int64_t left = (deadline - now_ns()) / 1000000;
		if (left <= 0) {
			snprintf(why, whylen, "command timed out after %d ms", timeout_ms);
			return EXEC_TIMEOUT;
		}
		/* A connection bound to a bridge that is gone never answers:
		 * say so now rather than at the timeout. */
		if (n->bind_device && if_nametoindex(n->bind_device) == 0) {
			snprintf(why, whylen, "the local cluster's bridge %s is gone", n->bind_device);
			return EXEC_LOST;
		}
		if (!shell_pump(n, (int)(left > 1000 ? 1000 : left))) {
			snprintf(why, whylen, "connection lost: %s", ssh_get_error(n->session));
			return EXEC_LOST;
		}
	}
}

/* After a timeout: kill the old shell and everything below it, from a new
 * shell (the old one is busy). Processes that detached with setsid and were
 * re-parented (a database we started) are not below it and survive. SSH
 * signal requests cannot do this: OpenSSH refuses them for root sessions.
 * Best effort; caller holds n->lock. */
static void shell_kill_tree(struct ssh_node *n, long pid)
{
	char why[600] = "";
	if (shell_open(n, why, sizeof why) != EXEC_DONE) {
		log_warn("%s: cannot kill timed-out command: %s", n->prefix, why);
		shell_close(n);
		return;
	}
	char *cmd = xasprintf(
		"fl_kill() { kill -STOP \"$1\" 2>/dev/null;"
		" for c in $(ps -o pid= --ppid \"$1\" 2>/dev/null); do fl_kill \"$c\"; done;"
		" kill -KILL \"$1\" 2>/dev/null; }; fl_kill %ld; true", pid);
	struct ssh_result r = {0};
	enum exec_outcome out = shell_run(n, cmd, 5000, &r, why, sizeof why);
	if (out != EXEC_DONE) {
		log_warn("%s: cannot kill timed-out command: %s", n->prefix, why);
		shell_close(n);
	}
	free(cmd);
	ssh_result_free(&r);
}

int ssh_exec(struct ssh_node *n, const char *cmd, int timeout_ms, struct ssh_result *r)
{
	if (timeout_ms <= 0)
		timeout_ms = SSH_DEFAULT_EXEC_MS;
	memset(r, 0, sizeof *r);
	r->status = -1;
	char why[600] = "";
	enum exec_outcome out = EXEC_NOT_STARTED;

	log_debug("%s: exec %s", n->name, cmd);
	pthread_mutex_lock(&n->lock);
	for (int attempt = 0; attempt < 2 && out == EXEC_NOT_STARTED; attempt++) {
		bool fresh = attempt > 0 || !n->session || !ssh_is_connected(n->session);
		if (fresh && node_connect_locked(n, why, sizeof why) < 0)
			break;
		why[0] = 0;
		if (!n->shell || n->sh_closed)
			out = shell_open(n, why, sizeof why);
		else
			out = EXEC_DONE;
		if (out == EXEC_DONE)
			out = shell_run(n, cmd, timeout_ms, r, why, sizeof why);
	}
	struct buf err;
	buf_init(&err);
	if (out == EXEC_SHELL_REFUSED) {
		/* sudo said no: that is the command's failure, not the
		 * transport's, as if sudo had run the command itself. */
		r->status = n->sh_status > 0 ? n->sh_status : 1;
		buf_puts(&err, why);
		out = EXEC_DONE;
		shell_close(n);
	} else if (out != EXEC_DONE) {
		if (r->err)
			buf_puts(&err, r->err);
		if (err.len && err.data[err.len - 1] != '\n')
			buf_puts(&err, "\n");
		/* why already carries the node when it came from connect. */
		if (strncmp(why, n->prefix, strlen(n->prefix)) == 0)
			buf_puts(&err, why);
		else
			buf_printf(&err, "%s: %s", n->prefix, why);
		r->status = -1;
		r->timed_out = out == EXEC_TIMEOUT;
		/* The shell may still be busy with the command (timeout) or
		 * gone: the next command gets a fresh one, and after a
		 * timeout that new shell first kills the old one's tree. */
		long old_shell = out == EXEC_TIMEOUT ? n->sh_pid : 0;
		shell_close(n);
		if (old_shell > 0)
			shell_kill_tree(n, old_shell);
		if (out != EXEC_TIMEOUT)
			node_drop_session(n);
	} else if (r->err) {
		buf_puts(&err, r->err);
	}
	pthread_mutex_unlock(&n->lock);
	free(r->err);
	r->err = buf_steal(&err);
	if (!r->out)
		r->out = xstrdup("");
	buf_free(&err);
	return out == EXEC_DONE ? 0 : -1;
}

struct exec_all {
	struct ssh_node **nodes;
	const char *cmd;
	int timeout_ms;
	struct ssh_result *rs;
};

static int par_exec(void *ctx, int i, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	struct exec_all *x = ctx;
	return ssh_exec(x->nodes[i], x->cmd, x->timeout_ms, &x->rs[i]);
}

int ssh_exec_all(struct ssh_node **nodes, int n, const char *cmd, int timeout_ms,
		 struct ssh_result *rs)
{
	struct exec_all x = {nodes, cmd, timeout_ms, rs};
	return par_each(n, NULL, par_exec, &x, NULL, 0) ? -1 : 0;
}

void ssh_result_free(struct ssh_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* ---- SFTP ---- */

/* Open an SFTP subsystem on the node's session, reconnecting once if the
 * session turned out to be dead. Caller holds n->lock. */
static sftp_session sftp_open_session(struct ssh_node *n, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!n->session || !ssh_is_connected(n->session) || attempt > 0)
			if (node_connect_locked(n, err, errlen) < 0)
				return NULL;
		sftp_session sf = sftp_new(n->session);
		if (sf && sftp_init(sf) == SSH_OK)
			return sf;
		node_err(n, err, errlen, "cannot start sftp: %s", ssh_get_error(n->session));
		if (sf)
			sftp_free(sf);
		if (ssh_is_connected(n->session))
			return NULL; /* the server refused: retrying will not help */
	}
	return NULL;
}

static const char *sftp_error_text(sftp_session sf)
{
	switch (sftp_get_error(sf)) {
	case SSH_FX_NO_SUCH_FILE:
	case SSH_FX_NO_SUCH_PATH: return "no such file or directory";
	case SSH_FX_PERMISSION_DENIED: return "permission denied";
	case SSH_FX_CONNECTION_LOST:
	case SSH_FX_NO_CONNECTION: return "connection lost";
	default: return "sftp failure";
	}
}

static int upload_locked(struct ssh_node *n, sftp_session sf, int in, const char *remote,
			 int mode, char *err, size_t errlen)
{
	sftp_file f = sftp_open(sf, remote, O_WRONLY | O_CREAT | O_TRUNC, (mode_t)mode);
	if (!f) {
		node_err(n, err, errlen, "cannot create %s: %s", remote, sftp_error_text(sf));
		return -1;
	}
	char *chunk = xmalloc(SSH_IO_CHUNK);
	int rc = 0;
	for (;;) {
		ssize_t got = read(in, chunk, SSH_IO_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			node_err(n, err, errlen, "upload of %s: local read: %s", remote, strerror(errno));
			rc = -1;
			break;
		}
		if (got == 0)
			break;
		if (sftp_write(f, chunk, (size_t)got) != got) {
			node_err(n, err, errlen, "cannot write %s: %s", remote, sftp_error_text(sf));
			rc = -1;
			break;
		}
	}
	free(chunk);
	if (sftp_close(f) != SSH_OK && rc == 0) {
		node_err(n, err, errlen, "cannot close %s: %s", remote, sftp_error_text(sf));
		rc = -1;
	}
	/* open's mode only applies to new files; an existing one keeps its own. */
	if (rc == 0 && sftp_chmod(sf, remote, (mode_t)mode) != SSH_OK) {
		node_err(n, err, errlen, "cannot chmod %s: %s", remote, sftp_error_text(sf));
		rc = -1;
	}
	return rc;
}

int ssh_upload(struct ssh_node *n, const char *local, const char *remote, int mode,
	       char *err, size_t errlen)
{
	int in = open(local, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		node_err(n, err, errlen, "cannot read local %s: %s", local, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&n->lock);
	int rc = -1;
	sftp_session sf = sftp_open_session(n, err, errlen);
	if (sf) {
		rc = upload_locked(n, sf, in, remote, mode, err, errlen);
		sftp_free(sf);
	}
	pthread_mutex_unlock(&n->lock);
	close(in);
	return rc;
}

static int download_locked(struct ssh_node *n, sftp_session sf, const char *remote,
			   int out, char *err, size_t errlen)
{
	sftp_file f = sftp_open(sf, remote, O_RDONLY, 0);
	if (!f) {
		node_err(n, err, errlen, "cannot open %s: %s", remote, sftp_error_text(sf));
		return -1;
	}
	char *chunk = xmalloc(SSH_IO_CHUNK);
	int rc = 0;
	for (;;) {
		ssize_t got = sftp_read(f, chunk, SSH_IO_CHUNK);
		if (got < 0) {
			node_err(n, err, errlen, "cannot read %s: %s", remote, sftp_error_text(sf));
			rc = -1;
			break;
		}
		if (got == 0)
			break;
		for (ssize_t off = 0; off < got;) {
			ssize_t w = write(out, chunk + off, (size_t)(got - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				node_err(n, err, errlen, "download of %s: local write: %s", remote,
					 strerror(errno));
				rc = -1;
				break;
			}
			off += w;
		}
		if (rc)
			break;
	}
	free(chunk);
	sftp_close(f);
	return rc;
}

int ssh_download(struct ssh_node *n, const char *remote, const char *local, char *err,
		 size_t errlen)
{
	char *tmp = xasprintf("%s.part", local);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		node_err(n, err, errlen, "cannot write local %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	pthread_mutex_lock(&n->lock);
	int rc = -1;
	sftp_session sf = sftp_open_session(n, err, errlen);
	if (sf) {
		rc = download_locked(n, sf, remote, out, err, errlen);
		sftp_free(sf);
	}
	pthread_mutex_unlock(&n->lock);
	if (close(out) < 0 && rc == 0) {
		node_err(n, err, errlen, "cannot write local %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(tmp, local) < 0) {
		node_err(n, err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Start every node's shell now (running `true`), so that a wrong sudo
 * password or a user who may not sudo is found while connecting, before
 * anything is applied to any node. */
int ssh_shells_ready(struct ssh_node **nodes, int n, char *err, size_t errlen)
{
	struct ssh_result *rs = xcalloc((size_t)(n > 0 ? n : 1), sizeof *rs);
	ssh_exec_all(nodes, n, "true", 0, rs);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (rc == 0 && rs[i].status != 0) {
			const char *why = rs[i].err && *rs[i].err ? rs[i].err : "`true` failed";
			int len = (int)strcspn(why, "\n");
			snprintf(err, errlen, "%s: %.*s", nodes[i]->name, len, why);
			rc = -1;
		}
		ssh_result_free(&rs[i]);
	}
	free(rs);
	return rc;
}

void ssh_nodes_free(struct ssh_node **nodes, int n)
{
	if (!nodes)
		return;
	for (int i = 0; i < n; i++)
		ssh_node_free(nodes[i]);
	free(nodes);
}
