/*
 * delta-tool: runs lib/delta.c on files, for tests/bench/delta-mem.sh
 * (benchmark aid, not built by make; the script builds it against an -O2
 * build of the libraries):
 *
 *   delta-tool encode BASE TARGET DELTA
 *   delta-tool decode BASE DELTA OUT SIZE SHA256-HEX
 *
 * Prints one line to stderr: the step, its wall time, its peak resident
 * set (getrusage ru_maxrss) and the delta's size.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delta.h"
#include "error.h"
#include "util.h"

static int
open_in(const char *path, uint64_t *size)
{
	struct stat	sb;
	int		fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1) {
		perror(path);
		exit(1);
	}
	*size = (uint64_t)sb.st_size;
	return fd;
}

static int
open_out(const char *path)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		perror(path);
		exit(1);
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct error	err;
	struct rusage	ru;
	struct timespec	t0, t1;
	struct stat	sb;
	uint8_t		sha[32];
	uint64_t	bsize, tsize, dsize;
	int		bfd, tfd, dfd, ofd, rc;

	error_clear(&err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (argc == 5 && strcmp(argv[1], "encode") == 0) {
		bfd = open_in(argv[2], &bsize);
		tfd = open_in(argv[3], &tsize);
		ofd = open_out(argv[4]);
		rc = delta_encode(bfd, bsize, tfd, tsize, ofd, &err);
	} else if (argc == 7 && strcmp(argv[1], "decode") == 0) {
		bfd = open_in(argv[2], &bsize);
		dfd = open_in(argv[3], &dsize);
		ofd = open_out(argv[4]);
		if (hex_decode(sha, sizeof sha, argv[6], strlen(argv[6])) != 0) {
			fprintf(stderr, "bad sha256 %s\n", argv[6]);
			return 2;
		}
		rc = delta_decode(bfd, bsize, dfd, dsize,
		    strtoull(argv[5], NULL, 10), sha, ofd, &err);
	} else {
		fprintf(stderr, "usage: delta-tool encode BASE TARGET DELTA\n"
		    "       delta-tool decode BASE DELTA OUT SIZE SHA256\n");
		return 2;
	}
	if (rc != 0) {
		fprintf(stderr, "delta-tool: %s\n", err.msg);
		return 1;
	}
	if (fsync(ofd) == -1 || fstat(ofd, &sb) == -1) {
		perror("output");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "%s: %.2f s, peak RSS %ld KiB, output %lld bytes\n",
	    argv[1], (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, ru.ru_maxrss,
	    (long long)sb.st_size);
	return 0;
}
