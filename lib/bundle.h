/*
 * bundle.h: releases as bundle archives: building one from a git commit,
 * reading its head (manifest and signatures), verifying it, re-signing
 * it. Layout in protocol/SPEC.md, "Bundle archive".
 */
#ifndef SATCHEL_BUNDLE_H
#define SATCHEL_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "manifest.h"
#include "sigs.h"
#include "trust.h"

#define BUNDLE_ENTRY_MANIFEST	".satchel/MANIFEST"
#define BUNDLE_ENTRY_SIGNATURES	".satchel/SIGNATURES"
#define BUNDLE_RESERVED_DIR	".satchel"

/* Called now and then during long work; may be NULL. */
typedef void (*bundle_progress_fn)(void *arg, const char *what,
    uint64_t done, uint64_t total);

struct bundle_build_opts {
	const char		 *repo;		/* path to the repository */
	const char		 *rev;		/* revision, e.g. "HEAD" */
	const char		 *out;		/* NULL: NAME-LABEL.satchel */
	struct privkey		**keys;		/* sign with these */
	size_t			  nkeys;
	int			  tag;		/* record satchel/SERIAL */
	bundle_progress_fn	  progress;
	void			 *progress_arg;
};

struct bundle_head {
	char		*manifest_buf;	/* the exact signed bytes */
	size_t		 manifest_len;
	struct manifest	*manifest;
	struct sigs	 sigs;
};

struct bundle_report {
	struct bundle_head	 head;
	char			*out_path;	/* build: where it was written */
	char			**signers;	/* key ids that verified */
	size_t			  nsigners;
};

int	bundle_build(const struct bundle_build_opts *, struct bundle_report *out,
	    struct error *err);

/* Where a verified archive's files go as they are checked (publish): head
 * is called once the signatures have been checked, then for each file
 * begin, write (its bytes, in pieces) and end (after its digest matched).
 * head and end may be NULL. */
struct bundle_sink {
	int	(*head)(void *arg, const struct bundle_head *, struct error *);
	int	(*begin)(void *arg, const struct manifest_file *, struct error *);
	int	(*write)(void *arg, const void *, size_t, struct error *);
	int	(*end)(void *arg, const struct manifest_file *, struct error *);
	void	 *arg;
};

/* Reads only the manifest and signature entries of the archive at path. */
int	bundle_read_head(const char *path, struct bundle_head *out,
	    struct error *err);

/* Streams the whole archive: every file against the manifest, and the
 * signatures against keys (valid if at least one of them signed and none
 * of their signatures is bad) or against trust (a publisher key whose
 * patterns cover the bundle name). With neither, integrity only. */
int	bundle_verify(const char *path, const struct pubkey *keys, size_t nkeys,
	    const struct trust *trust, struct bundle_report *out,
	    struct error *err);

/* bundle_verify, handing every checked file to sink on the way. */
int	bundle_verify_to(const char *path, const struct pubkey *keys,
	    size_t nkeys, const struct trust *trust,
	    const struct bundle_sink *sink, struct bundle_report *out,
	    struct error *err);

/* The signature rule of bundle_verify with a trust policy, for a head
 * that arrived without its archive (a network publish); name is used in
 * messages. */
int	bundle_head_check(const struct bundle_head *h, const char *name,
	    const struct trust *trust, struct error *err);

/* Opens the bytes of one manifest file for bundle_write_archive. */
typedef int (*bundle_open_fn)(void *arg, const struct manifest_file *,
    int *fd, struct error *err);

/* Writes an archive at path (atomically) from a signed head and the
 * files open_file yields, checking each against its digest: the same
 * bytes as the build that made the head. */
int	bundle_write_archive(const struct bundle_head *, const char *path,
	    bundle_open_fn open_file, void *arg, struct error *err);

/* Adds signatures by keys, rewriting the archive in place (atomically)
 * after checking every file; *changed is 0 when every key had already
 * signed and the file was left alone. */
int	bundle_sign(const char *path, struct privkey **keys, size_t nkeys,
	    int *changed, struct bundle_report *out, struct error *err);

/* Parses a signed manifest held elsewhere than in an archive (a release
 * tag's message): the manifest, ending at its line "end", immediately
 * followed by its signature block. */
int	bundle_head_parse(struct bundle_head *out, const char *buf, size_t len,
	    const char *name, struct error *err);

/* The signature rules of bundle_verify with trust, for a head alone. */
int	bundle_head_verify(const struct bundle_head *, const char *name,
	    const struct trust *trust, struct error *err);

/* Writes at out (atomically) the archive a build of commit in the
 * repository repo makes for the signed head h, after proving the commit
 * is what h's manifest describes: every file of its tree by path, mode,
 * size and SHA-256 (none missing, none extra), then the whole manifest
 * the build derives from the tree (bundle.conf, lessons, commit and tree
 * ids; the changelog is h's) byte for byte. EVERIFY names the first
 * difference. */
int	bundle_build_from_head(const char *repo, const char *commit,
	    const struct bundle_head *h, const char *out, struct error *err);

void	bundle_head_free(struct bundle_head *);
void	bundle_report_free(struct bundle_report *);

#endif
