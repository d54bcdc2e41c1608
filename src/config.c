/*
 * config.c - builds the resolved test (config.h) from a JSON config file
 * (jansson) and command-line flags that override it, then validates it as a
 * whole before anything touches a node.
 *
 * One table describes every option once: its config key (snake_case), its
 * flag (Jepsen's names), its type and range. The JSON loader and the flag
 * parser both go through it, so a key and its flag can never disagree.
 * Every error names where it came from: "cfg.json: nodes[2].host: expected
 * a string", "--concurrency: expected N or Nn". Secrets are never accepted
 * from the config itself: the sudo password comes from an environment
 * variable named by sudo_password_env, and test->resolved (test.json)
 * carries only that variable's name.
 */
#include "config.h"
#include "adapter.h"
#include "checker.h"
#include "cluster.h"
#include "db.h"
#include "nemesis.h"
#include "util.h"
#include "workload.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

enum opt_kind { K_STR, K_BOOL, K_INT, K_DBL, K_MS, K_ENUM, K_SPECIAL };

struct opt {
	const char *key;   /* config key */
	const char *flag;  /* CLI flag without "--", or NULL */
	enum opt_kind kind;
	size_t off;        /* field in struct test (not for K_SPECIAL) */
	double min, max;
	const char *choices; /* K_ENUM: "a|b" */
	const char *help;
};

#define F(x) offsetof(struct test, x)

static const struct opt opts[] = {
	{"name", "name", K_STR, F(name), 0, 0, NULL, "test name (store/<name>/...)"},
	{"db", "db", K_STR, F(db), 0, 0, NULL, "database (see `faultline run --help`)"},
	{"workload", "workload", K_STR, F(workload), 0, 0, NULL, "workload (register)"},
	{"client", "client-exec", K_SPECIAL, 0, 0, 0, NULL,
	 "adapter client: \"PROGRAM ARG...\" (client.exec; none: the db's own client)"},
	{"db_opts", NULL, K_SPECIAL, 0, 0, 0, NULL, NULL},
	{"workload_opts", NULL, K_SPECIAL, 0, 0, 0, NULL, NULL},
	{"checker_opts", NULL, K_SPECIAL, 0, 0, 0, NULL, NULL},
	{"checkers", "checker", K_SPECIAL, 0, 0, 0, NULL, "checkers C1,C2 (default: the workload's)"},
	{"nodes", "nodes", K_SPECIAL, 0, 0, 0, NULL, "a,b,c or name=host[:port],..."},
	{"cluster", "cluster", K_STR, F(cluster), 0, 0, NULL, "local cluster name"},
	{"username", "username", K_STR, F(username), 0, 0, NULL, "SSH user (root)"},
	{"ssh_private_key", "ssh-private-key", K_STR, F(private_key), 0, 0, NULL, "SSH key file"},
	{"known_hosts", "known-hosts", K_STR, F(known_hosts), 0, 0, NULL, "known_hosts file"},
	{"ssh_accept_new", "ssh-accept-new", K_BOOL, F(ssh_accept_new), 0, 0, NULL,
	 "trust and record unknown host keys"},
	{"sudo_password_env", "sudo-password-env", K_STR, F(sudo_password_env), 0, 0, NULL,
	 "env variable holding the sudo password"},
	{"ssh_timeout", "ssh-timeout", K_MS, F(ssh_timeout_ms), 0.1, 600, NULL,
	 "SSH connect timeout, seconds"},
	{"concurrency", "concurrency", K_SPECIAL, 0, 0, 0, NULL, "workers: N or Nn (N per node)"},
	{"time_limit", "time-limit", K_DBL, F(time_limit), 0.001, 1e7, NULL, "seconds of workload"},
	{"rate", "rate", K_DBL, F(rate), 0, 1e9, NULL, "total ops/s (0: unlimited)"},
	{"seed", "seed", K_SPECIAL, 0, 0, 0, NULL, "rng seed (default: random, recorded)"},
	{"store", "store", K_STR, F(store), 0, 0, NULL, "store directory (./store)"},
	{"test_count", "test-count", K_INT, F(test_count), 1, 100000, NULL, "repeat the test N times"},
	{"recovery_time", "recovery-time", K_DBL, F(recovery_time), 0, 1e6, NULL,
	 "seconds without faults after heal"},
	{"op_timeout", "op-timeout", K_DBL, F(op_timeout), 0.001, 3600, NULL,
	 "seconds before an op completes as info"},
	{"leave_db_running", "leave-db-running", K_BOOL, F(leave_db_running), 0, 0, NULL,
	 "skip db teardown"},
	{"heal_first", "heal-first", K_BOOL, F(heal_first), 0, 0, NULL,
	 "heal faults an earlier run left instead of refusing to start"},
	{"read_mode", "read-mode", K_SPECIAL, 0, 0, 0, NULL,
	 "linearizable|serializable (db_opts.read_mode)"},
	{"isolation", "isolation", K_SPECIAL, 0, 0, 0, NULL,
	 "read-committed|repeatable-read|serializable (db_opts.isolation)"},
	{"fail_on", "fail-on", K_ENUM, F(fail_on), 0, 0, "unknown", "unknown: exit 1 on unknown"},
	{"nemesis", "nemesis", K_SPECIAL, 0, 0, 0, NULL, "faults: partition,kill,..."},
	{"nemesis_interval", "nemesis-interval", K_DBL, F(nemesis_interval), 0.01, 1e6, NULL,
	 "seconds between faults"},
	{"nemesis_opts", NULL, K_SPECIAL, 0, 0, 0, NULL, NULL},
	{"checker_timeout", "checker-timeout", K_DBL, F(checker_timeout), 0, 1e7, NULL,
	 "seconds (0: none)"},
	{"ops_per_key", "ops-per-key", K_INT, F(ops_per_key), 1, 10000000, NULL,
	 "ops per independent key (200)"},
	{"key_concurrency", "key-concurrency", K_INT, F(key_concurrency), 1, 1000, NULL,
	 "workers per key at once (5)"},
};

#define N_OPTS (sizeof opts / sizeof *opts)

static int fail(struct config_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct config_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	/* Messages quote the offending value: a newline or escape sequence in
	 * it must not break the one error line or drive the terminal. */
	for (char *p = err->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

#define FIELD(t, o, type) ((type *)((char *)(t) + (o)->off))

static void set_str(char **field, const char *v)
{
	free(*field);
	*field = xstrdup(v);
}

void test_init_defaults(struct test *t)
{
	memset(t, 0, sizeof *t);
	t->db = xstrdup("etcd");
	t->workload = xstrdup("register");
	t->username = xstrdup("root");
	t->ssh_timeout_ms = 5000;
	t->concurrency_per_node = 1;
	t->time_limit = 60;
	t->store = xstrdup("store");
	t->test_count = 1;
	t->recovery_time = 10;
	t->op_timeout = 5;
	t->db_opts = json_object();
	t->workload_opts = json_object();
	t->checker_opts = json_object();
	t->nemesis_interval = 10;
	t->ops_per_key = 200;
	t->key_concurrency = 5;
}

static void nodes_free(struct test *t)
{
	for (int i = 0; i < t->n_nodes; i++) {
		free(t->nodes[i].name);
		free(t->nodes[i].host);
		free(t->nodes[i].workdir);
	}
	free(t->nodes);
	t->nodes = NULL;
	t->n_nodes = 0;
}

static void nemesis_free(struct test *t)
{
	for (int i = 0; i < t->n_nemesis; i++)
		free(t->nemesis[i]);
	free(t->nemesis);
	t->nemesis = NULL;
	t->n_nemesis = 0;
}

void test_free(struct test *t)
{
	nodes_free(t);
	nemesis_free(t);
	free(t->name);
	free(t->db);
	free(t->workload);
	free(t->cluster);
	free(t->bind_device);
	free(t->username);
	free(t->private_key);
	free(t->known_hosts);
	if (t->sudo_password) {
		/* The secret does not outlive the test in freed heap memory. */
		explicit_bzero(t->sudo_password, strlen(t->sudo_password));
		free(t->sudo_password);
	}
	free(t->sudo_password_env);
	free(t->store);
	free(t->fail_on);
	for (int i = 0; i < t->n_checkers; i++)
		free(t->checkers[i]);
	free(t->checkers);
	json_decref(t->db_opts);
	json_decref(t->workload_opts);
	json_decref(t->checker_opts);
	if (t->client)
		json_decref(t->client);
	free(t->config_path);
	if (t->nemesis_opts)
		json_decref(t->nemesis_opts);
	if (t->resolved)
		json_decref(t->resolved);
	memset(t, 0, sizeof *t);
}

/* --- values --- */

/* Node names become directories (nodes/<name>/) and history values. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

static bool host_ok(const char *s)
{
	if (!*s || strlen(s) > 253 || *s == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:_[]", *p))
			return false;
	return true;
}

static bool path_ok(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20)
			return false;
	return true;
}

static int add_node(struct test *t, const char *name, const char *host, int port,
		    const char *workdir)
{
	t->nodes = xrealloc(t->nodes, (size_t)(t->n_nodes + 1) * sizeof *t->nodes);
	struct node *n = &t->nodes[t->n_nodes++];
	n->name = xstrdup(name);
	n->host = xstrdup(host);
	n->ssh_port = port;
	n->workdir = workdir ? xstrdup(workdir) : NULL;
	return 0;
}

/* "host", "host:port" or "name=host[:port]" (flag form and JSON strings). */
static int parse_node_spec(struct test *t, const char *spec, const char *where,
			   struct config_error *err)
{
	char *s = xstrdup(spec);
	char defname[16];
	snprintf(defname, sizeof defname, "n%d", t->n_nodes + 1);
	const char *name = defname;
	char *host = s;
	char *eq = strchr(s, '=');
	if (eq) {
		*eq = 0;
		name = s;
		host = eq + 1;
	}
	int port = 22;
	char *colon = strrchr(host, ':');
	/* One colon is host:port; more is a bare IPv6 address. */
	if (colon && colon == strchr(host, ':')) {
		long p;
		if (!parse_long(colon + 1, 1, 65535, &p)) {
			free(s);
			return fail(err, "%s: bad port in '%s'", where, spec);
		}
		port = (int)p;
		*colon = 0;
	}
	int r = 0;
	if (!name_ok(name))
		r = fail(err, "%s: bad node name '%s' (letters, digits, . _ -)", where, name);
	else if (!host_ok(host))
		r = fail(err, "%s: bad host '%s'", where, host);
	else
		add_node(t, name, host, port, NULL);
	free(s);
	return r;
}

static int parse_node_object(struct test *t, json_t *o, const char *where,
			     struct config_error *err)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (strcmp(k, "name") && strcmp(k, "host") && strcmp(k, "ssh_port") &&
		    strcmp(k, "workdir"))
			return fail(err, "%s: unknown key '%s' (name, host, ssh_port, workdir)",
				    where, k);
	}
	json_t *jname = json_object_get(o, "name"), *jhost = json_object_get(o, "host");
	json_t *jport = json_object_get(o, "ssh_port"), *jwd = json_object_get(o, "workdir");
	if (!jhost)
		return fail(err, "%s.host: missing", where);
	if (!json_is_string(jhost))
		return fail(err, "%s.host: expected a string", where);
	if (jname && !json_is_string(jname))
		return fail(err, "%s.name: expected a string", where);
	if (jport && !json_is_integer(jport))
		return fail(err, "%s.ssh_port: expected an integer", where);
	if (jwd && !json_is_string(jwd))
		return fail(err, "%s.workdir: expected a string", where);
	char defname[16];
	snprintf(defname, sizeof defname, "n%d", t->n_nodes + 1);
	const char *name = jname ? json_string_value(jname) : defname;
	const char *host = json_string_value(jhost);
	if (!name_ok(name))
		return fail(err, "%s.name: bad node name '%s' (letters, digits, . _ -)", where, name);
	if (!host_ok(host))
		return fail(err, "%s.host: bad host '%s'", where, host);
	json_int_t port = jport ? json_integer_value(jport) : 22;
	if (port < 1 || port > 65535)
		return fail(err, "%s.ssh_port: must be 1-65535", where);
	const char *wd = jwd ? json_string_value(jwd) : NULL;
	if (wd && (wd[0] != '/' || !path_ok(wd)))
		return fail(err, "%s.workdir: expected an absolute path", where);
	return add_node(t, name, host, (int)port, wd);
}

static int set_nodes_json(struct test *t, json_t *v, const char *src, struct config_error *err)
{
	if (!json_is_array(v))
		return fail(err, "%snodes: expected an array of hosts or node objects", src);
	if (json_array_size(v) == 0)
		return fail(err, "%snodes: empty", src);
	nodes_free(t);
	t->nodes_from_file = true;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		char where[400];
		snprintf(where, sizeof where, "%snodes[%zu]", src, i);
		int r;
		if (json_is_string(e))
			r = parse_node_spec(t, json_string_value(e), where, err);
		else if (json_is_object(e))
			r = parse_node_object(t, e, where, err);
		else
			r = fail(err, "%s: expected a host string or an object", where);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Split a comma list strictly: "a,,b", ",a" and "" are errors (an empty
 * item is always a typo), unlike strtok. Returns the item count, or -1
 * with err. items[] are pointers into the copy *buf (caller frees). */
static int split_list(const char *v, const char *where, char **buf, char ***items,
		      struct config_error *err)
{
	*buf = xstrdup(v);
	*items = NULL;
	int n = 0;
	for (char *p = *buf;; n++) {
		char *c = strchr(p, ',');
		if (c)
			*c = 0;
		if (!*p) {
			free(*items);
			free(*buf);
			*items = NULL;
			*buf = NULL;
			return fail(err, "%s: empty item in '%s'", where, v);
		}
		*items = xrealloc(*items, (size_t)(n + 1) * sizeof **items);
		(*items)[n] = p;
		if (!c)
			return n + 1;
		p = c + 1;
	}
}

static int set_nodes_flag(struct test *t, const char *v, struct config_error *err)
{
	nodes_free(t);
	t->nodes_from_file = false;
	char *buf, **items;
	int n = split_list(v, "--nodes", &buf, &items, err), r = 0;
	for (int i = 0; i < n && r == 0; i++) {
		char where[64];
		snprintf(where, sizeof where, "--nodes[%d]", i);
		r = parse_node_spec(t, items[i], where, err);
	}
	free(items);
	free(buf);
	return n < 0 ? -1 : r;
}

static int set_concurrency(struct test *t, const char *s, const char *where,
			   struct config_error *err)
{
	size_t n = strlen(s);
	long v;
	if (n > 1 && s[n - 1] == 'n') {
		char *num = xstrdup(s);
		num[n - 1] = 0;
		bool good = parse_long(num, 1, 10000, &v);
		free(num);
		if (!good)
			return fail(err, "%s: expected N or Nn (N workers per node), got '%s'", where, s);
		t->concurrency_per_node = (int)v;
		t->concurrency = 0;
		return 0;
	}
	if (!parse_long(s, 1, 100000, &v))
		return fail(err, "%s: expected N or Nn (N workers per node), got '%s'", where, s);
	t->concurrency = (int)v;
	t->concurrency_per_node = 0;
	return 0;
}

static int add_nemesis(struct test *t, const char *name, const char *where,
		       struct config_error *err)
{
	if (!name_ok(name))
		return fail(err, "%s: bad fault name '%s'", where, name);
	for (int i = 0; i < t->n_nemesis; i++)
		if (!strcmp(t->nemesis[i], name))
			return fail(err, "%s: fault '%s' given twice", where, name);
	t->nemesis = xrealloc(t->nemesis, (size_t)(t->n_nemesis + 1) * sizeof *t->nemesis);
	t->nemesis[t->n_nemesis++] = xstrdup(name);
	return 0;
}

static int set_nemesis_list(struct test *t, const char *v, const char *where,
			    struct config_error *err)
{
	nemesis_free(t);
	if (!strcmp(v, "none"))
		return 0;
	char *buf, **items;
	int n = split_list(v, where, &buf, &items, err), r = 0;
	for (int i = 0; i < n && r == 0; i++)
		r = add_nemesis(t, items[i], where, err);
	free(items);
	free(buf);
	return n < 0 ? -1 : r;
}

static int set_seed(struct test *t, const char *s, const char *where, struct config_error *err)
{
	long v;
	if (!parse_long(s, 0, INT64_MAX, &v))
		return fail(err, "%s: expected a non-negative integer, got '%s'", where, s);
	t->seed = (uint64_t)v;
	t->seed_given = true;
	return 0;
}

/* read_mode and isolation (flags and top-level keys) are db_opts.read_mode
 * and db_opts.isolation: the flag spells out a db option; the database
 * says in its check whether it takes it. */
static int set_db_opt(struct test *t, const char *key, const char *choices, const char *v,
		      const char *where, struct config_error *err)
{
	size_t n = strlen(v);
	for (const char *c = choices; *c;) {
		size_t cl = strcspn(c, "|");
		if (cl == n && !strncmp(c, v, n)) {
			json_object_set_new(t->db_opts, key, json_string(v));
			return 0;
		}
		c += cl + (c[cl] == '|');
	}
	return fail(err, "%s: expected one of %s, got '%s'", where, choices, v);
}

static int set_read_mode(struct test *t, const char *v, const char *where, struct config_error *err)
{
	return set_db_opt(t, "read_mode", "linearizable|serializable", v, where, err);
}

static int set_isolation(struct test *t, const char *v, const char *where, struct config_error *err)
{
	return set_db_opt(t, "isolation", "read-committed|repeatable-read|serializable", v, where,
			  err);
}

/* --client-exec "PROGRAM ARG...": split on blanks, never through a shell
 * (the config's client.exec array takes arguments with blanks); "none"
 * drops a config's adapter, so the db's own client runs. */
static int set_client_exec(struct test *t, const char *v, const char *where,
			   struct config_error *err)
{
	if (!strcmp(v, "none")) {
		if (t->client)
			json_decref(t->client);
		t->client = NULL;
		return 0;
	}
	json_t *argv = adapter_split_command(v);
	if (json_array_size(argv) == 0) {
		json_decref(argv);
		return fail(err, "%s: expected a program and its arguments", where);
	}
	if (!t->client)
		t->client = json_object();
	json_object_set_new(t->client, "exec", argv);
	return 0;
}

static void checkers_free(struct test *t)
{
	for (int i = 0; i < t->n_checkers; i++)
		free(t->checkers[i]);
	free(t->checkers);
	t->checkers = NULL;
	t->n_checkers = 0;
}

static int add_checker(struct test *t, const char *name, const char *where,
		       struct config_error *err)
{
	if (!checker_find(name))
		return fail(err, "%s: unknown checker '%s' (known: %s)", where, name, checker_names());
	for (int i = 0; i < t->n_checkers; i++)
		if (!strcmp(t->checkers[i], name))
			return fail(err, "%s: checker '%s' given twice", where, name);
	t->checkers = xrealloc(t->checkers, (size_t)(t->n_checkers + 1) * sizeof *t->checkers);
	t->checkers[t->n_checkers++] = xstrdup(name);
	return 0;
}

static int set_checkers_list(struct test *t, const char *v, const char *where,
			     struct config_error *err)
{
	checkers_free(t);
	char *buf, **items;
	int n = split_list(v, where, &buf, &items, err), r = 0;
	for (int i = 0; i < n && r == 0; i++)
		r = add_checker(t, items[i], where, err);
	free(items);
	free(buf);
	return n < 0 ? -1 : r;
}

/* Apply one option from a string (flag) value. */
static int opt_from_string(struct test *t, const struct opt *o, const char *v,
			   const char *where, struct config_error *err)
{
	long l;
	double d;
	switch (o->kind) {
	case K_STR:
		if (!path_ok(v))
			return fail(err, "%s: expected a non-empty string", where);
		set_str(FIELD(t, o, char *), v);
		return 0;
	case K_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "1"))
			*FIELD(t, o, bool) = true;
		else if (!strcmp(v, "false") || !strcmp(v, "0"))
			*FIELD(t, o, bool) = false;
		else
			return fail(err, "%s: expected true or false, got '%s'", where, v);
		return 0;
	case K_INT:
		if (!parse_long(v, (long)o->min, (long)o->max, &l))
			return fail(err, "%s: expected an integer in %.0f..%.0f, got '%s'", where,
				    o->min, o->max, v);
		*FIELD(t, o, int) = (int)l;
		return 0;
	case K_DBL:
	case K_MS:
		if (!parse_double(v, o->min, o->max, &d))
			return fail(err, "%s: expected a number in %g..%g, got '%s'", where,
				    o->min, o->max, v);
		if (o->kind == K_MS)
			*FIELD(t, o, int) = (int)(d * 1000);
		else
			*FIELD(t, o, double) = d;
		return 0;
	case K_ENUM: {
		size_t n = strlen(v);
		for (const char *c = o->choices; *c;) {
			size_t cl = strcspn(c, "|");
			if (cl == n && !strncmp(c, v, n)) {
				set_str(FIELD(t, o, char *), v);
				return 0;
			}
			c += cl + (c[cl] == '|');
		}
		return fail(err, "%s: expected one of %s, got '%s'", where, o->choices, v);
	}
	case K_SPECIAL:
		if (!strcmp(o->key, "nodes"))
			return set_nodes_flag(t, v, err);
		if (!strcmp(o->key, "concurrency"))
			return set_concurrency(t, v, where, err);
		if (!strcmp(o->key, "nemesis"))
			return set_nemesis_list(t, v, where, err);
		if (!strcmp(o->key, "seed"))
			return set_seed(t, v, where, err);
		if (!strcmp(o->key, "read_mode"))
			return set_read_mode(t, v, where, err);
		if (!strcmp(o->key, "isolation"))
			return set_isolation(t, v, where, err);
		if (!strcmp(o->key, "checkers"))
			return set_checkers_list(t, v, where, err);
		if (!strcmp(o->key, "client"))
			return set_client_exec(t, v, where, err);
		return fail(err, "%s: not settable from the command line", where);
	}
	return -1;
}

/* Apply one option from a JSON value (config file). */
static int opt_from_json(struct test *t, const struct opt *o, json_t *v, const char *src,
			 struct config_error *err)
{
	char where[400];
	snprintf(where, sizeof where, "%s%s", src, o->key);
	char num[64];
	switch (o->kind) {
	case K_STR:
	case K_ENUM:
		if (!json_is_string(v))
			return fail(err, "%s: expected a string", where);
		return opt_from_string(t, o, json_string_value(v), where, err);
	case K_BOOL:
		if (!json_is_boolean(v))
			return fail(err, "%s: expected true or false", where);
		*FIELD(t, o, bool) = json_is_true(v);
		return 0;
	case K_INT:
		if (!json_is_integer(v))
			return fail(err, "%s: expected an integer", where);
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		return opt_from_string(t, o, num, where, err);
	case K_DBL:
	case K_MS:
		if (!json_is_number(v))
			return fail(err, "%s: expected a number", where);
		snprintf(num, sizeof num, "%.17g", json_number_value(v));
		return opt_from_string(t, o, num, where, err);
	case K_SPECIAL:
		break;
	}
	if (!strcmp(o->key, "nodes"))
		return set_nodes_json(t, v, src, err);
	if (!strcmp(o->key, "concurrency")) {
		if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			return set_concurrency(t, num, where, err);
		}
		if (json_is_string(v))
			return set_concurrency(t, json_string_value(v), where, err);
		return fail(err, "%s: expected an integer or \"Nn\"", where);
	}
	if (!strcmp(o->key, "seed")) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return fail(err, "%s: expected a non-negative integer", where);
		t->seed = (uint64_t)json_integer_value(v);
		t->seed_given = true;
		return 0;
	}
	if (!strcmp(o->key, "nemesis")) {
		if (json_is_string(v))
			return set_nemesis_list(t, json_string_value(v), where, err);
		if (!json_is_array(v))
			return fail(err, "%s: expected an array of fault names", where);
		nemesis_free(t);
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			char w2[440];
			snprintf(w2, sizeof w2, "%s[%zu]", where, i);
			if (!json_is_string(e))
				return fail(err, "%s: expected a string", w2);
			if (add_nemesis(t, json_string_value(e), w2, err) < 0)
				return -1;
		}
		return 0;
	}
	if (!strcmp(o->key, "client")) {
		if (!json_is_object(v))
			return fail(err, "%s: expected an object {\"exec\": [\"program\", \"arg\"...]}",
				    where);
		if (t->client)
			json_decref(t->client);
		t->client = json_deep_copy(v);
		return 0;
	}
	if (!strcmp(o->key, "nemesis_opts")) {
		if (!json_is_object(v))
			return fail(err, "%s: expected an object", where);
		if (t->nemesis_opts)
			json_decref(t->nemesis_opts);
		t->nemesis_opts = json_deep_copy(v);
		return 0;
	}
	json_t **obj = !strcmp(o->key, "db_opts")	? &t->db_opts
		       : !strcmp(o->key, "workload_opts") ? &t->workload_opts
		       : !strcmp(o->key, "checker_opts")  ? &t->checker_opts
							  : NULL;
	if (obj) {
		if (!json_is_object(v))
			return fail(err, "%s: expected an object", where);
		/* Keys set by flags (--read-mode) stay: flags override files. */
		json_t *merged = json_deep_copy(v);
		json_object_update(merged, *obj);
		json_decref(*obj);
		*obj = merged;
		return 0;
	}
	if (!strcmp(o->key, "read_mode") || !strcmp(o->key, "isolation")) {
		if (!json_is_string(v))
			return fail(err, "%s: expected a string", where);
		return !strcmp(o->key, "read_mode") ? set_read_mode(t, json_string_value(v), where, err)
						    : set_isolation(t, json_string_value(v), where, err);
	}
	if (!strcmp(o->key, "checkers")) {
		if (json_is_string(v))
			return set_checkers_list(t, json_string_value(v), where, err);
		if (!json_is_array(v))
			return fail(err, "%s: expected an array of checker names", where);
		checkers_free(t);
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			char w2[440];
			snprintf(w2, sizeof w2, "%s[%zu]", where, i);
			if (!json_is_string(e))
				return fail(err, "%s: expected a string", w2);
			if (add_checker(t, json_string_value(e), w2, err) < 0)
				return -1;
		}
		return 0;
	}
	return fail(err, "%s: unsupported", where);
}

static const struct opt *opt_by_key(const char *key)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (!strcmp(opts[i].key, key))
			return &opts[i];
	return NULL;
}

static const struct opt *opt_by_flag(const char *flag)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (opts[i].flag && !strcmp(opts[i].flag, flag))
			return &opts[i];
	return NULL;
}

/* "db": {"name": "custom", "start": ...} is "db": "custom" with the other
 * keys as db_opts: the form for a database made of options only (the
 * command-defined one), still validated by the db's own check. */
static int db_object_form(json_t *root, const char *src, struct config_error *err)
{
	json_t *db = json_object_get(root, "db");
	if (!json_is_object(db))
		return 0;
	json_t *name = json_object_get(db, "name");
	if (!json_is_string(name))
		return fail(err, "%sdb.name: expected a string (the database, e.g. \"custom\")", src);
	if (json_object_get(root, "db_opts"))
		return fail(err, "%sdb: give its options inside the db object or in db_opts, not both",
			    src);
	json_t *opts = json_deep_copy(db);
	json_object_del(opts, "name");
	json_object_set_new(root, "db_opts", opts);
	json_object_set_new(root, "db", json_string(json_string_value(name)));
	return 0;
}

int config_load_file(struct test *t, const char *path, struct config_error *err)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (je.line < 0 || errno == ENOENT)
			return fail(err, "%s: %s", path, je.text);
		return fail(err, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	}
	char src[300];
	snprintf(src, sizeof src, "%.250s: ", path);
	int r = 0;
	if (!json_is_object(root)) {
		r = fail(err, "%s: expected a JSON object at the top level", path);
		goto out;
	}
	if ((r = db_object_form(root, src, err)) < 0)
		goto out;
	const char *k;
	json_t *v;
	json_object_foreach(root, k, v) {
		const struct opt *o = opt_by_key(k);
		if (!o) {
			if (!strcmp(k, "sudo_password"))
				r = fail(err, "%ssudo_password: secrets are not accepted in a config "
					 "file; name an environment variable with sudo_password_env", src);
			else
				r = fail(err, "%s%s: unknown key", src, k);
			goto out;
		}
		if ((r = opt_from_json(t, o, v, src, err)) < 0)
			goto out;
	}
	set_str(&t->config_path, path);
out:
	json_decref(root);
	return r;
}

/* Does this flag take a value? (booleans do not, unless --flag=value) */
static bool flag_takes_value(const struct opt *o) { return o->kind != K_BOOL; }

int config_apply_args(struct test *t, int argc, char **argv, struct config_error *err)
{
	/* Pass 1: the positional CONFIG.json, loaded first so flags override it. */
	const char *path = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strncmp(a, "--", 2)) {
			char name[64];
			size_t nl = strcspn(a + 2, "=");
			snprintf(name, sizeof name, "%.*s", (int)(nl < 63 ? nl : 63), a + 2);
			const struct opt *o = opt_by_flag(name);
			/* Before anything is taken for CONFIG.json: a misspelt flag's
			 * value must not be read as a config file. */
			if (!o)
				return fail(err, "unknown option '--%s' (see --help)", name);
			if (flag_takes_value(o) && !strchr(a, '='))
				i++;
			continue;
		}
		if (path)
			return fail(err, "unexpected argument '%s' (one CONFIG.json at most)", a);
		path = a;
	}
	if (path && config_load_file(t, path, err) < 0)
		return -1;
	/* Pass 2: flags. */
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2))
			continue;
		char name[64];
		const char *val = NULL;
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (nl >= sizeof name)
			return fail(err, "unknown option '%s' (see --help)", a);
		memcpy(name, a + 2, nl);
		name[nl] = 0;
		const struct opt *o = opt_by_flag(name);
		if (!o)
			return fail(err, "unknown option '--%s' (see --help)", name);
		if (eq)
			val = eq + 1;
		else if (!flag_takes_value(o))
			val = "true";
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return fail(err, "--%s: missing value", name);
		char where[80];
		snprintf(where, sizeof where, "--%s", name);
		if (opt_from_string(t, o, val, where, err) < 0)
			return -1;
	}
	return 0;
}

/* --- finish --- */

static int nodes_check_duplicates(const struct test *t, struct config_error *err)
{
	/* Name where the nodes came from: the config file, unless --nodes or
	 * a cluster gave them. */
	char src[300] = "";
	if (t->nodes_from_file && t->config_path)
		snprintf(src, sizeof src, "%.250s: ", t->config_path);
	else if (t->cluster)
		snprintf(src, sizeof src, "cluster %.40s: ", t->cluster);
	else
		snprintf(src, sizeof src, "--");
	for (int i = 0; i < t->n_nodes; i++)
		for (int j = 0; j < i; j++) {
			if (!strcmp(t->nodes[i].name, t->nodes[j].name))
				return fail(err, "%snodes[%d]: duplicate node name %s (also nodes[%d])",
					    src, i, t->nodes[i].name, j);
			if (!strcmp(t->nodes[i].host, t->nodes[j].host) &&
			    t->nodes[i].ssh_port == t->nodes[j].ssh_port)
				return fail(err, "%snodes[%d]: duplicate host %s (also nodes[%d], %s)",
					    src, i, t->nodes[i].host, j, t->nodes[j].name);
		}
	return 0;
}

/* Every node, wherever it came from (a cluster's state file is not
 * parsed by this file's loaders): its name becomes a directory and its
 * workdir part of remote commands, so they meet the same rules as in a
 * config. */
static int nodes_validate(const struct test *t, struct config_error *err)
{
	const char *src = t->cluster ? "cluster " : "";
	const char *cname = t->cluster ? t->cluster : "";
	for (int i = 0; i < t->n_nodes; i++) {
		const struct node *n = &t->nodes[i];
		if (!n->name || !name_ok(n->name))
			return fail(err, "%s%s%snodes[%d]: bad node name '%s' (letters, digits, . _ -)",
				    src, cname, *cname ? ": " : "", i, n->name ? n->name : "");
		if (!n->host || !host_ok(n->host))
			return fail(err, "%s%s%snodes[%d]: bad host '%s'", src, cname,
				    *cname ? ": " : "", i, n->host ? n->host : "");
		if (n->workdir && (n->workdir[0] != '/' || !path_ok(n->workdir)))
			return fail(err, "%s%s%snodes[%d].workdir: expected an absolute path without "
				    "control characters", src, cname, *cname ? ": " : "", i);
	}
	return 0;
}

int config_nodes_from_cluster(struct test *t, const char *name, struct config_error *err)
{
	json_t *c = cluster_load(name);
	if (!c)
		return fail(err, "cluster: local cluster %s is not up (faultline cluster up --name %s)",
			    name, name);
	json_t *nodes = json_object_get(c, "nodes");
	size_t i;
	json_t *nd;
	json_array_foreach(nodes, i, nd) {
		add_node(t, json_string_value(json_object_get(nd, "name")) ?: "",
			 json_string_value(json_object_get(nd, "host")) ?: "", 22,
			 json_string_value(json_object_get(nd, "workdir")) ?: "/tmp");
	}
	if (!t->private_key)
		t->private_key = xstrdup(json_string_value(json_object_get(c, "private_key")) ?: "");
	if (!t->known_hosts)
		t->known_hosts = xstrdup(json_string_value(json_object_get(c, "known_hosts")) ?: "");
	if (!t->cluster)
		t->cluster = xstrdup(name);
	free(t->bind_device);
	t->bind_device = xstrdup(json_string_value(json_object_get(c, "bridge")) ?: "");
	json_decref(c);
	return 0;
}

/* Nodes from --cluster, or from the one local cluster that is up. */
static int nodes_from_cluster(struct test *t, struct config_error *err)
{
	if (!t->cluster) {
		char **names = NULL;
		int n = cluster_list(&names);
		if (n == 1)
			t->cluster = xstrdup(names[0]);
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
		if (n == 0)
			return fail(err, "nodes: none given and no local cluster is up "
				    "(use --nodes, --cluster, or `faultline cluster up`)");
		if (n > 1)
			return fail(err, "nodes: none given and %d local clusters are up; "
				    "pick one with --cluster NAME", n);
	}
	return config_nodes_from_cluster(t, t->cluster, err);
}

static json_t *resolved_json(const struct test *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "db", json_string(t->db));
	json_object_set_new(o, "workload", json_string(t->workload));
	const struct workload *wl = workload_find(t->workload);
	if (wl && wl->model)
		json_object_set_new(o, "model", json_string(wl->model));
	json_t *nodes = json_array();
	for (int i = 0; i < t->n_nodes; i++) {
		json_t *n = json_pack("{s:s, s:s, s:i}", "name", t->nodes[i].name, "host",
				      t->nodes[i].host, "ssh_port", t->nodes[i].ssh_port);
		if (t->nodes[i].workdir)
			json_object_set_new(n, "workdir", json_string(t->nodes[i].workdir));
		json_array_append_new(nodes, n);
	}
	json_object_set_new(o, "nodes", nodes);
	if (t->cluster)
		json_object_set_new(o, "cluster", json_string(t->cluster));
	json_object_set_new(o, "username", json_string(t->username));
	if (t->private_key)
		json_object_set_new(o, "ssh_private_key", json_string(t->private_key));
	if (t->known_hosts)
		json_object_set_new(o, "known_hosts", json_string(t->known_hosts));
	json_object_set_new(o, "ssh_accept_new", json_boolean(t->ssh_accept_new));
	if (t->sudo_password_env)
		json_object_set_new(o, "sudo_password_env", json_string(t->sudo_password_env));
	json_object_set_new(o, "ssh_timeout", json_real(t->ssh_timeout_ms / 1000.0));
	json_object_set_new(o, "concurrency", json_integer(t->concurrency));
	json_object_set_new(o, "time_limit", json_real(t->time_limit));
	json_object_set_new(o, "rate", json_real(t->rate));
	json_object_set_new(o, "seed", json_integer((json_int_t)t->seed));
	json_object_set_new(o, "store", json_string(t->store));
	json_object_set_new(o, "test_count", json_integer(t->test_count));
	json_object_set_new(o, "recovery_time", json_real(t->recovery_time));
	json_object_set_new(o, "op_timeout", json_real(t->op_timeout));
	json_object_set_new(o, "leave_db_running", json_boolean(t->leave_db_running));
	json_object_set_new(o, "heal_first", json_boolean(t->heal_first));
	json_object_set(o, "db_opts", t->db_opts);
	if (t->client)
		json_object_set(o, "client", t->client);
	json_object_set(o, "workload_opts", t->workload_opts);
	json_t *cs = json_array();
	for (int i = 0; i < t->n_checkers; i++)
		json_array_append_new(cs, json_string(t->checkers[i]));
	json_object_set_new(o, "checkers", cs);
	json_object_set(o, "checker_opts", t->checker_opts);
	if (t->fail_on)
		json_object_set_new(o, "fail_on", json_string(t->fail_on));
	json_t *nem = json_array();
	for (int i = 0; i < t->n_nemesis; i++)
		json_array_append_new(nem, json_string(t->nemesis[i]));
	json_object_set_new(o, "nemesis", nem);
	json_object_set_new(o, "nemesis_interval", json_real(t->nemesis_interval));
	if (t->nemesis_opts)
		json_object_set(o, "nemesis_opts", t->nemesis_opts);
	json_object_set_new(o, "checker_timeout", json_real(t->checker_timeout));
	json_object_set_new(o, "ops_per_key", json_integer(t->ops_per_key));
	json_object_set_new(o, "key_concurrency", json_integer(t->key_concurrency));
	return o;
}

static uint64_t random_seed(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s)
		s = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
	/* 53 bits: exact in every JSON reader, even those using doubles (jq,
	 * the report's JavaScript), so a seed copied from them reproduces. */
	return s & ((1ULL << 53) - 1);
}

/* POSIX portable user names (plus what Debian's adduser allows): the
 * name goes to sshd and into sudo's prompt, never to a shell. */
static bool user_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 32 || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* db_opts, workload_opts and checker_opts, each validated (and completed
 * with its defaults) by its own module; the checkers default to the
 * workload's. */
static int modules_check(struct test *t, const struct db *db, const struct workload *wl,
			 struct config_error *err)
{
	char m[sizeof err->msg];
	if (db->check) {
		if (db->check(t, t->db_opts, m, sizeof m) < 0)
			return fail(err, "%s", m);
	} else if (json_object_size(t->db_opts)) {
		return fail(err, "db_opts: %s takes no options", db->name);
	}
	if (wl->check) {
		if (wl->check(t, t->workload_opts, m, sizeof m) < 0)
			return fail(err, "%s", m);
	} else if (json_object_size(t->workload_opts)) {
		return fail(err, "workload_opts: workload %s takes no options", wl->name);
	}
	if (t->n_checkers == 0)
		for (const char *const *c = wl->checkers; c && *c; c++)
			if (add_checker(t, *c, "checkers", err) < 0)
				return -1;
	const char *k;
	json_t *v;
	json_object_foreach(t->checker_opts, k, v) {
		const struct checker *c = checker_find(k);
		if (!c)
			return fail(err, "checker_opts.%s: unknown checker (known: %s)", k,
				    checker_names());
		bool used = false;
		for (int i = 0; i < t->n_checkers; i++)
			used |= checker_find(t->checkers[i]) == c;
		if (!used)
			return fail(err, "checker_opts.%s: checker %s does not judge this test (its "
				    "checkers: see `checkers`)", k, k);
		if (!c->check_opts)
			return fail(err, "checker_opts.%s: checker %s takes no options", k, k);
		if (c->check_opts(v, m, sizeof m) < 0)
			return fail(err, "%s", m);
	}
	return 0;
}

int config_finish(struct test *t, struct config_error *err)
{
	if (t->cluster && t->n_nodes > 0)
		return fail(err, "cluster: give either nodes or a cluster, not both");
	const struct db *db = name_ok(t->db) ? db_find(t->db) : NULL;
	if (!db)
		return fail(err, "db: unknown database '%s' (known: %s)", t->db, db_names());
	const struct workload *wl = workload_find(t->workload);
	if (!wl)
		return fail(err, "workload: unknown workload '%s' (known: %s)", t->workload,
			    workload_names());
	if (t->client) {
		char m[sizeof err->msg];
		if (adapter_check(t, t->client, m, sizeof m) < 0)
			return fail(err, "%s", m);
	}
	if (!test_client(t)) {
		struct buf b;
		buf_init(&b);
		db_workloads(db, &b);
		fail(err, "workload: %s cannot run workload '%s' (it runs: %s); or give an adapter "
		     "program: --client-exec CMD (client.exec)", t->db, t->workload, b.data);
		buf_free(&b);
		return -1;
	}
	for (int i = 0; i < t->n_nemesis; i++)
		if (!nemesis_find(t->nemesis[i]))
			return fail(err, "nemesis[%d]: unknown fault '%s' (known: %s)", i,
				    t->nemesis[i], nemesis_names());
	if (t->name && (!name_ok(t->name) || !strcmp(t->name, "latest")))
		return fail(err, "name: '%s' is not a usable directory name (letters, digits, . _ -)",
			    t->name);
	if (!user_ok(t->username))
		return fail(err, "username: '%s' is not a user name (letters, digits, _ . -; not "
			    "starting with - or .)", t->username);
	if (t->sudo_password_env) {
		char *pw = env_take_secret(t->sudo_password_env);
		if (!pw)
			return fail(err, "sudo_password_env: environment variable %s is not set",
				    t->sudo_password_env);
		free(t->sudo_password);
		t->sudo_password = pw;
		log_add_secret(pw);
	}
	if (t->n_nodes == 0 && nodes_from_cluster(t, err) < 0)
		return -1;
	if (t->n_nodes == 0)
		return fail(err, "nodes: missing");
	if (nodes_validate(t, err) < 0 || nodes_check_duplicates(t, err) < 0)
		return -1;
	/* Fault options name nodes and need their count: checked now, still
	 * before anything touches a node. */
	if (nemesis_check_test(t, err->msg, sizeof err->msg) < 0)
		return -1;
	for (int i = 0; i < t->n_nodes; i++)
		if (!t->nodes[i].workdir)
			t->nodes[i].workdir = xstrdup("/var/lib/faultline");
	if (t->concurrency_per_node > 0)
		t->concurrency = t->concurrency_per_node * t->n_nodes;
	if (t->concurrency < 1)
		return fail(err, "concurrency: must be at least 1");
	if (modules_check(t, db, wl, err) < 0)
		return -1;
	if (!t->known_hosts) {
		const char *home = getenv("HOME");
		t->known_hosts = xasprintf("%s/.ssh/known_hosts", home && *home ? home : "/root");
	}
	if (!t->name) {
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "%s-%s", t->db, t->workload);
		for (int i = 0; i < t->n_nemesis; i++)
			buf_printf(&b, "-%s", t->nemesis[i]);
		t->name = buf_steal(&b);
	}
	if (!t->seed_given)
		t->seed = random_seed();
	if (t->resolved)
		json_decref(t->resolved);
	t->resolved = resolved_json(t);
	return 0;
}

/* Flag help for `run --help` (one line per option, from the table). */
void config_print_flags(FILE *out)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		if (!opts[i].flag)
			continue;
		char lhs[64];
		snprintf(lhs, sizeof lhs, "--%s%s", opts[i].flag,
			 opts[i].kind == K_BOOL ? "" : " V");
		fprintf(out, "  %-26s %s\n", lhs, opts[i].help);
	}
	fputs("\nconfig keys without a flag: db_opts, workload_opts, checker_opts, nemesis_opts\n"
	      "(objects, each checked by its database, workload, checker or fault kind)\n", out);
	fprintf(out, "\ndatabases (--db): %s\n", db_names());
	const struct db *db;
	for (size_t i = 0; (db = db_at(i)); i++) {
		struct buf b;
		buf_init(&b);
		db_workloads(db, &b);
		fprintf(out, "  %-10s %s; workloads: %s\n", db->name, db->summary ? db->summary : "",
			b.data);
		buf_free(&b);
	}
	fprintf(out, "workloads (--workload): %s\n", workload_names());
	fprintf(out, "checkers (--checker): %s\n", checker_names());
	fprintf(out, "faults (--nemesis): %s\n", nemesis_names());
}

int config_from_argv(struct test *t, int argc, char **argv, const char *cmd, const char *usage)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			config_print_flags(stdout);
			return 0;
		}
	struct config_error cerr;
	test_init_defaults(t);
	if (config_apply_args(t, argc - 1, argv + 1, &cerr) < 0 || config_finish(t, &cerr) < 0) {
		fprintf(stderr, "faultline %s: %s\n", cmd, cerr.msg);
		test_free(t);
		return EXIT_BADARGS;
	}
	return -1;
}
