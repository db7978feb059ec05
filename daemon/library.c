/*
 * library.c: the web library's snapshot of the store (see library.h).
 * Loading reads only signed metadata, never objects: what a manifest
 * says a release holds is what the pages list, and every file served
 * later is opened by its hash.
 */
#include <sys/stat.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "library.h"
#include "store.h"
#include "util.h"

#define LIBRARY_CHECK_NS	1000000000LL	/* look at the catalog at most this often */

static void
split_words(const char *s, char ***out, size_t *n)
{
	const char	*p, *e;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return;
	for (p = s; *p != '\0'; p = e) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
			;
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[(*n)++] = xstrndup(p, (size_t)(e - p));
	}
}

int
library_has_word(char **v, size_t n, const char *word)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], word) == 0)
			return 1;
	return 0;
}

char *
library_fold(const char *s)
{
	char	*out = xstrdup(s), *p;

	for (p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

int
library_match(const char *haystack, const char *q)
{
	return haystack != NULL && strstr(haystack, q) != NULL;
}

/* Adds every value of key and its language variants (title, title.zh). */
static void
hay_add(struct buf *b, const struct meta *m, const char *key)
{
	size_t	i, kl = strlen(key);
	char	*f;

	for (i = 0; i < m->n; i++) {
		if (strncmp(m->v[i].key, key, kl) != 0 ||
		    (m->v[i].key[kl] != '\0' && m->v[i].key[kl] != '.'))
			continue;
		f = library_fold(m->v[i].value);
		buf_addstr(b, f);
		buf_addc(b, '\n');	/* no match across two fields */
		free(f);
	}
}

static void
release_index(struct lib_release *r)
{
	const struct manifest	*m = r->m;
	struct lib_lesson	*l;
	const char		*entry, *min;
	char			*prefix;
	size_t			 i, j, pl;

	r->lessons = xcalloc(m->nlessons ? m->nlessons : 1, sizeof *r->lessons);
	r->nlessons = m->nlessons;
	for (i = 0; i < m->nlessons; i++) {
		l = &r->lessons[i];
		l->ml = &m->lessons[i];
		l->id = m->lessons[i].id;
		entry = meta_get(&m->lessons[i].meta, "entry");
		l->entry = xasprintf("lessons/%s/%s", l->id,
		    entry != NULL ? entry : "index.html");
		min = meta_get(&m->lessons[i].meta, "minutes");
		l->minutes = min != NULL ? (unsigned)strtoul(min, NULL, 10) : 0;
		prefix = xasprintf("lessons/%s/", l->id);
		pl = strlen(prefix);
		for (j = 0; j < m->nfiles; j++)
			if (strncmp(m->files[j].path, prefix, pl) == 0) {
				l->size += m->files[j].size;
				l->nfiles++;
			}
		free(prefix);
	}
}

static int
bundle_load(struct lib_bundle *b, const struct store *s, const char *name)
{
	struct lib_release	*r;
	struct error		 err;
	struct buf		 hay;
	uint64_t		*serials = NULL;
	uint8_t			 sha[SHA256_LEN];
	size_t			 n = 0, i, k;
	const struct meta	*meta;

	b->name = xstrdup(name);
	if (store_release_list(s, name, &serials, &n, &err) != 0)
		return -1;
	b->releases = xcalloc(n ? n : 1, sizeof *b->releases);
	for (i = 0; i < n; i++) {
		r = &b->releases[b->nreleases];
		if (store_release_load(s, name, serials[i], &r->head,
		    &err) != 0)
			continue;	/* removed under us: skip it */
		r->serial = serials[i];
		r->m = r->head.manifest;
		r->published = store_release_time(s, name, serials[i]);
		sha256(r->head.manifest_buf, r->head.manifest_len, sha);
		hex_encode(r->etag, sha, SHA256_LEN);
		release_index(r);
		b->nreleases++;
	}
	free(serials);
	if (b->nreleases == 0)
		return -1;
	meta = &b->releases[0].m->meta;
	buf_init(&hay);
	hay_add(&hay, meta, "title");
	hay_add(&hay, meta, "summary");
	for (k = 0; k < b->releases[0].m->nlessons; k++) {
		hay_add(&hay, &b->releases[0].m->lessons[k].meta, "title");
		hay_add(&hay, &b->releases[0].m->lessons[k].meta, "summary");
	}
	b->haystack = buf_detach(&hay, NULL);
	split_words(meta_get(meta, "language"), &b->languages,
	    &b->nlanguages);
	split_words(meta_get(meta, "subjects"), &b->subjects, &b->nsubjects);
	split_words(meta_get(meta, "audience"), &b->audiences,
	    &b->naudiences);
	return 0;
}

static void
bundle_free(struct lib_bundle *b)
{
	size_t	i, j;

	for (i = 0; i < b->nreleases; i++) {
		for (j = 0; j < b->releases[i].nlessons; j++)
			free(b->releases[i].lessons[j].entry);
		free(b->releases[i].lessons);
		bundle_head_free(&b->releases[i].head);
	}
	free(b->releases);
	free(b->name);
	free(b->haystack);
	strv_free(b->languages, b->nlanguages);
	strv_free(b->subjects, b->nsubjects);
	strv_free(b->audiences, b->naudiences);
}

struct library *
library_load(const char *dir)
{
	struct library		*l = xcalloc(1, sizeof *l);
	struct store		*s = NULL;
	const struct catalog	*c;
	struct error		 err;
	size_t			 i;

	l->dir = xstrdup(dir);
	if (store_open(&s, dir, STORE_READ, &err) != 0) {
		l->error = xstrdup(err.msg);
		return l;
	}
	if ((c = store_catalog(s)) == NULL) {
		store_close(s);
		return l;
	}
	l->catalog_serial = c->serial;
	l->catalog_issued = c->issued;
	l->v = xcalloc(c->n ? c->n : 1, sizeof *l->v);
	for (i = 0; i < c->n; i++) {
		if (bundle_load(&l->v[l->n], s, c->v[i].name) != 0) {
			bundle_free(&l->v[l->n]);
			memset(&l->v[l->n], 0, sizeof l->v[l->n]);
			continue;
		}
		l->n++;
	}
	store_close(s);
	return l;
}

void
library_free(struct library *l)
{
	size_t	i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		bundle_free(&l->v[i]);
	free(l->v);
	free(l->dir);
	free(l->error);
	free(l);
}

const struct lib_bundle *
library_bundle(const struct library *l, const char *name)
{
	size_t	lo = 0, hi = l->n, mid;
	int	c;

	while (lo < hi) {	/* the catalog keeps names sorted */
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, l->v[mid].name)) == 0)
			return &l->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct lib_release *
library_release(const struct lib_bundle *b, uint64_t serial)
{
	size_t	i;

	if (serial == 0)
		return &b->releases[0];
	for (i = 0; i < b->nreleases; i++)
		if (b->releases[i].serial == serial)
			return &b->releases[i];
	return NULL;
}

const struct lib_lesson *
library_lesson(const struct lib_release *r, const char *id)
{
	size_t	i;

	for (i = 0; i < r->nlessons; i++)
		if (strcmp(r->lessons[i].id, id) == 0)
			return &r->lessons[i];
	return NULL;
}

const struct lib_lesson *
library_lesson_of(const struct lib_release *r, const char *path)
{
	const char	*id, *slash;
	size_t		 i;

	if (strncmp(path, "lessons/", 8) != 0)
		return NULL;
	id = path + 8;
	if ((slash = strchr(id, '/')) == NULL)
		return NULL;
	for (i = 0; i < r->nlessons; i++)
		if (strlen(r->lessons[i].id) == (size_t)(slash - id) &&
		    memcmp(r->lessons[i].id, id, (size_t)(slash - id)) == 0)
			return &r->lessons[i];
	return NULL;
}

/* --- the holder --- */

/*
 * Why a loader thread: reading and parsing every retained manifest is
 * disk work that must not stall the web threads' event loops. A request
 * that notices a new catalog starts the load and goes on with the
 * snapshot in hand; requests switch to the new one when it is ready.
 * Only the very first load (at start, before any request) is made by the
 * caller.
 */
struct library_holder {
	pthread_mutex_t	 lock;		/* everything below */
	char		*dir;
	char		*catalog;	/* DIR/meta/catalog */
	struct library	*cur;
	struct stat	 seen;		/* the catalog cur was read from */
	struct stat	 loading_st;	/* the one being loaded */
	int64_t		 checked;	/* monotonic ns */
	pthread_t	 loader;
	int		 loading;	/* the loader runs */
	int		 joinable;	/* a loader was started, not joined */
};

static int64_t
mono_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct library_holder *
library_holder_new(const char *dir)
{
	struct library_holder	*h = xcalloc(1, sizeof *h);

	pthread_mutex_init(&h->lock, NULL);
	h->dir = xstrdup(dir);
	h->catalog = xasprintf("%s/meta/catalog", dir);
	return h;
}

static void
library_unref(struct library *l)
{
	if (l != NULL && --l->refs == 0)
		library_free(l);
}

void
library_holder_free(struct library_holder *h)
{
	if (h == NULL)
		return;
	if (h->joinable)		/* no request is left to start one */
		pthread_join(h->loader, NULL);
	library_unref(h->cur);
	pthread_mutex_destroy(&h->lock);
	free(h->dir);
	free(h->catalog);
	free(h);
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void *
library_loader(void *arg)
{
	struct library_holder	*h = arg;
	struct library		*l = library_load(h->dir);

	pthread_mutex_lock(&h->lock);
	l->refs = 1;
	library_unref(h->cur);
	h->cur = l;
	h->seen = h->loading_st;
	h->loading = 0;
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

struct library *
library_get(struct library_holder *h)
{
	struct library	*l;
	struct stat	 st;
	int64_t		 now = mono_ns();

	pthread_mutex_lock(&h->lock);
	if (h->cur == NULL) {
		h->cur = library_load(h->dir);
		h->cur->refs = 1;
		if (stat(h->catalog, &h->seen) != 0)
			memset(&h->seen, 0, sizeof h->seen);
		h->checked = now;
	} else if (!h->loading && now - h->checked >= LIBRARY_CHECK_NS) {
		h->checked = now;
		if (stat(h->catalog, &st) != 0)
			memset(&st, 0, sizeof st);
		if (!same_file(&st, &h->seen)) {
			/* The last loader has set loading = 0: it is done. */
			if (h->joinable)
				pthread_join(h->loader, NULL);
			h->loading_st = st;
			h->loading = 1;
			h->joinable = pthread_create(&h->loader, NULL,
			    library_loader, h) == 0;
			if (!h->joinable)
				h->loading = 0;	/* try again next second */
		}
	}
	l = h->cur;
	l->refs++;
	pthread_mutex_unlock(&h->lock);
	return l;
}

void
library_put(struct library_holder *h, struct library *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	library_unref(l);
	pthread_mutex_unlock(&h->lock);
}

void
library_holder_invalidate(struct library_holder *h)
{
	/* The next request reads the store again, in the background. */
	pthread_mutex_lock(&h->lock);
	memset(&h->seen, 0, sizeof h->seen);
	h->checked = 0;
	pthread_mutex_unlock(&h->lock);
}
