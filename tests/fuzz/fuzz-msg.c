/*
 * fuzz-msg.c: every message decoder on its own. The input is a u16 type
 * (big-endian) then the payload, so that the fuzzer spends its time on
 * payloads rather than on finding a valid header. Invariants: a refusal
 * is EINVALID with a message and leaves *out zeroed; an accepted
 * message encodes to exactly the frame it came from, and that frame
 * decodes again.
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
	static const struct msg	zero;
	struct frame		f, g;
	struct msg		m, m2;
	struct error		err;
	struct buf		b;
	size_t			used;

	if (size < 2 || size - 2 > FRAME_MAX_LIMIT)
		return 0;
	f.type = (uint16_t)(data[0] << 8 | data[1]);
	f.len = (uint32_t)(size - 2);
	f.payload = data + 2;
	error_clear(&err);
	if (msg_decode(&m, &f, &err) != 0) {
		FUZZ_ASSERT(err.code == SATCHEL_EINVALID && err.msg[0] != '\0');
		FUZZ_ASSERT(memcmp(&m, &zero, sizeof m) == 0);
		return 0;
	}
	FUZZ_ASSERT(m.type == f.type);
	buf_init(&b);
	msg_encode(&m, &b);
	FUZZ_ASSERT(b.len == FRAME_HEADER_LEN + f.len);
	FUZZ_ASSERT(frame_peek((const uint8_t *)b.data, b.len, FRAME_MAX_LIMIT,
	    &g, &used, &err) == 0 && used == b.len);
	FUZZ_ASSERT(g.type == f.type && g.len == f.len &&
	    memcmp(g.payload, f.payload, f.len) == 0);
	FUZZ_ASSERT(msg_decode(&m2, &g, &err) == 0 && m2.type == m.type);
	msg_free(&m2);
	msg_free(&m);
	buf_free(&b);
	return 0;
}
