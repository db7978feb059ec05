/*
 * sync-publish.c owns a release on its way in over the sync protocol
 * (protocol/SPEC.md §11 "Publishing"): the signed manifest reassembled
 * from PUBLISH pieces, the refusal before content (store_publish_check
 * against a fresh look at the store's trust policy and catalog), the
 * need list, each PUBLISH_OBJECT chunk unpacked, counted against the
 * manifest's size and hashed into tmp/publish-XXXXXX/, and the landing,
 * which is lib/store.c's (store_publish_staged), the same as a local
 * `satchel publish`.
 *
 * Decisions:
 * - Nothing is staged before the manifest passed every check; a publish
 *   freed before it landed removes its staging directory, so a cut
 *   connection leaves the store as it was.
 * - Empty files are never asked for: their digest must be that of no
 *   bytes, and they are made in the staging directory at once.
 * - Blocking work: each chunk is hashed and written as it arrives (at
 *   most 2 MiB), which is short and stays on the event loop. The two
 *   long steps, acceptance (signature checks, a stat() per file) and the
 *   landing (waiting for the store's lock, fsync/syncfs, a rename per
 *   object), run on a worker thread (sync_publish_run); a pipe wakes the
 *   loop when it is done. While it runs the loop does not touch the
 *   publish; freeing it then waits for the thread (rare: the connection
 *   failed meanwhile, or the daemon exits).
 */
#include <sys/stat.h>

#include <pthread.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <zstd.h>

#include "bundle.h"
#include "crypto.h"
#include "error.h"
#include "fsutil.h"
#include "msg.h"
#include "store.h"
#include "store-delta.h"
#include "sync-publish.h"
#include "util.h"

/* Object bytes one PUBLISH_OBJECT chunk may decompress to. */
#define SYNC_PUBLISH_PIECE_MAX	(2u << 20)

struct need {
	uint8_t		 sha[MSG_HASH_LEN];
	uint64_t	 size;
	const char	*path;		/* the manifest's, for messages */
	size_t		 idx;		/* its place in the manifest */
};

struct sync_publish {
	char			*storedir;
	char			*peer;
	/* the signed manifest, while its pieces arrive */
	char			*buf;
	uint64_t		 total, got;
	/* once accepted */
	int			 accepted;
	struct bundle_head	 head;
	char			 what[160];	/* NAME@SERIAL */
	char			*stagedir;
	struct need		*need;
	uint8_t			(*hashes)[MSG_HASH_LEN];
	uint32_t		 nneed;
	size_t			 files_new, files_present;
	uint64_t		 bytes_new, bytes_present;
	/* the object being received: need[cur] */
	uint32_t		 cur;
	uint64_t		 pos;
	int			 fd;
	char			*curpath;
	struct sha256_ctx	*ctx;
	ZSTD_DCtx		*dctx;
	uint8_t			*piece;
	/* the step on the worker thread */
	int			 running;
	int			 step;		/* SYNC_PUBLISH_ACCEPT, _LAND */
	pthread_t		 th;
	int			 wake[2];	/* the thread writes one byte */
	struct event		*ev;
	sync_publish_cb		 cb;
	void			*cbarg;
	int			 rc;		/* the step's result */
	struct error		 err;
	uint64_t		 catalog_serial;
	char			*summary;
};

static int	publish_accept(struct sync_publish *, uint64_t *, struct error *);
static int	publish_land(struct sync_publish *, uint64_t *, char **,
		    struct error *);

struct sync_publish *
sync_publish_new(const char *storedir, const char *peer)
{
	struct sync_publish	*p = xcalloc(1, sizeof *p);

	p->storedir = xstrdup(storedir);
	p->peer = xstrdup(peer);
	p->fd = -1;
	p->wake[0] = p->wake[1] = -1;
	return p;
}

/* Waits for a running step: used only when the publish must go now. */
static void
publish_join(struct sync_publish *p)
{
	if (p->running) {
		pthread_join(p->th, NULL);
		p->running = 0;
	}
	if (p->ev != NULL)
		event_free(p->ev);
	p->ev = NULL;
	if (p->wake[0] != -1)
		close(p->wake[0]);
	if (p->wake[1] != -1)
		close(p->wake[1]);
	p->wake[0] = p->wake[1] = -1;
}

void
sync_publish_free(struct sync_publish *p)
{
	if (p == NULL)
		return;
	publish_join(p);
	free(p->summary);
	if (p->fd != -1)
		close(p->fd);
	store_stage_remove(p->stagedir);	/* NULL-safe */
	free(p->stagedir);
	free(p->curpath);
	sha256_free(p->ctx);
	ZSTD_freeDCtx(p->dctx);
	free(p->piece);
	free(p->need);
	free(p->hashes);
	bundle_head_free(&p->head);
	free(p->buf);
	free(p->storedir);
	free(p->peer);
	free(p);
}

int
sync_publish_accepted(const struct sync_publish *p)
{
	return p->accepted;
}

void
sync_publish_need(const struct sync_publish *p,
    const uint8_t (**hashes)[MSG_HASH_LEN], uint32_t *n)
{
	*hashes = (const uint8_t (*)[MSG_HASH_LEN])p->hashes;
	*n = p->nneed;
}

static int
need_cmp(const void *a, const void *b)
{
	const struct need	*x = a, *y = b;
	int			 c = memcmp(x->sha, y->sha, MSG_HASH_LEN);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int
need_order(const void *a, const void *b)
{
	const struct need	*x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Why: the list is what the publisher must send, so it holds each
 * missing digest once, in manifest order (the order the client reads its
 * archive in): sorting by (digest, place) finds the repeats and keeps
 * each digest's first file, sorting by place restores the order.
 */
static int
publish_make_need(struct sync_publish *p, const struct store *s,
    struct error *err)
{
	const struct manifest	*m = p->head.manifest;
	static const uint8_t	 empty_sha[SHA256_LEN] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
		0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
		0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
		0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
	};
	struct stat		 sb;
	size_t			 i, n = 0, k;
	char			*path, hex[SHA256_HEX_LEN + 1];
	int			 fd, rc = 0;

	p->need = xreallocarray(NULL, m->nfiles ? m->nfiles : 1,
	    sizeof *p->need);
	for (i = 0; i < m->nfiles; i++) {
		const struct manifest_file	*f = &m->files[i];

		path = store_object_path(s, f->sha256);
		if (stat(path, &sb) == 0) {
			p->files_present++;
			p->bytes_present += f->size;
			free(path);
			continue;
		}
		free(path);
		if (f->size == 0) {
			if (memcmp(f->sha256, empty_sha, SHA256_LEN) != 0)
				return error_set(err, SATCHEL_EVERIFY,
				    "%s: \"%s\" is empty but its digest is not "
				    "that of no bytes", p->what, f->path);
			hex_encode(hex, f->sha256, SHA256_LEN);
			path = xasprintf("%s/%s", p->stagedir, hex);
			fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
			if (fd == -1)
				rc = error_set(err, SATCHEL_ERR, "%s: %s", path,
				    strerror(errno));
			else
				close(fd);
			free(path);
			if (rc != 0)
				return rc;
			p->files_new++;
			continue;
		}
		memcpy(p->need[n].sha, f->sha256, MSG_HASH_LEN);
		p->need[n].size = f->size;
		p->need[n].path = f->path;
		p->need[n].idx = i;
		n++;
	}
	/* Each digest once, the first file that names it. */
	if (n > 1) {
		qsort(p->need, n, sizeof *p->need, need_cmp);
		for (i = 1, k = 1; i < n; i++) {
			if (memcmp(p->need[i].sha, p->need[k - 1].sha,
			    MSG_HASH_LEN) == 0) {
				p->files_present++;	/* sent once */
				continue;
			}
			p->need[k++] = p->need[i];
		}
		n = k;
		qsort(p->need, n, sizeof *p->need, need_order);
	}
	p->nneed = (uint32_t)n;
	p->hashes = xreallocarray(NULL, n ? n : 1, sizeof *p->hashes);
	for (i = 0; i < n; i++) {
		memcpy(p->hashes[i], p->need[i].sha, MSG_HASH_LEN);
		p->files_new++;
		p->bytes_new += p->need[i].size;
	}
	return 0;
}

/* Why a fresh look at the store: satcheld runs for months; the policy and
 * the catalog on disk are what a publish must be checked against. */
static int
publish_accept(struct sync_publish *p, uint64_t *catalog_serial,
    struct error *err)
{
	struct store	*s = NULL;
	int		 rc;

	if ((rc = store_open(&s, p->storedir, STORE_READ, err)) != 0)
		goto out;
	*catalog_serial = store_catalog(s) != NULL ? store_catalog(s)->serial :
	    0;
	if ((rc = store_signed_parse(p->buf, (size_t)p->total, "PUBLISH",
	    &p->head, err)) != 0) {
		rc = SYNC_PUBLISH_REFUSED;
		goto out;
	}
	snprintf(p->what, sizeof p->what, "%s@%llu", p->head.manifest->name,
	    (unsigned long long)p->head.manifest->serial);
	if ((rc = store_publish_check(s, &p->head, p->what, err)) != 0) {
		rc = SYNC_PUBLISH_REFUSED;
		goto out;
	}
	if ((rc = store_stage_new(s, &p->stagedir, err)) != 0)
		goto out;
	if ((rc = publish_make_need(p, s, err)) != 0) {
		if (rc == SATCHEL_EVERIFY)
			rc = SYNC_PUBLISH_REFUSED;
		goto out;
	}
	free(p->buf);
	p->buf = NULL;
	p->accepted = 1;
out:
	store_close(s);
	return rc;
}

int
sync_publish_piece(struct sync_publish *p, const struct msg_publish *m,
    struct error *err)
{
	if (p->buf == NULL) {
		if (m->offset != 0)
			return error_set(err, SATCHEL_EINVALID, "PUBLISH: the "
			    "first piece is at offset %llu, not 0",
			    (unsigned long long)m->offset);
		/* total was held to MANIFEST_MAX + 8192 by the decoder; the
		 * buffer grows with the bytes that really arrive, so a claim
		 * alone reserves nothing. */
		p->total = m->total;
	} else if (m->total != p->total || m->offset != p->got) {
		return error_set(err, SATCHEL_EINVALID, "PUBLISH: a piece of "
		    "%llu bytes at offset %llu where one of %llu bytes at "
		    "offset %llu was expected", (unsigned long long)m->total,
		    (unsigned long long)m->offset, (unsigned long long)p->total,
		    (unsigned long long)p->got);
	}
	p->buf = xrealloc(p->buf, (size_t)p->got + m->datalen + 1);
	memcpy(p->buf + p->got, m->data, m->datalen);
	p->got += m->datalen;
	if (p->got < p->total)
		return SYNC_PUBLISH_MORE;
	p->buf[p->total] = '\0';
	p->step = SYNC_PUBLISH_ACCEPT;
	return SYNC_PUBLISH_WORK;
}

/* The current object is whole: its digest decides. */
static int
publish_object_end(struct sync_publish *p, uint16_t *code, struct error *err)
{
	const struct need	*nd = &p->need[p->cur];
	uint8_t			 digest[SHA256_LEN];
	char			 hex[SHA256_HEX_LEN + 1];
	int			 rc = 0;

	sha256_final(p->ctx, digest);
	sha256_free(p->ctx);
	p->ctx = NULL;
	hex_encode(hex, nd->sha, SHA256_LEN);
	if (memcmp(digest, nd->sha, SHA256_LEN) != 0) {
		*code = MSG_ERR_REFUSED;
		return error_set(err, SATCHEL_EVERIFY, "%s: object %s (\"%s\") "
		    "from %s: its bytes do not match the signed manifest "
		    "(digest differs); nothing was stored", p->what, hex,
		    nd->path, p->peer);
	}
	if (close(p->fd) == -1) {
		*code = MSG_ERR_INTERNAL;
		rc = error_set(err, SATCHEL_ERR, "%s: %s", p->curpath,
		    strerror(errno));
	}
	p->fd = -1;
	p->cur++;
	p->pos = 0;
	return rc;
}

int
sync_publish_object(struct sync_publish *p, const struct msg_publish_object *m,
    uint16_t *code, struct error *err)
{
	const struct need	*nd;
	unsigned long long	 csize;
	char			 hex[SHA256_HEX_LEN + 1];
	size_t			 n;

	*code = MSG_ERR_PROTOCOL;
	if (p->cur >= p->nneed)
		return error_set(err, SATCHEL_EINVALID, "PUBLISH_OBJECT: every "
		    "needed object of %s was already sent", p->what);
	nd = &p->need[p->cur];
	hex_encode(hex, nd->sha, SHA256_LEN);
	if (memcmp(m->object, nd->sha, MSG_HASH_LEN) != 0) {
		char	got[SHA256_HEX_LEN + 1];

		hex_encode(got, m->object, SHA256_LEN);
		return error_set(err, SATCHEL_EINVALID, "PUBLISH_OBJECT: "
		    "object %s where %s was expected (the objects come in "
		    "PUBLISH_NEED's order)", got, hex);
	}
	if (m->offset != p->pos)
		return error_set(err, SATCHEL_EINVALID, "PUBLISH_OBJECT: object "
		    "%s at offset %llu where %llu was expected", hex,
		    (unsigned long long)m->offset, (unsigned long long)p->pos);
	/* Sizes come from the signed manifest: never take more. */
	csize = ZSTD_getFrameContentSize(m->chunk, m->chunklen);
	if (csize == ZSTD_CONTENTSIZE_ERROR || csize == ZSTD_CONTENTSIZE_UNKNOWN ||
	    csize == 0 || csize > SYNC_PUBLISH_PIECE_MAX)
		return error_set(err, SATCHEL_EINVALID, "PUBLISH_OBJECT: object "
		    "%s: a chunk without a valid zstd content size of 1 byte "
		    "to 2 MiB", hex);
	if (csize > nd->size - p->pos) {
		*code = MSG_ERR_REFUSED;
		return error_set(err, SATCHEL_EVERIFY, "%s: object %s (\"%s\") "
		    "from %s: more bytes than the %llu its manifest announces; "
		    "nothing was stored", p->what, hex, nd->path, p->peer,
		    (unsigned long long)nd->size);
	}
	if (p->dctx == NULL) {
		if ((p->dctx = ZSTD_createDCtx()) == NULL)
			fatal("ZSTD_createDCtx: out of memory");
		p->piece = xmalloc(SYNC_PUBLISH_PIECE_MAX);
	}
	n = ZSTD_decompressDCtx(p->dctx, p->piece, SYNC_PUBLISH_PIECE_MAX,
	    m->chunk, m->chunklen);
	if (ZSTD_isError(n) || n != csize)
		return error_set(err, SATCHEL_EINVALID, "PUBLISH_OBJECT: object "
		    "%s at offset %llu: %s", hex, (unsigned long long)p->pos,
		    ZSTD_isError(n) ? ZSTD_getErrorName(n) :
		    "not its declared size");
	if (p->fd == -1) {
		free(p->curpath);
		p->curpath = xasprintf("%s/%s", p->stagedir, hex);
		p->fd = open(p->curpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0444);
		if (p->fd == -1) {
			*code = MSG_ERR_INTERNAL;
			return error_set(err, SATCHEL_ERR, "%s: %s", p->curpath,
			    strerror(errno));
		}
		p->ctx = sha256_new();
	}
	sha256_update(p->ctx, p->piece, n);
	if (write_all(p->fd, p->piece, n, p->curpath, err) != 0) {
		*code = MSG_ERR_INTERNAL;
		return SATCHEL_ERR;
	}
	p->pos += n;
	if (p->pos == nd->size)
		return publish_object_end(p, code, err);
	return 0;
}

int
sync_publish_done(struct sync_publish *p, struct error *err)
{
	if (p->cur < p->nneed)
		return error_set(err, SATCHEL_EINVALID, "PUBLISH_DONE: %u of the "
		    "%u needed objects of %s were sent", p->cur, p->nneed,
		    p->what);
	p->step = SYNC_PUBLISH_LAND;
	return SYNC_PUBLISH_WORK;
}

static int
publish_land(struct sync_publish *p, uint64_t *catalog_serial, char **summary,
    struct error *err)
{
	struct store_delta_report	 drep;
	struct store			*s = NULL;
	struct error			 scratch;
	int				 rc;

	/* Waits for another writer (a local publish, a pull) to finish. */
	if ((rc = store_open(&s, p->storedir, STORE_WRITE, err)) != 0)
		goto out;
	rc = store_publish_staged(s, &p->head, p->stagedir, p->what,
	    (int64_t)time(NULL), 0, catalog_serial, err);
	if (rc == SATCHEL_EINVALID || rc == SATCHEL_EVERIFY) {
		/* e.g. another publish of this bundle landed meanwhile */
		*catalog_serial = store_catalog(s) != NULL ?
		    store_catalog(s)->serial : 0;
		rc = SYNC_PUBLISH_REFUSED;
		goto out;
	}
	if (rc != 0)
		goto out;
	*summary = xasprintf("published %s %s (serial %llu): %zu new files "
	    "(%llu bytes), %zu already present (%llu bytes); catalog serial "
	    "%llu", p->head.manifest->name, p->head.manifest->label,
	    (unsigned long long)p->head.manifest->serial, p->files_new,
	    (unsigned long long)p->bytes_new, p->files_present,
	    (unsigned long long)p->bytes_present,
	    (unsigned long long)*catalog_serial);
	/* As `satchel publish` does, before the answer: the deltas that
	 * mirrors of the previous release will ask for. A failure only
	 * leaves them to be made on request. */
	(void)store_delta_precompute(s, p->head.manifest->name,
	    p->head.manifest->serial, &drep, &scratch);
out:
	store_close(s);
	return rc;
}

static void *
publish_thread(void *arg)
{
	struct sync_publish	*p = arg;
	char			 one = 1;

	if (p->step == SYNC_PUBLISH_ACCEPT)
		p->rc = publish_accept(p, &p->catalog_serial, &p->err);
	else
		p->rc = publish_land(p, &p->catalog_serial, &p->summary,
		    &p->err);
	while (write(p->wake[1], &one, 1) == -1 && errno == EINTR)
		;
	return NULL;
}

/* On the loop: the step is done; hand its result to the connection. */
static void
publish_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sync_publish	*p = arg;

	(void)fd;
	(void)what;
	publish_join(p);
	p->cb(p->cbarg, p);
}

int
sync_publish_run(struct sync_publish *p, struct event_base *base,
    sync_publish_cb cb, void *arg)
{
	int	e;

	if (pipe2(p->wake, O_CLOEXEC) == -1)
		return -1;
	p->cb = cb;
	p->cbarg = arg;
	p->rc = 0;
	p->ev = event_new(base, p->wake[0], EV_READ, publish_wake_cb, p);
	if (p->ev == NULL || event_add(p->ev, NULL) == -1)
		fatal("event_new: out of memory");
	if ((e = pthread_create(&p->th, NULL, publish_thread, p)) != 0) {
		publish_join(p);
		errno = e;
		return -1;
	}
	p->running = 1;
	return 0;
}

int
sync_publish_busy(const struct sync_publish *p)
{
	return p != NULL && p->ev != NULL;
}

int
sync_publish_result(struct sync_publish *p, uint64_t *catalog_serial,
    const char **summary, const struct error **err)
{
	*catalog_serial = p->catalog_serial;
	*summary = p->summary;
	*err = &p->err;
	return p->rc;
}

int
sync_publish_step(const struct sync_publish *p)
{
	return p->step;
}
