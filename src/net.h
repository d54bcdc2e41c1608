/*
 * net.h - TCP connections from the controller to nodes. For a local
 * cluster every connection is bound to the cluster's bridge
 * (SO_BINDTODEVICE), so a node address can never be reached through any
 * other interface - not even when the bridge is gone and the host's
 * default route would otherwise take the packets off the machine. SSH and
 * the database clients that manage their own sockets (hiredis) connect
 * through here; libcurl gets the same with CURLOPT_INTERFACE "if!DEV".
 */
#ifndef FAULTLINE_NET_H
#define FAULTLINE_NET_H

#include <stddef.h>

/* Connect to host:port within timeout_ms, bound to device when it is not
 * NULL. Returns a blocking fd (TCP_NODELAY, close-on-exec), or -1 with
 * *errnum set (a getaddrinfo failure is EHOSTUNREACH, with why filled). */
int net_tcp_connect(const char *host, int port, const char *device, int timeout_ms,
		    int *errnum, char *why, size_t whylen);
/* "connection refused", "timeout", ... for an errno of net_tcp_connect. */
const char *net_errno_text(int e);

#endif
