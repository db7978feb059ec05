/*
 * main.c owns satcheld's command line, its signals and its event loop:
 * it builds the configuration (defaults, then -c FILE, then the command
 * line), opens the store (read-only), starts the sync listener and, with
 * an upstream, the mirror; writes the port file and runs the loop. SIGHUP
 * re-reads the configuration and the store's trust policy and catalog;
 * SIGTERM or SIGINT stops accepting, stops a pull, lets connections
 * finish for up to MAIN_GRACE_SECONDS and frees everything before
 * exiting 0.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include "conf.h"
#include "error.h"
#include "log.h"
#include "fsutil.h"
#include "http.h"
#include "intake.h"
#include "listen.h"
#include "mirror.h"
#include "stats.h"
#include "store.h"
#include "sync-conn.h"
#include "util.h"

#define MAIN_GRACE_SECONDS		5
#define MAIN_ENOSTORE			-100	/* no store named anywhere */
#define MAIN_STATS_FLUSH_SECONDS	60	/* usage counts reach stats/ */

#define MAIN_OPT_SYSLOG		256	/* long options without a letter */
#define MAIN_OPT_LOG_LEVEL	257

/*
 * The command line. Every option but config, help and version is a
 * conf key of the same name (daemon/conf.c checks its value), so an
 * option added here and to conf.c's table works in both places.
 */
static const struct option main_opts[] = {
	{ "config",		required_argument,	NULL,	'c' },
	{ "store",		required_argument,	NULL,	's' },
	{ "sync-listen",	required_argument,	NULL,	'l' },
	{ "port-file",		required_argument,	NULL,	'p' },
	{ "idle-timeout",	required_argument,	NULL,	't' },
	{ "max-connections",	required_argument,	NULL,	'm' },
	{ "min-rate",		required_argument,	NULL,	'R' },
	{ "upstream",		required_argument,	NULL,	'u' },
	{ "trust",		required_argument,	NULL,	'T' },
	{ "interval",		required_argument,	NULL,	'i' },
	{ "retry",		required_argument,	NULL,	'r' },
	{ "bundles",		required_argument,	NULL,	'b' },
	{ "git-repos",		required_argument,	NULL,	'g' },
	{ "git-poll",		required_argument,	NULL,	'P' },
	{ "http-listen",	required_argument,	NULL,	'H' },
	{ "http-threads",	required_argument,	NULL,	'N' },
	{ "http-idle-timeout",	required_argument,	NULL,	'I' },
	{ "user",		required_argument,	NULL,	'U' },
	{ "syslog",		no_argument,		NULL,	MAIN_OPT_SYSLOG },
	{ "log-level",		required_argument,	NULL,	MAIN_OPT_LOG_LEVEL },
	{ "help",		no_argument,		NULL,	'h' },
	{ "version",		no_argument,		NULL,	'V' },
	{ NULL, 0, NULL, 0 }
};
#define MAIN_SHORT_OPTS	"c:s:l:p:t:m:R:u:T:i:r:b:g:P:H:N:I:U:hV"

/* What the command line set: applied over the config file at start and
 * again at each reload, so the command line always wins. */
struct main_args {
	const char	*config;
	const char	**keys;
	char		**values;
	size_t		  n;
};

struct daemon {
	struct event_base	*base;
	struct store		*store;
	struct listen		*sync_listen;
	struct sync_server	*sync;
	struct mirror		*mirror;
	struct intake		*intake;
	struct http_server	*http;
	struct stats		*stats;
	struct event		*stats_timer;
	char			*stats_dir;	/* the store, for the flusher */
	pthread_t		 stats_thread;
	int			 stats_busy;	/* atomic: a flush runs */
	int			 stats_joinable;
	struct event		*sigterm, *sigint, *sighup, *grace;
	struct conf		 conf;		/* in force */
	const struct main_args	*args;
	int			 stopping;
};

static void
satcheld_help(FILE *f)
{
	fprintf(f,
"usage: satcheld --store DIR [--sync-listen ADDR:PORT] [--port-file FILE]\n"
"                [--idle-timeout SECONDS] [--max-connections N]\n"
"                [--min-rate BYTES[/SECONDS]]\n"
"                [--upstream URL|DIR [--trust POLICY] [--interval SECONDS]\n"
"                 [--retry SECONDS] [--bundles PATTERN...]]\n"
"                [--git-repos DIR [--git-poll SECONDS]]\n"
"                [--http-listen ADDR:PORT [--http-threads N]\n"
"                 [--http-idle-timeout SECONDS]] [--user NAME]\n"
"                [--syslog] [--log-level LEVEL] [-c CONFIG]\n"
"       satcheld --help | --version\n"
"\n"
"The Satchel daemon: serves the store DIR over the sync protocol\n"
"(protocol/SPEC.md §11) and, with --upstream, keeps it a mirror of another\n"
"store, pulling while it goes on serving what it has.\n"
"\n"
"Options (all but -c, -h and -V are also keys of the config file):\n"
"  -c, --config FILE          read options from the INI file FILE first;\n"
"                             the command line overrides it\n"
"  -s, --store DIR            the store to serve (required)\n"
"  -l, --sync-listen ADDR:PORT\n"
"                             where to listen (default %s;\n"
"                             port 0 picks a free port; IPv6 as [ADDR]:PORT)\n"
"  -p, --port-file FILE       once listening, write \"sync PORT\" (and\n"
"                             \"http PORT\" with --http-listen) to FILE\n"
"  -t, --idle-timeout SECONDS close connections idle this long (default %d)\n"
"  -m, --max-connections N    refuse more connections with ERROR busy\n"
"                             (default %d)\n"
"  -R, --min-rate BYTES[/SECONDS]\n"
"                             drop a connection with answers or a frame\n"
"                             pending that moves fewer than BYTES a second\n"
"                             over SECONDS (default %d/%d; 0: no minimum)\n"
"  -h, --help                 show this help\n"
"  -V, --version              show the version and the libevent version\n"
"\n"
"Mirror mode:\n"
"  -u, --upstream URL|DIR     pull from satchel://HOST:PORT (another\n"
"                             satcheld) or from a store directory: at\n"
"                             start, then every --interval\n"
"  -T, --trust POLICY         if DIR is not a store yet, make it one that\n"
"                             trusts POLICY (a trust policy file) before\n"
"                             the first pull; without it a missing store is\n"
"                             an error: a mirror never adopts the policy its\n"
"                             upstream hands it\n"
"  -i, --interval SECONDS     between pulls (default %d), give or take 10%%\n"
"  -r, --retry SECONDS        after a failed pull retry in SECONDS, then\n"
"                             twice that, and so on up to --interval\n"
"                             (default %d)\n"
"  -b, --bundles PATTERN...   take only bundles whose names match one of\n"
"                             the shell patterns (fnmatch(3): * ? [...]);\n"
"                             several in one argument separated by spaces,\n"
"                             the option repeated, or more arguments after\n"
"                             it (default: every bundle)\n"
"\n"
"Git intake (an origin only):\n"
"  -g, --git-repos DIR        publish the release tags (satchel/N, made by\n"
"                             `satchel build --tag`) pushed to the bare\n"
"                             repositories under DIR: each tagged tree is\n"
"                             checked file by file against the signed\n"
"                             manifest in its tag, then published exactly\n"
"                             as `satchel publish` would; a tag that fails\n"
"                             is logged and skipped\n"
"  -P, --git-poll SECONDS     look for new tags this often (default %d)\n"
"\n"
"The web library for learners:\n"
"  -H, --http-listen ADDR:PORT\n"
"                             serve the library over HTTP: the bundles'\n"
"                             pages, every file of a release at\n"
"                             /b/NAME/PATH, lesson zips, bundle downloads,\n"
"                             the JSON API (/api/v1), an OPDS feed (/opds),\n"
"                             /metrics and /healthz (README, \"Web\n"
"                             library\"); off unless given\n"
"  -N, --http-threads N       threads serving HTTP (default %d)\n"
"  -I, --http-idle-timeout SECONDS\n"
"                             close HTTP connections idle this long\n"
"                             (default %d)\n"
"\n"
"Running as a service:\n"
"  -U, --user NAME            once the sockets are bound, switch to the\n"
"                             user NAME and its groups; as root satcheld\n"
"                             refuses to start without it (--user root\n"
"                             keeps root on purpose). The store must be\n"
"                             writable by NAME\n"
"      --syslog               log to syslog (facility daemon) instead of\n"
"                             stderr\n"
"      --log-level LEVEL      error, warn, info (default) or debug\n"
"\n"
"Views and downloads are counted per bundle and lesson (no addresses,\n"
"nothing about the learner) and added to STORE/stats/DAY.json every\n"
"minute and at exit; `satchel report` reads them.\n"
"\n"
"Every pull checks the upstream's catalog and each release against this\n"
"store's own trust policy: a catalog signed by an unknown key, older than\n"
"the one held, or expired, a release that its catalog does not pin, and\n"
"an object whose bytes differ from the signed manifest are refused with\n"
"one log line, and the store stays as it was. A newer trust policy\n"
"upstream is taken only as a chain of successors, each signed by a\n"
"threshold of the root keys of the one before; an older one, or another\n"
"with the same serial, is refused. Mirrors pass the origin's catalog on\n"
"unchanged, so a mirror can be another's upstream.\n"
"\n"
"The config file: lines \"key = value\" (keys as the long options above),\n"
"an optional [satcheld] section header, comment lines starting with '#'\n"
"or ';'; bundles is a space-separated list. Errors name FILE:LINE and\n"
"the key.\n"
"\n"
"Signals: SIGHUP re-reads the config file and the store's trust policy\n"
"and catalog without dropping connections (--store, --sync-listen and\n"
"--port-file need a restart; a file that does not parse is logged and\n"
"the configuration in force stays); SIGTERM or SIGINT stops a pull under\n"
"way, stops accepting, and lets connections finish for up to %d s.\n"
"\n"
"Exit status: 0 stopped by a signal, 1 failure (a missing store, a port\n"
"taken, a config file that does not parse), 2 usage error on the command\n"
"line.\n",
	    CONF_SYNC_LISTEN_DEFAULT, CONF_IDLE_DEFAULT, CONF_MAX_CONN_DEFAULT,
	    SYNC_MIN_RATE_DEFAULT, SYNC_MIN_RATE_WINDOW, CONF_INTERVAL_DEFAULT,
	    CONF_RETRY_DEFAULT, CONF_GIT_POLL_DEFAULT,
	    CONF_HTTP_THREADS_DEFAULT, CONF_HTTP_IDLE_DEFAULT,
	    MAIN_GRACE_SECONDS);
}

static void	main_sync_status(void *, const char *, int64_t, int64_t);

/* Tells systemd (a Type=notify unit) where satcheld is: READY=1 once it
 * listens, RELOADING=1 and READY=1 around a SIGHUP, STOPPING=1. Without
 * libsystemd, or outside systemd (no $NOTIFY_SOCKET), nothing. */
static void
main_notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	int	rc;

	if ((rc = sd_notify(0, state)) < 0)
		log_warn("sd_notify: %s", strerror(-rc));
#else
	(void)state;
#endif
}

static void
main_args_add(struct main_args *a, const char *key, const char *value)
{
	size_t	i;
	char	*v;

	/* Patterns add up: --bundles 'a-*' --bundles b c. */
	if (strcmp(key, "bundles") == 0)
		for (i = 0; i < a->n; i++)
			if (strcmp(a->keys[i], key) == 0) {
				v = xasprintf("%s %s", a->values[i], value);
				free(a->values[i]);
				a->values[i] = v;
				return;
			}
	a->keys = xreallocarray(a->keys, a->n + 1, sizeof *a->keys);
	a->values = xreallocarray(a->values, a->n + 1, sizeof *a->values);
	a->keys[a->n] = key;
	a->values[a->n++] = xstrdup(value);
}

static void
main_args_free(struct main_args *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++)
		free(a->values[i]);
	free(a->keys);
	free(a->values);
}

/* Defaults, then the config file, then the command line. */
static int
main_conf_build(struct conf *out, const struct main_args *a,
    struct error *err)
{
	struct conf	c;
	size_t		i;
	int		rc;

	conf_init(&c);
	if (a->config != NULL && (rc = conf_load(&c, a->config, err)) != 0)
		goto out;
	for (i = 0; i < a->n; i++)
		if ((rc = conf_set(&c, a->keys[i], a->values[i], err)) != 0) {
			error_prefix(err, "--%s", a->keys[i]);
			goto out;
		}
	if (c.store == NULL) {
		rc = error_set(err, MAIN_ENOSTORE, "--store DIR (or "
		    "\"store = DIR\" in the config file) is required");
		goto out;
	}
	*out = c;
	memset(&c, 0, sizeof c);	/* ownership moved to the caller */
	rc = 0;
out:
	conf_free(&c);
	return rc;
}

/* Returns 0 to go on, -1 when --help or --version has answered (exit 0),
 * or 2 after a usage error. */
static int
main_parse_args(struct main_args *a, int argc, char **argv)
{
	struct conf	 scratch;
	struct error	 err;
	const char	*key, *val;
	int		 opt, i, rc = 0, bundles = 0;

	conf_init(&scratch);
	while ((opt = getopt_long(argc, argv, MAIN_SHORT_OPTS, main_opts,
	    NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->config = optarg;
			continue;
		case 'h':
			satcheld_help(stdout);
			rc = -1;
			goto out;
		case 'V':
			printf("satcheld %s (libevent %s)\n", PACKAGE_VERSION,
			    event_get_version());
			rc = -1;
			goto out;
		case '?':
		case ':':
			satcheld_help(stderr);
			rc = 2;
			goto out;
		}
		for (key = NULL, i = 0; main_opts[i].name != NULL; i++)
			if (main_opts[i].val == opt)
				key = main_opts[i].name;
		if (key == NULL)
			fatal("option %d has no table entry", opt);
		val = optarg != NULL ? optarg : "yes";	/* --syslog */
		/* Checked now, so that a bad value is a usage error. */
		if (conf_set(&scratch, key, val, &err) != 0) {
			fprintf(stderr, "satcheld: --%s: %s\n", key, err.msg);
			rc = 2;
			goto out;
		}
		if (strcmp(key, "bundles") == 0)
			bundles = 1;
		main_args_add(a, key, val);
	}
	/* Arguments after the options are more --bundles patterns. */
	for (i = optind; i < argc; i++) {
		if (!bundles) {
			fprintf(stderr, "satcheld: unexpected argument \"%s\"\n",
			    argv[i]);
			satcheld_help(stderr);
			rc = 2;
			goto out;
		}
		if (conf_set(&scratch, "bundles", argv[i], &err) != 0) {
			fprintf(stderr, "satcheld: --bundles: %s\n", err.msg);
			rc = 2;
			goto out;
		}
		main_args_add(a, "bundles", argv[i]);
	}
out:
	conf_free(&scratch);
	return rc;
}

static void
main_done_cb(void *arg)
{
	struct daemon	*d = arg;

	event_base_loopexit(d->base, NULL);
}

static void
main_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;

	sync_server_close_all(d->sync, "shutdown: grace period over");
	event_base_loopexit(d->base, NULL);
}

static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv = { MAIN_GRACE_SECONDS, 0 };

	/* Repeats (timeout(1) signals the child and then its group) change
	 * nothing: the grace timer already bounds the wait. */
	if (d->stopping)
		return;
	d->stopping = 1;
	main_notify("STOPPING=1");
	log_info("%s: stopping (%u connections, up to %d s)",
	    strsignal((int)sig), sync_server_count(d->sync),
	    MAIN_GRACE_SECONDS);
	mirror_stop(d->mirror);
	intake_stop(d->intake);		/* no new publishes */
	listen_free(d->sync_listen);	/* no new connections */
	d->sync_listen = NULL;
	evtimer_add(d->grace, &tv);
	sync_server_shutdown(d->sync, main_done_cb, d);
}

/* The store as a reader sees it now: its policy parses and is signed by
 * its roots, its catalog parses. Nothing is cached from it (sync-conn.c
 * reads meta/ at each request and every pull re-reads the policy), so
 * checking and logging is what a reload does with it. */
static void
main_check_store(const char *dir, const char *when)
{
	struct store		*s = NULL;
	const struct trust	*t;
	const struct catalog	*c;
	struct error		 err;

	if (store_open(&s, dir, STORE_READ, &err) != 0) {
		log_error("%s: store %s: %s", when, dir,
		    err.msg);
		return;
	}
	t = store_trust(s);
	c = store_catalog(s);
	if (t != NULL && c != NULL)
		log_info("%s: store %s: trust policy serial "
		    "%llu (%zu publisher%s), catalog serial %llu", when, dir,
		    (unsigned long long)t->serial, t->npublishers,
		    t->npublishers == 1 ? "" : "s",
		    (unsigned long long)c->serial);
	else
		log_info("%s: store %s: %s%s", when, dir,
		    t == NULL ? "no trust policy" : "trust policy loaded",
		    c == NULL ? ", no catalog yet" : "");
	store_close(s);
}

static void
main_server_opts(struct sync_server_opts *so, const struct conf *c)
{
	memset(so, 0, sizeof *so);
	so->idle_timeout = c->idle_timeout;
	so->max_connections = c->max_connections;
	so->min_rate = c->min_rate;
	so->min_rate_window = c->min_rate_window;
}

static void
main_restart_only(const char *key, const char *was, const char *now)
{
	if ((was == NULL) != (now == NULL) ||
	    (was != NULL && strcmp(was, now) != 0))
		log_warn("reload: %s changed from %s to %s: "
		    "needs a restart (keeping %s)", key,
		    was != NULL ? was : "(none)", now != NULL ? now : "(none)",
		    was != NULL ? was : "(none)");
}

static void
main_reload(struct daemon *d)
{
	struct conf		 c;
	struct error		 err;
	struct sync_server_opts	 so;

	main_notify("RELOADING=1");
	log_info("SIGHUP: reloading%s%s",
	    d->args->config != NULL ? " " : "",
	    d->args->config != NULL ? d->args->config : " (no config file)");
	if (main_conf_build(&c, d->args, &err) != 0) {
		log_error("reload: %s; the configuration in "
		    "force stays", err.msg);
		main_notify("READY=1");
		return;
	}
	log_open((enum log_level)c.log_level, c.syslog);
	/* What cannot change on a live daemon keeps its value. */
	main_restart_only("store", d->conf.store, c.store);
	main_restart_only("sync-listen", d->conf.sync_listen, c.sync_listen);
	main_restart_only("port-file", d->conf.port_file, c.port_file);
	main_restart_only("git-repos", d->conf.git_repos, c.git_repos);
	main_restart_only("http-listen", d->conf.http_listen, c.http_listen);
	main_restart_only("user", d->conf.user, c.user);
	free(c.user);
	c.user = d->conf.user != NULL ? xstrdup(d->conf.user) : NULL;
	if (c.http_threads != d->conf.http_threads ||
	    c.http_idle_timeout != d->conf.http_idle_timeout)
		log_warn("reload: http-threads and "
		    "http-idle-timeout need a restart");
	c.http_threads = d->conf.http_threads;
	c.http_idle_timeout = d->conf.http_idle_timeout;
	free(c.http_listen);
	c.http_listen = d->conf.http_listen != NULL ?
	    xstrdup(d->conf.http_listen) : NULL;
	free(c.store);
	c.store = xstrdup(d->conf.store);
	free(c.sync_listen);
	c.sync_listen = xstrdup(d->conf.sync_listen);
	free(c.port_file);
	c.port_file = d->conf.port_file != NULL ?
	    xstrdup(d->conf.port_file) : NULL;
	free(c.git_repos);
	c.git_repos = d->conf.git_repos != NULL ?
	    xstrdup(d->conf.git_repos) : NULL;
	if (c.git_poll != d->conf.git_poll && d->intake != NULL)
		log_warn("reload: git-poll changed to %u s: "
		    "needs a restart (keeping %u s)", c.git_poll,
		    d->conf.git_poll);
	c.git_poll = d->conf.git_poll;

	if (c.idle_timeout != d->conf.idle_timeout ||
	    c.max_connections != d->conf.max_connections ||
	    c.min_rate != d->conf.min_rate ||
	    c.min_rate_window != d->conf.min_rate_window) {
		main_server_opts(&so, &c);
		sync_server_set_opts(d->sync, &so);
		log_info("reload: idle-timeout %u s, "
		    "max-connections %u, min-rate %u/%u", c.idle_timeout,
		    c.max_connections, c.min_rate, c.min_rate_window);
	}
	if (c.upstream != NULL && store_is_origin(d->store)) {
		log_warn("reload: %s is an origin (it signs "
		    "its own catalog): it cannot mirror %s; upstream ignored",
		    c.store, c.upstream);
		free(c.upstream);
		c.upstream = NULL;
	}
	if (c.upstream != NULL && d->mirror != NULL)
		mirror_configure(d->mirror, &c);
	else if (c.upstream != NULL) {
		d->mirror = mirror_new(d->base, c.store, &c);
		mirror_set_status_cb(d->mirror, main_sync_status, d);
	}
	else if (d->mirror != NULL) {
		mirror_free(d->mirror);
		d->mirror = NULL;
		log_info("reload: no upstream: mirror mode "
		    "off");
	}
	main_check_store(c.store, "reload");
	http_server_reload(d->http);
	conf_free(&d->conf);
	d->conf = c;
	main_notify("READY=1");
}

static void
main_sync_status(void *arg, const char *state, int64_t last_success,
    int64_t last_attempt)
{
	struct daemon	*d = arg;

	http_server_set_sync(d->http, state, last_success, last_attempt);
}

static void
main_stats_flush(struct daemon *d)
{
	struct error	err;

	if (d->stats != NULL && stats_flush(d->stats, d->stats_dir,
	    &err) != 0)
		log_error("usage counts: %s", err.msg);
}

static void *
main_stats_thread(void *arg)
{
	struct daemon	*d = arg;

	main_stats_flush(d);
	__atomic_store_n(&d->stats_busy, 0, __ATOMIC_RELEASE);
	return NULL;
}

/* Why a thread: a flush writes and fsyncs files, which must not hold up
 * the sync connections this loop serves. One flush at a time. */
static void
main_stats_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;

	if (__atomic_load_n(&d->stats_busy, __ATOMIC_ACQUIRE))
		return;			/* the last one is still writing */
	if (d->stats_joinable) {
		pthread_join(d->stats_thread, NULL);
		d->stats_joinable = 0;
	}
	__atomic_store_n(&d->stats_busy, 1, __ATOMIC_RELEASE);
	if (pthread_create(&d->stats_thread, NULL, main_stats_thread, d) == 0)
		d->stats_joinable = 1;
	else
		__atomic_store_n(&d->stats_busy, 0, __ATOMIC_RELEASE);
}

static void
main_hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;

	if (!d->stopping)
		main_reload(d);
}

static int
main_write_port_file(const char *path, unsigned port, unsigned http_port)
{
	struct error	 err;
	char		*line = http_port != 0 ?
	    xasprintf("sync %u\nhttp %u\n", port, http_port) :
	    xasprintf("sync %u\n", port);
	int		 rc;

	rc = file_write_atomic(path, line, strlen(line), 0644, &err);
	if (rc != 0)
		log_error("%s", err.msg);
	free(line);
	return rc;
}

/*
 * A mirror's store that does not exist yet is made only from a policy
 * the operator names (--trust): taking whatever policy the upstream
 * serves would let any upstream decide what this node trusts.
 */
static int
main_mirror_store(const struct conf *c)
{
	struct error	 err;
	struct stat	 sb;
	char		*marker = xasprintf("%s/STORE", c->store);
	int		 rc = 0;

	if (stat(marker, &sb) == 0 && c->trust != NULL)
		log_warn("%s is a store already: its own trust "
		    "policy applies (--trust %s only makes a new store)",
		    c->store, c->trust);
	if (stat(marker, &sb) == 0 || errno != ENOENT || c->trust == NULL)
		goto out;
	if ((rc = store_init(c->store, c->trust, NULL, (int64_t)time(NULL),
	    &err)) != 0) {
		log_error("cannot make the mirror store %s: "
		    "%s", c->store, err.msg);
		goto out;
	}
	log_info("made the store %s, trusting the policy "
	    "%s", c->store, c->trust);
out:
	free(marker);
	return rc;
}

/* A school's server holds a connection per phone: take every descriptor
 * the hard limit allows rather than the 1024 a login shell starts with. */
static void
main_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Who satcheld runs as: resolved before anything is bound, so that a
 * misspelt --user fails before the port is taken. */
struct main_user {
	int		 drop;		/* 1: switch to uid/gid after binding */
	uid_t		 uid;
	gid_t		 gid;
	char		*name;
};

/* Returns 0, 1 (no such user, cannot switch) or 2 (root without
 * --user: a usage error). */
static int
main_user_resolve(struct main_user *u, const char *name)
{
	struct passwd	*pw;

	memset(u, 0, sizeof *u);
	if (name == NULL) {
		if (geteuid() != 0)
			return 0;
		log_error("refusing to run as root; give --user NAME");
		return 2;
	}
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		log_error("--user %s: %s", name, errno != 0 ?
		    strerror(errno) : "no such user");
		return 1;
	}
	if (geteuid() != 0) {
		if (pw->pw_uid == geteuid())
			return 0;	/* already that user */
		log_error("--user %s: only root can switch to another user "
		    "(running as uid %u)", name, (unsigned)geteuid());
		return 1;
	}
	if (pw->pw_uid == 0) {
		log_warn("--user %s: running as root, as asked", name);
		return 0;
	}
	u->drop = 1;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->name = xstrdup(name);
	return 0;
}

/* Groups first (they need root), then the gid, then the uid; then check
 * that root is gone for good: a setuid(0) that succeeds would mean a
 * saved set-user-ID of 0 is still there. */
static int
main_user_drop(const struct main_user *u)
{
	if (initgroups(u->name, u->gid) != 0) {
		log_error("--user %s: initgroups: %s", u->name,
		    strerror(errno));
		return 1;
	}
	if (setgid(u->gid) != 0 || setuid(u->uid) != 0) {
		log_error("--user %s: cannot switch to uid %u gid %u: %s",
		    u->name, (unsigned)u->uid, (unsigned)u->gid,
		    strerror(errno));
		return 1;
	}
	if (getuid() != u->uid || geteuid() != u->uid ||
	    getgid() != u->gid || getegid() != u->gid || setuid(0) != -1) {
		log_error("--user %s: the switch to uid %u did not take",
		    u->name, (unsigned)u->uid);
		return 1;
	}
	log_info("running as %s (uid %u, gid %u)", u->name,
	    (unsigned)u->uid, (unsigned)u->gid);
	return 0;
}

/* Publishes, pulls, usage counts and the zip cache all write into the
 * store: say now, naming the path and the user, rather than at the first
 * publish. A store not made yet is store_init's to report. */
static int
main_store_writable(const char *dir, const struct main_user *u)
{
	if (access(dir, R_OK | W_OK | X_OK) == 0 || errno == ENOENT)
		return 0;
	log_error("store %s is not writable by the user %s (uid %u): %s "
	    "(chown -R %s %s)", dir, u->name, (unsigned)u->uid,
	    strerror(errno), u->name, dir);
	return 1;
}

static void
main_cleanup(struct daemon *d)
{
	/* Freeing the signal events restores the default actions: a second
	 * TERM (timeout(1) also signals its process group) must not kill us
	 * halfway through freeing. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	intake_free(d->intake);		/* waits for a publish, bounded */
	mirror_free(d->mirror);
	http_server_free(d->http);	/* joins its threads */
	if (d->stats_joinable)
		pthread_join(d->stats_thread, NULL);
	main_stats_flush(d);		/* after the last request */
	stats_free(d->stats);
	free(d->stats_dir);
	if (d->stats_timer != NULL)
		event_free(d->stats_timer);
	sync_server_free(d->sync);
	listen_free(d->sync_listen);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->sigint != NULL)
		event_free(d->sigint);
	if (d->sighup != NULL)
		event_free(d->sighup);
	if (d->grace != NULL)
		event_free(d->grace);
	/* event_free() put the default actions back: ignore again. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (d->base != NULL)
		event_base_free(d->base);
	store_close(d->store);
	conf_free(&d->conf);
	libevent_global_shutdown();
}

int
main(int argc, char **argv)
{
	struct daemon			d;
	struct main_args		a;
	struct main_user		u;
	struct http_bound		hb;
	struct sync_server_opts		so;
	struct error			err;
	int				rc;

	memset(&d, 0, sizeof d);
	memset(&a, 0, sizeof a);
	memset(&u, 0, sizeof u);
	memset(&hb, 0, sizeof hb);
	d.args = &a;
	if ((rc = main_parse_args(&a, argc, argv)) != 0) {
		main_args_free(&a);
		return rc == -1 ? 0 : rc;
	}
	rc = 1;
	if (main_conf_build(&d.conf, &a, &err) != 0) {
		log_error("%s", err.msg);
		/* The command line's values were checked already: what fails
		 * here is the file (exit 1), or no store named anywhere (a
		 * usage error). */
		if (err.code == MAIN_ENOSTORE) {
			satcheld_help(stderr);
			rc = 2;
		}
		goto out;
	}

	log_open((enum log_level)d.conf.log_level, d.conf.syslog);
	if ((rc = main_user_resolve(&u, d.conf.user)) != 0)
		goto out;
	rc = 1;
	/* Nothing satcheld writes (the port file, stats, the zip cache, a
	 * mirror's store) is ever group- or world-writable. */
	umask(umask(0) | 022);
	/* A peer that vanishes must not kill the daemon with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();
	/* Bind while still root (a port below 1024), then drop root before
	 * the store is read or written, so that what it makes is the
	 * user's own. */
	if (listen_bind(&d.sync_listen, d.conf.sync_listen, &err) != 0 ||
	    (d.conf.http_listen != NULL && http_server_bind(&hb,
	    d.conf.http_listen, d.conf.http_threads, &err) != 0)) {
		log_error("%s", err.msg);
		goto out;
	}
	if (u.drop && (main_user_drop(&u) != 0 ||
	    main_store_writable(d.conf.store, &u) != 0))
		goto out;
	if (d.conf.upstream != NULL && main_mirror_store(&d.conf) != 0)
		goto out;
	if (store_open(&d.store, d.conf.store, STORE_READ, &err) != 0) {
		log_error("cannot open store %s: %s%s",
		    d.conf.store, err.msg, d.conf.upstream != NULL ?
		    " (a mirror makes a new store only with --trust POLICY)" :
		    "");
		goto out;
	}
	if (d.conf.upstream != NULL && store_is_origin(d.store)) {
		log_error("%s is an origin (it signs its own "
		    "catalog): it cannot mirror %s", d.conf.store,
		    d.conf.upstream);
		goto out;
	}
	if ((d.base = event_base_new()) == NULL)
		fatal("event_base_new failed");
	main_server_opts(&so, &d.conf);
	d.sync = sync_server_new(d.base, d.store, &so);
	listen_start(d.sync_listen, d.base, sync_server_accept, d.sync);
	if ((d.sigterm = evsignal_new(d.base, SIGTERM, main_signal_cb,
	    &d)) == NULL || (d.sigint = evsignal_new(d.base, SIGINT,
	    main_signal_cb, &d)) == NULL || (d.sighup = evsignal_new(d.base,
	    SIGHUP, main_hup_cb, &d)) == NULL ||
	    (d.grace = evtimer_new(d.base, main_grace_cb, &d)) == NULL)
		fatal("evsignal_new failed");
	evsignal_add(d.sigterm, NULL);
	evsignal_add(d.sigint, NULL);
	evsignal_add(d.sighup, NULL);
	if (d.conf.http_listen != NULL) {
		struct http_server_opts	ho;
		struct timeval		tv = { MAIN_STATS_FLUSH_SECONDS, 0 };

		d.stats = stats_new();
		d.stats_dir = xstrdup(d.conf.store);
		memset(&ho, 0, sizeof ho);
		ho.store = d.conf.store;
		ho.listen = d.conf.http_listen;
		ho.threads = d.conf.http_threads;
		ho.idle_timeout = d.conf.http_idle_timeout;
		ho.stats = d.stats;
		ho.bound = &hb;
		if (http_server_start(&d.http, &ho, &err) != 0) {
			log_error("%s", err.msg);
			goto out;
		}
		if ((d.stats_timer = event_new(d.base, -1, EV_PERSIST,
		    main_stats_cb, &d)) == NULL)
			fatal("event_new failed");
		evtimer_add(d.stats_timer, &tv);
	}
	if (d.conf.port_file != NULL && main_write_port_file(d.conf.port_file,
	    listen_port(d.sync_listen), d.http != NULL ?
	    http_server_port(d.http) : 0) != 0)
		goto out;
	log_info("serving %s on sync %s%s%s",
	    store_dir(d.store), listen_name(d.sync_listen),
	    d.http != NULL ? " and http " : "",
	    d.http != NULL ? http_server_name(d.http) : "");
	if (d.conf.upstream != NULL) {
		d.mirror = mirror_new(d.base, d.conf.store, &d.conf);
		mirror_set_status_cb(d.mirror, main_sync_status, &d);
	}
	/* Last: nothing may fail after a publish can have started. */
	if (d.conf.git_repos != NULL && intake_start(&d.intake, d.base,
	    d.conf.store, d.conf.git_repos, d.conf.git_poll, &err) != 0) {
		log_error("%s", err.msg);
		goto out;
	}
	main_notify("READY=1");
	if (event_base_dispatch(d.base) == -1) {
		log_error("event loop failed");
		goto out;
	}
	log_info("stopped");
	rc = 0;
out:
	main_cleanup(&d);
	http_bound_close(&hb);
	free(u.name);
	log_close();
	main_args_free(&a);
	return rc;
}
