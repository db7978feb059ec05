/*
 * sync-client.h: the client side of the sync protocol (protocol/SPEC.md
 * §11) over one blocking TCP connection to satcheld: the handshake,
 * GET_META by role (documents reassembled from their pieces), GET_OBJECT
 * streamed into a callback, a pipelined fetch of many objects
 * (sync_client_fetch) that keeps a window of requests in flight, and
 * publishing a release; every read and write is bounded by a timeout, so
 * a stalled server cannot hang the caller.
 */
#ifndef SATCHEL_SYNC_CLIENT_H
#define SATCHEL_SYNC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "msg.h"

#define SYNC_CLIENT_SCHEME		"satchel://"
#define SYNC_CLIENT_CONNECT_TIMEOUT	10	/* seconds */
#define SYNC_CLIENT_IO_TIMEOUT		60	/* seconds per read or write */
/* The slowest a server may send while the client waits for it: bytes a
 * second, averaged over each IO_TIMEOUT seconds spent waiting. */
#define SYNC_CLIENT_MIN_RATE		256
/* Object bytes one OBJECT_DATA piece may decompress to. */
#define SYNC_CLIENT_PIECE_MAX		(2u << 20)
/* The pipelined fetch's window: requests in flight (the server allows
 * 256) and object bytes still owed by them (at least one request is
 * always in flight, however large). */
#define SYNC_CLIENT_WINDOW		128
#define SYNC_CLIENT_WINDOW_BYTES	(16u << 20)

struct sync_client;

/* 1 when s is a satchel://HOST:PORT address. */
int	sync_client_is_url(const char *s);

/* Connects to url (satchel://HOST:PORT) and does the HELLO exchange. On
 * success *out belongs to the caller: release it with
 * sync_client_close(). An http:// or https:// url (SPEC §10 "Static
 * transport") is a store directory on a web server instead, read
 * through http-client.h: GET_META and the fetch work on its files (no
 * deltas; sync_client_fetch may end objects out of order), publishing
 * does not. */
int	sync_client_open(struct sync_client **out, const char *url,
	    struct error *err);
/* Says BYE (best effort), closes and frees; NULL-safe. */
void	sync_client_close(struct sync_client *);
/* "satchel://HOST:PORT", for messages. */
const char *sync_client_url(const struct sync_client *);
/* 1 when both peers said "delta": GET_DELTA may be asked for. */
int	sync_client_has_delta(const struct sync_client *);
/* 1 once the connection itself failed (closed, timed out, garbled): what
 * was fetched so far is sound, the rest may be fetched by a later run. */
int	sync_client_broken(const struct sync_client *);

/* GET_META role (enum msg_role) name, with have (NULL: none) the SHA-256
 * of the copy the caller holds. *status is enum msg_status; for
 * MSG_STATUS_OK *data (malloc'd, the caller frees it) holds *len bytes,
 * otherwise *data is NULL. */
int	sync_client_get_meta(struct sync_client *, uint8_t role,
	    const char *name, const uint8_t *have, char **data, size_t *len,
	    uint8_t *status, struct error *err);

/* GET_META_DELTA (SPEC §11 "Deltas"): the signed manifest of release
 * name (NAME@SERIAL) as a delta against the one of release base_serial
 * of the same bundle, whose bytes the caller holds (base, blen). The
 * server may answer whole instead, and a delta that does not decode is
 * replaced by a GET_META here; *used is 1 when a delta was used, -1
 * when one was refused (and the document fetched whole), else 0.
 * Without "delta" on both sides this is GET_META. Otherwise as
 * sync_client_get_meta for role 3. */
int	sync_client_get_meta_delta(struct sync_client *, const char *name,
	    uint64_t base_serial, const char *base, size_t blen, char **data,
	    size_t *len, uint8_t *status, int *used, struct error *err);

/* Called with each run of object bytes, in order; non-zero stops. */
typedef int (*sync_client_data_fn)(void *arg, const void *data, size_t len,
    struct error *err);

/* Fetches object sha from offset on; it must be exactly size bytes: more
 * (endless data), a piece at an unexpected offset or a different total
 * size are refused. SATCHEL_ENOTFOUND when the server lacks it. */
int	sync_client_get_object(struct sync_client *, const uint8_t
	    sha[MSG_HASH_LEN], uint64_t size, uint64_t offset,
	    sync_client_data_fn fn, void *arg, struct error *err);

/* One object of a pipelined fetch: exactly size bytes from offset on are
 * passed to fn(arg, ...), in order, with the same checks as
 * sync_client_get_object. */
struct sync_client_obj {
	uint8_t			 sha[MSG_HASH_LEN];
	uint64_t		 size;
	uint64_t		 offset;
	sync_client_data_fn	 fn;
	void			*arg;
	/* A delta (GET_DELTA, SPEC §11 "Deltas"): the bytes passed to fn are
	 * the delta of sha against base, offset counts them, and size is
	 * only the bound the server's answer must keep within; end() sees
	 * size set to the delta's real length. */
	int			 delta;
	uint8_t			 base[MSG_HASH_LEN];
	uint64_t		 object_size;	/* the object's own, for the window */
};

/* Fills *o with the next object to ask for: 1 when there is one, 0 when
 * there are no more, negative (err filled) to stop the fetch. */
typedef int (*sync_client_next_fn)(void *arg, struct sync_client_obj *o,
    struct error *err);
/* Called once for every object next() gave: rc 0 when all its bytes
 * arrived and OBJECT_END confirmed its size (the caller checks the
 * digest), SATCHEL_ENOTFOUND when the server lacks it (err says so), or
 * another negative code when the fetch stopped before the object ended
 * (err may be NULL then). A non-zero return stops the fetch with that
 * code; the function must then have filled err. */
typedef int (*sync_client_end_fn)(void *arg, struct sync_client_obj *o,
    int rc, struct error *err);

/* Pipelined GET_OBJECT: asks for the objects next() gives while at most
 * SYNC_CLIENT_WINDOW requests and SYNC_CLIENT_WINDOW_BYTES owed bytes
 * are in flight, and hands each answer to its object (the server answers
 * in request order, SPEC §11). 0 once next() said 0 and every object
 * ended well. On failure every object still in flight gets end() with a
 * negative rc; if requests were left unanswered the connection can take
 * no further request (sync_client_broken() tells whether the network
 * itself failed). */
int	sync_client_fetch(struct sync_client *, sync_client_next_fn next,
	    sync_client_end_fn end, void *arg, struct error *err);

/* --- publishing (SPEC §11 "Publishing") --- */

/* The release offered: what the server answered. */
struct sync_client_publish {
	uint8_t		(*need)[MSG_HASH_LEN];	/* malloc'd, in manifest order */
	uint32_t	  nneed;
	uint64_t	  catalog_serial;	/* after a refusal: the current */
	char		 *message;		/* the server's PUBLISH_RESULT text */
	/* objects on their way out */
	uint32_t	  sent;			/* objects completed */
	uint64_t	  bytes_raw;		/* object bytes sent */
	uint64_t	  bytes_wire;		/* PUBLISH_OBJECT frames' bytes */
	struct sync_client_upload *up;		/* the object being sent */
};
void	sync_client_publish_free(struct sync_client_publish *);  /* NULL-safe */

/*
 * Offers the signed manifest (manifest then signature block; sent in
 * pieces as large as the frame allows). 0: accepted, p->need lists the
 * objects to send, in that order; SATCHEL_EVERIFY: refused before any
 * content (err holds the server's reason, p->catalog_serial its current
 * serial; the connection stays usable); other: the connection failed.
 */
int	sync_client_publish_begin(struct sync_client *, const char *signed_buf,
	    size_t len, struct sync_client_publish *p, struct error *err);
/* Sends one needed object: begin, its bytes in any runs, end (which
 * sends the rest; size is the manifest's). Objects go in p->need order. */
int	sync_client_publish_object_begin(struct sync_client *,
	    struct sync_client_publish *p, const uint8_t sha[MSG_HASH_LEN],
	    struct error *err);
int	sync_client_publish_object_write(struct sync_client *,
	    struct sync_client_publish *p, const void *data, size_t len,
	    struct error *err);
int	sync_client_publish_object_end(struct sync_client *,
	    struct sync_client_publish *p, struct error *err);
/* PUBLISH_DONE, then the result: 0 with p->catalog_serial the new serial
 * and p->message the server's summary; SATCHEL_EVERIFY when the server
 * refused to land it (err holds why). */
int	sync_client_publish_done(struct sync_client *,
	    struct sync_client_publish *p, struct error *err);

#endif
