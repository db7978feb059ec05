/*
 * bundle-conf.h: bundle.conf and lesson.conf, the metadata an author
 * writes by hand in a bundle repository.
 */
#ifndef SATCHEL_BUNDLE_CONF_H
#define SATCHEL_BUNDLE_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "manifest.h"

#define LABEL_MAX	32

struct bundle_conf {
	char		*name;
	uint64_t	 serial;
	char		*label;
	struct meta	 meta;	/* title, language, license and optional fields */
};

/* Parses and validates bundle.conf: every required field present and
 * well formed, no unknown key. Messages name fname:line and the field. */
int	bundle_conf_parse(struct bundle_conf *out, const char *buf, size_t len,
	    const char *fname, struct error *err);
void	bundle_conf_free(struct bundle_conf *);

/* Parses lesson.conf into meta (title and variants, summary and
 * variants, entry, minutes), validated. */
int	lesson_conf_parse(struct meta *out, const char *buf, size_t len,
	    const char *fname, struct error *err);

/* 0 if s is a space-separated list of BCP 47 language tags. */
int	language_list_check(const char *s);

#endif
