/*
 * Allocation that aborts on out-of-memory, a growable byte buffer, hex, and
 * small string helpers shared by every module.
 */
#ifndef SATCHEL_UTIL_H
#define SATCHEL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void	 fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Frees n strings and the array holding them; v may be NULL when n is 0. */
void	 strv_free(char **v, size_t n);

/* A growable buffer; data is always NUL-terminated for convenience. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reserve(struct buf *, size_t more);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addstr(struct buf *, const char *);
void	 buf_addc(struct buf *, char);
void	 buf_printf(struct buf *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the contents to the caller (free() them) and empties the buffer. */
char	*buf_detach(struct buf *, size_t *lenp);

/* out must hold 2 * len + 1 bytes. */
void	 hex_encode(char *out, const uint8_t *in, size_t len);
/* Decodes exactly 2 * outlen lowercase hex digits; -1 on anything else. */
int	 hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen);

/* 1 if s[0..len) is valid UTF-8 with no control characters (C0, DEL, C1). */
int	 utf8_valid_text(const char *s, size_t len);
/* Parses a decimal integer in [min, max] with no sign, spaces or leading
 * zeros; -1 if s is not exactly that. */
int	 parse_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

#endif
