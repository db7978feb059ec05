/* cmd-ls.c: `satchel ls` and `satchel log`, what a store holds, and
 * `satchel ls satchel://HOST:PORT`, what a satcheld's catalog names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "satchel.h"
#include "store.h"
#include "sync-client.h"
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

/*
 * Why each release is fetched: the catalog holds names, serials, pins and
 * sizes only; label, title and lessons are in the signed manifests, which
 * are checked against the catalog's pin (and so against its signature)
 * before anything of them is shown. A server that lacks one (a mirror
 * following some bundles) shows "-".
 */
static int
ls_remote_release(struct sync_client *net, const struct catalog_entry *ce,
    struct bundle_head *h, int *have, struct error *err)
{
	char		*name, *data = NULL;
	size_t		 len;
	uint8_t		 status, pin[SHA256_LEN];
	int		 rc;

	*have = 0;
	name = xasprintf("%s@%llu", ce->name, (unsigned long long)ce->serial);
	rc = sync_client_get_meta(net, MSG_ROLE_RELEASE, name, NULL, &data,
	    &len, &status, err);
	if (rc == 0 && status == MSG_STATUS_OK) {
		char	*what = xasprintf("%s %s", sync_client_url(net), name);

		rc = store_signed_parse(data, len, what, h, err);
		if (rc == 0) {
			sha256(h->manifest_buf, h->manifest_len, pin);
			if (memcmp(pin, ce->manifest_sha256, SHA256_LEN) != 0) {
				rc = error_set(err, SATCHEL_EVERIFY, "%s: the "
				    "manifest is not the one the catalog pins",
				    what);
				bundle_head_free(h);
			} else
				*have = 1;
		}
		free(what);
	}
	free(data);
	free(name);
	return rc;
}

/* `satchel ls satchel://HOST:PORT`: the remote catalog, verified. */
static int
ls_remote(const char *url, const char *storedir, int json)
{
	struct sync_client	*net = NULL;
	struct store		*s = NULL;
	struct catalog		*cat = NULL;
	struct trust		*rtrust = NULL;
	const struct trust	*trust;
	struct error		 err;
	json_t			*arr = NULL;
	char			*data = NULL;
	size_t			 len, i;
	uint8_t			 status;
	int			 rc;

	if (storedir != NULL) {
		if ((rc = store_open(&s, storedir, STORE_READ, &err)) != 0)
			goto out;
		if (store_trust(s) == NULL) {
			rc = error_set(&err, SATCHEL_EINVALID, "%s: the store "
			    "has no trust policy to check %s against", storedir,
			    url);
			goto out;
		}
	}
	if ((rc = sync_client_open(&net, url, &err)) != 0)
		goto out;
	if ((rc = sync_client_get_meta(net, MSG_ROLE_CATALOG, "", NULL, &data,
	    &len, &status, &err)) != 0)
		goto out;
	if (status != MSG_STATUS_OK) {
		rc = error_set(&err, SATCHEL_ENOTFOUND, "%s: the server has no "
		    "catalog (nothing published)", url);
		goto out;
	}
	if ((rc = catalog_parse(&cat, data, len, url, &err)) != 0)
		goto out;
	free(data);
	data = NULL;
	if (s != NULL)
		trust = store_trust(s);
	else {
		if ((rc = sync_client_get_meta(net, MSG_ROLE_TRUST, "", NULL,
		    &data, &len, &status, &err)) != 0)
			goto out;
		if (status != MSG_STATUS_OK) {
			rc = error_set(&err, SATCHEL_ENOTFOUND, "%s: the server "
			    "has no trust policy to check its catalog with; "
			    "give --store DIR", url);
			goto out;
		}
		if ((rc = trust_parse(&rtrust, data, len, url, &err)) != 0)
			goto out;
		trust = rtrust;
	}
	/* An expired catalog is still worth listing; it is said. */
	if ((rc = catalog_check(cat, trust, (int64_t)time(NULL), 1, url,
	    &err)) != 0)
		goto out;
	fprintf(stderr, "%s: catalog serial %llu, checked against %s%s%s\n",
	    url, (unsigned long long)cat->serial, s != NULL ?
	    "the trust policy of " : "the trust policy the server itself "
	    "serves (trust on first use; give --store DIR to check against "
	    "yours)", s != NULL ? storedir : "",
	    (int64_t)time(NULL) >= cat->expires ? "; EXPIRED" : "");
	if (json)
		arr = json_array();
	else if (cat->n == 0)
		fprintf(stderr, "%s: no bundles\n", url);
	else
		printf("%-32s %-10s %7s %10s %7s  %s\n", "NAME", "LABEL",
		    "SERIAL", "SIZE", "LESSONS", "TITLE");
	for (i = 0; i < cat->n; i++) {
		const struct catalog_entry	*ce = &cat->v[i];
		struct bundle_head		 h;
		const char			*title = NULL;
		int				 have;

		memset(&h, 0, sizeof h);
		if ((rc = ls_remote_release(net, ce, &h, &have, &err)) != 0)
			goto out;
		if (have)
			title = meta_get(&h.manifest->meta, "title");
		if (json) {
			json_t	*o = json_object();

			json_object_set_new(o, "name", json_string(ce->name));
			json_object_set_new(o, "serial",
			    json_integer((json_int_t)ce->serial));
			json_object_set_new(o, "bytes",
			    json_integer((json_int_t)ce->size));
			if (have) {
				json_object_set_new(o, "label",
				    json_string(h.manifest->label));
				json_object_set_new(o, "title",
				    json_string(title));
				json_object_set_new(o, "files", json_integer(
				    (json_int_t)h.manifest->nfiles));
				json_object_set_new(o, "lessons", json_integer(
				    (json_int_t)h.manifest->nlessons));
			}
			json_array_append_new(arr, o);
		} else if (have)
			printf("%-32s %-10s %7llu %10s %7zu  %s\n", ce->name,
			    h.manifest->label, (unsigned long long)ce->serial,
			    cmd_size(ce->size), h.manifest->nlessons,
			    title != NULL ? title : "-");
		else
			printf("%-32s %-10s %7llu %10s %7s  %s\n", ce->name,
			    "-", (unsigned long long)ce->serial,
			    cmd_size(ce->size), "-", "-");
		bundle_head_free(&h);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
out:
	json_decref(arr);
	free(data);
	catalog_free(cat);
	trust_free(rtrust);
	sync_client_close(net);
	store_close(s);
	return rc == 0 ? 0 : cmd_fail(&err);
}

static int
cmd_ls(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "json",	no_argument,	NULL,	'j' },
		{ "store",	required_argument,	NULL,	's' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	const struct catalog		*c;
	struct store			*s = NULL;
	struct error			 err;
	json_t				*arr = NULL;
	const char			*storedir = NULL;
	size_t				 i;
	int				 opt, json = 0, rc = 0;

	while ((opt = getopt_long(argc, argv, "js:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 's':
			storedir = optarg;
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, "expected one store DIR or "
		    "satchel://HOST:PORT");
	if (sync_client_is_url(argv[optind]))
		return ls_remote(argv[optind], storedir, json);
	if (storedir != NULL)
		return cmd_usage_error(cmd, "--store goes with a "
		    "satchel://HOST:PORT only");
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
	"list the bundles in a store, or in a satcheld's catalog",
	"usage: satchel ls [--json] DIR\n"
	"       satchel ls [--json] [--store DIR] satchel://HOST:PORT\n"
	"\n"
	"Lists every bundle in the store's catalog with its current label,\n"
	"serial, size, lesson count and publication time.\n"
	"\n"
	"Given satchel://HOST:PORT, asks that satcheld for its catalog and\n"
	"lists the bundles it names, with serial, size, and the label, lesson\n"
	"count and title of each current release (\"-\" for one the server\n"
	"does not hold). The catalog's signature is checked before anything\n"
	"is shown: against the trust policy of the store DIR with --store, or\n"
	"else against the trust policy the server itself serves, which proves\n"
	"only that the server is consistent (trust on first use); the check\n"
	"used is printed on stderr, and so is an expired catalog. Each\n"
	"release's manifest must be the one the catalog pins.\n"
	"\n"
	"Options:\n"
	"  -j, --json        print a JSON array instead of a table\n"
	"  -s, --store DIR   with satchel://: check the catalog against this\n"
	"                    store's trust policy\n"
	"  -h, --help        show this help\n"
	"  -V, --version     show the version\n"
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
