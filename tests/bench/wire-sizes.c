/*
 * wire-sizes: what satcheld's OBJECT_DATA/OBJECT_END frames would weigh
 * for a list of objects under other compression schemes, without a
 * daemon (benchmark aid, not built by make):
 *
 *   cc -O2 -o wire-sizes tests/bench/wire-sizes.c -lzstd
 *   wire-sizes MODE PIECE [LEVEL [WINDOWLOG]] < FILE-LIST
 *
 * MODE independent: each piece of PIECE bytes its own zstd frame (what
 *      satcheld does today with PIECE = 128 KiB);
 *      stream: one zstd stream for the whole connection, flushed at the
 *      end of every piece (needs per-connection compressor state);
 *      pack: independent frames, but consecutive objects smaller than
 *      PIECE share one frame of up to PIECE bytes (8 bytes per object
 *      for its request and length), larger ones are cut into pieces.
 * FILE-LIST holds one path a line, in the order a client asks for them
 * (sorted by path, each distinct content once). Counts 22 bytes of
 * framing per OBJECT_DATA and 18 per OBJECT_END, like the wire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#define DATA_OVERHEAD	22	/* frame header 6, request 4, offset 8, length 4 */
#define END_OVERHEAD	18	/* frame header 6, request 4, size 8 */

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*b;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		exit(1);
	}
	if ((b = malloc(n > 0 ? (size_t)n : 1)) == NULL ||
	    fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: read failed\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static size_t
check(size_t r)
{
	if (ZSTD_isError(r)) {
		fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(r));
		exit(1);
	}
	return r;
}

int
main(int argc, char **argv)
{
	const char		*mode;
	size_t			 piece, cap, len, off, n, pklen = 0;
	int			 level = 3, wlog = 0;
	unsigned long long	 wire = 0, raw = 0, objs = 0, frames = 0;
	char			 path[4096], *buf, *out, *pk;
	ZSTD_CCtx		*z;

	if (argc < 3) {
		fprintf(stderr, "usage: wire-sizes independent|stream|pack "
		    "PIECE [LEVEL [WINDOWLOG]] < FILE-LIST\n");
		return 2;
	}
	mode = argv[1];
	piece = strtoul(argv[2], NULL, 0);
	if (argc > 3)
		level = atoi(argv[3]);
	if (argc > 4)
		wlog = atoi(argv[4]);
	if (piece == 0 || (strcmp(mode, "independent") != 0 &&
	    strcmp(mode, "stream") != 0 && strcmp(mode, "pack") != 0)) {
		fprintf(stderr, "wire-sizes: bad mode or piece size\n");
		return 2;
	}
	z = ZSTD_createCCtx();
	check(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, level));
	if (wlog != 0)
		check(ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, wlog));
	cap = ZSTD_compressBound(piece) + 1024;
	out = malloc(cap);
	pk = malloc(piece);
	while (fgets(path, sizeof path, stdin) != NULL) {
		path[strcspn(path, "\n")] = '\0';
		buf = slurp(path, &len);
		raw += len;
		objs++;
		wire += END_OVERHEAD;
		if (strcmp(mode, "pack") == 0 && len < piece) {
			if (pklen + len > piece) {
				wire += check(ZSTD_compress2(z, out, cap, pk, pklen)) +
				    DATA_OVERHEAD;
				frames++;
				pklen = 0;
			}
			memcpy(pk + pklen, buf, len);
			pklen += len;
			wire += 8;
			free(buf);
			continue;
		}
		for (off = 0; off < len; off += n) {
			n = len - off < piece ? len - off : piece;
			if (strcmp(mode, "stream") == 0) {
				ZSTD_inBuffer	in = { buf + off, n, 0 };
				size_t		left;

				do {
					ZSTD_outBuffer	o = { out, cap, 0 };

					left = check(ZSTD_compressStream2(z, &o, &in,
					    ZSTD_e_flush));
					wire += o.pos;
				} while (left != 0);
			} else
				wire += check(ZSTD_compress2(z, out, cap, buf + off, n));
			wire += DATA_OVERHEAD;
			frames++;
		}
		free(buf);
	}
	if (pklen > 0) {
		wire += check(ZSTD_compress2(z, out, cap, pk, pklen)) + DATA_OVERHEAD;
		frames++;
	}
	printf("%s piece %zu level %d windowlog %d: %llu objects, %llu bytes "
	    "-> %llu wire bytes in %llu OBJECT_DATA frames\n", mode, piece,
	    level, wlog, objs, raw, wire, frames);
	ZSTD_freeCCtx(z);
	free(out);
	free(pk);
	return 0;
}
