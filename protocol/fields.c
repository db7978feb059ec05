/* fields.c owns splitting a line of a signed text format into fields. */
#include <string.h>

#include "fields.h"

int
field_is(const struct field *f, const char *s)
{
	return f->len == strlen(s) && memcmp(f->p, s, f->len) == 0;
}

/* Why: fields are separated by exactly one space and hold printable ASCII
 * only, so a tab, a CR from a Windows editor or a trailing space is named
 * on its line rather than surfacing later as a bad name or digest. */
int
fields_split(struct field *f, size_t max, size_t *nf, const char *p,
    size_t len, const char *name, unsigned line, struct error *err)
{
	size_t	i, start = 0;

	*nf = 0;
	if (len == 0)
		return error_set(err, SATCHEL_EINVALID, "%s:%u: blank line",
		    name, line);
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != ' ') {
			if ((unsigned char)p[i] < 0x21 ||
			    (unsigned char)p[i] > 0x7e)
				return error_set(err, SATCHEL_EINVALID,
				    "%s:%u: control character or non-ASCII byte "
				    "in column %zu", name, line, i + 1);
			continue;
		}
		if (i == start)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: stray space in column %zu (fields are "
			    "separated by one space, with none at the end)",
			    name, line, i == len ? i : i + 1);
		if (*nf == max) {
			(*nf)++;	/* too many; the caller says which */
			return 0;
		}
		f[*nf].p = p + start;
		f[*nf].len = i - start;
		(*nf)++;
		start = i + 1;
	}
	return 0;
}

int
lines_parse(const char *buf, size_t len, const char *name, unsigned *lineno,
    int (*line)(void *, const char *, size_t, struct error *),
    int (*ended)(void *), void *arg, size_t *bodylen, struct error *err)
{
	const char	*p = buf, *end = buf + len, *nl;
	int		 rc;

	while (!ended(arg)) {
		(*lineno)++;
		if (p == end)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: missing the \"end\" line", name, *lineno);
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: line without a final newline", name, *lineno);
		if ((rc = line(arg, p, (size_t)(nl - p), err)) != 0)
			return rc;
		p = nl + 1;
	}
	*bodylen = (size_t)(p - buf);
	return 0;
}
