/*
 * satchel.h: the command table of the satchel tool and the helpers every
 * subcommand shares (usage errors, help, progress).
 */
#ifndef SATCHEL_CMD_H
#define SATCHEL_CMD_H

#include <getopt.h>
#include <stdint.h>

#include "error.h"

#define EXIT_USAGE	2

struct satchel_cmd {
	const char	*name;
	const char	*summary;	/* one line for `satchel --help` */
	const char	*help;		/* the full --help text */
	int		(*exec)(const struct satchel_cmd *, int, char **);
};

extern const struct satchel_cmd cmd_keygen_entry;
extern const struct satchel_cmd cmd_init_entry;
extern const struct satchel_cmd cmd_build_entry;
extern const struct satchel_cmd cmd_sign_entry;
extern const struct satchel_cmd cmd_verify_entry;
extern const struct satchel_cmd cmd_inspect_entry;
extern const struct satchel_cmd cmd_trust_entry;
extern const struct satchel_cmd cmd_store_entry;
extern const struct satchel_cmd cmd_publish_entry;
extern const struct satchel_cmd cmd_ls_entry;
extern const struct satchel_cmd cmd_log_entry;
extern const struct satchel_cmd cmd_archive_entry;
extern const struct satchel_cmd cmd_checkout_entry;
extern const struct satchel_cmd cmd_fsck_entry;
extern const struct satchel_cmd cmd_pull_entry;
extern const struct satchel_cmd cmd_gc_entry;
extern const struct satchel_cmd cmd_report_entry;

/* Options every subcommand accepts; add them to each option table. */
#define CMD_COMMON_OPTIONS \
	{ "help",	no_argument,	NULL,	'h' }, \
	{ "version",	no_argument,	NULL,	'V' }

/* Handles -h/-V/'?' from getopt: returns -1 to go on, or an exit code. */
int	cmd_common_option(const struct satchel_cmd *, int opt);
/* Prints "satchel CMD: MESSAGE" and a hint to stderr; returns EXIT_USAGE. */
int	cmd_usage_error(const struct satchel_cmd *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Prints "satchel: MESSAGE" for err to stderr; returns 1. */
int	cmd_fail(const struct error *err);
/* A progress callback for long work: a line on stderr, redrawn in place
 * when stderr is a terminal, and silent otherwise. */
void	cmd_progress(void *arg, const char *what, uint64_t done, uint64_t total);
/* Loads the private key files named by --key options; on success *out
 * is a malloc'd array of n keys (free each with privkey_free). */
struct privkey;
int	cmd_load_keys(char **paths, size_t n, struct privkey ***out,
	    struct error *err);
/* Human size: "1.2 MiB". Returns a static buffer (one of four). */
const char *cmd_size(uint64_t bytes);

#endif
