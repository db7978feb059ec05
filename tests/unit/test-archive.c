/*
 * test-archive.c: lib/archive.c round trips, byte-for-byte reproducibility,
 * size contracts on the writer, and refusal of truncated, corrupt, foreign
 * and non-regular-file archives on the reader. Fixtures live in a private
 * mkdtemp directory removed in teardown.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bundle-archive.h"
#include "error.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>

#define SAMPLE_MTIME	INT64_C(1700000000)
#define BIG_SIZE	(1024 * 1024)
#define UTF8_PATH	"lessons/\xe4\xb8\x80/\xe7\xb4\xa2\xe5\xbc\x95.html"

struct fixture {
	char	dir[PATH_MAX];
};

/* The three entries of the sample archive; content comes from seed. */
struct sample {
	const char	*path;
	uint32_t	 mode;
	uint64_t	 size;
	uint32_t	 seed;
};

static const struct sample samples[] = {
	{ "empty.txt", 0644, 0, 1 },
	{ "data/big.bin", 0644, BIG_SIZE, 2 },
	{ UTF8_PATH, 0755, 3001, 3 },
};
#define NSAMPLES	(sizeof samples / sizeof samples[0])

/* Odd write sizes, so entries cross libarchive's 512 and 10240 blocks. */
static const size_t odd_chunks[] = { 1, 3, 4093, 65537, 17, 100003, 511 };
static const size_t other_chunks[] = { 8191, 2, 1000003 };
static const size_t read_chunks[] = { 4099, 1, 65521, 333, 1 << 20 };

/* xorshift32: a reproducible pseudo-random byte stream per seed. */
struct prng {
	uint32_t	s;
};

static void
prng_init(struct prng *p, uint32_t seed)
{
	p->s = seed * 2654435761u + 1;
}

static void
prng_fill(struct prng *p, uint8_t *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		p->s ^= p->s << 13;
		p->s ^= p->s >> 17;
		p->s ^= p->s << 5;
		buf[i] = (uint8_t)(p->s >> 24);
	}
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture	*f;
	const char	*tmp = getenv("TMPDIR");

	/* Everything below must hold in the C locale (LANG=C). */
	setlocale(LC_ALL, "C");
	f = xcalloc(1, sizeof *f);
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(f->dir, sizeof f->dir, "%s/test-archive.XXXXXX", tmp);
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	int		 rc;

	rc = nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return rc;
}

static char *
fixture_path(void **state, const char *name)
{
	struct fixture	*f = *state;

	return xasprintf("%s/%s", f->dir, name);
}

static uint8_t *
slurp(const char *path, size_t *lenp)
{
	struct stat	 st;
	uint8_t		*buf;
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = xmalloc((size_t)st.st_size);
	n = read(fd, buf, (size_t)st.st_size);
	assert_int_equal(n, st.st_size);
	close(fd);
	*lenp = (size_t)st.st_size;
	return buf;
}

static void
spew(const char *path, const void *buf, size_t len)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Writes the sample archive to path, feeding data in the given chunks. */
static void
write_sample(const char *path, const size_t *chunks, size_t nchunks)
{
	struct bundle_writer	*w = NULL;
	struct error		 err = { 0 };
	struct prng		 p;
	uint8_t			*buf;
	uint64_t		 left;
	size_t			 i, c = 0, n, max = 0;
	int			 fd;

	for (i = 0; i < nchunks; i++)
		if (chunks[i] > max)
			max = chunks[i];
	buf = xmalloc(max);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	assert_true(fd >= 0);
	assert_int_equal(bundle_writer_open(&w, fd, SAMPLE_MTIME, &err), 0);
	for (i = 0; i < NSAMPLES; i++) {
		assert_int_equal(bundle_writer_begin(w, samples[i].path,
		    samples[i].mode, samples[i].size, &err), 0);
		prng_init(&p, samples[i].seed);
		for (left = samples[i].size; left > 0; left -= n) {
			n = chunks[c++ % nchunks];
			if (n > left)
				n = (size_t)left;
			prng_fill(&p, buf, n);
			if (bundle_writer_write(w, buf, n, &err) != 0)
				fail_msg("write: %s", err.msg);
		}
	}
	if (bundle_writer_finish(w, &err) != 0)
		fail_msg("finish: %s", err.msg);
	bundle_writer_free(w);
	assert_int_equal(close(fd), 0);
	free(buf);
}

/*
 * Reads a whole archive. Returns the first negative code (err filled), or
 * 1 if it ended cleanly with exactly the sample's entries and content, or
 * 0 if it ended cleanly with anything else.
 */
static int
read_sample(const char *path, struct error *err)
{
	struct bundle_reader	*r = NULL;
	struct bundle_entry	 e;
	struct prng		 p;
	uint8_t			*buf, *want;
	uint64_t		 got;
	size_t			 i = 0, c = 0, len;
	ssize_t			 n;
	int			 rc, same = 1;

	buf = xmalloc(1 << 20);
	want = xmalloc(1 << 20);
	if ((rc = bundle_reader_open(&r, path, err)) != 0)
		goto out;
	while ((rc = bundle_reader_next(r, &e, err)) == 1) {
		if (i >= NSAMPLES || strcmp(e.path, samples[i].path) != 0 ||
		    e.mode != samples[i].mode || e.size != samples[i].size ||
		    e.mtime != SAMPLE_MTIME)
			same = 0;
		if (i < NSAMPLES)
			prng_init(&p, samples[i].seed);
		got = 0;
		for (;;) {
			len = read_chunks[c++ % (sizeof read_chunks /
			    sizeof read_chunks[0])];
			if ((n = bundle_reader_read(r, buf, len, err)) < 0) {
				rc = (int)n;
				goto out;
			}
			if (n == 0)
				break;
			/* Never more than asked, never past the size. */
			assert_true((size_t)n <= len);
			got += (uint64_t)n;
			assert_true(got <= e.size);
			if (i < NSAMPLES) {
				prng_fill(&p, want, (size_t)n);
				if (memcmp(buf, want, (size_t)n) != 0)
					same = 0;
			}
		}
		assert_true(got == e.size);
		i++;
	}
	if (rc < 0)
		goto out;
	rc = same && i == NSAMPLES;
out:
	bundle_reader_free(r);
	free(buf);
	free(want);
	return rc;
}

/* Expects path to be refused with EINVALID and a message holding every
 * given fragment (NULL-terminated). */
static void
expect_refused(const char *path, ...)
{
	struct error	 err = { 0 };
	const char	*frag;
	va_list		 ap;
	int		 rc;

	rc = read_sample(path, &err);
	if (rc >= 0)
		fail_msg("%s was accepted", path);
	assert_int_equal(rc, SATCHEL_EINVALID);
	assert_int_equal(err.code, SATCHEL_EINVALID);
	va_start(ap, path);
	while ((frag = va_arg(ap, const char *)) != NULL) {
		if (strstr(err.msg, frag) == NULL)
			fail_msg("message \"%s\" lacks \"%s\"", err.msg, frag);
	}
	va_end(ap);
}

/* Decompresses an archive to its raw tar bytes with libarchive itself. */
static uint8_t *
raw_tar(const char *path, size_t *lenp)
{
	struct archive		*a;
	struct archive_entry	*ae;
	struct buf		 b;
	char			 chunk[8192];
	la_ssize_t		 n;

	buf_init(&b);
	a = archive_read_new();
	assert_non_null(a);
	assert_int_equal(archive_read_support_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_filename(a, path, 65536),
	    ARCHIVE_OK);
	assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_OK);
	while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0)
		buf_add(&b, chunk, (size_t)n);
	assert_int_equal(n, 0);
	archive_read_free(a);
	return (uint8_t *)buf_detach(&b, lenp);
}

static const void *
memfind(const void *hay, size_t haylen, const char *needle)
{
	return memmem(hay, haylen, needle, strlen(needle));
}

static void
test_roundtrip_three_entries(void **state)
{
	struct error	 err = { 0 };
	char		*path = fixture_path(state, "roundtrip.satchel");
	int		 rc;

	write_sample(path, odd_chunks, sizeof odd_chunks / sizeof odd_chunks[0]);
	rc = read_sample(path, &err);
	if (rc < 0)
		fail_msg("read: %s", err.msg);
	assert_int_equal(rc, 1);
	free(path);
}

static void
test_reader_end_and_bounds(void **state)
{
	struct bundle_reader	*r = NULL;
	struct bundle_entry	 e;
	struct error		 err = { 0 };
	char			*path = fixture_path(state, "bounds.satchel");
	char			 buf[4000];
	ssize_t			 n;
	uint64_t		 got = 0;

	write_sample(path, odd_chunks, sizeof odd_chunks / sizeof odd_chunks[0]);
	assert_int_equal(bundle_reader_open(&r, path, &err), 0);
	/* Reading before the first entry is a caller error. */
	assert_true(bundle_reader_read(r, buf, sizeof buf, &err) < 0);
	bundle_reader_free(r);

	assert_int_equal(bundle_reader_open(&r, path, &err), 0);
	assert_int_equal(bundle_reader_next(r, &e, &err), 1);
	assert_string_equal(e.path, "empty.txt");
	assert_int_equal(bundle_reader_read(r, buf, sizeof buf, &err), 0);
	assert_int_equal(bundle_reader_read(r, buf, sizeof buf, &err), 0);
	/* Skipping the 1 MiB entry unread is allowed. */
	assert_int_equal(bundle_reader_next(r, &e, &err), 1);
	assert_string_equal(e.path, "data/big.bin");
	assert_int_equal(bundle_reader_next(r, &e, &err), 1);
	assert_string_equal(e.path, UTF8_PATH);
	assert_int_equal(e.mode, 0755);
	while ((n = bundle_reader_read(r, buf, sizeof buf, &err)) > 0)
		got += (uint64_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(got, 3001);
	assert_int_equal(bundle_reader_read(r, buf, sizeof buf, &err), 0);
	assert_int_equal(bundle_reader_next(r, &e, &err), 0);
	assert_int_equal(bundle_reader_next(r, &e, &err), 0);
	bundle_reader_free(r);
	free(path);
}

static void
test_output_starts_with_zstd_magic(void **state)
{
	static const uint8_t	 magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	char			*path = fixture_path(state, "magic.satchel");
	uint8_t			*buf;
	size_t			 len;

	write_sample(path, odd_chunks, sizeof odd_chunks / sizeof odd_chunks[0]);
	buf = slurp(path, &len);
	assert_true(len > sizeof magic);
	assert_memory_equal(buf, magic, sizeof magic);
	free(buf);
	free(path);
}

static void
test_reproducible_across_umask_tz_time_locale(void **state)
{
	struct timespec	 ts = { 1, 100 * 1000 * 1000 };
	char		*a = fixture_path(state, "repro-a.satchel");
	char		*b = fixture_path(state, "repro-b.satchel");
	char		*oldtz = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
	uint8_t		*abuf, *bbuf;
	size_t		 alen, blen;
	mode_t		 oldmask;

	oldmask = umask(022);
	write_sample(a, odd_chunks, sizeof odd_chunks / sizeof odd_chunks[0]);

	/* Another umask, time zone, process locale and second. */
	umask(077);
	setenv("TZ", "XYZ-5:30", 1);
	tzset();
	setlocale(LC_ALL, "C.UTF-8");
	nanosleep(&ts, NULL);
	write_sample(b, odd_chunks, sizeof odd_chunks / sizeof odd_chunks[0]);

	umask(oldmask);
	if (oldtz != NULL)
		setenv("TZ", oldtz, 1);
	else
		unsetenv("TZ");
	tzset();
	setlocale(LC_ALL, "C");

	abuf = slurp(a, &alen);
	bbuf = slurp(b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(abuf, bbuf, alen);
	free(abuf);
	free(bbuf);
	free(oldtz);
	free(a);
	free(b);
}

/* bundle.c may feed files in whatever pieces it reads them. */
static void
test_reproducible_across_write_chunking(void **state)
{
	char	*a = fixture_path(state, "chunk-a.satchel");
	char	*b = fixture_path(state, "chunk-b.satchel");
	uint8_t	*abuf, *bbuf;
	size_t	 alen, blen;

	write_sample(a, odd_chunks, sizeof odd_chunks / sizeof odd_chunks[0]);
	write_sample(b, other_chunks,
	    sizeof other_chunks / sizeof other_chunks[0]);
	abuf = slurp(a, &alen);
	bbuf = slurp(b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(abuf, bbuf, alen);
	free(abuf);
	free(bbuf);
	free(a);
	free(b);
}

/* The UTF-8 name goes in a pax path= record as UTF-8, not as BINARY, and
 * nothing from the environment (owners, other times) is recorded. */
static void
test_utf8_name_stored_as_pax_utf8(void **state)
{
	struct bundle_writer	*w = NULL;
	struct error		 err = { 0 };
	char			*path = fixture_path(state, "utf8.satchel");
	uint8_t			*tar, *h;
	size_t			 len, off;
	int			 fd, headers = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(bundle_writer_open(&w, fd, SAMPLE_MTIME, &err), 0);
	assert_int_equal(bundle_writer_begin(w, UTF8_PATH, 0755, 5, &err), 0);
	assert_int_equal(bundle_writer_write(w, "hello", 5, &err), 0);
	assert_int_equal(bundle_writer_finish(w, &err), 0);
	bundle_writer_free(w);
	close(fd);

	tar = raw_tar(path, &len);
	/* Exactly one pax record, and the tar ends right after its end
	 * marker: no padding beyond it. */
	assert_non_null(memfind(tar, len, "32 path=" UTF8_PATH "\n"));
	assert_null(memfind(tar, len, "hdrcharset"));
	assert_null(memfind(tar, len, "time="));
	assert_null(memfind(tar, len, "uname"));
	assert_null(memfind(tar, len, "gname"));
	assert_null(memfind(tar, len, "SCHILY"));
	assert_null(memfind(tar, len, "LIBARCHIVE"));
	assert_int_equal(len, 512 * 4 + 1024);
	for (off = 0; off + 512 <= len; off += 512) {
		h = tar + off;
		if (memcmp(h + 257, "ustar", 5) != 0)
			continue;
		headers++;
		assert_int_equal(strtol((char *)h + 108, NULL, 8), 0); /* uid */
		assert_int_equal(strtol((char *)h + 116, NULL, 8), 0); /* gid */
		assert_int_equal(strtoll((char *)h + 136, NULL, 8),
		    SAMPLE_MTIME);
		assert_int_equal(h[265], '\0');			/* uname */
		assert_int_equal(h[297], '\0');			/* gname */
	}
	assert_int_equal(headers, 2);	/* the 'x' header and the file's */
	free(tar);
	free(path);
}

static void
test_write_more_than_declared_fails(void **state)
{
	struct bundle_writer	*w = NULL;
	struct error		 err = { 0 };
	char			*path = fixture_path(state, "over.satchel");
	int			 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(bundle_writer_open(&w, fd, SAMPLE_MTIME, &err), 0);
	assert_int_equal(bundle_writer_begin(w, "a/ten.txt", 0644, 10, &err), 0);
	assert_int_equal(bundle_writer_write(w, "12345", 5, &err), 0);
	assert_int_equal(bundle_writer_write(w, "123456", 6, &err),
	    SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "a/ten.txt"));
	/* The writer stays failed: nothing can finish this archive. */
	assert_true(bundle_writer_write(w, "1", 1, &err) < 0);
	assert_true(bundle_writer_finish(w, &err) < 0);
	bundle_writer_free(w);
	close(fd);

	/* In one call, too. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(bundle_writer_open(&w, fd, SAMPLE_MTIME, &err), 0);
	assert_int_equal(bundle_writer_begin(w, "b.txt", 0644, 3, &err), 0);
	assert_int_equal(bundle_writer_write(w, "abcd", 4, &err),
	    SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "b.txt"));
	bundle_writer_free(w);
	close(fd);
	free(path);
}

static void
test_short_entry_fails_at_finish(void **state)
{
	struct bundle_writer	*w = NULL;
	struct error		 err = { 0 };
	char			*path = fixture_path(state, "short.satchel");
	struct stat		 before, after;
	int			 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(bundle_writer_open(&w, fd, SAMPLE_MTIME, &err), 0);
	assert_int_equal(bundle_writer_begin(w, "s/short.txt", 0644, 10, &err),
	    0);
	assert_int_equal(bundle_writer_write(w, "123456789", 9, &err), 0);
	assert_int_equal(bundle_writer_finish(w, &err), SATCHEL_EINVALID);
	assert_int_equal(err.code, SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "s/short.txt"));
	assert_int_equal(fstat(fd, &before), 0);
	bundle_writer_free(w);
	assert_int_equal(fstat(fd, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	close(fd);

	/* The abandoned output is not a valid archive: free wrote no end. */
	expect_refused(path, path, NULL);
	free(path);
}

static void
test_short_entry_fails_at_next_begin(void **state)
{
	struct bundle_writer	*w = NULL;
	struct error		 err = { 0 };
	char			*path = fixture_path(state, "short2.satchel");
	int			 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(bundle_writer_open(&w, fd, SAMPLE_MTIME, &err), 0);
	assert_int_equal(bundle_writer_begin(w, "first.txt", 0644, 10, &err),
	    0);
	assert_int_equal(bundle_writer_write(w, "123", 3, &err), 0);
	assert_int_equal(bundle_writer_begin(w, "second.txt", 0644, 1, &err),
	    SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "first.txt"));
	bundle_writer_free(w);
	close(fd);
	free(path);
}

static void
test_writer_rejects_bad_arguments(void **state)
{
	static const struct {
		const char	*path;
		uint32_t	 mode;
	} bad[] = {
		{ "x.txt", 0600 },
		{ "x.txt", 0100644 },
		{ "", 0644 },
		{ "bad\xff.txt", 0644 },
		{ "bad\n.txt", 0644 },
	};
	struct bundle_writer	*w = NULL;
	struct error		 err = { 0 };
	char			*path = fixture_path(state, "badargs.satchel");
	size_t			 i;
	int			 fd;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(bundle_writer_open(&w, fd, SAMPLE_MTIME, &err),
		    0);
		assert_int_equal(bundle_writer_begin(w, bad[i].path,
		    bad[i].mode, 1, &err), SATCHEL_EINVALID);
		bundle_writer_free(w);
		close(fd);
	}
	free(path);
}

/* A write(2) error surfaces from some call, never as success. */
static void
test_io_error_reported(void **state)
{
	struct bundle_writer	*w = NULL;
	struct error		 err = { 0 };
	uint8_t			*buf;
	size_t			 i;
	int			 fd, rc;

	if ((fd = open("/dev/full", O_WRONLY)) == -1) {
		skip();
		return;
	}
	buf = xcalloc(1, 65536);
	assert_int_equal(bundle_writer_open(&w, fd, SAMPLE_MTIME, &err), 0);
	rc = bundle_writer_begin(w, "full.bin", 0644, 16 * 65536, &err);
	for (i = 0; rc == 0 && i < 16; i++)
		rc = bundle_writer_write(w, buf, 65536, &err);
	if (rc == 0)
		rc = bundle_writer_finish(w, &err);
	assert_int_equal(rc, SATCHEL_ERR);
	assert_non_null(strstr(err.msg, strerror(ENOSPC)));
	bundle_writer_free(w);
	close(fd);
	free(buf);
}

static void
test_truncated_archive_fails(void **state)
{
	char	*full = fixture_path(state, "full.satchel");
	char	*cut = fixture_path(state, "cut.satchel");
	uint8_t	*buf;
	size_t	 len, i, lens[8];

	write_sample(full, odd_chunks, sizeof odd_chunks / sizeof odd_chunks[0]);
	buf = slurp(full, &len);
	lens[0] = 1;
	lens[1] = 4;
	lens[2] = 10;
	lens[3] = 100;
	lens[4] = len / 4;
	lens[5] = len / 2;
	lens[6] = len - 2;
	lens[7] = len - 1;
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		spew(cut, buf, lens[i]);
		expect_refused(cut, cut, NULL);
	}
	free(buf);
	free(full);
	free(cut);
}

/*
 * libarchive 3.6.2 gives no way to turn on zstd's content checksum, and
 * the 1 MiB entry is incompressible, so a flipped byte inside its raw
 * blocks decodes "fine": the archive layer cannot promise to notice. What
 * must hold is that corruption never passes as the original content.
 */
static void
test_flipped_byte_never_passes_as_original(void **state)
{
	struct error	 err = { 0 };
	char		*full = fixture_path(state, "flip-src.satchel");
	char		*bad = fixture_path(state, "flip.satchel");
	uint8_t		*buf;
	size_t		 len, i, offs[5];
	int		 rc;

	write_sample(full, odd_chunks, sizeof odd_chunks / sizeof odd_chunks[0]);
	buf = slurp(full, &len);
	offs[0] = 6;			/* zstd frame header */
	offs[1] = 20;			/* first block: tar headers */
	offs[2] = len / 4;
	offs[3] = len / 2;
	offs[4] = len - 5;
	for (i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		buf[offs[i]] ^= 0x40;
		spew(bad, buf, len);
		buf[offs[i]] ^= 0x40;
		error_clear(&err);
		rc = read_sample(bad, &err);
		if (rc == 1)
			fail_msg("flip at %zu went unnoticed", offs[i]);
		if (rc < 0)
			assert_non_null(strstr(err.msg, bad));
	}
	free(buf);
	free(full);
	free(bad);
}

static void
test_garbage_file_refused(void **state)
{
	char		*path = fixture_path(state, "garbage.satchel");
	uint8_t		 buf[8192];
	struct prng	 p;

	prng_init(&p, 99);
	prng_fill(&p, buf, sizeof buf);
	spew(path, buf, sizeof buf);
	expect_refused(path, path, "not a Satchel bundle archive", NULL);
	free(path);
}

static void
test_empty_file_refused(void **state)
{
	char	*path = fixture_path(state, "empty.satchel");

	spew(path, "", 0);
	expect_refused(path, path, "not a Satchel bundle archive",
	    "empty", NULL);
	free(path);
}

static void
test_missing_file_not_found(void **state)
{
	struct error	 err = { 0 };
	char		*path = fixture_path(state, "missing.satchel");

	assert_int_equal(read_sample(path, &err), SATCHEL_ENOTFOUND);
	assert_non_null(strstr(err.msg, path));
	free(path);
}

static void
test_gzip_tar_refused(void **state)
{
	struct fixture	*f = *state;
	char		*cmd, *path = fixture_path(state, "g.tgz");

	cmd = xasprintf("cd '%s' && mkdir -p gz && echo hi > gz/f && "
	    "tar czf g.tgz gz", f->dir);
	assert_int_equal(system(cmd), 0);
	expect_refused(path, path, "not a Satchel bundle archive", NULL);
	free(cmd);
	free(path);
}

static void
test_plain_tar_refused(void **state)
{
	struct fixture	*f = *state;
	char		*cmd, *path = fixture_path(state, "plain.tar");

	cmd = xasprintf("cd '%s' && mkdir -p pt && echo hi > pt/f && "
	    "tar --format=pax -cf plain.tar pt/f", f->dir);
	assert_int_equal(system(cmd), 0);
	expect_refused(path, path, "not a Satchel bundle archive",
	    "not zstd", NULL);
	free(cmd);
	free(path);
}

static void
test_zstd_of_non_tar_refused(void **state)
{
	struct archive		*a;
	struct archive_entry	*ae;
	char			*path = fixture_path(state, "raw.zst");
	uint8_t			 buf[3000];
	struct prng		 p;

	a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	ae = archive_entry_new();
	archive_entry_set_pathname(ae, "raw");
	archive_entry_set_filetype(ae, AE_IFREG);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	prng_init(&p, 5);
	prng_fill(&p, buf, sizeof buf);
	assert_int_equal(archive_write_data(a, buf, sizeof buf), sizeof buf);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	expect_refused(path, path, "not a Satchel bundle archive",
	    "not a tar", NULL);
	free(path);
}

/* Writes ok.txt and then one entry shaped by kind, with libarchive. */
static void
write_special(const char *path, int format, const char *name, int kind)
{
	struct archive		*a;
	struct archive_entry	*ae;

	a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format(a, format), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);

	ae = archive_entry_new();
	archive_entry_set_pathname(ae, "ok.txt");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, 2);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, "ok", 2), 2);
	archive_entry_clear(ae);

	archive_entry_set_pathname(ae, name);
	archive_entry_set_perm(ae, 0644);
	switch (kind) {
	case 'l':
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_set_symlink(ae, "ok.txt");
		break;
	case 'h':
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_hardlink(ae, "ok.txt");
		archive_entry_set_size(ae, 0);
		break;
	case 'd':
		archive_entry_set_filetype(ae, AE_IFDIR);
		archive_entry_set_perm(ae, 0755);
		break;
	case 'p':
		archive_entry_set_filetype(ae, AE_IFIFO);
		break;
	case 'c':
		archive_entry_set_filetype(ae, AE_IFCHR);
		archive_entry_set_rdev(ae, makedev(1, 3));
		break;
	default:			/* a regular file, name as given */
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_size(ae, 1);
		break;
	}
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	if (kind == 'f')
		assert_int_equal(archive_write_data(a, "x", 1), 1);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
}

static void
test_special_entries_refused(void **state)
{
	static const struct {
		int		 kind;
		const char	*name;
		const char	*what;
	} cases[] = {
		{ 'l', "links/sym", "symbolic link entries are not allowed" },
		{ 'h', "links/hard", "hard link entries are not allowed" },
		{ 'd', "some/dir", "directory entries are not allowed" },
		{ 'p', "dev/fifo", "FIFO entries are not allowed" },
		{ 'c', "dev/null", "character device entries are not allowed" },
	};
	struct bundle_reader	*r = NULL;
	struct bundle_entry	 e;
	struct error		 err = { 0 };
	char			*path = fixture_path(state, "special.satchel");
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_special(path, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED,
		    cases[i].name, cases[i].kind);
		assert_int_equal(bundle_reader_open(&r, path, &err), 0);
		assert_int_equal(bundle_reader_next(r, &e, &err), 1);
		assert_string_equal(e.path, "ok.txt");
		assert_int_equal(bundle_reader_next(r, &e, &err),
		    SATCHEL_EINVALID);
		if (strstr(err.msg, cases[i].name) == NULL ||
		    strstr(err.msg, cases[i].what) == NULL)
			fail_msg("%c: unexpected message \"%s\"",
			    cases[i].kind, err.msg);
		/* Refusal is final. */
		assert_true(bundle_reader_next(r, &e, &err) < 0);
		bundle_reader_free(r);
		r = NULL;
	}
	free(path);
}

static void
test_non_utf8_name_refused(void **state)
{
	struct bundle_reader	*r = NULL;
	struct bundle_entry	 e;
	struct error		 err = { 0 };
	char			*path = fixture_path(state, "latin1.satchel");

	/* ustar stores the raw bytes; there is no pax path= record. */
	write_special(path, ARCHIVE_FORMAT_TAR_USTAR, "caf\xe9.txt", 'f');
	assert_int_equal(bundle_reader_open(&r, path, &err), 0);
	assert_int_equal(bundle_reader_next(r, &e, &err), 1);
	assert_int_equal(bundle_reader_next(r, &e, &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "entry 2: path is not valid UTF-8"));
	bundle_reader_free(r);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_three_entries),
		cmocka_unit_test(test_reader_end_and_bounds),
		cmocka_unit_test(test_output_starts_with_zstd_magic),
		cmocka_unit_test(test_reproducible_across_umask_tz_time_locale),
		cmocka_unit_test(test_reproducible_across_write_chunking),
		cmocka_unit_test(test_utf8_name_stored_as_pax_utf8),
		cmocka_unit_test(test_write_more_than_declared_fails),
		cmocka_unit_test(test_short_entry_fails_at_finish),
		cmocka_unit_test(test_short_entry_fails_at_next_begin),
		cmocka_unit_test(test_writer_rejects_bad_arguments),
		cmocka_unit_test(test_io_error_reported),
		cmocka_unit_test(test_truncated_archive_fails),
		cmocka_unit_test(test_flipped_byte_never_passes_as_original),
		cmocka_unit_test(test_garbage_file_refused),
		cmocka_unit_test(test_empty_file_refused),
		cmocka_unit_test(test_missing_file_not_found),
		cmocka_unit_test(test_gzip_tar_refused),
		cmocka_unit_test(test_plain_tar_refused),
		cmocka_unit_test(test_zstd_of_non_tar_refused),
		cmocka_unit_test(test_special_entries_refused),
		cmocka_unit_test(test_non_utf8_name_refused),
	};

	return cmocka_run_group_tests_name("archive", tests, setup, teardown);
}
