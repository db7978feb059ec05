/*
 * msg.h: the sync protocol's messages (protocol/SPEC.md §11): type codes,
 * one struct per message, a strict decoder from a frame and an encoder to
 * a whole frame, plus the cursor reader and writer helpers they use.
 *
 * Bump MSG_VERSION (and the SPEC's protocol version) if any code or
 * encoding here changes. Codes live in ranges; a retired code stays
 * reserved forever and is never reused.
 *
 * Decisions where SPEC §11 is silent or loose (keep in step with SPEC):
 * - Header order is the SPEC's (u32 length, then u16 type); `max_frame`
 *   and every frame limit count payload bytes, not the 6 header bytes.
 * - Wire `text` may be empty (the SPEC requires an empty name for roles 1
 *   and 2), unlike §2's ABNF `text`; otherwise it is §2 text: UTF-8, no
 *   control characters, so no NUL either, at most MSG_TEXT_MAX bytes
 *   (names MSG_NAME_MAX).
 * - Names: empty for roles 1 and 2; for role 3 exactly NAME@SERIAL, NAME a
 *   bundle name ([a-z0-9][a-z0-9-]{0,62}) and SERIAL a decimal in
 *   1..INT64_MAX without leading zeros (the manifest's rules).
 * - HELLO: any version >= 1 is accepted (the peers then use the lower);
 *   repeated capabilities are accepted (they are a set and unknown ones
 *   are ignored anyway).
 * - ERROR: the code must be one of the eight the SPEC lists; a peer that
 *   knows more must not send them to a version 1 peer.
 * - Bytes that are never empty in a valid exchange are refused when
 *   empty: META and PUBLISH pieces, OBJECT_DATA and PUBLISH_OBJECT
 *   chunks (a zstd frame is never empty). The chunks are
 *   otherwise opaque here: no zstd in the codec.
 * - OBJECT_PACK: n is 1..MSG_PACK_MAX, the entries fill exactly what
 *   precedes the chunk, each entry's len is exactly size - offset (the
 *   request is complete) and the lens add up to at most
 *   MSG_PACK_RAW_MAX; that the chunk decompresses to exactly that sum,
 *   and that the entries are the oldest requests in flight, is the
 *   receiver's job (no zstd here, and only it knows what it asked).
 * - META_Z and PUBLISH_Z are META (status 0) and PUBLISH pieces whose
 *   data is one zstd frame: total and offset are checked as for the raw
 *   kind, the data only for being non-empty (its length says nothing of
 *   the bytes it stands for); the receiver bounds the decompression.
 * - PUBLISH_RESULT `ok` is 0 or 1; catalog_serial is not constrained.
 * - PUBLISH_NEED: the decoder does not know the agreed max_frame, so it
 *   bounds n by the frame it was given (n * 32 must be exactly what
 *   follows the counts), which frame_peek already bounded by max_frame:
 *   that is the SPEC's (max_frame - 8) / 32; n <= total <= 1,000,000,
 *   and n is 0 only when total is.
 * - META data and PUBLISH's signed manifest travel in pieces (SPEC §11
 *   "Metadata in pieces"): each frame carries the document's total length
 *   and the piece's offset. The decoder checks one frame (total within
 *   the role's limit, 1 <= piece, offset + piece <= total); that the
 *   pieces follow one another in order is the receiver's job (it alone
 *   sees the sequence). Likewise PUBLISH_NEED carries the list's total
 *   count; the receiver adds the frames up.
 * - Every refusal by msg_decode is SATCHEL_EINVALID (answer ERROR
 *   `protocol`); only frame_peek's length check is SATCHEL_ELIMIT (answer
 *   `too-large`). Types 0x0500 and up (no range yet) are refused as well.
 *
 * Lifetime of decoded fields: text (names, messages, capabilities) and
 * the PUBLISH_NEED hash list are copied and owned by the struct msg
 * (release with msg_free); hashes are copied into fixed arrays; large
 * byte fields (META data, chunks, signed_manifest) are NOT copied: they
 * point into the frame's payload and are valid only as long as the buffer
 * frame_peek looked at (drain it after use, or copy them).
 */
#ifndef SATCHEL_MSG_H
#define SATCHEL_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "frame.h"
#include "util.h"

#define MSG_VERSION		1
#define MSG_MAGIC		"SATCHEL\0"	/* 8 octets, NUL included */
#define MSG_MAGIC_LEN		8
#define MSG_HASH_LEN		32		/* SHA-256 */
#define MSG_TEXT_MAX		4096		/* bytes of any text */
#define MSG_NAME_MAX		128		/* bytes of a META name */
#define MSG_CAP_MAX		64		/* capabilities in a HELLO */
#define MSG_CAP_LEN_MAX		32		/* bytes of one capability */
#define MSG_SIGNED_MANIFEST_MAX	((16u << 20) + 8192)	/* MANIFEST_MAX + 8192 */
#define MSG_TRUST_MAX		(1u << 20)		/* TRUST_MAX */
#define MSG_CATALOG_MAX		(16u << 20)		/* CATALOG_MAX */
#define MSG_NEED_MAX		1000000			/* MANIFEST_FILES_MAX */
/* META bytes around its name and data piece: role, name length, status,
 * total, offset, data length. */
#define MSG_META_OVERHEAD	(1 + 4 + 1 + 8 + 8 + 4)
/* PUBLISH bytes around its piece: total, offset, data length. */
#define MSG_PUBLISH_OVERHEAD	(8 + 8 + 4)
/* PUBLISH_NEED bytes before its hashes: total, n. */
#define MSG_PUBLISH_NEED_OVERHEAD	(4 + 4)
/* PUBLISH_OBJECT bytes around the chunk: object, offset, chunk length. */
#define MSG_PUBLISH_OBJECT_OVERHEAD	(32 + 8 + 4)
/* OBJECT_DATA bytes around the chunk: request, offset, chunk length. */
#define MSG_OBJECT_DATA_OVERHEAD	(4 + 8 + 4)
/* OBJECT_PACK: at most this many requests, whose bytes together are at
 * most MSG_PACK_RAW_MAX; its bytes around the entries and the chunk are
 * n and the chunk length, each entry request, offset, size and len. */
#define MSG_PACK_MAX		256		/* SYNC_QUEUE_MAX */
#define MSG_PACK_RAW_MAX	(2u << 20)	/* a chunk's content limit */
#define MSG_PACK_OVERHEAD	(2 + 4)
#define MSG_PACK_ENTRY_LEN	(4 + 8 + 8 + 4)
/* The HELLO capability by which a client says it takes OBJECT_PACK. */
#define MSG_CAP_PACK		"pack"
/* The HELLO capability for META_Z and PUBLISH_Z, which both peers must
 * list; META_Z has no status byte (it is always status 0). */
#define MSG_CAP_ZMETA		"zmeta"
#define MSG_META_Z_OVERHEAD	(1 + 4 + 8 + 8 + 4)
/* The HELLO capability for GET_DELTA, GET_META_DELTA and META_DELTA,
 * which both peers must list (SPEC §11 "Deltas"). */
#define MSG_CAP_DELTA		"delta"
/* META_DELTA bytes around its name and zstd frame: role, name length,
 * base_serial, total, data length. */
#define MSG_META_DELTA_OVERHEAD	(1 + 4 + 8 + 8 + 4)

/* Message types, by range. */
enum msg_type {
	/* 0x0000-0x00ff: connection */
	MSG_HELLO		= 0x0001,
	MSG_ERROR		= 0x0002,
	MSG_KEEPALIVE		= 0x0003,
	MSG_BYE			= 0x0004,
	/* 0x0100-0x01ff: metadata */
	MSG_GET_META		= 0x0100,
	MSG_META		= 0x0101,
	MSG_META_Z		= 0x0102,	/* struct msg_meta, zstd data */
	/* 0x0200-0x02ff: objects */
	MSG_GET_OBJECT		= 0x0200,
	MSG_OBJECT_DATA		= 0x0201,
	MSG_OBJECT_END		= 0x0202,
	MSG_CANCEL		= 0x0203,
	MSG_OBJECT_PACK		= 0x0204,
	/* 0x0300-0x03ff: publish */
	MSG_PUBLISH		= 0x0300,
	MSG_PUBLISH_NEED	= 0x0301,
	MSG_PUBLISH_OBJECT	= 0x0302,
	MSG_PUBLISH_DONE	= 0x0303,
	MSG_PUBLISH_RESULT	= 0x0304,
	MSG_PUBLISH_Z		= 0x0305,	/* struct msg_publish, zstd data */
	/* 0x0400-0x04ff: deltas (capability "delta") */
	MSG_GET_DELTA		= 0x0400,
	MSG_GET_META_DELTA	= 0x0401,
	MSG_META_DELTA		= 0x0402,
};
#define MSG_RANGE_LAST		0x04ff	/* above this: no range yet */

/* ERROR codes. */
enum msg_error_code {
	MSG_ERR_PROTOCOL	= 1,	/* malformed or unexpected message */
	MSG_ERR_TOO_LARGE	= 2,
	MSG_ERR_VERSION		= 3,
	MSG_ERR_NOT_FOUND	= 4,
	MSG_ERR_REFUSED		= 5,	/* publish: an object breaks its manifest */
	MSG_ERR_BUSY		= 6,	/* connection limit */
	MSG_ERR_TIMEOUT		= 7,
	MSG_ERR_INTERNAL	= 8,
};

/* GET_META and META roles. */
enum msg_role {
	MSG_ROLE_TRUST		= 1,	/* trust policy; name empty, or the
					 * decimal serial of an older one */
	MSG_ROLE_CATALOG	= 2,	/* catalog; name empty */
	MSG_ROLE_RELEASE	= 3,	/* signed manifest; name NAME@SERIAL */
};

/* META status. */
enum msg_status {
	MSG_STATUS_OK		= 0,	/* data follows */
	MSG_STATUS_NOT_MODIFIED	= 1,	/* no data */
	MSG_STATUS_NOT_FOUND	= 2,	/* no data */
};

struct msg_hello {
	uint16_t	  version;
	uint32_t	  max_frame;
	uint16_t	  ncaps;
	char		**caps;		/* owned, ncaps strings */
};

struct msg_error {
	uint16_t	 code;		/* enum msg_error_code */
	char		*message;	/* owned */
};

struct msg_get_meta {
	uint8_t		 role;		/* enum msg_role */
	char		*name;		/* owned */
	uint8_t		 have_flag;	/* 1: have is set */
	uint8_t		 have[MSG_HASH_LEN];
};

struct msg_meta {
	uint8_t		 role;
	char		*name;		/* owned */
	uint8_t		 status;	/* enum msg_status */
	/* status 0 only: a piece of the document of total bytes */
	uint64_t	 total;
	uint64_t	 offset;
	const uint8_t	*data;		/* into the payload */
	uint32_t	 datalen;
};

struct msg_get_object {
	uint32_t	 request;
	uint8_t		 object[MSG_HASH_LEN];
	uint64_t	 offset;
};

/* GET_DELTA: the delta of object against base, from byte offset of the
 * delta on; answered as a GET_OBJECT of the delta's bytes would be. */
struct msg_get_delta {
	uint32_t	 request;
	uint8_t		 object[MSG_HASH_LEN];
	uint8_t		 base[MSG_HASH_LEN];
	uint64_t	 offset;
};

/* GET_META_DELTA: the signed manifest `name` (role 3) as a delta against
 * the release base_serial of the same bundle, whose signed manifest
 * hashes to base. */
struct msg_get_meta_delta {
	uint8_t		 role;
	char		*name;		/* owned */
	uint64_t	 base_serial;
	uint8_t		 base[MSG_HASH_LEN];
};

/* META_DELTA: the whole document of total bytes, one zstd frame made
 * with the base document as its prefix. */
struct msg_meta_delta {
	uint8_t		 role;
	char		*name;		/* owned */
	uint64_t	 base_serial;
	uint64_t	 total;
	const uint8_t	*data;		/* into the payload */
	uint32_t	 datalen;
};

struct msg_object_data {
	uint32_t	 request;
	uint64_t	 offset;
	const uint8_t	*chunk;		/* into the payload */
	uint32_t	 chunklen;
};

struct msg_object_end {
	uint32_t	 request;
	uint64_t	 size;
};

/* One request an OBJECT_PACK completes: its bytes from offset to the
 * end (len == size - offset), then, implied, its OBJECT_END. */
struct msg_pack_entry {
	uint32_t	 request;
	uint64_t	 offset;
	uint64_t	 size;
	uint32_t	 len;
};

struct msg_object_pack {
	uint16_t		 n;
	struct msg_pack_entry	*entries;	/* decoded: owned; n of them */
	uint64_t		 raw;		/* decoded: sum of the lens */
	const uint8_t		*chunk;		/* into the payload */
	uint32_t		 chunklen;
};

struct msg_cancel {
	uint32_t	 request;
};

/* A piece of the signed manifest (manifest then signature block). */
struct msg_publish {
	uint64_t	 total;
	uint64_t	 offset;
	const uint8_t	*data;		/* into the payload */
	uint32_t	 datalen;
};

struct msg_publish_need {
	uint32_t	 total;		/* hashes in the whole list */
	uint32_t	 n;		/* in this frame */
	uint8_t		(*hashes)[MSG_HASH_LEN];	/* owned, n of them */
};

struct msg_publish_object {
	uint8_t		 object[MSG_HASH_LEN];
	uint64_t	 offset;
	const uint8_t	*chunk;		/* into the payload */
	uint32_t	 chunklen;
};

struct msg_publish_result {
	uint8_t		 ok;		/* 0 or 1 */
	uint64_t	 catalog_serial;
	char		*message;	/* owned */
};

/* KEEPALIVE, BYE and PUBLISH_DONE carry nothing but their type. */
struct msg {
	uint16_t	type;		/* enum msg_type */
	union {
		struct msg_hello		hello;
		struct msg_error		error;
		struct msg_get_meta		get_meta;
		struct msg_meta			meta;
		struct msg_get_object		get_object;
		struct msg_object_data		object_data;
		struct msg_object_end		object_end;
		struct msg_cancel		cancel;
		struct msg_object_pack		object_pack;
		struct msg_publish		publish;
		struct msg_publish_need		publish_need;
		struct msg_publish_object	publish_object;
		struct msg_publish_result	publish_result;
		struct msg_get_delta		get_delta;
		struct msg_get_meta_delta	get_meta_delta;
		struct msg_meta_delta		meta_delta;
	} u;
};

/*
 * Decodes and checks f's payload as a message of type f->type. On success
 * *out holds the message (release with msg_free; see the lifetime note
 * above); on failure *out is zeroed and err names the message and field.
 */
int		 msg_decode(struct msg *out, const struct frame *f,
		     struct error *err);
/* Appends the whole frame, header and payload. m must be valid: the
 * encoder asserts the shapes (flags, counts, lengths) but does not check
 * text, so tests can build refusals with the writer helpers instead. */
void		 msg_encode(const struct msg *m, struct buf *out);
/* Frees what m owns and zeroes it; NULL-safe. */
void		 msg_free(struct msg *m);
/* "HELLO", "GET_META", ...; "unknown" for any other code. */
const char	*msg_type_name(uint16_t type);

/* A cursor over a payload; errors name the message and the field. */
struct msg_reader {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	const char	*what;		/* message name, for errors */
};
void	msg_reader_init(struct msg_reader *, const uint8_t *, size_t,
	    const char *what);
int	msg_get_u8(struct msg_reader *, uint8_t *, const char *field,
	    struct error *);
int	msg_get_u16(struct msg_reader *, uint16_t *, const char *field,
	    struct error *);
int	msg_get_u32(struct msg_reader *, uint32_t *, const char *field,
	    struct error *);
int	msg_get_u64(struct msg_reader *, uint64_t *, const char *field,
	    struct error *);
/* A u32 length and at most max bytes; *out points into the payload. */
int	msg_get_bytes(struct msg_reader *, const uint8_t **out, uint32_t *lenp,
	    uint32_t max, const char *field, struct error *);
/* Text (possibly empty) of at most max bytes, copied NUL-terminated. */
int	msg_get_text(struct msg_reader *, char **out, uint32_t max,
	    const char *field, struct error *);
int	msg_get_hash(struct msg_reader *, uint8_t out[MSG_HASH_LEN],
	    const char *field, struct error *);
/* Fails if any byte is left: a payload is consumed exactly. */
int	msg_reader_end(struct msg_reader *, struct error *);

void	msg_put_u8(struct buf *, uint8_t);
void	msg_put_u16(struct buf *, uint16_t);
void	msg_put_u32(struct buf *, uint32_t);
void	msg_put_u64(struct buf *, uint64_t);
void	msg_put_bytes(struct buf *, const void *, size_t);
void	msg_put_text(struct buf *, const char *);
void	msg_put_hash(struct buf *, const uint8_t[MSG_HASH_LEN]);

#endif
