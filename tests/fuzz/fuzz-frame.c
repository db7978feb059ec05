/*
 * fuzz-frame.c: the sync protocol's framing and messages as a receiver
 * meets them: a byte stream cut into frames by frame_peek, each decoded
 * by msg_decode. Invariants: a frame whose header is all there is
 * NEED_MORE one byte short; every accepted message encodes back to
 * exactly the bytes it came from (the decoder is strict, so there is one
 * encoding of each message).
 */
#include <string.h>

#include "error.h"
#include "frame.h"
#include "msg.h"
#include "util.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame	f, g;
	struct msg	m;
	struct error	err;
	struct buf	b;
	size_t		off = 0, used, used2;
	uint32_t	max;
	int		rc;

	/* The first byte picks the limit: before or after the handshake. */
	if (size < 1)
		return 0;
	max = data[0] & 1 ? FRAME_MAX_PREAUTH : FRAME_MAX_DEFAULT;
	off = 1;
	while (off < size) {
		error_clear(&err);
		rc = frame_peek(data + off, size - off, max, &f, &used, &err);
		if (rc == FRAME_NEED_MORE)
			break;
		if (rc != 0) {
			FUZZ_ASSERT(rc == SATCHEL_ELIMIT && err.msg[0] != '\0');
			break;
		}
		FUZZ_ASSERT(f.len <= max && used == FRAME_HEADER_LEN + f.len);
		FUZZ_ASSERT(used <= size - off && f.payload == data + off +
		    FRAME_HEADER_LEN);
		/* One byte short of the frame is not yet a frame. */
		FUZZ_ASSERT(frame_peek(data + off, used - 1, max, &g, &used2,
		    &err) == FRAME_NEED_MORE);
		error_clear(&err);
		if (msg_decode(&m, &f, &err) == 0) {
			buf_init(&b);
			msg_encode(&m, &b);
			FUZZ_ASSERT(b.len == used &&
			    memcmp(b.data, data + off, used) == 0);
			buf_free(&b);
			msg_free(&m);
		} else
			FUZZ_ASSERT(err.code == SATCHEL_EINVALID &&
			    err.msg[0] != '\0');
		off += used;
	}
	return 0;
}
