/*
 * frame.c owns the sync protocol's framing: finding one whole frame in a
 * read buffer and writing a frame header. Message payloads are msg.c's.
 */
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "frame.h"
#include "util.h"

/* Why: this is called by a read callback in a loop on whatever has arrived
 * so far, so it must decide from the header alone. The length is checked
 * against the limit before waiting for the payload: a peer announcing a
 * huge frame is refused before anything is buffered for it. */
int
frame_peek(const uint8_t *buf, size_t avail, uint32_t max, struct frame *out,
    size_t *used, struct error *err)
{
	uint32_t	len;
	uint16_t	type;

	if (avail < FRAME_HEADER_LEN)
		return FRAME_NEED_MORE;
	len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | (uint32_t)buf[3];
	type = (uint16_t)(buf[4] << 8 | buf[5]);
	if (len > max) {
		return error_set(err, SATCHEL_ELIMIT,
		    "frame of type 0x%04x: payload of %u bytes is over the "
		    "limit of %u", type, len, max);
	}
	if (avail - FRAME_HEADER_LEN < len)
		return FRAME_NEED_MORE;
	out->type = type;
	out->len = len;
	out->payload = buf + FRAME_HEADER_LEN;
	*used = FRAME_HEADER_LEN + (size_t)len;
	return 0;
}

void
frame_put_header(struct buf *b, uint16_t type, uint32_t len)
{
	uint8_t	h[FRAME_HEADER_LEN];

	h[0] = (uint8_t)(len >> 24);
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	h[4] = (uint8_t)(type >> 8);
	h[5] = (uint8_t)type;
	buf_add(b, h, sizeof h);
}
