/*
 * sync-conn.c owns the server side of sync connections (protocol/SPEC.md
 * §11): one struct sync_conn per peer, an explicit state changed only by
 * sync_conn_set_state(), a read callback that decodes whole frames with
 * the pure codecs of protocol/, the answers to HELLO, GET_META and
 * GET_OBJECT (objects streamed as independent zstd frames, paced by the
 * output buffer's low watermark), the dispatch of a publish to
 * sync-publish.c (whose long steps run on a worker thread while this
 * connection stops reading), and the one teardown point,
 * sync_conn_close(), which logs why and frees everything.
 *
 * Objects are read and compressed off the event loop: a connection with
 * requests hands a job (the first SYNC_JOB_REQS requests) to the worker
 * pool (workers.c), which opens, preads and compresses into one buffer
 * of encoded frames, stopping near SYNC_JOB_OUT bytes; back on the loop
 * the buffer is queued on the socket and the answered requests dropped.
 * A connection has at most one job at a time, so its answers stay in
 * request order (SPEC §11) and its memory bounded: at most SYNC_OUT_LOW
 * queued plus one job's output. Per-thread zstd contexts, not
 * per-connection ones, keep 50 mirrors under a few MB of zstd state.
 * While a job runs the worker owns the connection's stream (fd, pos,
 * size) and the requests it was given; the loop only flags them
 * (cancelled) and a close waits for the job (dead) before freeing.
 * For a client that offers "pack", a job answers a run of requests whose
 * remainders fit SYNC_PACK_MAX with one OBJECT_PACK (one zstd frame of
 * their bytes), still in request order.
 * GET_META goes to the workers too (the catalog check, the read and the
 * SHA-256 for "not modified", and with "zmeta" the META_Z compression),
 * as a second kind of job; until its answer is queued no further frame
 * of that connection is handled, so answers keep the order of the
 * requests that need them.
 *
 * Decisions where the SPEC is silent (to be folded into SPEC §11):
 * - GET_OBJECT of an object the store lacks: ERROR `not-found` naming the
 *   hash and the request, and the connection stays open (the SPEC has no
 *   per-request "not found" answer; a mirror that lacks one object can
 *   still be asked for the others). `internal` for a META file that
 *   cannot be read also leaves the connection open; every other ERROR
 *   the server sends (`refused` included: it only ever answers a
 *   publish's objects) is followed by a close once the output has
 *   drained. A manifest refused before content is PUBLISH_RESULT ok=0.
 * - A request id may be outstanding only once (CANCEL names one request);
 *   at most SYNC_QUEUE_MAX requests may be outstanding.
 * - CANCEL of the request being streamed stops it after the piece already
 *   queued, with no OBJECT_END; CANCEL of an unknown or finished request
 *   is ignored (it may have crossed the OBJECT_END on the wire).
 * - GET_OBJECT with offset == size answers OBJECT_END alone; offset >
 *   size is a protocol error.
 * - EOF from the peer closes the connection, even mid-stream.
 * - Progress on the output (a write callback) re-arms the idle timeout,
 *   so a slow download is not cut for want of client messages.
 * - Minimum rate: a connection that owes or is owed bytes (requests
 *   outstanding, output queued, a frame begun) must move min_rate bytes
 *   a second over each window of min_rate_window seconds, or it is
 *   dropped with a log line: a peer that reads our replies too slowly or
 *   trickles a frame in byte by byte to dodge the idle timeout would
 *   otherwise hold its slot (and memory) forever.
 */
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <zstd.h>

#include "crypto.h"
#include "error.h"
#include "frame.h"
#include "fsutil.h"
#include "listen.h"
#include "log.h"
#include "msg.h"
#include "store.h"
#include "store-delta.h"
#include "sync-conn.h"
#include "sync-publish.h"
#include "util.h"
#include "workers.h"

#define SYNC_QUEUE_MAX		256		/* outstanding GET_OBJECTs */
/* Object bytes per OBJECT_DATA. Why 128 KiB: on the benchmark corpus
 * (gen_corpus.py) independent 128 KiB zstd -3 pieces total 1.010x the
 * whole files' zstd -3 size (512 KiB: 1.002x), within the 1.02x target,
 * while a piece and its buffers stay small for 50 connections at once. */
#ifndef SYNC_PIECE_MAX			/* -D for measurements */
#define SYNC_PIECE_MAX		(128u << 10)
#endif
/* Object bytes per OBJECT_PACK, for a client that offers "pack": the
 * remainders of consecutive requests that fit are read whole and
 * compressed as one zstd frame, since ~2000 small HTML pages compressed
 * one by one cost 1.6x their size as one stream. Why 1 MiB: on the
 * benchmark corpus (seed 42) the first mirror sends 202.63 MB and the
 * v1->v2 update (with deltas) 1.568 MB, where 256 KiB sends 203.71 and
 * 1.595 (as much as rsync -az), 512 KiB 202.97 and 1.573, and 2 MiB no
 * less than 1 MiB (SPEC §11). A pack's frame is sized to what it holds
 * (sync_job_pack), not to its bound, so 50 connections do not each
 * hold a megabyte. */
#ifndef SYNC_PACK_MAX
#define SYNC_PACK_MAX		(1024u << 10)
#endif
/* Pack bytes all connections may have in the making at once: with up to
 * 8 connections each packs up to SYNC_PACK_MAX, with more each gets
 * its share, down to SYNC_PACK_MIN: 50 mirrors pulling at once took
 * satcheld to 107 MB with 1 MiB packs each, 66 MB with a 16 MiB budget,
 * 57 MB with this one (the target is 64 MB). */
#define SYNC_PACK_BUDGET	(8u << 20)
#define SYNC_PACK_MIN		(256u << 10)
#define SYNC_RAW_MAX		(SYNC_PACK_MAX > SYNC_PIECE_MAX ? \
				    SYNC_PACK_MAX : SYNC_PIECE_MAX)
#define SYNC_OUT_LOW		(256u << 10)	/* produce while output below */
#define SYNC_JOB_OUT		(128u << 10)	/* a job stops past this output */
#define SYNC_JOB_REQS		64		/* requests one job may answer */
#define SYNC_TICK_SECONDS	1		/* the minimum-rate check */
/* A job's output buffer: the budget and one more piece, and room for
 * not-found ERRORs of all its requests; kept for reuse (at most
 * SYNC_SPARE_MAX of them) since fresh memory for every 128 KiB sent
 * cost page faults and a third more CPU. A pack (which starts a job:
 * sync_job_run) larger than that gets a buffer of its own size. */
#define SYNC_JOB_STREAM_MAX	(SYNC_JOB_OUT + FRAME_HEADER_LEN + \
				    MSG_OBJECT_DATA_OVERHEAD + \
				    ZSTD_COMPRESSBOUND(SYNC_PIECE_MAX))
#define SYNC_JOB_CAP		(SYNC_JOB_STREAM_MAX + SYNC_JOB_REQS * 256 + 1024)
#define SYNC_SPARE_MAX		32
#define SYNC_ZSTD_LEVEL		3
#define SYNC_META_LEVEL		3	/* META_Z pieces */
#define SYNC_LINGER_SECONDS	2		/* wait for the peer's EOF */

enum sync_conn_state {
	SYNC_CONN_HELLO,	/* waiting for the client's HELLO */
	SYNC_CONN_READY,	/* handshake done: requests are served */
	SYNC_CONN_CLOSING,	/* no more reading; freed once output drains */
};

struct sync_req {
	TAILQ_ENTRY(sync_req)	 link;
	uint32_t		 request;
	uint8_t			 object[MSG_HASH_LEN];
	uint64_t		 offset;
	int			 delta;		/* GET_DELTA against base */
	uint8_t			 base[MSG_HASH_LEN];
	int			 injob;		/* given to the running job */
	int			 cancelled;	/* CANCEL came while in the job */
};

/* Work for the pool: what a connection's next answers need. Set up and
 * read back on the loop thread; run on a worker. */
struct sync_job {
	struct workers_job	 wj;
	struct sync_conn	*c;
	struct sync_req		*reqs[SYNC_JOB_REQS];
	unsigned		 nreqs;
	unsigned		 answered;	/* reqs[0..answered) are done */
	struct buf		 out;		/* encoded frames */
	uint16_t		 fail_code;	/* non-zero: ERROR, then close */
	char			 fail[ERROR_MSG_MAX];
};

/* A GET_META for the workers: which file, and what it held. */
struct sync_meta_job {
	struct workers_job	 wj;
	struct sync_conn	*c;
	struct msg_get_meta	 g;		/* g.name owned */
	char			*path;
	int			 visible;	/* the catalog has reached it */
	int			 rc;		/* of file_read_all */
	struct error		 err;
	char			*data;
	size_t			 len;
	int			 same;		/* data hashes to g.have */
	struct buf		 frames;	/* zmeta: the META_Z frames */
	uint16_t		 zfail;		/* zmeta: compression failed */
	/* GET_META_DELTA: the base asked for, and the META_DELTA frame
	 * when one could be made (else the answer is a GET_META's). */
	int			 delta;
	uint64_t		 base_serial;
	uint8_t			 base[MSG_HASH_LEN];
	struct buf		 dframe;
};

/* A worker thread's own zstd context and buffers. */
struct sync_local {
	ZSTD_CCtx	*zc;
	uint8_t		*rbuf, *zbuf;
	size_t		 zcap;
};

struct sync_conn {
	TAILQ_ENTRY(sync_conn)	 link;
	struct sync_server	*srv;
	struct bufferevent	*bev;
	enum sync_conn_state	 state;
	char			 peer[INET6_ADDRSTRLEN + 16];
	uint32_t		 max_frame;	/* payload limit now in force */
	uint64_t		 nmsgs, bytes_in, bytes_out;
	struct timespec		 started;
	char			 reason[512];
	int			 lingering;	/* SHUT_WR sent, reading to EOF */

	/* GET_OBJECTs in arrival order; the head is being streamed when
	 * fd != -1. */
	TAILQ_HEAD(, sync_req)	 queue;
	unsigned		 nqueue;
	int			 fd;
	uint64_t		 pos, size;
	size_t			 piece;		/* raw bytes per OBJECT_DATA */
	size_t			 pack;		/* per OBJECT_PACK; 0: none */
	size_t			 pack_max;	/* what the frame allows */
	int			 zmeta;		/* META_Z, PUBLISH_Z agreed */
	int			 delta;		/* GET_DELTA, GET_META_DELTA agreed */
	uint8_t			*unz;		/* a PUBLISH_Z piece, raw */
	struct buf		 wbuf;		/* one encoded frame */

	/* A release being published (SPEC §11 "Publishing"), or NULL. */
	struct sync_publish	*pub;
	struct sync_job		 job;
	int			 busy;		/* job is with the workers */
	struct sync_meta_job	 meta;
	int			 meta_busy;	/* meta is with the workers */
	int			 dead;		/* free once the jobs are back */
	/* The minimum-rate window: when it began, bytes moved then. */
	time_t			 rate_since;
	uint64_t		 rate_mark;
};

struct sync_server {
	struct event_base		*base;
	const struct store		*store;
	struct sync_server_opts		 opts;
	TAILQ_HEAD(, sync_conn)		 conns;
	unsigned			 nconns;
	int				 stopping;
	void				(*done)(void *);
	void				*done_arg;
	struct workers			*workers;
	struct event			*tick;		/* minimum rate */
	int				 deltas;	/* offer "delta" */
	char				*spare[SYNC_SPARE_MAX];
	unsigned			 nspare;	/* SYNC_JOB_CAP each */
};

static void	sync_conn_read_cb(struct bufferevent *, void *);
static void	sync_conn_write_cb(struct bufferevent *, void *);
static void	sync_conn_event_cb(struct bufferevent *, short, void *);
static void	sync_conn_pump(struct sync_conn *);
static void	sync_job_run(struct workers_job *, void *);
static void	sync_job_done(struct workers_job *);
static void	sync_meta_run(struct workers_job *, void *);
static void	sync_meta_done(struct workers_job *);
static void	sync_meta_zip(struct sync_meta_job *, struct sync_local *);

static const char *
sync_conn_state_name(enum sync_conn_state s)
{
	switch (s) {
	case SYNC_CONN_HELLO:	return "HELLO";
	case SYNC_CONN_READY:	return "READY";
	case SYNC_CONN_CLOSING:	return "CLOSING";
	}
	return "?";
}

/* The only place a connection's state changes. Allowed: HELLO -> READY,
 * HELLO or READY -> CLOSING. */
static void
sync_conn_set_state(struct sync_conn *c, enum sync_conn_state to)
{
	assert((c->state == SYNC_CONN_HELLO && to == SYNC_CONN_READY) ||
	    (c->state != SYNC_CONN_CLOSING && to == SYNC_CONN_CLOSING));
	/* Each change at the debug level (--log-level debug), or on
	 * stderr with SATCHELD_TRACE set, as before the levels existed. */
	if (getenv("SATCHELD_TRACE") != NULL)
		fprintf(stderr, "satcheld: sync %s: %s -> %s\n", c->peer,
		    sync_conn_state_name(c->state), sync_conn_state_name(to));
	else
		log_debug("sync %s: %s -> %s", c->peer,
		    sync_conn_state_name(c->state), sync_conn_state_name(to));
	c->state = to;
}

static void
sync_conn_stop_stream(struct sync_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->pos = c->size = 0;
}

/* Drops r, leaving the stream alone (a job's answered requests). */
static void
sync_conn_unlink(struct sync_conn *c, struct sync_req *r)
{
	TAILQ_REMOVE(&c->queue, r, link);
	c->nqueue--;
	free(r);
}

static void
sync_conn_pop(struct sync_conn *c, struct sync_req *r)
{
	if (r == TAILQ_FIRST(&c->queue))
		sync_conn_stop_stream(c);
	sync_conn_unlink(c, r);
}

/* Logs the connection's one line and frees everything it holds. */
static void
sync_conn_free(struct sync_conn *c)
{
	struct sync_server	*srv = c->srv;
	struct timespec		 now;
	double			 secs;

	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - c->started.tv_sec) +
	    (double)(now.tv_nsec - c->started.tv_nsec) / 1e9;
	log_info("sync %s: closed after %.3f s, %llu "
	    "messages, %llu bytes in, %llu bytes out: %s", c->peer, secs,
	    (unsigned long long)c->nmsgs, (unsigned long long)c->bytes_in,
	    (unsigned long long)c->bytes_out, c->reason);
	assert(!c->busy && !c->meta_busy);
	while (!TAILQ_EMPTY(&c->queue))
		sync_conn_pop(c, TAILQ_FIRST(&c->queue));
	sync_conn_stop_stream(c);
	bufferevent_free(c->bev);	/* closes the socket */
	buf_free(&c->wbuf);
	sync_publish_free(c->pub);	/* a cut publish leaves no trace */
	buf_free(&c->job.out);
	free(c->unz);
	TAILQ_REMOVE(&srv->conns, c, link);
	srv->nconns--;
	free(c);
	if (srv->stopping && srv->nconns == 0 && srv->done != NULL) {
		void	(*done)(void *) = srv->done;

		srv->done = NULL;
		done(srv->done_arg);
	}
}

/*
 * The one way a connection ends. The first call records the reason,
 * stops reading and drops pending requests. now: free at once (the peer
 * is gone or time is up); otherwise free once the output has drained
 * (an ERROR or the last answers still on their way) and the peer has
 * closed its side or SYNC_LINGER_SECONDS have passed. Never frees from
 * the drain path synchronously, so callers may keep using c until they
 * return to the loop.
 */
static void
sync_conn_close(struct sync_conn *c, int now, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
sync_conn_close(struct sync_conn *c, int now, const char *fmt, ...)
{
	va_list	ap;

	if (c->state != SYNC_CONN_CLOSING) {
		va_start(ap, fmt);
		vsnprintf(c->reason, sizeof c->reason, fmt, ap);
		va_end(ap);
		sync_conn_set_state(c, SYNC_CONN_CLOSING);
		bufferevent_disable(c->bev, EV_READ);
		/* Requests a job holds are dropped when it comes back. */
		while (!c->busy && !TAILQ_EMPTY(&c->queue))
			sync_conn_pop(c, TAILQ_FIRST(&c->queue));
	}
	if (now && (c->busy || c->meta_busy)) {
		/* The worker still uses the stream: free when it is back,
		 * hearing nothing from the socket meanwhile. */
		c->dead = 1;
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	if (now) {
		sync_conn_free(c);
		return;
	}
	if (c->lingering)
		return;
	/* Once the output is empty the write callback lingers (see
	 * sync_conn_linger) and then the event callback frees; the write
	 * timeout bounds the wait for a peer that does not read. */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_enable(c->bev, EV_WRITE);
	bufferevent_trigger(c->bev, EV_WRITE,
	    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* Queues one whole frame. */
static void
sync_conn_send(struct sync_conn *c, const struct msg *m)
{
	c->wbuf.len = 0;
	msg_encode(m, &c->wbuf);
	if (bufferevent_write(c->bev, c->wbuf.data, c->wbuf.len) != 0)
		fatal("bufferevent_write: out of memory");
	c->bytes_out += c->wbuf.len;
}

static void
sync_conn_send_error(struct sync_conn *c, uint16_t code, const char *text)
{
	struct msg	m;

	memset(&m, 0, sizeof m);
	m.type = MSG_ERROR;
	m.u.error.code = code;
	m.u.error.message = (char *)text;	/* not freed: m is ours */
	sync_conn_send(c, &m);
}

/* Sends ERROR code and closes once it is on its way. */
static void
sync_conn_fail(struct sync_conn *c, uint16_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
sync_conn_fail(struct sync_conn *c, uint16_t code, const char *fmt, ...)
{
	char	text[ERROR_MSG_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	sync_conn_send_error(c, code, text);
	sync_conn_close(c, 0, "sent ERROR %u: %s", code, text);
}

/* The largest piece whose compressed form always fits a frame. */
static size_t
sync_conn_piece_size(uint32_t max_frame)
{
	size_t	limit = max_frame - MSG_OBJECT_DATA_OVERHEAD, n, b;

	n = limit < SYNC_PIECE_MAX ? limit : SYNC_PIECE_MAX;
	while ((b = ZSTD_compressBound(n)) > limit)
		n -= b - limit;
	return n;
}

/* The largest pack whose frame, with the entries of a whole job,
 * always fits max_frame; 0 when that leaves too little to be worth it. */
static size_t
sync_conn_pack_size(uint32_t max_frame)
{
	size_t	over = MSG_PACK_OVERHEAD + SYNC_JOB_REQS * MSG_PACK_ENTRY_LEN;
	size_t	limit, n, b;

	if (max_frame < over + 4096)
		return 0;
	limit = max_frame - over;
	n = limit < SYNC_PACK_MAX ? limit : SYNC_PACK_MAX;
	while ((b = ZSTD_compressBound(n)) > limit)
		n -= b - limit;
	return n;
}

/* Why: the handshake fixes the frame limit for the rest of the
 * connection; we offer at most 1 MiB, OBJECT_PACK to a client that
 * offers "pack", and META_Z and PUBLISH_Z when it offers "zmeta". */
static void
sync_conn_on_hello(struct sync_conn *c, const struct msg_hello *h)
{
	struct msg	m;
	char		*caps[3];
	uint16_t	 i, ncaps = 0;

	if (c->state != SYNC_CONN_HELLO) {
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "HELLO after the handshake");
		return;
	}
	c->max_frame = h->max_frame < FRAME_MAX_DEFAULT ? h->max_frame :
	    FRAME_MAX_DEFAULT;
	c->piece = sync_conn_piece_size(c->max_frame);
	c->pack = 0;
	c->zmeta = 0;
	for (i = 0; i < h->ncaps; i++) {
		if (strcmp(h->caps[i], MSG_CAP_PACK) == 0)
			c->pack = c->pack_max =
			    sync_conn_pack_size(c->max_frame);
		if (strcmp(h->caps[i], MSG_CAP_ZMETA) == 0)
			c->zmeta = 1;
		if (strcmp(h->caps[i], MSG_CAP_DELTA) == 0 &&
		    c->srv->deltas)
			c->delta = 1;
	}
	if (c->pack > 0)
		caps[ncaps++] = MSG_CAP_PACK;
	if (c->zmeta)
		caps[ncaps++] = MSG_CAP_ZMETA;
	if (c->delta)
		caps[ncaps++] = MSG_CAP_DELTA;
	memset(&m, 0, sizeof m);
	m.type = MSG_HELLO;
	m.u.hello.version = MSG_VERSION;
	m.u.hello.max_frame = c->max_frame;
	m.u.hello.ncaps = ncaps;
	m.u.hello.caps = caps;
	sync_conn_send(c, &m);
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    FRAME_HEADER_LEN + (size_t)c->max_frame);
	sync_conn_set_state(c, SYNC_CONN_READY);
}

/*
 * Why pieces: a catalog or a signed manifest may be 16 MiB, more than a
 * frame (SPEC §11 "Metadata in pieces"). The pieces of one META are
 * queued back to back here, so no other frame comes between them; the
 * file is already in memory, so this costs at most its size again in
 * the output buffer.
 */
static void
sync_conn_send_meta(struct sync_conn *c, const struct msg_get_meta *g,
    uint8_t status, const char *data, size_t len)
{
	struct msg	m;
	size_t		off = 0, piece, n;

	memset(&m, 0, sizeof m);
	m.type = MSG_META;
	m.u.meta.role = g->role;
	m.u.meta.name = g->name;		/* borrowed from g */
	m.u.meta.status = status;
	if (status != MSG_STATUS_OK) {
		sync_conn_send(c, &m);
		return;
	}
	piece = c->max_frame - MSG_META_OVERHEAD - strlen(g->name);
	m.u.meta.total = len;
	do {
		n = len - off < piece ? len - off : piece;
		m.u.meta.offset = off;
		m.u.meta.data = (const uint8_t *)data + off;
		m.u.meta.datalen = (uint32_t)n;
		sync_conn_send(c, &m);
		off += n;
	} while (off < len);
}

/*
 * Why: metadata files are small and replaced whole by rename, so each
 * request reads the current file (no cache yet) and answers "not
 * modified" when the client's hash matches. Reading and hashing a file
 * of up to 16 MiB, and the catalog check of a release, happen on a
 * worker (sync_meta_run); sync_meta_done answers.
 */
static void
sync_conn_meta_submit(struct sync_conn *c, const struct msg_get_meta *g,
    const struct msg_get_meta_delta *d)
{
	struct sync_meta_job	*mj = &c->meta;
	const char		*dir = store_dir(c->srv->store), *at;
	char			*path = NULL;

	switch (g->role) {
	case MSG_ROLE_TRUST:
		/* msg_decode checked that a name is a decimal serial. */
		path = g->name[0] == '\0' ? xasprintf("%s/meta/trust", dir) :
		    xasprintf("%s/meta/trust.d/%s.policy", dir, g->name);
		break;
	case MSG_ROLE_CATALOG:
		path = xasprintf("%s/meta/catalog", dir);
		break;
	case MSG_ROLE_RELEASE:
		/* msg_decode checked NAME@SERIAL: no '/', no "..". */
		if ((at = strchr(g->name, '@')) == NULL)
			fatal("GET_META: decoded name without '@'");
		path = xasprintf("%s/meta/releases/%.*s/%s.signed", dir,
		    (int)(at - g->name), g->name, at + 1);
		break;
	default:
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "GET_META: role %u",
		    g->role);
		return;
	}
	memset(mj, 0, sizeof *mj);
	mj->wj.run = sync_meta_run;
	mj->wj.done = sync_meta_done;
	mj->c = c;
	mj->g = *g;
	mj->g.name = xstrdup(g->name);
	mj->path = path;		/* ownership moved to the job */
	if (d != NULL) {
		mj->delta = 1;
		mj->base_serial = d->base_serial;
		memcpy(mj->base, d->base, MSG_HASH_LEN);
	}
	c->meta_busy = 1;
	workers_submit(c->srv->workers, &mj->wj);
}

static void
sync_conn_on_get_meta(struct sync_conn *c, const struct msg_get_meta *g)
{
	sync_conn_meta_submit(c, g, NULL);
}

/* Answered as the GET_META of the same release would be, unless a
 * META_DELTA can be made (sync_meta_delta). */
static void
sync_conn_on_get_meta_delta(struct sync_conn *c,
    const struct msg_get_meta_delta *d)
{
	struct msg_get_meta	g;

	if (!c->delta) {
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "GET_META_DELTA without "
		    "the capability \"delta\" agreed");
		return;
	}
	memset(&g, 0, sizeof g);
	g.role = d->role;
	g.name = d->name;
	sync_conn_meta_submit(c, &g, d);
}

/*
 * Why on the worker: a catalog or signed manifest may be 16 MiB, and
 * compressing it (a manifest's hex digests and paths shrink to ~40%)
 * is no work for the event loop. Each META_Z piece is an independent
 * frame of the largest raw run whose compressed bound fits the frame.
 */
static void
sync_meta_zip(struct sync_meta_job *mj, struct sync_local *l)
{
	struct sync_conn	*c = mj->c;
	struct msg		 m;
	size_t			 limit, piece, b, off = 0, n, zn, zcap;
	uint8_t			*z;

	limit = c->max_frame - MSG_META_Z_OVERHEAD - strlen(mj->g.name);
	piece = limit;
	while ((b = ZSTD_compressBound(piece)) > limit)
		piece -= b - limit;
	zcap = ZSTD_compressBound(piece);
	z = xmalloc(zcap);
	memset(&m, 0, sizeof m);
	m.type = MSG_META_Z;
	m.u.meta.role = mj->g.role;
	m.u.meta.name = mj->g.name;
	m.u.meta.status = MSG_STATUS_OK;
	m.u.meta.total = mj->len;
	buf_init(&mj->frames);
	do {
		n = mj->len - off < piece ? mj->len - off : piece;
		zn = ZSTD_compressCCtx(l->zc, z, zcap, mj->data + off, n,
		    SYNC_META_LEVEL);
		if (ZSTD_isError(zn)) {
			mj->zfail = 1;
			break;
		}
		m.u.meta.offset = off;
		m.u.meta.data = z;
		m.u.meta.datalen = (uint32_t)zn;
		msg_encode(&m, &mj->frames);
		off += n;
	} while (off < mj->len);
	free(z);
}

/*
 * GET_META_DELTA's part on the worker: the base release of the same
 * bundle, if we hold it with the hash the client gave, and the delta of
 * the document against it (cached, store_meta_delta) when that fits one
 * frame. Anything else leaves mj->dframe empty: the answer is then the
 * document itself, as for GET_META.
 */
static void
sync_meta_delta(struct sync_meta_job *mj)
{
	struct sync_conn	*c = mj->c;
	struct error		 err;
	struct msg		 m;
	const char		*at = strchr(mj->g.name, '@');
	char			*path, *base = NULL, *d = NULL;
	size_t			 blen, dlen;
	uint8_t			 sum[SHA256_LEN];

	path = xasprintf("%s/meta/releases/%.*s/%llu.signed",
	    store_dir(c->srv->store), (int)(at - mj->g.name), mj->g.name,
	    (unsigned long long)mj->base_serial);
	if (file_read_all(&base, &blen, path, MSG_SIGNED_MANIFEST_MAX,
	    &err) != 0)
		goto out;
	sha256(base, blen, sum);
	if (memcmp(sum, mj->base, SHA256_LEN) != 0)
		goto out;
	if (store_meta_delta(c->srv->store, mj->data, mj->len, base, blen, &d,
	    &dlen, &err) != 0) {
		log_warn("sync %s: %s: %s", c->peer, mj->g.name, err.msg);
		goto out;
	}
	if (dlen > c->max_frame - MSG_META_DELTA_OVERHEAD -
	    strlen(mj->g.name))
		goto out;
	memset(&m, 0, sizeof m);
	m.type = MSG_META_DELTA;
	m.u.meta_delta.role = MSG_ROLE_RELEASE;
	m.u.meta_delta.name = mj->g.name;
	m.u.meta_delta.base_serial = mj->base_serial;
	m.u.meta_delta.total = mj->len;
	m.u.meta_delta.data = (const uint8_t *)d;
	m.u.meta_delta.datalen = (uint32_t)dlen;
	buf_init(&mj->dframe);
	msg_encode(&m, &mj->dframe);
out:
	free(d);
	free(base);
	free(path);
}

/* The worker's part of a GET_META: only what the catalog has reached is
 * served (SPEC §10); then the file and, if the client has a copy, the
 * hash of ours. */
static void
sync_meta_run(struct workers_job *wj, void *local)
{
	struct sync_meta_job	*mj = (struct sync_meta_job *)wj;
	const char		*at;
	uint8_t			 sum[SHA256_LEN];

	(void)local;
	mj->visible = 1;
	if (mj->g.role == MSG_ROLE_RELEASE) {
		char	*name;

		at = strchr(mj->g.name, '@');
		name = xstrndup(mj->g.name, (size_t)(at - mj->g.name));
		mj->visible = store_release_visible(store_dir(mj->c->srv->store),
		    name, strtoull(at + 1, NULL, 10));
		free(name);
		if (!mj->visible)
			return;
	}
	mj->rc = file_read_all(&mj->data, &mj->len, mj->path,
	    mj->g.role == MSG_ROLE_TRUST ? MSG_TRUST_MAX :
	    mj->g.role == MSG_ROLE_CATALOG ? MSG_CATALOG_MAX :
	    MSG_SIGNED_MANIFEST_MAX, &mj->err);
	if (mj->rc == 0 && mj->g.have_flag) {
		sha256(mj->data, mj->len, sum);
		mj->same = memcmp(sum, mj->g.have, SHA256_LEN) == 0;
	}
	if (mj->rc == 0 && mj->delta && mj->len > 0)
		sync_meta_delta(mj);
	if (mj->rc == 0 && !mj->same && mj->len > 0 && mj->c->zmeta &&
	    mj->dframe.len == 0)
		sync_meta_zip(mj, local);
}

/* Answers a GET_META from what the worker found (loop thread). */
static void
sync_meta_answer(struct sync_conn *c, struct sync_meta_job *mj)
{
	const struct msg_get_meta	*g = &mj->g;
	const char			*data = mj->data;
	size_t				 len = mj->len;
	int				 rc = mj->rc;

	if (!mj->visible) {
		sync_conn_send_meta(c, g, MSG_STATUS_NOT_FOUND, NULL, 0);
		return;
	}
	if (rc == SATCHEL_ENOTFOUND) {
		sync_conn_send_meta(c, g, MSG_STATUS_NOT_FOUND, NULL, 0);
		return;
	}
	if (rc == SATCHEL_ELIMIT) {
		log_warn("sync %s: %s", c->peer, mj->err.msg);
		sync_conn_send_error(c, MSG_ERR_INTERNAL,
		    "META: the file is larger than the protocol allows");
		return;
	}
	if (rc != 0) {
		log_warn("sync %s: %s", c->peer, mj->err.msg);
		sync_conn_send_error(c, MSG_ERR_INTERNAL,
		    "META: cannot read the file");
		return;
	}
	if (mj->same) {
		sync_conn_send_meta(c, g, MSG_STATUS_NOT_MODIFIED, NULL, 0);
		return;
	}
	if (len == 0) {
		sync_conn_send_error(c, MSG_ERR_INTERNAL, "META: empty file");
		return;
	}
	if (mj->dframe.len > 0) {
		if (bufferevent_write(c->bev, mj->dframe.data,
		    mj->dframe.len) != 0)
			fatal("bufferevent_write: out of memory");
		c->bytes_out += mj->dframe.len;
		return;
	}
	if (mj->zfail) {
		sync_conn_send_error(c, MSG_ERR_INTERNAL,
		    "META: cannot compress the file");
		return;
	}
	if (mj->frames.len > 0) {
		/* Queued back to back, like the raw pieces. */
		if (bufferevent_write(c->bev, mj->frames.data,
		    mj->frames.len) != 0)
			fatal("bufferevent_write: out of memory");
		c->bytes_out += mj->frames.len;
		return;
	}
	sync_conn_send_meta(c, g, MSG_STATUS_OK, data, len);
}

/* The loop's part of a GET_META: the answer, then the frames that
 * waited behind it. */
static void
sync_meta_done(struct workers_job *wj)
{
	struct sync_meta_job	*mj = (struct sync_meta_job *)wj;
	struct sync_conn	*c = mj->c;

	c->meta_busy = 0;
	if (!c->dead && c->state != SYNC_CONN_CLOSING)
		sync_meta_answer(c, mj);
	free(mj->g.name);
	free(mj->path);
	free(mj->data);
	buf_free(&mj->frames);
	buf_free(&mj->dframe);
	memset(mj, 0, sizeof *mj);
	if (c->dead) {
		if (!c->busy)
			sync_conn_free(c);
		return;
	}
	if (c->state == SYNC_CONN_CLOSING)
		return;
	if (!c->srv->stopping)
		sync_conn_read_cb(c->bev, c);
	if (c->state == SYNC_CONN_READY)
		sync_conn_pump(c);
}

static struct sync_req *
sync_conn_find(struct sync_conn *c, uint32_t request)
{
	struct sync_req	*r;

	TAILQ_FOREACH(r, &c->queue, link) {
		if (r->request == request)
			return r;
	}
	return NULL;
}

/* Why: requests are queued, not served here, so that one connection's
 * memory stays bounded however many it pipelines (SYNC_QUEUE_MAX).
 * GET_DELTA shares the queue and the ids: its answer is the delta's
 * bytes, framed as an object's (SPEC §11 "Deltas"). */
static void
sync_conn_queue(struct sync_conn *c, const char *what, uint32_t request,
    const uint8_t object[MSG_HASH_LEN], const uint8_t *base, uint64_t offset)
{
	struct sync_req	*r;

	if (c->nqueue >= SYNC_QUEUE_MAX) {
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "%s: more than %u "
		    "requests outstanding", what, SYNC_QUEUE_MAX);
		return;
	}
	if (sync_conn_find(c, request) != NULL) {
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "%s: request %u "
		    "is already outstanding", what, request);
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->request = request;
	memcpy(r->object, object, MSG_HASH_LEN);
	r->offset = offset;
	if (base != NULL) {
		r->delta = 1;
		memcpy(r->base, base, MSG_HASH_LEN);
	}
	TAILQ_INSERT_TAIL(&c->queue, r, link);
	c->nqueue++;
	sync_conn_pump(c);
}

static void
sync_conn_on_get_object(struct sync_conn *c, const struct msg_get_object *g)
{
	sync_conn_queue(c, "GET_OBJECT", g->request, g->object, NULL,
	    g->offset);
}

static void
sync_conn_on_get_delta(struct sync_conn *c, const struct msg_get_delta *g)
{
	if (!c->delta) {
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "GET_DELTA without the "
		    "capability \"delta\" agreed");
		return;
	}
	sync_conn_queue(c, "GET_DELTA", g->request, g->object, g->base,
	    g->offset);
}

static void
sync_conn_on_cancel(struct sync_conn *c, const struct msg_cancel *m)
{
	struct sync_req	*r;

	if ((r = sync_conn_find(c, m->request)) != NULL) {
		if (r->injob)
			r->cancelled = 1;	/* see sync_job_done */
		else
			sync_conn_pop(c, r);
	}
	sync_conn_pump(c);
}

/* --- publish (SPEC §11 "Publishing"); the work is sync-publish.c's --- */

static void
sync_conn_publish_result(struct sync_conn *c, uint8_t ok, uint64_t serial,
    const char *text)
{
	struct msg	m;

	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH_RESULT;
	m.u.publish_result.ok = ok;
	m.u.publish_result.catalog_serial = serial;
	m.u.publish_result.message = (char *)text;	/* borrowed */
	sync_conn_send(c, &m);
	log_info("sync %s: %s%s", c->peer, ok ? "" : "publish refused: ",
	    text);
	sync_publish_free(c->pub);
	c->pub = NULL;
}

/* The need list, split like any list larger than a frame. */
static void
sync_conn_send_need(struct sync_conn *c)
{
	const uint8_t	(*hashes)[MSG_HASH_LEN];
	struct msg	 m;
	uint32_t	 n, off = 0, per;

	sync_publish_need(c->pub, &hashes, &n);
	per = (c->max_frame - MSG_PUBLISH_NEED_OVERHEAD) / MSG_HASH_LEN;
	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH_NEED;
	m.u.publish_need.total = n;
	do {
		m.u.publish_need.n = n - off < per ? n - off : per;
		m.u.publish_need.hashes = (uint8_t (*)[MSG_HASH_LEN])hashes + off;
		sync_conn_send(c, &m);
		off += m.u.publish_need.n;
	} while (off < n);
}

/*
 * The end of a long publish step (acceptance or landing), back on the
 * loop: answer, then take up the frames that waited meanwhile.
 */
static void
sync_conn_publish_step_cb(void *arg, struct sync_publish *p)
{
	struct sync_conn	*c = arg;
	const struct error	*err;
	const char		*summary;
	uint64_t		 serial;
	int			 rc, step = sync_publish_step(p);

	rc = sync_publish_result(p, &serial, &summary, &err);
	if (rc == 0 && step == SYNC_PUBLISH_ACCEPT)
		sync_conn_send_need(c);
	else if (rc == 0)
		sync_conn_publish_result(c, 1, serial, summary);
	else if (rc == SYNC_PUBLISH_REFUSED)
		sync_conn_publish_result(c, 0, serial, err->msg);
	else {
		log_warn("sync %s: publish: %s", c->peer, err->msg);
		if (step == SYNC_PUBLISH_ACCEPT)
			sync_conn_fail(c, MSG_ERR_INTERNAL, "publish: the server "
			    "could not stage the release");
		else
			sync_conn_publish_result(c, 0, 0, "the server could not "
			    "land the release (see its log); the store is "
			    "unchanged");
	}
	if (c->state == SYNC_CONN_CLOSING)
		return;
	bufferevent_enable(c->bev, EV_READ);
	sync_conn_read_cb(c->bev, c);
}

/* Hands a long step to the worker thread; reading waits for its end. */
static void
sync_conn_publish_work(struct sync_conn *c)
{
	if (sync_publish_run(c->pub, c->srv->base, sync_conn_publish_step_cb,
	    c) != 0) {
		log_error("sync %s: publish: cannot start a worker thread: %s",
		    c->peer, strerror(errno));
		sync_conn_fail(c, MSG_ERR_INTERNAL, "publish: the server is out "
		    "of resources");
		return;
	}
	bufferevent_disable(c->bev, EV_READ);
}

static void
sync_conn_on_publish(struct sync_conn *c, const struct msg_publish *m)
{
	struct error	err;
	int		rc;

	if (c->pub == NULL)
		c->pub = sync_publish_new(store_dir(c->srv->store), c->peer);
	rc = sync_publish_piece(c->pub, m, &err);
	if (rc == SYNC_PUBLISH_MORE)
		return;
	if (rc == SYNC_PUBLISH_WORK) {
		sync_conn_publish_work(c);
		return;
	}
	sync_conn_fail(c, MSG_ERR_PROTOCOL, "%s", err.msg);
}

/*
 * A compressed piece of the signed manifest: its frame must declare 1 to
 * the smaller of max_frame and the bytes the document still lacks, and
 * is decompressed with exactly that capacity (a bomb stops there); the
 * raw piece then goes the way of a PUBLISH piece, which checks its
 * offset.
 */
static void
sync_conn_on_publish_z(struct sync_conn *c, const struct msg_publish *m)
{
	struct msg_publish	 raw = *m;
	unsigned long long	 csize;
	uint64_t		 max;
	size_t			 n;

	if (!c->zmeta) {
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "PUBLISH_Z without "
		    "\"zmeta\" agreed in the HELLOs");
		return;
	}
	max = m->total - m->offset;	/* the decoder: offset < total */
	if (max > c->max_frame)
		max = c->max_frame;
	csize = ZSTD_getFrameContentSize(m->data, m->datalen);
	if (csize == ZSTD_CONTENTSIZE_ERROR ||
	    csize == ZSTD_CONTENTSIZE_UNKNOWN || csize == 0 || csize > max) {
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "PUBLISH_Z at offset %llu: "
		    "not a zstd frame declaring 1 to %llu bytes",
		    (unsigned long long)m->offset, (unsigned long long)max);
		return;
	}
	if (c->unz == NULL)
		c->unz = xmalloc(c->max_frame);
	n = ZSTD_decompress(c->unz, (size_t)csize, m->data, m->datalen);
	if (ZSTD_isError(n) || n != csize) {
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "PUBLISH_Z at offset %llu: "
		    "%s", (unsigned long long)m->offset, ZSTD_isError(n) ?
		    ZSTD_getErrorName(n) : "not its declared size");
		return;
	}
	raw.data = c->unz;
	raw.datalen = (uint32_t)n;
	sync_conn_on_publish(c, &raw);
}

static void
sync_conn_on_publish_object(struct sync_conn *c,
    const struct msg_publish_object *m)
{
	struct error	err;
	uint16_t	code;

	if (sync_publish_object(c->pub, m, &code, &err) != 0) {
		if (code == MSG_ERR_INTERNAL)
			log_warn("sync %s: publish: %s", c->peer, err.msg);
		sync_conn_fail(c, code, "%s", code == MSG_ERR_INTERNAL ?
		    "publish: the server could not store an object" : err.msg);
	}
}

static void
sync_conn_on_publish_done(struct sync_conn *c)
{
	struct error	err;

	if (sync_publish_done(c->pub, &err) == SYNC_PUBLISH_WORK)
		sync_conn_publish_work(c);
	else
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "%s", err.msg);
}

/* While a publish is under way only its own messages may come: the
 * manifest's pieces back to back, then objects and PUBLISH_DONE. */
static int
sync_conn_publish_allows(struct sync_conn *c, const struct msg *m)
{
	if (c->pub == NULL) {
		if (m->type == MSG_PUBLISH_OBJECT || m->type == MSG_PUBLISH_DONE) {
			sync_conn_fail(c, MSG_ERR_PROTOCOL, "%s without a "
			    "PUBLISH that was accepted", msg_type_name(m->type));
			return 0;
		}
		return 1;
	}
	switch (m->type) {
	case MSG_KEEPALIVE:
	case MSG_ERROR:
	case MSG_BYE:
		return 1;
	case MSG_PUBLISH:
	case MSG_PUBLISH_Z:
		if (!sync_publish_accepted(c->pub))
			return 1;
		break;
	case MSG_PUBLISH_OBJECT:
	case MSG_PUBLISH_DONE:
		if (sync_publish_accepted(c->pub))
			return 1;
		break;
	default:
		break;
	}
	sync_conn_fail(c, MSG_ERR_PROTOCOL, "%s during a publish (%s)",
	    msg_type_name(m->type), sync_publish_accepted(c->pub) ?
	    "objects or PUBLISH_DONE expected" :
	    "the next PUBLISH piece expected");
	return 0;
}

/* Dispatches one decoded message by state and type. */
static void
sync_conn_dispatch(struct sync_conn *c, const struct msg *m)
{
	if (c->state == SYNC_CONN_HELLO && m->type != MSG_HELLO) {
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "%s before HELLO",
		    msg_type_name(m->type));
		return;
	}
	if (!sync_conn_publish_allows(c, m))
		return;
	switch (m->type) {
	case MSG_HELLO:
		sync_conn_on_hello(c, &m->u.hello);
		break;
	case MSG_ERROR:
		sync_conn_close(c, 0, "peer sent ERROR %u: %s",
		    m->u.error.code, m->u.error.message);
		break;
	case MSG_KEEPALIVE:
		break;
	case MSG_BYE:
		sync_conn_close(c, 0, "peer said BYE");
		break;
	case MSG_GET_META:
		sync_conn_on_get_meta(c, &m->u.get_meta);
		break;
	case MSG_GET_OBJECT:
		sync_conn_on_get_object(c, &m->u.get_object);
		break;
	case MSG_GET_DELTA:
		sync_conn_on_get_delta(c, &m->u.get_delta);
		break;
	case MSG_GET_META_DELTA:
		sync_conn_on_get_meta_delta(c, &m->u.get_meta_delta);
		break;
	case MSG_CANCEL:
		sync_conn_on_cancel(c, &m->u.cancel);
		break;
	case MSG_PUBLISH:
		sync_conn_on_publish(c, &m->u.publish);
		break;
	case MSG_PUBLISH_Z:
		sync_conn_on_publish_z(c, &m->u.publish);
		break;
	case MSG_PUBLISH_OBJECT:
		sync_conn_on_publish_object(c, &m->u.publish_object);
		break;
	case MSG_PUBLISH_DONE:
		sync_conn_on_publish_done(c);
		break;
	default:
		/* META, OBJECT_DATA, ...: only a server sends them. */
		sync_conn_fail(c, MSG_ERR_PROTOCOL, "%s: not a client message",
		    msg_type_name(m->type));
		break;
	}
}

/*
 * Why: a frame is handled only once it is wholly buffered; its declared
 * length is checked against the state's limit as soon as the 6 header
 * bytes are there, before anything else is read or allocated. Only
 * complete frames are drained.
 */
static void
sync_conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct sync_conn	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct frame		 f;
	struct msg		 m;
	struct error		 err;
	const uint8_t		*p;
	size_t			 avail, used, need;
	uint32_t		 limit;
	int			 rc;

	if (c->state == SYNC_CONN_CLOSING) {
		/* Lingering: whatever the peer still sends is discarded. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	/* A publish step or a GET_META with the workers holds back the
	 * frames after it. */
	while (c->state != SYNC_CONN_CLOSING && !sync_publish_busy(c->pub) &&
	    !c->meta_busy) {
		avail = evbuffer_get_length(in);
		if (avail < FRAME_HEADER_LEN)
			break;
		limit = c->state == SYNC_CONN_HELLO ? FRAME_MAX_PREAUTH :
		    c->max_frame;
		p = evbuffer_pullup(in, FRAME_HEADER_LEN);
		rc = frame_peek(p, FRAME_HEADER_LEN, limit, &f, &used, &err);
		if (rc == SATCHEL_ELIMIT) {
			sync_conn_fail(c, MSG_ERR_TOO_LARGE, "%s", err.msg);
			break;
		}
		/* The header passed: the whole frame is this long. */
		need = FRAME_HEADER_LEN + ((size_t)p[0] << 24 |
		    (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3]);
		if (avail < need)
			break;
		p = evbuffer_pullup(in, (ev_ssize_t)need);
		if ((rc = frame_peek(p, need, limit, &f, &used, &err)) != 0)
			fatal("frame_peek: whole frame refused (%d)", rc);
		if (msg_decode(&m, &f, &err) != 0) {
			sync_conn_fail(c, MSG_ERR_PROTOCOL, "%s", err.msg);
			break;
		}
		c->nmsgs++;
		sync_conn_dispatch(c, &m);
		msg_free(&m);
		evbuffer_drain(in, used);
		c->bytes_in += used;
	}
}

/* Sets the job's ERROR-and-close outcome (on a worker thread). */
static void
sync_job_fail(struct sync_job *j, uint16_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
sync_job_fail(struct sync_job *j, uint16_t code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(j->fail, sizeof j->fail, fmt, ap);
	va_end(ap);
	j->fail_code = code;
}

/* Opens the object of request r (worker thread). 0: open (c->fd, pos,
 * size); 1: the store lacks it, nothing done; -1: the job fails. */
static int
sync_job_open(struct sync_job *j, struct sync_req *r)
{
	struct sync_conn	*c = j->c;
	struct stat		 st;
	struct error		 err;
	char			*path, hex[SHA256_HEX_LEN + 1];
	int			 fd;

	if (r->delta) {
		/* Made here on first request (a worker may spend a while on a
		 * large file); a delta that cannot be made is "not found",
		 * and the client fetches the object whole. */
		if (store_delta_open(c->srv->store, r->object, r->base, &fd,
		    &c->size, &err) != 0) {
			if (err.code != SATCHEL_ENOTFOUND)
				log_warn("sync %s: delta: %s", c->peer,
				    err.msg);
			return 1;
		}
		if (fd == -1)
			return 1;	/* declined: the client asks whole */
		if (r->offset > c->size) {
			close(fd);
			hex_encode(hex, r->object, MSG_HASH_LEN);
			sync_job_fail(j, MSG_ERR_PROTOCOL, "GET_DELTA: offset "
			    "%llu is past the end of the delta of %s (request "
			    "%u)", (unsigned long long)r->offset, hex,
			    r->request);
			return -1;
		}
		c->fd = fd;
		c->pos = r->offset;
		return 0;
	}
	path = store_object_path(c->srv->store, r->object);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	hex_encode(hex, r->object, MSG_HASH_LEN);
	if (fd == -1 && errno == ENOENT)
		return 1;
	if (fd == -1 || fstat(fd, &st) == -1) {
		log_warn("sync %s: object %s: %s", c->peer, hex,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		sync_job_fail(j, MSG_ERR_INTERNAL, "object %s: cannot read it",
		    hex);
		return -1;
	}
	if (r->offset > (uint64_t)st.st_size) {
		close(fd);
		sync_job_fail(j, MSG_ERR_PROTOCOL, "GET_OBJECT: offset %llu "
		    "is past the end of object %s (request %u)",
		    (unsigned long long)r->offset, hex, r->request);
		return -1;
	}
	c->fd = fd;
	c->pos = r->offset;
	c->size = (uint64_t)st.st_size;
	return 0;
}

/* Opens the object of request r (worker thread). 0: stream it; 1:
 * answered (not found), go on with the next; -1: the job fails. */
static int
sync_job_start(struct sync_job *j, struct sync_req *r)
{
	struct msg	 m;
	char		 hex[SHA256_HEX_LEN + 1], text[ERROR_MSG_MAX];
	int		 rc;

	if ((rc = sync_job_open(j, r)) != 1)
		return rc;
	hex_encode(hex, r->object, MSG_HASH_LEN);
	snprintf(text, sizeof text, "%s %s not found (request %u)",
	    r->delta ? "a delta of object" : "object", hex, r->request);
	memset(&m, 0, sizeof m);
	m.type = MSG_ERROR;
	m.u.error.code = MSG_ERR_NOT_FOUND;
	m.u.error.message = text;	/* not freed: m is ours */
	msg_encode(&m, &j->out);
	return 1;
}

/*
 * Answers reqs[*ip] (open, its remainder within c->pack) and the
 * requests after it whose remainders still fit, whole, with one
 * OBJECT_PACK (worker thread). Stops at a request that does not fit
 * (left open: the caller streams it) or that the store lacks (left
 * closed: the caller answers not-found after the pack, keeping the
 * order). *ip ends past the packed requests.
 */
static int
sync_job_pack(struct sync_job *j, unsigned *ip, struct sync_local *l)
{
	struct sync_conn	*c = j->c;
	struct msg_pack_entry	 e[SYNC_JOB_REQS];
	struct sync_req		*r;
	struct msg		 m;
	size_t			 used = 0, len, zn, need;
	ssize_t			 got;
	uint16_t		 n = 0;
	int			 rc;

	for (;;) {
		r = j->reqs[*ip];
		len = (size_t)(c->size - c->pos);
		if (c->size - c->pos > c->pack - used)
			break;
		do {
			got = pread(c->fd, l->rbuf + used, len, (off_t)c->pos);
		} while (got == -1 && errno == EINTR);
		if (got != (ssize_t)len) {
			sync_job_fail(j, MSG_ERR_INTERNAL, "object read "
			    "failed at offset %llu (request %u)",
			    (unsigned long long)c->pos, r->request);
			return -1;
		}
		e[n].request = r->request;
		e[n].offset = c->pos;
		e[n].size = c->size;
		e[n].len = (uint32_t)len;
		n++;
		used += len;
		close(c->fd);
		c->fd = -1;
		c->pos = c->size = 0;
		if (++*ip == j->nreqs)
			break;
		if ((rc = sync_job_open(j, j->reqs[*ip])) < 0)
			return -1;
		if (rc > 0)
			break;
	}
	assert(n > 0);
	zn = ZSTD_compressCCtx(l->zc, l->zbuf, l->zcap, l->rbuf, used,
	    SYNC_ZSTD_LEVEL);
	if (ZSTD_isError(zn)) {
		sync_job_fail(j, MSG_ERR_INTERNAL, "zstd: %s",
		    ZSTD_getErrorName(zn));
		return -1;
	}
	/* Exactly the frame's room (with the not-found ERRORs the job may
	 * add after it), not the doubling buf_reserve would give. */
	need = FRAME_HEADER_LEN + MSG_PACK_OVERHEAD + n * MSG_PACK_ENTRY_LEN +
	    zn + SYNC_JOB_REQS * 256 + 1024;
	if (j->out.len + need > j->out.cap) {
		j->out.data = xrealloc(j->out.data, j->out.len + need);
		j->out.cap = j->out.len + need;
	}
	memset(&m, 0, sizeof m);
	m.type = MSG_OBJECT_PACK;
	m.u.object_pack.n = n;
	m.u.object_pack.entries = e;
	m.u.object_pack.chunk = l->zbuf;
	m.u.object_pack.chunklen = (uint32_t)zn;
	msg_encode(&m, &j->out);
	j->answered = *ip;
	return 0;
}

/* Reads, compresses and encodes one OBJECT_DATA of request r (worker
 * thread). */
static int
sync_job_piece(struct sync_job *j, struct sync_req *r, struct sync_local *l)
{
	struct sync_conn	*c = j->c;
	struct msg		 m;
	uint64_t		 left = c->size - c->pos;
	size_t			 n = left < c->piece ? (size_t)left : c->piece;
	size_t			 zn;
	ssize_t			 got;

	do {
		got = pread(c->fd, l->rbuf, n, (off_t)c->pos);
	} while (got == -1 && errno == EINTR);
	if (got != (ssize_t)n) {
		sync_job_fail(j, MSG_ERR_INTERNAL, "object read failed at "
		    "offset %llu (request %u)", (unsigned long long)c->pos,
		    r->request);
		return -1;
	}
	zn = ZSTD_compressCCtx(l->zc, l->zbuf, l->zcap, l->rbuf, n,
	    SYNC_ZSTD_LEVEL);
	if (ZSTD_isError(zn)) {
		sync_job_fail(j, MSG_ERR_INTERNAL, "zstd: %s",
		    ZSTD_getErrorName(zn));
		return -1;
	}
	memset(&m, 0, sizeof m);
	m.type = MSG_OBJECT_DATA;
	m.u.object_data.request = r->request;
	m.u.object_data.offset = c->pos;
	m.u.object_data.chunk = l->zbuf;
	m.u.object_data.chunklen = (uint32_t)zn;
	msg_encode(&m, &j->out);
	c->pos += n;
	return 0;
}

/*
 * The worker's part: answers the job's requests in order, appending
 * their frames to j->out, until about SYNC_JOB_OUT bytes are there (the
 * request then being streamed is continued by the next job) or a
 * failure ends the connection.
 */
static void
sync_job_run(struct workers_job *wj, void *local)
{
	struct sync_job		*j = (struct sync_job *)wj;
	struct sync_conn	*c = j->c;
	struct sync_local	*l = local;
	struct sync_req		*r;
	struct msg		 m;
	unsigned		 i;
	int			 rc;

	j->out.len = 0;
	j->answered = 0;
	j->fail_code = 0;
	/* The budget, one more piece and the ERRORs: no growing by copies
	 * (a spare buffer, if there was one, already has this room). */
	buf_reserve(&j->out, SYNC_JOB_CAP - 1);
	for (i = 0; i < j->nreqs && j->out.len < SYNC_JOB_OUT; i++) {
		r = j->reqs[i];
		if (c->fd == -1) {
			if ((rc = sync_job_start(j, r)) < 0)
				return;
			if (rc > 0) {
				j->answered = i + 1;
				continue;
			}
		}
		/* A remainder that fits a pack goes in one with those after
		 * it, whatever piece of it was sent before. A pack's frame
		 * may be as large as a job's budget, so it starts a job: the
		 * next one goes on from here (c->fd stays open), and the
		 * buffer never needs room for both. */
		if (c->pack > 0 && c->size - c->pos <= c->pack) {
			if (j->out.len > 0)
				return;
			if (sync_job_pack(j, &i, l) != 0)
				return;
			i--;		/* the loop's i++ */
			continue;
		}
		while (c->pos < c->size && j->out.len < SYNC_JOB_OUT)
			if (sync_job_piece(j, r, l) != 0)
				return;
		if (c->pos < c->size)
			return;		/* the next job goes on */
		memset(&m, 0, sizeof m);
		m.type = MSG_OBJECT_END;
		m.u.object_end.request = r->request;
		m.u.object_end.size = c->size;
		msg_encode(&m, &j->out);
		close(c->fd);
		c->fd = -1;
		c->pos = c->size = 0;
		j->answered = i + 1;
	}
}

/* The output has sent a job's buffer: keep it for the next job. */
static void
sync_job_unref_cb(const void *data, size_t len, void *arg)
{
	struct sync_server	*srv = arg;

	(void)len;
	if (srv->nspare < SYNC_SPARE_MAX)
		srv->spare[srv->nspare++] = (char *)data;
	else
		free((void *)data);
}

static void
sync_job_free_cb(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/* The loop's part, once the worker is done: the frames go out, the
 * answered requests go away, CANCELs that came meanwhile apply. */
static void
sync_job_done(struct workers_job *wj)
{
	struct sync_job		*j = (struct sync_job *)wj;
	struct sync_conn	*c = j->c;
	struct sync_req		*r, *next;
	unsigned		 i;

	c->busy = 0;
	for (i = 0; i < j->nreqs; i++)
		j->reqs[i]->injob = 0;
	for (i = 0; i < j->answered; i++) {
		r = TAILQ_FIRST(&c->queue);
		assert(r == j->reqs[i]);
		sync_conn_unlink(c, r);	/* the worker closed its stream */
	}
	if (c->dead) {
		if (!c->meta_busy)
			sync_conn_free(c);
		return;
	}
	if (c->state == SYNC_CONN_CLOSING) {
		/* Closed meanwhile: the answers are not wanted any more. */
		while (!TAILQ_EMPTY(&c->queue))
			sync_conn_pop(c, TAILQ_FIRST(&c->queue));
		return;
	}
	if (j->out.len > 0) {
		/* No copy: the output takes the bytes and frees them once
		 * sent, so a connection holds only what is in flight. */
		if (evbuffer_add_reference(bufferevent_get_output(c->bev),
		    j->out.data, j->out.len, j->out.cap == SYNC_JOB_CAP ?
		    sync_job_unref_cb : sync_job_free_cb, c->srv) != 0)
			fatal("evbuffer_add_reference: out of memory");
		c->bytes_out += j->out.len;
		buf_init(&j->out);	/* ownership moved to the output */
	}
	if (j->fail_code != 0) {
		sync_conn_fail(c, j->fail_code, "%s", j->fail);
		return;
	}
	for (r = TAILQ_FIRST(&c->queue); r != NULL; r = next) {
		next = TAILQ_NEXT(r, link);
		if (r->cancelled)
			sync_conn_pop(c, r);
	}
	sync_conn_pump(c);
}

/*
 * Hands the next answers to the workers while the output buffer is under
 * SYNC_OUT_LOW and no job is out: the write callback calls this again
 * once the output has drained below it, so a connection holds at most
 * about SYNC_OUT_LOW plus one job's output.
 */
static void
sync_conn_pump(struct sync_conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct sync_job	*j = &c->job;
	struct sync_req	*r;

	if (c->busy || c->state != SYNC_CONN_READY ||
	    evbuffer_get_length(out) >= SYNC_OUT_LOW)
		return;
	if (TAILQ_EMPTY(&c->queue)) {
		if (c->srv->stopping)
			sync_conn_close(c, 0, "shutdown");
		return;
	}
	/* The pack size for this job (the worker reads c->pack): the
	 * largest while few peers share SYNC_PACK_BUDGET, smaller as more
	 * connect, since a connection may hold a pack's frame in its output
	 * and another in its job. */
	if (c->pack_max > 0) {
		size_t	share = SYNC_PACK_BUDGET / (c->srv->nconns > 0 ?
			    c->srv->nconns : 1);

		c->pack = share > SYNC_PACK_MAX ? SYNC_PACK_MAX :
		    share < SYNC_PACK_MIN ? SYNC_PACK_MIN : share;
		if (c->pack > c->pack_max)
			c->pack = c->pack_max;
	}
	j->c = c;
	j->wj.run = sync_job_run;
	j->wj.done = sync_job_done;
	j->nreqs = 0;
	if (j->out.data == NULL) {
		j->out.data = c->srv->nspare > 0 ?
		    c->srv->spare[--c->srv->nspare] : xmalloc(SYNC_JOB_CAP);
		j->out.cap = SYNC_JOB_CAP;
		j->out.len = 0;
	}
	TAILQ_FOREACH(r, &c->queue, link) {
		if (j->nreqs == SYNC_JOB_REQS)
			break;
		r->injob = 1;
		j->reqs[j->nreqs++] = r;
	}
	c->busy = 1;
	workers_submit(c->srv->workers, &j->wj);
}

static void
sync_conn_arm_timeouts(struct sync_conn *c)
{
	struct timeval	tv = { (time_t)c->srv->opts.idle_timeout, 0 };

	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

/*
 * Why: closing a socket whose receive buffer holds unread bytes sends a
 * reset, and the peer may then lose our last ERROR. So once the output
 * has drained we only shut down our side and read (discarding) until the
 * peer's EOF or SYNC_LINGER_SECONDS, and then free.
 */
static void
sync_conn_linger(struct sync_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct timeval	 tv = { SYNC_LINGER_SECONDS, 0 };

	c->lingering = 1;
	(void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
}

static void
sync_conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct sync_conn	*c = arg;

	if (c->state == SYNC_CONN_CLOSING) {
		if (!c->lingering &&
		    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			sync_conn_linger(c);
		return;
	}
	if (!TAILQ_EMPTY(&c->queue))
		sync_conn_arm_timeouts(c);	/* progress is activity */
	sync_conn_pump(c);
}

static void
sync_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sync_conn	*c = arg;

	if (what & BEV_EVENT_EOF) {
		sync_conn_close(c, 1, "peer closed the connection");
	} else if (what & BEV_EVENT_ERROR) {
		sync_conn_close(c, 1, "socket error: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	} else if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING)) {
		sync_conn_close(c, 1, "write timed out after %u s",
		    c->srv->opts.idle_timeout);
	} else if (what & BEV_EVENT_TIMEOUT) {
		if (c->state == SYNC_CONN_CLOSING) {
			sync_conn_close(c, 1, "timed out while closing");
			return;
		}
		sync_conn_fail(c, MSG_ERR_TIMEOUT, "idle for %u s",
		    c->srv->opts.idle_timeout);
	}
}

void
sync_server_accept(int fd, const struct sockaddr *sa, socklen_t salen,
    void *arg)
{
	struct sync_server	*srv = arg;
	struct sync_conn	*c;
	int			 one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->fd = -1;
	c->state = SYNC_CONN_HELLO;
	c->max_frame = FRAME_MAX_PREAUTH;
	TAILQ_INIT(&c->queue);
	buf_init(&c->wbuf);
	buf_init(&c->job.out);
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	c->rate_since = c->started.tv_sec;
	listen_format_addr(c->peer, sizeof c->peer, sa, salen);
	if ((c->bev = bufferevent_socket_new(srv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatal("bufferevent_socket_new failed");
	TAILQ_INSERT_TAIL(&srv->conns, c, link);
	srv->nconns++;
	bufferevent_setcb(c->bev, sync_conn_read_cb, sync_conn_write_cb,
	    sync_conn_event_cb, c);
	sync_conn_arm_timeouts(c);
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    FRAME_HEADER_LEN + FRAME_MAX_PREAUTH);
	bufferevent_setwatermark(c->bev, EV_WRITE, SYNC_OUT_LOW, 0);
	if (srv->nconns > srv->opts.max_connections) {
		sync_conn_fail(c, MSG_ERR_BUSY, "too many connections "
		    "(limit %u)", srv->opts.max_connections);
		return;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void *
sync_local_new(void)
{
	struct sync_local	*l = xcalloc(1, sizeof *l);

	if ((l->zc = ZSTD_createCCtx()) == NULL)
		fatal("ZSTD_createCCtx: out of memory");
	l->zcap = ZSTD_compressBound(SYNC_RAW_MAX);
	l->rbuf = xmalloc(SYNC_RAW_MAX);
	l->zbuf = xmalloc(l->zcap);
	return l;
}

static void
sync_local_free(void *arg)
{
	struct sync_local	*l = arg;

	ZSTD_freeCCtx(l->zc);
	free(l->rbuf);
	free(l->zbuf);
	free(l);
}

/* Bytes that crossed the socket either way so far: queued output minus
 * what still waits, drained input plus what is buffered. */
static uint64_t
sync_conn_moved(struct sync_conn *c)
{
	return c->bytes_out -
	    evbuffer_get_length(bufferevent_get_output(c->bev)) +
	    c->bytes_in + evbuffer_get_length(bufferevent_get_input(c->bev));
}

/* 1 when the peer has something to move: answers it has not taken, or a
 * frame it has begun. */
static int
sync_conn_owes(struct sync_conn *c)
{
	return !TAILQ_EMPTY(&c->queue) || c->busy || c->meta_busy ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0;
}

/*
 * Why a window rather than a timeout: the idle timeout is re-armed by
 * any byte, so a peer trickling one byte a second, or reading our answers
 * at that pace, keeps its slot forever. Every tick, a connection that
 * owes nothing starts a new window; one that has owed for a whole window
 * must have moved min_rate bytes a second across it.
 */
static void
sync_server_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sync_server	*srv = arg;
	struct sync_conn	*c, *next;
	struct timespec		 now;
	uint64_t		 moved, need;
	time_t			 held;

	(void)fd;
	(void)what;
	if (srv->opts.min_rate == 0)
		return;		/* turned off (a reload may turn it on) */
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->state == SYNC_CONN_CLOSING)
			continue;
		moved = sync_conn_moved(c);
		if (!sync_conn_owes(c)) {
			c->rate_since = now.tv_sec;
			c->rate_mark = moved;
			continue;
		}
		held = now.tv_sec - c->rate_since;
		if (held < (time_t)srv->opts.min_rate_window)
			continue;
		need = (uint64_t)srv->opts.min_rate * (uint64_t)held;
		if (moved - c->rate_mark < need) {
			/* Reset rather than close: what the kernel still
			 * holds for this peer is dropped with it. */
			struct linger	lg = { 1, 0 };

			(void)setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET,
			    SO_LINGER, &lg, sizeof lg);
			sync_conn_close(c, 1, "too slow: %llu bytes moved in "
			    "%lld s with %s pending (minimum %u bytes/s)",
			    (unsigned long long)(moved - c->rate_mark),
			    (long long)held, TAILQ_EMPTY(&c->queue) &&
			    !c->busy && !c->meta_busy && evbuffer_get_length(
			    bufferevent_get_output(c->bev)) == 0 ?
			    "a partial frame" : "answers", srv->opts.min_rate);
			continue;
		}
		c->rate_since = now.tv_sec;
		c->rate_mark = moved;
	}
}

/* Why: each connection is a descriptor (and an object being sent, a
 * second one); a soft limit of 1024 would turn a busy day into EMFILE. */
static void
sync_server_raise_nofile(unsigned max_connections)
{
	struct rlimit	rl;
	rlim_t		want = (rlim_t)max_connections * 2 + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want ||
	    rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise the open files limit: %s",
		    strerror(errno));
}

struct sync_server *
sync_server_new(struct event_base *base, const struct store *store,
    const struct sync_server_opts *opts)
{
	struct sync_server	*srv = xcalloc(1, sizeof *srv);
	struct timeval		 tv = { SYNC_TICK_SECONDS, 0 };

	const char		*e;

	srv->base = base;
	srv->store = store;
	/* SATCHEL_NO_DELTA=1: a server without "delta", as an older peer
	 * (tests of mixed chains, measurements). */
	srv->deltas = (e = getenv("SATCHEL_NO_DELTA")) == NULL ||
	    strcmp(e, "1") != 0;
	srv->opts.nworkers = opts->nworkers != 0 ? opts->nworkers :
	    SYNC_WORKERS_DEFAULT;
	TAILQ_INIT(&srv->conns);
	sync_server_set_opts(srv, opts);
	srv->workers = workers_new(base, srv->opts.nworkers, sync_local_new,
	    sync_local_free);
	/* Always ticking: a reload may turn the minimum rate on. */
	if ((srv->tick = event_new(base, -1, EV_PERSIST, sync_server_tick_cb,
	    srv)) == NULL || event_add(srv->tick, &tv) != 0)
		fatal("sync_server_new: cannot add the rate timer");
	return srv;
}

void
sync_server_shutdown(struct sync_server *srv, void (*done)(void *), void *arg)
{
	struct sync_conn	*c, *next;

	srv->stopping = 1;
	srv->done = done;
	srv->done_arg = arg;
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->state == SYNC_CONN_CLOSING)
			continue;
		if (TAILQ_EMPTY(&c->queue) && !c->meta_busy)
			sync_conn_close(c, 0, "shutdown");
		else
			bufferevent_disable(c->bev, EV_READ);
	}
	if (srv->nconns == 0 && srv->done != NULL) {
		srv->done = NULL;
		done(arg);
	}
}

void
sync_server_close_all(struct sync_server *srv, const char *reason)
{
	struct sync_conn	*c, *next;

	/* A connection whose job is out stays listed until it is back. */
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		sync_conn_close(c, 1, "%s", reason);
	}
}

unsigned
sync_server_count(const struct sync_server *srv)
{
	return srv->nconns;
}

void
sync_server_free(struct sync_server *srv)
{
	if (srv == NULL)
		return;
	srv->done = NULL;
	sync_server_close_all(srv, "exit");
	workers_free(srv->workers);	/* frees the connections left */
	if (srv->tick != NULL)
		event_free(srv->tick);
	while (srv->nspare > 0)
		free(srv->spare[--srv->nspare]);
	free(srv);
}

/* New limits (SIGHUP): the connection limit holds for the next accept,
 * the idle timeout for connections accepted from now on (an open one
 * takes it up when it next streams an object). */
void
sync_server_set_opts(struct sync_server *srv,
    const struct sync_server_opts *opts)
{
	unsigned	nworkers = srv->opts.nworkers;	/* fixed at start */

	srv->opts = *opts;
	srv->opts.nworkers = nworkers;
	if (srv->opts.min_rate_window == 0) {
		srv->opts.min_rate = SYNC_MIN_RATE_DEFAULT;
		srv->opts.min_rate_window = SYNC_MIN_RATE_WINDOW;
	}
	sync_server_raise_nofile(srv->opts.max_connections);
}
