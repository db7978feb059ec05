/*
 * store-delta.c owns what a store knows of deltas (protocol/SPEC.md §10
 * "Deltas", §11 "Deltas"): the choice of a base for a changed file, which
 * the client makes and a publisher may make ahead of it, and the cache
 * of deltas in STORE/deltas/, which satcheld fills on first request and
 * serves from any byte offset.
 *
 * Decisions:
 * - Cache files are named by what they are made of, so a delta is made
 *   once per (target, base) and any node makes the same one: the codec
 *   (delta.c) is deterministic, which is what lets a cut transfer resume
 *   from an offset of a file the server made again meanwhile.
 * - Written to a hidden temporary file and renamed, without fsync: a
 *   delta is a cache, and one that a crash damaged fails the client's
 *   check of the rebuilt object, which then fetches it whole (and gc
 *   clears it with the releases it served).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "crypto.h"
#include "delta.h"
#include "fsutil.h"
#include "msg.h"
#include "store-delta.h"
#include "util.h"

#define OBJECT_READ	(256u << 10)

static const char *
final_component(const char *path)
{
	const char	*s = strrchr(path, '/');

	return s == NULL ? path : s + 1;
}

static int
bypath_cmp(const void *a, const void *b)
{
	const struct manifest_file	*x = *(const struct manifest_file *const *)a;
	const struct manifest_file	*y = *(const struct manifest_file *const *)b;

	return strcmp(x->path, y->path);
}

/* By final component, then path: the candidates for one name are a run. */
static int
byname_cmp(const void *a, const void *b)
{
	const struct manifest_file	*x = *(const struct manifest_file *const *)a;
	const struct manifest_file	*y = *(const struct manifest_file *const *)b;
	int				 c;

	if ((c = strcmp(final_component(x->path), final_component(y->path))) != 0)
		return c;
	return strcmp(x->path, y->path);
}

void
delta_index_init(struct delta_index *ix, const struct manifest *base)
{
	size_t	i;

	memset(ix, 0, sizeof *ix);
	if (base == NULL || base->nfiles == 0)
		return;
	ix->n = base->nfiles;
	ix->bypath = xreallocarray(NULL, ix->n, sizeof *ix->bypath);
	ix->byname = xreallocarray(NULL, ix->n, sizeof *ix->byname);
	for (i = 0; i < ix->n; i++)
		ix->bypath[i] = ix->byname[i] = &base->files[i];
	qsort(ix->bypath, ix->n, sizeof *ix->bypath, bypath_cmp);
	qsort(ix->byname, ix->n, sizeof *ix->byname, byname_cmp);
}

void
delta_index_free(struct delta_index *ix)
{
	free(ix->bypath);
	free(ix->byname);
	memset(ix, 0, sizeof *ix);
}

const struct manifest_file *
delta_pick_base(const struct delta_index *ix, const struct manifest_file *f)
{
	const struct manifest_file	*key = f, **hit, *best = NULL;
	const char			*name = final_component(f->path);
	uint64_t			 d, bestd = UINT64_MAX;
	size_t				 lo = 0, hi = ix->n, mid;

	if (ix->n == 0 || f->size < DELTA_MIN_SIZE)
		return NULL;
	hit = bsearch(&key, ix->bypath, ix->n, sizeof *ix->bypath, bypath_cmp);
	if (hit != NULL) {
		if ((*hit)->size == 0 ||
		    memcmp((*hit)->sha256, f->sha256, SHA256_LEN) == 0)
			return NULL;
		return *hit;
	}
	/* The first file of that final component, then the run of them. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(final_component(ix->byname[mid]->path), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->n &&
	    strcmp(final_component(ix->byname[lo]->path), name) == 0; lo++) {
		const struct manifest_file	*b = ix->byname[lo];

		if (b->size == 0 || memcmp(b->sha256, f->sha256, SHA256_LEN) == 0)
			continue;
		d = b->size > f->size ? b->size - f->size : f->size - b->size;
		if (d < bestd) {
			bestd = d;
			best = b;
		}
	}
	return best;
}

static char *
delta_dir(const struct store *s, const uint8_t target[32])
{
	char	hex[SHA256_HEX_LEN + 1];

	hex_encode(hex, target, SHA256_LEN);
	return xasprintf("%s/deltas/%.2s", store_dir(s), hex);
}

char *
store_delta_path(const struct store *s, const uint8_t target[32],
    const uint8_t base[32])
{
	char	th[SHA256_HEX_LEN + 1], bh[SHA256_HEX_LEN + 1];

	hex_encode(th, target, SHA256_LEN);
	hex_encode(bh, base, SHA256_LEN);
	return xasprintf("%s/deltas/%.2s/%s-%s", store_dir(s), th, th, bh);
}

/* deltas/ and deltas/TT/ for path's file; a gc may remove them at any
 * time, so they are made again each time a delta is. */
static int
delta_mkdirs(const struct store *s, const uint8_t target[32],
    struct error *err)
{
	char	*top = xasprintf("%s/deltas", store_dir(s));
	char	*sub = delta_dir(s, target);
	int	 rc = 0;

	if ((mkdir(top, 0755) == -1 && errno != EEXIST) ||
	    (mkdir(sub, 0755) == -1 && errno != EEXIST))
		rc = error_set(err, SATCHEL_ERR, "%s: %s", sub, strerror(errno));
	free(top);
	free(sub);
	return rc;
}

/* A hidden temporary file beside path (gc removes leftovers). */
static int
delta_tmp(const char *path, char **tmp, struct error *err)
{
	const char	*slash = strrchr(path, '/');
	int		 fd;

	*tmp = xasprintf("%.*s/.%s.tmp-XXXXXX", (int)(slash - path), path,
	    slash + 1);
	if ((fd = mkstemp(*tmp)) == -1 || fchmod(fd, 0644) == -1) {
		error_set(err, SATCHEL_ERR, "%s: %s", *tmp, strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(*tmp);
		}
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	return fd;
}

static int
open_object(const struct store *s, const uint8_t sha[32], uint64_t *size,
    struct error *err)
{
	struct stat	 st;
	char		*path = store_object_path(s, sha);
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		if (errno == ENOENT)
			error_set(err, SATCHEL_ENOTFOUND, "%s: no such object",
			    path);
		else
			error_set(err, SATCHEL_ERR, "%s: %s", path,
			    strerror(errno));
		if (fd != -1)
			close(fd);
		free(path);
		return -1;
	}
	free(path);
	*size = (uint64_t)st.st_size;
	return fd;
}

/*
 * The size of fd's size bytes as one zstd frame at level 3, as the
 * object itself would travel (streamed through a small buffer, counted,
 * dropped). 0 when it cannot be read: the caller then keeps the delta.
 */
static uint64_t
plain_size(int fd, uint64_t size)
{
	ZSTD_CCtx	*z;
	ZSTD_inBuffer	 in;
	ZSTD_outBuffer	 out;
	uint8_t		*ib, *ob;
	uint64_t	 total = 0, off = 0;
	size_t		 r, cap = ZSTD_CStreamOutSize();
	ssize_t		 n;

	if ((z = ZSTD_createCCtx()) == NULL)
		return 0;
	ib = xmalloc(OBJECT_READ);
	ob = xmalloc(cap);
	(void)ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 3);
	(void)ZSTD_CCtx_setPledgedSrcSize(z, size);
	for (;;) {
		n = off < size ? pread(fd, ib, OBJECT_READ, (off_t)off) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && off < size)) {
			total = 0;
			break;
		}
		off += (uint64_t)n;
		in.src = ib;
		in.size = (size_t)n;
		in.pos = 0;
		do {
			out.dst = ob;
			out.size = cap;
			out.pos = 0;
			r = ZSTD_compressStream2(z, &out, &in, off >= size ?
			    ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(r)) {
				total = 0;
				goto out;
			}
			total += out.pos;
		} while (off >= size ? r != 0 : in.pos < in.size);
		if (off >= size)
			break;
	}
out:
	free(ib);
	free(ob);
	ZSTD_freeCCtx(z);
	return total;
}

/*
 * 1 when a delta of dsize bytes is not worth sending for a target of
 * tsize bytes: when it saves less than half of what the target costs
 * whole. Why decline: a file sent whole travels in a pack with the other
 * whole files (OBJECT_PACK), one zstd frame across them, where a delta
 * of a rewritten page is only that page compressed alone. A delta under
 * 1/20 of the target's raw size is kept without looking further.
 */
static int
delta_declined(int tfd, uint64_t tsize, uint64_t dsize)
{
	uint64_t	plain;

	if (dsize * 20 <= tsize)
		return 0;
	plain = plain_size(tfd, tsize);
	return plain != 0 && dsize * 2 > plain;
}

int
store_delta_open(const struct store *s, const uint8_t target[32],
    const uint8_t base[32], int *fdp, uint64_t *sizep, struct error *err)
{
	struct stat	 st;
	char		*path = store_delta_path(s, target, base), *tmp = NULL;
	uint64_t	 tsize, bsize;
	int		 fd, tfd = -1, bfd = -1, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		if (fstat(fd, &st) == 0)
			goto found;
		close(fd);
	}
	if ((tfd = open_object(s, target, &tsize, err)) == -1 ||
	    (bfd = open_object(s, base, &bsize, err)) == -1) {
		rc = err->code;
		goto out;
	}
	if ((rc = delta_mkdirs(s, target, err)) != 0)
		goto out;
	if ((fd = delta_tmp(path, &tmp, err)) == -1) {
		rc = SATCHEL_ERR;
		goto out;
	}
	if ((rc = delta_encode(bfd, bsize, tfd, tsize, fd, err)) != 0 ||
	    fstat(fd, &st) == -1 ||
	    (delta_declined(tfd, tsize, (uint64_t)st.st_size) &&
	    (ftruncate(fd, 0) == -1 || fstat(fd, &st) == -1)) ||
	    lseek(fd, 0, SEEK_SET) == -1 || rename(tmp, path) == -1) {
		if (rc == 0)
			rc = error_set(err, SATCHEL_ERR, "%s: %s", path,
			    strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
found:
	/* Empty: declined (no target this small gets a delta). */
	if (st.st_size == 0) {
		close(fd);
		fd = -1;
	}
	*fdp = fd;
	*sizep = (uint64_t)st.st_size;
out:
	if (tfd != -1)
		close(tfd);
	if (bfd != -1)
		close(bfd);
	free(tmp);
	free(path);
	return rc;
}

int
store_meta_delta(const struct store *s, const char *target, size_t tlen,
    const char *base, size_t blen, char **out, size_t *outlen,
    struct error *err)
{
	struct buf	 b;
	uint8_t		 th[SHA256_LEN], bh[SHA256_LEN];
	char		*p, *path, *tmp = NULL;
	int		 fd, rc;

	sha256(target, tlen, th);
	sha256(base, blen, bh);
	p = store_delta_path(s, th, bh);
	path = xasprintf("%s.m", p);
	free(p);
	if (file_read_all(out, outlen, path, 2 * (size_t)MSG_SIGNED_MANIFEST_MAX, err) == 0) {
		free(path);
		return 0;
	}
	buf_init(&b);
	if ((rc = delta_encode_buf(base, blen, target, tlen, &b, err)) != 0)
		goto out;
	/* Only a cache: a failure to keep it costs the next request time. */
	if (delta_mkdirs(s, th, err) == 0 &&
	    (fd = delta_tmp(path, &tmp, err)) != -1) {
		if (write_all(fd, b.data, b.len, tmp, err) != 0 ||
		    close(fd) == -1 || rename(tmp, path) == -1)
			unlink(tmp);
		free(tmp);
	}
	*out = b.data;
	*outlen = b.len;
	buf_init(&b);
out:
	buf_free(&b);
	free(path);
	return rc;
}

static int
sha_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SHA256_LEN);
}

void
store_delta_gc(const struct store *s, const uint8_t (*live)[32], size_t n)
{
	char		*top = xasprintf("%s/deltas", store_dir(s)), *sub, *p;
	DIR		*d, *sd;
	struct dirent	*de, *fe;
	uint8_t		 th[SHA256_LEN], bh[SHA256_LEN];
	int		 keep;

	if ((d = opendir(top)) == NULL) {
		free(top);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", top, de->d_name);
		if ((sd = opendir(sub)) != NULL) {
			while ((fe = readdir(sd)) != NULL) {
				if (strcmp(fe->d_name, ".") == 0 ||
				    strcmp(fe->d_name, "..") == 0)
					continue;
				/* TARGET-BASE[.m], both live: anything else
				 * goes (hidden files are cut writes). */
				size_t	len = strlen(fe->d_name);

				if (len == 2 * SHA256_HEX_LEN + 3 &&
				    strcmp(fe->d_name + len - 2, ".m") == 0)
					len -= 2;
				keep = len == 2 * SHA256_HEX_LEN + 1 &&
				    fe->d_name[SHA256_HEX_LEN] == '-' &&
				    hex_decode(th, SHA256_LEN, fe->d_name,
				    SHA256_HEX_LEN) == 0 &&
				    hex_decode(bh, SHA256_LEN,
				    fe->d_name + SHA256_HEX_LEN + 1,
				    SHA256_HEX_LEN) == 0 && n > 0 &&
				    bsearch(th, live, n, SHA256_LEN, sha_cmp) &&
				    bsearch(bh, live, n, SHA256_LEN, sha_cmp);
				if (keep)
					continue;
				p = xasprintf("%s/%s", sub, fe->d_name);
				unlink(p);
				free(p);
			}
			closedir(sd);
		}
		rmdir(sub);	/* only if empty */
		free(sub);
	}
	closedir(d);
	rmdir(top);
	free(top);
}

/*
 * Why ahead of time: the first mirror to ask would otherwise wait while
 * satcheld makes each delta (seconds for a large file at a high level),
 * and a publish is the moment the author waits anyway. The deltas made
 * are those a mirror holding the previous retained release will ask for:
 * the same choice of base (delta_pick_base), the same cache names.
 */
int
store_delta_precompute(const struct store *s, const char *name,
    uint64_t serial, struct store_delta_report *rep, struct error *err)
{
	const struct manifest_file	*f, *b;
	struct bundle_head		 nh, oh;
	struct delta_index		 ix;
	struct error			 one;
	uint64_t			*v = NULL, prev = 0, size;
	char				*np = NULL, *op = NULL, *nbuf = NULL;
	char				*obuf = NULL, *d = NULL;
	size_t				 n = 0, i, nlen, olen, dlen;
	int				 rc, fd;

	memset(rep, 0, sizeof *rep);
	memset(&nh, 0, sizeof nh);
	memset(&oh, 0, sizeof oh);
	if ((rc = store_release_list(s, name, &v, &n, err)) != 0)
		return rc;
	for (i = 0; i < n && prev == 0; i++)
		if (v[i] < serial)
			prev = v[i];
	free(v);
	if (prev == 0)
		return 0;		/* the first release: nothing to do */
	rep->base_serial = prev;
	if ((rc = store_release_load(s, name, serial, &nh, err)) != 0 ||
	    (rc = store_release_load(s, name, prev, &oh, err)) != 0)
		goto out;
	delta_index_init(&ix, oh.manifest);
	for (i = 0; i < nh.manifest->nfiles; i++) {
		f = &nh.manifest->files[i];
		if ((b = delta_pick_base(&ix, f)) == NULL)
			continue;
		if (store_delta_open(s, f->sha256, b->sha256, &fd, &size,
		    &one) != 0) {
			rep->failed++;
			continue;
		}
		if (fd == -1) {
			rep->declined++;
			continue;
		}
		close(fd);
		rep->made++;
		rep->bytes += size;
		rep->bytes_files += f->size;
	}
	delta_index_free(&ix);
	/* The manifest's, from the signed files themselves. */
	np = xasprintf("%s/meta/releases/%s/%llu.signed", store_dir(s), name,
	    (unsigned long long)serial);
	op = xasprintf("%s/meta/releases/%s/%llu.signed", store_dir(s), name,
	    (unsigned long long)prev);
	if (file_read_all(&nbuf, &nlen, np, MSG_SIGNED_MANIFEST_MAX,
	    &one) == 0 &&
	    file_read_all(&obuf, &olen, op, MSG_SIGNED_MANIFEST_MAX,
	    &one) == 0 &&
	    store_meta_delta(s, nbuf, nlen, obuf, olen, &d, &dlen, &one) == 0)
		rep->made++;
out:
	bundle_head_free(&nh);
	bundle_head_free(&oh);
	free(np);
	free(op);
	free(nbuf);
	free(obuf);
	free(d);
	return rc;
}
