/*
 * conf.h: every satcheld option in one struct, filled from defaults, then
 * an INI file (-c FILE), then the command line; the same key names and
 * checks serve all three, so a value means the same wherever it is set.
 */
#ifndef SATCHEL_CONF_H
#define SATCHEL_CONF_H

#include <stddef.h>

#include "error.h"

#define CONF_SYNC_LISTEN_DEFAULT	"0.0.0.0:7461"
#define CONF_IDLE_DEFAULT		60
#define CONF_MAX_CONN_DEFAULT		256
#define CONF_INTERVAL_DEFAULT		3600
#define CONF_RETRY_DEFAULT		30
#define CONF_GIT_POLL_DEFAULT		10
#define CONF_HTTP_THREADS_DEFAULT	2
#define CONF_HTTP_IDLE_DEFAULT		30
#define CONF_FILE_MAX			(256 * 1024)
#define CONF_BUNDLES_MAX		256

/*
 * Strings are malloc'd (NULL: not set). To add an option: a field here,
 * a row in conf.c's conf_keys[] (its name is both the INI key and the
 * long option), and a line in satcheld's --help.
 */
struct conf {
	char		*store;
	char		*sync_listen;
	char		*port_file;
	unsigned	 idle_timeout;		/* seconds */
	unsigned	 max_connections;
	unsigned	 min_rate;		/* bytes a second; 0: none */
	unsigned	 min_rate_window;	/* seconds */

	/* Mirror mode: set when upstream is. */
	char		*upstream;		/* satchel://HOST:PORT or a store */
	char		*trust;			/* policy for a store made anew */
	unsigned	 interval;		/* seconds between pulls */
	unsigned	 retry;			/* first back-off after a failure */
	char		**bundles;		/* fnmatch patterns; 0: all */
	size_t		 nbundles;

	/* Git intake (origin only): set when git_repos is. */
	char		*git_repos;		/* bare repositories under it */
	unsigned	 git_poll;		/* seconds between looks */

	/* The web library: on when http_listen is set. */
	char		*http_listen;
	unsigned	 http_threads;
	unsigned	 http_idle_timeout;	/* seconds */

	/* Running as a service. */
	char		*user;			/* drop root to it after binding */
	int		 syslog;		/* log to syslog(3), not stderr */
	unsigned	 log_level;		/* enum log_level */
};

/* Every field at its default. */
void	conf_init(struct conf *);
void	conf_free(struct conf *);		/* the fields; NULL-safe */
void	conf_copy(struct conf *out, const struct conf *);

/* 1 when key names an option (an INI key or a long option). */
int	conf_known(const char *key);
/* Sets one option from its text. A list (bundles) is replaced whole: its
 * value is space-separated patterns. Messages name neither the file nor
 * the key: the caller says where the value came from. */
int	conf_set(struct conf *, const char *key, const char *value,
	    struct error *err);
/* Applies the INI file at path over what c holds: blank lines, '#' and
 * ';' comment lines, `[satcheld]` section headers, `key = value`. A key
 * may appear once. On failure the message is "PATH:LINE: KEY: why" and c
 * may be half-updated (load into a copy to keep the old one). */
int	conf_load(struct conf *, const char *path, struct error *err);
/* The same for a text already in memory; name is used in messages. */
int	conf_parse(struct conf *, const char *buf, size_t len,
	    const char *name, struct error *err);

#endif
