/* cmd-publish.c: `satchel publish`, a signed release into an origin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "satchel.h"
#include "store.h"
#include "util.h"

static int
cmd_publish(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "store",	required_argument,	NULL,	's' },
		{ "expiry",	required_argument,	NULL,	'e' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct store_publish_report	 rep;
	struct store			*s = NULL;
	struct error			 err;
	const char			*dir = NULL;
	uint64_t			 days = 0;
	int				 opt, rc;

	while ((opt = getopt_long(argc, argv, "s:e:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			dir = optarg;
			break;
		case 'e':
			if (parse_u64(optarg, strlen(optarg), 1, 366, &days) != 0)
				return cmd_usage_error(cmd, "--expiry takes days, 1 to 366");
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (dir == NULL || argc - optind != 1)
		return cmd_usage_error(cmd, dir == NULL ? "--store DIR is required" :
		    "expected one FILE.satchel");
	if (store_open(&s, dir, STORE_WRITE, &err) != 0)
		return cmd_fail(&err);
	memset(&rep, 0, sizeof rep);
	rc = store_publish(s, argv[optind], (int64_t)time(NULL),
	    (int64_t)days * 24 * 3600, &rep, &err);
	if (rc == 0) {
		printf("%s: published %s %s (serial %llu): %zu new files (%s), "
		    "%zu already present (%s); catalog serial %llu\n", dir,
		    rep.name, rep.label, (unsigned long long)rep.serial,
		    rep.files_new, cmd_size(rep.bytes_new), rep.files_present,
		    cmd_size(rep.bytes_present),
		    (unsigned long long)rep.catalog_serial);
	}
	store_publish_report_free(&rep);
	store_close(s);
	return rc == 0 ? 0 : cmd_fail(&err);
}

const struct satchel_cmd cmd_publish_entry = {
	"publish",
	"add a signed release to an origin store",
	"usage: satchel publish --store DIR [--expiry DAYS] FILE.satchel\n"
	"\n"
	"Verifies FILE against the store's trust policy (a publisher key whose\n"
	"patterns cover the bundle's name must have signed it) and refuses a\n"
	"serial that is not greater than the store's current one for that\n"
	"bundle, before reading any file. Then checks every file while copying\n"
	"the new ones into a staging area, and makes the release visible in\n"
	"order, each step on disk before the next: the objects, the signed\n"
	"manifest, then a new catalog (serial + 1) signed with the store's\n"
	"catalog key. Refused or interrupted, the store is as it was.\n"
	"Prints what it added: files new and already present, and bytes.\n"
	"\n"
	"Options:\n"
	"  -s, --store DIR      the origin store (made by `satchel store init\n"
	"                       --catalog-key`)\n"
	"  -e, --expiry DAYS    the new catalog expires after DAYS (default 7)\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_publish
};
