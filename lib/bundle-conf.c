/*
 * bundle-conf.c owns the validation of bundle.conf and lesson.conf: which
 * keys exist, which are required, which take language variants, and what
 * each value may hold.
 */
#include <stdlib.h>
#include <string.h>

#include "bundle-conf.h"
#include "kv.h"
#include "path.h"
#include "util.h"

struct conf_key {
	const char	*key;
	int		 required;
	int		 variants;	/* may carry .LANG variants */
};

static const struct conf_key bundle_keys[] = {
	{ "name",	1, 0 },
	{ "serial",	1, 0 },
	{ "label",	1, 0 },
	{ "title",	1, 1 },
	{ "language",	1, 0 },
	{ "license",	1, 0 },
	{ "summary",	0, 1 },
	{ "subjects",	0, 1 },
	{ "audience",	0, 1 },
	{ "level",	0, 1 },
	{ "module",	0, 1 },
	{ "authors",	0, 1 },
	{ NULL,		0, 0 }
};

static const struct conf_key lesson_keys[] = {
	{ "title",	0, 1 },
	{ "summary",	0, 1 },
	{ "entry",	0, 0 },
	{ "minutes",	0, 0 },
	{ NULL,		0, 0 }
};

static int
lang_tag_check(const char *s, size_t n)
{
	size_t	i, start = 0, part = 0;

	if (n == 0 || n > 35)
		return -1;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '-') {
			size_t	len = i - start;

			if (len == 0 || len > 8 || (part == 0 && len < 2))
				return -1;
			part++;
			start = i + 1;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (part > 0 && s[i] >= '0' && s[i] <= '9')))
			return -1;
	}
	return 0;
}

int
language_list_check(const char *s)
{
	const char	*p = s, *sp;
	int		 count = 0;

	while (*p != '\0') {
		if ((sp = strchr(p, ' ')) == NULL)
			sp = p + strlen(p);
		if (lang_tag_check(p, (size_t)(sp - p)) != 0)
			return -1;
		count++;
		if (*sp == ' ' && sp[1] == '\0')
			return -1;	/* a trailing space */
		p = *sp == ' ' ? sp + 1 : sp;
	}
	return count > 0 ? 0 : -1;
}

/* Checks every key of kv against table: known, variants only where
 * allowed, required ones present. */
static int
conf_check_keys(const struct kv *kv, const struct conf_key *table,
    const char *fname, struct error *err)
{
	const struct conf_key	*ck;
	size_t			 i;

	for (i = 0; i < kv->n; i++) {
		const char	*k = kv->v[i].key, *dot = strchr(k, '.');
		size_t		 blen = dot != NULL ? (size_t)(dot - k) : strlen(k);

		for (ck = table; ck->key != NULL; ck++)
			if (strlen(ck->key) == blen && memcmp(ck->key, k, blen) == 0)
				break;
		if (ck->key == NULL)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: unknown key \"%s\"", fname, kv->v[i].line, k);
		if (dot != NULL && !ck->variants)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: \"%s\" cannot have language variants", fname,
			    kv->v[i].line, ck->key);
		if (dot != NULL && lang_tag_check(dot + 1, strlen(dot + 1)) != 0)
			return error_set(err, SATCHEL_EINVALID,
			    "%s:%u: \"%s\" is not a BCP 47 language tag", fname,
			    kv->v[i].line, dot + 1);
	}
	for (ck = table; ck->key != NULL; ck++) {
		if (!ck->required)
			continue;
		for (i = 0; i < kv->n; i++)
			if (strcmp(kv->v[i].key, ck->key) == 0)
				break;
		if (i == kv->n)
			return error_set(err, SATCHEL_EINVALID,
			    "%s: required field \"%s\" is missing", fname, ck->key);
	}
	return 0;
}

static int
label_check(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > LABEL_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("._+~-", s[i]) != NULL))
			return -1;
	return s[0] == '.' || s[0] == '-' ? -1 : 0;
}

static int
license_check(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > 128)
		return -1;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr(".+-() :", s[i]) != NULL))
			return -1;
	return 0;
}

/* Why a second pass after kv_parse: kv knows the syntax, this knows what
 * each field means, and each message says which field is wrong and how. */
int
bundle_conf_parse(struct bundle_conf *out, const char *buf, size_t len,
    const char *fname, struct error *err)
{
	struct bundle_conf	 c;
	struct kv		 kv = { NULL, 0 };
	size_t			 i;
	int			 rc;

	memset(&c, 0, sizeof c);
	if ((rc = kv_parse(&kv, buf, len, fname, err)) != 0)
		goto out;
	if ((rc = conf_check_keys(&kv, bundle_keys, fname, err)) != 0)
		goto out;
	for (i = 0; i < kv.n; i++) {
		const char	*k = kv.v[i].key, *v = kv.v[i].value;
		unsigned	 line = kv.v[i].line;

		if (strcmp(k, "name") == 0) {
			if (bundle_name_check(v) != 0) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s:%u: name \"%s\" must be 1-63 of a-z, 0-9 and '-', "
				    "starting with a letter or digit", fname, line, v);
				goto out;
			}
			c.name = xstrdup(v);
		} else if (strcmp(k, "serial") == 0) {
			if (parse_u64(v, strlen(v), 1, INT64_MAX, &c.serial) != 0) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s:%u: serial \"%s\" must be a whole number >= 1",
				    fname, line, v);
				goto out;
			}
		} else if (strcmp(k, "label") == 0) {
			if (label_check(v) != 0) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s:%u: label \"%s\" must be 1-32 of letters, digits and . _ + ~ -",
				    fname, line, v);
				goto out;
			}
			c.label = xstrdup(v);
		} else {
			if (strcmp(k, "language") == 0 && language_list_check(v) != 0) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s:%u: language \"%s\" must be space-separated BCP 47 tags (e.g. \"zh en\")",
				    fname, line, v);
				goto out;
			}
			if (strcmp(k, "license") == 0 && license_check(v) != 0) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s:%u: license \"%s\" is not an SPDX identifier",
				    fname, line, v);
				goto out;
			}
			meta_add(&c.meta, k, v);
		}
	}
	meta_sort(&c.meta);
	*out = c;
	memset(&c, 0, sizeof c);	/* ownership moved to the caller */
out:
	bundle_conf_free(&c);
	kv_free(&kv);
	return rc;
}

void
bundle_conf_free(struct bundle_conf *c)
{
	if (c == NULL)
		return;
	free(c->name);
	free(c->label);
	meta_free(&c->meta);
	memset(c, 0, sizeof *c);
}

int
lesson_conf_parse(struct meta *out, const char *buf, size_t len,
    const char *fname, struct error *err)
{
	struct meta	 m = { NULL, 0 };
	struct kv	 kv = { NULL, 0 };
	struct error	 perr;
	uint64_t	 v;
	size_t		 i;
	int		 rc;

	if ((rc = kv_parse(&kv, buf, len, fname, err)) != 0)
		goto out;
	if ((rc = conf_check_keys(&kv, lesson_keys, fname, err)) != 0)
		goto out;
	for (i = 0; i < kv.n; i++) {
		const char	*k = kv.v[i].key, *val = kv.v[i].value;

		if (strcmp(k, "minutes") == 0 &&
		    parse_u64(val, strlen(val), 1, 100000, &v) != 0) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: minutes \"%s\" must be a whole number from 1 to 100000",
			    fname, kv.v[i].line, val);
			goto out;
		}
		if (strcmp(k, "entry") == 0 &&
		    path_check(val, strlen(val), &perr) != 0) {
			rc = error_set(err, SATCHEL_EINVALID, "%s:%u: entry %s",
			    fname, kv.v[i].line, perr.msg);
			goto out;
		}
		meta_add(&m, k, val);
	}
	meta_sort(&m);
	*out = m;
	m.v = NULL;		/* ownership moved to the caller */
	m.n = 0;
out:
	meta_free(&m);
	kv_free(&kv);
	return rc;
}
