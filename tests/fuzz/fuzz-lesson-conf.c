/*
 * fuzz-lesson-conf.c: lesson_conf_parse. An accepted lesson.conf written
 * back as `key = value` lines must parse to the same fields.
 */
#include <stdlib.h>
#include <string.h>

#include "bundle-conf.h"
#include "error.h"
#include "manifest.h"
#include "util.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct meta	m = { NULL, 0 }, again = { NULL, 0 };
	struct error	err;
	struct buf	b;
	size_t		i;

	error_clear(&err);
	if (lesson_conf_parse(&m, (const char *)data, size, "lesson.conf",
	    &err) != 0) {
		FUZZ_ASSERT(err.code != 0 &&
		    strstr(err.msg, "lesson.conf") != NULL);
		FUZZ_ASSERT(m.n == 0);
		return 0;
	}
	buf_init(&b);
	for (i = 0; i < m.n; i++) {
		/* Sorted, unique keys. */
		FUZZ_ASSERT(i == 0 || strcmp(m.v[i - 1].key, m.v[i].key) < 0);
		buf_printf(&b, "%s = %s\n", m.v[i].key, m.v[i].value);
	}
	FUZZ_ASSERT(lesson_conf_parse(&again, b.data != NULL ? b.data : "",
	    b.len, "again.conf", &err) == 0);
	FUZZ_ASSERT(again.n == m.n);
	for (i = 0; i < m.n; i++)
		FUZZ_ASSERT(strcmp(again.v[i].key, m.v[i].key) == 0 &&
		    strcmp(again.v[i].value, m.v[i].value) == 0);
	meta_free(&again);
	meta_free(&m);
	buf_free(&b);
	return 0;
}
