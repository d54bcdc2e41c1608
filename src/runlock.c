/*
 * runlock.c - the run lock (runlock.h). Remote lock files are created with
 * the shell's noclobber (O_EXCL), so of two runs starting at once exactly
 * one gets each node; a run that gets only some nodes gives them back. A
 * stale lock (its owner ran on this machine, in this boot, and that process
 * is gone) is moved aside and the create retried, which is also atomic.
 */
#include "runlock.h"

#include "cluster.h"
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

#define LOCK_EXIT_HELD 3
#define LOCK_TIMEOUT_MS 15000

struct runlock {
	const struct test *t;
	struct ssh_node **ssh;
	int cluster_fd;     /* local cluster: the flock'd fd, else -1 */
	char *owner;        /* remote: our owner line */
	bool *held;         /* remote: nodes whose lock file is ours */
};

/* The start time of a process in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0: with the boot id it names one process for ever. */
static unsigned long long proc_start(long pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	char *s = file_read_all(path, NULL);
	unsigned long long v = 0;
	char *p = s ? strrchr(s, ')') : NULL;
	if (p) {
		int field = 2;
		for (p++; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		v = strtoull(p, NULL, 10);
	}
	free(s);
	return v;
}

static char *boot_id(void)
{
	char *s = file_read_all("/proc/sys/kernel/random/boot_id", NULL);
	if (s)
		s[strcspn(s, "\n")] = 0;
	return s ? s : xstrdup("");
}

static char *owner_json(const char *what)
{
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	char since[32];
	time_t now = time(NULL);
	strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	char *bid = boot_id();
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:I, s:s}", "what", what, "pid",
			      (json_int_t)getpid(), "host", host, "boot_id", bid, "start",
			      (json_int_t)proc_start(getpid()), "since", since);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(bid);
	return s;
}

/* "faultline run (pid 12 on host, since ...)" */
static void owner_words(const char *owner, char *out, size_t n)
{
	json_t *o = json_loads(owner, 0, NULL);
	if (!json_is_object(o)) {
		snprintf(out, n, "an unreadable lock file");
	} else {
		snprintf(out, n, "%s (pid %lld on %s, since %s)",
			 json_string_value(json_object_get(o, "what")) ?: "?",
			 (long long)json_integer_value(json_object_get(o, "pid")),
			 json_string_value(json_object_get(o, "host")) ?: "?",
			 json_string_value(json_object_get(o, "since")) ?: "?");
	}
	json_decref(o);
}

/* A holder is known gone only if it ran here, in this boot, and that
 * process (pid + start time) no longer exists. */
static bool owner_gone(const char *owner)
{
	json_t *o = json_loads(owner, 0, NULL);
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	char *bid = boot_id();
	bool gone = false;
	if (!json_is_object(o)) {
		gone = true; /* not ours to keep: a torn write of a dead holder */
	} else if (!strcmp(json_string_value(json_object_get(o, "host")) ?: "", host)) {
		long pid = (long)json_integer_value(json_object_get(o, "pid"));
		unsigned long long start =
			(unsigned long long)json_integer_value(json_object_get(o, "start"));
		if (strcmp(json_string_value(json_object_get(o, "boot_id")) ?: "", bid))
			gone = true;
		else
			gone = pid <= 0 || proc_start(pid) != start;
	}
	json_decref(o);
	free(bid);
	return gone;
}

static void lock_script(struct buf *b, const struct test *t, int node, const char *owner,
			const char *stale)
{
	buf_puts(b, "W=");
	buf_sh_quote(b, t->nodes[node].workdir);
	buf_puts(b, "\nL=\"$W/faultline.lock\"\nmkdir -p \"$W\" || exit 1\n");
	if (stale) {
		/* Move the stale file aside only if it still holds what we saw. */
		buf_puts(b, "if [ \"$(cat \"$L\" 2>/dev/null)\" = ");
		buf_sh_quote(b, stale);
		buf_puts(b, " ]; then mv -f \"$L\" \"$L.stale.$$\" 2>/dev/null && rm -f \"$L.stale.$$\"; fi\n");
	}
	buf_puts(b, "if ( set -C; printf '%s\\n' ");
	buf_sh_quote(b, owner);
	buf_printf(b, " >\"$L\" ) 2>/dev/null; then exit 0; fi\ncat \"$L\"; exit %d\n",
		   LOCK_EXIT_HELD);
}

struct take_job {
	struct runlock *l;
	bool force;
};

/* Take node i's lock file, taking over a stale (or, forced, any) one. */
static int take_node(void *ctx, int i, char *err, size_t errlen)
{
	struct take_job *j = ctx;
	struct runlock *l = j->l;
	const char *name = l->t->nodes[i].name;
	char *stale = NULL;
	if (!l->ssh[i])
		return 0; /* unreachable (heal goes on without it): nothing to lock */
	for (int attempt = 0; attempt < 2; attempt++) {
		struct buf b;
		buf_init(&b);
		lock_script(&b, l->t, i, l->owner, stale);
		struct ssh_result r;
		int rc = ssh_exec(l->ssh[i], b.data, LOCK_TIMEOUT_MS, &r);
		buf_free(&b);
		free(stale);
		stale = NULL;
		if (rc == 0 && r.status == 0) {
			l->held[i] = true;
			ssh_result_free(&r);
			return 0;
		}
		if (rc < 0 || r.status != LOCK_EXIT_HELD) {
			snprintf(err, errlen, "%s: cannot take the run lock: %.200s", name,
				 r.err && *r.err ? r.err : "failed");
			ssh_result_free(&r);
			return -1;
		}
		char *held = xstrdup(r.out ? r.out : "");
		held[strcspn(held, "\n")] = 0;
		ssh_result_free(&r);
		if (!strcmp(held, l->owner)) {
			/* Ours already: two nodes sharing one filesystem (namespaces
			 * of one machine given as remote hosts) share the file. */
			free(held);
			l->held[i] = true;
			return 0;
		}
		if (attempt == 0 && (j->force || owner_gone(held))) {
			if (!j->force)
				log_warn("%s: taking over the run lock of a holder that is gone", name);
			stale = held;
			continue;
		}
		char words[400];
		owner_words(held, words, sizeof words);
		snprintf(err, errlen, "%s is in use by %s", name, words);
		free(held);
		return -1;
	}
	snprintf(err, errlen, "%s: the run lock changed hands while taking it", name);
	return -1;
}

static int release_node(void *ctx, int i, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	struct runlock *l = ctx;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "L=");
	buf_sh_quote(&b, l->t->nodes[i].workdir);
	buf_puts(&b, "/faultline.lock\nif [ \"$(cat \"$L\" 2>/dev/null)\" = ");
	buf_sh_quote(&b, l->owner);
	buf_puts(&b, " ]; then rm -f \"$L\"; fi\n");
	struct ssh_result r;
	if (ssh_exec(l->ssh[i], b.data, LOCK_TIMEOUT_MS, &r) == 0)
		l->held[i] = false;
	ssh_result_free(&r);
	buf_free(&b);
	return 0;
}

static void runlock_free(struct runlock *l)
{
	free(l->owner);
	free(l->held);
	free(l);
}

struct runlock *runlock_take(const struct test *t, struct ssh_node **ssh, const char *what,
			     bool force, char *err, size_t errlen)
{
	struct runlock *l = xcalloc(1, sizeof *l);
	l->t = t;
	l->ssh = ssh;
	l->cluster_fd = -1;
	if (t->cluster) {
		char holder[200], since[32], who[400];
		time_t now = time(NULL);
		strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
		snprintf(holder, sizeof holder, "%s (pid %ld, since %s)", what, (long)getpid(), since);
		int fd = cluster_lock(t->cluster, holder, who, sizeof who);
		if (fd >= 0) {
			l->cluster_fd = fd;
			return l;
		}
		if (fd == CLUSTER_LOCK_HELD)
			snprintf(err, errlen, "cluster %s is in use by %s", t->cluster, who);
		else
			snprintf(err, errlen, "cluster %s: %s", t->cluster, who);
		runlock_free(l);
		return NULL;
	}
	l->owner = owner_json(what);
	l->held = xcalloc((size_t)t->n_nodes, sizeof *l->held);
	struct take_job j = {l, force};
	if (par_each(t->n_nodes, NULL, take_node, &j, err, errlen) == 0)
		return l;
	runlock_release(l);
	return NULL;
}

void runlock_release(struct runlock *l)
{
	if (!l)
		return;
	if (l->cluster_fd >= 0)
		cluster_unlock(l->cluster_fd);
	else if (l->held)
		par_each(l->t->n_nodes, l->held, release_node, l, NULL, 0);
	runlock_free(l);
}
