/*
 * delta.c owns the file delta codec (protocol/SPEC.md, "File deltas"):
 * cutting a target into segments, choosing each segment's base slice and
 * zstd parameters, and rebuilding and checking a target from a delta.
 *
 * Memory is bounded by the segment, not the file: one segment of the
 * target (read), one base slice (mapped, unmapped after the segment so its
 * pages leave our resident set), two candidate frames (given back after
 * the segment) and zstd's tables sized for a window of at most 64 MiB.
 * The parameters below are chosen for that bound; tests/bench/delta-mem.sh
 * measures it (under 100 MB to encode, 40 MB to decode).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "crypto.h"
#include "delta.h"
#include "error.h"
#include "fsutil.h"
#include "util.h"

/*
 * zstd levels by window (base slice plus segment), measured on this
 * machine (numbers in tests/bench/delta-mem.sh's report): up to 1 MiB,
 * level 19 (0.4 s for 480 KB of text against its old version); up to 8 MiB
 * level 12, up to 24 MiB level 9, beyond level 3, all three with
 * long-distance matching. Without it, levels 6 to 12 hardly find matches
 * in a slice of megabytes (zstd indexes only part of a large prefix for
 * them); with it a 2 MiB file against its 2 MiB base took 0.1 s at level
 * 12 and 0.7 to 3 s at level 19, for a delta as small (a rewritten random
 * region) to 20% larger (2000 words of text replaced). Beyond level 3 the time goes into indexing the
 * slice: a 16 MiB segment against a 48 MiB slice took 0.15 s at level 3,
 * 0.7 s at 6, 2 s at 9, and level 19 would need some 80 MB of tables.
 */
#define DELTA_SMALL		(1u << 20)
#define DELTA_MEDIUM		(8u << 20)
#define DELTA_LARGE		(24u << 20)
#define DELTA_LEVEL_SMALL	19
#define DELTA_LEVEL_MEDIUM	12
#define DELTA_LEVEL_LARGE	9
#define DELTA_LEVEL_PROBE	3
#define DELTA_PLAIN_TRY		(64u << 10)
#define DELTA_WINDOW_LOG_MIN	10	/* zstd's smallest window */

static uint32_t	delta_seg = DELTA_SEGMENT_MAX;
static uint32_t	delta_margin = DELTA_MARGIN;

void
delta_test_set_segment(uint32_t seg, uint32_t margin)
{
	delta_seg = seg != 0 ? seg : DELTA_SEGMENT_MAX;
	delta_margin = seg != 0 ? margin : DELTA_MARGIN;
}

static uint64_t
delta_slice_max(void)
{
	return (uint64_t)delta_seg + 2 * (uint64_t)delta_margin;
}

uint64_t
delta_size_bound(uint64_t target_size)
{
	uint64_t	full = target_size / delta_seg;
	uint64_t	rest = target_size % delta_seg;
	uint64_t	bound;

	bound = full * (DELTA_HEADER_MAX + ZSTD_compressBound(delta_seg));
	if (rest > 0)
		bound += DELTA_HEADER_MAX + ZSTD_compressBound((size_t)rest);
	return bound;
}

/* Appends v as an unsigned LEB128 number (7 bits a byte, low group
 * first, high bit set on all but the last) at p; returns its length. */
static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t	n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* The smallest log2 window (at least zstd's minimum) holding n bytes. */
static int
delta_window_log(uint64_t n)
{
	int	log = DELTA_WINDOW_LOG_MIN;

	while (log < 62 && ((uint64_t)1 << log) < n)
		log++;
	return log;
}

/*
 * The base slice segment i (target bytes [i*seg, ...)) is compressed
 * against: the whole base when it fits the slice budget, else a budget's
 * worth around the segment's own offset, moved to lie inside the base
 * (so a segment past the base's end gets the base's tail). Edits,
 * insertions and deletions shifting data by less than the margin stay in
 * reach; the choice is a function of sizes only, so output is
 * deterministic.
 */
static void
delta_base_slice(uint64_t i, uint64_t base_size, uint64_t *off, uint64_t *len)
{
	uint64_t	budget = delta_slice_max();
	uint64_t	at = i * delta_seg;

	if (base_size <= budget) {
		*off = 0;
		*len = base_size;
		return;
	}
	at = at > delta_margin ? at - delta_margin : 0;
	if (at > base_size - budget)
		at = base_size - budget;
	*off = at;
	*len = budget;
}

/* A read-only mapping of base[off, off + len), len > 0. */
struct delta_map {
	void	*addr;
	size_t	 maplen;
	const uint8_t *p;
};

static int
delta_map(struct delta_map *m, int fd, uint64_t off, uint64_t len,
    const char *what, struct error *err)
{
	uint64_t	pg = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t	start = off - off % pg;

	m->maplen = (size_t)(len + (off - start));
	m->addr = mmap(NULL, m->maplen, PROT_READ, MAP_PRIVATE, fd,
	    (off_t)start);
	if (m->addr == MAP_FAILED) {
		m->addr = NULL;
		return error_set(err, SATCHEL_ERR, "%s: mmap: %s", what,
		    strerror(errno));
	}
	m->p = (const uint8_t *)m->addr + (off - start);
	return 0;
}

static void
delta_unmap(struct delta_map *m)
{
	if (m->addr != NULL)
		munmap(m->addr, m->maplen);
	m->addr = NULL;
}

/* Reads exactly len bytes at offset off (pread; EINTR and short reads
 * handled; an early end of file is an error: the file changed). */
static int
delta_pread(int fd, void *buf, size_t len, uint64_t off, const char *what,
    struct error *err)
{
	uint8_t	*p = buf;
	ssize_t	 r;

	while (len > 0) {
		if ((r = pread(fd, p, len, (off_t)off)) == -1) {
			if (errno == EINTR)
				continue;
			return error_set(err, SATCHEL_ERR, "%s: read: %s", what,
			    strerror(errno));
		}
		if (r == 0)
			return error_set(err, SATCHEL_ERR,
			    "%s: ends early at byte %llu", what,
			    (unsigned long long)off);
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/*
 * The delta, read sequentially from its descriptor (a file or a pipe)
 * through a small buffer, never past its declared size: left counts the
 * bytes the parser has not taken yet, buffered or not.
 */
#define DELTA_IN_BUF	65536

struct delta_in {
	int		 fd;
	uint64_t	 left;
	size_t		 pos, len;
	uint8_t		 buf[DELTA_IN_BUF];
};

/* Refills the (empty) buffer; only called while left > 0. */
static int
delta_in_fill(struct delta_in *in, struct error *err)
{
	uint64_t	unread = in->left;
	size_t		want = sizeof in->buf;
	ssize_t		r;

	in->pos = in->len = 0;
	if (want > unread)
		want = (size_t)unread;
	while ((r = read(in->fd, in->buf, want)) == -1 && errno == EINTR)
		continue;
	if (r == -1)
		return error_set(err, SATCHEL_ERR, "delta: read: %s",
		    strerror(errno));
	if (r == 0)
		return error_set(err, SATCHEL_EINVALID, "delta: the file ends "
		    "%llu bytes before the delta's declared size",
		    (unsigned long long)unread);
	in->len = (size_t)r;
	return 0;
}

/* Takes n bytes (n <= left) into dst. */
static int
delta_in_take(struct delta_in *in, uint8_t *dst, size_t n, struct error *err)
{
	size_t	k;
	int	rc;

	while (n > 0) {
		if (in->pos == in->len && (rc = delta_in_fill(in, err)) != 0)
			return rc;
		k = in->len - in->pos < n ? in->len - in->pos : n;
		memcpy(dst, in->buf + in->pos, k);
		in->pos += k;
		in->left -= k;
		dst += k;
		n -= k;
	}
	return 0;
}

/*
 * One header number: canonical LEB128 (at most 10 bytes, no value above
 * 2^64 - 1, no trailing zero group), so each number has one encoding.
 * Returns 0, a negative error code, or 1 with *why set to what was wrong.
 */
static int
delta_in_varint(struct delta_in *in, uint64_t *v, const char **why,
    struct error *err)
{
	uint8_t	b;
	int	i, rc;

	*v = 0;
	for (i = 0; i < 10; i++) {
		if (in->left == 0) {
			*why = "the delta ends inside a segment header";
			return 1;
		}
		if ((rc = delta_in_take(in, &b, 1, err)) != 0)
			return rc;
		if (i == 9 && b > 1)
			break;
		*v |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			if (b == 0 && i > 0) {
				*why = "a header number not in its shortest "
				    "form";
				return 1;
			}
			return 0;
		}
	}
	*why = "a header number above 2^64 - 1";
	return 1;
}

/* The file at fd holds at least size bytes, so mapping them cannot fault. */
static int
delta_check_size(int fd, uint64_t size, const char *what, struct error *err)
{
	struct stat	sb;

	if (size == 0)
		return 0;		/* never read: fd may be -1 */
	if (fstat(fd, &sb) == -1)
		return error_set(err, SATCHEL_ERR, "%s: fstat: %s", what,
		    strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return error_set(err, SATCHEL_ERR, "%s: not a regular file",
		    what);
	if ((uint64_t)sb.st_size < size)
		return error_set(err, SATCHEL_ERR,
		    "%s: %llu bytes, not the %llu expected", what,
		    (unsigned long long)sb.st_size, (unsigned long long)size);
	return 0;
}

/*
 * One zstd frame of src (n bytes, declaring its size) into dst (capacity
 * ZSTD_compressBound(n)), with prefix (plen bytes, may be 0) as its
 * prefix. The window reaches the whole prefix; long-distance matching
 * finds long runs shared with a large prefix cheaply.
 */
static size_t
delta_compress(ZSTD_CCtx *cctx, void *dst, size_t cap, const void *src,
    size_t n, const void *prefix, size_t plen, int level, int ldm)
{
	size_t	r;

	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog,
		    delta_window_log((uint64_t)plen + n));
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx,
		    ZSTD_c_enableLongDistanceMatching, ldm);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
	if (!ZSTD_isError(r) && plen > 0)
		r = ZSTD_CCtx_refPrefix(cctx, prefix, plen);
	if (!ZSTD_isError(r))
		r = ZSTD_compress2(cctx, dst, cap, src, n);
	return r;
}

/*
 * The candidate frames of one segment, compressed into two buffers in
 * turn: the best so far stays in one while the next try goes into the
 * other.
 */
struct delta_try {
	ZSTD_CCtx	*cctx;
	const uint8_t	*tgt;
	size_t		 n, cap;
	uint8_t		*z[2];
	int		 best;		/* index into z, -1: none yet */
	size_t		 bestlen;
	int		 prefix;	/* the best one used the slice */
};

/* Compresses a candidate; it replaces the best if smaller, or as small
 * and plain (its decoder need not read the base). */
static size_t
delta_try(struct delta_try *t, const uint8_t *slice, size_t plen, int level,
    int ldm)
{
	int	into = t->best == 0 ? 1 : 0;
	size_t	r;

	r = delta_compress(t->cctx, t->z[into], t->cap, t->tgt, t->n, slice,
	    plen, level, ldm);
	if (!ZSTD_isError(r) && (t->best == -1 || r < t->bestlen ||
	    (r == t->bestlen && plen == 0))) {
		t->best = into;
		t->bestlen = r;
		t->prefix = plen > 0;
	}
	return r;
}

/*
 * The frame buffers are anonymous mappings, not malloc'd, so that their
 * pages can be given back after each segment: a segment that compresses
 * badly touches 16 MiB of each, and they must not stay resident while the
 * next segment's slice is.
 */
static uint8_t *
delta_anon(size_t len)
{
	void	*p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap %zu bytes: %s", len, strerror(errno));
	return p;
}

/* The slice's pages leave our resident set (they are the page cache's,
 * and come back from it if touched again). */
static void
delta_map_drop(struct delta_map *m)
{
	if (m->addr != NULL)
		madvise(m->addr, m->maplen, MADV_DONTNEED);
}

/*
 * Encodes one segment (t->tgt, t->n bytes) against the slice mapped in m
 * (plen bytes; 0: none). A quick probe (level 3 with long-distance
 * matching, about 1% of level 19's time) tells a segment the base does
 * not help and that hardly compresses (a replaced photo): it gets the
 * smaller of that and a plain level 3 frame, not seconds of level 19.
 * Otherwise the level of its window's class (above); then a plain frame
 * too if the segment is at most 64 KiB (cheap) or the slice frame is more
 * than half the segment. Plain tries come last, after the slice's pages
 * are dropped, so the slice and two frame buffers of 16 MiB are never
 * resident at once.
 */
static int
delta_encode_segment(struct delta_try *t, struct delta_map *m, size_t plen,
    uint64_t segno, struct error *err)
{
	uint64_t	window = (uint64_t)plen + t->n;
	size_t		r;
	int		level, ldm;

	t->best = -1;
	if (window <= DELTA_SMALL) {
		level = DELTA_LEVEL_SMALL;
		ldm = 0;
	} else if (window <= DELTA_MEDIUM) {
		level = DELTA_LEVEL_MEDIUM;
		ldm = 1;
	} else if (window <= DELTA_LARGE) {
		level = DELTA_LEVEL_LARGE;
		ldm = 1;
	} else {
		level = DELTA_LEVEL_PROBE;
		ldm = 1;
	}
	if (plen == 0) {
		r = delta_try(t, NULL, 0, level, 0);
		goto done;
	}
	r = delta_try(t, m->p, plen, DELTA_LEVEL_PROBE, 1);
	if (ZSTD_isError(r))
		goto done;
	if (r >= t->n - t->n / 64) {
		delta_map_drop(m);
		r = delta_try(t, NULL, 0, DELTA_LEVEL_PROBE, 0);
		goto done;
	}
	if (window > DELTA_LARGE)
		goto done;			/* the probe was the answer */
	/* The probe stays a candidate: the smallest of all tries wins. */
	if (ZSTD_isError(r = delta_try(t, m->p, plen, level, ldm)))
		goto done;
	if (t->n <= DELTA_PLAIN_TRY || t->bestlen > t->n / 2) {
		delta_map_drop(m);
		r = delta_try(t, NULL, 0, level, 0);
	}
done:
	if (ZSTD_isError(r))
		return error_set(err, SATCHEL_ERR, "delta: segment %llu: "
		    "zstd: %s", (unsigned long long)segno,
		    ZSTD_getErrorName(r));
	return 0;
}

int
delta_encode(int base_fd, uint64_t base_size, int target_fd,
    uint64_t target_size, int out_fd, struct error *err)
{
	struct delta_try t = { 0 };
	struct delta_map map = { NULL, 0, NULL };
	uint8_t		*tgt = NULL;
	uint8_t		 hdr[DELTA_HEADER_MAX];
	const uint8_t	*frame = NULL;
	uint64_t	 i, at, off, plen;
	size_t		 n, cap, flen = 0, hlen;
	int		 rc, used = 0;

	if ((rc = delta_check_size(base_fd, base_size, "delta: base",
	    err)) != 0 ||
	    (rc = delta_check_size(target_fd, target_size, "delta: target",
	    err)) != 0)
		return rc;
	if (target_size == 0)
		return 0;
	if ((t.cctx = ZSTD_createCCtx()) == NULL)
		fatal("ZSTD_createCCtx: out of memory");
	n = target_size < delta_seg ? (size_t)target_size : delta_seg;
	cap = ZSTD_compressBound(n);
	tgt = xmalloc(n);
	t.z[0] = delta_anon(cap);
	t.z[1] = delta_anon(cap);
	for (i = 0, at = 0; at < target_size; i++, at += n) {
		n = target_size - at < delta_seg ? (size_t)(target_size - at) :
		    delta_seg;
		if ((rc = delta_pread(target_fd, tgt, n, at, "delta: target",
		    err)) != 0)
			goto out;
		delta_base_slice(i, base_size, &off, &plen);
		if (plen > 0 && (rc = delta_map(&map, base_fd, off, plen,
		    "delta: base", err)) != 0)
			goto out;
		t.tgt = tgt;
		t.n = n;
		t.cap = ZSTD_compressBound(n);
		rc = delta_encode_segment(&t, &map, (size_t)plen, i, err);
		delta_unmap(&map);
		if (rc != 0)
			goto out;
		used = t.prefix;
		frame = t.z[t.best];
		flen = t.bestlen;
		hlen = put_varint(hdr, used ? off : 0);
		hlen += put_varint(hdr + hlen, used ? plen : 0);
		hlen += put_varint(hdr + hlen, flen);
		if ((rc = write_all(out_fd, hdr, hlen, "delta: output",
		    err)) != 0 ||
		    (rc = write_all(out_fd, frame, flen, "delta: output",
		    err)) != 0)
			goto out;
		madvise(t.z[0], cap, MADV_DONTNEED);
		madvise(t.z[1], cap, MADV_DONTNEED);
	}
	rc = 0;
out:
	delta_unmap(&map);
	free(tgt);
	if (t.z[0] != NULL)
		munmap(t.z[0], cap);
	if (t.z[1] != NULL)
		munmap(t.z[1], cap);
	ZSTD_freeCCtx(t.cctx);		/* NULL-safe */
	return rc;
}

/* Fails segment i of the decode with SATCHEL_EINVALID and a message. */
#define DELTA_BAD(...) do {						\
	rc = error_set(err, SATCHEL_EINVALID, "delta: segment %llu: "	\
	    __VA_ARGS__);						\
	goto out;							\
} while (0)

int
delta_decode(int base_fd, uint64_t base_size, int delta_fd,
    uint64_t delta_size, uint64_t expect_size, const uint8_t expect_sha[32],
    int out_fd, struct error *err)
{
	ZSTD_DCtx		*dctx = NULL;
	struct sha256_ctx	*ctx = NULL;
	struct delta_in		*in = NULL;
	struct delta_map	 map = { NULL, 0, NULL };
	uint8_t			*frame = NULL, *dst = NULL;
	uint8_t			 digest[SHA256_LEN];
	uint64_t		 done = 0, off, plen, zlen64;
	unsigned long long	 i, csize;
	const char		*why;
	size_t			 zlen, want, got, fcap = 0;
	int			 rc;

	if ((rc = delta_check_size(base_fd, base_size, "delta: base",
	    err)) != 0)
		return rc;
	if (delta_size > delta_size_bound(expect_size))
		return error_set(err, SATCHEL_EINVALID, "delta: %llu bytes, "
		    "more than the %llu a target of %llu bytes may take",
		    (unsigned long long)delta_size,
		    (unsigned long long)delta_size_bound(expect_size),
		    (unsigned long long)expect_size);
	if ((dctx = ZSTD_createDCtx()) == NULL)
		fatal("ZSTD_createDCtx: out of memory");
	if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax,
	    DELTA_WINDOW_LOG_MAX)))
		fatal("ZSTD_d_windowLogMax: refused");
	ctx = sha256_new();
	in = xcalloc(1, sizeof *in);
	in->fd = delta_fd;
	in->left = delta_size;
	dst = xmalloc(expect_size < delta_seg ? (size_t)expect_size + 1 :
	    delta_seg);
	for (i = 0; in->left > 0; i++) {
		if (done == expect_size)
			DELTA_BAD("%llu bytes after the whole target", i,
			    (unsigned long long)in->left);
		if ((rc = delta_in_varint(in, &off, &why, err)) == 0)
			rc = delta_in_varint(in, &plen, &why, err);
		if (rc == 0)
			rc = delta_in_varint(in, &zlen64, &why, err);
		if (rc < 0)
			goto out;
		if (rc > 0)
			DELTA_BAD("%s", i, why);
		want = expect_size - done < delta_seg ?
		    (size_t)(expect_size - done) : delta_seg;
		if (plen == 0 && off != 0)
			DELTA_BAD("base offset %llu with no base length", i,
			    (unsigned long long)off);
		if (plen > delta_slice_max() || off > base_size ||
		    plen > base_size - off)
			DELTA_BAD("base range %llu+%llu outside the base of "
			    "%llu bytes (or longer than %llu)", i,
			    (unsigned long long)off, (unsigned long long)plen,
			    (unsigned long long)base_size,
			    (unsigned long long)delta_slice_max());
		if (zlen64 == 0 || zlen64 > ZSTD_compressBound(want))
			DELTA_BAD("frame length %llu, not 1 to %zu", i,
			    (unsigned long long)zlen64,
			    ZSTD_compressBound(want));
		if (zlen64 > in->left)
			DELTA_BAD("frame of %llu bytes but only %llu left", i,
			    (unsigned long long)zlen64,
			    (unsigned long long)in->left);
		zlen = (size_t)zlen64;
		if (zlen > fcap) {
			free(frame);
			fcap = zlen;
			frame = xmalloc(fcap);
		}
		if ((rc = delta_in_take(in, frame, zlen, err)) != 0)
			goto out;

		csize = ZSTD_getFrameContentSize(frame, zlen);
		if (csize == ZSTD_CONTENTSIZE_ERROR)
			DELTA_BAD("not a zstd frame", i);
		if (csize == ZSTD_CONTENTSIZE_UNKNOWN)
			DELTA_BAD("zstd frame declares no content size", i);
		if (csize != want)
			DELTA_BAD("zstd frame declares %llu bytes, not the "
			    "segment's %zu", i, csize, want);
		if (ZSTD_findFrameCompressedSize(frame, zlen) != zlen)
			DELTA_BAD("not exactly one zstd frame of %zu bytes", i,
			    zlen);
		if (plen > 0) {
			if ((rc = delta_map(&map, base_fd, off, plen,
			    "delta: base", err)) != 0)
				goto out;
			got = ZSTD_DCtx_refPrefix(dctx, map.p, (size_t)plen);
			if (ZSTD_isError(got))
				fatal("ZSTD_DCtx_refPrefix: %s",
				    ZSTD_getErrorName(got));
		}
		got = ZSTD_decompressDCtx(dctx, dst, want, frame, zlen);
		delta_unmap(&map);
		if (ZSTD_isError(got) || got != want)
			DELTA_BAD("zstd: %s", i, ZSTD_isError(got) ?
			    ZSTD_getErrorName(got) : "not its declared size");
		sha256_update(ctx, dst, want);
		if ((rc = write_all(out_fd, dst, want, "delta: output",
		    err)) != 0)
			goto out;
		done += want;
	}
	if (done != expect_size) {
		rc = error_set(err, SATCHEL_EINVALID, "delta: ends after %llu "
		    "of the target's %llu bytes", (unsigned long long)done,
		    (unsigned long long)expect_size);
		goto out;
	}
	sha256_final(ctx, digest);
	if (memcmp(digest, expect_sha, SHA256_LEN) != 0) {
		rc = error_set(err, SATCHEL_EVERIFY, "delta: the rebuilt "
		    "%llu bytes do not hash to the expected SHA-256",
		    (unsigned long long)expect_size);
		goto out;
	}
	rc = 0;
out:
	delta_unmap(&map);
	free(in);
	free(frame);
	free(dst);
	sha256_free(ctx);
	ZSTD_freeDCtx(dctx);		/* NULL-safe; a failed frame's prefix
					 * goes with it */
	return rc;
}

int
delta_encode_buf(const void *base, size_t blen, const void *target,
    size_t tlen, struct buf *out, struct error *err)
{
	ZSTD_CCtx	*cctx;
	size_t		 cap = ZSTD_compressBound(tlen), r;

	if ((cctx = ZSTD_createCCtx()) == NULL)
		fatal("ZSTD_createCCtx: out of memory");
	buf_reserve(out, cap);
	r = delta_compress(cctx, out->data + out->len, cap, target, tlen,
	    base, blen, DELTA_LEVEL_SMALL, 0);
	ZSTD_freeCCtx(cctx);
	if (ZSTD_isError(r))
		return error_set(err, SATCHEL_ERR, "delta: zstd: %s",
		    ZSTD_getErrorName(r));
	out->len += r;
	return 0;
}

int
delta_decode_buf(const void *base, size_t blen, const void *delta,
    size_t dlen, size_t max, char **out, size_t *outlen, struct error *err)
{
	ZSTD_DCtx		*dctx;
	unsigned long long	 csize;
	char			*dst = NULL;
	size_t			 r;
	int			 rc = 0;

	csize = ZSTD_getFrameContentSize(delta, dlen);
	if (csize == ZSTD_CONTENTSIZE_ERROR)
		return error_set(err, SATCHEL_EINVALID,
		    "delta: not a zstd frame");
	if (csize == ZSTD_CONTENTSIZE_UNKNOWN)
		return error_set(err, SATCHEL_EINVALID,
		    "delta: zstd frame declares no content size");
	if (csize > max)
		return error_set(err, SATCHEL_EINVALID, "delta: zstd frame "
		    "declares %llu bytes, more than %zu", csize, max);
	if (ZSTD_findFrameCompressedSize(delta, dlen) != dlen)
		return error_set(err, SATCHEL_EINVALID,
		    "delta: not exactly one zstd frame of %zu bytes", dlen);
	if ((dctx = ZSTD_createDCtx()) == NULL)
		fatal("ZSTD_createDCtx: out of memory");
	r = ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax,
	    delta_window_log((uint64_t)blen + csize));
	if (!ZSTD_isError(r) && blen > 0)
		r = ZSTD_DCtx_refPrefix(dctx, base, blen);
	dst = xmalloc((size_t)csize + 1);
	if (!ZSTD_isError(r))
		r = ZSTD_decompressDCtx(dctx, dst, (size_t)csize, delta, dlen);
	ZSTD_freeDCtx(dctx);
	if (ZSTD_isError(r) || r != csize) {
		rc = error_set(err, SATCHEL_EINVALID, "delta: zstd: %s",
		    ZSTD_isError(r) ? ZSTD_getErrorName(r) :
		    "not its declared size");
		free(dst);
		return rc;
	}
	dst[csize] = '\0';
	*out = dst;			/* ownership moved to the caller */
	*outlen = (size_t)csize;
	return 0;
}
