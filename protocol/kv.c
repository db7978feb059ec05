/*
 * kv.c owns the `key = value` format of bundle.conf and lesson.conf.
 */
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "util.h"

static int
kv_key_valid(const char *k, size_t n)
{
	size_t	i = 0, dot;

	if (n == 0 || k[0] < 'a' || k[0] > 'z')
		return 0;
	for (i = 1; i < n && k[i] != '.'; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') ||
		    k[i] == '_' || k[i] == '-'))
			return 0;
	if (i == n)
		return 1;
	dot = i;
	if (dot + 1 == n || n - dot - 1 > 35)
		return 0;
	for (i = dot + 1; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '-'))
			return 0;
	return 1;
}

/* Text without control characters, except tabs (allowed around "="
 * and checked again in the value). */
static int
kv_line_valid(const char *s, size_t n)
{
	const char	*tab;

	while ((tab = memchr(s, '\t', n)) != NULL) {
		if (!utf8_valid_text(s, (size_t)(tab - s)))
			return 0;
		n -= (size_t)(tab - s) + 1;
		s = tab + 1;
	}
	return utf8_valid_text(s, n);
}

static int
kv_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Why so strict: these files are written by hand and a typo must be a
 * clear error at build time, never a silently dropped field. */
int
kv_parse(struct kv *out, const char *buf, size_t len, const char *name,
    struct error *err)
{
	struct kv	 kv = { NULL, 0 };
	const char	*p = buf, *end, *nl, *eq, *ks, *ke, *vs, *ve;
	unsigned	 line = 0;
	size_t		 i;
	int		 rc = 0;

	if (len > KV_FILE_MAX) {
		rc = error_set(err, SATCHEL_ELIMIT, "%s: larger than %d bytes",
		    name, KV_FILE_MAX);
		goto out;
	}
	end = buf + len;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ks = p;
		ve = nl;
		if (ve > ks && ve[-1] == '\r')
			ve--;
		while (ks < ve && kv_is_space(*ks))
			ks++;
		while (ve > ks && kv_is_space(ve[-1]))
			ve--;
		if (ks == ve || *ks == '#')
			continue;
		if (!kv_line_valid(ks, (size_t)(ve - ks))) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: not valid UTF-8 text (or a control character)", name, line);
			goto out;
		}
		if ((eq = memchr(ks, '=', (size_t)(ve - ks))) == NULL) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: expected \"key = value\"", name, line);
			goto out;
		}
		ke = eq;
		while (ke > ks && kv_is_space(ke[-1]))
			ke--;
		vs = eq + 1;
		while (vs < ve && kv_is_space(*vs))
			vs++;
		if (!kv_key_valid(ks, (size_t)(ke - ks))) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: invalid key \"%.*s\" (lowercase letters, digits, '-', '_', optional .LANG)",
			    name, line, (int)((ke - ks) > 64 ? 64 : (ke - ks)), ks);
			goto out;
		}
		if (vs == ve) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: key \"%.*s\" has an empty value", name, line,
			    (int)(ke - ks), ks);
			goto out;
		}
		if ((size_t)(ve - vs) > KV_VALUE_MAX ||
		    !utf8_valid_text(vs, (size_t)(ve - vs))) {
			rc = error_set(err, SATCHEL_EINVALID,
			    (size_t)(ve - vs) > KV_VALUE_MAX ?
			    "%s:%u: value of \"%.*s\" longer than 4096 bytes" :
			    "%s:%u: value of \"%.*s\" contains a control character or invalid UTF-8",
			    name, line, (int)(ke - ks), ks);
			goto out;
		}
		for (i = 0; i < kv.n; i++)
			if (strlen(kv.v[i].key) == (size_t)(ke - ks) &&
			    memcmp(kv.v[i].key, ks, (size_t)(ke - ks)) == 0) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s:%u: duplicate key \"%s\" (first on line %u)",
				    name, line, kv.v[i].key, kv.v[i].line);
				goto out;
			}
		kv.v = xreallocarray(kv.v, kv.n + 1, sizeof *kv.v);
		kv.v[kv.n].key = xstrndup(ks, (size_t)(ke - ks));
		kv.v[kv.n].value = xstrndup(vs, (size_t)(ve - vs));
		kv.v[kv.n].line = line;
		kv.n++;
		if (nl == end)
			break;
	}
	*out = kv;
	kv.v = NULL;		/* ownership moved to the caller */
	kv.n = 0;
out:
	kv_free(&kv);
	return rc;
}

void
kv_free(struct kv *kv)
{
	size_t	i;

	if (kv == NULL)
		return;
	for (i = 0; i < kv->n; i++) {
		free(kv->v[i].key);
		free(kv->v[i].value);
	}
	free(kv->v);
	kv->v = NULL;
	kv->n = 0;
}
