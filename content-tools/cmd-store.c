/* cmd-store.c: `satchel store init`, a new store, and `store set-trust`. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "satchel.h"
#include "store.h"

/* `store set-trust DIR POLICY...`: a rotation put in force on a store
 * (an origin's, usually), each policy the successor of the one before. */
static int
store_set_trust_cmd(const struct satchel_cmd *cmd, int argc, char **argv,
    int init_options)
{
	struct store	*s = NULL;
	struct error	 err;
	uint64_t	 before, cbefore;

	if (init_options)
		return cmd_usage_error(cmd, "--trust and --catalog-key are for "
		    "store init");
	if (argc < 2)
		return cmd_usage_error(cmd, "expected: store set-trust DIR "
		    "POLICY...");
	if (store_open(&s, argv[0], STORE_WRITE, &err) != 0)
		return cmd_fail(&err);
	before = store_trust(s) != NULL ? store_trust(s)->serial : 0;
	cbefore = store_catalog(s) != NULL ? store_catalog(s)->serial : 0;
	if (store_set_trust(s, argv + 1, (size_t)(argc - 1), (int64_t)time(NULL),
	    &err) != 0) {
		store_close(s);
		return cmd_fail(&err);
	}
	if (store_trust(s)->serial == before)
		printf("%s: trust policy %llu already in force\n", argv[0],
		    (unsigned long long)before);
	else
		printf("%s: trust policy %llu now in force (was %llu)\n",
		    argv[0], (unsigned long long)store_trust(s)->serial,
		    (unsigned long long)before);
	if (store_catalog(s) != NULL && store_catalog(s)->serial != cbefore)
		printf("%s: catalog signed again with the catalog key, serial "
		    "%llu\n", argv[0],
		    (unsigned long long)store_catalog(s)->serial);
	store_close(s);
	return 0;
}

static int
cmd_store(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "trust",		required_argument,	NULL,	't' },
		{ "catalog-key",	required_argument,	NULL,	'k' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct error			 err;
	const char			*policy = NULL, *key = NULL;
	int				 opt;

	while ((opt = getopt_long(argc, argv, "t:k:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			policy = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (argc - optind >= 1 && strcmp(argv[optind], "set-trust") == 0)
		return store_set_trust_cmd(cmd, argc - optind - 1,
		    argv + optind + 1, policy != NULL || key != NULL);
	if (argc - optind != 2 || strcmp(argv[optind], "init") != 0)
		return cmd_usage_error(cmd, "expected: store init DIR, or store "
		    "set-trust DIR POLICY...");
	if (store_init(argv[optind + 1], policy, key, (int64_t)time(NULL), &err) != 0)
		return cmd_fail(&err);
	printf("%s: new %s store%s\n", argv[optind + 1],
	    key != NULL ? "origin" : "mirror",
	    policy == NULL ? " (no trust policy yet)" : "");
	return 0;
}

const struct satchel_cmd cmd_store_entry = {
	"store",
	"create a store (an origin's, a school's, a USB drive's library)",
	"usage: satchel store init [--trust POLICY] [--catalog-key KEYFILE] DIR\n"
	"       satchel store set-trust DIR POLICY...\n"
	"\n"
	"Creates a store in DIR (which must not exist or must be empty):\n"
	"objects/ for file contents named by SHA-256, meta/ for the trust policy,\n"
	"the signed catalog and every retained release's signed manifest, tmp/\n"
	"for work in progress, and a lock. protocol/SPEC.md describes the format.\n"
	"\n"
	"With --catalog-key the store is an origin: it accepts `satchel publish`\n"
	"and signs its catalog with that key, which must be a catalog key of\n"
	"the trust policy; the key's path is recorded in DIR/config (keep the\n"
	"key itself outside the store). Without it the store only receives\n"
	"catalogs signed elsewhere.\n"
	"\n"
	"set-trust puts the trust policies POLICY... in force on the store DIR,\n"
	"in order: each must have the serial of the one before (the first, of\n"
	"the store's policy) plus one, and be signed by a threshold of that\n"
	"one's root keys and of its own (see `satchel trust`). Each is kept in\n"
	"meta/trust.d/ for the mirrors that walk the chain; on a refusal the\n"
	"store is unchanged. On an origin the newest policy must list the\n"
	"catalog key of DIR/config (replacing the catalog key: point\n"
	"catalog-key at the new key first), and a catalog it no longer accepts\n"
	"is signed again with that key.\n"
	"\n"
	"Options:\n"
	"  -t, --trust POLICY         the trust policy (see `satchel trust`)\n"
	"  -k, --catalog-key KEYFILE  make an origin signing with this key\n"
	"  -h, --help                 show this help\n"
	"  -V, --version              show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_store
};
