/*
 * trust.c owns the trust policy: its strict parser, its canonical
 * encoding, signing it, and the two questions the rest of Satchel asks of
 * it: "did enough of its own roots sign it?" and "may this key publish
 * this bundle?".
 */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "trust.h"
#include "util.h"

#define TRUST_HEADER		"satchel-trust 1"
#define TRUST_PATTERN_LEN	64
/* "publisher ed25519 BASE64" and its patterns. */
#define TRUST_FIELDS_MAX	(3 + TRUST_PATTERNS_MAX)
/* "signature ed25519 " KEYID " " BASE64(64 bytes) "\n" */
#define TRUST_SIG_LINE_LEN	(18 + KEYID_LEN + 1 + 88 + 1)

/* The parts of the body, in the order they must appear. */
enum trust_section {
	TRUST_S_HEADER,
	TRUST_S_SERIAL,
	TRUST_S_THRESHOLD,
	TRUST_S_ROOT,
	TRUST_S_CATALOG,
	TRUST_S_PUBLISHER,
	TRUST_S_END
};

struct trust_parser {
	struct trust		*t;
	const char		*name;
	unsigned		 line;
	unsigned		 threshold_line;
	enum trust_section	 section;
	struct field		 f[TRUST_FIELDS_MAX + 1];
	size_t			 nf;	/* TRUST_FIELDS_MAX + 1: too many */
};

struct trust *
trust_new(void)
{
	struct trust	*t = xcalloc(1, sizeof *t);

	t->serial = 1;
	t->threshold = 1;
	return t;
}

void
trust_free(struct trust *t)
{
	size_t	i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->npublishers; i++) {
		for (j = 0; j < t->publishers[i].npatterns; j++)
			free(t->publishers[i].patterns[j]);
		free(t->publishers[i].patterns);
	}
	free(t->publishers);
	free(t->roots);
	free(t->catalogs);
	sigs_free(&t->sigs);
	free(t);
}

static int
trust_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pubkey *)a)->id,
	    ((const struct pubkey *)b)->id);
}

static int
trust_publisher_cmp(const void *a, const void *b)
{
	return strcmp(((const struct trust_publisher *)a)->key.id,
	    ((const struct trust_publisher *)b)->key.id);
}

/* A sorted copy of v (shallow: publishers share their patterns). */
static void *
trust_sorted_copy(const void *v, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	void	*copy = xreallocarray(NULL, n, size);

	if (n > 0) {
		memcpy(copy, v, n * size);
		qsort(copy, n, size, cmp);
	}
	return copy;
}

/* 0 if p is 1..64 characters of [a-z0-9*?[]!-]. */
static int
trust_pattern_check(const char *p, size_t len)
{
	size_t	i;

	if (len == 0 || len > TRUST_PATTERN_LEN)
		return -1;
	for (i = 0; i < len; i++) {
		if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9'))
			continue;
		if (p[i] == '*' || p[i] == '?' || p[i] == '[' || p[i] == ']' ||
		    p[i] == '!' || p[i] == '-')
			continue;
		return -1;
	}
	return 0;
}

static void
trust_encode_keys(struct buf *b, const char *what, const struct pubkey *v,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		char	*s = pubkey_format(&v[i]);

		buf_printf(b, "%s %s\n", what, s);
		free(s);
	}
}

void
trust_encode_body(const struct trust *t, char **out, size_t *len)
{
	struct pubkey		*roots, *catalogs;
	struct trust_publisher	*pubs;
	struct buf		 b;
	size_t			 i, j;

	roots = trust_sorted_copy(t->roots, t->nroots, sizeof *roots,
	    trust_key_cmp);
	catalogs = trust_sorted_copy(t->catalogs, t->ncatalogs,
	    sizeof *catalogs, trust_key_cmp);
	pubs = trust_sorted_copy(t->publishers, t->npublishers, sizeof *pubs,
	    trust_publisher_cmp);

	buf_init(&b);
	buf_printf(&b, "%s\nserial %" PRIu64 "\nthreshold %u\n", TRUST_HEADER,
	    t->serial, t->threshold);
	trust_encode_keys(&b, "root", roots, t->nroots);
	trust_encode_keys(&b, "catalog", catalogs, t->ncatalogs);
	for (i = 0; i < t->npublishers; i++) {
		char	*s = pubkey_format(&pubs[i].key);

		buf_printf(&b, "publisher %s", s);
		free(s);
		for (j = 0; j < pubs[i].npatterns; j++)
			buf_printf(&b, " %s", pubs[i].patterns[j]);
		buf_addc(&b, '\n');
	}
	buf_addstr(&b, "end\n");
	*out = buf_detach(&b, len);

	free(roots);
	free(catalogs);
	free(pubs);		/* the patterns still belong to t */
}

void
trust_encode(const struct trust *t, char **out, size_t *len)
{
	struct buf	 b;
	char		*s;
	size_t		 n;

	buf_init(&b);
	trust_encode_body(t, &s, &n);
	buf_add(&b, s, n);
	free(s);
	sigs_encode(&t->sigs, &s, &n);
	buf_add(&b, s, n);
	free(s);
	*out = buf_detach(&b, len);
}

/* Why keys are compared whole, not by id: two keys may share an id (it
 * is 64 bits of a hash), and a key listed twice must still count once. */
size_t
trust_count_signers(const struct trust *t, const struct pubkey *keys,
    size_t nkeys)
{
	char	*body = NULL;
	size_t	 len, i, j, good = 0;

	trust_encode_body(t, &body, &len);
	for (i = 0; i < nkeys; i++) {
		for (j = 0; j < i; j++) {
			if (memcmp(keys[j].raw, keys[i].raw, ED25519_PUB_LEN) == 0)
				break;
		}
		if (j < i)
			continue;	/* that key was counted already */
		if (sigs_check(&t->sigs, &keys[i], SIG_DOMAIN_TRUST, body,
		    len) == 0)
			good++;
	}
	free(body);
	return good;
}

int
trust_check_threshold(const struct trust *t, const char *name,
    struct error *err)
{
	size_t	good;

	if (t->threshold < 1)
		return error_set(err, SATCHEL_EVERIFY,
		    "%s: threshold is 0, which would trust an unsigned policy",
		    name);
	good = trust_count_signers(t, t->roots, t->nroots);
	if (good < t->threshold)
		return error_set(err, SATCHEL_EVERIFY,
		    "%s: trust policy %llu: signed by %zu of its own %zu root "
		    "keys, threshold %u", name, (unsigned long long)t->serial,
		    good, t->nroots, t->threshold);
	return 0;
}

/*
 * Why exactly one serial up, and why the old roots: a node trusts only
 * what its current roots vouch for, so a policy that replaces them must
 * carry their threshold too (a thief of fewer keys than that cannot
 * install his own roots), and a node several rotations behind reaches
 * the newest policy one link at a time (SPEC §7 "Rotation"). next was
 * already found valid on its own by trust_parse.
 */
int
trust_check_successor(const struct trust *cur, const struct trust *next,
    const char *name, struct error *err)
{
	char		*a = NULL, *b = NULL;
	size_t		 alen, blen, good;
	unsigned long long cs = cur->serial, ns = next->serial;
	int		 rc = 0;

	if (ns < cs)
		return error_set(err, SATCHEL_EVERIFY,
		    "%s: trust policy %llu is older than the policy %llu in "
		    "force (rollback refused)", name, ns, cs);
	if (ns == cs) {
		trust_encode(cur, &a, &alen);
		trust_encode(next, &b, &blen);
		if (alen == blen && memcmp(a, b, alen) == 0)
			rc = TRUST_SAME;
		else
			rc = error_set(err, SATCHEL_EVERIFY,
			    "%s: trust policy %llu differs from the policy %llu "
			    "in force, which has the same serial (refused)",
			    name, ns, cs);
		free(a);
		free(b);
		return rc;
	}
	if (ns != cs + 1)
		return error_set(err, SATCHEL_EVERIFY,
		    "%s: trust policy %llu does not follow the policy %llu in "
		    "force (policy %llu is needed first)", name, ns, cs, cs + 1);
	good = trust_count_signers(next, cur->roots, cur->nroots);
	if (good < cur->threshold)
		return error_set(err, SATCHEL_EVERIFY,
		    "%s: trust policy %llu: signed by %zu of the %zu root keys "
		    "of policy %llu, threshold %u", name, ns, good, cur->nroots,
		    cs, cur->threshold);
	return 0;
}

int
trust_publisher_allows(const struct trust *t, const struct pubkey *key,
    const char *bundle)
{
	const struct trust_publisher	*tp;
	size_t				 i, j;

	if (bundle == NULL)
		return 0;
	for (i = 0; i < t->npublishers; i++) {
		tp = &t->publishers[i];
		if (memcmp(tp->key.raw, key->raw, ED25519_PUB_LEN) != 0)
			continue;
		for (j = 0; j < tp->npatterns; j++) {
			if (fnmatch(tp->patterns[j], bundle, 0) == 0)
				return 1;
		}
	}
	return 0;
}

/* 1 if some key of the policy with the signature's id made it over body. */
static int
trust_sig_verifies(const struct trust *t, const struct sig *sg,
    const char *body, size_t len)
{
	size_t	i;

	for (i = 0; i < t->nroots; i++) {
		if (strcmp(t->roots[i].id, sg->keyid) == 0 &&
		    crypto_verify(&t->roots[i], SIG_DOMAIN_TRUST, body, len,
		    sg->sig) == 0)
			return 1;
	}
	for (i = 0; i < t->ncatalogs; i++) {
		if (strcmp(t->catalogs[i].id, sg->keyid) == 0 &&
		    crypto_verify(&t->catalogs[i], SIG_DOMAIN_TRUST, body, len,
		    sg->sig) == 0)
			return 1;
	}
	for (i = 0; i < t->npublishers; i++) {
		if (strcmp(t->publishers[i].key.id, sg->keyid) == 0 &&
		    crypto_verify(&t->publishers[i].key, SIG_DOMAIN_TRUST, body,
		    len, sg->sig) == 0)
			return 1;
	}
	return 0;
}

/* Refuses a policy that trust_parse would refuse, so that trust_sign never
 * writes a file nobody can load. t must be sorted. */
static int
trust_validate(const struct trust *t, struct error *err)
{
	const struct trust_publisher	*tp;
	size_t				 i, j;

	if (t->serial < 1)
		return error_set(err, SATCHEL_EINVALID, "serial must be at least 1");
	if (t->nroots < 1)
		return error_set(err, SATCHEL_EINVALID, "no root key");
	if (t->nroots > TRUST_KEYS_MAX || t->ncatalogs > TRUST_KEYS_MAX ||
	    t->npublishers > TRUST_KEYS_MAX)
		return error_set(err, SATCHEL_ELIMIT,
		    "more than %d keys in one section", TRUST_KEYS_MAX);
	if (t->threshold < 1 || t->threshold > t->nroots)
		return error_set(err, SATCHEL_EINVALID,
		    "threshold %u is not between 1 and the %zu root keys",
		    t->threshold, t->nroots);
	for (i = 1; i < t->nroots; i++) {
		if (strcmp(t->roots[i - 1].id, t->roots[i].id) == 0)
			return error_set(err, SATCHEL_EINVALID,
			    "duplicate root key %s", t->roots[i].id);
	}
	for (i = 1; i < t->ncatalogs; i++) {
		if (strcmp(t->catalogs[i - 1].id, t->catalogs[i].id) == 0)
			return error_set(err, SATCHEL_EINVALID,
			    "duplicate catalog key %s", t->catalogs[i].id);
	}
	for (i = 0; i < t->npublishers; i++) {
		tp = &t->publishers[i];
		if (i > 0 && strcmp(t->publishers[i - 1].key.id, tp->key.id) == 0)
			return error_set(err, SATCHEL_EINVALID,
			    "duplicate publisher key %s", tp->key.id);
		if (tp->npatterns < 1 || tp->npatterns > TRUST_PATTERNS_MAX)
			return error_set(err, SATCHEL_EINVALID,
			    "publisher %s: needs 1 to %d patterns", tp->key.id,
			    TRUST_PATTERNS_MAX);
		for (j = 0; j < tp->npatterns; j++) {
			if (trust_pattern_check(tp->patterns[j],
			    strlen(tp->patterns[j])) != 0)
				return error_set(err, SATCHEL_EINVALID,
				    "publisher %s: bad pattern \"%s\"",
				    tp->key.id, tp->patterns[j]);
		}
	}
	return 0;
}

int
trust_sign(struct trust *t, const struct privkey *key, struct error *err)
{
	char	*body = NULL;
	size_t	 len, i, kept;
	int	 rc;

	/* Canonical order in the struct too, so that it reads like the file. */
	if (t->nroots > 0)
		qsort(t->roots, t->nroots, sizeof *t->roots, trust_key_cmp);
	if (t->ncatalogs > 0)
		qsort(t->catalogs, t->ncatalogs, sizeof *t->catalogs,
		    trust_key_cmp);
	if (t->npublishers > 0)
		qsort(t->publishers, t->npublishers, sizeof *t->publishers,
		    trust_publisher_cmp);
	if ((rc = trust_validate(t, err)) != 0)
		goto out;
	trust_encode_body(t, &body, &len);

	/* Drop signatures that no key of the policy makes over this body:
	 * they were over an older body, or by a key no longer listed. The new
	 * one is added after, so a signer outside the policy is kept. */
	for (i = kept = 0; i < t->sigs.n; i++) {
		if (trust_sig_verifies(t, &t->sigs.v[i], body, len))
			t->sigs.v[kept++] = t->sigs.v[i];
	}
	t->sigs.n = kept;		/* still sorted by key id */

	if (len > TRUST_MAX - (t->sigs.n + 1) * TRUST_SIG_LINE_LEN) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "signed policy would be larger than %d bytes", TRUST_MAX);
		goto out;
	}
	rc = sigs_add(&t->sigs, key, SIG_DOMAIN_TRUST, body, len, err);
out:
	free(body);
	return rc;
}

static int
trust_split(struct trust_parser *tp, const char *p, size_t len,
    struct error *err)
{
	return fields_split(tp->f, TRUST_FIELDS_MAX, &tp->nf, p, len, tp->name,
	    tp->line, err);
}

/* Why: serial orders successive policies, so it has one spelling and can
 * never be 0, the "no policy yet" of a fresh store. */
static int
trust_parse_serial(struct trust_parser *tp, struct error *err)
{
	if (tp->nf != 2 || !field_is(&tp->f[0], "serial"))
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: expected \"serial N\"", tp->name, tp->line);
	if (parse_u64(tp->f[1].p, tp->f[1].len, 1, UINT64_MAX,
	    &tp->t->serial) != 0)
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: serial: expected a decimal number from 1 up, "
		    "without leading zeros", tp->name, tp->line);
	tp->section = TRUST_S_THRESHOLD;
	return 0;
}

/* Why: a threshold of 0 would trust an unsigned policy; whether it exceeds
 * the root keys is only known once they are read (trust_parse_entry). */
static int
trust_parse_threshold(struct trust_parser *tp, struct error *err)
{
	uint64_t	v;

	if (tp->nf != 2 || !field_is(&tp->f[0], "threshold"))
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: expected \"threshold T\"", tp->name, tp->line);
	if (parse_u64(tp->f[1].p, tp->f[1].len, 1, TRUST_KEYS_MAX, &v) != 0)
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: threshold: expected a decimal number from 1 to %d, "
		    "without leading zeros", tp->name, tp->line, TRUST_KEYS_MAX);
	tp->t->threshold = (unsigned)v;
	tp->threshold_line = tp->line;
	tp->section = TRUST_S_ROOT;
	return 0;
}

/* Why sorted and unique: the same key listed twice could be counted twice
 * toward the threshold, and a sorted list has one spelling. Fields 1 and 2
 * ("ed25519 BASE64") are adjacent in the line, which is what pubkey_parse
 * reads; prev is the key on the line before in this section, or NULL. */
static int
trust_parse_key(struct trust_parser *tp, const char *what,
    const struct pubkey *prev, struct pubkey *out, struct error *err)
{
	char	where[ERROR_MSG_MAX];
	int	rc, c;

	snprintf(where, sizeof where, "%s:%u: %s key", tp->name, tp->line,
	    what);
	if ((rc = pubkey_parse(out, tp->f[1].p, tp->f[1].len + 1 + tp->f[2].len,
	    where, err)) != 0)
		return rc;
	if (prev != NULL && (c = strcmp(prev->id, out->id)) >= 0)
		return error_set(err, SATCHEL_EINVALID, c == 0 ?
		    "%s:%u: duplicate %s key %s" :
		    "%s:%u: %s keys not sorted by key id (at key %s)",
		    tp->name, tp->line, what, out->id);
	return 0;
}

/* A "root" or "catalog" line: its key joins the section's array. */
static int
trust_parse_key_line(struct trust_parser *tp, const char *what,
    struct pubkey **v, size_t *n, struct error *err)
{
	struct pubkey	k;
	int		rc;

	if (tp->nf != 3)
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: %s: expected \"%s ed25519 BASE64\"", tp->name,
		    tp->line, what, what);
	if (*n == TRUST_KEYS_MAX)
		return error_set(err, SATCHEL_ELIMIT, "%s:%u: more than %d %s keys",
		    tp->name, tp->line, TRUST_KEYS_MAX, what);
	if ((rc = trust_parse_key(tp, what, *n > 0 ? &(*v)[*n - 1] : NULL, &k,
	    err)) != 0)
		return rc;
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = k;
	return 0;
}

/* Why: patterns are kept to a small alphabet (bundle names plus glob
 * characters) so that no pattern can reach outside a name, e.g. with '/'. */
static int
trust_parse_publisher(struct trust_parser *tp, struct error *err)
{
	struct trust		*t = tp->t;
	struct trust_publisher	 pub;
	size_t			 i, n = t->npublishers;
	int			 rc;

	if (tp->nf < 4)
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: publisher: expected \"publisher ed25519 BASE64 "
		    "PATTERN...\" with at least one pattern", tp->name, tp->line);
	if (tp->nf > TRUST_FIELDS_MAX)
		return error_set(err, SATCHEL_ELIMIT,
		    "%s:%u: publisher: more than %d patterns", tp->name, tp->line,
		    TRUST_PATTERNS_MAX);
	if (n == TRUST_KEYS_MAX)
		return error_set(err, SATCHEL_ELIMIT, "%s:%u: more than %d "
		    "publisher keys", tp->name, tp->line, TRUST_KEYS_MAX);
	for (i = 3; i < tp->nf; i++) {
		if (trust_pattern_check(tp->f[i].p, tp->f[i].len) != 0)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: publisher: pattern %zu is not 1 to %d of "
			    "a-z 0-9 * ? [ ] ! -", tp->name, tp->line, i - 2,
			    TRUST_PATTERN_LEN);
	}
	if ((rc = trust_parse_key(tp, "publisher",
	    n > 0 ? &t->publishers[n - 1].key : NULL, &pub.key, err)) != 0)
		return rc;

	pub.npatterns = tp->nf - 3;
	pub.patterns = xreallocarray(NULL, pub.npatterns, sizeof *pub.patterns);
	for (i = 0; i < pub.npatterns; i++)
		pub.patterns[i] = xstrndup(tp->f[i + 3].p, tp->f[i + 3].len);
	t->publishers = xreallocarray(t->publishers, n + 1,
	    sizeof *t->publishers);
	t->publishers[t->npublishers++] = pub;	/* patterns now belong to t */
	return 0;
}

/* Why one order (root, catalog, publisher, end): the body has a single
 * spelling, so its signatures cover exactly one meaning. */
static int
trust_parse_entry(struct trust_parser *tp, struct error *err)
{
	static const struct {
		const char		*word;
		enum trust_section	 section;
	} words[] = {
		{ "root", TRUST_S_ROOT },
		{ "catalog", TRUST_S_CATALOG },
		{ "publisher", TRUST_S_PUBLISHER },
		{ "end", TRUST_S_END },
	};
	struct trust		*t = tp->t;
	enum trust_section	 s;
	const char		*word;
	size_t			 i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (field_is(&tp->f[0], words[i].word))
			break;
	}
	if (i == sizeof words / sizeof words[0])
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: unknown line (expected root, catalog, publisher or "
		    "end)", tp->name, tp->line);
	s = words[i].section;
	word = words[i].word;
	if (s < tp->section)
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: %s line out of order (the order is root, catalog, "
		    "publisher, end)", tp->name, tp->line, word);
	if (s > TRUST_S_ROOT && tp->section == TRUST_S_ROOT) {
		if (t->nroots == 0)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: expected a root key before this line (at "
			    "least one is needed)", tp->name, tp->line);
		if (t->threshold > t->nroots)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: threshold %u is more than the %zu root keys",
			    tp->name, tp->threshold_line, t->threshold, t->nroots);
	}
	tp->section = s;

	switch (s) {
	case TRUST_S_ROOT:
		return trust_parse_key_line(tp, word, &t->roots, &t->nroots, err);
	case TRUST_S_CATALOG:
		return trust_parse_key_line(tp, word, &t->catalogs,
		    &t->ncatalogs, err);
	case TRUST_S_PUBLISHER:
		return trust_parse_publisher(tp, err);
	case TRUST_S_END:
		if (tp->nf != 1)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: end: expected \"end\" alone", tp->name,
			    tp->line);
		return 0;
	default:
		fatal("%s: bad section %d", __func__, (int)s);
	}
}

/* Why the header is compared whole: a later version may change the field
 * syntax itself, so nothing after "satchel-trust" is split before it is
 * known to be version 1. */
static int
trust_parse_line(struct trust_parser *tp, const char *p, size_t len,
    struct error *err)
{
	int	rc;

	if (tp->section == TRUST_S_HEADER) {
		if (len != strlen(TRUST_HEADER) ||
		    memcmp(p, TRUST_HEADER, len) != 0)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: expected the header \"%s\"", tp->name,
			    tp->line, TRUST_HEADER);
		tp->section = TRUST_S_SERIAL;
		return 0;
	}
	if ((rc = trust_split(tp, p, len, err)) != 0)
		return rc;
	if (tp->section == TRUST_S_SERIAL)
		return trust_parse_serial(tp, err);
	if (tp->section == TRUST_S_THRESHOLD)
		return trust_parse_threshold(tp, err);
	return trust_parse_entry(tp, err);
}

static int
trust_line_cb(void *arg, const char *p, size_t n, struct error *err)
{
	return trust_parse_line(arg, p, n, err);
}

static int
trust_ended_cb(void *arg)
{
	return ((struct trust_parser *)arg)->section == TRUST_S_END;
}

/* Why strict: the policy decides whose signatures count, so it has exactly
 * one spelling; anything else is refused naming the line and the field.
 * Only a body that threshold of its own root keys signed is returned,
 * unless draft (a policy still being signed, never trusted). */
static int
trust_parse_impl(struct trust **out, const char *buf, size_t len,
    const char *name, int draft, struct error *err)
{
	struct trust_parser	 tp;
	const char		*p, *end = buf + len;
	char			*body = NULL;
	size_t			 bodylen, n;
	int			 rc = 0;

	memset(&tp, 0, sizeof tp);
	tp.name = name;
	if (len > TRUST_MAX) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "%s: trust policy larger than %d bytes", name, TRUST_MAX);
		goto out;
	}
	tp.t = trust_new();
	if ((rc = lines_parse(buf, len, name, &tp.line, trust_line_cb, trust_ended_cb,
	    &tp, &bodylen, err)) != 0)
		goto out;
	p = buf + bodylen;
	if ((rc = sigs_parse_after(&tp.t->sigs, p, (size_t)(end - p), name, tp.line,
	    err)) != 0)
		goto out;

	/* The checks above should leave one spelling; make sure, since the
	 * signatures are checked over the re-encoded body. */
	trust_encode_body(tp.t, &body, &n);
	if (n != bodylen || memcmp(body, buf, n) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: the body is not in canonical form", name);
		goto out;
	}
	if (!draft && (rc = trust_check_threshold(tp.t, name, err)) != 0)
		goto out;
	*out = tp.t;
	tp.t = NULL;			/* ownership moved to the caller */
out:
	free(body);
	trust_free(tp.t);		/* NULL-safe */
	return rc;
}

int
trust_parse(struct trust **out, const char *buf, size_t len, const char *name,
    struct error *err)
{
	return trust_parse_impl(out, buf, len, name, 0, err);
}

int
trust_parse_draft(struct trust **out, const char *buf, size_t len,
    const char *name, struct error *err)
{
	return trust_parse_impl(out, buf, len, name, 1, err);
}
