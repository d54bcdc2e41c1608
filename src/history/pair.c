/*
 * pair.c - the pairing table (pair.h): processes 0..2^20-1 (every client,
 * even after many crashes renumbered it) index an array directly; others
 * (the nemesis, imported numbers) go to open addressing keyed by process
 * id with backward-shift deletion. Either way a history of millions of
 * ops and thousands of processes pairs in constant time per op.
 */
#include "pair.h"

#include "util.h"

#include <stdbool.h>
#include <stdlib.h>

struct pslot {
	int64_t proc;
	void *data; /* NULL: empty slot */
};

struct pairing {
	struct pslot *s;
	size_t n, cap; /* n: open ops; cap: power of two */
	size_t nh;     /* of them in s */
	void **small;  /* data by process, 0 <= process < nsmall */
	size_t nsmall;
};

#define SMALL_MAX ((int64_t)1 << 20)

/* The direct slot of process, grown to hold it if grow; NULL if it has
 * none (it goes to the hash). */
static void **small_slot(struct pairing *p, int64_t process, bool grow)
{
	if (process >= 0 && (size_t)process < p->nsmall)
		return &p->small[process];
	if (process < 0 || process >= SMALL_MAX || !grow)
		return NULL;
	size_t nn = p->nsmall ? p->nsmall : 64;
	while (nn <= (size_t)process)
		nn *= 2;
	p->small = xrealloc(p->small, nn * sizeof *p->small);
	for (size_t i = p->nsmall; i < nn; i++)
		p->small[i] = NULL;
	p->nsmall = nn;
	return &p->small[process];
}

static size_t slot_of(int64_t proc, size_t cap)
{
	uint64_t x = (uint64_t)proc * 0x9e3779b97f4a7c15ULL;
	return (size_t)(x ^ (x >> 29)) & (cap - 1);
}

struct pairing *pairing_new(void)
{
	struct pairing *p = xcalloc(1, sizeof *p);
	p->cap = 64;
	p->s = xcalloc(p->cap, sizeof *p->s);
	return p;
}

void pairing_free(struct pairing *p, void (*free_data)(void *data))
{
	if (!p)
		return;
	if (free_data) {
		for (size_t i = 0; i < p->cap; i++)
			if (p->s[i].data)
				free_data(p->s[i].data);
		for (size_t i = 0; i < p->nsmall; i++)
			if (p->small[i])
				free_data(p->small[i]);
	}
	free(p->s);
	free(p->small);
	free(p);
}

static struct pslot *find(const struct pairing *p, int64_t proc)
{
	for (size_t j = slot_of(proc, p->cap);; j = (j + 1) & (p->cap - 1)) {
		if (!p->s[j].data || p->s[j].proc == proc)
			return &p->s[j];
	}
}

static void grow(struct pairing *p)
{
	struct pslot *old = p->s;
	size_t oldcap = p->cap;
	p->cap *= 2;
	p->s = xcalloc(p->cap, sizeof *p->s);
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].data)
			*find(p, old[i].proc) = old[i];
	free(old);
}

void *pairing_open(struct pairing *p, int64_t process, void *data)
{
	void **d = small_slot(p, process, true);
	if (d) {
		void *prev = *d;
		if (!prev)
			p->n++;
		*d = data;
		return prev;
	}
	if ((p->nh + 1) * 2 > p->cap)
		grow(p);
	struct pslot *s = find(p, process);
	void *prev = s->data;
	if (!prev) {
		p->n++;
		p->nh++;
	}
	s->proc = process;
	s->data = data;
	return prev;
}

void *pairing_peek(const struct pairing *p, int64_t process)
{
	if (process >= 0 && (size_t)process < p->nsmall)
		return p->small[process];
	return find(p, process)->data;
}

void *pairing_close(struct pairing *p, int64_t process)
{
	void **d = small_slot(p, process, false);
	if (d) {
		void *data = *d;
		if (data)
			p->n--;
		*d = NULL;
		return data;
	}
	struct pslot *s = find(p, process);
	void *data = s->data;
	if (!data)
		return NULL;
	p->n--;
	p->nh--;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	size_t i = (size_t)(s - p->s);
	for (size_t j = (i + 1) & (p->cap - 1); p->s[j].data; j = (j + 1) & (p->cap - 1)) {
		size_t home = slot_of(p->s[j].proc, p->cap);
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			p->s[i] = p->s[j];
			i = j;
		}
	}
	p->s[i].data = NULL;
	return data;
}

size_t pairing_open_count(const struct pairing *p) { return p->n; }

void pairing_foreach(const struct pairing *p,
		     void (*fn)(int64_t process, void *data, void *ctx), void *ctx)
{
	for (size_t i = 0; i < p->nsmall; i++)
		if (p->small[i])
			fn((int64_t)i, p->small[i], ctx);
	for (size_t i = 0; i < p->cap; i++)
		if (p->s[i].data)
			fn(p->s[i].proc, p->s[i].data, ctx);
}
