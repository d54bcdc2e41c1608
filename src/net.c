/*
 * net.c - net_tcp_connect (net.h): a non-blocking connect with a deadline,
 * per address of the host, bound to a device first when asked. Our own
 * connect keeps the errno that says why it failed.
 */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *net_errno_text(int e)
{
	switch (e) {
	case ECONNREFUSED: return "connection refused";
	case ETIMEDOUT: return "timeout";
	case EHOSTUNREACH: return "host unreachable";
	case ENETUNREACH: return "network unreachable";
	case ENODEV: return "the cluster's bridge is gone";
	default: return strerror(e);
	}
}

/* Wait for a non-blocking connect; 0 or an errno value. */
static int wait_connected(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int rc;
	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return ETIMEDOUT;
	if (rc < 0)
		return errno;
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return errno;
	return soerr;
}

int net_tcp_connect(const char *host, int port, const char *device, int timeout_ms,
		    int *errnum, char *why, size_t whylen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	if (why && whylen)
		why[0] = 0;
	int gai = getaddrinfo(host, ps, &hints, &res);
	if (gai != 0) {
		if (why && whylen)
			snprintf(why, whylen, "cannot resolve host: %s", gai_strerror(gai));
		*errnum = EHOSTUNREACH;
		return -1;
	}
	int fd = -1, last = ECONNREFUSED;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (device && *device &&
		    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device)) < 0) {
			last = errno;
			close(fd);
			fd = -1;
			continue;
		}
		int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		last = rc == 0 ? 0 : errno == EINPROGRESS ? wait_connected(fd, timeout_ms) : errno;
		if (last == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		*errnum = last;
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*errnum = 0;
	return fd;
}
