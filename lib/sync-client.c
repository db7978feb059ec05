/*
 * sync-client.c owns the client side of a sync connection (protocol/
 * SPEC.md §11): the socket (connect with a timeout, then blocking reads
 * and writes bounded by SO_RCVTIMEO/SO_SNDTIMEO), the receive buffer that
 * frames are peeked and decoded from with the pure codecs of protocol/,
 * and the zstd context that unpacks OBJECT_DATA pieces.
 *
 * Decisions:
 * - sync_client_get_object is a fetch of one object; sync_client_fetch
 *   keeps a window of requests in flight (bounded in
 *   number and in bytes owed) so that a long or slow link stays full and
 *   many small objects do not each cost a round trip. The server answers
 *   in request order (SPEC §11), so the answers are checked against the
 *   oldest request in flight: anything else breaks the connection.
 * - A piece is one independent zstd frame that must declare its content
 *   size (the server's always do); more than SYNC_CLIENT_PIECE_MAX, or
 *   more than the bytes still owed, is refused before decompressing.
 * - We offer "pack" (unless SATCHEL_NO_PACK=1): an OBJECT_PACK then
 *   completes several of the oldest requests in flight at once, one
 *   zstd frame of their remainders, decompressed into the piece buffer
 *   with exactly the declared sum of its lens as the capacity.
 * - KEEPALIVE is skipped anywhere; any other unexpected message, or an
 *   ERROR other than not-found, breaks the connection.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "crypto.h"
#include "delta.h"
#include "frame.h"
#include "msg.h"
#include "http-client.h"
#include "store.h"
#include "sync-client.h"
#include "util.h"

struct sync_client {
	int		 fd;
	char		*url;		/* satchel://HOST:PORT */
	uint32_t	 max_frame;	/* payload limit now in force */
	uint8_t		*rbuf;		/* received: rbuf[roff..rlen) unread */
	size_t		 roff;
	size_t		 rlen;
	size_t		 rcap;
	size_t		 used;		/* bytes of the last frame (at roff),
					 * drained next */
	uint32_t	 next_request;
	int		 broken;
	int		 desync;	/* a fetch left requests unanswered */
	int		 pack;		/* we offered "pack": OBJECT_PACK is ok */
	int		 zmeta;		/* both said "zmeta": META_Z, PUBLISH_Z */
	int		 delta;		/* both said "delta": GET_DELTA, ... */
	ZSTD_DCtx	*dctx;
	uint8_t		*piece;		/* SYNC_CLIENT_PIECE_MAX bytes */
	/* The static transport (SPEC §10): a store directory on a web
	 * server, read through the same calls (no deltas, no publishing). */
	struct http_client *web;
	unsigned	 io_timeout;	/* seconds */
	uint64_t	 waited_ns;	/* spent in recv since the last check */
	uint64_t	 waited_bytes;	/* and received meanwhile */
};

int
sync_client_is_url(const char *s)
{
	return strncmp(s, SYNC_CLIENT_SCHEME, strlen(SYNC_CLIENT_SCHEME)) == 0;
}

const char *
sync_client_url(const struct sync_client *c)
{
	return c->url;
}

int
sync_client_has_delta(const struct sync_client *c)
{
	return c->delta;
}

int
sync_client_broken(const struct sync_client *c)
{
	return c->web != NULL ? http_client_broken(c->web) : c->broken;
}

/*
 * The static transport behind the same calls, so that store_pull's
 * checks are the ones a satchel:// pull makes: a GET_META role is a file
 * of the store directory, bounded as its message is (SPEC §11), and an
 * object its file objects/ab/cdef..., asked for from an offset.
 */
static int
sync_client_web_open(struct sync_client **out, const char *url,
    struct error *err)
{
	struct sync_client	*c = xcalloc(1, sizeof *c);
	char			*data = NULL;
	size_t			 len;
	int			 rc;

	c->fd = -1;
	c->url = xstrdup(url);
	if ((rc = http_client_open(&c->web, url, err)) != 0)
		goto out;
	/* A store says so first (SPEC §10): anything else is named here
	 * rather than as a missing catalog. */
	rc = http_client_get(c->web, "STORE", 4096, &data, &len, err);
	if (rc == 0 && (len < strlen(STORE_MARKER) ||
	    memcmp(data, STORE_MARKER, strlen(STORE_MARKER)) != 0))
		rc = error_set(err, SATCHEL_EINVALID, "%sSTORE: not a Satchel "
		    "store (no \"satchel-store 1\" line)", url);
	else if (rc == SATCHEL_ENOTFOUND)
		error_prefix(err, "not a Satchel store");
	if (rc != 0)
		goto out;
	*out = c;
	c = NULL;		/* ownership moved to the caller */
out:
	free(data);
	sync_client_close(c);
	return rc;
}

static int
sync_client_web_meta(struct sync_client *c, uint8_t role, const char *name,
    char **data, size_t *len, uint8_t *status, struct error *err)
{
	const char	*at;
	char		*path = NULL, *bundle = NULL;
	size_t		 max;
	int		 rc;

	switch (role) {
	case MSG_ROLE_TRUST:
		/* An older policy, by serial (SPEC §7 "Rotation"), is in
		 * trust.d/; the one in force is meta/trust. */
		if (*name != '\0' && strspn(name, "0123456789") !=
		    strlen(name))
			return error_set(err, SATCHEL_EINVALID, "%s: bad policy "
			    "serial \"%s\"", c->url, name);
		path = *name == '\0' ? xstrdup("meta/trust") :
		    xasprintf("meta/trust.d/%s.policy", name);
		max = MSG_TRUST_MAX;
		break;
	case MSG_ROLE_CATALOG:
		path = xstrdup("meta/catalog");
		max = MSG_CATALOG_MAX;
		break;
	case MSG_ROLE_RELEASE:
		/* NAME@SERIAL: the catalog's names were checked by its parser. */
		if ((at = strrchr(name, '@')) == NULL || at == name ||
		    at[1] == '\0' || strchr(name, '/') != NULL)
			return error_set(err, SATCHEL_EINVALID, "%s: bad release "
			    "name \"%s\"", c->url, name);
		bundle = xstrndup(name, (size_t)(at - name));
		path = xasprintf("meta/releases/%s/%s.signed", bundle, at + 1);
		free(bundle);
		max = MSG_SIGNED_MANIFEST_MAX;
		break;
	default:
		return error_set(err, SATCHEL_EINVALID, "%s: no file for role "
		    "%u", c->url, role);
	}
	rc = http_client_get(c->web, path, max, data, len, err);
	free(path);
	*status = MSG_STATUS_OK;
	if (rc == SATCHEL_ENOTFOUND) {
		*status = MSG_STATUS_NOT_FOUND;
		rc = 0;
	}
	return rc;
}

/*
 * sync_client_fetch's contract over up to HTTP_CLIENT_CONNS kept-alive
 * connections, one object request in flight on each (HTTP/1.1 without
 * pipelining: a few connections hide the round trip per object). Objects
 * may end in another order than asked; each end() is for its own.
 */
static int
sync_client_web_fetch(struct sync_client *c, sync_client_next_fn next,
    sync_client_end_fn end, void *arg, struct error *err)
{
	struct sync_client_obj	 v[HTTP_CLIENT_CONNS], ob;
	char			 hex[MSG_HASH_LEN * 2 + 1], *path;
	int			 rc = 0, erc, slot, more = 1, i;

	while (rc == 0) {
		while (more && http_client_idle(c->web) > 0) {
			memset(&ob, 0, sizeof ob);
			if ((rc = next(arg, &ob, err)) <= 0) {
				more = 0;
				break;
			}
			rc = 0;
			if (ob.delta) {
				/* Never asked for (no "delta" here). */
				erc = error_set(err, SATCHEL_ENOTFOUND,
				    "%s: no deltas", c->url);
				if ((rc = end(arg, &ob, erc, err)) != 0)
					break;
				continue;
			}
			hex_encode(hex, ob.sha, MSG_HASH_LEN);
			path = xasprintf("objects/%.2s/%s", hex, hex + 2);
			slot = http_client_start(c->web, path, ob.size,
			    ob.offset, ob.fn, ob.arg, err);
			free(path);
			if (slot < 0) {
				if ((rc = end(arg, &ob, slot, err)) != 0)
					break;
				continue;
			}
			v[slot] = ob;
		}
		if (rc != 0 || http_client_idle(c->web) == HTTP_CLIENT_CONNS)
			break;
		erc = http_client_wait(c->web, &slot, err);
		rc = end(arg, &v[slot], erc, err);
	}
	/* Stopped: whatever is still in flight is dropped, and told so. */
	for (i = 0; i < HTTP_CLIENT_CONNS; i++)
		if (http_client_busy(c->web, i)) {
			http_client_abort(c->web, i);
			(void)end(arg, &v[i], SATCHEL_ERR, NULL);
		}
	return rc;
}

/* Why a message of our own: zstd's "Destination buffer is too small" is
 * what a frame inflating past the size it declared (a zstd bomb) gives. */
static const char *
sync_client_zerr(size_t n)
{
	if (!ZSTD_isError(n))
		return "not its declared size";
	if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
		return "inflates past its declared size";
	return ZSTD_getErrorName(n);
}

/* Marks the connection unusable and fills err; returns SATCHEL_ERR. */
static int
sync_client_fail(struct sync_client *c, struct error *err, const char *what)
{
	c->broken = 1;
	return error_set(err, SATCHEL_ERR, "%s: %s", c->url, what);
}

/* Why: "satchel://HOST:PORT" only, HOST possibly "[v6]", so that a
 * typing mistake is named here rather than as a resolver failure. */
static int
sync_client_parse_url(const char *url, char **host, char **port,
    struct error *err)
{
	const char	*h = url + strlen(SYNC_CLIENT_SCHEME), *colon, *end;
	size_t		 len = strlen(h);
	uint64_t	 p;

	if (len > 0 && h[len - 1] == '/')
		len--;
	end = h + len;
	if (*h == '[') {
		const char *rb = memchr(h, ']', len);

		if (rb == NULL || rb + 1 >= end || rb[1] != ':')
			goto bad;
		*host = xstrndup(h + 1, (size_t)(rb - h - 1));
		colon = rb + 1;
	} else {
		colon = NULL;
		for (const char *q = h; q < end; q++)
			if (*q == ':')
				colon = q;
		if (colon == NULL || colon == h)
			goto bad;
		*host = xstrndup(h, (size_t)(colon - h));
	}
	if (parse_u64(colon + 1, (size_t)(end - colon - 1), 1, 65535, &p) != 0) {
		free(*host);
		*host = NULL;
		goto bad;
	}
	*port = xasprintf("%llu", (unsigned long long)p);
	return 0;
bad:
	return error_set(err, SATCHEL_EINVALID,
	    "%s: not an address of the form satchel://HOST:PORT", url);
}

/* SYNC_CLIENT_IO_TIMEOUT, or SATCHEL_IO_TIMEOUT (1 to 3600 seconds): a
 * test of a stalled or trickling server need not wait a minute. */
static unsigned
sync_client_io_timeout(void)
{
	const char	*e = getenv("SATCHEL_IO_TIMEOUT");
	uint64_t	 v;

	if (e != NULL && parse_u64(e, strlen(e), 1, 3600, &v) == 0)
		return (unsigned)v;
	return SYNC_CLIENT_IO_TIMEOUT;
}

static uint64_t
sync_client_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Non-blocking connect, waited for at most SYNC_CLIENT_CONNECT_TIMEOUT. */
static int
sync_client_connect(const struct addrinfo *ai, unsigned io_timeout, char *why,
    size_t whylen)
{
	struct pollfd	 pfd;
	struct timeval	 tv = { (time_t)io_timeout, 0 };
	socklen_t	 sl;
	int		 fd, flags, e = 0, one = 1, n;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS) {
			e = errno;
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do {
			n = poll(&pfd, 1, SYNC_CLIENT_CONNECT_TIMEOUT * 1000);
		} while (n == -1 && errno == EINTR);
		if (n == 0) {
			e = ETIMEDOUT;
			goto fail;
		}
		sl = sizeof e;
		if (n == -1)
			e = errno;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1)
			e = errno;
		if (e != 0)
			goto fail;
	}
	fcntl(fd, F_SETFL, flags);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
fail:
	snprintf(why, whylen, "%s", strerror(e));
	close(fd);
	return -1;
}

static int
sync_client_send(struct sync_client *c, const struct msg *m, struct error *err)
{
	struct buf	 b;
	size_t		 off = 0;
	ssize_t		 n;
	int		 rc = 0;

	buf_init(&b);
	msg_encode(m, &b);
	while (off < b.len) {
		n = send(c->fd, b.data + off, b.len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: send: %s", c->url,
			    errno == EAGAIN || errno == EWOULDBLOCK ?
			    "timed out" : strerror(errno));
			c->broken = 1;
			break;
		}
		off += (size_t)n;
	}
	buf_free(&b);
	return rc;
}

/*
 * Why: the receive timeout is re-armed by every byte, so a server that
 * trickles one byte a minute would hold the client for ever (TUF's slow
 * retrieval attack). Time spent waiting in recv is summed with the bytes
 * it brought; every io_timeout seconds of it must have brought
 * SYNC_CLIENT_MIN_RATE bytes a second. Only waiting counts, so the
 * client's own work between reads (hashing, writing) never does, nor do
 * bytes that were already queued.
 */
static int
sync_client_rate(struct sync_client *c, uint64_t t0, ssize_t n,
    struct error *err)
{
	uint64_t	secs;
	char		why[160];

	if (n <= 0)
		return 0;	/* the caller names the failure (errno kept) */
	c->waited_ns += sync_client_now_ns() - t0;
	c->waited_bytes += (uint64_t)n;
	secs = c->waited_ns / 1000000000u;
	if (secs < c->io_timeout)
		return 0;
	if (c->waited_bytes < secs * SYNC_CLIENT_MIN_RATE) {
		snprintf(why, sizeof why, "the server is too slow: %llu bytes "
		    "in %llu s of waiting (at least %u a second expected)",
		    (unsigned long long)c->waited_bytes,
		    (unsigned long long)secs, SYNC_CLIENT_MIN_RATE);
		return sync_client_fail(c, err, why);
	}
	c->waited_ns = 0;
	c->waited_bytes = 0;
	return 0;
}

/*
 * Why: the frame's large fields point into rbuf, so the previous frame is
 * drained only when the next one is asked for. Waits for one whole frame
 * within max_frame, decodes it, skips KEEPALIVE and turns ERROR into err
 * (SATCHEL_ENOTFOUND for not-found, which leaves the connection usable).
 */
static int
sync_client_recv(struct sync_client *c, struct msg *m, struct error *err)
{
	struct frame	 f;
	ssize_t		 n;
	uint64_t	 t0;
	int		 rc;

	memset(m, 0, sizeof *m);
	for (;;) {
		/* Consumed by offset; the bytes move only when the buffer's
		 * end is reached (a shift after every frame cost 6.5% of a
		 * pull's CPU). */
		c->roff += c->used;
		c->used = 0;
		if (c->roff == c->rlen)
			c->roff = c->rlen = 0;
		rc = frame_peek(c->rbuf + c->roff, c->rlen - c->roff,
		    c->max_frame, &f, &c->used, err);
		if (rc < 0) {
			c->broken = 1;
			error_prefix(err, "%s", c->url);
			return rc;
		}
		if (rc == FRAME_NEED_MORE) {
			if (c->rlen == c->rcap && c->roff > 0) {
				memmove(c->rbuf, c->rbuf + c->roff,
				    c->rlen - c->roff);
				c->rlen -= c->roff;
				c->roff = 0;
			}
			if (c->rlen == c->rcap)
				fatal("sync client: receive buffer full");
			t0 = sync_client_now_ns();
			n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
			if ((rc = sync_client_rate(c, t0, n, err)) != 0)
				return rc;
			if (n == -1 && errno == EINTR)
				continue;
			if (n == 0)
				return sync_client_fail(c, err,
				    "the server closed the connection");
			if (n == -1)
				return sync_client_fail(c, err,
				    errno == EAGAIN || errno == EWOULDBLOCK ?
				    "timed out waiting for the server" :
				    strerror(errno));
			c->rlen += (size_t)n;
			continue;
		}
		if ((rc = msg_decode(m, &f, err)) != 0) {
			c->broken = 1;
			error_prefix(err, "%s", c->url);
			return rc;
		}
		if (m->type == MSG_KEEPALIVE) {
			msg_free(m);
			continue;
		}
		if (m->type == MSG_ERROR) {
			rc = m->u.error.code == MSG_ERR_NOT_FOUND ?
			    SATCHEL_ENOTFOUND : SATCHEL_ERR;
			if (rc != SATCHEL_ENOTFOUND)
				c->broken = 1;
			error_set(err, rc, "%s: the server says: %s", c->url,
			    m->u.error.message);
			msg_free(m);
			return rc;
		}
		return 0;
	}
}

static int
sync_client_unexpected(struct sync_client *c, struct msg *m, const char *want,
    struct error *err)
{
	char	what[128];

	snprintf(what, sizeof what, "%s where %s was expected",
	    msg_type_name(m->type), want);
	msg_free(m);
	return sync_client_fail(c, err, what);
}

/* The max_frame this client offers: 1 MiB, or SATCHEL_MAX_FRAME (4096 to
 * 1 MiB) for a link whose buffers are tiny, or to make every document
 * and list travel in pieces in a test. */
static uint32_t
sync_client_offer(void)
{
	const char	*e = getenv("SATCHEL_MAX_FRAME");
	uint64_t	 v;

	if (e != NULL && parse_u64(e, strlen(e), FRAME_MAX_PREAUTH,
	    FRAME_MAX_DEFAULT, &v) == 0)
		return (uint32_t)v;
	return FRAME_MAX_DEFAULT;
}

int
sync_client_open(struct sync_client **out, const char *url, struct error *err)
{
	struct sync_client	*c = NULL;
	struct addrinfo		 hints, *res = NULL, *ai;
	struct msg		 m;
	char			*host = NULL, *port = NULL, why[256] = "";
	char			*caps[3];
	const char		*e;
	uint16_t		 i, ncaps = 0;
	int			 zmeta, delta;
	int			 rc, gai;

	if (http_client_is_url(url))
		return sync_client_web_open(out, url, err);
	if ((rc = sync_client_parse_url(url, &host, &port, err)) != 0)
		goto out;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", url, gai_strerror(gai));
		goto out;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = -1;
	c->url = xstrdup(url);
	c->io_timeout = sync_client_io_timeout();
	for (ai = res; ai != NULL && c->fd == -1; ai = ai->ai_next)
		c->fd = sync_client_connect(ai, c->io_timeout, why, sizeof why);
	if (c->fd == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: cannot connect: %s", url, why);
		goto out;
	}
	c->max_frame = FRAME_MAX_PREAUTH;
	c->rcap = FRAME_HEADER_LEN + FRAME_MAX_DEFAULT;
	c->rbuf = xmalloc(c->rcap);
	memset(&m, 0, sizeof m);
	m.type = MSG_HELLO;
	m.u.hello.version = MSG_VERSION;
	m.u.hello.max_frame = sync_client_offer();
	/* SATCHEL_NO_PACK=1 asks for every object alone, as a peer without
	 * the capability would: for tests and measurements. */
	c->pack = (e = getenv("SATCHEL_NO_PACK")) == NULL || strcmp(e, "1") != 0;
	/* Likewise SATCHEL_NO_ZMETA=1: metadata raw, as before "zmeta". */
	zmeta = (e = getenv("SATCHEL_NO_ZMETA")) == NULL || strcmp(e, "1") != 0;
	/* And SATCHEL_NO_DELTA=1: every changed file whole, as a peer
	 * without "delta" (tests of mixed chains, measurements). */
	delta = (e = getenv("SATCHEL_NO_DELTA")) == NULL || strcmp(e, "1") != 0;
	if (c->pack)
		caps[ncaps++] = MSG_CAP_PACK;
	if (zmeta)
		caps[ncaps++] = MSG_CAP_ZMETA;
	if (delta)
		caps[ncaps++] = MSG_CAP_DELTA;
	m.u.hello.ncaps = ncaps;
	m.u.hello.caps = caps;
	if ((rc = sync_client_send(c, &m, err)) != 0 ||
	    (rc = sync_client_recv(c, &m, err)) != 0)
		goto out;
	if (m.type != MSG_HELLO) {
		rc = sync_client_unexpected(c, &m, "HELLO", err);
		goto out;
	}
	/* The smaller max_frame, at least the pre-handshake limit. */
	c->max_frame = m.u.hello.max_frame < sync_client_offer() ?
	    m.u.hello.max_frame : sync_client_offer();
	if (c->max_frame < FRAME_MAX_PREAUTH)
		c->max_frame = FRAME_MAX_PREAUTH;
	for (i = 0; i < m.u.hello.ncaps; i++) {
		if (zmeta && strcmp(m.u.hello.caps[i], MSG_CAP_ZMETA) == 0)
			c->zmeta = 1;
		if (delta && strcmp(m.u.hello.caps[i], MSG_CAP_DELTA) == 0)
			c->delta = 1;
	}
	msg_free(&m);
	if ((c->dctx = ZSTD_createDCtx()) == NULL)
		fatal("ZSTD_createDCtx: out of memory");
	c->piece = xmalloc(SYNC_CLIENT_PIECE_MAX);
	*out = c;
	c = NULL;		/* ownership moved to the caller */
out:
	if (res != NULL)
		freeaddrinfo(res);
	free(host);
	free(port);
	if (c != NULL)
		c->broken = 1;	/* no BYE on a failed handshake */
	sync_client_close(c);
	return rc;
}

void
sync_client_close(struct sync_client *c)
{
	struct msg	m;

	if (c == NULL)
		return;
	http_client_close(c->web);	/* NULL-safe */
	if (c->fd != -1) {
		if (!c->broken) {
			memset(&m, 0, sizeof m);
			m.type = MSG_BYE;
			(void)sync_client_send(c, &m, NULL);
		}
		close(c->fd);
	}
	ZSTD_freeDCtx(c->dctx);		/* NULL-safe */
	free(c->piece);
	free(c->rbuf);
	free(c->url);
	free(c);
}

/*
 * One META_Z or PUBLISH_Z piece into dst, where room bytes of the
 * document are left: the frame must declare its content size, 1 to the
 * smaller of room and max_frame, and decompress to exactly that, with
 * that as the capacity (a bomb stops there). *n is what it held.
 */
static int
sync_client_unzip(struct sync_client *c, const struct msg_meta *mp,
    uint8_t *dst, uint64_t room, size_t *n, struct error *err)
{
	unsigned long long	 csize;
	uint64_t		 max = room < c->max_frame ? room : c->max_frame;
	size_t			 got;
	char			 what[200];

	csize = ZSTD_getFrameContentSize(mp->data, mp->datalen);
	if (csize == ZSTD_CONTENTSIZE_ERROR ||
	    csize == ZSTD_CONTENTSIZE_UNKNOWN || csize == 0 || csize > max) {
		snprintf(what, sizeof what, "META_Z piece at offset %llu: not "
		    "a zstd frame declaring 1 to %llu bytes",
		    (unsigned long long)mp->offset, (unsigned long long)max);
		return sync_client_fail(c, err, what);
	}
	got = ZSTD_decompressDCtx(c->dctx, dst, (size_t)csize, mp->data,
	    mp->datalen);
	if (ZSTD_isError(got) || got != csize) {
		snprintf(what, sizeof what, "META_Z piece at offset %llu: %s",
		    (unsigned long long)mp->offset, sync_client_zerr(got));
		return sync_client_fail(c, err, what);
	}
	*n = got;
	return 0;
}

/*
 * Why: a document larger than a frame arrives as consecutive META pieces
 * (SPEC §11 "Metadata in pieces"). The first piece's total, which the
 * decoder already held to the role's limit, sizes the buffer; every
 * later piece must answer the same request, repeat that total and start
 * exactly where the previous one ended, and nothing may come between
 * them. first is consumed (freed) here.
 */
static int
sync_client_meta_pieces(struct sync_client *c, struct msg *first,
    char **data, size_t *len, struct error *err)
{
	struct msg	 m = *first;
	char		*buf = NULL, *name = NULL, what[200];
	uint64_t	 total = m.u.meta.total, got = 0;
	size_t		 n = 0;
	uint8_t		 role = m.u.meta.role;
	int		 rc;

	memset(first, 0, sizeof *first);
	name = xstrdup(m.u.meta.name);
	buf = xmalloc((size_t)total + 1);
	for (;;) {
		if (m.u.meta.offset != got) {
			snprintf(what, sizeof what, "META piece at offset %llu "
			    "where %llu was expected",
			    (unsigned long long)m.u.meta.offset,
			    (unsigned long long)got);
			rc = sync_client_fail(c, err, what);
			goto out;
		}
		if (m.type == MSG_META_Z) {
			if (!c->zmeta) {
				rc = sync_client_unexpected(c, &m, "META "
				    "(\"zmeta\" was not agreed)", err);
				goto out;
			}
			if ((rc = sync_client_unzip(c, &m.u.meta,
			    (uint8_t *)buf + got, total - got, &n, err)) != 0)
				goto out;
		} else {
			n = m.u.meta.datalen;
			memcpy(buf + got, m.u.meta.data, n);
		}
		got += n;
		msg_free(&m);
		if (got == total)
			break;
		if ((rc = sync_client_recv(c, &m, err)) != 0)
			goto out;
		if (m.type != MSG_META && m.type != MSG_META_Z) {
			rc = sync_client_unexpected(c, &m, "the next META piece",
			    err);
			goto out;
		}
		if (m.u.meta.role != role || strcmp(m.u.meta.name, name) != 0 ||
		    m.u.meta.status != MSG_STATUS_OK ||
		    m.u.meta.total != total) {
			msg_free(&m);
			rc = sync_client_fail(c, err, "a META piece of another "
			    "document came between the pieces of one");
			goto out;
		}
	}
	buf[total] = '\0';
	*data = buf;
	*len = (size_t)total;
	buf = NULL;		/* ownership moved to the caller */
	rc = 0;
out:
	msg_free(&m);
	free(buf);
	free(name);
	return rc;
}

static int	sync_client_meta_answer(struct sync_client *, struct msg *,
		    uint8_t, const char *, char **, size_t *, uint8_t *,
		    struct error *);

int
sync_client_get_meta(struct sync_client *c, uint8_t role, const char *name,
    const uint8_t *have, char **data, size_t *len, uint8_t *status,
    struct error *err)
{
	struct msg	m;
	int		rc;

	*data = NULL;
	*len = 0;
	if (c->web != NULL)
		return sync_client_web_meta(c, role, name, data, len, status,
		    err);
	memset(&m, 0, sizeof m);
	m.type = MSG_GET_META;
	m.u.get_meta.role = role;
	m.u.get_meta.name = (char *)name;	/* borrowed, not freed */
	if (have != NULL) {
		m.u.get_meta.have_flag = 1;
		memcpy(m.u.get_meta.have, have, MSG_HASH_LEN);
	}
	if ((rc = sync_client_send(c, &m, err)) != 0 ||
	    (rc = sync_client_recv(c, &m, err)) != 0)
		return rc;
	if (m.type != MSG_META && m.type != MSG_META_Z)
		return sync_client_unexpected(c, &m, "META", err);
	return sync_client_meta_answer(c, &m, role, name, data, len, status,
	    err);
}

/* A META or META_Z answer to the request for role and name (m is
 * consumed). */
static int
sync_client_meta_answer(struct sync_client *c, struct msg *mp, uint8_t role,
    const char *name, char **data, size_t *len, uint8_t *status,
    struct error *err)
{
	struct msg	m = *mp;

	memset(mp, 0, sizeof *mp);
	if (m.u.meta.role != role || strcmp(m.u.meta.name, name) != 0) {
		msg_free(&m);
		return sync_client_fail(c, err,
		    "META answers another request than the one asked");
	}
	*status = m.u.meta.status;
	if (m.u.meta.status != MSG_STATUS_OK) {
		msg_free(&m);
		return 0;
	}
	return sync_client_meta_pieces(c, &m, data, len, err);
}

/*
 * Why the client falls back on its own: META_DELTA is an optimisation,
 * so a frame that does not declare exactly `total` bytes or does not
 * decode against the base costs one more request (the whole document,
 * GET_META), not the pull. The document is checked by the caller either
 * way (the catalog's pin, the signatures).
 */
int
sync_client_get_meta_delta(struct sync_client *c, const char *name,
    uint64_t base_serial, const char *base, size_t blen, char **data,
    size_t *len, uint8_t *status, int *used, struct error *err)
{
	struct msg	 m;
	struct error	 why;	/* what was wrong with a delta: dropped */
	int		 rc;

	*data = NULL;
	*len = 0;
	*used = 0;
	if (!c->delta)
		return sync_client_get_meta(c, MSG_ROLE_RELEASE, name, NULL,
		    data, len, status, err);
	memset(&m, 0, sizeof m);
	m.type = MSG_GET_META_DELTA;
	m.u.get_meta_delta.role = MSG_ROLE_RELEASE;
	m.u.get_meta_delta.name = (char *)name;	/* borrowed, not freed */
	m.u.get_meta_delta.base_serial = base_serial;
	sha256(base, blen, m.u.get_meta_delta.base);
	if ((rc = sync_client_send(c, &m, err)) != 0 ||
	    (rc = sync_client_recv(c, &m, err)) != 0)
		return rc;
	if (m.type == MSG_META_DELTA) {
		if (m.u.meta_delta.role != MSG_ROLE_RELEASE ||
		    strcmp(m.u.meta_delta.name, name) != 0 ||
		    m.u.meta_delta.base_serial != base_serial) {
			msg_free(&m);
			return sync_client_fail(c, err, "META_DELTA answers "
			    "another request than the one asked");
		}
		rc = delta_decode_buf(base, blen, m.u.meta_delta.data,
		    m.u.meta_delta.datalen, (size_t)m.u.meta_delta.total,
		    data, len, &why);
		if (rc == 0 && *len != m.u.meta_delta.total) {
			free(*data);
			*data = NULL;
			rc = error_set(&why, SATCHEL_EINVALID, "%zu bytes where "
			    "its total says %llu", *len,
			    (unsigned long long)m.u.meta_delta.total);
		}
		msg_free(&m);
		if (rc == 0) {
			*status = MSG_STATUS_OK;
			*used = 1;
			return 0;
		}
		*used = -1;	/* refused: the caller may say so */
		return sync_client_get_meta(c, MSG_ROLE_RELEASE, name, NULL,
		    data, len, status, err);
	}
	if (m.type != MSG_META && m.type != MSG_META_Z)
		return sync_client_unexpected(c, &m, "META or META_DELTA", err);
	return sync_client_meta_answer(c, &m, MSG_ROLE_RELEASE, name, data,
	    len, status, err);
}

/* One OBJECT_DATA piece: at the expected offset, within what is owed
 * (for a delta, size is only the bound its answer must keep within). */
static int
sync_client_piece(struct sync_client *c, const struct msg_object_data *d,
    uint64_t *at, uint64_t size, int delta, sync_client_data_fn fn,
    void *arg, struct error *err)
{
	unsigned long long	 csize;
	size_t			 n;
	char			 what[160];

	if (d->offset != *at) {
		snprintf(what, sizeof what, "OBJECT_DATA at offset %llu where "
		    "%llu was expected", (unsigned long long)d->offset,
		    (unsigned long long)*at);
		return sync_client_fail(c, err, what);
	}
	csize = ZSTD_getFrameContentSize(d->chunk, d->chunklen);
	if (csize == ZSTD_CONTENTSIZE_ERROR || csize == ZSTD_CONTENTSIZE_UNKNOWN ||
	    csize == 0 || csize > SYNC_CLIENT_PIECE_MAX)
		return sync_client_fail(c, err, "OBJECT_DATA: a piece without a "
		    "valid zstd content size of 1 byte to 2 MiB");
	if (csize > size - *at) {
		if (delta)
			snprintf(what, sizeof what, "a delta longer than %llu "
			    "bytes, the most its object's size allows",
			    (unsigned long long)size);
		else
			snprintf(what, sizeof what, "more object data than the "
			    "%llu bytes its manifest says",
			    (unsigned long long)size);
		return sync_client_fail(c, err, what);
	}
	n = ZSTD_decompressDCtx(c->dctx, c->piece, SYNC_CLIENT_PIECE_MAX,
	    d->chunk, d->chunklen);
	if (ZSTD_isError(n) || n != csize) {
		snprintf(what, sizeof what, "OBJECT_DATA at offset %llu: %s",
		    (unsigned long long)*at, sync_client_zerr(n));
		return sync_client_fail(c, err, what);
	}
	*at += n;
	return fn(arg, c->piece, n, err);
}

/* --- publishing (SPEC §11 "Publishing") --- */

#define SYNC_UPLOAD_PIECE	(128u << 10)	/* object bytes per chunk */
#define SYNC_UPLOAD_LEVEL	3

/* One object on its way out: raw bytes gathered into pieces, each sent
 * as an independent zstd frame. */
struct sync_client_upload {
	uint8_t		 sha[MSG_HASH_LEN];
	uint64_t	 offset;	/* bytes of this object already sent */
	size_t		 piece;		/* raw bytes per chunk */
	uint8_t		*raw;
	size_t		 rawlen;
	uint8_t		*z;
	size_t		 zcap;
	ZSTD_CCtx	*cctx;
};

static void
sync_client_upload_free(struct sync_client_upload *u)
{
	if (u == NULL)
		return;
	ZSTD_freeCCtx(u->cctx);
	free(u->raw);
	free(u->z);
	free(u);
}

void
sync_client_publish_free(struct sync_client_publish *p)
{
	if (p == NULL)
		return;
	free(p->need);
	free(p->message);
	sync_client_upload_free(p->up);
	memset(p, 0, sizeof *p);
}

/* The largest piece whose compressed form always fits a frame. */
static size_t
sync_client_upload_piece(uint32_t max_frame)
{
	size_t	limit = max_frame - MSG_PUBLISH_OBJECT_OVERHEAD, n, b;

	n = limit < SYNC_UPLOAD_PIECE ? limit : SYNC_UPLOAD_PIECE;
	while ((b = ZSTD_compressBound(n)) > limit)
		n -= b - limit;
	return n;
}

/* Reads a PUBLISH_RESULT, or PUBLISH_NEED frames when need is set. */
static int
sync_client_publish_result(struct sync_client *c, struct msg *m,
    struct sync_client_publish *p, struct error *err)
{
	int	rc;

	p->catalog_serial = m->u.publish_result.catalog_serial;
	free(p->message);
	p->message = xstrdup(m->u.publish_result.message);
	rc = m->u.publish_result.ok ? 0 : error_set(err, SATCHEL_EVERIFY,
	    "%s refused the release: %s", c->url, m->u.publish_result.message);
	msg_free(m);
	return rc;
}

int
sync_client_publish_begin(struct sync_client *c, const char *signed_buf,
    size_t len, struct sync_client_publish *p, struct error *err)
{
	struct msg	 m;
	ZSTD_CCtx	*zc = NULL;
	uint8_t		*z = NULL;
	size_t		 off = 0, piece = c->max_frame - MSG_PUBLISH_OVERHEAD, n;
	size_t		 zcap = 0, zn;
	uint32_t	 got = 0, total = 0;
	int		 rc;

	memset(p, 0, sizeof *p);
	if (c->web != NULL)
		return error_set(err, SATCHEL_EINVALID, "%s: a web server "
		    "takes no publishing (satchel://HOST:PORT does)", c->url);
	if (len == 0 || len > MSG_SIGNED_MANIFEST_MAX)
		return error_set(err, SATCHEL_EINVALID, "a signed manifest of "
		    "%zu bytes cannot be published (1 to %u)", len,
		    MSG_SIGNED_MANIFEST_MAX);
	memset(&m, 0, sizeof m);
	m.type = c->zmeta ? MSG_PUBLISH_Z : MSG_PUBLISH;
	m.u.publish.total = len;
	if (c->zmeta) {
		/* Pieces whose frames fit whatever the bytes are. */
		piece = sync_client_upload_piece(c->max_frame);
		zcap = ZSTD_compressBound(piece);
		if ((zc = ZSTD_createCCtx()) == NULL)
			fatal("ZSTD_createCCtx: out of memory");
		z = xmalloc(zcap);
	}
	do {
		n = len - off < piece ? len - off : piece;
		m.u.publish.offset = off;
		m.u.publish.data = (const uint8_t *)signed_buf + off;
		m.u.publish.datalen = (uint32_t)n;
		if (zc != NULL) {
			zn = ZSTD_compressCCtx(zc, z, zcap, signed_buf + off, n,
			    SYNC_UPLOAD_LEVEL);
			if (ZSTD_isError(zn))
				fatal("zstd: %s", ZSTD_getErrorName(zn));
			m.u.publish.data = z;
			m.u.publish.datalen = (uint32_t)zn;
		}
		if ((rc = sync_client_send(c, &m, err)) != 0)
			break;
		off += n;
	} while (off < len);
	ZSTD_freeCCtx(zc);	/* NULL-safe */
	free(z);
	if (rc != 0)
		return rc;
	/* A refusal, or the need list in one or more frames. */
	for (;;) {
		if ((rc = sync_client_recv(c, &m, err)) != 0)
			return rc;
		if (m.type == MSG_PUBLISH_RESULT && p->need == NULL)
			return sync_client_publish_result(c, &m, p, err);
		if (m.type != MSG_PUBLISH_NEED)
			return sync_client_unexpected(c, &m, "PUBLISH_NEED",
			    err);
		if (p->need == NULL) {
			total = m.u.publish_need.total;
			p->need = xreallocarray(NULL, total ? total : 1,
			    sizeof *p->need);
		} else if (m.u.publish_need.total != total ||
		    m.u.publish_need.n > total - got) {
			msg_free(&m);
			return sync_client_fail(c, err, "PUBLISH_NEED frames "
			    "that do not add up to their total");
		}
		memcpy(p->need + got, m.u.publish_need.hashes,
		    (size_t)m.u.publish_need.n * MSG_HASH_LEN);
		got += m.u.publish_need.n;
		msg_free(&m);
		if (got == total)
			break;
	}
	p->nneed = total;
	return 0;
}

int
sync_client_publish_object_begin(struct sync_client *c,
    struct sync_client_publish *p, const uint8_t sha[MSG_HASH_LEN],
    struct error *err)
{
	struct sync_client_upload	*u = p->up;

	(void)err;
	if (u == NULL) {
		u = p->up = xcalloc(1, sizeof *u);
		if ((u->cctx = ZSTD_createCCtx()) == NULL)
			fatal("ZSTD_createCCtx: out of memory");
		u->piece = sync_client_upload_piece(c->max_frame);
		u->raw = xmalloc(u->piece);
		u->zcap = ZSTD_compressBound(u->piece);
		u->z = xmalloc(u->zcap);
	}
	memcpy(u->sha, sha, MSG_HASH_LEN);
	u->offset = 0;
	u->rawlen = 0;
	return 0;
}

/*
 * Why: the server says nothing during the object phase unless it refuses
 * (ERROR, then it closes). Looking before each send turns that refusal
 * into the message the user sees, rather than a broken pipe some pieces
 * later.
 */
static int
sync_client_publish_heard(struct sync_client *c, struct error *err)
{
	struct pollfd	pfd = { c->fd, POLLIN, 0 };
	struct msg	m;
	int		rc;

	if (c->rlen == c->roff + c->used && poll(&pfd, 1, 0) <= 0)
		return 0;
	if ((rc = sync_client_recv(c, &m, err)) != 0)
		return rc;
	return sync_client_unexpected(c, &m, "nothing (objects are being sent)",
	    err);
}

/* Compresses and sends what is gathered as one PUBLISH_OBJECT. */
static int
sync_client_upload_flush(struct sync_client *c, struct sync_client_publish *p,
    struct error *err)
{
	struct sync_client_upload	*u = p->up;
	struct msg			 m;
	size_t				 zn;
	int				 rc;

	if (u->rawlen == 0)
		return 0;
	if ((rc = sync_client_publish_heard(c, err)) != 0)
		return rc;
	zn = ZSTD_compressCCtx(u->cctx, u->z, u->zcap, u->raw, u->rawlen,
	    SYNC_UPLOAD_LEVEL);
	if (ZSTD_isError(zn))
		return error_set(err, SATCHEL_ERR, "zstd: %s",
		    ZSTD_getErrorName(zn));
	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH_OBJECT;
	memcpy(m.u.publish_object.object, u->sha, MSG_HASH_LEN);
	m.u.publish_object.offset = u->offset;
	m.u.publish_object.chunk = u->z;
	m.u.publish_object.chunklen = (uint32_t)zn;
	if ((rc = sync_client_send(c, &m, err)) != 0)
		return rc;
	u->offset += u->rawlen;
	p->bytes_raw += u->rawlen;
	p->bytes_wire += FRAME_HEADER_LEN + MSG_PUBLISH_OBJECT_OVERHEAD + zn;
	u->rawlen = 0;
	return 0;
}

int
sync_client_publish_object_write(struct sync_client *c,
    struct sync_client_publish *p, const void *data, size_t len,
    struct error *err)
{
	struct sync_client_upload	*u = p->up;
	const uint8_t			*d = data;
	size_t				 n;
	int				 rc;

	while (len > 0) {
		n = u->piece - u->rawlen < len ? u->piece - u->rawlen : len;
		memcpy(u->raw + u->rawlen, d, n);
		u->rawlen += n;
		d += n;
		len -= n;
		if (u->rawlen == u->piece &&
		    (rc = sync_client_upload_flush(c, p, err)) != 0)
			return rc;
	}
	return 0;
}

int
sync_client_publish_object_end(struct sync_client *c,
    struct sync_client_publish *p, struct error *err)
{
	int	rc;

	if ((rc = sync_client_upload_flush(c, p, err)) != 0)
		return rc;
	p->sent++;
	return 0;
}

int
sync_client_publish_done(struct sync_client *c, struct sync_client_publish *p,
    struct error *err)
{
	struct msg	m;
	int		rc;

	if ((rc = sync_client_publish_heard(c, err)) != 0)
		return rc;
	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH_DONE;
	if ((rc = sync_client_send(c, &m, err)) != 0 ||
	    (rc = sync_client_recv(c, &m, err)) != 0)
		return rc;
	if (m.type != MSG_PUBLISH_RESULT)
		return sync_client_unexpected(c, &m, "PUBLISH_RESULT", err);
	return sync_client_publish_result(c, &m, p, err);
}

/* One request of a pipelined fetch, in flight. */
struct sync_client_flight {
	struct sync_client_obj	 o;
	uint32_t		 request;
	uint64_t		 at;		/* the next byte expected */
	uint64_t		 owe;		/* its part of the window's owed */
};

/* The window of a pipelined fetch: a ring of requests in the order sent,
 * which is the order they are answered in. */
struct sync_client_window {
	struct sync_client_flight	 v[SYNC_CLIENT_WINDOW];
	unsigned			 head, n;
	uint64_t			 owed;		/* bytes still owed */
	int				 last;		/* next() said 0 */
};

/*
 * Why batched: the requests that fit the window go out in one send, so
 * refilling costs one system call, not one per object. And why only once
 * half the window has drained: the server packs runs of small requests
 * it holds at once (OBJECT_PACK), and when its answers wait in socket
 * buffers (a slow disk here, a long link) a window refilled one request
 * at a time leaves it only one or two to pack; a refill of half the
 * window arrives together and packs well.
 */
static int
sync_client_fill(struct sync_client *c, struct sync_client_window *w,
    sync_client_next_fn next, void *arg, struct error *err)
{
	struct sync_client_flight	*fl;
	struct buf			 b;
	struct msg			 m;
	size_t				 off = 0;
	ssize_t				 n;
	int				 rc = 0;

	if (w->n > SYNC_CLIENT_WINDOW / 2)
		return 0;
	buf_init(&b);
	while (!w->last && w->n < SYNC_CLIENT_WINDOW &&
	    (w->n == 0 || w->owed < SYNC_CLIENT_WINDOW_BYTES)) {
		fl = &w->v[(w->head + w->n) % SYNC_CLIENT_WINDOW];
		memset(fl, 0, sizeof *fl);
		if ((rc = next(arg, &fl->o, err)) <= 0) {
			if (rc == 0)
				w->last = 1;
			break;
		}
		rc = 0;
		if (fl->o.offset > fl->o.size)
			fatal("sync_client_fetch: offset past the size");
		if (fl->o.delta && !c->delta)
			fatal("sync_client_fetch: a delta without \"delta\"");
		fl->request = c->next_request++;
		fl->at = fl->o.offset;
		/* A delta's length is known only from its answer: what it
		 * owes is a guess, its object's remainder at most. */
		fl->owe = fl->o.size - fl->o.offset;
		if (fl->o.delta && fl->owe > fl->o.object_size)
			fl->owe = fl->o.object_size;
		w->n++;
		w->owed += fl->owe;
		memset(&m, 0, sizeof m);
		if (fl->o.delta) {
			m.type = MSG_GET_DELTA;
			m.u.get_delta.request = fl->request;
			memcpy(m.u.get_delta.object, fl->o.sha, MSG_HASH_LEN);
			memcpy(m.u.get_delta.base, fl->o.base, MSG_HASH_LEN);
			m.u.get_delta.offset = fl->o.offset;
		} else {
			m.type = MSG_GET_OBJECT;
			m.u.get_object.request = fl->request;
			memcpy(m.u.get_object.object, fl->o.sha, MSG_HASH_LEN);
			m.u.get_object.offset = fl->o.offset;
		}
		msg_encode(&m, &b);
	}
	/* Those already taken from next() are in the window: send them even
	 * when next() failed, so that the caller's end() sees each. */
	while (off < b.len) {
		n = send(c->fd, b.data + off, b.len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			c->broken = 1;
			if (rc == 0)
				rc = error_set(err, SATCHEL_ERR, "%s: send: %s",
				    c->url, errno == EAGAIN ||
				    errno == EWOULDBLOCK ? "timed out" :
				    strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	buf_free(&b);
	return rc;
}

/* Ends the oldest request in flight with rc and drops it. */
static int
sync_client_pop(struct sync_client_window *w, sync_client_end_fn end,
    void *arg, int rc, struct error *err)
{
	struct sync_client_flight	*fl = &w->v[w->head];

	w->head = (w->head + 1) % SYNC_CLIENT_WINDOW;
	w->n--;
	w->owed -= fl->owe;
	fl->o.size = fl->at;	/* a delta's: what it turned out to be */
	/* end() may give next() more to ask for (an object whole, after
	 * its delta was refused): ask next() again. */
	w->last = 0;
	return end(arg, &fl->o, rc, err);
}

/* n bytes of fl's answer arrived: they come off what it owes. */
static void
sync_client_paid(struct sync_client_window *w,
    struct sync_client_flight *fl, uint64_t n)
{
	if (n > fl->owe)
		n = fl->owe;
	fl->owe -= n;
	w->owed -= n;
}

/*
 * One OBJECT_PACK: it must complete exactly the oldest requests in
 * flight, in order, each from the offset expected to its manifest size,
 * and its chunk must declare and decompress to exactly the sum of the
 * lens (so never more than MSG_PACK_RAW_MAX bytes are written). Each
 * object's bytes go to its fn, then it ends as if OBJECT_END came.
 */
static int
sync_client_pack(struct sync_client *c, struct sync_client_window *w,
    const struct msg_object_pack *op, sync_client_end_fn end, void *arg,
    struct error *err)
{
	const struct msg_pack_entry	*e;
	struct sync_client_flight	*fl;
	unsigned long long		 csize;
	size_t				 n, off = 0;
	char				 what[256];
	uint16_t			 i;
	int				 rc;

	if (!c->pack)
		return sync_client_fail(c, err, "OBJECT_PACK, which this "
		    "client did not offer to take");
	if (op->n > w->n) {
		snprintf(what, sizeof what, "OBJECT_PACK of %u requests where "
		    "%u are in flight", op->n, w->n);
		return sync_client_fail(c, err, what);
	}
	for (i = 0; i < op->n; i++) {
		e = &op->entries[i];
		fl = &w->v[(w->head + i) % SYNC_CLIENT_WINDOW];
		/* A delta's size is the server's to say, within the bound
		 * the request carries. */
		if (e->request != fl->request || e->offset != fl->at ||
		    (fl->o.delta ? e->size > fl->o.size : e->size != fl->o.size)) {
			snprintf(what, sizeof what, "OBJECT_PACK entry %u: "
			    "request %u from %llu of %llu bytes where request "
			    "%u from %llu of %llu was expected", i, e->request,
			    (unsigned long long)e->offset,
			    (unsigned long long)e->size, fl->request,
			    (unsigned long long)fl->at,
			    (unsigned long long)fl->o.size);
			return sync_client_fail(c, err, what);
		}
	}
	csize = ZSTD_getFrameContentSize(op->chunk, op->chunklen);
	if (csize != op->raw) {
		snprintf(what, sizeof what, "OBJECT_PACK: the chunk %s where "
		    "the entries add up to %llu bytes",
		    csize == ZSTD_CONTENTSIZE_ERROR ? "is not a zstd frame" :
		    csize == ZSTD_CONTENTSIZE_UNKNOWN ?
		    "declares no content size" : "declares another size",
		    (unsigned long long)op->raw);
		return sync_client_fail(c, err, what);
	}
	/* The decoder held raw to MSG_PACK_RAW_MAX, the piece buffer's size:
	 * the capacity given is the declared size, so a frame that would
	 * inflate beyond it fails instead. */
	n = ZSTD_decompressDCtx(c->dctx, c->piece, (size_t)op->raw,
	    op->chunk, op->chunklen);
	if (ZSTD_isError(n) || n != op->raw) {
		snprintf(what, sizeof what, "OBJECT_PACK: %s",
		    sync_client_zerr(n));
		return sync_client_fail(c, err, what);
	}
	for (i = 0; i < op->n; i++) {
		e = &op->entries[i];
		fl = &w->v[w->head];
		if (e->len > 0 && (rc = fl->o.fn(fl->o.arg, c->piece + off,
		    e->len, err)) != 0)
			return rc;
		off += e->len;
		fl->at += e->len;
		sync_client_paid(w, fl, e->len);
		if ((rc = sync_client_pop(w, end, arg, 0, err)) != 0)
			return rc;
	}
	return 0;
}

int
sync_client_fetch(struct sync_client *c, sync_client_next_fn next,
    sync_client_end_fn end, void *arg, struct error *err)
{
	struct sync_client_window	*w = xcalloc(1, sizeof *w);
	struct sync_client_flight	*fl;
	struct msg			 m;
	struct error			 scratch;
	uint64_t			 before;
	char				 what[200];
	int				 rc = 0;

	if (c->web != NULL) {
		free(w);
		return sync_client_web_fetch(c, next, end, arg, err);
	}
	if (c->desync) {
		free(w);
		return sync_client_fail(c, err, "the connection has "
		    "unanswered requests");
	}
	for (;;) {
		if ((rc = sync_client_fill(c, w, next, arg, err)) != 0)
			break;
		if (w->n == 0)
			break;		/* all asked for, all ended */
		fl = &w->v[w->head];
		rc = sync_client_recv(c, &m, err);
		if (rc == SATCHEL_ENOTFOUND) {
			/* Not found answers the oldest request (SPEC §11). */
			if ((rc = sync_client_pop(w, end, arg, rc, err)) != 0)
				break;
			continue;
		}
		if (rc != 0)
			break;
		if (m.type == MSG_OBJECT_DATA &&
		    m.u.object_data.request == fl->request) {
			before = fl->at;
			rc = sync_client_piece(c, &m.u.object_data, &fl->at,
			    fl->o.size, fl->o.delta, fl->o.fn, fl->o.arg, err);
			sync_client_paid(w, fl, fl->at - before);
			msg_free(&m);
			if (rc != 0)
				break;
			continue;
		}
		if (m.type == MSG_OBJECT_END &&
		    m.u.object_end.request == fl->request) {
			if (fl->o.delta ? m.u.object_end.size != fl->at :
			    (m.u.object_end.size != fl->o.size ||
			    fl->at != fl->o.size)) {
				snprintf(what, sizeof what, "object of %llu bytes "
				    "(%llu received) where its manifest says %llu",
				    (unsigned long long)m.u.object_end.size,
				    (unsigned long long)fl->at,
				    (unsigned long long)fl->o.size);
				msg_free(&m);
				rc = sync_client_fail(c, err, what);
				break;
			}
			msg_free(&m);
			if ((rc = sync_client_pop(w, end, arg, 0, err)) != 0)
				break;
			continue;
		}
		if (m.type == MSG_OBJECT_PACK) {
			rc = sync_client_pack(c, w, &m.u.object_pack, end, arg,
			    err);
			msg_free(&m);
			if (rc != 0)
				break;
			continue;
		}
		if (m.type == MSG_OBJECT_DATA || m.type == MSG_OBJECT_END) {
			snprintf(what, sizeof what, "%s for request %u where "
			    "request %u was expected", msg_type_name(m.type),
			    m.type == MSG_OBJECT_DATA ? m.u.object_data.request :
			    m.u.object_end.request, fl->request);
			msg_free(&m);
			rc = sync_client_fail(c, err, what);
			break;
		}
		rc = sync_client_unexpected(c, &m, "OBJECT_DATA or OBJECT_END",
		    err);
		break;
	}
	/* Stopped early: what is still in flight ends unfinished, and the
	 * server's answers to it would confuse any later request. */
	if (w->n > 0 && !c->broken)
		c->desync = 1;
	while (w->n > 0)
		(void)sync_client_pop(w, end, arg, rc != 0 ? rc : SATCHEL_ERR,
		    &scratch);
	free(w);
	return rc;
}

/* One object through the pipelined fetch: the answer may then be
 * OBJECT_DATA pieces or an OBJECT_PACK of that one request. */
struct sync_client_one {
	struct sync_client_obj	 o;
	int			 given;
	int			 rc;
};

static int
sync_client_one_next(void *arg, struct sync_client_obj *o, struct error *err)
{
	struct sync_client_one	*one = arg;

	(void)err;
	if (one->given)
		return 0;
	one->given = 1;
	*o = one->o;
	return 1;
}

static int
sync_client_one_end(void *arg, struct sync_client_obj *o, int rc,
    struct error *err)
{
	struct sync_client_one	*one = arg;

	(void)o;
	(void)err;
	one->rc = rc;
	return 0;
}

int
sync_client_get_object(struct sync_client *c, const uint8_t sha[MSG_HASH_LEN],
    uint64_t size, uint64_t offset, sync_client_data_fn fn, void *arg,
    struct error *err)
{
	struct sync_client_one	one;
	int			rc;

	if (offset > size)
		fatal("sync_client_get_object: offset past the size");
	memset(&one, 0, sizeof one);
	memcpy(one.o.sha, sha, MSG_HASH_LEN);
	one.o.size = size;
	one.o.offset = offset;
	one.o.fn = fn;
	one.o.arg = arg;
	if ((rc = sync_client_fetch(c, sync_client_one_next,
	    sync_client_one_end, &one, err)) != 0)
		return rc;
	return one.rc;		/* SATCHEL_ENOTFOUND: err says so */
}
