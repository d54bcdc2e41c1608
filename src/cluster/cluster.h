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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLUSTER_STATE_ROOT "/run/faultline/clusters"


/* Load a cluster's state (new reference) or NULL if it is not up. */
json_t *cluster_load(const char *name);
/* Names of clusters that are up; returns count, *names malloc'd array of
 * malloc'd strings. */
int cluster_list(char ***names);

/* Every cluster with a state directory, up or half-built. */
int cluster_list_all(char ***names);
/* State of a cluster in any phase (creating/up), or NULL. */
json_t *cluster_load_any(const char *name);

struct cluster_spec {
	const char *name;   /* [a-z0-9-], at most 24 */
	int n;              /* nodes */
	uint32_t net;       /* subnet, host order */
	int prefix;
	const char *db;     /* "etcd" or "none" */
};

bool cluster_name_valid(const char *name);
int cluster_parse_subnet(const char *s, uint32_t *net, int *prefix, char *err, size_t errlen);
/* Room for the nodes, no overlap with other clusters or host networks. */
int cluster_check_subnet(const char *name, uint32_t net, int prefix, int nodes, char *err,
			 size_t errlen);
int cluster_pick_subnet(const char *name, uint32_t *net, int *prefix);
char *cluster_subnet_str(uint32_t net, int prefix);
/* Anything of this cluster left on the machine (state, bridge, namespaces)? */
bool cluster_exists(const char *name);
/* Under the machine-wide lock: refuse a name in use, pick a free subnet
 * when sp->net is 0 (else check the given one), and record the plan in the
 * cluster's state directory, so that a concurrent `cluster up` sees the
 * subnet as taken. 0, or -1 with err (bad input: nothing was created). */
int cluster_reserve(struct cluster_spec *sp, char *err, size_t errlen);
/* Build the namespaces, bridge and sshds of a reserved cluster (not the
 * database: local.c), after putting up the guard route of its subnet. On
 * failure everything created is removed again. */
int cluster_up(const struct cluster_spec *sp, char *err, size_t errlen);
/* The run lock of a local cluster: a kernel lock (flock) on
 * STATE/run.lock that a run, `heal` and `cluster down` take, so none of
 * them acts on a cluster another one is using. The kernel drops it when
 * the holder exits, however it exits, so it is never stale. holder (what
 * and who: "faultline run (pid 12, since ...)") is recorded in the file for
 * the others' messages. Returns the fd to keep, CLUSTER_LOCK_HELD with
 * who = the holder's text, CLUSTER_LOCK_GONE if the cluster has no state,
 * or -1 with who = the error. */
#define CLUSTER_LOCK_HELD (-2)
#define CLUSTER_LOCK_GONE (-3)
int cluster_lock(const char *name, const char *holder, char *who, size_t wholen);
void cluster_unlock(int fd);
/* Remove everything of the cluster (the guard route of its subnet last);
 * idempotent, works without state. CLUSTER_LOCK_HELD with err naming the
 * holder if a run (or heal) holds the cluster's lock. */
int cluster_down(const char *name, char *err, size_t errlen);
/* cluster.json with, per node, "sshd_alive" (the recorded sshd still runs)
 * and "state_dir"; NULL if the cluster is not up. New reference. */
json_t *cluster_status_json(const char *name);

#endif
