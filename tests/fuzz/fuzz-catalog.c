/*
 * fuzz-catalog.c: catalog_parse (body and signature block; no key is
 * checked, so the fuzzer reaches everything past the syntax). An accepted
 * catalog must encode back to exactly its input, and every entry must be
 * found by its name.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "error.h"
#include "manifest.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog	*c = NULL;
	struct error	 err;
	char		*out;
	size_t		 len, i;

	error_clear(&err);
	if (catalog_parse(&c, (const char *)data, size, "fuzz.catalog",
	    &err) != 0) {
		FUZZ_ASSERT(c == NULL && err.code != 0 &&
		    strstr(err.msg, "fuzz.catalog") != NULL);
		return 0;
	}
	FUZZ_ASSERT(c != NULL);
	catalog_encode(c, &out, &len);
	FUZZ_ASSERT(len == size && memcmp(out, data, size) == 0);
	free(out);
	for (i = 0; i < c->n; i++) {
		FUZZ_ASSERT(bundle_name_check(c->v[i].name) == 0);
		FUZZ_ASSERT(catalog_find(c, c->v[i].name) == &c->v[i]);
	}
	catalog_free(c);
	return 0;
}
