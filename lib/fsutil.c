/*
 * fsutil.c owns whole-file reads with limits and atomic writes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "util.h"

/*
 * Why: a store's files are regular files, and a FIFO planted in a store
 * on a USB drive (or a device node) would block open() or read() for
 * ever. Opened without blocking, and refused unless regular.
 */
int
file_open_regular(int *fd, const char *path, struct error *err)
{
	struct stat	st;

	if ((*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return error_set(err, errno == ENOENT ? SATCHEL_ENOTFOUND :
		    SATCHEL_ERR, "%s: %s", path, strerror(errno));
	if (fstat(*fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return error_set(err, SATCHEL_EINVALID,
		    "%s: not a regular file", path);
	}
	return 0;
}

static int	file_read_fd(int, char **, size_t *, const char *, size_t,
		    struct error *);

int
file_read_all(char **out, size_t *len, const char *path, size_t max,
    struct error *err)
{
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return error_set(err, errno == ENOENT ? SATCHEL_ENOTFOUND : SATCHEL_ERR,
		    "%s: %s", path, strerror(errno));
	return file_read_fd(fd, out, len, path, max, err);
}

int
file_read_regular(char **out, size_t *len, const char *path, size_t max,
    struct error *err)
{
	int	fd, rc;

	if ((rc = file_open_regular(&fd, path, err)) != 0)
		return rc;
	return file_read_fd(fd, out, len, path, max, err);
}

/* Reads fd whole and closes it. */
static int
file_read_fd(int fd, char **out, size_t *len, const char *path, size_t max,
    struct error *err)
{
	struct stat	 st;
	struct buf	 b;
	ssize_t		 r;
	int		 rc = 0;

	buf_init(&b);
	if (fstat(fd, &st) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = error_set(err, SATCHEL_EINVALID, "%s: is a directory", path);
		goto out;
	}
	/* Checked before reading, and again while reading: the file may grow. */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "%s: larger than the limit of %zu bytes", path, max);
		goto out;
	}
	for (;;) {
		buf_reserve(&b, 65536);
		r = read(fd, b.data + b.len, 65536);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		b.len += (size_t)r;
		b.data[b.len] = '\0';
		if (b.len > max) {
			rc = error_set(err, SATCHEL_ELIMIT,
			    "%s: larger than the limit of %zu bytes", path, max);
			goto out;
		}
	}
	*out = buf_detach(&b, len);
out:
	buf_free(&b);
	close(fd);
	return rc;
}

int
write_all(int fd, const void *buf, size_t len, const char *name,
    struct error *err)
{
	const char	*p = buf;
	ssize_t		 w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return error_set(err, SATCHEL_ERR, "%s: write: %s", name,
			    strerror(errno));
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
atomic_file_open(struct atomic_file *af, const char *path, mode_t mode,
    struct error *err)
{
	char	*dup, *dir, *base;

	af->fd = -1;
	af->path = xstrdup(path);
	dup = xstrdup(path);
	dir = dirname(dup);
	base = basename(af->path);
	af->tmp = xasprintf("%s/.%s.tmp-XXXXXX", dir, base);
	free(dup);
	if ((af->fd = mkostemp(af->tmp, O_CLOEXEC)) == -1) {
		int	e = errno;

		error_set(err, SATCHEL_ERR, "%s: cannot create a temporary file: %s",
		    path, strerror(e));
		free(af->tmp);
		free(af->path);
		af->tmp = af->path = NULL;
		return SATCHEL_ERR;
	}
	if (fchmod(af->fd, mode) == -1) {
		error_set(err, SATCHEL_ERR, "%s: chmod: %s", af->tmp, strerror(errno));
		atomic_file_abort(af);
		return SATCHEL_ERR;
	}
	return 0;
}

int
atomic_file_commit(struct atomic_file *af, struct error *err)
{
	char	*dup;
	int	 dfd, rc = 0;

	if (fsync(af->fd) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: fsync: %s", af->path, strerror(errno));
		goto out;
	}
	if (close(af->fd) == -1) {
		af->fd = -1;
		rc = error_set(err, SATCHEL_ERR, "%s: close: %s", af->path, strerror(errno));
		goto out;
	}
	af->fd = -1;
	if (rename(af->tmp, af->path) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: rename: %s", af->path, strerror(errno));
		goto out;
	}
	free(af->tmp);
	af->tmp = NULL;
	dup = xstrdup(af->path);
	if ((dfd = open(dirname(dup), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	free(dup);
out:
	atomic_file_abort(af);
	return rc;
}

void
atomic_file_abort(struct atomic_file *af)
{
	if (af == NULL)
		return;
	if (af->fd != -1)
		close(af->fd);
	af->fd = -1;
	if (af->tmp != NULL)
		unlink(af->tmp);
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
}

/* Matches what atomic_file_open names its temporary files; a crash
 * between mkostemp and the rename leaves one behind. */
void
atomic_file_remove_stale(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	char		*p;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strstr(de->d_name, ".tmp-") == NULL)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
}

int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct error *err)
{
	struct atomic_file	af;
	int			rc;

	if ((rc = atomic_file_open(&af, path, mode, err)) != 0)
		return rc;
	if ((rc = write_all(af.fd, data, len, path, err)) != 0) {
		atomic_file_abort(&af);
		return rc;
	}
	return atomic_file_commit(&af, err);
}

int
file_has_prefix(const char *path, const void *prefix, size_t len, int *same,
    struct error *err)
{
	char	*buf;
	size_t	 got = 0;
	ssize_t	 n;
	int	 fd;

	*same = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return error_set(err, SATCHEL_ERR, "%s: %s", path, strerror(errno));
	buf = xmalloc(len == 0 ? 1 : len);
	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*same = got == len && memcmp(buf, prefix, len) == 0;
	free(buf);
	close(fd);
	return 0;
}

int
file_append_from(const char *path, off_t from, int out, struct error *err)
{
	char	*buf = NULL;
	off_t	 off = from;
	ssize_t	 n;
	int	 in, rc = 0;

	if ((in = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return error_set(err, SATCHEL_ERR, "%s: %s", path, strerror(errno));
	for (;;) {
		n = copy_file_range(in, &off, out, NULL, 1 << 30, 0);
		if (n == 0)
			goto out;
		if (n > 0 || errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
		    errno != EOPNOTSUPP) {
			rc = error_set(err, SATCHEL_ERR, "%s: copy: %s", path,
			    strerror(errno));
			goto out;
		}
		break;		/* not supported here: copy by hand */
	}
	buf = xmalloc(1 << 20);
	for (;;) {
		n = pread(in, buf, 1 << 20, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: read: %s", path,
			    strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if ((rc = write_all(out, buf, (size_t)n, path, err)) != 0)
			break;
		off += n;
	}
out:
	free(buf);
	close(in);
	return rc;
}

int
dir_is_empty(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 empty = 1;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 1 : -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}
