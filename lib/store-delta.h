/*
 * store-delta.h: a store's deltas (protocol/SPEC.md §10 "Deltas", §11
 * "Deltas"): which file of an earlier release a changed file is best
 * sent as a delta against, and the cache of deltas under STORE/deltas/
 * that satcheld serves them from.
 */
#ifndef SATCHEL_STORE_DELTA_H
#define SATCHEL_STORE_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "manifest.h"
#include "store.h"

/* A changed file smaller than this travels whole: a pack of whole small
 * files costs less than the requests and frames of their deltas. */
#define DELTA_MIN_SIZE		256

/* The files of a base release, by path and by final path component. */
struct delta_index {
	const struct manifest_file	**bypath;	/* sorted by path */
	const struct manifest_file	**byname;	/* by final component */
	size_t				  n;
};

void	delta_index_init(struct delta_index *, const struct manifest *base);
void	delta_index_free(struct delta_index *);

/*
 * The file of the base release that f should be sent as a delta
 * against (SPEC §11 "Which base"), or NULL when it should travel whole:
 * the file at f's path when its bytes differ, or else, when the base
 * has no file at that path, the one of the same final component whose
 * size is nearest f's (a file moved between lessons); never an empty
 * file, and nothing for a file under DELTA_MIN_SIZE.
 */
const struct manifest_file *delta_pick_base(const struct delta_index *,
	    const struct manifest_file *f);

/* STORE/deltas/TT/TARGET-BASE (TT: the target's first two hex digits);
 * the caller frees it. */
char	*store_delta_path(const struct store *, const uint8_t target[32],
	    const uint8_t base[32]);

/*
 * Opens the delta of object target against object base, making it first
 * (into a temporary file, then renamed into place) if the cache lacks
 * it: *fd open for reading at offset 0, *size its length; or *fd -1 when
 * the delta is declined (it saves less than half of what the target
 * costs whole; the cache then holds an empty file). SATCHEL_ENOTFOUND
 * when the store lacks either object; another error when it cannot be
 * made.
 */
int	store_delta_open(const struct store *, const uint8_t target[32],
	    const uint8_t base[32], int *fd, uint64_t *size, struct error *err);

/*
 * The delta (one zstd frame, SPEC §11 META_DELTA) of a signed manifest
 * against another, both given whole, cached as deltas/TT/TARGET-BASE.m
 * by their SHA-256: *out malloc'd, the caller frees it.
 */
int	store_meta_delta(const struct store *, const char *target, size_t tlen,
	    const char *base, size_t blen, char **out, size_t *outlen,
	    struct error *err);

/* What store_delta_precompute made. */
struct store_delta_report {
	uint64_t	base_serial;	/* 0: no earlier release, none made */
	size_t		made;		/* deltas, the manifest's included */
	size_t		declined;	/* not worth it: the file goes whole */
	size_t		failed;		/* left to be made on request */
	uint64_t	bytes;		/* the file deltas' bytes */
	uint64_t	bytes_files;	/* of the files they rebuild */
};

/* Makes the deltas of release name@serial against the previous retained
 * release of name, as a mirror holding that one will ask for them
 * (files and manifest), into the cache. */
int	store_delta_precompute(const struct store *, const char *name,
	    uint64_t serial, struct store_delta_report *, struct error *err);

/* Removes from STORE/deltas/ every delta whose target or base is not in
 * live (n sorted SHA-256s: the kept objects and the kept releases'
 * signed files), and leftovers of cut writes: gc's step. */
void	store_delta_gc(const struct store *, const uint8_t (*live)[32],
	    size_t n);

#endif
