/*
 * http-path.c: decoding a request target. Pure: no connection, no store.
 * See http.c for why the decoding is strict.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "http-path.h"
#include "util.h"

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

char *
http_path_decode(const char *s, size_t len, const char **why)
{
	char	*out = xmalloc(len + 1), *seg;
	size_t	 i, o = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 ||
		    (lo = hexval(s[i + 2])) < 0) {
			*why = "a bad %-escape";
			goto bad;
		}
		out[o] = (char)(hi << 4 | lo);
		if (out[o] == '/' || out[o] == '\\') {
			*why = "an encoded slash";
			goto bad;
		}
		if (out[o] == '\0') {
			*why = "an encoded NUL";
			goto bad;
		}
		o++;
		i += 2;
	}
	out[o] = '\0';
	if (!utf8_valid_text(out, o)) {
		*why = "bytes that are not valid UTF-8 text";
		goto bad;
	}
	if (o == 0 || out[0] != '/') {
		*why = "a path that does not start with /";
		goto bad;
	}
	/* Segments after the first slash; a trailing slash is allowed. */
	for (seg = out + 1; *seg != '\0';) {
		char	*e = strchr(seg, '/');
		size_t	 n = e != NULL ? (size_t)(e - seg) : strlen(seg);

		if ((n == 0 && e != NULL) || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			*why = "an empty, \".\" or \"..\" path segment";
			goto bad;
		}
		if (e == NULL)
			break;
		seg = e + 1;
	}
	return out;
bad:
	free(out);
	return NULL;
}

size_t
http_target_pathlen(const char *target)
{
	return strcspn(target, "?");
}

int
http_target_query(const char *target, struct evkeyvalq *q)
{
	const char	*p = strchr(target, '?');

	if (p == NULL)
		return 0;
	return evhttp_parse_query_str(p + 1, q) != 0 ? -1 : 0;
}
