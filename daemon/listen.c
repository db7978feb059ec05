/*
 * listen.c owns satcheld's listening sockets: it parses "ADDR:PORT",
 * binds and listens (errors name the address), hands each accepted
 * socket to its owner, and backs off on EMFILE: the listener is disabled
 * for LISTEN_BACKOFF_MS instead of waking up again and again for a
 * connection it cannot accept.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "error.h"
#include "log.h"
#include "listen.h"
#include "util.h"

#define LISTEN_BACKOFF_MS	1000
#define LISTEN_BACKLOG		511	/* as nginx */

struct listen {
	struct evconnlistener	*lev;
	struct event		*backoff;	/* re-enables after EMFILE */
	listen_accept_fn	 fn;
	void			*arg;
	int			 fd;		/* until listen_start */
	unsigned		 port;
	char			 name[INET6_ADDRSTRLEN + 16];
};

void
listen_format_addr(char *out, size_t outlen, const struct sockaddr *sa,
    socklen_t salen)
{
	char	host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, salen, host, sizeof host, serv, sizeof serv,
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, outlen, "(unknown address)");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(out, outlen, "[%s]:%s", host, serv);
	else
		snprintf(out, outlen, "%s:%s", host, serv);
}

static void
listen_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listen	*l = arg;

	l->fn(fd, sa, (socklen_t)salen, l->arg);
}

static void
listen_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listen	*l = arg;

	evconnlistener_enable(l->lev);
}

/* Out of descriptors (or memory): the pending connection stays in the
 * backlog; stop accepting for a moment rather than spin on it. */
static void
listen_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listen	*l = arg;
	struct timeval	 tv = { LISTEN_BACKOFF_MS / 1000,
			    (LISTEN_BACKOFF_MS % 1000) * 1000 };
	int		 e = EVUTIL_SOCKET_ERROR();

	log_warn("accept on %s: %s; pausing for %d ms",
	    l->name, evutil_socket_error_to_string(e), LISTEN_BACKOFF_MS);
	evconnlistener_disable(l->lev);
	evtimer_add(l->backoff, &tv);
}

/* Splits "HOST:PORT" or "[HOST]:PORT" and resolves HOST numerically. */
static int
listen_parse(struct sockaddr_storage *ss, socklen_t *sslen, const char *spec,
    struct error *err)
{
	struct addrinfo	 hints, *ai = NULL;
	const char	*colon, *hs, *he;
	char		*host = NULL;
	uint64_t	 port;
	int		 rc = SATCHEL_EINVALID, gai;

	if (spec[0] == '[') {
		hs = spec + 1;
		if ((he = strchr(hs, ']')) == NULL || he[1] != ':')
			goto bad;
		colon = he + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			goto bad;
		hs = spec;
		he = colon;
	}
	if (he == hs || parse_u64(colon + 1, strlen(colon + 1), 0, 65535,
	    &port) != 0)
		goto bad;
	host = xstrndup(hs, (size_t)(he - hs));
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	if ((gai = getaddrinfo(host, NULL, &hints, &ai)) != 0) {
		rc = error_set(err, SATCHEL_EINVALID, "%s: not a numeric "
		    "address: %s", spec, gai_strerror(gai));
		goto out;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	rc = 0;
	goto out;
bad:
	rc = error_set(err, SATCHEL_EINVALID, "%s: expected ADDR:PORT "
	    "(port 0-65535, IPv6 as [ADDR]:PORT)", spec);
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	free(host);
	return rc;
}

int
listen_socket(int *out, const char *spec, int reuseport, unsigned *port,
    char *name, size_t namesz, struct error *err)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd = -1, one = 1, rc;

	if ((rc = listen_parse(&ss, &sslen, spec, err)) != 0)
		return rc;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return error_set(err, SATCHEL_ERR, "cannot listen on %s: "
		    "socket: %s", spec, strerror(errno));
	/* Restarts must not wait for TIME_WAIT. Two listeners on one port
	 * are refused unless both ask for SO_REUSEPORT: the HTTP threads
	 * do, each with a socket of its own. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof one) == -1) {
		rc = error_set(err, SATCHEL_ERR, "cannot listen on %s: "
		    "SO_REUSEPORT: %s", spec, strerror(errno));
		goto out;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		rc = error_set(err, SATCHEL_ERR, "cannot listen on %s: %s",
		    spec, strerror(errno));
		goto out;
	}
	sslen = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		rc = error_set(err, SATCHEL_ERR, "cannot listen on %s: "
		    "getsockname: %s", spec, strerror(errno));
		goto out;
	}
	*port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	listen_format_addr(name, namesz, (struct sockaddr *)&ss, sslen);
	*out = fd;
	fd = -1;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

int
listen_bind(struct listen **out, const char *spec, struct error *err)
{
	struct listen		*l = xcalloc(1, sizeof *l);
	int			 rc;

	if ((rc = listen_socket(&l->fd, spec, 0, &l->port, l->name,
	    sizeof l->name, err)) != 0) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void
listen_start(struct listen *l, struct event_base *base, listen_accept_fn fn,
    void *arg)
{
	l->fn = fn;
	l->arg = arg;
	l->lev = evconnlistener_new(base, listen_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, l->fd);
	if (l->lev == NULL)
		fatal("evconnlistener_new failed");
	l->fd = -1;			/* the listener's now */
	evconnlistener_set_error_cb(l->lev, listen_error_cb);
	if ((l->backoff = evtimer_new(base, listen_backoff_cb, l)) == NULL)
		fatal("evtimer_new failed");
}

int
listen_open(struct listen **out, struct event_base *base, const char *spec,
    listen_accept_fn fn, void *arg, struct error *err)
{
	int	rc;

	if ((rc = listen_bind(out, spec, err)) != 0)
		return rc;
	listen_start(*out, base, fn, arg);
	return 0;
}

int
listen_check(const char *spec, struct error *err)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen;

	return listen_parse(&ss, &sslen, spec, err);
}

unsigned
listen_port(const struct listen *l)
{
	return l->port;
}

const char *
listen_name(const struct listen *l)
{
	return l->name;
}

void
listen_free(struct listen *l)
{
	if (l == NULL)
		return;
	if (l->backoff != NULL)
		event_free(l->backoff);
	if (l->lev != NULL)
		evconnlistener_free(l->lev);
	else if (l->fd != -1)
		close(l->fd);
	free(l);
}
