/* error.c owns struct error: formatting and prefixing messages. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int
error_set(struct error *err, int code, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

void
error_prefix(struct error *err, const char *fmt, ...)
{
	char	prefix[ERROR_MSG_MAX], old[ERROR_MSG_MAX];
	size_t	n;
	va_list	ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	/* Built piecewise: the prefix wins, the old message is cut to fit. */
	n = strlen(prefix);
	memcpy(err->msg, prefix, n);
	if (n + 2 < sizeof err->msg) {
		memcpy(err->msg + n, ": ", 2);
		n += 2;
		strncpy(err->msg + n, old, sizeof err->msg - n - 1);
		n += strnlen(old, sizeof err->msg - n - 1);
	}
	err->msg[n] = '\0';
}

void
error_clear(struct error *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
