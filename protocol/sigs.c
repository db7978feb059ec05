/*
 * sigs.c owns signature blocks: parsing, canonical encoding, adding a
 * signature and checking one key's signature.
 */
#include <stdlib.h>
#include <string.h>

#include "sigs.h"
#include "util.h"

static int
sigs_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sig *)a)->keyid, ((const struct sig *)b)->keyid);
}

/* Why strict: signatures are counted toward thresholds later, so a block
 * that names one key twice, or is out of order, is refused rather than
 * silently deduplicated. */
int
sigs_parse(struct sigs *out, const char *buf, size_t len, const char *name,
    struct error *err)
{
	return sigs_parse_after(out, buf, len, name, 0, err);
}

int
sigs_parse_after(struct sigs *out, const char *buf, size_t len,
    const char *name, unsigned before, struct error *err)
{
	struct sigs	 s = { NULL, 0 };
	const char	*p = buf, *end = buf + len, *nl, *f;
	unsigned	 line = before;
	int		 rc = 0;

	if (len > SIGS_BLOCK_MAX) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "%s: signature block larger than %u bytes", name, SIGS_BLOCK_MAX);
		goto out;
	}
	while (p < end) {
		struct sig	sg;
		size_t		n;

		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: signature line without a final newline", name, line);
			goto out;
		}
		n = (size_t)(nl - p);
		if (n < 34 || memcmp(p, "signature ed25519 ", 18) != 0) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: expected \"signature ed25519 KEYID BASE64\"", name, line);
			goto out;
		}
		f = p + 18;
		memcpy(sg.keyid, f, KEYID_LEN);
		sg.keyid[KEYID_LEN] = '\0';
		{
			uint8_t	tmp[KEYID_LEN / 2];

			if (hex_decode(tmp, sizeof tmp, f, KEYID_LEN) != 0 ||
			    f[KEYID_LEN] != ' ') {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s:%u: key id is not 16 lowercase hex digits", name, line);
				goto out;
			}
		}
		f += KEYID_LEN + 1;
		if (base64_decode(sg.sig, sizeof sg.sig, f, (size_t)(nl - f)) != 0) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s:%u: signature by key %s is not base64 of 64 bytes",
			    name, line, sg.keyid);
			goto out;
		}
		if (s.n > 0 && strcmp(s.v[s.n - 1].keyid, sg.keyid) >= 0) {
			rc = error_set(err, SATCHEL_EINVALID,
			    strcmp(s.v[s.n - 1].keyid, sg.keyid) == 0 ?
			    "%s:%u: key %s signs twice" :
			    "%s:%u: signatures not sorted by key id (at key %s)",
			    name, line, sg.keyid);
			goto out;
		}
		if (s.n == SIGS_MAX) {
			rc = error_set(err, SATCHEL_ELIMIT,
			    "%s: more than %d signatures", name, SIGS_MAX);
			goto out;
		}
		s.v = xreallocarray(s.v, s.n + 1, sizeof *s.v);
		s.v[s.n++] = sg;
		p = nl + 1;
	}
	*out = s;
	s.v = NULL;		/* ownership moved to the caller */
out:
	free(s.v);
	return rc;
}

void
sigs_encode(const struct sigs *s, char **out, size_t *len)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < s->n; i++) {
		char	*b64 = base64_encode(s->v[i].sig, ED25519_SIG_LEN);

		buf_printf(&b, "signature ed25519 %s %s\n", s->v[i].keyid, b64);
		free(b64);
	}
	*out = buf_detach(&b, len);
}

int
sigs_add(struct sigs *s, const struct privkey *key, const char *domain,
    const void *msg, size_t len, struct error *err)
{
	struct pubkey	 pub;
	struct sig	 sg, *found;
	int		 rc;

	privkey_public(key, &pub);
	memcpy(sg.keyid, pub.id, sizeof sg.keyid);
	if ((rc = crypto_sign(key, domain, msg, len, sg.sig, err)) != 0)
		return rc;
	found = s->n == 0 ? NULL :
	    bsearch(&sg, s->v, s->n, sizeof *s->v, sigs_cmp);
	if (found != NULL) {
		*found = sg;
		return 0;
	}
	if (s->n == SIGS_MAX)
		return error_set(err, SATCHEL_ELIMIT, "already %d signatures", SIGS_MAX);
	s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
	s->v[s->n++] = sg;
	qsort(s->v, s->n, sizeof *s->v, sigs_cmp);
	return 0;
}

int
sigs_check(const struct sigs *s, const struct pubkey *key, const char *domain,
    const void *msg, size_t len)
{
	struct sig	 probe, *found;

	memcpy(probe.keyid, key->id, sizeof probe.keyid);
	found = s->n == 0 ? NULL :
	    bsearch(&probe, s->v, s->n, sizeof *s->v, sigs_cmp);
	if (found == NULL)
		return SATCHEL_ENOTFOUND;
	return crypto_verify(key, domain, msg, len, found->sig);
}

void
sigs_free(struct sigs *s)
{
	if (s == NULL)
		return;
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
