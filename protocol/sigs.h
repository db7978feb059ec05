/*
 * sigs.h: a signature block, the lines "signature ed25519 KEYID BASE64"
 * that sign a manifest or a trust policy (protocol/SPEC.md, "Signatures").
 */
#ifndef SATCHEL_SIGS_H
#define SATCHEL_SIGS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

#define SIGS_MAX	64
#define SIGS_BLOCK_MAX	(SIGS_MAX * 128)
/* "signature ed25519 " KEYID " " base64(64 bytes) "\n" */
#define SIGS_LINE_LEN	(18 + KEYID_LEN + 1 + 88 + 1)

struct sig {
	char	keyid[KEYID_LEN + 1];
	uint8_t	sig[ED25519_SIG_LEN];
};

struct sigs {
	struct sig	*v;	/* sorted by keyid, no two alike */
	size_t		 n;
};

/* Strict: sorted by key id, one per key, at most SIGS_MAX. */
int	sigs_parse(struct sigs *out, const char *buf, size_t len,
	    const char *name, struct error *err);
/* The same for a block that follows `before` lines of a file (a policy
 * or catalog body): messages give the line in the file. */
int	sigs_parse_after(struct sigs *out, const char *buf, size_t len,
	    const char *name, unsigned before, struct error *err);
/* Canonical text (empty when n = 0); caller frees *out. */
void	sigs_encode(const struct sigs *, char **out, size_t *len);
/* Signs DOMAIN || 0 || msg with key and inserts (or replaces) its line;
 * signing twice with one key leaves the block unchanged. */
int	sigs_add(struct sigs *, const struct privkey *, const char *domain,
	    const void *msg, size_t len, struct error *err);
/* 0 if the block holds a valid signature by key; ENOTFOUND if it has no
 * signature by key; EVERIFY if that signature does not verify. */
int	sigs_check(const struct sigs *, const struct pubkey *, const char *domain,
	    const void *msg, size_t len);
void	sigs_free(struct sigs *);

#endif
