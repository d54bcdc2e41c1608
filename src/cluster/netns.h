/*
 * netns.h - network namespaces, bridges and veth pairs for the local
 * cluster, through libnl-route and plain syscalls (no `ip` commands).
 *
 * Named namespaces live where iproute2 keeps them (/run/netns/NAME, a bind
 * mount of the namespace), so `ip netns` lists them and `ip netns exec`
 * works for people debugging a cluster. Every function here is idempotent
 * where its name says remove/delete, and errors name the object and cause.
 */
#ifndef FAULTLINE_NETNS_H
#define FAULTLINE_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NETNS_RUN_DIR "/run/netns"

/* Create the named namespace. Fails if it exists. */
int netns_create(const char *name, char *err, size_t errlen);
bool netns_exists(const char *name);
/* Open the namespace for setns() / IFLA_NET_NS_FD; -1 if absent. */
int netns_open(const char *name);
/* Unmount and remove the name (the namespace dies with its last user). */
int netns_remove(const char *name, char *err, size_t errlen);
/* Pids of the processes whose network namespace is this one. Returns the
 * count (0 if none or absent); *pids is malloc'd. */
int netns_pids(const char *name, pid_t **pids);

/* A bridge on the host with address addr/prefix, up. */
int netns_bridge_create(const char *br, uint32_t addr, int prefix, char *err, size_t errlen);
/* A veth pair: `host_if` on the host enslaved to bridge `br`, its peer moved
 * into namespace `ns` as eth0 with addr/prefix; eth0 and lo up there. */
int netns_veth_create(const char *host_if, const char *br, const char *ns,
		      uint32_t addr, int prefix, char *err, size_t errlen);
/* Delete a host link by name; absent is fine. */
int netns_link_delete(const char *name, char *err, size_t errlen);
bool netns_link_exists(const char *name);

/* The guard route of a cluster's subnet: `unreachable NET/PREFIX metric
 * 4242 proto 250`. While the bridge exists its own route (metric 0) wins;
 * once it is gone, a packet for a node address meets this route instead of
 * the host's default route, so it can never leave the machine. */
#define NETNS_GUARD_METRIC 4242
#define NETNS_GUARD_PROTO 250
int netns_guard_route_add(uint32_t net, int prefix, char *err, size_t errlen);
/* Absent is fine. */
int netns_guard_route_del(uint32_t net, int prefix, char *err, size_t errlen);
bool netns_guard_route_exists(uint32_t net, int prefix);

/* Start `argv` detached inside namespace `ns` (new session, stdio to
 * /dev/null, clean environment). Returns the pid or -1. */
pid_t netns_spawn(const char *ns, char *const argv[], char *err, size_t errlen);

#endif
