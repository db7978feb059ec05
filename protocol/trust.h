/*
 * trust.h: the trust policy, which keys a node trusts for what
 * (protocol/SPEC.md, "Trust policy").
 */
#ifndef SATCHEL_TRUST_H
#define SATCHEL_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "sigs.h"

#define TRUST_MAX		(1024 * 1024)
#define TRUST_KEYS_MAX		256
#define TRUST_PATTERNS_MAX	64

struct trust_publisher {
	struct pubkey	  key;
	char		**patterns;	/* shell globs on bundle names */
	size_t		  npatterns;
};

struct trust {
	uint64_t		 serial;
	unsigned		 threshold;	/* root signatures needed */
	struct pubkey		*roots;
	size_t			 nroots;
	struct pubkey		*catalogs;
	size_t			 ncatalogs;
	struct trust_publisher	*publishers;
	size_t			 npublishers;
	struct sigs		 sigs;
};

struct trust *trust_new(void);
/* Parses a policy file (body, then its signature block) and checks that
 * at least threshold of its own root keys signed the body. */
int	trust_parse(struct trust **out, const char *buf, size_t len,
	    const char *name, struct error *err);
/* The same, strict, but without the threshold check: for a policy whose
 * root keys sign it one after another (satchel trust sign). What it
 * returns is never to be trusted. */
int	trust_parse_draft(struct trust **out, const char *buf, size_t len,
	    const char *name, struct error *err);
/* The signed body, canonical; caller frees. */
void	trust_encode_body(const struct trust *, char **out, size_t *len);
/* Body followed by the signature block; caller frees. */
void	trust_encode(const struct trust *, char **out, size_t *len);
/* Counts distinct root keys with valid signatures on the body; 0 if
 * they reach the threshold, else EVERIFY with a message. */
int	trust_check_threshold(const struct trust *, const char *name,
	    struct error *err);
/* The number of distinct keys among keys[0..nkeys) with a valid
 * signature on t's body (the keys need not be t's own). */
size_t	trust_count_signers(const struct trust *t, const struct pubkey *keys,
	    size_t nkeys);
#define TRUST_SAME	1	/* trust_check_successor: the same policy */
/* Whether a node that holds cur may put next in its place: 0 when next's
 * serial is cur's + 1 and at least cur's threshold of cur's root keys
 * signed next; TRUST_SAME when next is cur byte for byte; EVERIFY with a
 * message naming next's serial otherwise (a lower serial: rollback; the
 * same serial, other bytes; a serial further up: the chain is to be
 * walked; too few of cur's roots). next must have passed trust_parse. */
int	trust_check_successor(const struct trust *cur,
	    const struct trust *next, const char *name, struct error *err);
/* 1 if key is a publisher key whose patterns cover bundle name. */
int	trust_publisher_allows(const struct trust *, const struct pubkey *key,
	    const char *bundle);
/* Re-signs the body with key (drops signatures that no longer verify). */
int	trust_sign(struct trust *, const struct privkey *, struct error *err);
void	trust_free(struct trust *);	/* NULL-safe */

#endif
