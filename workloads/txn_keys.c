/*
 * txn_keys.c - the rotating key space of the transactional workloads
 * (txn_keys.h). One mutex guards it: transactions take milliseconds on a
 * real database, so the lock is never contended enough to matter.
 */
#include "txn_keys.h"

#include "rng.h"
#include "opts.h"
#include "test.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>

struct txn_keys {
	pthread_mutex_t mu;
	long n, max_writes, min_len, max_len;
	uint64_t read_per_1e6;
	int64_t *key;      /* active keys */
	int64_t *writes;   /* writes given to each active key */
	int64_t next_key;
};

int txn_keys_check(json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = {"key_count", "max_writes_per_key", "min_txn_length",
					   "max_txn_length", "read_fraction", NULL};
	long kc, mw, mn, mx;
	double rf;
	if (opts_keys(o, keys, "workload_opts", err, errlen) < 0 ||
	    opts_int(o, "key_count", 10, 1, 100000, "workload_opts", &kc, err, errlen) < 0 ||
	    opts_int(o, "max_writes_per_key", 32, 1, 1000000, "workload_opts", &mw, err, errlen) < 0 ||
	    opts_int(o, "min_txn_length", 1, 1, 100, "workload_opts", &mn, err, errlen) < 0 ||
	    opts_int(o, "max_txn_length", 4, 1, 100, "workload_opts", &mx, err, errlen) < 0 ||
	    opts_num(o, "read_fraction", 0.5, 0, 1, "workload_opts", &rf, err, errlen) < 0)
		return -1;
	if (mn > mx) {
		snprintf(err, errlen, "workload_opts.min_txn_length: %ld is more than max_txn_length %ld",
			 mn, mx);
		return -1;
	}
	return 0;
}

struct txn_keys *txn_keys_new(const struct test *t)
{
	json_t *o = t->workload_opts;
	struct txn_keys *k = xcalloc(1, sizeof *k);
	pthread_mutex_init(&k->mu, NULL);
	k->n = opts_get_int(o, "key_count");
	k->max_writes = opts_get_int(o, "max_writes_per_key");
	k->min_len = opts_get_int(o, "min_txn_length");
	k->max_len = opts_get_int(o, "max_txn_length");
	k->read_per_1e6 = (uint64_t)(opts_get_num(o, "read_fraction") * 1e6);
	k->key = xcalloc((size_t)k->n, sizeof *k->key);
	k->writes = xcalloc((size_t)k->n, sizeof *k->writes);
	for (long i = 0; i < k->n; i++)
		k->key[i] = k->next_key++;
	return k;
}

void txn_keys_free(void *p)
{
	struct txn_keys *k = p;
	if (!k)
		return;
	pthread_mutex_destroy(&k->mu);
	free(k->key);
	free(k->writes);
	free(k);
}

json_t *txn_keys_txn(struct txn_keys *k, uint64_t *rng, const char *w)
{
	long len = k->min_len + (long)rng_below(rng, (uint64_t)(k->max_len - k->min_len + 1));
	json_t *txn = json_array();
	pthread_mutex_lock(&k->mu);
	for (long i = 0; i < len; i++) {
		long slot = (long)rng_below(rng, (uint64_t)k->n);
		int64_t key = k->key[slot];
		if (rng_below(rng, 1000000) < k->read_per_1e6) {
			json_array_append_new(txn, json_pack("[sIn]", "r", (json_int_t)key));
			continue;
		}
		int64_t value = ++k->writes[slot];
		json_array_append_new(txn, json_pack("[sII]", w, (json_int_t)key, (json_int_t)value));
		if (k->writes[slot] >= k->max_writes) {
			k->key[slot] = k->next_key++;
			k->writes[slot] = 0;
		}
	}
	pthread_mutex_unlock(&k->mu);
	return txn;
}
