/*
 * sync-conn.h: the server side of sync protocol connections
 * (protocol/SPEC.md §11): a sync_server holds the store and every open
 * connection; each connection is a state machine on a bufferevent.
 */
#ifndef SATCHEL_SYNC_CONN_H
#define SATCHEL_SYNC_CONN_H

#include <sys/socket.h>

#include <event2/event.h>

struct store;
struct sync_server;

struct sync_server_opts {
	unsigned	idle_timeout;		/* seconds */
	unsigned	max_connections;
	/* A connection that owes or is owed bytes (requests outstanding,
	 * output queued, a frame begun) and moves fewer than min_rate
	 * bytes a second over min_rate_window seconds is dropped. Window 0:
	 * the defaults (SYNC_MIN_RATE_DEFAULT over SYNC_MIN_RATE_WINDOW);
	 * min_rate 0 with a window: no minimum. */
	unsigned	min_rate;		/* bytes per second */
	unsigned	min_rate_window;	/* seconds */
	unsigned	nworkers;		/* 0: SYNC_WORKERS_DEFAULT */
};

#define SYNC_MIN_RATE_DEFAULT	1024		/* bytes per second */
#define SYNC_MIN_RATE_WINDOW	60		/* seconds */
#define SYNC_WORKERS_DEFAULT	2

/* The server borrows base and store; they must outlive it. Release with
 * sync_server_free(), which closes every connection at once. */
struct sync_server	*sync_server_new(struct event_base *base,
			    const struct store *store,
			    const struct sync_server_opts *opts);
void			 sync_server_free(struct sync_server *);  /* NULL-safe */
/* Replaces the options (a reload); open connections stay, and mostly
 * keep the idle timeout they were accepted with. */
void			 sync_server_set_opts(struct sync_server *,
			    const struct sync_server_opts *opts);

/* Takes over an accepted socket (a listen_accept_fn; arg is the server). */
void	sync_server_accept(int fd, const struct sockaddr *sa, socklen_t salen,
	    void *arg);

/* Graceful stop: idle connections close now, the others stop reading and
 * close once their requests are answered. done(arg) runs once no
 * connection is left (possibly before this returns). */
void	sync_server_shutdown(struct sync_server *, void (*done)(void *),
	    void *arg);
/* Closes every connection that is left ("shutdown: grace period over"). */
void	sync_server_close_all(struct sync_server *, const char *reason);
unsigned sync_server_count(const struct sync_server *);

#endif
