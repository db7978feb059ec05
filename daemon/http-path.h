/*
 * http-path.h: decoding an HTTP request target (its path and its query
 * string), kept apart from the server so that it can be tested and
 * fuzzed without a socket (tests/fuzz/fuzz-http-path.c).
 */
#ifndef SATCHEL_HTTP_PATH_H
#define SATCHEL_HTTP_PATH_H

#include <stddef.h>

struct evkeyvalq;

/*
 * Decodes the path of a request target strictly; NULL with *why set for
 * anything a well-behaved browser never sends: a bad %-escape, an encoded
 * slash, backslash or NUL, bytes that are not valid UTF-8 (overlong forms
 * included), control characters, empty, "." or ".." segments. On success
 * the path is NUL-terminated and the caller frees it.
 */
char	*http_path_decode(const char *s, size_t len, const char **why);

/* The length of target's path: everything before the first '?'. */
size_t	 http_target_pathlen(const char *target);

/*
 * Parses target's query string (after the first '?'; none is an empty
 * query) into q, which the caller initialised and clears. -1 if it does
 * not parse.
 */
int	 http_target_query(const char *target, struct evkeyvalq *q);

#endif
