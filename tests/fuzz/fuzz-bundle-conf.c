/*
 * fuzz-bundle-conf.c: bundle_conf_parse. An accepted bundle.conf must
 * hold valid required fields, and written back as `key = value` lines
 * (serial in decimal) it must parse to the same fields: what the parser
 * keeps is what the author meant, whatever spacing, comments or BOM
 * surrounded it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bundle-conf.h"
#include "error.h"
#include "manifest.h"
#include "util.h"

#include "fuzz.h"

static void
meta_equal(const struct meta *a, const struct meta *b)
{
	size_t	i;

	FUZZ_ASSERT(a->n == b->n);
	for (i = 0; i < a->n; i++)
		FUZZ_ASSERT(strcmp(a->v[i].key, b->v[i].key) == 0 &&
		    strcmp(a->v[i].value, b->v[i].value) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle_conf	bc, again;
	struct error		err;
	struct buf		b;
	size_t			i;

	memset(&bc, 0, sizeof bc);
	error_clear(&err);
	if (bundle_conf_parse(&bc, (const char *)data, size, "bundle.conf",
	    &err) != 0) {
		FUZZ_ASSERT(err.code != 0 &&
		    strstr(err.msg, "bundle.conf") != NULL);
		return 0;
	}
	FUZZ_ASSERT(bundle_name_check(bc.name) == 0 && bc.serial >= 1);
	FUZZ_ASSERT(bc.label != NULL && strlen(bc.label) <= LABEL_MAX);
	FUZZ_ASSERT(meta_get(&bc.meta, "title") != NULL &&
	    meta_get(&bc.meta, "license") != NULL);
	FUZZ_ASSERT(meta_get(&bc.meta, "language") != NULL &&
	    language_list_check(meta_get(&bc.meta, "language")) == 0);

	buf_init(&b);
	buf_printf(&b, "name = %s\nserial = %" PRIu64 "\nlabel = %s\n",
	    bc.name, bc.serial, bc.label);
	for (i = 0; i < bc.meta.n; i++)
		buf_printf(&b, "%s = %s\n", bc.meta.v[i].key,
		    bc.meta.v[i].value);
	memset(&again, 0, sizeof again);
	FUZZ_ASSERT(bundle_conf_parse(&again, b.data, b.len, "again.conf",
	    &err) == 0);
	FUZZ_ASSERT(strcmp(again.name, bc.name) == 0 &&
	    again.serial == bc.serial && strcmp(again.label, bc.label) == 0);
	meta_equal(&again.meta, &bc.meta);
	bundle_conf_free(&again);
	buf_free(&b);
	bundle_conf_free(&bc);
	return 0;
}
