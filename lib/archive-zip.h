/*
 * archive-zip.h: writing .zip files (what a learner downloads as "this
 * lesson"). With lib/bundle-archive.c, one of the two modules that include
 * <archive.h>: libarchive is used only in lib/archive*.c and
 * lib/bundle-archive.c. It knows zip, not manifests: lib/lesson-zip.c
 * decides what goes in.
 */
#ifndef SATCHEL_ARCHIVE_ZIP_H
#define SATCHEL_ARCHIVE_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct zip_writer;

/* How an entry's bytes are stored. */
#define ZIP_STORE	0	/* as they are: already-compressed media */
#define ZIP_DEFLATE	1	/* deflate, the method every unzip knows */

/* Starts a zip written sequentially to fd from its current offset (a
 * pipe will do; fd is left open, the caller fsyncs and closes). Memory
 * use is bounded by a 64 KiB output block and libarchive's central
 * directory (some 60 bytes plus the path per entry), never by the size
 * of an entry. The same calls give the same bytes in the same time zone
 * (see archive-zip.c on DOS times). */
int	zip_writer_open(struct zip_writer **out, int fd, struct error *err);
/* Starts a regular-file entry of exactly size bytes: path is UTF-8 text
 * (flagged as UTF-8 when not ASCII), mode 0644 or 0755, mtime in seconds
 * since 1970; uid and gid 0 with no names, no other times. */
int	zip_writer_begin(struct zip_writer *, const char *path, uint32_t mode,
	    uint64_t size, int64_t mtime, int method, struct error *err);
int	zip_writer_write(struct zip_writer *, const void *data, size_t len,
	    struct error *err);
/* Writes the central directory and flushes everything to fd. */
int	zip_writer_finish(struct zip_writer *, struct error *err);
/* NULL-safe. An unfinished zip is abandoned: nothing more reaches fd. */
void	zip_writer_free(struct zip_writer *);

/* libarchive's and zlib's versions ("libarchive 3.6.2 zlib/1.2.13"):
 * they shape the bytes of a zip. */
void	zip_writer_version(char *buf, size_t len);

#endif
