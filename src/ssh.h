/*
 * ssh.h - the SSH control layer (libssh). Everything faultline does to a node
 * goes through here, for local-cluster nodes and remote hosts alike.
 *
 * One persistent session per node, reused for every command and
 * re-established when it drops. A node's commands are serialised by a lock
 * in its struct ssh_node, so any thread may call ssh_exec; ssh_exec_all runs
 * one command on many nodes in parallel. Host keys are checked strictly
 * against the known_hosts file unless accept_new is set. Commands run under
 * sudo when the user is not root (password from the options, never logged).
 */
#ifndef FAULTLINE_SSH_H
#define FAULTLINE_SSH_H

#include <stdbool.h>
#include <stddef.h>

struct ssh_opts {
	const char *user;          /* default "root" */
	const char *private_key;   /* path; NULL = libssh defaults / agent */
	const char *known_hosts;   /* path; NULL = ~/.ssh/known_hosts */
	bool accept_new;           /* trust on first use and record */
	const char *sudo_password; /* NULL = passwordless sudo (or root) */
	int port;                  /* default 22 */
	int connect_timeout_ms;    /* default 5000 */
	const char *bind_device;   /* NULL, or the interface every connection is bound to
				    * (a local cluster's bridge: see net.h) */
};

struct ssh_result {
	int status;     /* exit status; -1 if the command did not complete */
	char *out;      /* stdout (NUL-terminated, never NULL after exec) */
	char *err;      /* stderr */
	bool timed_out;
};

struct ssh_node;

/* name is what errors call the node ("n3"); host is what we connect to. */
struct ssh_node *ssh_node_new(const char *name, const char *host,
			      const struct ssh_opts *opts);
void ssh_node_free(struct ssh_node *n);
const char *ssh_node_name(const struct ssh_node *n);
const char *ssh_node_host(const struct ssh_node *n);

/* Connect and authenticate now (otherwise the first exec does). Errors name
 * the node and the cause: connection refused, timeout, authentication
 * failed, host key mismatch, unknown host key. Returns 0 or -1.
 * (Not "ssh_connect": libssh already exports that name.) */
int ssh_node_connect(struct ssh_node *n, char *err, size_t errlen);
/* Connect every node in parallel; err receives the first failure. */
int ssh_connect_all(struct ssh_node **nodes, int n, char *err, size_t errlen);

/* Run a shell command (as root through sudo when needed). Returns 0 when
 * the command ran (see r->status), -1 on a transport error or a timeout
 * (r->status -1; r->timed_out tells which; r->err ends with a line naming
 * the node and the cause). timeout_ms <= 0 means 60 s. The command is
 * POSIX sh, run in a subshell of one long-lived remote sh per node (so $$
 * names that shell, not the command); its stdin is /dev/null. After a
 * timeout the command may still run on the node. */
int ssh_exec(struct ssh_node *n, const char *cmd, int timeout_ms,
	     struct ssh_result *r);
/* Same command on every node in parallel; rs has n entries. Returns 0 if
 * every transport succeeded. */
int ssh_exec_all(struct ssh_node **nodes, int n, const char *cmd,
		 int timeout_ms, struct ssh_result *rs);
void ssh_result_free(struct ssh_result *r);

/* SFTP file transfer. mode is the remote file's permission bits. */
int ssh_upload(struct ssh_node *n, const char *local, const char *remote,
	       int mode, char *err, size_t errlen);
int ssh_download(struct ssh_node *n, const char *remote, const char *local,
		 char *err, size_t errlen);

/* Start every node's remote shell now (running `true`), so a wrong sudo
 * password or a user who may not sudo is found while connecting, before
 * anything is applied to any node. */
int ssh_shells_ready(struct ssh_node **nodes, int n, char *err, size_t errlen);
/* Free n nodes and the array (NULL entries allowed). */
void ssh_nodes_free(struct ssh_node **nodes, int n);

#endif
