/*
 * catalog.h: a store's catalog, the current release of every bundle,
 * signed by a catalog key (protocol/SPEC.md, "Catalog").
 */
#ifndef SATCHEL_CATALOG_H
#define SATCHEL_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "sigs.h"
#include "trust.h"

#define CATALOG_MAX		(16u * 1024 * 1024)
#define CATALOG_BUNDLES_MAX	100000
#define SIG_DOMAIN_CATALOG	"SATCHEL-CATALOG-SIG-V1"

struct catalog_entry {
	char		*name;
	uint64_t	 serial;
	uint8_t		 manifest_sha256[SHA256_LEN];	/* pins the manifest */
	uint64_t	 size;		/* the release's total file bytes */
};

struct catalog {
	uint64_t		 serial;
	int64_t			 issued;	/* seconds since 1970 */
	int64_t			 expires;
	struct catalog_entry	*v;		/* sorted by name, unique */
	size_t			 n;
	struct sigs		 sigs;
};

struct catalog *catalog_new(void);	/* serial 0: nothing published yet */
void	catalog_free(struct catalog *);	/* NULL-safe */
/* Strict parser of body + signature block; checks no key. */
int	catalog_parse(struct catalog **out, const char *buf, size_t len,
	    const char *name, struct error *err);
void	catalog_encode_body(const struct catalog *, char **out, size_t *len);
void	catalog_encode(const struct catalog *, char **out, size_t *len);
/* Replaces the signatures with one by key over the current body. */
int	catalog_sign(struct catalog *, const struct privkey *, struct error *err);
/* 0 when a catalog key of trust signed the body and, unless
 * allow_expired, now < expires; EVERIFY (unsigned, unknown key, bad
 * signature) or EINVALID (expired) with a message naming name. */
int	catalog_check(const struct catalog *, const struct trust *, int64_t now,
	    int allow_expired, const char *name, struct error *err);
const struct catalog_entry *catalog_find(const struct catalog *, const char *bundle);
/* Adds or replaces the entry for name, keeping the order. */
void	catalog_set(struct catalog *, const char *name, uint64_t serial,
	    const uint8_t manifest_sha256[SHA256_LEN], uint64_t size);

#endif
