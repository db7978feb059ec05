/*
 * fsutil.h: reading and writing whole files safely: size limits on read,
 * and outputs that appear only when complete (temp file + rename).
 */
#ifndef SATCHEL_FSUTIL_H
#define SATCHEL_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Reads path whole (NUL-terminated for convenience); a file larger than
 * max is ELIMIT, a missing one ENOTFOUND. Caller frees *out. */
int	file_read_all(char **out, size_t *len, const char *path, size_t max,
	    struct error *err);
/* The same for a file that must be a regular one (a store's): anything
 * else (a FIFO, a device) is EINVAL, without blocking. */
int	file_read_regular(char **out, size_t *len, const char *path,
	    size_t max, struct error *err);
/* Opens a regular file for reading (O_NONBLOCK: a FIFO never blocks the
 * open); anything else is EINVAL. */
int	file_open_regular(int *fd, const char *path, struct error *err);

/* A file being written: data goes to a temporary file next to path that
 * is renamed over path by atomic_file_commit and removed otherwise. */
struct atomic_file {
	int	 fd;
	char	*path;
	char	*tmp;
};

int	atomic_file_open(struct atomic_file *, const char *path, mode_t mode,
	    struct error *err);
/* fsyncs, closes and renames into place; then fsyncs the directory. */
int	atomic_file_commit(struct atomic_file *, struct error *err);
/* Removes the temporary file if it is still there. NULL-safe. */
void	atomic_file_abort(struct atomic_file *);
/* Removes from dir the temporary files of atomic writes cut short
 * (".NAME.tmp-XXXXXX"); the caller makes sure none is being written. */
void	atomic_file_remove_stale(const char *dir);
/* Writes all of buf; EINTR and short writes handled. */
int	write_all(int fd, const void *buf, size_t len, const char *name,
	    struct error *err);
/* *same = 1 when the file at path starts with the len bytes of prefix. */
int	file_has_prefix(const char *path, const void *prefix, size_t len,
	    int *same, struct error *err);
/* Appends the file at path, from byte from to its end, to out (at out's
 * offset); the kernel copies where it can (copy_file_range). */
int	file_append_from(const char *path, off_t from, int out,
	    struct error *err);
/* 1 if dir is missing or has no entries, 0 if it has some, -1 with errno
 * set if it cannot be read. */
int	dir_is_empty(const char *dir);
/* Writes data to path atomically with mode. */
int	file_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, struct error *err);

#endif
