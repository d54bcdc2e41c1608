/*
 * values.c - interning for the linearizability checker: a byte-string
 * interner (dense ids, equal bytes -> equal id) and, on top of it, the table
 * of history values. Interning turns every comparison the search makes into
 * an integer comparison and keeps one copy of each distinct value, which is
 * what lets a million-op history fit in a few bytes per op.
 */
#include "model.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A table of a million values is tens of MB probed at random: with 4 KB
 * pages nearly every probe also misses the TLB. Large tables are mapped
 * apart and asked for huge pages (transparent, where the system allows
 * them; nothing changes where it does not). */
#define SLOTS_HUGE ((size_t)2 << 20)

static uint64_t *slots_alloc(uint32_t ns)
{
	size_t bytes = (size_t)ns * sizeof(uint64_t);
	if (bytes < SLOTS_HUGE)
		return xcalloc(ns, sizeof(uint64_t));
	/* mapped one huge page larger, then trimmed to a huge page boundary:
	 * only aligned 2 MB runs can be huge pages */
	char *m = mmap(NULL, bytes + SLOTS_HUGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) { /* as xcalloc does */
		fputs("faultline: out of memory\n", stderr);
		abort();
	}
	size_t head = (SLOTS_HUGE - (uintptr_t)m % SLOTS_HUGE) % SLOTS_HUGE;
	if (head)
		munmap(m, head);
	munmap(m + head + bytes, SLOTS_HUGE - head);
	madvise(m + head, bytes, MADV_HUGEPAGE);
	return (uint64_t *)(void *)(m + head);
}

static void slots_free(uint64_t *slots, uint32_t ns)
{
	size_t bytes = (size_t)ns * sizeof(uint64_t);
	if (!slots)
		return;
	if (bytes < SLOTS_HUGE)
		free(slots);
	else
		munmap(slots, bytes);
}

void interner_init(struct interner *in)
{
	memset(in, 0, sizeof *in);
}

void interner_free(struct interner *in)
{
	free(in->arena);
	free(in->offs);
	slots_free(in->slots, in->nslots);
	memset(in, 0, sizeof *in);
}

size_t interner_bytes(const struct interner *in)
{
	return in->arena_cap + (size_t)in->cap * 8 + (size_t)in->nslots * 8;
}

#define ENTRY_HEAD 8 /* id, length */

static uint32_t entry_u32(const char *p)
{
	uint32_t x;
	memcpy(&x, p, 4);
	return x;
}

static void interner_rehash(struct interner *in)
{
	uint32_t ns = in->nslots ? in->nslots * 2 : 64;
	uint64_t *slots = slots_alloc(ns);
	for (uint32_t i = 0; i < in->nslots; i++) {
		uint64_t e = in->slots[i];
		if (!e)
			continue;
		uint32_t j = (uint32_t)(e >> 32) & (ns - 1);
		while (slots[j])
			j = (j + 1) & (ns - 1);
		slots[j] = e;
	}
	slots_free(in->slots, in->nslots);
	in->slots = slots;
	in->nslots = ns;
}

/* Whether entry ent holds tag + p (tag < 0: p alone). */
static inline bool entry_is(const char *ent, int tag, const void *p, size_t len)
{
	const char *b = ent + ENTRY_HEAD;
	if (tag >= 0) {
		if (entry_u32(ent + 4) != len + 1 || b[0] != (char)tag)
			return false;
		b++;
	} else if (entry_u32(ent + 4) != len) {
		return false;
	}
	return mem_eq(b, p, len); /* most values: two loads, no call */
}

/* Probe for tag + p (tag < 0: p alone): returns the slot index holding
 * it, or the empty slot where it would go (in->slots[i] == 0). */
static uint32_t interner_probe(const struct interner *in, int tag, const void *p, size_t len,
			       uint32_t h32)
{
	uint32_t mask = in->nslots - 1, i = h32 & mask;
	for (; in->slots[i]; i = (i + 1) & mask) {
		uint64_t e = in->slots[i];
		if ((uint32_t)(e >> 32) != h32)
			continue;
		if (entry_is(in->arena + ((uint64_t)(uint32_t)e - 1) * 8, tag, p, len))
			return i;
	}
	return i;
}

static uint32_t slot_id(const struct interner *in, uint64_t slot)
{
	return entry_u32(in->arena + ((uint64_t)(uint32_t)slot - 1) * 8);
}

uint32_t interner_find(const struct interner *in, const void *p, size_t len)
{
	if (!in->nslots)
		return UINT32_MAX;
	uint32_t h32 = (uint32_t)hash_bytes(p, len);
	uint32_t i = interner_probe(in, -1, p, len, h32);
	return in->slots[i] ? slot_id(in, in->slots[i]) : UINT32_MAX;
}

uint32_t interner_find_tagged(const struct interner *in, char tag, const void *p, size_t len,
			      uint32_t h32)
{
	if (!in->nslots)
		return UINT32_MAX;
	uint32_t i = interner_probe(in, (unsigned char)tag, p, len, h32);
	return in->slots[i] ? slot_id(in, in->slots[i]) : UINT32_MAX;
}

void interner_prefetch_slot(const struct interner *in, uint32_t h32)
{
	if (in->nslots)
		__builtin_prefetch(&in->slots[h32 & (in->nslots - 1)]);
}

void interner_prefetch_entry(const struct interner *in, uint32_t h32)
{
	if (!in->nslots)
		return;
	/* the slot holding h32 along the probe chain, not only the first
	 * (at three quarters' load most chains are longer than one) */
	uint32_t mask = in->nslots - 1, i = h32 & mask;
	for (int k = 0; k < 8; k++, i = (i + 1) & mask) {
		uint64_t e = in->slots[i];
		if (!e)
			return;
		if ((uint32_t)(e >> 32) == h32) {
			__builtin_prefetch(in->arena + ((uint64_t)(uint32_t)e - 1) * 8);
			return;
		}
	}
}

uint32_t interner_intern(struct interner *in, const void *p, size_t len)
{
	return interner_intern_h(in, p, len, (uint32_t)hash_bytes(p, len));
}

static uint32_t intern_any(struct interner *in, int tag, const void *p, size_t len,
			   uint32_t h32)
{
	if ((uint64_t)(in->n + 1) * 4 >= (uint64_t)in->nslots * 3)
		interner_rehash(in);
	uint32_t i = interner_probe(in, tag, p, len, h32);
	if (in->slots[i])
		return slot_id(in, in->slots[i]);
	size_t elen = len + (tag >= 0);
	if (elen > UINT32_MAX - 1 || in->arena_len / 8 >= UINT32_MAX - 1)
	{ /* what slots can address: as good as out of memory */
		fputs("faultline: out of memory (interner past 32 GB)\n", stderr);
		abort();
	}
	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 64;
		in->offs = xrealloc(in->offs, in->cap * sizeof *in->offs);
	}
	size_t need = (ENTRY_HEAD + elen + 1 + 7) & ~(size_t)7;
	if (in->arena_len + need > in->arena_cap) {
		size_t nc = in->arena_cap ? in->arena_cap * 2 : 4096;
		while (nc < in->arena_len + need)
			nc *= 2;
		in->arena = xrealloc(in->arena, nc);
		in->arena_cap = nc;
	}
	uint32_t id = in->n++, len32 = (uint32_t)elen;
	char *ent = in->arena + in->arena_len;
	memcpy(ent, &id, 4);
	memcpy(ent + 4, &len32, 4);
	char *b = ent + ENTRY_HEAD;
	if (tag >= 0)
		*b++ = (char)tag;
	if (len)
		memcpy(b, p, len);
	b[len] = '\0';
	in->offs[id] = in->arena_len;
	in->slots[i] = (uint64_t)h32 << 32 | (in->arena_len / 8 + 1);
	in->arena_len += need;
	return id;
}

uint32_t interner_intern_h(struct interner *in, const void *p, size_t len, uint32_t h32)
{
	return intern_any(in, -1, p, len, h32);
}

uint32_t interner_intern_tagged(struct interner *in, char tag, const void *p, size_t len,
				uint32_t h32)
{
	return intern_any(in, (unsigned char)tag, p, len, h32);
}

const char *interner_get(const struct interner *in, uint32_t id, size_t *len)
{
	const char *ent = in->arena + in->offs[id];
	if (len)
		*len = entry_u32(ent + 4);
	return ent + ENTRY_HEAD;
}

/* --------------------------------------------------------------- values */

void values_init(struct values *v)
{
	interner_init(&v->in);
	interner_intern_tagged(&v->in, 'n', "", 0, (uint32_t)hash_tagged('n', "", 0)); /* VALUE_NIL */
}

void values_free(struct values *v) { interner_free(&v->in); }

/* A string's interned bytes are 's' + its bytes, an integer's 'i' + its
 * 8 bytes: the tag keeps 1 and "1" apart. Hashes are hash_tagged's, so
 * the history reader can hash a scalar for us (history.h, value_hash). */
uint32_t values_hash_str(const char *s, size_t len) { return (uint32_t)hash_tagged('s', s, len); }

uint32_t values_hash_int(int64_t x) { return (uint32_t)hash_tagged('i', &x, 8); }

value_id values_intern_str_h(struct values *v, const char *s, size_t len, uint32_t h32)
{
	return interner_intern_tagged(&v->in, 's', s, len, h32 ? h32 : values_hash_str(s, len));
}

value_id values_intern_str(struct values *v, const char *s, size_t len)
{
	return values_intern_str_h(v, s, len, 0);
}

value_id values_intern_int_h(struct values *v, int64_t x, uint32_t h32)
{
	return interner_intern_tagged(&v->in, 'i', &x, 8, h32 ? h32 : values_hash_int(x));
}

bool values_equal_str(const struct values *v, value_id id, const char *s, size_t len)
{
	size_t n;
	const char *b = interner_get(&v->in, id, &n);
	return b[0] == 's' && n == len + 1 && !memcmp(b + 1, s, len);
}

bool values_equal_int(const struct values *v, value_id id, int64_t x)
{
	size_t n;
	const char *b = interner_get(&v->in, id, &n);
	return n == 9 && b[0] == 'i' && !memcmp(b + 1, &x, 8);
}

uint32_t values_hash(json_t *j)
{
	if (json_is_string(j))
		return values_hash_str(json_string_value(j), json_string_length(j));
	if (json_is_integer(j))
		return values_hash_int(json_integer_value(j));
	return 0;
}

void values_memo_set(struct values *v, json_t *j, value_id id)
{
	v->memo_json = j;
	v->memo_id = id;
}

void values_memo_clear(struct values *v) { v->memo_json = NULL; }

value_id values_intern(struct values *v, json_t *j) { return values_intern_h(v, j, 0); }

value_id values_intern_h(struct values *v, json_t *j, uint32_t h32)
{
	if (!j || json_is_null(j))
		return VALUE_NIL;
	if (j == v->memo_json)
		return v->memo_id;
	if (json_is_string(j))
		return values_intern_str_h(v, json_string_value(j), json_string_length(j), h32);
	if (json_is_integer(j))
		return values_intern_int_h(v, json_integer_value(j), h32);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!s)
		return VALUE_NIL;
	size_t n = strlen(s);
	value_id id = interner_intern_tagged(&v->in, 'j', s, n, (uint32_t)hash_tagged('j', s, n));
	free(s);
	return id;
}

bool values_equal(const struct values *v, value_id id, json_t *j)
{
	if (!j || json_is_null(j))
		return id == VALUE_NIL;
	if (json_is_string(j))
		return values_equal_str(v, id, json_string_value(j), json_string_length(j));
	if (json_is_integer(j))
		return values_equal_int(v, id, json_integer_value(j));
	return false;
}

value_id values_find_str(const struct values *v, const char *s, size_t len)
{
	return interner_find_tagged(&v->in, 's', s, len, values_hash_str(s, len));
}

value_id values_find_int(const struct values *v, int64_t x)
{
	return interner_find_tagged(&v->in, 'i', &x, 8, values_hash_int(x));
}

json_t *values_json(const struct values *v, value_id id)
{
	size_t n;
	const char *b = interner_get(&v->in, id, &n);
	switch (b[0]) {
	case 's':
		return json_stringn(b + 1, n - 1);
	case 'i': {
		int64_t x;
		memcpy(&x, b + 1, 8);
		return json_integer(x);
	}
	case 'j': {
		json_t *j = json_loadb(b + 1, n - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		return j ? j : json_null();
	}
	default:
		return json_null();
	}
}

const char *values_str(const struct values *v, value_id id, size_t *len)
{
	size_t n;
	const char *b = interner_get(&v->in, id, &n);
	if (b[0] != 's')
		return NULL;
	*len = n - 1;
	return b + 1;
}

bool values_is_int(const struct values *v, value_id id, int64_t *out)
{
	size_t n;
	const char *b = interner_get(&v->in, id, &n);
	if (b[0] != 'i')
		return false;
	memcpy(out, b + 1, 8);
	return true;
}

void values_prefetch(const struct values *v, value_id id, int stage)
{
	if (id >= v->in.n)
		return;
	if (stage == 0)
		__builtin_prefetch(&v->in.offs[id]);
	else
		__builtin_prefetch(v->in.arena + v->in.offs[id]);
}
