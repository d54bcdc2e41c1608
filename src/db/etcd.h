/*
 * etcd.h - what etcd.c (the database) shares with its clients
 * (etcd_client.c, etcd_<workload>.c): where a node's client API listens.
 */
#ifndef FAULTLINE_ETCD_H
#define FAULTLINE_ETCD_H

struct test;
struct client_ops;

/* Client URL of a node, e.g. "http://10.213.1.12:2379". Caller frees. */
char *etcd_client_url(const struct test *t, int node);
/* The --initial-cluster-token of a setup (unique per process and seed). */
char *etcd_cluster_token(const struct test *t);

/* Bind a curl handle to the local cluster's bridge (no-op for remote
 * nodes): see net.h. */
void etcd_curl_bind(void *curl, const struct test *t);

extern const struct client_ops etcd_client_ops;
/* The clients of the other workloads, one file each (etcd_<workload>.c). */
extern const struct client_ops etcd_set_ops, etcd_append_ops, etcd_rw_register_ops,
	etcd_bank_ops, etcd_counter_ops, etcd_lock_ops;

#endif
