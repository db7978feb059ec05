/*
 * crypto.h: SHA-256, Ed25519 and base64, the only cryptography Satchel
 * uses. protocol/crypto.c is the only file that includes OpenSSL.
 */
#ifndef SATCHEL_CRYPTO_H
#define SATCHEL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SHA256_LEN		32
#define SHA256_HEX_LEN		64
#define ED25519_PUB_LEN		32
#define ED25519_SIG_LEN		64
#define KEYID_LEN		16	/* hex digits */

/* Domain-separation prefixes: a signature made for one kind of document
 * can never be replayed as a signature on another. */
#define SIG_DOMAIN_MANIFEST	"SATCHEL-MANIFEST-SIG-V1"
#define SIG_DOMAIN_TRUST	"SATCHEL-TRUST-SIG-V1"

struct sha256_ctx;

struct sha256_ctx *sha256_new(void);
void	sha256_update(struct sha256_ctx *, const void *, size_t);
/* Writes the digest and resets the context for reuse. */
void	sha256_final(struct sha256_ctx *, uint8_t out[SHA256_LEN]);
void	sha256_free(struct sha256_ctx *);	/* NULL-safe */
void	sha256(const void *, size_t, uint8_t out[SHA256_LEN]);

/* SHA-1, only to check git object ids of data Satchel parses itself. */
#define SHA1_LEN		20
struct sha1_ctx;
struct sha1_ctx *sha1_new(void);
void	sha1_update(struct sha1_ctx *, const void *, size_t);
void	sha1_final(struct sha1_ctx *, uint8_t out[SHA1_LEN]);
void	sha1_free(struct sha1_ctx *);	/* NULL-safe */

struct pubkey {
	uint8_t	raw[ED25519_PUB_LEN];
	char	id[KEYID_LEN + 1];	/* first 16 hex digits of SHA-256(raw) */
};

struct privkey;

void	pubkey_init(struct pubkey *, const uint8_t raw[ED25519_PUB_LEN]);
/* Parses "ed25519 BASE64 [comment]" (the .pub file line, without the
 * newline). Comment, if any, is ignored. name is used in messages. */
int	pubkey_parse(struct pubkey *out, const char *line, size_t len,
	    const char *name, struct error *err);
/* "ed25519 BASE64" (no comment, no newline); caller frees. */
char	*pubkey_format(const struct pubkey *);

int	privkey_generate(struct privkey **out, struct error *err);
/* Parses a PEM private key; refuses anything but Ed25519. */
int	privkey_from_pem(struct privkey **out, const char *pem, size_t len,
	    const char *name, struct error *err);
/* Unencrypted PKCS#8 PEM; caller frees. */
int	privkey_to_pem(const struct privkey *, char **out, size_t *outlen,
	    struct error *err);
void	privkey_public(const struct privkey *, struct pubkey *out);
void	privkey_free(struct privkey *);	/* NULL-safe */

/* Signs DOMAIN || 0x00 || msg. */
int	crypto_sign(const struct privkey *, const char *domain,
	    const void *msg, size_t len, uint8_t sig[ED25519_SIG_LEN],
	    struct error *err);
/* 0 if sig is key's signature of DOMAIN || 0x00 || msg, else EVERIFY. */
int	crypto_verify(const struct pubkey *, const char *domain,
	    const void *msg, size_t len, const uint8_t sig[ED25519_SIG_LEN]);

/* Standard base64 with padding; returns a malloc'd NUL-terminated string. */
char	*base64_encode(const uint8_t *, size_t);
/* Decodes canonical padded base64 of exactly outlen bytes; -1 otherwise. */
int	base64_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen);

#endif
