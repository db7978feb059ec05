/*
 * replay.c: runs a fuzz target's LLVMFuzzerTestOneInput over files, so
 * that `make check` replays every corpus without clang or libFuzzer.
 * Arguments are files or directories (each regular file in it, sorted,
 * so a failure names the same input every time). Output is TAP: one
 * case a file. Without arguments it replays FUZZ_CORPUS (set at build
 * time) under $SATCHEL_SRCDIR. The input is copied into a buffer of exactly its size,
 * as libFuzzer does, so that AddressSanitizer sees any read past it.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int	ncases;

static int
replay_file(const char *path)
{
	FILE		*f;
	uint8_t		*buf, *exact;
	size_t		 len = 0, cap = 4096, n;

	if ((f = fopen(path, "rb")) == NULL) {
		printf("not ok %d - %s: %s\n", ++ncases, path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(cap)) == NULL)
		abort();
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap && (buf = realloc(buf, cap *= 2)) == NULL)
			abort();
	}
	if (ferror(f)) {
		printf("not ok %d - %s: read error\n", ++ncases, path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	/* malloc(0) may return NULL; libFuzzer passes a valid pointer. */
	if ((exact = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(exact, buf, len);
	free(buf);
	fflush(stdout);
	(void)LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	printf("ok %d - %s (%zu bytes)\n", ++ncases, path, len);
	return 0;
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, *p;
	size_t		 n = 0, i;
	struct stat	 st;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL) {
		printf("not ok %d - %s: %s\n", ++ncases, dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof *names)) == NULL ||
		    (p = malloc(strlen(dir) + strlen(de->d_name) + 2)) == NULL)
			abort();
		sprintf(p, "%s/%s", dir, de->d_name);
		names[n++] = p;
	}
	closedir(d);
	qsort(names, n, sizeof *names, namecmp);
	for (i = 0; i < n; i++) {
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) &&
		    replay_file(names[i]) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat	st;
	int		i, rc = 0;

	/* Without arguments (as `make check` runs it): the target's corpus
	 * in the source tree, named at build time. */
	if (argc < 2) {
		const char	*src = getenv("SATCHEL_SRCDIR");
		char		*dir;

		if (src == NULL) {
			fprintf(stderr, "usage: %s FILE|DIR... "
			    "(or set SATCHEL_SRCDIR)\n", argv[0]);
			return 2;
		}
		if ((dir = malloc(strlen(src) + sizeof FUZZ_CORPUS + 1)) == NULL)
			abort();
		sprintf(dir, "%s/%s", src, FUZZ_CORPUS);
		rc = replay_dir(dir) != 0;
		free(dir);
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i]) != 0)
				rc = 1;
		} else if (replay_file(argv[i]) != 0)
			rc = 1;
	}
	if (ncases == 0)
		printf("not ok 1 - no input found\n"), ncases = 1, rc = 1;
	printf("1..%d\n", ncases);
	return rc;
}
