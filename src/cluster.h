/*
 * cluster.h - the embedded local cluster: N nodes on this machine as network
 * namespaces on a bridge, each with its own sshd and database, reached over
 * real SSH exactly like remote hosts.
 *
 * State lives in CLUSTER_STATE_ROOT/<name>/ (cluster.json, keys,
 * known_hosts, per-node sshd config and workdirs). cluster.json:
 *   {"name":"default","subnet":"10.213.7.0/24","bridge":"flbr-default",
 *    "db":"etcd","user":"root","private_key":".../id_ed25519",
 *    "known_hosts":".../known_hosts",
 *    "nodes":[{"name":"n1","host":"10.213.7.11","netns":"fl-default-n1",
 *              "workdir":".../nodes/n1","sshd_pid":123}, ...]}
 */
#ifndef FAULTLINE_CLUSTER_H
#define FAULTLINE_CLUSTER_H

#include <jansson.h>
#include <stddef.h>

#define CLUSTER_STATE_ROOT "/run/faultline/clusters"

/* cmd entry point: faultline cluster up|status|down ... */
int cmd_cluster(int argc, char **argv);

/* Load a cluster's state (new reference) or NULL if it is not up. */
json_t *cluster_load(const char *name);
/* Names of clusters that are up; returns count, *names malloc'd array of
 * malloc'd strings. */
int cluster_list(char ***names);

struct test;
/* Fill a test's nodes, SSH key and known_hosts from local cluster `name`
 * (faultline run --cluster, and the "one cluster is up" default).
 * Returns 0, or -1 with err naming the cause. */
int cluster_test_fill(const char *name, struct test *t, char *err, size_t errlen);

#endif
