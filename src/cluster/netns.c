/*
 * netns.c - the plumbing under the local cluster: named network
 * namespaces (iproute2's /run/netns convention), a host bridge, veth pairs
 * and addresses through libnl-route, and starting a daemon inside a
 * namespace. cluster.c decides what to build; this file only knows how.
 *
 * Links inside a namespace are configured from a short-lived thread that
 * setns()es into it: a netlink socket opened there stays bound to that
 * namespace, and the rest of the process never leaves the host's.
 */
#include "netns.h"

#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *ns_path(const char *name)
{
	return xasprintf("%s/%s", NETNS_RUN_DIR, name);
}

/* iproute2 makes /run/netns a shared mount so namespaces bound there are
 * seen by every mount namespace; do the same so `ip netns` agrees. */
static int netns_run_dir_ready(char *err, size_t errlen)
{
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", NETNS_RUN_DIR, strerror(errno));
		return -1;
	}
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno == EINVAL &&
	    mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) == 0 &&
	    mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	snprintf(err, errlen, "%s: cannot make it a shared mount: %s", NETNS_RUN_DIR,
		 strerror(errno));
	return -1;
}

int netns_create(const char *name, char *err, size_t errlen)
{
	if (netns_run_dir_ready(err, errlen) < 0)
		return -1;
	char *path = ns_path(name);
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL, 0);
	if (fd < 0) {
		snprintf(err, errlen, "namespace %s: %s", name, strerror(errno));
		free(path);
		return -1;
	}
	close(fd);
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(errno);
		if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
			_exit(errno);
		_exit(0);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		int e = pid < 0 ? errno : WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
		snprintf(err, errlen, "namespace %s: %s", name, strerror(e));
		unlink(path);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

bool netns_exists(const char *name)
{
	char *path = ns_path(name);
	bool ok = access(path, F_OK) == 0;
	free(path);
	return ok;
}

int netns_open(const char *name)
{
	char *path = ns_path(name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	return fd;
}

int netns_remove(const char *name, char *err, size_t errlen)
{
	char *path = ns_path(name);
	int rc = 0;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
		snprintf(err, errlen, "namespace %s: unmount: %s", name, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "namespace %s: %s", name, strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}

int netns_pids(const char *name, pid_t **pids)
{
	*pids = NULL;
	char *path = ns_path(name);
	struct stat ns;
	int ok = stat(path, &ns);
	free(path);
	DIR *d = ok == 0 ? opendir("/proc") : NULL;
	if (!d)
		return 0;
	int n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		long pid;
		if (!parse_long(e->d_name, 1, 1L << 30, &pid) || pid == getpid())
			continue;
		char p[64];
		snprintf(p, sizeof p, "/proc/%ld/ns/net", pid);
		struct stat st;
		if (stat(p, &st) < 0 || st.st_ino != ns.st_ino || st.st_dev != ns.st_dev)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			*pids = xrealloc(*pids, cap * sizeof **pids);
		}
		(*pids)[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

static struct nl_sock *nl_open(char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	if (rc < 0) {
		snprintf(err, errlen, "netlink: %s", nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static int link_up(struct nl_sock *sk, const char *name, char *err, size_t errlen)
{
	struct rtnl_link *l = NULL;
	int rc = rtnl_link_get_kernel(sk, 0, name, &l);
	if (rc == 0) {
		struct rtnl_link *chg = rtnl_link_alloc();
		rtnl_link_set_flags(chg, IFF_UP);
		rc = rtnl_link_change(sk, l, chg, 0);
		rtnl_link_put(chg);
		rtnl_link_put(l);
	}
	if (rc < 0)
		snprintf(err, errlen, "link %s up: %s", name, nl_geterror(rc));
	return rc < 0 ? -1 : 0;
}

static int addr_add(struct nl_sock *sk, const char *ifname, uint32_t addr, int prefix,
		    char *err, size_t errlen)
{
	struct rtnl_link *l = NULL;
	int rc = rtnl_link_get_kernel(sk, 0, ifname, &l);
	if (rc == 0) {
		int idx = rtnl_link_get_ifindex(l);
		rtnl_link_put(l);
		uint32_t be = htonl(addr);
		struct nl_addr *local = nl_addr_build(AF_INET, &be, sizeof be);
		nl_addr_set_prefixlen(local, prefix);
		struct rtnl_addr *a = rtnl_addr_alloc();
		rtnl_addr_set_ifindex(a, idx);
		rtnl_addr_set_local(a, local);
		rc = rtnl_addr_add(sk, a, 0);
		rtnl_addr_put(a);
		nl_addr_put(local);
	}
	if (rc < 0) {
		struct in_addr in = {htonl(addr)};
		snprintf(err, errlen, "address %s/%d on %s: %s", inet_ntoa(in), prefix, ifname,
			 nl_geterror(rc));
	}
	return rc < 0 ? -1 : 0;
}

int netns_bridge_create(const char *br, uint32_t addr, int prefix, char *err, size_t errlen)
{
	struct nl_sock *sk = nl_open(err, errlen);
	if (!sk)
		return -1;
	struct rtnl_link *l = rtnl_link_bridge_alloc();
	rtnl_link_set_name(l, br);
	int rc = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (rc < 0) {
		snprintf(err, errlen, "bridge %s: %s", br, nl_geterror(rc));
		nl_socket_free(sk);
		return -1;
	}
	rc = addr_add(sk, br, addr, prefix, err, errlen);
	if (rc == 0)
		rc = link_up(sk, br, err, errlen);
	nl_socket_free(sk);
	return rc;
}

struct inside {
	int nsfd;
	uint32_t addr;
	int prefix;
	int rc;
	char err[256];
};

static void *inside_configure(void *p)
{
	struct inside *in = p;
	in->rc = -1;
	if (setns(in->nsfd, CLONE_NEWNET) < 0) {
		snprintf(in->err, sizeof in->err, "setns: %s", strerror(errno));
		return NULL;
	}
	struct nl_sock *sk = nl_open(in->err, sizeof in->err);
	if (!sk)
		return NULL;
	if (link_up(sk, "lo", in->err, sizeof in->err) == 0 &&
	    addr_add(sk, "eth0", in->addr, in->prefix, in->err, sizeof in->err) == 0 &&
	    link_up(sk, "eth0", in->err, sizeof in->err) == 0)
		in->rc = 0;
	nl_socket_free(sk);
	return NULL;
}

static int veth_add(struct nl_sock *sk, const char *host_if, int br_idx, int nsfd,
		    char *err, size_t errlen)
{
	struct rtnl_link *v = rtnl_link_veth_alloc();
	struct rtnl_link *peer = rtnl_link_veth_get_peer(v);
	rtnl_link_set_name(v, host_if);
	rtnl_link_set_master(v, br_idx);
	rtnl_link_set_flags(v, IFF_UP);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_ns_fd(peer, nsfd);
	int rc = rtnl_link_add(sk, v, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_veth_release(v);
	if (rc < 0)
		snprintf(err, errlen, "veth %s: %s", host_if, nl_geterror(rc));
	return rc < 0 ? -1 : 0;
}

int netns_veth_create(const char *host_if, const char *br, const char *ns, uint32_t addr,
		      int prefix, char *err, size_t errlen)
{
	int nsfd = netns_open(ns);
	if (nsfd < 0) {
		snprintf(err, errlen, "namespace %s: %s", ns, strerror(errno));
		return -1;
	}
	struct nl_sock *sk = nl_open(err, errlen);
	struct rtnl_link *brl = NULL;
	int rc = -1;
	if (!sk)
		goto out;
	int nrc = rtnl_link_get_kernel(sk, 0, br, &brl);
	if (nrc < 0) {
		snprintf(err, errlen, "bridge %s: %s", br, nl_geterror(nrc));
		goto out;
	}
	if (veth_add(sk, host_if, rtnl_link_get_ifindex(brl), nsfd, err, errlen) < 0)
		goto out;
	/* The host end must be up for the bridge to forward to it; the flag
	 * given at creation is not honoured by every kernel. */
	if (link_up(sk, host_if, err, errlen) < 0)
		goto out;
	struct inside in = {.nsfd = nsfd, .addr = addr, .prefix = prefix};
	pthread_t th;
	if (pthread_create(&th, NULL, inside_configure, &in) != 0) {
		snprintf(err, errlen, "namespace %s: cannot start thread", ns);
		goto out;
	}
	pthread_join(th, NULL);
	if (in.rc < 0) {
		snprintf(err, errlen, "namespace %s: %s", ns, in.err);
		goto out;
	}
	rc = 0;
out:
	if (brl)
		rtnl_link_put(brl);
	nl_socket_free(sk);
	close(nsfd);
	return rc;
}

bool netns_link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

int netns_link_delete(const char *name, char *err, size_t errlen)
{
	if (!netns_link_exists(name))
		return 0;
	struct nl_sock *sk = nl_open(err, errlen);
	if (!sk)
		return -1;
	struct rtnl_link *l = rtnl_link_alloc();
	rtnl_link_set_name(l, name);
	int rc = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	nl_socket_free(sk);
	if (rc < 0 && rc != -NLE_NODEV && rc != -NLE_OBJ_NOTFOUND) {
		snprintf(err, errlen, "link %s: %s", name, nl_geterror(rc));
		return -1;
	}
	return 0;
}

pid_t netns_spawn(const char *ns, char *const argv[], char *err, size_t errlen)
{
	int nsfd = netns_open(ns);
	if (nsfd < 0) {
		snprintf(err, errlen, "namespace %s: %s", ns, strerror(errno));
		return -1;
	}
	static char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				     "LANG=C.UTF-8", NULL};
	pid_t pid = fork();
	if (pid == 0) {
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		setsid();
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		closefrom(3);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	int e = errno;
	close(nsfd);
	if (pid < 0)
		snprintf(err, errlen, "%s in %s: fork: %s", argv[0], ns, strerror(e));
	return pid;
}

/* An unreachable route for net/prefix (see netns.h): metric and protocol
 * say it is faultline's. */
static struct rtnl_route *unreachable_route(uint32_t net, int prefix)
{
	uint32_t be = htonl(net);
	struct nl_addr *dst = nl_addr_build(AF_INET, &be, sizeof be);
	nl_addr_set_prefixlen(dst, prefix);
	struct rtnl_route *r = rtnl_route_alloc();
	rtnl_route_set_family(r, AF_INET);
	rtnl_route_set_type(r, RTN_UNREACHABLE);
	rtnl_route_set_dst(r, dst);
	rtnl_route_set_priority(r, NETNS_GUARD_METRIC);
	rtnl_route_set_protocol(r, NETNS_GUARD_PROTO);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
	nl_addr_put(dst);
	return r;
}

int netns_guard_route_add(uint32_t net, int prefix, char *err, size_t errlen)
{
	struct nl_sock *sk = nl_open(err, errlen);
	if (!sk)
		return -1;
	struct rtnl_route *r = unreachable_route(net, prefix);
	int rc = rtnl_route_add(sk, r, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(r);
	nl_socket_free(sk);
	if (rc < 0) {
		struct in_addr in = {htonl(net)};
		snprintf(err, errlen, "unreachable route for %s/%d: %s", inet_ntoa(in), prefix,
			 nl_geterror(rc));
		return -1;
	}
	return 0;
}

int netns_guard_route_del(uint32_t net, int prefix, char *err, size_t errlen)
{
	struct nl_sock *sk = nl_open(err, errlen);
	if (!sk)
		return -1;
	struct rtnl_route *r = unreachable_route(net, prefix);
	int rc = rtnl_route_delete(sk, r, 0);
	rtnl_route_put(r);
	nl_socket_free(sk);
	if (rc < 0 && rc != -NLE_OBJ_NOTFOUND) {
		struct in_addr in = {htonl(net)};
		snprintf(err, errlen, "unreachable route for %s/%d: %s", inet_ntoa(in), prefix,
			 nl_geterror(rc));
		return -1;
	}
	return 0;
}

bool netns_guard_route_exists(uint32_t net, int prefix)
{
	char err[200];
	struct nl_sock *sk = nl_open(err, sizeof err);
	struct nl_cache *cache = NULL;
	if (!sk || rtnl_route_alloc_cache(sk, AF_INET, 0, &cache) < 0) {
		nl_socket_free(sk);
		return false;
	}
	bool found = false;
	for (struct nl_object *o = nl_cache_get_first(cache); o && !found; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		struct nl_addr *d = rtnl_route_get_dst(r);
		uint32_t be = htonl(net);
		found = rtnl_route_get_type(r) == RTN_UNREACHABLE &&
			rtnl_route_get_priority(r) == NETNS_GUARD_METRIC && d &&
			nl_addr_get_prefixlen(d) == (unsigned)prefix &&
			nl_addr_get_len(d) == sizeof be && !memcmp(nl_addr_get_binary_addr(d), &be, sizeof be);
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return found;
}
