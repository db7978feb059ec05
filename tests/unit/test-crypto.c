/*
 * test-crypto.c: SHA-256, hex, base64, Ed25519 keys and domain-separated
 * signatures (protocol/crypto.c), against published and recorded vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vectors.h"

#include "crypto.h"
#include "error.h"
#include "util.h"

#ifndef SRCDIR
#error "build with -DSRCDIR='\"/path/to/source\"'"
#endif

/* RFC 8032, section 7.1, TEST 1. */
#define RFC_SECRET \
	"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC_PUBLIC \
	"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
/* The DER of an Ed25519 PKCS#8 private key, up to the 32-byte seed. */
#define ED25519_PKCS8_PREFIX	"302e020100300506032b657004220420"

/* A P-256 key: a valid PEM private key of the wrong type. */
static const char ec_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgU6gSwDfrzqDDe1HO\n"
	"dKCsvb78agonSAJI1A/nLyLj/iqhRANCAAT0MamKRHINMUFNP2XeGqAspvx8h9yv\n"
	"xU4lIXIRBVmqrv5wmUo+ZzI3XzlqlTvbv4fG3Inb8oi007zaP79qiRXk\n"
	"-----END PRIVATE KEY-----\n";

static void
assert_digest_hex(const uint8_t d[SHA256_LEN], const char *want)
{
	char	hex[SHA256_HEX_LEN + 1];

	hex_encode(hex, d, SHA256_LEN);
	assert_string_equal(hex, want);
}

static void
hex_to_bytes(uint8_t *out, size_t outlen, const char *hex)
{
	assert_int_equal(hex_decode(out, outlen, hex, strlen(hex)), 0);
}

/* A PKCS#8 PEM holding the Ed25519 seed given in hex. */
static char *
pem_from_seed(const char *seed_hex)
{
	uint8_t	 der[16 + 32];
	char	*b64, *pem;

	hex_to_bytes(der, 16, ED25519_PKCS8_PREFIX);
	hex_to_bytes(der + 16, 32, seed_hex);
	b64 = base64_encode(der, sizeof der);
	assert_true(strlen(b64) <= 64);		/* one PEM line */
	pem = xasprintf("-----BEGIN PRIVATE KEY-----\n%s\n"
	    "-----END PRIVATE KEY-----\n", b64);
	free(b64);
	return pem;
}

static struct privkey *
privkey_from_seed(const char *seed_hex)
{
	struct privkey	*k = NULL;
	struct error	 err;
	char		*pem = pem_from_seed(seed_hex);

	error_clear(&err);
	assert_int_equal(privkey_from_pem(&k, pem, strlen(pem), "seed", &err), 0);
	free(pem);
	return k;
}

static void
test_sha256_fips_vectors(void **state)
{
	uint8_t	d[SHA256_LEN];

	sha256("", 0, d);
	assert_digest_hex(d,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256("abc", 3, d);
	assert_digest_hex(d,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_sha256_streaming_matches_one_shot(void **state)
{
	struct sha256_ctx	*c = sha256_new();
	uint8_t			 data[1000], one[SHA256_LEN], streamed[SHA256_LEN];
	size_t			 i, off, chunk;

	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	sha256(data, sizeof data, one);

	for (off = 0, chunk = 1; off < sizeof data; chunk += 2) {
		size_t	n = sizeof data - off < chunk ? sizeof data - off : chunk;

		sha256_update(c, data + off, n);
		off += n;
	}
	sha256_final(c, streamed);
	assert_memory_equal(one, streamed, SHA256_LEN);

	/* sha256_final resets the context: "abc" now hashes from scratch. */
	sha256_update(c, "ab", 2);
	sha256_update(c, "c", 1);
	sha256_final(c, streamed);
	assert_digest_hex(streamed,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_free(c);
	sha256_free(NULL);
}

static void
test_hex_round_trip_and_rejects(void **state)
{
	const uint8_t	in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	uint8_t		out[sizeof in];
	char		hex[2 * sizeof in + 1];

	hex_encode(hex, in, sizeof in);
	assert_string_equal(hex, "00017f80abff");
	assert_int_equal(hex_decode(out, sizeof out, hex, strlen(hex)), 0);
	assert_memory_equal(out, in, sizeof in);

	assert_int_equal(hex_decode(out, 1, "AB", 2), -1);	/* uppercase */
	assert_int_equal(hex_decode(out, 1, "aB", 2), -1);
	assert_int_equal(hex_decode(out, 1, "abc", 3), -1);	/* odd length */
	assert_int_equal(hex_decode(out, 2, "abc", 3), -1);
	assert_int_equal(hex_decode(out, 1, "g0", 2), -1);	/* not hex */
	assert_int_equal(hex_decode(out, 2, "ab", 2), -1);	/* too short */
}

static void
test_base64_round_trip_lengths(void **state)
{
	uint8_t	 in[70], out[70];
	char	*b64;
	size_t	 len, i;

	for (i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(0xa5 ^ (i * 37));

	b64 = base64_encode(in, 0);
	assert_string_equal(b64, "");
	free(b64);
	assert_int_equal(base64_decode(out, 0, "", 0), 0);
	assert_int_equal(base64_decode(out, 0, "AA==", 4), -1);
	for (len = 1; len <= sizeof in; len++) {
		b64 = base64_encode(in, len);
		assert_int_equal(strlen(b64), 4 * ((len + 2) / 3));
		memset(out, 0, sizeof out);
		assert_int_equal(base64_decode(out, len, b64, strlen(b64)), 0);
		assert_memory_equal(out, in, len);
		/* Each length has one spelling: it does not decode as another. */
		if (len % 3 != 0)
			assert_int_equal(base64_decode(out, len + 1, b64,
			    strlen(b64)), -1);
		free(b64);
	}
	b64 = base64_encode((const uint8_t *)"Man", 3);
	assert_string_equal(b64, "TWFu");
	free(b64);
}

static void
test_base64_rejects_non_canonical(void **state)
{
	uint8_t	out[4];

	/* Sanity: the canonical spellings decode. */
	assert_int_equal(base64_decode(out, 1, "QQ==", 4), 0);
	assert_int_equal(out[0], 'A');
	assert_int_equal(base64_decode(out, 2, "QUI=", 4), 0);
	assert_int_equal(base64_decode(out, 3, "QUJD", 4), 0);

	/* Trailing bits set in the last character. */
	assert_int_equal(base64_decode(out, 1, "QR==", 4), -1);
	assert_int_equal(base64_decode(out, 1, "AB==", 4), -1);
	assert_int_equal(base64_decode(out, 2, "QUJ=", 4), -1);
	/* Bad or missing padding. */
	assert_int_equal(base64_decode(out, 1, "QQ", 2), -1);
	assert_int_equal(base64_decode(out, 1, "QQ=", 3), -1);
	assert_int_equal(base64_decode(out, 1, "QQ=A", 4), -1);
	assert_int_equal(base64_decode(out, 1, "Q===", 4), -1);
	assert_int_equal(base64_decode(out, 2, "QUI", 3), -1);
	assert_int_equal(base64_decode(out, 3, "QUJD====", 8), -1);
	/* Embedded newline or space, other alphabets. */
	assert_int_equal(base64_decode(out, 3, "QU\nD", 4), -1);
	assert_int_equal(base64_decode(out, 3, "QUJ\n", 4), -1);
	assert_int_equal(base64_decode(out, 3, "QU D", 4), -1);
	assert_int_equal(base64_decode(out, 3, "QU-D", 4), -1);
	assert_int_equal(base64_decode(out, 3, "QU_D", 4), -1);
	/* Wrong length for what the caller expects. */
	assert_int_equal(base64_decode(out, 2, "QQ==", 4), -1);
	assert_int_equal(base64_decode(out, 2, "QUJD", 4), -1);
	assert_int_equal(base64_decode(out, 4, "QUJD", 4), -1);
}

static void
test_keygen_pem_round_trip(void **state)
{
	struct privkey	*k = NULL, *back = NULL;
	struct pubkey	 a, b;
	struct error	 err;
	char		*pem = NULL;
	size_t		 len;

	error_clear(&err);
	assert_int_equal(privkey_generate(&k, &err), 0);
	assert_int_equal(privkey_to_pem(k, &pem, &len, &err), 0);
	assert_int_equal(strlen(pem), len);
	assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));
	assert_int_equal(privkey_from_pem(&back, pem, len, "key.pem", &err), 0);
	privkey_public(k, &a);
	privkey_public(back, &b);
	assert_memory_equal(a.raw, b.raw, ED25519_PUB_LEN);
	assert_string_equal(a.id, b.id);
	free(pem);
	privkey_free(k);
	privkey_free(back);
	privkey_free(NULL);
}

static void
test_pem_of_ec_key_refused(void **state)
{
	struct privkey	*k = NULL;
	struct error	 err;

	error_clear(&err);
	assert_int_equal(privkey_from_pem(&k, ec_pem, strlen(ec_pem), "ec.pem",
	    &err), SATCHEL_EINVALID);
	assert_null(k);
	assert_non_null(strstr(err.msg, "Ed25519"));
	assert_non_null(strstr(err.msg, "ec.pem"));
}

static void
test_pem_of_rsa_key_refused(void **state)
{
	struct privkey	*k = NULL;
	struct error	 err;
	char		 dir[] = "/tmp/satchel-test-crypto.XXXXXX", *cmd, *path;
	char		 pem[8192];
	size_t		 n;
	FILE		*f = NULL;
	int		 made;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/rsa.pem", dir);
	cmd = xasprintf("openssl genpkey -algorithm RSA "
	    "-pkeyopt rsa_keygen_bits:1024 -out '%s' 2>/dev/null", path);
	made = system(cmd) == 0 && (f = fopen(path, "r")) != NULL;
	n = 0;
	if (made) {
		n = fread(pem, 1, sizeof pem, f);
		fclose(f);
	}
	unlink(path);
	rmdir(dir);
	free(cmd);
	free(path);
	if (!made)
		skip();		/* no openssl(1) to make an RSA key with */

	error_clear(&err);
	assert_int_equal(privkey_from_pem(&k, pem, n, "rsa.pem", &err),
	    SATCHEL_EINVALID);
	assert_null(k);
	assert_non_null(strstr(err.msg, "Ed25519"));
}

static void
test_garbage_pem_refused(void **state)
{
	static const char	 garbage[] =
	    "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n"
	    "-----END PRIVATE KEY-----\n";
	struct privkey		*k = NULL;
	struct error		 err;

	error_clear(&err);
	assert_int_equal(privkey_from_pem(&k, garbage, strlen(garbage), "g.pem",
	    &err), SATCHEL_EINVALID);
	assert_null(k);
	assert_int_equal(privkey_from_pem(&k, "hello\n", 6, "g.pem", &err),
	    SATCHEL_EINVALID);
	assert_int_equal(privkey_from_pem(&k, "", 0, "g.pem", &err),
	    SATCHEL_EINVALID);
	assert_null(k);
}

static void
test_pubkey_parse(void **state)
{
	struct pubkey	 k;
	struct error	 err;
	uint8_t		 raw[ED25519_PUB_LEN], raw31[31];
	char		*b64, *line, *s;

	hex_to_bytes(raw, sizeof raw, RFC_PUBLIC);
	b64 = base64_encode(raw, sizeof raw);
	error_clear(&err);

	line = xasprintf("ed25519 %s", b64);
	assert_int_equal(pubkey_parse(&k, line, strlen(line), "k.pub", &err), 0);
	assert_memory_equal(k.raw, raw, sizeof raw);
	s = pubkey_format(&k);
	assert_string_equal(s, line);		/* format round trip */
	free(s);
	free(line);

	line = xasprintf("ed25519 %s alice@laptop 2024", b64);
	assert_int_equal(pubkey_parse(&k, line, strlen(line), "k.pub", &err), 0);
	assert_memory_equal(k.raw, raw, sizeof raw);
	free(line);

	line = xasprintf("rsa %s", b64);
	assert_int_equal(pubkey_parse(&k, line, strlen(line), "k.pub", &err),
	    SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "k.pub"));
	assert_non_null(strstr(err.msg, "rsa"));
	free(line);

	line = xasprintf("ed25519%s", b64);		/* missing space */
	assert_int_equal(pubkey_parse(&k, line, strlen(line), "k.pub", &err),
	    SATCHEL_EINVALID);
	free(line);
	free(b64);

	memset(raw31, 7, sizeof raw31);
	b64 = base64_encode(raw31, sizeof raw31);
	line = xasprintf("ed25519 %s", b64);		/* a 31-byte key */
	assert_int_equal(pubkey_parse(&k, line, strlen(line), "k.pub", &err),
	    SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "32-byte"));
	free(line);
	free(b64);

	assert_int_equal(pubkey_parse(&k, "ed25519 ", 8, "k.pub", &err),
	    SATCHEL_EINVALID);
}

static void
test_key_id_is_sha256_prefix(void **state)
{
	struct pubkey	k;
	uint8_t		raw[ED25519_PUB_LEN], h[SHA256_LEN];
	char		hex[SHA256_HEX_LEN + 1];

	hex_to_bytes(raw, sizeof raw, RFC_PUBLIC);
	pubkey_init(&k, raw);
	sha256(raw, sizeof raw, h);
	hex_encode(hex, h, sizeof h);
	assert_int_equal(strlen(k.id), KEYID_LEN);
	assert_memory_equal(k.id, hex, KEYID_LEN);
	assert_memory_equal(k.raw, raw, sizeof raw);
}

static void
test_sign_verify(void **state)
{
	static const char	 msg[] = "lesson 1: the alphabet";
	struct privkey		*k = NULL, *other = NULL;
	struct pubkey		 pub, otherpub;
	struct error		 err;
	uint8_t			 sig[ED25519_SIG_LEN], bad[ED25519_SIG_LEN];
	char			 flipped[sizeof msg];

	error_clear(&err);
	assert_int_equal(privkey_generate(&k, &err), 0);
	assert_int_equal(privkey_generate(&other, &err), 0);
	privkey_public(k, &pub);
	privkey_public(other, &otherpub);

	assert_int_equal(crypto_sign(k, SIG_DOMAIN_MANIFEST, msg, strlen(msg),
	    sig, &err), 0);
	assert_int_equal(crypto_verify(&pub, SIG_DOMAIN_MANIFEST, msg,
	    strlen(msg), sig), 0);

	/* Another key. */
	assert_int_equal(crypto_verify(&otherpub, SIG_DOMAIN_MANIFEST, msg,
	    strlen(msg), sig), SATCHEL_EVERIFY);
	/* One bit of the message. */
	memcpy(flipped, msg, sizeof msg);
	flipped[5] ^= 0x01;
	assert_int_equal(crypto_verify(&pub, SIG_DOMAIN_MANIFEST, flipped,
	    strlen(flipped), sig), SATCHEL_EVERIFY);
	/* One bit of the signature, at either end. */
	memcpy(bad, sig, sizeof bad);
	bad[0] ^= 0x01;
	assert_int_equal(crypto_verify(&pub, SIG_DOMAIN_MANIFEST, msg,
	    strlen(msg), bad), SATCHEL_EVERIFY);
	memcpy(bad, sig, sizeof bad);
	bad[ED25519_SIG_LEN - 1] ^= 0x40;
	assert_int_equal(crypto_verify(&pub, SIG_DOMAIN_MANIFEST, msg,
	    strlen(msg), bad), SATCHEL_EVERIFY);
	/* Domain separation: a manifest signature is not a trust signature. */
	assert_int_equal(crypto_verify(&pub, SIG_DOMAIN_TRUST, msg, strlen(msg),
	    sig), SATCHEL_EVERIFY);
	/* The 0 byte after the domain is part of what is signed: moving the
	 * boundary between domain and message does not verify. */
	assert_int_equal(crypto_verify(&pub, "SATCHEL-MANIFEST-SIG-V", msg,
	    strlen(msg), sig), SATCHEL_EVERIFY);

	privkey_free(k);
	privkey_free(other);
}

static void
test_rfc8032_test1_public_key(void **state)
{
	struct privkey	*k = privkey_from_seed(RFC_SECRET);
	struct pubkey	 pub;
	char		 hex[2 * ED25519_PUB_LEN + 1];

	privkey_public(k, &pub);
	hex_encode(hex, pub.raw, sizeof pub.raw);
	assert_string_equal(hex, RFC_PUBLIC);
	privkey_free(k);
}

/* The value of "NAME=" in the vector file (a '#' line is a comment). */
static char *
vector_get(const char *text, const char *name)
{
	const char	*p = text, *nl;
	size_t		 n = strlen(name);

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (*p != '#' && (size_t)(nl - p) > n && strncmp(p, name, n) == 0 &&
		    p[n] == '=')
			return xstrndup(p + n + 1, (size_t)(nl - p) - n - 1);
		p = *nl == '\n' ? nl + 1 : nl;
	}
	fail_msg("vector file has no \"%s=\" line", name);
	return NULL;
}

static void
test_domain_signature_vector(void **state)
{
	struct privkey	*k;
	struct pubkey	 pub;
	struct error	 err;
	uint8_t		 msg[64], sig[ED25519_SIG_LEN], want[ED25519_SIG_LEN];
	char		*text, *seed, *public, *domain, *msghex, *sighex;
	char		 hex[2 * ED25519_PUB_LEN + 1];
	size_t		 msglen;

	text = read_vector("sig-domain.txt", NULL);
	seed = vector_get(text, "key");
	public = vector_get(text, "public");
	domain = vector_get(text, "domain");
	msghex = vector_get(text, "message");
	sighex = vector_get(text, "signature");
	msglen = strlen(msghex) / 2;
	assert_true(msglen <= sizeof msg);
	hex_to_bytes(msg, msglen, msghex);
	hex_to_bytes(want, sizeof want, sighex);

	k = privkey_from_seed(seed);
	privkey_public(k, &pub);
	hex_encode(hex, pub.raw, sizeof pub.raw);
	assert_string_equal(hex, public);

	error_clear(&err);
	assert_int_equal(crypto_sign(k, domain, msg, msglen, sig, &err), 0);
	assert_memory_equal(sig, want, sizeof sig);
	assert_int_equal(crypto_verify(&pub, domain, msg, msglen, want), 0);
	assert_int_equal(crypto_verify(&pub, "Y", msg, msglen, want),
	    SATCHEL_EVERIFY);

	privkey_free(k);
	free(seed);
	free(public);
	free(domain);
	free(msghex);
	free(sighex);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_fips_vectors),
		cmocka_unit_test(test_sha256_streaming_matches_one_shot),
		cmocka_unit_test(test_hex_round_trip_and_rejects),
		cmocka_unit_test(test_base64_round_trip_lengths),
		cmocka_unit_test(test_base64_rejects_non_canonical),
		cmocka_unit_test(test_keygen_pem_round_trip),
		cmocka_unit_test(test_pem_of_ec_key_refused),
		cmocka_unit_test(test_pem_of_rsa_key_refused),
		cmocka_unit_test(test_garbage_pem_refused),
		cmocka_unit_test(test_pubkey_parse),
		cmocka_unit_test(test_key_id_is_sha256_prefix),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_rfc8032_test1_public_key),
		cmocka_unit_test(test_domain_signature_vector),
	};

	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
