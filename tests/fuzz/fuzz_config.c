/*
 * fuzz_config.c - libFuzzer harness for the test config parser
 * (config_load_file then config_finish): hostile JSON must be rejected with
 * an error naming the key, never crash, hang or leak.
 */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct test t;
	struct config_error err;
	test_init_defaults(&t);
	if (config_load_file(&t, fuzz_input_path(data, size), &err) == 0)
		config_finish(&t, &err);
	test_free(&t);
	return 0;
}
