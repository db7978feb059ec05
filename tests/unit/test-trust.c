/*
 * test-trust.c: the trust policy (protocol/trust.c): round trips, root
 * thresholds, publisher scopes, what the strict parser refuses, re-signing,
 * a policy made by an independent signer (protocol/vectors/trust-*), and
 * when a policy may succeed another (trust_check_successor).
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

#include "crypto.h"
#include "error.h"
#include "sigs.h"
#include "trust.h"
#include "util.h"

/*
 * The fixture: keys sorted by id within each role, and a policy signed by
 * root[0] whose text is, line by line:
 *	1 satchel-trust 1
 *	2 serial 1
 *	3 threshold 1
 *	4 root ROOT0
 *	5 root ROOT1
 *	6 catalog CATALOG
 *	7 publisher PUBLISHER literacy-* calli?raphy-basics
 *	8 end
 *	9 signature ed25519 ROOT0ID ...
 */
#define NROOTS	3

struct fixture {
	struct privkey	*root[NROOTS];
	struct pubkey	 rootpub[NROOTS];	/* sorted by id */
	struct privkey	*catalog, *publisher, *outsider;
	struct pubkey	 catalogpub, publisherpub, outsiderpub;
	char		*text;			/* the policy above */
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

static void
publisher_add(struct trust *t, const struct pubkey *key, const char **patterns,
    size_t n)
{
	struct trust_publisher	*p;
	size_t			 i;

	t->publishers = xreallocarray(t->publishers, t->npublishers + 1,
	    sizeof *t->publishers);
	p = &t->publishers[t->npublishers++];
	p->key = *key;
	p->npatterns = n;
	p->patterns = xcalloc(n, sizeof *p->patterns);
	for (i = 0; i < n; i++)
		p->patterns[i] = xstrdup(patterns[i]);
}

/* root[0..nroots) as roots, the catalog key, the publisher key with the
 * two patterns of the brief; unsigned. */
static struct trust *
policy_new(struct fixture *fx, size_t nroots, unsigned threshold)
{
	static const char	*patterns[] = { "literacy-*", "calli?raphy-basics" };
	struct trust		*t = trust_new();
	size_t			 i;

	t->threshold = threshold;
	t->roots = xcalloc(nroots, sizeof *t->roots);
	for (i = 0; i < nroots; i++)
		t->roots[t->nroots++] = fx->rootpub[i];
	t->catalogs = xcalloc(1, sizeof *t->catalogs);
	t->catalogs[t->ncatalogs++] = fx->catalogpub;
	publisher_add(t, &fx->publisherpub, patterns, 2);
	return t;
}

static int
pubkey_id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pubkey *)a)->id,
	    ((const struct pubkey *)b)->id);
}

static int
fixture_setup(void **state)
{
	struct fixture	*fx = xcalloc(1, sizeof *fx);
	struct trust	*t;
	struct error	 err;
	size_t		 i, j;

	for (i = 0; i < NROOTS; i++)
		fx->root[i] = key_new(&fx->rootpub[i]);
	/* Sort the roots (and their private keys along) by key id. */
	for (i = 1; i < NROOTS; i++) {
		for (j = i; j > 0 && pubkey_id_cmp(&fx->rootpub[j - 1],
		    &fx->rootpub[j]) > 0; j--) {
			struct pubkey	 p = fx->rootpub[j];
			struct privkey	*k = fx->root[j];

			fx->rootpub[j] = fx->rootpub[j - 1];
			fx->root[j] = fx->root[j - 1];
			fx->rootpub[j - 1] = p;
			fx->root[j - 1] = k;
		}
	}
	fx->catalog = key_new(&fx->catalogpub);
	fx->publisher = key_new(&fx->publisherpub);
	fx->outsider = key_new(&fx->outsiderpub);

	t = policy_new(fx, 2, 1);
	if (trust_sign(t, fx->root[0], &err) != 0)
		fatal("%s", err.msg);
	trust_encode(t, &fx->text, &fx->len);
	trust_free(t);
	*state = fx;
	return 0;
}

static int
fixture_teardown(void **state)
{
	struct fixture	*fx = *state;
	size_t		 i;

	for (i = 0; i < NROOTS; i++)
		privkey_free(fx->root[i]);
	privkey_free(fx->catalog);
	privkey_free(fx->publisher);
	privkey_free(fx->outsider);
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
		fail_msg("\"%s\" not found in the policy", old);
	return xasprintf("%.*s%s%s", (int)(at - text), text, new,
	    at + strlen(old));
}

/* Line n (1-based) of text, with its newline; caller frees. */
static char *
line_of(const char *text, unsigned n)
{
	const char	*p = text, *nl;

	while (--n > 0) {
		if ((p = strchr(p, '\n')) == NULL)
			fail_msg("the policy has too few lines");
		p++;
	}
	if ((nl = strchr(p, '\n')) == NULL)
		fail_msg("the policy has too few lines");
	return xstrndup(p, (size_t)(nl - p + 1));
}

static void
assert_parse_fails(const char *text, int code, const char *want)
{
	struct trust	*t = NULL;
	struct error	 err;

	error_clear(&err);
	assert_int_equal(trust_parse(&t, text, strlen(text), "POLICY", &err),
	    code);
	assert_null(t);
	assert_int_equal(err.code, code);
	if (strstr(err.msg, want) == NULL)
		fail_msg("message \"%s\" does not contain \"%s\"", err.msg, want);
}

static struct trust *
parse_ok(const char *text, size_t len)
{
	struct trust	*t = NULL;
	struct error	 err;

	error_clear(&err);
	if (trust_parse(&t, text, len, "POLICY", &err) != 0)
		fail_msg("trust_parse: %s", err.msg);
	return t;
}

static void
assert_keys_equal(const struct pubkey *a, const struct pubkey *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		assert_memory_equal(a[i].raw, b[i].raw, ED25519_PUB_LEN);
		assert_string_equal(a[i].id, b[i].id);
	}
}

static void
test_round_trip(void **state)
{
	struct fixture	*fx = *state;
	struct trust	*t, *back;
	struct error	 err;
	char		*text, *again;
	size_t		 len, len2, i;

	t = policy_new(fx, 2, 1);
	t->serial = 42;
	error_clear(&err);
	assert_int_equal(trust_sign(t, fx->root[0], &err), 0);
	assert_int_equal(t->sigs.n, 1);
	trust_encode(t, &text, &len);
	assert_int_equal(strlen(text), len);
	assert_int_equal(strncmp(text, "satchel-trust 1\nserial 42\n"
	    "threshold 1\nroot ed25519 ", 51), 0);

	back = parse_ok(text, len);
	assert_int_equal(back->serial, 42);
	assert_int_equal(back->threshold, 1);
	assert_int_equal(back->nroots, 2);
	assert_keys_equal(back->roots, t->roots, 2);
	assert_int_equal(back->ncatalogs, 1);
	assert_keys_equal(back->catalogs, t->catalogs, 1);
	assert_int_equal(back->npublishers, 1);
	assert_keys_equal(&back->publishers[0].key, &t->publishers[0].key, 1);
	assert_int_equal(back->publishers[0].npatterns, 2);
	for (i = 0; i < 2; i++)
		assert_string_equal(back->publishers[0].patterns[i],
		    t->publishers[0].patterns[i]);
	assert_int_equal(back->sigs.n, 1);
	assert_string_equal(back->sigs.v[0].keyid, fx->rootpub[0].id);
	assert_memory_equal(back->sigs.v[0].sig, t->sigs.v[0].sig,
	    ED25519_SIG_LEN);

	trust_encode(back, &again, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(again, text, len);

	free(text);
	free(again);
	trust_free(t);
	trust_free(back);
	trust_free(NULL);
}

static void
test_new_defaults(void **state)
{
	struct trust	*t = trust_new();

	assert_int_equal(t->serial, 1);
	assert_int_equal(t->threshold, 1);
	assert_int_equal(t->nroots, 0);
	assert_int_equal(t->ncatalogs, 0);
	assert_int_equal(t->npublishers, 0);
	assert_int_equal(t->sigs.n, 0);
	trust_free(t);
}

static void
test_encode_body_sorts_keys(void **state)
{
	struct fixture	*fx = *state;
	struct trust	*t = policy_new(fx, 3, 1);
	struct pubkey	 swap;
	char		*sorted, *unsorted;
	size_t		 len1, len2;

	trust_encode_body(t, &sorted, &len1);
	swap = t->roots[0];
	t->roots[0] = t->roots[2];
	t->roots[2] = swap;
	trust_encode_body(t, &unsorted, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(sorted, unsorted, len1);
	assert_int_equal(strcmp(sorted + len1 - 4, "end\n"), 0);
	free(sorted);
	free(unsorted);
	trust_free(t);
}

static void
test_threshold_two_of_three(void **state)
{
	struct fixture	*fx = *state;
	struct trust	*t = policy_new(fx, 3, 2), *back;
	struct error	 err;
	char		*text;
	size_t		 len;

	error_clear(&err);
	assert_int_equal(trust_sign(t, fx->root[1], &err), 0);
	assert_int_equal(trust_check_threshold(t, "POLICY", &err),
	    SATCHEL_EVERIFY);
	assert_string_equal(err.msg,
	    "POLICY: trust policy 1: signed by 1 of its own 3 root keys, threshold 2");
	trust_encode(t, &text, &len);
	assert_parse_fails(text, SATCHEL_EVERIFY,
	    "POLICY: trust policy 1: signed by 1 of its own 3 root keys, threshold 2");
	free(text);

	assert_int_equal(trust_sign(t, fx->root[2], &err), 0);
	assert_int_equal(t->sigs.n, 2);
	assert_int_equal(trust_check_threshold(t, "POLICY", &err), 0);
	trust_encode(t, &text, &len);
	back = parse_ok(text, len);
	assert_int_equal(back->threshold, 2);
	assert_int_equal(back->sigs.n, 2);
	free(text);
	trust_free(back);
	trust_free(t);
}

static void
test_non_root_signatures_do_not_count(void **state)
{
	struct fixture	*fx = *state;
	struct trust	*t = policy_new(fx, 1, 1);
	struct error	 err;
	char		*text;
	size_t		 len;

	error_clear(&err);
	/* A catalog and a publisher key of this policy, and a key outside
	 * it, all sign: none of them is a root. */
	assert_int_equal(trust_sign(t, fx->catalog, &err), 0);
	assert_int_equal(trust_sign(t, fx->publisher, &err), 0);
	assert_int_equal(trust_sign(t, fx->outsider, &err), 0);
	assert_int_equal(t->sigs.n, 3);
	assert_int_equal(trust_check_threshold(t, "POLICY", &err),
	    SATCHEL_EVERIFY);
	trust_encode(t, &text, &len);
	assert_parse_fails(text, SATCHEL_EVERIFY,
	    "POLICY: trust policy 1: signed by 0 of its own 1 root keys, threshold 1");
	free(text);

	/* The root signs too: now it parses, the others riding along. */
	assert_int_equal(trust_sign(t, fx->root[0], &err), 0);
	trust_encode(t, &text, &len);
	trust_free(parse_ok(text, len));
	free(text);
	trust_free(t);
}

/* A struct built by hand may list one key twice; it still counts once. */
static void
test_duplicate_root_counts_once(void **state)
{
	struct fixture	*fx = *state;
	struct trust	*t = policy_new(fx, 2, 2);
	struct error	 err;
	char		*body;
	size_t		 len;

	t->roots[1] = t->roots[0];
	trust_encode_body(t, &body, &len);
	error_clear(&err);
	assert_int_equal(sigs_add(&t->sigs, fx->root[0], SIG_DOMAIN_TRUST, body,
	    len, &err), 0);
	assert_int_equal(trust_check_threshold(t, "POLICY", &err),
	    SATCHEL_EVERIFY);
	assert_string_equal(err.msg,
	    "POLICY: trust policy 1: signed by 1 of its own 2 root keys, threshold 2");
	free(body);
	trust_free(t);
}

static void
test_threshold_zero_never_passes(void **state)
{
	struct fixture	*fx = *state;
	struct trust	*t = policy_new(fx, 1, 1);
	struct error	 err;

	t->threshold = 0;
	error_clear(&err);
	assert_int_equal(trust_check_threshold(t, "POLICY", &err),
	    SATCHEL_EVERIFY);
	/* And trust_sign refuses to write such a policy. */
	assert_int_equal(trust_sign(t, fx->root[0], &err), SATCHEL_EINVALID);
	assert_int_equal(t->sigs.n, 0);
	trust_free(t);
}

static void
test_publisher_allows(void **state)
{
	struct fixture	*fx = *state;
	struct trust	*t = parse_ok(fx->text, fx->len);

	assert_int_equal(trust_publisher_allows(t, &fx->publisherpub,
	    "literacy-basics"), 1);
	assert_int_equal(trust_publisher_allows(t, &fx->publisherpub,
	    "literacy-"), 1);
	assert_int_equal(trust_publisher_allows(t, &fx->publisherpub,
	    "calligraphy-basics"), 1);
	/* Other names. */
	assert_int_equal(trust_publisher_allows(t, &fx->publisherpub,
	    "math-basics"), 0);
	assert_int_equal(trust_publisher_allows(t, &fx->publisherpub,
	    "calligraphy-basics-2"), 0);
	assert_int_equal(trust_publisher_allows(t, &fx->publisherpub,
	    "calliraphy-basics"), 0);
	assert_int_equal(trust_publisher_allows(t, &fx->publisherpub,
	    "xliteracy-basics"), 0);
	/* Other keys, even keys this policy trusts for something else. */
	assert_int_equal(trust_publisher_allows(t, &fx->outsiderpub,
	    "literacy-basics"), 0);
	assert_int_equal(trust_publisher_allows(t, &fx->rootpub[0],
	    "literacy-basics"), 0);
	assert_int_equal(trust_publisher_allows(t, &fx->catalogpub,
	    "literacy-basics"), 0);
	trust_free(t);
}

static void
test_fixture_layout(void **state)
{
	struct fixture	*fx = *state;
	char		*line;

	/* The refusal tests below count on these line numbers. */
	line = line_of(fx->text, 7);
	assert_int_equal(strncmp(line, "publisher ed25519 ", 18), 0);
	assert_non_null(strstr(line, " literacy-* calli?raphy-basics\n"));
	free(line);
	line = line_of(fx->text, 8);
	assert_string_equal(line, "end\n");
	free(line);
	line = line_of(fx->text, 9);
	assert_int_equal(strncmp(line, "signature ed25519 ", 18), 0);
	free(line);
	trust_free(parse_ok(fx->text, fx->len));
}

static void
test_refuses_bad_header(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	text = replace(fx->text, "satchel-trust 1\n", "satchel-trust 2\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:1: expected the "
	    "header \"satchel-trust 1\"");
	free(text);
	text = replace(fx->text, "satchel-trust 1\n", "satchel-trust 1 \n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:1:");
	free(text);
	assert_parse_fails("", SATCHEL_EINVALID, "POLICY:1: missing");
}

static void
test_refuses_bad_serial(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	text = replace(fx->text, "serial 1\n", "serial 0\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:2: serial");
	free(text);
	text = replace(fx->text, "serial 1\n", "serial 01\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:2: serial");
	free(text);
	text = replace(fx->text, "serial 1\n", "serial -1\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:2: serial");
	free(text);
	text = replace(fx->text, "serial 1\n", "serial 18446744073709551616\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:2: serial");
	free(text);
	text = replace(fx->text, "serial 1\n", "version 1\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:2: expected "
	    "\"serial N\"");
	free(text);
}

static void
test_refuses_bad_threshold(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	text = replace(fx->text, "threshold 1\n", "threshold 0\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:3: threshold");
	free(text);
	/* Two roots: 3 is too many; named on the threshold line. */
	text = replace(fx->text, "threshold 1\n", "threshold 3\n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "POLICY:3: threshold 3 is more than the 2 root keys");
	free(text);
	text = replace(fx->text, "threshold 1\n", "threshold 01\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:3: threshold");
	free(text);
}

static void
test_refuses_unsorted_roots(void **state)
{
	struct fixture	*fx = *state;
	char		*r0 = line_of(fx->text, 4), *r1 = line_of(fx->text, 5);
	char		*both = xasprintf("%s%s", r0, r1);
	char		*swapped = xasprintf("%s%s", r1, r0);
	char		*text = replace(fx->text, both, swapped);

	assert_parse_fails(text, SATCHEL_EINVALID,
	    "POLICY:5: root keys not sorted by key id");
	free(text);
	free(both);
	free(swapped);
	free(r0);
	free(r1);
}

static void
test_refuses_duplicate_root(void **state)
{
	struct fixture	*fx = *state;
	char		*r0 = line_of(fx->text, 4), *r1 = line_of(fx->text, 5);
	char		*text = replace(fx->text, r1, r0);

	assert_parse_fails(text, SATCHEL_EINVALID,
	    "POLICY:5: duplicate root key");
	free(text);
	free(r0);
	free(r1);
}

static void
test_refuses_bad_keys(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	text = replace(fx->text, "root ed25519 ", "root rsa ");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:4: root key: "
	    "unsupported key algorithm");
	free(text);
	text = replace(fx->text, "catalog ed25519 ", "catalog ed25519 AAAA");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:6: catalog key: ");
	free(text);
	text = replace(fx->text, "root ed25519 ", "root  ed25519 ");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:4: stray space");
	free(text);
	text = replace(fx->text, "root ed25519 ", "root ed25519 X ");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:4: root: expected "
	    "\"root ed25519 BASE64\"");
	free(text);
}

static void
test_refuses_publisher_without_patterns(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	text = replace(fx->text, " literacy-* calli?raphy-basics\n", "\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:7: publisher: "
	    "expected \"publisher ed25519 BASE64 PATTERN...\" with at least "
	    "one pattern");
	free(text);
}

static void
test_refuses_bad_patterns(void **state)
{
	struct fixture	*fx = *state;
	char		*text, *many, pattern[80];
	struct buf	 b;
	int		 i;

	text = replace(fx->text, "literacy-*", "literacy/*");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "POLICY:7: publisher: pattern 1 is not");
	free(text);
	text = replace(fx->text, "calli?raphy-basics", "Calli?raphy-basics");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "POLICY:7: publisher: pattern 2 is not");
	free(text);
	text = replace(fx->text, "calli?raphy-basics", "../x");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:7: publisher: pattern");
	free(text);

	/* 65 characters is one too many; 64 is fine up to the signature. */
	memset(pattern, 'a', 65);
	pattern[65] = '\0';
	text = replace(fx->text, "literacy-*", pattern);
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:7: publisher: pattern 1");
	free(text);
	pattern[64] = '\0';
	text = replace(fx->text, "literacy-*", pattern);
	assert_parse_fails(text, SATCHEL_EVERIFY, "signed by 0");
	free(text);

	/* TRUST_PATTERNS_MAX + 1 patterns. */
	buf_init(&b);
	for (i = 0; i <= TRUST_PATTERNS_MAX; i++)
		buf_printf(&b, " p%d", i);
	buf_addc(&b, '\n');
	many = buf_detach(&b, NULL);
	text = replace(fx->text, " literacy-* calli?raphy-basics\n", many);
	assert_parse_fails(text, SATCHEL_ELIMIT, "POLICY:7: publisher: more "
	    "than 64 patterns");
	free(text);
	free(many);
}

static void
test_refuses_unknown_line(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	text = replace(fx->text, "end\n", "mirror ed25519 AAAA\nend\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:8: unknown line");
	free(text);
	text = replace(fx->text, "end\n", "# a comment\nend\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:8: unknown line");
	free(text);
	text = replace(fx->text, "end\n", "\nend\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:8: blank line");
	free(text);
	text = replace(fx->text, "end\n", "end \n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:8: stray space");
	free(text);
	text = replace(fx->text, "end\n", "end\r\n");
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:8: control character");
	free(text);
}

static void
test_refuses_sections_out_of_order(void **state)
{
	struct fixture	*fx = *state;
	char		*cat = line_of(fx->text, 6), *pub = line_of(fx->text, 7);
	char		*both = xasprintf("%s%s", cat, pub);
	char		*swapped = xasprintf("%s%s", pub, cat);
	char		*text = replace(fx->text, both, swapped);

	assert_parse_fails(text, SATCHEL_EINVALID,
	    "POLICY:7: catalog line out of order");
	free(text);
	/* No root key at all. */
	text = xasprintf("satchel-trust 1\nserial 1\nthreshold 1\n%send\n", cat);
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:4: expected a root key");
	free(text);
	free(both);
	free(swapped);
	free(cat);
	free(pub);
}

static void
test_refuses_trailing_text_after_end(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	text = replace(fx->text, "end\n", "end\nhello\n");
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "POLICY:9: expected \"signature ed25519 KEYID BASE64\"");
	free(text);
	/* After the signature, on line 10. */
	text = xasprintf("%send\n", fx->text);
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:10: expected "
	    "\"signature ed25519");
	free(text);
	/* A second body is not a signature either. */
	text = xasprintf("%s%s", fx->text, fx->text);
	assert_parse_fails(text, SATCHEL_EINVALID, "POLICY:10: expected");
	free(text);
}

static void
test_refuses_missing_end(void **state)
{
	struct fixture	*fx = *state;
	char		*text = xstrdup(fx->text);

	/* Cut the text just before "end\n". */
	*strstr(text, "end\n") = '\0';
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "POLICY:8: missing the \"end\" line");
	strcat(text, "end");		/* no final newline */
	assert_parse_fails(text, SATCHEL_EINVALID,
	    "POLICY:8: line without a final newline");
	free(text);
}

static void
test_refuses_oversized(void **state)
{
	struct trust	*t = NULL;
	struct error	 err;
	char		*big = xcalloc(1, TRUST_MAX + 2);

	memset(big, 'x', TRUST_MAX + 1);
	error_clear(&err);
	assert_int_equal(trust_parse(&t, big, TRUST_MAX + 1, "POLICY", &err),
	    SATCHEL_ELIMIT);
	assert_null(t);
	free(big);
}

static void
test_flipped_body_byte_fails_verification(void **state)
{
	struct fixture	*fx = *state;
	char		*text;

	/* Each change keeps the body well formed: only the signature stops
	 * matching. */
	text = replace(fx->text, "serial 1\n", "serial 2\n");
	assert_parse_fails(text, SATCHEL_EVERIFY,
	    "POLICY: trust policy 2: signed by 0 of its own 2 root keys, threshold 1");
	free(text);
	text = replace(fx->text, "literacy-*", "literacz-*");
	assert_parse_fails(text, SATCHEL_EVERIFY, "signed by 0");
	free(text);
	/* Dropping a root changes the body too. */
	{
		char	*r1 = line_of(fx->text, 5);

		text = replace(fx->text, r1, "");
		assert_parse_fails(text, SATCHEL_EVERIFY, "signed by 0");
		free(text);
		free(r1);
	}
	/* And a flipped bit in the signature. */
	text = xstrdup(fx->text);
	text[fx->len - 10] = text[fx->len - 10] == 'A' ? 'B' : 'A';
	assert_parse_fails(text, SATCHEL_EVERIFY, "signed by 0");
	free(text);
}

static void
test_sign_drops_stale_signatures(void **state)
{
	static const char	*patterns[] = { "math-*" };
	struct fixture		*fx = *state;
	struct trust		*t = policy_new(fx, 2, 1), *back;
	struct error		 err;
	struct pubkey		 newpub;
	struct privkey		*newkey = key_new(&newpub);
	char			*body, *text;
	size_t			 len;

	error_clear(&err);
	assert_int_equal(trust_sign(t, fx->root[0], &err), 0);
	assert_int_equal(trust_sign(t, fx->root[1], &err), 0);
	assert_int_equal(t->sigs.n, 2);
	/* Signing again with a key already there keeps one line for it. */
	assert_int_equal(trust_sign(t, fx->root[1], &err), 0);
	assert_int_equal(t->sigs.n, 2);

	/* Change the body: both signatures are now stale. */
	publisher_add(t, &newpub, patterns, 1);
	assert_int_equal(trust_sign(t, fx->root[0], &err), 0);
	assert_int_equal(t->sigs.n, 1);
	assert_string_equal(t->sigs.v[0].keyid, fx->rootpub[0].id);
	trust_encode_body(t, &body, &len);
	assert_int_equal(sigs_check(&t->sigs, &fx->rootpub[0], SIG_DOMAIN_TRUST,
	    body, len), 0);
	assert_int_equal(sigs_check(&t->sigs, &fx->rootpub[1], SIG_DOMAIN_TRUST,
	    body, len), SATCHEL_ENOTFOUND);
	free(body);

	/* The result parses and lets the new publisher publish. */
	trust_encode(t, &text, &len);
	back = parse_ok(text, len);
	assert_int_equal(back->npublishers, 2);
	assert_int_equal(trust_publisher_allows(back, &newpub, "math-basics"), 1);
	free(text);
	trust_free(back);
	trust_free(t);
	privkey_free(newkey);
}

static void
test_sign_refuses_invalid_policy(void **state)
{
	struct fixture	*fx = *state;
	struct trust	*t = policy_new(fx, 2, 3);
	struct error	 err;

	error_clear(&err);
	assert_int_equal(trust_sign(t, fx->root[0], &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "threshold"));
	t->threshold = 2;
	t->roots[1] = t->roots[0];			/* duplicate root */
	assert_int_equal(trust_sign(t, fx->root[0], &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "duplicate root"));
	assert_int_equal(t->sigs.n, 0);
	trust_free(t);
}

static void
test_vector_policy(void **state)
{
	struct trust	*t;
	struct privkey	*root = NULL;
	struct pubkey	 rootpub;
	struct error	 err;
	char		*text, *pem, *again;
	size_t		 len, pemlen, len2, i;

	text = read_vector("trust-valid.policy", &len);
	pem = read_vector("trust-root.key", &pemlen);
	t = parse_ok(text, len);
	assert_int_equal(t->serial, 3);
	assert_int_equal(t->threshold, 1);
	assert_int_equal(t->nroots, 2);
	assert_int_equal(t->ncatalogs, 1);
	assert_int_equal(t->npublishers, 2);

	/* The key in trust-root.key is one of the roots, and its signature
	 * is the one that counts. */
	error_clear(&err);
	assert_int_equal(privkey_from_pem(&root, pem, pemlen, "trust-root.key",
	    &err), 0);
	privkey_public(root, &rootpub);
	assert_string_equal(rootpub.id, "ee2b9e16c23062f9");
	for (i = 0; i < t->nroots; i++) {
		if (memcmp(t->roots[i].raw, rootpub.raw, ED25519_PUB_LEN) == 0)
			break;
	}
	assert_true(i < t->nroots);
	assert_int_equal(t->sigs.n, 1);
	assert_string_equal(t->sigs.v[0].keyid, rootpub.id);

	assert_int_equal(trust_publisher_allows(t, &t->publishers[0].key,
	    "literacy-basics") + trust_publisher_allows(t,
	    &t->publishers[1].key, "literacy-basics"), 1);
	assert_int_equal(trust_publisher_allows(t, &t->publishers[0].key,
	    "math-2") + trust_publisher_allows(t, &t->publishers[1].key,
	    "math-2"), 1);

	/* Our encoder writes the independent signer's file byte for byte,
	 * and Ed25519 being deterministic, re-signing changes nothing. */
	trust_encode(t, &again, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(again, text, len);
	free(again);
	assert_int_equal(trust_sign(t, root, &err), 0);
	trust_encode(t, &again, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(again, text, len);
	free(again);

	trust_free(t);
	privkey_free(root);
	free(text);
	free(pem);
}

/* A policy whose roots are root[idx[0..n)], with serial and threshold,
 * signed over its final body by root[sig[0..nsig)] (sigs_add, so that a
 * key outside the policy may sign too). */
static struct trust *
chain_policy(struct fixture *fx, const int *idx, size_t n, unsigned threshold,
    uint64_t serial, const int *sig, size_t nsig)
{
	struct trust	*t = trust_new();
	struct error	 err;
	char		*body;
	size_t		 i, len;

	t->serial = serial;
	t->threshold = threshold;
	t->roots = xcalloc(n, sizeof *t->roots);
	for (i = 0; i < n; i++)
		t->roots[t->nroots++] = fx->rootpub[idx[i]];
	t->catalogs = xcalloc(1, sizeof *t->catalogs);
	t->catalogs[t->ncatalogs++] = fx->catalogpub;
	trust_encode_body(t, &body, &len);
	error_clear(&err);
	for (i = 0; i < nsig; i++)
		assert_int_equal(sigs_add(&t->sigs, fx->root[sig[i]],
		    SIG_DOMAIN_TRUST, body, len, &err), 0);
	free(body);
	return t;
}

static void
assert_successor(const struct trust *cur, const struct trust *next, int want,
    const char *msg)
{
	struct error	err;

	error_clear(&err);
	assert_int_equal(trust_check_successor(cur, next, "NEXT", &err), want);
	if (msg != NULL && strstr(err.msg, msg) == NULL)
		fail_msg("message \"%s\" does not contain \"%s\"", err.msg, msg);
}

/* 1 of 1: root 0 hands over to root 1; both must sign. */
static void
test_successor_one_of_one(void **state)
{
	struct fixture	*fx = *state;
	static const int r0[] = { 0 }, r1[] = { 1 }, both[] = { 0, 1 };
	struct trust	*cur = chain_policy(fx, r0, 1, 1, 3, r0, 1);
	struct trust	*next;

	next = chain_policy(fx, r1, 1, 1, 4, r1, 1);
	assert_successor(cur, next, SATCHEL_EVERIFY,
	    "NEXT: trust policy 4: signed by 0 of the 1 root keys of policy 3, "
	    "threshold 1");
	trust_free(next);
	next = chain_policy(fx, r1, 1, 1, 4, both, 2);
	assert_successor(cur, next, 0, NULL);
	trust_free(next);
	trust_free(cur);
}

/* 2 of 3 with one key dropped: the roots of both count for both; one
 * old root is too few, even with every new root signing. */
static void
test_successor_two_of_three(void **state)
{
	struct fixture	*fx = *state;
	static const int old[] = { 0, 1, 2 }, nw[] = { 0, 1 };
	static const int s01[] = { 0, 1 }, s0[] = { 0 };
	struct trust	*cur = chain_policy(fx, old, 3, 2, 6, s01, 2);
	struct trust	*next;

	next = chain_policy(fx, nw, 2, 2, 7, s01, 2);
	assert_successor(cur, next, 0, NULL);
	trust_free(next);
	next = chain_policy(fx, nw, 2, 1, 7, s0, 1);
	assert_successor(cur, next, SATCHEL_EVERIFY,
	    "NEXT: trust policy 7: signed by 1 of the 3 root keys of policy 6, "
	    "threshold 2");
	trust_free(next);
	trust_free(cur);
}

static void
test_successor_serials(void **state)
{
	struct fixture	*fx = *state;
	static const int r0[] = { 0 }, r01[] = { 0, 1 };
	struct trust	*cur = chain_policy(fx, r0, 1, 1, 5, r0, 1);
	struct trust	*next;

	next = chain_policy(fx, r0, 1, 1, 4, r0, 1);
	assert_successor(cur, next, SATCHEL_EVERIFY,
	    "NEXT: trust policy 4 is older than the policy 5 in force "
	    "(rollback refused)");
	trust_free(next);
	next = chain_policy(fx, r0, 1, 1, 7, r0, 1);
	assert_successor(cur, next, SATCHEL_EVERIFY,
	    "NEXT: trust policy 7 does not follow the policy 5 in force "
	    "(policy 6 is needed first)");
	trust_free(next);
	/* The same serial: the same bytes are nothing to do; other bytes
	 * (another root, or only another signature) are a fork. */
	next = chain_policy(fx, r0, 1, 1, 5, r0, 1);
	assert_successor(cur, next, TRUST_SAME, NULL);
	trust_free(next);
	next = chain_policy(fx, r01, 2, 1, 5, r0, 1);
	assert_successor(cur, next, SATCHEL_EVERIFY,
	    "NEXT: trust policy 5 differs from the policy 5 in force, which "
	    "has the same serial");
	trust_free(next);
	next = chain_policy(fx, r0, 1, 1, 5, r01, 2);
	assert_successor(cur, next, SATCHEL_EVERIFY, "differs");
	trust_free(next);
	trust_free(cur);
}

/* A key listed twice among the old roots still counts once toward the
 * old threshold (a struct built by hand: the parser refuses the list). */
static void
test_successor_counts_keys_once(void **state)
{
	struct fixture	*fx = *state;
	static const int twice[] = { 0, 0 }, r0[] = { 0 };
	struct trust	*cur = chain_policy(fx, twice, 2, 2, 1, r0, 1);
	struct trust	*next = chain_policy(fx, r0, 1, 1, 2, r0, 1);

	assert_int_equal(trust_count_signers(next, cur->roots, cur->nroots), 1);
	assert_successor(cur, next, SATCHEL_EVERIFY,
	    "signed by 1 of the 2 root keys of policy 1, threshold 2");
	trust_free(next);
	trust_free(cur);
}

/* A draft (satchel trust sign) parses as strictly as a policy, but
 * without its threshold: trust_parse refuses the same bytes. */
static void
test_parse_draft(void **state)
{
	struct fixture	*fx = *state;
	static const int r012[] = { 0, 1, 2 }, s0[] = { 0 };
	struct trust	*t = chain_policy(fx, r012, 3, 2, 7, s0, 1), *d = NULL;
	struct error	 err;
	char		*text;
	size_t		 len;

	trust_encode(t, &text, &len);
	error_clear(&err);
	assert_int_equal(trust_parse_draft(&d, text, len, "POLICY", &err), 0);
	assert_int_equal(d->serial, 7);
	assert_int_equal(d->sigs.n, 1);
	assert_parse_fails(text, SATCHEL_EVERIFY,
	    "POLICY: trust policy 7: signed by 1 of its own 3 root keys, "
	    "threshold 2");
	trust_free(d);
	d = NULL;
	text[0] = 'S';			/* still strict about the text */
	assert_int_equal(trust_parse_draft(&d, text, len, "POLICY", &err),
	    SATCHEL_EINVALID);
	assert_null(d);
	free(text);
	trust_free(t);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_round_trip),
		T(test_new_defaults),
		T(test_encode_body_sorts_keys),
		T(test_threshold_two_of_three),
		T(test_non_root_signatures_do_not_count),
		T(test_duplicate_root_counts_once),
		T(test_threshold_zero_never_passes),
		T(test_publisher_allows),
		T(test_fixture_layout),
		T(test_refuses_bad_header),
		T(test_refuses_bad_serial),
		T(test_refuses_bad_threshold),
		T(test_refuses_unsorted_roots),
		T(test_refuses_duplicate_root),
		T(test_refuses_bad_keys),
		T(test_refuses_publisher_without_patterns),
		T(test_refuses_bad_patterns),
		T(test_refuses_unknown_line),
		T(test_refuses_sections_out_of_order),
		T(test_refuses_trailing_text_after_end),
		T(test_refuses_missing_end),
		T(test_refuses_oversized),
		T(test_flipped_body_byte_fails_verification),
		T(test_sign_drops_stale_signatures),
		T(test_sign_refuses_invalid_policy),
		T(test_vector_policy),
		T(test_successor_one_of_one),
		T(test_successor_two_of_three),
		T(test_successor_serials),
		T(test_successor_counts_keys_once),
		T(test_parse_draft),
	};
#undef T

	return cmocka_run_group_tests_name("trust", tests, NULL, NULL);
}
