/*
 * rng.h - the seeded random streams every reproducible choice draws from
 * (workload ops, fault plans): splitmix64, and an independent stream per
 * (seed, id) so a process's op stream does not depend on other processes.
 */
#ifndef FAULTLINE_RNG_H
#define FAULTLINE_RNG_H

#include <stdint.h>

/* splitmix64: the next number of the stream in *state. */
uint64_t rng_next(uint64_t *state);
/* Uniform integer in [0, n). */
uint64_t rng_below(uint64_t *state, uint64_t n);
/* Independent stream state for (seed, stream id). */
uint64_t rng_stream(uint64_t seed, uint64_t id);

#endif
