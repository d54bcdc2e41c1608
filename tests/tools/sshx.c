/*
 * sshx.c - test driver for the SSH layer (src/ssh.c), used by
 * tests/integration/ssh.sh and bench/ssh.sh. It is not part of the CLI.
 *
 *   sshx [--host H] [--port P] [--user U] [--key F] [--known-hosts F]
 *        [--accept-new] [--sudo-password-env VAR] [--timeout MS]
 *        [--connect-timeout MS] [--nodes N] ACTION...
 *
 * --nodes N makes N independent sessions (n1..nN) to the same host, so a
 * single sshd can stand in for N nodes; --hosts H1,H2,.. one session per
 * host; --cluster NAME the nodes, key and known_hosts of a local cluster. ACTIONs run in order on n1 unless
 * they say "all"; each prints one JSON line:
 *   connect | exec CMD | exec-all CMD | upload LOCAL REMOTE MODE |
 *   download REMOTE LOCAL | sleep MS | bench-all CMD COUNT
 * Exit status: 0 if every action succeeded (exec: transport ok and status
 * 0), else 1; 2 on bad usage.
 */
#include "cluster.h"
#include "ssh.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void emit(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	puts(s);
	fflush(stdout);
	free(s);
	json_decref(j);
}

static json_t *result_json(const char *node, int rc, const struct ssh_result *r, int64_t ns)
{
	return json_pack("{s:s, s:i, s:i, s:b, s:s, s:s, s:f}", "node", node, "rc", rc,
			 "status", r->status, "timed_out", r->timed_out, "out", r->out, "err",
			 r->err, "ms", (double)ns / 1e6);
}

static int act_exec(struct ssh_node *n, const char *cmd, int timeout)
{
	struct ssh_result r;
	int64_t t0 = now_ns();
	int rc = ssh_exec(n, cmd, timeout, &r);
	json_t *j = result_json(ssh_node_name(n), rc, &r, now_ns() - t0);
	json_object_set_new(j, "action", json_string("exec"));
	emit(j);
	int bad = rc != 0 || r.status != 0;
	ssh_result_free(&r);
	return bad;
}

static int act_exec_all(struct ssh_node **nodes, int n, const char *cmd, int timeout)
{
	struct ssh_result *rs = xcalloc((size_t)n, sizeof *rs);
	int64_t t0 = now_ns();
	int rc = ssh_exec_all(nodes, n, cmd, timeout, rs);
	int64_t ns = now_ns() - t0;
	json_t *arr = json_array();
	int bad = rc != 0;
	for (int i = 0; i < n; i++) {
		json_array_append_new(arr, result_json(ssh_node_name(nodes[i]), 0, &rs[i], 0));
		bad |= rs[i].status != 0;
		ssh_result_free(&rs[i]);
	}
	free(rs);
	emit(json_pack("{s:s, s:i, s:f, s:o}", "action", "exec-all", "rc", rc, "ms",
		       (double)ns / 1e6, "results", arr));
	return bad;
}

static int act_bench_all(struct ssh_node **nodes, int n, const char *cmd, int count,
			 int timeout)
{
	struct ssh_result *rs = xcalloc((size_t)n, sizeof *rs);
	int64_t *lat = xcalloc((size_t)count, sizeof *lat);
	int failures = 0;
	for (int k = 0; k < count; k++) {
		int64_t t0 = now_ns();
		int rc = ssh_exec_all(nodes, n, cmd, timeout, rs);
		lat[k] = now_ns() - t0;
		for (int i = 0; i < n; i++) {
			failures += rc != 0 || rs[i].status != 0;
			ssh_result_free(&rs[i]);
		}
	}
	qsort(lat, (size_t)count, sizeof *lat, cmp_i64);
	double p50 = (double)lat[count / 2] / 1e6;
	double p99 = (double)lat[(count * 99) / 100 < count ? (count * 99) / 100 : count - 1] / 1e6;
	emit(json_pack("{s:s, s:i, s:i, s:f, s:f, s:f, s:i}", "action", "bench-all", "nodes", n,
		       "count", count, "p50_ms", p50, "p99_ms", p99, "max_ms",
		       (double)lat[count - 1] / 1e6, "failures", failures));
	free(lat);
	free(rs);
	return failures != 0;
}

/* Hosts (and key, known_hosts, user) of a local cluster from cluster.json. */
static char **cluster_hosts(const char *name, struct ssh_opts *o, int *n)
{
	char *path = xasprintf("%s/%s/cluster.json", CLUSTER_STATE_ROOT, name);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	free(path);
	if (!j)
		return NULL;
	json_t *nodes = json_object_get(j, "nodes");
	*n = (int)json_array_size(nodes);
	char **hosts = xcalloc((size_t)(*n ? *n : 1), sizeof *hosts);
	for (int i = 0; i < *n; i++)
		hosts[i] = xstrdup(json_string_value(json_object_get(json_array_get(nodes, (size_t)i), "host")));
	const char *user = json_string_value(json_object_get(j, "user"));
	o->user = xstrdup(user ? user : "root");
	o->private_key = xstrdup(json_string_value(json_object_get(j, "private_key")));
	o->known_hosts = xstrdup(json_string_value(json_object_get(j, "known_hosts")));
	json_decref(j);
	return hosts;
}

static char **split_hosts(const char *list, int *n)
{
	char *copy = xstrdup(list), *save = NULL;
	char **hosts = xcalloc(256, sizeof *hosts);
	*n = 0;
	for (char *h = strtok_r(copy, ",", &save); h && *n < 256; h = strtok_r(NULL, ",", &save))
		hosts[(*n)++] = xstrdup(h);
	free(copy);
	return hosts;
}

/* What --hosts / --cluster allocated, freed before exit (LeakSanitizer). */
static void args_free(char **hosts, int n_hosts, struct ssh_opts *o, bool own_opts)
{
	for (int k = 0; hosts && k < n_hosts; k++)
		free(hosts[k]);
	free(hosts);
	if (own_opts) {
		free((char *)o->user);
		free((char *)o->private_key);
		free((char *)o->known_hosts);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: sshx [--host H] [--port P] [--user U] [--key F] [--known-hosts F]"
			" [--accept-new] [--sudo-password-env VAR] [--timeout MS]"
			" [--connect-timeout MS] [--nodes N] ACTION...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct ssh_opts o = {.user = "root", .port = 22};
	const char *host = "127.0.0.1";
	char **hosts = NULL;
	int timeout = 10000, n_nodes = 1, i = 1, n_hosts = 0;
	bool own_opts = false;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *f = argv[i];
		if (strcmp(f, "--accept-new") == 0) {
			o.accept_new = true;
			continue;
		}
		if (i + 1 >= argc)
			return usage();
		const char *v = argv[++i];
		if (strcmp(f, "--host") == 0) host = v;
		else if (strcmp(f, "--port") == 0) o.port = atoi(v);
		else if (strcmp(f, "--user") == 0) o.user = v;
		else if (strcmp(f, "--key") == 0) o.private_key = v;
		else if (strcmp(f, "--known-hosts") == 0) o.known_hosts = v;
		else if (strcmp(f, "--sudo-password-env") == 0) o.sudo_password = getenv(v);
		else if (strcmp(f, "--timeout") == 0) timeout = atoi(v);
		else if (strcmp(f, "--connect-timeout") == 0) o.connect_timeout_ms = atoi(v);
		else if (strcmp(f, "--nodes") == 0) n_nodes = atoi(v);
		else if (strcmp(f, "--hosts") == 0 && !hosts) {
			hosts = split_hosts(v, &n_nodes);
			n_hosts = n_nodes;
		} else if (strcmp(f, "--cluster") == 0 && !hosts) {
			if (!(hosts = cluster_hosts(v, &o, &n_nodes))) {
				fprintf(stderr, "sshx: cluster %s is not up\n", v);
				return 1;
			}
			n_hosts = n_nodes;
			own_opts = true;
		} else return usage();
	}
	if (n_nodes < 1 || i >= argc)
		return usage();
	struct ssh_node **nodes = xcalloc((size_t)n_nodes, sizeof *nodes);
	for (int k = 0; k < n_nodes; k++) {
		char name[16];
		snprintf(name, sizeof name, "n%d", k + 1);
		nodes[k] = ssh_node_new(name, hosts ? hosts[k] : host, &o);
	}
	int bad = 0;
	for (; i < argc; i++) {
		const char *a = argv[i];
		int left = argc - i - 1;
		char err[600] = "";
		if (strcmp(a, "connect") == 0) {
			int rc = ssh_connect_all(nodes, n_nodes, err, sizeof err);
			emit(json_pack("{s:s, s:i, s:s}", "action", "connect", "rc", rc, "err", err));
			bad |= rc != 0;
		} else if (strcmp(a, "exec") == 0 && left >= 1) {
			bad |= act_exec(nodes[0], argv[++i], timeout);
		} else if (strcmp(a, "exec-all") == 0 && left >= 1) {
			bad |= act_exec_all(nodes, n_nodes, argv[++i], timeout);
		} else if (strcmp(a, "bench-all") == 0 && left >= 2) {
			bad |= act_bench_all(nodes, n_nodes, argv[i + 1], atoi(argv[i + 2]), timeout);
			i += 2;
		} else if (strcmp(a, "upload") == 0 && left >= 3) {
			int rc = ssh_upload(nodes[0], argv[i + 1], argv[i + 2],
					    (int)strtol(argv[i + 3], NULL, 8), err, sizeof err);
			emit(json_pack("{s:s, s:i, s:s}", "action", "upload", "rc", rc, "err", err));
			bad |= rc != 0;
			i += 3;
		} else if (strcmp(a, "download") == 0 && left >= 2) {
			int rc = ssh_download(nodes[0], argv[i + 1], argv[i + 2], err, sizeof err);
			emit(json_pack("{s:s, s:i, s:s}", "action", "download", "rc", rc, "err", err));
			bad |= rc != 0;
			i += 2;
		} else if (strcmp(a, "sleep") == 0 && left >= 1) {
			usleep((useconds_t)atoi(argv[++i]) * 1000);
		} else {
			fprintf(stderr, "sshx: bad action %s\n", a);
			bad = 2;
			break;
		}
	}
	ssh_nodes_free(nodes, n_nodes);
	args_free(hosts, n_hosts, &o, own_opts);
	return bad == 2 ? 2 : bad ? 1 : 0;
}
