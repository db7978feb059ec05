/*
 * store.c owns the store on disk: its layout, its lock, landing objects
 * and metadata so that every change becomes visible in one rename, and
 * the checks fsck makes. Layout and reasons: protocol/SPEC.md, "Store".
 */
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include "delta.h"
#include "fsutil.h"
#include "keyfile.h"
#include "kv.h"
#include "store.h"
#include "store-delta.h"
#include "http-client.h"
#include "sync-client.h"
#include "util.h"

#define STORE_CONFIG_MAX	(64 * 1024)
#define OBJECT_CHUNK		(256 * 1024)

struct store {
	char		*dir;
	int		 lockfd;	/* -1 unless opened for writing */
	struct trust	*trust;
	struct catalog	*catalog;
	char		*catalog_key;	/* path, for an origin */
	int64_t		 expiry;
};

static char *
store_path(const struct store *s, const char *rel)
{
	return xasprintf("%s/%s", s->dir, rel);
}

const char *
store_dir(const struct store *s)
{
	return s->dir;
}

const struct trust *
store_trust(const struct store *s)
{
	return s->trust;
}

const struct catalog *
store_catalog(const struct store *s)
{
	return s->catalog;
}

int
store_is_origin(const struct store *s)
{
	return s->catalog_key != NULL;
}

char *
store_object_path(const struct store *s, const uint8_t sha[SHA256_LEN])
{
	char	hex[SHA256_HEX_LEN + 1];

	hex_encode(hex, sha, SHA256_LEN);
	return xasprintf("%s/objects/%.2s/%s", s->dir, hex, hex + 2);
}

static char *
release_path(const char *dir, const char *name, uint64_t serial)
{
	return xasprintf("%s/meta/releases/%s/%llu.signed", dir, name,
	    (unsigned long long)serial);
}

static int
mkdir_checked(const char *path, struct error *err)
{
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return error_set(err, SATCHEL_ERR, "%s: %s", path, strerror(errno));
	return 0;
}

/* Writes the catalog c (signed with key) as meta/catalog. */
static int
catalog_store(const char *dir, struct catalog *c, const struct privkey *key,
    struct error *err)
{
	char	*buf, *path;
	size_t	 len;
	int	 rc;

	if ((rc = catalog_sign(c, key, err)) != 0)
		return rc;
	catalog_encode(c, &buf, &len);
	path = xasprintf("%s/meta/catalog", dir);
	rc = file_write_atomic(path, buf, len, 0644, err);
	free(path);
	free(buf);
	return rc;
}

/* Why: store_init writes STORE last, so a directory without it that
 * holds nothing but init's own layout (no object, no release, nothing in
 * tmp/) is an init that was interrupted, and may be finished. */
static int
store_half_made(const char *dir)
{
	static const char	*allowed[] = { "objects", "meta", "tmp", "config",
				    "meta/releases", "meta/trust.d", NULL };
	static const char	*empty[] = { "objects", "meta/releases", "tmp", NULL };
	struct dirent		*de;
	struct stat		 sb;
	DIR			*d;
	char			*p;
	size_t			 i;
	int			 ok = 1;

	p = xasprintf("%s/STORE", dir);
	if (stat(p, &sb) == 0)
		ok = 0;
	free(p);
	if (!ok || (d = opendir(dir)) == NULL)
		return 0;
	while (ok && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    de->d_name[0] == '.')
			continue;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], de->d_name) == 0)
				break;
		ok = allowed[i] != NULL;
	}
	closedir(d);
	for (i = 0; ok && empty[i] != NULL; i++) {
		p = xasprintf("%s/%s", dir, empty[i]);
		ok = dir_is_empty(p) == 1;
		free(p);
	}
	return ok;
}

/* store_init's work; a policy's bytes come from the file policy, or,
 * when pbuf is not NULL, from pbuf (policy then only names them). */
static int
store_create(const char *dir, const char *policy, const char *pbuf,
    size_t plen, const char *catalog_key, int64_t now, struct error *err)
{
	static const char	*sub[] = { "", "/objects", "/meta", "/meta/releases",
				    "/meta/trust.d", "/tmp" };
	struct trust		*t = NULL;
	struct privkey		*key = NULL;
	struct catalog		*c = NULL;
	struct pubkey		 pub;
	char			*buf = NULL, *p = NULL, *abs = NULL;
	size_t			 len, i;
	int			 rc;

	switch (dir_is_empty(dir)) {
	case 0:
		if (store_half_made(dir))
			break;		/* an interrupted init: finish it */
		return error_set(err, SATCHEL_EEXISTS, "%s: exists and is not empty",
		    dir);
	case -1:
		return error_set(err, SATCHEL_ERR, "%s: %s", dir, strerror(errno));
	}
	if (catalog_key != NULL && policy == NULL)
		return error_set(err, SATCHEL_EINVALID,
		    "an origin (--catalog-key) needs a trust policy (--trust) "
		    "that lists its catalog key");
	if (policy != NULL) {
		if (pbuf != NULL) {
			buf = xmalloc(plen + 1);
			memcpy(buf, pbuf, plen);
			buf[plen] = '\0';
			len = plen;
		} else if ((rc = file_read_all(&buf, &len, policy, TRUST_MAX,
		    err)) != 0)
			goto out;
		if ((rc = trust_parse(&t, buf, len, policy, err)) != 0)
			goto out;
	}
	if (catalog_key != NULL) {
		if ((rc = keyfile_load_private(&key, catalog_key, err)) != 0)
			goto out;
		privkey_public(key, &pub);
		for (i = 0; i < t->ncatalogs; i++)
			if (memcmp(t->catalogs[i].raw, pub.raw, ED25519_PUB_LEN) == 0)
				break;
		if (i == t->ncatalogs) {
			rc = error_set(err, SATCHEL_EVERIFY,
			    "%s: key %s is not a catalog key of the trust policy %s "
			    "(add it with `satchel trust add-catalog`)",
			    catalog_key, pub.id, policy);
			goto out;
		}
		if ((abs = realpath(catalog_key, NULL)) == NULL) {
			rc = error_set(err, SATCHEL_ERR, "%s: %s", catalog_key,
			    strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		free(p);
		p = xasprintf("%s%s", dir, sub[i]);
		if ((rc = mkdir_checked(p, err)) != 0)
			goto out;
	}
	if (t != NULL) {
		free(p);
		p = xasprintf("%s/meta/trust.d/%llu.policy", dir,
		    (unsigned long long)t->serial);
		if ((rc = file_write_atomic(p, buf, len, 0644, err)) != 0)
			goto out;
		free(p);
		p = xasprintf("%s/meta/trust", dir);
		if ((rc = file_write_atomic(p, buf, len, 0644, err)) != 0)
			goto out;
	}
	if (abs != NULL) {
		char	*conf = xasprintf("# Written by satchel store init.\n"
		    "catalog-key = %s\n", abs);

		free(p);
		p = xasprintf("%s/config", dir);
		rc = file_write_atomic(p, conf, strlen(conf), 0644, err);
		free(conf);
		if (rc != 0)
			goto out;
		c = catalog_new();
		c->serial = 1;
		c->issued = now;
		c->expires = now + STORE_EXPIRY_DEFAULT;
		if ((rc = catalog_store(dir, c, key, err)) != 0)
			goto out;
	}
	/* The marker comes last: a half-made directory is not a store. */
	free(p);
	p = xasprintf("%s/STORE", dir);
	rc = file_write_atomic(p, STORE_MARKER, strlen(STORE_MARKER), 0644, err);
out:
	catalog_free(c);
	privkey_free(key);
	trust_free(t);
	free(abs);
	free(buf);
	free(p);
	return rc;
}

static int
store_load_config(struct store *s, struct error *err)
{
	struct kv	 kv = { NULL, 0 };
	char		*path = store_path(s, "config"), *buf = NULL;
	size_t		 len, i;
	uint64_t	 v;
	int		 rc;

	s->expiry = STORE_EXPIRY_DEFAULT;
	rc = file_read_regular(&buf, &len, path, STORE_CONFIG_MAX, err);
	if (rc == SATCHEL_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc != 0 || (rc = kv_parse(&kv, buf, len, path, err)) != 0)
		goto out;
	for (i = 0; i < kv.n; i++) {
		if (strcmp(kv.v[i].key, "catalog-key") == 0) {
			free(s->catalog_key);
			s->catalog_key = xstrdup(kv.v[i].value);
		} else if (strcmp(kv.v[i].key, "catalog-expiry") == 0) {
			if (parse_u64(kv.v[i].value, strlen(kv.v[i].value), 1,
			    366ull * 24 * 3600, &v) != 0) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s:%u: catalog-expiry must be seconds, from 1 to one year",
				    path, kv.v[i].line);
				goto out;
			}
			s->expiry = (int64_t)v;
		} else {
			rc = error_set(err, SATCHEL_EINVALID, "%s:%u: unknown key \"%s\"",
			    path, kv.v[i].line, kv.v[i].key);
			goto out;
		}
	}
out:
	kv_free(&kv);
	free(buf);
	free(path);
	return rc;
}

int
store_open(struct store **out, const char *dir, int mode, struct error *err)
{
	struct store	*s = xcalloc(1, sizeof *s);
	char		*p = NULL, *buf = NULL;
	size_t		 len;
	int		 rc;

	s->dir = xstrdup(dir);
	s->lockfd = -1;
	p = store_path(s, "STORE");
	rc = file_read_regular(&buf, &len, p, 64, err);
	if (rc != 0 || len != strlen(STORE_MARKER) ||
	    memcmp(buf, STORE_MARKER, len) != 0) {
		rc = error_set(err, rc == SATCHEL_ENOTFOUND ? SATCHEL_ENOTFOUND :
		    SATCHEL_EINVALID, "%s: not a Satchel store (%s)", dir,
		    rc == SATCHEL_ENOTFOUND ? "no STORE file; make one with "
		    "`satchel store init`" : "unknown STORE format");
		goto out;
	}
	if (mode == STORE_WRITE) {
		free(p);
		p = store_path(s, "lock");
		if ((s->lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: %s", p, strerror(errno));
			goto out;
		}
		/* Writers queue here: two publishes both complete, in turn. */
		while (flock(s->lockfd, LOCK_EX) == -1) {
			if (errno != EINTR) {
				rc = error_set(err, SATCHEL_ERR, "%s: lock: %s", p,
				    strerror(errno));
				goto out;
			}
		}
	}
	if ((rc = store_load_config(s, err)) != 0)
		goto out;
	free(p);
	free(buf);
	buf = NULL;
	p = store_path(s, "meta/trust");
	rc = file_read_regular(&buf, &len, p, TRUST_MAX, err);
	if (rc == 0)
		rc = trust_parse(&s->trust, buf, len, p, err);
	else if (rc == SATCHEL_ENOTFOUND)
		rc = 0;
	if (rc != 0)
		goto out;
	free(p);
	free(buf);
	buf = NULL;
	p = store_path(s, "meta/catalog");
	rc = file_read_regular(&buf, &len, p, CATALOG_MAX, err);
	if (rc == 0)
		rc = catalog_parse(&s->catalog, buf, len, p, err);
	else if (rc == SATCHEL_ENOTFOUND)
		rc = 0;
	if (rc != 0)
		goto out;
	*out = s;
	s = NULL;		/* ownership moved to the caller */
out:
	free(p);
	free(buf);
	store_close(s);
	return rc;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->lockfd != -1)
		close(s->lockfd);	/* releases the flock */
	trust_free(s->trust);
	catalog_free(s->catalog);
	free(s->catalog_key);
	free(s->dir);
	free(s);
}

/* A signed manifest file is the manifest followed by its signature block;
 * the manifest ends at its one line "end". */
static int
signed_split(const char *buf, size_t len, size_t *mlen)
{
	const char	*p = memmem(buf, len, "\nend\n", 5);

	if (p == NULL)
		return -1;
	*mlen = (size_t)(p - buf) + 5;
	return 0;
}

static int
release_parse(const char *buf, size_t len, const char *path,
    struct bundle_head *h, struct error *err)
{
	size_t	mlen;
	int	rc;

	memset(h, 0, sizeof *h);
	if (signed_split(buf, len, &mlen) != 0)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: not a signed manifest (no \"end\" line)", path);
	h->manifest_buf = xstrndup(buf, mlen);
	h->manifest_len = mlen;
	if ((rc = manifest_parse(&h->manifest, h->manifest_buf, mlen, path,
	    err)) != 0 ||
	    (rc = sigs_parse(&h->sigs, buf + mlen, len - mlen, path, err)) != 0)
		bundle_head_free(h);
	return rc;
}

int
store_signed_parse(const char *buf, size_t len, const char *what,
    struct bundle_head *out, struct error *err)
{
	return release_parse(buf, len, what, out, err);
}

int
store_release_load(const struct store *s, const char *name, uint64_t serial,
    struct bundle_head *out, struct error *err)
{
	char	*path = release_path(s->dir, name, serial), *buf = NULL;
	size_t	 len;
	int	 rc;

	if ((rc = file_read_regular(&buf, &len, path,
	    MANIFEST_MAX + SIGS_BLOCK_MAX, err)) == 0)
		rc = release_parse(buf, len, path, out, err);
	if (rc == 0 && (strcmp(out->manifest->name, name) != 0 ||
	    out->manifest->serial != serial)) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: holds %s serial %llu", path, out->manifest->name,
		    (unsigned long long)out->manifest->serial);
		bundle_head_free(out);
	}
	free(buf);
	free(path);
	return rc;
}

static int
u64_desc(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int
store_release_list(const struct store *s, const char *name, uint64_t **v,
    size_t *n, struct error *err)
{
	const struct catalog_entry	*ce;
	struct dirent			*de;
	DIR				*d;
	char				*path;
	uint64_t			*list = NULL, serial;
	size_t				 count = 0;

	*v = NULL;
	*n = 0;
	ce = s->catalog != NULL ? catalog_find(s->catalog, name) : NULL;
	if (ce == NULL)
		return error_set(err, SATCHEL_ENOTFOUND,
		    "%s: no bundle \"%s\" in the store's catalog", s->dir, name);
	path = xasprintf("%s/meta/releases/%s", s->dir, name);
	if ((d = opendir(path)) == NULL) {
		int	e = errno;

		free(path);
		return error_set(err, SATCHEL_ERR, "%s/meta/releases/%s: %s",
		    s->dir, name, strerror(e));
	}
	while ((de = readdir(d)) != NULL) {
		const char	*dot = strchr(de->d_name, '.');

		if (dot == NULL || strcmp(dot, ".signed") != 0 ||
		    parse_u64(de->d_name, (size_t)(dot - de->d_name), 1, INT64_MAX,
		    &serial) != 0)
			continue;
		/* A release the catalog has not reached yet is not visible. */
		if (serial > ce->serial)
			continue;
		list = xreallocarray(list, count + 1, sizeof *list);
		list[count++] = serial;
	}
	closedir(d);
	free(path);
	if (count > 1)
		qsort(list, count, sizeof *list, u64_desc);
	*v = list;
	*n = count;
	return 0;
}

int64_t
store_release_time(const struct store *s, const char *name, uint64_t serial)
{
	struct stat	 st;
	char		*path = release_path(s->dir, name, serial);
	int64_t		 t = 0;

	if (stat(path, &st) == 0)
		t = (int64_t)st.st_mtim.tv_sec;
	free(path);
	return t;
}

void
store_publish_report_free(struct store_publish_report *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->label);
	memset(r, 0, sizeof *r);
}

/* --- publish: verified files go to a staging directory first --- */

/* Why one check for both ways in: a release offered by an archive or
 * over the network is held to the same rule, before any file is read and
 * again under the lock just before it lands. */
int
store_publish_check(const struct store *s, const struct bundle_head *h,
    const char *what, struct error *err)
{
	const struct manifest		*m = h->manifest;
	const struct catalog_entry	*cur;
	int				 rc;

	if (s->catalog_key == NULL || s->trust == NULL)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: not an origin store (no catalog key): publish to the "
		    "origin, then pull from it", s->dir);
	if ((rc = bundle_head_check(h, what, s->trust, err)) != 0)
		return rc;
	cur = s->catalog != NULL ? catalog_find(s->catalog, m->name) : NULL;
	if (cur != NULL && m->serial <= cur->serial)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: serial %llu is not greater than the store's current serial "
		    "%llu (rollback refused)", m->name, (unsigned long long)m->serial,
		    (unsigned long long)cur->serial);
	return 0;
}

int
store_stage_new(const struct store *s, char **out, struct error *err)
{
	char	*tmpl = xasprintf("%s/tmp/publish-XXXXXX", s->dir);

	if (mkdtemp(tmpl) == NULL) {
		int	e = errno;

		free(tmpl);
		return error_set(err, SATCHEL_ERR, "%s/tmp: %s", s->dir,
		    strerror(e));
	}
	*out = tmpl;
	return 0;
}

void
store_stage_remove(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		*p;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

struct stage {
	struct store			*s;
	char				*dir;		/* tmp/publish-XXXXXX */
	int				 fd;		/* current new object */
	char				*cur;		/* its staging path */
	struct store_publish_report	*rep;
};

static char *
stage_object_path(const char *dir, const uint8_t sha[SHA256_LEN])
{
	char	hex[SHA256_HEX_LEN + 1];

	hex_encode(hex, sha, SHA256_LEN);
	return xasprintf("%s/%s", dir, hex);
}

/* Refuses before any file is read: an older serial, or a name the trust
 * policy's publishers do not cover (checked by the verifier already). */
static int
stage_head_cb(void *arg, const struct bundle_head *h, struct error *err)
{
	struct stage		*st = arg;
	const struct manifest	*m = h->manifest;
	const struct catalog_entry *cur;

	cur = st->s->catalog != NULL ? catalog_find(st->s->catalog, m->name) :
	    NULL;
	if (cur != NULL && m->serial <= cur->serial)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: serial %llu is not greater than the store's current serial "
		    "%llu (rollback refused)", m->name, (unsigned long long)m->serial,
		    (unsigned long long)cur->serial);
	st->rep->name = xstrdup(m->name);
	st->rep->label = xstrdup(m->label);
	st->rep->serial = m->serial;
	return store_stage_new(st->s, &st->dir, err);
}

static int
stage_begin_cb(void *arg, const struct manifest_file *f, struct error *err)
{
	struct stage	*st = arg;
	char		*obj = store_object_path(st->s, f->sha256);
	struct stat	 sb;
	int		 present;

	present = stat(obj, &sb) == 0;
	free(obj);
	free(st->cur);
	st->cur = stage_object_path(st->dir, f->sha256);
	if (!present)
		present = stat(st->cur, &sb) == 0;	/* twice in this release */
	if (present) {
		st->rep->files_present++;
		st->rep->bytes_present += f->size;
		free(st->cur);
		st->cur = NULL;
		return 0;
	}
	st->fd = open(st->cur, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (st->fd == -1)
		return error_set(err, SATCHEL_ERR, "%s: %s", st->cur, strerror(errno));
	st->rep->files_new++;
	st->rep->bytes_new += f->size;
	return 0;
}

static int
stage_write_cb(void *arg, const void *data, size_t len, struct error *err)
{
	struct stage	*st = arg;

	if (st->fd == -1)
		return 0;
	return write_all(st->fd, data, len, st->cur, err);
}

static int
stage_end_cb(void *arg, const struct manifest_file *f, struct error *err)
{
	struct stage	*st = arg;
	int		 rc = 0;

	(void)f;
	if (st->fd != -1 && close(st->fd) == -1)
		rc = error_set(err, SATCHEL_ERR, "%s: %s", st->cur, strerror(errno));
	st->fd = -1;
	return rc;
}

static void
stage_remove(struct stage *st)
{
	if (st->fd != -1)
		close(st->fd);
	st->fd = -1;
	store_stage_remove(st->dir);
	free(st->dir);
	free(st->cur);
	st->dir = st->cur = NULL;
}

/* Makes the staged objects part of objects/, durably. Every file of the
 * manifest must then be in objects/: one that is neither staged nor
 * there (gc may have removed an unused object since the publisher was
 * told it was present) stops the landing before anything is visible. */
static int
publish_land_objects(struct store *s, const struct manifest *m,
    const char *stagedir, struct error *err)
{
	char		*from, *to, *sub;
	struct stat	 sb;
	size_t		 i;
	int		 rc = 0, dfd;

	/* Everything staged reaches the disk before any rename. */
	if ((dfd = open(stagedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		syncfs(dfd);
		close(dfd);
	}
	for (i = 0; i < m->nfiles && rc == 0; i++) {
		char	hex[SHA256_HEX_LEN + 1];

		from = stage_object_path(stagedir, m->files[i].sha256);
		to = store_object_path(s, m->files[i].sha256);
		if (access(from, F_OK) != 0) {
			if (stat(to, &sb) != 0)
				rc = error_set(err, SATCHEL_ERR, "%s: the object "
				    "for \"%s\" is neither staged nor in the store",
				    s->dir, m->files[i].path);
			free(from);
			free(to);
			continue;
		}
		hex_encode(hex, m->files[i].sha256, SHA256_LEN);
		sub = xasprintf("%s/objects/%.2s", s->dir, hex);
		if ((rc = mkdir_checked(sub, err)) == 0 && rename(from, to) == -1)
			rc = error_set(err, SATCHEL_ERR, "%s: %s", to, strerror(errno));
		free(sub);
		free(to);
		free(from);
	}
	if (rc == 0 && (dfd = open(s->dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		syncfs(dfd);
		close(dfd);
	}
	return rc;
}

/*
 * The one landing of a publish, local or over the network: the staged
 * objects, then the signed manifest, then the new catalog that makes the
 * release visible in one rename, each durable before the next.
 */
static int
publish_land(struct store *s, const struct bundle_head *h,
    const char *stagedir, const struct privkey *key, int64_t now,
    int64_t expiry, uint64_t *catalog_serial, struct error *err)
{
	const struct manifest	*m = h->manifest;
	struct catalog		*c = NULL;
	struct timespec		 ts[2];
	char			*sbuf = NULL, *signedbuf = NULL, *path = NULL;
	char			*dir = NULL;
	uint8_t			 pin[SHA256_LEN];
	size_t			 slen, i;
	int			 rc;

	if ((rc = publish_land_objects(s, m, stagedir, err)) != 0)
		goto out;
	/* The signed manifest: durable before the catalog names it. */
	sigs_encode(&h->sigs, &sbuf, &slen);
	signedbuf = xmalloc(h->manifest_len + slen + 1);
	memcpy(signedbuf, h->manifest_buf, h->manifest_len);
	memcpy(signedbuf + h->manifest_len, sbuf, slen);
	dir = xasprintf("%s/meta/releases/%s", s->dir, m->name);
	if ((rc = mkdir_checked(dir, err)) != 0)
		goto out;
	path = release_path(s->dir, m->name, m->serial);
	if ((rc = file_write_atomic(path, signedbuf, h->manifest_len + slen,
	    0444, err)) != 0)
		goto out;
	ts[0].tv_sec = ts[1].tv_sec = (time_t)now;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, path, ts, 0);
	/* The new catalog makes the release visible, in one rename. */
	c = catalog_new();
	if (s->catalog != NULL) {
		c->serial = s->catalog->serial;
		for (i = 0; i < s->catalog->n; i++)
			catalog_set(c, s->catalog->v[i].name, s->catalog->v[i].serial,
			    s->catalog->v[i].manifest_sha256, s->catalog->v[i].size);
	}
	c->serial++;
	c->issued = now;
	c->expires = now + (expiry > 0 ? expiry : s->expiry);
	sha256(h->manifest_buf, h->manifest_len, pin);
	catalog_set(c, m->name, m->serial, pin, m->total_size);
	if ((rc = catalog_store(s->dir, c, key, err)) != 0)
		goto out;
	*catalog_serial = c->serial;
	catalog_free(s->catalog);
	s->catalog = c;
	c = NULL;
out:
	catalog_free(c);
	free(sbuf);
	free(signedbuf);
	free(path);
	free(dir);
	return rc;
}

int
store_publish_staged(struct store *s, const struct bundle_head *h,
    const char *stagedir, const char *what, int64_t now, int64_t expiry,
    uint64_t *catalog_serial, struct error *err)
{
	struct privkey	*key = NULL;
	int		 rc;

	if (s->lockfd == -1)
		return error_set(err, SATCHEL_ERR, "%s: publish needs the store "
		    "opened for writing", s->dir);
	if ((rc = store_publish_check(s, h, what, err)) == 0 &&
	    (rc = keyfile_load_private(&key, s->catalog_key, err)) == 0)
		rc = publish_land(s, h, stagedir, key, now, expiry,
		    catalog_serial, err);
	privkey_free(key);
	return rc;
}

int
store_publish(struct store *s, const char *archive, int64_t now,
    int64_t expiry, struct store_publish_report *out, struct error *err)
{
	struct store_publish_report	 rep;
	struct stage			 st;
	struct bundle_sink		 sink = { stage_head_cb, stage_begin_cb,
					    stage_write_cb, stage_end_cb, NULL };
	struct bundle_report		 vrep;
	struct privkey			*key = NULL;
	int				 rc;

	memset(&rep, 0, sizeof rep);
	memset(&vrep, 0, sizeof vrep);
	memset(&st, 0, sizeof st);
	st.s = s;
	st.fd = -1;
	st.rep = &rep;
	sink.arg = &st;
	if (s->catalog_key == NULL || s->trust == NULL) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: not an origin store (no catalog key): publish to the "
		    "origin, then pull from it", s->dir);
		goto out;
	}
	/* The catalog key first: a missing key must not cost a verify. */
	if ((rc = keyfile_load_private(&key, s->catalog_key, err)) != 0)
		goto out;
	if ((rc = bundle_verify_to(archive, NULL, 0, s->trust, &sink, &vrep,
	    err)) != 0)
		goto out;
	if ((rc = publish_land(s, &vrep.head, st.dir, key, now, expiry,
	    &rep.catalog_serial, err)) != 0)
		goto out;
	*out = rep;
	memset(&rep, 0, sizeof rep);	/* ownership moved to the caller */
out:
	stage_remove(&st);
	store_publish_report_free(&rep);
	bundle_report_free(&vrep);
	privkey_free(key);
	return rc;
}

static int
export_open_cb(void *arg, const struct manifest_file *f, int *fd,
    struct error *err)
{
	const struct store	*s = arg;
	char			*path = store_object_path(s, f->sha256);
	int			 rc = 0;

	if ((rc = file_open_regular(fd, path, err)) != 0)
		error_prefix(err, "object for \"%s\"", f->path);
	free(path);
	return rc;
}

int
store_export(const struct store *s, const char *name, uint64_t serial,
    const char *out, struct error *err)
{
	const struct catalog_entry	*ce;
	struct bundle_head		 h;
	int				 rc;

	ce = s->catalog != NULL ? catalog_find(s->catalog, name) : NULL;
	if (ce == NULL)
		return error_set(err, SATCHEL_ENOTFOUND,
		    "%s: no bundle \"%s\" in the store's catalog", s->dir, name);
	if (serial == 0 && (serial = store_current(s, name)) == 0)
		return error_set(err, SATCHEL_ENOTFOUND,
		    "%s: no release of %s is retained here", s->dir, name);
	if (serial > ce->serial)
		return error_set(err, SATCHEL_ENOTFOUND,
		    "%s: %s has no release %llu (the current one is %llu)", s->dir,
		    name, (unsigned long long)serial, (unsigned long long)ce->serial);
	if ((rc = store_release_load(s, name, serial, &h, err)) != 0) {
		if (rc == SATCHEL_ENOTFOUND)
			error_set(err, rc, "%s: release %s@%llu is not retained here",
			    s->dir, name, (unsigned long long)serial);
		return rc;
	}
	rc = bundle_write_archive(&h, out, export_open_cb, (void *)s, err);
	bundle_head_free(&h);
	return rc;
}

/* --- fsck --- */

struct fsck {
	void		(*problem)(void *, const char *);
	void		 *arg;
	size_t		  n;
};

static void
fsck_report(struct fsck *fk, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
fsck_report(struct fsck *fk, const char *fmt, ...)
{
	char	buf[2048];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fk->n++;
	fk->problem(fk->arg, buf);
}

/* Every object's content hashes to its name. */
static void
fsck_objects(const struct store *s, struct fsck *fk, bundle_progress_fn progress,
    void *parg)
{
	struct sha256_ctx	*ctx = sha256_new();
	char			*objdir = store_path(s, "objects"), *chunk;
	struct dirent		*de, *fe;
	DIR			*d, *sd;
	uint64_t		 count = 0;

	chunk = xmalloc(OBJECT_CHUNK);
	if ((d = opendir(objdir)) == NULL) {
		fsck_report(fk, "%s: %s", objdir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		char	*sub;

		if (de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", objdir, de->d_name);
		if (strlen(de->d_name) != 2 || (sd = opendir(sub)) == NULL) {
			fsck_report(fk, "%s: unexpected entry in objects/", sub);
			free(sub);
			continue;
		}
		while ((fe = readdir(sd)) != NULL) {
			char	 want[2 * 256 + 8], have[SHA256_HEX_LEN + 1];
			uint8_t	 digest[SHA256_LEN];
			char	*p;
			ssize_t	 n;
			struct error	 e;
			int	 fd;

			if (fe->d_name[0] == '.')
				continue;
			p = xasprintf("%s/%s", sub, fe->d_name);
			snprintf(want, sizeof want, "%s%s", de->d_name, fe->d_name);
			if (file_open_regular(&fd, p, &e) != 0) {
				fsck_report(fk, "%s", e.msg);
				free(p);
				continue;
			}
			while ((n = read(fd, chunk, OBJECT_CHUNK)) > 0)
				sha256_update(ctx, chunk, (size_t)n);
			close(fd);
			sha256_final(ctx, digest);
			hex_encode(have, digest, SHA256_LEN);
			if (n < 0)
				fsck_report(fk, "%s: read error", p);
			else if (strcmp(want, have) != 0)
				fsck_report(fk, "%s: object is damaged (its content hashes "
				    "to %s)", p, have);
			free(p);
			if (progress != NULL)
				progress(parg, "checking objects", ++count, 0);
		}
		closedir(sd);
		free(sub);
	}
	closedir(d);
out:
	free(chunk);
	free(objdir);
	sha256_free(ctx);
}

/* Every retained release: signed by a publisher allowed its name, and
 * every file present with its size. */
static void
fsck_releases(const struct store *s, struct fsck *fk)
{
	char		*rdir = store_path(s, "meta/releases");
	struct dirent	*de, *fe;
	DIR		*d, *bd;

	if ((d = opendir(rdir)) == NULL) {
		fsck_report(fk, "%s: %s", rdir, strerror(errno));
		free(rdir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char	*bdir;

		if (de->d_name[0] == '.')
			continue;
		bdir = xasprintf("%s/%s", rdir, de->d_name);
		if ((bd = opendir(bdir)) == NULL) {
			fsck_report(fk, "%s: %s", bdir, strerror(errno));
			free(bdir);
			continue;
		}
		while ((fe = readdir(bd)) != NULL) {
			struct bundle_head	 h;
			struct error		 e;
			char			*p, *buf = NULL;
			size_t			 len, i, j;
			int			 ok = 0;

			if (fe->d_name[0] == '.')
				continue;
			p = xasprintf("%s/%s", bdir, fe->d_name);
			if (file_read_regular(&buf, &len, p,
			    MANIFEST_MAX + SIGS_BLOCK_MAX, &e) != 0 ||
			    release_parse(buf, len, p, &h, &e) != 0) {
				fsck_report(fk, "%s", e.msg);
				free(buf);
				free(p);
				continue;
			}
			if (strcmp(h.manifest->name, de->d_name) != 0)
				fsck_report(fk, "%s: holds bundle %s", p, h.manifest->name);
			for (i = 0; s->trust != NULL && i < s->trust->npublishers; i++) {
				const struct pubkey	*k = &s->trust->publishers[i].key;

				if (sigs_check(&h.sigs, k, SIG_DOMAIN_MANIFEST,
				    h.manifest_buf, h.manifest_len) == 0 &&
				    trust_publisher_allows(s->trust, k, h.manifest->name))
					ok = 1;
			}
			if (!ok)
				fsck_report(fk, "%s: no valid signature by a publisher "
				    "the trust policy allows for %s", p, h.manifest->name);
			for (j = 0; j < h.manifest->nfiles; j++) {
				const struct manifest_file	*f = &h.manifest->files[j];
				char				*o = store_object_path(s, f->sha256);
				struct stat			 sb;

				if (stat(o, &sb) == -1)
					fsck_report(fk, "%s: file \"%s\": object missing (%s)",
					    p, f->path, o);
				else if ((uint64_t)sb.st_size != f->size)
					fsck_report(fk, "%s: file \"%s\": object is %llu bytes, "
					    "the manifest says %llu", p, f->path,
					    (unsigned long long)sb.st_size,
					    (unsigned long long)f->size);
				free(o);
			}
			bundle_head_free(&h);
			free(buf);
			free(p);
		}
		closedir(bd);
		free(bdir);
	}
	closedir(d);
	free(rdir);
}

/* The catalog: signed by a catalog key, and each pin matches a retained
 * manifest. */
static void
fsck_catalog(const struct store *s, struct fsck *fk)
{
	struct error	 e;
	size_t		 i;

	if (s->catalog == NULL)
		return;
	if (s->trust == NULL) {
		fsck_report(fk, "%s: a catalog but no trust policy to check it",
		    s->dir);
		return;
	}
	if (catalog_check(s->catalog, s->trust, 0, 1, "meta/catalog", &e) != 0)
		fsck_report(fk, "%s", e.msg);
	for (i = 0; i < s->catalog->n; i++) {
		const struct catalog_entry	*ce = &s->catalog->v[i];
		struct bundle_head		 h;
		uint8_t				 pin[SHA256_LEN];

		if (store_release_load(s, ce->name, ce->serial, &h, &e) != 0) {
			/* A mirror may follow only some bundles, or keep an
			 * older release of one; an origin has them all. */
			if (store_is_origin(s) || e.code != SATCHEL_ENOTFOUND)
				fsck_report(fk, "catalog names %s@%llu: %s", ce->name,
				    (unsigned long long)ce->serial, e.msg);
			continue;
		}
		sha256(h.manifest_buf, h.manifest_len, pin);
		if (memcmp(pin, ce->manifest_sha256, SHA256_LEN) != 0)
			fsck_report(fk, "catalog names %s@%llu with another manifest "
			    "than the one retained", ce->name,
			    (unsigned long long)ce->serial);
		bundle_head_free(&h);
	}
}

/* The trust chain: every policy the store accepted is valid on its own,
 * each was signed by a threshold of its predecessor's root keys, and
 * meta/trust is the newest of them. */
static void
fsck_trust(const struct store *s, struct fsck *fk)
{
	struct trust	**v = NULL;
	char		 *dir = store_path(s, "meta/trust.d"), *buf;
	struct dirent	 *de;
	struct error	  e;
	size_t		  n = 0, i, j, len;
	DIR		 *d;

	if ((d = opendir(dir)) == NULL) {
		if (s->trust != NULL)
			fsck_report(fk, "%s: %s", dir, strerror(errno));
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct trust	*t;
		char		*p;

		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		buf = NULL;
		if (file_read_regular(&buf, &len, p, TRUST_MAX, &e) != 0 ||
		    trust_parse(&t, buf, len, p, &e) != 0) {
			fsck_report(fk, "%s", e.msg);
			free(buf);
			free(p);
			continue;
		}
		free(buf);
		free(p);
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = t;
	}
	closedir(d);
	/* Oldest first. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1]->serial > v[j]->serial; j--) {
			struct trust *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	/* Each the successor of the one before, by the rule a pull applies
	 * (serial + 1, a threshold of the old roots). */
	for (i = 1; i < n; i++) {
		if (trust_check_successor(v[i - 1], v[i], dir, &e) != 0)
			fsck_report(fk, "%s", e.msg);
	}
	if (s->trust != NULL && (n == 0 || v[n - 1]->serial != s->trust->serial))
		fsck_report(fk, "%s/meta/trust: serial %llu is not the newest "
		    "policy in meta/trust.d", s->dir,
		    (unsigned long long)s->trust->serial);
	for (i = 0; i < n; i++)
		trust_free(v[i]);
	free(v);
	free(dir);
}

size_t
store_fsck(const struct store *s, void (*problem)(void *, const char *),
    void *arg, bundle_progress_fn progress, void *progress_arg)
{
	struct fsck	fk = { problem, arg, 0 };

	fsck_trust(s, &fk);
	fsck_objects(s, &fk, progress, progress_arg);
	fsck_releases(s, &fk);
	fsck_catalog(s, &fk);
	return fk.n;
}

uint64_t
store_current(const struct store *s, const char *name)
{
	struct error	 err;
	uint64_t	*v = NULL, cur = 0;
	size_t		 n = 0;

	if (store_release_list(s, name, &v, &n, &err) == 0 && n > 0)
		cur = v[0];
	free(v);
	return cur;
}

int
store_init(const char *dir, const char *policy, const char *catalog_key,
    int64_t now, struct error *err)
{
	return store_create(dir, policy, NULL, 0, catalog_key, now, err);
}

int
store_release_visible(const char *dir, const char *name, uint64_t serial)
{
	const struct catalog_entry	*ce;
	struct catalog			*c = NULL;
	struct error			 err;
	char				*path = xasprintf("%s/meta/catalog", dir), *buf = NULL;
	size_t				 len;
	int				 ok = 0;

	if (file_read_regular(&buf, &len, path, CATALOG_MAX, &err) == 0 &&
	    catalog_parse(&c, buf, len, path, &err) == 0 &&
	    (ce = catalog_find(c, name)) != NULL)
		ok = serial <= ce->serial;
	catalog_free(c);
	free(buf);
	free(path);
	return ok;
}

/* --- pull --- */

/*
 * Which objects/ab/ directories exist, learnt once each. Why: a pull
 * asks "is this object here?" for every file of every release it
 * fetches, and on a new store (a first mirror) no objects/ab/ exists
 * yet, so one stat of the directory answers for all the objects under
 * it; landing then makes each missing one once, not once per object.
 * The store's lock keeps them from going away meanwhile (gc takes it).
 */
#define FANOUT_UNKNOWN	0
#define FANOUT_EXISTS	1
#define FANOUT_MISSING	2

struct fanout {
	const struct store	*s;
	uint8_t			 state[256];
};

static int
fanout_exists(struct fanout *fo, const uint8_t sha[SHA256_LEN])
{
	struct stat	 sb;
	char		 hex[3], *p;

	if (fo->state[sha[0]] == FANOUT_UNKNOWN) {
		hex_encode(hex, sha, 1);
		p = xasprintf("%s/objects/%s", fo->s->dir, hex);
		fo->state[sha[0]] = stat(p, &sb) == 0 ? FANOUT_EXISTS :
		    FANOUT_MISSING;
		free(p);
	}
	return fo->state[sha[0]] == FANOUT_EXISTS;
}

/* 1 if the store already holds the object. */
static int
fanout_has(struct fanout *fo, const uint8_t sha[SHA256_LEN])
{
	struct stat	 sb;
	char		*p;
	int		 found;

	if (!fanout_exists(fo, sha))
		return 0;
	p = store_object_path(fo->s, sha);
	found = stat(p, &sb) == 0;
	free(p);
	return found;
}

/* Makes objects/ab/ for sha unless it is known to exist. */
static int
fanout_make(struct fanout *fo, const uint8_t sha[SHA256_LEN],
    struct error *err)
{
	char	 hex[3], *p;
	int	 rc;

	if (fo->state[sha[0]] == FANOUT_EXISTS)
		return 0;
	hex_encode(hex, sha, 1);
	p = xasprintf("%s/objects/%s", fo->s->dir, hex);
	if ((rc = mkdir_checked(p, err)) == 0)
		fo->state[sha[0]] = FANOUT_EXISTS;
	free(p);
	return rc;
}

/*
 * The checked objects in the staging directory: those an interrupted
 * pull left there (named by their hash; .part files are not among them),
 * read once, since most pulls start with a new, empty directory where a
 * stat per object would find nothing; then each one this run checks (a
 * release may name the same bytes twice). A set of digests, open
 * addressing: the digests are uniform, so their first bytes hash.
 */
struct staged {
	uint8_t	(*v)[SHA256_LEN];
	uint8_t	 *used;
	size_t	  n, cap;
};

static int
staged_is_object(const char *name)
{
	size_t	i;

	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return i == SHA256_HEX_LEN;
}

static size_t
staged_slot(const struct staged *sg, const uint8_t sha[SHA256_LEN])
{
	size_t	i;

	memcpy(&i, sha, sizeof i);
	for (i &= sg->cap - 1; sg->used[i] &&
	    memcmp(sg->v[i], sha, SHA256_LEN) != 0; i = (i + 1) & (sg->cap - 1))
		;
	return i;
}

static int
staged_has(const struct staged *sg, const uint8_t sha[SHA256_LEN])
{
	return sg->cap > 0 && sg->used[staged_slot(sg, sha)];
}

static void
staged_add(struct staged *sg, const uint8_t sha[SHA256_LEN])
{
	struct staged	old = *sg;
	size_t		i;

	if (2 * (sg->n + 1) > sg->cap) {
		sg->cap = sg->cap == 0 ? 1024 : 2 * sg->cap;
		sg->v = xreallocarray(NULL, sg->cap, sizeof *sg->v);
		sg->used = xcalloc(sg->cap, 1);
		sg->n = 0;
		for (i = 0; i < old.cap; i++)
			if (old.used[i])
				staged_add(sg, old.v[i]);
		free(old.v);
		free(old.used);
	}
	i = staged_slot(sg, sha);
	if (!sg->used[i]) {
		memcpy(sg->v[i], sha, SHA256_LEN);
		sg->used[i] = 1;
		sg->n++;
	}
}

/* 1 if the file at path reads back whole and hashes to want. */
static int
file_hashes_to(const char *path, const uint8_t want[SHA256_LEN])
{
	struct sha256_ctx	*ctx;
	uint8_t			 digest[SHA256_LEN];
	char			*chunk;
	ssize_t			 n;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	ctx = sha256_new();
	chunk = xmalloc(OBJECT_CHUNK);
	while ((n = read(fd, chunk, OBJECT_CHUNK)) > 0)
		sha256_update(ctx, chunk, (size_t)n);
	close(fd);
	sha256_final(ctx, digest);
	sha256_free(ctx);
	free(chunk);
	return n == 0 && memcmp(digest, want, SHA256_LEN) == 0;
}

/*
 * Why a resumed pull hashes what it finds staged again: those files were
 * checked by the run that was cut short, but a crash (a power cut before
 * its syncfs) can leave a named file short or zeroed. Only an interrupted
 * pull pays this; one that fails the check is removed and fetched anew.
 */
static void
staged_read(struct staged *sg, const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	uint8_t		 sha[SHA256_LEN];
	char		*p;

	memset(sg, 0, sizeof *sg);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!staged_is_object(de->d_name) || hex_decode(sha, SHA256_LEN,
		    de->d_name, SHA256_HEX_LEN) != 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (file_hashes_to(p, sha))
			staged_add(sg, sha);
		else
			(void)unlink(p);
		free(p);
	}
	closedir(d);
}

static void
staged_free(struct staged *sg)
{
	free(sg->v);
	free(sg->used);
	memset(sg, 0, sizeof *sg);
}

/* Copies src to dst (a new file), hashing on the way; 0 only when the
 * bytes hash to want and there are exactly size of them. */
static int
copy_checked(const char *src, const char *dst, uint64_t size,
    const uint8_t want[SHA256_LEN], uint64_t *copied,
    const struct store_pull_opts *o, uint64_t *done, uint64_t total,
    struct error *err)
{
	struct sha256_ctx	*ctx = sha256_new();
	uint8_t			 digest[SHA256_LEN];
	char			*chunk = xmalloc(OBJECT_CHUNK);
	uint64_t		 got = 0;
	ssize_t			 n;
	int			 in = -1, out = -1, rc = 0;

	if ((rc = file_open_regular(&in, src, err)) != 0)
		goto out;	/* a FIFO on a USB drive must not block */
	/* A .part left by an interrupted run is read-only: start it anew. */
	(void)unlink(dst);
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", dst, strerror(errno));
		goto out;
	}
	/* Never more than the signed size: an endless object is cut off. */
	while (got <= size && (n = read(in, chunk, OBJECT_CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: read: %s", src,
			    strerror(errno));
			goto out;
		}
		got += (uint64_t)n;
		if (got > size)
			break;
		sha256_update(ctx, chunk, (size_t)n);
		if ((rc = write_all(out, chunk, (size_t)n, dst, err)) != 0)
			goto out;
		*done += (uint64_t)n;
		if (o->progress != NULL)
			o->progress(o->progress_arg, "copying", *done, total);
	}
	sha256_final(ctx, digest);
	if (got != size || memcmp(digest, want, SHA256_LEN) != 0) {
		rc = error_set(err, SATCHEL_EVERIFY, got > size ?
		    "%s: larger than the %llu bytes its manifest says" :
		    "%s: damaged (its bytes do not match the signed manifest)",
		    src, (unsigned long long)size);
		goto out;
	}
	if (close(out) == -1) {
		out = -1;
		rc = error_set(err, SATCHEL_ERR, "%s: %s", dst, strerror(errno));
		goto out;
	}
	out = -1;
	*copied += got;
out:
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	free(chunk);
	sha256_free(ctx);
	return rc;
}

/* The bytes of one object on their way from a satcheld to its .part:
 * one per request in flight of a pipelined fetch (pull_fetch). */
struct fetch {
	TAILQ_ENTRY(fetch)		 link;		/* checked, to stage */
	int				 fd;
	char				*path;		/* tmp/pull-N/HASH.part */
	char				*to;		/* tmp/pull-N/HASH */
	/* A delta (SPEC §11 "Deltas"): its bytes go to dpath, and the
	 * object is rebuilt from base into path once they are all in. */
	const struct manifest_file	*base;
	char				*dpath;		/* tmp/pull-N/HASH.delta */
	const struct store		*dst;		/* holds the base */
	uint64_t			 got;		/* delta bytes in dpath */
	int				 toolong;	/* more than a delta can be */
	const struct manifest		*m;
	const struct manifest_file	*f;
	uint64_t			 have;		/* bytes the .part had */
	int				 madewritable;	/* chmod'ed to continue */
	int				 umask0444;	/* the umask takes from 0444 */
	int				 open_rc;	/* fetch_open's, and why */
	struct error			 open_err;
	struct sha256_ctx		*ctx;
	const struct store_pull_opts	*o;
	uint64_t			*done;
	uint64_t			 total;
};

/* A delta's bytes: only kept (they are checked by what they rebuild). */
static int
fetch_delta_cb(void *arg, const void *data, size_t len, struct error *err)
{
	struct fetch	*fe = arg;

	/* Longer than any delta of this object can be: a damaged cache on
	 * the server, say. The rest is dropped, and the object fetched
	 * whole (the request's own bound, twice this, stops a server that
	 * never ends). */
	if (fe->toolong || fe->got + len > delta_size_bound(fe->f->size)) {
		fe->toolong = 1;
		return 0;
	}
	fe->got += len;
	return write_all(fe->fd, data, len, fe->dpath, err);
}

static int
fetch_data_cb(void *arg, const void *data, size_t len, struct error *err)
{
	struct fetch	*fe = arg;
	int		 rc;

	sha256_update(fe->ctx, data, len);
	if ((rc = write_all(fe->fd, data, len, fe->path, err)) != 0)
		return rc;
	*fe->done += len;
	if (fe->o->progress != NULL)
		fe->o->progress(fe->o->progress_arg, "downloading", *fe->done,
		    fe->total);
	return 0;
}

static void
fetch_free(struct fetch *fe)
{
	if (fe == NULL)
		return;
	if (fe->fd != -1)
		close(fe->fd);
	sha256_free(fe->ctx);
	free(fe->path);
	free(fe->to);
	free(fe->dpath);
	free(fe);
}

/* The file fetch_open makes or continues: the delta's or the object's. */
static const char *
fetch_file(const struct fetch *fe)
{
	return fe->dpath != NULL ? fe->dpath : fe->path;
}

/* fetch_open for a delta: what an earlier run received is continued
 * from its end (the server's delta is the same bytes, SPEC §10), and
 * checked only by the object it rebuilds. */
static int
fetch_open_delta(struct fetch *fe, struct error *err)
{
	struct stat	st;

	if ((fe->fd = open(fe->dpath, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1 || fstat(fe->fd, &st) == -1)
		return error_set(err, SATCHEL_ERR, "%s: %s", fe->dpath,
		    strerror(errno));
	fe->have = fe->got = (uint64_t)st.st_size;
	if (fe->have > delta_size_bound(fe->f->size)) {
		/* Not a delta of this object: start it anew. */
		if (ftruncate(fe->fd, 0) == -1)
			return error_set(err, SATCHEL_ERR, "%s: %s", fe->dpath,
			    strerror(errno));
		fe->have = fe->got = 0;
	}
	return 0;
}

/*
 * Opens the .part file fe->path and hashes what it holds. Why a .part is
 * continued, not restarted: a transfer cut by the network leaves the
 * bytes received so far, so the next run hashes them and asks only for
 * the rest (SPEC §11: GET_OBJECT from an offset); a prefix that was not
 * the object's fails the digest in fetch_finish and is removed.
 */
static int
fetch_open(struct fetch *fe, struct error *err)
{
	char		*chunk = NULL;
	uint64_t	 size = fe->f->size;
	ssize_t		 n;
	int		 rc = 0;

	if (fe->dpath != NULL)
		return fetch_open_delta(fe, err);
	fe->ctx = sha256_new();
	/* One open makes the .part, read-only from the start as objects are
	 * (most objects have none: a lookup first cost as much as the
	 * create, and a chmod at the end one more call each). The fd may
	 * still write: the mode applies to later opens. */
	if ((fe->fd = open(fe->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    0444)) != -1)
		return 0;
	if (errno != EEXIST) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", fe->path,
		    strerror(errno));
		goto out;
	}
	/* A .part of an earlier run: continue it. It is read-only; unless
	 * we are root, make it writable for as long as it is written. */
	if ((fe->fd = open(fe->path, O_RDWR | O_CLOEXEC)) == -1 &&
	    errno == EACCES && chmod(fe->path, 0644) == 0) {
		fe->madewritable = 1;
		fe->fd = open(fe->path, O_RDWR | O_CLOEXEC);
	}
	if (fe->fd == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", fe->path,
		    strerror(errno));
		goto out;
	}
	chunk = xmalloc(OBJECT_CHUNK);
	while (fe->have <= size && (n = read(fe->fd, chunk, OBJECT_CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: read: %s", fe->path,
			    strerror(errno));
			goto out;
		}
		fe->have += (uint64_t)n;
		if (fe->have <= size)
			sha256_update(fe->ctx, chunk, (size_t)n);
	}
	if (fe->have > size) {
		/* Not a prefix of this object: start it anew. */
		fe->have = 0;
		sha256_free(fe->ctx);
		fe->ctx = sha256_new();
		if (ftruncate(fe->fd, 0) == -1 ||
		    lseek(fe->fd, 0, SEEK_SET) == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: %s", fe->path,
			    strerror(errno));
			goto out;
		}
	}
out:
	free(chunk);
	return rc;
}

/* copy_checked's counterpart for a satcheld, once the server has sent
 * the whole object: 0 only when exactly its size bytes hash to its
 * digest; then the .part is closed, to be staged (fetch_stage). */
static int
fetch_finish(struct fetch *fe, struct sync_client *net, uint64_t *copied,
    struct error *err)
{
	uint8_t	digest[SHA256_LEN];

	sha256_final(fe->ctx, digest);
	if (memcmp(digest, fe->f->sha256, SHA256_LEN) != 0)
		return error_set(err, SATCHEL_EVERIFY, "%s: damaged (its bytes "
		    "do not match the signed manifest)", sync_client_url(net));
	if (((fe->madewritable || fe->umask0444) &&
	    fchmod(fe->fd, 0444) == -1) ||
	    close(fe->fd) == -1) {
		fe->fd = -1;
		return error_set(err, SATCHEL_ERR, "%s: %s", fe->path,
		    strerror(errno));
	}
	fe->fd = -1;
	*copied += fe->f->size - fe->have;
	return 0;
}

/*
 * A delta has arrived whole (dsize bytes in fe->fd): rebuild the object
 * from its base into the .part, which delta_decode checks against the
 * signed size and digest before this returns 0. Any failure leaves no
 * .part (the caller fetches the object whole); the delta is removed
 * either way.
 */
static int
fetch_rebuild(struct fetch *fe, uint64_t dsize, struct error *err)
{
	char	*bpath = store_object_path(fe->dst, fe->base->sha256);
	int	 bfd, out = -1, rc;

	if ((bfd = open(bpath, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", bpath,
		    strerror(errno));
		goto out;
	}
	(void)unlink(fe->path);
	if ((out = open(fe->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0444)) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", fe->path,
		    strerror(errno));
		goto out;
	}
	if (lseek(fe->fd, 0, SEEK_SET) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", fe->dpath,
		    strerror(errno));
		goto out;
	}
	rc = delta_decode(bfd, fe->base->size, fe->fd, dsize, fe->f->size,
	    fe->f->sha256, out, err);
	if (rc == 0 && ((fe->umask0444 && fchmod(out, 0444) == -1) ||
	    close(out) == -1)) {
		out = -1;
		rc = error_set(err, SATCHEL_ERR, "%s: %s", fe->path,
		    strerror(errno));
	}
	out = -1;
out:
	if (out != -1)
		close(out);
	if (rc != 0)
		(void)unlink(fe->path);
	if (bfd != -1)
		close(bfd);
	close(fe->fd);
	fe->fd = -1;
	(void)unlink(fe->dpath);
	free(bpath);
	return rc;
}

/* A checked .part becomes the staged object. */
static int
fetch_stage(struct fetch *fe, struct error *err)
{
	if (rename(fe->path, fe->to) == -1)
		return error_set(err, SATCHEL_ERR, "%s: %s", fe->to,
		    strerror(errno));
	return 0;
}

static int
name_wanted(const struct store_pull_opts *o, const char *name)
{
	size_t	i;

	if (o->nnames == 0)
		return 1;
	for (i = 0; i < o->nnames; i++)
		if (o->patterns ? fnmatch(o->names[i], name, 0) == 0 :
		    strcmp(o->names[i], name) == 0)
			return 1;
	return 0;
}

/* A pulled release waiting for the catalog that makes it visible. */
struct pulled {
	struct bundle_head	 h;
	char			*signed_buf;
	size_t			 signed_len;
	int64_t			 mtime;
	/* The newest release of the bundle the destination holds, if any:
	 * what changed files are asked for as deltas against. */
	struct bundle_head	 base;
	int			 has_base;
};

/*
 * 1 unless the process's umask leaves mode 0444 whole (then a .part made
 * 0444 is already an object's mode, SPEC §10, and needs no fchmod). Read
 * from /proc, since umask(2) can only be read by changing it, which
 * would race with other threads (satcheld pulls on one).
 */
static int
umask_takes_0444(void)
{
	FILE		*f;
	char		 line[128];
	unsigned	 mask;
	int		 takes = 1;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return 1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "Umask: %o", &mask) == 1) {
			takes = (mask & 0444) != 0;
			break;
		}
	fclose(f);
	return takes;
}

/*
 * Why the .part files are made on a thread of their own: making a file
 * is the dearest step of a first mirror on some filesystems (ext4
 * without a journal scans the block group's recently freed inodes on
 * every create: 60% of the client's CPU in the sync benchmark), and it
 * needs nothing from the network. The opener makes them in request
 * order, at most PULL_OPEN_AHEAD ahead of the requests sent, while the
 * pull's own thread receives, decompresses, hashes and writes. It only
 * ever runs fetch_open on fetches the pull has not taken yet; each one's
 * result is read once `opened` has passed it (under mu). It also stages
 * the checked ones (the rename .part -> HASH), which the pull hands it:
 * a rename in the staging directory waits for its lock, which a create
 * holds for as long as its scan, and waiting threads spin (a sixth of
 * the CPU went there).
 */
#define PULL_OPEN_AHEAD	64

struct pull_opener {
	pthread_mutex_t	  mu;
	pthread_cond_t	  cv;
	pthread_t	  th;
	int		  running;
	struct fetch	**v;		/* the objects to fetch, in order */
	size_t		  n;
	size_t		  opened;	/* v[0..opened) went through fetch_open */
	size_t		  taken;	/* v[0..taken) were handed to the network */
	TAILQ_HEAD(, fetch) checked;	/* to stage, then free */
	int		  stop;		/* stage what is checked, then end */
	int		  rc;		/* the first staging failure */
	struct error	  err;
};

static void *
pull_opener_main(void *arg)
{
	struct pull_opener	*op = arg;
	struct fetch		*fe;
	struct error		 err;
	size_t			 i = 0;
	int			 rc;

	pthread_mutex_lock(&op->mu);
	for (;;) {
		/* A create the pull waits for comes first, then staging. */
		if (i < op->n && !op->stop && (i <= op->taken ||
		    (TAILQ_EMPTY(&op->checked) &&
		    i < op->taken + PULL_OPEN_AHEAD))) {
			fe = op->v[i];
			pthread_mutex_unlock(&op->mu);
			fe->open_rc = fetch_open(fe, &fe->open_err);
			pthread_mutex_lock(&op->mu);
			op->opened = ++i;
			pthread_cond_broadcast(&op->cv);
			continue;
		}
		if ((fe = TAILQ_FIRST(&op->checked)) != NULL) {
			TAILQ_REMOVE(&op->checked, fe, link);
			pthread_mutex_unlock(&op->mu);
			rc = fetch_stage(fe, &err);
			fetch_free(fe);
			pthread_mutex_lock(&op->mu);
			if (rc != 0 && op->rc == 0) {
				op->rc = rc;
				op->err = err;
			}
			continue;
		}
		if (op->stop)
			break;
		pthread_cond_wait(&op->cv, &op->mu);
	}
	pthread_mutex_unlock(&op->mu);
	return NULL;
}

/* Hands a checked fetch to the opener to stage and free; 0 when there
 * is no opener (the caller stages it). */
static int
pull_opener_give(struct pull_opener *op, struct fetch *fe)
{
	if (!op->running)
		return 0;
	pthread_mutex_lock(&op->mu);
	TAILQ_INSERT_TAIL(&op->checked, fe, link);
	pthread_cond_broadcast(&op->cv);
	pthread_mutex_unlock(&op->mu);
	return 1;
}

/* The next fetch, its .part opened (by the opener, or here when there
 * is no opener thread); NULL when all were taken. */
static struct fetch *
pull_opener_take(struct pull_opener *op)
{
	struct fetch	*fe;

	if (op->taken == op->n)
		return NULL;
	if (!op->running) {
		fe = op->v[op->taken];
		op->v[op->taken++] = NULL;
		fe->open_rc = fetch_open(fe, &fe->open_err);
		return fe;
	}
	pthread_mutex_lock(&op->mu);
	while (op->opened <= op->taken)
		pthread_cond_wait(&op->cv, &op->mu);
	fe = op->v[op->taken];
	op->v[op->taken++] = NULL;
	pthread_cond_broadcast(&op->cv);
	pthread_mutex_unlock(&op->mu);
	return fe;
}

/* Stops the opener once it has staged what it was given; frees the
 * fetches never taken, and removes the empty .part files it made ahead
 * for them (nothing to resume). */
static void
pull_opener_end(struct pull_opener *op)
{
	struct fetch	*fe;
	size_t		 i;

	if (op->running) {
		pthread_mutex_lock(&op->mu);
		op->stop = 1;
		pthread_cond_broadcast(&op->cv);
		pthread_mutex_unlock(&op->mu);
		pthread_join(op->th, NULL);
		op->running = 0;
	}
	for (i = op->taken; i < op->n; i++) {
		fe = op->v[i];
		if (i < op->opened && fe->open_rc == 0 && fe->have == 0)
			unlink(fetch_file(fe));
		fetch_free(fe);
	}
	free(op->v);
	op->v = NULL;
	op->n = op->taken = op->opened = 0;
}

/* A pipelined fetch of the files of the pulled releases that the
 * destination lacks: what to fetch, and how it ends. */
struct pull_fetch {
	struct sync_client		*net;
	struct pull_opener		 op;
	TAILQ_HEAD(, fetch)		 whole;		/* deltas refused: fetch
							 * these whole first */
	const struct store_pull_opts	*o;
	struct store_pull_report	*rep;
	uint64_t			*done;
	uint64_t			 total;
};

/* sync_client_next_fn: the next file to fetch, its .part opened. */
static int
pull_fetch_next(void *arg, struct sync_client_obj *ob, struct error *err)
{
	struct pull_fetch	*pf = arg;
	struct fetch		*fe;
	int			 rc;

	/* Files whose delta was refused come after the planned ones, not
	 * among them: a run of small whole files packs into one zstd frame
	 * (OBJECT_PACK), and one more file in its middle would cut it. */
	if ((fe = pull_opener_take(&pf->op)) == NULL) {
		if ((fe = TAILQ_FIRST(&pf->whole)) == NULL)
			return 0;
		TAILQ_REMOVE(&pf->whole, fe, link);
		fe->open_rc = fetch_open(fe, &fe->open_err);
	}
	if ((rc = fe->open_rc) != 0) {
		if (err != NULL)
			*err = fe->open_err;
		error_prefix(err, "%s@%llu, file \"%s\"", fe->m->name,
		    (unsigned long long)fe->m->serial, fe->f->path);
		unlink(fetch_file(fe));
		fetch_free(fe);
		return rc;
	}
	memcpy(ob->sha, fe->f->sha256, SHA256_LEN);
	ob->arg = fe;
	if (fe->dpath != NULL) {
		ob->delta = 1;
		memcpy(ob->base, fe->base->sha256, SHA256_LEN);
		ob->size = 2 * delta_size_bound(fe->f->size) + (1u << 20);
		ob->object_size = fe->f->size;
		ob->offset = fe->have;
		ob->fn = fetch_delta_cb;
		return 1;
	}
	*pf->done += fe->have;
	ob->size = fe->f->size;
	ob->offset = fe->have;
	ob->fn = fetch_data_cb;
	return 1;
}

/* A delta that was not found or did not rebuild its object: the object
 * is fetched whole, once the planned files are asked for, on the same
 * connection. */
static void
pull_fetch_whole(struct pull_fetch *pf, struct fetch *fe)
{
	struct fetch	*w = xcalloc(1, sizeof *w);

	w->fd = -1;
	w->to = xstrdup(fe->to);
	w->path = xstrdup(fe->path);
	w->m = fe->m;
	w->f = fe->f;
	w->o = fe->o;
	w->done = fe->done;
	w->total = fe->total;
	w->umask0444 = fe->umask0444;
	TAILQ_INSERT_TAIL(&pf->whole, w, link);
	pf->rep->deltas_refused++;
}

/* sync_client_end_fn: an object's answer is complete, or will not be. */
static int
pull_fetch_end(void *arg, struct sync_client_obj *ob, int rc,
    struct error *err)
{
	struct pull_fetch	*pf = arg;
	struct fetch		*fe = ob->arg;
	struct error		 why;

	if (fe->dpath != NULL && (rc == 0 || rc == SATCHEL_ENOTFOUND)) {
		/* Whatever was wrong with the delta (the server lacks it, it
		 * does not decode, it rebuilds other bytes) costs only the
		 * object, fetched whole. */
		if (rc == 0 && !fe->toolong)
			rc = fetch_rebuild(fe, ob->size, &why);
		else {
			rc = SATCHEL_ENOTFOUND;
			(void)unlink(fe->dpath);
		}
		if (rc != 0) {
			pull_fetch_whole(pf, fe);
			fetch_free(fe);
			return 0;
		}
		pf->rep->files_delta++;
		pf->rep->bytes_delta += ob->size;
		pf->rep->bytes_delta_files += fe->f->size;
		pf->rep->bytes_copied += fe->f->size;
		*pf->done += fe->f->size;
		if (pf->o->progress != NULL)
			pf->o->progress(pf->o->progress_arg, "downloading",
			    *pf->done, pf->total);
		pf->rep->files_copied++;
		if (pull_opener_give(&pf->op, fe))
			return 0;
		rc = fetch_stage(fe, err);
		if (rc != 0)
			unlink(fe->path);
		fetch_free(fe);
		return rc;
	}
	if (rc == 0)
		rc = fetch_finish(fe, pf->net, &pf->rep->bytes_copied, err);
	if (rc == 0) {
		pf->rep->files_copied++;
		if (pull_opener_give(&pf->op, fe))
			return 0;
		rc = fetch_stage(fe, err);
	}
	if (rc != 0 && err != NULL)
		error_prefix(err, "%s@%llu, file \"%s\"", fe->m->name,
		    (unsigned long long)fe->m->serial, fe->f->path);
	/* A cut connection keeps what was checked so far. */
	if (rc != 0 && !sync_client_broken(pf->net))
		unlink(fetch_file(fe));
	fetch_free(fe);
	return rc;
}

/*
 * The network side of pull_stage: every missing file of v[0..n) fetched
 * into stagedir over one pipelined connection. What is missing is known
 * before the first request (the store and the staging directory answer
 * from memory and one stat per objects/ab/), so the opener can run
 * ahead; a file whose bytes another file already brought counts as
 * present.
 */
static int
pull_fetch(struct sync_client *net, struct pulled *v, size_t n,
    const char *stagedir, struct fanout *fo, const struct staged *staged,
    const struct store_pull_opts *o, struct store_pull_report *rep,
    uint64_t *done, uint64_t total, struct error *err)
{
	const struct manifest_file	*f, *b;
	const struct manifest		*m;
	struct pull_fetch		 pf;
	struct staged			 planned;
	struct delta_index		 ix;
	struct fetch			*fe;
	char				 hex[SHA256_HEX_LEN + 1];
	size_t				 i, j;
	int				 rc, takes = umask_takes_0444();
	int				 deltas = sync_client_has_delta(net);

	memset(&pf, 0, sizeof pf);
	memset(&planned, 0, sizeof planned);
	TAILQ_INIT(&pf.whole);
	pf.net = net;
	pf.o = o;
	pf.rep = rep;
	pf.done = done;
	pf.total = total;
	for (i = 0; i < n; i++) {
		m = v[i].h.manifest;
		delta_index_init(&ix, deltas && v[i].has_base ?
		    v[i].base.manifest : NULL);
		for (j = 0; j < m->nfiles; j++) {
			f = &m->files[j];
			if (staged_has(staged, f->sha256) ||
			    staged_has(&planned, f->sha256) ||
			    fanout_has(fo, f->sha256)) {
				rep->files_present++;
				*done += f->size;
				if (o->progress != NULL)
					o->progress(o->progress_arg, "copying",
					    *done, total);
				continue;
			}
			staged_add(&planned, f->sha256);
			hex_encode(hex, f->sha256, SHA256_LEN);
			fe = xcalloc(1, sizeof *fe);
			fe->fd = -1;
			fe->to = xasprintf("%s/%s", stagedir, hex);
			fe->path = xasprintf("%s.part", fe->to);
			fe->m = m;
			fe->f = f;
			fe->o = o;
			fe->done = done;
			fe->total = total;
			fe->umask0444 = takes;
			/* A base the destination holds: ask for a delta. */
			if ((b = delta_pick_base(&ix, f)) != NULL &&
			    fanout_has(fo, b->sha256)) {
				fe->base = b;
				fe->dst = fo->s;
				fe->dpath = xasprintf("%s.delta", fe->to);
			}
			pf.op.v = xreallocarray(pf.op.v, pf.op.n + 1,
			    sizeof *pf.op.v);
			pf.op.v[pf.op.n++] = fe;
		}
		delta_index_free(&ix);
	}
	staged_free(&planned);
	pthread_mutex_init(&pf.op.mu, NULL);
	pthread_cond_init(&pf.op.cv, NULL);
	TAILQ_INIT(&pf.op.checked);
	/* Without the thread (none to be had) the pull opens them itself. */
	if (pf.op.n > 1 &&
	    pthread_create(&pf.op.th, NULL, pull_opener_main, &pf.op) == 0)
		pf.op.running = 1;
	rc = sync_client_fetch(net, pull_fetch_next, pull_fetch_end, &pf, err);
	pull_opener_end(&pf.op);
	/* Every file refused as a delta was fetched whole: a fetch that
	 * ended well with one still waiting would land a release short. */
	if (rc == 0 && !TAILQ_EMPTY(&pf.whole))
		rc = error_set(err, SATCHEL_ERR, "%s: the fetch ended with "
		    "files still to fetch", sync_client_url(net));
	while ((fe = TAILQ_FIRST(&pf.whole)) != NULL) {
		TAILQ_REMOVE(&pf.whole, fe, link);
		fetch_free(fe);
	}
	if (rc == 0 && pf.op.rc != 0) {
		rc = pf.op.rc;
		if (err != NULL)
			*err = pf.op.err;
	}
	pthread_mutex_destroy(&pf.op.mu);
	pthread_cond_destroy(&pf.op.cv);
	return rc;
}

/*
 * Marks the store's tmp/ as the top of unrelated directory trees
 * (FS_TOPDIR_FL, `chattr +T`), where the filesystem supports it and it
 * is not marked yet. Why: tmp/ holds short-lived, unrelated work
 * directories, and ext4 then places each new one (tmp/pull-N/) in a
 * block group of its own choosing instead of beside the store, where
 * the objects that gc (or anyone) freed lie: ext4 without a journal
 * steps over every inode freed in the last minutes on each file it
 * makes, which cost a first mirror of the benchmark corpus more CPU
 * than everything else it did. Only a hint: any failure is ignored.
 */
static void
pull_tmp_topdir(const struct store *dst)
{
	char	*tmp = store_path(dst, "tmp");
	int	 fd, flags;

	if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
		    (flags & FS_TOPDIR_FL) == 0) {
			flags |= FS_TOPDIR_FL;
			(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
		}
		close(fd);
	}
	free(tmp);
}

static void
pulled_free(struct pulled *p)
{
	bundle_head_free(&p->h);
	if (p->has_base)
		bundle_head_free(&p->base);
	free(p->signed_buf);
}

/* The newest release of bundle name that dst holds, as the base of
 * deltas (SPEC §11 "Deltas"): p->base and its signed bytes, or nothing
 * (p->has_base 0) when there is none or it cannot be read, which only
 * means the release travels whole. */
static void
pull_base(const struct store *dst, const char *name, struct pulled *p,
    char **buf, size_t *len)
{
	struct error	 scratch;
	uint64_t	 serial = store_current(dst, name);
	char		*path;

	*buf = NULL;
	if (serial == 0)
		return;
	path = release_path(dst->dir, name, serial);
	if (file_read_regular(buf, len, path, MANIFEST_MAX + SIGS_BLOCK_MAX,
	    &scratch) == 0 &&
	    release_parse(*buf, *len, path, &p->base, &scratch) == 0) {
		if (strcmp(p->base.manifest->name, name) == 0 &&
		    p->base.manifest->serial == serial)
			p->has_base = 1;
		else
			bundle_head_free(&p->base);
	}
	if (!p->has_base) {
		free(*buf);
		*buf = NULL;
	}
	free(path);
}

/* 1 when p's signed manifest is the one the catalog entry pins. */
static int
pull_pinned(const struct pulled *p, const struct catalog_entry *ce)
{
	uint8_t	pin[SHA256_LEN];
	size_t	mlen;

	if (signed_split(p->signed_buf, p->signed_len, &mlen) != 0)
		return 0;
	sha256(p->signed_buf, mlen, pin);
	return memcmp(pin, ce->manifest_sha256, SHA256_LEN) == 0;
}

/* Why the staging directory is named by the catalog serial: an
 * interrupted pull of the same catalog finds what it already copied and
 * checked there, and copies only the rest. */
static int
pull_stage(struct store *src, struct sync_client *net, struct store *dst,
    struct fanout *fo, const struct store_pull_opts *o, struct pulled **outv,
    size_t *outn, char **stagedir, struct store_pull_report *rep,
    struct error *err)
{
	const struct catalog	*c = src->catalog;
	struct pulled		*v = NULL;
	struct staged		 staged;
	char			*base_buf = NULL;
	size_t			 n = 0, i, j, base_len = 0;
	uint64_t		 total = 0, done = 0;
	int			 rc = 0;

	memset(&staged, 0, sizeof staged);
	pull_tmp_topdir(dst);
	*stagedir = xasprintf("%s/tmp/pull-%llu", dst->dir,
	    (unsigned long long)c->serial);
	if ((rc = mkdir_checked(*stagedir, err)) != 0)
		goto out;
	staged_read(&staged, *stagedir);
	for (i = 0; i < c->n; i++) {
		const struct catalog_entry	*ce = &c->v[i];
		struct pulled			 p;
		char				*path = NULL;
		uint8_t				 pin[SHA256_LEN];
		struct stat			 sb;
		int				 ok = 0;

		if (!name_wanted(o, ce->name))
			continue;
		if (store_current(dst, ce->name) == ce->serial) {
			rep->bundles_current++;
			continue;
		}
		memset(&p, 0, sizeof p);
		if (net != NULL) {
			/* The same signed-manifest bytes as a .signed file; the
			 * pull time stands for the mirror's file time. */
			char	*rname = xasprintf("%s@%llu", ce->name,
				    (unsigned long long)ce->serial);
			uint8_t	 status;
			int	 used = 0;

			path = xasprintf("%s %s", src->dir, rname);
			pull_base(dst, ce->name, &p, &base_buf, &base_len);
			if (p.has_base)
				rc = sync_client_get_meta_delta(net, rname,
				    p.base.manifest->serial, base_buf, base_len,
				    &p.signed_buf, &p.signed_len, &status, &used,
				    err);
			else
				rc = sync_client_get_meta(net, MSG_ROLE_RELEASE,
				    rname, NULL, &p.signed_buf, &p.signed_len,
				    &status, err);
			if (used < 0)
				rep->deltas_refused++;
			/* A delta that rebuilt other bytes than the catalog
			 * pins: the manifest whole, once. */
			if (rc == 0 && used > 0 && status == MSG_STATUS_OK &&
			    !pull_pinned(&p, ce)) {
				rep->deltas_refused++;
				free(p.signed_buf);
				p.signed_buf = NULL;
				rc = sync_client_get_meta(net, MSG_ROLE_RELEASE,
				    rname, NULL, &p.signed_buf, &p.signed_len,
				    &status, err);
			}
			free(base_buf);
			base_buf = NULL;
			if (rc == 0 && status != MSG_STATUS_OK)
				rc = error_set(err, SATCHEL_ENOTFOUND,
				    "%s: the server has no release %s", src->dir,
				    rname);
			p.mtime = o->now;
			free(rname);
		} else {
			path = release_path(src->dir, ce->name, ce->serial);
			rc = file_read_regular(&p.signed_buf, &p.signed_len,
			    path, MANIFEST_MAX + SIGS_BLOCK_MAX, err);
			if (rc == 0 && stat(path, &sb) == 0)
				p.mtime = (int64_t)sb.st_mtim.tv_sec;
		}
		if (rc == 0)
			rc = release_parse(p.signed_buf, p.signed_len, path, &p.h, err);
		free(path);
		if (rc != 0) {
			free(p.signed_buf);
			if (p.has_base)
				bundle_head_free(&p.base);
			goto out;
		}
		/* Mix-and-match: the catalog pins these exact bytes. */
		sha256(p.h.manifest_buf, p.h.manifest_len, pin);
		if (memcmp(pin, ce->manifest_sha256, SHA256_LEN) != 0 ||
		    strcmp(p.h.manifest->name, ce->name) != 0 ||
		    p.h.manifest->serial != ce->serial) {
			rc = error_set(err, SATCHEL_EVERIFY,
			    "%s: the manifest of %s@%llu is not the one its catalog pins",
			    src->dir, ce->name, (unsigned long long)ce->serial);
		}
		for (j = 0; rc == 0 && j < dst->trust->npublishers; j++) {
			const struct pubkey	*k = &dst->trust->publishers[j].key;

			if (sigs_check(&p.h.sigs, k, SIG_DOMAIN_MANIFEST,
			    p.h.manifest_buf, p.h.manifest_len) == 0 &&
			    trust_publisher_allows(dst->trust, k, ce->name))
				ok = 1;
		}
		if (rc == 0 && !ok) {
			/* Who did sign tells a wrong key from a missing one. */
			struct buf	signers;

			buf_init(&signers);
			if (p.h.sigs.n == 0)
				buf_addstr(&signers, "nobody");
			for (j = 0; j < p.h.sigs.n; j++)
				buf_printf(&signers, "%s%s", j > 0 ? ", " : "",
				    p.h.sigs.v[j].keyid);
			rc = error_set(err, SATCHEL_EVERIFY,
			    "%s: %s@%llu is not signed by a publisher that the trust "
			    "policy of %s allows for it (signed by: %s)",
			    src->dir, ce->name, (unsigned long long)ce->serial,
			    dst->dir, signers.data);
			buf_free(&signers);
		}
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = p;
		if (rc != 0)
			goto out;
		total += p.h.manifest->total_size;
	}
	if (net != NULL && (rc = pull_fetch(net, v, n, *stagedir, fo,
	    &staged, o, rep, &done, total, err)) != 0)
		goto out;
	for (i = 0; net == NULL && i < n; i++) {
		const struct manifest	*m = v[i].h.manifest;

		for (j = 0; j < m->nfiles; j++) {
			const struct manifest_file	*f = &m->files[j];
			char				*from, *to, *part, hex[SHA256_HEX_LEN + 1];

			hex_encode(hex, f->sha256, SHA256_LEN);
			to = xasprintf("%s/%s", *stagedir, hex);
			/* Staged here by this run (a release may name the same
			 * bytes twice) or an earlier one, or already stored. */
			if (staged_has(&staged, f->sha256) ||
			    fanout_has(fo, f->sha256)) {
				rep->files_present++;
				done += f->size;
				if (o->progress != NULL)
					o->progress(o->progress_arg, "copying", done, total);
				free(to);
				continue;
			}
			part = xasprintf("%s.part", to);
			from = store_object_path(src, f->sha256);
			rc = copy_checked(from, part, f->size, f->sha256,
			    &rep->bytes_copied, o, &done, total, err);
			if (rc != 0)
				error_prefix(err, "%s@%llu, file \"%s\"", m->name,
				    (unsigned long long)m->serial, f->path);
			else if (rename(part, to) == -1)
				rc = error_set(err, SATCHEL_ERR, "%s: %s", to,
				    strerror(errno));
			else {
				rep->files_copied++;
				staged_add(&staged, f->sha256);
			}
			if (rc != 0)
				unlink(part);
			free(part);
			free(from);
			free(to);
			if (rc != 0)
				goto out;
		}
	}
	*outv = v;
	*outn = n;
	v = NULL;
	n = 0;
out:
	for (i = 0; i < n; i++)
		pulled_free(&v[i]);
	free(v);
	staged_free(&staged);
	return rc;
}

/*
 * Renames every checked object of the staging directory into objects/
 * (the caller has made them durable first). Why the directory is read
 * rather than the manifests walked: what is staged is exactly what is
 * to land, one readdir instead of a lookup per file; a checked object
 * that an interrupted pull of another bundle left there lands too, which
 * the store allows (an object is its verified bytes named by their hash;
 * gc removes what no release names). .part files stay for rmdir_flat.
 */
static int
pull_land_objects(const char *stagedir, struct fanout *fo, struct error *err)
{
	DIR		*d;
	struct dirent	*de;
	uint8_t		 sha[SHA256_LEN];
	char		*from, *to;
	int		 rc = 0;

	if ((d = opendir(stagedir)) == NULL)
		return error_set(err, SATCHEL_ERR, "%s: %s", stagedir,
		    strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!staged_is_object(de->d_name) ||
		    hex_decode(sha, SHA256_LEN, de->d_name, SHA256_HEX_LEN) != 0)
			continue;
		if ((rc = fanout_make(fo, sha, err)) != 0)
			break;
		from = xasprintf("%s/%s", stagedir, de->d_name);
		to = store_object_path(fo->s, sha);
		if (rename(from, to) == -1)
			rc = error_set(err, SATCHEL_ERR, "%s: %s", to,
			    strerror(errno));
		free(from);
		free(to);
	}
	closedir(d);
	return rc;
}

static void
rmdir_flat(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		*p;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * A trust chain being accepted: the policies that follow base, one
 * serial at a time, each checked against the one before (SPEC §7
 * "Rotation"), kept in memory with their exact bytes until they land,
 * so that a refusal anywhere leaves the store as it was.
 */
struct trust_chain {
	const struct trust	 *base;		/* the policy in force */
	struct trust		**v;		/* accepted, oldest first */
	char			**buf;
	size_t			 *len;
	uint64_t		 *serial;
	size_t			  n;
};

static const struct trust *
trust_chain_last(const struct trust_chain *ch)
{
	return ch->n > 0 ? ch->v[ch->n - 1] : ch->base;
}

/* Appends t (the chain now owns it) and a copy of its bytes. */
static void
trust_chain_push(struct trust_chain *ch, struct trust *t, const char *buf,
    size_t len)
{
	ch->v = xreallocarray(ch->v, ch->n + 1, sizeof *ch->v);
	ch->buf = xreallocarray(ch->buf, ch->n + 1, sizeof *ch->buf);
	ch->len = xreallocarray(ch->len, ch->n + 1, sizeof *ch->len);
	ch->serial = xreallocarray(ch->serial, ch->n + 1, sizeof *ch->serial);
	ch->serial[ch->n] = t->serial;
	ch->buf[ch->n] = xmalloc(len);
	memcpy(ch->buf[ch->n], buf, len);
	ch->len[ch->n] = len;
	ch->v[ch->n++] = t;
}

/* Parses buf (the policy named name, which must have serial want when
 * want is not 0) and takes it when it follows the chain's last policy;
 * TRUST_SAME when it is that policy. buf is copied. */
static int
trust_chain_add(struct trust_chain *ch, const char *buf, size_t len,
    const char *name, uint64_t want, struct error *err)
{
	struct trust	*t = NULL;
	int		 rc;

	if ((rc = trust_parse(&t, buf, len, name, err)) != 0)
		return rc;
	if (want != 0 && t->serial != want) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: holds trust policy %llu, not %llu", name,
		    (unsigned long long)t->serial, (unsigned long long)want);
		goto out;
	}
	if ((rc = trust_check_successor(trust_chain_last(ch), t, name,
	    err)) != 0)
		goto out;
	trust_chain_push(ch, t, buf, len);
	t = NULL;			/* ownership moved to the chain */
out:
	trust_free(t);
	return rc;
}

static void
trust_chain_free(struct trust_chain *ch)
{
	size_t	i;

	for (i = 0; i < ch->n; i++) {
		trust_free(ch->v[i]);
		free(ch->buf[i]);
	}
	free(ch->v);
	free(ch->buf);
	free(ch->len);
	free(ch->serial);
	memset(ch, 0, sizeof *ch);
}

/* The store's policy in memory becomes the chain's newest, so that the
 * pull checks the catalog and the releases against it; the chain keeps
 * the old one (in the newest's slot) to free. Nothing on disk changes:
 * on a refusal the store opened next time has its old policy. Nothing
 * may be added to ch after this. */
static void
trust_chain_apply(struct store *s, struct trust_chain *ch)
{
	struct trust	*old = s->trust;

	if (ch->n == 0)
		return;
	s->trust = ch->v[ch->n - 1];	/* ownership moved to the store */
	ch->v[ch->n - 1] = old;		/* and the old one's to the chain */
	ch->base = NULL;
}

/* Writes each accepted policy to meta/trust.d/SERIAL.policy, then, when
 * in_force, puts the last in force by renaming it over meta/trust (after
 * trust_chain_apply). Why in that order: a crash in between leaves the
 * old policy in force and files in trust.d that the chain rewrites. */
static int
trust_chain_land(struct store *s, const struct trust_chain *ch,
    int in_force, struct error *err)
{
	char	*p;
	size_t	 i;
	int	 rc = 0;

	if (ch->n == 0)
		return 0;
	for (i = 0; rc == 0 && i < ch->n; i++) {
		p = xasprintf("%s/meta/trust.d/%llu.policy", s->dir,
		    (unsigned long long)ch->serial[i]);
		rc = file_write_atomic(p, ch->buf[i], ch->len[i], 0644, err);
		free(p);
	}
	if (rc != 0 || !in_force)
		return rc;
	p = store_path(s, "meta/trust");
	rc = file_write_atomic(p, ch->buf[ch->n - 1], ch->len[ch->n - 1], 0644,
	    err);
	free(p);
	return rc;
}

/*
 * On an origin the catalog must stay valid under the policy in force:
 * the configured catalog key must be one the policy lists (checked
 * before anything lands), and a catalog that the policy no longer
 * accepts (its key replaced) is signed again with the configured key,
 * serial + 1, issued now. Why here: a mirror that takes the new policy
 * would refuse the old signature until the next publish. Run again after
 * a crash, it finds the policy in force and still repairs the catalog.
 */
static int
set_trust_catalog(struct store *s, const struct trust *t, int land,
    int64_t now, struct error *err)
{
	struct privkey	*key = NULL;
	struct pubkey	 pub;
	struct error	 e;
	size_t		 i;
	int		 rc;

	if (s->catalog_key == NULL || t == NULL)
		return 0;
	if ((rc = keyfile_load_private(&key, s->catalog_key, err)) != 0)
		return rc;
	privkey_public(key, &pub);
	for (i = 0; i < t->ncatalogs; i++)
		if (memcmp(t->catalogs[i].raw, pub.raw, ED25519_PUB_LEN) == 0)
			break;
	if (i == t->ncatalogs)
		rc = error_set(err, SATCHEL_EVERIFY, "%s: the store signs its "
		    "catalog with %s (config catalog-key %s), which trust "
		    "policy %llu does not list: point catalog-key at one of "
		    "its catalog keys first", s->dir, pub.id, s->catalog_key,
		    (unsigned long long)t->serial);
	else if (land && s->catalog != NULL &&
	    catalog_check(s->catalog, t, now, 1, "meta/catalog", &e) != 0) {
		s->catalog->serial++;
		s->catalog->issued = now;
		s->catalog->expires = now + s->expiry;
		rc = catalog_store(s->dir, s->catalog, key, err);
	}
	privkey_free(key);
	return rc;
}

int
store_set_trust(struct store *s, char *const *paths, size_t n, int64_t now,
    struct error *err)
{
	struct trust_chain	 ch;
	struct trust		*t;
	char			*buf = NULL;
	size_t			 len, i;
	int			 rc = 0;

	if (s->lockfd == -1)
		fatal("%s: the store is not open for writing", __func__);
	memset(&ch, 0, sizeof ch);
	ch.base = s->trust;
	for (i = 0; rc == 0 && i < n; i++) {
		if ((rc = file_read_all(&buf, &len, paths[i], TRUST_MAX,
		    err)) != 0)
			break;
		if (trust_chain_last(&ch) != NULL) {
			if ((rc = trust_chain_add(&ch, buf, len, paths[i], 0,
			    err)) == TRUST_SAME)
				rc = 0;		/* already in force */
		} else if ((rc = trust_parse(&t, buf, len, paths[i],
		    err)) == 0) {
			/* A store without a policy takes the first as given:
			 * it is the chain's start. */
			trust_chain_push(&ch, t, buf, len);
		}
		free(buf);
		buf = NULL;
	}
	if (rc == 0)
		rc = set_trust_catalog(s, trust_chain_last(&ch), 0, now, err);
	if (rc == 0) {
		trust_chain_apply(s, &ch);
		rc = trust_chain_land(s, &ch, 1, err);
	}
	if (rc == 0)
		rc = set_trust_catalog(s, s->trust, 1, now, err);
	trust_chain_free(&ch);
	return rc;
}

/* Policy k of src: its meta/trust.d/k.policy, or GET_META role 1 with
 * the serial as name. ENOTFOUND (no message) when src has none. */
static int
pull_trust_read(const struct store *src, struct sync_client *net,
    uint64_t k, char **buf, size_t *len, char **name, struct error *err)
{
	char	num[24];
	uint8_t	status;
	int	rc;

	snprintf(num, sizeof num, "%llu", (unsigned long long)k);
	if (net != NULL) {
		*name = xstrdup(src->dir);
		rc = sync_client_get_meta(net, MSG_ROLE_TRUST, num, NULL, buf,
		    len, &status, err);
		if (rc == 0 && status != MSG_STATUS_OK)
			rc = SATCHEL_ENOTFOUND;
		return rc;
	}
	*name = xasprintf("%s/meta/trust.d/%s.policy", src->dir, num);
	return file_read_all(buf, len, *name, TRUST_MAX, err);
}

/*
 * A store a pull has just made (a USB drive, say) takes the source's
 * older policies too, newest first, as far back as the source's chain
 * goes: a school several rotations behind can then walk the chain from
 * the drive. Each must be the predecessor of the one after it.
 */
static int
pull_trust_history(const struct store *src, struct sync_client *net,
    const struct store *dst, struct trust_chain *hist, struct error *err)
{
	const struct trust	*after = dst->trust;
	struct trust		*t;
	uint64_t		 k;
	char			*buf = NULL, *name = NULL;
	size_t			 len;
	int			 rc = 0;

	for (k = after->serial - 1; rc == 0 && k >= 1; k--) {
		rc = pull_trust_read(src, net, k, &buf, &len, &name, err);
		if (rc == SATCHEL_ENOTFOUND) {
			rc = 0;		/* where the source's chain begins */
			free(name);
			break;
		}
		t = NULL;
		if (rc == 0)
			rc = trust_parse(&t, buf, len, name, err);
		if (rc == 0 && t->serial != k)
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: holds trust policy %llu, not %llu", name,
			    (unsigned long long)t->serial,
			    (unsigned long long)k);
		if (rc == 0 && (rc = trust_check_successor(t, after, name,
		    err)) == 0) {
			trust_chain_push(hist, t, buf, len);
			after = t;
			t = NULL;	/* ownership moved to hist */
		}
		trust_free(t);
		free(buf);
		buf = NULL;
		free(name);
		name = NULL;
	}
	return rc;
}

/*
 * From dst's policy to src's newest (SPEC §10 "Pulling"): a lower
 * serial is a rollback and the same serial must be the same bytes; a
 * higher one is reached one serial at a time, the policies between
 * read from src's meta/trust.d or asked of the server by serial (GET_META
 * role 1, name the serial), each signed by a threshold of the roots of
 * the one before and of its own. Nothing is written here; the caller
 * lands ch when the rest of the pull has been checked.
 */
static int
pull_trust_walk(const struct store *src, struct sync_client *net,
    struct trust_chain *ch, struct error *err)
{
	const struct trust	*t = src->trust;
	uint64_t		 k;
	char			*buf = NULL, *name = NULL;
	size_t			 len;
	int			 rc = 0;

	if (t == NULL)
		return 0;		/* a source without one: ours stays */
	for (k = ch->base->serial + 1; rc == 0 && k < t->serial; k++) {
		rc = pull_trust_read(src, net, k, &buf, &len, &name, err);
		if (rc == SATCHEL_ENOTFOUND)
			rc = error_set(err, SATCHEL_ENOTFOUND,
			    "%s: the source has no trust policy %llu (needed to "
			    "go from policy %llu to %llu)", src->dir,
			    (unsigned long long)k,
			    (unsigned long long)ch->base->serial,
			    (unsigned long long)t->serial);
		if (rc == 0)
			rc = trust_chain_add(ch, buf, len, name, k, err);
		free(buf);
		buf = NULL;
		free(name);
		name = NULL;
	}
	if (rc != 0)
		return rc;
	/* The newest, as the source holds it in force (canonical: the bytes
	 * trust_parse accepted are the ones it encodes). */
	trust_encode(t, &buf, &len);
	name = net != NULL ? xstrdup(src->dir) :
	    xasprintf("%s/meta/trust", src->dir);
	rc = trust_chain_add(ch, buf, len, name, 0, err);
	free(buf);
	free(name);
	return rc == TRUST_SAME ? 0 : rc;
}

/* A new store at dst takes src's trust policy: that is how a USB drive
 * is prepared; the school's own store checks it against its own. */
static int
pull_create(const char *dst, const struct store *src, const char *tbuf,
    size_t tlen, int64_t now, struct error *err)
{
	char	*policy = store_path(src, "meta/trust");
	int	 rc;

	if (tbuf != NULL)
		rc = store_create(dst, src->dir, tbuf, tlen, NULL, now, err);
	else
		rc = store_init(dst, src->trust != NULL ? policy : NULL, NULL, now,
		    err);
	free(policy);
	return rc;
}

/*
 * A satcheld as a pull's source: *out is a store that exists only in
 * memory, its dir the URL (for messages), its catalog (GET_META role 2)
 * and trust policy (role 1, kept in *tbuf for a new destination) what
 * the server holds now; objects and releases are then asked for by
 * pull_stage through *net. Both belong to the caller.
 */
static int
pull_open_net(struct store **out, struct sync_client **net, char **tbuf,
    size_t *tlen, const char *url, struct error *err)
{
	struct store	*s = xcalloc(1, sizeof *s);
	char		*data = NULL;
	size_t		 len;
	uint8_t		 status;
	int		 rc;

	s->dir = xstrdup(url);
	s->lockfd = -1;
	if ((rc = sync_client_open(net, url, err)) != 0)
		goto out;
	if ((rc = sync_client_get_meta(*net, MSG_ROLE_CATALOG, "", NULL, &data,
	    &len, &status, err)) != 0)
		goto out;
	if (status == MSG_STATUS_OK &&
	    (rc = catalog_parse(&s->catalog, data, len, url, err)) != 0)
		goto out;
	free(data);
	data = NULL;
	if ((rc = sync_client_get_meta(*net, MSG_ROLE_TRUST, "", NULL, &data,
	    &len, &status, err)) != 0)
		goto out;
	if (status == MSG_STATUS_OK) {
		if ((rc = trust_parse(&s->trust, data, len, url, err)) != 0)
			goto out;
		*tbuf = data;		/* ownership moved to the caller */
		*tlen = len;
		data = NULL;
	}
	*out = s;
	s = NULL;		/* ownership moved to the caller */
out:
	free(data);
	store_close(s);
	return rc;
}

int
store_pull(const char *srcdir, const char *dstdir,
    const struct store_pull_opts *o, struct store_pull_report *out,
    struct error *err)
{
	struct store_pull_report	 rep;
	struct fanout			 fo;
	struct store			*src = NULL, *dst = NULL;
	struct sync_client		*net = NULL;
	struct pulled			*v = NULL;
	struct trust_chain		 ch, hist;
	struct stat			 sb;
	struct timespec			 ts[2];
	char				*stagedir = NULL, *path = NULL, *dir = NULL;
	char				*cbuf = NULL, *tbuf = NULL;
	size_t				 n = 0, i, clen, tlen = 0;
	int				 rc, dfd;

	memset(&rep, 0, sizeof rep);
	memset(&ch, 0, sizeof ch);
	memset(&hist, 0, sizeof hist);
	/* The source: a store directory, a satcheld (satchel://), or a
	 * store directory on a web server (http[s]://, SPEC §10 "Static
	 * transport"): the last two through sync-client, checked alike. */
	if (sync_client_is_url(srcdir) || http_client_is_url(srcdir))
		rc = pull_open_net(&src, &net, &tbuf, &tlen, srcdir, err);
	else
		rc = store_open(&src, srcdir, STORE_READ, err);
	if (rc != 0)
		goto out;
	if (src->catalog == NULL) {
		rc = error_set(err, SATCHEL_ENOTFOUND,
		    "%s: the source store has no catalog (nothing published)", srcdir);
		goto out;
	}
	path = xasprintf("%s/STORE", dstdir);
	if (stat(path, &sb) == -1 && errno == ENOENT) {
		rc = pull_create(dstdir, src, tbuf, tlen, o->now, err);
		/* Another pull may have made it in the meantime. */
		if (rc == SATCHEL_EEXISTS && stat(path, &sb) == 0)
			rc = 0;
		else if (rc == 0)
			rep.created = 1;
		if (rc != 0)
			goto out;
	}
	if ((rc = store_open(&dst, dstdir, STORE_WRITE, err)) != 0)
		goto out;
	if (dst->trust == NULL) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: the store has no trust policy to check %s against",
		    dstdir, srcdir);
		goto out;
	}
	/* The trust policy first: the catalog and the releases are checked
	 * against the newest one the chain reaches. */
	ch.base = dst->trust;
	if ((rc = pull_trust_walk(src, net, &ch, err)) != 0)
		goto out;
	trust_chain_apply(dst, &ch);
	if (rep.created && (rc = pull_trust_history(src, net, dst, &hist,
	    err)) != 0)
		goto out;
	/* The catalog: right key, not older than ours, not expired. */
	if ((rc = catalog_check(src->catalog, dst->trust, o->now,
	    o->allow_expired, srcdir, err)) != 0)
		goto out;
	rep.expired = o->now >= src->catalog->expires;
	if (dst->catalog != NULL && src->catalog->serial < dst->catalog->serial) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: catalog serial %llu is older than the serial %llu that %s "
		    "already has (rollback refused)", srcdir,
		    (unsigned long long)src->catalog->serial,
		    (unsigned long long)dst->catalog->serial, dstdir);
		goto out;
	}
	for (i = 0; !o->patterns && i < o->nnames; i++)
		if (catalog_find(src->catalog, o->names[i]) == NULL) {
			rc = error_set(err, SATCHEL_ENOTFOUND,
			    "%s: no bundle \"%s\" in the source's catalog", srcdir,
			    o->names[i]);
			goto out;
		}
	for (i = 0; dst->catalog != NULL && i < dst->catalog->n; i++) {
		const struct catalog_entry *old = &dst->catalog->v[i];
		const struct catalog_entry *nw = catalog_find(src->catalog, old->name);

		if (nw != NULL && nw->serial < old->serial) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: %s serial %llu is older than the serial %llu of %s "
			    "(rollback refused)", srcdir, old->name,
			    (unsigned long long)nw->serial,
			    (unsigned long long)old->serial, dstdir);
			goto out;
		}
	}
	memset(&fo, 0, sizeof fo);
	fo.s = dst;
	if ((rc = pull_stage(src, net, dst, &fo, o, &v, &n, &stagedir, &rep,
	    err)) != 0) {
		/* Refused: leave no trace. (An interruption, by contrast,
		 * leaves the checked copies for the next run: a kill, or a
		 * connection cut.) */
		if (net == NULL || !sync_client_broken(net))
			rmdir_flat(stagedir);
		goto out;
	}
	/* Land: staged objects, then signed manifests, then the catalog. */
	if ((dfd = open(stagedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		syncfs(dfd);
		close(dfd);
	}
	if ((rc = pull_land_objects(stagedir, &fo, err)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		const struct manifest	*m = v[i].h.manifest;

		free(dir);
		dir = xasprintf("%s/meta/releases/%s", dst->dir, m->name);
		free(path);
		path = release_path(dst->dir, m->name, m->serial);
		if ((rc = mkdir_checked(dir, err)) != 0 ||
		    (rc = file_write_atomic(path, v[i].signed_buf, v[i].signed_len,
		    0444, err)) != 0)
			goto out;
		ts[0].tv_sec = ts[1].tv_sec = (time_t)v[i].mtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		utimensat(AT_FDCWD, path, ts, 0);
		rep.bundles_new++;
	}
	/* The policies of the chain, then the catalog they let in. */
	if ((rc = trust_chain_land(dst, &hist, 0, err)) != 0 ||
	    (rc = trust_chain_land(dst, &ch, 1, err)) != 0)
		goto out;
	rep.trust_serial = dst->trust->serial;
	rep.trust_accepted = ch.n;
	/* The source's catalog, byte for byte: mirrors pass it on. */
	catalog_encode(src->catalog, &cbuf, &clen);
	free(path);
	path = store_path(dst, "meta/catalog");
	if ((rc = file_write_atomic(path, cbuf, clen, 0644, err)) != 0)
		goto out;
	rep.catalog_serial = src->catalog->serial;
	rmdir_flat(stagedir);
	*out = rep;
out:
	for (i = 0; i < n; i++)
		pulled_free(&v[i]);
	free(v);
	trust_chain_free(&ch);
	trust_chain_free(&hist);
	free(cbuf);
	free(stagedir);
	free(path);
	free(dir);
	store_close(dst);
	store_close(src);
	sync_client_close(net);
	free(tbuf);
	return rc;
}

/* --- gc --- */

/* The SHA-256 of a retained release's signed file (what META_DELTA's
 * cache is named by). */
static int
release_sha256(const struct store *s, const char *name, uint64_t serial,
    uint8_t out[SHA256_LEN])
{
	struct error	 scratch;
	char		*path = release_path(s->dir, name, serial), *buf = NULL;
	size_t		 len;
	int		 rc;

	if ((rc = file_read_regular(&buf, &len, path,
	    MANIFEST_MAX + SIGS_BLOCK_MAX, &scratch)) == 0)
		sha256(buf, len, out);
	free(buf);
	free(path);
	return rc;
}

static int
sha_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SHA256_LEN);
}

int
store_gc(struct store *s, unsigned keep, struct store_gc_report *out,
    struct error *err)
{
	struct store_gc_report	 rep;
	uint8_t			(*live)[SHA256_LEN] = NULL;
	size_t			 nlive = 0, i, j, k;
	char			*rdir = store_path(s, "meta/releases"), *p;
	struct dirent		*de;
	DIR			*d;
	int			 rc = 0, dfd;

	memset(&rep, 0, sizeof rep);
	if (keep < 1)
		keep = 1;
	/* 1. Releases: keep the newest `keep` visible ones of each bundle in
	 * the catalog; drop older ones, invisible leftovers, and bundles the
	 * catalog no longer names. */
	if ((d = opendir(rdir)) == NULL) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", rdir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		const struct catalog_entry	*ce;
		struct dirent			*fe;
		DIR				*bd;
		uint64_t			*vis = NULL, serial;
		size_t				 nvis = 0;
		char				*bdir;

		if (de->d_name[0] == '.')
			continue;
		ce = s->catalog != NULL ? catalog_find(s->catalog, de->d_name) : NULL;
		if (ce != NULL)
			(void)store_release_list(s, de->d_name, &vis, &nvis, err);
		bdir = xasprintf("%s/%s", rdir, de->d_name);
		if ((bd = opendir(bdir)) != NULL) {
			while ((fe = readdir(bd)) != NULL) {
				const char	*dot = strchr(fe->d_name, '.');
				int		 kept = 0;

				if (fe->d_name[0] == '.')
					continue;
				if (dot != NULL && parse_u64(fe->d_name,
				    (size_t)(dot - fe->d_name), 1, INT64_MAX, &serial) == 0)
					for (k = 0; k < nvis && k < keep; k++)
						kept |= vis[k] == serial;
				if (kept)
					continue;
				p = xasprintf("%s/%s", bdir, fe->d_name);
				if (unlink(p) == 0)
					rep.releases_removed++;
				free(p);
			}
			closedir(bd);
			rmdir(bdir);	/* only when it emptied */
		}
		free(bdir);
		free(vis);
	}
	closedir(d);
	if ((dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		syncfs(dfd);
		close(dfd);
	}
	/* 2. Objects: what the kept releases name stays. */
	for (i = 0; s->catalog != NULL && i < s->catalog->n; i++) {
		uint64_t	*vis = NULL;
		size_t		 nvis = 0;

		if (store_release_list(s, s->catalog->v[i].name, &vis, &nvis, err) != 0)
			continue;
		for (k = 0; k < nvis; k++) {
			struct bundle_head	h;

			if (store_release_load(s, s->catalog->v[i].name, vis[k], &h,
			    err) != 0) {
				error_prefix(err, "gc stopped before removing objects");
				rc = SATCHEL_ERR;
				free(vis);
				free(live);
				goto out;
			}
			live = xreallocarray(live, nlive + h.manifest->nfiles + 1,
			    sizeof *live);
			/* The signed file's own hash: its deltas (".m")
			 * stay with it. */
			if (release_sha256(s, s->catalog->v[i].name, vis[k],
			    live[nlive]) == 0)
				nlive++;
			for (j = 0; j < h.manifest->nfiles; j++)
				memcpy(live[nlive++], h.manifest->files[j].sha256,
				    SHA256_LEN);
			bundle_head_free(&h);
		}
		free(vis);
	}
	if (nlive > 1)
		qsort(live, nlive, SHA256_LEN, sha_cmp);
	free(rdir);
	rdir = store_path(s, "objects");
	if ((d = opendir(rdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct dirent	*fe;
			DIR		*sd;
			char		*sub;

			if (de->d_name[0] == '.' || strlen(de->d_name) != 2)
				continue;
			sub = xasprintf("%s/%s", rdir, de->d_name);
			if ((sd = opendir(sub)) == NULL) {
				free(sub);
				continue;
			}
			while ((fe = readdir(sd)) != NULL) {
				char		 hex[2 * 256 + 8];
				uint8_t		 sha[SHA256_LEN];
				struct stat	 sb;

				if (fe->d_name[0] == '.')
					continue;
				snprintf(hex, sizeof hex, "%s%s", de->d_name, fe->d_name);
				if (hex_decode(sha, SHA256_LEN, hex, strlen(hex)) != 0)
					continue;	/* not ours: fsck reports it */
				if (nlive > 0 && bsearch(sha, live, nlive, SHA256_LEN,
				    sha_cmp) != NULL)
					continue;
				p = xasprintf("%s/%s", sub, fe->d_name);
				if (stat(p, &sb) == 0 && unlink(p) == 0) {
					rep.objects_removed++;
					rep.bytes_freed += (uint64_t)sb.st_size;
				}
				free(p);
			}
			closedir(sd);
			rmdir(sub);
			free(sub);
		}
		closedir(d);
	}
	/* The deltas of objects gone, and of manifests (SPEC §10). */
	store_delta_gc(s, (const uint8_t (*)[32])live, nlive);
	free(live);
	/* 3. Leftovers of interrupted work: tmp/, and the hidden temporary
	 * files of atomic writes cut short (".NAME.tmp-XXXXXX"). */
	atomic_file_remove_stale(s->dir);
	p = store_path(s, "meta");
	atomic_file_remove_stale(p);
	free(p);
	p = store_path(s, "meta/trust.d");
	atomic_file_remove_stale(p);
	free(p);
	p = store_path(s, "meta/releases");
	if ((d = opendir(p)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char	*t;

			if (de->d_name[0] == '.')
				continue;
			t = xasprintf("%s/%s", p, de->d_name);
			atomic_file_remove_stale(t);
			free(t);
		}
		closedir(d);
	}
	free(p);
	p = store_path(s, "tmp");
	if ((d = opendir(p)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char	*t;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			t = xasprintf("%s/%s", p, de->d_name);
			rmdir_flat(t);
			unlink(t);
			free(t);
		}
		closedir(d);
	}
	free(p);
	/* 4. The web library's cache (lesson zips, bundle archives): each
	 * file is rebuilt on demand, and a release gc removed may be all
	 * that still named it. A file being served stays readable. */
	for (i = 0; i < 2; i++) {
		p = store_path(s, i == 0 ? "cache/zip" : "cache/bundle");
		rmdir_flat(p);
		free(p);
	}
	*out = rep;
out:
	free(rdir);
	return rc;
}
