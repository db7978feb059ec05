/*
 * test-catalog.c: the catalog (protocol/catalog.c): round trips, the
 * sorted entry list, checking against a trust policy, expiry, what the
 * strict parser refuses, and a catalog made by an independent signer
 * (protocol/vectors/catalog-*).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vectors.h"

#include "catalog.h"
#include "crypto.h"
#include "error.h"
#include "manifest.h"
#include "sigs.h"
#include "trust.h"
#include "util.h"

/*
 * The fixture: a catalog signed by the catalog key whose text is, line by
 * line:
 *	1 satchel-catalog 1
 *	2 serial 5
 *	3 issued 1000
 *	4 expires 2000
 *	5 bundle alpha 1 SHA(a) 10
 *	6 bundle beta 2 SHA(b) 20
 *	7 bundle gamma 3 SHA(c) 30
 *	8 end
 *	9 signature ed25519 CATALOGID ...
 * and a trust policy with that catalog key and the publisher key (a
 * publisher only, allowed every bundle).
 */
#define ISSUED	1000
#define EXPIRES	2000

struct fixture {
	struct privkey	*catalog, *publisher;
	struct pubkey	 catalogpub, publisherpub;
	struct trust	*trust;
	char		*text;		/* the catalog above */
	size_t		 len;
};

static struct privkey *
key_new(struct pubkey *pub)
{
	struct privkey	*k = NULL;
	struct error	 err;

	if (privkey_generate(&k, &err) != 0)
		fatal("%s", err.msg);
	privkey_public(k, pub);
	return k;
}

/* A digest filled with one byte, enough to tell entries apart. */
static void
digest_of(uint8_t out[SHA256_LEN], uint8_t byte)
{
	memset(out, byte, SHA256_LEN);
}

/* A policy trusting catalog (if not NULL) to sign catalogs and publisher
 * to publish anything; it is not signed, catalog_check does not ask. */
static struct trust *
trust_with(const struct pubkey *catalog, const struct pubkey *publisher)
{
	struct trust	*t = trust_new();

	if (catalog != NULL) {
		t->catalogs = xcalloc(1, sizeof *t->catalogs);
		t->catalogs[t->ncatalogs++] = *catalog;
	}
	if (publisher != NULL) {
		t->publishers = xcalloc(1, sizeof *t->publishers);
		t->publishers[0].key = *publisher;
		t->publishers[0].patterns = xcalloc(1, sizeof(char *));
		t->publishers[0].patterns[0] = xstrdup("*");
		t->publishers[0].npatterns = 1;
		t->npublishers = 1;
	}
	return t;
}

/* The fixture's three bundles, set out of order; unsigned. */
static struct catalog *
catalog_fixture(void)
{
	struct catalog	*c = catalog_new();
	uint8_t		 d[SHA256_LEN];

	c->serial = 5;
	c->issued = ISSUED;
	c->expires = EXPIRES;
	digest_of(d, 0xcc);
	catalog_set(c, "gamma", 3, d, 30);
	digest_of(d, 0xaa);
	catalog_set(c, "alpha", 1, d, 10);
	digest_of(d, 0xbb);
	catalog_set(c, "beta", 2, d, 20);
	return c;
}

static int
fixture_setup(void **state)
{
	struct fixture	*fx = xcalloc(1, sizeof *fx);
	struct catalog	*c;
	struct error	 err;

	fx->catalog = key_new(&fx->catalogpub);
	fx->publisher = key_new(&fx->publisherpub);
	fx->trust = trust_with(&fx->catalogpub, &fx->publisherpub);
	c = catalog_fixture();
	if (catalog_sign(c, fx->catalog, &err) != 0)
		fatal("%s", err.msg);
	catalog_encode(c, &fx->text, &fx->len);
	catalog_free(c);
	*state = fx;
	return 0;
}

static int
fixture_teardown(void **state)
{
	struct fixture	*fx = *state;

	privkey_free(fx->catalog);
	privkey_free(fx->publisher);
	trust_free(fx->trust);
	free(fx->text);
	free(fx);
	return 0;
}

/* text with its first occurrence of old replaced by new. */
static char *
replace(const char *text, const char *old, const char *new)
{
	const char	*at = strstr(text, old);

	if (at == NULL)
		fail_msg("\"%s\" not found in the catalog", old);
	return xasprintf("%.*s%s%s", (int)(at - text), text, new,
	    at + strlen(old));
}

static void
assert_msg_has(const struct error *err, const char *want)
{
	if (strstr(err->msg, want) == NULL)
		fail_msg("message \"%s\" does not contain \"%s\"", err->msg, want);
}

static void
assert_parse_fails_len(const char *text, size_t len, int code,
    const char *want)
{
	struct catalog	*c = NULL;
	struct error	 err;

	error_clear(&err);
	assert_int_equal(catalog_parse(&c, text, len, "CATALOG", &err), code);
	assert_null(c);
	assert_int_equal(err.code, code);
	assert_msg_has(&err, want);
}

static void
assert_parse_fails(const char *text, int code, const char *want)
{
	assert_parse_fails_len(text, strlen(text), code, want);
}

static struct catalog *
parse_ok(const char *text, size_t len)
{
	struct catalog	*c = NULL;
	struct error	 err;

	error_clear(&err);
	if (catalog_parse(&c, text, len, "CATALOG", &err) != 0)
		fail_msg("catalog_parse: %s", err.msg);
	return c;
}

/* A body (no signature) with the given lines after the header; for
 * parser refusals that come before any signature matters. */
static char *
body_with(const char *serial, const char *issued, const char *expires,
    const char *bundles)
{
	return xasprintf("satchel-catalog 1\nserial %s\nissued %s\nexpires %s\n"
	    "%send\n", serial, issued, expires, bundles);
}

/* "bundle NAME SERIAL HEX SIZE\n" with a digest of one repeated byte. */
static char *
bundle_line(const char *name, const char *serial, const char *size)
{
	uint8_t	d[SHA256_LEN];
	char	hex[SHA256_HEX_LEN + 1];

	digest_of(d, 0x5a);
	hex_encode(hex, d, SHA256_LEN);
	return xasprintf("bundle %s %s %s %s\n", name, serial, hex, size);
}

static void
test_new_is_empty_with_serial_0(void **state)
{
	struct catalog	*c = catalog_new();
	struct error	 err;
	char		*text;
	size_t		 len;

	assert_int_equal(c->serial, 0);
	assert_int_equal(c->issued, 0);
	assert_int_equal(c->expires, 0);
	assert_int_equal(c->n, 0);
	assert_int_equal(c->sigs.n, 0);
	/* Serial 0 encodes (a store with nothing published) ... */
	catalog_encode(c, &text, &len);
	assert_string_equal(text,
	    "satchel-catalog 1\nserial 0\nissued 0\nexpires 0\nend\n");
	assert_int_equal(len, strlen(text));
	/* ... but is never read back, nor signed. */
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:2: serial");
	error_clear(&err);
	assert_int_equal(catalog_sign(c, NULL, &err), SATCHEL_EINVALID);
	assert_msg_has(&err, "serial must be at least 1");
	assert_int_equal(c->sigs.n, 0);
	free(text);
	catalog_free(c);
	catalog_free(NULL);
}

static void
test_round_trip(void **state)
{
	struct fixture	*fx = *state;
	struct catalog	*c = catalog_fixture(), *back;
	struct error	 err;
	char		*text, *again, *want, hex[3][SHA256_HEX_LEN + 1];
	uint8_t		 d[SHA256_LEN];
	size_t		 len, len2, i;

	/* Set out of order, kept in order. */
	assert_int_equal(c->n, 3);
	assert_string_equal(c->v[0].name, "alpha");
	assert_string_equal(c->v[1].name, "beta");
	assert_string_equal(c->v[2].name, "gamma");

	error_clear(&err);
	assert_int_equal(catalog_sign(c, fx->catalog, &err), 0);
	assert_int_equal(c->sigs.n, 1);
	assert_string_equal(c->sigs.v[0].keyid, fx->catalogpub.id);
	catalog_encode(c, &text, &len);
	assert_int_equal(strlen(text), len);

	/* The exact text of the format. */
	for (i = 0; i < 3; i++) {
		digest_of(d, (uint8_t)(0xaa + 0x11 * i));
		hex_encode(hex[i], d, SHA256_LEN);
	}
	want = xasprintf("satchel-catalog 1\nserial 5\nissued 1000\n"
	    "expires 2000\nbundle alpha 1 %s 10\nbundle beta 2 %s 20\n"
	    "bundle gamma 3 %s 30\nend\nsignature ed25519 %s ", hex[0], hex[1],
	    hex[2], fx->catalogpub.id);
	assert_int_equal(strncmp(text, want, strlen(want)), 0);
	assert_int_equal(len, strlen(want) + 88 + 1);
	free(want);

	back = parse_ok(text, len);
	assert_int_equal(back->serial, 5);
	assert_int_equal(back->issued, ISSUED);
	assert_int_equal(back->expires, EXPIRES);
	assert_int_equal(back->n, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(back->v[i].name, c->v[i].name);
		assert_int_equal(back->v[i].serial, c->v[i].serial);
		assert_memory_equal(back->v[i].manifest_sha256,
		    c->v[i].manifest_sha256, SHA256_LEN);
		assert_int_equal(back->v[i].size, c->v[i].size);
	}
	assert_int_equal(back->sigs.n, 1);
	assert_string_equal(back->sigs.v[0].keyid, fx->catalogpub.id);
	assert_memory_equal(back->sigs.v[0].sig, c->sigs.v[0].sig,
	    ED25519_SIG_LEN);

	catalog_encode(back, &again, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(again, text, len);
	/* The fixture was made the same way: Ed25519 is deterministic. */
	assert_int_equal(fx->len, len);
	assert_memory_equal(fx->text, text, len);

	free(text);
	free(again);
	catalog_free(c);
	catalog_free(back);
}

static void
test_empty_catalog_round_trip(void **state)
{
	struct fixture	*fx = *state;
	struct catalog	*c = catalog_new(), *back;
	struct error	 err;
	char		*text;
	size_t		 len;

	c->serial = 1;
	c->issued = 0;
	c->expires = 1;
	error_clear(&err);
	assert_int_equal(catalog_sign(c, fx->catalog, &err), 0);
	catalog_encode(c, &text, &len);
	back = parse_ok(text, len);
	assert_int_equal(back->n, 0);
	assert_int_equal(back->issued, 0);
	assert_null(catalog_find(back, "alpha"));
	assert_int_equal(catalog_check(back, fx->trust, 0, 0, "CATALOG", &err),
	    0);
	free(text);
	catalog_free(c);
	catalog_free(back);
}

static void
test_set_replaces_entry(void **state)
{
	struct catalog			*c = catalog_fixture();
	const struct catalog_entry	*e;
	uint8_t				 d[SHA256_LEN], old[SHA256_LEN];

	digest_of(old, 0xaa);
	digest_of(d, 0x42);
	catalog_set(c, "beta", 9, d, 99);
	assert_int_equal(c->n, 3);
	assert_non_null(e = catalog_find(c, "beta"));
	assert_ptr_equal(e, &c->v[1]);
	assert_int_equal(e->serial, 9);
	assert_int_equal(e->size, 99);
	assert_memory_equal(e->manifest_sha256, d, SHA256_LEN);
	/* The neighbours are untouched. */
	assert_string_equal(c->v[0].name, "alpha");
	assert_int_equal(c->v[0].serial, 1);
	assert_memory_equal(c->v[0].manifest_sha256, old, SHA256_LEN);
	assert_string_equal(c->v[2].name, "gamma");
	assert_int_equal(c->v[2].serial, 3);

	/* New names go in their place: first, middle and last. */
	catalog_set(c, "0-first", 1, d, 1);
	catalog_set(c, "delta", 1, d, 1);
	catalog_set(c, "zeta", 1, d, 1);
	assert_int_equal(c->n, 6);
	assert_string_equal(c->v[0].name, "0-first");
	assert_string_equal(c->v[1].name, "alpha");
	assert_string_equal(c->v[2].name, "beta");
	assert_string_equal(c->v[3].name, "delta");
	assert_string_equal(c->v[4].name, "gamma");
	assert_string_equal(c->v[5].name, "zeta");
	catalog_free(c);
}

static void
test_find(void **state)
{
	struct catalog			*c = catalog_fixture(), *empty;
	const struct catalog_entry	*e;

	assert_non_null(e = catalog_find(c, "alpha"));
	assert_string_equal(e->name, "alpha");
	assert_int_equal(e->serial, 1);
	assert_non_null(e = catalog_find(c, "gamma"));
	assert_int_equal(e->size, 30);
	assert_null(catalog_find(c, "delta"));
	assert_null(catalog_find(c, "alph"));
	assert_null(catalog_find(c, "zzz"));
	assert_null(catalog_find(c, ""));
	/* An empty catalog has a NULL array: no bsearch on it (UBSan). */
	empty = catalog_new();
	assert_null(empty->v);
	assert_null(catalog_find(empty, "alpha"));
	catalog_free(empty);
	catalog_free(c);
}

static void
test_check_ok_with_catalog_key(void **state)
{
	struct fixture	*fx = *state;
	struct catalog	*c = parse_ok(fx->text, fx->len);
	struct error	 err;

	error_clear(&err);
	assert_int_equal(catalog_check(c, fx->trust, ISSUED, 0, "CATALOG",
	    &err), 0);
	assert_int_equal(catalog_check(c, fx->trust, EXPIRES - 1, 0, "CATALOG",
	    &err), 0);
	catalog_free(c);
}

static void
test_check_refuses_publisher_key(void **state)
{
	struct fixture	*fx = *state;
	struct catalog	*c = catalog_fixture();
	struct error	 err;
	char		*want;

	/* Signed by a key the policy trusts, but only to publish. */
	error_clear(&err);
	assert_int_equal(catalog_sign(c, fx->publisher, &err), 0);
	assert_int_equal(catalog_check(c, fx->trust, ISSUED, 0, "CATALOG",
	    &err), SATCHEL_EVERIFY);
	want = xasprintf("CATALOG: not signed by a catalog key of the trust "
	    "policy (signed by: %s)", fx->publisherpub.id);
	assert_string_equal(err.msg, want);
	free(want);
	/* Nor does allow_expired let it through. */
	assert_int_equal(catalog_check(c, fx->trust, ISSUED, 1, "CATALOG",
	    &err), SATCHEL_EVERIFY);
	catalog_free(c);
}

static void
test_check_refuses_unsigned(void **state)
{
	struct fixture	*fx = *state;
	struct catalog	*c = catalog_fixture();
	struct trust	*none = trust_with(NULL, &fx->publisherpub);
	struct error	 err;

	error_clear(&err);
	assert_int_equal(catalog_check(c, fx->trust, ISSUED, 0, "CATALOG",
	    &err), SATCHEL_EVERIFY);
	assert_string_equal(err.msg, "CATALOG: not signed by a catalog key of "
	    "the trust policy (signed by: nobody)");
	/* Signed, but the policy has no catalog key at all. */
	assert_int_equal(catalog_sign(c, fx->catalog, &err), 0);
	assert_int_equal(catalog_check(c, none, ISSUED, 0, "CATALOG", &err),
	    SATCHEL_EVERIFY);
	assert_msg_has(&err, "not signed by a catalog key");
	trust_free(none);
	catalog_free(c);
}

static void
test_check_flipped_body_byte(void **state)
{
	struct fixture	*fx = *state;
	struct catalog	*c;
	struct error	 err;
	char		*text, *want;

	/* Still well formed: only the signature stops matching. */
	text = replace(fx->text, "bundle beta 2 ", "bundle beta 3 ");
	c = parse_ok(text, strlen(text));
	error_clear(&err);
	assert_int_equal(catalog_check(c, fx->trust, ISSUED, 0, "CATALOG",
	    &err), SATCHEL_EVERIFY);
	want = xasprintf("CATALOG: the signature by catalog key %s does not "
	    "verify", fx->catalogpub.id);
	assert_string_equal(err.msg, want);
	catalog_free(c);
	free(text);

	/* And a change to the header fields. */
	text = replace(fx->text, "expires 2000\n", "expires 9000\n");
	c = parse_ok(text, strlen(text));
	assert_int_equal(catalog_check(c, fx->trust, ISSUED, 1, "CATALOG",
	    &err), SATCHEL_EVERIFY);
	assert_string_equal(err.msg, want);
	catalog_free(c);
	free(text);
	free(want);
}

static void
test_check_expired(void **state)
{
	struct fixture	*fx = *state;
	struct catalog	*c = catalog_fixture();
	struct error	 err;

	c->issued = 1764322680;
	c->expires = 1764927480;	/* date -u -d @1764927480 */
	error_clear(&err);
	assert_int_equal(catalog_sign(c, fx->catalog, &err), 0);
	assert_int_equal(catalog_check(c, fx->trust, 1764927479, 0, "CATALOG",
	    &err), 0);
	/* now == expires counts as expired. */
	assert_int_equal(catalog_check(c, fx->trust, 1764927480, 0, "CATALOG",
	    &err), SATCHEL_EINVALID);
	assert_string_equal(err.msg, "CATALOG: catalog serial 5 expired at "
	    "2025-12-05 09:38:00 UTC");
	assert_int_equal(catalog_check(c, fx->trust, 1764927480 + 86400, 0,
	    "CATALOG", &err), SATCHEL_EINVALID);
	/* Unless expired catalogs are allowed. */
	error_clear(&err);
	assert_int_equal(catalog_check(c, fx->trust, 1764927480 + 86400, 1,
	    "CATALOG", &err), 0);
	catalog_free(c);
}

static void
test_sign_replaces_signatures(void **state)
{
	struct fixture	*fx = *state;
	struct catalog	*c = catalog_fixture();
	struct error	 err;
	char		*body;
	size_t		 len;

	error_clear(&err);
	assert_int_equal(catalog_sign(c, fx->publisher, &err), 0);
	assert_int_equal(catalog_sign(c, fx->catalog, &err), 0);
	assert_int_equal(c->sigs.n, 1);
	assert_string_equal(c->sigs.v[0].keyid, fx->catalogpub.id);
	catalog_encode_body(c, &body, &len);
	assert_int_equal(sigs_check(&c->sigs, &fx->catalogpub,
	    SIG_DOMAIN_CATALOG, body, len), 0);
	/* Not replayable as a trust policy signature (domain separation). */
	assert_int_equal(sigs_check(&c->sigs, &fx->catalogpub,
	    SIG_DOMAIN_TRUST, body, len), SATCHEL_EVERIFY);
	free(body);

	/* A catalog nobody could load is refused, the signature kept. */
	c->expires = c->issued;
	assert_int_equal(catalog_sign(c, fx->publisher, &err),
	    SATCHEL_EINVALID);
	assert_msg_has(&err, "not after issued");
	assert_int_equal(c->sigs.n, 1);
	assert_string_equal(c->sigs.v[0].keyid, fx->catalogpub.id);
	catalog_free(c);
}

static void
test_refuses_bad_header(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	text = replace(fx->text, "satchel-catalog 1\n", "satchel-catalog 2\n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:1: expected the header \"satchel-catalog 1\"");
	free(text);
	text = replace(fx->text, "satchel-catalog 1\n", "satchel-trust 1\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:1: expected the "
	    "header");
	free(text);
	assert_parse_fails("", SATCHEL_EINVALID,
	    "CATALOG:1: missing the \"end\" line");
}

static void
test_refuses_serial_0(void **state)
{
	struct fixture	*fx = *state;
	char		*text = replace(fx->text, "serial 5\n", "serial 0\n");

	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:2: serial: "
	    "expected a decimal number from 1 up, without leading zeros");
	free(text);
	text = replace(fx->text, "serial 5\n", "serial\n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:2: expected \"serial N\"");
	free(text);
	text = replace(fx->text, "serial 5\n", "issued 5\n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:2: expected \"serial N\"");
	free(text);
}

static void
test_refuses_leading_zeros(void **state)
{
	struct fixture	*fx = *state;
	char		*text, *b;

	text = replace(fx->text, "serial 5\n", "serial 05\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:2: serial: "
	    "expected a decimal number from 1 up, without leading zeros");
	free(text);
	text = replace(fx->text, "issued 1000\n", "issued 01000\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:3: issued: "
	    "expected seconds since 1970");
	free(text);
	text = replace(fx->text, "expires 2000\n", "expires 02000\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:4: expires: "
	    "expected seconds since 1970");
	free(text);
	text = replace(fx->text, "bundle alpha 1 ", "bundle alpha 01 ");
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:5: bundle alpha: "
	    "serial: expected a decimal number from 1 to 2^63-1, without "
	    "leading zeros");
	free(text);
	text = replace(fx->text, " 20\n", " 020\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:6: bundle beta: "
	    "size: expected a decimal number of bytes, without leading zeros");
	free(text);
	/* Serial 0 of a bundle, and a negative time, are refused too. */
	b = bundle_line("alpha", "0", "1");
	text = body_with("1", "0", "1", b);
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:5: bundle alpha: "
	    "serial");
	free(text);
	free(b);
	text = body_with("1", "-1", "1", "");
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:3: issued:");
	free(text);
	/* 0 itself is not a leading zero: issued may be 0. */
	text = body_with("1", "0", "1", "");
	{
		struct catalog	*c = parse_ok(text, strlen(text));

		assert_int_equal(c->issued, 0);
		assert_int_equal(c->expires, 1);
		assert_int_equal(c->sigs.n, 0);
		catalog_free(c);
	}
	free(text);
}

static void
test_refuses_expires_not_after_issued(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	text = replace(fx->text, "expires 2000\n", "expires 1000\n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:4: expires: 1000 is not after issued 1000");
	free(text);
	text = replace(fx->text, "expires 2000\n", "expires 999\n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:4: expires: 999 is not after issued 1000");
	free(text);
	/* The lines in their order only. */
	text = replace(fx->text, "issued 1000\nexpires 2000\n",
	    "expires 2000\nissued 1000\n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:3: expected \"issued T\"");
	free(text);
}

static void
test_refuses_invalid_bundle_name(void **state)
{
	struct fixture	*fx = *state;
	char		*text, *b, name[BUNDLE_NAME_MAX + 2];

	text = replace(fx->text, "bundle alpha ", "bundle Alpha ");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:5: bundle: name \"Alpha\" is not a-z 0-9 and '-'");
	free(text);
	text = replace(fx->text, "bundle alpha ", "bundle -alpha ");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:5: bundle: name \"-alpha\"");
	free(text);
	text = replace(fx->text, "bundle alpha ", "bundle al/pha ");
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:5: bundle: name");
	free(text);
	/* 64 characters: one too many. */
	memset(name, 'a', BUNDLE_NAME_MAX + 1);
	name[BUNDLE_NAME_MAX + 1] = '\0';
	b = bundle_line(name, "1", "1");
	text = body_with("1", "0", "1", b);
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:5: bundle: name is longer than 63 characters");
	free(text);
	free(b);
	/* A field too few or too many. */
	text = replace(fx->text, " 10\n", "\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:5: bundle: "
	    "expected \"bundle NAME SERIAL SHA256 SIZE\"");
	free(text);
	text = replace(fx->text, " 10\n", " 10 x\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:5: bundle: "
	    "expected \"bundle NAME SERIAL SHA256 SIZE\"");
	free(text);
	/* Spacing and line kinds. */
	text = replace(fx->text, "bundle alpha 1 ", "bundle alpha  1 ");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:5: stray space in column 14");
	free(text);
	text = replace(fx->text, "bundle alpha 1 ", "bundle\talpha 1 ");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:5: control character or non-ASCII byte in column 7");
	free(text);
	text = replace(fx->text, "bundle alpha ", "bundles alpha ");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:5: unknown line (expected bundle or end)");
	free(text);
}

static void
test_refuses_unsorted_bundles(void **state)
{
	char	*a = bundle_line("alpha", "1", "1");
	char	*b = bundle_line("beta", "1", "1");
	char	*d = bundle_line("2024", "1", "1");
	char	*lines, *text;

	lines = xasprintf("%s%s", b, a);
	text = body_with("1", "0", "1", lines);
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:6: bundles not sorted by name (at bundle alpha)");
	free(text);
	free(lines);
	/* Bytewise: digits come before letters. */
	lines = xasprintf("%s%s", a, d);
	text = body_with("1", "0", "1", lines);
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:6: bundles not sorted by name (at bundle 2024)");
	free(text);
	free(lines);
	free(a);
	free(b);
	free(d);
}

static void
test_refuses_duplicate_bundle(void **state)
{
	char	*a = bundle_line("alpha", "1", "1");
	char	*a2 = bundle_line("alpha", "2", "1");
	char	*lines = xasprintf("%s%s", a, a2);
	char	*text = body_with("1", "0", "1", lines);

	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:6: duplicate bundle alpha");
	free(text);
	free(lines);
	free(a);
	free(a2);
}

static void
test_refuses_bad_sha256(void **state)
{
	struct fixture	*fx = *state;
	char		*text, *upper, *at;
	const char	*want = "CATALOG:5: bundle alpha: sha256: expected 64 "
	    "lowercase hex digits";

	/* 63 hex digits. */
	text = replace(fx->text, "aaaaaaaa 10\n", "aaaaaaa 10\n");
	assert_parse_fails(text, SATCHEL_EINVALID, want);
	free(text);
	/* 65. */
	text = replace(fx->text, "aaaaaaaa 10\n", "aaaaaaaaa 10\n");
	assert_parse_fails(text, SATCHEL_EINVALID, want);
	free(text);
	/* Uppercase. */
	upper = xstrdup(fx->text);
	at = strstr(upper, "aaaaaaaa 10\n");
	assert_non_null(at);
	at[0] = 'A';
	assert_parse_fails(upper, SATCHEL_EINVALID, want);
	free(upper);
	/* Not hex. */
	text = replace(fx->text, "aaaaaaaa 10\n", "aaaaaaag 10\n");
	assert_parse_fails(text, SATCHEL_EINVALID, want);
	free(text);
}

static void
test_refuses_size_over_limit(void **state)
{
	char		*b, *text, *size;
	struct catalog	*c;

	/* The limit itself is fine ... */
	size = xasprintf("%llu", (unsigned long long)MANIFEST_TOTAL_MAX);
	b = bundle_line("alpha", "1", size);
	text = body_with("1", "0", "1", b);
	c = parse_ok(text, strlen(text));
	assert_int_equal(c->v[0].size, MANIFEST_TOTAL_MAX);
	catalog_free(c);
	free(text);
	free(b);
	free(size);
	/* ... one more byte is not. */
	size = xasprintf("%llu", (unsigned long long)MANIFEST_TOTAL_MAX + 1);
	b = bundle_line("alpha", "1", size);
	text = body_with("1", "0", "1", b);
	assert_parse_fails(text, SATCHEL_ELIMIT, "CATALOG:5: bundle alpha: "
	    "size: 1099511627777 is more than the 1099511627776 bytes");
	free(text);
	free(b);
	free(size);
	/* Past 2^64 is not a number at all. */
	b = bundle_line("alpha", "1", "18446744073709551616");
	text = body_with("1", "0", "1", b);
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:5: bundle alpha: "
	    "size: expected a decimal number");
	free(text);
	free(b);
}

static void
test_refuses_missing_end(void **state)
{
	struct fixture	*fx = *state;
	char		*text = xstrdup(fx->text);

	/* Cut the text just before "end\n". */
	*strstr(text, "end\n") = '\0';
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:8: missing the \"end\" line");
	free(text);
	text = replace(fx->text, "end\n", "end \n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:8: stray space in column 4");
	free(text);
	text = replace(fx->text, "end\n", "end now\n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:8: end: expected \"end\" alone");
	free(text);
}

static void
test_refuses_text_after_end(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	text = replace(fx->text, "end\n", "end\nhello\n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:9: expected \"signature ed25519 KEYID BASE64\"");
	free(text);
	/* After the signature, on line 10. */
	text = xasprintf("%send\n", fx->text);
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:10: expected \"signature ed25519 KEYID BASE64\"");
	free(text);
	/* A second body is not a signature either. */
	text = xasprintf("%s%s", fx->text, fx->text);
	assert_parse_fails(text, SATCHEL_EINVALID, "CATALOG:10: expected");
	free(text);
}

static void
test_refuses_missing_final_newline(void **state)
{
	struct fixture	*fx = *state;
	char		*text = xstrdup(fx->text);

	/* In the body ... */
	strcpy(strstr(text, "end\n"), "end");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "CATALOG:8: line without a final newline");
	free(text);
	/* ... and on the signature line. */
	assert_parse_fails_len(fx->text, fx->len - 1, SATCHEL_EINVALID,
	    "CATALOG:9: signature line without a final newline");
}

static void
test_refuses_over_catalog_max(void **state)
{
	struct catalog	*c = NULL;
	struct error	 err;
	char		*big = xcalloc(1, CATALOG_MAX + 2);

	/* A valid start: only the size is wrong, and it is checked first. */
	memset(big, 'x', CATALOG_MAX + 1);
	memcpy(big, "satchel-catalog 1\n", 18);
	error_clear(&err);
	assert_int_equal(catalog_parse(&c, big, CATALOG_MAX + 1, "CATALOG",
	    &err), SATCHEL_ELIMIT);
	assert_null(c);
	assert_string_equal(err.msg, "CATALOG: catalog larger than 16777216 "
	    "bytes");
	free(big);
}

static void
test_refuses_too_many_bundles(void **state)
{
	struct buf	 b;
	char		*line, *text, name[16];
	size_t		 i;

	buf_init(&b);
	line = bundle_line("b0000000", "1", "1");
	for (i = 0; i <= CATALOG_BUNDLES_MAX; i++) {
		snprintf(name, sizeof name, "b%07zu", i);
		memcpy(line + 7, name, 8);	/* "bundle " NAME */
		buf_addstr(&b, line);
	}
	text = body_with("1", "0", "1", b.data);
	assert_true(strlen(text) < CATALOG_MAX);
	assert_parse_fails(text, SATCHEL_ELIMIT,
	    "CATALOG:100005: more than 100000 bundles");
	free(text);
	free(line);
	buf_free(&b);
}

static void
test_vector_catalog(void **state)
{
	struct catalog			*c;
	const struct catalog_entry	*e;
	struct privkey			*key = NULL;
	struct pubkey			 pub;
	struct trust			*t;
	struct error			 err;
	char				*text, *pem, *again, *manifest, hex[65];
	uint8_t				 d[SHA256_LEN];
	size_t				 len, pemlen, len2, mlen;

	text = read_vector("catalog-valid.catalog", &len);
	pem = read_vector("catalog-key.pem", &pemlen);
	c = parse_ok(text, len);
	assert_int_equal(c->serial, 7);
	assert_int_equal(c->issued, 1764322680);
	assert_int_equal(c->expires, 1764927480);
	assert_int_equal(c->n, 3);
	assert_string_equal(c->v[0].name, "2024-maths");
	assert_int_equal(c->v[0].size, MANIFEST_TOTAL_MAX);
	hex_encode(hex, c->v[0].manifest_sha256, SHA256_LEN);
	assert_string_equal(hex, "21f756334f093714db3b931e2463c5bf"
	    "c6865e4261f37231591b775222d2203a");
	assert_string_equal(c->v[2].name, "literacy-basics");
	assert_int_equal(c->v[2].serial, 12);
	assert_int_equal(c->v[2].size, 104857600);

	/* "demo" pins the manifest vector, byte for byte. */
	assert_non_null(e = catalog_find(c, "demo"));
	assert_int_equal(e->serial, 3);
	assert_int_equal(e->size, 9);
	manifest = read_vector("manifest-minimal.txt", &mlen);
	sha256(manifest, mlen, d);
	assert_memory_equal(e->manifest_sha256, d, SHA256_LEN);
	free(manifest);

	/* Signed by the key in catalog-key.pem, valid under a policy that
	 * lists it as a catalog key, until it expires. */
	error_clear(&err);
	assert_int_equal(privkey_from_pem(&key, pem, pemlen, "catalog-key.pem",
	    &err), 0);
	privkey_public(key, &pub);
	assert_string_equal(pub.id, "c11ca071f3b8a147");
	assert_int_equal(c->sigs.n, 1);
	assert_string_equal(c->sigs.v[0].keyid, pub.id);
	t = trust_with(&pub, NULL);
	assert_int_equal(catalog_check(c, t, 1764322680, 0, "catalog-valid",
	    &err), 0);
	assert_int_equal(catalog_check(c, t, 1764927480, 0, "catalog-valid",
	    &err), SATCHEL_EINVALID);
	assert_string_equal(err.msg, "catalog-valid: catalog serial 7 expired "
	    "at 2025-12-05 09:38:00 UTC");
	assert_int_equal(catalog_check(c, t, 1764927480, 1, "catalog-valid",
	    &err), 0);
	trust_free(t);
	/* A publisher-only policy with the same key does not accept it. */
	t = trust_with(NULL, &pub);
	assert_int_equal(catalog_check(c, t, 1764322680, 0, "catalog-valid",
	    &err), SATCHEL_EVERIFY);
	trust_free(t);

	/* Our encoder writes the independent signer's file byte for byte,
	 * and Ed25519 being deterministic, re-signing changes nothing. */
	catalog_encode(c, &again, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(again, text, len);
	free(again);
	assert_int_equal(catalog_sign(c, key, &err), 0);
	catalog_encode(c, &again, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(again, text, len);
	free(again);

	catalog_free(c);
	privkey_free(key);
	free(text);
	free(pem);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_new_is_empty_with_serial_0),
		T(test_round_trip),
		T(test_empty_catalog_round_trip),
		T(test_set_replaces_entry),
		T(test_find),
		T(test_check_ok_with_catalog_key),
		T(test_check_refuses_publisher_key),
		T(test_check_refuses_unsigned),
		T(test_check_flipped_body_byte),
		T(test_check_expired),
		T(test_sign_replaces_signatures),
		T(test_refuses_bad_header),
		T(test_refuses_serial_0),
		T(test_refuses_leading_zeros),
		T(test_refuses_expires_not_after_issued),
		T(test_refuses_invalid_bundle_name),
		T(test_refuses_unsorted_bundles),
		T(test_refuses_duplicate_bundle),
		T(test_refuses_bad_sha256),
		T(test_refuses_size_over_limit),
		T(test_refuses_missing_end),
		T(test_refuses_text_after_end),
		T(test_refuses_missing_final_newline),
		T(test_refuses_over_catalog_max),
		T(test_refuses_too_many_bundles),
		T(test_vector_catalog),
	};
#undef T

	return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
