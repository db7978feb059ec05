/*
 * conf.c owns satcheld's options: their defaults, the one table that
 * names and checks each of them (used alike by the INI file and by the
 * command line), and the INI parser, whose messages name FILE:LINE and
 * the key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "error.h"
#include "fsutil.h"
#include "listen.h"
#include "log.h"
#include "sync-client.h"
#include "sync-conn.h"
#include "util.h"

enum conf_type {
	CONF_STRING,		/* any non-empty text: a path */
	CONF_LISTEN,		/* ADDR:PORT */
	CONF_UPSTREAM,		/* satchel://HOST:PORT or a path */
	CONF_UINT,		/* an integer in [min, max] */
	CONF_PATTERNS,		/* space-separated fnmatch patterns */
	CONF_RATE,		/* BYTES[/SECONDS]: min_rate, min_rate_window */
	CONF_BOOL,		/* yes/no, true/false, on/off, 1/0: an int */
	CONF_LEVEL,		/* error, warn, info, debug: an unsigned */
};

static const struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	uint64_t	 min, max;
} conf_keys[] = {
#define O(field)	offsetof(struct conf, field)
	{ "store",		CONF_STRING,	O(store),		0, 0 },
	{ "sync-listen",	CONF_LISTEN,	O(sync_listen),		0, 0 },
	{ "port-file",		CONF_STRING,	O(port_file),		0, 0 },
	{ "idle-timeout",	CONF_UINT,	O(idle_timeout),	1, 86400 },
	{ "max-connections",	CONF_UINT,	O(max_connections),	1, 100000 },
	{ "upstream",		CONF_UPSTREAM,	O(upstream),		0, 0 },
	{ "trust",		CONF_STRING,	O(trust),		0, 0 },
	{ "interval",		CONF_UINT,	O(interval),	1, 366 * 86400 },
	{ "retry",		CONF_UINT,	O(retry),		1, 86400 },
	{ "bundles",		CONF_PATTERNS,	O(bundles),		0, 0 },
	{ "git-repos",		CONF_STRING,	O(git_repos),		0, 0 },
	{ "git-poll",		CONF_UINT,	O(git_poll),		1, 86400 },
	{ "min-rate",		CONF_RATE,	O(min_rate),		0, 1u << 30 },
	{ "http-listen",	CONF_LISTEN,	O(http_listen),		0, 0 },
	{ "http-threads",	CONF_UINT,	O(http_threads),	1, 16 },
	{ "http-idle-timeout",	CONF_UINT,	O(http_idle_timeout),	1, 86400 },
	{ "user",		CONF_STRING,	O(user),		0, 0 },
	{ "syslog",		CONF_BOOL,	O(syslog),		0, 0 },
	{ "log-level",		CONF_LEVEL,	O(log_level),		0, 0 },
#undef O
};

static const struct conf_key *
conf_find(const char *key)
{
	size_t	i;

	for (i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++)
		if (strcmp(conf_keys[i].name, key) == 0)
			return &conf_keys[i];
	return NULL;
}

int
conf_known(const char *key)
{
	return conf_find(key) != NULL;
}

void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof *c);
	c->sync_listen = xstrdup(CONF_SYNC_LISTEN_DEFAULT);
	c->idle_timeout = CONF_IDLE_DEFAULT;
	c->max_connections = CONF_MAX_CONN_DEFAULT;
	c->interval = CONF_INTERVAL_DEFAULT;
	c->retry = CONF_RETRY_DEFAULT;
	c->git_poll = CONF_GIT_POLL_DEFAULT;
	c->min_rate = SYNC_MIN_RATE_DEFAULT;
	c->min_rate_window = SYNC_MIN_RATE_WINDOW;
	c->http_threads = CONF_HTTP_THREADS_DEFAULT;
	c->http_idle_timeout = CONF_HTTP_IDLE_DEFAULT;
	c->log_level = LOG_LEVEL_DEFAULT;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->store);
	free(c->sync_listen);
	free(c->port_file);
	free(c->upstream);
	free(c->trust);
	free(c->git_repos);
	free(c->http_listen);
	free(c->user);
	strv_free(c->bundles, c->nbundles);
	memset(c, 0, sizeof *c);
}

static char *
conf_strdup(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

void
conf_copy(struct conf *out, const struct conf *c)
{
	size_t	i;

	*out = *c;
	out->store = conf_strdup(c->store);
	out->sync_listen = conf_strdup(c->sync_listen);
	out->port_file = conf_strdup(c->port_file);
	out->upstream = conf_strdup(c->upstream);
	out->trust = conf_strdup(c->trust);
	out->git_repos = conf_strdup(c->git_repos);
	out->http_listen = conf_strdup(c->http_listen);
	out->user = conf_strdup(c->user);
	out->bundles = NULL;
	if (c->nbundles > 0) {
		out->bundles = xreallocarray(NULL, c->nbundles, sizeof(char *));
		for (i = 0; i < c->nbundles; i++)
			out->bundles[i] = xstrdup(c->bundles[i]);
	}
}

/* Why only a shape check: the host is resolved when the mirror connects,
 * and a name that does not resolve then is a pull failure to retry, not
 * a reason to refuse to start. */
static int
conf_check_upstream(const char *v, struct error *err)
{
	const char	*hp, *colon;
	uint64_t	 port;

	if (!sync_client_is_url(v))
		return 0;		/* a store directory */
	hp = v + strlen(SYNC_CLIENT_SCHEME);
	if ((colon = strrchr(hp, ':')) == NULL || colon == hp ||
	    parse_u64(colon + 1, strlen(colon + 1), 1, 65535, &port) != 0)
		return error_set(err, SATCHEL_EINVALID, "\"%s\": expected "
		    "satchel://HOST:PORT (port 1-65535) or a store directory",
		    v);
	return 0;
}

/* Splits on spaces and tabs; each pattern is printable ASCII (bundle
 * names are [a-z0-9-] and the glob characters * ? [ ] ! are ASCII). */
static int
conf_parse_patterns(char ***outv, size_t *outn, const char *value,
    struct error *err)
{
	char		**v = NULL;
	size_t		  n = 0, len;
	const char	 *p = value, *e;
	int		  rc = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
			if ((unsigned char)*e < 0x21 || (unsigned char)*e > 0x7e) {
				rc = error_set(err, SATCHEL_EINVALID, "pattern "
				    "\"%.*s\" holds a byte that no bundle name "
				    "can (0x%02x)", (int)(e - p + 1), p,
				    (unsigned char)*e);
				goto out;
			}
		len = (size_t)(e - p);
		if (len > 255) {
			rc = error_set(err, SATCHEL_ELIMIT, "a pattern longer "
			    "than 255 bytes");
			goto out;
		}
		if (n == CONF_BUNDLES_MAX) {
			rc = error_set(err, SATCHEL_ELIMIT, "more than %d "
			    "patterns", CONF_BUNDLES_MAX);
			goto out;
		}
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = xstrndup(p, len);
		p = e;
	}
	if (n == 0) {
		rc = error_set(err, SATCHEL_EINVALID, "no pattern (to take "
		    "every bundle, leave the option out or write \"*\")");
		goto out;
	}
	*outv = v;
	*outn = n;
	v = NULL;
	n = 0;
out:
	strv_free(v, n);
	return rc;
}

/* BYTES[/SECONDS]: "0" turns the minimum off; the window defaults. */
static int
conf_parse_rate(struct conf *c, const char *value, const struct conf_key *k,
    struct error *err)
{
	const char	*slash = strchr(value, '/');
	size_t		 blen = slash != NULL ? (size_t)(slash - value) :
			    strlen(value);
	uint64_t	 bytes, secs = SYNC_MIN_RATE_WINDOW;

	if (parse_u64(value, blen, k->min, k->max, &bytes) != 0 ||
	    (slash != NULL && parse_u64(slash + 1, strlen(slash + 1), 1,
	    86400, &secs) != 0))
		return error_set(err, SATCHEL_EINVALID, "\"%s\" is not "
		    "BYTES[/SECONDS] (bytes a second in %llu..%llu, a window "
		    "of 1..86400 seconds)", value, (unsigned long long)k->min,
		    (unsigned long long)k->max);
	c->min_rate = (unsigned)bytes;
	c->min_rate_window = (unsigned)secs;
	return 0;
}

int
conf_set(struct conf *c, const char *key, const char *value,
    struct error *err)
{
	const struct conf_key	*k;
	char			**sp, **v = NULL;
	size_t			  n = 0;
	uint64_t		  u;
	int			  rc;

	if ((k = conf_find(key)) == NULL)
		return error_set(err, SATCHEL_EINVALID, "unknown option");
	if (k->type != CONF_PATTERNS && value[0] == '\0')
		return error_set(err, SATCHEL_EINVALID, "empty value");
	switch (k->type) {
	case CONF_LISTEN:
		if ((rc = listen_check(value, err)) != 0)
			return rc;
		break;
	case CONF_UPSTREAM:
		if ((rc = conf_check_upstream(value, err)) != 0)
			return rc;
		break;
	case CONF_UINT:
		if (parse_u64(value, strlen(value), k->min, k->max, &u) != 0)
			return error_set(err, SATCHEL_EINVALID, "\"%s\" is not "
			    "a number in %llu..%llu", value,
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
		*(unsigned *)((char *)c + k->off) = (unsigned)u;
		return 0;
	case CONF_RATE:
		return conf_parse_rate(c, value, k, err);
	case CONF_BOOL:
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 ||
		    strcmp(value, "on") == 0 || strcmp(value, "1") == 0)
			*(int *)((char *)c + k->off) = 1;
		else if (strcmp(value, "no") == 0 ||
		    strcmp(value, "false") == 0 || strcmp(value, "off") == 0 ||
		    strcmp(value, "0") == 0)
			*(int *)((char *)c + k->off) = 0;
		else
			return error_set(err, SATCHEL_EINVALID, "\"%s\": "
			    "expected yes or no", value);
		return 0;
	case CONF_LEVEL:
		if ((rc = log_level_parse(value)) < 0)
			return error_set(err, SATCHEL_EINVALID, "\"%s\": "
			    "expected error, warn, info or debug", value);
		*(unsigned *)((char *)c + k->off) = (unsigned)rc;
		return 0;
	case CONF_PATTERNS:
		if ((rc = conf_parse_patterns(&v, &n, value, err)) != 0)
			return rc;
		strv_free(c->bundles, c->nbundles);
		c->bundles = v;
		c->nbundles = n;
		return 0;
	case CONF_STRING:
		break;
	}
	sp = (char **)((char *)c + k->off);
	free(*sp);
	*sp = xstrdup(value);
	return 0;
}

static int
conf_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/*
 * Why a parser of its own rather than kv_parse: that one is bundle.conf's
 * (language suffixes, no sections, no ';' comments); a daemon config
 * follows the INI habits operators know. Each line is read whole, so a
 * message can name its line and key.
 */
int
conf_parse(struct conf *c, const char *buf, size_t len, const char *name,
    struct error *err)
{
	const char	*p = buf, *end = buf + len, *nl, *s, *e, *eq;
	char		*key = NULL, *value = NULL, **seen = NULL;
	size_t		 nseen = 0, i;
	unsigned	 line = 0;
	int		 rc = 0;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		for (s = p; s < nl && conf_space(*s); s++)
			;
		for (e = nl; e > s && conf_space(e[-1]); e--)
			;
		if (memchr(s, '\0', (size_t)(e - s)) != NULL) {
			rc = error_set(err, SATCHEL_EINVALID, "%s:%u: a NUL "
			    "byte", name, line);
			goto out;
		}
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (e[-1] != ']' || e - s != sizeof "[satcheld]" - 1 ||
			    memcmp(s, "[satcheld]", (size_t)(e - s)) != 0) {
				rc = error_set(err, SATCHEL_EINVALID, "%s:%u: "
				    "\"%.*s\": the only section is [satcheld]",
				    name, line, (int)(e - s), s);
				goto out;
			}
			continue;
		}
		if ((eq = memchr(s, '=', (size_t)(e - s))) == NULL) {
			rc = error_set(err, SATCHEL_EINVALID, "%s:%u: expected "
			    "KEY = VALUE, a [section] or a comment", name, line);
			goto out;
		}
		free(key);
		free(value);
		for (e = eq; e > s && conf_space(e[-1]); e--)
			;
		key = xstrndup(s, (size_t)(e - s));
		for (s = eq + 1; s < nl && conf_space(*s); s++)
			;
		for (e = nl; e > s && conf_space(e[-1]); e--)
			;
		value = xstrndup(s, (size_t)(e - s));
		if (key[0] == '\0') {
			rc = error_set(err, SATCHEL_EINVALID, "%s:%u: no key "
			    "before '='", name, line);
			goto out;
		}
		if (!conf_known(key)) {
			rc = error_set(err, SATCHEL_EINVALID, "%s:%u: %s: "
			    "unknown key", name, line, key);
			goto out;
		}
		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i], key) == 0) {
				rc = error_set(err, SATCHEL_EINVALID, "%s:%u: "
				    "%s: set twice", name, line, key);
				goto out;
			}
		if ((rc = conf_set(c, key, value, err)) != 0) {
			error_prefix(err, "%s:%u: %s", name, line, key);
			goto out;
		}
		seen = xreallocarray(seen, nseen + 1, sizeof *seen);
		seen[nseen++] = key;	/* ownership moved to seen */
		key = NULL;
	}
out:
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	free(key);
	free(value);
	return rc;
}

int
conf_load(struct conf *c, const char *path, struct error *err)
{
	char	*buf = NULL;
	size_t	 len;
	int	 rc;

	if ((rc = file_read_all(&buf, &len, path, CONF_FILE_MAX, err)) != 0)
		goto out;
	rc = conf_parse(c, buf, len, path, err);
out:
	free(buf);
	return rc;
}
