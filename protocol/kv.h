/*
 * kv.h: the `key = value` text format of bundle.conf and lesson.conf.
 */
#ifndef SATCHEL_KV_H
#define SATCHEL_KV_H

#include <stddef.h>

#include "error.h"

#define KV_FILE_MAX	(1024 * 1024)
#define KV_VALUE_MAX	4096

struct kv_entry {
	char		*key;	/* "title" or "title.zh" */
	char		*value;	/* trimmed, non-empty */
	unsigned	 line;
};

struct kv {
	struct kv_entry	*v;
	size_t		 n;
};

/* Parses UTF-8 `key = value` lines: blank lines and lines starting with
 * '#' are skipped, a UTF-8 BOM and CRLF endings are tolerated. Keys are
 * [a-z][a-z0-9_-]* with an optional ".LANG" (LANG: letters, digits and
 * '-'); a key may not repeat; an empty value is an error. Messages name
 * name:line. */
int	kv_parse(struct kv *out, const char *buf, size_t len, const char *name,
	    struct error *err);
void	kv_free(struct kv *);

#endif
