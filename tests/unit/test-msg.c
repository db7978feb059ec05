/*
 * test-msg.c: the sync protocol's codecs (protocol/frame.c, protocol/msg.c):
 * encode -> peek -> decode round trips for every message, frame_peek on
 * partial and back-to-back input and over its limits, what the strict
 * decoder refuses (each with its message), and hand-written frames from
 * protocol/vectors/frames.txt checked both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vectors.h"

#include "error.h"
#include "frame.h"
#include "msg.h"
#include "util.h"

/* Helpers. */

/* Peeks the single whole frame in b (nothing more, nothing less). */
static void
peek_whole(const struct buf *b, uint32_t max, struct frame *f)
{
	struct error	err;
	size_t		used = 0;
	int		rc;

	rc = frame_peek((const uint8_t *)b->data, b->len, max, f, &used, &err);
	if (rc != 0)
		fail_msg("frame_peek: %d %s", rc, rc < 0 ? err.msg : "");
	assert_int_equal(used, b->len);
	assert_int_equal(f->len + FRAME_HEADER_LEN, b->len);
}

/* Encodes in, then peeks and decodes it into out; b keeps the bytes that
 * out's payload pointers point into. */
static void
roundtrip(const struct msg *in, struct msg *out, struct buf *b)
{
	struct frame	f;
	struct error	err;

	buf_init(b);
	msg_encode(in, b);
	peek_whole(b, FRAME_MAX_LIMIT, &f);
	assert_int_equal(f.type, in->type);
	if (msg_decode(out, &f, &err) != 0)
		fail_msg("msg_decode %s: %s", msg_type_name(in->type), err.msg);
	assert_int_equal(out->type, in->type);
}

static void
fill(uint8_t h[MSG_HASH_LEN], uint8_t byte)
{
	memset(h, byte, MSG_HASH_LEN);
}

/* Decodes a frame of type with payload p and expects a refusal whose
 * message contains needle; the output must be left empty. */
static void
expect_refused(uint16_t type, const struct buf *p, const char *needle)
{
	struct buf	b;
	struct frame	f;
	struct msg	m;
	struct error	err;
	int		rc;

	buf_init(&b);
	frame_put_header(&b, type, (uint32_t)p->len);
	buf_add(&b, p->data, p->len);
	peek_whole(&b, FRAME_MAX_LIMIT, &f);
	memset(&m, 0xa5, sizeof m);
	err.msg[0] = '\0';
	rc = msg_decode(&m, &f, &err);
	if (rc != SATCHEL_EINVALID)
		fail_msg("0x%04x: rc %d, expected a refusal (%s)", type, rc,
		    needle);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("0x%04x: message \"%s\" lacks \"%s\"", type, err.msg,
		    needle);
	assert_int_equal(m.type, 0);
	buf_free(&b);
}

/* A HELLO payload up to (not including) the capabilities. */
static void
hello_head(struct buf *p, const char *magic, uint16_t version,
    uint32_t max_frame, uint16_t ncaps)
{
	buf_add(p, magic, MSG_MAGIC_LEN);
	msg_put_u16(p, version);
	msg_put_u32(p, max_frame);
	msg_put_u16(p, ncaps);
}

/* Round trips. */

static void
test_roundtrip_hello(void **state)
{
	struct msg	 in, out;
	struct buf	 b;
	char		*caps[MSG_CAP_MAX], name[MSG_CAP_MAX][MSG_CAP_LEN_MAX + 1];
	int		 i;

	/* No capabilities, the smallest max_frame. */
	memset(&in, 0, sizeof in);
	in.type = MSG_HELLO;
	in.u.hello.version = 1;
	in.u.hello.max_frame = FRAME_MAX_PREAUTH;
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.hello.version, 1);
	assert_int_equal(out.u.hello.max_frame, FRAME_MAX_PREAUTH);
	assert_int_equal(out.u.hello.ncaps, 0);
	assert_null(out.u.hello.caps);
	msg_free(&out);
	buf_free(&b);

	/* 64 capabilities of 32 characters, the largest max_frame, a later
	 * version (accepted: the peers use the lower one). */
	for (i = 0; i < MSG_CAP_MAX; i++) {
		memset(name[i], 'a' + i % 26, MSG_CAP_LEN_MAX);
		name[i][0] = (char)('0' + i / 10);
		name[i][1] = (char)('0' + i % 10);
		name[i][2] = '-';
		name[i][3] = 'x';
		name[i][MSG_CAP_LEN_MAX] = '\0';
		caps[i] = name[i];
	}
	in.u.hello.version = 7;
	in.u.hello.max_frame = FRAME_MAX_LIMIT;
	in.u.hello.ncaps = MSG_CAP_MAX;
	in.u.hello.caps = caps;
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.hello.version, 7);
	assert_int_equal(out.u.hello.max_frame, FRAME_MAX_LIMIT);
	assert_int_equal(out.u.hello.ncaps, MSG_CAP_MAX);
	for (i = 0; i < MSG_CAP_MAX; i++)
		assert_string_equal(out.u.hello.caps[i], caps[i]);
	msg_free(&out);
	buf_free(&b);
}

static void
test_roundtrip_error(void **state)
{
	struct msg	 in, out;
	struct buf	 b;
	char		*big;
	size_t		 i;

	memset(&in, 0, sizeof in);
	in.type = MSG_ERROR;
	in.u.error.code = MSG_ERR_PROTOCOL;
	in.u.error.message = (char *)"";
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.error.code, MSG_ERR_PROTOCOL);
	assert_string_equal(out.u.error.message, "");
	msg_free(&out);
	buf_free(&b);

	/* Exactly MSG_TEXT_MAX bytes, multibyte characters included. */
	big = xmalloc(MSG_TEXT_MAX + 1);
	for (i = 0; i < MSG_TEXT_MAX; i += 4)
		memcpy(big + i, "\xc3\xa9" "ab", 4);	/* "éab" */
	big[MSG_TEXT_MAX] = '\0';
	in.u.error.code = MSG_ERR_INTERNAL;
	in.u.error.message = big;
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.error.code, MSG_ERR_INTERNAL);
	assert_int_equal(strlen(out.u.error.message), MSG_TEXT_MAX);
	assert_string_equal(out.u.error.message, big);
	msg_free(&out);
	buf_free(&b);
	free(big);
}

static void
test_roundtrip_empty_messages(void **state)
{
	static const uint16_t	 types[] = {
		MSG_KEEPALIVE, MSG_BYE, MSG_PUBLISH_DONE
	};
	struct msg		 in, out;
	struct buf		 b;
	size_t			 i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		memset(&in, 0, sizeof in);
		in.type = types[i];
		roundtrip(&in, &out, &b);
		assert_int_equal(b.len, FRAME_HEADER_LEN);
		msg_free(&out);
		buf_free(&b);
	}
}

static void
test_roundtrip_get_meta(void **state)
{
	struct msg	in, out;
	struct buf	b;
	char		name[128];

	memset(&in, 0, sizeof in);
	in.type = MSG_GET_META;
	in.u.get_meta.role = MSG_ROLE_TRUST;
	in.u.get_meta.name = (char *)"";
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.get_meta.role, MSG_ROLE_TRUST);
	assert_string_equal(out.u.get_meta.name, "");
	assert_int_equal(out.u.get_meta.have_flag, 0);
	msg_free(&out);
	buf_free(&b);

	/* An older trust policy, by its serial (a chain being walked). */
	in.u.get_meta.name = (char *)"9223372036854775807";
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.get_meta.role, MSG_ROLE_TRUST);
	assert_string_equal(out.u.get_meta.name, "9223372036854775807");
	msg_free(&out);
	buf_free(&b);

	/* The longest release name: a 63-character bundle, INT64_MAX. */
	memset(name, 'z', 63);
	strcpy(name + 63, "@9223372036854775807");
	in.u.get_meta.role = MSG_ROLE_RELEASE;
	in.u.get_meta.name = name;
	in.u.get_meta.have_flag = 1;
	fill(in.u.get_meta.have, 0x5c);
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.get_meta.role, MSG_ROLE_RELEASE);
	assert_string_equal(out.u.get_meta.name, name);
	assert_int_equal(out.u.get_meta.have_flag, 1);
	assert_memory_equal(out.u.get_meta.have, in.u.get_meta.have,
	    MSG_HASH_LEN);
	msg_free(&out);
	buf_free(&b);
}

static void
test_roundtrip_meta(void **state)
{
	static const uint8_t	data[] = "satchel-catalog 1\n";
	struct msg		in, out;
	struct buf		b;

	memset(&in, 0, sizeof in);
	in.type = MSG_META;
	in.u.meta.role = MSG_ROLE_CATALOG;
	in.u.meta.name = (char *)"";
	in.u.meta.status = MSG_STATUS_OK;
	in.u.meta.total = sizeof data - 1;
	in.u.meta.offset = 0;
	in.u.meta.data = data;
	in.u.meta.datalen = sizeof data - 1;
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.meta.role, MSG_ROLE_CATALOG);
	assert_int_equal(out.u.meta.status, MSG_STATUS_OK);
	assert_true(out.u.meta.total == sizeof data - 1);
	assert_true(out.u.meta.offset == 0);
	assert_int_equal(out.u.meta.datalen, sizeof data - 1);
	assert_memory_equal(out.u.meta.data, data, sizeof data - 1);
	/* Not copied: it points into the frame. */
	assert_ptr_equal(out.u.meta.data, (uint8_t *)b.data + b.len -
	    (sizeof data - 1));
	msg_free(&out);
	buf_free(&b);

	/* The last piece of the largest catalog, and of the largest signed
	 * manifest: total at the role's limit. */
	in.u.meta.total = MSG_CATALOG_MAX;
	in.u.meta.offset = MSG_CATALOG_MAX - 3;
	in.u.meta.datalen = 3;
	roundtrip(&in, &out, &b);
	assert_true(out.u.meta.total == MSG_CATALOG_MAX);
	assert_true(out.u.meta.offset == MSG_CATALOG_MAX - 3);
	assert_int_equal(out.u.meta.datalen, 3);
	msg_free(&out);
	buf_free(&b);
	in.u.meta.role = MSG_ROLE_RELEASE;
	in.u.meta.name = (char *)"demo@3";
	in.u.meta.total = MSG_SIGNED_MANIFEST_MAX;
	in.u.meta.offset = 0;
	roundtrip(&in, &out, &b);
	assert_true(out.u.meta.total == MSG_SIGNED_MANIFEST_MAX);
	msg_free(&out);
	buf_free(&b);

	in.u.meta.role = MSG_ROLE_RELEASE;
	in.u.meta.name = (char *)"demo@3";
	in.u.meta.status = MSG_STATUS_NOT_MODIFIED;
	in.u.meta.data = NULL;
	in.u.meta.datalen = 0;
	roundtrip(&in, &out, &b);
	assert_string_equal(out.u.meta.name, "demo@3");
	assert_int_equal(out.u.meta.status, MSG_STATUS_NOT_MODIFIED);
	assert_null(out.u.meta.data);
	msg_free(&out);
	buf_free(&b);

	in.u.meta.status = MSG_STATUS_NOT_FOUND;
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.meta.status, MSG_STATUS_NOT_FOUND);
	assert_int_equal(out.u.meta.datalen, 0);
	msg_free(&out);
	buf_free(&b);
}

static void
test_roundtrip_objects(void **state)
{
	static const uint64_t	offsets[] = { 0, 1, UINT64_MAX };
	static const uint8_t	chunk[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x00 };
	struct msg		in, out;
	struct buf		b;
	size_t			i;

	for (i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		memset(&in, 0, sizeof in);
		in.type = MSG_GET_OBJECT;
		in.u.get_object.request = UINT32_MAX - (uint32_t)i;
		fill(in.u.get_object.object, 0x10 + (uint8_t)i);
		in.u.get_object.offset = offsets[i];
		roundtrip(&in, &out, &b);
		assert_int_equal(out.u.get_object.request,
		    in.u.get_object.request);
		assert_memory_equal(out.u.get_object.object,
		    in.u.get_object.object, MSG_HASH_LEN);
		assert_true(out.u.get_object.offset == offsets[i]);
		msg_free(&out);
		buf_free(&b);

		memset(&in, 0, sizeof in);
		in.type = MSG_OBJECT_DATA;
		in.u.object_data.request = (uint32_t)i;
		in.u.object_data.offset = offsets[i];
		in.u.object_data.chunk = chunk;
		in.u.object_data.chunklen = sizeof chunk;
		roundtrip(&in, &out, &b);
		assert_int_equal(out.u.object_data.request, i);
		assert_true(out.u.object_data.offset == offsets[i]);
		assert_int_equal(out.u.object_data.chunklen, sizeof chunk);
		assert_memory_equal(out.u.object_data.chunk, chunk,
		    sizeof chunk);
		msg_free(&out);
		buf_free(&b);

		memset(&in, 0, sizeof in);
		in.type = MSG_OBJECT_END;
		in.u.object_end.request = 42;
		in.u.object_end.size = offsets[i];
		roundtrip(&in, &out, &b);
		assert_int_equal(out.u.object_end.request, 42);
		assert_true(out.u.object_end.size == offsets[i]);
		msg_free(&out);
		buf_free(&b);
	}

	memset(&in, 0, sizeof in);
	in.type = MSG_CANCEL;
	in.u.cancel.request = 0x01020304;
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.cancel.request, 0x01020304);
	msg_free(&out);
	buf_free(&b);
}

static void
test_roundtrip_publish(void **state)
{
	static const uint8_t	manifest[] = "satchel-manifest 1\n...";
	static const uint8_t	chunk[] = { 1, 2, 3 };
	struct msg		in, out;
	struct buf		b;
	char			msgtext[MSG_TEXT_MAX + 1];

	memset(&in, 0, sizeof in);
	in.type = MSG_PUBLISH;
	in.u.publish.total = sizeof manifest - 1;
	in.u.publish.data = manifest;
	in.u.publish.datalen = sizeof manifest - 1;
	roundtrip(&in, &out, &b);
	assert_true(out.u.publish.total == sizeof manifest - 1);
	assert_true(out.u.publish.offset == 0);
	assert_int_equal(out.u.publish.datalen, sizeof manifest - 1);
	assert_memory_equal(out.u.publish.data, manifest,
	    sizeof manifest - 1);
	msg_free(&out);
	buf_free(&b);

	/* A middle piece of the largest signed manifest. */
	in.u.publish.total = MSG_SIGNED_MANIFEST_MAX;
	in.u.publish.offset = 1u << 20;
	roundtrip(&in, &out, &b);
	assert_true(out.u.publish.total == MSG_SIGNED_MANIFEST_MAX);
	assert_true(out.u.publish.offset == 1u << 20);
	assert_int_equal(out.u.publish.datalen, sizeof manifest - 1);
	msg_free(&out);
	buf_free(&b);

	memset(&in, 0, sizeof in);
	in.type = MSG_PUBLISH_OBJECT;
	fill(in.u.publish_object.object, 0xee);
	in.u.publish_object.offset = UINT64_MAX;
	in.u.publish_object.chunk = chunk;
	in.u.publish_object.chunklen = sizeof chunk;
	roundtrip(&in, &out, &b);
	assert_memory_equal(out.u.publish_object.object,
	    in.u.publish_object.object, MSG_HASH_LEN);
	assert_true(out.u.publish_object.offset == UINT64_MAX);
	assert_int_equal(out.u.publish_object.chunklen, sizeof chunk);
	assert_memory_equal(out.u.publish_object.chunk, chunk, sizeof chunk);
	msg_free(&out);
	buf_free(&b);

	memset(&in, 0, sizeof in);
	in.type = MSG_PUBLISH_RESULT;
	in.u.publish_result.ok = 0;
	in.u.publish_result.catalog_serial = 0;
	in.u.publish_result.message = (char *)"";
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.publish_result.ok, 0);
	assert_true(out.u.publish_result.catalog_serial == 0);
	assert_string_equal(out.u.publish_result.message, "");
	msg_free(&out);
	buf_free(&b);

	memset(msgtext, 'r', MSG_TEXT_MAX);
	msgtext[MSG_TEXT_MAX] = '\0';
	in.u.publish_result.ok = 1;
	in.u.publish_result.catalog_serial = UINT64_MAX;
	in.u.publish_result.message = msgtext;
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.publish_result.ok, 1);
	assert_true(out.u.publish_result.catalog_serial == UINT64_MAX);
	assert_string_equal(out.u.publish_result.message, msgtext);
	msg_free(&out);
	buf_free(&b);
}

static void
test_roundtrip_publish_need(void **state)
{
	/* As many hashes as fit a default frame: (max_frame - 8) / 32. */
	const uint32_t	 many = (FRAME_MAX_DEFAULT -
			    MSG_PUBLISH_NEED_OVERHEAD) / MSG_HASH_LEN;
	struct msg	 in, out;
	struct buf	 b;
	struct frame	 f;
	uint32_t	 i;

	memset(&in, 0, sizeof in);
	in.type = MSG_PUBLISH_NEED;
	roundtrip(&in, &out, &b);
	assert_int_equal(out.u.publish_need.n, 0);
	assert_null(out.u.publish_need.hashes);
	msg_free(&out);
	buf_free(&b);

	/* The first frame of a list of a million. */
	in.u.publish_need.total = MSG_NEED_MAX;
	in.u.publish_need.n = many;
	in.u.publish_need.hashes = xcalloc(many, MSG_HASH_LEN);
	for (i = 0; i < many; i++) {
		memcpy(in.u.publish_need.hashes[i], &i, sizeof i);
		in.u.publish_need.hashes[i][31] = (uint8_t)(i * 7);
	}
	roundtrip(&in, &out, &b);
	assert_true(b.len <= FRAME_HEADER_LEN + FRAME_MAX_DEFAULT);
	peek_whole(&b, FRAME_MAX_DEFAULT, &f);
	assert_int_equal(out.u.publish_need.total, MSG_NEED_MAX);
	assert_int_equal(out.u.publish_need.n, many);
	assert_memory_equal(out.u.publish_need.hashes,
	    in.u.publish_need.hashes, (size_t)many * MSG_HASH_LEN);
	msg_free(&out);
	buf_free(&b);
	free(in.u.publish_need.hashes);
}

/* frame_peek. */

static void
test_frame_peek_every_prefix(void **state)
{
	static const uint8_t	chunk[] = "0123456789";
	struct msg		m;
	struct buf		b;
	struct frame		f;
	struct error		err;
	size_t			n, used;

	memset(&m, 0, sizeof m);
	m.type = MSG_OBJECT_DATA;
	m.u.object_data.request = 3;
	m.u.object_data.chunk = chunk;
	m.u.object_data.chunklen = sizeof chunk - 1;
	buf_init(&b);
	msg_encode(&m, &b);
	for (n = 0; n < b.len; n++) {
		used = 12345;
		assert_int_equal(frame_peek((uint8_t *)b.data, n,
		    FRAME_MAX_DEFAULT, &f, &used, &err), FRAME_NEED_MORE);
		assert_int_equal(used, 12345);
	}
	assert_int_equal(frame_peek((uint8_t *)b.data, b.len,
	    FRAME_MAX_DEFAULT, &f, &used, &err), 0);
	assert_int_equal(used, b.len);
	assert_int_equal(f.type, MSG_OBJECT_DATA);
	assert_int_equal(f.len, b.len - FRAME_HEADER_LEN);
	assert_ptr_equal(f.payload, (uint8_t *)b.data + FRAME_HEADER_LEN);
	buf_free(&b);
}

static void
test_frame_peek_back_to_back(void **state)
{
	struct msg	 a, c, out;
	struct buf	 b;
	struct frame	 f;
	struct error	 err;
	size_t		 used, first;
	const uint8_t	*p;

	memset(&a, 0, sizeof a);
	a.type = MSG_CANCEL;
	a.u.cancel.request = 9;
	memset(&c, 0, sizeof c);
	c.type = MSG_BYE;
	buf_init(&b);
	msg_encode(&a, &b);
	first = b.len;
	msg_encode(&c, &b);
	buf_add(&b, "\0\0", 2);		/* the start of a third header */

	p = (const uint8_t *)b.data;
	assert_int_equal(frame_peek(p, b.len, FRAME_MAX_PREAUTH, &f, &used,
	    &err), 0);
	assert_int_equal(used, first);
	assert_int_equal(f.type, MSG_CANCEL);
	assert_int_equal(msg_decode(&out, &f, &err), 0);
	assert_int_equal(out.u.cancel.request, 9);
	msg_free(&out);

	p += used;
	assert_int_equal(frame_peek(p, b.len - first, FRAME_MAX_PREAUTH, &f,
	    &used, &err), 0);
	assert_int_equal(used, FRAME_HEADER_LEN);
	assert_int_equal(f.type, MSG_BYE);
	assert_int_equal(f.len, 0);

	p += used;
	assert_int_equal(frame_peek(p, 2, FRAME_MAX_PREAUTH, &f, &used, &err),
	    FRAME_NEED_MORE);
	buf_free(&b);
}

static void
test_frame_peek_over_limit(void **state)
{
	struct buf	b;
	struct frame	f;
	struct error	err;
	size_t		used = 0;

	/* The 6-byte header alone, no payload: decided at once. */
	buf_init(&b);
	frame_put_header(&b, MSG_PUBLISH, FRAME_MAX_DEFAULT + 1);
	assert_int_equal(b.len, FRAME_HEADER_LEN);
	assert_int_equal(frame_peek((uint8_t *)b.data, b.len,
	    FRAME_MAX_DEFAULT, &f, &used, &err), SATCHEL_ELIMIT);
	assert_non_null(strstr(err.msg, "over the limit"));
	assert_int_equal(used, 0);
	/* At the limit: fine, only the payload is missing. */
	buf_free(&b);
	frame_put_header(&b, MSG_PUBLISH, FRAME_MAX_DEFAULT);
	assert_int_equal(frame_peek((uint8_t *)b.data, b.len,
	    FRAME_MAX_DEFAULT, &f, &used, &err), FRAME_NEED_MORE);
	/* The largest declared length. */
	buf_free(&b);
	frame_put_header(&b, MSG_HELLO, UINT32_MAX);
	assert_int_equal(frame_peek((uint8_t *)b.data, b.len,
	    FRAME_MAX_LIMIT, &f, &used, &err), SATCHEL_ELIMIT);
	buf_free(&b);
}

static void
test_frame_peek_preauth_limit(void **state)
{
	struct buf	b;
	struct frame	f;
	struct error	err;
	size_t		used = 0;
	uint8_t		zero[FRAME_MAX_PREAUTH];

	memset(zero, 0, sizeof zero);
	buf_init(&b);
	frame_put_header(&b, MSG_HELLO, FRAME_MAX_PREAUTH + 1);
	assert_int_equal(frame_peek((uint8_t *)b.data, b.len,
	    FRAME_MAX_PREAUTH, &f, &used, &err), SATCHEL_ELIMIT);
	assert_non_null(strstr(err.msg, "4097"));
	/* The same header is fine once the default limit applies. */
	assert_int_equal(frame_peek((uint8_t *)b.data, b.len,
	    FRAME_MAX_DEFAULT, &f, &used, &err), FRAME_NEED_MORE);
	buf_free(&b);

	frame_put_header(&b, MSG_HELLO, FRAME_MAX_PREAUTH);
	buf_add(&b, zero, sizeof zero);
	assert_int_equal(frame_peek((uint8_t *)b.data, b.len,
	    FRAME_MAX_PREAUTH, &f, &used, &err), 0);
	assert_int_equal(used, FRAME_HEADER_LEN + FRAME_MAX_PREAUTH);
	buf_free(&b);
}

/* Refusals. */

static void
test_refuse_hello_magic(void **state)
{
	struct buf	p;

	buf_init(&p);
	hello_head(&p, "SATCHEL!", 1, FRAME_MAX_DEFAULT, 0);
	expect_refused(MSG_HELLO, &p, "HELLO: bad magic");
	buf_free(&p);
}

static void
test_refuse_hello_version_0(void **state)
{
	struct buf	p;

	buf_init(&p);
	hello_head(&p, MSG_MAGIC, 0, FRAME_MAX_DEFAULT, 0);
	expect_refused(MSG_HELLO, &p, "HELLO: version: 0 is not a version");
	buf_free(&p);
}

static void
test_refuse_hello_max_frame(void **state)
{
	struct buf	p;

	buf_init(&p);
	hello_head(&p, MSG_MAGIC, 1, 100, 0);
	expect_refused(MSG_HELLO, &p, "max_frame: 100 is not in 4096..");
	buf_free(&p);
	hello_head(&p, MSG_MAGIC, 1, FRAME_MAX_LIMIT + 1, 0);
	expect_refused(MSG_HELLO, &p, "max_frame: 16777217 is not in");
	buf_free(&p);
}

static void
test_refuse_hello_capability(void **state)
{
	static const char	*bad[] = {
		"Zstd", "", "zstd_2", "zst d", "abcdefghijklmnopqrstuvwxyz0123456"
	};
	struct buf		 p;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		buf_init(&p);
		hello_head(&p, MSG_MAGIC, 1, FRAME_MAX_DEFAULT, 2);
		msg_put_text(&p, "resume");
		msg_put_text(&p, bad[i]);
		/* 33 bytes is over the field's limit before the token
		 * check; the others fail the token check. */
		expect_refused(MSG_HELLO, &p, strlen(bad[i]) > MSG_CAP_LEN_MAX ?
		    "capability: 33 bytes is over the limit of 32" :
		    "HELLO: capability 1: not [a-z0-9-]{1,32}");
		buf_free(&p);
	}
}

static void
test_refuse_hello_too_many_capabilities(void **state)
{
	struct buf	p;
	int		i;

	buf_init(&p);
	hello_head(&p, MSG_MAGIC, 1, FRAME_MAX_DEFAULT, MSG_CAP_MAX + 1);
	for (i = 0; i < MSG_CAP_MAX + 1; i++)
		msg_put_text(&p, "a");
	expect_refused(MSG_HELLO, &p, "HELLO: 65 capabilities, at most 64");
	buf_free(&p);

	/* A count the payload cannot hold is refused before allocating. */
	hello_head(&p, MSG_MAGIC, 1, FRAME_MAX_DEFAULT, 3);
	msg_put_text(&p, "a");
	expect_refused(MSG_HELLO, &p, "3 capabilities do not fit");
	buf_free(&p);
}

static void
test_refuse_truncated_payload(void **state)
{
	struct buf	p;
	uint8_t		h[MSG_HASH_LEN];

	fill(h, 1);
	buf_init(&p);
	msg_put_u32(&p, 1);
	msg_put_hash(&p, h);
	buf_add(&p, "\0\0\0\0\0\0\0", 7);	/* offset: 7 of 8 bytes */
	expect_refused(MSG_GET_OBJECT, &p,
	    "GET_OBJECT: offset: truncated payload (8 bytes needed, 7 left)");
	buf_free(&p);

	/* A text whose length runs past the payload. */
	msg_put_u16(&p, MSG_ERR_BUSY);
	msg_put_u32(&p, 10);
	buf_add(&p, "busy", 4);
	expect_refused(MSG_ERROR, &p,
	    "ERROR: message: truncated payload (10 bytes needed, 4 left)");
	buf_free(&p);

	expect_refused(MSG_CANCEL, &p, "CANCEL: request: truncated");
}

static void
test_refuse_trailing_byte(void **state)
{
	struct buf	p;

	buf_init(&p);
	msg_put_u32(&p, 5);
	msg_put_u8(&p, 0);
	expect_refused(MSG_CANCEL, &p, "CANCEL: 1 trailing bytes");
	buf_free(&p);

	msg_put_u8(&p, 0);
	expect_refused(MSG_KEEPALIVE, &p, "KEEPALIVE: 1 trailing bytes");
	buf_free(&p);

	/* No data may follow a "not modified". */
	msg_put_u8(&p, MSG_ROLE_CATALOG);
	msg_put_text(&p, "");
	msg_put_u8(&p, MSG_STATUS_NOT_MODIFIED);
	msg_put_bytes(&p, "abc", 3);
	expect_refused(MSG_META, &p, "META: 7 trailing bytes");
	buf_free(&p);

	/* Nor a hash after have_flag 0. */
	msg_put_u8(&p, MSG_ROLE_TRUST);
	msg_put_text(&p, "");
	msg_put_u8(&p, 0);
	buf_add(&p, "0123456789abcdef0123456789abcdef", MSG_HASH_LEN);
	expect_refused(MSG_GET_META, &p, "GET_META: 32 trailing bytes");
	buf_free(&p);
}

static void
test_refuse_bad_text(void **state)
{
	static const char	*bad[] = {
		"caf\xc3",		/* cut sequence */
		"\xc3\x28",		/* bad continuation */
		"\xc0\xaf",		/* overlong */
		"\xed\xa0\x80",		/* surrogate */
		"a\tb",			/* C0 control */
		"line\n",		/* LF */
		"\x7f",			/* DEL */
		"\xc2\x85",		/* C1 control */
	};
	struct buf		 p;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		buf_init(&p);
		msg_put_u16(&p, MSG_ERR_PROTOCOL);
		msg_put_text(&p, bad[i]);
		expect_refused(MSG_ERROR, &p,
		    "ERROR: message: not valid UTF-8 text");
		buf_free(&p);
	}
	/* A NUL would cut the C string: refused as a control character. */
	msg_put_u8(&p, 1);
	msg_put_u64(&p, 3);
	msg_put_bytes(&p, "ok\0no", 5);
	expect_refused(MSG_PUBLISH_RESULT, &p,
	    "PUBLISH_RESULT: message: not valid UTF-8 text");
	buf_free(&p);
	/* One byte over MSG_TEXT_MAX. */
	msg_put_u16(&p, MSG_ERR_PROTOCOL);
	msg_put_u32(&p, MSG_TEXT_MAX + 1);
	for (i = 0; i <= MSG_TEXT_MAX; i++)
		buf_addc(&p, 'x');
	expect_refused(MSG_ERROR, &p,
	    "ERROR: message: 4097 bytes is over the limit of 4096");
	buf_free(&p);
}

static void
test_refuse_name(void **state)
{
	static const char	*bad[] = {
		"demo", "demo@", "@3", "demo@0", "demo@03", "Demo@3",
		"-demo@3", "demo@3@4", "demo@9223372036854775808",
	};
	struct buf		 p;
	char			 name[130];
	size_t			 i;

	/* 129 bytes, refused by its length before anything else. */
	memset(name, 'a', 129);
	name[129] = '\0';
	buf_init(&p);
	msg_put_u8(&p, MSG_ROLE_RELEASE);
	msg_put_text(&p, name);
	msg_put_u8(&p, 0);
	expect_refused(MSG_GET_META, &p,
	    "GET_META: name: 129 bytes is over the limit of 128");
	buf_free(&p);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		msg_put_u8(&p, MSG_ROLE_RELEASE);
		msg_put_text(&p, bad[i]);
		msg_put_u8(&p, 0);
		expect_refused(MSG_GET_META, &p,
		    "GET_META: name: not NAME@SERIAL");
		buf_free(&p);
	}

	msg_put_u8(&p, MSG_ROLE_CATALOG);
	msg_put_text(&p, "demo@3");
	msg_put_u8(&p, MSG_STATUS_NOT_FOUND);
	expect_refused(MSG_META, &p, "META: name: must be empty for role 2");
	buf_free(&p);

	/* Role 2 takes no serial either; role 1 only a serial, spelled one
	 * way, 1 to INT64_MAX (no path can hide in it). */
	msg_put_u8(&p, MSG_ROLE_CATALOG);
	msg_put_text(&p, "3");
	msg_put_u8(&p, 0);
	expect_refused(MSG_GET_META, &p,
	    "GET_META: name: must be empty for role 2");
	buf_free(&p);
	{
		static const char	*tbad[] = { "0", "03", "x", "3/..", "-1",
					    "9223372036854775808", "demo@3" };

		for (i = 0; i < sizeof tbad / sizeof tbad[0]; i++) {
			msg_put_u8(&p, MSG_ROLE_TRUST);
			msg_put_text(&p, tbad[i]);
			msg_put_u8(&p, 0);
			expect_refused(MSG_GET_META, &p, "GET_META: name: must "
			    "be empty or a policy serial for role 1");
			buf_free(&p);
		}
	}
}

static void
test_refuse_role(void **state)
{
	static const uint8_t	 roles[] = { 0, 4, 255 };
	struct buf		 p;
	char			 want[64];
	size_t			 i;

	buf_init(&p);
	for (i = 0; i < sizeof roles; i++) {
		snprintf(want, sizeof want, "role: %u is not 1, 2 or 3",
		    roles[i]);
		msg_put_u8(&p, roles[i]);
		msg_put_text(&p, "");
		msg_put_u8(&p, 0);
		expect_refused(MSG_GET_META, &p, want);
		expect_refused(MSG_META, &p, want);
		buf_free(&p);
	}
}

/* META status 0 with a piece of len bytes at offset of total. */
static void
meta_piece(struct buf *p, uint8_t role, uint64_t total, uint64_t offset,
    uint32_t len)
{
	msg_put_u8(p, role);
	msg_put_text(p, role == MSG_ROLE_RELEASE ? "demo@3" : "");
	msg_put_u8(p, MSG_STATUS_OK);
	msg_put_u64(p, total);
	msg_put_u64(p, offset);
	msg_put_u32(p, len);
	while (len-- > 0)
		buf_add(p, "d", 1);
}

static void
test_refuse_status(void **state)
{
	struct buf	p;

	buf_init(&p);
	msg_put_u8(&p, MSG_ROLE_TRUST);
	msg_put_text(&p, "");
	msg_put_u8(&p, MSG_STATUS_NOT_MODIFIED);
	msg_put_bytes(&p, "policy", 6);
	expect_refused(MSG_META, &p, "META: 10 trailing bytes");
	buf_free(&p);

	msg_put_u8(&p, MSG_ROLE_TRUST);
	msg_put_text(&p, "");
	msg_put_u8(&p, 3);
	expect_refused(MSG_META, &p, "META: status: 3 is not 0, 1 or 2");
	buf_free(&p);

	/* Status 0 without its piece. */
	msg_put_u8(&p, MSG_ROLE_TRUST);
	msg_put_text(&p, "");
	msg_put_u8(&p, MSG_STATUS_OK);
	expect_refused(MSG_META, &p, "META: total: truncated");
	buf_free(&p);
	meta_piece(&p, MSG_ROLE_TRUST, 5, 0, 5);
	p.len -= 1;
	expect_refused(MSG_META, &p, "META: data: truncated");
	buf_free(&p);
	meta_piece(&p, MSG_ROLE_TRUST, 5, 0, 0);
	expect_refused(MSG_META, &p, "META: data: empty");
	buf_free(&p);
}

/* Why each: a total over the role's limit would make the receiver
 * reserve too much; a piece outside 0..total would be spliced in where
 * nothing belongs. */
static void
test_refuse_pieces(void **state)
{
	struct buf	p;

	buf_init(&p);
	meta_piece(&p, MSG_ROLE_TRUST, 0, 0, 1);
	expect_refused(MSG_META, &p, "META: total: 0 bytes is not in 1..1048576");
	buf_free(&p);
	meta_piece(&p, MSG_ROLE_TRUST, MSG_TRUST_MAX + 1, 0, 1);
	expect_refused(MSG_META, &p,
	    "META: total: 1048577 bytes is not in 1..1048576");
	buf_free(&p);
	meta_piece(&p, MSG_ROLE_CATALOG, MSG_CATALOG_MAX + 1, 0, 1);
	expect_refused(MSG_META, &p,
	    "META: total: 16777217 bytes is not in 1..16777216");
	buf_free(&p);
	meta_piece(&p, MSG_ROLE_RELEASE, MSG_SIGNED_MANIFEST_MAX + 1, 0, 1);
	expect_refused(MSG_META, &p,
	    "META: total: 16785409 bytes is not in 1..16785408");
	buf_free(&p);
	meta_piece(&p, MSG_ROLE_CATALOG, 10, 10, 1);
	expect_refused(MSG_META, &p,
	    "META: offset: 10 is not below the total of 10 bytes");
	buf_free(&p);
	meta_piece(&p, MSG_ROLE_CATALOG, 10, 8, 3);
	expect_refused(MSG_META, &p,
	    "META: data: 3 bytes at offset 8 reach past the total of 10");
	buf_free(&p);
	meta_piece(&p, MSG_ROLE_CATALOG, UINT64_MAX, UINT64_MAX - 1, 1);
	expect_refused(MSG_META, &p, "META: total: 18446744073709551615 bytes");
	buf_free(&p);

	/* PUBLISH: the same rules, the signed manifest's limit. */
	msg_put_u64(&p, MSG_SIGNED_MANIFEST_MAX + 1);
	msg_put_u64(&p, 0);
	msg_put_bytes(&p, "x", 1);
	expect_refused(MSG_PUBLISH, &p,
	    "PUBLISH: total: 16785409 bytes is not in 1..16785408");
	buf_free(&p);
	msg_put_u64(&p, 4);
	msg_put_u64(&p, 2);
	msg_put_bytes(&p, "xyz", 3);
	expect_refused(MSG_PUBLISH, &p,
	    "PUBLISH: data: 3 bytes at offset 2 reach past the total of 4");
	buf_free(&p);
	msg_put_u64(&p, 4);
	msg_put_u64(&p, 0);
	msg_put_u32(&p, 0);
	expect_refused(MSG_PUBLISH, &p, "PUBLISH: data: empty");
	buf_free(&p);
}

static void
test_refuse_have_flag(void **state)
{
	struct buf	p;
	uint8_t		h[MSG_HASH_LEN];

	fill(h, 2);
	buf_init(&p);
	msg_put_u8(&p, MSG_ROLE_CATALOG);
	msg_put_text(&p, "");
	msg_put_u8(&p, 2);
	msg_put_hash(&p, h);
	expect_refused(MSG_GET_META, &p,
	    "GET_META: have_flag: 2 is not 0 or 1");
	buf_free(&p);

	/* have_flag 1 without its hash. */
	msg_put_u8(&p, MSG_ROLE_CATALOG);
	msg_put_text(&p, "");
	msg_put_u8(&p, 1);
	buf_add(&p, h, MSG_HASH_LEN - 1);
	expect_refused(MSG_GET_META, &p, "GET_META: have: truncated");
	buf_free(&p);
}

static void
test_refuse_publish_need_count(void **state)
{
	struct buf	p;
	uint8_t		h[MSG_HASH_LEN];

	fill(h, 3);
	/* Claims 2^32 - 1 hashes (128 GiB) and holds one: allocating for
	 * the claim would abort (xmalloc or the sanitizer), so passing
	 * shows the count was checked against the frame first. */
	buf_init(&p);
	msg_put_u32(&p, MSG_NEED_MAX);
	msg_put_u32(&p, MSG_NEED_MAX);
	msg_put_hash(&p, h);
	expect_refused(MSG_PUBLISH_NEED, &p,
	    "PUBLISH_NEED: n: 1000000 hashes claimed, the payload holds 1");
	buf_free(&p);

	msg_put_u32(&p, MSG_NEED_MAX + 1);
	msg_put_u32(&p, 1);
	msg_put_hash(&p, h);
	expect_refused(MSG_PUBLISH_NEED, &p,
	    "PUBLISH_NEED: total: 1000001 hashes, at most 1000000");
	buf_free(&p);

	/* More in this frame than in the whole list; an empty frame of a
	 * list that is not empty. */
	msg_put_u32(&p, 1);
	msg_put_u32(&p, 2);
	msg_put_hash(&p, h);
	msg_put_hash(&p, h);
	expect_refused(MSG_PUBLISH_NEED, &p,
	    "PUBLISH_NEED: n: 2 hashes in a list of 1");
	buf_free(&p);
	msg_put_u32(&p, 3);
	msg_put_u32(&p, 0);
	expect_refused(MSG_PUBLISH_NEED, &p,
	    "PUBLISH_NEED: n: 0 hashes in a list of 3");
	buf_free(&p);

	msg_put_u32(&p, 2);
	msg_put_u32(&p, 2);
	msg_put_hash(&p, h);
	buf_add(&p, h, 31);
	expect_refused(MSG_PUBLISH_NEED, &p,
	    "n: 2 hashes claimed, the payload holds 1");
	buf_free(&p);

	/* Fewer claimed than held: the rest is trailing. */
	msg_put_u32(&p, 1);
	msg_put_u32(&p, 1);
	msg_put_hash(&p, h);
	msg_put_hash(&p, h);
	expect_refused(MSG_PUBLISH_NEED, &p, "PUBLISH_NEED: 32 trailing bytes");
	buf_free(&p);
}

/* zstd: one frame, single segment, content size 6, one raw block of
 * "abcdef" (written by hand, as in frames.txt). */
static const uint8_t zabcdef[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x06, 0x31,
    0x00, 0x00, 'a', 'b', 'c', 'd', 'e', 'f' };

/* One OBJECT_PACK entry, for refusals the encoder would not write. */
static void
put_pack_entry(struct buf *p, uint32_t request, uint64_t offset,
    uint64_t size, uint32_t len)
{
	msg_put_u32(p, request);
	msg_put_u64(p, offset);
	msg_put_u64(p, size);
	msg_put_u32(p, len);
}

static void
test_refuse_other_fields(void **state)
{
	struct buf	p;
	uint8_t		h[MSG_HASH_LEN];

	fill(h, 4);
	buf_init(&p);
	msg_put_u16(&p, 0);
	msg_put_text(&p, "x");
	expect_refused(MSG_ERROR, &p, "ERROR: code: 0 is unknown");
	buf_free(&p);
	msg_put_u16(&p, 9);
	msg_put_text(&p, "x");
	expect_refused(MSG_ERROR, &p, "ERROR: code: 9 is unknown");
	buf_free(&p);

	msg_put_u8(&p, 2);
	msg_put_u64(&p, 1);
	msg_put_text(&p, "");
	expect_refused(MSG_PUBLISH_RESULT, &p,
	    "PUBLISH_RESULT: ok: 2 is not 0 or 1");
	buf_free(&p);

	msg_put_u32(&p, 1);
	msg_put_u64(&p, 0);
	msg_put_u32(&p, 0);
	expect_refused(MSG_OBJECT_DATA, &p, "OBJECT_DATA: zstd_chunk: empty");
	buf_free(&p);

	msg_put_hash(&p, h);
	msg_put_u64(&p, 0);
	msg_put_u32(&p, 0);
	expect_refused(MSG_PUBLISH_OBJECT, &p,
	    "PUBLISH_OBJECT: zstd_chunk: empty");
	buf_free(&p);

	/* META_Z and PUBLISH_Z: the totals and offsets of their raw kinds,
	 * never empty data; no status byte in META_Z. */
	msg_put_u8(&p, MSG_ROLE_TRUST);
	msg_put_text(&p, "");
	msg_put_u64(&p, MSG_TRUST_MAX + 1);
	msg_put_u64(&p, 0);
	msg_put_bytes(&p, "z", 1);
	expect_refused(MSG_META_Z, &p,
	    "META_Z: total: 1048577 bytes is not in 1..1048576");
	buf_free(&p);
	msg_put_u8(&p, MSG_ROLE_CATALOG);
	msg_put_text(&p, "");
	msg_put_u64(&p, 6);
	msg_put_u64(&p, 6);
	msg_put_bytes(&p, "z", 1);
	expect_refused(MSG_META_Z, &p,
	    "META_Z: offset: 6 is not below the total of 6 bytes");
	buf_free(&p);
	msg_put_u8(&p, MSG_ROLE_CATALOG);
	msg_put_text(&p, "");
	msg_put_u64(&p, 6);
	msg_put_u64(&p, 0);
	msg_put_u32(&p, 0);
	expect_refused(MSG_META_Z, &p, "META_Z: data: empty");
	buf_free(&p);
	msg_put_u8(&p, MSG_ROLE_CATALOG);
	msg_put_text(&p, "x@1");
	msg_put_u64(&p, 6);
	msg_put_u64(&p, 0);
	msg_put_bytes(&p, "z", 1);
	expect_refused(MSG_META_Z, &p, "META_Z: name: must be empty for role 2");
	buf_free(&p);
	msg_put_u64(&p, 0);
	msg_put_u64(&p, 0);
	msg_put_bytes(&p, "z", 1);
	expect_refused(MSG_PUBLISH_Z, &p,
	    "PUBLISH_Z: total: 0 bytes is not in 1..16785408");
	buf_free(&p);
	msg_put_u64(&p, 6);
	msg_put_u64(&p, 0);
	msg_put_bytes(&p, zabcdef, sizeof zabcdef);
	msg_put_u8(&p, 0);
	expect_refused(MSG_PUBLISH_Z, &p,
	    "PUBLISH_Z: 1 trailing bytes after the payload");
	buf_free(&p);

	/* OBJECT_PACK: n 0, n above the limit, n beyond the payload, a len
	 * that is not size - offset, lens adding up past the limit, an
	 * empty chunk, trailing bytes. */
	msg_put_u16(&p, 0);
	msg_put_bytes(&p, "z", 1);
	expect_refused(MSG_OBJECT_PACK, &p, "OBJECT_PACK: n: 0 requests");
	buf_free(&p);
	msg_put_u16(&p, MSG_PACK_MAX + 1);
	expect_refused(MSG_OBJECT_PACK, &p, "OBJECT_PACK: n: 257 requests");
	buf_free(&p);
	msg_put_u16(&p, 3);
	put_pack_entry(&p, 1, 0, 3, 3);
	put_pack_entry(&p, 2, 0, 3, 3);
	expect_refused(MSG_OBJECT_PACK, &p,
	    "OBJECT_PACK: n: 3 requests claimed, the payload holds fewer");
	buf_free(&p);
	msg_put_u16(&p, 2);
	put_pack_entry(&p, 1, 0, 3, 3);
	put_pack_entry(&p, 2, 1, 3, 3);
	msg_put_bytes(&p, "z", 1);
	expect_refused(MSG_OBJECT_PACK, &p,
	    "OBJECT_PACK: request 2: len 3 is not size 3 - offset 1");
	buf_free(&p);
	msg_put_u16(&p, 1);
	put_pack_entry(&p, 1, 5, 3, 0);
	msg_put_bytes(&p, "z", 1);
	expect_refused(MSG_OBJECT_PACK, &p,
	    "OBJECT_PACK: request 1: len 0 is not size 3 - offset 5");
	buf_free(&p);
	msg_put_u16(&p, 2);
	put_pack_entry(&p, 1, 0, MSG_PACK_RAW_MAX, MSG_PACK_RAW_MAX);
	put_pack_entry(&p, 2, 0, 1, 1);
	msg_put_bytes(&p, "z", 1);
	expect_refused(MSG_OBJECT_PACK, &p,
	    "OBJECT_PACK: the lens add up to more than 2097152 bytes");
	buf_free(&p);
	msg_put_u16(&p, 1);
	put_pack_entry(&p, 1, 0, 3, 3);
	msg_put_u32(&p, 0);
	expect_refused(MSG_OBJECT_PACK, &p, "OBJECT_PACK: zstd_chunk: empty");
	buf_free(&p);
	msg_put_u16(&p, 1);
	put_pack_entry(&p, 1, 0, 3, 3);
	msg_put_bytes(&p, "z", 1);
	msg_put_u8(&p, 0);
	expect_refused(MSG_OBJECT_PACK, &p,
	    "OBJECT_PACK: 1 trailing bytes after the payload");
	buf_free(&p);

	/* Over MANIFEST_MAX + 8192, from the total field alone. */
	msg_put_u64(&p, MSG_SIGNED_MANIFEST_MAX + 1);
	expect_refused(MSG_PUBLISH, &p,
	    "PUBLISH: total: 16785409 bytes is not in 1..16785408");
	buf_free(&p);
}

static void
test_refuse_unknown_type_known_range(void **state)
{
	struct buf	p;

	buf_init(&p);
	expect_refused(0x0000, &p, "unexpected message type 0x0000");
	expect_refused(0x0005, &p, "unexpected message type 0x0005");
	expect_refused(0x0103, &p, "unexpected message type 0x0103");
	expect_refused(0x02ff, &p, "unexpected message type 0x02ff");
	expect_refused(0x0306, &p, "unexpected message type 0x0306");
	/* The deltas' range: 0x0400-0x0402 are defined, the rest not. */
	expect_refused(0x0403, &p, "unexpected message type 0x0403");
	expect_refused(0x04ff, &p, "unexpected message type 0x04ff");
}

/* The delta messages: only role 3, a base serial in range, a META_DELTA
 * total within a signed manifest's limit and a non-empty frame. */
static void
test_refuse_delta(void **state)
{
	struct buf	p;
	uint8_t		h[MSG_HASH_LEN];

	fill(h, 0x44);
	buf_init(&p);
	msg_put_u8(&p, 2);
	msg_put_text(&p, "");
	msg_put_u64(&p, 1);
	msg_put_hash(&p, h);
	expect_refused(MSG_GET_META_DELTA, &p, "role: 2 is not 3");
	p.len = 0;
	msg_put_u8(&p, 3);
	msg_put_text(&p, "d@2");
	msg_put_u64(&p, 0);
	msg_put_hash(&p, h);
	expect_refused(MSG_GET_META_DELTA, &p, "base_serial: 0 is not in");
	p.len = 0;
	msg_put_u8(&p, 3);
	msg_put_text(&p, "d@2");
	msg_put_u64(&p, (uint64_t)INT64_MAX + 1);
	msg_put_hash(&p, h);
	expect_refused(MSG_GET_META_DELTA, &p, "base_serial: ");
	p.len = 0;
	msg_put_u8(&p, 3);
	msg_put_text(&p, "d");
	msg_put_u64(&p, 1);
	msg_put_hash(&p, h);
	expect_refused(MSG_GET_META_DELTA, &p, "name: not NAME@SERIAL");
	p.len = 0;
	msg_put_u8(&p, 3);
	msg_put_text(&p, "d@2");
	msg_put_u64(&p, 1);
	msg_put_u64(&p, MSG_SIGNED_MANIFEST_MAX + 1ull);
	msg_put_bytes(&p, "x", 1);
	expect_refused(MSG_META_DELTA, &p, "total: 16785409 bytes is not in");
	p.len = 0;
	msg_put_u8(&p, 3);
	msg_put_text(&p, "d@2");
	msg_put_u64(&p, 1);
	msg_put_u64(&p, 0);
	msg_put_bytes(&p, "x", 1);
	expect_refused(MSG_META_DELTA, &p, "total: 0 bytes is not in");
	p.len = 0;
	msg_put_u8(&p, 3);
	msg_put_text(&p, "d@2");
	msg_put_u64(&p, 1);
	msg_put_u64(&p, 5);
	msg_put_bytes(&p, "", 0);
	expect_refused(MSG_META_DELTA, &p, "zstd: empty");
	p.len = 0;
	msg_put_u32(&p, 1);
	msg_put_hash(&p, h);
	msg_put_hash(&p, h);
	expect_refused(MSG_GET_DELTA, &p, "offset");
	msg_put_u64(&p, 0);
	msg_put_u8(&p, 0);
	expect_refused(MSG_GET_DELTA, &p, "trailing");
	buf_free(&p);
}

static void
test_refuse_unknown_range(void **state)
{
	struct buf	p;

	buf_init(&p);
	msg_put_u32(&p, 1);
	expect_refused(0x0500, &p,
	    "unexpected message type 0x0500 (no such range)");
	expect_refused(0xffff, &p,
	    "unexpected message type 0xffff (no such range)");
	buf_free(&p);
}

static void
test_type_names(void **state)
{
	assert_string_equal(msg_type_name(MSG_HELLO), "HELLO");
	assert_string_equal(msg_type_name(MSG_GET_META), "GET_META");
	assert_string_equal(msg_type_name(MSG_OBJECT_DATA), "OBJECT_DATA");
	assert_string_equal(msg_type_name(MSG_OBJECT_PACK), "OBJECT_PACK");
	assert_string_equal(msg_type_name(MSG_META_Z), "META_Z");
	assert_string_equal(msg_type_name(MSG_PUBLISH_Z), "PUBLISH_Z");
	assert_string_equal(msg_type_name(MSG_PUBLISH_RESULT),
	    "PUBLISH_RESULT");
	assert_string_equal(msg_type_name(0x0005), "unknown");
	msg_free(NULL);
}

/* Vectors. */

/* The bytes of the frame called name in frames.txt (free() them). */
static uint8_t *
vector_frame(const char *name, size_t *lenp)
{
	char		*text, *line, *save = NULL, *sp;
	uint8_t		*out = NULL;
	size_t		 hexlen;

	text = read_vector("frames.txt", NULL);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#' || (sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		if (strcmp(line, name) != 0)
			continue;
		hexlen = strlen(sp + 1);
		if (hexlen % 2 != 0)
			fail_msg("frames.txt: %s: odd hex", name);
		*lenp = hexlen / 2;
		out = xmalloc(*lenp + 1);
		if (hex_decode(out, *lenp, sp + 1, hexlen) != 0)
			fail_msg("frames.txt: %s: bad hex", name);
		break;
	}
	free(text);
	if (out == NULL)
		fail_msg("frames.txt: no frame %s", name);
	return out;
}

/* Checks that m encodes to the vector's bytes exactly, and decodes the
 * vector into *out (b keeps the bytes out points into). */
static void
vector_check(const char *name, const struct msg *m, struct msg *out,
    uint8_t **bytes)
{
	struct buf	b;
	struct frame	f;
	struct error	err;
	size_t		len, used;

	*bytes = vector_frame(name, &len);
	buf_init(&b);
	msg_encode(m, &b);
	if (b.len != len || memcmp(b.data, *bytes, len) != 0)
		fail_msg("%s: encoding differs from frames.txt", name);
	buf_free(&b);
	assert_int_equal(frame_peek(*bytes, len, FRAME_MAX_DEFAULT, &f, &used,
	    &err), 0);
	assert_int_equal(used, len);
	if (msg_decode(out, &f, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	assert_int_equal(out->type, m->type);
}

static void
test_vectors_connection(void **state)
{
	static char	*caps[] = { (char *)"zstd", (char *)"resume" };
	struct msg	 m, out;
	uint8_t		*bytes;

	memset(&m, 0, sizeof m);
	m.type = MSG_HELLO;
	m.u.hello.version = 1;
	m.u.hello.max_frame = FRAME_MAX_DEFAULT;
	m.u.hello.ncaps = 2;
	m.u.hello.caps = caps;
	vector_check("hello", &m, &out, &bytes);
	assert_int_equal(out.u.hello.version, 1);
	assert_int_equal(out.u.hello.max_frame, 1048576);
	assert_int_equal(out.u.hello.ncaps, 2);
	assert_string_equal(out.u.hello.caps[0], "zstd");
	assert_string_equal(out.u.hello.caps[1], "resume");
	msg_free(&out);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_ERROR;
	m.u.error.code = MSG_ERR_TOO_LARGE;
	m.u.error.message = (char *)"frame too large";
	vector_check("error", &m, &out, &bytes);
	assert_int_equal(out.u.error.code, 2);
	assert_string_equal(out.u.error.message, "frame too large");
	msg_free(&out);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_KEEPALIVE;
	vector_check("keepalive", &m, &out, &bytes);
	free(bytes);
	m.type = MSG_BYE;
	vector_check("bye", &m, &out, &bytes);
	free(bytes);
	m.type = MSG_PUBLISH_DONE;
	vector_check("publish-done", &m, &out, &bytes);
	free(bytes);
}

static void
test_vectors_metadata(void **state)
{
	struct msg	 m, out;
	uint8_t		*bytes, h[MSG_HASH_LEN];

	fill(h, 0xab);
	memset(&m, 0, sizeof m);
	m.type = MSG_GET_META;
	m.u.get_meta.role = 3;
	m.u.get_meta.name = (char *)"demo@3";
	m.u.get_meta.have_flag = 1;
	memcpy(m.u.get_meta.have, h, MSG_HASH_LEN);
	vector_check("get-meta-have", &m, &out, &bytes);
	assert_int_equal(out.u.get_meta.role, 3);
	assert_string_equal(out.u.get_meta.name, "demo@3");
	assert_int_equal(out.u.get_meta.have_flag, 1);
	assert_memory_equal(out.u.get_meta.have, h, MSG_HASH_LEN);
	msg_free(&out);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_GET_META;
	m.u.get_meta.role = 2;
	m.u.get_meta.name = (char *)"";
	vector_check("get-meta-catalog", &m, &out, &bytes);
	assert_int_equal(out.u.get_meta.role, 2);
	assert_string_equal(out.u.get_meta.name, "");
	assert_int_equal(out.u.get_meta.have_flag, 0);
	msg_free(&out);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_META;
	m.u.meta.role = 2;
	m.u.meta.name = (char *)"";
	m.u.meta.status = 0;
	m.u.meta.total = 3;
	m.u.meta.data = (const uint8_t *)"abc";
	m.u.meta.datalen = 3;
	vector_check("meta-ok", &m, &out, &bytes);
	assert_int_equal(out.u.meta.role, 2);
	assert_int_equal(out.u.meta.status, 0);
	assert_true(out.u.meta.total == 3);
	assert_true(out.u.meta.offset == 0);
	assert_int_equal(out.u.meta.datalen, 3);
	assert_memory_equal(out.u.meta.data, "abc", 3);
	msg_free(&out);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_META;
	m.u.meta.role = 3;
	m.u.meta.name = (char *)"d@1";
	m.u.meta.status = 0;
	m.u.meta.total = 5;
	m.u.meta.offset = 2;
	m.u.meta.data = (const uint8_t *)"cde";
	m.u.meta.datalen = 3;
	vector_check("meta-piece", &m, &out, &bytes);
	assert_string_equal(out.u.meta.name, "d@1");
	assert_true(out.u.meta.total == 5);
	assert_true(out.u.meta.offset == 2);
	assert_int_equal(out.u.meta.datalen, 3);
	assert_memory_equal(out.u.meta.data, "cde", 3);
	msg_free(&out);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_META;
	m.u.meta.role = 1;
	m.u.meta.name = (char *)"";
	m.u.meta.status = 1;
	vector_check("meta-not-modified", &m, &out, &bytes);
	assert_int_equal(out.u.meta.role, 1);
	assert_int_equal(out.u.meta.status, 1);
	assert_int_equal(out.u.meta.datalen, 0);
	msg_free(&out);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_META_Z;
	m.u.meta.role = MSG_ROLE_CATALOG;
	m.u.meta.name = (char *)"";
	m.u.meta.status = MSG_STATUS_OK;
	m.u.meta.total = 6;
	m.u.meta.offset = 0;
	m.u.meta.data = zabcdef;
	m.u.meta.datalen = sizeof zabcdef;
	vector_check("meta-z", &m, &out, &bytes);
	assert_int_equal(out.u.meta.role, 2);
	assert_string_equal(out.u.meta.name, "");
	assert_int_equal(out.u.meta.status, MSG_STATUS_OK);
	assert_true(out.u.meta.total == 6);
	assert_true(out.u.meta.offset == 0);
	assert_int_equal(out.u.meta.datalen, sizeof zabcdef);
	assert_memory_equal(out.u.meta.data, zabcdef, sizeof zabcdef);
	msg_free(&out);
	free(bytes);
}

static void
test_vectors_objects(void **state)
{
	static const uint8_t	 zmagic[] = { 0x28, 0xb5, 0x2f, 0xfd };
	struct msg_pack_entry	 pack[2] = {
		{ 7, 0, 3, 3 },
		{ 8, 2, 5, 3 },
	};
	struct msg		 m, out;
	uint8_t			*bytes;
	int			 i;

	memset(&m, 0, sizeof m);
	m.type = MSG_GET_OBJECT;
	m.u.get_object.request = 7;
	for (i = 0; i < MSG_HASH_LEN; i++)
		m.u.get_object.object[i] = (uint8_t)i;
	m.u.get_object.offset = 0x0102030405060708ull;
	vector_check("get-object", &m, &out, &bytes);
	assert_int_equal(out.u.get_object.request, 7);
	assert_memory_equal(out.u.get_object.object, m.u.get_object.object,
	    MSG_HASH_LEN);
	assert_true(out.u.get_object.offset == 0x0102030405060708ull);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_OBJECT_DATA;
	m.u.object_data.request = 7;
	m.u.object_data.offset = UINT64_MAX;
	m.u.object_data.chunk = zmagic;
	m.u.object_data.chunklen = sizeof zmagic;
	vector_check("object-data", &m, &out, &bytes);
	assert_int_equal(out.u.object_data.request, 7);
	assert_true(out.u.object_data.offset == UINT64_MAX);
	assert_int_equal(out.u.object_data.chunklen, 4);
	assert_memory_equal(out.u.object_data.chunk, zmagic, 4);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_OBJECT_END;
	m.u.object_end.request = 7;
	m.u.object_end.size = 1ull << 40;
	vector_check("object-end", &m, &out, &bytes);
	assert_int_equal(out.u.object_end.request, 7);
	assert_true(out.u.object_end.size == 1099511627776ull);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_CANCEL;
	m.u.cancel.request = 0xdeadbeef;
	vector_check("cancel", &m, &out, &bytes);
	assert_int_equal(out.u.cancel.request, 0xdeadbeef);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_OBJECT_PACK;
	m.u.object_pack.n = 2;
	m.u.object_pack.entries = pack;
	m.u.object_pack.chunk = zabcdef;
	m.u.object_pack.chunklen = sizeof zabcdef;
	vector_check("object-pack", &m, &out, &bytes);
	assert_int_equal(out.u.object_pack.n, 2);
	assert_int_equal(out.u.object_pack.entries[0].request, 7);
	assert_true(out.u.object_pack.entries[0].offset == 0);
	assert_true(out.u.object_pack.entries[0].size == 3);
	assert_int_equal(out.u.object_pack.entries[0].len, 3);
	assert_int_equal(out.u.object_pack.entries[1].request, 8);
	assert_true(out.u.object_pack.entries[1].offset == 2);
	assert_true(out.u.object_pack.entries[1].size == 5);
	assert_int_equal(out.u.object_pack.entries[1].len, 3);
	assert_true(out.u.object_pack.raw == 6);
	assert_int_equal(out.u.object_pack.chunklen, sizeof zabcdef);
	assert_memory_equal(out.u.object_pack.chunk, zabcdef,
	    sizeof zabcdef);
	msg_free(&out);
	free(bytes);
}

static void
test_vectors_publish(void **state)
{
	uint8_t		 hashes[2][MSG_HASH_LEN], h[MSG_HASH_LEN];
	struct msg	 m, out;
	uint8_t		*bytes;

	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH;
	m.u.publish.total = 2;
	m.u.publish.data = (const uint8_t *)"m\n";
	m.u.publish.datalen = 2;
	vector_check("publish", &m, &out, &bytes);
	assert_true(out.u.publish.total == 2);
	assert_true(out.u.publish.offset == 0);
	assert_int_equal(out.u.publish.datalen, 2);
	assert_memory_equal(out.u.publish.data, "m\n", 2);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH;
	m.u.publish.total = MSG_SIGNED_MANIFEST_MAX;
	m.u.publish.offset = MSG_SIGNED_MANIFEST_MAX - 1;
	m.u.publish.data = (const uint8_t *)"x";
	m.u.publish.datalen = 1;
	vector_check("publish-piece", &m, &out, &bytes);
	assert_true(out.u.publish.total == 16785408);
	assert_true(out.u.publish.offset == 16785407);
	assert_memory_equal(out.u.publish.data, "x", 1);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH_Z;
	m.u.publish.total = 6;
	m.u.publish.offset = 0;
	m.u.publish.data = zabcdef;
	m.u.publish.datalen = sizeof zabcdef;
	vector_check("publish-z", &m, &out, &bytes);
	assert_true(out.u.publish.total == 6);
	assert_true(out.u.publish.offset == 0);
	assert_int_equal(out.u.publish.datalen, sizeof zabcdef);
	assert_memory_equal(out.u.publish.data, zabcdef, sizeof zabcdef);
	free(bytes);

	fill(hashes[0], 0x01);
	fill(hashes[1], 0x02);
	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH_NEED;
	m.u.publish_need.total = 2;
	m.u.publish_need.n = 2;
	m.u.publish_need.hashes = hashes;
	vector_check("publish-need", &m, &out, &bytes);
	assert_int_equal(out.u.publish_need.total, 2);
	assert_int_equal(out.u.publish_need.n, 2);
	assert_memory_equal(out.u.publish_need.hashes, hashes, sizeof hashes);
	msg_free(&out);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH_NEED;
	vector_check("publish-need-empty", &m, &out, &bytes);
	assert_int_equal(out.u.publish_need.total, 0);
	assert_int_equal(out.u.publish_need.n, 0);
	msg_free(&out);
	free(bytes);

	/* The first frame of a list of 5. */
	fill(h, 0x03);
	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH_NEED;
	m.u.publish_need.total = 5;
	m.u.publish_need.n = 1;
	m.u.publish_need.hashes = &h;
	vector_check("publish-need-part", &m, &out, &bytes);
	assert_int_equal(out.u.publish_need.total, 5);
	assert_int_equal(out.u.publish_need.n, 1);
	assert_memory_equal(out.u.publish_need.hashes[0], h, MSG_HASH_LEN);
	msg_free(&out);
	free(bytes);

	fill(h, 0xcd);
	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH_OBJECT;
	memcpy(m.u.publish_object.object, h, MSG_HASH_LEN);
	m.u.publish_object.offset = 0;
	m.u.publish_object.chunk = (const uint8_t *)"x";
	m.u.publish_object.chunklen = 1;
	vector_check("publish-object", &m, &out, &bytes);
	assert_memory_equal(out.u.publish_object.object, h, MSG_HASH_LEN);
	assert_true(out.u.publish_object.offset == 0);
	assert_int_equal(out.u.publish_object.chunklen, 1);
	assert_memory_equal(out.u.publish_object.chunk, "x", 1);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_PUBLISH_RESULT;
	m.u.publish_result.ok = 1;
	m.u.publish_result.catalog_serial = 8;
	m.u.publish_result.message = (char *)"ok";
	vector_check("publish-result", &m, &out, &bytes);
	assert_int_equal(out.u.publish_result.ok, 1);
	assert_true(out.u.publish_result.catalog_serial == 8);
	assert_string_equal(out.u.publish_result.message, "ok");
	msg_free(&out);
	free(bytes);
}

/* The delta messages against frames.txt. */
static void
test_vectors_delta(void **state)
{
	static const uint8_t	 z[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x06,
	    0x31, 0x00, 0x00, 'a', 'b', 'c', 'd', 'e', 'f' };
	struct msg		 m, out;
	uint8_t			*bytes, a[MSG_HASH_LEN], b[MSG_HASH_LEN];

	fill(a, 0x11);
	fill(b, 0x22);
	memset(&m, 0, sizeof m);
	m.type = MSG_GET_DELTA;
	m.u.get_delta.request = 9;
	memcpy(m.u.get_delta.object, a, MSG_HASH_LEN);
	memcpy(m.u.get_delta.base, b, MSG_HASH_LEN);
	m.u.get_delta.offset = 5;
	vector_check("get-delta", &m, &out, &bytes);
	assert_int_equal(out.u.get_delta.request, 9);
	assert_memory_equal(out.u.get_delta.object, a, MSG_HASH_LEN);
	assert_memory_equal(out.u.get_delta.base, b, MSG_HASH_LEN);
	assert_true(out.u.get_delta.offset == 5);
	msg_free(&out);
	free(bytes);

	fill(a, 0x33);
	memset(&m, 0, sizeof m);
	m.type = MSG_GET_META_DELTA;
	m.u.get_meta_delta.role = 3;
	m.u.get_meta_delta.name = (char *)"d@2";
	m.u.get_meta_delta.base_serial = 1;
	memcpy(m.u.get_meta_delta.base, a, MSG_HASH_LEN);
	vector_check("get-meta-delta", &m, &out, &bytes);
	assert_int_equal(out.u.get_meta_delta.role, 3);
	assert_string_equal(out.u.get_meta_delta.name, "d@2");
	assert_true(out.u.get_meta_delta.base_serial == 1);
	assert_memory_equal(out.u.get_meta_delta.base, a, MSG_HASH_LEN);
	msg_free(&out);
	free(bytes);

	memset(&m, 0, sizeof m);
	m.type = MSG_META_DELTA;
	m.u.meta_delta.role = 3;
	m.u.meta_delta.name = (char *)"d@2";
	m.u.meta_delta.base_serial = 1;
	m.u.meta_delta.total = 6;
	m.u.meta_delta.data = z;
	m.u.meta_delta.datalen = sizeof z;
	vector_check("meta-delta", &m, &out, &bytes);
	assert_string_equal(out.u.meta_delta.name, "d@2");
	assert_true(out.u.meta_delta.base_serial == 1);
	assert_true(out.u.meta_delta.total == 6);
	assert_int_equal(out.u.meta_delta.datalen, sizeof z);
	assert_memory_equal(out.u.meta_delta.data, z, sizeof z);
	msg_free(&out);
	free(bytes);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_hello),
		cmocka_unit_test(test_roundtrip_error),
		cmocka_unit_test(test_roundtrip_empty_messages),
		cmocka_unit_test(test_roundtrip_get_meta),
		cmocka_unit_test(test_roundtrip_meta),
		cmocka_unit_test(test_roundtrip_objects),
		cmocka_unit_test(test_roundtrip_publish),
		cmocka_unit_test(test_roundtrip_publish_need),
		cmocka_unit_test(test_frame_peek_every_prefix),
		cmocka_unit_test(test_frame_peek_back_to_back),
		cmocka_unit_test(test_frame_peek_over_limit),
		cmocka_unit_test(test_frame_peek_preauth_limit),
		cmocka_unit_test(test_refuse_hello_magic),
		cmocka_unit_test(test_refuse_hello_version_0),
		cmocka_unit_test(test_refuse_hello_max_frame),
		cmocka_unit_test(test_refuse_hello_capability),
		cmocka_unit_test(test_refuse_hello_too_many_capabilities),
		cmocka_unit_test(test_refuse_truncated_payload),
		cmocka_unit_test(test_refuse_trailing_byte),
		cmocka_unit_test(test_refuse_bad_text),
		cmocka_unit_test(test_refuse_name),
		cmocka_unit_test(test_refuse_role),
		cmocka_unit_test(test_refuse_status),
		cmocka_unit_test(test_refuse_have_flag),
		cmocka_unit_test(test_refuse_publish_need_count),
		cmocka_unit_test(test_refuse_pieces),
		cmocka_unit_test(test_refuse_other_fields),
		cmocka_unit_test(test_refuse_unknown_type_known_range),
		cmocka_unit_test(test_refuse_unknown_range),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_vectors_connection),
		cmocka_unit_test(test_vectors_metadata),
		cmocka_unit_test(test_vectors_objects),
		cmocka_unit_test(test_vectors_publish),
		cmocka_unit_test(test_refuse_delta),
		cmocka_unit_test(test_vectors_delta),
	};

	return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
