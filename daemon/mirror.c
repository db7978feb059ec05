/*
 * mirror.c owns satcheld's mirror mode: when to pull (at start, then
 * every interval give or take 10%, after a failure retry, 2 * retry, ...
 * capped at the interval), running each pull, and logging its outcome in
 * one line.
 *
 * Why a child process rather than a thread: store_pull blocks on the
 * network for up to SYNC_CLIENT_IO_TIMEOUT per read and has no way to be
 * interrupted, so on SIGTERM a thread could only be waited for (a
 * stalled upstream would hold the daemon well past its grace period) or
 * abandoned with the store locked and memory held. A child can be
 * killed at once: a pull is safe to kill at any instant by design (the
 * crash tests prove it; checked copies stay in tmp/ and the next pull
 * resumes). It also keeps the loop's process apart from whatever an
 * upstream sends: the pull parses it, in its own address space. The
 * outcome comes back as one line of text over a pipe, read by the loop
 * like any socket, and the exit status says success or failure.
 */
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "error.h"
#include "log.h"
#include "fsutil.h"
#include "mirror.h"
#include "store.h"
#include "util.h"

#define MIRROR_MSG_MAX		2048	/* bytes of a child's report */
#define MIRROR_KILL_WAIT_MS	2000	/* TERM, then KILL after this */
#define MIRROR_CHILD_FD		3	/* the report pipe in the child */

struct mirror {
	struct event_base	*base;
	char			*store;
	struct conf		 conf;		/* upstream, timing, bundles */
	struct event		*timer;		/* the next pull */
	struct event		*pipe_ev;	/* the running pull's report */
	pid_t			 pid;		/* -1: no pull running */
	char			*from;		/* its upstream (for the log) */
	int			 fd;		/* its read end */
	char			 msg[MIRROR_MSG_MAX];
	size_t			 msglen;
	struct timespec		 started;
	unsigned		 failures;	/* in a row */
	int			 again;		/* settings changed mid-pull */
	int			 stopped;
	mirror_status_fn	 status_fn;
	void			*status_arg;
	int64_t			 last_success, last_attempt;
};

static void
mirror_status(struct mirror *m, const char *state)
{
	if (m->status_fn != NULL)
		m->status_fn(m->status_arg, state, m->last_success,
		    m->last_attempt);
}

void
mirror_set_status_cb(struct mirror *m, mirror_status_fn fn, void *arg)
{
	m->status_fn = fn;
	m->status_arg = arg;
	mirror_status(m, m->pid != -1 ? "pulling" : m->failures > 0 ?
	    "failed" : "idle");
}

static void	mirror_timer_cb(evutil_socket_t, short, void *);

static double
mirror_elapsed(const struct mirror *m)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - m->started.tv_sec) +
	    (double)(now.tv_nsec - m->started.tv_nsec) / 1e9;
}

static void
mirror_schedule_ms(struct mirror *m, uint64_t ms)
{
	struct timeval	tv = { (time_t)(ms / 1000),
			    (suseconds_t)((ms % 1000) * 1000) };

	if (m->stopped)
		return;
	evtimer_del(m->timer);
	evtimer_add(m->timer, &tv);
}

/* The interval give or take 10%: mirrors started together (a power cut
 * across a district) do not all ask the upstream at the same second. */
static uint64_t
mirror_next_ms(const struct mirror *m)
{
	uint64_t	base = (uint64_t)m->conf.interval * 1000;

	return base - base / 10 + (uint64_t)random() % (base / 5 + 1);
}

/* retry, 2 * retry, 4 * retry, ... never more than the interval. */
static uint64_t
mirror_backoff_s(const struct mirror *m)
{
	uint64_t	s = m->conf.retry;
	unsigned	i;

	for (i = 1; i < m->failures && s < m->conf.interval; i++)
		s *= 2;
	return s < m->conf.interval ? s : m->conf.interval;
}

/* In the child: the pull itself. Never returns. */
static void __attribute__((noreturn))
mirror_child(const struct mirror *m)
{
	struct store_pull_opts		o;
	struct store_pull_report	rep;
	struct error			err;
	char				line[MIRROR_MSG_MAX];
	int				rc, n;

	memset(&o, 0, sizeof o);
	o.names = m->conf.bundles;
	o.nnames = m->conf.nbundles;
	o.patterns = 1;
	o.now = (int64_t)time(NULL);
	rc = store_pull(m->conf.upstream, m->store, &o, &rep, &err);
	if (rc == 0)
		n = snprintf(line, sizeof line, "catalog serial %llu, %zu "
		    "release%s new, %zu current, %zu file%s (%llu bytes) "
		    "copied (%zu by delta, %llu bytes of deltas), %zu present, "
		    "trust policy %llu (%zu new)",
		    (unsigned long long)rep.catalog_serial, rep.bundles_new,
		    rep.bundles_new == 1 ? "" : "s", rep.bundles_current,
		    rep.files_copied, rep.files_copied == 1 ? "" : "s",
		    (unsigned long long)rep.bytes_copied, rep.files_delta,
		    (unsigned long long)rep.bytes_delta, rep.files_present,
		    (unsigned long long)rep.trust_serial, rep.trust_accepted);
	else
		n = snprintf(line, sizeof line, "%s", err.msg);
	if (n > 0)
		(void)write_all(MIRROR_CHILD_FD, line, (size_t)n < sizeof line ?
		    (size_t)n : sizeof line - 1, "report pipe", NULL);
	_exit(rc == 0 ? 0 : 1);
}

/* In the child, before anything else: TERM and INT stop the pull, a
 * reload (HUP, which may reach the whole process group) does not; and no
 * descriptor of the daemon's stays open (a client socket held open here
 * would not see its close). */
static void
mirror_child_setup(int wfd, const sigset_t *oldmask)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
#ifdef __linux__
	/* A daemon killed outright takes its pull along. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	if (wfd != MIRROR_CHILD_FD && dup2(wfd, MIRROR_CHILD_FD) == -1)
		_exit(1);
	if (close_range(MIRROR_CHILD_FD + 1, ~0U, 0) == -1) {
		int	fd;

		for (fd = MIRROR_CHILD_FD + 1; fd < 1024; fd++)
			close(fd);
	}
}

static void
mirror_finish(struct mirror *m)
{
	double		 secs = mirror_elapsed(m);
	int		 status = 0, ok = 0;
	char		 why[64];
	uint64_t	 next;

	while (waitpid(m->pid, &status, 0) == -1 && errno == EINTR)
		;
	m->pid = -1;
	event_free(m->pipe_ev);
	m->pipe_ev = NULL;
	close(m->fd);
	m->fd = -1;
	m->msg[m->msglen] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && m->msglen > 0)
		ok = 1;
	else if (WIFSIGNALED(status) || m->msglen == 0) {
		if (WIFSIGNALED(status))
			snprintf(why, sizeof why, "the pull process died "
			    "(signal %d)", WTERMSIG(status));
		else
			snprintf(why, sizeof why, "the pull process exited "
			    "with status %d", WEXITSTATUS(status));
		snprintf(m->msg, sizeof m->msg, "%s", why);
	}
	if (ok) {
		m->failures = 0;
		m->last_success = (int64_t)time(NULL);
		mirror_status(m, "idle");
		next = mirror_next_ms(m);
		log_info("mirror: pulled from %s in %.2f s: "
		    "%s; next pull in %.0f s", m->from, secs, m->msg,
		    (double)next / 1000);
	} else {
		m->failures++;
		mirror_status(m, "failed");
		next = mirror_backoff_s(m) * 1000;
		log_warn("mirror: pull from %s failed after "
		    "%.2f s (%u in a row): %s; still serving the previous "
		    "state; retry in %llu s", m->from, secs,
		    m->failures, m->msg, (unsigned long long)(next / 1000));
	}
	if (m->again) {			/* new upstream or bundles */
		m->again = 0;
		m->failures = 0;
		next = 0;
	}
	mirror_schedule_ms(m, next);
}

static void
mirror_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mirror	*m = arg;
	char		 tmp[512];
	ssize_t		 n;
	size_t		 room;

	n = read(fd, tmp, sizeof tmp);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		room = sizeof m->msg - 1 - m->msglen;
		if ((size_t)n > room)
			n = (ssize_t)room;
		memcpy(m->msg + m->msglen, tmp, (size_t)n);
		m->msglen += (size_t)n;
		return;
	}
	mirror_finish(m);		/* EOF (or an error): the child is done */
}

static void
mirror_start_pull(struct mirror *m)
{
	sigset_t	all, old;
	int		p[2];
	pid_t		pid;

	if (m->pid != -1 || m->stopped)
		return;
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_error("mirror: pipe: %s; retry in %u s",
		    strerror(errno), m->conf.retry);
		mirror_schedule_ms(m, (uint64_t)m->conf.retry * 1000);
		return;
	}
	/* Signals stay blocked until the child has its own handlers: a TERM
	 * that reached it earlier would run the loop's handler there. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0) {
		close(p[0]);
		mirror_child_setup(p[1], &old);
		mirror_child(m);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		log_error("mirror: fork: %s; retry in %u s",
		    strerror(errno), m->conf.retry);
		mirror_schedule_ms(m, (uint64_t)m->conf.retry * 1000);
		return;
	}
	m->pid = pid;
	free(m->from);
	m->from = xstrdup(m->conf.upstream);
	m->fd = p[0];
	m->msglen = 0;
	clock_gettime(CLOCK_MONOTONIC, &m->started);
	m->last_attempt = (int64_t)time(NULL);
	mirror_status(m, "pulling");
	evutil_make_socket_nonblocking(m->fd);
	if ((m->pipe_ev = event_new(m->base, m->fd, EV_READ | EV_PERSIST,
	    mirror_pipe_cb, m)) == NULL)
		fatal("event_new failed");
	event_add(m->pipe_ev, NULL);
}

static void
mirror_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	mirror_start_pull(arg);
}

/* "every bundle" or "bundles matching a-* b": for the log. */
static char *
mirror_what(const struct conf *c)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	if (c->nbundles == 0)
		buf_addstr(&b, "every bundle");
	else
		buf_addstr(&b, "bundles matching");
	for (i = 0; i < c->nbundles; i++)
		buf_printf(&b, " %s", c->bundles[i]);
	return buf_detach(&b, NULL);
}

static void
mirror_set_conf(struct mirror *m, const struct conf *c)
{
	conf_free(&m->conf);
	conf_copy(&m->conf, c);
}

struct mirror *
mirror_new(struct event_base *base, const char *store_dir,
    const struct conf *c)
{
	struct mirror	*m = xcalloc(1, sizeof *m);
	char		*what = mirror_what(c);

	m->base = base;
	m->store = xstrdup(store_dir);
	m->pid = -1;
	m->fd = -1;
	mirror_set_conf(m, c);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	if ((m->timer = evtimer_new(base, mirror_timer_cb, m)) == NULL)
		fatal("evtimer_new failed");
	log_info("mirror: from %s every %u s (retry from "
	    "%u s), %s", c->upstream, c->interval, c->retry, what);
	free(what);
	mirror_schedule_ms(m, 0);
	return m;
}

static int
mirror_same_patterns(const struct conf *a, const struct conf *b)
{
	size_t	i;

	if (a->nbundles != b->nbundles)
		return 0;
	for (i = 0; i < a->nbundles; i++)
		if (strcmp(a->bundles[i], b->bundles[i]) != 0)
			return 0;
	return 1;
}

void
mirror_configure(struct mirror *m, const struct conf *c)
{
	int	what = strcmp(m->conf.upstream, c->upstream) != 0 ||
		    !mirror_same_patterns(&m->conf, c);
	int	timing = m->conf.interval != c->interval ||
		    m->conf.retry != c->retry;
	char	*text;

	mirror_set_conf(m, c);
	if (!what && !timing)
		return;
	text = mirror_what(c);
	log_info("mirror: now from %s every %u s (retry "
	    "from %u s), %s%s", c->upstream, c->interval, c->retry, text,
	    what ? "; pulling now" : "");
	free(text);
	if (m->pid != -1) {
		m->again = what;
		return;
	}
	m->failures = 0;
	mirror_schedule_ms(m, what ? 0 : mirror_next_ms(m));
}

void
mirror_stop(struct mirror *m)
{
	int		status, i;
	pid_t		r;

	if (m == NULL)
		return;
	m->stopped = 1;
	evtimer_del(m->timer);
	if (m->pid == -1)
		return;
	kill(m->pid, SIGTERM);
	for (i = 0; (r = waitpid(m->pid, &status, WNOHANG)) == 0 &&
	    i < MIRROR_KILL_WAIT_MS / 10; i++)
		usleep(10000);
	if (r == 0) {
		kill(m->pid, SIGKILL);
		while (waitpid(m->pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	log_info("mirror: pull from %s stopped after %.2f s "
	    "(what it checked stays in tmp/ for the next pull)",
	    m->from, mirror_elapsed(m));
	m->pid = -1;
	event_free(m->pipe_ev);
	m->pipe_ev = NULL;
	close(m->fd);
	m->fd = -1;
}

void
mirror_free(struct mirror *m)
{
	if (m == NULL)
		return;
	mirror_stop(m);
	event_free(m->timer);
	free(m->from);
	conf_free(&m->conf);
	free(m->store);
	free(m);
}
