/*
 * edn.h - a small hand-written reader for EDN (Clojure's data notation), the
 * format of Jepsen's history.edn and of Knossos's test histories. It turns
 * EDN values into jansson values so the rest of faultline sees one data
 * model: keywords and symbols become strings without the ':', lists, vectors
 * and sets become arrays, maps become objects (non-string keys rendered as
 * compact JSON), and a tagged literal (#inst "...", #jepsen.history.Op{...})
 * becomes its value. An integer beyond 64 bits reads as the string of its
 * digits (JSONL, through jansson, refuses such integers).
 *
 * Keyword-exact values: a reader can also return, next to that plain
 * value, the same value with every keyword written ":name" and every
 * integer beyond 64 bits "<digits>N" (edn_read's kw argument), so a
 * checker can tell :a from "a", and a bigint from the string of its
 * digits, as Clojure does, while checkers that read names (transaction
 * micro-ops) keep the plain form.
 *
 * The reader streams from a FILE (after an optional prefix of bytes
 * already read, so a pipe never has to be rewound) or reads a memory
 * slice without copying it; errors carry "NAME:LINE:COL: message" with
 * every byte printable.
 */
#ifndef FAULTLINE_EDN_H
#define FAULTLINE_EDN_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

struct edn_reader;

/* name is used in error messages only. The reader does not close f. */
struct edn_reader *edn_reader_new(FILE *f, const char *name);
/* The same, serving the n bytes at prefix first (the caller keeps them
 * alive while the reader lives): bytes already read from f. */
struct edn_reader *edn_reader_new_prefixed(FILE *f, const char *name, const void *prefix,
					   size_t n);
/* A reader of memory slices: call edn_reader_reset before each. */
struct edn_reader *edn_reader_new_mem(const char *name);
/* Read from s[0..len) (not copied; kept alive by the caller), counting
 * positions from line:col. Clears any error. */
void edn_reader_reset(struct edn_reader *r, const char *s, size_t len, int line, int col);
void edn_reader_free(struct edn_reader *r);

/* Read the next top-level value: 1 with *out set (new reference), 0 at end
 * of input, -1 on error (see edn_reader_error). With kw non-NULL, *kw is
 * the keyword-exact form of the value (new reference) when it holds a
 * keyword, else NULL. */
int edn_read(struct edn_reader *r, json_t **out, json_t **kw);

/* If the next value is a vector or list, consume its opening bracket and
 * return 1: the caller then reads its elements one by one with
 * edn_read_elem. Otherwise consume nothing and return 0 (-1 on error). */
int edn_enter_seq(struct edn_reader *r);
/* Next element of the entered sequence: 1 with *out (and *kw as for
 * edn_read), 0 at its closing bracket (consumed), -1 on error (including
 * end of input). */
int edn_read_elem(struct edn_reader *r, json_t **out, json_t **kw);
/* Mark the reader as inside a top-level sequence closed by close (']' or
 * ')'), for a reader resumed in the middle of a history. */
void edn_reader_set_seq(struct edn_reader *r, int close);

/* For op maps: keyword-exact forms (kw of edn_read) only of the :value
 * and :key entries of a map read as a whole value or sequence element. */
void edn_reader_kw_op_fields(struct edn_reader *r);
/* Count positions from line (column 1) at the reader's current place. */
void edn_reader_set_line(struct edn_reader *r, int line);

/* "NAME:LINE:COL: message" of the last error. */
const char *edn_reader_error(const struct edn_reader *r);
/* Position of the start of the last value read (1-based). */
void edn_reader_pos(const struct edn_reader *r, int *line, int *col);
/* Bytes consumed so far from a memory slice (edn_reader_reset). */
size_t edn_reader_offset(const struct edn_reader *r);

/* Parse a whole string holding exactly one EDN value. Returns 0 with *out,
 * or -1 with err filled ("NAME:LINE:COL: message"). */
int edn_parse(const char *s, size_t len, const char *name, json_t **out,
	      char *err, size_t errlen);

/* Rewrite the NUL-terminated text in buf (capacity cap) so it prints
 * safely on a terminal: control bytes and bytes that are not UTF-8 become
 * \xNN. Truncates to fit. */
void text_printable(char *buf, size_t cap);

#endif
