/*
 * fuzz-http-path.c: a request target as satcheld's web library decodes
 * it (daemon/http-path.c), the query with libevent and the path with the
 * strict decoder. The input is the target as evhttp hands it over: a C
 * string, so it ends at the first NUL. Invariants of an accepted path:
 * it starts with '/', has no NUL, is valid UTF-8, holds no empty, "." or
 * ".." segment, and %-encoding it again decodes to itself (a backslash
 * stays literal: the decoder refuses an encoded one like an encoded
 * slash, but lets a literal one through, as a path byte like any other).
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http-path.h"
#include "util.h"

#include "fuzz.h"

static int
unreserved(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
	    ch == '~' || ch == '/' || ch == '\\';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	char			*s, *path, *again, *enc, *p;
	const char		*why;
	size_t			 n, plen, i;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	n = strlen(s);

	TAILQ_INIT(&q);
	if (http_target_query(s, &q) == 0)
		TAILQ_FOREACH(kv, &q, next)
			FUZZ_ASSERT(kv->key != NULL && kv->value != NULL);
	evhttp_clear_headers(&q);

	plen = http_target_pathlen(s);
	FUZZ_ASSERT(plen <= n && (plen == n || s[plen] == '?'));
	FUZZ_ASSERT(memchr(s, '?', plen) == NULL);
	why = NULL;
	if ((path = http_path_decode(s, plen, &why)) == NULL) {
		FUZZ_ASSERT(why != NULL && *why != '\0');
		free(s);
		return 0;
	}
	n = strlen(path);
	FUZZ_ASSERT(n <= plen && path[0] == '/');
	FUZZ_ASSERT(utf8_valid_text(path, n));
	FUZZ_ASSERT(strstr(path, "//") == NULL &&
	    strstr(path, "/./") == NULL && strstr(path, "/../") == NULL);
	FUZZ_ASSERT(!(n >= 2 && strcmp(path + n - 2, "/.") == 0) &&
	    !(n >= 3 && strcmp(path + n - 3, "/..") == 0));

	if ((enc = malloc(3 * n + 1)) == NULL)
		abort();
	for (i = 0, p = enc; i < n; i++) {
		if (unreserved((unsigned char)path[i]))
			*p++ = path[i];
		else {
			static const char	hex[] = "0123456789ABCDEF";

			*p++ = '%';
			*p++ = hex[(unsigned char)path[i] >> 4];
			*p++ = hex[(unsigned char)path[i] & 15];
		}
	}
	*p = '\0';
	again = http_path_decode(enc, (size_t)(p - enc), &why);
	FUZZ_ASSERT(again != NULL && strcmp(again, path) == 0);
	free(again);
	free(enc);
	free(path);
	free(s);
	return 0;
}
