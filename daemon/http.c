/*
 * http.c: the web library's server: threads, evhttp, the dispatcher, and
 * everything about serving a file right -- ETag, If-None-Match, Range
 * and If-Range, HEAD, zero-copy from objects/ -- plus lesson zips and
 * bundle archives built once on a worker and cached by content hash,
 * /metrics and /healthz.
 *
 * Why paths cannot escape the store: a URL never names a file on disk.
 * It names a path in a signed manifest, which is looked up in memory;
 * the file opened is objects/<its SHA-256>. The strict decoding in http-path.c
 * (no %2F, no NUL, no dot segments, valid UTF-8 only) is there so that
 * bad requests get a clear 400 rather than a puzzling 404.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "crypto.h"
#include "fsutil.h"
#include "http.h"
#include "http-path.h"
#include "http-priv.h"
#include "lesson-zip.h"
#include "listen.h"
#include "log.h"
#include "stats.h"
#include "store.h"
#include "workers.h"

#define HTTP_BACKOFF_MS		1000	/* after EMFILE */
#define HTTP_CONNSET_MIN	64
/* Files up to this size are copied into the reply rather than sent with
 * sendfile(2) (see serve_file); it bounds what one reply holds. */
#define HTTP_INLINE_MAX		(16 * 1024)
#define HTTP_BLOCKS_KEEP	64	/* free ones kept a thread: 1 MB */

struct http_metrics {
	uint64_t	requests[ROUTE_COUNT][6];	/* by status class: [code/100] */
	uint64_t	bytes[ROUTE_COUNT];
	uint64_t	not_modified, partial;
	uint64_t	opened, closed;
};

/* The connections a thread has seen a request on, to count open ones:
 * libevent 2.1 tells of a close only to a callback set per connection. */
struct http_connset {
	struct evhttp_connection	**v;
	size_t				  cap, n;
};

struct http_block {
	struct http_block	*next;		/* on the free list */
	struct http_thread	*t;
	char			 data[];	/* HTTP_INLINE_MAX bytes */
};

struct http_thread {
	struct http_server	*srv;
	unsigned		 idx;
	pthread_t		 tid;
	int			 started;
	struct event_base	*base;
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	struct event		*backoff;
	struct event		*stop;
	int			 stopfd[2];
	struct workers		*workers;
	struct http_metrics	 m;
	struct http_connset	 conns;
	struct http_block	*free;		/* blocks for small files */
	unsigned		 nfree;
};

struct http_server {
	char			*store;
	char			*cache;		/* STORE/cache */
	struct library_holder	*lib;
	struct stats		*stats;
	unsigned		 nthreads;
	struct http_thread	*t;
	unsigned		 port;
	char			 name[96];
	unsigned		 idle;
	int64_t			 started;

	pthread_mutex_t		 lock;		/* the fields below */
	char			 sync_state[16];
	int64_t			 sync_success, sync_attempt;
};

static const char *route_names[ROUTE_COUNT] = {
	"library", "bundle", "file", "lesson_zip", "bundle_archive", "api",
	"opds", "static", "metrics", "healthz", "store_meta", "store_object",
	"other"
};

/* --- small helpers --- */

const char *
http_reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 416: return "Range Not Satisfiable";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

static void
hdr(struct http_ctx *c, const char *k, const char *v)
{
	evhttp_add_header(evhttp_request_get_output_headers(c->req), k, v);
}

static void
count_reply(struct http_ctx *c, int code, uint64_t bytes)
{
	struct http_metrics	*m = &c->t->m;
	int			 cls = code / 100;

	if (cls < 1 || cls > 5)
		cls = 5;
	__atomic_add_fetch(&m->requests[c->route][cls], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->bytes[c->route], bytes, __ATOMIC_RELAXED);
	if (code == 304)
		__atomic_add_fetch(&m->not_modified, 1, __ATOMIC_RELAXED);
	if (code == 206)
		__atomic_add_fetch(&m->partial, 1, __ATOMIC_RELAXED);
}

static void
ctx_free(struct http_ctx *c)
{
	evhttp_clear_headers(&c->query);
	library_put(c->t->srv->lib, c->lib);
	free(c);
}

/* Sends and ends the request: c is freed. buf is the body (or NULL). */
static void
send_evbuf(struct http_ctx *c, int code, struct evbuffer *body)
{
	size_t	len = body != NULL ? evbuffer_get_length(body) : 0;

	count_reply(c, code, c->head ? 0 : len);
	evhttp_send_reply(c->req, code, http_reason(code),
	    c->head ? NULL : body);
	if (body != NULL)
		evbuffer_free(body);
	ctx_free(c);
}

void
http_reply(struct http_ctx *c, int code, const char *ctype, struct buf *body,
    const char *cache)
{
	struct evbuffer	*eb = evbuffer_new();
	char		 len[32];

	if (eb == NULL)
		fatal("evbuffer_new failed");
	if (ctype != NULL)
		hdr(c, "Content-Type", ctype);
	if (cache != NULL)
		hdr(c, "Cache-Control", cache);
	hdr(c, "X-Content-Type-Options", "nosniff");
	if (body != NULL) {
		snprintf(len, sizeof len, "%zu", body->len);
		hdr(c, "Content-Length", len);
		if (!c->head)
			evbuffer_add(eb, body->data, body->len);
		buf_free(body);
	} else if (code != 304)
		hdr(c, "Content-Length", "0");
	send_evbuf(c, code, eb);
}

void
http_error(struct http_ctx *c, int code, const char *detail)
{
	struct buf	b;

	buf_init(&b);
	http_page_error_body(c, code, detail, &b);
	if (code == 405)
		hdr(c, "Allow", "GET, HEAD");
	http_reply(c, code, "text/html; charset=utf-8", &b, "no-store");
}

const char *
http_param(const struct http_ctx *c, const char *key)
{
	const char	*v = evhttp_find_header(&c->query, key);

	return v != NULL && *v != '\0' ? v : NULL;
}

void
http_base_url(const struct http_ctx *c, struct buf *b)
{
	const char	*host = evhttp_find_header(
	    evhttp_request_get_input_headers(c->req), "Host");
	const char	*p;

	buf_addstr(b, "http://");
	/* A Host header is the client's; keep only what a host:port holds. */
	if (host != NULL && *host != '\0' && strlen(host) < 256) {
		for (p = host; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    strchr(".-:[]", *p) != NULL))
				break;
		if (*p == '\0') {
			buf_addstr(b, host);
			return;
		}
	}
	buf_printf(b, "%s", c->t->srv->name);
}

/* --- content types --- */

static const struct {
	const char	*ext;
	const char	*type;
} mime[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "conf", "text/plain; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "xml", "application/xml" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "ico", "image/x-icon" },
	{ "mp4", "video/mp4" },
	{ "m4v", "video/mp4" },
	{ "webm", "video/webm" },
	{ "ogv", "video/ogg" },
	{ "mp3", "audio/mpeg" },
	{ "m4a", "audio/mp4" },
	{ "ogg", "audio/ogg" },
	{ "oga", "audio/ogg" },
	{ "opus", "audio/ogg" },
	{ "wav", "audio/wav" },
	{ "vtt", "text/vtt; charset=utf-8" },
	{ "pdf", "application/pdf" },
	{ "epub", "application/epub+zip" },
	{ "zip", "application/zip" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "ttf", "font/ttf" },
};

static const char *
mime_type(const char *path)
{
	const char	*dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t		 i;

	if (dot != NULL && (slash == NULL || dot > slash))
		for (i = 0; i < sizeof mime / sizeof mime[0]; i++)
			if (strcasecmp(dot + 1, mime[i].ext) == 0)
				return mime[i].type;
	return "application/octet-stream";
}

/* --- conditional and range requests --- */

/* 1 if an If-None-Match or If-Range value names etag ("\"HEX\""). */
static int
etag_listed(const char *hv, const char *etag)
{
	size_t		 el = strlen(etag);
	const char	*p = hv;

	if (hv == NULL)
		return 0;
	while (*p != '\0') {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)	/* weak comparison */
			p += 2;
		if (strncmp(p, etag, el) == 0 && (p[el] == '\0' ||
		    p[el] == ',' || p[el] == ' '))
			return 1;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return 0;
}

/*
 * One byte range of size bytes: 0 and *off, *len set; 1 when the header
 * is not one we honour (several ranges, another unit: serve it all, as
 * RFC 9110 allows); -1 when it cannot be satisfied (416).
 */
static int
range_parse(const char *hv, uint64_t size, uint64_t *off, uint64_t *len)
{
	const char	*p, *dash;
	uint64_t	 a, b;
	char		*end;

	if (strncmp(hv, "bytes=", 6) != 0)
		return 1;
	p = hv + 6;
	while (*p == ' ')
		p++;
	if (strchr(p, ',') != NULL || (dash = strchr(p, '-')) == NULL)
		return 1;
	if (p == dash) {		/* the last N bytes */
		errno = 0;
		b = strtoull(dash + 1, &end, 10);
		if (errno != 0 || end == dash + 1 || *end != '\0')
			return 1;
		if (b == 0 || size == 0)
			return -1;
		if (b > size)
			b = size;
		*off = size - b;
		*len = b;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return 1;
	errno = 0;
	a = strtoull(p, &end, 10);
	if (errno != 0 || end != dash)
		return 1;
	if (dash[1] == '\0')
		b = size - 1;
	else {
		if (dash[1] < '0' || dash[1] > '9')
			return 1;
		errno = 0;
		b = strtoull(dash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || b < a)
			return 1;
		if (b >= size)
			b = size - 1;
	}
	if (a >= size)
		return -1;
	*off = a;
	*len = b - a + 1;
	return 0;
}

/*
 * Blocks of HTTP_INLINE_MAX bytes for small files, kept on a list per
 * thread and handed to evbuffers by reference. Why not malloc each
 * time: a copy freed when its reply has gone is where the next
 * connection's long-lived structures land, so the next copy comes from
 * fresh heap, and keep-alive connections leave holes of resident memory
 * behind them (measured with 1000 of them: 14 MB more resident with a
 * malloc'd copy a reply, 9 MB with these blocks).
 */
static void
block_release(const void *data, size_t len, void *arg)
{
	struct http_block	*bl = arg;
	struct http_thread	*t = bl->t;

	(void)data;
	(void)len;
	if (t->nfree >= HTTP_BLOCKS_KEEP) {
		free(bl);
		return;
	}
	bl->next = t->free;
	t->free = bl;
	t->nfree++;
}

/* Reads len (at most HTTP_INLINE_MAX) bytes of fd at off into eb; 0, or
 * -1 with errno set (EIO for a file shorter than it was a moment ago). */
static int
add_pread(struct http_thread *t, struct evbuffer *eb, int fd, uint64_t off,
    uint64_t len)
{
	struct http_block	*bl;
	ssize_t			 n;
	size_t			 got = 0;

	if ((bl = t->free) != NULL) {
		t->free = bl->next;
		t->nfree--;
	} else {
		bl = xmalloc(sizeof *bl + HTTP_INLINE_MAX);
		bl->t = t;
	}
	while (got < len) {
		n = pread(fd, bl->data + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			block_release(bl->data, 0, bl);
			return -1;
		}
		got += (size_t)n;
	}
	if (evbuffer_add_reference(eb, bl->data, len, block_release, bl) != 0)
		fatal("evbuffer_add_reference failed");
	return 0;
}

/*
 * Serves the file at path (an object, a cached zip) of size bytes with
 * etag: 304, 206 or 200 (416 for a range past the end), zero-copy
 * past HTTP_INLINE_MAX bytes.
 * Returns the status sent.
 */
static int
serve_file(struct http_ctx *c, const char *path, uint64_t size,
    const char *etag, const char *ctype, const char *cache,
    const char *disposition)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(c->req);
	struct evbuffer		*eb;
	struct stat		 st;
	const char		*rh, *ir;
	uint64_t		 off = 0, len = size;
	char			 v[96];
	int			 fd, code = 200, r;

	hdr(c, "ETag", etag);
	hdr(c, "Accept-Ranges", "bytes");
	if (cache != NULL)
		hdr(c, "Cache-Control", cache);
	if (etag_listed(evhttp_find_header(in, "If-None-Match"), etag)) {
		count_reply(c, 304, 0);
		evhttp_send_reply(c->req, 304, http_reason(304), NULL);
		ctx_free(c);
		return 304;
	}
	rh = evhttp_find_header(in, "Range");
	ir = evhttp_find_header(in, "If-Range");
	if (rh != NULL && (ir == NULL || etag_listed(ir, etag))) {
		r = range_parse(rh, size, &off, &len);
		if (r < 0) {
			snprintf(v, sizeof v, "bytes */%llu",
			    (unsigned long long)size);
			hdr(c, "Content-Range", v);
			http_error(c, 416, NULL);
			return 416;
		}
		if (r == 0) {
			code = 206;
			snprintf(v, sizeof v, "bytes %llu-%llu/%llu",
			    (unsigned long long)off,
			    (unsigned long long)(off + len - 1),
			    (unsigned long long)size);
			hdr(c, "Content-Range", v);
		} else {
			off = 0;
			len = size;
		}
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || (uint64_t)st.st_size != size) {
		int	gone = fd == -1 && errno == ENOENT;	/* before stdio */

		log_error("http: %s: %s", path, fd == -1 ?
		    strerror(errno) : "not the size the manifest gives");
		if (fd != -1)
			close(fd);
		evhttp_remove_header(evhttp_request_get_output_headers(c->req),
		    "Content-Range");
		http_error(c, gone ? 404 : 500, NULL);
		return gone ? 404 : 500;
	}
	hdr(c, "Content-Type", ctype);
	hdr(c, "X-Content-Type-Options", "nosniff");
	if (disposition != NULL)
		hdr(c, "Content-Disposition", disposition);
	snprintf(v, sizeof v, "%llu", (unsigned long long)len);
	hdr(c, "Content-Length", v);
	if ((eb = evbuffer_new()) == NULL)
		fatal("evbuffer_new failed");
	/* Without this flag libevent 2.1 maps the whole file into memory
	 * and write(2)s from the mapping: 40 MB of resident memory for each
	 * learner fetching a video. With it, the chain goes to the
	 * connection's output as is and leaves by sendfile(2). */
	evbuffer_set_flags(eb, EVBUFFER_FLAG_DRAINS_TO_FD);
	if (c->head || len == 0)
		close(fd);
	else if (len <= HTTP_INLINE_MAX) {
		/* A page or an image: copied, so that the headers and the
		 * body leave in one writev(2) and, mostly, one segment.
		 * sendfile(2) would send the body in a second syscall and
		 * segment, waking the client twice: measured, a third of the
		 * requests a second for a 10 KB page. */
		if (add_pread(c->t, eb, fd, off, len) != 0) {
			log_error("http: %s: %s", path,
			    strerror(errno));
			close(fd);
			evbuffer_free(eb);
			evhttp_remove_header(evhttp_request_get_output_headers(
			    c->req), "Content-Range");
			http_error(c, 500, NULL);
			return 500;
		}
		close(fd);
	} else if (evbuffer_add_file(eb, fd, (ev_off_t)off, (ev_off_t)len) != 0)
		fatal("evbuffer_add_file failed");	/* fd is closed by it */
	count_reply(c, code, c->head ? 0 : len);
	/* A large body goes out by sendfile(2) from the file: never in
	 * memory. */
	evhttp_send_reply(c->req, code, http_reason(code), c->head ? NULL : eb);
	evbuffer_free(eb);
	ctx_free(c);
	return code;
}

/* --- the library's files --- */

/* Splits "NAME" or "NAME@SERIAL"; 0 or -1. */
static int
name_serial(const char *s, size_t n, char *name, size_t namesz,
    uint64_t *serial)
{
	const char	*at = memchr(s, '@', n);
	size_t		 nl = at != NULL ? (size_t)(at - s) : n;

	*serial = 0;
	if (nl == 0 || nl >= namesz)
		return -1;
	memcpy(name, s, nl);
	name[nl] = '\0';
	if (bundle_name_check(name) != 0)
		return -1;
	if (at != NULL && parse_u64(at + 1, n - nl - 1, 1, UINT64_MAX,
	    serial) != 0)
		return -1;
	return 0;
}

static void
count_usage(struct http_ctx *c, const char *bundle, const char *lesson,
    int download)
{
	if (c->t->srv->stats != NULL && !c->head)
		stats_count(c->t->srv->stats, (int64_t)time(NULL), bundle,
		    lesson, download ? STATS_DOWNLOAD : STATS_VIEW);
}

/* A fetch from the start, not the resumption of one: what counts as a
 * view or a download. */
static int
first_fetch(const struct http_ctx *c)
{
	const char	*rh = evhttp_find_header(
	    evhttp_request_get_input_headers(c->req), "Range");

	return !c->head && (rh == NULL || strncmp(rh, "bytes=0-", 8) == 0);
}

/* /b/NAME[@SERIAL]/PATH */
static void
route_file(struct http_ctx *c, const char *rest)
{
	const struct lib_bundle		*b;
	const struct lib_release	*r;
	const struct manifest_file	*f;
	const struct lib_lesson		*l;
	const char			*slash = strchr(rest, '/');
	char				 name[BUNDLE_NAME_MAX + 1], etag[72];
	char				*obj, *path, hex[SHA256_LEN * 2 + 1];
	uint64_t			 serial;

	if (slash == NULL || name_serial(rest, (size_t)(slash - rest), name,
	    sizeof name, &serial) != 0 ||
	    (b = library_bundle(c->lib, name)) == NULL ||
	    (r = library_release(b, serial)) == NULL) {
		http_error(c, 404, NULL);
		return;
	}
	/* A directory: its index.html, as web servers do. */
	path = xasprintf("%s%s", slash + 1, slash[1] == '\0' ||
	    slash[strlen(slash) - 1] == '/' ? "index.html" : "");
	if ((f = manifest_find_file(r->m, path)) == NULL) {
		free(path);
		http_error(c, 404, NULL);
		return;
	}
	hex_encode(hex, f->sha256, SHA256_LEN);
	snprintf(etag, sizeof etag, "\"%s\"", hex);
	obj = xasprintf("%s/objects/%.2s/%s", c->t->srv->store, hex, hex + 2);
	l = library_lesson_of(r, path);
	if (l != NULL && strcmp(l->entry, path) == 0 && first_fetch(c))
		count_usage(c, b->name, l->id, 0);
	(void)serve_file(c, obj, f->size, etag, mime_type(path),
	    serial != 0 ? "public, max-age=31536000, immutable" : "no-cache",
	    NULL);
	free(obj);
	free(path);
}

/* --- cached artifacts: lesson zips and bundle archives --- */

struct artifact_job {
	struct workers_job	 job;
	struct http_ctx		*c;
	char			*store, *out, *name;
	const char		*cachedir;	/* STORE/cache */
	char			*lesson;	/* NULL: the bundle archive */
	uint64_t		 serial;
	struct manifest		*m;		/* the release's, for zips */
	char			*etag, *ctype, *disposition, *cache;
	int			 rc;
	struct error		 err;
};

static void
artifact_run(struct workers_job *j, void *local)
{
	struct artifact_job	*a = (struct artifact_job *)j;
	struct store		*s = NULL;
	char			*tmp = xasprintf("%s.tmp-%ld-%lx", a->out,
	    (long)getpid(), (unsigned long)pthread_self());
	char			*dir = xstrdup(a->out), *slash;
	struct stat		 st;
	int			 fd;

	(void)local;
	/* Another request (queued before this one) may have built it. */
	if (stat(a->out, &st) == 0) {
		free(dir);
		free(tmp);
		a->rc = 0;
		return;
	}
	/* The cache may have been cleaned since the start. */
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		(void)mkdir(a->cachedir, 0755);
		(void)mkdir(dir, 0755);
	}
	free(dir);
	if (a->lesson == NULL) {
		if ((a->rc = store_open(&s, a->store, STORE_READ,
		    &a->err)) == 0)
			a->rc = store_export(s, a->name, a->serial, tmp,
			    &a->err);
		store_close(s);
	} else {
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644)) == -1)
			a->rc = error_set(&a->err, SATCHEL_ERR, "%s: %s", tmp,
			    strerror(errno));
		else {
			a->rc = lesson_zip_write(fd, a->store, a->m,
			    a->lesson, &a->err);
			if (a->rc == 0 && fsync(fd) != 0)
				a->rc = error_set(&a->err, SATCHEL_ERR,
				    "%s: fsync: %s", tmp, strerror(errno));
			close(fd);
		}
	}
	/* Named by content: two builds of one name are the same bytes, so
	 * whichever rename lands last is as good as the first. */
	if (a->rc == 0 && rename(tmp, a->out) != 0)
		a->rc = error_set(&a->err, SATCHEL_ERR, "%s: %s", a->out,
		    strerror(errno));
	if (a->rc != 0)
		(void)unlink(tmp);
	free(tmp);
}

static void
artifact_free(struct artifact_job *a)
{
	free(a->store);
	free(a->out);
	free(a->name);
	free(a->lesson);
	free(a->etag);
	free(a->ctype);
	free(a->disposition);
	free(a->cache);
	free(a);
}

static void
artifact_serve(struct http_ctx *c, const char *path, const char *etag,
    const char *ctype, const char *cache, const char *disposition)
{
	struct stat	st;

	if (stat(path, &st) != 0) {
		http_error(c, 500, NULL);
		return;
	}
	(void)serve_file(c, path, (uint64_t)st.st_size, etag, ctype, cache,
	    disposition);
}

static void
artifact_done(struct workers_job *j)
{
	struct artifact_job	*a = (struct artifact_job *)j;

	if (a->rc != 0) {
		log_error("http: cannot build %s: %s",
		    a->out, a->err.msg);
		http_error(a->c, 500, NULL);
	} else
		artifact_serve(a->c, a->out, a->etag, a->ctype, a->cache,
		    a->disposition);
	artifact_free(a);
}

/*
 * Why build to a cache file rather than stream into the socket: the same
 * zip is asked for again by every learner in a class, each may resume
 * it with Range, and a file on disk goes out by sendfile with a
 * Content-Length, so the browser shows real progress.
 */
static void
artifact(struct http_ctx *c, const char *out, const char *name,
    uint64_t serial, const char *lesson, const struct manifest *m,
    const char *etag, const char *ctype, const char *cache,
    const char *disposition)
{
	struct artifact_job	*a;
	struct stat		 st;

	if (stat(out, &st) == 0) {
		artifact_serve(c, out, etag, ctype, cache, disposition);
		return;
	}
	a = xcalloc(1, sizeof *a);
	a->job.run = artifact_run;
	a->job.done = artifact_done;
	a->c = c;
	a->store = xstrdup(c->t->srv->store);
	a->cachedir = c->t->srv->cache;
	a->out = xstrdup(out);
	a->name = xstrdup(name);
	a->serial = serial;
	a->lesson = lesson != NULL ? xstrdup(lesson) : NULL;
	a->m = (struct manifest *)m;	/* c holds the library: m lives on */
	a->etag = xstrdup(etag);
	a->ctype = xstrdup(ctype);
	a->cache = xstrdup(cache);
	a->disposition = xstrdup(disposition);
	workers_submit(c->t->workers, &a->job);
}

/* /download/NAME[@SERIAL].satchel and /download/NAME[@SERIAL]/ID.zip */
static void
route_download(struct http_ctx *c, const char *rest)
{
	const struct lib_bundle		*b;
	const struct lib_release	*r;
	const struct lib_lesson		*l = NULL;
	const char			*slash = strchr(rest, '/'), *end;
	char				 name[BUNDLE_NAME_MAX + 1], key[65];
	char				*out, *etag, *disp, *id = NULL;
	struct error			 err;
	const char			*label;
	uint64_t			 serial;
	size_t				 n;

	if (slash != NULL) {
		n = strlen(slash + 1);
		if (n < 5 || strcmp(slash + 1 + n - 4, ".zip") != 0 ||
		    strchr(slash + 1, '/') != NULL)
			goto notfound;
		id = xstrndup(slash + 1, n - 4);
		end = slash;
	} else {
		n = strlen(rest);
		if (n < 9 || strcmp(rest + n - 8, ".satchel") != 0)
			goto notfound;
		end = rest + n - 8;
	}
	if (name_serial(rest, (size_t)(end - rest), name, sizeof name,
	    &serial) != 0 || (b = library_bundle(c->lib, name)) == NULL ||
	    (r = library_release(b, serial)) == NULL)
		goto notfound;
	if (id != NULL && (l = library_lesson(r, id)) == NULL)
		goto notfound;
	/* The build allows [A-Za-z0-9._+~-] in a label; a header never
	 * carries anything else, whatever a manifest says. */
	label = r->m->label[strspn(r->m->label, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._+~-")] == '\0' ?
	    r->m->label : "release";
	c->route = id != NULL ? ROUTE_ZIP : ROUTE_ARCHIVE;
	if (id != NULL) {
		if (lesson_zip_key(key, r->m, id, &err) != 0) {
			free(id);
			http_error(c, 500, NULL);
			return;
		}
		out = xasprintf("%s/cache/zip/%s.zip", c->t->srv->store, key);
		etag = xasprintf("\"%s\"", key);
		disp = xasprintf("attachment; filename=\"%s-%s-%s.zip\"",
		    b->name, label, id);
		if (first_fetch(c))
			count_usage(c, b->name, id, 1);
		artifact(c, out, b->name, r->serial, id, r->m, etag,
		    "application/zip", "public, max-age=31536000, immutable",
		    disp);
	} else {
		out = xasprintf("%s/cache/bundle/%s-%llu-%s.satchel",
		    c->t->srv->store, b->name, (unsigned long long)r->serial,
		    r->etag);
		etag = xasprintf("\"%s\"", r->etag);
		disp = xasprintf("attachment; filename=\"%s-%s.satchel\"",
		    b->name, label);
		if (first_fetch(c))
			count_usage(c, b->name, NULL, 1);
		artifact(c, out, b->name, r->serial, NULL, r->m, etag,
		    "application/vnd.satchel", serial != 0 ?
		    "public, max-age=31536000, immutable" : "no-cache", disp);
	}
	free(out);
	free(etag);
	free(disp);
	free(id);
	return;
notfound:
	free(id);
	http_error(c, 404, NULL);
}

/* --- metrics and health --- */

static void
metrics_sum(const struct http_server *srv, struct http_metrics *out)
{
	const struct http_metrics	*m;
	unsigned			 i, r, k;

	memset(out, 0, sizeof *out);
	for (i = 0; i < srv->nthreads; i++) {
		m = &srv->t[i].m;
		for (r = 0; r < ROUTE_COUNT; r++) {
			for (k = 0; k < 6; k++)
				out->requests[r][k] += __atomic_load_n(
				    &m->requests[r][k], __ATOMIC_RELAXED);
			out->bytes[r] += __atomic_load_n(&m->bytes[r],
			    __ATOMIC_RELAXED);
		}
		out->opened += __atomic_load_n(&m->opened, __ATOMIC_RELAXED);
		out->closed += __atomic_load_n(&m->closed, __ATOMIC_RELAXED);
	}
}

struct metrics_usage {
	struct buf	*b;
	int		 views;
};

/* Label values are bundle names and lesson ids: [a-z0-9._-] only, so
 * they need no escaping in the exposition format. */
static void
metrics_usage_cb(void *arg, const char *bundle, const char *lesson,
    uint64_t views, uint64_t downloads)
{
	struct metrics_usage	*u = arg;
	uint64_t		 v = u->views ? views : downloads;

	if (lesson != NULL)
		buf_printf(u->b, "satchel_lesson_%s_total{bundle=\"%s\","
		    "lesson=\"%s\"} %llu\n", u->views ? "views" : "downloads",
		    bundle, lesson, (unsigned long long)v);
	else
		buf_printf(u->b, "satchel_bundle_%s_total{bundle=\"%s\"} "
		    "%llu\n", u->views ? "views" : "downloads", bundle,
		    (unsigned long long)v);
}

static void
route_metrics(struct http_ctx *c)
{
	struct http_server	*srv = c->t->srv;
	struct http_metrics	 m;
	struct metrics_usage	 u;
	struct buf		 b;
	unsigned		 r, k;
	char			 state[16];
	int64_t			 ok, attempt;

	/* This request is answered after the counting: count it now. */
	metrics_sum(srv, &m);
	buf_init(&b);
	buf_addstr(&b, "# HELP satchel_http_requests_total HTTP requests "
	    "answered, by route and status class.\n"
	    "# TYPE satchel_http_requests_total counter\n");
	for (r = 0; r < ROUTE_COUNT; r++)
		for (k = 1; k < 6; k++)
			if (m.requests[r][k] != 0)
				buf_printf(&b, "satchel_http_requests_total{"
				    "route=\"%s\",status=\"%uxx\"} %llu\n",
				    route_names[r], k,
				    (unsigned long long)m.requests[r][k]);
	buf_addstr(&b, "# HELP satchel_http_response_bytes_total Body bytes "
	    "sent, by route.\n"
	    "# TYPE satchel_http_response_bytes_total counter\n");
	for (r = 0; r < ROUTE_COUNT; r++)
		if (m.bytes[r] != 0)
			buf_printf(&b, "satchel_http_response_bytes_total{"
			    "route=\"%s\"} %llu\n", route_names[r],
			    (unsigned long long)m.bytes[r]);
	buf_printf(&b, "# HELP satchel_http_connections_open Open HTTP "
	    "connections that have sent a request.\n"
	    "# TYPE satchel_http_connections_open gauge\n"
	    "satchel_http_connections_open %llu\n"
	    "# HELP satchel_http_connections_total HTTP connections that "
	    "have sent a request.\n"
	    "# TYPE satchel_http_connections_total counter\n"
	    "satchel_http_connections_total %llu\n",
	    (unsigned long long)(m.opened - m.closed),
	    (unsigned long long)m.opened);
	pthread_mutex_lock(&srv->lock);
	memcpy(state, srv->sync_state, sizeof state);
	ok = srv->sync_success;
	attempt = srv->sync_attempt;
	pthread_mutex_unlock(&srv->lock);
	buf_printf(&b, "# HELP satchel_sync_state The mirror's state (1 for "
	    "the current one).\n"
	    "# TYPE satchel_sync_state gauge\n");
	for (k = 0; k < 4; k++) {
		static const char *states[] = { "none", "idle", "pulling",
		    "failed" };

		buf_printf(&b, "satchel_sync_state{state=\"%s\"} %d\n",
		    states[k], strcmp(states[k], state) == 0);
	}
	buf_printf(&b, "# HELP satchel_sync_last_success_seconds When the "
	    "last pull succeeded (0: never).\n"
	    "# TYPE satchel_sync_last_success_seconds gauge\n"
	    "satchel_sync_last_success_seconds %lld\n"
	    "# HELP satchel_sync_last_attempt_seconds When the last pull "
	    "started (0: never).\n"
	    "# TYPE satchel_sync_last_attempt_seconds gauge\n"
	    "satchel_sync_last_attempt_seconds %lld\n"
	    "# HELP satchel_catalog_serial The serial of the catalog served.\n"
	    "# TYPE satchel_catalog_serial gauge\n"
	    "satchel_catalog_serial %llu\n"
	    "# HELP satchel_bundles The bundles in the catalog served.\n"
	    "# TYPE satchel_bundles gauge\n"
	    "satchel_bundles %zu\n"
	    "# HELP satchel_start_time_seconds When satcheld started.\n"
	    "# TYPE satchel_start_time_seconds gauge\n"
	    "satchel_start_time_seconds %lld\n",
	    (long long)ok, (long long)attempt,
	    (unsigned long long)c->lib->catalog_serial, c->lib->n,
	    (long long)srv->started);
	if (srv->stats != NULL) {
		u.b = &b;
		buf_addstr(&b, "# HELP satchel_bundle_views_total Bundle page "
		    "views since satcheld started.\n"
		    "# TYPE satchel_bundle_views_total counter\n"
		    "# HELP satchel_lesson_views_total Lesson views since "
		    "satcheld started.\n"
		    "# TYPE satchel_lesson_views_total counter\n");
		u.views = 1;
		stats_foreach(srv->stats, metrics_usage_cb, &u);
		buf_addstr(&b, "# HELP satchel_bundle_downloads_total Whole "
		    "bundle downloads since satcheld started.\n"
		    "# TYPE satchel_bundle_downloads_total counter\n"
		    "# HELP satchel_lesson_downloads_total Lesson zip downloads "
		    "since satcheld started.\n"
		    "# TYPE satchel_lesson_downloads_total counter\n");
		u.views = 0;
		stats_foreach(srv->stats, metrics_usage_cb, &u);
	}
	http_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", &b,
	    "no-store");
}

static void
route_healthz(struct http_ctx *c)
{
	struct buf	b;

	buf_init(&b);
	if (c->lib->error != NULL) {
		buf_printf(&b, "unhealthy: %s\n", c->lib->error);
		http_reply(c, 503, "text/plain; charset=utf-8", &b, "no-store");
		return;
	}
	buf_printf(&b, "ok: catalog serial %llu, %zu bundle%s\n",
	    (unsigned long long)c->lib->catalog_serial, c->lib->n,
	    c->lib->n == 1 ? "" : "s");
	http_reply(c, 200, "text/plain; charset=utf-8", &b, "no-store");
}

static void
route_static(struct http_ctx *c, const char *rest)
{
	struct buf	b;

	if (strcmp(rest, "satchel.css") != 0) {
		http_error(c, 404, NULL);
		return;
	}
	hdr(c, "ETag", http_css_etag);
	if (etag_listed(evhttp_find_header(evhttp_request_get_input_headers(
	    c->req), "If-None-Match"), http_css_etag)) {
		hdr(c, "Cache-Control", "public, max-age=31536000, immutable");
		count_reply(c, 304, 0);
		evhttp_send_reply(c->req, 304, http_reason(304), NULL);
		ctx_free(c);
		return;
	}
	buf_init(&b);
	buf_addstr(&b, http_css);
	/* Pages link it as satchel.css?v=HASH: a new look, a new URL. */
	http_reply(c, 200, "text/css; charset=utf-8", &b,
	    http_param(c, "v") != NULL ?
	    "public, max-age=31536000, immutable" : "no-cache");
}

/* --- the store as static files (SPEC §10 "Static transport") --- */

/* Cache lives: objects and signed releases never change under their
 * names; the catalog, the trust policy and STORE may, and a cache in
 * front keeps them this long (a new release reaches mirrors behind a
 * cache within a minute). */
#define STORE_CACHE_IMMUTABLE	"public, max-age=31536000, immutable"
#define STORE_CACHE_META	"public, max-age=60"

/* 1 when s is n lowercase hex digits and nothing else. */
static int
store_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/*
 * /store/PATH: the store read-only, as any web server would publish it,
 * but only its published files: STORE, meta/trust, meta/catalog, the
 * accepted policies meta/trust.d/SERIAL.policy, the signed releases the
 * catalog has reached (as the library holds it; a
 * release landed by a publish still in progress is not yet one), and
 * objects/ab/cdef...; everything else (tmp/, lock, deltas, caches,
 * usage counts) is 404. The path was decoded strictly (http-path.c):
 * no "..", no encoded slash.
 */
static void
route_store(struct http_ctx *c, const char *rest)
{
	const struct lib_bundle	*b;
	const char		*cache = STORE_CACHE_META, *slash, *dot;
	struct stat		 st;
	char			*path = NULL, name[BUNDLE_NAME_MAX + 1];
	char			 etag[96];
	uint64_t		 serial;
	size_t			 nl;

	c->route = ROUTE_STORE_META;
	if (strcmp(rest, "STORE") == 0 || strcmp(rest, "meta/trust") == 0 ||
	    strcmp(rest, "meta/catalog") == 0)
		path = xasprintf("%s/%s", c->t->srv->store, rest);
	else if (strncmp(rest, "objects/", 8) == 0 && strlen(rest) == 8 + 65 &&
	    rest[10] == '/') {
		char	hex[3] = { rest[8], rest[9], '\0' };

		c->route = ROUTE_STORE_OBJECT;
		if (store_hex(hex, 2) && store_hex(rest + 11, 62)) {
			path = xasprintf("%s/%s", c->t->srv->store, rest);
			cache = STORE_CACHE_IMMUTABLE;
		}
	} else if (strncmp(rest, "meta/trust.d/", 13) == 0 &&
	    rest[13] >= '1' && rest[13] <= '9' &&
	    (dot = strchr(rest + 13, '.')) != NULL &&
	    strcmp(dot, ".policy") == 0 && dot - (rest + 13) <= 19 &&
	    strspn(rest + 13, "0123456789") == (size_t)(dot - (rest + 13))) {
		/* The policies the store accepted, which a node several
		 * rotations behind walks (SPEC §7); each is immutable. */
		path = xasprintf("%s/%s", c->t->srv->store, rest);
		cache = STORE_CACHE_IMMUTABLE;
	} else if (strncmp(rest, "meta/releases/", 14) == 0 &&
	    (slash = strchr(rest + 14, '/')) != NULL &&
	    (nl = (size_t)(slash - (rest + 14))) > 0 && nl < sizeof name &&
	    (dot = strchr(slash, '.')) != NULL &&
	    strcmp(dot, ".signed") == 0 && dot > slash + 1 &&
	    slash[1] != '0' &&
	    strspn(slash + 1, "0123456789") == (size_t)(dot - slash - 1) &&
	    dot - slash - 1 <= 19) {
		memcpy(name, rest + 14, nl);
		name[nl] = '\0';
		serial = strtoull(slash + 1, NULL, 10);
		if ((b = library_bundle(c->lib, name)) != NULL &&
		    b->nreleases > 0 && serial <= b->releases[0].serial) {
			path = xasprintf("%s/meta/releases/%s/%llu.signed",
			    c->t->srv->store, b->name,
			    (unsigned long long)serial);
			cache = STORE_CACHE_IMMUTABLE;
		}
	}
	if (path == NULL || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		free(path);
		http_error(c, 404, NULL);
		return;
	}
	/* Objects are named by their digest; the others by what changes
	 * them (a new file is renamed into place). */
	if (c->route == ROUTE_STORE_OBJECT)
		snprintf(etag, sizeof etag, "\"%.2s%s\"", rest + 8, rest + 11);
	else
		snprintf(etag, sizeof etag, "\"%llx-%llx-%lx\"",
		    (unsigned long long)st.st_ino,
		    (unsigned long long)st.st_size,
		    (long)st.st_mtim.tv_sec ^ st.st_mtim.tv_nsec);
	(void)serve_file(c, path, (uint64_t)st.st_size, etag,
	    "application/octet-stream", cache, NULL);
	free(path);
}

/* --- the dispatcher --- */

/* The interface language: ?hl=, else the first of Accept-Language's
 * languages we have text for (q-values in order of appearance is what
 * browsers send), else English. */
static void
pick_lang(struct http_ctx *c)
{
	const char	*hl = http_param(c, "hl"), *al, *p;

	c->lang = "en";
	if (hl != NULL && (strcmp(hl, "zh") == 0 || strcmp(hl, "en") == 0)) {
		c->lang = strcmp(hl, "zh") == 0 ? "zh" : "en";
		c->lang_forced = 1;
		return;
	}
	al = evhttp_find_header(evhttp_request_get_input_headers(c->req),
	    "Accept-Language");
	for (p = al; p != NULL && *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, "zh", 2) == 0 && (p[2] == '\0' ||
		    p[2] == '-' || p[2] == ',' || p[2] == ';')) {
			c->lang = "zh";
			return;
		}
		if (strncasecmp(p, "en", 2) == 0 && (p[2] == '\0' ||
		    p[2] == '-' || p[2] == ',' || p[2] == ';'))
			return;
		if ((p = strchr(p, ',')) == NULL)
			break;
	}
}

static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_thread	*t = arg;
	struct http_connset	*s = &t->conns;
	size_t			 i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == evcon) {
			s->v[i] = s->v[--s->n];
			__atomic_add_fetch(&t->m.closed, 1, __ATOMIC_RELAXED);
			return;
		}
}

/* Why a linear scan is enough: the newest connection is looked up
 * first, and a connection's requests come one after another. */
static void
conn_seen(struct http_thread *t, struct evhttp_connection *evcon)
{
	struct http_connset	*s = &t->conns;
	size_t			 i;
	evutil_socket_t		 fd;
	int			 on = 1;

	for (i = s->n; i > 0; i--)
		if (s->v[i - 1] == evcon)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : HTTP_CONNSET_MIN;
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	s->v[s->n++] = evcon;
	__atomic_add_fetch(&t->m.opened, 1, __ATOMIC_RELAXED);
	evhttp_connection_set_closecb(evcon, conn_closed_cb, t);
	/* Replies are written whole, headers first: nothing is gained by
	 * Nagle holding the tail of one back for the client's ACK. */
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (fd != -1)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof on);
}

static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http_thread	*t = arg;
	struct http_ctx		*c;
	const char		*uri = evhttp_request_get_uri(req), *why;
	char			*path = NULL, *rest;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	size_t			 ul;

	conn_seen(t, evhttp_request_get_connection(req));
	c = xcalloc(1, sizeof *c);
	c->t = t;
	c->req = req;
	c->route = ROUTE_OTHER;
	c->head = cmd == EVHTTP_REQ_HEAD;
	TAILQ_INIT(&c->query);
	c->lib = library_get(t->srv->lib);
	c->lang = "en";
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		http_error(c, 405, NULL);
		return;
	}
	ul = strlen(uri);
	if (ul > HTTP_URI_MAX) {
		http_error(c, 400, "The address is too long.");
		return;
	}
	if (http_target_query(uri, &c->query) == -1) {
		http_error(c, 400, "The query string does not parse.");
		return;
	}
	pick_lang(c);
	if ((path = http_path_decode(uri, http_target_pathlen(uri),
	    &why)) == NULL) {
		char	*d = xasprintf("The address holds %s.", why);

		http_error(c, 400, d);
		free(d);
		return;
	}
	if (strcmp(path, "/") == 0) {
		c->route = ROUTE_LIBRARY;
		http_page_library(c);
	} else if (strncmp(path, "/b/", 3) == 0) {
		c->route = ROUTE_FILE;
		route_file(c, path + 3);
	} else if (strncmp(path, "/bundle/", 8) == 0) {
		const struct lib_bundle	*b;

		c->route = ROUTE_BUNDLE;
		rest = path + 8;
		if ((b = library_bundle(c->lib, rest)) == NULL)
			http_error(c, 404, NULL);
		else {
			if (!c->head)
				count_usage(c, b->name, NULL, 0);
			http_page_bundle(c, b);
		}
	} else if (strncmp(path, "/download/", 10) == 0) {
		c->route = ROUTE_ZIP;
		route_download(c, path + 10);
	} else if (strncmp(path, "/api/v1/", 8) == 0) {
		const struct lib_bundle		*b;
		const struct lib_lesson		*l;
		char				*slash;

		c->route = ROUTE_API;
		rest = path + 8;
		if (strcmp(rest, "catalog") == 0)
			http_api_catalog(c);
		else if (strncmp(rest, "bundles/", 8) == 0) {
			rest += 8;
			slash = strchr(rest, '/');
			if (slash != NULL)
				*slash = '\0';
			if ((b = library_bundle(c->lib, rest)) == NULL)
				http_error(c, 404, NULL);
			else if (slash == NULL)
				http_api_bundle(c, b);
			else if (strncmp(slash + 1, "lessons/", 8) == 0 &&
			    (l = library_lesson(&b->releases[0],
			    slash + 9)) != NULL)
				http_api_lesson(c, b, &b->releases[0], l);
			else
				http_error(c, 404, NULL);
		} else
			http_error(c, 404, NULL);
	} else if (strcmp(path, "/opds") == 0 || strcmp(path, "/opds/") == 0) {
		c->route = ROUTE_OPDS;
		http_opds(c);
	} else if (strncmp(path, "/static/", 8) == 0) {
		c->route = ROUTE_STATIC;
		route_static(c, path + 8);
	} else if (strncmp(path, "/store/", 7) == 0) {
		route_store(c, path + 7);
	} else if (strcmp(path, "/metrics") == 0) {
		c->route = ROUTE_METRICS;
		route_metrics(c);
	} else if (strcmp(path, "/healthz") == 0) {
		c->route = ROUTE_HEALTHZ;
		route_healthz(c);
	} else
		http_error(c, 404, NULL);
	free(path);
}

/* --- threads --- */

static void
http_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread	*t = arg;

	event_base_loopexit(t->base, NULL);
}

static void
http_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread	*t = arg;

	evconnlistener_enable(evhttp_bound_socket_get_listener(t->bound));
}

/* The server, for the accept error callback: evhttp gives its
 * listeners its own argument, not ours. One web server a process. */
static struct http_server	*http_running;

static void
http_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct http_thread	*t = NULL;
	struct timeval		 tv = { HTTP_BACKOFF_MS / 1000,
				    (HTTP_BACKOFF_MS % 1000) * 1000 };
	unsigned		 i;

	for (i = 0; http_running != NULL && i < http_running->nthreads; i++)
		if (http_running->t[i].base == evconnlistener_get_base(lev))
			t = &http_running->t[i];
	if (t == NULL)
		return;

	log_warn("http: accept on %s: %s; pausing for %d "
	    "ms", t->srv->name, strerror(errno), HTTP_BACKOFF_MS);
	evconnlistener_disable(lev);
	evtimer_add(t->backoff, &tv);
}

static void *
http_thread_main(void *arg)
{
	struct http_thread	*t = arg;

	event_base_dispatch(t->base);
	return NULL;
}

static int
thread_setup(struct http_thread *t, int fd, struct error *err)
{
	struct event_config	*cfg;

	/* With a change list, epoll learns of a connection's events once a
	 * loop, not at every enable and disable: a reply's write event is
	 * added and dropped without a system call for each (measured: two
	 * epoll_ctl a request, from four). Safe here: no descriptor in
	 * these loops is a dup(2) of another. */
	if ((cfg = event_config_new()) == NULL)
		fatal("event_config_new failed");
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	t->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (t->base == NULL)
		fatal("event_base_new failed");
	if ((t->http = evhttp_new(t->base)) == NULL)
		fatal("evhttp_new failed");
	evhttp_set_allowed_methods(t->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(t->http, HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(t->http, HTTP_BODY_MAX);
	evhttp_set_timeout(t->http, (int)t->srv->idle);
	evhttp_set_gencb(t->http, http_request_cb, t);
	if ((t->bound = evhttp_accept_socket_with_handle(t->http, fd)) == NULL) {
		close(fd);
		return error_set(err, SATCHEL_ERR, "http: cannot accept on %s",
		    t->srv->name);
	}
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(t->bound),
	    http_accept_error_cb);
	if ((t->backoff = evtimer_new(t->base, http_backoff_cb, t)) == NULL)
		fatal("evtimer_new failed");
	if (pipe2(t->stopfd, O_CLOEXEC | O_NONBLOCK) != 0)
		return error_set(err, SATCHEL_ERR, "pipe: %s", strerror(errno));
	if ((t->stop = event_new(t->base, t->stopfd[0], EV_READ,
	    http_stop_cb, t)) == NULL)
		fatal("event_new failed");
	event_add(t->stop, NULL);
	t->workers = workers_new(t->base, 1, NULL, NULL);
	return 0;
}

/* Sockets bound to one address and port, one a thread: SO_REUSEPORT
 * lets the kernel spread connections over them. */
int
http_server_bind(struct http_bound *b, const char *listen, unsigned threads,
    struct error *err)
{
	unsigned	i;
	int		rc;
	char		spec[sizeof b->name];

	memset(b, 0, sizeof *b);
	b->n = threads ? threads : HTTP_THREADS_DEFAULT;
	b->fds = xcalloc(b->n, sizeof *b->fds);
	snprintf(b->name, sizeof b->name, "%s", listen);
	for (i = 0; i < b->n; i++) {
		/* The first picks the port (port 0), the others take it. */
		snprintf(spec, sizeof spec, "%s", b->name);
		rc = listen_socket(&b->fds[i], spec, 1, &b->port, b->name,
		    sizeof b->name, err);
		if (rc != 0) {
			while (i > 0)
				close(b->fds[--i]);
			free(b->fds);
			memset(b, 0, sizeof *b);
			return rc;
		}
	}
	return 0;
}

void
http_bound_close(struct http_bound *b)
{
	unsigned	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		close(b->fds[i]);
	free(b->fds);
	memset(b, 0, sizeof *b);
}

int
http_server_start(struct http_server **out, const struct http_server_opts *o,
    struct error *err)
{
	struct http_server	*srv = xcalloc(1, sizeof *srv);
	struct http_bound	 b;
	int			*fds;
	unsigned		 i;
	int			 rc;

	srv->store = xstrdup(o->store);
	srv->cache = xasprintf("%s/cache", o->store);
	srv->stats = o->stats;
	srv->nthreads = o->threads ? o->threads : HTTP_THREADS_DEFAULT;
	srv->idle = o->idle_timeout ? o->idle_timeout : HTTP_IDLE_DEFAULT;
	srv->started = (int64_t)time(NULL);
	snprintf(srv->sync_state, sizeof srv->sync_state, "none");
	pthread_mutex_init(&srv->lock, NULL);
	snprintf(srv->name, sizeof srv->name, "%s", o->listen);
	http_css_init();
	/* Zips and archives are cached here; without it they cannot be
	 * served (logged), but everything else can. */
	if (mkdir(srv->cache, 0755) != 0 && errno != EEXIST)
		log_warn("http: cannot make %s: %s; lesson "
		    "zips and bundle downloads will fail", srv->cache,
		    strerror(errno));
	srv->lib = library_holder_new(o->store);
	if (o->bound != NULL)
		b = *o->bound;
	else if ((rc = http_server_bind(&b, o->listen, srv->nthreads,
	    err)) != 0) {
		srv->nthreads = 0;
		http_server_free(srv);
		return rc;
	}
	if (o->bound != NULL)
		memset(o->bound, 0, sizeof *o->bound);	/* ours now */
	fds = b.fds;
	srv->nthreads = b.n;
	srv->port = b.port;
	snprintf(srv->name, sizeof srv->name, "%s", b.name);
	srv->t = xcalloc(srv->nthreads, sizeof *srv->t);
	for (i = 0; i < srv->nthreads; i++) {
		srv->t[i].srv = srv;
		srv->t[i].idx = i;
		srv->t[i].stopfd[0] = srv->t[i].stopfd[1] = -1;
		if ((rc = thread_setup(&srv->t[i], fds[i], err)) != 0) {
			while (++i < srv->nthreads)
				close(fds[i]);
			free(fds);
			http_server_free(srv);
			return rc;
		}
	}
	free(fds);
	http_running = srv;
	/* Warm the snapshot so the first learner does not wait for it. */
	library_put(srv->lib, library_get(srv->lib));
	for (i = 0; i < srv->nthreads; i++) {
		if (pthread_create(&srv->t[i].tid, NULL, http_thread_main,
		    &srv->t[i]) != 0)
			fatal("pthread_create failed");
		srv->t[i].started = 1;
	}
	*out = srv;
	return 0;
}

unsigned
http_server_port(const struct http_server *srv)
{
	return srv->port;
}

const char *
http_server_name(const struct http_server *srv)
{
	return srv->name;
}

void
http_server_reload(struct http_server *srv)
{
	if (srv != NULL)
		library_holder_invalidate(srv->lib);
}

void
http_server_set_sync(struct http_server *srv, const char *state,
    int64_t last_success, int64_t last_attempt)
{
	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->lock);
	snprintf(srv->sync_state, sizeof srv->sync_state, "%s", state);
	srv->sync_success = last_success;
	srv->sync_attempt = last_attempt;
	pthread_mutex_unlock(&srv->lock);
}

void
http_server_free(struct http_server *srv)
{
	struct http_thread	*t;
	unsigned		 i;

	if (srv == NULL)
		return;
	for (i = 0; i < srv->nthreads; i++)
		if (srv->t[i].started && write(srv->t[i].stopfd[1], "x", 1) < 0)
			log_error("http: cannot stop thread "
			    "%u: %s", i, strerror(errno));
	for (i = 0; i < srv->nthreads; i++) {
		t = &srv->t[i];
		if (t->started)
			pthread_join(t->tid, NULL);
		/* Pending zip builds finish and are answered first. */
		workers_free(t->workers);
		if (t->http != NULL)
			evhttp_free(t->http);	/* closes its connections */
		if (t->backoff != NULL)
			event_free(t->backoff);
		if (t->stop != NULL)
			event_free(t->stop);
		if (t->stopfd[0] != -1) {
			close(t->stopfd[0]);
			close(t->stopfd[1]);
		}
		if (t->base != NULL)
			event_base_free(t->base);
		free(t->conns.v);
		while (t->free != NULL) {
			struct http_block	*bl = t->free;

			t->free = bl->next;
			free(bl);
		}
	}
	if (http_running == srv)
		http_running = NULL;
	free(srv->t);
	library_holder_free(srv->lib);
	pthread_mutex_destroy(&srv->lock);
	free(srv->store);
	free(srv->cache);
	free(srv);
}
