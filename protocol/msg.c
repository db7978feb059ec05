/*
 * msg.c owns the sync protocol's message payloads (protocol/SPEC.md §11):
 * the strict decoder, the encoder, and the cursor reader and writer
 * helpers they share. Framing is frame.c's; see msg.h for the decisions
 * the SPEC leaves open and for the lifetime of decoded fields.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "frame.h"
#include "catalog.h"
#include "manifest.h"
#include "msg.h"
#include "trust.h"
#include "util.h"

_Static_assert(MSG_SIGNED_MANIFEST_MAX == MANIFEST_MAX + 8192,
    "SPEC §11: signed_manifest at most MANIFEST_MAX + 8192");
_Static_assert(MSG_TRUST_MAX == TRUST_MAX, "SPEC §7: a policy is 1 MiB");
_Static_assert(MSG_CATALOG_MAX == CATALOG_MAX, "SPEC §9: a catalog is 16 MiB");
_Static_assert(MSG_NEED_MAX == MANIFEST_FILES_MAX,
    "SPEC §5: at most 1,000,000 files");

/* The smallest wire capability: a u32 length and one byte. */
#define MSG_CAP_WIRE_MIN	(4 + 1)

static const struct {
	uint16_t	 type;
	const char	*name;
} msg_types[] = {
	{ MSG_HELLO,		"HELLO" },
	{ MSG_ERROR,		"ERROR" },
	{ MSG_KEEPALIVE,	"KEEPALIVE" },
	{ MSG_BYE,		"BYE" },
	{ MSG_GET_META,		"GET_META" },
	{ MSG_META,		"META" },
	{ MSG_META_Z,		"META_Z" },
	{ MSG_GET_OBJECT,	"GET_OBJECT" },
	{ MSG_OBJECT_DATA,	"OBJECT_DATA" },
	{ MSG_OBJECT_END,	"OBJECT_END" },
	{ MSG_CANCEL,		"CANCEL" },
	{ MSG_OBJECT_PACK,	"OBJECT_PACK" },
	{ MSG_PUBLISH,		"PUBLISH" },
	{ MSG_PUBLISH_NEED,	"PUBLISH_NEED" },
	{ MSG_PUBLISH_OBJECT,	"PUBLISH_OBJECT" },
	{ MSG_PUBLISH_DONE,	"PUBLISH_DONE" },
	{ MSG_PUBLISH_RESULT,	"PUBLISH_RESULT" },
	{ MSG_PUBLISH_Z,	"PUBLISH_Z" },
	{ MSG_GET_DELTA,	"GET_DELTA" },
	{ MSG_GET_META_DELTA,	"GET_META_DELTA" },
	{ MSG_META_DELTA,	"META_DELTA" },
};

const char *
msg_type_name(uint16_t type)
{
	size_t	i;

	for (i = 0; i < sizeof msg_types / sizeof msg_types[0]; i++)
		if (msg_types[i].type == type)
			return msg_types[i].name;
	return "unknown";
}

/* Reader. */

void
msg_reader_init(struct msg_reader *r, const uint8_t *p, size_t len,
    const char *what)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->what = what;
}

/* Why: every field read goes through this one bounds check, so a short
 * payload is refused with the field it cut, never read past. */
static int
msg_need(struct msg_reader *r, size_t n, const char *field, struct error *err)
{
	if (r->len - r->off < n) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: %s: truncated payload (%zu bytes needed, %zu left)",
		    r->what, field, n, r->len - r->off);
	}
	return 0;
}

int
msg_get_u8(struct msg_reader *r, uint8_t *out, const char *field,
    struct error *err)
{
	int	rc;

	if ((rc = msg_need(r, 1, field, err)) != 0)
		return rc;
	*out = r->p[r->off++];
	return 0;
}

int
msg_get_u16(struct msg_reader *r, uint16_t *out, const char *field,
    struct error *err)
{
	const uint8_t	*p;
	int		 rc;

	if ((rc = msg_need(r, 2, field, err)) != 0)
		return rc;
	p = r->p + r->off;
	*out = (uint16_t)(p[0] << 8 | p[1]);
	r->off += 2;
	return 0;
}

int
msg_get_u32(struct msg_reader *r, uint32_t *out, const char *field,
    struct error *err)
{
	const uint8_t	*p;
	int		 rc;

	if ((rc = msg_need(r, 4, field, err)) != 0)
		return rc;
	p = r->p + r->off;
	*out = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	r->off += 4;
	return 0;
}

int
msg_get_u64(struct msg_reader *r, uint64_t *out, const char *field,
    struct error *err)
{
	const uint8_t	*p;
	uint64_t	 v = 0;
	int		 i, rc;

	if ((rc = msg_need(r, 8, field, err)) != 0)
		return rc;
	p = r->p + r->off;
	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	*out = v;
	r->off += 8;
	return 0;
}

/* Why: the declared length is a peer's claim; it is checked against the
 * field's limit and against what the payload really holds before anyone
 * trusts it. Nothing is copied. */
int
msg_get_bytes(struct msg_reader *r, const uint8_t **out, uint32_t *lenp,
    uint32_t max, const char *field, struct error *err)
{
	uint32_t	len;
	int		rc;

	if ((rc = msg_get_u32(r, &len, field, err)) != 0)
		return rc;
	if (len > max) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: %s: %u bytes is over the limit of %u", r->what,
		    field, len, max);
	}
	if ((rc = msg_need(r, len, field, err)) != 0)
		return rc;
	*out = r->p + r->off;
	*lenp = len;
	r->off += len;
	return 0;
}

/* Why: text ends up in logs, file names and lookups; it is checked for
 * §2 text (no controls, so no NUL) before it becomes a C string, and
 * copied only after its length passed the limit. */
int
msg_get_text(struct msg_reader *r, char **out, uint32_t max,
    const char *field, struct error *err)
{
	const uint8_t	*p;
	uint32_t	 len;
	int		 rc;

	if ((rc = msg_get_bytes(r, &p, &len, max, field, err)) != 0)
		return rc;
	if (!utf8_valid_text((const char *)p, len)) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: %s: not valid UTF-8 text (a control character or "
		    "a bad sequence)", r->what, field);
	}
	*out = xstrndup((const char *)p, len);
	return 0;
}

int
msg_get_hash(struct msg_reader *r, uint8_t out[MSG_HASH_LEN],
    const char *field, struct error *err)
{
	int	rc;

	if ((rc = msg_need(r, MSG_HASH_LEN, field, err)) != 0)
		return rc;
	memcpy(out, r->p + r->off, MSG_HASH_LEN);
	r->off += MSG_HASH_LEN;
	return 0;
}

int
msg_reader_end(struct msg_reader *r, struct error *err)
{
	if (r->off != r->len) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: %zu trailing bytes after the payload", r->what,
		    r->len - r->off);
	}
	return 0;
}

/* Writer. */

void
msg_put_u8(struct buf *b, uint8_t v)
{
	buf_add(b, &v, 1);
}

void
msg_put_u16(struct buf *b, uint16_t v)
{
	uint8_t	p[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	buf_add(b, p, sizeof p);
}

void
msg_put_u32(struct buf *b, uint32_t v)
{
	uint8_t	p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		    (uint8_t)(v >> 8), (uint8_t)v };

	buf_add(b, p, sizeof p);
}

void
msg_put_u64(struct buf *b, uint64_t v)
{
	uint8_t	p[8];
	int	i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
	buf_add(b, p, sizeof p);
}

void
msg_put_bytes(struct buf *b, const void *p, size_t len)
{
	assert(len <= UINT32_MAX);
	msg_put_u32(b, (uint32_t)len);
	buf_add(b, p, len);
}

void
msg_put_text(struct buf *b, const char *s)
{
	msg_put_bytes(b, s, strlen(s));
}

void
msg_put_hash(struct buf *b, const uint8_t h[MSG_HASH_LEN])
{
	buf_add(b, h, MSG_HASH_LEN);
}

/* Decoder. */

/* [a-z0-9-]{1,32}: capabilities are compared as tokens, so one spelling. */
static int
msg_cap_ok(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > MSG_CAP_LEN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	}
	return 1;
}

/* NAME@SERIAL with the manifest's rules for both (bundle_name_check lives
 * in manifest.c, which needs crypto; the rule is small enough to repeat:
 * [a-z0-9][a-z0-9-]{0,62}, serial 1..INT64_MAX). */
static int
msg_release_name_ok(const char *s)
{
	const char	*at = strchr(s, '@');
	size_t		 i, n;
	uint64_t	 serial;

	if (at == NULL)
		return 0;
	n = (size_t)(at - s);
	if (n == 0 || n > BUNDLE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || (i > 0 && s[i] == '-')))
			return 0;
	}
	return parse_u64(at + 1, strlen(at + 1), 1, INT64_MAX, &serial) == 0;
}

/* Role and name travel together in GET_META and META. Why a role 1 name
 * may be a serial: a node several policies behind walks the chain and
 * asks for each policy between its own and the newest (SPEC §11). */
static int
msg_get_role_name(struct msg_reader *r, uint8_t *role, char **name,
    struct error *err)
{
	uint64_t	serial;
	int		rc;

	if ((rc = msg_get_u8(r, role, "role", err)) != 0)
		return rc;
	if (*role < MSG_ROLE_TRUST || *role > MSG_ROLE_RELEASE) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: role: %u is not 1, 2 or 3", r->what, *role);
	}
	if ((rc = msg_get_text(r, name, MSG_NAME_MAX, "name", err)) != 0)
		return rc;
	if (*role == MSG_ROLE_TRUST && **name != '\0' &&
	    parse_u64(*name, strlen(*name), 1, INT64_MAX, &serial) != 0) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: name: must be empty or a policy serial for role 1",
		    r->what);
	}
	if (*role == MSG_ROLE_CATALOG && **name != '\0') {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: name: must be empty for role %u", r->what, *role);
	}
	if (*role == MSG_ROLE_RELEASE && !msg_release_name_ok(*name)) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: name: not NAME@SERIAL", r->what);
	}
	return 0;
}

/* Why: a HELLO arrives before the handshake, from anyone; the count is
 * bounded by MSG_CAP_MAX and by what the payload can hold before the
 * array is allocated. */
static int
msg_decode_hello(struct msg_reader *r, struct msg_hello *h, struct error *err)
{
	uint8_t		magic[MSG_MAGIC_LEN];
	uint16_t	i;
	int		rc;

	if ((rc = msg_need(r, MSG_MAGIC_LEN, "magic", err)) != 0)
		return rc;
	memcpy(magic, r->p + r->off, MSG_MAGIC_LEN);
	r->off += MSG_MAGIC_LEN;
	if (memcmp(magic, MSG_MAGIC, MSG_MAGIC_LEN) != 0)
		return error_set(err, SATCHEL_EINVALID, "HELLO: bad magic");
	if ((rc = msg_get_u16(r, &h->version, "version", err)) != 0)
		return rc;
	if (h->version < 1) {
		return error_set(err, SATCHEL_EINVALID,
		    "HELLO: version: 0 is not a version");
	}
	if ((rc = msg_get_u32(r, &h->max_frame, "max_frame", err)) != 0)
		return rc;
	if (h->max_frame < FRAME_MAX_PREAUTH ||
	    h->max_frame > FRAME_MAX_LIMIT) {
		return error_set(err, SATCHEL_EINVALID,
		    "HELLO: max_frame: %u is not in %u..%u", h->max_frame,
		    FRAME_MAX_PREAUTH, FRAME_MAX_LIMIT);
	}
	if ((rc = msg_get_u16(r, &h->ncaps, "capability count", err)) != 0)
		return rc;
	if (h->ncaps > MSG_CAP_MAX) {
		return error_set(err, SATCHEL_EINVALID,
		    "HELLO: %u capabilities, at most %u", h->ncaps,
		    MSG_CAP_MAX);
	}
	if ((size_t)h->ncaps * MSG_CAP_WIRE_MIN > r->len - r->off) {
		return error_set(err, SATCHEL_EINVALID,
		    "HELLO: %u capabilities do not fit in the payload",
		    h->ncaps);
	}
	if (h->ncaps != 0)
		h->caps = xcalloc(h->ncaps, sizeof *h->caps);
	for (i = 0; i < h->ncaps; i++) {
		if ((rc = msg_get_text(r, &h->caps[i], MSG_CAP_LEN_MAX,
		    "capability", err)) != 0)
			return rc;
		if (!msg_cap_ok(h->caps[i])) {
			return error_set(err, SATCHEL_EINVALID,
			    "HELLO: capability %u: not [a-z0-9-]{1,32}", i);
		}
	}
	return 0;
}

static int
msg_decode_error(struct msg_reader *r, struct msg_error *e, struct error *err)
{
	int	rc;

	if ((rc = msg_get_u16(r, &e->code, "code", err)) != 0)
		return rc;
	if (e->code < MSG_ERR_PROTOCOL || e->code > MSG_ERR_INTERNAL) {
		return error_set(err, SATCHEL_EINVALID,
		    "ERROR: code: %u is unknown", e->code);
	}
	return msg_get_text(r, &e->message, MSG_TEXT_MAX, "message", err);
}

/* Why: the hash is present exactly when have_flag says so; anything else
 * would give one request two spellings. */
static int
msg_decode_get_meta(struct msg_reader *r, struct msg_get_meta *g,
    struct error *err)
{
	int	rc;

	if ((rc = msg_get_role_name(r, &g->role, &g->name, err)) != 0)
		return rc;
	if ((rc = msg_get_u8(r, &g->have_flag, "have_flag", err)) != 0)
		return rc;
	if (g->have_flag > 1) {
		return error_set(err, SATCHEL_EINVALID,
		    "GET_META: have_flag: %u is not 0 or 1", g->have_flag);
	}
	if (g->have_flag == 1)
		return msg_get_hash(r, g->have, "have", err);
	return 0;
}

/* The largest document of each role (SPEC §7, §9, §5). */
static uint64_t
msg_meta_max(uint8_t role)
{
	switch (role) {
	case MSG_ROLE_TRUST:
		return MSG_TRUST_MAX;
	case MSG_ROLE_CATALOG:
		return MSG_CATALOG_MAX;
	default:
		return MSG_SIGNED_MANIFEST_MAX;
	}
}

/* Why: a document larger than a frame travels in pieces; each piece says
 * the whole length, so the receiver can check it against the role's limit
 * before the first byte is kept, and where it goes, so a piece out of
 * place is refused rather than spliced in. A piece is never empty and
 * never reaches past the end. */
static int
msg_get_piece(struct msg_reader *r, uint64_t max, int zstd, uint64_t *total,
    uint64_t *offset, const uint8_t **data, uint32_t *len, struct error *err)
{
	int	rc;

	if ((rc = msg_get_u64(r, total, "total", err)) != 0)
		return rc;
	if (*total == 0 || *total > max) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: total: %llu bytes is not in 1..%llu", r->what,
		    (unsigned long long)*total, (unsigned long long)max);
	}
	if ((rc = msg_get_u64(r, offset, "offset", err)) != 0)
		return rc;
	if (*offset >= *total) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: offset: %llu is not below the total of %llu bytes",
		    r->what, (unsigned long long)*offset,
		    (unsigned long long)*total);
	}
	if ((rc = msg_get_bytes(r, data, len, UINT32_MAX, "data", err)) != 0)
		return rc;
	if (*len == 0)
		return error_set(err, SATCHEL_EINVALID, "%s: data: empty",
		    r->what);
	if (!zstd && *len > *total - *offset) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: data: %u bytes at offset %llu reach past the total of "
		    "%llu", r->what, *len, (unsigned long long)*offset,
		    (unsigned long long)*total);
	}
	return 0;
}

/* Why: data is there for status 0 only, so a "not modified" can never
 * smuggle a body, and an "ok" always has one. */
static int
msg_decode_meta(struct msg_reader *r, struct msg_meta *m, struct error *err)
{
	int	rc;

	if ((rc = msg_get_role_name(r, &m->role, &m->name, err)) != 0)
		return rc;
	if ((rc = msg_get_u8(r, &m->status, "status", err)) != 0)
		return rc;
	if (m->status > MSG_STATUS_NOT_FOUND) {
		return error_set(err, SATCHEL_EINVALID,
		    "META: status: %u is not 0, 1 or 2", m->status);
	}
	if (m->status != MSG_STATUS_OK)
		return 0;	/* msg_reader_end refuses data after it */
	return msg_get_piece(r, msg_meta_max(m->role), 0, &m->total,
	    &m->offset, &m->data, &m->datalen, err);
}

/* META_Z: META of status 0 without the status byte, its data zstd. */
static int
msg_decode_meta_z(struct msg_reader *r, struct msg_meta *m, struct error *err)
{
	int	rc;

	if ((rc = msg_get_role_name(r, &m->role, &m->name, err)) != 0)
		return rc;
	m->status = MSG_STATUS_OK;
	return msg_get_piece(r, msg_meta_max(m->role), 1, &m->total,
	    &m->offset, &m->data, &m->datalen, err);
}

/* Why only role 3: a trust policy or catalog is fetched with `have`, and
 * only a release has an earlier version the client surely holds. The
 * base is a release of the same bundle (name NAME@SERIAL, base_serial a
 * serial in the same range). */
static int
msg_get_delta_role_name(struct msg_reader *r, uint8_t *role, char **name,
    uint64_t *base_serial, struct error *err)
{
	int	rc;

	if ((rc = msg_get_role_name(r, role, name, err)) != 0)
		return rc;
	if (*role != MSG_ROLE_RELEASE) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: role: %u is not 3 (release)", r->what, *role);
	}
	if ((rc = msg_get_u64(r, base_serial, "base_serial", err)) != 0)
		return rc;
	if (*base_serial == 0 || *base_serial > INT64_MAX) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: base_serial: %llu is not in 1..%lld", r->what,
		    (unsigned long long)*base_serial, (long long)INT64_MAX);
	}
	return 0;
}

static int
msg_decode_meta_delta(struct msg_reader *r, struct msg_meta_delta *md,
    struct error *err)
{
	int	rc;

	if ((rc = msg_get_delta_role_name(r, &md->role, &md->name,
	    &md->base_serial, err)) != 0)
		return rc;
	if ((rc = msg_get_u64(r, &md->total, "total", err)) != 0)
		return rc;
	if (md->total == 0 || md->total > MSG_SIGNED_MANIFEST_MAX) {
		return error_set(err, SATCHEL_EINVALID,
		    "META_DELTA: total: %llu bytes is not in 1..%u",
		    (unsigned long long)md->total, MSG_SIGNED_MANIFEST_MAX);
	}
	if ((rc = msg_get_bytes(r, &md->data, &md->datalen, UINT32_MAX,
	    "zstd", err)) != 0)
		return rc;
	if (md->datalen == 0)
		return error_set(err, SATCHEL_EINVALID, "META_DELTA: zstd: empty");
	return 0;
}

/* A chunk is one zstd frame, opaque here but never empty. */
static int
msg_get_chunk(struct msg_reader *r, const uint8_t **p, uint32_t *len,
    struct error *err)
{
	int	rc;

	if ((rc = msg_get_bytes(r, p, len, UINT32_MAX, "zstd_chunk",
	    err)) != 0)
		return rc;
	if (*len == 0) {
		return error_set(err, SATCHEL_EINVALID,
		    "%s: zstd_chunk: empty", r->what);
	}
	return 0;
}

/* Why: n comes from the peer, so the entries it claims must fit the
 * payload before they are allocated; each must be a whole request's
 * remainder and their sum within what a client decompresses. */
static int
msg_decode_object_pack(struct msg_reader *r, struct msg_object_pack *op,
    struct error *err)
{
	struct msg_pack_entry	*e;
	uint16_t		 i;
	int			 rc;

	if ((rc = msg_get_u16(r, &op->n, "n", err)) != 0)
		return rc;
	if (op->n == 0 || op->n > MSG_PACK_MAX)
		return error_set(err, SATCHEL_EINVALID,
		    "OBJECT_PACK: n: %u requests (1..%u)", op->n, MSG_PACK_MAX);
	if ((size_t)op->n * MSG_PACK_ENTRY_LEN > r->len - r->off)
		return error_set(err, SATCHEL_EINVALID,
		    "OBJECT_PACK: n: %u requests claimed, the payload holds "
		    "fewer", op->n);
	op->entries = xcalloc(op->n, sizeof *op->entries);
	op->raw = 0;
	for (i = 0; i < op->n; i++) {
		e = &op->entries[i];
		if ((rc = msg_get_u32(r, &e->request, "request", err)) != 0 ||
		    (rc = msg_get_u64(r, &e->offset, "offset", err)) != 0 ||
		    (rc = msg_get_u64(r, &e->size, "size", err)) != 0 ||
		    (rc = msg_get_u32(r, &e->len, "len", err)) != 0)
			return rc;
		if (e->offset > e->size || e->size - e->offset != e->len)
			return error_set(err, SATCHEL_EINVALID,
			    "OBJECT_PACK: request %u: len %u is not size %llu "
			    "- offset %llu", e->request, e->len,
			    (unsigned long long)e->size,
			    (unsigned long long)e->offset);
		op->raw += e->len;
		if (op->raw > MSG_PACK_RAW_MAX)
			return error_set(err, SATCHEL_EINVALID,
			    "OBJECT_PACK: the lens add up to more than %u "
			    "bytes", MSG_PACK_RAW_MAX);
	}
	return msg_get_chunk(r, &op->chunk, &op->chunklen, err);
}

/* Why: n comes from the peer; it must match the hashes the payload really
 * holds before the list is allocated, so a small frame can never make us
 * allocate for a large claim. */
static int
msg_decode_publish_need(struct msg_reader *r, struct msg_publish_need *pn,
    struct error *err)
{
	size_t	left;
	int	rc;

	if ((rc = msg_get_u32(r, &pn->total, "total", err)) != 0)
		return rc;
	if (pn->total > MSG_NEED_MAX) {
		return error_set(err, SATCHEL_EINVALID,
		    "PUBLISH_NEED: total: %u hashes, at most %u", pn->total,
		    MSG_NEED_MAX);
	}
	if ((rc = msg_get_u32(r, &pn->n, "n", err)) != 0)
		return rc;
	if (pn->n > pn->total || (pn->n == 0 && pn->total != 0)) {
		return error_set(err, SATCHEL_EINVALID,
		    "PUBLISH_NEED: n: %u hashes in a list of %u (1..total, or 0 "
		    "for an empty list)", pn->n, pn->total);
	}
	left = r->len - r->off;
	if (pn->n > left / MSG_HASH_LEN) {
		return error_set(err, SATCHEL_EINVALID,
		    "PUBLISH_NEED: n: %u hashes claimed, the payload holds %zu",
		    pn->n, left / MSG_HASH_LEN);
	}
	if (pn->n == 0)
		return 0;
	pn->hashes = xreallocarray(NULL, pn->n, sizeof *pn->hashes);
	memcpy(pn->hashes, r->p + r->off, (size_t)pn->n * MSG_HASH_LEN);
	r->off += (size_t)pn->n * MSG_HASH_LEN;
	return 0;
}

static int
msg_decode_publish_result(struct msg_reader *r, struct msg_publish_result *pr,
    struct error *err)
{
	int	rc;

	if ((rc = msg_get_u8(r, &pr->ok, "ok", err)) != 0)
		return rc;
	if (pr->ok > 1) {
		return error_set(err, SATCHEL_EINVALID,
		    "PUBLISH_RESULT: ok: %u is not 0 or 1", pr->ok);
	}
	if ((rc = msg_get_u64(r, &pr->catalog_serial, "catalog_serial",
	    err)) != 0)
		return rc;
	return msg_get_text(r, &pr->message, MSG_TEXT_MAX, "message", err);
}

/* Why: one strict entry point, so the daemon and the mirror client refuse
 * the same things: every field is checked, and the payload must be
 * consumed exactly. */
int
msg_decode(struct msg *out, const struct frame *f, struct error *err)
{
	struct msg		 m;
	struct msg_reader	 r;
	const char		*name = msg_type_name(f->type);
	int			 rc;

	memset(&m, 0, sizeof m);
	memset(out, 0, sizeof *out);
	m.type = f->type;
	msg_reader_init(&r, f->payload, f->len, name);

	switch (f->type) {
	case MSG_HELLO:
		rc = msg_decode_hello(&r, &m.u.hello, err);
		break;
	case MSG_ERROR:
		rc = msg_decode_error(&r, &m.u.error, err);
		break;
	case MSG_KEEPALIVE:
	case MSG_BYE:
	case MSG_PUBLISH_DONE:
		rc = 0;
		break;
	case MSG_GET_META:
		rc = msg_decode_get_meta(&r, &m.u.get_meta, err);
		break;
	case MSG_META:
		rc = msg_decode_meta(&r, &m.u.meta, err);
		break;
	case MSG_META_Z:
		rc = msg_decode_meta_z(&r, &m.u.meta, err);
		break;
	case MSG_GET_OBJECT:
		if ((rc = msg_get_u32(&r, &m.u.get_object.request, "request",
		    err)) != 0 ||
		    (rc = msg_get_hash(&r, m.u.get_object.object, "object",
		    err)) != 0)
			break;
		rc = msg_get_u64(&r, &m.u.get_object.offset, "offset", err);
		break;
	case MSG_OBJECT_DATA:
		if ((rc = msg_get_u32(&r, &m.u.object_data.request, "request",
		    err)) != 0 ||
		    (rc = msg_get_u64(&r, &m.u.object_data.offset, "offset",
		    err)) != 0)
			break;
		rc = msg_get_chunk(&r, &m.u.object_data.chunk,
		    &m.u.object_data.chunklen, err);
		break;
	case MSG_OBJECT_END:
		if ((rc = msg_get_u32(&r, &m.u.object_end.request, "request",
		    err)) != 0)
			break;
		rc = msg_get_u64(&r, &m.u.object_end.size, "size", err);
		break;
	case MSG_CANCEL:
		rc = msg_get_u32(&r, &m.u.cancel.request, "request", err);
		break;
	case MSG_OBJECT_PACK:
		rc = msg_decode_object_pack(&r, &m.u.object_pack, err);
		break;
	case MSG_PUBLISH:
	case MSG_PUBLISH_Z:
		rc = msg_get_piece(&r, MSG_SIGNED_MANIFEST_MAX,
		    f->type == MSG_PUBLISH_Z, &m.u.publish.total, &m.u.publish.offset, &m.u.publish.data,
		    &m.u.publish.datalen, err);
		break;
	case MSG_PUBLISH_NEED:
		rc = msg_decode_publish_need(&r, &m.u.publish_need, err);
		break;
	case MSG_PUBLISH_OBJECT:
		if ((rc = msg_get_hash(&r, m.u.publish_object.object, "object",
		    err)) != 0 ||
		    (rc = msg_get_u64(&r, &m.u.publish_object.offset, "offset",
		    err)) != 0)
			break;
		rc = msg_get_chunk(&r, &m.u.publish_object.chunk,
		    &m.u.publish_object.chunklen, err);
		break;
	case MSG_PUBLISH_RESULT:
		rc = msg_decode_publish_result(&r, &m.u.publish_result, err);
		break;
	case MSG_GET_DELTA:
		if ((rc = msg_get_u32(&r, &m.u.get_delta.request, "request",
		    err)) != 0 ||
		    (rc = msg_get_hash(&r, m.u.get_delta.object, "object",
		    err)) != 0 ||
		    (rc = msg_get_hash(&r, m.u.get_delta.base, "base",
		    err)) != 0)
			break;
		rc = msg_get_u64(&r, &m.u.get_delta.offset, "offset", err);
		break;
	case MSG_GET_META_DELTA:
		if ((rc = msg_get_delta_role_name(&r, &m.u.get_meta_delta.role,
		    &m.u.get_meta_delta.name, &m.u.get_meta_delta.base_serial,
		    err)) != 0)
			break;
		rc = msg_get_hash(&r, m.u.get_meta_delta.base, "base", err);
		break;
	case MSG_META_DELTA:
		rc = msg_decode_meta_delta(&r, &m.u.meta_delta, err);
		break;
	default:
		if (f->type > MSG_RANGE_LAST) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "unexpected message type 0x%04x (no such range)",
			    f->type);
		} else {
			rc = error_set(err, SATCHEL_EINVALID,
			    "unexpected message type 0x%04x", f->type);
		}
		break;
	}
	if (rc == 0)
		rc = msg_reader_end(&r, err);
	if (rc != 0)
		goto out;
	*out = m;
	memset(&m, 0, sizeof m);	/* ownership moved to the caller */
out:
	msg_free(&m);
	return rc;
}

void
msg_free(struct msg *m)
{
	uint16_t	i;

	if (m == NULL)
		return;
	switch (m->type) {
	case MSG_HELLO:
		if (m->u.hello.caps != NULL) {
			for (i = 0; i < m->u.hello.ncaps; i++)
				free(m->u.hello.caps[i]);
		}
		free(m->u.hello.caps);
		break;
	case MSG_ERROR:
		free(m->u.error.message);
		break;
	case MSG_GET_META:
		free(m->u.get_meta.name);
		break;
	case MSG_META:
	case MSG_META_Z:
		free(m->u.meta.name);
		break;
	case MSG_PUBLISH_NEED:
		free(m->u.publish_need.hashes);
		break;
	case MSG_OBJECT_PACK:
		free(m->u.object_pack.entries);
		break;
	case MSG_PUBLISH_RESULT:
		free(m->u.publish_result.message);
		break;
	case MSG_GET_META_DELTA:
		free(m->u.get_meta_delta.name);
		break;
	case MSG_META_DELTA:
		free(m->u.meta_delta.name);
		break;
	default:
		break;
	}
	memset(m, 0, sizeof *m);
}

/* Encoder. */

/* The payload is written after a header with a zero length, which is
 * patched once the payload's size is known: no second copy. */
void
msg_encode(const struct msg *m, struct buf *out)
{
	size_t		start = out->len, len;
	uint32_t	i;
	uint8_t		*h;

	frame_put_header(out, m->type, 0);
	switch (m->type) {
	case MSG_HELLO:
		assert(m->u.hello.ncaps <= MSG_CAP_MAX);
		buf_add(out, MSG_MAGIC, MSG_MAGIC_LEN);
		msg_put_u16(out, m->u.hello.version);
		msg_put_u32(out, m->u.hello.max_frame);
		msg_put_u16(out, m->u.hello.ncaps);
		for (i = 0; i < m->u.hello.ncaps; i++)
			msg_put_text(out, m->u.hello.caps[i]);
		break;
	case MSG_ERROR:
		msg_put_u16(out, m->u.error.code);
		msg_put_text(out, m->u.error.message);
		break;
	case MSG_KEEPALIVE:
	case MSG_BYE:
	case MSG_PUBLISH_DONE:
		break;
	case MSG_GET_META:
		assert(m->u.get_meta.have_flag <= 1);
		msg_put_u8(out, m->u.get_meta.role);
		msg_put_text(out, m->u.get_meta.name);
		msg_put_u8(out, m->u.get_meta.have_flag);
		if (m->u.get_meta.have_flag)
			msg_put_hash(out, m->u.get_meta.have);
		break;
	case MSG_META:
		msg_put_u8(out, m->u.meta.role);
		msg_put_text(out, m->u.meta.name);
		msg_put_u8(out, m->u.meta.status);
		if (m->u.meta.status == MSG_STATUS_OK) {
			msg_put_u64(out, m->u.meta.total);
			msg_put_u64(out, m->u.meta.offset);
			msg_put_bytes(out, m->u.meta.data,
			    m->u.meta.datalen);
		}
		break;
	case MSG_META_Z:
		assert(m->u.meta.status == MSG_STATUS_OK);
		msg_put_u8(out, m->u.meta.role);
		msg_put_text(out, m->u.meta.name);
		msg_put_u64(out, m->u.meta.total);
		msg_put_u64(out, m->u.meta.offset);
		msg_put_bytes(out, m->u.meta.data, m->u.meta.datalen);
		break;
	case MSG_GET_OBJECT:
		msg_put_u32(out, m->u.get_object.request);
		msg_put_hash(out, m->u.get_object.object);
		msg_put_u64(out, m->u.get_object.offset);
		break;
	case MSG_OBJECT_DATA:
		msg_put_u32(out, m->u.object_data.request);
		msg_put_u64(out, m->u.object_data.offset);
		msg_put_bytes(out, m->u.object_data.chunk,
		    m->u.object_data.chunklen);
		break;
	case MSG_OBJECT_END:
		msg_put_u32(out, m->u.object_end.request);
		msg_put_u64(out, m->u.object_end.size);
		break;
	case MSG_CANCEL:
		msg_put_u32(out, m->u.cancel.request);
		break;
	case MSG_OBJECT_PACK:
		assert(m->u.object_pack.n >= 1 &&
		    m->u.object_pack.n <= MSG_PACK_MAX);
		msg_put_u16(out, m->u.object_pack.n);
		for (i = 0; i < m->u.object_pack.n; i++) {
			const struct msg_pack_entry *e =
			    &m->u.object_pack.entries[i];

			msg_put_u32(out, e->request);
			msg_put_u64(out, e->offset);
			msg_put_u64(out, e->size);
			msg_put_u32(out, e->len);
		}
		msg_put_bytes(out, m->u.object_pack.chunk,
		    m->u.object_pack.chunklen);
		break;
	case MSG_PUBLISH:
	case MSG_PUBLISH_Z:
		msg_put_u64(out, m->u.publish.total);
		msg_put_u64(out, m->u.publish.offset);
		msg_put_bytes(out, m->u.publish.data, m->u.publish.datalen);
		break;
	case MSG_PUBLISH_NEED:
		assert(m->u.publish_need.n <= m->u.publish_need.total);
		msg_put_u32(out, m->u.publish_need.total);
		msg_put_u32(out, m->u.publish_need.n);
		for (i = 0; i < m->u.publish_need.n; i++)
			msg_put_hash(out, m->u.publish_need.hashes[i]);
		break;
	case MSG_PUBLISH_OBJECT:
		msg_put_hash(out, m->u.publish_object.object);
		msg_put_u64(out, m->u.publish_object.offset);
		msg_put_bytes(out, m->u.publish_object.chunk,
		    m->u.publish_object.chunklen);
		break;
	case MSG_PUBLISH_RESULT:
		msg_put_u8(out, m->u.publish_result.ok);
		msg_put_u64(out, m->u.publish_result.catalog_serial);
		msg_put_text(out, m->u.publish_result.message);
		break;
	case MSG_GET_DELTA:
		msg_put_u32(out, m->u.get_delta.request);
		msg_put_hash(out, m->u.get_delta.object);
		msg_put_hash(out, m->u.get_delta.base);
		msg_put_u64(out, m->u.get_delta.offset);
		break;
	case MSG_GET_META_DELTA:
		msg_put_u8(out, m->u.get_meta_delta.role);
		msg_put_text(out, m->u.get_meta_delta.name);
		msg_put_u64(out, m->u.get_meta_delta.base_serial);
		msg_put_hash(out, m->u.get_meta_delta.base);
		break;
	case MSG_META_DELTA:
		msg_put_u8(out, m->u.meta_delta.role);
		msg_put_text(out, m->u.meta_delta.name);
		msg_put_u64(out, m->u.meta_delta.base_serial);
		msg_put_u64(out, m->u.meta_delta.total);
		msg_put_bytes(out, m->u.meta_delta.data, m->u.meta_delta.datalen);
		break;
	default:
		fatal("msg_encode: unknown message type 0x%04x", m->type);
	}
	len = out->len - start - FRAME_HEADER_LEN;
	assert(len <= FRAME_MAX_LIMIT);
	h = (uint8_t *)out->data + start;
	h[0] = (uint8_t)(len >> 24);
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
}
