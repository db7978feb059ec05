/*
 * manifest.c owns the manifest: the metadata helpers, the canonical
 * encoder and the strict parser. The parser accepts exactly what the
 * encoder produces for a valid manifest, nothing else.
 */
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "path.h"
#include "util.h"

#define MANIFEST_MAGIC	"satchel-manifest 1"

void
meta_add(struct meta *m, const char *key, const char *value)
{
	m->v = xreallocarray(m->v, m->n + 1, sizeof *m->v);
	m->v[m->n].key = xstrdup(key);
	m->v[m->n].value = xstrdup(value);
	m->n++;
}

const char *
meta_get(const struct meta *m, const char *key)
{
	size_t	i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i].key, key) == 0)
			return m->v[i].value;
	return NULL;
}

const char *
meta_get_lang(const struct meta *m, const char *key, const char *lang)
{
	const char	*v = NULL;
	char		*k;

	if (lang != NULL && *lang != '\0') {
		k = xasprintf("%s.%s", key, lang);
		v = meta_get(m, k);
		free(k);
	}
	return v != NULL ? v : meta_get(m, key);
}

static int
meta_cmp(const void *a, const void *b)
{
	return strcmp(((const struct meta_field *)a)->key,
	    ((const struct meta_field *)b)->key);
}

void
meta_sort(struct meta *m)
{
	if (m->n > 1)
		qsort(m->v, m->n, sizeof *m->v, meta_cmp);
}

void
meta_free(struct meta *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->v[i].key);
		free(m->v[i].value);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

static int
name_chars_ok(const char *s, size_t max, const char *extra)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > max)
		return -1;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return -1;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    strchr(extra, s[i]) != NULL) || s[i] == '\0')
			return -1;
	return 0;
}

int
bundle_name_check(const char *name)
{
	return name_chars_ok(name, BUNDLE_NAME_MAX, "-");
}

int
lesson_id_check(const char *id)
{
	return name_chars_ok(id, LESSON_ID_MAX, "-._");
}

struct manifest *
manifest_new(void)
{
	return xcalloc(1, sizeof(struct manifest));
}

static int
lesson_cmp(const void *a, const void *b)
{
	return strcmp(((const struct manifest_lesson *)a)->id,
	    ((const struct manifest_lesson *)b)->id);
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct manifest_file *)a)->path,
	    ((const struct manifest_file *)b)->path);
}

void
manifest_sort(struct manifest *m)
{
	size_t	i;

	meta_sort(&m->meta);
	if (m->nlessons > 1)
		qsort(m->lessons, m->nlessons, sizeof *m->lessons, lesson_cmp);
	for (i = 0; i < m->nlessons; i++)
		meta_sort(&m->lessons[i].meta);
	if (m->nfiles > 1)
		qsort(m->files, m->nfiles, sizeof *m->files, file_cmp);
}

void
manifest_encode(const struct manifest *m, char **out, size_t *len)
{
	struct buf	b;
	size_t		i, j;
	char		hex[SHA256_HEX_LEN + 1];

	buf_init(&b);
	buf_printf(&b, MANIFEST_MAGIC "\n");
	buf_printf(&b, "name %s\nserial %llu\nlabel %s\n", m->name,
	    (unsigned long long)m->serial, m->label);
	for (i = 0; i < m->meta.n; i++)
		buf_printf(&b, "meta %s %s\n", m->meta.v[i].key, m->meta.v[i].value);
	buf_printf(&b, "source-commit %s\nsource-tree %s\nsource-time %lld\n",
	    m->commit, m->tree, (long long)m->time);
	for (i = 0; i < m->nlessons; i++) {
		buf_printf(&b, "lesson %s\n", m->lessons[i].id);
		for (j = 0; j < m->lessons[i].meta.n; j++)
			buf_printf(&b, "lesson-meta %s %s\n",
			    m->lessons[i].meta.v[j].key, m->lessons[i].meta.v[j].value);
	}
	for (i = 0; i < m->nchangelog; i++)
		buf_printf(&b, "changelog %s\n", m->changelog[i]);
	buf_printf(&b, "files %zu %llu\n", m->nfiles,
	    (unsigned long long)m->total_size);
	for (i = 0; i < m->nfiles; i++) {
		hex_encode(hex, m->files[i].sha256, SHA256_LEN);
		buf_printf(&b, "file %o %llu %s %s\n", m->files[i].mode,
		    (unsigned long long)m->files[i].size, hex, m->files[i].path);
	}
	buf_addstr(&b, "end\n");
	*out = buf_detach(&b, len);
}

const struct manifest_file *
manifest_find_file(const struct manifest *m, const char *path)
{
	struct manifest_file	probe;

	probe.path = (char *)path;
	if (m->nfiles == 0)
		return NULL;
	return bsearch(&probe, m->files, m->nfiles, sizeof *m->files, file_cmp);
}

void
manifest_free(struct manifest *m)
{
	size_t	i;

	if (m == NULL)
		return;
	free(m->name);
	free(m->label);
	meta_free(&m->meta);
	for (i = 0; i < m->nlessons; i++) {
		free(m->lessons[i].id);
		meta_free(&m->lessons[i].meta);
	}
	free(m->lessons);
	for (i = 0; i < m->nchangelog; i++)
		free(m->changelog[i]);
	free(m->changelog);
	for (i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	free(m);
}

/* The parser's cursor: one line at a time, with its number for messages. */
struct mparse {
	const char	*p, *end;
	const char	*line;		/* current line, without '\n' */
	size_t		 len;
	unsigned	 lineno;
	const char	*name;
	struct error	*err;
};

static int
mparse_next(struct mparse *mp)
{
	const char	*nl;

	if (mp->p >= mp->end)
		return error_set(mp->err, SATCHEL_EINVALID,
		    "%s:%u: manifest ends before its \"end\" line", mp->name, mp->lineno);
	nl = memchr(mp->p, '\n', (size_t)(mp->end - mp->p));
	mp->lineno++;
	if (nl == NULL)
		return error_set(mp->err, SATCHEL_EINVALID,
		    "%s:%u: line without a final newline", mp->name, mp->lineno);
	mp->line = mp->p;
	mp->len = (size_t)(nl - mp->p);
	mp->p = nl + 1;
	if (mp->len > MANIFEST_LINE_MAX)
		return error_set(mp->err, SATCHEL_ELIMIT,
		    "%s:%u: line longer than %d bytes", mp->name, mp->lineno,
		    MANIFEST_LINE_MAX);
	if (!utf8_valid_text(mp->line, mp->len))
		return error_set(mp->err, SATCHEL_EINVALID,
		    "%s:%u: not valid UTF-8 text (or a control character)",
		    mp->name, mp->lineno);
	return 0;
}

/* If the current line is "WORD rest", sets *rest and returns 1. */
static int
mparse_is(struct mparse *mp, const char *word, const char **rest, size_t *restlen)
{
	size_t	n = strlen(word);

	if (mp->len < n + 1 || memcmp(mp->line, word, n) != 0 || mp->line[n] != ' ')
		return 0;
	*rest = mp->line + n + 1;
	*restlen = mp->len - n - 1;
	return 1;
}

static int
mparse_expect(struct mparse *mp, const char *word, const char **rest, size_t *restlen)
{
	int	rc;

	if ((rc = mparse_next(mp)) != 0)
		return rc;
	if (!mparse_is(mp, word, rest, restlen) || *restlen == 0)
		return error_set(mp->err, SATCHEL_EINVALID,
		    "%s:%u: expected \"%s VALUE\"", mp->name, mp->lineno, word);
	return 0;
}

/* "KEY VALUE" of a meta line, appended to meta in strictly sorted order. */
static int
mparse_meta(struct mparse *mp, const char *rest, size_t n, struct meta *meta)
{
	const char	*sp = memchr(rest, ' ', n);
	char		*key;
	size_t		 klen;

	if (sp == NULL || sp == rest || (size_t)(sp - rest) + 1 == n)
		return error_set(mp->err, SATCHEL_EINVALID,
		    "%s:%u: expected \"KEY VALUE\"", mp->name, mp->lineno);
	klen = (size_t)(sp - rest);
	key = xstrndup(rest, klen);
	if (strchr(key, ' ') != NULL || (meta->n > 0 &&
	    strcmp(meta->v[meta->n - 1].key, key) >= 0)) {
		free(key);
		return error_set(mp->err, SATCHEL_EINVALID,
		    "%s:%u: metadata key \"%.*s\" out of order or repeated",
		    mp->name, mp->lineno, (int)(klen > 64 ? 64 : klen), rest);
	}
	meta->v = xreallocarray(meta->v, meta->n + 1, sizeof *meta->v);
	meta->v[meta->n].key = key;
	meta->v[meta->n].value = xstrndup(sp + 1, n - klen - 1);
	meta->n++;
	return 0;
}

static int
mparse_hex40(struct mparse *mp, const char *rest, size_t n, char out[41])
{
	uint8_t	tmp[20];

	if (hex_decode(tmp, sizeof tmp, rest, n) != 0)
		return error_set(mp->err, SATCHEL_EINVALID,
		    "%s:%u: expected 40 lowercase hex digits", mp->name, mp->lineno);
	memcpy(out, rest, 40);
	out[40] = '\0';
	return 0;
}

/* "MODE SIZE SHA256 PATH" */
static int
mparse_file(struct mparse *mp, const char *rest, size_t n,
    struct manifest_file *f)
{
	struct error	 perr;
	const char	*end = rest + n, *sp;
	uint64_t	 v;

	memset(f, 0, sizeof *f);
	if (n < 4 || (memcmp(rest, "644 ", 4) != 0 && memcmp(rest, "755 ", 4) != 0))
		return error_set(mp->err, SATCHEL_EINVALID,
		    "%s:%u: file mode must be 644 or 755", mp->name, mp->lineno);
	f->mode = rest[0] == '6' ? 0644 : 0755;
	rest += 4;
	if ((sp = memchr(rest, ' ', (size_t)(end - rest))) == NULL ||
	    parse_u64(rest, (size_t)(sp - rest), 0, UINT64_MAX, &v) != 0)
		return error_set(mp->err, SATCHEL_EINVALID,
		    "%s:%u: bad file size", mp->name, mp->lineno);
	if (v > MANIFEST_FILE_MAX)
		return error_set(mp->err, SATCHEL_ELIMIT,
		    "%s:%u: file size %llu exceeds the limit of %llu bytes",
		    mp->name, mp->lineno, (unsigned long long)v,
		    (unsigned long long)MANIFEST_FILE_MAX);
	f->size = v;
	rest = sp + 1;
	if ((size_t)(end - rest) < SHA256_HEX_LEN + 2 ||
	    hex_decode(f->sha256, SHA256_LEN, rest, SHA256_HEX_LEN) != 0 ||
	    rest[SHA256_HEX_LEN] != ' ')
		return error_set(mp->err, SATCHEL_EINVALID,
		    "%s:%u: bad SHA-256 (64 lowercase hex digits)", mp->name, mp->lineno);
	rest += SHA256_HEX_LEN + 1;
	if (path_check(rest, (size_t)(end - rest), &perr) != 0)
		return error_set(mp->err, SATCHEL_EINVALID, "%s:%u: file %s",
		    mp->name, mp->lineno, perr.msg);
	f->path = xstrndup(rest, (size_t)(end - rest));
	return 0;
}

/* Why strict and in one pass: the manifest is what signatures cover, so
 * it has exactly one spelling; every limit is checked before the memory
 * it would cost is allocated. */
int
manifest_parse(struct manifest **out, const char *buf, size_t len,
    const char *name, struct error *err)
{
	struct mparse	 mp = { buf, buf + len, NULL, 0, 0, name, err };
	struct manifest	*m = NULL;
	const char	*rest;
	size_t		 n, i;
	uint64_t	 v, nfiles, total, sum = 0;
	char		*enc = NULL;
	size_t		 enclen;
	int		 rc;

	if (len > MANIFEST_MAX) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "%s: manifest larger than %u bytes", name, MANIFEST_MAX);
		goto out;
	}
	m = manifest_new();
	if ((rc = mparse_next(&mp)) != 0)
		goto out;
	if (mp.len != strlen(MANIFEST_MAGIC) ||
	    memcmp(mp.line, MANIFEST_MAGIC, mp.len) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s:1: not a Satchel manifest (expected \"%s\")", name,
		    MANIFEST_MAGIC);
		goto out;
	}
	if ((rc = mparse_expect(&mp, "name", &rest, &n)) != 0)
		goto out;
	m->name = xstrndup(rest, n);
	if (strlen(m->name) != n || bundle_name_check(m->name) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s:%u: invalid bundle name", name, mp.lineno);
		goto out;
	}
	if ((rc = mparse_expect(&mp, "serial", &rest, &n)) != 0)
		goto out;
	if (parse_u64(rest, n, 1, INT64_MAX, &m->serial) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s:%u: serial must be an integer >= 1", name, mp.lineno);
		goto out;
	}
	if ((rc = mparse_expect(&mp, "label", &rest, &n)) != 0)
		goto out;
	m->label = xstrndup(rest, n);
	if ((rc = mparse_next(&mp)) != 0)
		goto out;
	while (mparse_is(&mp, "meta", &rest, &n)) {
		if ((rc = mparse_meta(&mp, rest, n, &m->meta)) != 0 ||
		    (rc = mparse_next(&mp)) != 0)
			goto out;
	}
	if (!mparse_is(&mp, "source-commit", &rest, &n) ||
	    (rc = mparse_hex40(&mp, rest, n, m->commit)) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s:%u: expected \"source-commit HEX40\"", name, mp.lineno);
		goto out;
	}
	if ((rc = mparse_expect(&mp, "source-tree", &rest, &n)) != 0 ||
	    (rc = mparse_hex40(&mp, rest, n, m->tree)) != 0)
		goto out;
	if ((rc = mparse_expect(&mp, "source-time", &rest, &n)) != 0)
		goto out;
	if (parse_u64(rest, n, 0, INT64_MAX, &v) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s:%u: source-time must be seconds since 1970", name, mp.lineno);
		goto out;
	}
	m->time = (int64_t)v;
	if ((rc = mparse_next(&mp)) != 0)
		goto out;
	while (mparse_is(&mp, "lesson", &rest, &n)) {
		struct manifest_lesson	*l;

		if (m->nlessons >= MANIFEST_FILES_MAX) {
			rc = error_set(err, SATCHEL_ELIMIT, "%s:%u: too many lessons",
			    name, mp.lineno);
			goto out;
		}
		m->lessons = xreallocarray(m->lessons, m->nlessons + 1, sizeof *m->lessons);
		l = &m->lessons[m->nlessons++];
		memset(l, 0, sizeof *l);
		l->id = xstrndup(rest, n);
		if (strlen(l->id) != n || lesson_id_check(l->id) != 0 ||
		    (m->nlessons > 1 && strcmp(m->lessons[m->nlessons - 2].id, l->id) >= 0)) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: lesson id invalid, out of order or repeated",
			    name, mp.lineno);
			goto out;
		}
		if ((rc = mparse_next(&mp)) != 0)
			goto out;
		while (mparse_is(&mp, "lesson-meta", &rest, &n)) {
			if ((rc = mparse_meta(&mp, rest, n, &l->meta)) != 0 ||
			    (rc = mparse_next(&mp)) != 0)
				goto out;
		}
	}
	while (mparse_is(&mp, "changelog", &rest, &n)) {
		if (m->nchangelog >= MANIFEST_CHANGELOG_MAX) {
			rc = error_set(err, SATCHEL_ELIMIT,
			    "%s:%u: more than %d changelog lines", name, mp.lineno,
			    MANIFEST_CHANGELOG_MAX);
			goto out;
		}
		m->changelog = xreallocarray(m->changelog, m->nchangelog + 1,
		    sizeof *m->changelog);
		m->changelog[m->nchangelog++] = xstrndup(rest, n);
		if ((rc = mparse_next(&mp)) != 0)
			goto out;
	}
	{
		const char	*sp;

		if (!mparse_is(&mp, "files", &rest, &n) ||
		    (sp = memchr(rest, ' ', n)) == NULL ||
		    parse_u64(rest, (size_t)(sp - rest), 0, UINT64_MAX, &nfiles) != 0 ||
		    parse_u64(sp + 1, n - (size_t)(sp - rest) - 1, 0, UINT64_MAX, &total) != 0) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: expected \"files COUNT BYTES\"", name, mp.lineno);
			goto out;
		}
	}
	/* Limits before allocation: the count bounds the array we grow. */
	if (nfiles > MANIFEST_FILES_MAX || total > MANIFEST_TOTAL_MAX) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "%s:%u: %llu files of %llu bytes exceed the limits (%d files, %llu bytes)",
		    name, mp.lineno, (unsigned long long)nfiles,
		    (unsigned long long)total, MANIFEST_FILES_MAX,
		    (unsigned long long)MANIFEST_TOTAL_MAX);
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		struct manifest_file	f;

		if ((rc = mparse_next(&mp)) != 0)
			goto out;
		if (!mparse_is(&mp, "file", &rest, &n)) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: expected \"file MODE SIZE SHA256 PATH\" (%zu of %llu)",
			    name, mp.lineno, i + 1, (unsigned long long)nfiles);
			goto out;
		}
		if ((rc = mparse_file(&mp, rest, n, &f)) != 0)
			goto out;
		m->files = xreallocarray(m->files, m->nfiles + 1, sizeof *m->files);
		m->files[m->nfiles++] = f;
		if (m->nfiles > 1 &&
		    strcmp(m->files[m->nfiles - 2].path, f.path) >= 0) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: file \"%s\" out of order or listed twice",
			    name, mp.lineno, f.path);
			goto out;
		}
		sum += f.size;
		if (sum > total) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: file sizes add up to more than the declared %llu bytes",
			    name, mp.lineno, (unsigned long long)total);
			goto out;
		}
	}
	if (sum != total) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: file sizes add up to %llu bytes, not the declared %llu",
		    name, (unsigned long long)sum, (unsigned long long)total);
		goto out;
	}
	m->total_size = total;
	if ((rc = mparse_next(&mp)) != 0)
		goto out;
	if (mp.len != 3 || memcmp(mp.line, "end", 3) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s:%u: expected \"end\"", name, mp.lineno);
		goto out;
	}
	if (mp.p != mp.end) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s:%u: data after the \"end\" line", name, mp.lineno + 1);
		goto out;
	}
	for (i = 0; i < m->nlessons; i++) {
		const char	*entry = meta_get(&m->lessons[i].meta, "entry");
		char		*path;
		int		 found;

		if (entry == NULL) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: lesson %s has no entry", name, m->lessons[i].id);
			goto out;
		}
		path = xasprintf("lessons/%s/%s", m->lessons[i].id, entry);
		found = manifest_find_file(m, path) != NULL;
		free(path);
		if (!found) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: lesson %s: entry page \"%s\" is not in the file list",
			    name, m->lessons[i].id, entry);
			goto out;
		}
	}
	/* Belt and braces: every field above is parsed strictly or kept as
	 * written, so this should never fire; if a later change makes the
	 * parser lenient somewhere, it keeps the one-spelling rule. */
	manifest_encode(m, &enc, &enclen);
	if (enclen != len || memcmp(enc, buf, len) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: manifest is not in canonical form", name);
		goto out;
	}
	*out = m;
	m = NULL;		/* ownership moved to the caller */
	rc = 0;
out:
	free(enc);
	manifest_free(m);
	return rc;
}
