/*
 * git.c owns every use of libgit2: opening repositories, resolving
 * revisions, listing and reading the files of a commit, the satchel/N
 * release tags, changelogs between them, and turning a plain directory
 * into a one-commit repository. Nothing outside this file sees a git2 type.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <zlib.h>

#include "error.h"
#include "git.h"
#include "crypto.h"
#include "util.h"

#define GITREPO_TAG_PREFIX	"refs/tags/satchel/"
#define GITREPO_TAG_GLOB	GITREPO_TAG_PREFIX "*"
#define GITREPO_SIG_NAME	"Satchel"
#define GITREPO_SIG_EMAIL	"satchel@localhost"

/* A pack index (version 2), mapped, for streaming packed blobs. */
struct gitrepo_pack {
	char		*pack;		/* path of the .pack */
	unsigned char	*map;		/* the .idx */
	size_t		 len;
	uint32_t	 n;		/* objects */
};

struct gitrepo {
	git_repository		*repo;
	char			*path;
	struct gitrepo_pack	*packs;
	size_t			 npacks;
	int			 packs_loaded;
};

/* A directory still to be listed by gitrepo_list_files. */
struct gitrepo_dir {
	git_oid	 id;
	char	*prefix;		/* "" for the root, else "a/b/" */
};

/* What gitrepo_tags_cb collects: the highest N below limit (0: none). */
struct gitrepo_tags {
	uint64_t	limit;		/* UINT64_MAX: no limit */
	uint64_t	max;
};

/*
 * Why: libgit2 keeps its settings and caches in global state that is
 * reference counted; every entry point takes a reference and drops it
 * when done so that the last release frees everything. Blobs are never
 * cached: a bundle may hold files far larger than we want resident.
 */
static void
gitrepo_lib_init(void)
{
	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB,
	    (size_t)0);
	/*
	 * Pack windows are mapped 1 MiB at a time and at most 2 MiB in all,
	 * so resident memory does not grow with the repository. Objects'
	 * SHA-1s are not recomputed on every read (libgit2's collision-
	 * detecting SHA-1 would double the cost of a build); like `git
	 * archive`, we trust the object database, whose zlib checksums catch
	 * corruption, and `git fsck` checks it in full.
	 */
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)1 << 20);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)2 << 20);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
}

static void
gitrepo_lib_shutdown(void)
{
	git_libgit2_shutdown();
}

/* Maps a libgit2 error code to ours; fallback for anything unexpected. */
static int
gitrepo_code(int gitrc, int fallback)
{
	switch (gitrc) {
	case GIT_ENOTFOUND:
		return SATCHEL_ENOTFOUND;
	case GIT_EEXISTS:
		return SATCHEL_EEXISTS;
	default:
		return fallback;
	}
}

/* Fills err with the formatted message followed by libgit2's own reason,
 * when it left one, and returns code. */
static int __attribute__((format(printf, 3, 4)))
gitrepo_error(struct error *err, int code, const char *fmt, ...)
{
	const git_error	*ge = git_error_last();
	char		 what[ERROR_MSG_MAX];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (ge != NULL && ge->message != NULL && ge->message[0] != '\0')
		return error_set(err, code, "%s: %s", what, ge->message);
	return error_set(err, code, "%s", what);
}

/* Parses exactly 40 hex digits (the fixed-size ids in git.h). */
static int
gitrepo_parse_oid(git_oid *out, const char *hex)
{
	if (hex == NULL || strnlen(hex, GIT_OID_HEXSZ + 1) != GIT_OID_HEXSZ)
		return -1;
	if (git_oid_fromstrn(out, hex, GIT_OID_HEXSZ) != 0)
		return -1;
	return 0;
}

/* The configured user of repo, else the fixed Satchel identity. */
static int
gitrepo_signature(git_signature **out, git_repository *repo,
    struct error *err)
{
	if (git_signature_default(out, repo) == 0)
		return 0;
	git_error_clear();		/* no user configured: not an error */
	if (git_signature_now(out, GITREPO_SIG_NAME, GITREPO_SIG_EMAIL) != 0)
		return gitrepo_error(err, SATCHEL_ERR,
		    "cannot make a signature");
	return 0;
}

/* On success *out belongs to the caller: release it with gitrepo_free(). */
int
gitrepo_open(struct gitrepo **out, const char *path, struct error *err)
{
	struct gitrepo	*r;
	int		 gitrc, rc = 0;

	r = xcalloc(1, sizeof *r);
	r->path = xstrdup(path);
	gitrepo_lib_init();
	gitrc = git_repository_open_ext(&r->repo, path,
	    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (gitrc != 0) {
		rc = gitrepo_error(err, gitrepo_code(gitrc, SATCHEL_ERR),
		    "%s: cannot open git repository", path);
		goto out;
	}
	*out = r;
	r = NULL;			/* ownership moved to the caller */
out:
	gitrepo_free(r);
	return rc;
}

void
gitrepo_free(struct gitrepo *r)
{
	if (r == NULL)
		return;
	while (r->npacks > 0) {
		r->npacks--;
		munmap(r->packs[r->npacks].map, r->packs[r->npacks].len);
		free(r->packs[r->npacks].pack);
	}
	free(r->packs);
	git_repository_free(r->repo);
	free(r->path);
	free(r);
	gitrepo_lib_shutdown();		/* the reference taken in gitrepo_open */
}

/* Why: a revision may name a tag (peeled to its commit) but never a tree
 * or a blob, which have no history to publish. */
int
gitrepo_resolve(struct gitrepo *r, const char *rev,
    struct gitrepo_commit *out, struct error *err)
{
	git_object	*obj = NULL, *peeled = NULL;
	git_commit	*commit = NULL;
	int		 gitrc, rc = 0;

	gitrc = git_revparse_single(&obj, r->repo, rev);
	if (gitrc != 0) {
		if (gitrc == GIT_ENOTFOUND || gitrc == GIT_EINVALIDSPEC ||
		    gitrc == GIT_EUNBORNBRANCH)
			rc = SATCHEL_ENOTFOUND;
		else if (gitrc == GIT_EAMBIGUOUS)
			rc = SATCHEL_EINVALID;
		else
			rc = SATCHEL_ERR;
		rc = gitrepo_error(err, rc, "%s: revision '%s' not found",
		    r->path, rev);
		goto out;
	}
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: revision '%s' is a %s, not a commit", r->path, rev,
		    git_object_type2string(git_object_type(obj)));
		goto out;
	}
	commit = (git_commit *)peeled;
	git_oid_tostr(out->commit, sizeof out->commit, git_commit_id(commit));
	git_oid_tostr(out->tree, sizeof out->tree, git_commit_tree_id(commit));
	out->time = (int64_t)git_commit_time(commit);
out:
	git_object_free(peeled);
	git_object_free(obj);
	return rc;
}

static int
gitrepo_file_cmp(const void *a, const void *b)
{
	const struct gitrepo_file	*fa = a, *fb = b;

	return strcmp(fa->path, fb->path);
}

/* Why: git orders a tree's entries as if subtree names ended in '/', and
 * we walk directories from a queue rather than depth first, so the
 * bytewise order the header promises has to be made by sorting. The queue
 * also keeps a maliciously deep tree from exhausting the C stack. */
int
gitrepo_list_files(struct gitrepo *r, const struct gitrepo_commit *c,
    struct gitrepo_files *out, struct error *err)
{
	struct gitrepo_dir	*dirs = NULL;
	struct gitrepo_file	*v = NULL, *f;
	size_t			 ndirs = 0, capdirs = 0, nv = 0, capv = 0;
	size_t			 i, k, nent;
	git_odb			*odb = NULL;
	git_tree		*tree = NULL;
	const git_tree_entry	*e;
	git_filemode_t		 mode;
	git_object_t		 type;
	size_t			 size;
	char			*path = NULL;
	int			 gitrc, rc = 0;

	out->v = NULL;
	out->n = 0;
	if (git_repository_odb(&odb, r->repo) != 0) {
		rc = gitrepo_error(err, SATCHEL_ERR,
		    "%s: cannot open object database", r->path);
		goto out;
	}
	capdirs = 16;
	dirs = xreallocarray(NULL, capdirs, sizeof *dirs);
	if (gitrepo_parse_oid(&dirs[0].id, c->tree) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: bad tree id '%.40s'", r->path, c->tree);
		goto out;
	}
	dirs[0].prefix = xstrdup("");
	ndirs = 1;

	while (ndirs > 0) {
		struct gitrepo_dir	d = dirs[--ndirs];

		free(path);
		path = d.prefix;	/* freed with path, even on error */
		gitrc = git_tree_lookup(&tree, r->repo, &d.id);
		if (gitrc != 0) {
			rc = gitrepo_error(err,
			    gitrepo_code(gitrc, SATCHEL_ERR),
			    "%s: cannot read tree '%s' of commit %.40s",
			    r->path, d.prefix[0] == '\0' ? "/" : d.prefix,
			    c->commit);
			goto out;
		}
		nent = git_tree_entrycount(tree);
		for (k = 0; k < nent; k++) {
			char	*full;

			e = git_tree_entry_byindex(tree, k);
			mode = git_tree_entry_filemode(e);
			full = xasprintf("%s%s", d.prefix,
			    git_tree_entry_name(e));
			switch (mode) {
			case GIT_FILEMODE_TREE:
				if (ndirs == capdirs) {
					capdirs *= 2;
					dirs = xreallocarray(dirs, capdirs,
					    sizeof *dirs);
				}
				git_oid_cpy(&dirs[ndirs].id,
				    git_tree_entry_id(e));
				dirs[ndirs].prefix = xasprintf("%s/", full);
				ndirs++;
				free(full);
				continue;
			case GIT_FILEMODE_BLOB:
			case GIT_FILEMODE_BLOB_EXECUTABLE:
				break;
			case GIT_FILEMODE_LINK:
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: symbolic links are not allowed in a "
				    "bundle", full);
				free(full);
				goto out;
			case GIT_FILEMODE_COMMIT:
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: submodules are not allowed in a "
				    "bundle", full);
				free(full);
				goto out;
			default:
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: unsupported file mode %06o", full,
				    (unsigned)mode);
				free(full);
				goto out;
			}
			/* Reads only the object header, not the content. */
			gitrc = git_odb_read_header(&size, &type, odb,
			    git_tree_entry_id(e));
			if (gitrc != 0 || type != GIT_OBJECT_BLOB) {
				rc = gitrepo_error(err,
				    gitrc != 0 ? gitrepo_code(gitrc,
				    SATCHEL_ERR) : SATCHEL_EINVALID,
				    "%s: cannot read blob of commit %.40s",
				    full, c->commit);
				free(full);
				goto out;
			}
			if (nv == capv) {
				capv = capv == 0 ? 64 : capv * 2;
				v = xreallocarray(v, capv, sizeof *v);
			}
			f = &v[nv++];
			f->path = full;		/* ownership moved to v */
			f->mode = mode == GIT_FILEMODE_BLOB_EXECUTABLE ?
			    0755 : 0644;
			f->size = size;
			git_oid_tostr(f->oid, sizeof f->oid,
			    git_tree_entry_id(e));
		}
		git_tree_free(tree);
		tree = NULL;
	}

	if (nv > 1)
		qsort(v, nv, sizeof *v, gitrepo_file_cmp);
	for (i = 1; i < nv; i++) {
		if (strcmp(v[i - 1].path, v[i].path) == 0) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: path appears twice in commit %.40s",
			    v[i].path, c->commit);
			goto out;
		}
	}
	out->v = v;
	out->n = nv;
	v = NULL;			/* ownership moved to the caller */
	nv = 0;
out:
	for (i = 0; i < nv; i++)
		free(v[i].path);
	free(v);
	for (i = 0; i < ndirs; i++)
		free(dirs[i].prefix);
	free(dirs);
	free(path);
	git_tree_free(tree);
	git_odb_free(odb);
	return rc;
}

void
gitrepo_files_free(struct gitrepo_files *files)
{
	size_t	i;

	if (files == NULL)
		return;
	for (i = 0; i < files->n; i++)
		free(files->v[i].path);
	free(files->v);
	files->v = NULL;
	files->n = 0;
}

/* On success *data belongs to the caller: release it with free(). */
int
gitrepo_read_blob(struct gitrepo *r, const char *oid_hex, void **data,
    size_t *len, struct error *err)
{
	struct gitrepo_blob	*b;
	int			 rc;

	if ((rc = gitrepo_blob_open(r, oid_hex, &b, err)) != 0)
		return rc;
	*len = gitrepo_blob_size(b);
	*data = xmalloc(*len + 1);
	if (*len != 0)
		memcpy(*data, gitrepo_blob_data(b), *len);
	gitrepo_blob_free(b);
	return 0;
}

struct gitrepo_blob {
	git_blob	*blob;		/* packed: libgit2's object */
	unsigned char	*data;		/* loose: inflated here */
	size_t		 size;
};

/*
 * Why loose objects are inflated here: libgit2 1.5 (Debian 12) loops
 * forever on a truncated loose object (libgit2 issue #7342, fixed
 * upstream after 1.5.1), while zlib reports the truncation. A loose object
 * is zlib("blob SIZE\0" CONTENT); it is streamed from the file, so only
 * the content is held. *found is 0 when the object is not loose.
 */
static int
gitrepo_loose_read(struct gitrepo *r, const char *oid_hex,
    struct gitrepo_blob *b, int *found, struct error *err)
{
	z_stream	 zs;
	unsigned char	 in[65536], hdr[64], scratch[1];
	char		*path;
	size_t		 hlen = 0, i;
	uint64_t	 size;
	ssize_t		 n;
	int		 fd, zrc = Z_OK, rc = 0, eof = 0, stage = 0;

	*found = 0;
	path = xasprintf("%sobjects/%.2s/%s", git_repository_path(r->repo),
	    oid_hex, oid_hex + 2);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		free(path);
		return 0;		/* packed (or absent): libgit2 reads it */
	}
	*found = 1;
	memset(&zs, 0, sizeof zs);
	if (inflateInit(&zs) != Z_OK)
		fatal("zlib: inflateInit failed");
	zs.next_out = hdr;
	zs.avail_out = sizeof hdr;
	/* stage 0: the header; 1: the content; 2: the end of the stream */
	while (zrc != Z_STREAM_END) {
		if (zs.avail_in == 0 && !eof) {
			if ((n = read(fd, in, sizeof in)) == -1) {
				if (errno == EINTR)
					continue;
				rc = error_set(err, SATCHEL_ERR, "%s: %s", path,
				    strerror(errno));
				goto out;
			}
			eof = n == 0;
			zs.next_in = in;
			zs.avail_in = (uInt)n;
		}
		zrc = inflate(&zs, Z_NO_FLUSH);
		if (zrc == Z_BUF_ERROR && zs.avail_in == 0 && eof)
			zrc = Z_DATA_ERROR;	/* truncated */
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: damaged loose object for blob %s (%s)", path, oid_hex,
			    zs.msg != NULL ? zs.msg : "truncated or corrupt");
			goto out;
		}
		if (stage == 0) {
			unsigned char	*nul;

			hlen = sizeof hdr - zs.avail_out;
			if ((nul = memchr(hdr, '\0', hlen)) == NULL) {
				if (zs.avail_out == 0 || zrc == Z_STREAM_END) {
					rc = error_set(err, SATCHEL_EINVALID,
					    "%s: not a loose object header", path);
					goto out;
				}
				continue;
			}
			if ((size_t)(nul - hdr) < 6 || memcmp(hdr, "blob ", 5) != 0 ||
			    parse_u64((char *)hdr + 5, (size_t)(nul - hdr) - 5, 0,
			    SIZE_MAX - 1, &size) != 0) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: not a loose blob", path);
				goto out;
			}
			b->size = (size_t)size;
			b->data = xmalloc(b->size + 1);
			i = hlen - (size_t)(nul + 1 - hdr);
			if (i > b->size) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: loose object longer than its header says", path);
				goto out;
			}
			memcpy(b->data, nul + 1, i);
			zs.next_out = b->data + i;
			zs.avail_out = (uInt)(b->size - i);
			stage = 1;
		}
		if (stage == 1 && zs.avail_out == 0) {
			/* All the content: now only the end may follow. */
			zs.next_out = scratch;
			zs.avail_out = sizeof scratch;
			stage = 2;
		} else if (stage == 2 && zs.avail_out == 0) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: loose object longer than its header says", path);
			goto out;
		}
	}
	if (stage != 2 && !(stage == 1 && zs.avail_out == 0)) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: loose object shorter than its header says", path);
		goto out;
	}
out:
	inflateEnd(&zs);
	close(fd);
	free(path);
	return rc;
}

/* The blob stays owned by libgit2's object (or ours) until
 * gitrepo_blob_free, so large files are read without a second copy. */
int
gitrepo_blob_open(struct gitrepo *r, const char *oid_hex,
    struct gitrepo_blob **out, struct error *err)
{
	struct gitrepo_blob	*b = xcalloc(1, sizeof *b);
	git_oid			 id;
	int			 gitrc, found, rc;

	if (gitrepo_parse_oid(&id, oid_hex) != 0) {
		free(b);
		return error_set(err, SATCHEL_EINVALID, "%s: bad blob id '%s'",
		    r->path, oid_hex == NULL ? "(null)" : oid_hex);
	}
	if ((rc = gitrepo_loose_read(r, oid_hex, b, &found, err)) != 0) {
		gitrepo_blob_free(b);
		return rc;
	}
	if (found) {
		*out = b;
		return 0;
	}
	if ((gitrc = git_blob_lookup(&b->blob, r->repo, &id)) != 0) {
		free(b);
		return gitrepo_error(err, gitrepo_code(gitrc, SATCHEL_ERR),
		    "%s: cannot read blob %s", r->path, oid_hex);
	}
	if (git_blob_rawsize(b->blob) > SIZE_MAX) {
		gitrepo_blob_free(b);
		return error_set(err, SATCHEL_ELIMIT, "%s: blob %s is too large",
		    r->path, oid_hex);
	}
	b->size = (size_t)git_blob_rawsize(b->blob);
	*out = b;
	return 0;
}

const void *
gitrepo_blob_data(const struct gitrepo_blob *b)
{
	return b->blob != NULL ? git_blob_rawcontent(b->blob) : b->data;
}

size_t
gitrepo_blob_size(const struct gitrepo_blob *b)
{
	return b->size;
}

void
gitrepo_blob_free(struct gitrepo_blob *b)
{
	if (b == NULL)
		return;
	git_blob_free(b->blob);		/* NULL-safe; not cached */
	free(b->data);
	free(b);
}

/* Why: only refs/tags/satchel/N with N in canonical decimal count as
 * releases, so a stray satchel/x or satchel/010 cannot shadow one. */
static int
gitrepo_tags_cb(const char *name, void *payload)
{
	struct gitrepo_tags	*t = payload;
	const char		*s;
	uint64_t		 n;

	if (strncmp(name, GITREPO_TAG_PREFIX, strlen(GITREPO_TAG_PREFIX)) != 0)
		return 0;
	s = name + strlen(GITREPO_TAG_PREFIX);
	if (parse_u64(s, strlen(s), 1, UINT64_MAX, &n) != 0)
		return 0;
	if (n < t->limit && n > t->max)
		t->max = n;
	return 0;
}

/* The highest release tag below limit, 0 when there is none. */
static int
gitrepo_tags_max(struct gitrepo *r, uint64_t limit, uint64_t *out,
    struct error *err)
{
	struct gitrepo_tags	t;
	int			gitrc;

	t.limit = limit;
	t.max = 0;
	gitrc = git_reference_foreach_glob(r->repo, GITREPO_TAG_GLOB,
	    gitrepo_tags_cb, &t);
	if (gitrc != 0)
		return gitrepo_error(err, SATCHEL_ERR,
		    "%s: cannot list release tags", r->path);
	*out = t.max;
	return 0;
}

int
gitrepo_max_release_tag(struct gitrepo *r, uint64_t *out, struct error *err)
{
	return gitrepo_tags_max(r, UINT64_MAX, out, err);
}

/* Why: subjects end up in line-based text and on terminals, so anything
 * that is not valid UTF-8 text is replaced byte by byte with '?'; and a
 * manifest line is limited, so a subject is cut (at a character
 * boundary, marked with "...") after GITREPO_SUBJECT_MAX bytes. */
#define GITREPO_SUBJECT_MAX	1000
static char *
gitrepo_subject(const char *msg)
{
	const unsigned char	*p = (const unsigned char *)msg;
	struct buf		 b;
	size_t			 len, i, n;

	len = strcspn(msg, "\n");
	if (len > 0 && msg[len - 1] == '\r')
		len--;
	if (len == 0)
		return xstrdup("(no subject)");
	buf_init(&b);
	for (i = 0; i < len; ) {
		if (p[i] < 0x80)
			n = 1;
		else if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 2;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			n = 3;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 4;
		else
			n = 0;
		if (b.len + n > GITREPO_SUBJECT_MAX) {
			buf_addstr(&b, "...");
			break;
		}
		if (n != 0 && n <= len - i && utf8_valid_text(msg + i, n)) {
			buf_add(&b, msg + i, n);
			i += n;
		} else {
			buf_addc(&b, '?');
			i++;
		}
	}
	return buf_detach(&b, NULL);
}

/* On success *out and its strings belong to the caller: release them with
 * gitrepo_changelog_free(). */
int
gitrepo_changelog(struct gitrepo *r, const struct gitrepo_commit *c,
    uint64_t serial, size_t max, char ***out, size_t *n, struct error *err)
{
	git_revwalk	*walk = NULL;
	git_reference	*ref = NULL;
	git_object	*prev = NULL;
	git_commit	*commit = NULL;
	git_oid		 id;
	char		**v = NULL, *tag = NULL;
	size_t		 nv = 0, capv;
	uint64_t	 p = 0;
	int		 gitrc, rc = 0;

	capv = max < 16 ? max : 16;
	v = xreallocarray(NULL, capv, sizeof *v);
	if (gitrepo_parse_oid(&id, c->commit) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: bad commit id '%.40s'", r->path, c->commit);
		goto out;
	}
	if ((rc = gitrepo_tags_max(r, serial, &p, err)) != 0)
		goto out;
	if (git_revwalk_new(&walk, r->repo) != 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) != 0) {
		rc = gitrepo_error(err, SATCHEL_ERR,
		    "%s: cannot walk history", r->path);
		goto out;
	}
	gitrc = git_revwalk_push(walk, &id);
	if (gitrc != 0) {
		rc = gitrepo_error(err, gitrepo_code(gitrc, SATCHEL_ERR),
		    "%s: cannot walk history from %s", r->path, c->commit);
		goto out;
	}
	if (p != 0) {
		tag = xasprintf(GITREPO_TAG_PREFIX "%" PRIu64, p);
		if (git_reference_lookup(&ref, r->repo, tag) != 0 ||
		    git_reference_peel(&prev, ref, GIT_OBJECT_COMMIT) != 0) {
			rc = gitrepo_error(err, SATCHEL_EINVALID,
			    "%s: tag %s does not name a commit", r->path,
			    tag + strlen("refs/tags/"));
			goto out;
		}
		if (git_revwalk_hide(walk, git_object_id(prev)) != 0) {
			rc = gitrepo_error(err, SATCHEL_ERR,
			    "%s: cannot walk history since %s", r->path,
			    tag + strlen("refs/tags/"));
			goto out;
		}
	}
	while (nv < max) {
		gitrc = git_revwalk_next(&id, walk);
		if (gitrc == GIT_ITEROVER)
			break;
		if (gitrc == 0)
			gitrc = git_commit_lookup(&commit, r->repo, &id);
		if (gitrc != 0) {
			rc = gitrepo_error(err, SATCHEL_ERR,
			    "%s: cannot walk history from %s", r->path,
			    c->commit);
			goto out;
		}
		if (nv == capv) {
			capv *= 2;
			v = xreallocarray(v, capv, sizeof *v);
		}
		v[nv++] = gitrepo_subject(git_commit_message(commit));
		git_commit_free(commit);
		commit = NULL;
	}
	*out = v;
	*n = nv;
	v = NULL;			/* ownership moved to the caller */
	nv = 0;
out:
	gitrepo_changelog_free(v, nv);
	git_commit_free(commit);
	git_object_free(prev);
	git_reference_free(ref);
	git_revwalk_free(walk);
	free(tag);
	return rc;
}

void
gitrepo_changelog_free(char **v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
gitrepo_create_release_tag(struct gitrepo *r, const struct gitrepo_commit *c,
    uint64_t serial, const char *message, struct error *err)
{
	git_object	*target = NULL;
	git_signature	*sig = NULL;
	git_oid		 id, tagid;
	char		*name = NULL;
	int		 gitrc, rc = 0;

	if (serial == 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: release serial must be at least 1", r->path);
		goto out;
	}
	name = xasprintf("satchel/%" PRIu64, serial);
	if (gitrepo_parse_oid(&id, c->commit) != 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: bad commit id '%.40s'", r->path, c->commit);
		goto out;
	}
	gitrc = git_object_lookup(&target, r->repo, &id, GIT_OBJECT_COMMIT);
	if (gitrc != 0) {
		rc = gitrepo_error(err, gitrepo_code(gitrc, SATCHEL_ERR),
		    "%s: cannot tag %s: commit %s", r->path, name, c->commit);
		goto out;
	}
	if ((rc = gitrepo_signature(&sig, r->repo, err)) != 0)
		goto out;
	gitrc = git_tag_create(&tagid, r->repo, name, target, sig,
	    message == NULL ? "" : message, 0);
	if (gitrc == GIT_EEXISTS) {
		rc = error_set(err, SATCHEL_EEXISTS,
		    "%s: tag %s already exists", r->path, name);
		goto out;
	}
	if (gitrc != 0) {
		rc = gitrepo_error(err, SATCHEL_ERR,
		    "%s: cannot create tag %s", r->path, name);
		goto out;
	}
out:
	git_signature_free(sig);
	git_object_free(target);
	free(name);
	return rc;
}

/* Why: this is how an author's plain directory becomes a publishable
 * history; it must never touch an existing repository, so any .git (a
 * directory or a gitlink file) in dir itself is refused before init. */
int
gitrepo_init_commit(const char *dir, const char *message, struct error *err)
{
	git_repository	*repo = NULL;
	git_index	*index = NULL;
	git_tree	*tree = NULL;
	git_signature	*sig = NULL;
	git_oid		 treeid, commitid;
	char		 star[] = "*", *stars[] = { star };
	git_strarray	 spec = { stars, 1 };
	struct stat	 sb;
	int		 gitrc, rc = 0;

	gitrepo_lib_init();
	if (stat(dir, &sb) != 0) {
		rc = error_set(err, errno == ENOENT ? SATCHEL_ENOTFOUND :
		    SATCHEL_ERR, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		rc = error_set(err, SATCHEL_EINVALID, "%s: not a directory",
		    dir);
		goto out;
	}
	gitrc = git_repository_open_ext(&repo, dir,
	    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (gitrc == 0) {
		rc = error_set(err, SATCHEL_EEXISTS,
		    "%s: already a git repository", dir);
		goto out;
	}
	if (gitrc != GIT_ENOTFOUND) {
		rc = gitrepo_error(err, SATCHEL_ERR,
		    "%s: cannot check for a git repository", dir);
		goto out;
	}
	git_error_clear();		/* not a repository yet, as wanted */
	if (git_repository_init(&repo, dir, 0) != 0) {
		rc = gitrepo_error(err, SATCHEL_ERR,
		    "%s: cannot create git repository", dir);
		goto out;
	}
	if (git_repository_index(&index, repo) != 0 ||
	    git_index_add_all(index, &spec, GIT_INDEX_ADD_DEFAULT, NULL,
	    NULL) != 0 ||
	    git_index_write(index) != 0 ||
	    git_index_write_tree(&treeid, index) != 0) {
		rc = gitrepo_error(err, SATCHEL_ERR,
		    "%s: cannot add files to the index", dir);
		goto out;
	}
	if (git_tree_lookup(&tree, repo, &treeid) != 0) {
		rc = gitrepo_error(err, SATCHEL_ERR,
		    "%s: cannot read the new tree", dir);
		goto out;
	}
	if ((rc = gitrepo_signature(&sig, repo, err)) != 0) {
		error_prefix(err, "%s", dir);
		goto out;
	}
	if (git_commit_create(&commitid, repo, "HEAD", sig, sig, NULL,
	    message == NULL ? "" : message, tree, 0, NULL) != 0) {
		rc = gitrepo_error(err, SATCHEL_ERR,
		    "%s: cannot create the commit", dir);
		goto out;
	}
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(index);
	git_repository_free(repo);
	gitrepo_lib_shutdown();
	return rc;
}

/* --- streaming blobs ----------------------------------------------------- */

#define GITREPO_IDX_HEAD	(8 + 256 * 4)

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Maps every index objects/pack/NAME.idx (version 2) that is well formed; others
 * are skipped, and their objects are then read through libgit2. */
static void
gitrepo_packs_load(struct gitrepo *r)
{
	char		*dir;
	DIR		*d;
	struct dirent	*de;

	r->packs_loaded = 1;
	dir = xasprintf("%sobjects/pack", git_repository_path(r->repo));
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t		 nl = strlen(de->d_name), need;
		struct stat	 st;
		unsigned char	*map;
		char		*idx;
		uint32_t	 n;
		int		 fd;

		if (nl < 5 || strcmp(de->d_name + nl - 4, ".idx") != 0)
			continue;
		idx = xasprintf("%s/%s", dir, de->d_name);
		fd = open(idx, O_RDONLY | O_CLOEXEC);
		if (fd == -1 || fstat(fd, &st) == -1 ||
		    (size_t)st.st_size < GITREPO_IDX_HEAD + 40 ||
		    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
		    fd, 0)) == MAP_FAILED) {
			if (fd != -1)
				close(fd);
			free(idx);
			continue;
		}
		close(fd);
		n = be32(map + GITREPO_IDX_HEAD - 4);
		need = GITREPO_IDX_HEAD + (size_t)n * (20 + 4 + 4) + 40;
		if (memcmp(map, "\377tOc", 4) != 0 || be32(map + 4) != 2 ||
		    (size_t)st.st_size < need) {
			munmap(map, (size_t)st.st_size);
			free(idx);
			continue;
		}
		r->packs = xreallocarray(r->packs, r->npacks + 1, sizeof *r->packs);
		r->packs[r->npacks].map = map;
		r->packs[r->npacks].len = (size_t)st.st_size;
		r->packs[r->npacks].n = n;
		idx[strlen(idx) - 4] = '\0';
		r->packs[r->npacks].pack = xasprintf("%s.pack", idx);
		r->npacks++;
		free(idx);
	}
	closedir(d);
	free(dir);
}

/* Looks oid up in the mapped indexes: 1 with the pack and the offset of
 * its entry, 0 if no index has it (or an index is inconsistent). */
static int
gitrepo_pack_find(struct gitrepo *r, const uint8_t oid[20], const char **pack,
    uint64_t *offset)
{
	size_t	i;

	if (!r->packs_loaded)
		gitrepo_packs_load(r);
	for (i = 0; i < r->npacks; i++) {
		const struct gitrepo_pack	*p = &r->packs[i];
		const unsigned char		*sha = p->map + GITREPO_IDX_HEAD;
		uint32_t			 lo, hi, mid, off;
		int				 c;

		lo = oid[0] == 0 ? 0 : be32(p->map + 8 + 4 * (oid[0] - 1));
		hi = be32(p->map + 8 + 4 * oid[0]);
		if (hi > p->n || lo > hi)
			continue;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if ((c = memcmp(sha + (size_t)mid * 20, oid, 20)) == 0)
				break;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo >= hi)
			continue;
		off = be32(sha + (size_t)p->n * 24 + (size_t)mid * 4);
		if (off & 0x80000000u) {
			size_t	at = GITREPO_IDX_HEAD + (size_t)p->n * 28 +
			    (size_t)(off & 0x7fffffffu) * 8;

			if (at + 8 > p->len - 40)
				return 0;
			*offset = (uint64_t)be32(p->map + at) << 32 | be32(p->map + at + 4);
		} else
			*offset = off;
		*pack = p->pack;
		return 1;
	}
	return 0;
}

struct gitrepo_stream {
	struct gitrepo_blob	*whole;		/* fallback: libgit2's whole blob */
	size_t			 off;
	int			 fd;
	z_stream		 zs;
	int			 zinit;
	int			 eof;
	unsigned char		 in[65536];
	unsigned char		 pend[64];	/* loose: content after the header */
	size_t			 npend;
	uint64_t		 size, done;
	struct sha1_ctx		*sha1;
	uint8_t			 want[20];
	char			*path;
};

void
gitrepo_stream_free(struct gitrepo_stream *st)
{
	if (st == NULL)
		return;
	gitrepo_blob_free(st->whole);
	if (st->zinit)
		inflateEnd(&st->zs);
	if (st->fd != -1)
		close(st->fd);
	sha1_free(st->sha1);
	free(st->path);
	free(st);
}

/* One inflate step into out; reads more input when needed. Returns the
 * zlib code; Z_DATA_ERROR for a stream cut short. */
static int
gitrepo_stream_inflate(struct gitrepo_stream *st, struct error *err)
{
	ssize_t	n;
	int	zrc;

	for (;;) {
		if (st->zs.avail_in == 0 && !st->eof) {
			n = read(st->fd, st->in, sizeof st->in);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				return error_set(err, SATCHEL_ERR, "%s: %s", st->path,
				    strerror(errno)), Z_ERRNO;
			st->eof = n == 0;
			st->zs.next_in = st->in;
			st->zs.avail_in = (uInt)n;
		}
		zrc = inflate(&st->zs, Z_NO_FLUSH);
		if (zrc == Z_BUF_ERROR && st->zs.avail_in == 0 && st->eof)
			zrc = Z_DATA_ERROR;
		if (zrc == Z_BUF_ERROR && st->zs.avail_in == 0)
			continue;	/* needs input, and there is more */
		if (zrc == Z_BUF_ERROR)
			zrc = Z_DATA_ERROR;	/* no progress possible */
		if (zrc != Z_OK && zrc != Z_STREAM_END)
			error_set(err, SATCHEL_EINVALID, "%s: damaged object data (%s)",
			    st->path, st->zs.msg != NULL ? st->zs.msg :
			    "truncated or corrupt");
		return zrc;
	}
}

/* Why stream: a packed blob from libgit2 comes whole, so a 2 GB file
 * would need 2 GB of memory. A blob stored whole (not as a delta) in a
 * pack, or loose, is inflated here a piece at a time instead, and its
 * git object id is checked at the end, so a mistake in reading the pack
 * can never pass unnoticed. Deltas come whole from libgit2. */
int
gitrepo_stream_open(struct gitrepo *r, const char *oid_hex, uint64_t *size,
    struct gitrepo_stream **out, struct error *err)
{
	struct gitrepo_stream	*st = xcalloc(1, sizeof *st);
	const char		*pack;
	unsigned char		 hb[32];
	char			 hdr[40];
	uint64_t		 off, sz = 0;
	ssize_t			 n;
	size_t			 i;
	int			 rc = 0, shift, type, hlen;

	st->fd = -1;
	if (hex_decode(st->want, sizeof st->want, oid_hex, strlen(oid_hex)) != 0) {
		free(st);
		return error_set(err, SATCHEL_EINVALID, "%s: bad blob id '%s'",
		    r->path, oid_hex);
	}
	st->path = xasprintf("%sobjects/%.2s/%s", git_repository_path(r->repo),
	    oid_hex, oid_hex + 2);
	if ((st->fd = open(st->path, O_RDONLY | O_CLOEXEC)) != -1) {
		/* Loose: the header is inside the zlib stream. */
		unsigned char	 h[64], *nul;

		if (inflateInit(&st->zs) != Z_OK)
			fatal("zlib: inflateInit failed");
		st->zinit = 1;
		st->zs.next_out = h;
		st->zs.avail_out = sizeof h;
		while ((nul = memchr(h, '\0', sizeof h - st->zs.avail_out)) == NULL) {
			int	zrc;

			if (st->zs.avail_out == 0) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: not a loose object header", st->path);
				goto out;
			}
			zrc = gitrepo_stream_inflate(st, err);
			if (zrc != Z_OK && zrc != Z_STREAM_END) {
				rc = SATCHEL_EINVALID;
				goto out;
			}
			if (zrc == Z_STREAM_END &&
			    memchr(h, '\0', sizeof h - st->zs.avail_out) == NULL) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: not a loose object header", st->path);
				goto out;
			}
		}
		if (nul - h < 6 || memcmp(h, "blob ", 5) != 0 ||
		    parse_u64((char *)h + 5, (size_t)(nul - h) - 5, 0,
		    UINT64_MAX, &sz) != 0) {
			rc = error_set(err, SATCHEL_EINVALID, "%s: not a loose blob",
			    st->path);
			goto out;
		}
		st->npend = sizeof h - st->zs.avail_out - (size_t)(nul + 1 - h);
		memcpy(st->pend, nul + 1, st->npend);
		if (st->npend > sz) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "%s: loose object longer than its header says", st->path);
			goto out;
		}
	} else if (gitrepo_pack_find(r, st->want, &pack, &off)) {
		free(st->path);
		st->path = xstrdup(pack);
		if ((st->fd = open(pack, O_RDONLY | O_CLOEXEC)) == -1 ||
		    (n = pread(st->fd, hb, sizeof hb, (off_t)off)) < 1) {
			rc = error_set(err, SATCHEL_ERR, "%s: %s", pack, strerror(errno));
			goto out;
		}
		/* type and size: 3 bits and a little-endian base-128 number */
		type = (hb[0] >> 4) & 7;
		sz = hb[0] & 15;
		shift = 4;
		for (i = 0; hb[i] & 0x80; ) {
			if (++i >= (size_t)n || shift > 57) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "%s: bad entry header at offset %llu", pack,
				    (unsigned long long)off);
				goto out;
			}
			sz |= (uint64_t)(hb[i] & 0x7f) << shift;
			shift += 7;
		}
		if (type != 3) {		/* a delta (or not a blob) */
			close(st->fd);
			st->fd = -1;
			goto whole;
		}
		if (lseek(st->fd, (off_t)(off + i + 1), SEEK_SET) == -1) {
			rc = error_set(err, SATCHEL_ERR, "%s: %s", pack, strerror(errno));
			goto out;
		}
		if (inflateInit(&st->zs) != Z_OK)
			fatal("zlib: inflateInit failed");
		st->zinit = 1;
	} else
		goto whole;
	st->size = sz;
	st->sha1 = sha1_new();
	hlen = snprintf(hdr, sizeof hdr, "blob %llu", (unsigned long long)sz);
	sha1_update(st->sha1, hdr, (size_t)hlen + 1);	/* with its NUL */
	*size = sz;
	*out = st;
	return 0;
whole:
	if ((rc = gitrepo_blob_open(r, oid_hex, &st->whole, err)) != 0)
		goto out;
	*size = st->size = gitrepo_blob_size(st->whole);
	*out = st;
	return 0;
out:
	gitrepo_stream_free(st);
	return rc;
}

ssize_t
gitrepo_stream_read(struct gitrepo_stream *st, void *buf, size_t len,
    struct error *err)
{
	unsigned char	scratch[1], got[20];
	size_t		n;
	int		zrc;

	if (len > st->size - st->done)
		len = (size_t)(st->size - st->done);
	if (st->whole != NULL) {
		memcpy(buf, (const char *)gitrepo_blob_data(st->whole) + st->done, len);
		st->done += len;
		return (ssize_t)len;
	}
	if (len > 0 && st->npend > 0) {
		n = len < st->npend ? len : st->npend;
		memcpy(buf, st->pend, n);
		memmove(st->pend, st->pend + n, st->npend - n);
		st->npend -= n;
		sha1_update(st->sha1, buf, n);
		st->done += n;
		return (ssize_t)n;
	}
	if (len > 0) {
		st->zs.next_out = buf;
		st->zs.avail_out = (uInt)(len > (1u << 30) ? (1u << 30) : len);
		n = st->zs.avail_out;
		zrc = gitrepo_stream_inflate(st, err);
		if (zrc != Z_OK && zrc != Z_STREAM_END)
			return SATCHEL_EINVALID;
		n -= st->zs.avail_out;
		if (n == 0 && zrc == Z_STREAM_END)
			return error_set(err, SATCHEL_EINVALID,
			    "%s: object shorter than its header says", st->path);
		sha1_update(st->sha1, buf, n);
		st->done += n;
		return (ssize_t)n;
	}
	if (st->sha1 == NULL)
		return 0;		/* already checked */
	/* The end: nothing more may come out, and the id must match. */
	st->zs.next_out = scratch;
	st->zs.avail_out = sizeof scratch;
	zrc = gitrepo_stream_inflate(st, err);
	if (zrc != Z_STREAM_END || st->zs.avail_out == 0)
		return zrc != Z_OK && zrc != Z_STREAM_END ? SATCHEL_EINVALID :
		    error_set(err, SATCHEL_EINVALID,
		    "%s: object longer than its header says", st->path);
	sha1_final(st->sha1, got);
	sha1_free(st->sha1);
	st->sha1 = NULL;
	if (memcmp(got, st->want, sizeof got) != 0) {
		char	hex[41];

		hex_encode(hex, st->want, 20);
		return error_set(err, SATCHEL_EVERIFY,
		    "%s: the data read for blob %s does not hash to its id", st->path,
		    hex);
	}
	return 0;
}

/* --- release tags, for satcheld's git intake --- */

struct gitrepo_tag_list {
	struct gitrepo_release_tags	*out;
	git_repository			*repo;
};

static int
gitrepo_tag_list_cb(const char *name, void *payload)
{
	struct gitrepo_tag_list		*l = payload;
	struct gitrepo_release_tag	*t;
	const char			*s;
	git_oid				 id;
	uint64_t			 n;

	if (strncmp(name, GITREPO_TAG_PREFIX, strlen(GITREPO_TAG_PREFIX)) != 0)
		return 0;
	s = name + strlen(GITREPO_TAG_PREFIX);
	if (parse_u64(s, strlen(s), 1, UINT64_MAX, &n) != 0)
		return 0;
	/* A ref that vanished or points nowhere is no release (yet). */
	if (git_reference_name_to_id(&id, l->repo, name) != 0)
		return 0;
	l->out->v = xreallocarray(l->out->v, l->out->n + 1, sizeof *l->out->v);
	t = &l->out->v[l->out->n++];
	t->serial = n;
	git_oid_tostr(t->oid, sizeof t->oid, &id);
	return 0;
}

static int
gitrepo_tag_cmp(const void *a, const void *b)
{
	const struct gitrepo_release_tag	*x = a, *y = b;

	return x->serial < y->serial ? -1 : x->serial > y->serial;
}

int
gitrepo_release_tags(struct gitrepo *r, struct gitrepo_release_tags *out,
    struct error *err)
{
	struct gitrepo_tag_list	l;
	int			gitrc;

	out->v = NULL;
	out->n = 0;
	l.out = out;
	l.repo = r->repo;
	gitrc = git_reference_foreach_glob(r->repo, GITREPO_TAG_GLOB,
	    gitrepo_tag_list_cb, &l);
	if (gitrc != 0) {
		gitrepo_release_tags_free(out);
		return gitrepo_error(err, SATCHEL_ERR,
		    "%s: cannot list release tags", r->path);
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, gitrepo_tag_cmp);
	return 0;
}

void
gitrepo_release_tags_free(struct gitrepo_release_tags *t)
{
	if (t == NULL)
		return;
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* Why the header first: a tag object is read whole by libgit2, so its
 * size is checked before anything is loaded. */
int
gitrepo_read_tag(struct gitrepo *r, const char *oid_hex, size_t max,
    char **msg, size_t *len, struct gitrepo_commit *target, struct error *err)
{
	git_odb		*odb = NULL;
	git_tag		*tag = NULL;
	git_oid		 id;
	git_object_t	 type;
	size_t		 size;
	const char	*m;
	char		 hex[GIT_OID_HEXSZ + 1];
	int		 gitrc, rc = 0;

	*msg = NULL;
	*len = 0;
	if (gitrepo_parse_oid(&id, oid_hex) != 0) {
		rc = error_set(err, SATCHEL_EINVALID, "%s: bad object id '%.40s'",
		    r->path, oid_hex);
		goto out;
	}
	if ((gitrc = git_repository_odb(&odb, r->repo)) != 0 ||
	    (gitrc = git_odb_read_header(&size, &type, odb, &id)) != 0) {
		rc = gitrepo_error(err, gitrepo_code(gitrc, SATCHEL_ERR),
		    "%s: cannot read object %s", r->path, oid_hex);
		goto out;
	}
	if (type != GIT_OBJECT_TAG) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: %s is a %s, not an annotated tag (a release tag carries "
		    "the signed manifest in its message)", r->path, oid_hex,
		    git_object_type2string(type));
		goto out;
	}
	/* The header lines (object, type, tag, tagger) stay well under 4 KiB
	 * for any tag Satchel reads; the message is checked again below. */
	if (size > max + 4096) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "%s: tag object %s is %zu bytes, over the limit of %zu",
		    r->path, oid_hex, size, max + 4096);
		goto out;
	}
	if ((gitrc = git_tag_lookup(&tag, r->repo, &id)) != 0) {
		rc = gitrepo_error(err, gitrepo_code(gitrc, SATCHEL_ERR),
		    "%s: cannot read tag %s", r->path, oid_hex);
		goto out;
	}
	if (git_tag_target_type(tag) != GIT_OBJECT_COMMIT) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: tag %s points at a %s, not a commit", r->path, oid_hex,
		    git_object_type2string(git_tag_target_type(tag)));
		goto out;
	}
	m = git_tag_message(tag);
	if (m == NULL)
		m = "";
	if (strlen(m) > max) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "%s: the message of tag %s is over the limit of %zu bytes",
		    r->path, oid_hex, max);
		goto out;
	}
	git_oid_tostr(hex, sizeof hex, git_tag_target_id(tag));
	if ((rc = gitrepo_resolve(r, hex, target, err)) != 0)
		goto out;
	*len = strlen(m);
	*msg = xstrdup(m);
out:
	git_tag_free(tag);
	git_odb_free(odb);
	return rc;
}

int
gitrepo_is_bare(const struct gitrepo *r)
{
	return git_repository_is_bare(r->repo);
}
