/*
 * keyfile.h: key files on disk: the PEM private key (mode 0600) and the
 * one-line KEYFILE.pub beside it.
 */
#ifndef SATCHEL_KEYFILE_H
#define SATCHEL_KEYFILE_H

#include "crypto.h"
#include "error.h"

#define KEYFILE_MAX	(64 * 1024)

int	keyfile_load_private(struct privkey **out, const char *path,
	    struct error *err);
/* Reads the first line of a .pub file. */
int	keyfile_load_public(struct pubkey *out, const char *path,
	    struct error *err);
/* Writes path (PEM, 0600) and path.pub (0644). Refuses to replace either
 * unless force (EEXISTS). comment may be NULL. */
int	keyfile_write_pair(const struct privkey *, const char *path,
	    const char *comment, int force, struct error *err);

#endif
