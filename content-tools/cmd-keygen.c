/* cmd-keygen.c: `satchel keygen`, a new Ed25519 signing key pair. */
#include <stdio.h>

#include "crypto.h"
#include "keyfile.h"
#include "satchel.h"

static int
cmd_keygen(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "force",	no_argument,		NULL,	'f' },
		{ "comment",	required_argument,	NULL,	'c' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct privkey			*key = NULL;
	struct pubkey			 pub;
	struct error			 err;
	const char			*comment = NULL;
	int				 opt, force = 0, rc;

	while ((opt = getopt_long(argc, argv, "fc:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			force = 1;
			break;
		case 'c':
			comment = optarg;
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, "expected one KEYFILE");
	if (privkey_generate(&key, &err) != 0)
		return cmd_fail(&err);
	rc = keyfile_write_pair(key, argv[optind], comment, force, &err);
	if (rc == 0) {
		privkey_public(key, &pub);
		printf("%s\n", pub.id);
		fprintf(stderr, "satchel: wrote private key %s (keep it secret) and public key %s.pub\n",
		    argv[optind], argv[optind]);
	}
	privkey_free(key);
	return rc == 0 ? 0 : cmd_fail(&err);
}

const struct satchel_cmd cmd_keygen_entry = {
	"keygen",
	"create an Ed25519 signing key pair",
	"usage: satchel keygen [--force] [--comment TEXT] KEYFILE\n"
	"\n"
	"Creates a new Ed25519 key pair for signing bundles. The private key is\n"
	"written to KEYFILE (PEM, PKCS#8, readable by its owner only: mode 0600)\n"
	"and the public key to KEYFILE.pub as one line:\n"
	"\n"
	"    ed25519 BASE64-OF-32-BYTES [COMMENT]\n"
	"\n"
	"Prints the key id: the first 16 hex digits of the SHA-256 of the raw\n"
	"public key. Signatures and trust policies name keys by this id.\n"
	"\n"
	"Options:\n"
	"  -f, --force          replace KEYFILE and KEYFILE.pub if they exist\n"
	"                       (without it, an existing key is never overwritten)\n"
	"  -c, --comment TEXT   a comment appended to the public key line\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_keygen
};
