/*
 * fuzz-archive.c: `satchel verify` on arbitrary bytes: bundle_verify
 * (integrity only: no key, so the fuzzer is not stopped at the
 * signatures) over a temporary file holding the input, since archives are
 * read from files. Invariants of an accepted archive: its manifest is
 * the canonical encoding of what was parsed, and bundle_read_head finds
 * the same signed bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "error.h"
#include "manifest.h"

#include "fuzz.h"

static char	path[64];

static void
cleanup(void)
{
	if (path[0] != '\0')
		(void)unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle_report	rep;
	struct bundle_head	head;
	struct error		err;
	const char		*tmp = getenv("TMPDIR");
	FILE			*f;
	char			*enc;
	size_t			 len;
	int			 fd;

	if (path[0] == '\0') {
		snprintf(path, sizeof path, "%s/fuzz-archive.XXXXXX",
		    tmp != NULL && strlen(tmp) < 32 ? tmp : "/tmp");
		if ((fd = mkstemp(path)) == -1) {
			perror(path);
			abort();
		}
		close(fd);
		atexit(cleanup);
	}
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		perror(path);
		abort();
	}

	memset(&rep, 0, sizeof rep);
	error_clear(&err);
	if (bundle_verify(path, NULL, 0, NULL, &rep, &err) != 0) {
		FUZZ_ASSERT(err.code != 0 && err.msg[0] != '\0');
		bundle_report_free(&rep);
		return 0;
	}
	FUZZ_ASSERT(rep.head.manifest != NULL);
	manifest_encode(rep.head.manifest, &enc, &len);
	FUZZ_ASSERT(len == rep.head.manifest_len &&
	    memcmp(enc, rep.head.manifest_buf, len) == 0);
	free(enc);

	memset(&head, 0, sizeof head);
	FUZZ_ASSERT(bundle_read_head(path, &head, &err) == 0);
	FUZZ_ASSERT(head.manifest_len == rep.head.manifest_len &&
	    memcmp(head.manifest_buf, rep.head.manifest_buf, len) == 0);
	bundle_head_free(&head);
	bundle_report_free(&rep);
	return 0;
}
