/*
 * fuzz_history_jsonl.c - libFuzzer harness for the JSONL history reader
 * (history_stream_file with HISTORY_JSONL, what history_stream runs on an
 * opened file): any input must either parse or be rejected with an error,
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
	fuzz_history_run(data, size, HISTORY_JSONL, &res);
	return 0;
}
