/*
 * fuzz_config.c - libFuzzer harness for the test config parser
 * (config_load_file then config_finish, which also validates the nemesis
 * options): hostile JSON must be rejected with an error naming the key,
 * never crash, hang or leak. See fuzz_common.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_result res;
	fuzz_config_run(data, size, &res);
	return 0;
}
