/*
 * fuzz.h: what every fuzz target shares. A target is one
 * LLVMFuzzerTestOneInput; with clang and --enable-fuzzing it links with
 * libFuzzer, otherwise with replay.c, which feeds it the seed corpus in
 * `make check`. A broken invariant aborts, so that libFuzzer keeps the
 * input and the replay fails, the same as a sanitizer report.
 */
#ifndef SATCHEL_FUZZ_H
#define SATCHEL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#endif
