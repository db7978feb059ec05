/*
 * workers.c owns the worker threads of satcheld: a queue of jobs under
 * one mutex, the threads that run them, and the hand-back to the event
 * loop: a finished job goes on the done list and, if that list was empty,
 * one byte goes down a pipe whose read end is an event on the loop. The
 * pipe (rather than evthread + event_active) keeps libevent itself
 * single-threaded: nothing but this file's mutex is shared.
 *
 * Memory stays bounded by the callers: a job is a struct they own and
 * submit at most once at a time (sync-conn.c: one per connection).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "util.h"
#include "workers.h"

TAILQ_HEAD(workers_list, workers_job);

struct workers {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct workers_list	 queue;		/* to run */
	struct workers_list	 finished;	/* run; done not yet called */
	int			 stopping;
	pthread_t		*threads;
	unsigned		 nthreads;
	int			 pipe[2];
	struct event		*ev;
	void			*(*local_new)(void);
	void			 (*local_free)(void *);
	unsigned		 ready;		/* threads past local_new */
};

static void *
workers_main(void *arg)
{
	struct workers		*w = arg;
	struct workers_job	*j;
	void			*local = w->local_new != NULL ? w->local_new() :
				    NULL;
	char			 one = 1;
	int			 wake;
	ssize_t			 n;

	pthread_mutex_lock(&w->mu);
	w->ready++;
	pthread_cond_broadcast(&w->cv);
	for (;;) {
		while (TAILQ_EMPTY(&w->queue) && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if ((j = TAILQ_FIRST(&w->queue)) == NULL)
			break;		/* stopping, and nothing left */
		TAILQ_REMOVE(&w->queue, j, link);
		pthread_mutex_unlock(&w->mu);
		j->run(j, local);
		pthread_mutex_lock(&w->mu);
		wake = TAILQ_EMPTY(&w->finished);
		TAILQ_INSERT_TAIL(&w->finished, j, link);
		if (wake && !w->stopping) {
			/* The pipe holds at most one byte per drain, so this
			 * never blocks for long. */
			do {
				n = write(w->pipe[1], &one, 1);
			} while (n == -1 && errno == EINTR);
		}
	}
	pthread_mutex_unlock(&w->mu);
	if (w->local_free != NULL)
		w->local_free(local);
	return NULL;
}

/* Runs the done callbacks of every finished job. */
static void
workers_finish(struct workers *w)
{
	struct workers_list	 l;
	struct workers_job	*j;

	TAILQ_INIT(&l);
	pthread_mutex_lock(&w->mu);
	TAILQ_CONCAT(&l, &w->finished, link);
	pthread_mutex_unlock(&w->mu);
	while ((j = TAILQ_FIRST(&l)) != NULL) {
		TAILQ_REMOVE(&l, j, link);
		j->done(j);
	}
}

static void
workers_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct workers	*w = arg;
	char		 b[64];

	(void)what;
	while (read(fd, b, sizeof b) > 0)
		;
	workers_finish(w);
}

struct workers *
workers_new(struct event_base *base, unsigned nthreads,
    void *(*local_new)(void), void (*local_free)(void *))
{
	struct workers	*w = xcalloc(1, sizeof *w);
	unsigned	 i;
	int		 rc;

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	TAILQ_INIT(&w->queue);
	TAILQ_INIT(&w->finished);
	w->local_new = local_new;
	w->local_free = local_free;
	if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe2: %s", strerror(errno));
	if ((w->ev = event_new(base, w->pipe[0], EV_READ | EV_PERSIST,
	    workers_pipe_cb, w)) == NULL || event_add(w->ev, NULL) != 0)
		fatal("workers: cannot watch the pipe");
	w->nthreads = nthreads > 0 ? nthreads : 1;
	w->threads = xcalloc(w->nthreads, sizeof *w->threads);
	for (i = 0; i < w->nthreads; i++)
		if ((rc = pthread_create(&w->threads[i], NULL, workers_main,
		    w)) != 0)
			fatal("pthread_create: %s", strerror(rc));
	/* Why wait for them: satcheld's mirror forks its pull right after
	 * start, and a thread still allocating its buffers at that moment
	 * can hold an allocator lock the child then waits for forever (seen
	 * under ASan: a mirror's first pull hung). Idle workers hold none. */
	pthread_mutex_lock(&w->mu);
	while (w->ready < w->nthreads)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	return w;
}

void
workers_submit(struct workers *w, struct workers_job *j)
{
	pthread_mutex_lock(&w->mu);
	TAILQ_INSERT_TAIL(&w->queue, j, link);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
workers_free(struct workers *w)
{
	unsigned	i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	workers_finish(w);	/* the loop may be gone: finish here */
	event_free(w->ev);
	close(w->pipe[0]);
	close(w->pipe[1]);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}
