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
};

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
