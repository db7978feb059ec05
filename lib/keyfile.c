/*
 * keyfile.c owns key files: loading private and public keys from disk and
 * writing a new pair.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "keyfile.h"
#include "util.h"

int
keyfile_load_private(struct privkey **out, const char *path, struct error *err)
{
	char	*buf = NULL;
	size_t	 len;
	int	 rc;

	if ((rc = file_read_all(&buf, &len, path, KEYFILE_MAX, err)) != 0)
		goto out;
	rc = privkey_from_pem(out, buf, len, path, err);
out:
	if (buf != NULL)
		explicit_bzero(buf, len);
	free(buf);
	return rc;
}

int
keyfile_load_public(struct pubkey *out, const char *path, struct error *err)
{
	char	*buf = NULL, *nl;
	size_t	 len;
	int	 rc;

	if ((rc = file_read_all(&buf, &len, path, KEYFILE_MAX, err)) != 0)
		goto out;
	if ((nl = memchr(buf, '\n', len)) != NULL)
		len = (size_t)(nl - buf);
	if (len > 11 && memcmp(buf, "-----BEGIN ", 11) == 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: this is a PEM file, not a Satchel public key "
		    "(use the KEYFILE.pub written by `satchel keygen`)", path);
		goto out;
	}
	rc = pubkey_parse(out, buf, len, path, err);
out:
	free(buf);
	return rc;
}

int
keyfile_write_pair(const struct privkey *key, const char *path,
    const char *comment, int force, struct error *err)
{
	struct pubkey	 pub;
	char		*pem = NULL, *pubpath, *line = NULL, *pubtext;
	size_t		 pemlen = 0;
	int		 rc;

	pubpath = xasprintf("%s.pub", path);
	if (!force && (access(path, F_OK) == 0 || access(pubpath, F_OK) == 0)) {
		rc = error_set(err, SATCHEL_EEXISTS,
		    "%s: already exists; refusing to overwrite a key (use --force)",
		    access(path, F_OK) == 0 ? path : pubpath);
		goto out;
	}
	if (comment != NULL && (!utf8_valid_text(comment, strlen(comment)))) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "key comment contains a control character or invalid UTF-8");
		goto out;
	}
	if ((rc = privkey_to_pem(key, &pem, &pemlen, err)) != 0)
		goto out;
	privkey_public(key, &pub);
	pubtext = pubkey_format(&pub);
	line = comment != NULL && *comment != '\0' ?
	    xasprintf("%s %s\n", pubtext, comment) : xasprintf("%s\n", pubtext);
	free(pubtext);
	if ((rc = file_write_atomic(path, pem, pemlen, 0600, err)) != 0)
		goto out;
	rc = file_write_atomic(pubpath, line, strlen(line), 0644, err);
out:
	if (pem != NULL)
		explicit_bzero(pem, pemlen);
	free(pem);
	free(line);
	free(pubpath);
	return rc;
}
