/*
 * node.c - how fault kinds act on nodes (nemesis_impl.h): one script per
 * node, all nodes in parallel over their persistent SSH sessions; the
 * shell prelude those scripts share; node-side helper binaries, checked by
 * POSIX cksum and uploaded over SFTP where missing or stale; addresses.
 *
 * Scripts are built with buf_sh_quote for every value that comes from the
 * config (workdirs, addresses): nothing reaches a node's shell unquoted.
 */
#include "nemesis_impl.h"

#include "par.h"

#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *nem_workdir(const struct test *t, int node)
{
	const char *w = t->nodes[node].workdir;
	return w && *w ? w : "/var/lib/faultline";
}

/* The chain layout, in the order packets meet it: partitions drop first,
 * so that a packet NFQUEUE'd and accepted by packetd (which skips the rest
 * of the chain) can never slip past a partition. */
#define IPT_LAYOUT_RULES                                                                 \
	":FAULTLINE-IN - [0:0]\n:FAULTLINE-OUT - [0:0]\n"                                   \
	"-A FAULTLINE-IN -j FAULTLINE-PART-IN\n"                                              \
	"-A FAULTLINE-OUT -j FAULTLINE-PART-OUT\n"                                            \
	"-A FAULTLINE-OUT -j FAULTLINE-SLOW-OUT\n"                                            \
	"-A FAULTLINE-OUT -j FAULTLINE-PKT-OUT\n"
static const char ipt_layout[] = "*filter\n" IPT_LAYOUT_RULES "COMMIT\n";

void nem_prelude(struct buf *b, const struct test *t, int node)
{
	buf_puts(b, "W=");
	buf_sh_quote(b, nem_workdir(t, node));
	buf_puts(b, "\n"
		 "fl_alive() { [ -d \"/proc/$1\" ] && ! grep -q '^State:[[:space:]]*Z' \"/proc/$1/status\" 2>/dev/null; }\n"
		 "fl_stop_helper() {\n"
		 "  pf=\"$W/faultline-$1.pid\"\n"
		 "  p=$(cat \"$pf\" 2>/dev/null) || return 0\n"
		 "  case \"$p\" in ''|*[!0-9]*) rm -f \"$pf\"; return 0;; esac\n"
		 "  e=$(readlink \"/proc/$p/exe\" 2>/dev/null) || e=\n"
		 "  case \"$e\" in\n"
		 "  */faultline-\"$1\"|*/faultline-\"$1\"' (deleted)')\n"
		 "    kill -TERM \"$p\" 2>/dev/null\n"
		 "    i=0; while fl_alive \"$p\" && [ $i -lt 300 ]; do sleep 0.01; i=$((i+1)); done\n"
		 "    if fl_alive \"$p\"; then kill -KILL \"$p\" 2>/dev/null; fi;;\n"
		 "  esac\n"
		 "  rm -f \"$pf\"\n"
		 "}\n"
		 "fl_ipt_ensure() {\n"
		 "  for c in FAULTLINE-PART-IN FAULTLINE-PART-OUT FAULTLINE-SLOW-OUT FAULTLINE-PKT-OUT; do\n"
		 "    \"$1\" -w -N \"$c\" 2>/dev/null\n"
		 "  done\n");
	buf_puts(b, "  printf '%s' ");
	buf_sh_quote(b, ipt_layout);
	buf_puts(b, " | \"$1-restore\" -w --noflush || return 1\n");
	buf_puts(b, "  \"$1\" -w -C INPUT -j FAULTLINE-IN 2>/dev/null || \"$1\" -w -I INPUT 1 -j FAULTLINE-IN || return 1\n"
		 "  \"$1\" -w -C OUTPUT -j FAULTLINE-OUT 2>/dev/null || \"$1\" -w -I OUTPUT 1 -j FAULTLINE-OUT\n"
		 "}\n"
		 "fl_ipt_ready() {\n"
		 "  command -v \"$1\" >/dev/null 2>&1 || { echo \"$1 not found (install iptables)\" >&2; return 1; }\n"
		 "  { \"$1\" -w -C OUTPUT -j FAULTLINE-OUT && \"$1\" -w -C INPUT -j FAULTLINE-IN &&\n"
		 "    \"$1\" -w -C FAULTLINE-OUT -j FAULTLINE-PKT-OUT; } 2>/dev/null || fl_ipt_ensure \"$1\"\n"
		 "}\n");
}

void nem_ipt_apply(struct nemesis_ctx *c, int node, struct buf *b, const char *ipt,
		   const char *body)
{
	/* The batch re-declares the layout too: one atomic restore puts a
	 * flushed layout back, and fails as a whole (no half state) when the
	 * chains are missing, which sends it through fl_ipt_ensure. The first
	 * time on a node in this context the jumps from INPUT/OUTPUT are
	 * checked as well. */
	if (!c->chains_ok || !c->chains_ok[node])
		buf_printf(b, "fl_ipt_ready %s || exit 1\n", ipt);
	struct buf batch;
	buf_init(&batch);
	buf_puts(&batch, "*filter\n" IPT_LAYOUT_RULES);
	buf_puts(&batch, body);
	buf_puts(&batch, "COMMIT\n");
	buf_puts(b, "fl_b=");
	buf_sh_quote(b, batch.data);
	buf_printf(b, "\nprintf '%%s' \"$fl_b\" | %s-restore -w --noflush 2>/dev/null ||"
		      " { fl_ipt_ensure %s && printf '%%s' \"$fl_b\" | %s-restore -w --noflush; } || exit 1\n",
		   ipt, ipt, ipt);
	buf_free(&batch);
}

void nem_chains_ok(struct nemesis_ctx *c, bool ok)
{
	for (int i = 0; c->chains_ok && i < c->test->n_nodes; i++)
		c->chains_ok[i] = ok && c->ssh && c->ssh[i];
}

/* ---- running on many nodes ---- */

struct exec_all {
	struct ssh_node **ssh;
	char *const *scripts;
	int timeout_ms;
	struct ssh_result *res;
	int *rc;
};

static int exec_node(void *ctx, int i, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	struct exec_all *x = ctx;
	x->rc[i] = ssh_exec(x->ssh[i], x->scripts[i], x->timeout_ms, &x->res[i]);
	return 0;
}

/* The line that best says why a node script failed. */
static void why_failed(const struct ssh_result *r, char *out, size_t n)
{
	const char *srcs[2] = {r->err, r->out};
	for (int s = 0; s < 2; s++) {
		last_line(srcs[s] ? srcs[s] : "", out, n);
		if (out[0])
			return;
	}
	snprintf(out, n, "%s", r->timed_out ? "timed out" : "failed");
	if (r->status > 0)
		snprintf(out, n, "exit status %d", r->status);
}

static void err_join(char *err, size_t errlen, const char *node, const char *why)
{
	if (!err || !errlen)
		return;
	/* A transport error already names the node. */
	bool named = !strncmp(why, node, strlen(node)) && why[strlen(node)] == ':';
	nem_err_append(err, errlen, named ? NULL : node, why);
}

int nem_run(struct nemesis_ctx *c, char *const *scripts, struct ssh_result *rs,
	    int timeout_ms, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	struct exec_all x = {.ssh = c->ssh, .scripts = scripts,
			     .timeout_ms = timeout_ms > 0 ? timeout_ms : NEM_CMD_TIMEOUT_MS,
			     .res = xcalloc((size_t)n, sizeof *x.res),
			     .rc = xcalloc((size_t)n, sizeof *x.rc)};
	bool *want = xcalloc((size_t)n, sizeof *want);
	for (int i = 0; i < n; i++)
		want[i] = scripts[i] && c->ssh && c->ssh[i];
	par_each(n, want, exec_node, &x, NULL, 0);
	if (err && errlen)
		err[0] = 0;
	int failed = 0;
	for (int i = 0; i < n; i++) {
		if (!scripts[i])
			continue;
		const char *name = c->test->nodes[i].name;
		if (!want[i]) {
			if (c->skip_unreachable)
				continue;
			failed++;
			err_join(err, errlen, name, "not reachable over SSH");
			if (rs)
				memset(&rs[i], 0, sizeof rs[i]), rs[i].status = -1;
			continue;
		}
		if (x.rc[i] != 0 || x.res[i].status != 0) {
			char why[300];
			why_failed(&x.res[i], why, sizeof why);
			err_join(err, errlen, name, why);
			failed++;
		}
		if (rs)
			rs[i] = x.res[i];
		else
			ssh_result_free(&x.res[i]);
	}
	free(x.res);
	free(x.rc);
	free(want);
	return failed;
}

void nem_results_free(struct ssh_result *rs, int n)
{
	for (int i = 0; i < n; i++)
		if (rs[i].out || rs[i].err)
			ssh_result_free(&rs[i]);
}

void nem_scripts_free(char **scripts, int n)
{
	if (!scripts)
		return;
	for (int i = 0; i < n; i++)
		free(scripts[i]);
	free(scripts);
}

int nem_run_fn(struct nemesis_ctx *c, const bool *want, nem_script_fn fn, int timeout_ms,
	       char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	char **scripts = xcalloc((size_t)n, sizeof *scripts);
	for (int i = 0; i < n; i++)
		if (!want || want[i])
			scripts[i] = fn(c, i);
	int failed = nem_run(c, scripts, NULL, timeout_ms, err, errlen);
	nem_scripts_free(scripts, n);
	return failed;
}

void nem_err_append(char *err, size_t errlen, const char *what, const char *why)
{
	size_t l = strlen(err);
	if (l < errlen)
		snprintf(err + l, errlen - l, "%s%s%s%s", l ? "; " : "", what ? what : "",
			 what ? ": " : "", why);
}

json_t *nem_rollback(struct nemesis_ctx *c, json_t *applied, const bool *want,
		     nem_script_fn fn, char *err, size_t errlen)
{
	char rerr[512] = "";
	if (nem_run_fn(c, want, fn, 0, rerr, sizeof rerr) == 0) {
		json_decref(applied);
		return NULL;
	}
	nem_err_append(err, errlen, "rollback failed", rerr);
	return applied;
}

bool *nem_want_applied(struct nemesis_ctx *c, json_t *applied)
{
	bool *want = xcalloc((size_t)c->test->n_nodes, sizeof *want);
	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(applied, "nodes"), name, v) {
		int i = nem_node_index(c->test, name);
		if (i >= 0)
			want[i] = true;
	}
	return want;
}

int nem_stop_applied(struct nemesis_ctx *c, json_t *applied, nem_script_fn fn, json_t **result,
		     const char *ok_word, const char *fail_word, char *err, size_t errlen)
{
	bool *want = nem_want_applied(c, applied);
	int rc = nem_run_fn(c, want, fn, 0, err, errlen) ? -1 : 0;
	free(want);
	if (result)
		*result = json_string(rc ? fail_word : ok_word);
	return rc;
}

bool *nem_targets_want(struct nemesis_ctx *c, json_t *spec, const char *def, bool avoid_busy,
		       char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	int *idx = xcalloc((size_t)n, sizeof *idx);
	int k = nem_targets(c, spec, def, avoid_busy, idx, err, errlen);
	bool *want = NULL;
	if (k >= 0) {
		want = xcalloc((size_t)n, sizeof *want);
		for (int i = 0; i < k; i++)
			want[idx[i]] = true;
	}
	free(idx);
	return want;
}

struct each_all {
	struct nemesis_ctx *c;
	nem_node_fn fn;
	void *arg;
};

static int each_node(void *ctx, int i, char *err, size_t errlen)
{
	struct each_all *e = ctx;
	struct nemesis_ctx *c = e->c;
	char why[512] = "";
	int rc;
	if (c->ssh && !c->ssh[i]) {
		rc = -1;
		snprintf(why, sizeof why, "not reachable over SSH");
	} else {
		rc = e->fn(c, i, e->arg, why, sizeof why);
	}
	if (rc != 0) {
		/* A transport error already names the node. */
		err[0] = 0;
		err_join(err, errlen, c->test->nodes[i].name, why[0] ? why : "failed");
	}
	return rc;
}

int nem_each(struct nemesis_ctx *c, const bool *want, nem_node_fn fn, void *arg, char *err,
	     size_t errlen)
{
	int n = c->test->n_nodes;
	bool *sel = xcalloc((size_t)n, sizeof *sel);
	for (int i = 0; i < n; i++)
		sel[i] = (!want || want[i]) && !(c->ssh && !c->ssh[i] && c->skip_unreachable);
	struct each_all e = {c, fn, arg};
	int failed = par_each(n, sel, each_node, &e, err, errlen);
	free(sel);
	return failed;
}

/* ---- helper binaries ---- */

char *nem_helper_local(const char *name)
{
	const char *dir = getenv("FAULTLINE_HELPER_DIR");
	if (dir && *dir)
		return xasprintf("%s/faultline-%s", dir, name);
	char self[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
	if (l <= 0)
		return xasprintf("faultline-%s", name);
	self[l] = 0;
	return xasprintf("%s/faultline-%s", dirname(self), name);
}

/* POSIX cksum: CRC-32 (polynomial 0x04C11DB7, MSB first) over the data
 * and then its length, complemented - what `cksum` prints on every node,
 * so a helper can be compared without copying it back. */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i << 24;
		for (int k = 0; k < 8; k++)
			c = c & 0x80000000u ? (c << 1) ^ 0x04C11DB7u : c << 1;
		crc_table[i] = c;
	}
}

static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		crc = (crc << 8) ^ crc_table[((crc >> 24) ^ p[i]) & 0xff];
	return crc;
}

static uint32_t crc_finish(uint32_t crc, uint64_t len)
{
	for (; len; len >>= 8) {
		unsigned char b = (unsigned char)(len & 0xff);
		crc = crc_update(crc, &b, 1);
	}
	return ~crc;
}

uint32_t nem_cksum(const unsigned char *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
	return crc_finish(crc_update(0, p, n), n);
}

int nem_cksum_file(const char *path, uint32_t *crc, uint64_t *len)
{
	pthread_once(&crc_once, crc_init);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	unsigned char buf[65536];
	uint32_t c = 0;
	uint64_t total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		c = crc_update(c, buf, (size_t)r);
		total += (uint64_t)r;
	}
	close(fd);
	*crc = crc_finish(c, total);
	*len = total;
	return 0;
}

struct helper_arg {
	const char *name;
	unsigned bit;
	const char *local;
	char sum[64]; /* "CRC LEN" as cksum prints it */
};

/* Upload to a temporary name and rename: a running helper's file cannot
 * be overwritten (ETXTBSY) but can be replaced. */
static int helper_one(struct nemesis_ctx *c, int node, void *argp, char *err, size_t errlen)
{
	struct helper_arg *a = argp;
	if (c->helpers_ok && (c->helpers_ok[node] & a->bit))
		return 0;
	struct buf b;
	buf_init(&b);
	nem_prelude(&b, c->test, node);
	buf_printf(&b, "f=\"$W/bin/faultline-%s\"\n"
		       "mkdir -p \"$W/bin\" || exit 1\n"
		       "if [ -x \"$f\" ] && s=$(cksum <\"$f\") && [ \"$s\" = \"%s\" ]; then exit 0; fi\n"
		       "exit 10\n",
		   a->name, a->sum);
	char *script;
	script = buf_steal(&b);
	struct ssh_result r;
	int rc = ssh_exec(c->ssh[node], script, NEM_CMD_TIMEOUT_MS, &r);
	free(script);
	if (rc < 0 || (r.status != 0 && r.status != 10)) {
		char why[300];
		why_failed(&r, why, sizeof why);
		snprintf(err, errlen, "cannot check %s/bin/faultline-%s: %s",
			 nem_workdir(c->test, node), a->name, why);
		ssh_result_free(&r);
		return -1;
	}
	bool have = r.status == 0;
	ssh_result_free(&r);
	char *remote = xasprintf("%s/bin/faultline-%s", nem_workdir(c->test, node), a->name);
	if (!have) {
		char *tmp = xasprintf("%s.upload", remote);
		log_info("%s: uploading faultline-%s to %s", c->test->nodes[node].name, a->name,
			 remote);
		if (ssh_upload(c->ssh[node], a->local, tmp, 0755, err, errlen) < 0) {
			free(tmp);
			free(remote);
			return -1;
		}
		buf_init(&b);
		buf_puts(&b, "mv -f ");
		buf_sh_quote(&b, tmp);
		buf_puts(&b, " ");
		buf_sh_quote(&b, remote);
		buf_puts(&b, "\n");
		free(tmp);
		script = buf_steal(&b);
		rc = ssh_exec(c->ssh[node], script, NEM_CMD_TIMEOUT_MS, &r);
		free(script);
		if (rc < 0 || r.status != 0) {
			char why[300];
			why_failed(&r, why, sizeof why);
			snprintf(err, errlen, "cannot install %s: %s", remote, why);
			ssh_result_free(&r);
			free(remote);
			return -1;
		}
		ssh_result_free(&r);
	}
	/* It must also run there (shared libraries, architecture). */
	buf_init(&b);
	buf_sh_quote(&b, remote);
	buf_puts(&b, " --version\n");
	script = buf_steal(&b);
	rc = ssh_exec(c->ssh[node], script, NEM_CMD_TIMEOUT_MS, &r);
	free(script);
	if (rc < 0 || r.status != 0) {
		char why[300];
		why_failed(&r, why, sizeof why);
		snprintf(err, errlen, "faultline-%s does not run there: %s", a->name, why);
		ssh_result_free(&r);
		free(remote);
		return -1;
	}
	ssh_result_free(&r);
	free(remote);
	if (c->helpers_ok)
		c->helpers_ok[node] |= a->bit;
	return 0;
}

int nem_helper_ensure(struct nemesis_ctx *c, const char *name, const bool *want, char *err,
		      size_t errlen)
{
	/* One bit per helper name (a context sees only a few). */
	static const char *const known[] = {"packetd", "slowd", "clockd", "diskd"};
	unsigned bit = 1u << 31;
	for (unsigned k = 0; k < sizeof known / sizeof *known; k++)
		if (!strcmp(known[k], name))
			bit = 1u << k;
	struct helper_arg a = {.name = name, .bit = bit};
	char *local = nem_helper_local(name);
	a.local = local;
	uint32_t crc;
	uint64_t len;
	if (nem_cksum_file(local, &crc, &len) < 0) {
		snprintf(err, errlen, "helper %s: %s (build it with make)", local, strerror(errno));
		free(local);
		return -1;
	}
	snprintf(a.sum, sizeof a.sum, "%u %llu", crc, (unsigned long long)len);
	int failed = nem_each(c, want, helper_one, &a, err, errlen);
	free(local);
	return failed ? -1 : 0;
}

/* ---- network namespaces ---- */

static char *local_netid(void)
{
	char *boot = file_read_all("/proc/sys/kernel/random/boot_id", NULL);
	char ns[128] = "";
	ssize_t l = readlink("/proc/self/ns/net", ns, sizeof ns - 1);
	if (!boot || l <= 0) {
		free(boot);
		return NULL;
	}
	ns[l] = 0;
	boot[strcspn(boot, "\n")] = 0;
	char *id = xasprintf("%s:%s", boot, ns);
	free(boot);
	return id;
}

int nem_net_own(struct nemesis_ctx *c, const bool *want, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	char **scripts = xcalloc((size_t)n, sizeof *scripts);
	bool any = false;
	for (int i = 0; i < n; i++)
		if ((!want || want[i]) && !c->netid[i]) {
			scripts[i] = xstrdup("printf '%s:%s\\n' \"$(cat /proc/sys/kernel/random/boot_id)\""
					     " \"$(readlink /proc/self/ns/net)\"\n");
			any = true;
		}
	int rc = 0;
	if (any) {
		struct ssh_result *rs = xcalloc((size_t)n, sizeof *rs);
		if (nem_run(c, scripts, rs, 0, err, errlen) > 0)
			rc = -1;
		for (int i = 0; i < n && rc == 0; i++)
			if (scripts[i]) {
				rs[i].out[strcspn(rs[i].out, "\n")] = 0;
				c->netid[i] = xstrdup(rs[i].out);
			}
		nem_results_free(rs, n);
		free(rs);
	}
	nem_scripts_free(scripts, n);
	if (rc < 0)
		return -1;
	char *mine = local_netid();
	for (int i = 0; i < n && rc == 0; i++) {
		if ((want && !want[i]) || !c->netid[i])
			continue;
		if (mine && !strcmp(mine, c->netid[i])) {
			snprintf(err, errlen,
				 "unsupported on this node: %s is in the controller's own network "
				 "namespace, so its rules would cut the controller's traffic too",
				 c->test->nodes[i].name);
			rc = -1;
		}
		for (int j = 0; j < i && rc == 0; j++)
			if ((!want || want[j]) && c->netid[j] && !strcmp(c->netid[i], c->netid[j])) {
				snprintf(err, errlen,
					 "unsupported on this node: %s and %s share one network namespace, "
					 "so their rules would mix",
					 c->test->nodes[j].name, c->test->nodes[i].name);
				rc = -1;
			}
	}
	free(mine);
	return rc;
}

/* ---- addresses ---- */


bool nem_addr_is_v6(const char *addr) { return addr && strchr(addr, ':') != NULL; }

const char *nem_ipt_bin(const char *addr) { return nem_addr_is_v6(addr) ? "ip6tables" : "iptables"; }

int nem_peer_list(struct nemesis_ctx *c, const bool *peers, int self, bool v6, struct buf *out)
{
	int count = 0;
	for (int j = 0; j < c->test->n_nodes; j++) {
		if (j == self || (peers && !peers[j]) || nem_addr_is_v6(c->addr[j]) != v6)
			continue;
		buf_printf(out, "%s%s", count ? "," : "", c->addr[j]);
		count++;
	}
	return count;
}
