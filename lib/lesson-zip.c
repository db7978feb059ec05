/*
 * lesson-zip.c owns "download this lesson": which files of a release go
 * into a lesson's zip, the note on top, the cache key, and streaming the
 * files from the store's objects into lib/archive-zip.c, checking each
 * against the manifest on the way. The plan (what goes in, in what
 * order) is computed once and used by both the key and the writer, so
 * the key can never describe a different zip than the one written.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "archive-zip.h"
#include "crypto.h"
#include "error.h"
#include "lesson-zip.h"
#include "manifest.h"
#include "util.h"

#define LESSON_ZIP_CHUNK	65536

struct lesson_zip_plan {
	const struct manifest_lesson	*lesson;
	char				*readme;	/* NULL: the bundle has one */
	size_t				 readme_len;
	size_t				*files;		/* indices into m->files */
	size_t				 nfiles;
};

static void
lesson_zip_plan_free(struct lesson_zip_plan *p)
{
	free(p->readme);
	free(p->files);
}

static const struct manifest_lesson *
lesson_zip_find(const struct manifest *m, const char *id)
{
	size_t	i;

	for (i = 0; i < m->nlessons; i++)
		if (strcmp(m->lessons[i].id, id) == 0)
			return &m->lessons[i];
	return NULL;
}

/* The file belongs in lesson id's zip: under lessons/ID/, or shared
 * (outside lessons/). */
static int
lesson_zip_wanted(const char *path, const char *id)
{
	size_t	idlen = strlen(id);

	if (strncmp(path, "lessons/", 8) != 0)
		return 1;
	path += 8;
	return strncmp(path, id, idlen) == 0 && path[idlen] == '/';
}

/* Adds "key: value" lines for key and each of its language variants
 * ("title", "title.zh"), in the manifest's (sorted) order. */
static void
lesson_zip_readme_meta(struct buf *b, const struct meta *meta,
    const char *key, const char *label)
{
	size_t	i, klen = strlen(key);

	for (i = 0; i < meta->n; i++) {
		const char	*k = meta->v[i].key;

		if (strncmp(k, key, klen) != 0 ||
		    (k[klen] != '\0' && k[klen] != '.'))
			continue;
		if (k[klen] == '\0')
			buf_printf(b, "%s: %s\r\n", label, meta->v[i].value);
		else
			buf_printf(b, "%s (%s): %s\r\n", label, k + klen + 1,
			    meta->v[i].value);
	}
}

/*
 * The note on top: what this is and where to start, in English and
 * Chinese, CRLF line ends so that the oldest Notepad shows it too.
 */
static char *
lesson_zip_readme(const struct manifest *m, const struct manifest_lesson *l,
    size_t *len)
{
	const char	*entry = meta_get(&l->meta, "entry");
	const char	*license = meta_get(&m->meta, "license");
	struct buf	 b;

	if (entry == NULL)
		entry = "index.html";
	buf_init(&b);
	lesson_zip_readme_meta(&b, &m->meta, "title", "Bundle");
	lesson_zip_readme_meta(&b, &l->meta, "title", "Lesson");
	buf_printf(&b, "Release: %s %s (serial %llu)\r\n", m->name, m->label,
	    (unsigned long long)m->serial);
	if (license != NULL)
		buf_printf(&b, "Licence: %s\r\n", license);
	buf_printf(&b, "\r\n"
	    "To start, open lessons/%s/%s in a web browser.\r\n"
	    "Everything the lesson needs is in this folder: no internet "
	    "is needed.\r\n"
	    "\r\n"
	    "\xe7\x94\xa8\xe6\xb5\x8f\xe8\xa7\x88\xe5\x99\xa8\xe6\x89\x93"
	    "\xe5\xbc\x80 lessons/%s/%s \xe5\x8d\xb3\xe5\x8f\xaf\xe5\xbc\x80"
	    "\xe5\xa7\x8b\xe5\xad\xa6\xe4\xb9\xa0\xef\xbc\x8c\xe6\x97\xa0"
	    "\xe9\x9c\x80\xe8\x81\x94\xe7\xbd\x91\xe3\x80\x82\r\n",
	    l->id, entry, l->id, entry);
	return buf_detach(&b, len);
}

static int
lesson_zip_plan(struct lesson_zip_plan *p, const struct manifest *m,
    const char *lesson_id, struct error *err)
{
	size_t	i;

	memset(p, 0, sizeof *p);
	if (lesson_id == NULL ||
	    (p->lesson = lesson_zip_find(m, lesson_id)) == NULL)
		return error_set(err, SATCHEL_ENOTFOUND,
		    "%s@%llu: no lesson \"%s\"", m->name,
		    (unsigned long long)m->serial,
		    lesson_id != NULL ? lesson_id : "(null)");
	if (manifest_find_file(m, LESSON_ZIP_README) == NULL)
		p->readme = lesson_zip_readme(m, p->lesson, &p->readme_len);
	p->files = xreallocarray(NULL, m->nfiles ? m->nfiles : 1,
	    sizeof *p->files);
	for (i = 0; i < m->nfiles; i++)
		if (lesson_zip_wanted(m->files[i].path, lesson_id))
			p->files[p->nfiles++] = i;
	return 0;
}

/*
 * Already-compressed formats are stored: deflating them again costs a
 * small server's CPU for nothing (often a few bytes more). Matched on
 * the extension, case-insensitively; anything else is deflated.
 */
static int
lesson_zip_method(const char *path, uint64_t size)
{
	static const char *const stored[] = {
		"7z", "aac", "apk", "avif", "br", "bz2", "docx", "epub",
		"flac", "gif", "gz", "heic", "jpeg", "jpg", "m4a", "m4v",
		"mkv", "mov", "mp3", "mp4", "odp", "ods", "odt", "oga",
		"ogg", "ogv", "opus", "png", "pptx", "rar", "tgz", "webm",
		"webp", "woff", "woff2", "xlsx", "xz", "zip", "zst",
	};
	const char	*base, *dot;
	size_t		 i;

	if (size == 0)
		return ZIP_STORE;
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if ((dot = strrchr(base, '.')) == NULL || dot == base)
		return ZIP_DEFLATE;
	for (i = 0; i < sizeof stored / sizeof stored[0]; i++)
		if (strcasecmp(dot + 1, stored[i]) == 0)
			return ZIP_STORE;
	return ZIP_DEFLATE;
}

int
lesson_zip_key(char out[SHA256_HEX_LEN + 1], const struct manifest *m,
    const char *lesson_id, struct error *err)
{
	struct lesson_zip_plan	 p;
	struct sha256_ctx	*ctx = NULL;
	struct buf		 b;
	struct tm		 tm;
	time_t			 t = (time_t)m->time;
	uint8_t			 digest[SHA256_LEN];
	char			 hex[SHA256_HEX_LEN + 1], version[128];
	long			 gmtoff = 0;
	size_t			 i;
	int			 rc;

	if ((rc = lesson_zip_plan(&p, m, lesson_id, err)) != 0)
		return rc;
	/* The zip's DOS times are local (lib/archive-zip.c). */
	if (localtime_r(&t, &tm) != NULL)
		gmtoff = tm.tm_gmtoff;

	/* One line per field; paths and values are text without line
	 * breaks (protocol/SPEC.md §2, §8), so the encoding is unambiguous. */
	zip_writer_version(version, sizeof version);
	buf_init(&b);
	buf_printf(&b, "%s\n%s\ntz %ld\nmtime %lld\nreadme %zu\n",
	    LESSON_ZIP_FORMAT, version, gmtoff,
	    (long long)m->time, p.readme != NULL ? p.readme_len : 0);
	ctx = sha256_new();
	sha256_update(ctx, b.data, b.len);
	if (p.readme != NULL)
		sha256_update(ctx, p.readme, p.readme_len);
	for (i = 0; i < p.nfiles; i++) {
		const struct manifest_file	*f = &m->files[p.files[i]];

		hex_encode(hex, f->sha256, SHA256_LEN);
		b.len = 0;
		buf_printf(&b, "file %o %llu %s %s\n", (unsigned int)f->mode,
		    (unsigned long long)f->size, hex, f->path);
		sha256_update(ctx, b.data, b.len);
	}
	sha256_final(ctx, digest);
	hex_encode(out, digest, SHA256_LEN);
	sha256_free(ctx);
	buf_free(&b);
	lesson_zip_plan_free(&p);
	return 0;
}

/*
 * Streams one file from its object into the zip, checking it against the
 * manifest: the size before the header is written, the SHA-256 as the
 * bytes go by. A mismatch found at the end leaves bad bytes in the
 * (unfinished) zip, which the caller deletes; holding a file back until
 * it is checked would mean holding all of it.
 */
static int
lesson_zip_copy(struct zip_writer *w, const char *store_dir,
    const struct manifest *m, const struct manifest_file *f, char *chunk,
    struct sha256_ctx *ctx, struct error *err)
{
	struct stat	 st;
	uint8_t		 digest[SHA256_LEN];
	char		 hex[SHA256_HEX_LEN + 1];
	char		*obj;
	uint64_t	 got = 0;
	size_t		 want;
	ssize_t		 n;
	int		 fd = -1, rc = 0;

	hex_encode(hex, f->sha256, SHA256_LEN);
	obj = xasprintf("%s/objects/%.2s/%s", store_dir, hex, hex + 2);
	if ((fd = open(obj, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = error_set(err, SATCHEL_ERR, errno == ENOENT ?
		    "%s: object %s is missing from the store" :
		    "%s: object %s: %s", f->path, obj, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: object %s: %s", f->path,
		    obj, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->size) {
		rc = error_set(err, SATCHEL_EVERIFY, "%s: object %s is damaged: "
		    "%jd bytes, the manifest says %llu", f->path, obj,
		    (intmax_t)st.st_size, (unsigned long long)f->size);
		goto out;
	}
	if ((rc = zip_writer_begin(w, f->path, f->mode, f->size, m->time,
	    lesson_zip_method(f->path, f->size), err)) != 0)
		goto out;
	while (got < f->size) {
		want = LESSON_ZIP_CHUNK;
		if (f->size - got < want)
			want = (size_t)(f->size - got);
		if ((n = read(fd, chunk, want)) == -1) {
			if (errno == EINTR)
				continue;
			rc = error_set(err, SATCHEL_ERR, "%s: object %s: read: %s",
			    f->path, obj, strerror(errno));
			goto out;
		}
		if (n == 0) {
			rc = error_set(err, SATCHEL_EVERIFY, "%s: object %s is "
			    "damaged: it ended after %llu of %llu bytes",
			    f->path, obj, (unsigned long long)got,
			    (unsigned long long)f->size);
			goto out;
		}
		sha256_update(ctx, chunk, (size_t)n);
		if ((rc = zip_writer_write(w, chunk, (size_t)n, err)) != 0)
			goto out;
		got += (uint64_t)n;
	}
	sha256_final(ctx, digest);	/* also resets ctx for the next file */
	if (memcmp(digest, f->sha256, SHA256_LEN) != 0)
		rc = error_set(err, SATCHEL_EVERIFY, "%s: object %s is damaged: "
		    "its bytes do not match the manifest's SHA-256", f->path,
		    obj);
out:
	if (fd != -1)
		close(fd);
	free(obj);
	return rc;
}

int
lesson_zip_write(int fd, const char *store_dir, const struct manifest *m,
    const char *lesson_id, struct error *err)
{
	struct lesson_zip_plan	 p;
	struct zip_writer	*w = NULL;
	struct sha256_ctx	*ctx = NULL;
	char			*chunk = NULL;
	size_t			 i;
	int			 rc;

	if ((rc = lesson_zip_plan(&p, m, lesson_id, err)) != 0)
		return rc;
	if ((rc = zip_writer_open(&w, fd, err)) != 0)
		goto out;
	if (p.readme != NULL &&
	    ((rc = zip_writer_begin(w, LESSON_ZIP_README, 0644, p.readme_len,
	    m->time, ZIP_DEFLATE, err)) != 0 ||
	    (rc = zip_writer_write(w, p.readme, p.readme_len, err)) != 0))
		goto out;
	ctx = sha256_new();
	chunk = xmalloc(LESSON_ZIP_CHUNK);
	for (i = 0; i < p.nfiles; i++)
		if ((rc = lesson_zip_copy(w, store_dir, m, &m->files[p.files[i]],
		    chunk, ctx, err)) != 0)
			goto out;
	rc = zip_writer_finish(w, err);
out:
	if (rc != 0)
		error_prefix(err, "%s@%llu lesson %s", m->name,
		    (unsigned long long)m->serial, lesson_id);
	zip_writer_free(w);		/* NULL-safe; abandons an unfinished zip */
	sha256_free(ctx);
	free(chunk);
	lesson_zip_plan_free(&p);
	return rc;
}
