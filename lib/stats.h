/*
 * stats.h: aggregated usage counters of a node's web library (views and
 * downloads per bundle and lesson per UTC day), kept in the store under
 * stats/DAY.json (protocol/SPEC.md §10, "Usage counts"), and the sums
 * `satchel report` prints. Counts only: no address, agent or time finer
 * than the day is ever seen here.
 */
#ifndef SATCHEL_STATS_H
#define SATCHEL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define STATS_FORMAT		1
/* Distinct bundle/lesson pairs counted by one process; a count for a new
 * pair beyond this is dropped (and counted by stats_dropped). */
#define STATS_KEYS_MAX		10000
/* A day file larger than this is refused, not read. */
#define STATS_FILE_MAX		(16u * 1024 * 1024)
/* Distinct bundle/lesson pairs one report may sum. */
#define STATS_REPORT_KEYS_MAX	1000000
#define STATS_DAY_LEN		10	/* "YYYY-MM-DD" */

enum stats_what {
	STATS_VIEW,	/* a bundle page or a lesson's entry page was shown */
	STATS_DOWNLOAD	/* a whole-bundle .satchel or a lesson .zip was sent */
};

struct stats;

/* A counter set, empty. Never fails (out of memory aborts). */
struct stats	*stats_new(void);
void		 stats_free(struct stats *);	/* NULL-safe; pending counts are lost */

/*
 * Counts one view or download at time now (seconds since 1970, UTC day
 * taken from it) of bundle, or of its lesson (NULL: the bundle itself).
 * Thread-safe and cheap (a binary search under a mutex). Never fails: a
 * name that is not a valid bundle name or lesson id, a time before 1970
 * or after 9999, a new pair beyond STATS_KEYS_MAX, or a new day and pair
 * beyond 4 * STATS_KEYS_MAX waiting for a flush is dropped and counted
 * by stats_dropped.
 */
void	 stats_count(struct stats *, int64_t now, const char *bundle,
	    const char *lesson, enum stats_what what);
/* Counts dropped by stats_count since stats_new. */
uint64_t stats_dropped(struct stats *);

/*
 * Adds the pending counts into storedir/stats/DAY.json, one day at a
 * time (creating stats/, mode 0755, if missing): under an flock of
 * stats/.lock (another process flushing into the same store waits), the
 * day's file is read if there is one, the counts added, and the sum
 * written to a temporary file in stats/, fsynced and renamed over it,
 * then the directory fsynced. Thread-safe (flushes are serialised).
 *
 * Returns 0 when every day was written cleanly. Otherwise a negative
 * code, with err naming the file and the first problem, which is one of:
 * a day that could not be written (I/O, permissions; its counts stay
 * pending for the next flush), or a day file that exists but is not a
 * valid day file (SPEC §10). Such a file is never lost: it is renamed
 * aside to DAY.json.bad-N (the first free N) and the day starts afresh
 * with the pending counts, which are written; err names both files and
 * what was wrong, for the caller's log.
 */
int	 stats_flush(struct stats *, const char *storedir, struct error *err);

/*
 * Cumulative counts since stats_new (what /metrics shows), in order of
 * bundle name then lesson id: for each bundle, first its own line (lesson
 * NULL; zeros if only its lessons were counted), then its lessons'. Runs
 * under the mutex: cb must not call back into s.
 */
void	 stats_foreach(struct stats *, void (*cb)(void *arg, const char *bundle,
	    const char *lesson, uint64_t views, uint64_t downloads), void *arg);

/* Parses "YYYY-MM-DD", a real calendar day from 1970-01-01 to
 * 9999-12-31 and nothing else; *day is the day number (days since
 * 1970-01-01). -1 if s is not one. */
int	 stats_day_parse(const char *s, int32_t *day);
/* Writes day number day as "YYYY-MM-DD" into out (STATS_DAY_LEN + 1). */
void	 stats_day_format(int32_t day, char out[STATS_DAY_LEN + 1]);

/* Sums of a period, sorted by bundle name, each bundle's lessons by id. */
struct stats_lesson_count {
	char		*id;
	uint64_t	 views;
	uint64_t	 downloads;
};

struct stats_bundle_count {
	char				*name;
	uint64_t			 views;		/* bundle page views */
	uint64_t			 downloads;	/* whole-bundle downloads */
	struct stats_lesson_count	*lessons;
	size_t				 nlessons;
};

struct stats_report {
	struct stats_bundle_count	*bundles;
	size_t				 nbundles;
	size_t				 ndays;		/* day files read */
	char				 first[STATS_DAY_LEN + 1];	/* "" if none */
	char				 last[STATS_DAY_LEN + 1];
	char				**set_aside;	/* DAY.json.bad-N in range */
	size_t				 nset_aside;
};

/*
 * Sums the day files storedir/stats/DAY.json with since <= DAY <= until
 * (either may be NULL: no bound) into *out (the caller's: free it with
 * stats_report_free). Other files in stats/ are ignored, but set-aside
 * DAY.json.bad-N files in the period are listed. No stats/ directory is
 * an empty report, not an error. A day file that does not parse (JSON
 * line and column), has a wrong type, a negative count, an invalid name,
 * or a "day" that is not its file name's is an error naming the file.
 * Reads only; takes no lock (a flush replaces files by rename).
 */
int	 stats_load(const char *storedir, const char *since, const char *until,
	    struct stats_report **out, struct error *err);
/* Adds a zero line for bundle (lesson NULL) or bundle's lesson if the
 * report lacks it, so that a report can list what was never used; the
 * names must be valid. Returns the bundle's entry. */
struct stats_bundle_count *stats_report_ensure(struct stats_report *,
	    const char *bundle, const char *lesson);
void	 stats_report_free(struct stats_report *);	/* NULL-safe */

#endif
