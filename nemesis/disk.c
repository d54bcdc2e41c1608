/*
 * disk.c - disk faults, through faultline-diskd (nemesis/daemons/diskd.c),
 * a FUSE filesystem with a page cache of its own mounted over the
 * database's data directory (db->data_dir) on every node before the
 * database is set up (nemesis_db_prepare, called by the runner when the
 * disk fault is enabled) and unmounted after its teardown
 * (nemesis_db_release). Modes, one per fault:
 *
 *   lose-unfsynced  kill -9 the database, drop every write it did not
 *                   fsync (and every rename no directory fsync made
 *                   durable), start it again: a power failure of the node;
 *   slow-io         latency before reads, writes and fsyncs (delay_ms,
 *                   delay_dist constant|uniform|exponential, delay_ops);
 *   io-errors       a proportion error_p of error_ops fail with EIO;
 *   disk-full       ENOSPC for writes past a file's end and new files.
 *
 * lose-unfsynced is done when start returns (kill, lose, restart; a
 * faultline-killed marker, as for kill, covers a controller dying in
 * between); the others last until stop, which clears them and starts a
 * database that died of them. heal clears every fault and flushes; outside
 * a run (faultline heal, --heal-first) it also unmounts and stops the
 * daemon, or, when the database still has files open there, leaves the
 * mount writing through (nothing cached, nothing to lose). The mount is
 * named by $W/faultline-diskd.mnt, the daemon by faultline-diskd.pid (its
 * /proc/PID/exe checked), its control socket faultline-diskd.sock.
 *
 * Options (nemesis_opts.disk): modes (a list to pick from; default all
 * four), targets or nodes, delay_ms (50), delay_dist (exponential),
 * delay_ops (all), error_p (0.2), error_ops (all), writeback_s (0: unsynced
 * data stays cached until an fsync; N: written back, not fsynced, after N
 * seconds, as a kernel would), max_dirty_mb (256).
 *
 * History: invoke {"mode":"lose-unfsynced","targets":"all"}, completion
 * {"mode":...,"nodes":{"n1":{"lost_bytes":812,"lost_files":2,
 * "renames_undone":0}}}; slow-io {"mode":"slow-io","delay_ms":50,...,
 * "nodes":{"n2":"slow I/O (exponential 50 ms: read write fsync)"}}.
 */
#include "test.h"
#include "nemesis_impl.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const disk_keys[] = {"modes",	"targets",   "nodes",	   "delay_ms",
					"delay_dist",	"delay_ops", "error_p",	   "error_ops",
					"writeback_s",	"max_dirty_mb", NULL};
static const char *const disk_modes[] = {"lose-unfsynced", "slow-io", "io-errors", "disk-full",
					 NULL};
static const char *const disk_dists[] = {"constant", "uniform", "exponential", NULL};
static const char *const disk_ops[] = {"read", "write", "fsync", NULL};

/* Set while this process (a run) has the data directories mounted: its
 * heals then keep the mounts (the database writes there), and release
 * takes them down. */
static atomic_bool disk_held;

static bool word_in(const char *w, const char *const *list)
{
	for (; w && *list; list++)
		if (!strcmp(w, *list))
			return true;
	return false;
}

static void list_words(const char *const *list, struct buf *b)
{
	for (const char *const *p = list; *p; p++)
		buf_printf(b, "%s%s", p == list ? "" : ", ", *p);
}

/* A word, or a non-empty list of words, all from list. */
static int words_check(json_t *v, const char *const *list, const char *where, const char *key,
		       char *err, size_t errlen)
{
	bool good = json_is_string(v) ? word_in(json_string_value(v), list)
				      : json_is_array(v) && json_array_size(v) > 0;
	size_t i;
	json_t *e;
	if (json_is_array(v))
		json_array_foreach(v, i, e) good = good && word_in(json_string_value(e), list);
	if (good)
		return 0;
	struct buf b;
	buf_init(&b);
	list_words(list, &b);
	snprintf(err, errlen, "%s.%s: expected one of %s, or a list of them", where, key, b.data);
	buf_free(&b);
	return -1;
}

/* "read,write,fsync" from a word or a list (default: all). */
static void ops_text(json_t *v, struct buf *b)
{
	if (json_is_string(v)) {
		buf_puts(b, json_string_value(v));
		return;
	}
	size_t i;
	json_t *e;
	if (json_is_array(v) && json_array_size(v) > 0) {
		json_array_foreach(v, i, e) buf_printf(b, "%s%s", i ? "," : "", json_string_value(e));
		return;
	}
	buf_puts(b, "read,write,fsync");
}

struct disk_params {
	double delay_ms, error_p, writeback_s, max_dirty_mb;
	const char *dist;
};

static int disk_parse(json_t *o, const char *where, struct disk_params *p, char *err,
		      size_t errlen)
{
	if (nem_opts_keys(o, disk_keys, where, err, errlen) < 0 ||
	    nem_opts_num(o, "delay_ms", 50, 0, 60000, where, &p->delay_ms, err, errlen) < 0 ||
	    nem_opts_num(o, "error_p", 0.2, 0, 1, where, &p->error_p, err, errlen) < 0 ||
	    nem_opts_num(o, "writeback_s", 0, 0, 3600, where, &p->writeback_s, err, errlen) < 0 ||
	    nem_opts_num(o, "max_dirty_mb", 256, 1, 65536, where, &p->max_dirty_mb, err, errlen) < 0)
		return -1;
	json_t *v;
	if ((v = o ? json_object_get(o, "modes") : NULL) &&
	    words_check(v, disk_modes, where, "modes", err, errlen) < 0)
		return -1;
	if ((v = o ? json_object_get(o, "delay_ops") : NULL) &&
	    words_check(v, disk_ops, where, "delay_ops", err, errlen) < 0)
		return -1;
	if ((v = o ? json_object_get(o, "error_ops") : NULL) &&
	    words_check(v, disk_ops, where, "error_ops", err, errlen) < 0)
		return -1;
	p->dist = "exponential";
	if ((v = o ? json_object_get(o, "delay_dist") : NULL)) {
		if (!json_is_string(v) || !word_in(json_string_value(v), disk_dists)) {
			snprintf(err, errlen, "%s.delay_dist: expected constant, uniform or exponential",
				 where);
			return -1;
		}
		p->dist = json_string_value(v);
	}
	return 0;
}

/* The data directory, relative to the workdir: the db's, when it has one
 * faultline can mount (no "..", not absolute). */
static const char *disk_data_dir(const struct db *db)
{
	const char *d = db ? db->data_dir : NULL;
	if (!d || !*d || d[0] == '/' || !strcmp(d, "..") || !strncmp(d, "../", 3) ||
	    strstr(d, "/../") || (strlen(d) >= 3 && !strcmp(d + strlen(d) - 3, "/..")))
		return NULL;
	return d;
}

static int disk_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	const char *where = "nemesis_opts.disk";
	const struct db *db = t->db ? db_find(t->db) : NULL;
	if (!disk_data_dir(db)) {
		snprintf(err, errlen, "nemesis disk: database %s has no data directory faultline can "
			 "mount (disk faults need one: etcd, redis, postgres)", t->db ? t->db : "none");
		return -1;
	}
	struct disk_params p;
	if (disk_parse(o, where, &p, err, errlen) < 0)
		return -1;
	return nem_targets_check(t, o, where, err, errlen);
}

static json_t *disk_plan(struct nemesis_ctx *c)
{
	json_t *o = nem_opts(c->test, "disk");
	struct disk_params p;
	char err[256];
	if (disk_parse(o, "", &p, err, sizeof err) < 0)
		disk_parse(NULL, "", &p, err, sizeof err);
	json_t *m = o ? json_object_get(o, "modes") : NULL;
	const char *mode = json_is_string(m)  ? json_string_value(m)
			   : json_is_array(m) ? nem_pick(c, m)
					      : disk_modes[nem_rand_int(c, 4)];
	json_t *spec = json_pack("{s:s}", "mode", mode);
	if (!strcmp(mode, "slow-io")) {
		struct buf ops;
		buf_init(&ops);
		ops_text(o ? json_object_get(o, "delay_ops") : NULL, &ops);
		json_object_set_new(spec, "delay_ms", json_real(p.delay_ms));
		json_object_set_new(spec, "delay_dist", json_string(p.dist));
		json_object_set_new(spec, "delay_ops", json_string(ops.data));
		buf_free(&ops);
	} else if (!strcmp(mode, "io-errors")) {
		struct buf ops;
		buf_init(&ops);
		ops_text(o ? json_object_get(o, "error_ops") : NULL, &ops);
		json_object_set_new(spec, "error_p", json_real(p.error_p));
		json_object_set_new(spec, "error_ops", json_string(ops.data));
		buf_free(&ops);
	}
	if (o && (json_object_get(o, "targets") || json_object_get(o, "nodes"))) {
		nem_targets_plan(c, o, "one", spec);
	} else {
		static const char *const words[] = {"one", "minority", "majority", "all", "primaries"};
		int nw = db_has_primaries(c->db, c->test) ? 5 : 4;
		json_object_set_new(spec, "targets", json_string(words[nem_rand_int(c, nw)]));
	}
	return spec;
}

/* ---- node scripts ---- */

/* The prelude plus B (the daemon), S (its socket), D (the data dir, from
 * the db, or else from the mount marker) and fl_disk_up / fl_disk_release. */
static void disk_prelude(struct buf *b, struct nemesis_ctx *c, int node)
{
	nem_prelude(b, c->test, node);
	buf_puts(b, "B=\"$W/bin/faultline-diskd\"\nS=\"$W/faultline-diskd.sock\"\n");
	const char *dd = disk_data_dir(c->db);
	if (dd) {
		buf_puts(b, "D=\"$W\"/");
		buf_sh_quote(b, dd);
		buf_puts(b, "\n");
	} else {
		buf_puts(b, "D=\n");
	}
	buf_puts(b,
		 "[ -s \"$W/faultline-diskd.mnt\" ] && D=$(cat \"$W/faultline-diskd.mnt\")\n"
		 "fl_disk_up() {\n"
		 "  p=$(cat \"$W/faultline-diskd.pid\" 2>/dev/null) && fl_alive \"$p\" &&\n"
		 "    \"$B\" --ctl \"$S\" ping >/dev/null 2>&1\n"
		 "}\n"
		 /* heal: a mount in use stays, writing through; release: it goes
		  * (lazily if in use) and so does the daemon. */
		 "fl_disk_release() {\n"
		 "  [ -x \"$B\" ] || { rm -f \"$W/faultline-diskd.mnt\"; return 0; }\n"
		 "  up=0; fl_disk_up && up=1\n"
		 "  if [ $up = 1 ]; then\n"
		 "    \"$B\" --ctl \"$S\" clear >/dev/null &&\n"
		 "    \"$B\" --ctl \"$S\" write-through on >/dev/null || { echo \"faultline-diskd on $D: cannot flush\" >&2; return 1; }\n"
		 "  fi\n"
		 "  if [ -n \"$D\" ] && \"$B\" --is-mounted \"$D\"; then\n"
		 "    if ! \"$B\" --unmount \"$D\" 2>/dev/null; then\n"
		 "      if [ \"$1\" = heal ] && [ $up = 1 ]; then echo busy; return 0; fi\n"
		 "      \"$B\" --unmount --lazy \"$D\" || return 1\n"
		 "    fi\n"
		 "  fi\n"
		 /* Unmounted, it exits by itself unless another mount namespace
		  * holds a copy of the mount: then the pid file stops it. */
		 "  i=0; while [ -s \"$W/faultline-diskd.pid\" ] && [ $i -lt 50 ]; do sleep 0.02; i=$((i+1)); done\n"
		 "  fl_stop_helper diskd\n"
		 "  rm -f \"$W/faultline-diskd.mnt\" \"$S\"\n"
		 "}\n");
}

static char *node_script(struct nemesis_ctx *c, int node, const char *body)
{
	struct buf b;
	buf_init(&b);
	disk_prelude(&b, c, node);
	buf_puts(&b, body);
	return buf_steal(&b);
}

/* Run body on one node; its stdout in *out (may be NULL). 0 or -1 with err. */
static int disk_sh(struct nemesis_ctx *c, int node, const char *body, char **out, char *err,
		   size_t errlen)
{
	char *script = node_script(c, node, body);
	struct ssh_result r;
	int rc = ssh_exec(c->ssh[node], script, NEM_CMD_TIMEOUT_MS, &r);
	free(script);
	if (rc < 0 || r.status != 0) {
		const char *why = r.err && *r.err ? r.err : r.out && *r.out ? r.out : "failed";
		snprintf(err, errlen, "%.400s", why);
		size_t l = strlen(err);
		while (l && (err[l - 1] == '\n' || err[l - 1] == ' '))
			err[--l] = 0;
		ssh_result_free(&r);
		return -1;
	}
	if (out)
		*out = xstrdup(r.out ? r.out : "");
	ssh_result_free(&r);
	return 0;
}

/* A command to the node's daemon: its reply (after "ok ") in *out. */
static int disk_ctl(struct nemesis_ctx *c, int node, const char *cmd, char **out, char *err,
		    size_t errlen)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "fl_disk_up || { echo \"faultline-diskd is not running on $D (the disk "
		       "fault mounts it before db setup)\" >&2; exit 1; }\n"
		       "\"$B\" --ctl \"$S\" %s\n",
		   cmd);
	char *o = NULL;
	int rc = disk_sh(c, node, b.data, &o, err, errlen);
	buf_free(&b);
	if (rc == 0 && out) {
		o[strcspn(o, "\n")] = 0;
		*out = xstrdup(!strncmp(o, "ok ", 3) ? o + 3 : o);
	}
	free(o);
	return rc;
}

/* ---- mounting (the runner's hooks) ---- */

static bool disk_enabled(const struct test *t)
{
	for (int i = 0; i < t->n_nemesis; i++)
		if (!strcmp(t->nemesis[i], "disk"))
			return true;
	return false;
}

static char *mount_script(struct nemesis_ctx *c, int node)
{
	struct disk_params p;
	char err[256];
	if (disk_parse(nem_opts(c->test, "disk"), "", &p, err, sizeof err) < 0)
		disk_parse(NULL, "", &p, err, sizeof err);
	struct buf b;
	buf_init(&b);
	disk_prelude(&b, c, node);
	/* What an earlier run left goes first (a stale daemon, a dead mount). */
	buf_printf(&b, "fl_disk_release release || exit 1\n"
		       "D=\"$W\"/");
	buf_sh_quote(&b, disk_data_dir(c->db));
	buf_printf(&b, "\n"
		       "mkdir -p -m 700 \"$D\" || exit 1\n"
		       "\"$B\" --daemon --pidfile \"$W/faultline-diskd.pid\" --log \"$W/faultline-diskd.log\""
		       " --socket \"$S\" --writeback-ms %.0f --max-dirty-mb %.0f \"$D\" || exit 1\n"
		       "printf '%%s\\n' \"$D\" >\"$W/faultline-diskd.mnt\"\n",
		   p.writeback_s * 1000, p.max_dirty_mb);
	return buf_steal(&b);
}

static char *release_script(struct nemesis_ctx *c, int node)
{
	return node_script(c, node, "fl_disk_release release\n");
}

/* Flush and write through, keep the mount: the database stays running. */
static char *keep_script(struct nemesis_ctx *c, int node)
{
	return node_script(c, node, "fl_disk_up || exit 0\n"
				    "\"$B\" --ctl \"$S\" clear >/dev/null && "
				    "\"$B\" --ctl \"$S\" write-through on >/dev/null\n");
}

int nemesis_db_prepare(const struct test *t, struct ssh_node **ssh, const struct db *db,
		       char *err, size_t errlen)
{
	if (!disk_enabled(t) || !disk_data_dir(db))
		return 0;
	uint64_t rng = 1;
	struct nemesis_ctx c;
	if (nemesis_ctx_init(&c, t, ssh, db, &rng, err, errlen) < 0) {
		nemesis_ctx_free(&c);
		return -1;
	}
	atomic_store(&disk_held, true);
	int rc = 0;
	if (nem_helper_ensure(&c, "diskd", NULL, err, errlen) < 0 ||
	    nem_run_fn(&c, NULL, mount_script, 0, err, errlen) > 0)
		rc = -1;
	else
		log_info("disk: %s mounted through faultline-diskd on %d nodes", db->data_dir,
			 t->n_nodes);
	nemesis_ctx_free(&c);
	return rc;
}

int nemesis_db_release(const struct test *t, struct ssh_node **ssh, const struct db *db,
		       char *err, size_t errlen)
{
	if (!atomic_load(&disk_held))
		return 0;
	uint64_t rng = 1;
	struct nemesis_ctx c;
	if (nemesis_ctx_init(&c, t, ssh, db, &rng, err, errlen) < 0) {
		nemesis_ctx_free(&c);
		return -1;
	}
	c.skip_unreachable = true;
	bool keep = t->leave_db_running;
	int rc = nem_run_fn(&c, NULL, keep ? keep_script : release_script, 0, err, errlen) ? -1 : 0;
	nemesis_ctx_free(&c);
	atomic_store(&disk_held, false);
	return rc;
}

/* ---- the fault ---- */

struct disk_job {
	char cmd[256];
	json_t **result; /* per node: what was applied there */
	bool *killed;    /* lose-unfsynced: per node, killed by us */
};

static int node_marker(struct nemesis_ctx *c, int node, bool set, char *err, size_t errlen)
{
	return disk_sh(c, node,
		       set ? "mkdir -p \"$W\" && touch \"$W/faultline-killed\"\n"
			   : "rm -f \"$W/faultline-killed\"\n",
		       NULL, err, errlen);
}

/* A power failure of one node: kill -9, every unsynced write dropped. */
static int lose_kill(struct nemesis_ctx *c, int node, void *arg, char *err, size_t errlen)
{
	struct disk_job *j = arg;
	if (disk_ctl(c, node, "ping", NULL, err, errlen) < 0)
		return -1;
	/* The marker first, as for kill: heal restarts what it names. */
	if (node_marker(c, node, true, err, errlen) < 0)
		return -1;
	if (c->db->kill(&c->dbc, node, err, errlen) < 0) {
		node_marker(c, node, false, NULL, 0);
		return -1;
	}
	j->killed[node] = true;
	j->result[node] = json_pack("{s:b}", "killed", 1);
	return 0;
}

static int lose_drop(struct nemesis_ctx *c, int node, void *arg, char *err, size_t errlen)
{
	struct disk_job *j = arg;
	char *out = NULL;
	/* Pages of shared writable mappings still dirty in the kernel reach
	 * the daemon first, to be lost with the rest. */
	if (disk_sh(c, node, "sync -f \"$D\" 2>/dev/null; fl_disk_up || exit 1\n"
			     "\"$B\" --ctl \"$S\" lose-unfsynced\n",
		    &out, err, errlen) < 0)
		return -1;
	const char *js = strncmp(out, "ok ", 3) ? out : out + 3;
	json_error_t je;
	json_t *v = json_loads(js, 0, &je);
	free(out);
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(err, errlen, "faultline-diskd: unexpected reply to lose-unfsynced");
		return -1;
	}
	json_object_update(j->result[node], v);
	json_decref(v);
	return 0;
}

static int lose_start(struct nemesis_ctx *c, int node, void *arg, char *err, size_t errlen)
{
	struct disk_job *j = arg;
	if (c->db->start(&c->dbc, node, err, errlen) < 0)
		return -1;
	node_marker(c, node, false, NULL, 0);
	json_object_set_new(j->result[node], "restarted", json_true());
	return 0;
}

static int fault_on(struct nemesis_ctx *c, int node, void *arg, char *err, size_t errlen)
{
	struct disk_job *j = arg;
	char *out = NULL;
	if (disk_ctl(c, node, j->cmd, &out, err, errlen) < 0)
		return -1;
	j->result[node] = json_string(out);
	free(out);
	return 0;
}

static int fault_clear(struct nemesis_ctx *c, int node, void *arg, char *err, size_t errlen)
{
	(void)arg;
	return disk_ctl(c, node, "clear", NULL, err, errlen);
}

/* A database that died of an I/O fault (fail-stop is a fine answer to
 * EIO) is started again once the fault is gone; one held by another
 * process fault is left to it. */
static int restart_dead(struct nemesis_ctx *c, int node, void *arg, char *err, size_t errlen)
{
	json_t **result = arg;
	if (!c->db || c->busy[node] || c->db->pid(&c->dbc, node) > 0)
		return 0;
	if (c->db->start(&c->dbc, node, err, errlen) < 0)
		return -1;
	result[node] = json_string("cleared; the database had exited: restarted");
	log_info("nemesis disk: %s had exited under the fault: restarted",
		 c->test->nodes[node].name);
	return 0;
}

static json_t *nodes_value(struct nemesis_ctx *c, const bool *want, json_t **result)
{
	json_t *nodes = json_object();
	for (int i = 0; i < c->test->n_nodes; i++)
		if (want[i] && result[i])
			json_object_set(nodes, c->test->nodes[i].name, result[i]);
	return nodes;
}

static void results_free(json_t **result, int n)
{
	for (int i = 0; i < n; i++)
		json_decref(result[i]);
	free(result);
}

/* "read,fsync": known operations only (they reach a node's shell). */
static bool ops_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	char tmp[80];
	snprintf(tmp, sizeof tmp, "%s", s);
	char *save = NULL;
	for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!word_in(t, disk_ops))
			return false;
	return s[strlen(s) - 1] != ',';
}

/* A spec's parameters (the plan's, or one given to nemx): checked, since
 * they become a command line on the node. */
static int spec_check(json_t *spec, const char *mode, char *err, size_t errlen)
{
	json_t *v;
	if (!strcmp(mode, "slow-io")) {
		v = json_object_get(spec, "delay_ms");
		const char *dist = json_string_value(json_object_get(spec, "delay_dist"));
		json_t *ops = json_object_get(spec, "delay_ops");
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 60000 ||
		    (dist && !word_in(dist, disk_dists)) || (ops && !ops_ok(json_string_value(ops)))) {
			snprintf(err, errlen, "disk slow-io: expected delay_ms 0..60000, delay_dist "
				 "constant|uniform|exponential, delay_ops like \"read,write,fsync\"");
			return -1;
		}
	} else if (!strcmp(mode, "io-errors")) {
		v = json_object_get(spec, "error_p");
		json_t *ops = json_object_get(spec, "error_ops");
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1 ||
		    (ops && !ops_ok(json_string_value(ops)))) {
			snprintf(err, errlen, "disk io-errors: expected error_p 0..1, error_ops like "
				 "\"read,write,fsync\"");
			return -1;
		}
	}
	return 0;
}

static json_t *disk_start(struct nemesis_ctx *c, json_t *spec, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	const char *mode = json_string_value(json_object_get(spec, "mode"));
	if (!word_in(mode, disk_modes)) {
		snprintf(err, errlen, "disk: unknown mode %s", mode ? mode : "(none)");
		return NULL;
	}
	if (!c->db || !disk_data_dir(c->db)) {
		snprintf(err, errlen, "disk: no database data directory to act on");
		return NULL;
	}
	bool lose = !strcmp(mode, "lose-unfsynced");
	bool *want = nem_targets_want(c, spec, "one", lose, err, errlen);
	if (!want)
		return NULL;
	if (spec_check(spec, mode, err, errlen) < 0)
		return NULL;
	struct disk_job j = {.result = xcalloc((size_t)n, sizeof *j.result)};
	json_t *applied = json_deep_copy(spec);
	json_object_del(applied, "targets");
	json_object_del(applied, "nodes");
	int failed = 0;
	if (lose) {
		/* In phases, so that targets fail together, as in a power cut. */
		j.killed = xcalloc((size_t)n, sizeof *j.killed);
		for (int i = 0; i < n; i++)
			if (want[i])
				c->busy[i] = "disk";
		failed = nem_each(c, want, lose_kill, &j, err, errlen);
		char e2[1024] = "";
		if (nem_each(c, j.killed, lose_drop, &j, e2, sizeof e2)) {
			nem_err_append(err, errlen, NULL, e2);
			failed++;
		}
		e2[0] = 0;
		if (nem_each(c, j.killed, lose_start, &j, e2, sizeof e2)) {
			nem_err_append(err, errlen, "restart", e2);
			failed++;
		}
		for (int i = 0; i < n; i++)
			if (want[i] && c->busy[i] && !strcmp(c->busy[i], "disk"))
				c->busy[i] = NULL;
		free(j.killed);
	} else {
		struct buf ops;
		buf_init(&ops);
		if (!strcmp(mode, "slow-io")) {
			ops_text(json_object_get(spec, "delay_ops"), &ops);
			const char *dist = json_string_value(json_object_get(spec, "delay_dist"));
			snprintf(j.cmd, sizeof j.cmd, "delay ops=%s ms=%g dist=%s", ops.data,
				 json_number_value(json_object_get(spec, "delay_ms")),
				 word_in(dist, disk_dists) ? dist : "exponential");
		} else if (!strcmp(mode, "io-errors")) {
			ops_text(json_object_get(spec, "error_ops"), &ops);
			snprintf(j.cmd, sizeof j.cmd, "errors ops=%s p=%g errno=EIO", ops.data,
				 json_number_value(json_object_get(spec, "error_p")));
		} else {
			snprintf(j.cmd, sizeof j.cmd, "full on");
		}
		buf_free(&ops);
		failed = nem_each(c, want, fault_on, &j, err, errlen);
		if (failed) {
			char rerr[512] = "";
			if (nem_each(c, want, fault_clear, NULL, rerr, sizeof rerr) == 0) {
				json_decref(applied);
				applied = NULL;
			} else {
				nem_err_append(err, errlen, "rollback failed", rerr);
			}
		}
	}
	if (applied) {
		json_t *nodes = nodes_value(c, want, j.result);
		if (json_object_size(nodes) == 0 && failed) {
			json_decref(nodes);
			json_decref(applied);
			applied = NULL;
		} else {
			json_object_set_new(applied, "nodes", nodes);
		}
	}
	results_free(j.result, n);
	free(want);
	return applied;
}

static int disk_stop(struct nemesis_ctx *c, json_t *applied, json_t **result, char *err,
		     size_t errlen)
{
	const char *mode = json_string_value(json_object_get(applied, "mode"));
	if (mode && !strcmp(mode, "lose-unfsynced")) {
		/* Done at start: the nodes were restarted then. */
		if (result)
			*result = json_string("nothing to undo");
		return 0;
	}
	int n = c->test->n_nodes;
	bool *want = nem_want_applied(c, applied);
	json_t **res = xcalloc((size_t)n, sizeof *res);
	int failed = nem_each(c, want, fault_clear, NULL, err, errlen);
	for (int i = 0; i < n; i++)
		if (want[i])
			res[i] = json_string("cleared");
	char e2[512] = "";
	if (nem_each(c, want, restart_dead, res, e2, sizeof e2)) {
		nem_err_append(err, errlen, "restart", e2);
		failed++;
	}
	if (result)
		*result = nodes_value(c, want, res);
	results_free(res, n);
	free(want);
	return failed ? -1 : 0;
}

/* In a run: faults cleared, everything flushed, the mount kept. Else the
 * mount goes too (or writes through while the database keeps it busy). */
static char *heal_script(struct nemesis_ctx *c, int node)
{
	if (atomic_load(&disk_held))
		return node_script(c, node,
				   "[ -x \"$B\" ] || exit 0\n"
				   "if fl_disk_up; then\n"
				   "  \"$B\" --ctl \"$S\" clear >/dev/null && \"$B\" --ctl \"$S\" flush >/dev/null\n"
				   "elif [ -n \"$D\" ] && \"$B\" --is-mounted \"$D\"; then\n"
				   "  echo \"faultline-diskd on $D is not running: the data dir is a dead mount\" >&2; exit 1\n"
				   "fi\n");
	return node_script(c, node, "fl_disk_release heal\n");
}

static int disk_heal(struct nemesis_ctx *c, char *err, size_t errlen)
{
	return nem_run_fn(c, NULL, heal_script, 0, err, errlen) ? -1 : 0;
}

void nem_disk_leftovers(struct buf *b)
{
	buf_puts(b, "B=\"$W/bin/faultline-diskd\"\n"
		    "if [ -x \"$B\" ]; then\n"
		    "  D=$(cat \"$W/faultline-diskd.mnt\" 2>/dev/null) || D=\n"
		    "  p=$(cat \"$W/faultline-diskd.pid\" 2>/dev/null) || p=\n"
		    "  if [ -n \"$p\" ] && fl_alive \"$p\" && s=$(\"$B\" --ctl \"$W/faultline-diskd.sock\" status 2>/dev/null); then\n"
		    "    s=${s#ok}; s=${s# }; [ -n \"$s\" ] && echo \"faultline-diskd on ${D##*/}: $s\"\n"
		    "  elif [ -n \"$D\" ] && \"$B\" --is-mounted \"$D\"; then\n"
		    "    echo \"dead faultline-diskd mount on ${D##*/}\"\n"
		    "  fi\n"
		    "fi\n");
}

const struct nemesis nemesis_disk = {
	.name = "disk",
	.check = disk_check,
	.plan = disk_plan,
	.start = disk_start,
	.stop = disk_stop,
	.heal = disk_heal,
};
