/*
 * edn.h - a small hand-written reader for EDN (Clojure's data notation), the
 * format of Jepsen's history.edn and of Knossos's test histories. It turns
 * EDN values into jansson values so the rest of faultline sees one data
 * model: keywords and symbols become strings without the ':', lists, vectors
 * and sets become arrays, maps become objects (non-string keys rendered as
 * compact JSON), integers too big for int64 become strings of digits, and a
 * tagged literal (#inst "...", #jepsen.history.Op{...}) becomes its value.
 *
 * The reader streams from a FILE so a history never has to sit in memory as
 * text; errors carry "NAME:LINE:COL: message".
 */
#ifndef FAULTLINE_EDN_H
#define FAULTLINE_EDN_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

struct edn_reader;

/* name is used in error messages only. The reader does not close f. */
struct edn_reader *edn_reader_new(FILE *f, const char *name);
void edn_reader_free(struct edn_reader *r);

/* Read the next top-level value: 1 with *out set (new reference), 0 at end
 * of input, -1 on error (see edn_reader_error). */
int edn_read(struct edn_reader *r, json_t **out);

/* If the next value is a vector or list, consume its opening bracket and
 * return 1: the caller then reads its elements one by one with
 * edn_read_elem. Otherwise consume nothing and return 0 (-1 on error). */
int edn_enter_seq(struct edn_reader *r);
/* Next element of the entered sequence: 1 with *out, 0 at its closing
 * bracket (consumed), -1 on error (including end of input). */
int edn_read_elem(struct edn_reader *r, json_t **out);

/* "NAME:LINE:COL: message" of the last error. */
const char *edn_reader_error(const struct edn_reader *r);
/* Position of the start of the last value read (1-based). */
void edn_reader_pos(const struct edn_reader *r, int *line, int *col);

/* Parse a whole string holding exactly one EDN value. Returns 0 with *out,
 * or -1 with err filled ("NAME:LINE:COL: message"). */
int edn_parse(const char *s, size_t len, const char *name, json_t **out,
	      char *err, size_t errlen);

#endif
