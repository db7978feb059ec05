/*
 * fuzz-manifest.c: manifest_parse. The parser accepts only the canonical
 * form of a valid manifest, so an accepted input must encode back to
 * exactly itself; every file it lists must be found by its path.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "manifest.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest	*m = NULL;
	struct error	 err;
	char		*out;
	size_t		 len, i;

	error_clear(&err);
	if (manifest_parse(&m, (const char *)data, size, "fuzz.manifest",
	    &err) != 0) {
		FUZZ_ASSERT(m == NULL && err.code != 0 &&
		    strstr(err.msg, "fuzz.manifest") != NULL);
		return 0;
	}
	FUZZ_ASSERT(m != NULL && bundle_name_check(m->name) == 0);
	manifest_encode(m, &out, &len);
	FUZZ_ASSERT(len == size && memcmp(out, data, size) == 0);
	free(out);
	for (i = 0; i < m->nfiles; i++)
		FUZZ_ASSERT(manifest_find_file(m, m->files[i].path) ==
		    &m->files[i]);
	for (i = 0; i < m->nlessons; i++)
		FUZZ_ASSERT(lesson_id_check(m->lessons[i].id) == 0);
	manifest_free(m);
	return 0;
}
