/*
 * path.h: the one rule for file paths inside a bundle, applied to git
 * trees at build time and to archive entries and manifests on read.
 */
#ifndef SATCHEL_PATH_H
#define SATCHEL_PATH_H

#include <stddef.h>

#include "error.h"

#define PATH_MAX_LEN		4096
#define PATH_COMPONENT_MAX	255

/* 0 if path is relative, '/'-separated, with no empty, "." or ".."
 * component, no backslash, valid UTF-8 without control characters, at
 * most PATH_MAX_LEN bytes and PATH_COMPONENT_MAX per component; otherwise
 * EINVALID with a message that quotes the (escaped) path and the reason. */
int	path_check(const char *path, size_t len, struct error *err);

/* Writes a printable rendering of arbitrary bytes (at most 200 of them,
 * non-printable ones as \xNN) into out, for error messages. */
void	path_escape(char *out, size_t outsize, const char *s, size_t len);

#endif
