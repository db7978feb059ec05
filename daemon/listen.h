/*
 * listen.h: a TCP listening socket on the event loop: "ADDR:PORT" parsing,
 * bind and listen with errors that name the address, and the EMFILE
 * back-off (stop accepting for a moment instead of spinning).
 */
#ifndef SATCHEL_LISTEN_H
#define SATCHEL_LISTEN_H

#include <sys/socket.h>

#include <event2/event.h>

#include "error.h"

struct listen;

/* Called with each accepted socket, which then belongs to the callee. */
typedef void (*listen_accept_fn)(int fd, const struct sockaddr *sa,
    socklen_t salen, void *arg);

/* Binds spec ("HOST:PORT", "[V6]:PORT"; port 0 picks a free one) and
 * starts accepting on base. On success *out belongs to the caller:
 * release it with listen_free(). */
int		 listen_open(struct listen **out, struct event_base *base,
		     const char *spec, listen_accept_fn fn, void *arg,
		     struct error *err);
/* The same in two steps, so that a daemon can bind before it drops
 * privileges and start accepting once it has: listen_bind() binds and
 * listens, listen_start() puts the socket on base. listen_free() closes
 * a socket bound but never started. */
int		 listen_bind(struct listen **out, const char *spec,
		     struct error *err);
void		 listen_start(struct listen *, struct event_base *base,
		     listen_accept_fn fn, void *arg);
/* A bound, listening, non-blocking socket for spec; *port and name
 * ("ADDR:PORT") say where. reuseport: SO_REUSEPORT, for several sockets
 * on one port (bind the others to name). */
int		 listen_socket(int *out, const char *spec, int reuseport,
		     unsigned *port, char *name, size_t namesz,
		     struct error *err);
/* Checks spec's syntax only (a usage error, before anything starts). */
int		 listen_check(const char *spec, struct error *err);
/* The port actually bound (the chosen one when spec said 0). */
unsigned	 listen_port(const struct listen *);
/* "127.0.0.1:7461": the bound address, for messages. */
const char	*listen_name(const struct listen *);
/* Closes the socket: no more connections. NULL-safe. */
void		 listen_free(struct listen *);

/* Formats a socket address as "ADDR:PORT" ("[ADDR]:PORT" for IPv6). */
void		 listen_format_addr(char *out, size_t outlen,
		     const struct sockaddr *sa, socklen_t salen);

#endif
