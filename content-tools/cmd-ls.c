/* cmd-ls.c: `satchel ls` and `satchel log`, what a store holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "satchel.h"
#include "store.h"
#include "util.h"

static const char *
ls_time(int64_t t)
{
	static char	buf[32];
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return "-";
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

static int
cmd_ls(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "json",	no_argument,	NULL,	'j' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	const struct catalog		*c;
	struct store			*s = NULL;
	struct error			 err;
	json_t				*arr = NULL;
	size_t				 i;
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
		return cmd_usage_error(cmd, "expected one store DIR");
	if (store_open(&s, argv[optind], STORE_READ, &err) != 0)
		return cmd_fail(&err);
	c = store_catalog(s);
	if (json)
		arr = json_array();
	else if (c == NULL || c->n == 0)
		fprintf(stderr, "%s: no bundles\n", argv[optind]);
	else
		printf("%-32s %-10s %7s %10s %7s  %s\n", "NAME", "LABEL", "SERIAL",
		    "SIZE", "LESSONS", "PUBLISHED");
	for (i = 0; c != NULL && i < c->n; i++) {
		const struct catalog_entry	*ce = &c->v[i];
		struct bundle_head		 h;
		uint64_t			 cur;
		int64_t				 t;

		/* A mirror lists what it holds, which may lag the catalog. */
		if ((cur = store_current(s, ce->name)) == 0)
			continue;
		if (store_release_load(s, ce->name, cur, &h, &err) != 0) {
			rc = cmd_fail(&err);
			break;
		}
		t = store_release_time(s, ce->name, cur);
		if (json) {
			json_t	*o = json_object();

			json_object_set_new(o, "name", json_string(ce->name));
			json_object_set_new(o, "label", json_string(h.manifest->label));
			json_object_set_new(o, "serial", json_integer((json_int_t)cur));
			json_object_set_new(o, "title", json_string(
			    meta_get(&h.manifest->meta, "title")));
			json_object_set_new(o, "bytes", json_integer((json_int_t)h.manifest->total_size));
			json_object_set_new(o, "files", json_integer((json_int_t)h.manifest->nfiles));
			json_object_set_new(o, "lessons", json_integer((json_int_t)h.manifest->nlessons));
			json_object_set_new(o, "published", json_integer((json_int_t)t));
			json_array_append_new(arr, o);
		} else
			printf("%-32s %-10s %7llu %10s %7zu  %s\n", ce->name,
			    h.manifest->label, (unsigned long long)cur,
			    cmd_size(h.manifest->total_size), h.manifest->nlessons,
			    ls_time(t));
		bundle_head_free(&h);
	}
	if (json && rc == 0) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(arr);
	store_close(s);
	return rc;
}

static int
cmd_log(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct store			*s = NULL;
	struct error			 err;
	uint64_t			*serials = NULL;
	size_t				 n = 0, i, j;
	int				 opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "hV", opts, NULL)) != -1)
		return cmd_common_option(cmd, opt);
	if (argc - optind != 2)
		return cmd_usage_error(cmd, "expected a store DIR and a bundle NAME");
	if (store_open(&s, argv[optind], STORE_READ, &err) != 0)
		return cmd_fail(&err);
	if (store_release_list(s, argv[optind + 1], &serials, &n, &err) != 0) {
		store_close(s);
		return cmd_fail(&err);
	}
	for (i = 0; i < n; i++) {
		struct bundle_head	h;

		if (store_release_load(s, argv[optind + 1], serials[i], &h, &err) != 0) {
			rc = cmd_fail(&err);
			break;
		}
		printf("%s%s %s (serial %llu), published %s, %zu files, %s\n",
		    i ? "\n" : "", h.manifest->name, h.manifest->label,
		    (unsigned long long)serials[i],
		    ls_time(store_release_time(s, argv[optind + 1], serials[i])),
		    h.manifest->nfiles, cmd_size(h.manifest->total_size));
		printf("  commit %s\n", h.manifest->commit);
		for (j = 0; j < h.manifest->nchangelog; j++)
			printf("  - %s\n", h.manifest->changelog[j]);
		bundle_head_free(&h);
	}
	free(serials);
	store_close(s);
	return rc;
}

const struct satchel_cmd cmd_ls_entry = {
	"ls",
	"list the bundles in a store",
	"usage: satchel ls [--json] DIR\n"
	"\n"
	"Lists every bundle in the store's catalog with its current label,\n"
	"serial, size, lesson count and publication time.\n"
	"\n"
	"Options:\n"
	"  -j, --json      print a JSON array instead of a table\n"
	"  -h, --help      show this help\n"
	"  -V, --version   show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_ls
};

const struct satchel_cmd cmd_log_entry = {
	"log",
	"show a bundle's retained releases and their changelogs",
	"usage: satchel log DIR NAME\n"
	"\n"
	"Shows the releases of bundle NAME that the store retains, newest\n"
	"first, each with its label, serial, publication time, source commit\n"
	"and changelog.\n"
	"\n"
	"Options:\n"
	"  -h, --help      show this help\n"
	"  -V, --version   show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_log
};
