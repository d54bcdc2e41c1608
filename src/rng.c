/*
 * rng.c - splitmix64 streams (rng.h).
 */
#include "rng.h"

uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t rng_below(uint64_t *state, uint64_t n)
{
	if (n <= 1)
		return 0;
	/* Rejection sampling: no modulo bias. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t r;
	do
		r = rng_next(state);
	while (r >= limit);
	return r % n;
}

uint64_t rng_stream(uint64_t seed, uint64_t id)
{
	uint64_t s = seed ^ 0x6a09e667f3bcc909ULL;
	uint64_t a = rng_next(&s);
	uint64_t t = id ^ 0xbb67ae8584caa73bULL;
	return a ^ rng_next(&t);
}
