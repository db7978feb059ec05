/*
 * store.h: a node's library on disk (protocol/SPEC.md, "Store"): objects
 * named by SHA-256, signed metadata, a lock, and the operations that
 * change them atomically.
 */
#ifndef SATCHEL_STORE_H
#define SATCHEL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "catalog.h"
#include "crypto.h"
#include "error.h"
#include "trust.h"

#define STORE_MARKER		"satchel-store 1\n"
#define STORE_EXPIRY_DEFAULT	(7 * 24 * 3600)

struct store;

/* Creates a store in dir (which must not exist or be empty). policy (may
 * be NULL) is a trust policy file, checked and copied in; catalog_key
 * (may be NULL) makes the store an origin: its public key must be a
 * catalog key of the policy, and its path is recorded in the store's
 * config. An origin starts with an empty signed catalog. */
int	store_init(const char *dir, const char *policy, const char *catalog_key,
	    int64_t now, struct error *err);

#define STORE_READ	0
#define STORE_WRITE	1	/* takes the lock: one writer at a time */

/* Opens the store at dir, loading its trust policy and catalog. */
int	store_open(struct store **out, const char *dir, int mode,
	    struct error *err);
void	store_close(struct store *);	/* NULL-safe; releases the lock */

const char		*store_dir(const struct store *);
const struct trust	*store_trust(const struct store *);	/* or NULL */
const struct catalog	*store_catalog(const struct store *);	/* or NULL */
int			 store_is_origin(const struct store *);

/* objects/ab/cdef...: malloc'd path of the object with this digest. */
char	*store_object_path(const struct store *, const uint8_t sha[SHA256_LEN]);

/* A retained release's signed manifest. */
int	store_release_load(const struct store *, const char *name,
	    uint64_t serial, struct bundle_head *out, struct error *err);
/* Serials of name's retained releases that the catalog has reached
 * (newest first); *v is malloc'd. */
int	store_release_list(const struct store *, const char *name,
	    uint64_t **v, size_t *n, struct error *err);
/* 1 if the catalog now on disk in the store dir has reached name@serial
 * (a release file with a higher serial is a leftover, not visible). For
 * a long-running reader such as satcheld. */
int	store_release_visible(const char *dir, const char *name,
	    uint64_t serial);
/* Publication time of a retained release (seconds since 1970). */
int64_t	store_release_time(const struct store *, const char *name,
	    uint64_t serial);

struct store_publish_report {
	char		*name;
	char		*label;
	uint64_t	 serial;
	size_t		 files_new;
	size_t		 files_present;
	uint64_t	 bytes_new;
	uint64_t	 bytes_present;
	uint64_t	 catalog_serial;
};

/* Verifies the archive against the store's trust policy, refuses a
 * serial not greater than the current one, then lands the objects, the
 * signed manifest and a new catalog (serial + 1, expiring expiry seconds
 * after now), each durable before the next becomes visible. Refused or
 * failed: the store is as it was. */
int	store_publish(struct store *, const char *archive, int64_t now,
	    int64_t expiry, struct store_publish_report *out, struct error *err);
void	store_publish_report_free(struct store_publish_report *);

/* Publishing over the network (satcheld), in three steps. */
/* Parses a signed manifest (the manifest, then its signature block) as
 * stored in meta/releases and sent by PUBLISH, strictly. */
int	store_signed_parse(const char *buf, size_t len, const char *what,
	    struct bundle_head *out, struct error *err);
/* The checks store_publish makes before reading any file: s is an
 * origin, a publisher key of its trust policy that covers the name
 * signed h (and no publisher's signature is bad), and h's serial is
 * greater than the catalog's. what names the release in messages. */
int	store_publish_check(const struct store *, const struct bundle_head *h,
	    const char *what, struct error *err);
/* A new staging directory tmp/publish-XXXXXX (*out is malloc'd): the
 * same filesystem as objects/, so landing an object is a rename. Files in
 * it are named by their lowercase hex SHA-256, checked by the caller. */
int	store_stage_new(const struct store *, char **out, struct error *err);
/* Removes a staging directory and what it holds; NULL-safe. */
void	store_stage_remove(const char *dir);
/* Lands h, whose new objects are staged in stagedir, exactly as
 * store_publish does: s must be open with STORE_WRITE (the lock held);
 * store_publish_check is made again first, every manifest file must be
 * staged or already in objects/; then objects, signed manifest and new
 * catalog, each durable before the next. *catalog_serial is the new
 * catalog's serial. stagedir is left for the caller to remove. */
int	store_publish_staged(struct store *, const struct bundle_head *h,
	    const char *stagedir, const char *what, int64_t now, int64_t expiry,
	    uint64_t *catalog_serial, struct error *err);

/* Writes release name@serial (serial 0: the current one) as a bundle
 * archive at out: the bytes Satchel's build wrote for it. */
int	store_export(const struct store *, const char *name, uint64_t serial,
	    const char *out, struct error *err);

/* The newest retained release of name that the catalog has reached
 * (a mirror that skips a bundle keeps serving what it has); 0 if none. */
uint64_t store_current(const struct store *, const char *name);

struct store_pull_opts {
	char		**names;	/* bundles to take; NULL/0: all */
	size_t		  nnames;
	/* names are fnmatch(3) patterns ("calligraphy-*"), and a pattern
	 * that matches nothing in the source's catalog is not an error (a
	 * mirror's --bundles); otherwise each name must be in it. */
	int		  patterns;
	int		  allow_expired;
	int64_t		  now;
	bundle_progress_fn progress;
	void		 *progress_arg;
};

struct store_pull_report {
	size_t		 bundles_new;	/* releases made visible */
	size_t		 bundles_current;	/* already up to date */
	size_t		 files_copied;
	size_t		 files_present;
	uint64_t	 bytes_copied;
	size_t		 files_delta;	/* of files_copied: rebuilt from deltas */
	uint64_t	 bytes_delta;	/* the deltas' bytes */
	uint64_t	 bytes_delta_files;	/* the files' they rebuilt */
	size_t		 deltas_refused;	/* fetched whole instead */
	uint64_t	 catalog_serial;
	uint64_t	 trust_serial;	/* the policy in force after the pull */
	size_t		 trust_accepted;	/* policies of the chain walked */
	int		 expired;	/* accepted with allow_expired */
	int		 created;	/* dst was made a store */
};

/* Puts the trust policies in the files paths[0..n) in force, in that
 * order: each must follow the one before (the first the store's policy
 * in force) as SPEC §7 "Rotation" says; one already in force is
 * skipped. On an origin the policy must list its catalog key, and a
 * catalog the policy no longer accepts is signed again (serial + 1,
 * issued now). s must be open for writing. Refused: the store as it
 * was. */
int	store_set_trust(struct store *s, char *const *paths, size_t n,
	    int64_t now, struct error *err);

/* Brings the store at dst up to date from the store at src (a USB
 * drive, another disk): checks src's catalog against dst's trust policy
 * (key, signature, serial not lower, expiry), then each wanted release
 * (pinned manifest, publisher signature), copies only the objects dst
 * lacks, checking each, into tmp/ (kept there if interrupted, so a second
 * run resumes), and only then makes the releases visible with src's
 * catalog. Refused: dst as it was. dst that is not a store yet becomes
 * one, taking src's trust policy. */
int	store_pull(const char *src, const char *dst,
	    const struct store_pull_opts *, struct store_pull_report *out,
	    struct error *err);

/* Keeps the keep newest retained releases of each bundle (at least 1,
 * always the current one), removes the rest, then every object no kept
 * release needs, and leftovers in tmp/. */
struct store_gc_report {
	size_t		 releases_removed;
	size_t		 objects_removed;
	uint64_t	 bytes_freed;
};
int	store_gc(struct store *, unsigned keep, struct store_gc_report *out,
	    struct error *err);

/* Checks everything; calls problem() once per problem found and returns
 * how many there were (0: clean). */
size_t	store_fsck(const struct store *, void (*problem)(void *, const char *),
	    void *arg, bundle_progress_fn progress, void *progress_arg);

#endif
