/*
 * sync-publish.h: one release being published over a sync connection
 * (protocol/SPEC.md §11 "Publishing"): the signed manifest gathered from
 * its PUBLISH pieces, the checks made before any content is accepted,
 * the objects received into a staging directory under the store's tmp/
 * (each held to its manifest size and digest), and the landing. No
 * sockets here: sync-conn.c feeds decoded messages in and sends what
 * these functions hand back.
 */
#ifndef SATCHEL_SYNC_PUBLISH_H
#define SATCHEL_SYNC_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "msg.h"

struct sync_publish;

/* Outcome of a step, beyond 0 (go on). */
enum sync_publish_rc {
	SYNC_PUBLISH_MORE	= 1,	/* PUBLISH: more pieces to come */
	SYNC_PUBLISH_REFUSED	= 2,	/* PUBLISH_RESULT ok=0, stay READY */
	SYNC_PUBLISH_WORK	= 3,	/* a long step: sync_publish_run it */
};

/* The long steps, run on a worker thread. */
enum sync_publish_step {
	SYNC_PUBLISH_ACCEPT	= 1,	/* after the last PUBLISH piece */
	SYNC_PUBLISH_LAND	= 2,	/* after PUBLISH_DONE */
};

struct event_base;
typedef void (*sync_publish_cb)(void *arg, struct sync_publish *);

/* A publish for the store at storedir, from peer (for messages). */
struct sync_publish	*sync_publish_new(const char *storedir,
			    const char *peer);
/* Removes whatever was staged and frees; NULL-safe. A publish freed
 * before it landed leaves the store exactly as it was. */
void			 sync_publish_free(struct sync_publish *);

/*
 * One PUBLISH piece. SYNC_PUBLISH_MORE: wait for the next;
 * SYNC_PUBLISH_WORK: the signed manifest is whole, run the acceptance
 * step (sync_publish_run); SATCHEL_EINVALID: a piece out of place (ERROR
 * protocol). The acceptance's result (sync_publish_result): 0, staging
 * made and the need list ready; SYNC_PUBLISH_REFUSED, err holds the
 * reason for PUBLISH_RESULT ok=0 and the serial is the store's current
 * one; other negative: internal.
 */
int	sync_publish_piece(struct sync_publish *, const struct msg_publish *,
	    struct error *err);
/* The objects the store lacks, in manifest order, each once. */
void	sync_publish_need(const struct sync_publish *,
	    const uint8_t (**hashes)[MSG_HASH_LEN], uint32_t *n);
/*
 * One PUBLISH_OBJECT chunk. 0: taken. On failure *code is the ERROR code
 * to send (protocol: a chunk out of place or not a valid zstd frame;
 * refused: more bytes than the manifest says, or a digest that differs)
 * and err names the object; the connection is then closed.
 */
int	sync_publish_object(struct sync_publish *,
	    const struct msg_publish_object *, uint16_t *code,
	    struct error *err);
/*
 * PUBLISH_DONE: every needed object must be complete (else
 * SATCHEL_EINVALID, ERROR protocol); SYNC_PUBLISH_WORK: run the landing
 * step, which takes the store's lock and lands the release
 * (store_publish_staged). Its result: 0, the serial is the new one and
 * the summary says what was published; SYNC_PUBLISH_REFUSED, err says
 * why, the store is unchanged; other negative: internal.
 */
int	sync_publish_done(struct sync_publish *, struct error *err);

/* Starts the pending step on a worker thread; cb(arg, p) runs on base's
 * loop once it is done. Until then the caller must not use p, except to
 * free it (which waits for the thread). -1 (errno): not started. */
int	sync_publish_run(struct sync_publish *, struct event_base *base,
	    sync_publish_cb cb, void *arg);
/* 1 while a step runs (NULL-safe). */
int	sync_publish_busy(const struct sync_publish *);
/* Which step ran (enum sync_publish_step), and its result: the return
 * value, the catalog serial, the summary of a landing (or NULL) and the
 * error; all valid until the next step or sync_publish_free. */
int	sync_publish_step(const struct sync_publish *);
int	sync_publish_result(struct sync_publish *, uint64_t *catalog_serial,
	    const char **summary, const struct error **err);
/* 1 once the manifest is whole (PUBLISH_OBJECT and PUBLISH_DONE expected). */
int	sync_publish_accepted(const struct sync_publish *);

#endif
