/*
 * http-client.h: the static transport's client (protocol/SPEC.md §10
 * "Static transport"): a store directory published by any web server or
 * HTTP cache, read over HTTP/1.1 or HTTPS with libevent's evhttp on a
 * private event base, one kept-alive connection, every call blocking
 * and bounded by a timeout. It only moves bytes: what they are worth is
 * decided by the signatures and digests the caller checks.
 */
#ifndef SATCHEL_HTTP_CLIENT_H
#define SATCHEL_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HTTP_CLIENT_TIMEOUT	60	/* seconds per connect, read, write */
/* Kept-alive connections, each with one object request in flight: a few
 * hide the round trip per object that HTTP/1.1 without pipelining costs
 * (and that a CDN's distance makes long). */
#define HTTP_CLIENT_CONNS	4
/* A CA file (PEM) trusted for https:// besides the system's store. */
#define HTTP_CLIENT_CA_ENV	"SATCHEL_CA_FILE"

struct http_client;

/* 1 when s starts with http:// or https://. */
int	http_client_is_url(const char *s);

/* Parses url (http[s]://HOST[:PORT]/PATH/, the store directory) and
 * prepares the connection (made on the first request). On success *out
 * belongs to the caller: release it with http_client_close(). */
int	http_client_open(struct http_client **out, const char *url,
	    struct error *err);
void	http_client_close(struct http_client *);	/* NULL-safe */
/* The URL as given, for messages. */
const char *http_client_url(const struct http_client *);
/* 1 once a request failed in the network (refused, cut, timed out, TLS):
 * what was fetched so far is sound, the rest may be fetched later. */
int	http_client_broken(const struct http_client *);

/* GET path (relative to the store URL) whole: at most max bytes, else
 * refused. 0 with *data (malloc'd, the caller frees it) and *len;
 * SATCHEL_ENOTFOUND on 404 or 410; another negative code otherwise. */
int	http_client_get(struct http_client *, const char *path, size_t max,
	    char **data, size_t *len, struct error *err);

/* Called with each run of bytes, in order; non-zero stops. */
typedef int (*http_client_data_fn)(void *arg, const void *data, size_t len,
    struct error *err);

/* GET path from offset on (a Range request when offset > 0), where the
 * whole file is exactly size bytes: bytes offset..size go to fn. A 200
 * answer to a Range request is the file whole: its first offset bytes
 * are skipped (the caller holds them; its digest checks both). More
 * than size bytes (endless data) or a Content-Range that is not the one
 * asked for is SATCHEL_EVERIFY; SATCHEL_ENOTFOUND on 404 or 410. */
int	http_client_get_range(struct http_client *, const char *path,
	    uint64_t size, uint64_t offset, http_client_data_fn fn, void *arg,
	    struct error *err);

/* The same, as one of up to HTTP_CLIENT_CONNS requests in flight at once:
 * http_client_start sends it on an idle connection (the caller checks
 * http_client_idle first) and returns that connection's number, or a
 * negative code; http_client_wait runs them until one has ended and
 * returns its outcome, as http_client_get_range would, its number in
 * *slot; http_client_busy says whether a connection has one in flight;
 * http_client_abort drops the one in flight on connection slot
 * (nothing more is called for it). */
int	http_client_start(struct http_client *, const char *path,
	    uint64_t size, uint64_t offset, http_client_data_fn fn, void *arg,
	    struct error *err);
int	http_client_idle(const struct http_client *);
int	http_client_busy(const struct http_client *, int slot);
int	http_client_wait(struct http_client *, int *slot, struct error *err);
void	http_client_abort(struct http_client *, int slot);

#endif
