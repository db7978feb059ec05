/*
 * workers.h: a small pool of threads for the blocking work of the event
 * loop (disk reads, compression, hashing). A job runs on a worker thread
 * and then its done callback runs on the loop thread, so whatever the
 * job produced is handed back to the single-threaded world safely.
 */
#ifndef SATCHEL_WORKERS_H
#define SATCHEL_WORKERS_H

#include <sys/queue.h>

#include <event2/event.h>

struct workers;

struct workers_job {
	TAILQ_ENTRY(workers_job)	 link;
	/* On a worker thread; local is that thread's state (see
	 * workers_new). Must not touch the event loop. */
	void	(*run)(struct workers_job *, void *local);
	/* On the loop thread, once run has returned. */
	void	(*done)(struct workers_job *);
};

/* nthreads threads on base; each starts with local = local_new() and
 * ends with local_free(local) (either may be NULL). Release with
 * workers_free(). */
struct workers	*workers_new(struct event_base *base, unsigned nthreads,
		    void *(*local_new)(void), void (*local_free)(void *));
/* Queues j; its done callback runs later on the loop thread, never from
 * within this call. */
void		 workers_submit(struct workers *, struct workers_job *j);
/* Runs every queued job, then their done callbacks here, then stops the
 * threads and frees the pool. NULL-safe. */
void		 workers_free(struct workers *);

#endif
