/*
 * vectors.h: reading protocol/vectors/ files in unit tests (SRCDIR is the
 * source tree, passed by the build). Include after <cmocka.h>.
 */
#ifndef SATCHEL_TEST_VECTORS_H
#define SATCHEL_TEST_VECTORS_H

#include <stdlib.h>

#include "fsutil.h"
#include "util.h"

/* The whole file, NUL-terminated; fails the test if it cannot be read. */
static inline char *
read_vector(const char *file, size_t *lenp)
{
	struct error	 err;
	char		*path = xasprintf("%s/protocol/vectors/%s", SRCDIR, file);
	char		*buf = NULL;
	size_t		 len = 0;

	if (file_read_all(&buf, &len, path, 64u << 20, &err) != 0)
		fail_msg("%s", err.msg);
	free(path);
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

#endif
