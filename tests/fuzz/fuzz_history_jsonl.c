/*
 * fuzz_history_jsonl.c - libFuzzer harness for the JSONL history reader
 * (history_stream with HISTORY_JSONL): any input must either parse or be
 * rejected with an error, never crash, hang or leak.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "history.h"

static int fuzz_consume(struct op *op, void *ctx)
{
	(void)ctx;
	json_t *j = op_to_json(op); /* exercise serialisation of whatever was read */
	json_decref(j);
	op_free(op);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct history_error err;
	history_stream(fuzz_input_path(data, size), HISTORY_JSONL, fuzz_consume, NULL, &err);
	return 0;
}
