/*
 * fuzz-conf.c: satcheld's INI parser, conf_parse, over the defaults. An
 * accepted file must leave every value in a form that conf_set takes
 * again to the same value (the file, -c and the command line share the
 * checks), and conf_copy must copy it whole.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "error.h"
#include "util.h"

#include "fuzz.h"

#define S(key, field)	{ key, offsetof(struct conf, field) }

static const struct {
	const char	*key;
	size_t		 off;
} strs[] = {
	S("store", store), S("sync-listen", sync_listen),
	S("port-file", port_file), S("upstream", upstream),
	S("trust", trust), S("git-repos", git_repos),
	S("http-listen", http_listen),
}, uints[] = {
	S("idle-timeout", idle_timeout),
	S("max-connections", max_connections),
	S("interval", interval), S("retry", retry),
	S("git-poll", git_poll), S("http-threads", http_threads),
	S("http-idle-timeout", http_idle_timeout),
};

#define FIELD(c, off, type)	(*(type *)(void *)((char *)(c) + (off)))

static void
same(const struct conf *a, const struct conf *b)
{
	size_t		 i;
	const char	*x, *y;

	for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		x = FIELD(a, strs[i].off, char *);
		y = FIELD(b, strs[i].off, char *);
		FUZZ_ASSERT((x == NULL) == (y == NULL));
		FUZZ_ASSERT(x == NULL || strcmp(x, y) == 0);
	}
	for (i = 0; i < sizeof uints / sizeof uints[0]; i++)
		FUZZ_ASSERT(FIELD(a, uints[i].off, unsigned) ==
		    FIELD(b, uints[i].off, unsigned));
	FUZZ_ASSERT(a->min_rate == b->min_rate &&
	    a->min_rate_window == b->min_rate_window);
	FUZZ_ASSERT(a->nbundles == b->nbundles);
	for (i = 0; i < a->nbundles; i++)
		FUZZ_ASSERT(strcmp(a->bundles[i], b->bundles[i]) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	c, copy, set;
	struct error	err;
	struct buf	b;
	char		num[16];
	const char	*v;
	size_t		i;

	conf_init(&c);
	error_clear(&err);
	if (conf_parse(&c, (const char *)data, size, "satcheld.conf",
	    &err) != 0) {
		FUZZ_ASSERT(err.code != 0 &&
		    strstr(err.msg, "satcheld.conf") != NULL);
		conf_free(&c);
		return 0;
	}
	conf_copy(&copy, &c);
	same(&c, &copy);

	/* Every value set again through conf_set, onto a copy. */
	conf_copy(&set, &c);
	for (i = 0; i < sizeof strs / sizeof strs[0]; i++)
		if ((v = FIELD(&c, strs[i].off, char *)) != NULL)
			FUZZ_ASSERT(conf_set(&set, strs[i].key, v, &err) == 0);
	for (i = 0; i < sizeof uints / sizeof uints[0]; i++) {
		snprintf(num, sizeof num, "%u", FIELD(&c, uints[i].off,
		    unsigned));
		FUZZ_ASSERT(conf_set(&set, uints[i].key, num, &err) == 0);
	}
	/* No patterns (every bundle) has no spelling: conf_set refuses an
	 * empty list, and the option is left out instead. */
	if (c.nbundles > 0) {
		buf_init(&b);
		for (i = 0; i < c.nbundles; i++)
			buf_printf(&b, "%s%s", i > 0 ? " " : "", c.bundles[i]);
		FUZZ_ASSERT(conf_set(&set, "bundles", b.data, &err) == 0);
		buf_free(&b);
	}
	same(&c, &set);

	conf_free(&set);
	conf_free(&copy);
	conf_free(&c);
	return 0;
}
