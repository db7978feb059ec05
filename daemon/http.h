/*
 * http.h: satcheld's web library for learners (--http-listen): pages,
 * files straight from objects/, lesson zips, the JSON API, OPDS, metrics.
 * It runs on threads of its own, each with its own event loop and evhttp,
 * all accepting on one port (SO_REUSEPORT), so serving learners never
 * waits on the sync side and uses both cores of a small server.
 */
#ifndef SATCHEL_HTTP_H
#define SATCHEL_HTTP_H

#include <stdint.h>

#include "error.h"

#define HTTP_THREADS_DEFAULT	2
#define HTTP_THREADS_MAX	16
#define HTTP_IDLE_DEFAULT	30	/* seconds: keep-alive and slow clients */

struct stats;

/* Listening sockets bound ahead of http_server_start(), one a thread, so
 * that satcheld can bind a privileged port before it drops root. */
struct http_bound {
	int		*fds;
	unsigned	 n;
	unsigned	 port;
	char		 name[96];	/* "ADDR:PORT" */
};

struct http_server_opts {
	const char	*store;
	const char	*listen;	/* ADDR:PORT */
	unsigned	 threads;
	unsigned	 idle_timeout;	/* seconds */
	struct stats	*stats;		/* usage counters, or NULL */
	struct http_bound *bound;	/* NULL: bind listen here; else its
					 * sockets are taken (and it emptied) */
};

/* Binds threads sockets to listen (SO_REUSEPORT). */
int		 http_server_bind(struct http_bound *, const char *listen,
		     unsigned threads, struct error *err);
/* Closes what http_server_start() did not take. NULL-safe. */
void		 http_bound_close(struct http_bound *);

struct http_server;

/* Binds and starts the threads; *out belongs to the caller. */
int		 http_server_start(struct http_server **out,
		     const struct http_server_opts *, struct error *err);
unsigned	 http_server_port(const struct http_server *);
const char	*http_server_name(const struct http_server *);
/* The store's catalog may have changed (SIGHUP, a pull landed). */
void		 http_server_reload(struct http_server *);
/* What /metrics says of the mirror: state is "idle", "pulling" or
 * "failed"; times are seconds since 1970 (0: never). */
void		 http_server_set_sync(struct http_server *, const char *state,
		     int64_t last_success, int64_t last_attempt);
/* Stops accepting, closes every connection, joins the threads, frees. */
void		 http_server_free(struct http_server *);

#endif
