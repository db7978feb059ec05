/*
 * satchel.c owns the satchel command line: dispatching to a subcommand,
 * the top-level help, and the helpers subcommands share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <locale.h>
#include <malloc.h>

#include "config.h"
#include "keyfile.h"
#include "satchel.h"
#include "util.h"

static const struct satchel_cmd *commands[] = {
	&cmd_keygen_entry,
	&cmd_init_entry,
	&cmd_build_entry,
	&cmd_sign_entry,
	&cmd_verify_entry,
	&cmd_inspect_entry,
	&cmd_trust_entry,
	&cmd_store_entry,
	&cmd_publish_entry,
	&cmd_ls_entry,
	&cmd_log_entry,
	&cmd_archive_entry,
	&cmd_checkout_entry,
	&cmd_fsck_entry,
	&cmd_pull_entry,
	&cmd_gc_entry,
	&cmd_report_entry,
	NULL
};

static void
satchel_help(FILE *f)
{
	const struct satchel_cmd	**c;

	fprintf(f,
	    "usage: satchel [--help] [--version] COMMAND [ARGS]\n"
	    "\n"
	    "Build, sign and verify Satchel bundles: reproducible, signed releases of\n"
	    "learning material kept in git repositories.\n"
	    "\n"
	    "Commands:\n");
	for (c = commands; *c != NULL; c++)
		fprintf(f, "  %-10s %s\n", (*c)->name, (*c)->summary);
	fprintf(f,
	    "\n"
	    "Run `satchel COMMAND --help` for a command's options.\n"
	    "\n"
	    "Exit status: 0 success, 1 failure (the message says what and where),\n"
	    "2 usage error.\n");
}

int
cmd_common_option(const struct satchel_cmd *cmd, int opt)
{
	switch (opt) {
	case 'h':
		fputs(cmd->help, stdout);
		return 0;
	case 'V':
		printf("satchel %s\n", PACKAGE_VERSION);
		return 0;
	default:
		fprintf(stderr, "Try `satchel %s --help'.\n", cmd->name);
		return EXIT_USAGE;
	}
}

int
cmd_usage_error(const struct satchel_cmd *cmd, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "satchel %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry `satchel %s --help'.\n", cmd->name);
	return EXIT_USAGE;
}

int
cmd_fail(const struct error *err)
{
	fprintf(stderr, "satchel: %s\n", err->msg[0] != '\0' ? err->msg :
	    "failed (no detail)");
	return 1;
}

void
cmd_progress(void *arg, const char *what, uint64_t done, uint64_t total)
{
	static int	 last = -1;
	int		 pct;

	(void)arg;
	if (!isatty(STDERR_FILENO))
		return;
	pct = total == 0 ? 100 : (int)(done * 100 / total);
	if (pct == last && done != total)
		return;
	last = pct;
	fprintf(stderr, "\r%s: %3d%% (%s)", what, pct, cmd_size(done));
	if (done == total) {
		fputc('\n', stderr);
		last = -1;
	}
}

const char *
cmd_size(uint64_t b)
{
	static char	 bufs[4][32];
	static int	 i;
	char		*s = bufs[i++ % 4];

	if (b < 1024)
		snprintf(s, 32, "%llu B", (unsigned long long)b);
	else if (b < 1024 * 1024)
		snprintf(s, 32, "%.1f KiB", b / 1024.0);
	else if (b < 1024ull * 1024 * 1024)
		snprintf(s, 32, "%.1f MiB", b / (1024.0 * 1024));
	else
		snprintf(s, 32, "%.2f GiB", b / (1024.0 * 1024 * 1024));
	return s;
}

int
cmd_load_keys(char **paths, size_t n, struct privkey ***out, struct error *err)
{
	struct privkey	**keys = xcalloc(n, sizeof *keys);
	size_t		  i;
	int		  rc = 0;

	for (i = 0; i < n; i++)
		if ((rc = keyfile_load_private(&keys[i], paths[i], err)) != 0)
			break;
	if (rc != 0) {
		while (i-- > 0)
			privkey_free(keys[i]);
		free(keys);
		return rc;
	}
	*out = keys;
	return 0;
}

int
main(int argc, char **argv)
{
	const struct satchel_cmd	**c;

	setlocale(LC_CTYPE, "C.UTF-8");
	/*
	 * Blobs of many megabytes come and go: a fixed mmap threshold gives
	 * each one back to the system when freed, instead of glibc raising
	 * the threshold and keeping freed blobs in its arenas.
	 */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	if (argc < 2) {
		satchel_help(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0)
			for (c = commands; *c != NULL; c++)
				if (strcmp((*c)->name, argv[2]) == 0) {
					fputs((*c)->help, stdout);
					return 0;
				}
		satchel_help(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("satchel %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (c = commands; *c != NULL; c++)
		if (strcmp((*c)->name, argv[1]) == 0)
			return (*c)->exec(*c, argc - 1, argv + 1);
	fprintf(stderr, "satchel: unknown command \"%s\"\n"
	    "Try `satchel --help' for the list of commands.\n", argv[1]);
	return EXIT_USAGE;
}
