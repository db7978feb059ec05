/*
 * intake.h: satcheld's git intake. Watches the bare repositories under a
 * directory and publishes each new release tag satchel/N (made by
 * `satchel build --tag`) into the origin store, as `satchel publish`
 * would, after checking the tagged tree file by file against the signed
 * manifest the tag carries.
 */
#ifndef SATCHEL_INTAKE_H
#define SATCHEL_INTAKE_H

#include <event2/event.h>

#include "error.h"

#define INTAKE_POLL_DEFAULT	10	/* seconds between two looks */
/* The longest wait for a running publish after intake_stop: under
 * satcheld's grace period of 5 s, so that a supervisor that kills 5 s
 * after its TERM (as `timeout -k 5` does) never has to. */
#define INTAKE_STOP_SECONDS	4

struct intake;

/* Starts watching repos_dir (its bare repositories, one level deep) for
 * the origin store at store_dir, looking every poll_seconds (>= 1) from a
 * timer on base; the work runs in a thread of its own, and its log lines
 * come back to base's loop. Refuses a store that is not an origin. On
 * success *out belongs to the caller: release it with intake_free(). */
int	intake_start(struct intake **out, struct event_base *base,
	    const char *store_dir, const char *repos_dir, unsigned poll_seconds,
	    struct error *err);

/* Starts no new work; a publish under way runs on (store_publish lands
 * whole or not at all). NULL-safe; safe to call twice. */
void	intake_stop(struct intake *);

/* Stops, waits up to INTAKE_STOP_SECONDS after intake_stop for a running
 * publish, and frees everything (before base is freed). If the publish
 * is still running then, the process exits at once (status 0) rather
 * than hang: the store keeps its old state or gets the new one whole.
 * NULL-safe. */
void	intake_free(struct intake *);

#endif
