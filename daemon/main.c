/*
 * main.c owns satcheld's command line, its signals and its event loop:
 * it opens the store (read-only), starts the sync listener, writes the
 * port file, runs the loop, and on SIGTERM or SIGINT stops accepting,
 * lets connections finish for up to MAIN_GRACE_SECONDS and frees
 * everything before exiting 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "error.h"
#include "fsutil.h"
#include "listen.h"
#include "store.h"
#include "sync-conn.h"
#include "util.h"

#define MAIN_SYNC_LISTEN_DEFAULT	"0.0.0.0:7461"
#define MAIN_IDLE_DEFAULT		60
#define MAIN_MAX_CONN_DEFAULT		256
#define MAIN_GRACE_SECONDS		5

struct daemon {
	struct event_base	*base;
	struct store		*store;
	struct listen		*sync_listen;
	struct sync_server	*sync;
	struct event		*sigterm, *sigint, *grace;
	int			 stopping;
};

static void
satcheld_help(FILE *f)
{
	fprintf(f,
	    "usage: satcheld --store DIR [--sync-listen ADDR:PORT]\n"
	    "                [--port-file FILE] [--idle-timeout SECONDS]\n"
	    "                [--max-connections N] [--min-rate BYTES[/SECONDS]]\n"
	    "                [--help] [--version]\n"
	    "\n"
	    "The Satchel daemon: serves the store DIR (read-only) over the sync\n"
	    "protocol. SIGTERM or SIGINT stops it gracefully.\n"
	    "\n"
	    "Options:\n"
	    "  -s, --store DIR            the store to serve (required)\n"
	    "  -l, --sync-listen ADDR:PORT\n"
	    "                             where to listen (default %s;\n"
	    "                             port 0 picks a free port; IPv6 as [ADDR]:PORT)\n"
	    "  -p, --port-file FILE       once listening, write \"sync PORT\" to FILE\n"
	    "  -t, --idle-timeout SECONDS close connections idle this long (default %d)\n"
	    "  -m, --max-connections N    refuse more connections with ERROR busy\n"
	    "                             (default %d)\n"
	    "  -r, --min-rate BYTES[/SECONDS]\n"
	    "                             drop a connection with answers or a frame\n"
	    "                             pending that moves fewer than BYTES a second\n"
	    "                             over SECONDS (default 1024/60; 0: no minimum)\n"
	    "  -h, --help                 show this help\n"
	    "  -V, --version              show the version and the libevent version\n"
	    "\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.\n",
	    MAIN_SYNC_LISTEN_DEFAULT, MAIN_IDLE_DEFAULT, MAIN_MAX_CONN_DEFAULT);
}

static int
main_parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max,
    unsigned *out)
{
	uint64_t	v;

	if (parse_u64(s, strlen(s), min, max, &v) != 0) {
		fprintf(stderr, "satcheld: %s: \"%s\" is not a number in "
		    "%llu..%llu\n", opt, s, (unsigned long long)min,
		    (unsigned long long)max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
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
	fprintf(stderr, "satcheld: %s: stopping (%u connections, up to %d s)\n",
	    strsignal((int)sig), sync_server_count(d->sync),
	    MAIN_GRACE_SECONDS);
	listen_free(d->sync_listen);	/* no new connections */
	d->sync_listen = NULL;
	evtimer_add(d->grace, &tv);
	sync_server_shutdown(d->sync, main_done_cb, d);
}

static int
main_write_port_file(const char *path, unsigned port)
{
	struct error	 err;
	char		*line = xasprintf("sync %u\n", port);
	int		 rc;

	rc = file_write_atomic(path, line, strlen(line), 0644, &err);
	if (rc != 0)
		fprintf(stderr, "satcheld: %s\n", err.msg);
	free(line);
	return rc;
}

static void
main_cleanup(struct daemon *d)
{
	/* Freeing the signal events restores the default actions: a second
	 * TERM (timeout(1) also signals its process group) must not kill us
	 * halfway through freeing. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sync_server_free(d->sync);
	listen_free(d->sync_listen);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->sigint != NULL)
		event_free(d->sigint);
	if (d->grace != NULL)
		event_free(d->grace);
	if (d->base != NULL)
		event_base_free(d->base);
	store_close(d->store);
	libevent_global_shutdown();
}

int
main(int argc, char **argv)
{
	static const struct option	opts[] = {
		{ "store",		required_argument,	NULL,	's' },
		{ "sync-listen",	required_argument,	NULL,	'l' },
		{ "port-file",		required_argument,	NULL,	'p' },
		{ "idle-timeout",	required_argument,	NULL,	't' },
		{ "max-connections",	required_argument,	NULL,	'm' },
		{ "min-rate",		required_argument,	NULL,	'r' },
		{ "help",		no_argument,		NULL,	'h' },
		{ "version",		no_argument,		NULL,	'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon			d;
	struct sync_server_opts		so = {
					    .idle_timeout = MAIN_IDLE_DEFAULT,
					    .max_connections = MAIN_MAX_CONN_DEFAULT };
	struct error			err;
	const char			*store_path = NULL, *port_file = NULL;
	const char			*listen_spec = MAIN_SYNC_LISTEN_DEFAULT;
	int				opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "s:l:p:t:m:r:hV", opts, NULL)) !=
	    -1) {
		switch (opt) {
		case 's':
			store_path = optarg;
			break;
		case 'l':
			listen_spec = optarg;
			break;
		case 'p':
			port_file = optarg;
			break;
		case 't':
			if (main_parse_uint("--idle-timeout", optarg, 1, 86400,
			    &so.idle_timeout) != 0)
				return 2;
			break;
		case 'm':
			if (main_parse_uint("--max-connections", optarg, 1,
			    100000, &so.max_connections) != 0)
				return 2;
			break;
		case 'r': {
			/* BYTES[/SECONDS]: see struct sync_server_opts. */
			char	*slash = strchr(optarg, '/');
			char	*bytes = slash != NULL ? xstrndup(optarg,
				    (size_t)(slash - optarg)) : xstrdup(optarg);
			int	 bad;

			so.min_rate_window = SYNC_MIN_RATE_WINDOW;
			bad = main_parse_uint("--min-rate", bytes, 0,
			    1u << 30, &so.min_rate) != 0 || (slash != NULL &&
			    main_parse_uint("--min-rate SECONDS", slash + 1, 1,
			    86400, &so.min_rate_window) != 0);
			free(bytes);
			if (bad)
				return 2;
			break;
		}
		case 'h':
			satcheld_help(stdout);
			return 0;
		case 'V':
			printf("satcheld %s (libevent %s)\n", PACKAGE_VERSION,
			    event_get_version());
			return 0;
		default:
			satcheld_help(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "satcheld: unexpected argument \"%s\"\n",
		    argv[optind]);
		satcheld_help(stderr);
		return 2;
	}
	if (store_path == NULL) {
		fprintf(stderr, "satcheld: --store DIR is required\n");
		satcheld_help(stderr);
		return 2;
	}

	if (listen_check(listen_spec, &err) != 0) {
		fprintf(stderr, "satcheld: --sync-listen %s\n", err.msg);
		return 2;
	}

	memset(&d, 0, sizeof d);
	/* A peer that vanishes must not kill the daemon with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (store_open(&d.store, store_path, STORE_READ, &err) != 0) {
		fprintf(stderr, "satcheld: cannot open store %s: %s\n",
		    store_path, err.msg);
		goto out;
	}
	if ((d.base = event_base_new()) == NULL)
		fatal("event_base_new failed");
	d.sync = sync_server_new(d.base, d.store, &so);
	if (listen_open(&d.sync_listen, d.base, listen_spec,
	    sync_server_accept, d.sync, &err) != 0) {
		fprintf(stderr, "satcheld: %s\n", err.msg);
		goto out;
	}
	if ((d.sigterm = evsignal_new(d.base, SIGTERM, main_signal_cb,
	    &d)) == NULL || (d.sigint = evsignal_new(d.base, SIGINT,
	    main_signal_cb, &d)) == NULL ||
	    (d.grace = evtimer_new(d.base, main_grace_cb, &d)) == NULL)
		fatal("evsignal_new failed");
	evsignal_add(d.sigterm, NULL);
	evsignal_add(d.sigint, NULL);
	if (port_file != NULL &&
	    main_write_port_file(port_file, listen_port(d.sync_listen)) != 0)
		goto out;
	fprintf(stderr, "satcheld: serving %s on sync %s\n",
	    store_dir(d.store), listen_name(d.sync_listen));
	if (event_base_dispatch(d.base) == -1) {
		fprintf(stderr, "satcheld: event loop failed\n");
		goto out;
	}
	fprintf(stderr, "satcheld: stopped\n");
	rc = 0;
out:
	main_cleanup(&d);
	return rc;
}
