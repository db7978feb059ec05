/*
 * delta.h: per-file deltas (protocol/SPEC.md, "File deltas"): a new
 * version of a file (the target) written as zstd frames that use slices
 * of the old version (the base) as their prefix, cut into segments so
 * that both sides work in bounded memory whatever the file's size.
 */
#ifndef SATCHEL_DELTA_H
#define SATCHEL_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct buf;

#define DELTA_SEGMENT_MAX	(16u << 20)	/* target bytes per segment */
/* How far around a segment's own offset the encoder looks in the base:
 * a segment's base slice is at most DELTA_SEGMENT_MAX + 2 * DELTA_MARGIN
 * bytes, and a decoder refuses a longer one. */
#define DELTA_MARGIN		(16u << 20)
#define DELTA_BASE_SLICE_MAX	((uint64_t)DELTA_SEGMENT_MAX + 2 * DELTA_MARGIN)
/* Largest zstd window any frame of a file delta needs (base slice plus
 * segment = 64 MiB); the decoder allows no more. */
#define DELTA_WINDOW_LOG_MAX	26
/* A segment header: base_offset, base_length, zlen, each an unsigned
 * LEB128 number of at most 10 bytes. */
#define DELTA_HEADER_MAX	30

/* The largest a delta of a target of n bytes may be (segment headers plus
 * ZSTD_compressBound of each segment): receivers refuse more. */
uint64_t	delta_size_bound(uint64_t target_size);

/*
 * Writes to out_fd (sequentially, from its current offset) the delta of
 * the target (target_fd, target_size bytes) against the base (base_fd,
 * base_size). Either size may be 0 (its descriptor may then be -1).
 * base_fd and target_fd must be regular files; they are read from offset 0 (the base is mapped, the target read
 * one segment at a time). The same inputs always give the same bytes (with
 * the same libzstd). 0 on success, else an error code with err filled
 * (naming what failed).
 */
int	delta_encode(int base_fd, uint64_t base_size, int target_fd,
	    uint64_t target_size, int out_fd, struct error *err);

/*
 * Rebuilds the target from the base and a delta (delta_fd, read
 * sequentially from its current offset, delta_size bytes), writing it
 * sequentially to out_fd and hashing it with SHA-256 (base_fd may be -1
 * when base_size is 0). Refuses
 * (SATCHEL_EINVALID, err says what: "delta: segment 3: ...") a malformed
 * delta, a segment whose base range falls outside the base, a zstd frame
 * that declares no content size or not the segment's size, a frame that
 * fails to decode or yields another size, output that is not exactly
 * expect_size bytes; bytes that do not hash to expect_sha give
 * SATCHEL_EVERIFY. 0 only when out_fd received exactly the target (on
 * failure out_fd may hold a prefix of garbage: write to a temporary file).
 */
int	delta_decode(int base_fd, uint64_t base_size, int delta_fd,
	    uint64_t delta_size, uint64_t expect_size,
	    const uint8_t expect_sha[32], int out_fd, struct error *err);

/*
 * In-memory variants for small documents (a signed manifest): one zstd
 * frame of the target with the base as prefix, level 19, declaring its
 * content size. encode appends the frame to out. decode refuses a frame
 * that declares no size or a size above max, or yields another size;
 * *out is malloc'd (the caller frees), NUL-terminated past *outlen.
 */
int	delta_encode_buf(const void *base, size_t blen, const void *target,
	    size_t tlen, struct buf *out, struct error *err);
int	delta_decode_buf(const void *base, size_t blen, const void *delta,
	    size_t dlen, size_t max, char **out, size_t *outlen,
	    struct error *err);

/*
 * Tests only: cut segments of seg bytes and look margin bytes around them
 * (both sides must agree); 0, 0 restores DELTA_SEGMENT_MAX, DELTA_MARGIN.
 * Lets a unit test cover many segments without megabytes of data.
 */
void	delta_test_set_segment(uint32_t seg, uint32_t margin);

#endif
