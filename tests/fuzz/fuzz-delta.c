/*
 * fuzz-delta.c: the delta decoder (lib/delta.c, SPEC §10 "Deltas") on
 * arbitrary bytes, as a client meets a hostile server's delta: against a
 * fixed 64 KiB base, both delta_decode (the file form: segments, slices,
 * frames) and delta_decode_buf (a manifest's single frame). The first
 * four input bytes give the target size the decoder is told to expect
 * (at most 1 MiB); the rest is the delta. Invariants: the file form,
 * asked for a digest no output has, never succeeds and never writes more
 * than the expected size; the buffer form never yields more than its
 * limit.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "delta.h"
#include "error.h"

#include "fuzz.h"

#define BASE_LEN	(64u << 10)
#define TARGET_MAX	(1u << 20)

static uint8_t	base[BASE_LEN];
static int	base_fd = -1;

static int
memfd(const char *name, const void *p, size_t n)
{
	int	fd;

	if ((fd = memfd_create(name, 0)) == -1) {
		perror("memfd_create");
		abort();
	}
	if (n > 0 && write(fd, p, n) != (ssize_t)n) {
		perror("write");
		abort();
	}
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error	 err;
	struct stat	 st;
	uint8_t		 sha[SHA256_LEN];
	uint64_t	 want;
	char		*out = NULL;
	size_t		 outlen, i;
	int		 dfd, ofd;

	if (base_fd == -1) {
		/* Text-like and repetitive, so slices match something. */
		for (i = 0; i < BASE_LEN; i++)
			base[i] = "lesson brush ink stone paper\n"[i % 29] ^
			    (uint8_t)((i / 4096) & 1);
		base_fd = memfd("base", base, BASE_LEN);
	}
	if (size < 4)
		return 0;
	want = ((uint64_t)data[0] << 24 | (uint64_t)data[1] << 16 |
	    (uint64_t)data[2] << 8 | data[3]) % (TARGET_MAX + 1);
	data += 4;
	size -= 4;

	/* The file form, asked for an all-zero digest that no output has:
	 * a decode that succeeds skipped the check. Refused, it wrote at
	 * most the expected size. */
	dfd = memfd("delta", data, size);
	ofd = memfd("out", NULL, 0);
	memset(sha, 0, sizeof sha);
	(void)lseek(dfd, 0, SEEK_SET);
	if (delta_decode(base_fd, BASE_LEN, dfd, size, want, sha, ofd,
	    &err) == 0)
		abort();
	if (fstat(ofd, &st) != 0 || (uint64_t)st.st_size > want)
		abort();
	close(dfd);
	close(ofd);

	/* The buffer form. */
	if (delta_decode_buf(base, BASE_LEN, data, size, TARGET_MAX, &out,
	    &outlen, &err) == 0) {
		if (outlen > TARGET_MAX)
			abort();
		free(out);
	}
	return 0;
}
