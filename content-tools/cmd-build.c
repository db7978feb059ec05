/* cmd-build.c: `satchel build`, a reproducible bundle from a git commit. */
#include <stdio.h>
#include <stdlib.h>

#include "bundle.h"
#include "keyfile.h"
#include "satchel.h"
#include "util.h"

static int
cmd_build(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "rev",	required_argument,	NULL,	'r' },
		{ "key",	required_argument,	NULL,	'k' },
		{ "tag",	no_argument,		NULL,	't' },
		{ "output",	required_argument,	NULL,	'o' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct bundle_build_opts	 o = { ".", "HEAD", NULL, NULL, 0, 0,
					    cmd_progress, NULL };
	struct bundle_report		 rep = { 0 };
	struct error			 err;
	char				**keypaths = NULL;
	size_t				 nkeys = 0, i;
	int				 opt, rc;

	while ((opt = getopt_long(argc, argv, "C:r:k:to:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'C':
			o.repo = optarg;
			break;
		case 'r':
			o.rev = optarg;
			break;
		case 'k':
			keypaths = xreallocarray(keypaths, nkeys + 1, sizeof *keypaths);
			keypaths[nkeys++] = optarg;
			break;
		case 't':
			o.tag = 1;
			break;
		case 'o':
			o.out = optarg;
			break;
		default:
			free(keypaths);
			return cmd_common_option(cmd, opt);
		}
	}
	if (argc != optind) {
		free(keypaths);
		return cmd_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
	}
	if (nkeys > 0 && cmd_load_keys(keypaths, nkeys, &o.keys, &err) != 0) {
		free(keypaths);
		return cmd_fail(&err);
	}
	o.nkeys = nkeys;
	rc = bundle_build(&o, &rep, &err);
	if (rc == 0) {
		const struct manifest	*m = rep.head.manifest;

		printf("%s: %s %s (serial %llu), %zu files, %s, %zu lessons, %s\n",
		    rep.out_path, m->name, m->label, (unsigned long long)m->serial,
		    m->nfiles, cmd_size(m->total_size), m->nlessons,
		    rep.nsigners == 0 ? "unsigned" : "signed by");
		for (i = 0; i < rep.nsigners; i++)
			printf("  %s\n", rep.signers[i]);
		if (o.tag)
			printf("tagged satchel/%llu\n", (unsigned long long)m->serial);
	}
	for (i = 0; i < o.nkeys; i++)
		privkey_free(o.keys[i]);
	free(o.keys);
	free(keypaths);
	bundle_report_free(&rep);
	return rc == 0 ? 0 : cmd_fail(&err);
}

const struct satchel_cmd cmd_build_entry = {
	"build",
	"build a bundle archive from a git commit",
	"usage: satchel build [-C REPO] [--rev REV] [--key KEYFILE]... [--tag]\n"
	"                     [-o OUT]\n"
	"\n"
	"Reads the tree of commit REV of the bundle repository REPO through git\n"
	"(never the working tree: commit first), validates bundle.conf and every\n"
	"lesson, and writes the bundle archive OUT: a pax tar compressed with\n"
	"zstd holding .satchel/MANIFEST, .satchel/SIGNATURES and then every file\n"
	"of the tree in manifest order. Two builds of one commit give identical\n"
	"bytes, whoever runs them, wherever and whenever. OUT appears only when\n"
	"complete.\n"
	"\n"
	"Options:\n"
	"  -C REPO             the repository (default: the current directory)\n"
	"  -r, --rev REV       the commit to build (default: HEAD); any git\n"
	"                      revision: a branch, a tag, a commit id\n"
	"  -k, --key KEYFILE   sign with this private key (repeatable)\n"
	"  -t, --tag           record the release as the annotated tag\n"
	"                      satchel/SERIAL holding the signed manifest; refuses\n"
	"                      a serial not greater than every satchel/* tag\n"
	"  -o, --output OUT    where to write (default: NAME-LABEL.satchel in the\n"
	"                      current directory)\n"
	"  -h, --help          show this help\n"
	"  -V, --version       show the version\n"
	"\n"
	"The repository: bundle.conf at the root (key = value lines, # comments):\n"
	"  name       required; 1-63 of a-z, 0-9, '-'\n"
	"  serial     required; whole number >= 1, greater for every release\n"
	"  label      required; the human version, e.g. 1.2\n"
	"  title      required; language variants as title.zh = ...\n"
	"  language   required; space-separated BCP 47 tags, e.g. \"zh en\"\n"
	"  license    required; an SPDX identifier, e.g. CC-BY-4.0\n"
	"  summary, subjects, audience, level, module, authors: optional\n"
	"Lessons live in lessons/ID/, each with an entry page (index.html unless\n"
	"its lesson.conf says entry = ...) and an optional lesson.conf with title,\n"
	"summary (both with language variants), entry and minutes.\n"
	"The changelog is the subjects of the commits since the previous\n"
	"satchel/* release tag.\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_build
};
