/*
 * intake.c owns satcheld's git intake: which repositories under the
 * watched directory hold which release tags, which of those have been
 * tried, and the thread that turns a new tag into a published release.
 *
 * Why a thread: reading a tree through libgit2, compressing it and
 * verifying it again in store_publish take as long as the bundle is big,
 * and the event loop must keep serving. The loop only owns a timer that
 * says "look now" and a pipe on which the thread says "log lines are
 * waiting"; everything else belongs to the thread.
 *
 * Why a release is rebuilt rather than trusted: the tag carries the
 * signed manifest, but the files come from the pushed tree. The build's
 * own code (bundle_build_from_head) proves the tree is that manifest and
 * writes the archive `satchel build` wrote; store_publish then checks it
 * all again, exactly as for `satchel publish`.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "bundle.h"
#include "git.h"
#include "intake.h"
#include "log.h"
#include "store.h"
#include "store-delta.h"
#include "util.h"

/* A tag message is a manifest and its signature block, no more. */
#define INTAKE_TAG_MAX	(MANIFEST_MAX + SIGS_BLOCK_MAX)

/* A tag tried once (published or skipped): not again while it points at
 * the same object. */
struct intake_tried {
	char		*repo;
	uint64_t	 serial;
	char		 oid[41];
};

/* A new tag, read and parsed, waiting for its turn. */
struct intake_cand {
	char			*repo;
	uint64_t		 serial;
	char			 oid[41];
	char			 commit[41];
	struct bundle_head	 head;
};

struct intake {
	struct event_base	*base;
	struct event		*timer, *notify;
	int			 pipe[2];
	char			*store_dir, *repos_dir;

	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 kick;		/* look now */
	int			 stop;
	int			 done;		/* the thread has ended */
	struct timespec		 stop_at;	/* when intake_stop was called */
	char			**lines;	/* log lines for the loop */
	size_t			 nlines;

	/* The thread's own. */
	struct intake_tried	*tried;
	size_t			 ntried;
	char			**known;	/* repositories seen */
	size_t			 nknown;
	int			 dir_failed;	/* repos_dir unreadable, logged */
};

/* --- the thread's log, printed by the loop --- */

static void
intake_log(struct intake *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
intake_log(struct intake *in, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;
	ssize_t	 n;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) == -1)
		fatal("out of memory");
	va_end(ap);
	pthread_mutex_lock(&in->mu);
	in->lines = xreallocarray(in->lines, in->nlines + 1, sizeof *in->lines);
	in->lines[in->nlines++] = line;
	pthread_mutex_unlock(&in->mu);
	/* One byte wakes the loop; a full pipe already will. */
	do
		n = write(in->pipe[1], "", 1);
	while (n == -1 && errno == EINTR);
}

static void
intake_flush(struct intake *in)
{
	char	**v;
	size_t	  n, i;

	pthread_mutex_lock(&in->mu);
	v = in->lines;
	n = in->nlines;
	in->lines = NULL;
	in->nlines = 0;
	pthread_mutex_unlock(&in->mu);
	for (i = 0; i < n; i++) {
		log_info("intake: %s", v[i]);
		free(v[i]);
	}
	free(v);
}

static void
intake_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	char	buf[256];

	(void)what;
	while (read(fd, buf, sizeof buf) > 0)
		;
	intake_flush(arg);
}

static void
intake_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct intake	*in = arg;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&in->mu);
	in->kick = 1;
	pthread_cond_signal(&in->cv);
	pthread_mutex_unlock(&in->mu);
}

static int
intake_stopping(struct intake *in)
{
	int	stop;

	pthread_mutex_lock(&in->mu);
	stop = in->stop;
	pthread_mutex_unlock(&in->mu);
	return stop;
}

/* --- what has been tried --- */

static struct intake_tried *
intake_tried_find(struct intake *in, const char *repo, uint64_t serial)
{
	size_t	i;

	for (i = 0; i < in->ntried; i++)
		if (in->tried[i].serial == serial &&
		    strcmp(in->tried[i].repo, repo) == 0)
			return &in->tried[i];
	return NULL;
}

static void
intake_tried_set(struct intake *in, const char *repo, uint64_t serial,
    const char *oid)
{
	struct intake_tried	*t;

	if ((t = intake_tried_find(in, repo, serial)) == NULL) {
		in->tried = xreallocarray(in->tried, in->ntried + 1,
		    sizeof *in->tried);
		t = &in->tried[in->ntried++];
		t->repo = xstrdup(repo);
		t->serial = serial;
	}
	snprintf(t->oid, sizeof t->oid, "%s", oid);
}

/* --- one pass --- */

static void
intake_cands_free(struct intake_cand *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].repo);
		bundle_head_free(&v[i].head);
	}
	free(v);
}

static int
intake_cand_cmp(const void *a, const void *b)
{
	const struct intake_cand	*x = a, *y = b;

	if (x->serial != y->serial)
		return x->serial < y->serial ? -1 : 1;
	return strcmp(x->repo, y->repo);
}

static int
intake_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directories under repos_dir, sorted, as full paths. */
static void
intake_list_dirs(struct intake *in, char ***out, size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		**v = NULL, *p;
	size_t		  k = 0;

	*out = NULL;
	*n = 0;
	if ((d = opendir(in->repos_dir)) == NULL) {
		/* Once, not at every poll, until it can be read again. */
		if (!in->dir_failed)
			intake_log(in, "%s: %s", in->repos_dir, strerror(errno));
		in->dir_failed = 1;
		return;
	}
	in->dir_failed = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", in->repos_dir, de->d_name);
		if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			free(p);
			continue;
		}
		v = xreallocarray(v, k + 1, sizeof *v);
		v[k++] = p;
	}
	closedir(d);
	if (k > 1)
		qsort(v, k, sizeof *v, intake_name_cmp);
	*out = v;
	*n = k;
}

static void
intake_known(struct intake *in, const char *path)
{
	size_t	i;

	for (i = 0; i < in->nknown; i++)
		if (strcmp(in->known[i], path) == 0)
			return;
	in->known = xreallocarray(in->known, in->nknown + 1, sizeof *in->known);
	in->known[in->nknown++] = xstrdup(path);
	intake_log(in, "watching %s", path);
}

/* The new tags of one repository, read and parsed; a tag that cannot be
 * a release is logged and remembered here. */
static void
intake_scan_repo(struct intake *in, const char *path, struct intake_cand **cv,
    size_t *cn)
{
	struct gitrepo			*repo = NULL;
	struct gitrepo_release_tags	 tags = { NULL, 0 };
	struct intake_tried		*t;
	struct error			 err;
	struct intake_cand		 c;
	char				*msg = NULL, *what;
	size_t				 len, i;
	struct gitrepo_commit		 target;

	/* Not a repository, or one with a work tree: not ours to watch. */
	if (gitrepo_open(&repo, path, &err) != 0)
		return;
	if (!gitrepo_is_bare(repo))
		goto out;
	intake_known(in, path);
	if (gitrepo_release_tags(repo, &tags, &err) != 0) {
		intake_log(in, "%s", err.msg);
		goto out;
	}
	for (i = 0; i < tags.n; i++) {
		const struct gitrepo_release_tag	*g = &tags.v[i];

		t = intake_tried_find(in, path, g->serial);
		if (t != NULL && strcmp(t->oid, g->oid) == 0)
			continue;
		intake_tried_set(in, path, g->serial, g->oid);
		what = xasprintf("%s satchel/%llu", path,
		    (unsigned long long)g->serial);
		memset(&c, 0, sizeof c);
		if (gitrepo_read_tag(repo, g->oid, INTAKE_TAG_MAX, &msg, &len,
		    &target, &err) != 0 ||
		    bundle_head_parse(&c.head, msg, len, "the tag's message",
		    &err) != 0) {
			intake_log(in, "%s: skipped: %s", what, err.msg);
		} else if (c.head.manifest->serial != g->serial) {
			intake_log(in, "%s: skipped: the tag holds the manifest "
			    "of serial %llu", what,
			    (unsigned long long)c.head.manifest->serial);
			bundle_head_free(&c.head);
		} else {
			c.repo = xstrdup(path);
			c.serial = g->serial;
			memcpy(c.oid, g->oid, sizeof c.oid);
			memcpy(c.commit, target.commit, sizeof c.commit);
			*cv = xreallocarray(*cv, *cn + 1, sizeof **cv);
			(*cv)[(*cn)++] = c;
		}
		free(msg);
		msg = NULL;
		free(what);
	}
out:
	gitrepo_release_tags_free(&tags);
	gitrepo_free(repo);
}

/* Checks what can be checked from the tag alone against the store as it
 * is now: the publisher's signature and scope, and the serial. 1: go on;
 * 0: logged and skipped. */
static int
intake_precheck(struct intake *in, const struct intake_cand *c,
    const char *what)
{
	const struct manifest		*m = c->head.manifest;
	const struct catalog_entry	*e;
	struct bundle_head		 old;
	struct store			*s = NULL;
	struct error			 err;
	int				 go = 0, same;

	if (store_open(&s, in->store_dir, STORE_READ, &err) != 0) {
		intake_log(in, "%s: skipped: %s", what, err.msg);
		goto out;
	}
	if (bundle_head_verify(&c->head, "the tag", store_trust(s), &err) != 0) {
		intake_log(in, "%s: skipped: %s", what, err.msg);
		goto out;
	}
	e = store_catalog(s) != NULL ? catalog_find(store_catalog(s), m->name) :
	    NULL;
	if (e != NULL && m->serial <= e->serial) {
		same = 0;
		if (store_release_load(s, m->name, m->serial, &old, &err) == 0) {
			same = old.manifest_len == c->head.manifest_len &&
			    memcmp(old.manifest_buf, c->head.manifest_buf,
			    old.manifest_len) == 0;
			bundle_head_free(&old);
		}
		intake_log(in, "%s: skipped: %s serial %llu is not greater than "
		    "the store's current serial %llu%s", what, m->name,
		    (unsigned long long)m->serial,
		    (unsigned long long)e->serial,
		    same ? " (already published)" : " (rollback refused)");
		goto out;
	}
	go = 1;
out:
	store_close(s);
	return go;
}

static void
intake_publish(struct intake *in, const struct intake_cand *c)
{
	struct store_publish_report	 rep;
	struct store_delta_report	 drep;
	struct store			*s = NULL;
	struct error			 err;
	char				*what, *archive;

	what = xasprintf("%s satchel/%llu", c->repo,
	    (unsigned long long)c->serial);
	archive = xasprintf("%s/tmp/intake-%s.satchel", in->store_dir, c->oid);
	memset(&rep, 0, sizeof rep);
	if (!intake_precheck(in, c, what))
		goto out;
	if (bundle_build_from_head(c->repo, c->commit, &c->head, archive,
	    &err) != 0) {
		intake_log(in, "%s: skipped: the tree does not match the "
		    "manifest: %s", what, err.msg);
		goto out;
	}
	/* The same call, checks and landing as `satchel publish`. */
	if (store_open(&s, in->store_dir, STORE_WRITE, &err) != 0 ||
	    store_publish(s, archive, (int64_t)time(NULL), 0, &rep,
	    &err) != 0) {
		intake_log(in, "%s: skipped: %s", what, err.msg);
		goto out;
	}
	intake_log(in, "%s: published %s %s (serial %llu): %zu files, %llu "
	    "bytes (%zu new, %llu bytes); catalog serial %llu", what, rep.name,
	    rep.label, (unsigned long long)rep.serial,
	    rep.files_new + rep.files_present,
	    (unsigned long long)(rep.bytes_new + rep.bytes_present),
	    rep.files_new, (unsigned long long)rep.bytes_new,
	    (unsigned long long)rep.catalog_serial);
	/* As `satchel publish` does: the deltas mirrors will ask for. */
	if (store_delta_precompute(s, rep.name, rep.serial, &drep, &err) == 0 &&
	    drep.base_serial != 0)
		intake_log(in, "%s: made %zu deltas against serial %llu", what,
		    drep.made, (unsigned long long)drep.base_serial);
out:
	unlink(archive);
	store_close(s);
	store_publish_report_free(&rep);
	free(archive);
	free(what);
}

/* Every repository's new tags, then the candidates in serial order (a
 * push of satchel/1 and satchel/2 lands 1 first). */
static void
intake_pass(struct intake *in)
{
	struct intake_cand	*cv = NULL;
	char			**dirs;
	size_t			  ndirs, cn = 0, i;

	intake_list_dirs(in, &dirs, &ndirs);
	for (i = 0; i < ndirs; i++) {
		if (!intake_stopping(in))
			intake_scan_repo(in, dirs[i], &cv, &cn);
		free(dirs[i]);
	}
	free(dirs);
	if (cn > 1)
		qsort(cv, cn, sizeof *cv, intake_cand_cmp);
	for (i = 0; i < cn && !intake_stopping(in); i++)
		intake_publish(in, &cv[i]);
	/* Left over by a stop: tried again by the next satcheld. */
	for (; i < cn; i++) {
		struct intake_tried	*t = intake_tried_find(in, cv[i].repo,
					    cv[i].serial);

		if (t != NULL)
			t->oid[0] = '\0';
	}
	intake_cands_free(cv, cn);
}

static void *
intake_main(void *arg)
{
	struct intake	*in = arg;

	pthread_mutex_lock(&in->mu);
	while (!in->stop) {
		while (!in->kick && !in->stop)
			pthread_cond_wait(&in->cv, &in->mu);
		if (in->stop)
			break;
		in->kick = 0;
		pthread_mutex_unlock(&in->mu);
		intake_pass(in);
		pthread_mutex_lock(&in->mu);
	}
	in->done = 1;
	pthread_cond_broadcast(&in->cv);
	pthread_mutex_unlock(&in->mu);
	return NULL;
}

/* --- the module --- */

static void
intake_release(struct intake *in)
{
	size_t	i;

	if (in->timer != NULL)
		event_free(in->timer);
	if (in->notify != NULL)
		event_free(in->notify);
	if (in->pipe[0] != -1)
		close(in->pipe[0]);
	if (in->pipe[1] != -1)
		close(in->pipe[1]);
	for (i = 0; i < in->nlines; i++)
		free(in->lines[i]);
	free(in->lines);
	for (i = 0; i < in->ntried; i++)
		free(in->tried[i].repo);
	free(in->tried);
	for (i = 0; i < in->nknown; i++)
		free(in->known[i]);
	free(in->known);
	pthread_cond_destroy(&in->cv);
	pthread_mutex_destroy(&in->mu);
	free(in->store_dir);
	free(in->repos_dir);
	free(in);
}

int
intake_start(struct intake **out, struct event_base *base,
    const char *store_dir, const char *repos_dir, unsigned poll_seconds,
    struct error *err)
{
	struct intake	*in = NULL;
	struct store	*s = NULL;
	struct timeval	 tv;
	struct stat	 sb;
	pthread_condattr_t ca;
	int		 rc;

	if ((rc = store_open(&s, store_dir, STORE_READ, err)) != 0)
		goto out;
	if (!store_is_origin(s) || store_trust(s) == NULL) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: not an origin store (no catalog key): --git-repos "
		    "publishes releases, which only an origin can", store_dir);
		goto out;
	}
	if (stat(repos_dir, &sb) != 0) {
		rc = error_set(err, SATCHEL_EINVALID, "--git-repos %s: %s",
		    repos_dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "--git-repos %s: not a directory", repos_dir);
		goto out;
	}
	in = xcalloc(1, sizeof *in);
	in->base = base;
	in->pipe[0] = in->pipe[1] = -1;
	in->store_dir = xstrdup(store_dir);
	in->repos_dir = xstrdup(repos_dir);
	pthread_mutex_init(&in->mu, NULL);
	/* intake_free waits by the monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&in->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pipe2(in->pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		rc = error_set(err, SATCHEL_ERR, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((in->notify = event_new(base, in->pipe[0], EV_READ | EV_PERSIST,
	    intake_notify_cb, in)) == NULL ||
	    (in->timer = event_new(base, -1, EV_PERSIST, intake_timer_cb,
	    in)) == NULL)
		fatal("event_new failed");
	event_add(in->notify, NULL);
	tv.tv_sec = poll_seconds < 1 ? 1 : poll_seconds;
	tv.tv_usec = 0;
	event_add(in->timer, &tv);
	in->kick = 1;			/* a first look straight away */
	if (pthread_create(&in->thread, NULL, intake_main, in) != 0)
		fatal("cannot start a thread");
	log_info("intake: watching %s for release tags "
	    "(every %u s)", repos_dir, (unsigned)tv.tv_sec);
	*out = in;
	in = NULL;			/* ownership moved to the caller */
out:
	if (in != NULL)
		intake_release(in);
	store_close(s);
	return rc;
}

void
intake_stop(struct intake *in)
{
	if (in == NULL)
		return;
	pthread_mutex_lock(&in->mu);
	if (!in->stop) {
		in->stop = 1;
		clock_gettime(CLOCK_MONOTONIC, &in->stop_at);
		pthread_cond_broadcast(&in->cv);
	}
	pthread_mutex_unlock(&in->mu);
	if (in->timer != NULL)
		event_del(in->timer);
}

void
intake_free(struct intake *in)
{
	struct timespec	deadline;
	int		done;

	if (in == NULL)
		return;
	intake_stop(in);
	pthread_mutex_lock(&in->mu);
	deadline = in->stop_at;
	deadline.tv_sec += INTAKE_STOP_SECONDS;
	while (!in->done && pthread_cond_timedwait(&in->cv, &in->mu,
	    &deadline) != ETIMEDOUT)
		;
	done = in->done;
	pthread_mutex_unlock(&in->mu);
	intake_flush(in);
	if (!done) {
		/*
		 * Why exit here: the thread is inside a publish that cannot be
		 * interrupted, and freeing what it uses (or letting exit()
		 * tear down the libraries under it) is worse than ending the
		 * process now. store_publish lands whole or not at all; what
		 * it staged in tmp/ is a leftover `satchel gc` removes.
		 */
		log_warn("intake: a publish is still running "
		    "after %d s; exiting without it (the store keeps its old "
		    "state or gets the new release whole)",
		    INTAKE_STOP_SECONDS);
		fflush(stderr);
		_exit(0);
	}
	pthread_join(in->thread, NULL);
	intake_flush(in);
	intake_release(in);
}
