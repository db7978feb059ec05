/*
 * Errors: a module API returns 0 or a negative code and fills the caller's
 * struct error with a message naming the file, field or peer.
 */
#ifndef SATCHEL_ERROR_H
#define SATCHEL_ERROR_H

#define SATCHEL_OK		 0
#define SATCHEL_ERR		-1	/* generic failure */
#define SATCHEL_EINVALID	-2	/* malformed input */
#define SATCHEL_ENOTFOUND	-3	/* a named thing does not exist */
#define SATCHEL_EEXISTS		-4	/* refusing to overwrite */
#define SATCHEL_EVERIFY		-5	/* a signature or hash did not check */
#define SATCHEL_ELIMIT		-6	/* a size or count limit was exceeded */

#define ERROR_MSG_MAX	1024

struct error {
	int	code;
	char	msg[ERROR_MSG_MAX];
};

/* Fills err (may be NULL) and returns code, so callers can write
 * `return error_set(err, SATCHEL_EINVALID, "...")`. */
int	error_set(struct error *err, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Prefixes the message already in err with "PREFIX: ". */
void	error_prefix(struct error *err, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	error_clear(struct error *err);

#endif
