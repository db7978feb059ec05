/*
 * test-stats.c: the usage counters (lib/stats.c): days, counting and the
 * cumulative totals, two threads counting at once, flushing into day
 * files (merging with what is there, two flushes, a day boundary, a
 * corrupt file set aside, a failed flush keeping its counts), the cap on
 * distinct pairs, and summing day files over a period with what the
 * reader refuses. Each test has a private mkdtemp store directory.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "fsutil.h"
#include "stats.h"
#include "util.h"

#define DAY0	"2026-11-28"
#define T0	1795824000		/* 2026-11-28 00:00:00 UTC */
#define DAYNO0	20785

struct fixture {
	char	dir[256];		/* the "store" */
	char	statsdir[300];
};

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof *f);
	const char	*tmp = getenv("TMPDIR");

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(f->dir, sizeof f->dir, "%s/test-stats.XXXXXX", tmp);
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->statsdir, sizeof f->statsdir, "%s/stats", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	int		 rc;

	rc = nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return rc;
}

/* Writes text as stats/NAME (making stats/). */
static void
put_file(const struct fixture *f, const char *name, const char *text)
{
	struct error	 err;
	char		*p = xasprintf("%s/%s", f->statsdir, name);

	if (mkdir(f->statsdir, 0755) == -1 && errno != EEXIST)
		fail_msg("mkdir %s: %s", f->statsdir, strerror(errno));
	if (file_write_atomic(p, text, strlen(text), 0644, &err) != 0)
		fail_msg("%s", err.msg);
	free(p);
}

static char *
get_file(const struct fixture *f, const char *name)
{
	struct error	 err;
	char		*p = xasprintf("%s/%s", f->statsdir, name), *buf = NULL;
	size_t		 len;

	if (file_read_all(&buf, &len, p, 1 << 24, &err) != 0)
		buf = NULL;
	free(p);
	return buf;
}

static int
exists(const struct fixture *f, const char *name)
{
	struct stat	 sb;
	char		*p = xasprintf("%s/%s", f->statsdir, name);
	int		 rc = stat(p, &sb) == 0;

	free(p);
	return rc;
}

/* A day file with one bundle line and one lesson line. */
static char *
day_text(const char *day, const char *bundle, int bv, int bd,
    const char *lesson, int lv, int ld)
{
	return xasprintf("{\"format\": 1, \"day\": \"%s\", \"bundles\": "
	    "{\"%s\": {\"views\": %d, \"downloads\": %d, \"lessons\": "
	    "{\"%s\": {\"views\": %d, \"downloads\": %d}}}}}\n", day, bundle,
	    bv, bd, lesson, lv, ld);
}

static const struct stats_bundle_count *
find_bundle(const struct stats_report *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->nbundles; i++)
		if (strcmp(r->bundles[i].name, name) == 0)
			return &r->bundles[i];
	return NULL;
}

static const struct stats_lesson_count *
find_lesson(const struct stats_report *r, const char *name, const char *id)
{
	const struct stats_bundle_count	*b = find_bundle(r, name);
	size_t				 i;

	for (i = 0; b != NULL && i < b->nlessons; i++)
		if (strcmp(b->lessons[i].id, id) == 0)
			return &b->lessons[i];
	return NULL;
}

static struct stats_report *
load_ok(const struct fixture *f, const char *since, const char *until)
{
	struct stats_report	*r = NULL;
	struct error		 err;

	if (stats_load(f->dir, since, until, &r, &err) != 0)
		fail_msg("stats_load: %s", err.msg);
	return r;
}

/* Loads and checks the counts of bundle (lesson NULL) or its lesson. */
static void
assert_counts(const struct stats_report *r, const char *bundle,
    const char *lesson, uint64_t views, uint64_t downloads)
{
	const struct stats_bundle_count	*b = find_bundle(r, bundle);
	const struct stats_lesson_count	*l;

	assert_non_null(b);
	if (lesson == NULL) {
		assert_int_equal(b->views, views);
		assert_int_equal(b->downloads, downloads);
		return;
	}
	l = find_lesson(r, bundle, lesson);
	assert_non_null(l);
	assert_int_equal(l->views, views);
	assert_int_equal(l->downloads, downloads);
}

/* --- days --- */

static void
test_day_parse(void **state)
{
	char	buf[STATS_DAY_LEN + 1];
	int32_t	d;

	(void)state;
	assert_int_equal(stats_day_parse(DAY0, &d), 0);
	assert_int_equal(d, DAYNO0);
	assert_int_equal(stats_day_parse("1970-01-01", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(stats_day_parse("2024-02-29", &d), 0);
	assert_int_equal(stats_day_parse("9999-12-31", &d), 0);
	assert_int_equal(d, 2932896);
	stats_day_format(DAYNO0, buf);
	assert_string_equal(buf, DAY0);
	stats_day_format(d, buf);
	assert_string_equal(buf, "9999-12-31");
}

static void
test_day_parse_refuses(void **state)
{
	static const char	*bad[] = { "2025-02-29", "2026-02-30",
				    "2026-13-01", "2026-00-10", "2026-11-00",
				    "2026-11-31", "1969-12-31", "2026-1-01",
				    "2026-11-28x", "2026/11/28", "26-11-28",
				    "", "+026-11-28", "2026-11-2 ", NULL };
	int32_t			 d;
	size_t			 i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++)
		if (stats_day_parse(bad[i], &d) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(stats_day_parse(NULL, &d), -1);
}

/* --- counting --- */

struct line {
	char		 text[200];
};

struct lines {
	struct line	 v[64];
	size_t		 n;
};

static void
collect_cb(void *arg, const char *bundle, const char *lesson, uint64_t views,
    uint64_t downloads)
{
	struct lines	*l = arg;

	if (l->n < 64)
		snprintf(l->v[l->n++].text, sizeof l->v[0].text, "%s %s %llu %llu",
		    bundle, lesson != NULL ? lesson : "-",
		    (unsigned long long)views, (unsigned long long)downloads);
}

static void
test_count_and_foreach(void **state)
{
	struct stats	*s = stats_new();
	struct lines	 l;

	(void)state;
	memset(&l, 0, sizeof l);
	stats_count(s, T0, "beta", NULL, STATS_VIEW);
	stats_count(s, T0 + 10, "beta", NULL, STATS_VIEW);
	stats_count(s, T0 + 20, "beta", NULL, STATS_DOWNLOAD);
	stats_count(s, T0, "beta", "02-two", STATS_DOWNLOAD);
	stats_count(s, T0, "beta", "01-one", STATS_VIEW);
	stats_count(s, T0 + 86400, "beta", "01-one", STATS_VIEW); /* next day */
	stats_count(s, T0, "alpha", "01-a", STATS_VIEW);	/* lessons only */
	stats_foreach(s, collect_cb, &l);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.v[0].text, "alpha - 0 0");
	assert_string_equal(l.v[1].text, "alpha 01-a 1 0");
	assert_string_equal(l.v[2].text, "beta - 2 1");
	assert_string_equal(l.v[3].text, "beta 01-one 2 0");
	assert_string_equal(l.v[4].text, "beta 02-two 0 1");
	assert_int_equal(stats_dropped(s), 0);
	stats_free(s);
}

static void
test_count_drops_bad_input(void **state)
{
	struct stats	*s = stats_new();
	struct lines	 l;

	(void)state;
	memset(&l, 0, sizeof l);
	stats_count(s, T0, NULL, NULL, STATS_VIEW);
	stats_count(s, T0, "Bad Name", NULL, STATS_VIEW);
	stats_count(s, T0, "../etc", NULL, STATS_VIEW);
	stats_count(s, T0, "ok", "../x", STATS_VIEW);
	stats_count(s, T0, "ok", "", STATS_VIEW);
	stats_count(s, T0, "ok", "has\"quote", STATS_VIEW);
	stats_count(s, -1, "ok", NULL, STATS_VIEW);
	stats_count(s, 253402300800LL, "ok", NULL, STATS_VIEW); /* year 10000 */
	stats_count(s, T0, "ok", NULL, (enum stats_what)7);
	stats_foreach(s, collect_cb, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(stats_dropped(s), 9);
	stats_free(s);
}

#define THREAD_N	50000

static void *
count_thread(void *arg)
{
	struct stats	*s = arg;
	int		 i;

	for (i = 0; i < THREAD_N; i++) {
		stats_count(s, T0 + i % 7, "shared", NULL, STATS_VIEW);
		stats_count(s, T0, "shared", i % 2 ? "01-a" : "02-b",
		    STATS_DOWNLOAD);
	}
	return NULL;
}

/* Two threads counting while a third flushes: nothing lost or doubled. */
static void
test_threads(void **state)
{
	struct fixture		*f = *state;
	struct stats		*s = stats_new();
	struct stats_report	*r;
	struct error		 err;
	struct lines		 l;
	pthread_t		 a, b;
	int			 i;

	memset(&l, 0, sizeof l);
	assert_int_equal(pthread_create(&a, NULL, count_thread, s), 0);
	assert_int_equal(pthread_create(&b, NULL, count_thread, s), 0);
	for (i = 0; i < 20; i++) {
		if (stats_flush(s, f->dir, &err) != 0)
			fail_msg("flush: %s", err.msg);
		usleep(2000);
	}
	assert_int_equal(pthread_join(a, NULL), 0);
	assert_int_equal(pthread_join(b, NULL), 0);
	assert_int_equal(stats_flush(s, f->dir, &err), 0);
	stats_foreach(s, collect_cb, &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].text, "shared - 100000 0");
	assert_string_equal(l.v[1].text, "shared 01-a 0 50000");
	assert_string_equal(l.v[2].text, "shared 02-b 0 50000");
	r = load_ok(f, NULL, NULL);
	assert_counts(r, "shared", NULL, 2 * THREAD_N, 0);
	assert_counts(r, "shared", "01-a", 0, THREAD_N);
	assert_counts(r, "shared", "02-b", 0, THREAD_N);
	stats_report_free(r);
	stats_free(s);
}

static void
test_cap(void **state)
{
	struct stats	*s = stats_new();
	char		 id[16];
	size_t		 n = 0;
	int		 i;

	(void)state;
	for (i = 0; i < STATS_KEYS_MAX + 5; i++) {
		snprintf(id, sizeof id, "l%05d", i);
		stats_count(s, T0, "big", id, STATS_VIEW);
	}
	assert_int_equal(stats_dropped(s), 5);
	/* A pair already counted still counts when the table is full. */
	stats_count(s, T0, "big", "l00000", STATS_VIEW);
	stats_count(s, T0, "other", NULL, STATS_VIEW);
	assert_int_equal(stats_dropped(s), 6);
	{
		struct lines	l;

		memset(&l, 0, sizeof l);
		stats_foreach(s, collect_cb, &l);
		/* the bundle line first (zeros), then the first lessons */
		assert_string_equal(l.v[0].text, "big - 0 0");
		assert_string_equal(l.v[1].text, "big l00000 2 0");
		n = l.n;
	}
	assert_int_equal(n, 64);		/* collect_cb keeps 64 */
	stats_free(s);
}

/* --- flushing --- */

static void
test_flush_writes_day_file(void **state)
{
	struct fixture		*f = *state;
	struct stats		*s = stats_new();
	struct stats_report	*r;
	struct error		 err;
	struct stat		 sb;
	char			*text, *day = xasprintf("%s/" DAY0 ".json",
				    f->statsdir);
	mode_t			 old;
	int			 rc;

	stats_count(s, T0 + 5, "alpha", NULL, STATS_VIEW);
	stats_count(s, T0 + 6, "alpha", "01-a", STATS_DOWNLOAD);
	old = umask(077);
	rc = stats_flush(s, f->dir, &err);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(f->statsdir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0755);
	assert_int_equal(stat(day, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	text = get_file(f, DAY0 ".json");
	assert_non_null(text);
	assert_non_null(strstr(text, "\"format\": 1"));
	assert_non_null(strstr(text, "\"day\": \"" DAY0 "\""));
	free(text);
	/* Nothing pending: a second flush writes nothing new. */
	assert_int_equal(stats_flush(s, f->dir, &err), 0);
	r = load_ok(f, NULL, NULL);
	assert_int_equal(r->ndays, 1);
	assert_string_equal(r->first, DAY0);
	assert_string_equal(r->last, DAY0);
	assert_int_equal(r->nbundles, 1);
	assert_counts(r, "alpha", NULL, 1, 0);
	assert_counts(r, "alpha", "01-a", 0, 1);
	stats_report_free(r);
	free(day);
	stats_free(s);
}

static void
test_flush_merges_existing(void **state)
{
	struct fixture		*f = *state;
	struct stats		*s = stats_new();
	struct stats_report	*r;
	struct error		 err;
	char			*t = day_text(DAY0, "alpha", 10, 2, "01-a", 7, 3);

	put_file(f, DAY0 ".json", t);
	free(t);
	stats_count(s, T0, "alpha", NULL, STATS_VIEW);
	stats_count(s, T0, "alpha", "01-a", STATS_VIEW);
	stats_count(s, T0, "alpha", "02-b", STATS_DOWNLOAD);
	stats_count(s, T0, "beta", NULL, STATS_DOWNLOAD);
	assert_int_equal(stats_flush(s, f->dir, &err), 0);
	r = load_ok(f, NULL, NULL);
	assert_counts(r, "alpha", NULL, 11, 2);
	assert_counts(r, "alpha", "01-a", 8, 3);
	assert_counts(r, "alpha", "02-b", 0, 1);
	assert_counts(r, "beta", NULL, 0, 1);
	stats_report_free(r);
	stats_free(s);
}

static void
test_two_flushes_add_up(void **state)
{
	struct fixture		*f = *state;
	struct stats		*s = stats_new(), *s2 = stats_new();
	struct stats_report	*r;
	struct error		 err;

	stats_count(s, T0, "alpha", "01-a", STATS_VIEW);
	assert_int_equal(stats_flush(s, f->dir, &err), 0);
	stats_count(s, T0 + 60, "alpha", "01-a", STATS_VIEW);
	stats_count(s, T0 + 60, "alpha", "01-a", STATS_DOWNLOAD);
	assert_int_equal(stats_flush(s, f->dir, &err), 0);
	/* Another process (a restarted daemon) adds to the same day. */
	stats_count(s2, T0 + 120, "alpha", "01-a", STATS_VIEW);
	assert_int_equal(stats_flush(s2, f->dir, &err), 0);
	r = load_ok(f, NULL, NULL);
	assert_counts(r, "alpha", "01-a", 3, 1);
	stats_report_free(r);
	stats_free(s);
	stats_free(s2);
}

static void
test_day_boundary(void **state)
{
	struct fixture		*f = *state;
	struct stats		*s = stats_new();
	struct stats_report	*r;
	struct error		 err;

	stats_count(s, T0 - 1, "alpha", NULL, STATS_VIEW);	/* 11-27 23:59:59 */
	stats_count(s, T0, "alpha", NULL, STATS_VIEW);
	stats_count(s, T0, "alpha", NULL, STATS_VIEW);
	assert_int_equal(stats_flush(s, f->dir, &err), 0);
	assert_true(exists(f, "2026-11-27.json"));
	assert_true(exists(f, DAY0 ".json"));
	r = load_ok(f, "2026-11-27", "2026-11-27");
	assert_int_equal(r->ndays, 1);
	assert_counts(r, "alpha", NULL, 1, 0);
	stats_report_free(r);
	r = load_ok(f, DAY0, NULL);
	assert_counts(r, "alpha", NULL, 2, 0);
	stats_report_free(r);
	r = load_ok(f, NULL, NULL);
	assert_int_equal(r->ndays, 2);
	assert_string_equal(r->first, "2026-11-27");
	assert_string_equal(r->last, DAY0);
	assert_counts(r, "alpha", NULL, 3, 0);
	stats_report_free(r);
	stats_free(s);
}

static void
test_flush_sets_corrupt_file_aside(void **state)
{
	struct fixture		*f = *state;
	struct stats		*s = stats_new();
	struct stats_report	*r;
	struct error		 err;
	const char		*garbage = "{\"format\": 1, \"day\": \"" DAY0
				    "\", \"bundles\": {\"a\": {\"views\": 1,";
	char			*t;

	put_file(f, DAY0 ".json", garbage);
	stats_count(s, T0, "alpha", NULL, STATS_VIEW);
	assert_int_equal(stats_flush(s, f->dir, &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, f->statsdir));
	assert_non_null(strstr(err.msg, DAY0 ".json.bad-1"));
	assert_non_null(strstr(err.msg, "line 1"));
	/* The bad bytes are kept whole; the day starts again. */
	t = get_file(f, DAY0 ".json.bad-1");
	assert_non_null(t);
	assert_string_equal(t, garbage);
	free(t);
	r = load_ok(f, NULL, NULL);
	assert_counts(r, "alpha", NULL, 1, 0);
	assert_int_equal(r->nset_aside, 1);
	assert_non_null(strstr(r->set_aside[0], DAY0 ".json.bad-1"));
	stats_report_free(r);
	/* A second bad file (a negative count) goes to bad-2. */
	t = day_text(DAY0, "alpha", -1, 0, "01-a", 0, 0);
	put_file(f, DAY0 ".json", t);
	free(t);
	stats_count(s, T0, "alpha", NULL, STATS_DOWNLOAD);
	assert_int_equal(stats_flush(s, f->dir, &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "negative"));
	assert_true(exists(f, DAY0 ".json.bad-1"));
	assert_true(exists(f, DAY0 ".json.bad-2"));
	r = load_ok(f, NULL, NULL);
	assert_counts(r, "alpha", NULL, 0, 1);
	assert_int_equal(r->nset_aside, 2);
	stats_report_free(r);
	stats_free(s);
}

/* A day file over the size limit is refused unread by a report, and set
 * aside by a flush (ftruncate: a sparse file, nothing to write). */
static void
test_oversized_day_file(void **state)
{
	struct fixture		*f = *state;
	struct stats		*s = stats_new();
	struct stats_report	*r = NULL;
	struct error		 err;
	char			*p = xasprintf("%s/" DAY0 ".json", f->statsdir);
	int			 fd;

	put_file(f, DAY0 ".json", "");
	assert_int_not_equal(fd = open(p, O_WRONLY), -1);
	assert_int_equal(ftruncate(fd, STATS_FILE_MAX + 1), 0);
	close(fd);
	assert_int_equal(stats_load(f->dir, NULL, NULL, &r, &err),
	    SATCHEL_ELIMIT);
	assert_null(r);
	assert_non_null(strstr(err.msg, p));
	stats_count(s, T0, "alpha", NULL, STATS_VIEW);
	assert_int_equal(stats_flush(s, f->dir, &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, DAY0 ".json.bad-1"));
	assert_true(exists(f, DAY0 ".json.bad-1"));
	r = load_ok(f, NULL, NULL);
	assert_counts(r, "alpha", NULL, 1, 0);
	stats_report_free(r);
	free(p);
	stats_free(s);
}

/* A day that cannot be written keeps its counts for the next flush. */
static void
test_failed_flush_keeps_counts(void **state)
{
	struct fixture		*f = *state;
	struct stats		*s = stats_new();
	struct stats_report	*r;
	struct error		 err;
	char			*missing = xasprintf("%s/no/such", f->dir);
	char			*p = xasprintf("%s/" DAY0 ".json", f->statsdir);

	stats_count(s, T0, "alpha", NULL, STATS_VIEW);
	assert_int_not_equal(stats_flush(s, missing, &err), 0);
	assert_non_null(strstr(err.msg, missing));
	/* DAY0.json a directory: that day fails, the day before lands. */
	assert_int_equal(mkdir(f->statsdir, 0755), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	stats_count(s, T0 - 86400, "alpha", NULL, STATS_DOWNLOAD);
	assert_int_not_equal(stats_flush(s, f->dir, &err), 0);
	assert_non_null(strstr(err.msg, p));
	assert_true(exists(f, "2026-11-27.json"));
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(stats_flush(s, f->dir, &err), 0);
	r = load_ok(f, NULL, NULL);
	assert_counts(r, "alpha", NULL, 1, 1);
	assert_int_equal(r->ndays, 2);
	stats_report_free(r);
	assert_int_equal(stats_dropped(s), 0);
	free(p);
	free(missing);
	stats_free(s);
}

/* A temporary file a killed flush left is removed by the next. */
static void
test_flush_removes_stale_tmp(void **state)
{
	struct fixture	*f = *state;
	struct stats	*s = stats_new();
	struct error	 err;

	put_file(f, "." DAY0 ".json.tmp-abcdef", "{");
	put_file(f, "notes.txt", "kept");
	stats_count(s, T0, "alpha", NULL, STATS_VIEW);
	assert_int_equal(stats_flush(s, f->dir, &err), 0);
	assert_false(exists(f, "." DAY0 ".json.tmp-abcdef"));
	assert_true(exists(f, "notes.txt"));
	stats_free(s);
}

/* --- loading --- */

static void
test_load_without_stats_dir(void **state)
{
	struct fixture		*f = *state;
	struct stats_report	*r = load_ok(f, NULL, NULL);
	struct error		 err;
	char			*missing = xasprintf("%s/no", f->dir);

	assert_int_equal(r->nbundles, 0);
	assert_int_equal(r->ndays, 0);
	assert_string_equal(r->first, "");
	stats_report_free(r);
	r = NULL;
	assert_int_equal(stats_load(missing, NULL, NULL, &r, &err),
	    SATCHEL_ENOTFOUND);
	assert_null(r);
	free(missing);
}

static void
test_load_since_until(void **state)
{
	struct fixture		*f = *state;
	struct stats_report	*r;
	struct error		 err;
	char			*t;

	t = day_text("2026-11-01", "alpha", 1, 0, "01-a", 10, 0);
	put_file(f, "2026-11-01.json", t);
	free(t);
	t = day_text("2026-11-15", "alpha", 2, 0, "01-a", 20, 0);
	put_file(f, "2026-11-15.json", t);
	free(t);
	t = day_text("2026-12-01", "beta", 4, 1, "01-b", 40, 4);
	put_file(f, "2026-12-01.json", t);
	free(t);
	/* Files that are not day files are ignored, even if broken. */
	put_file(f, "README", "not json");
	put_file(f, "2026-11-15.json~", "{");
	put_file(f, "notes.json", "{");
	put_file(f, "2026-02-30.json", "{");
	put_file(f, ".lock", "");
	r = load_ok(f, NULL, NULL);
	assert_int_equal(r->ndays, 3);
	assert_string_equal(r->first, "2026-11-01");
	assert_string_equal(r->last, "2026-12-01");
	assert_int_equal(r->nbundles, 2);
	assert_string_equal(r->bundles[0].name, "alpha");
	assert_counts(r, "alpha", NULL, 3, 0);
	assert_counts(r, "alpha", "01-a", 30, 0);
	assert_counts(r, "beta", "01-b", 40, 4);
	stats_report_free(r);
	r = load_ok(f, "2026-11-02", NULL);
	assert_int_equal(r->ndays, 2);
	assert_counts(r, "alpha", "01-a", 20, 0);
	assert_counts(r, "beta", NULL, 4, 1);
	stats_report_free(r);
	r = load_ok(f, NULL, "2026-11-15");
	assert_int_equal(r->ndays, 2);
	assert_null(find_bundle(r, "beta"));
	assert_counts(r, "alpha", "01-a", 30, 0);
	stats_report_free(r);
	r = load_ok(f, "2026-11-15", "2026-11-15");
	assert_int_equal(r->ndays, 1);
	assert_counts(r, "alpha", NULL, 2, 0);
	stats_report_free(r);
	r = load_ok(f, "2026-11-16", "2026-11-30");
	assert_int_equal(r->ndays, 0);
	assert_int_equal(r->nbundles, 0);
	stats_report_free(r);
	r = NULL;
	assert_int_equal(stats_load(f->dir, "2026-11-31", NULL, &r, &err),
	    SATCHEL_EINVALID);
	assert_null(r);
}

/* Each bad day file is refused with its path and what is wrong. */
static void
test_load_refuses(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} bad[] = {
		{ "{\"format\": 1,\n \"day\": ", "line 2" },
		{ "[1, 2]", "not a JSON object" },
		{ "{\"format\": 2, \"day\": \"" DAY0 "\", \"bundles\": {}}",
		    "format" },
		{ "{\"format\": 1, \"day\": \"2026-11-27\", \"bundles\": {}}",
		    "day" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\"}", "\"bundles\" is missing" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": [],}",
		    "line 1" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": []}",
		    "bundles: not an object" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": {}, "
		    "\"ip\": \"10.0.0.1\"}", "unknown field \"ip\"" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": {\"Bad!\": "
		    "{\"views\": 1, \"downloads\": 1}}}", "not a valid bundle name" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": {\"a\": "
		    "{\"views\": \"1\", \"downloads\": 1}}}",
		    "bundles.a.views: not an integer" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": {\"a\": "
		    "{\"views\": 1.0, \"downloads\": 1}}}",
		    "bundles.a.views: not an integer" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": {\"a\": "
		    "{\"views\": 1}}}", "bundles.a: \"downloads\" is missing" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": {\"a\": "
		    "{\"views\": 1, \"downloads\": 1, \"lessons\": {\"01\": "
		    "{\"views\": 1, \"downloads\": -4}}}}}",
		    "bundles.a.lessons.01.downloads: negative count -4" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": {\"a\": "
		    "{\"views\": 1, \"downloads\": 1, \"lessons\": {\"../x\": "
		    "{\"views\": 1, \"downloads\": 1}}}}}", "not a valid lesson id" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": {\"a\": "
		    "{\"views\": 1, \"downloads\": 1}, \"a\": {\"views\": 1, "
		    "\"downloads\": 1}}}", "duplicate" },
		{ "{\"format\": 1, \"day\": \"" DAY0 "\", \"bundles\": {\"a\": "
		    "{\"views\": 99999999999999999999, \"downloads\": 1}}}",
		    "line 1" },
	};
	struct fixture		*f = *state;
	struct stats_report	*r;
	struct error		 err;
	char			*path = xasprintf("%s/" DAY0 ".json", f->statsdir);
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		put_file(f, DAY0 ".json", bad[i].text);
		r = NULL;
		if (stats_load(f->dir, NULL, NULL, &r, &err) == 0)
			fail_msg("case %zu: accepted %s", i, bad[i].text);
		assert_null(r);
		if (strstr(err.msg, path) == NULL ||
		    strstr(err.msg, bad[i].want) == NULL)
			fail_msg("case %zu: message \"%s\" lacks the path or "
			    "\"%s\"", i, err.msg, bad[i].want);
	}
	/* Outside the period, a bad file is not read. */
	r = load_ok(f, "2026-11-29", NULL);
	assert_int_equal(r->ndays, 0);
	stats_report_free(r);
	free(path);
}

static void
test_report_ensure(void **state)
{
	struct fixture			*f = *state;
	struct stats_report		*r = load_ok(f, NULL, NULL);
	struct stats_bundle_count	*b;

	b = stats_report_ensure(r, "zeta", NULL);
	assert_string_equal(b->name, "zeta");
	(void)stats_report_ensure(r, "alpha", "02-b");
	(void)stats_report_ensure(r, "alpha", "01-a");
	b = stats_report_ensure(r, "alpha", "01-a");
	assert_int_equal(r->nbundles, 2);
	assert_string_equal(r->bundles[0].name, "alpha");
	assert_int_equal(b->nlessons, 2);
	assert_string_equal(b->lessons[0].id, "01-a");
	assert_string_equal(b->lessons[1].id, "02-b");
	assert_counts(r, "alpha", "02-b", 0, 0);
	stats_report_free(r);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_day_parse),
		T(test_day_parse_refuses),
		T(test_count_and_foreach),
		T(test_count_drops_bad_input),
		T(test_threads),
		T(test_cap),
		T(test_flush_writes_day_file),
		T(test_flush_merges_existing),
		T(test_two_flushes_add_up),
		T(test_day_boundary),
		T(test_flush_sets_corrupt_file_aside),
		T(test_oversized_day_file),
		T(test_failed_flush_keeps_counts),
		T(test_flush_removes_stale_tmp),
		T(test_load_without_stats_dir),
		T(test_load_since_until),
		T(test_load_refuses),
		T(test_report_ensure),
	};
#undef T

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
