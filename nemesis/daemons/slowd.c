/*
 * slowd.c - faultline-slowd, the slow-node duty cycle (slow.c): stops a
 * process for stop_ms of every period_ms (SIGSTOP, then SIGCONT) so it
 * stays alive and a member but answers slowly - a gray failure.
 *
 *   faultline-slowd --daemon --pidfile F --log F --pid P --stop-ms S --period-ms T
 *   faultline-slowd --version
 *
 * The target is pinned by its start time (/proc/P/stat field 22) taken at
 * launch: if P exits and the pid is reused, slowd exits instead of
 * signalling a stranger. On SIGTERM it sends SIGCONT and exits, so
 * stopping slowd never leaves the process stopped. The schedule runs on
 * absolute CLOCK_MONOTONIC deadlines, so the duty cycle does not drift.
 * With --daemon the launching command returns once slowd runs (or with
 * the reason it cannot).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SLOWD_VERSION "faultline-slowd 1"

static volatile sig_atomic_t stopping;
static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Field 22 of /proc/P/stat (after the ")" that ends the command name). */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	/* p now points before field 3; field 22 is 19 fields on. */
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p + 1, ' ');
	}
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

static bool is_zombie_or_gone(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	ssize_t r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return true;
	buf[r] = 0;
	char *p = strrchr(buf, ')');
	return !p || p[1] == 0 || p[2] == 'Z' || p[2] == 'X';
}

static void ts_add_ms(struct timespec *ts, long ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void sleep_until(const struct timespec *ts)
{
	while (!stopping && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ts, NULL) == EINTR)
		;
}

static int usage(void)
{
	fprintf(stderr, "usage: faultline-slowd [--daemon] [--pidfile F] [--log F] --pid P"
			" [--stop-ms S] [--period-ms T]\n"
			"       faultline-slowd --version\n");
	return 2;
}

static bool num(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		puts(SLOWD_VERSION);
		return 0;
	}
	long pid = 0, stop_ms = 80, period_ms = 100;
	const char *pidfile = NULL, *log = NULL;
	bool daemon = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--daemon")) {
			daemon = true;
			continue;
		}
		if (!strcmp(a, "--help"))
			return usage();
		if (!v) {
			fprintf(stderr, "faultline-slowd: %s needs a value (see --help)\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--pidfile"))
			pidfile = v;
		else if (!strcmp(a, "--log"))
			log = v;
		else if (!(!strcmp(a, "--pid") && num(v, 2, 1L << 30, &pid)) &&
			 !(!strcmp(a, "--stop-ms") && num(v, 1, 60000, &stop_ms)) &&
			 !(!strcmp(a, "--period-ms") && num(v, 2, 60000, &period_ms))) {
			fprintf(stderr, "faultline-slowd: bad option %s %s (see --help)\n", a, v);
			return 2;
		}
	}
	if (pid <= 1 || stop_ms >= period_ms) {
		fprintf(stderr, "faultline-slowd: need --pid P (> 1) and --stop-ms below --period-ms\n");
		return 2;
	}
	unsigned long long st0 = start_time((pid_t)pid);
	if (!st0 || is_zombie_or_gone((pid_t)pid)) {
		fprintf(stderr, "faultline-slowd: no process %ld\n", pid);
		return 1;
	}
	if (kill((pid_t)pid, 0) < 0) {
		fprintf(stderr, "faultline-slowd: cannot signal %ld: %s\n", pid, strerror(errno));
		return 1;
	}
	int notify = -1;
	if (daemon) {
		/* The launcher returns once the pid file is written, so a heal
		 * right after can always find us. */
		int p[2];
		if (pipe(p) < 0) {
			perror("faultline-slowd: pipe");
			return 1;
		}
		pid_t c = fork();
		if (c < 0) {
			perror("faultline-slowd: fork");
			return 1;
		}
		if (c > 0) {
			close(p[1]);
			char msg[256];
			ssize_t r = read(p[0], msg, sizeof msg - 1);
			if (r <= 0 || strncmp(msg, "ok", 2)) {
				if (r > 0) {
					msg[r] = 0;
					fprintf(stderr, "faultline-slowd: %s\n", msg);
				} else {
					fprintf(stderr, "faultline-slowd: exited before it was ready\n");
				}
				_exit(1);
			}
			_exit(0);
		}
		close(p[0]);
		notify = p[1];
		setsid();
		if (fork() > 0)
			_exit(0);
		int null = open("/dev/null", O_RDWR);
		int lf = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
		dup2(null, 0);
		dup2(lf >= 0 ? lf : null, 1);
		dup2(lf >= 0 ? lf : null, 2);
		if (chdir("/") != 0)
			return 1;
	}
	if (pidfile) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
		    rename(tmp, pidfile) != 0) {
			fprintf(stderr, "faultline-slowd: cannot write %s\n", pidfile);
			if (notify >= 0 && write(notify, "cannot write the pid file", 25) < 0)
				return 1;
			return 1;
		}
	}
	struct sigaction sa = {.sa_handler = on_term};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	fprintf(stderr, "faultline-slowd %ld: pid %ld stopped %ld ms of every %ld ms\n",
		(long)getpid(), pid, stop_ms, period_ms);
	if (notify >= 0) {
		if (write(notify, "ok", 2) < 0)
			return 1;
		close(notify);
	}
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	unsigned long long cycles = 0;
	while (!stopping) {
		if (start_time((pid_t)pid) != st0 || is_zombie_or_gone((pid_t)pid)) {
			fprintf(stderr, "faultline-slowd: pid %ld is gone\n", pid);
			break;
		}
		kill((pid_t)pid, SIGSTOP);
		ts_add_ms(&t, stop_ms);
		sleep_until(&t);
		kill((pid_t)pid, SIGCONT);
		ts_add_ms(&t, period_ms - stop_ms);
		sleep_until(&t);
		cycles++;
	}
	if (start_time((pid_t)pid) == st0)
		kill((pid_t)pid, SIGCONT);
	fprintf(stderr, "faultline-slowd %ld: exiting after %llu cycles\n", (long)getpid(), cycles);
	if (pidfile)
		unlink(pidfile);
	return 0;
}
