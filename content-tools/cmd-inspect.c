/* cmd-inspect.c: `satchel inspect`, show what a bundle archive holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bundle.h"
#include "satchel.h"
#include "util.h"

static json_t *
inspect_meta_json(const struct meta *m)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < m->n; i++)
		json_object_set_new(o, m->v[i].key, json_string(m->v[i].value));
	return o;
}

static int
inspect_json(const struct bundle_head *h)
{
	const struct manifest	*m = h->manifest;
	json_t			*root = json_object(), *a;
	char			 hex[SHA256_HEX_LEN + 1];
	size_t			 i;
	int			 rc;

	json_object_set_new(root, "name", json_string(m->name));
	json_object_set_new(root, "serial", json_integer((json_int_t)m->serial));
	json_object_set_new(root, "label", json_string(m->label));
	json_object_set_new(root, "meta", inspect_meta_json(&m->meta));
	json_object_set_new(root, "source_commit", json_string(m->commit));
	json_object_set_new(root, "source_tree", json_string(m->tree));
	json_object_set_new(root, "source_time", json_integer((json_int_t)m->time));
	json_object_set_new(root, "files_count", json_integer((json_int_t)m->nfiles));
	json_object_set_new(root, "bytes", json_integer((json_int_t)m->total_size));
	a = json_array();
	for (i = 0; i < m->nlessons; i++) {
		json_t	*l = json_object();

		json_object_set_new(l, "id", json_string(m->lessons[i].id));
		json_object_set_new(l, "meta", inspect_meta_json(&m->lessons[i].meta));
		json_array_append_new(a, l);
	}
	json_object_set_new(root, "lessons", a);
	a = json_array();
	for (i = 0; i < m->nchangelog; i++)
		json_array_append_new(a, json_string(m->changelog[i]));
	json_object_set_new(root, "changelog", a);
	a = json_array();
	for (i = 0; i < h->sigs.n; i++)
		json_array_append_new(a, json_string(h->sigs.v[i].keyid));
	json_object_set_new(root, "signatures", a);
	a = json_array();
	for (i = 0; i < m->nfiles; i++) {
		json_t	*f = json_object();

		hex_encode(hex, m->files[i].sha256, SHA256_LEN);
		json_object_set_new(f, "path", json_string(m->files[i].path));
		json_object_set_new(f, "mode", json_integer(m->files[i].mode));
		json_object_set_new(f, "size", json_integer((json_int_t)m->files[i].size));
		json_object_set_new(f, "sha256", json_string(hex));
		json_array_append_new(a, f);
	}
	json_object_set_new(root, "files", a);
	rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
	return rc == 0 ? 0 : 1;
}

static void
inspect_text(const struct bundle_head *h)
{
	const struct manifest	*m = h->manifest;
	size_t			 i;

	printf("name:        %s\nlabel:       %s\nserial:      %llu\n", m->name, m->label,
	    (unsigned long long)m->serial);
	for (i = 0; i < m->meta.n; i++)
		printf("%s:%*s %s\n", m->meta.v[i].key,
		    (int)(strlen(m->meta.v[i].key) < 11 ? 11 - strlen(m->meta.v[i].key) : 0),
		    "", m->meta.v[i].value);
	printf("commit:      %s\ntree:        %s\n", m->commit, m->tree);
	printf("size:        %zu files, %s (%llu bytes)\n", m->nfiles,
	    cmd_size(m->total_size), (unsigned long long)m->total_size);
	printf("signers:     ");
	if (h->sigs.n == 0)
		printf("none (unsigned)");
	for (i = 0; i < h->sigs.n; i++)
		printf("%s%s", i ? " " : "", h->sigs.v[i].keyid);
	printf("%s\n", h->sigs.n ? " (not verified here: use satchel verify)" : "");
	printf("\nlessons (%zu):\n", m->nlessons);
	for (i = 0; i < m->nlessons; i++) {
		const struct meta	*lm = &m->lessons[i].meta;
		const char		*min = meta_get(lm, "minutes");

		printf("  %-24s %s%s%s%s\n", m->lessons[i].id, meta_get(lm, "title"),
		    min ? " (" : "", min ? min : "", min ? " min)" : "");
	}
	printf("\nchangelog:\n");
	if (m->nchangelog == 0)
		printf("  (none)\n");
	for (i = 0; i < m->nchangelog; i++)
		printf("  - %s\n", m->changelog[i]);
	printf("\nfiles:\n");
	for (i = 0; i < m->nfiles; i++)
		printf("  %o %10llu  %s\n", m->files[i].mode,
		    (unsigned long long)m->files[i].size, m->files[i].path);
}

static int
cmd_inspect(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "json",	no_argument,	NULL,	'j' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct bundle_head		 h;
	struct error			 err;
	int				 opt, json = 0, rc = 0;

	while ((opt = getopt_long(argc, argv, "jhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, "expected one FILE");
	if (bundle_read_head(argv[optind], &h, &err) != 0)
		return cmd_fail(&err);
	if (json)
		rc = inspect_json(&h);
	else
		inspect_text(&h);
	bundle_head_free(&h);
	return rc;
}

const struct satchel_cmd cmd_inspect_entry = {
	"inspect",
	"show a bundle's metadata, lessons, sizes, signers and changelog",
	"usage: satchel inspect [--json] FILE\n"
	"\n"
	"Reads the manifest and signature block at the head of the bundle\n"
	"archive FILE (without reading the files that follow) and prints its\n"
	"metadata with every language variant, its lessons, file sizes, the key\n"
	"ids of its signers and its changelog. Signatures are listed, not\n"
	"checked: use `satchel verify` for that.\n"
	"\n"
	"Options:\n"
	"  -j, --json      print one JSON object instead of text\n"
	"  -h, --help      show this help\n"
	"  -V, --version   show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_inspect
};
