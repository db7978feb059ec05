/*
 * archive-zip.c owns writing .zip files with libarchive: deterministic
 * entries (fixed owner, mode and time from the caller, nothing from the
 * environment), streamed to a file descriptor through one bounded output
 * block. It knows nothing of manifests or stores.
 *
 * A writer is single-use: after any error only zip_writer_free() is
 * valid, so a half-written zip is never finished.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive-zip.h"
#include "error.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

/*
 * Deflate level 6 (zlib's default), set explicitly so that a change of
 * default cannot silently change the bytes; lesson pages are small, and
 * on a Raspberry Pi level 9 costs far more time than it saves bytes.
 */
#define ZIP_DEFLATE_LEVEL	"6"
#define ZIP_BLOCK_SIZE		65536

struct zip_writer {
	struct archive	*a;
	locale_t	 loc;
	int		 fd;		/* the caller's; never closed here */
	int		 io_errno;	/* first write(2) error, or 0 */
	int		 discard;	/* drop output: abandoning the zip */
	char		*path;		/* current entry; NULL before the first */
	uint64_t	 size;		/* its declared size */
	uint64_t	 done;		/* bytes written to it so far */
	int		 failed;	/* an error was returned: only free */
	int		 finished;
};

/*
 * libarchive's zip writer turns an entry's mtime into the DOS date and
 * time of the zip headers with localtime(3): the local time of the
 * process, as zip tools expect (the "UT" extra field next to it carries
 * the UTC time, which unzip prefers). So the bytes depend on the time
 * zone, and localtime's static result is shared by every thread: headers
 * are written under this lock so that two zips built at once on two
 * worker threads cannot garble each other's dates. Nothing else in
 * Satchel calls localtime (it formats times with gmtime_r).
 */
static pthread_mutex_t	zip_header_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * libarchive converts entry names through the charset of the current
 * locale; under the C locale it cannot hand on UTF-8 names (see
 * lib/bundle-archive.c, which hit the same wall). Every libarchive call
 * here runs under a thread-local UTF-8 LC_CTYPE (uselocale), which leaves
 * the process locale and other threads alone.
 */
static int
zip_writer_locale(locale_t *out, struct error *err)
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
	return error_set(err, SATCHEL_ERR, "zip: no UTF-8 locale (C.UTF-8) "
	    "is installed; it is needed for UTF-8 entry names");
}

static const char *
zip_writer_errstr(struct archive *a)
{
	const char	*s;

	if (a == NULL || (s = archive_error_string(a)) == NULL)
		return "unknown libarchive error";
	return s;
}

/*
 * Output goes through here rather than archive_write_open_fd() so that an
 * abandoned zip can be closed (the only way libarchive frees its buffers)
 * without its central directory reaching the caller's fd. A write(2) error
 * is kept for the zip_writer_* call to report and never returned to
 * libarchive, whose FATAL state would skip the freeing close.
 */
static la_ssize_t
zip_writer_output_cb(struct archive *a, void *arg, const void *buf,
    size_t len)
{
	struct zip_writer	*w = arg;
	const char		*p = buf;
	size_t			 left = len;
	ssize_t			 n;

	if (w->discard || w->io_errno != 0)
		return (la_ssize_t)len;
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

static int
zip_writer_check_io(struct zip_writer *w, struct error *err)
{
	if (w->io_errno == 0)
		return 0;
	return error_set(err, SATCHEL_ERR, "writing zip: %s",
	    strerror(w->io_errno));
}

static int
zip_writer_usable(struct zip_writer *w, struct error *err)
{
	if (w->failed)
		return error_set(err, SATCHEL_ERR,
		    "zip writer: unusable after an earlier error");
	if (w->finished)
		return error_set(err, SATCHEL_EINVALID,
		    "zip writer: zip already finished");
	return 0;
}

/* A short entry would get a data descriptor with the short size and a
 * CRC of what was written, a valid zip of the wrong file: refuse it. */
static int
zip_writer_check_entry(struct zip_writer *w, struct error *err)
{
	if (w->path == NULL || w->done == w->size)
		return 0;
	return error_set(err, SATCHEL_EINVALID,
	    "%s: zip entry is short: %ju of %ju declared bytes written",
	    w->path, (uintmax_t)w->done, (uintmax_t)w->size);
}

/* On success *out belongs to the caller: release it with
 * zip_writer_free(). */
int
zip_writer_open(struct zip_writer **out, int fd, struct error *err)
{
	struct zip_writer	*w;
	locale_t		 old = (locale_t)0;
	int			 rc;

	w = xcalloc(1, sizeof *w);
	w->fd = fd;
	if ((rc = zip_writer_locale(&w->loc, err)) != 0)
		goto out;
	old = uselocale(w->loc);

	if ((w->a = archive_write_new()) == NULL)
		fatal("archive_write_new: out of memory");
	/*
	 * Every setting that shapes the bytes is explicit. "hdrcharset"
	 * UTF-8 makes libarchive set the UTF-8 flag (bit 11) on non-ASCII
	 * names, so unzip and Windows show Chinese file names correctly.
	 * One byte in the last block: no padding after the end record,
	 * which some readers would take for a comment-less trailer.
	 */
	if (archive_write_set_format_zip(w->a) != ARCHIVE_OK ||
	    archive_write_set_format_option(w->a, "zip", "hdrcharset",
	    "UTF-8") != ARCHIVE_OK ||
	    archive_write_set_format_option(w->a, "zip", "compression-level",
	    ZIP_DEFLATE_LEVEL) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, ZIP_BLOCK_SIZE) !=
	    ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_ERR, "zip writer setup: %s",
		    zip_writer_errstr(w->a));
		goto out;
	}
	if (archive_write_open2(w->a, w, NULL, zip_writer_output_cb, NULL,
	    NULL) != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_ERR, "zip writer open: %s",
		    zip_writer_errstr(w->a));
		goto out;
	}
	if ((rc = zip_writer_check_io(w, err)) != 0)
		goto out;
	*out = w;
	w = NULL;			/* ownership moved to the caller */
out:
	if (old != (locale_t)0)
		uselocale(old);		/* before w->loc is freed */
	zip_writer_free(w);
	return rc;
}

int
zip_writer_begin(struct zip_writer *w, const char *path, uint32_t mode,
    uint64_t size, int64_t mtime, int method, struct error *err)
{
	struct archive_entry	*ae = NULL;
	locale_t		 old;
	int			 rc, ar;

	old = uselocale(w->loc);
	if ((rc = zip_writer_usable(w, err)) != 0)
		goto out;
	if ((rc = zip_writer_check_entry(w, err)) != 0)
		goto out;
	if (path == NULL || *path == '\0' ||
	    !utf8_valid_text(path, strlen(path))) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "zip entry path is empty or not valid UTF-8 text");
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
	if (method != ZIP_STORE && method != ZIP_DEFLATE) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: unknown zip method %d", path, method);
		goto out;
	}
	/* Applies to the next header: libarchive reads it there. */
	if ((method == ZIP_STORE ?
	    archive_write_zip_set_compression_store(w->a) :
	    archive_write_zip_set_compression_deflate(w->a)) != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_ERR, "%s: zip method: %s", path,
		    zip_writer_errstr(w->a));
		goto out;
	}

	if ((ae = archive_entry_new()) == NULL)
		fatal("archive_entry_new: out of memory");
	if (archive_entry_update_pathname_utf8(ae, path) == 0 ||
	    archive_entry_pathname(ae) == NULL) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: path cannot be stored in a zip", path);
		goto out;
	}
	/* Nothing from the environment: no owner names, no other times. */
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, (mode_t)mode);
	archive_entry_set_size(ae, (la_int64_t)size);
	archive_entry_set_mtime(ae, (time_t)mtime, 0);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);

	free(w->path);
	w->path = xstrdup(path);
	w->size = size;
	w->done = 0;

	pthread_mutex_lock(&zip_header_lock);
	ar = archive_write_header(w->a, ae);
	pthread_mutex_unlock(&zip_header_lock);
	if (ar != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_ERR, "%s: writing zip header: %s",
		    path, zip_writer_errstr(w->a));
		goto out;
	}
	rc = zip_writer_check_io(w, err);
out:
	archive_entry_free(ae);		/* NULL-safe */
	if (rc != 0)
		w->failed = 1;
	uselocale(old);
	return rc;
}

int
zip_writer_write(struct zip_writer *w, const void *data, size_t len,
    struct error *err)
{
	const char	*p = data;
	la_ssize_t	 n;
	locale_t	 old;
	int		 rc;

	old = uselocale(w->loc);
	if ((rc = zip_writer_usable(w, err)) != 0)
		goto out;
	if (w->path == NULL) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "zip writer: data written before any entry");
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
			    w->path, zip_writer_errstr(w->a));
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
	rc = zip_writer_check_io(w, err);
out:
	if (rc != 0)
		w->failed = 1;
	uselocale(old);
	return rc;
}

int
zip_writer_finish(struct zip_writer *w, struct error *err)
{
	locale_t	 old;
	int		 rc;

	old = uselocale(w->loc);
	if ((rc = zip_writer_usable(w, err)) != 0)
		goto out;
	if ((rc = zip_writer_check_entry(w, err)) != 0)
		goto out;
	if (archive_write_close(w->a) != ARCHIVE_OK) {
		rc = error_set(err, SATCHEL_ERR, "finishing zip: %s",
		    zip_writer_errstr(w->a));
		goto out;
	}
	if ((rc = zip_writer_check_io(w, err)) != 0)
		goto out;
	w->finished = 1;
out:
	if (rc != 0)
		w->failed = 1;
	uselocale(old);
	return rc;
}

void
zip_writer_free(struct zip_writer *w)
{
	locale_t	 old;

	if (w == NULL)
		return;
	if (w->a != NULL) {
		old = uselocale(w->loc);
		/* Closed into the void: closing frees libarchive's buffers,
		 * and the central directory it writes must not reach fd. */
		if (!w->finished) {
			w->discard = 1;
			archive_write_close(w->a);
		}
		archive_write_free(w->a);
		uselocale(old);
	}
	if (w->loc != (locale_t)0)
		freelocale(w->loc);
	free(w->path);
	free(w);
}

/* Not archive_version_details(): 3.6.2 leaks a buffer on every call, and
 * it names libraries a zip does not use. */
void
zip_writer_version(char *buf, size_t len)
{
	snprintf(buf, len, "%s zlib/%s", archive_version_string(),
	    zlibVersion());
}
