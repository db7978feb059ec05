/* cmd-archive.c: `satchel archive`, a stored release back out as a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "satchel.h"
#include "store.h"
#include "util.h"

static int
cmd_archive(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "store",	required_argument,	NULL,	's' },
		{ "output",	required_argument,	NULL,	'o' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct store			*s = NULL;
	struct error			 err;
	const char			*dir = NULL, *out = NULL, *at;
	char				*name = NULL;
	uint64_t			 serial = 0;
	int				 opt, rc;

	while ((opt = getopt_long(argc, argv, "s:o:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			dir = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (dir == NULL || out == NULL || argc - optind != 1)
		return cmd_usage_error(cmd, "expected --store DIR -o FILE NAME[@SERIAL]");
	at = strchr(argv[optind], '@');
	name = at != NULL ? xstrndup(argv[optind], (size_t)(at - argv[optind])) :
	    xstrdup(argv[optind]);
	if (at != NULL && parse_u64(at + 1, strlen(at + 1), 1, INT64_MAX, &serial) != 0) {
		free(name);
		return cmd_usage_error(cmd, "\"%s\": SERIAL must be a whole number >= 1",
		    argv[optind]);
	}
	if ((rc = store_open(&s, dir, STORE_READ, &err)) == 0 &&
	    (rc = store_export(s, name, serial, out, &err)) == 0)
		printf("%s: %s%s%s\n", out, name, serial ? "@" : "",
		    serial ? at + 1 : "");
	store_close(s);
	free(name);
	return rc == 0 ? 0 : cmd_fail(&err);
}

const struct satchel_cmd cmd_archive_entry = {
	"archive",
	"write a stored release back out as a bundle archive",
	"usage: satchel archive --store DIR -o FILE NAME[@SERIAL]\n"
	"\n"
	"Writes release SERIAL of bundle NAME (default: the current one) from\n"
	"the store DIR as a bundle archive FILE, checking every file against its\n"
	"digest on the way: byte for byte the archive that was published.\n"
	"\n"
	"Options:\n"
	"  -s, --store DIR     the store\n"
	"  -o, --output FILE   where to write (replaced atomically)\n"
	"  -h, --help          show this help\n"
	"  -V, --version       show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_archive
};
