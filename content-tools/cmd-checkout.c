/*
 * cmd-checkout.c: `satchel checkout`, a stored release laid out as a
 * plain tree (for a web server, a USB stick, a look inside).
 *
 * Why a tree is built beside DEST and renamed: whoever serves DEST sees
 * the old tree or the whole new one, never half of each. Why hard links
 * by default: objects are the files' exact bytes named by their SHA-256
 * (SPEC §10), so a link is the file, at the cost of one directory entry;
 * a 250 MB release lays out in a fraction of a second and takes no room.
 * The price is that a linked file is the store's object: it stays
 * read-only (0444) and must never be written through, so a file that the
 * manifest marks executable is copied, and --copy makes a tree that is
 * the checkout's own.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "catalog.h"
#include "crypto.h"
#include "fsutil.h"
#include "manifest.h"
#include "satchel.h"
#include "store.h"
#include "util.h"

#define CHECKOUT_CHUNK	(128u << 10)

enum checkout_how {
	CHECKOUT_AUTO,		/* link where the filesystem allows, else copy */
	CHECKOUT_LINK,
	CHECKOUT_COPY,
};

struct checkout {
	const struct store	*s;
	const char		*tmp;		/* the tree being built */
	enum checkout_how	 how;
	char			*lastdir;	/* the last directory made */
	size_t			 linked, copied;
	char			*chunk;
};

/* Makes the directories of rel (a manifest path) under co->tmp. Why the
 * last one is remembered: a manifest is sorted by path, so most files
 * share their directory with the one before. */
static int
checkout_dirs(struct checkout *co, const char *rel, struct error *err)
{
	const char	*slash = strrchr(rel, '/');
	char		*dir, *p, c;

	if (slash == NULL)
		return 0;
	dir = xasprintf("%s/%.*s", co->tmp, (int)(slash - rel), rel);
	if (co->lastdir != NULL && strcmp(co->lastdir, dir) == 0) {
		free(dir);
		return 0;
	}
	for (p = dir + strlen(co->tmp) + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			error_set(err, SATCHEL_ERR, "%s: %s", dir, strerror(errno));
			free(dir);
			return SATCHEL_ERR;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(co->lastdir);
	co->lastdir = dir;
	return 0;
}

/* Copies the object to dst with the manifest's mode, hashing on the
 * way: a damaged object is refused, not laid out. */
static int
checkout_copy(struct checkout *co, const char *obj, const char *dst,
    const struct manifest_file *f, struct error *err)
{
	struct sha256_ctx	*ctx = sha256_new();
	uint8_t			 digest[SHA256_LEN];
	uint64_t		 got = 0;
	ssize_t			 n;
	int			 in = -1, out = -1, rc = 0;

	if ((in = open(obj, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = error_set(err, errno == ENOENT ? SATCHEL_ENOTFOUND :
		    SATCHEL_ERR, "%s: object of \"%s\": %s", obj, f->path,
		    strerror(errno));
		goto out;
	}
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    (mode_t)f->mode)) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", dst, strerror(errno));
		goto out;
	}
	while (got <= f->size &&
	    (n = read(in, co->chunk, CHECKOUT_CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: read: %s", obj,
			    strerror(errno));
			goto out;
		}
		got += (uint64_t)n;
		if (got > f->size)
			break;
		sha256_update(ctx, co->chunk, (size_t)n);
		if ((rc = write_all(out, co->chunk, (size_t)n, dst, err)) != 0)
			goto out;
	}
	sha256_final(ctx, digest);
	if (got != f->size || memcmp(digest, f->sha256, SHA256_LEN) != 0) {
		rc = error_set(err, SATCHEL_EVERIFY, "%s: the object of \"%s\" "
		    "is damaged (its bytes do not match the signed manifest; "
		    "see satchel fsck)", obj, f->path);
		goto out;
	}
	/* The umask must not change what the manifest says. */
	if (fchmod(out, (mode_t)f->mode) == -1 || close(out) == -1) {
		out = -1;
		rc = error_set(err, SATCHEL_ERR, "%s: %s", dst, strerror(errno));
		goto out;
	}
	out = -1;
	co->copied++;
out:
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	sha256_free(ctx);
	return rc;
}

/* One file of the manifest into the tree: a link to its object when the
 * file is not executable and the filesystem allows, else a copy. A link
 * is checked by size only (reading every byte would cost what the link
 * saves; `satchel fsck` checks them all). */
static int
checkout_file(struct checkout *co, const struct manifest_file *f,
    struct error *err)
{
	char		*obj = store_object_path(co->s, f->sha256);
	char		*dst = xasprintf("%s/%s", co->tmp, f->path);
	struct stat	 sb;
	int		 rc;

	if ((rc = checkout_dirs(co, f->path, err)) != 0)
		goto out;
	if (co->how == CHECKOUT_COPY || (f->mode & 0111) != 0) {
		rc = checkout_copy(co, obj, dst, f, err);
		goto out;
	}
	if (stat(obj, &sb) == -1) {
		rc = error_set(err, errno == ENOENT ? SATCHEL_ENOTFOUND :
		    SATCHEL_ERR, "%s: object of \"%s\": %s", obj, f->path,
		    strerror(errno));
		goto out;
	}
	if ((uint64_t)sb.st_size != f->size) {
		rc = error_set(err, SATCHEL_EVERIFY, "%s: the object of \"%s\" "
		    "holds %llu bytes where its manifest says %llu (see "
		    "satchel fsck)", obj, f->path,
		    (unsigned long long)sb.st_size,
		    (unsigned long long)f->size);
		goto out;
	}
	if (link(obj, dst) == 0) {
		co->linked++;
		goto out;
	}
	if (co->how == CHECKOUT_AUTO && (errno == EXDEV || errno == EPERM ||
	    errno == EMLINK)) {
		/* Another filesystem (or one without hard links): copy
		 * this file and the rest. */
		if (errno != EMLINK)
			co->how = CHECKOUT_COPY;
		rc = checkout_copy(co, obj, dst, f, err);
		goto out;
	}
	rc = error_set(err, SATCHEL_ERR, "%s: cannot link %s: %s%s", dst, obj,
	    strerror(errno), errno == EXDEV ? " (DEST is on another "
	    "filesystem than the store: use --copy)" : "");
out:
	free(obj);
	free(dst);
	return rc;
}

static int
rm_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) == -1 && errno != ENOENT ? -1 : 0;
	return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}

/* Removes the tree at path (not following symbolic links). */
static void
rm_tree(const char *path)
{
	(void)nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* What may be at DEST: nothing, an empty directory, or (with force) a
 * directory to replace. *replace says the last. */
static int
checkout_dest_ok(const char *dest, int force, int *replace, struct error *err)
{
	struct stat	sb;
	int		empty;

	*replace = 0;
	if (lstat(dest, &sb) == -1) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, SATCHEL_ERR, "%s: %s", dest,
		    strerror(errno));
	}
	if (!S_ISDIR(sb.st_mode))
		return error_set(err, SATCHEL_EEXISTS, "%s: exists and is not "
		    "a directory (checkout writes a directory)", dest);
	if ((empty = dir_is_empty(dest)) == -1)
		return error_set(err, SATCHEL_ERR, "%s: %s", dest,
		    strerror(errno));
	if (empty)
		return 0;
	if (!force)
		return error_set(err, SATCHEL_EEXISTS, "%s: not empty (--force "
		    "replaces it)", dest);
	*replace = 1;
	return 0;
}

/* The release to lay out: serial 0 is the current one. Messages as in
 * store_export, which resolves the same way. */
static int
checkout_release(const struct store *s, const char *name, uint64_t *serial,
    struct bundle_head *h, struct error *err)
{
	const struct catalog		*c = store_catalog(s);
	const struct catalog_entry	*ce;
	int				 rc;

	ce = c != NULL ? catalog_find(c, name) : NULL;
	if (ce == NULL)
		return error_set(err, SATCHEL_ENOTFOUND,
		    "%s: no bundle \"%s\" in the store's catalog", store_dir(s),
		    name);
	if (*serial == 0 && (*serial = store_current(s, name)) == 0)
		return error_set(err, SATCHEL_ENOTFOUND,
		    "%s: no release of %s is retained here", store_dir(s), name);
	if (*serial > ce->serial)
		return error_set(err, SATCHEL_ENOTFOUND,
		    "%s: %s has no release %llu (the current one is %llu)",
		    store_dir(s), name, (unsigned long long)*serial,
		    (unsigned long long)ce->serial);
	if ((rc = store_release_load(s, name, *serial, h, err)) != 0 &&
	    rc == SATCHEL_ENOTFOUND)
		error_set(err, rc, "%s: release %s@%llu is not retained here",
		    store_dir(s), name, (unsigned long long)*serial);
	return rc;
}

static int
checkout(const struct store *s, const char *name, uint64_t serial,
    const char *dest, enum checkout_how how, int force, struct error *err)
{
	struct checkout		 co;
	struct bundle_head	 h;
	const struct manifest	*m;
	char			*tmp = NULL;
	size_t			 i;
	int			 rc, replace, loaded = 0;

	memset(&co, 0, sizeof co);
	if ((rc = checkout_release(s, name, &serial, &h, err)) != 0)
		return rc;
	loaded = 1;
	m = h.manifest;
	if ((rc = checkout_dest_ok(dest, force, &replace, err)) != 0)
		goto out;
	/* Beside DEST, so that the rename stays on one filesystem. */
	tmp = xasprintf("%s.tmp-XXXXXX", dest);
	if (mkdtemp(tmp) == NULL) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (chmod(tmp, 0755) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	co.s = s;
	co.tmp = tmp;
	co.how = how;
	co.chunk = xmalloc(CHECKOUT_CHUNK);
	for (i = 0; i < m->nfiles; i++)
		if ((rc = checkout_file(&co, &m->files[i], err)) != 0) {
			error_prefix(err, "%s@%llu", name,
			    (unsigned long long)serial);
			goto out;
		}
	/* Checked again just before: DEST may have been filled meanwhile. */
	if ((rc = checkout_dest_ok(dest, force, &replace, err)) != 0)
		goto out;
	if (replace) {
		/* Swapped in one step; the old tree ends up at tmp. */
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest,
		    RENAME_EXCHANGE) == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: cannot replace "
			    "it: %s", dest, strerror(errno));
			goto out;
		}
	} else if (rename(tmp, dest) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", dest, strerror(errno));
		goto out;
	} else {
		free(tmp);
		tmp = NULL;
	}
	printf("%s: %s@%llu, %zu files (%zu linked, %zu copied)\n", dest, name,
	    (unsigned long long)serial, m->nfiles, co.linked, co.copied);
out:
	if (tmp != NULL) {
		rm_tree(tmp);
		free(tmp);
	}
	free(co.lastdir);
	free(co.chunk);
	if (loaded)
		bundle_head_free(&h);
	return rc;
}

static int
cmd_checkout(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "store",	required_argument,	NULL,	's' },
		{ "link",	no_argument,		NULL,	'l' },
		{ "copy",	no_argument,		NULL,	'c' },
		{ "force",	no_argument,		NULL,	'f' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct store			*s = NULL;
	struct error			 err;
	enum checkout_how		 how = CHECKOUT_AUTO;
	const char			*dir = NULL, *at;
	char				*name = NULL, *dest = NULL;
	uint64_t			 serial = 0;
	size_t				 len;
	int				 opt, rc, force = 0, nhow = 0;

	while ((opt = getopt_long(argc, argv, "s:lcfhV", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			dir = optarg;
			break;
		case 'l':
			how = CHECKOUT_LINK;
			nhow++;
			break;
		case 'c':
			how = CHECKOUT_COPY;
			nhow++;
			break;
		case 'f':
			force = 1;
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (dir == NULL || argc - optind != 2)
		return cmd_usage_error(cmd, "expected --store DIR NAME[@SERIAL] "
		    "DEST");
	if (nhow > 1)
		return cmd_usage_error(cmd, "--link and --copy exclude each other");
	if (argv[optind + 1][0] == '\0')
		return cmd_usage_error(cmd, "DEST is empty");
	at = strchr(argv[optind], '@');
	name = at != NULL ? xstrndup(argv[optind], (size_t)(at - argv[optind])) :
	    xstrdup(argv[optind]);
	if (name[0] == '\0' || (at != NULL && parse_u64(at + 1, strlen(at + 1),
	    1, INT64_MAX, &serial) != 0)) {
		free(name);
		return cmd_usage_error(cmd, "\"%s\": expected NAME or "
		    "NAME@SERIAL, SERIAL a whole number >= 1", argv[optind]);
	}
	/* "out/" and "out" are one DEST: the temporary tree goes beside it. */
	dest = xstrdup(argv[optind + 1]);
	len = strlen(dest);
	while (len > 1 && dest[len - 1] == '/')
		dest[--len] = '\0';
	if (strcmp(dest, "/") == 0 || strcmp(dest, ".") == 0 ||
	    strcmp(dest, "..") == 0 || (len >= 2 &&
	    strcmp(dest + len - 2, "/.") == 0) || (len >= 3 &&
	    strcmp(dest + len - 3, "/..") == 0)) {
		rc = cmd_usage_error(cmd, "\"%s\": DEST must name a directory "
		    "to create or replace, not / . or ..", argv[optind + 1]);
		free(name);
		free(dest);
		return rc;
	}
	if ((rc = store_open(&s, dir, STORE_READ, &err)) == 0)
		rc = checkout(s, name, serial, dest, how, force, &err);
	store_close(s);
	free(name);
	free(dest);
	return rc == 0 ? 0 : cmd_fail(&err);
}

const struct satchel_cmd cmd_checkout_entry = {
	"checkout",
	"lay out a stored release as a plain tree of files",
	"usage: satchel checkout --store DIR [--link | --copy] [--force]\n"
	"                        NAME[@SERIAL] DEST\n"
	"\n"
	"Lays out release SERIAL of bundle NAME (default: the current one) from\n"
	"the store DIR as the directory DEST, holding the release's files at\n"
	"their paths: for a web server, a USB stick or a look inside.\n"
	"\n"
	"The tree is built beside DEST (DEST.tmp-XXXXXX) and renamed into place\n"
	"when complete, so DEST holds either what it held before or the whole\n"
	"release. DEST must not exist or be an empty directory; --force\n"
	"replaces a directory in one step (the old tree is then removed).\n"
	"After a crash, a DEST.tmp-XXXXXX left behind may be removed. The store\n"
	"is only read.\n"
	"\n"
	"By default each file is a hard link to the store's object, which holds\n"
	"exactly its bytes: instant, and no extra space. A linked file is the\n"
	"store's object: it is read-only (mode 0444) and must never be written\n"
	"to. A file the manifest marks executable is copied (mode 0755), and\n"
	"when DEST is on another filesystem every file is copied. Copies get\n"
	"the manifest's mode (0644 or 0755) and are checked against the signed\n"
	"SHA-256 on the way; links are checked by size (`satchel fsck` checks\n"
	"every byte of the store).\n"
	"\n"
	"Options:\n"
	"  -s, --store DIR   the store\n"
	"  -l, --link        hard links only: fail rather than copy when DEST is\n"
	"                    on another filesystem (executables are still copied)\n"
	"  -c, --copy        copy every file: a tree of its own, writable\n"
	"  -f, --force       replace DEST if it is a directory that is not empty\n"
	"  -h, --help        show this help\n"
	"  -V, --version     show the version\n"
	"\n"
	"Output: one line, \"DEST: NAME@SERIAL, N files (L linked, C copied)\".\n"
	"\n"
	"Exit status: 0 success, 1 failure (a bundle or release the store does\n"
	"not hold, a missing or damaged object, DEST not empty or not a\n"
	"directory), 2 usage error.\n",
	cmd_checkout
};
