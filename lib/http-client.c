/*
 * http-client.c: the static transport's client (SPEC §10 "Static
 * transport"). Why evhttp on a private event base rather than a socket
 * of our own: libevent already parses HTTP/1.1 (chunked bodies, keep-
 * alive, header limits) and does TLS through its OpenSSL bufferevents,
 * and the daemon links it anyway; each call here runs the base until
 * its one request has ended, so the caller sees a blocking API like
 * sync-client.c's.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http-client.h"
#include "util.h"

struct http_client {
	char			*url;		/* as given, for messages */
	char			*host;
	char			*hosthdr;	/* Host: header */
	char			*base;		/* the store's path, ends in / */
	int			 port;
	int			 tls;
	int			 broken;
	struct event_base	*eb;
	SSL_CTX			*ctx;
	struct http_slot	*slot;		/* HTTP_CLIENT_CONNS of them */
};

/* One request's state, filled by the callbacks. */
struct http_call {
	struct http_client	*c;
	char			*path;
	int			 done;
	int			 rc;		/* set by a callback that failed */
	struct error		 err;
	int			 code;
	/* a whole document */
	struct evbuffer		*body;
	size_t			 max;
	/* a streamed object */
	http_client_data_fn	 fn;
	void			*arg;
	uint64_t		 size;		/* the whole file */
	uint64_t		 offset;	/* asked from */
	uint64_t		 skip;		/* bytes still to drop */
	uint64_t		 got;		/* bytes given to fn */
	int			 toolong;
	int			 failed;	/* a network failure, not ours */
	enum evhttp_request_error why;
	uint64_t		 maxbody;
	int			 retried;	/* sent again once */
	int			 lastone;	/* the server closes after it */
};

/* One kept-alive connection and the request on it, if any. */
struct http_slot {
	struct http_client	*c;
	struct bufferevent	*bev;		/* TLS: the connection's */
	struct evhttp_connection *conn;		/* NULL until needed */
	int			 closed;	/* the server closed it */
	int			 served;	/* answers it brought */
	int			 busy;		/* call is in flight */
	struct http_call	 call;
};

int
http_client_is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

const char *
http_client_url(const struct http_client *c)
{
	return c->url;
}

int
http_client_broken(const struct http_client *c)
{
	return c->broken;
}

/* The last OpenSSL error, for a message; "" when there is none. */
static const char *
http_client_ssl_error(void)
{
	static __thread char	 buf[256];
	unsigned long		 e = ERR_get_error();

	if (e == 0)
		return "";
	ERR_error_string_n(e, buf, sizeof buf);
	return buf;
}

/* Why the system store and an extra file: the server is any web server
 * or CDN, certified as the web is; a test (or a private CA) adds its own
 * with HTTP_CLIENT_CA_ENV. */
static int
http_client_tls(struct http_client *c, struct error *err)
{
	const char	*ca = getenv(HTTP_CLIENT_CA_ENV);

	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return error_set(err, SATCHEL_ERR, "%s: TLS: %s", c->url,
		    http_client_ssl_error());
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(c->ctx) != 1)
		return error_set(err, SATCHEL_ERR, "%s: TLS: the system's CA "
		    "store: %s", c->url, http_client_ssl_error());
	if (ca != NULL && *ca != '\0' &&
	    SSL_CTX_load_verify_locations(c->ctx, ca, NULL) != 1)
		return error_set(err, SATCHEL_ERR, "%s: %s (%s): %s", c->url,
		    ca, HTTP_CLIENT_CA_ENV, http_client_ssl_error());
	return 0;
}

int
http_client_open(struct http_client **out, const char *url,
    struct error *err)
{
	struct http_client	*c = xcalloc(1, sizeof *c);
	struct evhttp_uri	*u = NULL;
	const char		*scheme, *host, *path;
	struct sigaction	 sa;
	int			 i, rc = 0;

	c->url = xstrdup(url);
	/* libevent writes with writev(2), which raises SIGPIPE on a socket
	 * the server has closed; that is an error handled here (a request
	 * sent again, or a pull to resume), not a reason to die. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		(void)signal(SIGPIPE, SIG_IGN);
	if ((u = evhttp_uri_parse_with_flags(url, 0)) == NULL ||
	    (scheme = evhttp_uri_get_scheme(u)) == NULL ||
	    (host = evhttp_uri_get_host(u)) == NULL || *host == '\0' ||
	    evhttp_uri_get_query(u) != NULL ||
	    evhttp_uri_get_fragment(u) != NULL ||
	    evhttp_uri_get_userinfo(u) != NULL) {
		rc = error_set(err, SATCHEL_EINVALID, "%s: not an "
		    "http[s]://HOST[:PORT]/PATH/ address", url);
		goto out;
	}
	c->tls = strcmp(scheme, "https") == 0;
	if (!c->tls && strcmp(scheme, "http") != 0) {
		rc = error_set(err, SATCHEL_EINVALID, "%s: not http:// or "
		    "https://", url);
		goto out;
	}
	c->host = xstrdup(host);
	c->port = evhttp_uri_get_port(u);
	if (c->port <= 0)
		c->port = c->tls ? 443 : 80;
	c->hosthdr = evhttp_uri_get_port(u) > 0 ?
	    xasprintf(strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d", host,
	    c->port) :
	    xasprintf(strchr(host, ':') != NULL ? "[%s]" : "%s", host);
	path = evhttp_uri_get_path(u);
	if (path == NULL || *path == '\0')
		path = "/";
	/* The store is a directory: its files are under PATH/. */
	c->base = xasprintf("%s%s", path, path[strlen(path) - 1] == '/' ?
	    "" : "/");
	if ((c->eb = event_base_new()) == NULL)
		fatal("event_base_new");
	c->slot = xcalloc(HTTP_CLIENT_CONNS, sizeof *c->slot);
	for (i = 0; i < HTTP_CLIENT_CONNS; i++)
		c->slot[i].c = c;
	if (c->tls && (rc = http_client_tls(c, err)) != 0)
		goto out;
	*out = c;
	c = NULL;		/* ownership moved to the caller */
out:
	if (u != NULL)
		evhttp_uri_free(u);
	http_client_close(c);
	return rc;
}

void
http_client_close(struct http_client *c)
{
	int	i;

	if (c == NULL)
		return;
	for (i = 0; c->slot != NULL && i < HTTP_CLIENT_CONNS; i++) {
		if (c->slot[i].conn != NULL)	/* frees its bev, its request */
			evhttp_connection_free(c->slot[i].conn);
		free(c->slot[i].call.path);
	}
	free(c->slot);
	if (c->eb != NULL)
		event_base_free(c->eb);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	free(c->url);
	free(c->host);
	free(c->hosthdr);
	free(c->base);
	free(c);
}

static void
http_client_close_cb(struct evhttp_connection *conn, void *arg)
{
	struct http_slot	*sl = arg;

	(void)conn;
	sl->closed = 1;
}

/*
 * The kept-alive connection, made anew once the server closed it: a TLS
 * session is one SSL object per TCP connection, which evhttp's own
 * reconnect would reuse.
 */
static int
http_client_conn(struct http_slot *sl, struct error *err)
{
	struct http_client	*c = sl->c;
	SSL			*ssl;
	unsigned char		 addr[sizeof(struct in6_addr)];
	int			 ok;

	if (sl->conn != NULL && !sl->closed)
		return 0;
	if (sl->conn != NULL)
		evhttp_connection_free(sl->conn);
	sl->conn = NULL;
	sl->bev = NULL;
	sl->closed = 0;
	sl->served = 0;
	if (c->tls) {
		if ((ssl = SSL_new(c->ctx)) == NULL)
			return error_set(err, SATCHEL_ERR, "%s: TLS: %s", c->url,
			    http_client_ssl_error());
		/* The certificate must name the host (an address is matched
		 * against its IP names); SNI for a name. */
		if (inet_pton(AF_INET, c->host, addr) == 1 ||
		    inet_pton(AF_INET6, c->host, addr) == 1)
			ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    c->host);
		else
			ok = SSL_set_tlsext_host_name(ssl, c->host) == 1 &&
			    SSL_set1_host(ssl, c->host) == 1;
		if (ok != 1) {
			SSL_free(ssl);
			return error_set(err, SATCHEL_ERR, "%s: TLS: %s", c->url,
			    http_client_ssl_error());
		}
		sl->bev = bufferevent_openssl_socket_new(c->eb, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (sl->bev == NULL)
			fatal("bufferevent_openssl_socket_new");
		bufferevent_openssl_set_allow_dirty_shutdown(sl->bev, 1);
	}
	sl->conn = evhttp_connection_base_bufferevent_new(c->eb, NULL, sl->bev,
	    c->host, (unsigned short)c->port);
	if (sl->conn == NULL)
		fatal("evhttp_connection_base_bufferevent_new");
	evhttp_connection_set_timeout(sl->conn, HTTP_CLIENT_TIMEOUT);
	evhttp_connection_set_retries(sl->conn, 0);
	evhttp_connection_set_max_headers_size(sl->conn, 64 * 1024);
	evhttp_connection_set_closecb(sl->conn, http_client_close_cb, sl);
	return 0;
}

static void
http_client_error_cb(enum evhttp_request_error why, void *arg)
{
	struct http_call	*hc = arg;

	hc->why = why;
}

static const char *
http_client_why(const struct http_call *hc)
{
	switch (hc->why) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out";
	case EVREQ_HTTP_EOF:
		return "the connection closed early";
	case EVREQ_HTTP_INVALID_HEADER:
		return "a malformed answer";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "a connection error";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "the answer is longer than allowed";
	default:
		return "the request failed";
	}
}

/* "bytes FIRST-LAST/TOTAL" with FIRST the offset asked for and TOTAL
 * the object's size (or "*"). */
static int
http_client_range_ok(const char *cr, uint64_t offset, uint64_t size)
{
	unsigned long long	first, last;
	char			total[32];

	if (cr == NULL || sscanf(cr, "bytes %llu-%llu/%31s", &first, &last,
	    total) != 3)
		return 0;
	if (first != offset || last + 1 != size)
		return 0;
	return strcmp(total, "*") == 0 ||
	    strtoull(total, NULL, 10) == (unsigned long long)size;
}

/* The answer's head: the status, and for an object whether the bytes
 * that follow are the ones asked for. -1 stops the request (the
 * connection is then made anew). */
static int
http_client_header_cb(struct evhttp_request *req, void *arg)
{
	struct http_call	*hc = arg;
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	const char		*cl = evhttp_find_header(h, "Content-Length");
	const char		*ce = evhttp_find_header(h, "Content-Encoding");
	uint64_t		 whole = hc->fn != NULL ? hc->size : hc->max;

	hc->code = evhttp_request_get_response_code(req);
	/* An HTTP/1.0 answer ends its connection unless it says otherwise
	 * (libevent only heeds "Connection: close"): the next request goes
	 * on a new one rather than into a socket being closed. */
	if (req->major == 1 && req->minor == 0 &&
	    (evhttp_find_header(h, "Connection") == NULL ||
	    strcasecmp(evhttp_find_header(h, "Connection"), "keep-alive") != 0))
		hc->lastone = 1;
	if (hc->code == 404 || hc->code == 410) {
		hc->rc = error_set(&hc->err, SATCHEL_ENOTFOUND, "%s%s: not found "
		    "(HTTP %d)", hc->c->url, hc->path, hc->code);
		return -1;
	}
	if (hc->code != 200 && !(hc->code == 206 && hc->fn != NULL &&
	    hc->offset > 0)) {
		hc->rc = error_set(&hc->err, SATCHEL_ERR, "%s%s: HTTP %d %s",
		    hc->c->url, hc->path, hc->code,
		    evhttp_request_get_response_code_line(req));
		return -1;
	}
	/* We ask for none: coded bytes would not hash to the digest. */
	if (ce != NULL && strcasecmp(ce, "identity") != 0) {
		hc->rc = error_set(&hc->err, SATCHEL_EVERIFY, "%s%s: sent with "
		    "Content-Encoding %s, which was not asked for", hc->c->url,
		    hc->path, ce);
		return -1;
	}
	if (hc->code == 206 && !http_client_range_ok(evhttp_find_header(h,
	    "Content-Range"), hc->offset, hc->size)) {
		hc->rc = error_set(&hc->err, SATCHEL_EVERIFY, "%s%s: "
		    "Content-Range \"%s\" is not bytes %" PRIu64 "-%" PRIu64
		    "/%" PRIu64 " as asked", hc->c->url, hc->path,
		    evhttp_find_header(h, "Content-Range") ?
		    evhttp_find_header(h, "Content-Range") : "", hc->offset,
		    hc->size - 1, hc->size);
		return -1;
	}
	if (hc->code == 200)
		hc->skip = hc->offset;	/* the whole file: drop what we have */
	if (cl != NULL && strtoull(cl, NULL, 10) > (hc->code == 206 ?
	    hc->size - hc->offset : whole)) {
		hc->toolong = 1;
		hc->rc = error_set(&hc->err, SATCHEL_EVERIFY, "%s%s: %s bytes, "
		    "larger than the %" PRIu64 " %s", hc->c->url, hc->path, cl,
		    whole, hc->fn != NULL ? "bytes its manifest says" :
		    "bytes allowed");
		return -1;
	}
	return 0;
}

/* A run of body bytes: a document's are kept (bounded), an object's
 * passed on, and never more of them than its size. */
static void
http_client_chunk_cb(struct evhttp_request *req, void *arg)
{
	struct http_call	*hc = arg;
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct evbuffer_iovec	 v[16];
	uint64_t		 room;
	size_t			 len, used;
	int			 i, nv;

	if (hc->fn == NULL) {
		if (evbuffer_get_length(hc->body) + evbuffer_get_length(in) >
		    hc->max)
			hc->toolong = 1;
		else
			evbuffer_add_buffer(hc->body, in);
		return;
	}
	while (evbuffer_get_length(in) > 0) {
		nv = evbuffer_peek(in, -1, NULL, v, 16);
		if (nv > 16)
			nv = 16;
		used = 0;
		for (i = 0; i < nv; i++) {
			const char	*p = v[i].iov_base;

			len = v[i].iov_len;
			used += len;
			if (hc->skip > 0) {
				size_t	s = hc->skip < len ? hc->skip : len;

				hc->skip -= s;
				p += s;
				len -= s;
			}
			room = hc->size - hc->offset - hc->got;
			if (len > room) {
				hc->toolong = 1;
				len = (size_t)room;
			}
			if (len > 0 && hc->rc == 0) {
				hc->rc = hc->fn(hc->arg, p, len, &hc->err);
				hc->got += len;
			}
		}
		/* What was looked at goes; once too long or failed the rest
		 * is dropped unread, and the body's own bound (the
		 * connection's max body size) ends it. */
		evbuffer_drain(in, used);
	}
}

static void
http_client_done_cb(struct evhttp_request *req, void *arg)
{
	struct http_call	*hc = arg;

	hc->done = 1;
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		hc->failed = 1;
		return;
	}
	/* Bytes left in the buffer at the end (no chunk callback ran). */
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > 0)
		http_client_chunk_cb(req, arg);
}

/* Why a TLS connection failed, from its bufferevent (OpenSSL's queue is
 * per thread and libevent keeps the connection's errors apart); 0 when
 * TLS said nothing. */
static int
http_client_tls_why(struct http_slot *sl, char *buf, size_t len)
{
	SSL		*ssl;
	unsigned long	 e, first = 0;
	long		 vr;

	if (sl->bev == NULL)
		return 0;
	while ((e = bufferevent_get_openssl_error(sl->bev)) != 0)
		if (first == 0)
			first = e;
	if (first == 0)
		return 0;
	ERR_error_string_n(first, buf, len);
	ssl = bufferevent_openssl_get_ssl(sl->bev);
	if (ssl != NULL && (vr = SSL_get_verify_result(ssl)) != X509_V_OK)
		snprintf(buf + strlen(buf), len - strlen(buf), " (%s)",
		    X509_verify_cert_error_string(vr));
	return 1;
}

/* Sends sl->call (path, and the object's fields) as one GET on sl's
 * connection; the base runs it. */
static int
http_client_send(struct http_slot *sl, uint64_t maxbody, struct error *err)
{
	struct http_client	*c = sl->c;
	struct http_call	*hc = &sl->call;
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	const char		*seg;
	char			*uri, *enc, *tmp, range[64];
	size_t			 n;

	if (http_client_conn(sl, err) != 0)
		return SATCHEL_ERR;
	hc->c = c;
	hc->why = EVREQ_HTTP_REQUEST_CANCEL;
	if ((req = evhttp_request_new(http_client_done_cb, hc)) == NULL)
		fatal("evhttp_request_new");
	evhttp_request_set_header_cb(req, http_client_header_cb);
	evhttp_request_set_chunked_cb(req, http_client_chunk_cb);
	evhttp_request_set_error_cb(req, http_client_error_cb);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", c->hosthdr);
	evhttp_add_header(h, "User-Agent", "satchel/" PACKAGE_VERSION);
	evhttp_add_header(h, "Accept-Encoding", "identity");
	evhttp_add_header(h, "Connection", "keep-alive");
	if (hc->fn != NULL && hc->offset > 0) {
		snprintf(range, sizeof range, "bytes=%" PRIu64 "-", hc->offset);
		evhttp_add_header(h, "Range", range);
	}
	/* Never more body than the file can be: endless data ends here. */
	hc->maxbody = maxbody;
	evhttp_connection_set_max_body_size(sl->conn, (ev_ssize_t)maxbody);
	uri = xstrdup(c->base);
	for (seg = hc->path; *seg != '\0'; seg += n + (seg[n] == '/')) {
		/* Each segment encoded, the slashes between them kept. */
		n = strcspn(seg, "/");
		if ((enc = evhttp_uriencode(seg, (ev_ssize_t)n, 0)) == NULL)
			fatal("evhttp_uriencode");
		tmp = xasprintf("%s%s%s", uri, enc, seg[n] == '/' ? "/" : "");
		free(enc);
		free(uri);
		uri = tmp;
	}
	if (evhttp_make_request(sl->conn, req, EVHTTP_REQ_GET, uri) != 0) {
		free(uri);
		sl->closed = 1;
		c->broken = 1;
		return error_set(err, SATCHEL_ERR, "%s%s: the request could not "
		    "be sent", c->url, hc->path);
	}
	free(uri);
	sl->busy = 1;
	return 0;
}

/* Runs the base once: 0, or -1 when nothing is left to wait for (every
 * call in flight then failed). Bounded: every connect, read and write
 * has the connection's timeout. */
static int
http_client_step(struct http_client *c)
{
	int	i, r = event_base_loop(c->eb, EVLOOP_ONCE);

	if (r == -1)
		fatal("event_base_loop");
	if (r == 1)
		for (i = 0; i < HTTP_CLIENT_CONNS; i++)
			if (c->slot[i].busy && !c->slot[i].call.done)
				c->slot[i].call.done = c->slot[i].call.failed = 1;
	return r == 1 ? -1 : 0;
}

/*
 * 1 once sl's call has ended for good. Why a call may be sent again: a
 * server may close a kept-alive connection just as the next request
 * goes out on it (an idle timeout, a request limit), which fails that
 * request before any byte of an answer; browsers send it again on a
 * new connection, and so does this, once (a GET changes nothing).
 */
static int
http_client_settled(struct http_slot *sl)
{
	struct http_call	*hc = &sl->call;
	struct error		 scratch;

	if (!hc->done)
		return 0;
	if (!hc->failed || hc->code != 0 || hc->rc != 0 || hc->toolong ||
	    hc->got != 0 || hc->retried || sl->served == 0 ||
	    (hc->body != NULL && evbuffer_get_length(hc->body) != 0))
		return 1;
	sl->closed = 1;
	hc->done = hc->failed = 0;
	hc->retried = 1;
	if (http_client_send(sl, hc->maxbody, &scratch) != 0) {
		hc->done = hc->failed = 1;
		return 1;
	}
	return 0;
}

/* The outcome of sl's call, which has ended; the slot is free again. */
static int
http_client_result(struct http_slot *sl, struct error *err)
{
	struct http_client	*c = sl->c;
	struct http_call	*hc = &sl->call;
	char			 tlswhy[300];

	sl->busy = 0;
	sl->served++;
	if (hc->lastone)
		sl->closed = 1;
	if (hc->rc != 0) {
		/* Refused by a callback: the connection was dropped. */
		sl->closed = 1;
		if (err != NULL)
			*err = hc->err;
		return hc->rc;
	}
	/* libevent's bound on the body (the file's size and one byte)
	 * stopped it before the bytes reached us: the same refusal. */
	if (hc->toolong || (hc->failed && hc->why == EVREQ_HTTP_DATA_TOO_LONG)) {
		sl->closed = 1;
		return error_set(err, SATCHEL_EVERIFY, "%s%s: larger than the "
		    "%" PRIu64 " %s", c->url, hc->path, hc->fn != NULL ?
		    hc->size : hc->max, hc->fn != NULL ?
		    "bytes its manifest says" : "bytes allowed");
	}
	if (hc->failed) {
		sl->closed = 1;
		c->broken = 1;
		if (c->tls && http_client_tls_why(sl, tlswhy, sizeof tlswhy))
			return error_set(err, SATCHEL_ERR, "%s%s: TLS: %s",
			    c->url, hc->path, tlswhy);
		return error_set(err, SATCHEL_ERR, "%s%s: %s", c->url,
		    hc->path, http_client_why(hc));
	}
	if (hc->fn != NULL && hc->got != hc->size - hc->offset)
		return error_set(err, SATCHEL_EVERIFY, "%s%s: %" PRIu64 " bytes "
		    "where its manifest says %" PRIu64, c->url, hc->path,
		    hc->offset + hc->got, hc->size);
	return 0;
}

/* Resets slot sl's call for path. */
static struct http_call *
http_client_call(struct http_slot *sl, const char *path)
{
	free(sl->call.path);
	memset(&sl->call, 0, sizeof sl->call);
	sl->call.path = xstrdup(path);
	return &sl->call;
}

/* One GET on the first connection, run until it has ended. */
static int
http_client_run(struct http_slot *sl, uint64_t maxbody, struct error *err)
{
	int	rc;

	if ((rc = http_client_send(sl, maxbody, err)) != 0)
		return rc;
	while (!http_client_settled(sl))
		(void)http_client_step(sl->c);
	return http_client_result(sl, err);
}

int
http_client_get(struct http_client *c, const char *path, size_t max,
    char **data, size_t *len, struct error *err)
{
	struct http_slot	*sl = &c->slot[0];
	struct http_call	*hc;
	int			 rc;

	*data = NULL;
	*len = 0;
	if (sl->busy)
		fatal("http_client_get: the connection is busy");
	hc = http_client_call(sl, path);
	hc->max = max;
	if ((hc->body = evbuffer_new()) == NULL)
		fatal("evbuffer_new");
	if ((rc = http_client_run(sl, (uint64_t)max + 1, err)) == 0) {
		*len = evbuffer_get_length(hc->body);
		*data = xmalloc(*len + 1);
		evbuffer_remove(hc->body, *data, *len);
		(*data)[*len] = '\0';
	}
	evbuffer_free(hc->body);
	hc->body = NULL;
	return rc;
}

int
http_client_get_range(struct http_client *c, const char *path,
    uint64_t size, uint64_t offset, http_client_data_fn fn, void *arg,
    struct error *err)
{
	int	slot, rc;

	if ((slot = http_client_start(c, path, size, offset, fn, arg, err)) < 0)
		return slot;
	while (!http_client_settled(&c->slot[slot]))
		(void)http_client_step(c);
	rc = http_client_result(&c->slot[slot], err);
	return rc;
}

int
http_client_start(struct http_client *c, const char *path, uint64_t size,
    uint64_t offset, http_client_data_fn fn, void *arg, struct error *err)
{
	struct http_slot	*sl = NULL;
	struct http_call	*hc;
	int			 i, rc;

	if (offset > size)
		fatal("http_client_start: offset past the size");
	for (i = 0; i < HTTP_CLIENT_CONNS && sl == NULL; i++)
		if (!c->slot[i].busy)
			sl = &c->slot[i];
	if (sl == NULL)
		fatal("http_client_start: no free connection");
	hc = http_client_call(sl, path);
	hc->fn = fn;
	hc->arg = arg;
	hc->size = size;
	hc->offset = offset;
	if ((rc = http_client_send(sl, size + 1, err)) != 0)
		return rc;
	return (int)(sl - c->slot);
}

int
http_client_idle(const struct http_client *c)
{
	int	i, n = 0;

	for (i = 0; i < HTTP_CLIENT_CONNS; i++)
		n += !c->slot[i].busy;
	return n;
}

int
http_client_busy(const struct http_client *c, int slot)
{
	return c->slot[slot].busy;
}

int
http_client_wait(struct http_client *c, int *slot, struct error *err)
{
	int	i;

	for (;;) {
		for (i = 0; i < HTTP_CLIENT_CONNS; i++)
			if (c->slot[i].busy &&
			    http_client_settled(&c->slot[i])) {
				*slot = i;
				return http_client_result(&c->slot[i], err);
			}
		if (http_client_idle(c) == HTTP_CLIENT_CONNS)
			fatal("http_client_wait: nothing in flight");
		(void)http_client_step(c);
	}
}

void
http_client_abort(struct http_client *c, int slot)
{
	struct http_slot	*sl = &c->slot[slot];

	if (!sl->busy)
		return;
	/* Its request goes with it, no callback run. */
	evhttp_connection_free(sl->conn);
	sl->conn = NULL;
	sl->bev = NULL;
	sl->closed = 0;
	sl->busy = 0;
}
