/*
 * cluster.c - the embedded local cluster: N nodes on this machine, each a
 * network namespace on a private bridge with its own sshd and database,
 * reached by the controller over real SSH exactly like remote hosts.
 *
 * `up` validates everything first, then records its plan in cluster.json
 * (state "creating") before it creates anything, so `down` can always find
 * what to remove even after a crash or a half-finished `up`. Names of
 * every kernel object derive from the cluster name alone (namespaces
 * fl-NAME-nI, a bridge and veths named by a hash of NAME), so `down` also
 * works when the state file is gone. Processes are ended by pid: the ones
 * we recorded, and any process living in one of our namespaces (which can
 * only be ours). This file knows nothing of tests or databases: once the
 * nodes answer SSH, local.c sets the database up over SSH, the same code
 * path a remote cluster takes. cmd_cluster.c is the CLI on top.
 */
#include "cluster.h"

#include "netns.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <ifaddrs.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NODE_OFFSET 10 /* n1 is .11: room below for the bridge and helpers */
#define SSHD_BIN "/usr/sbin/sshd"
#define IPTABLES_BIN "/usr/sbin/iptables"

/* ---- names ------------------------------------------------------------ */

bool cluster_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 24 || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return false;
	return true;
}

/* Interface names are limited to 15 bytes, so they carry a hash of the
 * cluster name rather than the name. */
static void bridge_name(const char *cluster, char out[16])
{
	snprintf(out, 16, "flb-%08x", hash_fnv1a(cluster, strlen(cluster)));
}

static void veth_name(const char *cluster, int i, char out[16])
{
	snprintf(out, 16, "flv%06xn%u", hash_fnv1a(cluster, strlen(cluster)) & 0xffffff,
		 (unsigned)(i + 1) % 1000);
}

static char *netns_name(const char *cluster, int i)
{
	return xasprintf("fl-%s-n%d", cluster, i + 1);
}

static char *state_dir(const char *name)
{
	return xasprintf("%s/%s", CLUSTER_STATE_ROOT, name);
}

/* Node i's address: .11 for n1 (the bridge, the controller's side, is .1). */
static uint32_t node_addr(const struct cluster_spec *sp, int i)
{
	return sp->net + NODE_OFFSET + (uint32_t)i + 1;
}

static char *ip_str(uint32_t a)
{
	struct in_addr in = {htonl(a)};
	char s[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &in, s, sizeof s);
	return xstrdup(s);
}

/* ---- subnets ---------------------------------------------------------- */

int cluster_parse_subnet(const char *s, uint32_t *net, int *prefix, char *err, size_t errlen)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	long p;
	struct in_addr in;
	if (!slash || (size_t)(slash - s) >= sizeof ip || !parse_long(slash + 1, 0, 32, &p)) {
		snprintf(err, errlen, "--subnet %s: expected an IPv4 CIDR like 10.213.7.0/24", s);
		return -1;
	}
	memcpy(ip, s, slash - s);
	ip[slash - s] = 0;
	if (inet_pton(AF_INET, ip, &in) != 1) {
		snprintf(err, errlen, "--subnet %s: %s is not an IPv4 address", s, ip);
		return -1;
	}
	uint32_t a = ntohl(in.s_addr);
	if (p < 16 || p > 28) {
		snprintf(err, errlen, "--subnet %s: prefix length must be 16..28", s);
		return -1;
	}
	uint32_t mask = ~0u << (32 - p);
	bool private = (a & 0xff000000u) == 0x0a000000u || (a & 0xfff00000u) == 0xac100000u ||
		       (a & 0xffff0000u) == 0xc0a80000u;
	if (!private) {
		snprintf(err, errlen, "--subnet %s: not a private (RFC 1918) range; "
			 "the local cluster never uses public addresses", s);
		return -1;
	}
	if (a & ~mask) {
		char *base = ip_str(a & mask);
		snprintf(err, errlen, "--subnet %s: host bits set (did you mean %s/%ld?)", s,
			 base, p);
		free(base);
		return -1;
	}
	*net = a;
	*prefix = (int)p;
	return 0;
}

static bool overlaps(uint32_t a, int pa, uint32_t b, int pb)
{
	int p = pa < pb ? pa : pb;
	uint32_t mask = p ? ~0u << (32 - p) : 0;
	return (a & mask) == (b & mask);
}

/* A network already in use: another cluster's subnet or a host interface's. */
struct taken {
	uint32_t net;
	int prefix;
	char what[96]; /* "cluster t-c1 (10.213.101.0/24)" / "10.0.0.2/24 on this machine's eth0" */
};

/* Every network a new cluster `name` must not overlap, read once. */
static int taken_networks(const char *name, struct taken **out)
{
	int n = 0, cap = 8;
	struct taken *t = xcalloc((size_t)cap, sizeof *t);
	char **names = NULL;
	int nc = cluster_list_all(&names);
	for (int i = 0; i < nc; i++) {
		json_t *c = strcmp(names[i], name) ? cluster_load_any(names[i]) : NULL;
		const char *sub = json_string_value(json_object_get(c, "subnet"));
		char e2[200];
		if (n == cap)
			t = xrealloc(t, (size_t)(cap *= 2) * sizeof *t);
		if (sub && cluster_parse_subnet(sub, &t[n].net, &t[n].prefix, e2, sizeof e2) == 0)
			snprintf(t[n++].what, sizeof t->what, "cluster %s (%s)", names[i], sub);
		json_decref(c);
		free(names[i]);
	}
	free(names);
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) < 0)
		ifs = NULL;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask)
			continue;
		if (n == cap)
			t = xrealloc(t, (size_t)(cap *= 2) * sizeof *t);
		uint32_t a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		uint32_t m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
		char *ip = ip_str(a);
		t[n] = (struct taken){a, __builtin_popcount(m), ""};
		snprintf(t[n].what, sizeof t->what, "%s/%d on this machine's %s", ip, t[n].prefix,
			 i->ifa_name);
		free(ip);
		n++;
	}
	freeifaddrs(ifs);
	*out = t;
	return n;
}

static int taken_conflict(const struct taken *t, int n, uint32_t net, int prefix, char *err,
			  size_t errlen)
{
	for (int i = 0; i < n; i++)
		if (overlaps(net, prefix, t[i].net, t[i].prefix)) {
			snprintf(err, errlen, "--subnet overlaps %s; pick another with --subnet",
				 t[i].what);
			return -1;
		}
	return 0;
}

/* ---- state ------------------------------------------------------------ */

static json_t *state_read(const char *name)
{
	char *path = xasprintf("%s/%s/cluster.json", CLUSTER_STATE_ROOT, name);
	json_t *j = json_load_file(path, 0, NULL);
	free(path);
	return j;
}

static int state_write(const char *name, json_t *j, char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s/cluster.json", CLUSTER_STATE_ROOT, name);
	char *text = json_dumps(j, JSON_INDENT(2));
	int rc = text && file_write_all(path, text, strlen(text)) == 0 ? 0 : -1;
	if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	free(text);
	free(path);
	return rc;
}

json_t *cluster_load_any(const char *name)
{
	return cluster_name_valid(name) ? state_read(name) : NULL;
}

json_t *cluster_load(const char *name)
{
	json_t *j = cluster_load_any(name);
	if (j && strcmp(json_string_value(json_object_get(j, "state")) ?: "", "up")) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int list_dirs(char ***names, bool only_up)
{
	*names = NULL;
	DIR *d = opendir(CLUSTER_STATE_ROOT);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!cluster_name_valid(e->d_name))
			continue;
		json_t *j = only_up ? cluster_load(e->d_name) : NULL;
		if (only_up && !j)
			continue;
		json_decref(j);
		*names = xrealloc(*names, (n + 1) * sizeof **names);
		(*names)[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	return n;
}

int cluster_list(char ***names)
{
	return list_dirs(names, true);
}

int cluster_list_all(char ***names)
{
	return list_dirs(names, false);
}


/* ---- keys ------------------------------------------------------------- */

/* An ed25519 key pair at path / path.pub; returns "ssh-ed25519 BASE64". */
static char *key_generate(const char *path, const char *comment, char *err, size_t errlen)
{
	ssh_key key = NULL;
	char *b64 = NULL, *line = NULL;
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		snprintf(err, errlen, "%s: cannot generate an ed25519 key", path);
		goto out;
	}
	chmod(path, 0600);
	line = xasprintf("ssh-ed25519 %s", b64);
	char *pub = xasprintf("%s.pub", path);
	char *publine = xasprintf("%s %s\n", line, comment);
	file_write_all(pub, publine, strlen(publine));
	free(pub);
	free(publine);
out:
	ssh_string_free_char(b64);
	ssh_key_free(key);
	return line;
}

/* ---- processes -------------------------------------------------------- */

static bool proc_is(pid_t pid, const char *exe)
{
	char p[64], target[512];
	snprintf(p, sizeof p, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(p, target, sizeof target - 1);
	if (n <= 0)
		return false;
	target[n] = 0;
	return !strcmp(target, exe);
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && kill(pid, 0) == 0;
}

/* End every process living in namespace ns: TERM, then KILL after 2 s. */
static void netns_kill_all(const char *ns)
{
	pid_t *pids = NULL;
	int n = netns_pids(ns, &pids);
	for (int i = 0; i < n; i++) {
		kill(pids[i], SIGCONT); /* a paused process cannot act on TERM */
		kill(pids[i], SIGTERM);
	}
	for (int tries = 0; n > 0 && tries < 20; tries++) {
		free(pids);
		usleep(100 * 1000);
		n = netns_pids(ns, &pids);
	}
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	free(pids);
}

static int wait_port(uint32_t addr, int port, int timeout_ms)
{
	int64_t end = now_ns() + (int64_t)timeout_ms * 1000000;
	while (now_ns() < end) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
					 .sin_addr = {htonl(addr)}};
		int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		close(fd);
		if (ok)
			return 0;
		usleep(20 * 1000);
	}
	return -1;
}

/* Bridged frames pass the host's FORWARD chain when br_netfilter is on
 * (Docker turns it on and sets FORWARD to DROP): let our bridge talk to
 * itself, and nothing else. */
static bool bridge_nf_on(void)
{
	char *s = file_read_all("/proc/sys/net/bridge/bridge-nf-call-iptables", NULL);
	bool on = s && s[0] == '1';
	free(s);
	return on;
}

static int iptables_run(char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int forward_rule(const char *op, const char *br, const char *cluster)
{
	char comment[64];
	snprintf(comment, sizeof comment, "faultline:%s", cluster);
	char *argv[] = {IPTABLES_BIN, "-w", (char *)op, "FORWARD", "-i", (char *)br, "-o",
			(char *)br, "-m", "comment", "--comment", comment, "-j", "ACCEPT", NULL};
	return iptables_run(argv);
}

/* ---- up --------------------------------------------------------------- */

static json_t *plan_json(const struct cluster_spec *sp, const char *dir)
{
	char br[16];
	bridge_name(sp->name, br);
	char *sub = cluster_subnet_str(sp->net, sp->prefix);
	char *bra = ip_str(sp->net + 1);
	char *key = xasprintf("%s/id_ed25519", dir), *kh = xasprintf("%s/known_hosts", dir);
	char ts[40];
	timestamp_utc(ts, sizeof ts);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name",
			      sp->name, "state", "creating", "created", ts, "subnet", sub,
			      "bridge", br, "bridge_address", bra, "db", sp->db, "user", "root",
			      "private_key", key, "known_hosts", kh);
	json_t *nodes = json_array();
	for (int i = 0; i < sp->n; i++) {
		char v[16];
		veth_name(sp->name, i, v);
		char *nm = xasprintf("n%d", i + 1), *host = ip_str(node_addr(sp, i));
		char *ns = netns_name(sp->name, i), *wd = xasprintf("%s/nodes/%s", dir, nm);
		json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "name", nm,
						       "host", host, "netns", ns, "veth", v,
						       "workdir", wd, "sshd_pid", 0));
		free(nm), free(host), free(ns), free(wd);
	}
	json_object_set_new(j, "nodes", nodes);
	free(sub), free(bra), free(key), free(kh);
	return j;
}

static char *sshd_config(const char *dir, const char *wd, const char *host)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "# sshd for local faultline node (generated; removed by cluster down)\n"
		   "ListenAddress %s\nPort 22\nHostKey %s/ssh_host_ed25519_key\n"
		   "AuthorizedKeysFile %s/authorized_keys\nPermitRootLogin prohibit-password\n"
		   "PubkeyAuthentication yes\nPasswordAuthentication no\n"
		   "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nUseDNS no\n"
		   "MaxStartups 100:30:200\nMaxSessions 50\nSetEnv SHLVL=1\n"
		   "Subsystem sftp internal-sftp\nPidFile %s/sshd.pid\n",
		   host, wd, dir, wd);
	return buf_steal(&b);
}

static int node_create(const struct cluster_spec *sp, const char *dir, json_t *node,
		       int i, char *err, size_t errlen)
{
	const char *ns = json_string_value(json_object_get(node, "netns"));
	const char *v = json_string_value(json_object_get(node, "veth"));
	const char *wd = json_string_value(json_object_get(node, "workdir"));
	const char *host = json_string_value(json_object_get(node, "host"));
	const char *name = json_string_value(json_object_get(node, "name"));
	char br[16];
	bridge_name(sp->name, br);
	if (mkdir_p(wd, 0755) < 0) {
		snprintf(err, errlen, "%s: %s: %s", name, wd, strerror(errno));
		return -1;
	}
	char *hk = xasprintf("%s/ssh_host_ed25519_key", wd);
	char *pub = key_generate(hk, name, err, errlen);
	free(hk);
	if (!pub)
		return -1;
	char *khline = xasprintf("%s %s\n", host, pub);
	free(pub);
	char *khpath = xasprintf("%s/known_hosts", dir);
	FILE *f = fopen(khpath, "a");
	if (f) {
		fputs(khline, f);
		fclose(f);
	}
	free(khpath);
	free(khline);
	char *cfg = sshd_config(dir, wd, host);
	char *cfgpath = xasprintf("%s/sshd_config", wd);
	int rc = file_write_all(cfgpath, cfg, strlen(cfg));
	free(cfg);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s: %s", name, cfgpath, strerror(errno));
		free(cfgpath);
		return -1;
	}
	char e2[300];
	if (netns_create(ns, e2, sizeof e2) < 0 ||
	    netns_veth_create(v, br, ns, node_addr(sp, i), sp->prefix, e2,
			      sizeof e2) < 0) {
		snprintf(err, errlen, "%s: %s", name, e2);
		free(cfgpath);
		return -1;
	}
	char *log = xasprintf("%s/sshd.log", wd);
	char *argv[] = {SSHD_BIN, "-D", "-f", cfgpath, "-E", log, NULL};
	pid_t pid = netns_spawn(ns, argv, e2, sizeof e2);
	free(cfgpath);
	free(log);
	if (pid < 0) {
		snprintf(err, errlen, "%s: %s", name, e2);
		return -1;
	}
	json_object_set_new(node, "sshd_pid", json_integer(pid));
	return 0;
}

static int nodes_wait_sshd(const struct cluster_spec *sp, json_t *nodes, char *err, size_t errlen)
{
	for (int i = 0; i < sp->n; i++) {
		json_t *nd = json_array_get(nodes, i);
		pid_t pid = (pid_t)json_integer_value(json_object_get(nd, "sshd_pid"));
		if (wait_port(node_addr(sp, i), 22, 10000) == 0)
			continue;
		const char *wd = json_string_value(json_object_get(nd, "workdir"));
		char *log = xasprintf("%s/sshd.log", wd);
		char *txt = file_read_all(log, NULL);
		char *last = txt ? strrchr(txt, '\n') : NULL;
		while (last && last > txt && last[1] == 0) {
			*last = 0;
			last = strrchr(txt, '\n');
		}
		snprintf(err, errlen, "%s: sshd (pid %d) %s listening on port 22 after 10 s%s%s",
			 json_string_value(json_object_get(nd, "name")), (int)pid,
			 pid_alive(pid) ? "not" : "exited without", txt ? ": " : "",
			 txt ? (last ? last + 1 : txt) : "");
		free(txt);
		free(log);
		return -1;
	}
	return 0;
}


/* The machine-wide lock of cluster creation: subnet choice and the state
 * directory that records it happen under it, so two `cluster up` at once
 * never take the same subnet. Released when the fd is closed (or the
 * process dies). */
static int machine_lock(char *err, size_t errlen)
{
	if (mkdir_p(CLUSTER_STATE_ROOT, 0755) < 0) {
		snprintf(err, errlen, "%s: %s", CLUSTER_STATE_ROOT, strerror(errno));
		return -1;
	}
	int fd = open(CLUSTER_STATE_ROOT "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		snprintf(err, errlen, "%s/.lock: %s", CLUSTER_STATE_ROOT, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int cluster_reserve(struct cluster_spec *sp, char *err, size_t errlen)
{
	int lock = machine_lock(err, errlen);
	if (lock < 0)
		return -1;
	int rc = -1;
	char *dir = state_dir(sp->name);
	json_t *j = NULL;
	if (cluster_exists(sp->name)) {
		snprintf(err, errlen, "cluster %s already exists (state in %s); `faultline cluster "
			 "down --name %s` removes it", sp->name, dir, sp->name);
	} else if (!sp->net && cluster_pick_subnet(sp->name, &sp->net, &sp->prefix) < 0) {
		snprintf(err, errlen, "no free 10.213.X.0/24 subnet; give one with --subnet");
	} else if (cluster_check_subnet(sp->name, sp->net, sp->prefix, sp->n, err, errlen) == 0) {
		j = plan_json(sp, dir);
		if (mkdir(dir, 0700) < 0)
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		else if (state_write(sp->name, j, err, errlen) == 0)
			rc = 0;
	}
	json_decref(j);
	free(dir);
	close(lock);
	return rc;
}

int cluster_up(const struct cluster_spec *sp, char *err, size_t errlen)
{
	char *dir = state_dir(sp->name);
	json_t *j = state_read(sp->name);
	json_t *nodes = json_object_get(j, "nodes");
	int rc = -1;
	char br[16];
	bridge_name(sp->name, br);
	if (!j) {
		snprintf(err, errlen, "cluster %s: no reserved state (cluster_reserve first)", sp->name);
		goto out;
	}
	if (mkdir_p("/run/sshd", 0755) < 0) {
		snprintf(err, errlen, "/run/sshd: %s", strerror(errno));
		goto out;
	}
	/* Before any link exists: node addresses never route elsewhere. */
	if (netns_guard_route_add(sp->net, sp->prefix, err, errlen) < 0)
		goto out;
	char *key = xasprintf("%s/id_ed25519", dir);
	char *pub = key_generate(key, "faultline-controller", err, errlen);
	free(key);
	if (!pub)
		goto out;
	char *ak = xasprintf("%s/authorized_keys", dir);
	char *akline = xasprintf("%s faultline-controller\n", pub);
	file_write_all(ak, akline, strlen(akline));
	free(ak), free(akline), free(pub);
	if (netns_bridge_create(br, sp->net + 1, sp->prefix, err, errlen) < 0)
		goto out;
	/* down removes the rule by its comment, with or without state. */
	if (bridge_nf_on() && forward_rule("-I", br, sp->name) != 0) {
		snprintf(err, errlen, "bridge %s: cannot add the FORWARD accept rule for "
			 "bridged traffic (br_netfilter is on)", br);
		goto out;
	}
	for (int i = 0; i < sp->n; i++) {
		int nrc = node_create(sp, dir, json_array_get(nodes, i), i, err, errlen);
		char scratch[256];
		state_write(sp->name, j, scratch, sizeof scratch);
		if (nrc < 0)
			goto out;
	}
	if (nodes_wait_sshd(sp, nodes, err, errlen) < 0)
		goto out;
	json_object_set_new(j, "state", json_string("up"));
	if (state_write(sp->name, j, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		char e2[256];
		cluster_down(sp->name, e2, sizeof e2);
	}
	json_decref(j);
	free(dir);
	return rc;
}

/* ---- down ------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

/* Namespaces named fl-NAME-nI that exist, beyond what the state lists. */
static int netns_count_on_disk(const char *name)
{
	int max = 0;
	DIR *d = opendir(NETNS_RUN_DIR);
	if (!d)
		return 0;
	char *prefix = xasprintf("fl-%s-n", name);
	struct dirent *e;
	while ((e = readdir(d))) {
		long i;
		if (!strncmp(e->d_name, prefix, strlen(prefix)) &&
		    parse_long(e->d_name + strlen(prefix), 1, 100000, &i) && i > max)
			max = (int)i;
	}
	free(prefix);
	closedir(d);
	return max;
}

int cluster_lock(const char *name, const char *holder, char *who, size_t wholen)
{
	char *path = xasprintf("%s/%s/run.lock", CLUSTER_STATE_ROOT, name);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(who, wholen, "%s: %s", path, strerror(errno));
		free(path);
		return errno == ENOENT ? CLUSTER_LOCK_GONE : -1;
	}
	free(path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, who, wholen - 1, 0);
		who[n > 0 ? n : 0] = 0;
		if (n <= 0)
			snprintf(who, wholen, "another faultline process");
		close(fd);
		return CLUSTER_LOCK_HELD;
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, holder, strlen(holder), 0) < 0)
		log_warn("cluster %s: cannot record the lock holder: %s", name, strerror(errno));
	return fd;
}

void cluster_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int cluster_down(const char *name, char *err, size_t errlen)
{
	char holder[128], who[400];
	snprintf(holder, sizeof holder, "faultline cluster down (pid %ld)", (long)getpid());
	int lock = cluster_lock(name, holder, who, sizeof who);
	if (lock == CLUSTER_LOCK_HELD) {
		snprintf(err, errlen, "cluster %s is in use by %s; stop it first (or wait for it)",
			 name, who);
		return CLUSTER_LOCK_HELD;
	}
	json_t *j = state_read(name);
	json_t *nodes = json_object_get(j, "nodes");
	int n = (int)json_array_size(nodes);
	int disk = netns_count_on_disk(name);
	if (disk > n)
		n = disk;
	int rc = 0;
	char e2[300];
	char br[16];
	bridge_name(name, br);
	for (int i = 0; i < n; i++) {
		json_t *nd = json_array_get(nodes, i);
		pid_t sshd = (pid_t)json_integer_value(json_object_get(nd, "sshd_pid"));
		if (pid_alive(sshd) && proc_is(sshd, SSHD_BIN))
			kill(sshd, SIGTERM);
		char *ns = netns_name(name, i);
		netns_kill_all(ns);
		if (netns_remove(ns, e2, sizeof e2) < 0 && rc == 0) {
			snprintf(err, errlen, "%s", e2);
			rc = -1;
		}
		free(ns);
		char v[16];
		veth_name(name, i, v);
		if (netns_link_delete(v, e2, sizeof e2) < 0 && rc == 0) {
			snprintf(err, errlen, "%s", e2);
			rc = -1;
		}
	}
	if (netns_link_delete(br, e2, sizeof e2) < 0 && rc == 0) {
		snprintf(err, errlen, "%s", e2);
		rc = -1;
	}
	while (forward_rule("-C", br, name) == 0 && forward_rule("-D", br, name) == 0)
		;
	/* The guard route goes last, once no link of the cluster is left. */
	uint32_t net;
	int prefix;
	const char *sub = json_string_value(json_object_get(j, "subnet"));
	if (rc == 0 && sub && cluster_parse_subnet(sub, &net, &prefix, e2, sizeof e2) == 0 &&
	    netns_guard_route_del(net, prefix, e2, sizeof e2) < 0) {
		snprintf(err, errlen, "%s", e2);
		rc = -1;
	}
	char *dir = state_dir(name);
	if (rc == 0 && nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		rc = -1;
	}
	free(dir);
	json_decref(j);
	cluster_unlock(lock);
	return rc;
}

bool cluster_exists(const char *name)
{
	char *dir = state_dir(name);
	char br[16];
	bridge_name(name, br);
	char *ns = netns_name(name, 0);
	bool any = access(dir, F_OK) == 0 || netns_link_exists(br) || netns_exists(ns) ||
		   netns_count_on_disk(name) > 0;
	free(dir);
	free(ns);
	return any;
}

/* ---- status ----------------------------------------------------------- */

json_t *cluster_status_json(const char *name)
{
	json_t *c = cluster_load(name);
	if (!c)
		return NULL;
	size_t i;
	json_t *nd;
	json_array_foreach(json_object_get(c, "nodes"), i, nd) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(nd, "sshd_pid"));
		json_object_set_new(nd, "sshd_alive",
				    json_boolean(pid_alive(pid) && proc_is(pid, SSHD_BIN)));
	}
	char *dir = state_dir(name);
	json_object_set_new(c, "state_dir", json_string(dir));
	free(dir);
	return c;
}

/* First 10.213.X.0/24 (X from 7) free of other clusters and host networks. */
int cluster_pick_subnet(const char *name, uint32_t *net, int *prefix)
{
	struct taken *t;
	int n = taken_networks(name, &t), rc = -1;
	char err[256];
	for (uint32_t x = 7; x < 256 && rc < 0; x++) {
		uint32_t a = 0x0ad50000u | (x << 8);
		if (taken_conflict(t, n, a, 24, err, sizeof err) == 0) {
			*net = a;
			*prefix = 24;
			rc = 0;
		}
	}
	free(t);
	return rc;
}

int cluster_check_subnet(const char *name, uint32_t net, int prefix, int nodes, char *err,
			 size_t errlen)
{
	uint32_t size = 1u << (32 - prefix);
	if ((uint32_t)nodes + NODE_OFFSET + 2 > size) {
		snprintf(err, errlen, "--subnet: a /%d has room for %d nodes, not %d", prefix,
			 (int)size - NODE_OFFSET - 2, nodes);
		return -1;
	}
	struct taken *t;
	int n = taken_networks(name, &t);
	int rc = taken_conflict(t, n, net, prefix, err, errlen);
	free(t);
	return rc;
}

char *cluster_subnet_str(uint32_t net, int prefix)
{
	char *ip = ip_str(net);
	char *s = xasprintf("%s/%d", ip, prefix);
	free(ip);
	return s;
}
