/*
 * fields.h: the one-space-separated fields of the signed line formats
 * (trust policy, catalog).
 */
#ifndef SATCHEL_FIELDS_H
#define SATCHEL_FIELDS_H

#include <stddef.h>

#include "error.h"

struct field {
	const char	*p;
	size_t		 len;
};

/* Splits p[0..len) into at most max fields in f (f holds max + 1); *nf
 * is max + 1 when there are more, so the caller can say which line has
 * too many. Messages name NAME:LINE and the column. */
int	fields_split(struct field *f, size_t max, size_t *nf, const char *p,
	    size_t len, const char *name, unsigned line, struct error *err);
/* Feeds each LF-terminated line of buf[0..len) to line() (with *lineno
 * counting from 1) until ended() says the body is complete; *bodylen is
 * then the body's length, through that line. A body without its end, or
 * a line without its LF, is refused naming NAME:LINE. */
int	lines_parse(const char *buf, size_t len, const char *name,
	    unsigned *lineno, int (*line)(void *, const char *, size_t,
	    struct error *), int (*ended)(void *), void *arg, size_t *bodylen,
	    struct error *err);
/* 1 if the field is exactly s. */
int	field_is(const struct field *, const char *s);

#endif
