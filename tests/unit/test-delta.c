/*
 * test-delta.c: the file delta codec (lib/delta.c). Round trips (encode,
 * decode, compare bytes; the decoder checks the hash) of the changes a
 * lesson's files go through: a text edit, a binary change in the middle,
 * an append, a truncation, a file grown tenfold, an emptied file, an empty
 * base, identical files, many segments with insertions and deletions (the
 * segment size lowered through the test hook), two real-size segments;
 * with sizes that a delta-less encoder could not reach. Then what the
 * decoder refuses: another base, every kind of corrupt delta, a wrong
 * size or hash; and the in-memory variants. Files are unlinked temporary
 * files, used through their descriptors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "crypto.h"
#include "delta.h"
#include "error.h"
#include "fsutil.h"
#include "util.h"

/* A seeded xorshift generator: random-looking, reproducible bytes. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint8_t *
random_bytes(size_t n, uint64_t seed)
{
	uint8_t		*p = xmalloc(n + 1);
	uint64_t	 s = seed * 0x9e3779b97f4a7c15ull + 1, v = 0;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			v = rng_next(&s);
		p[i] = (uint8_t)(v >> (i % 8 * 8));
	}
	return p;
}

static void
fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint8_t	*r = random_bytes(n, seed);

	memcpy(p, r, n);
	free(r);
}

/* English-looking HTML paragraphs, each line one paragraph. */
static char *
text_paragraphs(size_t npara, uint64_t seed, size_t *len)
{
	static const char *words[] = { "the", "lesson", "of", "water",
	    "cycle", "and", "rain", "falls", "from", "clouds", "into",
	    "rivers", "which", "flow", "to", "sea", "where", "sun", "warms",
	    "it", "again" };
	struct buf	 b;
	uint64_t	 s = seed + 7;
	size_t		 i, j;

	buf_init(&b);
	for (i = 0; i < npara; i++) {
		buf_addstr(&b, "<p>");
		for (j = 0; j < 60; j++) {
			buf_addstr(&b, words[rng_next(&s) % 21]);
			buf_addc(&b, j == 59 ? '.' : ' ');
		}
		buf_addstr(&b, "</p>\n");
	}
	return buf_detach(&b, len);
}

/* An unlinked temporary file holding data, at offset 0. */
static int
temp_fd(const void *data, size_t len)
{
	const char	*tmp = getenv("TMPDIR");
	char		 path[512];
	struct error	 err;
	int		 fd;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(path, sizeof path, "%s/test-delta.XXXXXX", tmp);
	if ((fd = mkstemp(path)) == -1)
		fail_msg("mkstemp %s: %s", path, strerror(errno));
	unlink(path);
	if (len > 0 && write_all(fd, data, len, path, &err) != 0)
		fail_msg("%s", err.msg);
	if (lseek(fd, 0, SEEK_SET) == -1)
		fail_msg("lseek: %s", strerror(errno));
	return fd;
}

/* What fd holds, from offset 0. */
static uint8_t *
fd_contents(int fd, size_t *len)
{
	off_t	 end = lseek(fd, 0, SEEK_END);
	uint8_t	*p;

	assert_true(end >= 0);
	p = xmalloc((size_t)end + 1);
	assert_int_equal(pread(fd, p, (size_t)end, 0), end);
	*len = (size_t)end;
	return p;
}

static uint8_t *
encode(const void *base, size_t blen, const void *tgt, size_t tlen,
    size_t *dlen)
{
	struct error	 err;
	uint8_t		*d;
	int		 bfd = temp_fd(base, blen), tfd = temp_fd(tgt, tlen);
	int		 ofd = temp_fd(NULL, 0);

	error_clear(&err);
	if (delta_encode(bfd, blen, tfd, tlen, ofd, &err) != 0)
		fail_msg("delta_encode: %s", err.msg);
	d = fd_contents(ofd, dlen);
	close(bfd);
	close(tfd);
	close(ofd);
	return d;
}

/* Decodes delta against base expecting size bytes hashing to sha; the
 * output in *out (may be NULL: dropped), the message in err. */
static int
decode_sha(const void *base, size_t blen, const void *delta, size_t dlen,
    uint64_t size, const uint8_t sha[SHA256_LEN], uint8_t **out,
    size_t *outlen, struct error *err)
{
	int	bfd = temp_fd(base, blen), dfd = temp_fd(delta, dlen);
	int	ofd = temp_fd(NULL, 0), rc;
	size_t	n;

	error_clear(err);
	rc = delta_decode(bfd, blen, dfd, dlen, size, sha, ofd, err);
	if (out != NULL)
		*out = fd_contents(ofd, outlen != NULL ? outlen : &n);
	close(bfd);
	close(dfd);
	close(ofd);
	return rc;
}

static int
decode(const void *base, size_t blen, const void *delta, size_t dlen,
    const void *tgt, size_t tlen, struct error *err)
{
	uint8_t	sha[SHA256_LEN];

	sha256(tgt, tlen, sha);
	return decode_sha(base, blen, delta, dlen, tlen, sha, NULL, NULL, err);
}

/* Encodes, checks the encoding is deterministic, decodes and compares;
 * returns the delta's size. */
static size_t
round_trip(const void *base, size_t blen, const void *tgt, size_t tlen)
{
	struct error	 err;
	uint8_t		 sha[SHA256_LEN], *d, *d2, *out;
	size_t		 dlen, dlen2, outlen;

	d = encode(base, blen, tgt, tlen, &dlen);
	d2 = encode(base, blen, tgt, tlen, &dlen2);
	assert_int_equal(dlen, dlen2);
	assert_memory_equal(d, d2, dlen);
	assert_true(dlen <= delta_size_bound(tlen));
	sha256(tgt, tlen, sha);
	if (decode_sha(base, blen, d, dlen, tlen, sha, &out, &outlen,
	    &err) != 0)
		fail_msg("delta_decode: %s", err.msg);
	assert_int_equal(outlen, tlen);
	if (tlen > 0)
		assert_memory_equal(out, tgt, tlen);
	free(d);
	free(d2);
	free(out);
	return dlen;
}

/* Plain zstd of data at level 19: what a delta must beat. */
static size_t
plain_size(const void *data, size_t len)
{
	size_t	 cap = ZSTD_compressBound(len);
	void	*z = xmalloc(cap);
	size_t	 n = ZSTD_compress(z, cap, data, len, 19);

	assert_false(ZSTD_isError(n));
	free(z);
	return n;
}

/* A segment header as the format writes it: three LEB128 numbers. */
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

static size_t
put_header(uint8_t *p, uint64_t off, uint64_t len, uint64_t zlen)
{
	size_t	n = put_varint(p, off);

	n += put_varint(p + n, len);
	return n + put_varint(p + n, zlen);
}

/* Parses the header at d[*at], moving *at past it (the test's own,
 * lenient reader). */
static void
get_header(const uint8_t *d, size_t dlen, size_t *at, uint64_t *v)
{
	int	k, sh;

	for (k = 0; k < 3; k++) {
		v[k] = 0;
		for (sh = 0; ; sh += 7) {
			assert_true(*at < dlen && sh < 64);
			v[k] |= (uint64_t)(d[*at] & 0x7f) << sh;
			if ((d[(*at)++] & 0x80) == 0)
				break;
		}
	}
}

static void
test_text_edit(void **state)
{
	char	*a, *b, *p;
	size_t	 alen, blen, plen, d;

	(void)state;
	a = text_paragraphs(30, 1, &alen);
	b = xmalloc(alen + 1000);
	p = text_paragraphs(1, 99, &plen);
	/* Paragraph 12 replaced by another. */
	{
		char	*s = a, *e;
		int	 i;

		for (i = 0; i < 12; i++)
			s = strchr(s, '\n') + 1;
		e = strchr(s, '\n') + 1;
		memcpy(b, a, (size_t)(s - a));
		memcpy(b + (s - a), p, plen);
		memcpy(b + (s - a) + plen, e, alen - (size_t)(e - a));
		blen = (size_t)(s - a) + plen + alen - (size_t)(e - a);
	}
	d = round_trip(a, alen, b, blen);
	/* The new paragraph compresses to some 150 bytes; the rest of the
	 * page must come from the base. */
	print_message("text edit: %zu bytes, delta %zu, plain %zu\n", blen, d,
	    plain_size(b, blen));
	assert_true(d < 400);
	assert_true(d * 5 < plain_size(b, blen));
	free(a);
	free(b);
	free(p);
}

static void
test_binary_middle(void **state)
{
	size_t	 n = 1 << 20, d;
	uint8_t	*a = random_bytes(n, 2), *b = xmalloc(n);

	(void)state;
	memcpy(b, a, n);
	fill_random(b + n / 2, 1024, 3);
	d = round_trip(a, n, b, n);
	print_message("1 KiB changed in 1 MiB: delta %zu\n", d);
	assert_true(d < 2048);
	free(a);
	free(b);
}

static void
test_append(void **state)
{
	size_t	 n = 256 << 10, d;
	uint8_t	*a = random_bytes(n, 4), *b = xmalloc(n + 10240);

	(void)state;
	memcpy(b, a, n);
	fill_random(b + n, 10240, 5);
	d = round_trip(a, n, b, n + 10240);
	assert_true(d < 10240 + 512);
	free(a);
	free(b);
}

static void
test_truncate(void **state)
{
	size_t	 n = 300 << 10, d;
	uint8_t	*a = random_bytes(n, 6);

	(void)state;
	d = round_trip(a, n, a, n / 3);
	assert_true(d < 256);
	free(a);
}

/* Ten copies of the base, each with a few bytes changed: a file grown
 * tenfold whose new parts resemble the old. */
static void
test_grown_tenfold(void **state)
{
	size_t	 n = 100 << 10, d, i;
	uint8_t	*a = random_bytes(n, 7), *b = xmalloc(10 * n);

	(void)state;
	for (i = 0; i < 10; i++) {
		memcpy(b + i * n, a, n);
		b[i * n + 5000 + i] ^= 0x55;
	}
	d = round_trip(a, n, b, 10 * n);
	print_message("grown tenfold to %zu: delta %zu\n", 10 * n, d);
	assert_true(d < 2048);
	free(a);
	free(b);
}

static void
test_emptied(void **state)
{
	size_t	 n = 64 << 10;
	uint8_t	*a = random_bytes(n, 8);

	(void)state;
	/* An empty target is a delta of no segments. */
	assert_int_equal(round_trip(a, n, "", 0), 0);
	assert_int_equal(round_trip("", 0, "", 0), 0);
	free(a);
}

static void
test_empty_base(void **state)
{
	char	*t;
	size_t	 tlen, d;

	(void)state;
	t = text_paragraphs(40, 9, &tlen);
	d = round_trip("", 0, t, tlen);
	/* No base: a plain frame, compressed. */
	assert_true(d < tlen / 3);
	free(t);
}

/* A photo replaced by an unrelated one: the base cannot help, so the
 * segment is a plain frame (its decoder reads no base), about the size of
 * the data. And a base of size 0 needs no descriptor. */
static void
test_unrelated(void **state)
{
	struct error	 err;
	uint8_t		*a = random_bytes(300000, 40), *b = random_bytes(400000, 41);
	uint8_t		*d, sha[SHA256_LEN];
	uint64_t	 h[3];
	size_t		 dlen, at = 0;
	int		 tfd, ofd, dfd;

	(void)state;
	d = encode(a, 300000, b, 400000, &dlen);
	get_header(d, dlen, &at, h);
	assert_int_equal(h[0], 0);
	assert_int_equal(h[1], 0);
	assert_int_equal(at + h[2], dlen);
	assert_true(dlen < 400000 + 100);
	assert_int_equal(round_trip(a, 300000, b, 400000), dlen);
	free(d);

	tfd = temp_fd(b, 400000);
	ofd = temp_fd(NULL, 0);
	assert_int_equal(delta_encode(-1, 0, tfd, 400000, ofd, &err), 0);
	d = fd_contents(ofd, &dlen);
	dfd = temp_fd(d, dlen);
	sha256(b, 400000, sha);
	assert_int_equal(ftruncate(ofd, 0), 0);
	assert_int_equal(lseek(ofd, 0, SEEK_SET), 0);
	assert_int_equal(delta_decode(-1, 0, dfd, dlen, 400000, sha, ofd,
	    &err), 0);
	close(tfd);
	close(ofd);
	close(dfd);
	free(d);
	free(a);
	free(b);
}

static void
test_identical(void **state)
{
	size_t	 n = 512 << 10, d;
	uint8_t	*a = random_bytes(n, 10);

	(void)state;
	d = round_trip(a, n, a, n);
	assert_true(d < 256);
	free(a);
}

/* The segment size lowered to 64 KiB (margin 64 KiB, so slices of 192
 * KiB out of a 1 MiB base): insertions and deletions shifting the rest,
 * edits here and there, and an append, over some 17 segments. */
static int
small_segments(void **state)
{
	(void)state;
	delta_test_set_segment(64 << 10, 64 << 10);
	return 0;
}

static int
normal_segments(void **state)
{
	(void)state;
	delta_test_set_segment(0, 0);
	return 0;
}

static void
test_many_segments(void **state)
{
	size_t	 n = 1 << 20, m = 0, d, dlen, at, i;
	uint8_t	*a = random_bytes(n, 11), *b = xmalloc(n + 65536), *dd;
	uint8_t	*ins = random_bytes(3000, 12);

	(void)state;
	memcpy(b, a, 300000);				/* same */
	m = 300000;
	memcpy(b + m, ins, 3000);			/* 3000 inserted */
	m += 3000;
	memcpy(b + m, a + 300000, 400000);
	m += 400000;
	memcpy(b + m, a + 720000, n - 720000);		/* 20000 deleted */
	m += n - 720000;
	b[100] ^= 1;					/* edits */
	b[500000] ^= 2;
	b[900000] ^= 4;
	fill_random(b + m, 40000, 13);			/* appended */
	m += 40000;
	d = round_trip(a, n, b, m);
	print_message("%zu segments: delta %zu\n", (m + 65535) / 65536, d);
	assert_true(d < 3000 + 40000 + 17 * 200);

	/* The segments are there, of the right sizes and slices. */
	dd = encode(a, n, b, m, &dlen);
	for (at = 0, i = 0; at < dlen; i++) {
		uint64_t	h[3];

		get_header(dd, dlen, &at, h);
		assert_true(h[1] <= 3 * 65536);
		assert_true(h[0] + h[1] <= n);
		assert_true(h[2] <= dlen - at);
		assert_int_equal(ZSTD_getFrameContentSize(dd + at, h[2]),
		    i * 65536 + 65536 <= m ? 65536 : m - i * 65536);
		at += h[2];
	}
	assert_int_equal(at, dlen);
	assert_int_equal(i, (m + 65535) / 65536);
	free(a);
	free(b);
	free(ins);
	free(dd);
}

/* Two segments of the real size (16 MiB and 4 MiB), a few edits. */
static void
test_real_segments(void **state)
{
	size_t	 n = 20 << 20, d;
	uint8_t	*a = random_bytes(n, 14), *b = xmalloc(n);

	(void)state;
	memcpy(b, a, n);
	fill_random(b + 1000, 500, 15);
	fill_random(b + (17 << 20), 500, 16);
	d = round_trip(a, n, b, n);
	print_message("20 MiB, 2 segments: delta %zu\n", d);
	assert_true(d < 8192);
	free(a);
	free(b);
}

/* A delta of a 256 KiB random file with a change, for the refusals:
 * one segment, its header (h: base offset, length, frame length) and its
 * frame. */
struct sample {
	uint8_t		*a, *b, *d, sha[SHA256_LEN];
	const uint8_t	*frame;
	uint64_t	 h[3];
	size_t		 n, dlen;
};

static void
sample_make(struct sample *s)
{
	size_t	at = 0;

	s->n = 256 << 10;
	s->a = random_bytes(s->n, 20);
	s->b = xmalloc(s->n);
	memcpy(s->b, s->a, s->n);
	fill_random(s->b + 1000, 2000, 21);
	sha256(s->b, s->n, s->sha);
	s->d = encode(s->a, s->n, s->b, s->n, &s->dlen);
	get_header(s->d, s->dlen, &at, s->h);
	s->frame = s->d + at;
	/* Against the whole base, and nothing after the frame. */
	assert_int_equal(s->h[0], 0);
	assert_int_equal(s->h[1], s->n);
	assert_int_equal(at + s->h[2], s->dlen);
	assert_true(s->dlen > 2000 && s->dlen < 2500);
}

static void
sample_free(struct sample *s)
{
	free(s->a);
	free(s->b);
	free(s->d);
}

/* Decoding (len bytes at d) against the sample's base must fail with
 * code and a message saying want (NULL: anything). */
static void
refused(struct sample *s, const uint8_t *d, size_t len, int code,
    const char *want)
{
	struct error	err;
	int		rc;

	rc = decode_sha(s->a, s->n, d, len, s->n, s->sha, NULL, NULL, &err);
	print_message("refused: %s\n", err.msg);
	assert_int_equal(rc, code);
	if (want != NULL && strstr(err.msg, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err.msg, want);
}

/* The sample's segment with another header: off, len, zlen. */
static size_t
reheader(struct sample *s, uint8_t *d, uint64_t off, uint64_t len,
    uint64_t zlen)
{
	size_t	n = put_header(d, off, len, zlen);

	memcpy(d + n, s->frame, s->h[2]);
	return n + s->h[2];
}

static void
test_refuse_other_base(void **state)
{
	struct sample	 s;
	struct error	 err;
	uint8_t		*other;
	int		 rc;

	(void)state;
	sample_make(&s);
	other = xmalloc(s.n);
	memcpy(other, s.a, s.n);
	other[100000] ^= 0xff;			/* one byte differs */
	rc = decode_sha(other, s.n, s.d, s.dlen, s.n, s.sha, NULL, NULL, &err);
	assert_int_equal(rc, SATCHEL_EVERIFY);
	fill_random(other, s.n, 22);		/* all of it */
	rc = decode_sha(other, s.n, s.d, s.dlen, s.n, s.sha, NULL, NULL, &err);
	assert_int_equal(rc, SATCHEL_EVERIFY);
	/* A shorter base: the segment's range falls outside it. */
	rc = decode_sha(s.a, s.n / 2, s.d, s.dlen, s.n, s.sha, NULL, NULL,
	    &err);
	assert_int_equal(rc, SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "outside the base"));
	free(other);
	sample_free(&s);
}

static void
test_refuse_corrupt(void **state)
{
	struct sample	 s;
	struct error	 err;
	uint8_t		*d;
	size_t		 z, len, hl;
	int		 rc;

	(void)state;
	sample_make(&s);
	d = xmalloc(2 * s.dlen + 64);
	z = s.h[2];
	hl = s.dlen - z;

	/* Truncated: in the frame, in the header, nothing at all. */
	refused(&s, s.d, s.dlen - 1, SATCHEL_EINVALID, "only");
	refused(&s, s.d, hl - 1, SATCHEL_EINVALID, "inside a segment header");
	refused(&s, s.d, 1, SATCHEL_EINVALID, "inside a segment header");
	refused(&s, s.d, 0, SATCHEL_EINVALID, "ends after 0");

	/* The frame length lying, up and down, or 0. */
	len = reheader(&s, d, 0, s.n, z + 1);
	refused(&s, d, len, SATCHEL_EINVALID, "only");
	d[len] = 'x';
	refused(&s, d, len + 1, SATCHEL_EINVALID, "one zstd frame");
	len = reheader(&s, d, 0, s.n, z - 1);
	refused(&s, d, len - 1, SATCHEL_EINVALID, "one zstd frame");
	refused(&s, d, len, SATCHEL_EINVALID, "one zstd frame");
	len = reheader(&s, d, 0, s.n, 0);
	refused(&s, d, len, SATCHEL_EINVALID, "frame length 0");
	len = reheader(&s, d, 0, s.n, UINT64_MAX);
	refused(&s, d, len, SATCHEL_EINVALID, "frame length");

	/* Header numbers not in the one encoding allowed. */
	memcpy(d, "\x80\x00", 2);		/* 0 in two bytes */
	memcpy(d + 2, s.d + 1, s.dlen - 1);
	refused(&s, d, s.dlen + 1, SATCHEL_EINVALID, "shortest form");
	memset(d, 0xff, 10);			/* 2^70 - 1 */
	d[9] = 0x7f;
	memcpy(d + 10, s.d + 1, s.dlen - 1);
	refused(&s, d, s.dlen + 9, SATCHEL_EINVALID, "above 2^64");
	memset(d, 0xff, 11);			/* eleven bytes */
	refused(&s, d, 11, SATCHEL_EINVALID, "above 2^64");

	/* The base range outside the base, or too long. */
	len = reheader(&s, d, 1, s.n, z);
	refused(&s, d, len, SATCHEL_EINVALID, "outside the base");
	len = reheader(&s, d, UINT64_MAX - 5, s.n, z);
	refused(&s, d, len, SATCHEL_EINVALID, "outside the base");
	len = reheader(&s, d, 0, UINT64_MAX, z);
	refused(&s, d, len, SATCHEL_EINVALID, "outside the base");
	len = reheader(&s, d, 0, s.n + 1, z);
	refused(&s, d, len, SATCHEL_EINVALID, "outside the base");
	/* An offset with no length. */
	len = reheader(&s, d, 1, 0, z);
	refused(&s, d, len, SATCHEL_EINVALID, "no base length");
	/* No base range: the frame needs the prefix it lost. */
	len = reheader(&s, d, 0, 0, z);
	refused(&s, d, len, SATCHEL_EINVALID, "zstd");
	/* A shorter range: the frame reaches before its start. */
	len = reheader(&s, d, 1000, s.n - 1000, z);
	rc = decode_sha(s.a, s.n, d, len, s.n, s.sha, NULL, NULL, &err);
	assert_true(rc == SATCHEL_EINVALID || rc == SATCHEL_EVERIFY);

	/* A flipped byte in the frame (its header, its middle). */
	memcpy(d, s.d, s.dlen);
	d[hl + 4] ^= 0x40;
	refused(&s, d, s.dlen, SATCHEL_EINVALID, NULL);
	memcpy(d, s.d, s.dlen);
	d[hl + z / 2] ^= 0x01;
	rc = decode_sha(s.a, s.n, d, s.dlen, s.n, s.sha, NULL, NULL, &err);
	assert_true(rc == SATCHEL_EINVALID || rc == SATCHEL_EVERIFY);

	/* Trailing garbage, and a whole extra segment. */
	memcpy(d, s.d, s.dlen);
	memcpy(d + s.dlen, "garbage", 7);
	refused(&s, d, s.dlen + 7, SATCHEL_EINVALID, "after the whole target");
	memcpy(d + s.dlen, s.d, s.dlen);
	refused(&s, d, 2 * s.dlen, SATCHEL_EINVALID, "after the whole target");
	free(d);

	/* Longer than any delta of the target may be. */
	d = xcalloc(1, delta_size_bound(s.n) + 1);
	memcpy(d, s.d, s.dlen);
	refused(&s, d, delta_size_bound(s.n) + 1, SATCHEL_EINVALID,
	    "more than");
	free(d);
	sample_free(&s);
}

/* Every byte of a small delta flipped in turn, and every length it can
 * be cut to: each is refused (none crashes, none gives other bytes). */
static void
test_refuse_every_flip(void **state)
{
	struct error	 err;
	char		*a, *b;
	uint8_t		*d, sha[SHA256_LEN], *out;
	size_t		 alen, blen, dlen, i, outlen;
	int		 rc;

	(void)state;
	a = text_paragraphs(20, 50, &alen);
	b = xmalloc(alen);
	memcpy(b, a, alen);
	memcpy(b + alen / 2, "<p>changed</p>", 14);
	blen = alen;
	sha256(b, blen, sha);
	d = encode(a, alen, b, blen, &dlen);
	assert_true(dlen > 20 && dlen < 200);
	for (i = 0; i < dlen; i++) {
		d[i] ^= 0xff;
		rc = decode_sha(a, alen, d, dlen, blen, sha, &out, &outlen,
		    &err);
		if (rc == 0)
			fail_msg("byte %zu flipped: accepted", i);
		assert_true(rc == SATCHEL_EINVALID || rc == SATCHEL_EVERIFY);
		free(out);
		d[i] ^= 0xff;
		rc = decode_sha(a, alen, d, i, blen, sha, NULL, NULL, &err);
		assert_int_equal(rc, SATCHEL_EINVALID);
	}
	assert_int_equal(decode(a, alen, d, dlen, b, blen, &err), 0);
	free(a);
	free(b);
	free(d);
}

/* A segment whose frame is well formed but declares no size, or the
 * wrong one: made by hand with zstd, with a plain header (0, 0, z). */
static void
test_refuse_frame_sizes(void **state)
{
	ZSTD_CCtx	*cctx = ZSTD_createCCtx();
	struct error	 err;
	uint8_t		*t = random_bytes(70000, 30), *d, *f, sha[SHA256_LEN];
	uint8_t		*zeros;
	size_t		 cap = ZSTD_compressBound(70000), z, hl;

	(void)state;
	d = xmalloc(DELTA_HEADER_MAX + cap);
	f = xmalloc(cap);

	/* No content size: streaming without a pledged size leaves it
	 * unknown. */
	sha256(t, 1000, sha);
	{
		ZSTD_outBuffer	o = { f, cap, 0 };
		ZSTD_inBuffer	i = { t, 1000, 0 };

		assert_false(ZSTD_isError(ZSTD_compressStream(cctx, &o, &i)));
		assert_int_equal(ZSTD_endStream(cctx, &o), 0);
		z = o.pos;
	}
	assert_int_equal(ZSTD_getFrameContentSize(f, z),
	    ZSTD_CONTENTSIZE_UNKNOWN);
	hl = put_header(d, 0, 0, z);
	memcpy(d + hl, f, z);
	assert_int_equal(decode_sha("", 0, d, hl + z, 1000, sha, NULL, NULL,
	    &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "declares no content size"));

	/* More than a segment (64 KiB here) in one frame. */
	delta_test_set_segment(64 << 10, 64 << 10);
	zeros = xcalloc(1, 70000);
	sha256(zeros, 70000, sha);
	z = ZSTD_compress(f, cap, zeros, 70000, 1);
	free(zeros);
	assert_false(ZSTD_isError(z));
	hl = put_header(d, 0, 0, z);
	memcpy(d + hl, f, z);
	assert_int_equal(decode_sha("", 0, d, hl + z, 70000, sha, NULL, NULL,
	    &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "declares 70000 bytes"));
	delta_test_set_segment(0, 0);

	/* Fewer bytes than the segment holds (a segment of 1000 for a
	 * target of 2000). */
	z = ZSTD_compress(f, cap, t, 1000, 1);
	assert_false(ZSTD_isError(z));
	hl = put_header(d, 0, 0, z);
	memcpy(d + hl, f, z);
	sha256(t, 2000, sha);
	assert_int_equal(decode_sha("", 0, d, hl + z, 2000, sha, NULL, NULL,
	    &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "declares 1000 bytes"));
	/* Not a zstd frame at all. */
	hl = put_header(d, 0, 0, 100);
	memset(d + hl, 'x', 100);
	assert_int_equal(decode_sha("", 0, d, hl + 100, 1000, sha, NULL, NULL,
	    &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "not a zstd frame"));
	ZSTD_freeCCtx(cctx);
	free(t);
	free(d);
	free(f);
}

/* The delta is read from its descriptor's offset and no further than
 * its size (it may sit inside a larger cache file or come down a pipe);
 * the output goes after what out_fd already holds. */
static void
test_descriptor_offsets(void **state)
{
	struct sample	 s;
	struct error	 err;
	uint8_t		*buf, *out;
	size_t		 outlen;
	int		 bfd, dfd, ofd, tfd, p[2];

	(void)state;
	sample_make(&s);
	buf = xmalloc(s.dlen + 8);
	memcpy(buf, "HEAD", 4);
	memcpy(buf + 4, s.d, s.dlen);
	memcpy(buf + 4 + s.dlen, "TAIL", 4);
	bfd = temp_fd(s.a, s.n);
	dfd = temp_fd(buf, s.dlen + 8);
	ofd = temp_fd("out:", 4);
	assert_int_equal(lseek(dfd, 4, SEEK_SET), 4);
	assert_int_equal(lseek(ofd, 4, SEEK_SET), 4);
	assert_int_equal(delta_decode(bfd, s.n, dfd, s.dlen, s.n, s.sha, ofd,
	    &err), 0);
	assert_int_equal(lseek(dfd, 0, SEEK_CUR), 4 + s.dlen);
	out = fd_contents(ofd, &outlen);
	assert_int_equal(outlen, 4 + s.n);
	assert_memory_equal(out, "out:", 4);
	assert_memory_equal(out + 4, s.b, s.n);
	free(out);

	/* Down a pipe (the sample's delta fits its buffer). */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], s.d, s.dlen), s.dlen);
	close(p[1]);
	assert_int_equal(ftruncate(ofd, 0), 0);
	assert_int_equal(lseek(ofd, 0, SEEK_SET), 0);
	assert_int_equal(delta_decode(bfd, s.n, p[0], s.dlen, s.n, s.sha, ofd,
	    &err), 0);
	close(p[0]);

	/* The encoder writes from out_fd's offset too. */
	tfd = temp_fd(s.b, s.n);
	assert_int_equal(lseek(ofd, 0, SEEK_END), (off_t)s.n);
	assert_int_equal(delta_encode(bfd, s.n, tfd, s.n, ofd, &err), 0);
	out = fd_contents(ofd, &outlen);
	assert_int_equal(outlen, s.n + s.dlen);
	assert_memory_equal(out, s.b, s.n);
	assert_memory_equal(out + s.n, s.d, s.dlen);
	free(out);
	close(bfd);
	close(dfd);
	close(ofd);
	close(tfd);
	free(buf);
	sample_free(&s);
}

static void
test_refuse_size_sha(void **state)
{
	struct sample	 s;
	struct error	 err;
	uint8_t		 sha[SHA256_LEN];
	int		 rc;

	(void)state;
	sample_make(&s);
	rc = decode_sha(s.a, s.n, s.d, s.dlen, s.n + 1, s.sha, NULL, NULL,
	    &err);
	assert_int_equal(rc, SATCHEL_EINVALID);
	rc = decode_sha(s.a, s.n, s.d, s.dlen, s.n - 1, s.sha, NULL, NULL,
	    &err);
	assert_int_equal(rc, SATCHEL_EINVALID);
	rc = decode_sha(s.a, s.n, s.d, s.dlen, 0, s.sha, NULL, NULL, &err);
	assert_int_equal(rc, SATCHEL_EINVALID);
	memcpy(sha, s.sha, sizeof sha);
	sha[31] ^= 1;
	rc = decode_sha(s.a, s.n, s.d, s.dlen, s.n, sha, NULL, NULL, &err);
	assert_int_equal(rc, SATCHEL_EVERIFY);
	assert_non_null(strstr(err.msg, "SHA-256"));
	/* And the right ones pass (the refusals are not of everything). */
	assert_int_equal(decode(s.a, s.n, s.d, s.dlen, s.b, s.n, &err), 0);
	sample_free(&s);
}

static void
test_buf(void **state)
{
	struct buf	 d;
	struct error	 err;
	char		*a, *b, *out = NULL;
	size_t		 alen, blen, outlen;

	(void)state;
	a = text_paragraphs(50, 40, &alen);
	b = xmalloc(alen + 100);
	memcpy(b, a, alen);
	memcpy(b + 5000, "serial = 43", 11);	/* a manifest's edit */
	memcpy(b + alen, "sig 1\n", 6);
	blen = alen + 6;
	buf_init(&d);
	buf_add(&d, "x", 1);			/* appends after what is there */
	assert_int_equal(delta_encode_buf(a, alen, b, blen, &d, &err), 0);
	assert_true(d.len - 1 < 100);
	assert_true(d.len * 10 < plain_size(b, blen));
	assert_int_equal(delta_decode_buf(a, alen, d.data + 1, d.len - 1,
	    blen, &out, &outlen, &err), 0);
	assert_int_equal(outlen, blen);
	assert_memory_equal(out, b, blen);
	assert_int_equal(out[outlen], '\0');
	free(out);

	/* Over max, garbage, trailing bytes. */
	assert_int_equal(delta_decode_buf(a, alen, d.data + 1, d.len - 1,
	    blen - 1, &out, &outlen, &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "more than"));
	assert_int_equal(delta_decode_buf(a, alen, "garbage", 7, blen, &out,
	    &outlen, &err), SATCHEL_EINVALID);
	buf_add(&d, "x", 1);
	assert_int_equal(delta_decode_buf(a, alen, d.data + 1, d.len - 1,
	    blen, &out, &outlen, &err), SATCHEL_EINVALID);
	/* The wrong base: the frame references what is not there. */
	assert_int_equal(delta_decode_buf("", 0, d.data + 1, d.len - 2,
	    blen, &out, &outlen, &err), SATCHEL_EINVALID);

	/* Empty base and empty target. */
	d.len = 0;
	assert_int_equal(delta_encode_buf("", 0, b, blen, &d, &err), 0);
	assert_int_equal(delta_decode_buf("", 0, d.data, d.len, blen, &out,
	    &outlen, &err), 0);
	assert_int_equal(outlen, blen);
	assert_memory_equal(out, b, blen);
	free(out);
	d.len = 0;
	assert_int_equal(delta_encode_buf(a, alen, "", 0, &d, &err), 0);
	assert_int_equal(delta_decode_buf(a, alen, d.data, d.len, 0, &out,
	    &outlen, &err), 0);
	assert_int_equal(outlen, 0);
	free(out);
	buf_free(&d);

	/* No declared size. */
	{
		uint8_t		 z[256];
		ZSTD_CCtx	*cctx = ZSTD_createCCtx();
		ZSTD_outBuffer	 o = { z, sizeof z, 0 };
		ZSTD_inBuffer	 i = { "hello", 5, 0 };
		size_t		 n;

		assert_false(ZSTD_isError(ZSTD_compressStream(cctx, &o, &i)));
		assert_int_equal(ZSTD_endStream(cctx, &o), 0);
		n = o.pos;
		ZSTD_freeCCtx(cctx);
		assert_int_equal(delta_decode_buf("", 0, z, n, 100, &out,
		    &outlen, &err), SATCHEL_EINVALID);
		assert_non_null(strstr(err.msg, "no content size"));
	}
	free(a);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_edit),
		cmocka_unit_test(test_binary_middle),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_grown_tenfold),
		cmocka_unit_test(test_emptied),
		cmocka_unit_test(test_empty_base),
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_unrelated),
		cmocka_unit_test_setup_teardown(test_many_segments,
		    small_segments, normal_segments),
		cmocka_unit_test(test_real_segments),
		cmocka_unit_test(test_refuse_other_base),
		cmocka_unit_test(test_refuse_corrupt),
		cmocka_unit_test(test_refuse_every_flip),
		cmocka_unit_test_teardown(test_refuse_frame_sizes,
		    normal_segments),
		cmocka_unit_test(test_refuse_size_sha),
		cmocka_unit_test(test_descriptor_offsets),
		cmocka_unit_test(test_buf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
