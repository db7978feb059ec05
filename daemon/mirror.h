/*
 * mirror.h: satcheld's mirror mode. Pulls from an upstream (a satcheld or
 * a store directory) at start and then every interval (jittered), with
 * exponential back-off after a failure; each pull runs in a child process
 * while the event loop keeps serving the store as it was.
 */
#ifndef SATCHEL_MIRROR_H
#define SATCHEL_MIRROR_H

#include <stdint.h>

#include <event2/event.h>

struct conf;
struct mirror;

/* Mirrors into the store at store_dir from conf's upstream, interval,
 * retry and bundles (copied). The first pull starts at once. Release with
 * mirror_free(). */
struct mirror	*mirror_new(struct event_base *base, const char *store_dir,
		    const struct conf *conf);
/* New settings (SIGHUP). A pull under way finishes with the old ones; a
 * change of upstream or bundles pulls again at once, a change of the
 * timing re-plans the next pull. */
void		 mirror_configure(struct mirror *, const struct conf *conf);
/* Stops a pull under way (its checked copies stay in tmp/ for the next
 * run, which resumes there) and plans no other. NULL-safe. */
void		 mirror_stop(struct mirror *);
/* Tells fn of each change of state ("pulling", "idle" after a success,
 * "failed") with the times of the last success and the last start
 * (seconds since 1970; 0: never). */
typedef void (*mirror_status_fn)(void *arg, const char *state,
    int64_t last_success, int64_t last_attempt);
void		 mirror_set_status_cb(struct mirror *, mirror_status_fn fn,
		     void *arg);
/* Stops, then frees. NULL-safe. */
void		 mirror_free(struct mirror *);

#endif
