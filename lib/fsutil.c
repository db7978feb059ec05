/*
 * fsutil.c owns whole-file reads with limits and atomic writes.
 */
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

int
file_read_all(char **out, size_t *len, const char *path, size_t max,
    struct error *err)
{
	struct stat	 st;
	struct buf	 b;
	ssize_t		 r;
	int		 fd, rc = 0;

	buf_init(&b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return error_set(err, errno == ENOENT ? SATCHEL_ENOTFOUND : SATCHEL_ERR,
		    "%s: %s", path, strerror(errno));
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
file_copy_fd(int in, int out, const char *name, struct error *err)
{
	char	*buf = NULL;
	off_t	 off = 0;
	ssize_t	 n;
	int	 rc = 0;

	for (;;) {
		n = copy_file_range(in, &off, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
		    errno != EOPNOTSUPP)
			return error_set(err, SATCHEL_ERR, "%s: copy: %s", name,
			    strerror(errno));
		break;		/* not supported here: copy by hand */
	}
	buf = xmalloc(1 << 20);
	for (;;) {
		n = pread(in, buf, 1 << 20, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: read: %s", name,
			    strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if ((rc = write_all(out, buf, (size_t)n, name, err)) != 0)
			break;
		off += n;
	}
	free(buf);
	return rc;
}

int
file_tmp_anon(const char *dir, struct error *err)
{
	char	*path;
	int	 fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1)
		return fd;
	path = xasprintf("%s/.satchel-tmp-XXXXXX", dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1)
		error_set(err, SATCHEL_ERR, "%s: cannot create a temporary file: %s",
		    dir, strerror(errno));
	else
		unlink(path);
	free(path);
	return fd;
}
