/*
 * packetd.c - faultline-packetd, the userspace packet shaper for kernels
 * without netem. packet.c puts it on a node (uploaded over SFTP) and sends
 * the node's packets to its DB peers into NFQUEUE 64023; this daemon takes
 * them from the queue (libnetfilter_queue) and gives each a verdict with
 * netem's behaviours: drop (loss), hold for a delay drawn from a
 * distribution (mean, jitter; normal, uniform or pareto), send some at
 * once ahead of the held ones (reorder), flip a bit (corrupt), send a copy
 * (duplicate, through a raw socket, marked so the queue rule lets it pass),
 * and pace to a rate. Held packets are released from a min-heap on time,
 * in arrival order among equals, so a constant delay keeps order.
 *
 *   faultline-packetd --daemon --pidfile F --log F --queue N --mark M
 *       --delay-us U --jitter-us U --distribution normal|uniform|pareto
 *       --loss P --duplicate P --reorder P --corrupt P --rate-bps B --seed S
 *   faultline-packetd --version
 *
 * With --daemon it detaches (setsid, stdio to the log) and the launching
 * command returns only once the queue is bound and the pid file written -
 * or fails with the reason - so the caller can add the queue rule right
 * after. On SIGTERM it accepts every held packet and exits. The queue
 * fails open: with the daemon gone (--queue-bypass) or the queue full,
 * packets flow unshaped instead of vanishing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PACKETD_VERSION "faultline-packetd 1"

struct cfg {
	int queue;
	uint32_t mark;
	double delay_us, jitter_us;
	int dist; /* 0 normal, 1 uniform, 2 pareto */
	double loss, dup, reorder, corrupt;
	double rate_bps;
	uint64_t seed;
	const char *pidfile, *log;
	bool daemon;
};

struct held {
	int64_t due;
	uint64_t seq;
	uint32_t id;
	unsigned char *data; /* modified payload (corrupt) or NULL */
	uint32_t len;
	unsigned char *copy; /* duplicate to send at release, or NULL */
	uint32_t copy_len;
};

static struct cfg cfg;
static struct held *heap;
static size_t nheap, capheap;
static uint64_t seq;
static uint64_t rng_state;
static int64_t link_free; /* rate: when the link is next free */
static int raw4 = -1, raw6 = -1;
static volatile sig_atomic_t stopping;
static struct nfq_q_handle *qh;
static struct {
	unsigned long long seen, dropped, delayed, duplicated, corrupted, reordered;
} stats;

/* ---- time and randomness ---- */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double unit(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }

static bool chance(double p) { return p > 0 && unit() < p; }

/* A standard (mean 0, sd 1) sample of the configured distribution, so
 * that delay + jitter * sample has netem's meaning of mean and jitter. */
static double sample(void)
{
	switch (cfg.dist) {
	case 1: /* uniform on [-1, 1], netem's default */
		return 2 * unit() - 1;
	case 2: { /* Pareto, shape 3, standardised */
		const double a = 3, mean = a / (a - 1), sd = sqrt(a / ((a - 1) * (a - 1) * (a - 2)));
		double u = unit();
		double x = pow(1 - u, -1 / a);
		return (x - mean) / sd;
	}
	default: { /* normal, Box-Muller */
		double u1 = unit(), u2 = unit();
		if (u1 < 1e-300)
			u1 = 1e-300;
		return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
	}
	}
}

/* ---- the heap of held packets ---- */

static bool before(const struct held *a, const struct held *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_push(struct held h)
{
	if (nheap == capheap) {
		capheap = capheap ? capheap * 2 : 1024;
		heap = realloc(heap, capheap * sizeof *heap);
		if (!heap) {
			fprintf(stderr, "packetd: out of memory\n");
			exit(1);
		}
	}
	size_t i = nheap++;
	heap[i] = h;
	while (i > 0 && before(&heap[i], &heap[(i - 1) / 2])) {
		struct held t = heap[i];
		heap[i] = heap[(i - 1) / 2];
		heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct held heap_pop(void)
{
	struct held top = heap[0];
	heap[0] = heap[--nheap];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < nheap && before(&heap[l], &heap[m]))
			m = l;
		if (r < nheap && before(&heap[r], &heap[m]))
			m = r;
		if (m == i)
			break;
		struct held t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
	return top;
}

/* ---- verdicts ---- */

static void send_copy(const unsigned char *p, uint32_t len)
{
	if (len < 1)
		return;
	int v = p[0] >> 4;
	if (v == 4 && len >= sizeof(struct ip)) {
		struct sockaddr_in to = {.sin_family = AF_INET};
		memcpy(&to.sin_addr, p + 16, 4);
		if (raw4 >= 0 && sendto(raw4, p, len, 0, (struct sockaddr *)&to, sizeof to) >= 0)
			stats.duplicated++;
	} else if (v == 6 && len >= sizeof(struct ip6_hdr)) {
		struct sockaddr_in6 to = {.sin6_family = AF_INET6};
		memcpy(&to.sin6_addr, p + 24, 16);
		if (raw6 >= 0 && sendto(raw6, p, len, 0, (struct sockaddr *)&to, sizeof to) >= 0)
			stats.duplicated++;
	}
}

static void release(struct held *h)
{
	nfq_set_verdict(qh, h->id, NF_ACCEPT, h->data ? h->len : 0, h->data);
	if (h->copy)
		send_copy(h->copy, h->copy_len);
	free(h->data);
	free(h->copy);
}

static void release_due(int64_t now)
{
	while (nheap > 0 && heap[0].due <= now) {
		struct held h = heap_pop();
		release(&h);
	}
}

/* Flip one random bit past the IP header, where a checksum will catch it
 * (the kernel computed the checksum before queueing to us). */
static unsigned char *corrupted(const unsigned char *p, uint32_t len)
{
	uint32_t hdr = 0;
	if (len > 0 && (p[0] >> 4) == 4)
		hdr = (uint32_t)(p[0] & 0xf) * 4;
	else if (len > 0 && (p[0] >> 4) == 6)
		hdr = 40;
	if (len <= hdr)
		return NULL;
	unsigned char *d = malloc(len);
	if (!d)
		return NULL;
	memcpy(d, p, len);
	uint32_t bit = (uint32_t)(rnd() % ((uint64_t)(len - hdr) * 8));
	d[hdr + bit / 8] ^= (unsigned char)(1u << (bit % 8));
	return d;
}

static int on_packet(struct nfq_q_handle *q, struct nfgenmsg *msg, struct nfq_data *nfa,
		     void *data)
{
	(void)msg;
	(void)data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	if (!ph)
		return 0;
	uint32_t id = ntohl(ph->packet_id);
	unsigned char *payload = NULL;
	int len = nfq_get_payload(nfa, &payload);
	stats.seen++;
	if (chance(cfg.loss)) {
		stats.dropped++;
		return nfq_set_verdict(q, id, NF_DROP, 0, NULL);
	}
	struct held h = {.id = id, .seq = seq++};
	if (len > 0 && chance(cfg.corrupt)) {
		h.data = corrupted(payload, (uint32_t)len);
		if (h.data) {
			h.len = (uint32_t)len;
			stats.corrupted++;
		}
	}
	if (len > 0 && chance(cfg.dup)) {
		h.copy = malloc((size_t)len);
		if (h.copy) {
			memcpy(h.copy, payload, (size_t)len);
			h.copy_len = (uint32_t)len;
		}
	}
	int64_t now = now_ns();
	int64_t due = now;
	if (cfg.reorder > 0 && chance(cfg.reorder)) {
		stats.reordered++; /* sent now, overtaking the held ones */
	} else if (cfg.delay_us > 0) {
		double d = cfg.delay_us + cfg.jitter_us * sample();
		if (d < 0)
			d = 0;
		due = now + (int64_t)(d * 1000);
	}
	if (cfg.rate_bps > 0 && len > 0) {
		int64_t start = due > link_free ? due : link_free;
		link_free = start + (int64_t)((double)len * 8 * 1e9 / cfg.rate_bps);
		due = link_free;
	}
	if (due <= now) {
		release(&h);
		return 0;
	}
	stats.delayed++;
	h.due = due;
	heap_push(h);
	return 0;
}

/* ---- setup ---- */

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: faultline-packetd [--daemon] [--pidfile F] [--log F] --queue N [--mark M]\n"
		"       [--delay-us U] [--jitter-us U] [--distribution normal|uniform|pareto]\n"
		"       [--loss P] [--duplicate P] [--reorder P] [--corrupt P] [--rate-bps B]\n"
		"       [--seed S]\n"
		"       faultline-packetd --version\n");
	return 2;
}

static bool num(const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || end == s || *end || !(d >= min && d <= max))
		return false;
	*out = d;
	return true;
}

/* Any 64-bit seed (a double would lose the top of the range). */
static bool seed_parse(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return false;
	*out = v;
	return true;
}

static int parse_args(int argc, char **argv)
{
	cfg.queue = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d;
		if (!strcmp(a, "--daemon")) {
			cfg.daemon = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "faultline-packetd: %s needs a value (see --help)\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--pidfile"))
			cfg.pidfile = v;
		else if (!strcmp(a, "--log"))
			cfg.log = v;
		else if (!strcmp(a, "--queue") && num(v, 0, 65535, &d))
			cfg.queue = (int)d;
		else if (!strcmp(a, "--mark") && num(v, 0, 4294967295.0, &d))
			cfg.mark = (uint32_t)d;
		else if (!strcmp(a, "--delay-us") && num(v, 0, 6e7, &d))
			cfg.delay_us = d;
		else if (!strcmp(a, "--jitter-us") && num(v, 0, 6e7, &d))
			cfg.jitter_us = d;
		else if (!strcmp(a, "--distribution") &&
			 (!strcmp(v, "normal") || !strcmp(v, "uniform") || !strcmp(v, "pareto")))
			cfg.dist = !strcmp(v, "normal") ? 0 : !strcmp(v, "uniform") ? 1 : 2;
		else if (!strcmp(a, "--loss") && num(v, 0, 1, &d))
			cfg.loss = d;
		else if (!strcmp(a, "--duplicate") && num(v, 0, 1, &d))
			cfg.dup = d;
		else if (!strcmp(a, "--reorder") && num(v, 0, 1, &d))
			cfg.reorder = d;
		else if (!strcmp(a, "--corrupt") && num(v, 0, 1, &d))
			cfg.corrupt = d;
		else if (!strcmp(a, "--rate-bps") && num(v, 0, 1e12, &d))
			cfg.rate_bps = d;
		else if (!strcmp(a, "--seed") && seed_parse(v, &cfg.seed))
			;
		else {
			fprintf(stderr, "faultline-packetd: bad option %s %s (see --help)\n", a, v);
			return -1;
		}
	}
	if (cfg.queue < 0) {
		fprintf(stderr, "faultline-packetd: --queue is required\n");
		return -1;
	}
	return 0;
}

static int raw_socket(int family)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &cfg.mark, sizeof cfg.mark) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Report readiness (or the reason for failing) to the launcher. */
static void ready(int fd, const char *msg)
{
	if (fd < 0)
		return;
	ssize_t w = write(fd, msg, strlen(msg));
	(void)w;
	close(fd);
}

static int write_pidfile(void)
{
	if (!cfg.pidfile)
		return 0;
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", cfg.pidfile);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, cfg.pidfile) != 0)
		return -1;
	return 0;
}

static int open_queue(struct nfq_handle **hp, char *why, size_t n)
{
	struct nfq_handle *h = nfq_open();
	if (!h) {
		snprintf(why, n, "nfq_open: %s", strerror(errno));
		return -1;
	}
	/* Old kernels want the family bound; new ones ignore this. */
	nfq_unbind_pf(h, AF_INET);
	nfq_bind_pf(h, AF_INET);
	nfq_unbind_pf(h, AF_INET6);
	nfq_bind_pf(h, AF_INET6);
	qh = nfq_create_queue(h, (uint16_t)cfg.queue, on_packet, NULL);
	if (!qh) {
		snprintf(why, n, "cannot bind NFQUEUE %d: %s (another daemon on it?)", cfg.queue,
			 strerror(errno));
		nfq_close(h);
		return -1;
	}
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
		snprintf(why, n, "nfq_set_mode: %s", strerror(errno));
		nfq_close(h);
		return -1;
	}
	nfq_set_queue_maxlen(qh, 65536);
	/* Queue full: let packets through rather than drop them - a loss
	 * nobody asked for would be a second, silent fault. */
	nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN);
	nfnl_rcvbufsiz(nfq_nfnlh(h), 16 * 1024 * 1024);
	int fd = nfq_fd(h);
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
	*hp = h;
	return 0;
}

/* Detach: the parent waits for the child's word on a pipe. */
static int daemonize(int *notify)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		char msg[512];
		ssize_t r = read(p[0], msg, sizeof msg - 1);
		if (r <= 0) {
			fprintf(stderr, "faultline-packetd: exited before it was ready\n");
			_exit(1);
		}
		msg[r] = 0;
		if (strcmp(msg, "ok")) {
			fprintf(stderr, "faultline-packetd: %s\n", msg);
			_exit(1);
		}
		_exit(0);
	}
	close(p[0]);
	setsid();
	/* A second fork: not a session leader, never gets a terminal. */
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	*notify = p[1];
	int null = open("/dev/null", O_RDWR);
	int logfd = cfg.log ? open(cfg.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
	if (null >= 0)
		dup2(null, 0);
	dup2(logfd >= 0 ? logfd : null, 1);
	dup2(logfd >= 0 ? logfd : null, 2);
	if (null > 2)
		close(null);
	if (logfd > 2)
		close(logfd);
	if (chdir("/") != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		puts(PACKETD_VERSION);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--help"))
		return usage();
	/* parse_args printed the one line that says what is wrong. */
	if (parse_args(argc, argv) < 0)
		return 2;
	rng_state = cfg.seed ? cfg.seed : (uint64_t)now_ns();
	int notify = -1;
	if (cfg.daemon && daemonize(&notify) < 0) {
		perror("faultline-packetd: daemonize");
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_term};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	char why[400];
	struct nfq_handle *h = NULL;
	if (open_queue(&h, why, sizeof why) < 0) {
		fprintf(stderr, "faultline-packetd: %s\n", why);
		ready(notify, why);
		return 1;
	}
	if (cfg.dup > 0) {
		raw4 = raw_socket(AF_INET);
		raw6 = raw_socket(AF_INET6);
		if (raw4 < 0 && raw6 < 0) {
			snprintf(why, sizeof why, "raw socket for duplicates: %s", strerror(errno));
			ready(notify, why);
			return 1;
		}
	}
	if (write_pidfile() < 0) {
		snprintf(why, sizeof why, "cannot write %s: %s", cfg.pidfile, strerror(errno));
		ready(notify, why);
		return 1;
	}
	fprintf(stderr, "faultline-packetd %ld: queue %d, delay %.0f us jitter %.0f us, loss %g, "
		"duplicate %g, reorder %g, corrupt %g, rate %.0f bit/s\n",
		(long)getpid(), cfg.queue, cfg.delay_us, cfg.jitter_us, cfg.loss, cfg.dup,
		cfg.reorder, cfg.corrupt, cfg.rate_bps);
	ready(notify, "ok");
	int fd = nfq_fd(h);
	/* SIGTERM is only let in while waiting in ppoll: one arriving between
	 * the check of `stopping` and the wait cannot be missed. */
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	static char buf[0x10000 + 4096] __attribute__((aligned));
	while (!stopping) {
		struct timespec ts, *tsp = NULL;
		if (nheap > 0) {
			int64_t wait = heap[0].due - now_ns();
			if (wait < 0)
				wait = 0;
			ts.tv_sec = (time_t)(wait / 1000000000LL);
			ts.tv_nsec = (long)(wait % 1000000000LL);
			tsp = &ts;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = ppoll(&pfd, 1, tsp, &waitmask);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr > 0) {
			/* Drain what is there without blocking. */
			for (;;) {
				ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
				if (r <= 0)
					break;
				nfq_handle_packet(h, buf, (int)r);
			}
		}
		release_due(now_ns());
	}
	/* Let everything still held go: a fault ends, it does not drop. */
	while (nheap > 0) {
		struct held x = heap_pop();
		release(&x);
	}
	fprintf(stderr, "faultline-packetd %ld: exiting: %llu packets, %llu dropped, %llu delayed, "
		"%llu duplicated, %llu corrupted, %llu reordered\n",
		(long)getpid(), stats.seen, stats.dropped, stats.delayed, stats.duplicated,
		stats.corrupted, stats.reordered);
	nfq_destroy_queue(qh);
	nfq_close(h);
	if (cfg.pidfile)
		unlink(cfg.pidfile);
	return 0;
}
