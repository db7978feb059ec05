/*
 * crypto.c owns every call into OpenSSL: SHA-256 contexts, Ed25519 keys,
 * signing and verification with domain separation, base64.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "crypto.h"
#include "util.h"

struct sha256_ctx {
	EVP_MD_CTX	*md;
};

struct sha1_ctx {
	EVP_MD_CTX	*md;
};

struct privkey {
	EVP_PKEY	*pkey;
};

/* Both digests are OpenSSL message digests; these four do the work. */
static EVP_MD_CTX *
md_new(const EVP_MD *type)
{
	EVP_MD_CTX	*md;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, type, NULL) != 1)
		fatal("cannot initialise a message digest");
	return md;
}

static void
md_update(EVP_MD_CTX *md, const void *p, size_t n)
{
	if (EVP_DigestUpdate(md, p, n) != 1)
		fatal("message digest update failed");
}

static void
md_final(EVP_MD_CTX *md, uint8_t *out, unsigned int len)
{
	unsigned int	n = len;

	if (EVP_DigestFinal_ex(md, out, &n) != 1 || n != len ||
	    EVP_DigestInit_ex(md, EVP_MD_CTX_get0_md(md), NULL) != 1)
		fatal("message digest final failed");
}

struct sha256_ctx *
sha256_new(void)
{
	struct sha256_ctx	*c = xcalloc(1, sizeof *c);

	c->md = md_new(EVP_sha256());
	return c;
}

void
sha256_update(struct sha256_ctx *c, const void *p, size_t n)
{
	md_update(c->md, p, n);
}

void
sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN])
{
	md_final(c->md, out, SHA256_LEN);
}

void
sha256_free(struct sha256_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

struct sha1_ctx *
sha1_new(void)
{
	struct sha1_ctx	*c = xcalloc(1, sizeof *c);

	c->md = md_new(EVP_sha1());
	return c;
}

void
sha1_update(struct sha1_ctx *c, const void *p, size_t n)
{
	md_update(c->md, p, n);
}

void
sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_LEN])
{
	md_final(c->md, out, SHA1_LEN);
}

void
sha1_free(struct sha1_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

void
sha256(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	unsigned int	len = SHA256_LEN;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1)
		fatal("SHA-256 failed");
}

void
pubkey_init(struct pubkey *k, const uint8_t raw[ED25519_PUB_LEN])
{
	uint8_t	h[SHA256_LEN];
	char	hex[2 * SHA256_LEN + 1];

	memcpy(k->raw, raw, ED25519_PUB_LEN);
	sha256(raw, ED25519_PUB_LEN, h);
	hex_encode(hex, h, SHA256_LEN);
	memcpy(k->id, hex, KEYID_LEN);
	k->id[KEYID_LEN] = '\0';
}

/* Why: the .pub line is typed and pasted by people, so say exactly what
 * is wrong with it (algorithm, encoding or length). */
int
pubkey_parse(struct pubkey *out, const char *line, size_t len,
    const char *name, struct error *err)
{
	uint8_t		 raw[ED25519_PUB_LEN];
	const char	*sp, *b64, *end;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	end = line + len;
	sp = memchr(line, ' ', len);
	if (sp == NULL)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: not a Satchel public key (expected \"ed25519 BASE64\")",
		    name);
	if ((size_t)(sp - line) != 7 || memcmp(line, "ed25519", 7) != 0)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: unsupported key algorithm \"%.*s\" (only ed25519 is accepted)",
		    name, (int)((sp - line) > 32 ? 32 : (sp - line)), line);
	b64 = sp + 1;
	sp = memchr(b64, ' ', (size_t)(end - b64));
	if (sp == NULL)
		sp = end;
	if (base64_decode(raw, sizeof raw, b64, (size_t)(sp - b64)) != 0)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: the key is not the base64 of a 32-byte Ed25519 public key",
		    name);
	pubkey_init(out, raw);
	return 0;
}

char *
pubkey_format(const struct pubkey *k)
{
	char	*b64 = base64_encode(k->raw, ED25519_PUB_LEN);
	char	*s = xasprintf("ed25519 %s", b64);

	free(b64);
	return s;
}

int
privkey_generate(struct privkey **out, struct error *err)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pkey = NULL;

	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return error_set(err, SATCHEL_ERR, "cannot generate an Ed25519 key");
	}
	EVP_PKEY_CTX_free(ctx);
	*out = xcalloc(1, sizeof **out);
	(*out)->pkey = pkey;
	return 0;
}

static int
crypto_no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

int
privkey_from_pem(struct privkey **out, const char *pem, size_t len,
    const char *name, struct error *err)
{
	BIO		*bio;
	EVP_PKEY	*pkey;
	int		 id;

	if (len > INT32_MAX)
		return error_set(err, SATCHEL_EINVALID, "%s: too large for a key file", name);
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		fatal("out of memory");
	/* A passphrase callback that refuses: never prompt on a terminal. */
	pkey = PEM_read_bio_PrivateKey(bio, NULL, crypto_no_passphrase_cb, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (pkey == NULL)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: not an Ed25519 private key in PEM form (make one with `satchel keygen`)",
		    name);
	if ((id = EVP_PKEY_get_id(pkey)) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return error_set(err, SATCHEL_EINVALID,
		    "%s: not an Ed25519 private key (it is %s; Satchel signs only with Ed25519)",
		    name, OBJ_nid2sn(id) != NULL ? OBJ_nid2sn(id) : "another type");
	}
	*out = xcalloc(1, sizeof **out);
	(*out)->pkey = pkey;
	return 0;
}

int
privkey_to_pem(const struct privkey *k, char **out, size_t *outlen,
    struct error *err)
{
	BIO	*bio;
	char	*p;
	long	 n;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		fatal("out of memory");
	if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		return error_set(err, SATCHEL_ERR, "cannot encode the private key");
	}
	n = BIO_get_mem_data(bio, &p);
	*out = xstrndup(p, (size_t)n);
	*outlen = (size_t)n;
	BIO_free(bio);
	return 0;
}

void
privkey_public(const struct privkey *k, struct pubkey *out)
{
	uint8_t	raw[ED25519_PUB_LEN];
	size_t	n = sizeof raw;

	if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1 || n != sizeof raw)
		fatal("cannot read an Ed25519 public key");
	pubkey_init(out, raw);
}

void
privkey_free(struct privkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* DOMAIN || 0x00 || msg, the exact bytes every signature covers. */
static uint8_t *
crypto_domain_message(const char *domain, const void *msg, size_t len,
    size_t *outlen)
{
	size_t	 dlen = strlen(domain);
	uint8_t	*p;

	if (len > SIZE_MAX - dlen - 1)
		fatal("message too large to sign");
	p = xmalloc(dlen + 1 + len);
	memcpy(p, domain, dlen);
	p[dlen] = 0;
	if (len != 0)
		memcpy(p + dlen + 1, msg, len);
	*outlen = dlen + 1 + len;
	return p;
}

int
crypto_sign(const struct privkey *k, const char *domain, const void *msg,
    size_t len, uint8_t sig[ED25519_SIG_LEN], struct error *err)
{
	EVP_MD_CTX	*md;
	uint8_t		*tbs;
	size_t		 tbslen, siglen = ED25519_SIG_LEN;
	int		 rc = 0;

	tbs = crypto_domain_message(domain, msg, len, &tbslen);
	if ((md = EVP_MD_CTX_new()) == NULL)
		fatal("out of memory");
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, tbs, tbslen) != 1 ||
	    siglen != ED25519_SIG_LEN)
		rc = error_set(err, SATCHEL_ERR, "Ed25519 signing failed");
	EVP_MD_CTX_free(md);
	free(tbs);
	ERR_clear_error();
	return rc;
}

int
crypto_verify(const struct pubkey *k, const char *domain, const void *msg,
    size_t len, const uint8_t sig[ED25519_SIG_LEN])
{
	EVP_PKEY	*pkey;
	EVP_MD_CTX	*md;
	uint8_t		*tbs;
	size_t		 tbslen;
	int		 ok;

	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->raw,
	    ED25519_PUB_LEN);
	if (pkey == NULL) {
		ERR_clear_error();
		return SATCHEL_EVERIFY;
	}
	tbs = crypto_domain_message(domain, msg, len, &tbslen);
	if ((md = EVP_MD_CTX_new()) == NULL)
		fatal("out of memory");
	ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestVerify(md, sig, ED25519_SIG_LEN, tbs, tbslen) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	free(tbs);
	ERR_clear_error();
	return ok ? 0 : SATCHEL_EVERIFY;
}

char *
base64_encode(const uint8_t *in, size_t len)
{
	char	*out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

/* Why canonical only: a signature or key has one spelling, so two
 * different files can never mean the same thing. */
int
base64_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen)
{
	uint8_t	 tmp[3 * 64];
	char	*again;
	int	 n, pad = 0, ok;

	if (inlen != 4 * ((outlen + 2) / 3) || inlen > 4 * 64)
		return -1;
	if (outlen == 0)
		return 0;		/* "" is the canonical encoding of nothing */
	if (in[inlen - 1] == '=')
		pad++;
	if (inlen > 1 && in[inlen - 2] == '=')
		pad++;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)inlen);
	if (n < 0 || (size_t)(n - pad) != outlen)
		return -1;
	again = base64_encode(tmp, outlen);
	ok = strlen(again) == inlen && memcmp(again, in, inlen) == 0;
	free(again);
	if (!ok)
		return -1;
	memcpy(out, tmp, outlen);
	return 0;
}
