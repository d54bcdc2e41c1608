/*
 * pair.h - invoke/completion pairing: which open op of a process a
 * completion closes. Shared by the checkers, the report and the history
 * validation of check_history, so they all pair the same way.
 *
 * Jepsen's rule: a process has at most one op open; a completion closes
 * the op its process opened last. The table maps process -> the caller's
 * data for that open op (any non-NULL pointer, or an index cast with
 * PAIR_INDEX / PAIR_UNINDEX).
 */
#ifndef FAULTLINE_PAIR_H
#define FAULTLINE_PAIR_H

#include <stddef.h>
#include <stdint.h>

struct pairing;

struct pairing *pairing_new(void);
/* Frees the table; free_data (may be NULL) is called on every op still open. */
void pairing_free(struct pairing *p, void (*free_data)(void *data));
/* An invoke: process now has an open op carrying data (non-NULL). Returns
 * the data of the op the process still had open (a double invoke; the
 * caller decides what it means), else NULL. */
void *pairing_open(struct pairing *p, int64_t process, void *data);
/* A completion: removes and returns the data of process's open op, or
 * NULL when it has none (a completion without an invoke). */
void *pairing_close(struct pairing *p, int64_t process);
/* The data of process's open op without removing it, or NULL. */
void *pairing_peek(const struct pairing *p, int64_t process);
/* Number of open ops. */
size_t pairing_open_count(const struct pairing *p);
/* Call fn for every op still open (order unspecified). */
void pairing_foreach(const struct pairing *p,
		     void (*fn)(int64_t process, void *data, void *ctx), void *ctx);

/* Store an index (>= 0) as data. */
#define PAIR_INDEX(i) ((void *)(uintptr_t)((uint64_t)(i) + 1))
#define PAIR_UNINDEX(d) ((int64_t)((uintptr_t)(d)) - 1)

#endif
