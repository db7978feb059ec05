/*
 * catalog.c owns a store's catalog: its strict parser, its canonical
 * encoding, signing it with a catalog key, checking it against a trust
 * policy, and the sorted list of current releases (find, set).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "fields.h"
#include "manifest.h"
#include "util.h"

#define CATALOG_HEADER		"satchel-catalog 1"
/* "bundle NAME SERIAL SHA256 SIZE" */
#define CATALOG_FIELDS_MAX	5
/* Signers named in a "not signed by a catalog key" message. */
#define CATALOG_SIGNERS_SHOWN	8

/* The parts of the body, in the order they must appear. */
enum catalog_section {
	CATALOG_S_HEADER,
	CATALOG_S_SERIAL,
	CATALOG_S_ISSUED,
	CATALOG_S_EXPIRES,
	CATALOG_S_BUNDLE,
	CATALOG_S_END
};

struct catalog_parser {
	struct catalog		*c;
	const char		*name;
	unsigned		 line;
	enum catalog_section	 section;
	size_t			 cap;	/* entries allocated in c->v */
	struct field		 f[CATALOG_FIELDS_MAX + 1];
	size_t			 nf;	/* CATALOG_FIELDS_MAX + 1: too many */
};

struct catalog *
catalog_new(void)
{
	return xcalloc(1, sizeof(struct catalog));
}

void
catalog_free(struct catalog *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
	sigs_free(&c->sigs);
	free(c);
}

/* bsearch comparator: key is a bundle name. */
static int
catalog_name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct catalog_entry *)elem)->name);
}

const struct catalog_entry *
catalog_find(const struct catalog *c, const char *bundle)
{
	/* bsearch must not be given a NULL array, even with n = 0. */
	if (c->n == 0 || bundle == NULL)
		return NULL;
	return bsearch(bundle, c->v, c->n, sizeof *c->v, catalog_name_cmp);
}

void
catalog_set(struct catalog *c, const char *name, uint64_t serial,
    const uint8_t manifest_sha256[SHA256_LEN], uint64_t size)
{
	struct catalog_entry	*e;
	size_t			 lo = 0, hi = c->n, mid;
	int			 cmp;

	/* Lower bound: the first entry whose name is not below name. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((cmp = strcmp(c->v[mid].name, name)) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == c->n || strcmp(c->v[lo].name, name) != 0) {
		c->v = xreallocarray(c->v, c->n + 1, sizeof *c->v);
		memmove(&c->v[lo + 1], &c->v[lo], (c->n - lo) * sizeof *c->v);
		c->n++;
		c->v[lo].name = xstrdup(name);
	}
	e = &c->v[lo];
	e->serial = serial;
	memcpy(e->manifest_sha256, manifest_sha256, SHA256_LEN);
	e->size = size;
}

/* The body as it is; the entries must be sorted (catalog_set and
 * catalog_parse keep them so, and catalog_sign checks). */
void
catalog_encode_body(const struct catalog *c, char **out, size_t *len)
{
	struct buf	b;
	char		hex[SHA256_HEX_LEN + 1];
	size_t		i;

	buf_init(&b);
	buf_printf(&b, "%s\nserial %" PRIu64 "\nissued %" PRId64 "\nexpires %"
	    PRId64 "\n", CATALOG_HEADER, c->serial, c->issued, c->expires);
	for (i = 0; i < c->n; i++) {
		hex_encode(hex, c->v[i].manifest_sha256, SHA256_LEN);
		buf_printf(&b, "bundle %s %" PRIu64 " %s %" PRIu64 "\n",
		    c->v[i].name, c->v[i].serial, hex, c->v[i].size);
	}
	buf_addstr(&b, "end\n");
	*out = buf_detach(&b, len);
}

void
catalog_encode(const struct catalog *c, char **out, size_t *len)
{
	struct buf	 b;
	char		*s;
	size_t		 n;

	buf_init(&b);
	catalog_encode_body(c, &s, &n);
	buf_add(&b, s, n);
	free(s);
	sigs_encode(&c->sigs, &s, &n);
	buf_add(&b, s, n);
	free(s);
	*out = buf_detach(&b, len);
}

/* Refuses a catalog that catalog_parse would refuse, so that catalog_sign
 * never signs a file nobody can load (a fresh catalog of serial 0, say). */
static int
catalog_validate(const struct catalog *c, struct error *err)
{
	const struct catalog_entry	*e;
	size_t				 i;

	if (c->serial < 1)
		return error_set(err, SATCHEL_EINVALID,
		    "catalog serial must be at least 1");
	if (c->issued < 0)
		return error_set(err, SATCHEL_EINVALID,
		    "catalog issued %" PRId64 " is before 1970", c->issued);
	if (c->expires <= c->issued)
		return error_set(err, SATCHEL_EINVALID,
		    "catalog expires %" PRId64 " is not after issued %" PRId64,
		    c->expires, c->issued);
	if (c->n > CATALOG_BUNDLES_MAX)
		return error_set(err, SATCHEL_ELIMIT,
		    "more than %d bundles in the catalog", CATALOG_BUNDLES_MAX);
	for (i = 0; i < c->n; i++) {
		e = &c->v[i];
		if (bundle_name_check(e->name) != 0)
			return error_set(err, SATCHEL_EINVALID,
			    "bad bundle name \"%s\"", e->name);
		if (i > 0 && strcmp(c->v[i - 1].name, e->name) >= 0)
			return error_set(err, SATCHEL_EINVALID,
			    "bundles not sorted by name or duplicated (at %s)",
			    e->name);
		if (e->serial < 1 || e->serial > INT64_MAX)
			return error_set(err, SATCHEL_EINVALID,
			    "bundle %s: serial %" PRIu64 " is not from 1 to "
			    "2^63-1", e->name, e->serial);
		if (e->size > MANIFEST_TOTAL_MAX)
			return error_set(err, SATCHEL_ELIMIT,
			    "bundle %s: size %" PRIu64 " is more than %llu bytes",
			    e->name, e->size,
			    (unsigned long long)MANIFEST_TOTAL_MAX);
	}
	return 0;
}

int
catalog_sign(struct catalog *c, const struct privkey *key, struct error *err)
{
	struct sigs	 fresh = { NULL, 0 };
	char		*body = NULL;
	size_t		 len;
	int		 rc;

	if ((rc = catalog_validate(c, err)) != 0)
		goto out;
	catalog_encode_body(c, &body, &len);
	if (len > CATALOG_MAX - SIGS_LINE_LEN) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "signed catalog would be larger than %u bytes", CATALOG_MAX);
		goto out;
	}
	/* Built aside, so that a failure leaves the old signatures alone. */
	if ((rc = sigs_add(&fresh, key, SIG_DOMAIN_CATALOG, body, len,
	    err)) != 0)
		goto out;
	sigs_free(&c->sigs);
	c->sigs = fresh;
	fresh.v = NULL;			/* ownership moved to c */
out:
	sigs_free(&fresh);
	free(body);
	return rc;
}

/* Why: an operator reading "not signed by a catalog key" needs to know
 * who did sign, to tell a wrong key from a missing signature. */
static int
catalog_unsigned_error(const struct catalog *c, const char *name,
    struct error *err)
{
	struct buf	b;
	size_t		i;
	int		rc;

	buf_init(&b);
	if (c->sigs.n == 0)
		buf_addstr(&b, "nobody");
	for (i = 0; i < c->sigs.n && i < CATALOG_SIGNERS_SHOWN; i++)
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", c->sigs.v[i].keyid);
	if (c->sigs.n > CATALOG_SIGNERS_SHOWN)
		buf_printf(&b, " and %zu more",
		    c->sigs.n - CATALOG_SIGNERS_SHOWN);
	rc = error_set(err, SATCHEL_EVERIFY, "%s: not signed by a catalog key "
	    "of the trust policy (signed by: %s)", name, b.data);
	buf_free(&b);
	return rc;
}

/* Why the signature is checked before the date: an expired catalog
 * may still be served with allow_expired, but never a forged one. */
int
catalog_check(const struct catalog *c, const struct trust *trust, int64_t now,
    int allow_expired, const char *name, struct error *err)
{
	const struct pubkey	*bad = NULL;
	char			*body = NULL, when[64];
	size_t			 len, i;
	struct tm		 tm;
	time_t			 t;
	int			 rc = 0, good = 0, r;

	catalog_encode_body(c, &body, &len);
	for (i = 0; i < trust->ncatalogs && !good; i++) {
		r = sigs_check(&c->sigs, &trust->catalogs[i],
		    SIG_DOMAIN_CATALOG, body, len);
		if (r == 0)
			good = 1;
		else if (r != SATCHEL_ENOTFOUND && bad == NULL)
			bad = &trust->catalogs[i];
	}
	if (!good) {
		if (bad != NULL)
			rc = error_set(err, SATCHEL_EVERIFY, "%s: the signature "
			    "by catalog key %s does not verify", name, bad->id);
		else
			rc = catalog_unsigned_error(c, name, err);
		goto out;
	}
	if (!allow_expired && now >= c->expires) {
		t = (time_t)c->expires;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC",
		    &tm) == 0)
			snprintf(when, sizeof when, "%" PRId64
			    " seconds after 1970", c->expires);
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: catalog serial %" PRIu64 " expired at %s", name,
		    c->serial, when);
	}
out:
	free(body);
	return rc;
}

static int
catalog_split(struct catalog_parser *cp, const char *p, size_t len,
    struct error *err)
{
	return fields_split(cp->f, CATALOG_FIELDS_MAX, &cp->nf, p, len, cp->name,
	    cp->line, err);
}

/* Why: serial orders successive catalogs, so it has one spelling and can
 * never be 0, the "nothing published yet" of a fresh store. */
static int
catalog_parse_serial(struct catalog_parser *cp, struct error *err)
{
	if (cp->nf != 2 || !field_is(&cp->f[0], "serial"))
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: expected \"serial N\"", cp->name, cp->line);
	if (parse_u64(cp->f[1].p, cp->f[1].len, 1, UINT64_MAX,
	    &cp->c->serial) != 0)
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: serial: expected a decimal number from 1 up, "
		    "without leading zeros", cp->name, cp->line);
	cp->section = CATALOG_S_ISSUED;
	return 0;
}

/* Why: "issued" and "expires" bound how long a stolen old catalog can be
 * replayed; expires after issued is the one order that means anything. */
static int
catalog_parse_time(struct catalog_parser *cp, const char *what,
    int64_t *out, struct error *err)
{
	uint64_t	v;

	if (cp->nf != 2 || !field_is(&cp->f[0], what))
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: expected \"%s T\"", cp->name, cp->line, what);
	if (parse_u64(cp->f[1].p, cp->f[1].len, 0, INT64_MAX, &v) != 0)
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: %s: expected seconds since 1970, a decimal number "
		    "without leading zeros", cp->name, cp->line, what);
	*out = (int64_t)v;
	if (cp->section == CATALOG_S_ISSUED) {
		cp->section = CATALOG_S_EXPIRES;
		return 0;
	}
	if (cp->c->expires <= cp->c->issued)
		return error_set(err, SATCHEL_EINVALID,
		    "%s:%u: expires: %" PRId64 " is not after issued %" PRId64,
		    cp->name, cp->line, cp->c->expires, cp->c->issued);
	cp->section = CATALOG_S_BUNDLE;
	return 0;
}

/* Why sorted and unique: a bundle listed twice would have two current
 * releases, and a sorted list has one spelling (and binary search). The
 * serial is capped as in a manifest, whose serial it must equal. */
static int
catalog_parse_bundle(struct catalog_parser *cp, struct error *err)
{
	struct catalog		*c = cp->c;
	struct catalog_entry	 e;
	char			 name[BUNDLE_NAME_MAX + 1];
	uint64_t		 size;
	int			 cmp;

	if (cp->nf != 5)
		return error_set(err, SATCHEL_EINVALID, "%s:%u: bundle: "
		    "expected \"bundle NAME SERIAL SHA256 SIZE\"", cp->name,
		    cp->line);
	if (c->n == CATALOG_BUNDLES_MAX)
		return error_set(err, SATCHEL_ELIMIT,
		    "%s:%u: more than %d bundles", cp->name, cp->line,
		    CATALOG_BUNDLES_MAX);
	if (cp->f[1].len > BUNDLE_NAME_MAX)
		return error_set(err, SATCHEL_EINVALID, "%s:%u: bundle: name "
		    "is longer than %d characters", cp->name, cp->line,
		    BUNDLE_NAME_MAX);
	memcpy(name, cp->f[1].p, cp->f[1].len);
	name[cp->f[1].len] = '\0';
	if (bundle_name_check(name) != 0)
		return error_set(err, SATCHEL_EINVALID, "%s:%u: bundle: name "
		    "\"%s\" is not a-z 0-9 and '-', starting with a letter or "
		    "digit", cp->name, cp->line, name);
	if (c->n > 0 && (cmp = strcmp(c->v[c->n - 1].name, name)) >= 0)
		return error_set(err, SATCHEL_EINVALID, cmp == 0 ?
		    "%s:%u: duplicate bundle %s" :
		    "%s:%u: bundles not sorted by name (at bundle %s)",
		    cp->name, cp->line, name);
	if (parse_u64(cp->f[2].p, cp->f[2].len, 1, INT64_MAX, &e.serial) != 0)
		return error_set(err, SATCHEL_EINVALID, "%s:%u: bundle %s: "
		    "serial: expected a decimal number from 1 to 2^63-1, "
		    "without leading zeros", cp->name, cp->line, name);
	if (hex_decode(e.manifest_sha256, SHA256_LEN, cp->f[3].p,
	    cp->f[3].len) != 0)
		return error_set(err, SATCHEL_EINVALID, "%s:%u: bundle %s: "
		    "sha256: expected 64 lowercase hex digits", cp->name,
		    cp->line, name);
	if (parse_u64(cp->f[4].p, cp->f[4].len, 0, UINT64_MAX, &size) != 0)
		return error_set(err, SATCHEL_EINVALID, "%s:%u: bundle %s: "
		    "size: expected a decimal number of bytes, without leading "
		    "zeros", cp->name, cp->line, name);
	if (size > MANIFEST_TOTAL_MAX)
		return error_set(err, SATCHEL_ELIMIT, "%s:%u: bundle %s: "
		    "size: %" PRIu64 " is more than the %llu bytes a release may "
		    "hold", cp->name, cp->line, name, size,
		    (unsigned long long)MANIFEST_TOTAL_MAX);
	e.size = size;

	if (c->n == cp->cap) {
		cp->cap = cp->cap == 0 ? 16 : 2 * cp->cap;
		c->v = xreallocarray(c->v, cp->cap, sizeof *c->v);
	}
	e.name = xstrdup(name);
	c->v[c->n++] = e;		/* the name now belongs to c */
	return 0;
}

/* Why the header is compared whole: a later version may change the field
 * syntax itself, so nothing after "satchel-catalog" is split before it is
 * known to be version 1. */
static int
catalog_parse_line(struct catalog_parser *cp, const char *p, size_t len,
    struct error *err)
{
	int	rc;

	if (cp->section == CATALOG_S_HEADER) {
		if (len != strlen(CATALOG_HEADER) ||
		    memcmp(p, CATALOG_HEADER, len) != 0)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: expected the header \"%s\"", cp->name,
			    cp->line, CATALOG_HEADER);
		cp->section = CATALOG_S_SERIAL;
		return 0;
	}
	if ((rc = catalog_split(cp, p, len, err)) != 0)
		return rc;
	switch (cp->section) {
	case CATALOG_S_SERIAL:
		return catalog_parse_serial(cp, err);
	case CATALOG_S_ISSUED:
		return catalog_parse_time(cp, "issued", &cp->c->issued, err);
	case CATALOG_S_EXPIRES:
		return catalog_parse_time(cp, "expires", &cp->c->expires, err);
	case CATALOG_S_BUNDLE:
		if (field_is(&cp->f[0], "bundle"))
			return catalog_parse_bundle(cp, err);
		if (!field_is(&cp->f[0], "end"))
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: unknown line (expected bundle or end)",
			    cp->name, cp->line);
		if (cp->nf != 1)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: end: expected \"end\" alone", cp->name,
			    cp->line);
		cp->section = CATALOG_S_END;
		return 0;
	default:
		fatal("%s: bad section %d", __func__, (int)cp->section);
	}
}

static int
catalog_line_cb(void *arg, const char *p, size_t n, struct error *err)
{
	return catalog_parse_line(arg, p, n, err);
}

static int
catalog_ended_cb(void *arg)
{
	return ((struct catalog_parser *)arg)->section == CATALOG_S_END;
}

/* Why strict: the catalog pins which manifest is current for each bundle,
 * so it has exactly one spelling; anything else is refused naming the
 * line and the field. No key is checked here (see catalog_check). */
int
catalog_parse(struct catalog **out, const char *buf, size_t len,
    const char *name, struct error *err)
{
	struct catalog_parser	 cp;
	const char		*p, *end = buf + len;
	char			*body = NULL;
	size_t			 bodylen, n;
	int			 rc = 0;

	memset(&cp, 0, sizeof cp);
	cp.name = name;
	if (len > CATALOG_MAX) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "%s: catalog larger than %u bytes", name, CATALOG_MAX);
		goto out;
	}
	cp.c = catalog_new();
	if ((rc = lines_parse(buf, len, name, &cp.line, catalog_line_cb, catalog_ended_cb,
	    &cp, &bodylen, err)) != 0)
		goto out;
	p = buf + bodylen;
	if ((rc = sigs_parse_after(&cp.c->sigs, p, (size_t)(end - p), name, cp.line,
	    err)) != 0)
		goto out;

	/* The checks above should leave one spelling; make sure, since the
	 * signatures are checked over the re-encoded body. */
	catalog_encode_body(cp.c, &body, &n);
	if (n != bodylen || memcmp(body, buf, n) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: the body is not in canonical form", name);
		goto out;
	}
	*out = cp.c;
	cp.c = NULL;			/* ownership moved to the caller */
out:
	free(body);
	catalog_free(cp.c);		/* NULL-safe */
	return rc;
}
