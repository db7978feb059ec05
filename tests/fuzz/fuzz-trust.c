/*
 * fuzz-trust.c: trust_parse. It checks the policy's root signatures, so
 * past the syntax the fuzzer mostly meets refusals there; the seeds hold
 * a validly signed policy to mutate from. An accepted policy must encode
 * back to exactly its input.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "trust.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trust	*t = NULL;
	struct error	 err;
	char		*out;
	size_t		 len;

	error_clear(&err);
	if (trust_parse(&t, (const char *)data, size, "fuzz.policy",
	    &err) != 0) {
		FUZZ_ASSERT(t == NULL && err.code != 0 &&
		    strstr(err.msg, "fuzz.policy") != NULL);
		return 0;
	}
	FUZZ_ASSERT(t != NULL && t->threshold >= 1 &&
	    t->threshold <= t->nroots);
	trust_encode(t, &out, &len);
	FUZZ_ASSERT(len == size && memcmp(out, data, size) == 0);
	free(out);
	trust_free(t);
	return 0;
}
