/*
 * library.h: what the web library shows, read from the store once per
 * catalog: every bundle the catalog names, each with its retained
 * releases (newest first, the current one at [0]), their signed manifests
 * and per-lesson sums. A snapshot never changes once made; a new catalog
 * makes a new one while requests still holding the old one finish with
 * it, so a page open during a mirror update keeps being served from the
 * release it was opened in.
 */
#ifndef SATCHEL_LIBRARY_H
#define SATCHEL_LIBRARY_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "manifest.h"

struct lib_lesson {
	const struct manifest_lesson	*ml;
	const char			*id;
	char				*entry;	/* "lessons/ID/index.html" */
	uint64_t			 size;	/* bytes of lessons/ID/ */
	size_t				 nfiles;
	unsigned			 minutes;	/* 0: not given */
};

struct lib_release {
	uint64_t		 serial;
	int64_t			 published;	/* release file's mtime */
	struct bundle_head	 head;
	const struct manifest	*m;		/* head.manifest */
	struct lib_lesson	*lessons;	/* manifest (id) order */
	size_t			 nlessons;
	char			 etag[SHA256_LEN * 2 + 1];	/* of the signed manifest */
};

struct lib_bundle {
	char			*name;
	struct lib_release	*releases;	/* newest first */
	size_t			 nreleases;
	char			*haystack;	/* lowercased titles, summaries */
	char			**languages;	/* from "language" */
	size_t			 nlanguages;
	char			**subjects;
	size_t			 nsubjects;
	char			**audiences;	/* from "audience" */
	size_t			 naudiences;
};

struct library {
	char			*dir;		/* the store */
	uint64_t		 catalog_serial;
	int64_t			 catalog_issued;
	struct lib_bundle	*v;		/* by name */
	size_t			 n;
	char			*error;		/* why it is empty, or NULL */
	unsigned		 refs;		/* under the holder's lock */
};

/* Reads dir's catalog and retained releases. Never fails: a store that
 * cannot be read gives an empty library with error set. */
struct library		*library_load(const char *dir);
void			 library_free(struct library *);

const struct lib_bundle	*library_bundle(const struct library *,
			    const char *name);
/* serial 0: the current release. */
const struct lib_release *library_release(const struct lib_bundle *,
			    uint64_t serial);
const struct lib_lesson	*library_lesson(const struct lib_release *,
			    const char *id);
/* The lesson whose directory holds path (lessons/ID/...), or NULL. */
const struct lib_lesson	*library_lesson_of(const struct lib_release *,
			    const char *path);
/* 1 if q (already case-folded) is in the haystack. */
int			 library_match(const char *haystack, const char *q);
/* ASCII case folding only: CJK text has no case, and folding bytes
 * outside ASCII would break UTF-8 substring matching. */
char			*library_fold(const char *s);
/* Space-separated list helper: 1 if word is one of list's words. */
int			 library_has_word(char **v, size_t n, const char *word);

/* A holder that hands out the snapshot for the catalog now on disk,
 * checking at most once a second (thread-safe); a new catalog is read on
 * a loader thread while requests go on with the snapshot they have. */
struct library_holder;
struct library_holder	*library_holder_new(const char *dir);
void			 library_holder_free(struct library_holder *);
struct library		*library_get(struct library_holder *);
void			 library_put(struct library_holder *, struct library *);
/* Makes the next get read the store again (SIGHUP). */
void			 library_holder_invalidate(struct library_holder *);

#endif
