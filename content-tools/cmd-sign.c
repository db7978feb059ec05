/* cmd-sign.c: `satchel sign`, add signatures to a bundle archive. */
#include <stdio.h>
#include <stdlib.h>

#include "bundle.h"
#include "satchel.h"
#include "util.h"

static int
cmd_sign(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "key",	required_argument,	NULL,	'k' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct bundle_report		 rep = { 0 };
	struct privkey			**keys = NULL;
	struct error			 err;
	char				**keypaths = NULL;
	size_t				 nkeys = 0, i;
	int				 opt, rc, changed = 0;

	while ((opt = getopt_long(argc, argv, "k:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			keypaths = xreallocarray(keypaths, nkeys + 1, sizeof *keypaths);
			keypaths[nkeys++] = optarg;
			break;
		default:
			free(keypaths);
			return cmd_common_option(cmd, opt);
		}
	}
	if (nkeys == 0 || argc - optind != 1) {
		free(keypaths);
		return cmd_usage_error(cmd, nkeys == 0 ? "--key KEYFILE is required" :
		    "expected one FILE");
	}
	if (cmd_load_keys(keypaths, nkeys, &keys, &err) != 0) {
		free(keypaths);
		return cmd_fail(&err);
	}
	rc = bundle_sign(argv[optind], keys, nkeys, &changed, &rep, &err);
	if (rc == 0)
		for (i = 0; i < rep.nsigners; i++)
			printf("%s: %s %s\n", argv[optind],
			    changed ? "signed by" : "already signed by", rep.signers[i]);
	for (i = 0; i < nkeys; i++)
		privkey_free(keys[i]);
	free(keys);
	free(keypaths);
	bundle_report_free(&rep);
	return rc == 0 ? 0 : cmd_fail(&err);
}

const struct satchel_cmd cmd_sign_entry = {
	"sign",
	"add a signature to a bundle archive",
	"usage: satchel sign --key KEYFILE [--key KEYFILE]... FILE\n"
	"\n"
	"Signs the exact bytes of FILE's manifest with each Ed25519 private key\n"
	"and writes the signatures into FILE's .satchel/SIGNATURES entry. Every\n"
	"file of the archive is checked against the manifest on the way; a\n"
	"damaged archive is not signed. Several keys may sign one bundle;\n"
	"signing again with a key that already signed changes nothing. The\n"
	"result is byte-identical to `satchel build --key` with the same keys.\n"
	"FILE is replaced atomically.\n"
	"\n"
	"Options:\n"
	"  -k, --key KEYFILE   a private key made by `satchel keygen` (repeatable)\n"
	"  -h, --help          show this help\n"
	"  -V, --version       show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_sign
};
