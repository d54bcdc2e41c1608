/*
 * store.h - where runs live: STORE/<test>/<YYYYmmddTHHMMSS>/ with
 * test.json, history.jsonl, faultline.log, results.json, nodes/<node>/, and
 * STORE/latest pointing at the newest run.
 */
#ifndef FAULTLINE_STORE_H
#define FAULTLINE_STORE_H

#include <jansson.h>
#include <stddef.h>

/* Create a fresh run directory (with nodes/) for test_name; a second run in
 * the same second gets a "-2" suffix. Returns the path (caller frees) or
 * NULL with err set. */
char *store_run_dir_create(const char *store, const char *test_name, char *err, size_t errlen);
/* Point STORE/latest at run_dir (relative link, replaced atomically). */
int store_link_latest(const char *store, const char *run_dir);
/* Write dir/file as pretty JSON, atomically. */
int store_write_json(const char *dir, const char *file, json_t *j);
/* Path of dir/file (caller frees). */
char *store_path(const char *dir, const char *file);

#endif
