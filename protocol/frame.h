/*
 * frame.h: the sync protocol's framing (protocol/SPEC.md §11): a 6-byte
 * header, u32 payload length then u16 type, both big-endian, then exactly
 * length payload bytes. Pure: works on buffers, never on sockets.
 */
#ifndef SATCHEL_FRAME_H
#define SATCHEL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "util.h"

#define FRAME_HEADER_LEN	6
/* Payload limits (bytes after the header), see SPEC §11 "Framing". */
#define FRAME_MAX_PREAUTH	4096			/* before the handshake */
#define FRAME_MAX_DEFAULT	(1u << 20)		/* 1 MiB */
#define FRAME_MAX_LIMIT		(16u << 20)		/* 16 MiB */

/* frame_peek: not a whole frame yet; a positive value, never an error. */
#define FRAME_NEED_MORE		1

struct frame {
	uint16_t	 type;
	uint32_t	 len;		/* payload bytes */
	const uint8_t	*payload;	/* points into the peeked buffer */
};

/*
 * Looks at the first avail bytes of buf for one frame whose payload is at
 * most max bytes. Returns 0 when the whole frame is there (*out filled,
 * out->payload pointing into buf, *used = FRAME_HEADER_LEN + len: drain
 * that much once done with it), FRAME_NEED_MORE when the header or the
 * payload is still incomplete, or SATCHEL_ELIMIT as soon as the header
 * declares more than max, before any payload byte has arrived.
 */
int	frame_peek(const uint8_t *buf, size_t avail, uint32_t max,
	    struct frame *out, size_t *used, struct error *err);
/* Appends a header; the caller appends exactly len payload bytes. */
void	frame_put_header(struct buf *, uint16_t type, uint32_t len);

#endif
