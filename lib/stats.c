/*
 * stats.c owns the web library's usage counters: counting under a mutex,
 * flushing them into the store's per-day files stats/DAY.json, and
 * summing those files for `satchel report` (protocol/SPEC.md §10, "Usage
 * counts"). Only jansson reads and writes the JSON.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fsutil.h"
#include "manifest.h"
#include "stats.h"
#include "util.h"

/* Day-pair counts waiting for a flush: a few days' worth of every pair,
 * should flushes fail for a while (a full disk). */
#define STATS_PENDING_MAX	(4 * STATS_KEYS_MAX)
/* 9999-12-31, the last day a four-digit year can name. */
#define STATS_DAY_MAX		2932896
/* Counts stop growing here: JSON integers are signed 64-bit in jansson. */
#define STATS_COUNT_MAX		((uint64_t)INT64_MAX)

/*
 * One counted pair (on one day, for pending counts; day 0 elsewhere).
 * lesson is "" for the bundle's own line: lesson ids are never empty, so
 * the bundle's line sorts first among its lessons.
 */
struct stats_entry {
	int32_t		 day;
	char		*bundle;
	char		*lesson;
	uint64_t	 views;
	uint64_t	 downloads;
};

/* Sorted by day, bundle, lesson: a binary search finds a pair, and the
 * files and reports come out in order without sorting. */
struct stats_table {
	struct stats_entry	*v;
	size_t			 n;
	size_t			 cap;
};

struct stats {
	pthread_mutex_t		 mu;		/* pending, totals, dropped */
	pthread_mutex_t		 flush_mu;	/* one flush at a time */
	struct stats_table	 pending;
	struct stats_table	 totals;
	uint64_t		 dropped;
};

static uint64_t
count_add(uint64_t a, uint64_t b)
{
	return b > STATS_COUNT_MAX - a ? STATS_COUNT_MAX : a + b;
}

static int
entry_cmp(int32_t day, const char *bundle, const char *lesson,
    const struct stats_entry *e)
{
	int	c;

	if (day != e->day)
		return day < e->day ? -1 : 1;
	if ((c = strcmp(bundle, e->bundle)) != 0)
		return c;
	return strcmp(lesson, e->lesson);
}

/* The entry for the key, or NULL with *pos where it would go. */
static struct stats_entry *
table_find(const struct stats_table *t, int32_t day, const char *bundle,
    const char *lesson, size_t *pos)
{
	size_t	lo = 0, hi = t->n, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = entry_cmp(day, bundle, lesson, &t->v[mid]);
		if (c == 0)
			return &t->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*pos = lo;
	return NULL;
}

static struct stats_entry *
table_insert(struct stats_table *t, size_t pos, int32_t day,
    const char *bundle, const char *lesson)
{
	struct stats_entry	*e;

	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 16 : t->cap * 2;
		t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
	}
	memmove(&t->v[pos + 1], &t->v[pos], (t->n - pos) * sizeof *t->v);
	t->n++;
	e = &t->v[pos];
	e->day = day;
	e->bundle = xstrdup(bundle);
	e->lesson = xstrdup(lesson);
	e->views = e->downloads = 0;
	return e;
}

/* The entry for the key, added if the table holds fewer than max; NULL
 * when it is full. */
static struct stats_entry *
table_get(struct stats_table *t, int32_t day, const char *bundle,
    const char *lesson, size_t max)
{
	struct stats_entry	*e;
	size_t			 pos;

	if ((e = table_find(t, day, bundle, lesson, &pos)) != NULL)
		return e;
	if (t->n >= max)
		return NULL;
	return table_insert(t, pos, day, bundle, lesson);
}

static void
table_free(struct stats_table *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].bundle);
		free(t->v[i].lesson);
	}
	free(t->v);
	memset(t, 0, sizeof *t);
}

struct stats *
stats_new(void)
{
	struct stats	*s = xcalloc(1, sizeof *s);

	if (pthread_mutex_init(&s->mu, NULL) != 0 ||
	    pthread_mutex_init(&s->flush_mu, NULL) != 0)
		fatal("stats: pthread_mutex_init failed");
	return s;
}

void
stats_free(struct stats *s)
{
	if (s == NULL)
		return;
	table_free(&s->pending);
	table_free(&s->totals);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->flush_mu);
	free(s);
}

void
stats_count(struct stats *s, int64_t now, const char *bundle,
    const char *lesson, enum stats_what what)
{
	struct stats_entry	*t, *p;
	size_t			 tpos = 0, ppos = 0;
	int32_t			 day;
	int			 ok;

	/* Only what a day file can hold and its reader accepts is kept;
	 * the caller has checked the names against the store, this is the
	 * backstop. */
	ok = bundle != NULL && bundle_name_check(bundle) == 0 &&
	    (lesson == NULL || lesson_id_check(lesson) == 0) &&
	    (what == STATS_VIEW || what == STATS_DOWNLOAD) &&
	    now >= 0 && now / 86400 <= STATS_DAY_MAX;
	day = ok ? (int32_t)(now / 86400) : 0;
	if (lesson == NULL)
		lesson = "";
	pthread_mutex_lock(&s->mu);
	if (!ok) {
		s->dropped++;
		goto out;
	}
	t = table_find(&s->totals, 0, bundle, lesson, &tpos);
	p = table_find(&s->pending, day, bundle, lesson, &ppos);
	/* A count goes to both tables or to neither. */
	if ((t == NULL && s->totals.n >= STATS_KEYS_MAX) ||
	    (p == NULL && s->pending.n >= STATS_PENDING_MAX)) {
		s->dropped++;
		goto out;
	}
	if (t == NULL)
		t = table_insert(&s->totals, tpos, 0, bundle, lesson);
	if (p == NULL)
		p = table_insert(&s->pending, ppos, day, bundle, lesson);
	if (what == STATS_VIEW) {
		t->views = count_add(t->views, 1);
		p->views = count_add(p->views, 1);
	} else {
		t->downloads = count_add(t->downloads, 1);
		p->downloads = count_add(p->downloads, 1);
	}
out:
	pthread_mutex_unlock(&s->mu);
}

uint64_t
stats_dropped(struct stats *s)
{
	uint64_t	n;

	pthread_mutex_lock(&s->mu);
	n = s->dropped;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void
stats_foreach(struct stats *s, void (*cb)(void *, const char *, const char *,
    uint64_t, uint64_t), void *arg)
{
	const struct stats_entry	*e;
	size_t				 i;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->totals.n; i++) {
		e = &s->totals.v[i];
		if (e->lesson[0] != '\0' && (i == 0 ||
		    strcmp(s->totals.v[i - 1].bundle, e->bundle) != 0))
			cb(arg, e->bundle, NULL, 0, 0);
		cb(arg, e->bundle, e->lesson[0] == '\0' ? NULL : e->lesson,
		    e->views, e->downloads);
	}
	pthread_mutex_unlock(&s->mu);
}

/* --- days --- */

int
stats_day_parse(const char *s, int32_t *day)
{
	struct tm	tm;
	time_t		t;
	int		i, y, m, d;

	if (s == NULL || strlen(s) != STATS_DAY_LEN)
		return -1;
	for (i = 0; i < STATS_DAY_LEN; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return -1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	/* timegm normalises 2026-02-30 to March: such a day is refused. */
	if ((t = timegm(&tm)) == (time_t)-1 || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_year != y - 1900 || tm.tm_mon != m - 1 || tm.tm_mday != d)
		return -1;
	*day = (int32_t)(t / 86400);
	return 0;
}

void
stats_day_format(int32_t day, char out[STATS_DAY_LEN + 1])
{
	struct tm	tm;
	time_t		t = (time_t)day * 86400;

	if (day < 0 || day > STATS_DAY_MAX || gmtime_r(&t, &tm) == NULL)
		fatal("stats_day_format: day %ld out of range", (long)day);
	snprintf(out, STATS_DAY_LEN + 1, "%04d-%02d-%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
}

/* --- day files --- */

/* A name from a file, fit to quote in a message. */
static const char *
printable(const char *s)
{
	return strlen(s) <= 64 && utf8_valid_text(s, strlen(s)) ? s :
	    "(a name too long or not printable)";
}

/* Reads {"views": N, "downloads": N} (and "lessons" if lessons is not
 * NULL) of the object o at field path what. */
static int
parse_counts(json_t *o, const char *file, const char *what, uint64_t *views,
    uint64_t *downloads, json_t **lessons, struct error *err)
{
	const char	*key;
	json_t		*v;
	int		 seen = 0;

	if (!json_is_object(o))
		return error_set(err, SATCHEL_EINVALID, "%s: %s: not an object",
		    file, what);
	if (lessons != NULL)
		*lessons = NULL;
	json_object_foreach(o, key, v) {
		uint64_t	*dst;

		if (strcmp(key, "views") == 0)
			dst = views;
		else if (strcmp(key, "downloads") == 0)
			dst = downloads;
		else if (lessons != NULL && strcmp(key, "lessons") == 0) {
			if (!json_is_object(v))
				return error_set(err, SATCHEL_EINVALID,
				    "%s: %s.lessons: not an object", file, what);
			*lessons = v;
			continue;
		} else
			return error_set(err, SATCHEL_EINVALID,
			    "%s: %s: unknown field \"%s\"", file, what,
			    printable(key));
		if (!json_is_integer(v))
			return error_set(err, SATCHEL_EINVALID,
			    "%s: %s.%s: not an integer", file, what, key);
		if (json_integer_value(v) < 0)
			return error_set(err, SATCHEL_EINVALID,
			    "%s: %s.%s: negative count %lld", file, what, key,
			    (long long)json_integer_value(v));
		*dst = (uint64_t)json_integer_value(v);
		seen |= dst == views ? 1 : 2;
	}
	if (seen != 3)
		return error_set(err, SATCHEL_EINVALID, "%s: %s: \"%s\" is "
		    "missing", file, what, (seen & 1) ? "downloads" : "views");
	return 0;
}

static int
table_add(struct stats_table *t, const char *bundle, const char *lesson,
    uint64_t views, uint64_t downloads, const char *file, struct error *err)
{
	struct stats_entry	*e;

	if ((e = table_get(t, 0, bundle, lesson, STATS_REPORT_KEYS_MAX)) == NULL)
		return error_set(err, SATCHEL_ELIMIT, "%s: more than %d "
		    "bundles and lessons in all", file, STATS_REPORT_KEYS_MAX);
	e->views = count_add(e->views, views);
	e->downloads = count_add(e->downloads, downloads);
	return 0;
}

/*
 * Why strict: a day file is what a school hands on as its record, so one
 * that is not exactly what a flush writes (SPEC §10) is reported, never
 * half-read. Adds the file's counts into t (day 0); on failure t may hold
 * some of them.
 */
static int
stats_parse(const char *buf, size_t len, const char *file, const char *day,
    struct stats_table *t, struct error *err)
{
	json_error_t	 je;
	json_t		*root, *v, *bundles = NULL, *lessons, *lv;
	const char	*key, *name, *id;
	char		*what = NULL;
	uint64_t	 views, downloads;
	int		 rc = 0, seen = 0;

	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return error_set(err, SATCHEL_EINVALID, "%s: line %d column %d: "
		    "%s", file, je.line, je.column, je.text);
	if (!json_is_object(root)) {
		rc = error_set(err, SATCHEL_EINVALID, "%s: not a JSON object",
		    file);
		goto out;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "format") == 0) {
			if (!json_is_integer(v) ||
			    json_integer_value(v) != STATS_FORMAT) {
				rc = error_set(err, SATCHEL_EINVALID, "%s: format: "
				    "not %d, the one this version reads", file,
				    STATS_FORMAT);
				goto out;
			}
			seen |= 1;
		} else if (strcmp(key, "day") == 0) {
			if (!json_is_string(v) ||
			    strcmp(json_string_value(v), day) != 0) {
				rc = error_set(err, SATCHEL_EINVALID, "%s: day: "
				    "not \"%s\", the day its name says", file,
				    day);
				goto out;
			}
			seen |= 2;
		} else if (strcmp(key, "bundles") == 0) {
			if (!json_is_object(v)) {
				rc = error_set(err, SATCHEL_EINVALID, "%s: "
				    "bundles: not an object", file);
				goto out;
			}
			bundles = v;
			seen |= 4;
		} else {
			rc = error_set(err, SATCHEL_EINVALID, "%s: unknown field "
			    "\"%s\"", file, printable(key));
			goto out;
		}
	}
	if (seen != 7) {
		rc = error_set(err, SATCHEL_EINVALID, "%s: \"%s\" is missing",
		    file, !(seen & 1) ? "format" : !(seen & 2) ? "day" :
		    "bundles");
		goto out;
	}
	json_object_foreach(bundles, name, v) {
		if (bundle_name_check(name) != 0) {
			rc = error_set(err, SATCHEL_EINVALID, "%s: bundles: \"%s\" "
			    "is not a valid bundle name", file, printable(name));
			goto out;
		}
		free(what);
		what = xasprintf("bundles.%s", name);
		if ((rc = parse_counts(v, file, what, &views, &downloads,
		    &lessons, err)) != 0 ||
		    (rc = table_add(t, name, "", views, downloads, file,
		    err)) != 0)
			goto out;
		if (lessons == NULL)
			continue;
		json_object_foreach(lessons, id, lv) {
			if (lesson_id_check(id) != 0) {
				rc = error_set(err, SATCHEL_EINVALID, "%s: "
				    "bundles.%s.lessons: \"%s\" is not a valid "
				    "lesson id", file, name, printable(id));
				goto out;
			}
			free(what);
			what = xasprintf("bundles.%s.lessons.%s", name, id);
			if ((rc = parse_counts(lv, file, what, &views,
			    &downloads, NULL, err)) != 0 ||
			    (rc = table_add(t, name, id, views, downloads, file,
			    err)) != 0)
				goto out;
		}
	}
out:
	free(what);
	json_decref(root);
	return rc;
}

/* The text of a day file holding t's counts (day-0 entries). */
static char *
stats_encode(const struct stats_table *t, const char *day)
{
	json_t		*root, *bundles, *bo = NULL, *lessons = NULL, *o;
	const char	*cur = NULL;
	char		*text, *out;
	size_t		 i;

	root = json_object();
	json_object_set_new(root, "format", json_integer(STATS_FORMAT));
	json_object_set_new(root, "day", json_string(day));
	bundles = json_object();
	json_object_set_new(root, "bundles", bundles);
	for (i = 0; i < t->n; i++) {
		const struct stats_entry	*e = &t->v[i];

		if (cur == NULL || strcmp(cur, e->bundle) != 0) {
			cur = e->bundle;
			bo = json_object();
			json_object_set_new(bo, "views", json_integer(0));
			json_object_set_new(bo, "downloads", json_integer(0));
			lessons = json_object();
			json_object_set_new(bo, "lessons", lessons);
			json_object_set_new(bundles, e->bundle, bo);
		}
		if (e->lesson[0] == '\0')
			o = bo;
		else {
			o = json_object();
			json_object_set_new(lessons, e->lesson, o);
		}
		json_object_set_new(o, "views", json_integer((json_int_t)e->views));
		json_object_set_new(o, "downloads",
		    json_integer((json_int_t)e->downloads));
	}
	if ((text = json_dumps(root, JSON_INDENT(2))) == NULL)
		fatal("stats: json_dumps failed");
	json_decref(root);
	out = xasprintf("%s\n", text);
	free(text);
	return out;
}

/*
 * Renames a day file that cannot be read aside to DAY.json.bad-N, the
 * first N free. The caller holds the flush lock, so nobody else makes
 * bad-N files between the check and the rename.
 */
static int
set_aside(const char *path, char **bad, struct error *err)
{
	struct stat	 sb;
	unsigned	 n;
	char		*p;

	for (n = 1; n < 100000; n++) {
		p = xasprintf("%s.bad-%u", path, n);
		if (lstat(p, &sb) == -1 && errno == ENOENT) {
			if (rename(path, p) == -1) {
				error_set(err, SATCHEL_ERR, "%s: cannot rename "
				    "to %s: %s", path, p, strerror(errno));
				free(p);
				return SATCHEL_ERR;
			}
			*bad = p;
			return 0;
		}
		free(p);
	}
	return error_set(err, SATCHEL_ELIMIT, "%s: too many set-aside copies "
	    "already", path);
}

/* Adds n pending entries of one day into dir/DAY.json; *written says
 * whether they were, which they are also when a bad file was set aside
 * (an error saying so is returned). */
static int
flush_day(const char *dir, int32_t dayno, const struct stats_entry *v,
    size_t n, int *written, struct error *err)
{
	struct stats_table	 t = { NULL, 0, 0 };
	struct error		 perr;
	char			 day[STATS_DAY_LEN + 1];
	char			*path, *buf = NULL, *text = NULL, *bad = NULL;
	size_t			 len, i;
	int			 rc, badfile = 0;

	*written = 0;
	stats_day_format(dayno, day);
	path = xasprintf("%s/%s.json", dir, day);
	rc = file_read_all(&buf, &len, path, STATS_FILE_MAX, &perr);
	if (rc == 0) {
		if (stats_parse(buf, len, path, day, &t, &perr) != 0)
			badfile = 1;
	} else if (rc == SATCHEL_ELIMIT)
		badfile = 1;
	else if (rc != SATCHEL_ENOTFOUND) {
		*err = perr;
		goto out;
	}
	rc = 0;
	if (badfile) {
		table_free(&t);
		if ((rc = set_aside(path, &bad, err)) != 0)
			goto out;
	}
	for (i = 0; i < n; i++)
		if ((rc = table_add(&t, v[i].bundle, v[i].lesson, v[i].views,
		    v[i].downloads, path, err)) != 0)
			goto out;
	text = stats_encode(&t, day);
	if ((rc = file_write_atomic(path, text, strlen(text), 0644, err)) != 0)
		goto out;
	*written = 1;
	if (badfile)
		rc = error_set(err, SATCHEL_EINVALID, "%s; set aside as %s, and "
		    "the day's counts start again from this flush", perr.msg,
		    bad);
out:
	table_free(&t);
	free(bad);
	free(text);
	free(buf);
	free(path);
	return rc;
}

/* Removes temporary files of writes cut short (".DAY.json.tmp-XXXXXX");
 * the caller holds the flush lock, so none of them is being written. */
static void
stale_tmp_remove(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	char		*p;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strstr(de->d_name, ".tmp-") == NULL)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
}

/* stats/ exists (made durable in the store directory if new) and is
 * locked against other processes' flushes: *lockfd holds the flock. */
static int
stats_dir_lock(const char *storedir, const char *dir, int *lockfd,
    struct error *err)
{
	char	*p;
	int	 fd, rc = 0;

	if (mkdir(dir, 0755) == 0) {
		/* Readable by whoever reports, whatever the daemon's umask. */
		(void)chmod(dir, 0755);
		if ((fd = open(storedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
			(void)fsync(fd);
			close(fd);
		}
	} else if (errno != EEXIST)
		return error_set(err, errno == ENOENT ? SATCHEL_ENOTFOUND :
		    SATCHEL_ERR, "%s: %s", dir, strerror(errno));
	p = xasprintf("%s/.lock", dir);
	if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: %s", p, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		rc = error_set(err, SATCHEL_ERR, "%s: flock: %s", p,
		    strerror(errno));
		close(fd);
		goto out;
	}
	*lockfd = fd;
out:
	free(p);
	return rc;
}

/* Puts counts that could not be written back among the pending ones. */
static void
pending_restore(struct stats *s, const struct stats_entry *v, size_t n)
{
	struct stats_entry	*e;
	size_t			 i;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < n; i++) {
		e = table_get(&s->pending, v[i].day, v[i].bundle, v[i].lesson,
		    STATS_PENDING_MAX);
		if (e == NULL) {
			s->dropped = count_add(s->dropped,
			    count_add(v[i].views, v[i].downloads));
			continue;
		}
		e->views = count_add(e->views, v[i].views);
		e->downloads = count_add(e->downloads, v[i].downloads);
	}
	pthread_mutex_unlock(&s->mu);
}

int
stats_flush(struct stats *s, const char *storedir, struct error *err)
{
	struct stats_table	 take;
	struct error		 e;
	char			*dir = xasprintf("%s/stats", storedir);
	size_t			 i, j;
	int			 rc = 0, r, written, lockfd = -1;

	pthread_mutex_lock(&s->flush_mu);
	/* The counts are taken out, so that counting goes on while the
	 * files are written and synced. */
	pthread_mutex_lock(&s->mu);
	take = s->pending;
	memset(&s->pending, 0, sizeof s->pending);
	pthread_mutex_unlock(&s->mu);
	if (take.n == 0)
		goto out;
	if ((rc = stats_dir_lock(storedir, dir, &lockfd, err)) != 0) {
		pending_restore(s, take.v, take.n);
		goto out;
	}
	stale_tmp_remove(dir);
	for (i = 0; i < take.n; i = j) {
		for (j = i + 1; j < take.n && take.v[j].day == take.v[i].day; j++)
			;
		r = flush_day(dir, take.v[i].day, &take.v[i], j - i, &written,
		    &e);
		if (!written)
			pending_restore(s, &take.v[i], j - i);
		/* The first problem is the one reported. */
		if (r != 0 && rc == 0) {
			rc = r;
			if (err != NULL)
				*err = e;
		}
	}
out:
	if (lockfd != -1)
		close(lockfd);		/* releases the flock */
	table_free(&take);
	pthread_mutex_unlock(&s->flush_mu);
	free(dir);
	return rc;
}

/* --- reports --- */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if name is "DAY.json" (*day set), 2 if "DAY.json.bad-N", else 0. */
static int
day_file_name(const char *name, int32_t *day)
{
	char		 d[STATS_DAY_LEN + 1];
	const char	*p;

	if (strlen(name) < STATS_DAY_LEN + 5 ||
	    strncmp(name + STATS_DAY_LEN, ".json", 5) != 0)
		return 0;
	memcpy(d, name, STATS_DAY_LEN);
	d[STATS_DAY_LEN] = '\0';
	if (stats_day_parse(d, day) != 0)
		return 0;
	p = name + STATS_DAY_LEN + 5;
	if (*p == '\0')
		return 1;
	if (strncmp(p, ".bad-", 5) != 0 || p[5] == '\0')
		return 0;
	for (p += 5; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 2;
}

static struct stats_bundle_count *
report_bundle(struct stats_report *r, const char *name)
{
	struct stats_bundle_count	*b;
	size_t				 lo = 0, hi = r->nbundles, mid;
	int				 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, r->bundles[mid].name)) == 0)
			return &r->bundles[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	r->bundles = xreallocarray(r->bundles, r->nbundles + 1, sizeof *b);
	memmove(&r->bundles[lo + 1], &r->bundles[lo],
	    (r->nbundles - lo) * sizeof *b);
	r->nbundles++;
	b = &r->bundles[lo];
	memset(b, 0, sizeof *b);
	b->name = xstrdup(name);
	return b;
}

static struct stats_lesson_count *
report_lesson(struct stats_bundle_count *b, const char *id)
{
	struct stats_lesson_count	*l;
	size_t				 lo = 0, hi = b->nlessons, mid;
	int				 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(id, b->lessons[mid].id)) == 0)
			return &b->lessons[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	b->lessons = xreallocarray(b->lessons, b->nlessons + 1, sizeof *l);
	memmove(&b->lessons[lo + 1], &b->lessons[lo],
	    (b->nlessons - lo) * sizeof *l);
	b->nlessons++;
	l = &b->lessons[lo];
	memset(l, 0, sizeof *l);
	l->id = xstrdup(id);
	return l;
}

struct stats_bundle_count *
stats_report_ensure(struct stats_report *r, const char *bundle,
    const char *lesson)
{
	struct stats_bundle_count	*b = report_bundle(r, bundle);

	if (lesson != NULL)
		(void)report_lesson(b, lesson);
	return b;
}

void
stats_report_free(struct stats_report *r)
{
	size_t	i, j;

	if (r == NULL)
		return;
	for (i = 0; i < r->nbundles; i++) {
		for (j = 0; j < r->bundles[i].nlessons; j++)
			free(r->bundles[i].lessons[j].id);
		free(r->bundles[i].lessons);
		free(r->bundles[i].name);
	}
	free(r->bundles);
	for (i = 0; i < r->nset_aside; i++)
		free(r->set_aside[i]);
	free(r->set_aside);
	free(r);
}

int
stats_load(const char *storedir, const char *since, const char *until,
    struct stats_report **out, struct error *err)
{
	struct stats_report	*r = xcalloc(1, sizeof *r);
	struct stats_table	 t = { NULL, 0, 0 };
	struct dirent		*de;
	struct stat		 sb;
	DIR			*d = NULL;
	char			*dir = xasprintf("%s/stats", storedir);
	char			**files = NULL, *path, *buf;
	size_t			 nfiles = 0, i, len;
	int32_t			 lo = 0, hi = STATS_DAY_MAX, day;
	int			 rc = 0, kind;

	if ((since != NULL && stats_day_parse(since, &lo) != 0) ||
	    (until != NULL && stats_day_parse(until, &hi) != 0)) {
		rc = error_set(err, SATCHEL_EINVALID, "\"%s\" is not a day "
		    "(YYYY-MM-DD)", since != NULL && stats_day_parse(since,
		    &day) != 0 ? since : until);
		goto out;
	}
	if (stat(storedir, &sb) == -1) {
		rc = error_set(err, errno == ENOENT ? SATCHEL_ENOTFOUND :
		    SATCHEL_ERR, "%s: %s", storedir, strerror(errno));
		goto out;
	}
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			rc = error_set(err, SATCHEL_ERR, "%s: %s", dir,
			    strerror(errno));
		goto out;		/* no stats/: nothing counted yet */
	}
	while ((de = readdir(d)) != NULL) {
		if ((kind = day_file_name(de->d_name, &day)) == 0 ||
		    day < lo || day > hi)
			continue;
		if (kind == 2) {
			r->set_aside = xreallocarray(r->set_aside,
			    r->nset_aside + 1, sizeof *r->set_aside);
			r->set_aside[r->nset_aside++] = xasprintf("%s/%s", dir,
			    de->d_name);
			continue;
		}
		files = xreallocarray(files, nfiles + 1, sizeof *files);
		files[nfiles++] = xstrdup(de->d_name);
	}
	/* Day names sort as days do; errors come in the same order. */
	if (nfiles > 0)
		qsort(files, nfiles, sizeof *files, name_cmp);
	if (r->nset_aside > 0)
		qsort(r->set_aside, r->nset_aside, sizeof *r->set_aside,
		    name_cmp);
	for (i = 0; i < nfiles; i++) {
		char	dayname[STATS_DAY_LEN + 1];

		memcpy(dayname, files[i], STATS_DAY_LEN);
		dayname[STATS_DAY_LEN] = '\0';
		path = xasprintf("%s/%s", dir, files[i]);
		buf = NULL;
		rc = file_read_all(&buf, &len, path, STATS_FILE_MAX, err);
		if (rc == 0)
			rc = stats_parse(buf, len, path, dayname, &t, err);
		free(buf);
		free(path);
		if (rc != 0)
			goto out;
		if (r->ndays++ == 0)
			memcpy(r->first, dayname, sizeof r->first);
		memcpy(r->last, dayname, sizeof r->last);
	}
	for (i = 0; i < t.n; i++) {
		struct stats_bundle_count	*b;
		struct stats_lesson_count	*l;

		b = report_bundle(r, t.v[i].bundle);
		if (t.v[i].lesson[0] == '\0') {
			b->views = t.v[i].views;
			b->downloads = t.v[i].downloads;
		} else {
			l = report_lesson(b, t.v[i].lesson);
			l->views = t.v[i].views;
			l->downloads = t.v[i].downloads;
		}
	}
out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	table_free(&t);
	free(dir);
	if (rc != 0) {
		stats_report_free(r);
		return rc;
	}
	*out = r;			/* ownership moved to the caller */
	return 0;
}
