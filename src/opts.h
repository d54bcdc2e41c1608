/*
 * opts.h - validating the free-form option objects of the config
 * (db_opts, workload_opts, checker_opts.<name>): every module checks its own
 * keys with these, fills in its defaults (so test.json records every value
 * a run used), and names the key in errors: "workload_opts.accounts:
 * expected an integer in 2..1000".
 */
#ifndef FAULTLINE_OPTS_H
#define FAULTLINE_OPTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Refuse keys of o that are not in keys (NULL-terminated). where names o
 * ("workload_opts"). 0, or -1 with err. o may be NULL (nothing to check). */
int opts_keys(json_t *o, const char *const *keys, const char *where, char *err, size_t errlen);
/* An integer key in [min, max]; absent: def, written into o. */
int opts_int(json_t *o, const char *key, long def, long min, long max, const char *where,
	     long *out, char *err, size_t errlen);
/* A number key in [min, max]; absent: def, written into o. */
int opts_num(json_t *o, const char *key, double def, double min, double max, const char *where,
	     double *out, char *err, size_t errlen);
/* A boolean key; absent: def, written into o. */
int opts_bool(json_t *o, const char *key, bool def, const char *where, bool *out, char *err,
	      size_t errlen);
/* A string key that must be one of choices ("a|b|c"); absent: def, written
 * into o. *out points into o. */
int opts_enum(json_t *o, const char *key, const char *def, const char *choices,
	      const char *where, const char **out, char *err, size_t errlen);

/* Read back a value a check filled in (0 / false / NULL if absent). */
long opts_get_int(json_t *o, const char *key);
double opts_get_num(json_t *o, const char *key);
bool opts_get_bool(json_t *o, const char *key);
const char *opts_get_str(json_t *o, const char *key);

#endif
