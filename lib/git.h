/*
 * git.h: everything Satchel asks of a git repository. The only module that
 * includes <git2.h>; callers see plain structs and hex object ids.
 */
#ifndef SATCHEL_GIT_H
#define SATCHEL_GIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct gitrepo;

struct gitrepo_commit {
	char	commit[41];	/* hex id of the commit */
	char	tree[41];	/* hex id of its root tree */
	int64_t	time;		/* committer time, seconds since the epoch */
};

struct gitrepo_file {
	char	*path;		/* full path in the tree, '/'-separated */
	uint32_t mode;		/* 0644 or 0755 */
	uint64_t size;		/* blob size in bytes */
	char	 oid[41];	/* hex blob id */
};

struct gitrepo_files {
	struct gitrepo_file	*v;
	size_t			 n;
};

/* Opens the repository at path (a work tree or a bare repository; does not
 * search parent directories). */
int	gitrepo_open(struct gitrepo **out, const char *path, struct error *err);
void	gitrepo_free(struct gitrepo *);	/* NULL-safe */

/* Resolves REV (any git revision expression: HEAD, a branch, a tag, a
 * hex id) to a commit. ENOTFOUND with a message naming REV if it does
 * not exist or is not a commit. */
int	gitrepo_resolve(struct gitrepo *, const char *rev,
	    struct gitrepo_commit *out, struct error *err);

/* Lists every blob in the commit's tree, recursively, sorted bytewise by
 * full path. Refuses symlinks, submodules (gitlinks) and anything else
 * that is not a regular file, naming the path. An empty tree yields n = 0. */
int	gitrepo_list_files(struct gitrepo *, const struct gitrepo_commit *,
	    struct gitrepo_files *out, struct error *err);
void	gitrepo_files_free(struct gitrepo_files *);	/* NULL-safe */

/* Reads a whole blob into *data (malloc'd; caller frees), *len its size. */
int	gitrepo_read_blob(struct gitrepo *, const char *oid_hex,
	    void **data, size_t *len, struct error *err);

/* Zero-copy access to a blob for the big passes over a tree: data stays
 * valid until gitrepo_blob_free. */
struct gitrepo_blob;
int		 gitrepo_blob_open(struct gitrepo *, const char *oid_hex,
		    struct gitrepo_blob **out, struct error *err);
const void	*gitrepo_blob_data(const struct gitrepo_blob *);
size_t		 gitrepo_blob_size(const struct gitrepo_blob *);
void		 gitrepo_blob_free(struct gitrepo_blob *);	/* NULL-safe */

/* A blob read a piece at a time, in bounded memory when it is stored
 * whole (loose, or in a pack but not as a delta); deltas come whole from
 * libgit2 behind the same calls. *size is the blob's size. */
struct gitrepo_stream;
int	gitrepo_stream_open(struct gitrepo *, const char *oid_hex,
	    uint64_t *size, struct gitrepo_stream **out, struct error *err);
/* Bytes read; 0 at the end, once the data has been checked against the
 * blob's id; negative on error. */
ssize_t	gitrepo_stream_read(struct gitrepo_stream *, void *buf, size_t len,
	    struct error *err);
void	gitrepo_stream_free(struct gitrepo_stream *);	/* NULL-safe */

/* Highest N among tags named satchel/N (N a decimal integer >= 1);
 * 0 when there is none. */
int	gitrepo_max_release_tag(struct gitrepo *, uint64_t *out, struct error *err);

/* The subjects (first lines) of the commits reachable from c but not from
 * the tag satchel/P, where P is the highest release tag below serial; all
 * commits reachable from c when there is no such tag. Newest first
 * (topological, then time order), at most max entries. Each subject is
 * made valid single-line UTF-8 (invalid bytes and control characters
 * become '?'). *out is a malloc'd array of malloc'd strings. */
int	gitrepo_changelog(struct gitrepo *, const struct gitrepo_commit *c,
	    uint64_t serial, size_t max, char ***out, size_t *n, struct error *err);
void	gitrepo_changelog_free(char **v, size_t n);

/* Creates the annotated tag satchel/SERIAL on commit c with message.
 * EEXISTS if the tag exists. Tagger: the repository's configured user,
 * or "Satchel <satchel@localhost>" when none is configured. */
int	gitrepo_create_release_tag(struct gitrepo *, const struct gitrepo_commit *c,
	    uint64_t serial, const char *message, struct error *err);

/* Makes dir (which must exist and hold files) a new git repository,
 * adds every file in it and records one commit with the given message on
 * the default branch. Author: as for tags. EEXISTS if dir is already a
 * repository. */
int	gitrepo_init_commit(const char *dir, const char *message, struct error *err);

/* Release tags (refs/tags/satchel/N, N canonical decimal >= 1) and the
 * object each points at: an annotated tag's object id, or a commit's
 * for a lightweight tag. Sorted by serial. */
struct gitrepo_release_tag {
	uint64_t	serial;
	char		oid[41];
};

struct gitrepo_release_tags {
	struct gitrepo_release_tag	*v;
	size_t				 n;
};

int	gitrepo_release_tags(struct gitrepo *, struct gitrepo_release_tags *out,
	    struct error *err);
void	gitrepo_release_tags_free(struct gitrepo_release_tags *);	/* NULL-safe */

/* Reads the annotated tag object oid_hex: its message (malloc'd, *len
 * bytes, NUL-terminated) and the commit it points at. EINVALID when the
 * object is not an annotated tag or does not point at a commit, ELIMIT
 * when the message is over max bytes (checked before the object is
 * loaded). */
int	gitrepo_read_tag(struct gitrepo *, const char *oid_hex, size_t max,
	    char **msg, size_t *len, struct gitrepo_commit *target,
	    struct error *err);

/* 1 for a bare repository (no work tree). */
int	gitrepo_is_bare(const struct gitrepo *);

#endif
