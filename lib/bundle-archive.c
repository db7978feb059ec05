/*
 * bundle-archive.c owns every archive Satchel writes or reads with
 * libarchive: bundle archives on disk, written as reproducible pax tar
 * streams compressed with zstd and read back one entry at a time without
 * ever holding a whole entry; and the .zip files of lesson downloads
 * (lib/lesson-zip.c), which one writer makes with the same checks. It is
 * the only file that includes <archive.h>; it knows nothing of manifests.
 *
 * Both objects are single-use: after any error only *_free() is valid, so
 * a half-written archive is never finished and a corrupt one is never
 * trusted past the first problem.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle-archive.h"
#include "error.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#define BUNDLE_ARCHIVE_ZSTD_LEVEL	"3"
/*
 * zstd runs single-threaded ("threads" 0, set explicitly): the output of
 * its multi-threaded mode is framed differently, and through libarchive's
 * small writes it was slower, not faster (measured on the 250 MB corpus).
 */
#define BUNDLE_ARCHIVE_ZSTD_THREADS	"0"
#define BUNDLE_ARCHIVE_BLOCK_SIZE	(1024 * 1024)
#define BUNDLE_ARCHIVE_READ_BLOCK	65536
/*
 * Deflate level 6 (zlib's default), set explicitly so that a change of
 * default cannot silently change the bytes; lesson pages are small, and
 * on a Raspberry Pi level 9 costs far more time than it saves bytes.
 */
#define ZIP_DEFLATE_LEVEL		"6"
#define ZIP_BLOCK_SIZE			65536

struct bundle_writer {
	struct archive	*a;
	locale_t	 loc;
	int		 fd;		/* the caller's; never closed here */
	struct buf	*mem;		/* head writer: uncompressed tar here */
	int		 zip;		/* a .zip, not a bundle archive */
	const char	*what;		/* "archive" or "zip", for messages */
	int		 io_errno;	/* first write(2) error, or 0 */
	int		 discard;	/* drop output: abandoning the archive */
	int64_t		 mtime;		/* a bundle's entries'; zip: per entry */
	char		*path;		/* current entry; NULL before the first */
	uint64_t	 size;		/* its declared size */
	uint64_t	 done;		/* bytes written to it so far */
	int		 failed;	/* an error was returned: only free */
	int		 finished;
};

struct bundle_reader {
	struct archive	*a;
	locale_t	 loc;
	char		*name;		/* the archive's path, for messages */
	char		*path;		/* current entry; NULL if none */
	uint64_t	 size;		/* its declared size */
	uint64_t	 done;		/* bytes delivered from it so far */
	uint64_t	 index;		/* number of the current entry, from 1 */
	int		 failed;	/* an error was returned: only free */
	int		 eof;
};

/*
 * libarchive's zip writer turns an entry's mtime into the DOS date and
 * time of the zip headers with localtime(3): the local time of the
 * process, as zip tools expect (the "UT" extra field next to it carries
 * the UTC time, which unzip prefers). So a zip's bytes depend on the time
 * zone, and localtime's static result is shared by every thread: zip
 * headers are written under this lock so that two zips built at once on
 * two worker threads cannot garble each other's dates. Nothing else in
 * Satchel calls localtime (it formats times with gmtime_r); tar headers
 * hold UTC seconds and need no lock.
 */
static pthread_mutex_t	zip_header_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * libarchive converts entry names through the charset of the current
 * locale (nl_langinfo(CODESET)). Under the C locale that is ASCII, and
 * 3.6.2 then cannot derive the multibyte name the pax writer wants from a
 * UTF-8 one: archive_write_header() crashes on a NULL pathname, and the
 * tar reader cannot hand back UTF-8 names either (nor can the zip writer
 * hand them on). So every libarchive call in this file runs under a
 * thread-local UTF-8 LC_CTYPE (uselocale), which leaves the process locale
 * and other threads alone and makes the conversions identities: names are
 * stored and returned as UTF-8 bytes whatever LANG says.
 */
static int
bundle_archive_locale(locale_t *out, struct error *err)
{
	static const char *const names[] = {
		"C.UTF-8", "C.utf8", "en_US.UTF-8"
	};
	locale_t	 loc;
	size_t		 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		loc = newlocale(LC_CTYPE_MASK, names[i], (locale_t)0);
		if (loc != (locale_t)0) {
			*out = loc;
			return 0;
		}
	}
	return error_set(err, SATCHEL_ERR, "archive: no UTF-8 locale "
	    "(C.UTF-8) is installed; it is needed for UTF-8 entry names");
}

static const char *
bundle_archive_errstr(struct archive *a)
{
	const char	*s;

	if (a == NULL || (s = archive_error_string(a)) == NULL)
		return "unknown libarchive error";
	return s;
}

/*
 * libarchive's output goes through here rather than archive_write_open_fd()
 * so that an abandoned archive can be closed (which is the only way 3.6.2
 * frees its output buffer: archive_write_fail() then free leaks it) without
 * a padded entry and a valid end of archive (a zip's central directory)
 * reaching the caller's fd. A write(2) error is kept for the
 * bundle_writer_* call to report and never returned to libarchive, whose
 * FATAL state would also skip the freeing close.
 */
static la_ssize_t
bundle_writer_output_cb(struct archive *a, void *arg, const void *buf,
    size_t len)
{
	struct bundle_writer	*w = arg;
	const char		*p = buf;
	size_t			 left = len;
	ssize_t			 n;

	if (w->discard || w->io_errno != 0)
		return (la_ssize_t)len;
	if (w->mem != NULL) {
		buf_add(w->mem, buf, len);
		return (la_ssize_t)len;
	}
	while (left > 0) {
		if ((n = write(w->fd, p, left)) == -1) {
			if (errno == EINTR)
				continue;
			w->io_errno = errno;
			break;
		}
		if (n == 0) {
			w->io_errno = EIO;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	return (la_ssize_t)len;
}

/* Turns a write(2) error caught by the callback into the call's error. */
static int
bundle_writer_check_io(struct bundle_writer *w, struct error *err)
{
	if (w->io_errno == 0)
		return 0;
	return error_set(err, SATCHEL_ERR, "writing %s: %s", w->what,
	    strerror(w->io_errno));
}

/* Refuses calls on a writer that already failed or finished. */
static int
bundle_writer_usable(struct bundle_writer *w, struct error *err)
{
	if (w->failed)
		return error_set(err, SATCHEL_ERR,
		    "%s writer: unusable after an earlier error", w->what);
	if (w->finished)
		return error_set(err, SATCHEL_EINVALID,
		    "%s writer: %s already finished", w->what, w->what);
	return 0;
}

/*
 * libarchive pads a short tar entry with zeros when the next header or
 * the end of the archive is written, which would silently produce a file
 * with the wrong content; a short zip entry would get a data descriptor
 * with the short size and a CRC of what was written, a valid zip of the
 * wrong file. Catch it first.
 */
static int
bundle_writer_check_entry(struct bundle_writer *w, struct error *err)
{
	if (w->path == NULL || w->done == w->size)
		return 0;
	return error_set(err, SATCHEL_EINVALID,
	    "%s: %s entry is short: %ju of %ju declared bytes written",
	    w->path, w->what, (uintmax_t)w->done, (uintmax_t)w->size);
}

/*
 * Every setting that shapes the bytes is explicit, so a change of
 * libarchive default cannot silently change the output. A bundle is pax
 * tar, through zstd unless it is a head kept in memory. A zip's
 * "hdrcharset" UTF-8 makes libarchive set the UTF-8 flag (bit 11) on
 * non-ASCII names, so unzip and Windows show Chinese file names
 * correctly. One byte in the last block: no padding after the end, which
 * for a zip some readers would take for a comment-less trailer.
 */
static int
bundle_writer_setup(struct bundle_writer *w)
{
	struct archive	*a = w->a;

	if (w->zip) {
		if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
		    archive_write_set_format_option(a, "zip", "hdrcharset",
		    "UTF-8") != ARCHIVE_OK ||
		    archive_write_set_format_option(a, "zip",
		    "compression-level", ZIP_DEFLATE_LEVEL) != ARCHIVE_OK)
			return -1;
	} else if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    (w->mem == NULL && (archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "zstd", "compression-level",
	    BUNDLE_ARCHIVE_ZSTD_LEVEL) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "zstd", "threads",
	    BUNDLE_ARCHIVE_ZSTD_THREADS) != ARCHIVE_OK)))
		return -1;
	if (archive_write_set_bytes_per_block(a, w->zip ? ZIP_BLOCK_SIZE :
	    BUNDLE_ARCHIVE_BLOCK_SIZE) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK)
		return -1;
	return 0;
}

/*
 * Shared by the three writers: the body writer compresses with zstd into
 * the caller's fd, the head writer keeps plain tar in memory, the zip
 * writer streams a zip into fd. On success *out belongs to the caller:
 * release it with bundle_writer_free().
 */
static int
bundle_writer_new(struct bundle_writer **out, int fd, struct buf *mem,
    int zip, int64_t mtime, struct error *err)
{
	struct bundle_writer	*w;
	locale_t		 old = (locale_t)0;
	int			 rc;

	w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->mem = mem;
	w->zip = zip;
	w->what = zip ? "zip" : "archive";
	w->mtime = mtime;
	if ((rc = bundle_archive_locale(&w->loc, err)) != 0)
		goto out;
	old = uselocale(w->loc);

	if ((w->a = archive_write_new()) == NULL)
		fatal("archive_write_new: out of memory");
	if (bundle_writer_setup(w) != 0) {
		rc = error_set(err, SATCHEL_ERR, "%s writer setup: %s",
		    w->what, bundle_archive_errstr(w->a));
		goto out;
	}
	if (archive_write_open2(w->a, w, NULL, bundle_writer_output_cb, NULL,
	    NULL) != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_ERR, "%s writer open: %s", w->what,
		    bundle_archive_errstr(w->a));
		goto out;
	}
	if ((rc = bundle_writer_check_io(w, err)) != 0)
		goto out;
	*out = w;
	w = NULL;			/* ownership moved to the caller */
out:
	if (old != (locale_t)0)
		uselocale(old);		/* before w->loc is freed */
	bundle_writer_free(w);
	return rc;
}

int
bundle_writer_open(struct bundle_writer **out, int fd, int64_t mtime,
    struct error *err)
{
	return bundle_writer_new(out, fd, NULL, 0, mtime, err);
}

int
bundle_writer_open_head(struct bundle_writer **out, int64_t mtime,
    struct error *err)
{
	struct buf	*mem = xcalloc(1, sizeof *mem);
	int		 rc;

	buf_init(mem);
	rc = bundle_writer_new(out, -1, mem, 0, mtime, err);	/* owns mem now */
	return rc;
}

int
bundle_writer_open_zip(struct bundle_writer **out, int fd, struct error *err)
{
	return bundle_writer_new(out, fd, NULL, 1, 0, err);
}

/*
 * The head frame stores its tar bytes in zstd "raw" (uncompressed) blocks
 * (RFC 8878, 3.1.1.2), so its size follows from the sizes of the head
 * entries alone, before any file has been hashed: a builder writes the
 * body straight after that many bytes and fills the head in at the end,
 * and a signer can find where the body starts without decompressing.
 * libzstd has no call to write raw blocks, so the frame is laid out here:
 * magic, a frame header with Single_Segment set and an 8-byte content
 * size, then blocks of at most 128 KiB, each with a 3-byte header.
 */
#define HEAD_BLOCK_MAX		(128u * 1024)
#define HEAD_FRAME_OVERHEAD	(4 + 1 + 8)

static uint64_t
head_tar_size(uint64_t a, uint64_t b)
{
	/* Two entries with short ASCII names: one 512-byte ustar header
	 * each, content padded to 512. */
	return 512 + (a + 511) / 512 * 512 + 512 + (b + 511) / 512 * 512;
}

uint64_t
bundle_head_frame_size(uint64_t size1, uint64_t size2)
{
	uint64_t	t = head_tar_size(size1, size2);

	return HEAD_FRAME_OVERHEAD + (t + HEAD_BLOCK_MAX - 1) / HEAD_BLOCK_MAX * 3 + t;
}

/* Why strip the end of archive: the head frame is followed by the body's
 * frames, and the tar stream they decompress to must run on into the
 * body's entries; the body carries the one end-of-archive. */
int
bundle_writer_finish_head(struct bundle_writer *w, char **out, size_t *len,
    struct error *err)
{
	static const char	 zeros[1024];
	struct buf		 f;
	size_t			 n, off, blk;
	uint32_t		 bh;
	int			 rc, i;

	if (w->mem == NULL)
		return error_set(err, SATCHEL_ERR, "archive writer: not a head writer");
	if ((rc = bundle_writer_finish(w, err)) != 0)
		return rc;
	n = w->mem->len;
	if (n < sizeof zeros || memcmp(w->mem->data + n - sizeof zeros, zeros,
	    sizeof zeros) != 0 || (n - sizeof zeros) % 512 != 0)
		return error_set(err, SATCHEL_ERR,
		    "archive writer: unexpected end of tar stream");
	n -= sizeof zeros;
	buf_init(&f);
	buf_add(&f, "\x28\xb5\x2f\xfd", 4);	/* zstd magic, little-endian */
	buf_addc(&f, (char)0xe0);		/* FCS 8 bytes, single segment */
	for (i = 0; i < 8; i++)
		buf_addc(&f, (char)(((uint64_t)n >> (8 * i)) & 0xff));
	for (off = 0; off < n; off += blk) {
		blk = n - off < HEAD_BLOCK_MAX ? n - off : HEAD_BLOCK_MAX;
		/* Block_Size << 3 | Block_Type (0: raw) << 1 | Last_Block */
		bh = (uint32_t)blk << 3 | (off + blk == n ? 1 : 0);
		buf_addc(&f, (char)(bh & 0xff));
		buf_addc(&f, (char)((bh >> 8) & 0xff));
		buf_addc(&f, (char)((bh >> 16) & 0xff));
		buf_add(&f, w->mem->data + off, blk);
	}
	*out = buf_detach(&f, len);
	return 0;
}

/* What a bundle entry passes for a zip method: it has none. */
#define BUNDLE_NO_METHOD	(-1)

/* Starts an entry. mtime is the entry's (a bundle passes its writer's);
 * method is a zip's ZIP_STORE or ZIP_DEFLATE, or BUNDLE_NO_METHOD. */
static int
bundle_writer_entry(struct bundle_writer *w, const char *path,
    uint32_t mode, uint64_t size, int64_t mtime, int method,
    struct error *err)
{
	struct archive_entry	*ae = NULL;
	locale_t		 old;
	int			 rc, ar;

	old = uselocale(w->loc);
	if ((rc = bundle_writer_usable(w, err)) != 0)
		goto out;
	if ((rc = bundle_writer_check_entry(w, err)) != 0)
		goto out;
	/* Invalid UTF-8 would also make 3.6.2 crash (see above). */
	if (path == NULL || *path == '\0' ||
	    !utf8_valid_text(path, strlen(path))) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s entry path is empty or not valid UTF-8 text", w->what);
		goto out;
	}
	if (mode != 0644 && mode != 0755) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: mode 0%o is neither 0644 nor 0755", path,
		    (unsigned int)mode);
		goto out;
	}
	if (size > INT64_MAX) {
		rc = error_set(err, SATCHEL_ELIMIT, "%s: size %ju is too large",
		    path, (uintmax_t)size);
		goto out;
	}
	if (w->zip && method != ZIP_STORE && method != ZIP_DEFLATE) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: unknown zip method %d", path, method);
		goto out;
	}
	if (!w->zip && method != BUNDLE_NO_METHOD) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: a zip method for a bundle archive entry", path);
		goto out;
	}
	/* Applies to the next header: libarchive reads it there. */
	if (w->zip && (method == ZIP_STORE ?
	    archive_write_zip_set_compression_store(w->a) :
	    archive_write_zip_set_compression_deflate(w->a)) != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_ERR, "%s: zip method: %s", path,
		    bundle_archive_errstr(w->a));
		goto out;
	}

	if ((ae = archive_entry_new()) == NULL)
		fatal("archive_entry_new: out of memory");
	if (archive_entry_update_pathname_utf8(ae, path) == 0 ||
	    archive_entry_pathname(ae) == NULL) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: path cannot be stored in the %s", path, w->what);
		goto out;
	}
	/* Nothing from the environment: no owner names, no other times. */
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, (mode_t)mode);
	archive_entry_set_size(ae, (la_int64_t)size);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_mtime(ae, (time_t)mtime, 0);

	free(w->path);
	w->path = xstrdup(path);
	w->size = size;
	w->done = 0;

	if (w->zip)
		pthread_mutex_lock(&zip_header_lock);
	ar = archive_write_header(w->a, ae);
	if (w->zip)
		pthread_mutex_unlock(&zip_header_lock);
	/* A warning would mean a changed header (hdrcharset=BINARY...). */
	if (ar != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_ERR, "%s: writing %s header: %s",
		    path, w->what, bundle_archive_errstr(w->a));
		goto out;
	}
	rc = bundle_writer_check_io(w, err);
out:
	archive_entry_free(ae);		/* NULL-safe */
	if (rc != 0)
		w->failed = 1;
	uselocale(old);
	return rc;
}

int
bundle_writer_begin(struct bundle_writer *w, const char *path,
    uint32_t mode, uint64_t size, struct error *err)
{
	return bundle_writer_entry(w, path, mode, size, w->mtime,
	    BUNDLE_NO_METHOD, err);
}

int
bundle_writer_begin_zip(struct bundle_writer *w, const char *path,
    uint32_t mode, uint64_t size, int64_t mtime, int method,
    struct error *err)
{
	return bundle_writer_entry(w, path, mode, size, mtime, method, err);
}

int
bundle_writer_write(struct bundle_writer *w, const void *data, size_t len,
    struct error *err)
{
	const char	*p = data;
	la_ssize_t	 n;
	locale_t	 old;
	int		 rc;

	old = uselocale(w->loc);
	if ((rc = bundle_writer_usable(w, err)) != 0)
		goto out;
	if (w->path == NULL) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s writer: data written before any entry", w->what);
		goto out;
	}
	/* libarchive would silently drop the excess. */
	if (len > w->size - w->done) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: writing %zu more bytes would exceed the declared "
		    "size of %ju (%ju already written)", w->path, len,
		    (uintmax_t)w->size, (uintmax_t)w->done);
		goto out;
	}
	while (len > 0) {
		n = archive_write_data(w->a, p, len);
		if (n < 0) {
			rc = error_set(err, SATCHEL_ERR, "%s: writing data: %s",
			    w->path, bundle_archive_errstr(w->a));
			goto out;
		}
		if (n == 0 || (size_t)n > len) {
			rc = error_set(err, SATCHEL_ERR,
			    "%s: libarchive accepted %zd of %zu bytes", w->path,
			    (ssize_t)n, len);
			goto out;
		}
		p += n;
		len -= (size_t)n;
		w->done += (uint64_t)n;
	}
	rc = bundle_writer_check_io(w, err);
out:
	if (rc != 0)
		w->failed = 1;
	uselocale(old);
	return rc;
}

int
bundle_writer_finish(struct bundle_writer *w, struct error *err)
{
	locale_t	 old;
	int		 rc;

	old = uselocale(w->loc);
	if ((rc = bundle_writer_usable(w, err)) != 0)
		goto out;
	if ((rc = bundle_writer_check_entry(w, err)) != 0)
		goto out;
	if (archive_write_close(w->a) != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_ERR, "finishing %s: %s", w->what,
		    bundle_archive_errstr(w->a));
		goto out;
	}
	if ((rc = bundle_writer_check_io(w, err)) != 0)
		goto out;
	w->finished = 1;
out:
	if (rc != 0)
		w->failed = 1;
	uselocale(old);
	return rc;
}

void
bundle_writer_free(struct bundle_writer *w)
{
	locale_t	 old;

	if (w == NULL)
		return;
	if (w->a != NULL) {
		old = uselocale(w->loc);
		/*
		 * An unfinished archive is closed into the void: closing
		 * frees libarchive's buffers, and the padding and end of
		 * archive (or central directory) it writes must not reach
		 * the caller's fd.
		 */
		if (!w->finished) {
			w->discard = 1;
			archive_write_close(w->a);
		}
		archive_write_free(w->a);
		uselocale(old);
	}
	if (w->mem != NULL) {
		buf_free(w->mem);
		free(w->mem);
	}
	if (w->loc != (locale_t)0)
		freelocale(w->loc);
	free(w->path);
	free(w);
}

/* Not archive_version_details(): 3.6.2 leaks a buffer on every call, and
 * it names libraries a zip does not use. */
void
bundle_writer_zip_version(char *buf, size_t len)
{
	snprintf(buf, len, "%s zlib/%s", archive_version_string(),
	    zlibVersion());
}

/*
 * Explains why archive_read_open_filename() failed. It already reads the
 * first blocks to choose a filter and a format, so this is where a file
 * that is not a bundle at all is recognised: no zstd filter means "not
 * zstd", a zstd filter but no format means "not tar".
 */
static int
bundle_reader_open_error(struct bundle_reader *r, struct error *err)
{
	struct stat	 st;
	const char	*msg = bundle_archive_errstr(r->a);
	int		 e = archive_errno(r->a), nfilters;

	if (e == ENOENT)
		return error_set(err, SATCHEL_ENOTFOUND, "%s: %s", r->name,
		    strerror(e));
	/* libarchive's private ARCHIVE_ERRNO_FILE_FORMAT and _PROGRAMMER
	 * are EILSEQ (EFTYPE elsewhere) and EINVAL; others come from the
	 * system. */
	if (e > 0 && e != EILSEQ && e != EINVAL)
		return error_set(err, SATCHEL_ERR, "%s: %s (%s)", r->name,
		    msg, strerror(e));
	if (stat(r->name, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: not a Satchel bundle archive (empty file)", r->name);
	nfilters = archive_filter_count(r->a);
	if (nfilters > 0 && archive_filter_code(r->a, 0) != ARCHIVE_FILTER_ZSTD)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: not a Satchel bundle archive (not zstd-compressed)",
		    r->name);
	if (nfilters > 0 && archive_format(r->a) == 0)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: not a Satchel bundle archive (zstd data is not a tar "
		    "archive: %s)", r->name, msg);
	return error_set(err, SATCHEL_EINVALID,
	    "%s: truncated or corrupt archive: %s", r->name, msg);
}

/* On success *out belongs to the caller: release it with
 * bundle_reader_free(). */
int
bundle_reader_open(struct bundle_reader **out, const char *path,
    struct error *err)
{
	struct bundle_reader	*r;
	locale_t		 old = (locale_t)0;
	int			 rc;

	r = xcalloc(1, sizeof *r);
	r->name = xstrdup(path);
	if ((rc = bundle_archive_locale(&r->loc, err)) != 0)
		goto out;
	old = uselocale(r->loc);

	if ((r->a = archive_read_new()) == NULL)
		fatal("archive_read_new: out of memory");
	/* Only zstd and tar: anything else is not ours to read. */
	if (archive_read_support_filter_zstd(r->a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(r->a) != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_ERR, "%s: archive reader setup: %s",
		    r->name, bundle_archive_errstr(r->a));
		goto out;
	}
	if (archive_read_open_filename(r->a, path,
	    BUNDLE_ARCHIVE_READ_BLOCK) != ARCHIVE_OK) {
		rc = bundle_reader_open_error(r, err);
		goto out;
	}
	/* An uncompressed tar opens fine; it is still not a bundle. */
	if (archive_filter_count(r->a) != 2 ||
	    archive_filter_code(r->a, 0) != ARCHIVE_FILTER_ZSTD) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: not a Satchel bundle archive (not zstd-compressed)",
		    r->name);
		goto out;
	}
	*out = r;
	r = NULL;			/* ownership moved to the caller */
out:
	if (old != (locale_t)0)
		uselocale(old);		/* before r->loc is freed */
	bundle_reader_free(r);
	return rc;
}

/* Names what an entry is when it is not a plain regular file, or NULL. */
static const char *
bundle_reader_entry_kind(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae) != NULL ||
	    archive_entry_hardlink_utf8(ae) != NULL)
		return "hard link";
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		break;
	case AE_IFDIR:
		return "directory";
	case AE_IFLNK:
		return "symbolic link";
	case AE_IFCHR:
		return "character device";
	case AE_IFBLK:
		return "block device";
	case AE_IFIFO:
		return "FIFO";
	case AE_IFSOCK:
		return "socket";
	default:
		return "unknown file type";
	}
	/* Holes would be filled in by libarchive, not read from the file. */
	if (archive_entry_sparse_count(ae) > 0)
		return "sparse file";
	return NULL;
}

int
bundle_reader_next(struct bundle_reader *r, struct bundle_entry *e,
    struct error *err)
{
	struct archive_entry	*ae;
	const char		*path, *kind;
	locale_t		 old;
	int			 rc, ar;

	old = uselocale(r->loc);
	if (r->failed) {
		rc = error_set(err, SATCHEL_ERR,
		    "%s: archive reader unusable after an earlier error",
		    r->name);
		goto out;
	}
	if (r->eof) {
		rc = 0;
		goto out;
	}
	free(r->path);
	r->path = NULL;
	r->size = r->done = 0;
	r->index++;

	/* Skips (and so checks) whatever the caller left unread. */
	ar = archive_read_next_header(r->a, &ae);
	if (ar == ARCHIVE_EOF) {
		r->eof = 1;
		rc = 0;
		goto out;
	}
	if (ar != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: truncated or corrupt archive: entry %ju: %s", r->name,
		    (uintmax_t)r->index, bundle_archive_errstr(r->a));
		goto out;
	}
	if ((path = archive_entry_pathname_utf8(ae)) == NULL) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: entry %ju: path is not valid UTF-8", r->name,
		    (uintmax_t)r->index);
		goto out;
	}
	if ((kind = bundle_reader_entry_kind(ae)) != NULL) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: %s: %s entries are not allowed", r->name, path, kind);
		goto out;
	}
	if (!archive_entry_size_is_set(ae) || archive_entry_size(ae) < 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: %s: entry has no valid size", r->name, path);
		goto out;
	}

	r->path = xstrdup(path);
	r->size = (uint64_t)archive_entry_size(ae);
	e->path = r->path;		/* ours until the next call */
	e->mode = (uint32_t)(archive_entry_perm(ae) & 07777);
	e->size = r->size;
	e->mtime = (int64_t)archive_entry_mtime(ae);
	rc = 1;
out:
	if (rc < 0)
		r->failed = 1;
	uselocale(old);
	return rc;
}

/*
 * Streams the current entry. libarchive reports most truncation itself,
 * but a 0 before the declared size must never pass for the end of the
 * entry, and no call may hand out more than the declared size.
 */
ssize_t
bundle_reader_read(struct bundle_reader *r, void *buf, size_t len,
    struct error *err)
{
	uint64_t	 left;
	size_t		 want;
	la_ssize_t	 n;
	locale_t	 old;
	ssize_t		 rc;

	old = uselocale(r->loc);
	if (r->failed) {
		rc = error_set(err, SATCHEL_ERR,
		    "%s: archive reader unusable after an earlier error",
		    r->name);
		goto out;
	}
	if (r->path == NULL) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: read without a current entry", r->name);
		goto out;
	}
	left = r->size - r->done;
	if (left == 0 || len == 0) {
		rc = 0;
		goto out;
	}
	want = len;
	if (want > left)
		want = (size_t)left;
	if (want > SSIZE_MAX)
		want = SSIZE_MAX;

	n = archive_read_data(r->a, buf, want);
	if (n < 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: truncated or corrupt archive: %s: %s", r->name,
		    r->path, bundle_archive_errstr(r->a));
		goto out;
	}
	if (n == 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: %s: truncated data (%ju of %ju bytes)", r->name,
		    r->path, (uintmax_t)r->done, (uintmax_t)r->size);
		goto out;
	}
	if ((size_t)n > want) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: %s: more data than the declared size", r->name,
		    r->path);
		goto out;
	}
	r->done += (uint64_t)n;
	rc = n;
out:
	if (rc < 0)
		r->failed = 1;
	uselocale(old);
	return rc;
}

void
bundle_reader_free(struct bundle_reader *r)
{
	locale_t	 old;

	if (r == NULL)
		return;
	if (r->a != NULL) {
		old = uselocale(r->loc);
		archive_read_free(r->a);
		uselocale(old);
	}
	if (r->loc != (locale_t)0)
		freelocale(r->loc);
	free(r->name);
	free(r->path);
	free(r);
}
