/*
 * clockd.c - faultline-clockd, the clock helper (clock.c) run on a remote
 * node: moves CLOCK_REALTIME with clock_settime and keeps the net offset
 * it applied in a state file, so the change can be undone exactly, without
 * any time source, even by a later `faultline heal`.
 *
 *   faultline-clockd bump --ms N --state F        shift the clock by N ms
 *   faultline-clockd strobe --ms N --period-ms P --duration-ms D --state F
 *                                                 jump +N / back every P ms
 *                                                 for D ms, ending where it began
 *   faultline-clockd reset --state F              undo the offset in F
 *   faultline-clockd --version
 *
 * The state file is rewritten (tmp + rename) right after every jump, so
 * whatever happens, it holds the offset in force within one jump. Needs
 * CAP_SYS_TIME; without it the error says so. Never used on a node that
 * shares the controller's kernel (clock.c refuses those).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLOCKD_VERSION "faultline-clockd 1"

static int64_t read_offset(const char *state)
{
	FILE *f = fopen(state, "r");
	if (!f)
		return 0;
	long long v = 0;
	if (fscanf(f, "%lld", &v) != 1)
		v = 0;
	fclose(f);
	return (int64_t)v;
}

static int write_offset(const char *state, int64_t ms)
{
	if (ms == 0)
		return unlink(state) == 0 || errno == ENOENT ? 0 : -1;
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", state);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%lld\n", (long long)ms);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, state);
}

/* Shift CLOCK_REALTIME by ms and record the new total offset. */
static int shift(const char *state, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + ms * 1000000LL;
	ts.tv_sec = (time_t)(ns / 1000000000LL);
	ts.tv_nsec = (long)(ns % 1000000000LL);
	if (ts.tv_nsec < 0) {
		ts.tv_sec--;
		ts.tv_nsec += 1000000000L;
	}
	if (clock_settime(CLOCK_REALTIME, &ts) < 0) {
		fprintf(stderr, "faultline-clockd: clock_settime: %s%s\n", strerror(errno),
			errno == EPERM ? " (needs CAP_SYS_TIME; containers usually lack it)" : "");
		return -1;
	}
	if (write_offset(state, read_offset(state) + ms) < 0) {
		fprintf(stderr, "faultline-clockd: cannot record the offset in %s: %s\n", state,
			strerror(errno));
		return -1;
	}
	return 0;
}

static bool num(const char *s, double min, double max, int64_t *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || end == s || *end || d < min || d > max)
		return false;
	*out = (int64_t)d;
	return true;
}

static int usage(void)
{
	fprintf(stderr, "usage: faultline-clockd bump --ms N --state F\n"
			"       faultline-clockd strobe --ms N --period-ms P --duration-ms D --state F\n"
			"       faultline-clockd reset --state F\n"
			"       faultline-clockd --version\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		puts(CLOCKD_VERSION);
		return 0;
	}
	if (argc < 2)
		return usage();
	const char *cmd = argv[1], *state = NULL;
	int64_t ms = 0, period = 0, duration = 0;
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--state"))
			state = v;
		else if (!(!strcmp(a, "--ms") && num(v, -1e10, 1e10, &ms)) &&
			 !(!strcmp(a, "--period-ms") && num(v, 1, 1e6, &period)) &&
			 !(!strcmp(a, "--duration-ms") && num(v, 1, 6e5, &duration)))
			return usage();
	}
	if (!state || (argc % 2) != 0)
		return usage();
	if (!strcmp(cmd, "bump")) {
		if (ms == 0)
			return usage();
		return shift(state, ms) < 0 ? 1 : 0;
	}
	if (!strcmp(cmd, "reset")) {
		int64_t off = read_offset(state);
		if (off == 0)
			return write_offset(state, 0) < 0 ? 1 : 0;
		return shift(state, -off) < 0 ? 1 : 0;
	}
	if (!strcmp(cmd, "strobe")) {
		if (ms <= 0 || period <= 0 || duration <= 0)
			return usage();
		struct timespec t0, now;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		bool up = false;
		for (;;) {
			if (shift(state, up ? -ms : ms) < 0)
				return 1;
			up = !up;
			struct timespec d = {.tv_sec = (time_t)(period / 1000),
					     .tv_nsec = (long)(period % 1000) * 1000000L};
			nanosleep(&d, NULL);
			clock_gettime(CLOCK_MONOTONIC, &now);
			int64_t el = (int64_t)(now.tv_sec - t0.tv_sec) * 1000 +
				     (now.tv_nsec - t0.tv_nsec) / 1000000;
			if (el >= duration && !up)
				break;
		}
		return 0;
	}
	return usage();
}
