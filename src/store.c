/*
 * store.c - the run store on disk (see store.h). A run directory is created
 * before anything happens on a node, so every later phase has somewhere to
 * log; it is never reused (a clash within the same second gets a suffix),
 * so one run can never overwrite another's history.
 */
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *store_path(const char *dir, const char *file) { return xasprintf("%s/%s", dir, file); }

char *store_run_dir_create(const char *store, const char *test_name, char *err, size_t errlen)
{
	char *parent = xasprintf("%s/%s", store, test_name);
	if (mkdir_p(parent, 0755) < 0) {
		snprintf(err, errlen, "store %s: %s", parent, strerror(errno));
		free(parent);
		return NULL;
	}
	char ts[32];
	timestamp_utc(ts, sizeof ts);
	for (int i = 1; i < 1000; i++) {
		char *dir = i == 1 ? xasprintf("%s/%s", parent, ts)
				   : xasprintf("%s/%s-%d", parent, ts, i);
		if (mkdir(dir, 0755) == 0) {
			char *nodes = store_path(dir, "nodes");
			int r = mkdir(nodes, 0755);
			free(nodes);
			free(parent);
			if (r < 0) {
				snprintf(err, errlen, "store %s: %s", dir, strerror(errno));
				free(dir);
				return NULL;
			}
			return dir;
		}
		int e = errno;
		free(dir);
		if (e != EEXIST) {
			snprintf(err, errlen, "store %s: %s", parent, strerror(e));
			free(parent);
			return NULL;
		}
	}
	snprintf(err, errlen, "store %s: too many runs in one second", parent);
	free(parent);
	return NULL;
}

int store_link_latest(const char *store, const char *run_dir)
{
	size_t sl = strlen(store);
	/* The link is relative to the store so the store can be moved. */
	const char *target = run_dir;
	if (!strncmp(run_dir, store, sl) && run_dir[sl] == '/')
		target = run_dir + sl + 1;
	char *link = xasprintf("%s/latest", store);
	char *tmp = xasprintf("%s/.latest.%d", store, (int)getpid());
	unlink(tmp);
	int r = symlink(target, tmp);
	if (r == 0)
		r = rename(tmp, link);
	if (r < 0) {
		log_warn("store: cannot update %s: %s", link, strerror(errno));
		unlink(tmp);
	}
	free(link);
	free(tmp);
	return r;
}

int store_write_json(const char *dir, const char *file, json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
	if (!s)
		return -1;
	size_t n = strlen(s);
	s = xrealloc(s, n + 2);
	s[n] = '\n';
	s[n + 1] = 0;
	char *path = store_path(dir, file);
	int r = file_write_all(path, s, n + 1);
	if (r < 0)
		log_error("cannot write %s: %s", path, strerror(errno));
	free(path);
	free(s);
	return r;
}
