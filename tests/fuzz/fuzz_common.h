/*
 * fuzz_common.h - shared by the libFuzzer harnesses: the readers take a
 * path (they stream from files), so each input is written to one memfd that
 * is rewound per run and handed over as /proc/self/fd/N.
 */
#ifndef FAULTLINE_FUZZ_COMMON_H
#define FAULTLINE_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *fuzz_input_path(const uint8_t *data, size_t size)
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

#endif
