/* cmd-report.c: `satchel report`, the web library's usage over a period
 * (views and downloads per bundle and lesson) from a store's day files,
 * as a table, CSV or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "satchel.h"
#include "stats.h"
#include "store.h"
#include "util.h"

enum report_format {
	REPORT_TABLE,
	REPORT_CSV,
	REPORT_JSON
};

/* A bundle the store holds, with its current release for titles. */
struct report_release {
	const char		*name;		/* the catalog's */
	struct bundle_head	 h;
};

struct report_totals {
	uint64_t	bundle_views;
	uint64_t	bundle_downloads;
	uint64_t	lesson_views;
	uint64_t	lesson_downloads;
};

static uint64_t
report_add(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static const struct manifest *
report_manifest(const struct report_release *rel, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(rel[i].name, name) == 0)
			return rel[i].h.manifest;
	return NULL;
}

/* The title of bundle name (lesson NULL) or of its lesson in the store's
 * current release; NULL if the store does not hold it (any more). */
static const char *
report_title(const struct manifest *m, const char *lesson)
{
	size_t	i;

	if (m == NULL)
		return NULL;
	if (lesson == NULL)
		return meta_get(&m->meta, "title");
	for (i = 0; i < m->nlessons; i++)
		if (strcmp(m->lessons[i].id, lesson) == 0)
			return meta_get(&m->lessons[i].meta, "title");
	return NULL;
}

static void
report_table(const struct stats_report *r, const struct report_release *rel,
    size_t nrel, const char *storedir, const char *since, const char *until,
    const struct report_totals *t)
{
	size_t	i, j;

	printf("Usage of the web library of %s\n", storedir);
	printf("Period: %s to %s (UTC days)", since != NULL ? since :
	    r->ndays > 0 ? r->first : "the first day recorded",
	    until != NULL ? until : r->ndays > 0 ? r->last :
	    "the last day recorded");
	printf(", counts recorded on %zu day%s\n", r->ndays,
	    r->ndays == 1 ? "" : "s");
	printf("Bundle lines: bundle page views and whole-bundle downloads;\n"
	    "lesson lines: lesson page views and lesson downloads.\n\n");
	printf("%12s %12s  %s\n", "VIEWS", "DOWNLOADS", "BUNDLE / LESSON");
	for (i = 0; i < r->nbundles; i++) {
		const struct stats_bundle_count	*b = &r->bundles[i];
		const struct manifest		*m;
		const char			*title;

		m = report_manifest(rel, nrel, b->name);
		title = report_title(m, NULL);
		printf("%12llu %12llu  %s%s%s\n", (unsigned long long)b->views,
		    (unsigned long long)b->downloads, b->name,
		    title != NULL ? ": " : "", title != NULL ? title : "");
		for (j = 0; j < b->nlessons; j++) {
			const struct stats_lesson_count	*l = &b->lessons[j];

			title = report_title(m, l->id);
			printf("%12llu %12llu    %s%s%s\n",
			    (unsigned long long)l->views,
			    (unsigned long long)l->downloads, l->id,
			    title != NULL ? ": " : "",
			    title != NULL ? title : "");
		}
	}
	printf("\nTotals:\n");
	printf("%12llu  bundle page views\n",
	    (unsigned long long)t->bundle_views);
	printf("%12llu  whole-bundle downloads\n",
	    (unsigned long long)t->bundle_downloads);
	printf("%12llu  lesson page views\n",
	    (unsigned long long)t->lesson_views);
	printf("%12llu  lesson downloads\n",
	    (unsigned long long)t->lesson_downloads);
}

/*
 * RFC 4180: CRLF line ends and a header row. Bundle names and lesson ids
 * are [a-z0-9._-] only (checked when the day files are read, and by the
 * manifest parser), so no field ever needs quoting.
 */
static void
report_csv(const struct stats_report *r)
{
	size_t	i, j;

	printf("bundle,lesson,views,downloads\r\n");
	for (i = 0; i < r->nbundles; i++) {
		const struct stats_bundle_count	*b = &r->bundles[i];

		printf("%s,,%llu,%llu\r\n", b->name,
		    (unsigned long long)b->views,
		    (unsigned long long)b->downloads);
		for (j = 0; j < b->nlessons; j++)
			printf("%s,%s,%llu,%llu\r\n", b->name, b->lessons[j].id,
			    (unsigned long long)b->lessons[j].views,
			    (unsigned long long)b->lessons[j].downloads);
	}
}

/* Counts in JSON: day files hold at most 2^63 - 1 each, a sum may not. */
static json_t *
report_json_count(uint64_t n)
{
	return json_integer(n > INT64_MAX ? INT64_MAX : (json_int_t)n);
}

static void
report_json_counts(json_t *o, uint64_t views, uint64_t downloads)
{
	json_object_set_new(o, "views", report_json_count(views));
	json_object_set_new(o, "downloads", report_json_count(downloads));
}

static json_t *
report_json_day(const char *day)
{
	return day != NULL && day[0] != '\0' ? json_string(day) : json_null();
}

static void
report_json(const struct stats_report *r, const struct report_release *rel,
    size_t nrel, const char *storedir, const char *since, const char *until,
    const struct report_totals *t)
{
	json_t		*root = json_object(), *arr = json_array(), *o, *lo, *la;
	json_t		*sa = json_array();
	size_t		 i, j;

	json_object_set_new(root, "store", json_string(storedir));
	json_object_set_new(root, "since", report_json_day(since));
	json_object_set_new(root, "until", report_json_day(until));
	json_object_set_new(root, "first_day", report_json_day(r->first));
	json_object_set_new(root, "last_day", report_json_day(r->last));
	json_object_set_new(root, "days", json_integer((json_int_t)r->ndays));
	for (i = 0; i < r->nbundles; i++) {
		const struct stats_bundle_count	*b = &r->bundles[i];
		const struct manifest		*m;
		const char			*title;

		m = report_manifest(rel, nrel, b->name);
		o = json_object();
		json_object_set_new(o, "name", json_string(b->name));
		if ((title = report_title(m, NULL)) != NULL)
			json_object_set_new(o, "title", json_string(title));
		report_json_counts(o, b->views, b->downloads);
		la = json_array();
		for (j = 0; j < b->nlessons; j++) {
			lo = json_object();
			json_object_set_new(lo, "id",
			    json_string(b->lessons[j].id));
			if ((title = report_title(m, b->lessons[j].id)) != NULL)
				json_object_set_new(lo, "title",
				    json_string(title));
			report_json_counts(lo, b->lessons[j].views,
			    b->lessons[j].downloads);
			json_array_append_new(la, lo);
		}
		json_object_set_new(o, "lessons", la);
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "bundles", arr);
	o = json_object();
	json_object_set_new(o, "bundle_views", report_json_count(t->bundle_views));
	json_object_set_new(o, "bundle_downloads",
	    report_json_count(t->bundle_downloads));
	json_object_set_new(o, "lesson_views", report_json_count(t->lesson_views));
	json_object_set_new(o, "lesson_downloads",
	    report_json_count(t->lesson_downloads));
	json_object_set_new(root, "totals", o);
	for (i = 0; i < r->nset_aside; i++)
		json_array_append_new(sa, json_string(r->set_aside[i]));
	json_object_set_new(root, "set_aside", sa);
	json_dumpf(root, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(root);
}

/*
 * Why the store is opened: the report lists every bundle and lesson the
 * store holds now, those never used included (a zero is worth reporting),
 * and gives them their titles. Opened for reading: no lock is taken, so a
 * report never waits for (or delays) a pull.
 */
static int
report_run(const char *storedir, const char *since, const char *until,
    enum report_format fmt)
{
	struct report_release	*rel = NULL;
	struct report_totals	 t;
	struct stats_report	*r = NULL;
	const struct catalog	*c;
	struct store		*s = NULL;
	struct error		 err;
	size_t			 nrel = 0, i, j;
	uint64_t		 cur;
	int			 rc = 0;

	memset(&t, 0, sizeof t);
	if ((rc = store_open(&s, storedir, STORE_READ, &err)) != 0 ||
	    (rc = stats_load(storedir, since, until, &r, &err)) != 0) {
		rc = cmd_fail(&err);
		goto out;
	}
	c = store_catalog(s);
	rel = xcalloc(c != NULL && c->n > 0 ? c->n : 1, sizeof *rel);
	for (i = 0; c != NULL && i < c->n; i++) {
		const struct manifest	*m;

		if ((cur = store_current(s, c->v[i].name)) == 0)
			continue;	/* a mirror that does not follow it */
		(void)stats_report_ensure(r, c->v[i].name, NULL);
		if (store_release_load(s, c->v[i].name, cur, &rel[nrel].h,
		    &err) != 0) {
			/* Titles are a courtesy: the counts still stand. */
			fprintf(stderr, "satchel report: %s; %s is shown without "
			    "titles or its lessons never used\n", err.msg,
			    c->v[i].name);
			continue;
		}
		rel[nrel].name = c->v[i].name;
		m = rel[nrel++].h.manifest;
		for (j = 0; j < m->nlessons; j++)
			(void)stats_report_ensure(r, m->name, m->lessons[j].id);
	}
	for (i = 0; i < r->nbundles; i++) {
		const struct stats_bundle_count	*b = &r->bundles[i];

		t.bundle_views = report_add(t.bundle_views, b->views);
		t.bundle_downloads = report_add(t.bundle_downloads,
		    b->downloads);
		for (j = 0; j < b->nlessons; j++) {
			t.lesson_views = report_add(t.lesson_views,
			    b->lessons[j].views);
			t.lesson_downloads = report_add(t.lesson_downloads,
			    b->lessons[j].downloads);
		}
	}
	if (r->ndays == 0)
		fprintf(stderr, "satchel report: %s: no usage counts recorded %s; "
		    "every count is 0\n", storedir, since != NULL ||
		    until != NULL ? "in this period" : "yet");
	for (i = 0; i < r->nset_aside; i++)
		fprintf(stderr, "satchel report: note: %s is a day file set "
		    "aside as unreadable; its counts are not included\n",
		    r->set_aside[i]);
	switch (fmt) {
	case REPORT_TABLE:
		report_table(r, rel, nrel, storedir, since, until, &t);
		break;
	case REPORT_CSV:
		report_csv(r);
		break;
	case REPORT_JSON:
		report_json(r, rel, nrel, storedir, since, until, &t);
		break;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "satchel report: cannot write the report\n");
		rc = 1;
	}
out:
	for (i = 0; i < nrel; i++)
		bundle_head_free(&rel[i].h);
	free(rel);
	stats_report_free(r);
	store_close(s);
	return rc;
}

static int
cmd_report(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "store",	required_argument,	NULL,	's' },
		{ "since",	required_argument,	NULL,	'S' },
		{ "until",	required_argument,	NULL,	'U' },
		{ "csv",	no_argument,		NULL,	'c' },
		{ "json",	no_argument,		NULL,	'j' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	enum report_format		 fmt = REPORT_TABLE;
	const char			*storedir = NULL, *since = NULL;
	const char			*until = NULL;
	int32_t				 lo, hi;
	int				 opt, nfmt = 0;

	while ((opt = getopt_long(argc, argv, "s:cjhV", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			storedir = optarg;
			break;
		case 'S':
			since = optarg;
			break;
		case 'U':
			until = optarg;
			break;
		case 'c':
			fmt = REPORT_CSV;
			nfmt++;
			break;
		case 'j':
			fmt = REPORT_JSON;
			nfmt++;
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (argc - optind != 0)
		return cmd_usage_error(cmd, "unexpected argument \"%s\" (the "
		    "store is given with --store DIR)", argv[optind]);
	if (storedir == NULL)
		return cmd_usage_error(cmd, "--store DIR is required");
	if (nfmt > 1)
		return cmd_usage_error(cmd, "--csv and --json go alone: give one");
	if (since != NULL && stats_day_parse(since, &lo) != 0)
		return cmd_usage_error(cmd, "--since \"%s\": not a day; expected "
		    "YYYY-MM-DD, a real date from 1970-01-01 on", since);
	if (until != NULL && stats_day_parse(until, &hi) != 0)
		return cmd_usage_error(cmd, "--until \"%s\": not a day; expected "
		    "YYYY-MM-DD, a real date from 1970-01-01 on", until);
	if (since != NULL && until != NULL && lo > hi)
		return cmd_usage_error(cmd, "--since %s is after --until %s",
		    since, until);
	return report_run(storedir, since, until, fmt);
}

const struct satchel_cmd cmd_report_entry = {
	"report",
	"usage of the web library over a period: views and downloads",
	"usage: satchel report --store DIR [--since YYYY-MM-DD]\n"
	"                      [--until YYYY-MM-DD] [--csv | --json]\n"
	"\n"
	"Sums the usage counts that satcheld's web library keeps in the store\n"
	"DIR (stats/, one file per UTC day) over a period, for each bundle and\n"
	"each of its lessons: for a bundle, its page's views and downloads of\n"
	"the whole bundle; for a lesson, views of its page and downloads of\n"
	"the lesson. Counts only: nothing in them identifies a learner (no\n"
	"address, no browser, no time finer than the day), so the report can\n"
	"be handed on as it is, for an annual evaluation of learning activity.\n"
	"\n"
	"Every bundle and lesson the store holds now is listed, with its title\n"
	"from the current release, those never used with 0; so is anything\n"
	"counted earlier that the store no longer holds, under its name. A\n"
	"store with no counts in the period gives zeros and a note on stderr,\n"
	"not an error. A day file that satcheld set aside as unreadable\n"
	"(stats/DAY.json.bad-N) is named on stderr and not counted; a day file\n"
	"in the period that cannot be read is an error naming the file. A\n"
	"release the store cannot read is named on stderr; the counts stand.\n"
	"\n"
	"The report only reads: it takes no lock, and may run while satcheld\n"
	"serves and pulls.\n"
	"\n"
	"Options:\n"
	"  -s, --store DIR          the store (required)\n"
	"      --since YYYY-MM-DD   from this UTC day on (default: the first\n"
	"                           day recorded)\n"
	"      --until YYYY-MM-DD   up to and including this UTC day (default:\n"
	"                           the last day recorded)\n"
	"  -c, --csv                CSV (RFC 4180, CRLF line ends) with the\n"
	"                           header bundle,lesson,views,downloads; the\n"
	"                           lesson is empty on a bundle's own line\n"
	"  -j, --json               one JSON document: the period, each bundle\n"
	"                           with its title, counts and lessons, and the\n"
	"                           totals\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n"
	"\n"
	"The default is a table: the period, one line per bundle followed by\n"
	"its lessons (VIEWS, DOWNLOADS, name: title), then the totals.\n"
	"\n"
	"Examples:\n"
	"  satchel report --store /srv/school --since 2026-01-01 --until 2026-12-31\n"
	"  satchel report --store /srv/school --since 2026-09-01 --csv > autumn.csv\n"
	"\n"
	"Exit status: 0 success, 1 failure (an unreadable store or day file),\n"
	"2 usage error (a bad option or date).\n",
	cmd_report
};
