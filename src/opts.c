/*
 * opts.c - option objects (opts.h): each getter validates one key, writes
 * its default back when absent, and words errors the same way everywhere.
 */
#include "opts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int opts_keys(json_t *o, const char *const *keys, const char *where, char *err, size_t errlen)
{
	if (!o)
		return 0;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: expected an object", where);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		bool known = false;
		for (const char *const *p = keys; *p && !known; p++)
			known = !strcmp(*p, k);
		if (known)
			continue;
		char list[400] = "";
		size_t used = 0;
		for (const char *const *p = keys; *p && used < sizeof list; p++)
			used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
						 p == keys ? "" : ", ", *p);
		snprintf(err, errlen, "%s.%s: unknown option (known: %s)", where, k,
			 *keys ? list : "none");
		return -1;
	}
	return 0;
}

int opts_int(json_t *o, const char *key, long def, long min, long max, const char *where,
	     long *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = def;
		json_object_set_new(o, key, json_integer(def));
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, errlen, "%s.%s: expected an integer in %ld..%ld", where, key, min, max);
		return -1;
	}
	*out = (long)json_integer_value(v);
	return 0;
}

int opts_num(json_t *o, const char *key, double def, double min, double max, const char *where,
	     double *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = def;
		json_object_set_new(o, key, json_real(def));
		return 0;
	}
	double d = json_number_value(v);
	if (!json_is_number(v) || !isfinite(d) || d < min || d > max) {
		snprintf(err, errlen, "%s.%s: expected a number in %g..%g", where, key, min, max);
		return -1;
	}
	*out = d;
	return 0;
}

int opts_bool(json_t *o, const char *key, bool def, const char *where, bool *out, char *err,
	      size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = def;
		json_object_set_new(o, key, json_boolean(def));
		return 0;
	}
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "%s.%s: expected true or false", where, key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int opts_enum(json_t *o, const char *key, const char *def, const char *choices,
	      const char *where, const char **out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		json_object_set_new(o, key, json_string(def));
		*out = json_string_value(json_object_get(o, key));
		return 0;
	}
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;
	for (const char *c = choices; s && *c;) {
		size_t cl = strcspn(c, "|");
		if (cl == n && !strncmp(c, s, n)) {
			*out = s;
			return 0;
		}
		c += cl + (c[cl] == '|');
	}
	snprintf(err, errlen, "%s.%s: expected one of %s", where, key, choices);
	return -1;
}

long opts_get_int(json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

double opts_get_num(json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }
bool opts_get_bool(json_t *o, const char *key) { return json_is_true(json_object_get(o, key)); }
const char *opts_get_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}
