/*
 * bundle-archive.h: bundle archives on disk (pax tar compressed with zstd),
 * and the .zip files of lesson downloads, made by the same writer. The
 * only module that includes <archive.h>. It knows tar, zstd and zip, not
 * manifests: lib/bundle.c decides what goes in a bundle and checks what
 * comes out, lib/lesson-zip.c what goes in a zip.
 */
#ifndef SATCHEL_BUNDLE_ARCHIVE_H
#define SATCHEL_BUNDLE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct bundle_writer;
struct bundle_reader;

/* Starts an archive written to fd (left open; the caller fsyncs and
 * closes). Output is reproducible: the same calls give the same bytes.
 * Every entry is a regular file owned by uid/gid 0 with no user or group
 * names, modification time mtime, no other times, no extended
 * attributes; paths are stored as UTF-8 (pax headers where needed). */
int	bundle_writer_open(struct bundle_writer **out, int fd, int64_t mtime,
	    struct error *err);
/* A writer for an archive's head: plain tar kept in memory, finished by
 * bundle_writer_finish_head into one zstd frame without the tar
 * end-of-archive. A bundle archive is a head frame followed by what a
 * bundle_writer_open writer writes (the rest of the entries and the end
 * of the archive): zstd frames concatenate, and so do tar streams. */
int	bundle_writer_open_head(struct bundle_writer **out, int64_t mtime,
	    struct error *err);
/* *out (malloc'd) is the head frame, stored uncompressed so that its
 * size is bundle_head_frame_size() of its two entries' sizes; the writer
 * is then only freed. */
int	bundle_writer_finish_head(struct bundle_writer *, char **out,
	    size_t *len, struct error *err);
/* The size of the head frame holding two entries of these sizes. */
uint64_t bundle_head_frame_size(uint64_t size1, uint64_t size2);
/* Starts an entry of exactly size bytes; mode is 0644 or 0755. */
int	bundle_writer_begin(struct bundle_writer *, const char *path,
	    uint32_t mode, uint64_t size, struct error *err);
int	bundle_writer_write(struct bundle_writer *, const void *data,
	    size_t len, struct error *err);
/* Writes the end of the archive and flushes everything to fd. */
int	bundle_writer_finish(struct bundle_writer *, struct error *err);
/* NULL-safe. An unfinished archive is abandoned: nothing more reaches fd. */
void	bundle_writer_free(struct bundle_writer *);

/* How a zip entry's bytes are stored. */
#define ZIP_STORE	0	/* as they are: already-compressed media */
#define ZIP_DEFLATE	1	/* deflate, the method every unzip knows */

/* Starts a zip written sequentially to fd from its current offset (a
 * pipe will do; fd is left open, the caller fsyncs and closes), to be
 * filled with bundle_writer_begin_zip, _write and _finish. Memory use is
 * bounded by a 64 KiB output block and libarchive's central directory
 * (some 60 bytes plus the path per entry), never by the size of an
 * entry. The same calls give the same bytes in the same time zone (see
 * bundle-archive.c on DOS times). */
int	bundle_writer_open_zip(struct bundle_writer **out, int fd,
	    struct error *err);
/* Starts a zip's regular-file entry of exactly size bytes: path is UTF-8
 * text (flagged as UTF-8 when not ASCII), mode 0644 or 0755, mtime in
 * seconds since 1970, method ZIP_STORE or ZIP_DEFLATE; uid and gid 0 with
 * no names, no other times. */
int	bundle_writer_begin_zip(struct bundle_writer *, const char *path,
	    uint32_t mode, uint64_t size, int64_t mtime, int method,
	    struct error *err);
/* libarchive's and zlib's versions ("libarchive 3.6.2 zlib/1.2.13"):
 * they shape the bytes of a zip. */
void	bundle_writer_zip_version(char *buf, size_t len);

struct bundle_entry {
	const char	*path;	/* UTF-8; valid until the next call */
	uint32_t	 mode;	/* permission bits only, e.g. 0644 */
	uint64_t	 size;
	int64_t		 mtime;
};

/* Opens the archive at path for streaming reads; messages name path. */
int	bundle_reader_open(struct bundle_reader **out, const char *path,
	    struct error *err);
/* Advances to the next entry: 1 and *e filled, 0 at the end of the
 * archive, negative on error. Refuses (EINVALID, naming the entry) any
 * entry that is not a regular file (directories, symlinks, hardlinks,
 * devices), and corrupt or truncated data. Path safety is the caller's
 * job. */
int	bundle_reader_next(struct bundle_reader *, struct bundle_entry *e,
	    struct error *err);
/* Reads the current entry's data: bytes read, 0 at its end, negative on
 * error (corrupt or truncated archive). */
ssize_t	bundle_reader_read(struct bundle_reader *, void *buf, size_t len,
	    struct error *err);
void	bundle_reader_free(struct bundle_reader *);	/* NULL-safe */

#endif
