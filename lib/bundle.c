/*
 * bundle.c owns the bundle archive as a release: what goes into it at
 * build time, in what order, and the streaming checks that prove an
 * archive matches its signed manifest.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle-archive.h"
#include "bundle-conf.h"
#include "bundle.h"
#include "fsutil.h"
#include "git.h"
#include "path.h"
#include "util.h"

#define COPY_CHUNK	(256 * 1024)

void
bundle_head_free(struct bundle_head *h)
{
	if (h == NULL)
		return;
	free(h->manifest_buf);
	manifest_free(h->manifest);
	sigs_free(&h->sigs);
	memset(h, 0, sizeof *h);
}

void
bundle_report_free(struct bundle_report *r)
{
	size_t	i;

	if (r == NULL)
		return;
	bundle_head_free(&r->head);
	free(r->out_path);
	for (i = 0; i < r->nsigners; i++)
		free(r->signers[i]);
	free(r->signers);
	memset(r, 0, sizeof *r);
}

static void
report_add_signer(struct bundle_report *r, const char *id)
{
	size_t	i;

	for (i = 0; i < r->nsigners; i++)
		if (strcmp(r->signers[i], id) == 0)
			return;
	r->signers = xreallocarray(r->signers, r->nsigners + 1, sizeof *r->signers);
	r->signers[r->nsigners++] = xstrdup(id);
}

static void
progress(const struct bundle_build_opts *o, const char *what, uint64_t done,
    uint64_t total)
{
	if (o->progress != NULL)
		o->progress(o->progress_arg, what, done, total);
}

/* Reads the current entry whole, refusing more than max bytes before
 * allocating anything. */
static int
entry_read_small(struct bundle_reader *r, const struct bundle_entry *e,
    size_t max, const char *name, char **out, size_t *len, struct error *err)
{
	char	*buf;
	size_t	 got = 0;
	ssize_t	 n;

	if (e->size > max)
		return error_set(err, SATCHEL_ELIMIT,
		    "%s: %s is %llu bytes, over the limit of %zu", name, e->path,
		    (unsigned long long)e->size, max);
	buf = xmalloc((size_t)e->size + 1);
	while (got < e->size) {
		if ((n = bundle_reader_read(r, buf + got, (size_t)e->size - got, err)) < 0) {
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != e->size) {
		free(buf);
		return error_set(err, SATCHEL_EINVALID, "%s: %s is truncated", name,
		    e->path);
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* The first two entries, in this order, or the archive is not a bundle. */
static int
head_read(struct bundle_reader *r, const char *name, struct bundle_head *h,
    struct error *err)
{
	struct bundle_entry	 e;
	char			*sbuf = NULL;
	size_t			 slen = 0;
	int			 rc;

	memset(h, 0, sizeof *h);
	if ((rc = bundle_reader_next(r, &e, err)) < 0)
		goto out;
	if (rc == 0 || strcmp(e.path, BUNDLE_ENTRY_MANIFEST) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: not a Satchel bundle (the first entry is not %s)", name,
		    BUNDLE_ENTRY_MANIFEST);
		goto out;
	}
	if ((rc = entry_read_small(r, &e, MANIFEST_MAX, name, &h->manifest_buf,
	    &h->manifest_len, err)) != 0)
		goto out;
	if ((rc = manifest_parse(&h->manifest, h->manifest_buf, h->manifest_len,
	    BUNDLE_ENTRY_MANIFEST, err)) != 0) {
		error_prefix(err, "%s", name);
		goto out;
	}
	if ((rc = bundle_reader_next(r, &e, err)) < 0)
		goto out;
	if (rc == 0 || strcmp(e.path, BUNDLE_ENTRY_SIGNATURES) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: the second entry is not %s", name, BUNDLE_ENTRY_SIGNATURES);
		goto out;
	}
	if ((rc = entry_read_small(r, &e, SIGS_BLOCK_MAX, name, &sbuf, &slen,
	    err)) != 0)
		goto out;
	if ((rc = sigs_parse(&h->sigs, sbuf, slen, BUNDLE_ENTRY_SIGNATURES, err)) != 0) {
		error_prefix(err, "%s", name);
		goto out;
	}
	rc = 0;
out:
	free(sbuf);
	if (rc != 0)
		bundle_head_free(h);
	return rc;
}

int
bundle_read_head(const char *path, struct bundle_head *out, struct error *err)
{
	struct bundle_reader	*r = NULL;
	int			 rc;

	if ((rc = bundle_reader_open(&r, path, err)) != 0)
		return rc;
	rc = head_read(r, path, out, err);
	bundle_reader_free(r);
	return rc;
}

/* Why one function for verify and sign: both must prove, entry by entry
 * and in one pass, that the archive holds exactly the manifest's files;
 * sign also copies each byte it checked into the new archive. */
static int
body_check(struct bundle_reader *r, const char *name, const struct manifest *m,
    const struct bundle_sink *sink, struct error *err)
{
	struct sha256_ctx	*h = sha256_new();
	struct bundle_entry	 e;
	struct error		 perr;
	uint8_t			 digest[SHA256_LEN];
	char			*chunk = xmalloc(COPY_CHUNK);
	size_t			 i;
	int			 rc;

	for (i = 0; i <= m->nfiles; i++) {
		const struct manifest_file	*f = i < m->nfiles ? &m->files[i] : NULL;
		const struct manifest_file	*other;
		uint64_t			 got = 0;
		ssize_t				 n;

		if ((rc = bundle_reader_next(r, &e, err)) < 0)
			goto out;	/* the reader's message names the archive */
		if (rc == 0) {
			if (f == NULL)
				break;
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: file \"%s\" is missing (the archive ends after %zu of %zu files)",
			    name, f->path, i, m->nfiles);
			goto out;
		}
		if (path_check(e.path, strlen(e.path), &perr) != 0) {
			rc = error_set(err, SATCHEL_EINVALID, "%s: unsafe entry %s",
			    name, perr.msg);
			goto out;
		}
		if (f == NULL || strcmp(e.path, f->path) != 0) {
			other = manifest_find_file(m, e.path);
			if (strcmp(e.path, BUNDLE_ENTRY_MANIFEST) == 0 ||
			    strcmp(e.path, BUNDLE_ENTRY_SIGNATURES) == 0)
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: \"%s\" appears twice", name, e.path);
			else if (other == NULL)
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: extra file \"%s\" is not in the manifest",
				    name, e.path);
			else if (f == NULL || other < f)
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: file \"%s\" appears twice", name, e.path);
			else
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: file \"%s\" is missing or out of order "
				    "(found \"%s\" where the manifest lists it)",
				    name, f->path, e.path);
			goto out;
		}
		if (e.mode != f->mode) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: file \"%s\" has mode %o, the manifest says %o",
			    name, f->path, e.mode, f->mode);
			goto out;
		}
		if (e.size != f->size) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: file \"%s\" is %llu bytes, the manifest says %llu",
			    name, f->path, (unsigned long long)e.size,
			    (unsigned long long)f->size);
			goto out;
		}
		if (sink != NULL && (rc = sink->begin(sink->arg, f, err)) != 0)
			goto out;
		while ((n = bundle_reader_read(r, chunk, COPY_CHUNK, err)) > 0) {
			got += (uint64_t)n;
			if (got > f->size)
				break;
			sha256_update(h, chunk, (size_t)n);
			if (sink != NULL && (rc = sink->write(sink->arg, chunk,
			    (size_t)n, err)) != 0)
				goto out;
		}
		if (n < 0) {
			rc = (int)n;	/* the reader's message names the archive */
			goto out;
		}
		if (got != f->size) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: file \"%s\" holds %llu bytes, the manifest says %llu",
			    name, f->path, (unsigned long long)got,
			    (unsigned long long)f->size);
			goto out;
		}
		sha256_final(h, digest);
		if (memcmp(digest, f->sha256, SHA256_LEN) != 0) {
			char	want[SHA256_HEX_LEN + 1], have[SHA256_HEX_LEN + 1];

			hex_encode(want, f->sha256, SHA256_LEN);
			hex_encode(have, digest, SHA256_LEN);
			rc = error_set(err, SATCHEL_EVERIFY,
			    "%s: file \"%s\" has been altered (SHA-256 %s, the manifest says %s)",
			    name, f->path, have, want);
			goto out;
		}
		if (sink != NULL && sink->end != NULL &&
		    (rc = sink->end(sink->arg, f, err)) != 0)
			goto out;
	}
	rc = 0;
out:
	free(chunk);
	sha256_free(h);
	return rc;
}

/* Signature rules shared by verify and sign's report. */
static int
head_check_signers(const struct bundle_head *h, const char *name,
    const struct pubkey *keys, size_t nkeys, const struct trust *trust,
    struct bundle_report *rep, struct error *err)
{
	const struct manifest	*m = h->manifest;
	size_t			 i, j;
	int			 rc;

	if (keys != NULL && nkeys > 0) {
		for (i = 0; i < nkeys; i++) {
			rc = sigs_check(&h->sigs, &keys[i], SIG_DOMAIN_MANIFEST,
			    h->manifest_buf, h->manifest_len);
			if (rc == SATCHEL_EVERIFY)
				return error_set(err, SATCHEL_EVERIFY,
				    "%s: the signature by key %s does not verify "
				    "(the manifest or the signature was altered)",
				    name, keys[i].id);
			if (rc == 0)
				report_add_signer(rep, keys[i].id);
		}
		if (rep->nsigners == 0) {
			struct buf	b;

			buf_init(&b);
			for (i = 0; i < h->sigs.n; i++)
				buf_printf(&b, "%s%s", i ? ", " : "", h->sigs.v[i].keyid);
			rc = error_set(err, SATCHEL_EVERIFY,
			    "%s: not signed by any of the given keys (%s)", name,
			    h->sigs.n == 0 ? "the bundle has no signature" : b.data);
			buf_free(&b);
			return rc;
		}
	}
	if (trust != NULL) {
		int	 covered = 0;

		for (i = 0; i < trust->npublishers; i++) {
			const struct pubkey	*k = &trust->publishers[i].key;

			rc = sigs_check(&h->sigs, k, SIG_DOMAIN_MANIFEST,
			    h->manifest_buf, h->manifest_len);
			if (rc == SATCHEL_EVERIFY)
				return error_set(err, SATCHEL_EVERIFY,
				    "%s: the signature by publisher key %s does not verify "
				    "(the manifest or the signature was altered)",
				    name, k->id);
			if (rc != 0)
				continue;
			if (!trust_publisher_allows(trust, k, m->name))
				continue;
			covered = 1;
			for (j = 0; j < rep->nsigners; j++)
				if (strcmp(rep->signers[j], k->id) == 0)
					break;
			if (j == rep->nsigners)
				report_add_signer(rep, k->id);
		}
		if (!covered) {
			for (i = 0; i < h->sigs.n; i++)
				for (j = 0; j < trust->npublishers; j++)
					if (strcmp(h->sigs.v[i].keyid,
					    trust->publishers[j].key.id) == 0)
						return error_set(err, SATCHEL_EVERIFY,
						    "%s: signed by publisher key %s, which the trust "
						    "policy does not allow to publish \"%s\"",
						    name, h->sigs.v[i].keyid, m->name);
			{
				struct buf	b;

				buf_init(&b);
				for (i = 0; i < h->sigs.n; i++)
					buf_printf(&b, "%s%s", i ? ", " : "",
					    h->sigs.v[i].keyid);
				rc = error_set(err, SATCHEL_EVERIFY,
				    "%s: no signature by a publisher key of the trust "
				    "policy (%s)", name, h->sigs.n == 0 ?
				    "the bundle is unsigned" : b.data);
				buf_free(&b);
				return rc;
			}
		}
	}
	return 0;
}

int
bundle_head_check(const struct bundle_head *h, const char *name,
    const struct trust *trust, struct error *err)
{
	struct bundle_report	rep;
	int			rc;

	memset(&rep, 0, sizeof rep);
	rc = head_check_signers(h, name, NULL, 0, trust, &rep, err);
	bundle_report_free(&rep);	/* its head is empty: h stays the caller's */
	return rc;
}

int
bundle_verify(const char *path, const struct pubkey *keys, size_t nkeys,
    const struct trust *trust, struct bundle_report *out, struct error *err)
{
	return bundle_verify_to(path, keys, nkeys, trust, NULL, out, err);
}

int
bundle_verify_to(const char *path, const struct pubkey *keys, size_t nkeys,
    const struct trust *trust, const struct bundle_sink *sink,
    struct bundle_report *out, struct error *err)
{
	struct bundle_reader	*r = NULL;
	struct bundle_report	 rep;
	int			 rc;

	memset(&rep, 0, sizeof rep);
	if ((rc = bundle_reader_open(&r, path, err)) != 0)
		goto out;
	if ((rc = head_read(r, path, &rep.head, err)) != 0)
		goto out;
	if ((rc = head_check_signers(&rep.head, path, keys, nkeys, trust, &rep,
	    err)) != 0)
		goto out;
	if (sink != NULL && sink->head != NULL &&
	    (rc = sink->head(sink->arg, &rep.head, err)) != 0)
		goto out;
	if ((rc = body_check(r, path, rep.head.manifest, sink, err)) != 0)
		goto out;
	*out = rep;
	memset(&rep, 0, sizeof rep);	/* ownership moved to the caller */
out:
	bundle_reader_free(r);
	bundle_report_free(&rep);
	return rc;
}

/* Writes the two head entries; the rest follows in manifest order. */
static int
head_write(struct bundle_writer *w, const char *mbuf, size_t mlen,
    const struct sigs *sigs, struct error *err)
{
	char	*sbuf;
	size_t	 slen;
	int	 rc;

	if ((rc = bundle_writer_begin(w, BUNDLE_ENTRY_MANIFEST, 0644, mlen, err)) != 0 ||
	    (rc = bundle_writer_write(w, mbuf, mlen, err)) != 0)
		return rc;
	sigs_encode(sigs, &sbuf, &slen);
	if ((rc = bundle_writer_begin(w, BUNDLE_ENTRY_SIGNATURES, 0644, slen, err)) == 0)
		rc = bundle_writer_write(w, sbuf, slen, err);
	free(sbuf);
	return rc;
}

static int	head_frame(const struct bundle_head *, char **, size_t *,
		    struct error *);

static int
writer_sink_begin(void *arg, const struct manifest_file *f, struct error *err)
{
	return bundle_writer_begin(arg, f->path, f->mode, f->size, err);
}

static int
writer_sink_write(void *arg, const void *data, size_t len, struct error *err)
{
	return bundle_writer_write(arg, data, len, err);
}

int
bundle_sign(const char *path, struct privkey **keys, size_t nkeys,
    int *changed, struct bundle_report *out, struct error *err)
{
	struct bundle_reader	*r = NULL;
	struct bundle_writer	*w = NULL;
	struct bundle_report	 rep;
	struct atomic_file	 af = { -1, NULL, NULL };
	struct sigs		 before = { NULL, 0 };
	struct bundle_head	 before_head;
	char			*frame = NULL, *oldframe = NULL;
	size_t			 i, flen, oldlen;
	int			 rc, same = 0;

	memset(&rep, 0, sizeof rep);
	*changed = 0;
	if ((rc = bundle_reader_open(&r, path, err)) != 0)
		goto out;
	if ((rc = head_read(r, path, &rep.head, err)) != 0)
		goto out;
	before.v = xreallocarray(NULL, rep.head.sigs.n, sizeof *before.v);
	before.n = rep.head.sigs.n;
	if (before.n > 0)
		memcpy(before.v, rep.head.sigs.v, before.n * sizeof *before.v);
	for (i = 0; i < nkeys; i++) {
		struct pubkey	pub;

		privkey_public(keys[i], &pub);
		if ((rc = sigs_add(&rep.head.sigs, keys[i], SIG_DOMAIN_MANIFEST,
		    rep.head.manifest_buf, rep.head.manifest_len, err)) != 0)
			goto out;
		report_add_signer(&rep, pub.id);
	}
	if (before.n == rep.head.sigs.n && (before.n == 0 ||
	    memcmp(before.v, rep.head.sigs.v, before.n * sizeof *before.v) == 0)) {
		/* Still prove the archive is whole before saying it is signed. */
		rc = body_check(r, path, rep.head.manifest, NULL, err);
		goto done;
	}
	/*
	 * When the archive starts with the head frame Satchel would write for
	 * its old signatures, its body is reused byte for byte after the new
	 * head (once every file has been checked); otherwise the files are
	 * re-compressed as they are checked. Either way the result is the
	 * bytes `satchel build --key` writes.
	 */
	before_head.manifest = rep.head.manifest;
	before_head.manifest_buf = rep.head.manifest_buf;
	before_head.manifest_len = rep.head.manifest_len;
	before_head.sigs = before;
	if ((rc = head_frame(&before_head, &oldframe, &oldlen, err)) != 0 ||
	    (rc = head_frame(&rep.head, &frame, &flen, err)) != 0 ||
	    (rc = file_has_prefix(path, oldframe, oldlen, &same, err)) != 0 ||
	    (rc = atomic_file_open(&af, path, 0644, err)) != 0 ||
	    (rc = write_all(af.fd, frame, flen, path, err)) != 0)
		goto out;
	if (same) {
		if ((rc = body_check(r, path, rep.head.manifest, NULL, err)) != 0 ||
		    (rc = file_append_from(path, (off_t)oldlen, af.fd, err)) != 0)
			goto out;
	} else {
		struct bundle_sink	sink = { NULL, writer_sink_begin,
					    writer_sink_write, NULL, NULL };

		if ((rc = bundle_writer_open(&w, af.fd, rep.head.manifest->time,
		    err)) != 0)
			goto out;
		sink.arg = w;
		if ((rc = body_check(r, path, rep.head.manifest, &sink, err)) != 0 ||
		    (rc = bundle_writer_finish(w, err)) != 0)
			goto out;
	}
	if ((rc = atomic_file_commit(&af, err)) != 0)
		goto out;
	*changed = 1;
done:
	if (rc == 0) {
		*out = rep;
		memset(&rep, 0, sizeof rep);
	}
out:
	free(frame);
	free(oldframe);
	sigs_free(&before);
	bundle_writer_free(w);
	atomic_file_abort(&af);
	bundle_reader_free(r);
	bundle_report_free(&rep);
	return rc;
}

/* --- build --- */

static int
lesson_collect(struct gitrepo *repo, const struct gitrepo_files *files,
    struct manifest *m, struct error *err)
{
	size_t	i, j;
	int	rc = 0;

	for (i = 0; i < files->n; i++) {
		const char	*p = files->v[i].path, *id, *slash;
		char		*lid;

		if (strncmp(p, "lessons/", 8) != 0)
			continue;
		id = p + 8;
		if ((slash = strchr(id, '/')) == NULL)
			continue;	/* a file directly under lessons/ */
		lid = xstrndup(id, (size_t)(slash - id));
		if (m->nlessons > 0 && strcmp(m->lessons[m->nlessons - 1].id, lid) == 0) {
			free(lid);
			continue;
		}
		if (lesson_id_check(lid) != 0) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "lessons/%s: lesson id must be 1-64 of a-z, 0-9, '.', '_' and '-', "
			    "starting with a letter or digit", lid);
			free(lid);
			return rc;
		}
		m->lessons = xreallocarray(m->lessons, m->nlessons + 1, sizeof *m->lessons);
		memset(&m->lessons[m->nlessons], 0, sizeof *m->lessons);
		m->lessons[m->nlessons++].id = lid;
	}
	if (m->nlessons == 0)
		return error_set(err, SATCHEL_EINVALID,
		    "no lessons: a bundle needs at least one lessons/ID/ directory");
	for (i = 0; i < m->nlessons; i++) {
		struct manifest_lesson	*l = &m->lessons[i];
		char			*conf = xasprintf("lessons/%s/lesson.conf", l->id);
		char			*entry;
		const char		*e;
		void			*data = NULL;
		size_t			 len;

		for (j = 0; j < files->n; j++)
			if (strcmp(files->v[j].path, conf) == 0)
				break;
		if (j < files->n) {
			if (files->v[j].size > 1024 * 1024) {
				rc = error_set(err, SATCHEL_ELIMIT, "%s: larger than 1 MiB", conf);
			} else if ((rc = gitrepo_read_blob(repo, files->v[j].oid, &data,
			    &len, err)) == 0)
				rc = lesson_conf_parse(&l->meta, data, len, conf, err);
			free(data);
			if (rc != 0) {
				free(conf);
				return rc;
			}
		}
		free(conf);
		if (meta_get(&l->meta, "entry") == NULL)
			meta_add(&l->meta, "entry", "index.html");
		if (meta_get(&l->meta, "title") == NULL)
			meta_add(&l->meta, "title", l->id);
		meta_sort(&l->meta);
		e = meta_get(&l->meta, "entry");
		entry = xasprintf("lessons/%s/%s", l->id, e);
		for (j = 0; j < files->n; j++)
			if (strcmp(files->v[j].path, entry) == 0)
				break;
		if (j == files->n) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "lessons/%s: the entry page \"%s\" is missing%s", l->id, e,
			    strcmp(e, "index.html") == 0 ?
			    " (add it, or name another with \"entry\" in lesson.conf)" : "");
			free(entry);
			return rc;
		}
		free(entry);
	}
	return 0;
}

/* The manifest of a commit: bundle.conf, lessons, changelog, and the
 * SHA-256 of every file (the first of the two passes over the blobs). */
static int
build_manifest(struct gitrepo *repo, const struct gitrepo_commit *c,
    const struct gitrepo_files *files, const struct bundle_build_opts *o,
    int with_changelog, struct manifest **out, struct error *err)
{
	struct manifest		*m = manifest_new();
	struct bundle_conf	 conf;
	struct error		 perr;
	void			*data = NULL;
	size_t			 len, i, conf_i = files->n;
	uint64_t		 total = 0;
	int			 rc;

	memset(&conf, 0, sizeof conf);
	if (files->n == 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: the tree of %s is empty; nothing to build", o->repo, o->rev);
		goto out;
	}
	for (i = 0; i < files->n; i++) {
		const char	*p = files->v[i].path;

		if (path_check(p, strlen(p), &perr) != 0) {
			rc = error_set(err, SATCHEL_EINVALID, "%s: %s", o->repo, perr.msg);
			goto out;
		}
		if (strncmp(p, BUNDLE_RESERVED_DIR "/", strlen(BUNDLE_RESERVED_DIR) + 1) == 0) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: \"%s\": the directory %s/ is reserved for the archive's own entries",
			    o->repo, p, BUNDLE_RESERVED_DIR);
			goto out;
		}
		if (files->v[i].size > MANIFEST_FILE_MAX) {
			rc = error_set(err, SATCHEL_ELIMIT, "%s: \"%s\" is larger than %llu bytes",
			    o->repo, p, (unsigned long long)MANIFEST_FILE_MAX);
			goto out;
		}
		if (strcmp(p, "bundle.conf") == 0)
			conf_i = i;
		total += files->v[i].size;
	}
	if (files->n > MANIFEST_FILES_MAX || total > MANIFEST_TOTAL_MAX) {
		rc = error_set(err, SATCHEL_ELIMIT, "%s: too many files or bytes for one bundle",
		    o->repo);
		goto out;
	}
	if (conf_i == files->n) {
		rc = error_set(err, SATCHEL_ENOTFOUND,
		    "%s: no bundle.conf at the root of the tree of %s "
		    "(is this a Satchel bundle repository? `satchel init` makes one)",
		    o->repo, o->rev);
		goto out;
	}
	if (files->v[conf_i].size > 1024 * 1024) {
		rc = error_set(err, SATCHEL_ELIMIT, "bundle.conf: larger than 1 MiB");
		goto out;
	}
	if ((rc = gitrepo_read_blob(repo, files->v[conf_i].oid, &data, &len, err)) != 0)
		goto out;
	if ((rc = bundle_conf_parse(&conf, data, len, "bundle.conf", err)) != 0)
		goto out;
	m->name = conf.name;
	m->label = conf.label;
	m->serial = conf.serial;
	m->meta = conf.meta;
	memset(&conf, 0, sizeof conf);	/* ownership moved to m */
	memcpy(m->commit, c->commit, sizeof m->commit);
	memcpy(m->tree, c->tree, sizeof m->tree);
	m->time = c->time < 0 ? 0 : c->time;
	if ((rc = lesson_collect(repo, files, m, err)) != 0)
		goto out;
	if (with_changelog && (rc = gitrepo_changelog(repo, c, m->serial,
	    MANIFEST_CHANGELOG_MAX, &m->changelog, &m->nchangelog, err)) != 0)
		goto out;
	/* Digests are filled in by build_body, in the same single pass that
	 * writes the files. */
	m->files = xcalloc(files->n, sizeof *m->files);
	for (i = 0; i < files->n; i++) {
		m->files[i].path = xstrdup(files->v[i].path);
		m->files[i].mode = files->v[i].mode;
		m->files[i].size = files->v[i].size;
		m->total_size += files->v[i].size;
		m->nfiles++;
	}
	manifest_sort(m);
	*out = m;
	m = NULL;		/* ownership moved to the caller */
out:
	free(data);
	bundle_conf_free(&conf);
	manifest_free(m);
	return rc;
}

/*
 * Reading blobs (inflating them, hashing them) and compressing them are
 * the two halves of a build; a reader thread does the first while the
 * calling thread does the second, like `git archive | zstd`. The reader
 * runs ahead by at most PREFETCH_MAX bytes (or one blob, however large),
 * so memory stays bounded by the largest file, not the bundle.
 */
#define PREFETCH_MAX	(16u << 20)
/* Files above this are streamed by the compressing thread instead. */
#define STREAM_MIN	(4u << 20)

struct prefetched {
	struct gitrepo_blob	*blob;		/* whole, hashed by the reader */
	struct gitrepo_stream	*stream;	/* or read and hashed later */
};

struct prefetch {
	pthread_mutex_t		  mu;
	pthread_cond_t		  cv;
	struct gitrepo		 *repo;
	const struct gitrepo_files *files;
	struct manifest		 *m;
	struct prefetched	 *ready;	/* by file index; empty: not yet */
	uint64_t		  held;		/* bytes read and not released */
	int			  stop;		/* the consumer gave up */
	int			  rc;		/* the reader's failure */
	struct error		  err;
};

static void *
prefetch_main(void *arg)
{
	struct prefetch		*pf = arg;
	struct prefetched	 item;
	struct error		 err;
	size_t			 i, len;
	uint64_t		 ssize;
	int			 rc = 0;

	for (i = 0; i < pf->m->nfiles; i++) {
		struct manifest_file	*f = &pf->m->files[i];
		uint64_t		 cost = f->size > STREAM_MIN ? 0 : f->size;

		pthread_mutex_lock(&pf->mu);
		while (!pf->stop && pf->held > 0 && pf->held + cost > PREFETCH_MAX)
			pthread_cond_wait(&pf->cv, &pf->mu);
		rc = pf->stop;
		pthread_mutex_unlock(&pf->mu);
		if (rc != 0)
			return NULL;
		if (strcmp(pf->files->v[i].path, f->path) != 0)
			fatal("build: file order differs at %s", f->path);
		memset(&item, 0, sizeof item);
		if (cost == 0 && f->size > 0) {
			rc = gitrepo_stream_open(pf->repo, pf->files->v[i].oid,
			    &ssize, &item.stream, &err);
			len = (size_t)ssize;
		} else if ((rc = gitrepo_blob_open(pf->repo, pf->files->v[i].oid,
		    &item.blob, &err)) == 0)
			len = gitrepo_blob_size(item.blob);
		if (rc != 0) {
			error_prefix(&err, "%s", f->path);
			break;
		}
		if (len != f->size) {
			gitrepo_blob_free(item.blob);
			gitrepo_stream_free(item.stream);
			rc = error_set(&err, SATCHEL_ERR,
			    "%s: blob %s is %zu bytes, its tree entry said %llu",
			    f->path, pf->files->v[i].oid, len,
			    (unsigned long long)f->size);
			break;
		}
		/* Only this thread writes the digests of whole blobs; the
		 * caller reads them after joining it. */
		if (item.blob != NULL)
			sha256(gitrepo_blob_data(item.blob), len, f->sha256);
		pthread_mutex_lock(&pf->mu);
		pf->ready[i] = item;
		pf->held += cost;
		pthread_cond_broadcast(&pf->cv);
		pthread_mutex_unlock(&pf->mu);
	}
	if (rc != 0) {
		pthread_mutex_lock(&pf->mu);
		pf->rc = rc;
		pf->err = err;
		pthread_cond_broadcast(&pf->cv);
		pthread_mutex_unlock(&pf->mu);
	}
	return NULL;
}

/* A large file: read, hashed and written a piece at a time. */
static int
stream_file(struct bundle_writer *w, struct gitrepo_stream *st,
    struct manifest_file *f, char *chunk, struct error *err)
{
	struct sha256_ctx	*h = sha256_new();
	ssize_t			 n;
	int			 rc;

	if ((rc = bundle_writer_begin(w, f->path, f->mode, f->size, err)) != 0)
		goto out;
	while ((n = gitrepo_stream_read(st, chunk, COPY_CHUNK, err)) > 0) {
		sha256_update(h, chunk, (size_t)n);
		if ((rc = bundle_writer_write(w, chunk, (size_t)n, err)) != 0)
			goto out;
	}
	if (n < 0) {
		rc = (int)n;
		error_prefix(err, "%s", f->path);
		goto out;
	}
	sha256_final(h, f->sha256);
out:
	sha256_free(h);
	return rc;
}

/* Why the body goes first, to a temporary file: the manifest (with every
 * file's digest) leads the archive, but each blob should be read from git
 * only once. So one pass hashes each blob and writes its entry to the
 * body; the head frame is then made from the finished manifest and the
 * archive is the head frame followed by the body (see bundle-archive.h). */
static int
build_body(struct gitrepo *repo, const struct gitrepo_files *files,
    struct manifest *m, int fd, const char *name,
    const struct bundle_build_opts *o, struct error *err)
{
	struct prefetch		 pf;
	struct bundle_writer	*w = NULL;
	pthread_t		 reader;
	char			*chunk = xmalloc(COPY_CHUNK);
	size_t			 i;
	uint64_t		 done = 0;
	int			 rc, started = 0;

	memset(&pf, 0, sizeof pf);
	pthread_mutex_init(&pf.mu, NULL);
	pthread_cond_init(&pf.cv, NULL);
	pf.repo = repo;
	pf.files = files;
	pf.m = m;
	pf.ready = xcalloc(m->nfiles, sizeof *pf.ready);
	if ((rc = bundle_writer_open(&w, fd, m->time, err)) != 0)
		goto out;
	if (pthread_create(&reader, NULL, prefetch_main, &pf) != 0)
		fatal("cannot start a thread");
	started = 1;
	for (i = 0; i < m->nfiles; i++) {
		struct manifest_file	*f = &m->files[i];
		struct prefetched	 item;

		pthread_mutex_lock(&pf.mu);
		while (pf.ready[i].blob == NULL && pf.ready[i].stream == NULL &&
		    pf.rc == 0)
			pthread_cond_wait(&pf.cv, &pf.mu);
		item = pf.ready[i];
		memset(&pf.ready[i], 0, sizeof pf.ready[i]);
		if (item.blob == NULL && item.stream == NULL) {
			rc = pf.rc;
			*err = pf.err;
		}
		pthread_mutex_unlock(&pf.mu);
		if (item.blob == NULL && item.stream == NULL)
			goto out;
		if (item.stream != NULL) {
			rc = stream_file(w, item.stream, f, chunk, err);
			gitrepo_stream_free(item.stream);
		} else {
			rc = bundle_writer_begin(w, f->path, f->mode, f->size, err);
			if (rc == 0)
				rc = bundle_writer_write(w, gitrepo_blob_data(item.blob),
				    gitrepo_blob_size(item.blob), err);
			gitrepo_blob_free(item.blob);
			pthread_mutex_lock(&pf.mu);
			pf.held -= f->size;
			pthread_cond_broadcast(&pf.cv);
			pthread_mutex_unlock(&pf.mu);
		}
		if (rc != 0) {
			error_prefix(err, "%s", name);
			goto out;
		}
		done += f->size;
		progress(o, "building", done, m->total_size);
	}
	if ((rc = bundle_writer_finish(w, err)) != 0)
		error_prefix(err, "%s", name);
out:
	if (started) {
		pthread_mutex_lock(&pf.mu);
		pf.stop = 1;
		pthread_cond_broadcast(&pf.cv);
		pthread_mutex_unlock(&pf.mu);
		pthread_join(reader, NULL);
	}
	for (i = 0; i < m->nfiles; i++) {
		gitrepo_blob_free(pf.ready[i].blob);
		gitrepo_stream_free(pf.ready[i].stream);
	}
	free(pf.ready);
	free(chunk);
	pthread_cond_destroy(&pf.cv);
	pthread_mutex_destroy(&pf.mu);
	bundle_writer_free(w);
	return rc;
}

/* The head frame: the manifest and signature entries, compressed. */
static int
head_frame(const struct bundle_head *h, char **out, size_t *len,
    struct error *err)
{
	struct bundle_writer	*w = NULL;
	int			 rc;

	if ((rc = bundle_writer_open_head(&w, h->manifest->time, err)) == 0 &&
	    (rc = head_write(w, h->manifest_buf, h->manifest_len, &h->sigs,
	    err)) == 0)
		rc = bundle_writer_finish_head(w, out, len, err);
	bundle_writer_free(w);
	return rc;
}

static size_t
distinct_keys(struct privkey **keys, size_t n)
{
	struct pubkey	a, b;
	size_t		i, j, count = 0;

	for (i = 0; i < n; i++) {
		privkey_public(keys[i], &a);
		for (j = 0; j < i; j++) {
			privkey_public(keys[j], &b);
			if (strcmp(a.id, b.id) == 0)
				break;
		}
		count += j == i;
	}
	return count;
}

/* Signs the head's manifest with every key (replacing what was there). */
static int
sign_all(struct bundle_head *h, struct privkey **keys, size_t nkeys,
    struct error *err)
{
	size_t	i;
	int	rc;

	sigs_free(&h->sigs);
	for (i = 0; i < nkeys; i++)
		if ((rc = sigs_add(&h->sigs, keys[i], SIG_DOMAIN_MANIFEST,
		    h->manifest_buf, h->manifest_len, err)) != 0)
			return rc;
	return 0;
}

int
bundle_build(const struct bundle_build_opts *o, struct bundle_report *out,
    struct error *err)
{
	struct gitrepo		*repo = NULL;
	struct gitrepo_commit	 c;
	struct gitrepo_files	 files = { NULL, 0 };
	struct bundle_report	 rep;
	struct atomic_file	 af = { -1, NULL, NULL };
	char			*sbuf = NULL, *tagmsg = NULL, *frame = NULL;
	size_t			 slen, flen, i;
	uint64_t		 maxtag = 0, hsize;
	int			 rc;

	memset(&rep, 0, sizeof rep);
	if ((rc = gitrepo_open(&repo, o->repo, err)) != 0 ||
	    (rc = gitrepo_resolve(repo, o->rev, &c, err)) != 0 ||
	    (rc = gitrepo_list_files(repo, &c, &files, err)) != 0)
		goto out;
	if ((rc = build_manifest(repo, &c, &files, o, 1, &rep.head.manifest, err)) != 0)
		goto out;
	if (o->tag) {
		if ((rc = gitrepo_max_release_tag(repo, &maxtag, err)) != 0)
			goto out;
		if (rep.head.manifest->serial <= maxtag) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "bundle.conf: serial %llu is not greater than the latest "
			    "release tag satchel/%llu; raise serial to tag a new release",
			    (unsigned long long)rep.head.manifest->serial,
			    (unsigned long long)maxtag);
			goto out;
		}
	}
	rep.out_path = o->out != NULL ? xstrdup(o->out) :
	    xasprintf("%s-%s.satchel", rep.head.manifest->name,
	    rep.head.manifest->label);
	/*
	 * The head's size is known before any file is hashed (digests have a
	 * fixed width, and the head frame is stored, not compressed), so the
	 * body is written straight after it and the head filled in last.
	 */
	manifest_encode(rep.head.manifest, &rep.head.manifest_buf,
	    &rep.head.manifest_len);
	hsize = bundle_head_frame_size(rep.head.manifest_len,
	    distinct_keys(o->keys, o->nkeys) * SIGS_LINE_LEN);
	free(rep.head.manifest_buf);
	rep.head.manifest_buf = NULL;
	if ((rc = atomic_file_open(&af, rep.out_path, 0644, err)) != 0)
		goto out;
	if (lseek(af.fd, (off_t)hsize, SEEK_SET) == -1) {
		rc = error_set(err, SATCHEL_ERR, "%s: seek: %s", rep.out_path,
		    strerror(errno));
		goto out;
	}
	if ((rc = build_body(repo, &files, rep.head.manifest, af.fd,
	    rep.out_path, o, err)) != 0)
		goto out;
	manifest_encode(rep.head.manifest, &rep.head.manifest_buf,
	    &rep.head.manifest_len);
	if ((rc = sign_all(&rep.head, o->keys, o->nkeys, err)) != 0 ||
	    (rc = head_frame(&rep.head, &frame, &flen, err)) != 0)
		goto out;
	if (flen != hsize)
		fatal("build: head frame is %zu bytes, %llu were reserved", flen,
		    (unsigned long long)hsize);
	if (pwrite(af.fd, frame, flen, 0) != (ssize_t)flen) {
		rc = error_set(err, SATCHEL_ERR, "%s: write: %s", rep.out_path,
		    strerror(errno));
		goto out;
	}
	if ((rc = atomic_file_commit(&af, err)) != 0)
		goto out;
	for (i = 0; i < o->nkeys; i++) {
		struct pubkey	pub;

		privkey_public(o->keys[i], &pub);
		report_add_signer(&rep, pub.id);
	}
	if (o->tag) {
		sigs_encode(&rep.head.sigs, &sbuf, &slen);
		tagmsg = xasprintf("%s%s", rep.head.manifest_buf, sbuf);
		if ((rc = gitrepo_create_release_tag(repo, &c,
		    rep.head.manifest->serial, tagmsg, err)) != 0)
			goto out;
	}
	*out = rep;
	memset(&rep, 0, sizeof rep);	/* ownership moved to the caller */
out:
	atomic_file_abort(&af);
	free(frame);
	free(sbuf);
	free(tagmsg);
	gitrepo_files_free(&files);
	gitrepo_free(repo);
	bundle_report_free(&rep);
	return rc;
}

/* Why verify on export too: an object damaged on disk must not leave the
 * store inside an archive that claims to be signed. */
int
bundle_write_archive(const struct bundle_head *h, const char *path,
    bundle_open_fn open_file, void *arg, struct error *err)
{
	struct atomic_file	 af = { -1, NULL, NULL };
	struct bundle_writer	*w = NULL;
	struct sha256_ctx	*ctx = sha256_new();
	uint8_t			 digest[SHA256_LEN];
	char			*frame = NULL, *chunk = xmalloc(COPY_CHUNK);
	size_t			 flen, i;
	int			 rc, fd = -1;

	if ((rc = head_frame(h, &frame, &flen, err)) != 0 ||
	    (rc = atomic_file_open(&af, path, 0644, err)) != 0 ||
	    (rc = write_all(af.fd, frame, flen, path, err)) != 0 ||
	    (rc = bundle_writer_open(&w, af.fd, h->manifest->time, err)) != 0)
		goto out;
	for (i = 0; i < h->manifest->nfiles; i++) {
		const struct manifest_file	*f = &h->manifest->files[i];
		uint64_t			 got = 0;
		ssize_t				 n;

		if ((rc = open_file(arg, f, &fd, err)) != 0 ||
		    (rc = bundle_writer_begin(w, f->path, f->mode, f->size, err)) != 0)
			goto out;
		while (got < f->size && (n = read(fd, chunk, COPY_CHUNK)) != 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1) {
				rc = error_set(err, SATCHEL_ERR, "%s: read: %s",
				    f->path, strerror(errno));
				goto out;
			}
			if ((uint64_t)n > f->size - got)
				n = (ssize_t)(f->size - got);
			sha256_update(ctx, chunk, (size_t)n);
			if ((rc = bundle_writer_write(w, chunk, (size_t)n, err)) != 0)
				goto out;
			got += (uint64_t)n;
		}
		close(fd);
		fd = -1;
		sha256_final(ctx, digest);
		if (got != f->size || memcmp(digest, f->sha256, SHA256_LEN) != 0) {
			rc = error_set(err, SATCHEL_EVERIFY,
			    "%s: the stored copy of \"%s\" is damaged (run satchel fsck)",
			    h->manifest->name, f->path);
			goto out;
		}
	}
	if ((rc = bundle_writer_finish(w, err)) != 0)
		goto out;
	rc = atomic_file_commit(&af, err);
out:
	if (fd != -1)
		close(fd);
	free(chunk);
	free(frame);
	sha256_free(ctx);
	bundle_writer_free(w);
	atomic_file_abort(&af);
	return rc;
}

/* --- a signed head from elsewhere (a release tag) --- */

int
bundle_head_parse(struct bundle_head *out, const char *buf, size_t len,
    const char *name, struct error *err)
{
	const char	*p;
	size_t		 mlen;
	int		 rc;

	memset(out, 0, sizeof *out);
	if ((p = memmem(buf, len, "\nend\n", 5)) == NULL)
		return error_set(err, SATCHEL_EINVALID,
		    "%s: not a signed manifest (no \"end\" line)", name);
	mlen = (size_t)(p - buf) + 5;
	if (mlen > MANIFEST_MAX)
		return error_set(err, SATCHEL_ELIMIT,
		    "%s: manifest larger than %u bytes", name, (unsigned)MANIFEST_MAX);
	out->manifest_buf = xstrndup(buf, mlen);
	out->manifest_len = mlen;
	if ((rc = manifest_parse(&out->manifest, out->manifest_buf, mlen, name,
	    err)) != 0 ||
	    (rc = sigs_parse(&out->sigs, buf + mlen, len - mlen, name, err)) != 0)
		bundle_head_free(out);
	return rc;
}

int
bundle_head_verify(const struct bundle_head *h, const char *name,
    const struct trust *trust, struct error *err)
{
	struct bundle_report	rep;
	int			rc;

	memset(&rep, 0, sizeof rep);
	rc = head_check_signers(h, name, NULL, 0, trust, &rep, err);
	bundle_report_free(&rep);
	return rc;
}

/* The first line where a and b differ, for a message. */
static void
first_diff_line(const char *a, size_t alen, const char *b, size_t blen,
    char *la, char *lb, size_t size)
{
	size_t	i = 0, start = 0, ea, eb;

	while (i < alen && i < blen && a[i] == b[i]) {
		if (a[i] == '\n')
			start = i + 1;
		i++;
	}
	for (ea = start; ea < alen && a[ea] != '\n'; ea++)
		;
	for (eb = start; eb < blen && b[eb] != '\n'; eb++)
		;
	snprintf(la, size, "%.*s", (int)(ea - start), a + start);
	snprintf(lb, size, "%.*s", (int)(eb - start), b + start);
}

/* The tree's files against the signed manifest's: the same paths (none
 * missing, none extra), modes and sizes. Digests are compared once the
 * body has been written (build_body computes them). */
static int
files_match(const struct manifest *tree, const struct manifest *want,
    const char *name, struct error *err)
{
	size_t	i = 0, j = 0;
	int	c;

	while (i < tree->nfiles || j < want->nfiles) {
		if (i == tree->nfiles)
			c = 1;
		else if (j == want->nfiles)
			c = -1;
		else
			c = strcmp(tree->files[i].path, want->files[j].path);
		if (c < 0)
			return error_set(err, SATCHEL_EVERIFY,
			    "%s: file \"%s\" is in the tree but not in the manifest",
			    name, tree->files[i].path);
		if (c > 0)
			return error_set(err, SATCHEL_EVERIFY,
			    "%s: file \"%s\" is in the manifest but not in the tree",
			    name, want->files[j].path);
		if (tree->files[i].mode != want->files[j].mode)
			return error_set(err, SATCHEL_EVERIFY,
			    "%s: file \"%s\" has mode %o, the manifest says %o",
			    name, tree->files[i].path, tree->files[i].mode,
			    want->files[j].mode);
		if (tree->files[i].size != want->files[j].size)
			return error_set(err, SATCHEL_EVERIFY,
			    "%s: file \"%s\" is %llu bytes, the manifest says %llu",
			    name, tree->files[i].path,
			    (unsigned long long)tree->files[i].size,
			    (unsigned long long)want->files[j].size);
		i++;
		j++;
	}
	return 0;
}

/*
 * Why rebuild rather than compare the manifest bytes of a fresh build: a
 * manifest's changelog depends on which release tags the repository
 * holds, and a repository an author pushed to need not hold them all. So
 * the tree is turned into a manifest by the build's own code (bundle.conf,
 * lessons, files), the changelog is taken from the signed head, and the
 * result must be the signed manifest byte for byte. The body is the
 * build's own, so the archive is the one `satchel build` wrote.
 */
int
bundle_build_from_head(const char *repo_path, const char *commit,
    const struct bundle_head *h, const char *out, struct error *err)
{
	struct bundle_build_opts o;
	struct gitrepo		*repo = NULL;
	struct gitrepo_commit	 c;
	struct gitrepo_files	 files = { NULL, 0 };
	struct manifest		*m = NULL;
	struct atomic_file	 af = { -1, NULL, NULL };
	char			*frame = NULL, *mbuf = NULL;
	char			 la[256], lb[256];
	size_t			 flen, mlen, i;
	int			 rc;

	memset(&o, 0, sizeof o);
	o.repo = repo_path;
	o.rev = commit;
	if ((rc = gitrepo_open(&repo, repo_path, err)) != 0 ||
	    (rc = gitrepo_resolve(repo, commit, &c, err)) != 0 ||
	    (rc = gitrepo_list_files(repo, &c, &files, err)) != 0)
		goto out;
	if ((rc = build_manifest(repo, &c, &files, &o, 0, &m, err)) != 0)
		goto out;
	if ((rc = files_match(m, h->manifest, commit, err)) != 0)
		goto out;
	if ((rc = head_frame(h, &frame, &flen, err)) != 0 ||
	    (rc = atomic_file_open(&af, out, 0644, err)) != 0 ||
	    (rc = write_all(af.fd, frame, flen, out, err)) != 0 ||
	    (rc = build_body(repo, &files, m, af.fd, out, &o, err)) != 0)
		goto out;
	for (i = 0; i < m->nfiles; i++) {
		if (memcmp(m->files[i].sha256, h->manifest->files[i].sha256,
		    SHA256_LEN) != 0) {
			char	want[SHA256_HEX_LEN + 1], have[SHA256_HEX_LEN + 1];

			hex_encode(want, h->manifest->files[i].sha256, SHA256_LEN);
			hex_encode(have, m->files[i].sha256, SHA256_LEN);
			rc = error_set(err, SATCHEL_EVERIFY,
			    "%s: file \"%s\" has SHA-256 %s, the manifest says %s",
			    commit, m->files[i].path, have, want);
			goto out;
		}
	}
	m->changelog = xreallocarray(NULL, h->manifest->nchangelog,
	    sizeof *m->changelog);
	for (i = 0; i < h->manifest->nchangelog; i++)
		m->changelog[m->nchangelog++] = xstrdup(h->manifest->changelog[i]);
	manifest_encode(m, &mbuf, &mlen);
	if (mlen != h->manifest_len || memcmp(mbuf, h->manifest_buf, mlen) != 0) {
		first_diff_line(h->manifest_buf, h->manifest_len, mbuf, mlen, la,
		    lb, sizeof la);
		rc = error_set(err, SATCHEL_EVERIFY,
		    "%s: the manifest says \"%s\" where the commit gives \"%s\"",
		    commit, la, lb);
		goto out;
	}
	rc = atomic_file_commit(&af, err);
out:
	atomic_file_abort(&af);
	free(frame);
	free(mbuf);
	manifest_free(m);
	gitrepo_files_free(&files);
	gitrepo_free(repo);
	return rc;
}
