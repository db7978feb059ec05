/*
 * manifest.h: a release's manifest, the canonical text that publishers
 * sign (format in protocol/SPEC.md, "Manifest").
 */
#ifndef SATCHEL_MANIFEST_H
#define SATCHEL_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

#define MANIFEST_MAX		(16u * 1024 * 1024)	/* bytes */
#define MANIFEST_FILE_MAX	(64ull << 30)		/* one file: 64 GiB */
#define MANIFEST_TOTAL_MAX	(1ull << 40)		/* a release: 1 TiB */
#define MANIFEST_FILES_MAX	1000000
#define MANIFEST_CHANGELOG_MAX	1000
#define MANIFEST_LINE_MAX	8192
#define BUNDLE_NAME_MAX		63
#define LESSON_ID_MAX		64

/* A metadata field: key is "title" or "title.zh" (a language variant). */
struct meta_field {
	char	*key;
	char	*value;
};

struct meta {
	struct meta_field	*v;
	size_t			 n;
};

struct manifest_lesson {
	char		*id;
	struct meta	 meta;	/* title (and variants), summary, entry, minutes */
};

struct manifest_file {
	char		*path;
	uint32_t	 mode;	/* 0644 or 0755 */
	uint64_t	 size;
	uint8_t		 sha256[SHA256_LEN];
};

struct manifest {
	char			*name;
	uint64_t		 serial;
	char			*label;
	struct meta		 meta;		/* every other bundle.conf field */
	char			 commit[41];
	char			 tree[41];
	int64_t			 time;		/* source commit time */
	struct manifest_lesson	*lessons;
	size_t			 nlessons;
	char			**changelog;
	size_t			 nchangelog;
	struct manifest_file	*files;
	size_t			 nfiles;
	uint64_t		 total_size;
};

void		 meta_add(struct meta *, const char *key, const char *value);
const char	*meta_get(const struct meta *, const char *key);
/* key.lang if present, else key. */
const char	*meta_get_lang(const struct meta *, const char *key, const char *lang);
void		 meta_sort(struct meta *);
void		 meta_free(struct meta *);

/* 0 if name matches [a-z0-9][a-z0-9-]{0,62}. */
int	bundle_name_check(const char *name);
/* 0 if id matches [a-z0-9][a-z0-9._-]{0,63}. */
int	lesson_id_check(const char *id);

struct manifest *manifest_new(void);
/* Sorts meta, lessons and files into canonical order. */
void	manifest_sort(struct manifest *);
/* Canonical text; the manifest must be sorted. Caller frees *out. */
void	manifest_encode(const struct manifest *, char **out, size_t *len);
/* Strict parser: anything but the canonical form of a valid manifest is
 * refused with a message naming name:line and the field. */
int	manifest_parse(struct manifest **out, const char *buf, size_t len,
	    const char *name, struct error *err);
/* Binary search by path; NULL if absent. */
const struct manifest_file *manifest_find_file(const struct manifest *,
	    const char *path);
void	manifest_free(struct manifest *);	/* NULL-safe */

#endif
