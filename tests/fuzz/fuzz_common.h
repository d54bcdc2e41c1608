/*
 * fuzz_common.h - what the libFuzzer harnesses run, shared with
 * tests/unit/test_fuzz_regressions.c so a crasher replays through exactly
 * the same code: fuzz_history_run (one history input through
 * history_stream_file, every op serialised back with op_to_json as the
 * report does) and fuzz_config_run (one config input through
 * config_load_file then config_finish).
 *
 * A history input is handed over as an fmemopen() stream over the input
 * bytes (no syscalls per input); the config loader takes a path, so a
 * config input is written to one memfd, rewound per run and named as
 * /proc/self/fd/N.
 */
#ifndef FAULTLINE_FUZZ_COMMON_H
#define FAULTLINE_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "history.h"
#include "util.h"

struct fuzz_result {
	int rc;         /* 0 accepted, -1 rejected with msg */
	long ops;       /* history: ops read */
	int stage;      /* config: 1 rejected by config_load_file, 2 by config_finish */
	char msg[512];
};

/* Warnings (a torn last line...) are expected for most inputs; writing
 * each to stderr costs more than parsing it. Errors still print. */
static inline void fuzz_quiet(void) { log_set_level(LOG_ERROR); }

static int fuzz_consume(struct op *op, void *ctx)
{
	json_decref(op_to_json(op));
	op_free(op);
	((struct fuzz_result *)ctx)->ops++;
	return 0;
}

static inline void fuzz_history_run(const uint8_t *data, size_t size, enum history_format fmt,
				    struct fuzz_result *res)
{
	static char empty[1];
	struct history_error err;
	memset(res, 0, sizeof *res);
	FILE *f = fmemopen(size ? (void *)data : empty, size, "r");
	if (!f)
		abort();
	res->rc = history_stream_file(f, "fuzz-input", fmt, fuzz_consume, res, &err);
	fclose(f);
	if (res->rc < 0)
		snprintf(res->msg, sizeof res->msg, "%s", err.msg);
}

static inline const char *fuzz_input_path(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("fuzz-input", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

static inline void fuzz_config_run(const uint8_t *data, size_t size, struct fuzz_result *res)
{
	struct test t;
	struct config_error err;
	memset(res, 0, sizeof *res);
	test_init_defaults(&t);
	res->rc = config_load_file(&t, fuzz_input_path(data, size), &err);
	res->stage = res->rc < 0 ? 1 : 0;
	if (res->rc == 0) {
		res->rc = config_finish(&t, &err);
		res->stage = res->rc < 0 ? 2 : 0;
	}
	if (res->rc < 0)
		snprintf(res->msg, sizeof res->msg, "%s", err.msg);
	test_free(&t);
}

#endif
