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
