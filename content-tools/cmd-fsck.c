/* cmd-fsck.c: `satchel fsck`, check a whole store. */
#include <stdio.h>

#include "satchel.h"
#include "store.h"

static void
fsck_print(void *arg, const char *problem)
{
	(void)arg;
	printf("%s\n", problem);
}

static int
cmd_fsck(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct store			*s = NULL;
	struct error			 err;
	size_t				 n;
	int				 opt;

	while ((opt = getopt_long(argc, argv, "hV", opts, NULL)) != -1)
		return cmd_common_option(cmd, opt);
	if (argc - optind != 1)
		return cmd_usage_error(cmd, "expected one store DIR");
	if (store_open(&s, argv[optind], STORE_READ, &err) != 0)
		return cmd_fail(&err);
	n = store_fsck(s, fsck_print, NULL, NULL, NULL);
	store_close(s);
	if (n != 0) {
		fprintf(stderr, "satchel: %s: %zu problem%s found\n", argv[optind], n,
		    n == 1 ? "" : "s");
		return 1;
	}
	printf("%s: clean\n", argv[optind]);
	return 0;
}

const struct satchel_cmd cmd_fsck_entry = {
	"fsck",
	"check every object, manifest and signature of a store",
	"usage: satchel fsck DIR\n"
	"\n"
	"Checks the store DIR: every object's SHA-256 against its name; every\n"
	"retained release's signed manifest (a publisher allowed that bundle\n"
	"name signed it) and the presence and size of each of its files; the\n"
	"catalog's signature (a catalog key of the trust policy) and that each\n"
	"bundle it names pins a retained manifest. Prints each problem on its\n"
	"own line.\n"
	"\n"
	"Options:\n"
	"  -h, --help      show this help\n"
	"  -V, --version   show the version\n"
	"\n"
	"Exit status: 0 clean, 1 problems found or unreadable, 2 usage error.\n",
	cmd_fsck
};
