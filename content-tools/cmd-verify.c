/* cmd-verify.c: `satchel verify`, check a bundle archive offline. */
#include <stdio.h>
#include <stdlib.h>

#include "bundle.h"
#include "fsutil.h"
#include "keyfile.h"
#include "satchel.h"
#include "trust.h"
#include "util.h"

static int
cmd_verify(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "pubkey",	required_argument,	NULL,	'p' },
		{ "trust",	required_argument,	NULL,	't' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct bundle_report		 rep = { 0 };
	struct pubkey			*keys = NULL;
	struct trust			*trust = NULL;
	struct error			 err;
	const char			*trustpath = NULL;
	char				*buf = NULL;
	size_t				 nkeys = 0, len, i;
	int				 opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "p:t:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			keys = xreallocarray(keys, nkeys + 1, sizeof *keys);
			if (keyfile_load_public(&keys[nkeys], optarg, &err) != 0) {
				rc = cmd_fail(&err);
				goto out;
			}
			nkeys++;
			break;
		case 't':
			trustpath = optarg;
			break;
		default:
			rc = cmd_common_option(cmd, opt);
			goto out;
		}
	}
	if (argc - optind != 1) {
		rc = cmd_usage_error(cmd, "expected one FILE");
		goto out;
	}
	if (trustpath != NULL) {
		if (file_read_all(&buf, &len, trustpath, TRUST_MAX, &err) != 0 ||
		    trust_parse(&trust, buf, len, trustpath, &err) != 0) {
			rc = cmd_fail(&err);
			goto out;
		}
	}
	if (bundle_verify(argv[optind], keys, nkeys, trust, &rep, &err) != 0) {
		rc = cmd_fail(&err);
		goto out;
	}
	printf("%s: OK %s %s serial %llu, %zu files, %llu bytes, ",
	    argv[optind], rep.head.manifest->name, rep.head.manifest->label,
	    (unsigned long long)rep.head.manifest->serial,
	    rep.head.manifest->nfiles,
	    (unsigned long long)rep.head.manifest->total_size);
	if (nkeys == 0 && trust == NULL)
		printf("integrity only: no signer was checked (give --pubkey or --trust)\n");
	else {
		printf("signed by");
		for (i = 0; i < rep.nsigners; i++)
			printf(" %s", rep.signers[i]);
		printf("\n");
	}
	rc = 0;
out:
	free(buf);
	free(keys);
	trust_free(trust);
	bundle_report_free(&rep);
	return rc;
}

const struct satchel_cmd cmd_verify_entry = {
	"verify",
	"check a bundle archive against its manifest and signatures",
	"usage: satchel verify [--pubkey FILE.pub]... [--trust POLICY] FILE\n"
	"\n"
	"Streams the bundle archive FILE once and checks every file against the\n"
	"signed manifest: missing, extra, duplicated or out-of-order files, sizes,\n"
	"modes and SHA-256 digests; and entries that are not plain files or whose\n"
	"paths are unsafe. Then checks the signatures:\n"
	"\n"
	"  --pubkey   valid when at least one given key signed the manifest and\n"
	"             no signature by a given key fails\n"
	"  --trust    valid when a publisher key of the trust POLICY whose name\n"
	"             patterns cover the bundle's name signed it; the policy must\n"
	"             itself carry a threshold of its root keys' signatures\n"
	"\n"
	"With neither, only the archive's integrity is checked, and the summary\n"
	"says that no signer was checked.\n"
	"\n"
	"On success prints one line: name, label, serial, files, bytes and the\n"
	"key ids that verified. On failure prints the first problem: the file\n"
	"path and what differs, or which key and why.\n"
	"\n"
	"Options:\n"
	"  -p, --pubkey FILE.pub  a public key written by `satchel keygen`\n"
	"                         (repeatable)\n"
	"  -t, --trust POLICY     a signed trust policy file\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Exit status: 0 valid, 1 invalid or unreadable, 2 usage error.\n",
	cmd_verify
};
