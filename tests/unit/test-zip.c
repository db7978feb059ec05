/*
 * test-zip.c: lib/lesson-zip.c and lib/archive-zip.c. A real objects/
 * directory and a manifest that has been through the canonical encoder
 * and the strict parser; every zip is read back with libarchive and with
 * Info-ZIP's unzip and compared byte for byte with what went in; the
 * central directory is checked by hand (methods, UTF-8 flag, modes).
 * Fixtures live in a private mkdtemp directory removed in teardown.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "archive-zip.h"
#include "crypto.h"
#include "error.h"
#include "lesson-zip.h"
#include "manifest.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>

#define COMMIT		"6f1c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b"
#define TREE		"2b7e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b"
#define MTIME		INT64_C(1764322680)
#define L01		"01-four-treasures"
#define L01B		"01-four-treasures-2"
#define L02		"02-holding-the-brush"
#define L03		"03-big"
#define UTF8_NAME	"lessons/" L01 "/\xe7\xac\x94.html"	/* 笔.html */
#define BIG_VIDEO	(20u * 1024 * 1024)
#define BIG_TEXT	(8u * 1024 * 1024)

/* Which lessons' zips a file belongs in. */
#define IN01		0x1
#define IN01B		0x2
#define IN02		0x4
#define IN03		0x8
#define INALL		0xf

enum gen_kind { GEN_TEXT, GEN_PRNG, GEN_REPEAT };

struct tfile {
	const char	*path;
	uint32_t	 mode;
	enum gen_kind	 kind;
	const char	*text;		/* GEN_TEXT */
	uint64_t	 size;		/* GEN_PRNG, GEN_REPEAT */
	uint32_t	 seed;
	unsigned int	 in;
	int		 stored;	/* expected zip method: store */
};

static const struct tfile base_files[] = {
	{ "bundle.conf", 0644, GEN_TEXT,
	    "name = calligraphy-basics\nserial = 3\nlabel = 1.2\n", 0, 0,
	    INALL, 0 },
	{ "style.css", 0644, GEN_TEXT, "body { font-family: serif; }\n", 0,
	    0, INALL, 0 },
	{ "media/logo.png", 0644, GEN_PRNG, NULL, 5000, 11, INALL, 1 },
	{ "lessons/" L01 "/index.html", 0644, GEN_TEXT,
	    "<!doctype html><link rel=stylesheet href=../../style.css>"
	    "<img src=treasures.svg alt=\"The four treasures\">\n", 0, 0,
	    IN01, 0 },
	{ "lessons/" L01 "/treasures.svg", 0644, GEN_TEXT,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n", 0, 0, IN01, 0 },
	{ "lessons/" L01 "/photo.JPG", 0644, GEN_PRNG, NULL, 70001, 12,
	    IN01, 1 },
	{ UTF8_NAME, 0644, GEN_TEXT, "<p>\xe7\xac\x94</p>\n", 0, 0, IN01, 0 },
	{ "lessons/" L01 "/tools/run.sh", 0755, GEN_TEXT,
	    "#!/bin/sh\necho hi\n", 0, 0, IN01, 0 },
	{ "lessons/" L01 "/empty.txt", 0644, GEN_TEXT, "", 0, 0, IN01, 1 },
	{ "lessons/" L01 "/notes.txt", 0644, GEN_REPEAT, NULL, 200000, 0,
	    IN01, 0 },
	{ "lessons/" L01B "/index.html", 0644, GEN_TEXT, "<p>two</p>\n", 0,
	    0, IN01B, 0 },
	{ "lessons/" L02 "/index.html", 0644, GEN_TEXT, "<p>grip</p>\n", 0,
	    0, IN02, 0 },
	{ "lessons/" L02 "/grip.svg", 0644, GEN_TEXT, "<svg/>\n", 0, 0, IN02,
	    0 },
};
#define NBASE	(sizeof base_files / sizeof base_files[0])

static const struct tfile big_files[] = {
	{ "lessons/" L03 "/index.html", 0644, GEN_TEXT, "<video src=video.mp4>\n",
	    0, 0, IN03, 0 },
	{ "lessons/" L03 "/video.mp4", 0644, GEN_PRNG, NULL, BIG_VIDEO, 13,
	    IN03, 1 },
	{ "lessons/" L03 "/transcript.txt", 0644, GEN_REPEAT, NULL, BIG_TEXT,
	    0, IN03, 0 },
};
#define NBIG	(sizeof big_files / sizeof big_files[0])

static const struct tfile readme_file = {
	"README.txt", 0644, GEN_TEXT, "The bundle's own read-me.\n", 0, 0,
	INALL, 0
};

struct fixture {
	char		 dir[PATH_MAX];
	char		*store;
	/* The files of the current manifest, in manifest (path) order. */
	const struct tfile *files[NBASE + NBIG + 1];
	size_t		 nfiles;
};

/* --- content generators ---------------------------------------------- */

struct gen {
	const struct tfile	*f;
	uint32_t		 s;	/* xorshift32 state */
	uint64_t		 off;
};

static const char repeat_text[] =
    "The brush, the ink, the paper and the inkstone: the four treasures.\n";

static void
gen_init(struct gen *g, const struct tfile *f)
{
	g->f = f;
	g->s = f->seed * 2654435761u + 1;
	g->off = 0;
}

static uint64_t
tfile_size(const struct tfile *f)
{
	return f->kind == GEN_TEXT ? strlen(f->text) : f->size;
}

static void
gen_fill(struct gen *g, uint8_t *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++, g->off++) {
		switch (g->f->kind) {
		case GEN_TEXT:
			buf[i] = (uint8_t)g->f->text[g->off];
			break;
		case GEN_PRNG:
			g->s ^= g->s << 13;
			g->s ^= g->s >> 17;
			g->s ^= g->s << 5;
			buf[i] = (uint8_t)(g->s >> 24);
			break;
		case GEN_REPEAT:
			buf[i] = (uint8_t)repeat_text[g->off %
			    (sizeof repeat_text - 1)];
			break;
		}
	}
}

/* Streams f's content to path, its SHA-256 into sha. */
static void
gen_write(const struct tfile *f, const char *path, uint8_t sha[SHA256_LEN])
{
	struct sha256_ctx	*ctx = sha256_new();
	struct gen		 g;
	uint8_t			 buf[65536];
	uint64_t		 left = tfile_size(f);
	size_t			 n;
	int			 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	gen_init(&g, f);
	while (left > 0) {
		n = left < sizeof buf ? (size_t)left : sizeof buf;
		gen_fill(&g, buf, n);
		sha256_update(ctx, buf, n);
		assert_int_equal(write(fd, buf, n), (ssize_t)n);
		left -= n;
	}
	assert_int_equal(close(fd), 0);
	sha256_final(ctx, sha);
	sha256_free(ctx);
}

/* --- fixture ---------------------------------------------------------- */

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture	*f;
	const char	*tmp = getenv("TMPDIR");

	/* The library must not depend on the process locale. */
	setlocale(LC_ALL, "C");
	setenv("TZ", "UTC0", 1);
	tzset();
	f = xcalloc(1, sizeof *f);
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(f->dir, sizeof f->dir, "%s/test-zip.XXXXXX", tmp);
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	f->store = xasprintf("%s/store", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	int		 rc;

	rc = nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f->store);
	free(f);
	return rc;
}

static char *
fpath(void **state, const char *name)
{
	struct fixture	*f = *state;

	return xasprintf("%s/%s", f->dir, name);
}

static char *
object_path(void **state, const uint8_t sha[SHA256_LEN])
{
	struct fixture	*f = *state;
	char		 hex[SHA256_HEX_LEN + 1];

	hex_encode(hex, sha, SHA256_LEN);
	return xasprintf("%s/objects/%.2s/%s", f->store, hex, hex + 2);
}

/* Lands t's content as an object of the store and lists it in m. */
static void
add_file(void **state, struct manifest *m, const struct tfile *t)
{
	struct fixture		*f = *state;
	struct manifest_file	*mf;
	char			*tmp, *obj, *sub, hex[SHA256_HEX_LEN + 1];
	uint8_t			 sha[SHA256_LEN];

	tmp = xasprintf("%s/object.tmp", f->dir);
	gen_write(t, tmp, sha);
	hex_encode(hex, sha, SHA256_LEN);
	sub = xasprintf("%s/objects/%.2s", f->store, hex);
	(void)mkdir(f->store, 0755);
	obj = xasprintf("%s/objects", f->store);
	(void)mkdir(obj, 0755);
	free(obj);
	(void)mkdir(sub, 0755);
	obj = object_path(state, sha);
	assert_int_equal(rename(tmp, obj), 0);

	m->files = xreallocarray(m->files, m->nfiles + 1, sizeof *m->files);
	mf = &m->files[m->nfiles++];
	memset(mf, 0, sizeof *mf);
	mf->path = xstrdup(t->path);
	mf->mode = t->mode;
	mf->size = tfile_size(t);
	memcpy(mf->sha256, sha, SHA256_LEN);
	m->total_size += mf->size;
	free(obj);
	free(sub);
	free(tmp);
}

static void
add_lesson(struct manifest *m, const char *id, const char *title,
    const char *title_zh)
{
	struct manifest_lesson	*l;

	m->lessons = xreallocarray(m->lessons, m->nlessons + 1,
	    sizeof *m->lessons);
	l = &m->lessons[m->nlessons++];
	memset(l, 0, sizeof *l);
	l->id = xstrdup(id);
	meta_add(&l->meta, "entry", "index.html");
	meta_add(&l->meta, "title", title);
	if (title_zh != NULL)
		meta_add(&l->meta, "title.zh", title_zh);
}

#define WITH_BIG	0x1
#define WITH_README	0x2

/*
 * A release of calligraphy-basics: its objects in the store, and its
 * manifest after the canonical encoder and the strict parser (so it is
 * one a store could hold). f->files follows the manifest's file order.
 */
static struct manifest *
build(void **state, uint64_t serial, int flags)
{
	struct fixture	*f = *state;
	struct manifest	*m = manifest_new(), *parsed = NULL;
	struct error	 err = { 0 };
	char		*text;
	size_t		 len, i, j;

	m->name = xstrdup("calligraphy-basics");
	m->serial = serial;
	m->label = xstrdup("1.2");
	memcpy(m->commit, COMMIT, 41);
	memcpy(m->tree, TREE, 41);
	m->time = MTIME;
	meta_add(&m->meta, "language", "zh en");
	meta_add(&m->meta, "license", "CC-BY-4.0");
	meta_add(&m->meta, "title", "Brush Calligraphy Basics");
	meta_add(&m->meta, "title.zh",
	    "\xe6\xaf\x9b\xe7\xac\x94\xe4\xb9\xa6\xe6\xb3\x95\xe5\x85\xa5"
	    "\xe9\x97\xa8");
	add_lesson(m, L01, "The four treasures of the study",
	    "\xe6\x96\x87\xe6\x88\xbf\xe5\x9b\x9b\xe5\xae\x9d");
	add_lesson(m, L01B, "A lesson whose id starts like another", NULL);
	add_lesson(m, L02, "Holding the brush", NULL);
	for (i = 0; i < NBASE; i++)
		add_file(state, m, &base_files[i]);
	if (flags & WITH_BIG) {
		add_lesson(m, L03, "A long video", NULL);
		for (i = 0; i < NBIG; i++)
			add_file(state, m, &big_files[i]);
	}
	if (flags & WITH_README)
		add_file(state, m, &readme_file);
	manifest_sort(m);
	manifest_encode(m, &text, &len);
	if (manifest_parse(&parsed, text, len, "test", &err) != 0)
		fail_msg("manifest: %s", err.msg);
	free(text);
	manifest_free(m);

	f->nfiles = 0;
	for (i = 0; i < parsed->nfiles; i++) {
		const struct tfile	*t = NULL;

		for (j = 0; j < NBASE && t == NULL; j++)
			if (strcmp(base_files[j].path, parsed->files[i].path) == 0)
				t = &base_files[j];
		for (j = 0; j < NBIG && t == NULL; j++)
			if (strcmp(big_files[j].path, parsed->files[i].path) == 0)
				t = &big_files[j];
		if (t == NULL && strcmp(readme_file.path,
		    parsed->files[i].path) == 0)
			t = &readme_file;
		assert_non_null(t);
		f->files[f->nfiles++] = t;
	}
	return parsed;
}

/* Zips lesson id to a new file at path; the call's result. */
static int
zip_to(void **state, const struct manifest *m, const char *id,
    const char *path, struct error *err)
{
	struct fixture	*f = *state;
	int		 fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	rc = lesson_zip_write(fd, f->store, m, id, err);
	assert_int_equal(close(fd), 0);
	return rc;
}

static void
zip_ok(void **state, const struct manifest *m, const char *id,
    const char *path)
{
	struct error	err = { 0 };

	if (zip_to(state, m, id, path, &err) != 0)
		fail_msg("lesson_zip_write: %s", err.msg);
}

static uint8_t *
slurp(const char *path, size_t *lenp)
{
	struct stat	 st;
	uint8_t		*buf;
	int		 fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = xmalloc((size_t)st.st_size + 1);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*lenp = (size_t)st.st_size;
	return buf;
}

static off_t
file_size(const char *path)
{
	struct stat	st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static int
run(const char *fmt, ...)
{
	va_list	 ap;
	char	*cmd;
	int	 st;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	st = system(cmd);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* --- reading a zip back ------------------------------------------------ */

/*
 * Reads the zip at path with libarchive and checks that it holds exactly
 * README.txt (with the lesson's note) unless the bundle has its own, then
 * the files of the manifest whose mask has bit `in`, in manifest order,
 * each byte for byte, with its mode and the manifest's time. Streams: no
 * entry is held whole. Returns the number of entries.
 */
static size_t
check_zip(void **state, const char *path, unsigned int in,
    const char *readme_wants)
{
	struct fixture		*f = *state;
	struct archive		*a;
	struct archive_entry	*ae;
	struct gen		 g;
	locale_t		 loc, old;
	uint8_t			 buf[40000], want[40000];
	struct buf		 readme;
	const char		*name;
	uint64_t		 got;
	size_t			 i = 0, n = 0, k;
	la_ssize_t		 r;
	int			 ar, own_readme = 0;

	for (k = 0; k < f->nfiles; k++)
		if (f->files[k] == &readme_file)
			own_readme = 1;
	/* Entry names are UTF-8: read them under a UTF-8 LC_CTYPE. */
	loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	assert_true(loc != (locale_t)0);
	old = uselocale(loc);
	a = archive_read_new();
	assert_non_null(a);
	assert_int_equal(archive_read_support_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_filename(a, path, 65536),
	    ARCHIVE_OK);
	while ((ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		name = archive_entry_pathname_utf8(ae);
		assert_non_null(name);
		assert_int_equal(archive_entry_filetype(ae), AE_IFREG);
		assert_int_equal(archive_entry_mtime(ae), MTIME);
		assert_int_equal(archive_entry_uid(ae), 0);
		assert_int_equal(archive_entry_gid(ae), 0);
		assert_null(archive_entry_uname(ae));
		assert_null(archive_entry_gname(ae));
		if (n == 0 && !own_readme) {
			assert_string_equal(name, LESSON_ZIP_README);
			assert_int_equal(archive_entry_perm(ae), 0644);
			buf_init(&readme);
			while ((r = archive_read_data(a, buf, sizeof buf)) > 0)
				buf_add(&readme, buf, (size_t)r);
			assert_int_equal(r, 0);
			if (readme_wants != NULL &&
			    strstr(readme.data, readme_wants) == NULL)
				fail_msg("README.txt lacks \"%s\":\n%s",
				    readme_wants, readme.data);
			buf_free(&readme);
			n++;
			continue;
		}
		while (i < f->nfiles && !(f->files[i]->in & in))
			i++;
		if (i == f->nfiles)
			fail_msg("unexpected entry %s", name);
		assert_string_equal(name, f->files[i]->path);
		assert_int_equal(archive_entry_perm(ae), f->files[i]->mode);
		gen_init(&g, f->files[i]);
		got = 0;
		while ((r = archive_read_data(a, buf, sizeof buf)) > 0) {
			gen_fill(&g, want, (size_t)r);
			if (memcmp(buf, want, (size_t)r) != 0)
				fail_msg("%s differs near byte %ju", name,
				    (uintmax_t)got);
			got += (uint64_t)r;
		}
		assert_int_equal(r, 0);
		assert_int_equal(got, tfile_size(f->files[i]));
		i++;
		n++;
	}
	assert_int_equal(ar, ARCHIVE_EOF);
	while (i < f->nfiles && !(f->files[i]->in & in))
		i++;
	if (i != f->nfiles)
		fail_msg("%s is missing from the zip", f->files[i]->path);
	archive_read_free(a);
	uselocale(old);
	freelocale(loc);
	return n;
}

/* One central directory record, as a zip reader sees it. */
struct cd_entry {
	char		name[512];
	uint16_t	flags;
	uint16_t	method;
	uint32_t	attr;		/* external attributes */
};

static uint32_t
le(const uint8_t *p, int n)
{
	uint32_t	v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* Parses the end record and the central directory of a comment-less zip
 * (libarchive writes no comment) held in buf; returns the entries. */
static struct cd_entry *
parse_cd(const uint8_t *buf, size_t len, size_t *np)
{
	struct cd_entry	*v;
	const uint8_t	*eocd, *p;
	size_t		 n, i, nl;

	assert_true(len >= 22);
	eocd = buf + len - 22;
	assert_int_equal(le(eocd, 4), 0x06054b50);
	n = le(eocd + 10, 2);
	assert_true(le(eocd + 16, 4) + le(eocd + 12, 4) == len - 22);
	p = buf + le(eocd + 16, 4);
	v = xcalloc(n ? n : 1, sizeof *v);
	for (i = 0; i < n; i++) {
		assert_int_equal(le(p, 4), 0x02014b50);
		v[i].flags = (uint16_t)le(p + 8, 2);
		v[i].method = (uint16_t)le(p + 10, 2);
		v[i].attr = le(p + 38, 4);
		nl = le(p + 28, 2);
		assert_true(nl < sizeof v[i].name);
		memcpy(v[i].name, p + 46, nl);
		p += 46 + nl + le(p + 30, 2) + le(p + 32, 2);
	}
	assert_true(p == eocd);
	*np = n;
	return v;
}

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s > 127)
			return 0;
	return 1;
}

/* --- tests ---------------------------------------------------------- */

static void
test_lesson_roundtrip(void **state)
{
	struct manifest	*m = build(state, 3, 0);
	char		*zip = fpath(state, "l01.zip");

	zip_ok(state, m, L01, zip);
	/* README.txt, 3 shared files and the lesson's 7. */
	assert_int_equal(check_zip(state, zip, IN01,
	    "Lesson: The four treasures of the study\r\n"), 11);
	check_zip(state, zip, IN01, "Release: calligraphy-basics 1.2 "
	    "(serial 3)\r\nLicence: CC-BY-4.0\r\n");
	check_zip(state, zip, IN01, "open lessons/" L01 "/index.html");
	check_zip(state, zip, IN01, "Bundle (zh): \xe6\xaf\x9b\xe7\xac\x94");

	/* Another lesson: its own files and the shared ones, no others. */
	zip_ok(state, m, L02, zip);
	assert_int_equal(check_zip(state, zip, IN02,
	    "Lesson: Holding the brush"), 6);
	/* An id that is a prefix of another's takes only its own. */
	zip_ok(state, m, L01B, zip);
	assert_int_equal(check_zip(state, zip, IN01B, NULL), 5);
	manifest_free(m);
	free(zip);
}

/* The zip as a learner's unzip sees it: Info-ZIP tests it, unpacks it,
 * and the lesson's files are there with their bytes, modes and time. */
static void
test_unzip_tool(void **state)
{
	struct fixture	*f = *state;
	struct manifest	*m = build(state, 3, 0);
	char		*zip = fpath(state, "l01.zip");
	char		*out = fpath(state, "unpacked");
	char		*p;
	struct stat	 st;
	struct gen	 g;
	uint8_t		*got, *want;
	size_t		 i, len;

	zip_ok(state, m, L01, zip);
	if (run("command -v unzip >/dev/null 2>&1") != 0)
		fail_msg("unzip is not installed (tests/packages.sh)");
	assert_int_equal(run("unzip -tq '%s' >/dev/null", zip), 0);
	assert_int_equal(run("unzip -q '%s' -d '%s'", zip, out), 0);
	for (i = 0; i < f->nfiles; i++) {
		p = xasprintf("%s/%s", out, f->files[i]->path);
		if (!(f->files[i]->in & IN01)) {
			assert_int_equal(stat(p, &st), -1);
			free(p);
			continue;
		}
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mtime, MTIME);	/* from the UT field */
		assert_int_equal(!!(st.st_mode & S_IXUSR),
		    f->files[i]->mode == 0755);
		got = slurp(p, &len);
		assert_int_equal(len, tfile_size(f->files[i]));
		want = xmalloc(len + 1);
		gen_init(&g, f->files[i]);
		gen_fill(&g, want, len);
		assert_memory_equal(got, want, len);
		free(got);
		free(want);
		free(p);
	}
	/* The page a learner opens, and the stylesheet it links. */
	p = xasprintf("%s/lessons/" L01 "/../../style.css", out);
	assert_int_equal(stat(p, &st), 0);
	free(p);
	p = xasprintf("%s/README.txt", out);
	assert_int_equal(stat(p, &st), 0);
	free(p);
	manifest_free(m);
	free(zip);
	free(out);
}

static void
test_central_directory(void **state)
{
	struct fixture	*f = *state;
	struct manifest	*m = build(state, 3, 0);
	struct cd_entry	*cd;
	char		*zip = fpath(state, "l01.zip");
	uint8_t		*buf;
	size_t		 len, n, i, k = 1;

	zip_ok(state, m, L01, zip);
	buf = slurp(zip, &len);
	cd = parse_cd(buf, len, &n);
	assert_int_equal(n, 11);
	assert_string_equal(cd[0].name, "README.txt");
	assert_int_equal(cd[0].method, 8);
	assert_int_equal(cd[0].attr >> 16, S_IFREG | 0644);
	for (i = 0; i < f->nfiles; i++) {
		if (!(f->files[i]->in & IN01))
			continue;
		assert_string_equal(cd[k].name, f->files[i]->path);
		/* Media already compressed is stored, the rest deflated. */
		if (f->files[i]->stored ? cd[k].method != 0 :
		    cd[k].method != 8)
			fail_msg("%s: method %u", cd[k].name, cd[k].method);
		/* Non-ASCII names are flagged UTF-8 (bit 11). */
		assert_int_equal(!!(cd[k].flags & 0x800),
		    !is_ascii(f->files[i]->path));
		assert_int_equal(cd[k].attr >> 16, S_IFREG | f->files[i]->mode);
		k++;
	}
	assert_int_equal(k, n);
	free(cd);
	free(buf);
	manifest_free(m);
	free(zip);
}

static void
test_deterministic(void **state)
{
	struct manifest	*m = build(state, 3, 0), *m2;
	char		*a = fpath(state, "a.zip"), *b = fpath(state, "b.zip");
	char		 ka[SHA256_HEX_LEN + 1], kb[SHA256_HEX_LEN + 1];
	struct error	 err = { 0 };
	uint8_t		*abuf, *bbuf;
	size_t		 alen, blen;
	mode_t		 mask;

	zip_ok(state, m, L01, a);
	/* Another umask, another second, the manifest parsed anew. */
	mask = umask(077);
	sleep(1);
	m2 = build(state, 3, 0);
	zip_ok(state, m2, L01, b);
	umask(mask);
	abuf = slurp(a, &alen);
	bbuf = slurp(b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(abuf, bbuf, alen);
	assert_int_equal(lesson_zip_key(ka, m, L01, &err), 0);
	assert_int_equal(lesson_zip_key(kb, m2, L01, &err), 0);
	assert_string_equal(ka, kb);
	assert_int_equal(strlen(ka), SHA256_HEX_LEN);
	assert_true(strspn(ka, "0123456789abcdef") == SHA256_HEX_LEN);
	free(abuf);
	free(bbuf);
	manifest_free(m);
	manifest_free(m2);
	free(a);
	free(b);
}

/* The zip's DOS times are local: in another time zone the bytes differ,
 * and so must the key, or a cache would serve the wrong bytes. */
static void
test_key_follows_time_zone(void **state)
{
	struct manifest	*m = build(state, 3, 0);
	char		*a = fpath(state, "a.zip"), *b = fpath(state, "b.zip");
	char		 ka[SHA256_HEX_LEN + 1], kb[SHA256_HEX_LEN + 1];
	struct error	 err = { 0 };
	uint8_t		*abuf, *bbuf;
	size_t		 alen, blen;

	zip_ok(state, m, L01, a);
	assert_int_equal(lesson_zip_key(ka, m, L01, &err), 0);
	setenv("TZ", "CST-8", 1);	/* Beijing, without tzdata */
	tzset();
	zip_ok(state, m, L01, b);
	assert_int_equal(lesson_zip_key(kb, m, L01, &err), 0);
	setenv("TZ", "UTC0", 1);
	tzset();
	abuf = slurp(a, &alen);
	bbuf = slurp(b, &blen);
	assert_int_equal(alen, blen);
	assert_true(memcmp(abuf, bbuf, alen) != 0);
	assert_string_not_equal(ka, kb);
	/* Unpacked, both carry the same UTC time. */
	assert_int_equal(check_zip(state, b, IN01, NULL), 11);
	free(abuf);
	free(bbuf);
	manifest_free(m);
	free(a);
	free(b);
}

static void
test_key_changes(void **state)
{
	struct manifest	*m = build(state, 3, 0), *m4;
	char		 k[SHA256_HEX_LEN + 1], k2[SHA256_HEX_LEN + 1];
	struct error	 err = { 0 };
	size_t		 i;

	assert_int_equal(lesson_zip_key(k, m, L01, &err), 0);
	assert_int_equal(lesson_zip_key(k2, m, L02, &err), 0);
	assert_string_not_equal(k, k2);

	/* Another lesson's file changing leaves the key alone... */
	for (i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].path, "lessons/" L02 "/grip.svg") == 0)
			m->files[i].sha256[0] ^= 1;
	assert_int_equal(lesson_zip_key(k2, m, L01, &err), 0);
	assert_string_equal(k, k2);
	/* ...a shared one, a mode or the time do not. */
	for (i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].path, "style.css") == 0)
			m->files[i].sha256[0] ^= 1;
	assert_int_equal(lesson_zip_key(k2, m, L01, &err), 0);
	assert_string_not_equal(k, k2);
	for (i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].path, "style.css") == 0)
			m->files[i].sha256[0] ^= 1;
	assert_int_equal(lesson_zip_key(k2, m, L01, &err), 0);
	assert_string_equal(k, k2);
	for (i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].path, "lessons/" L01 "/index.html") == 0)
			m->files[i].mode = 0755;
	assert_int_equal(lesson_zip_key(k2, m, L01, &err), 0);
	assert_string_not_equal(k, k2);
	m->time++;
	assert_int_equal(lesson_zip_key(k2, m, L01, &err), 0);
	assert_string_not_equal(k, k2);

	/* The README names the release: a new serial, a new zip. */
	m4 = build(state, 4, 0);
	assert_int_equal(lesson_zip_key(k2, m4, L01, &err), 0);
	assert_string_not_equal(k, k2);
	manifest_free(m);
	manifest_free(m4);
}

static void
test_unknown_lesson(void **state)
{
	struct manifest	*m = build(state, 3, 0);
	char		*zip = fpath(state, "none.zip");
	char		 k[SHA256_HEX_LEN + 1];
	struct error	 err = { 0 };
	static const char *const bad[] = {
		"no-such-lesson", "01-four", "", "lessons", "../" L01, L01 "/",
	};
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		error_clear(&err);
		assert_int_equal(zip_to(state, m, bad[i], zip, &err),
		    SATCHEL_ENOTFOUND);
		assert_non_null(strstr(err.msg, "no lesson"));
		assert_non_null(strstr(err.msg, bad[i]));
		assert_non_null(strstr(err.msg, "calligraphy-basics"));
		/* Nothing was written. */
		assert_int_equal(file_size(zip), 0);
		assert_int_equal(lesson_zip_key(k, m, bad[i], &err),
		    SATCHEL_ENOTFOUND);
	}
	manifest_free(m);
	free(zip);
}

/* Runs lesson 01's zip and expects it to fail with code, the message
 * naming the file, its object and the lesson. */
static void
expect_failure(void **state, const struct manifest *m, const char *file,
    const uint8_t sha[SHA256_LEN], int code, const char *what)
{
	struct error	 err = { 0 };
	char		*zip = fpath(state, "bad.zip");
	char		*obj = object_path(state, sha);

	assert_int_equal(zip_to(state, m, L01, zip, &err), code);
	if (strstr(err.msg, file) == NULL || strstr(err.msg, obj) == NULL ||
	    strstr(err.msg, what) == NULL || strstr(err.msg, L01) == NULL)
		fail_msg("message lacks the file, object, lesson or \"%s\": %s",
		    what, err.msg);
	free(zip);
	free(obj);
}

static const struct manifest_file *
mfile(const struct manifest *m, const char *path)
{
	const struct manifest_file	*f = manifest_find_file(m, path);

	assert_non_null(f);
	return f;
}

static void
test_missing_object(void **state)
{
	struct manifest			*m = build(state, 3, 0);
	const struct manifest_file	*f = mfile(m, "style.css");
	char				*obj = object_path(state, f->sha256);

	assert_int_equal(unlink(obj), 0);
	expect_failure(state, m, "style.css", f->sha256, SATCHEL_ERR,
	    "missing");
	manifest_free(m);
	free(obj);
}

/* One byte flipped: caught by the hash while streaming. */
static void
test_corrupt_object(void **state)
{
	struct manifest			*m = build(state, 3, 0);
	const struct manifest_file	*f = mfile(m,
	    "lessons/" L01 "/photo.JPG");
	char				*obj = object_path(state, f->sha256);
	uint8_t				 c;
	int				 fd;

	fd = open(obj, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, 66000), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, 66000), 1);
	close(fd);
	expect_failure(state, m, "lessons/" L01 "/photo.JPG", f->sha256,
	    SATCHEL_EVERIFY, "SHA-256");
	manifest_free(m);
	free(obj);
}

/* Shorter or longer than the manifest says: caught before its header. */
static void
test_wrong_size_object(void **state)
{
	struct manifest			*m = build(state, 3, 0);
	const struct manifest_file	*f = mfile(m,
	    "lessons/" L01 "/notes.txt");
	char				*obj = object_path(state, f->sha256);

	assert_int_equal(truncate(obj, (off_t)f->size - 1), 0);
	expect_failure(state, m, "lessons/" L01 "/notes.txt", f->sha256,
	    SATCHEL_EVERIFY, "damaged");
	assert_int_equal(truncate(obj, (off_t)f->size + 1), 0);
	expect_failure(state, m, "lessons/" L01 "/notes.txt", f->sha256,
	    SATCHEL_EVERIFY, "damaged");
	manifest_free(m);
	free(obj);
}

/* A write error on the output is reported, not a valid-looking zip. */
static void
test_write_error(void **state)
{
	struct fixture	*f = *state;
	struct manifest	*m = build(state, 3, 0);
	struct error	 err = { 0 };
	char		*zip = fpath(state, "ro.zip");
	int		 fd;

	fd = open(zip, O_RDONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(lesson_zip_write(fd, f->store, m, L01, &err),
	    SATCHEL_ERR);
	assert_non_null(strstr(err.msg, "writing zip"));
	close(fd);
	assert_int_equal(file_size(zip), 0);
	manifest_free(m);
	free(zip);
}

/* A bundle's own README.txt is kept, and no second one is added. */
static void
test_bundle_readme_wins(void **state)
{
	struct manifest	*m = build(state, 3, WITH_README);
	char		*zip = fpath(state, "readme.zip");
	char		*out = fpath(state, "readme");
	char		*p;
	uint8_t		*got;
	size_t		 len;

	zip_ok(state, m, L01, zip);
	/* The bundle's README.txt, 3 shared files and the lesson's 7. */
	assert_int_equal(check_zip(state, zip, IN01, NULL), 11);
	assert_int_equal(run("unzip -q '%s' -d '%s'", zip, out), 0);
	p = xasprintf("%s/README.txt", out);
	got = slurp(p, &len);
	assert_int_equal(len, strlen(readme_file.text));
	assert_memory_equal(got, readme_file.text, len);
	free(got);
	free(p);
	manifest_free(m);
	free(zip);
	free(out);
}

/* 28 MiB of lesson through 64 KiB chunks: a 20 MiB video stored, 8 MiB
 * of text deflated; read back streaming, and tested by unzip. */
static void
test_large_files(void **state)
{
	struct manifest	*m = build(state, 3, WITH_BIG);
	char		*zip = fpath(state, "big.zip");
	off_t		 size;

	zip_ok(state, m, L03, zip);
	assert_int_equal(check_zip(state, zip, IN03, "Lesson: A long video"),
	    7);
	size = file_size(zip);
	/* Stored video, deflated text: a little over the video's size. */
	assert_true(size > (off_t)BIG_VIDEO);
	assert_true(size < (off_t)BIG_VIDEO + BIG_TEXT / 4);
	assert_int_equal(run("unzip -tq '%s' >/dev/null", zip), 0);
	manifest_free(m);
	free(zip);
}

/* The daemon builds zips on worker threads: several at once (each under
 * its own thread-local locale, headers under one lock) give exactly the
 * bytes of one built alone. */
#define NTHREADS	4

struct job {
	const char		*store;
	const struct manifest	*m;
	char			*path;
	int			 rc;
	struct error		 err;
};

static void *
job_run(void *arg)
{
	struct job	*j = arg;
	int		 fd;

	if ((fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		j->rc = -1;
		return NULL;
	}
	j->rc = lesson_zip_write(fd, j->store, j->m, L01, &j->err);
	if (close(fd) != 0)
		j->rc = -1;
	return NULL;
}

static void
test_concurrent(void **state)
{
	struct fixture	*f = *state;
	struct manifest	*m = build(state, 3, 0);
	struct job	 jobs[NTHREADS];
	pthread_t	 th[NTHREADS];
	char		*one = fpath(state, "one.zip");
	uint8_t		*want, *got;
	size_t		 wlen, glen;
	int		 i;

	zip_ok(state, m, L01, one);
	want = slurp(one, &wlen);
	for (i = 0; i < NTHREADS; i++) {
		memset(&jobs[i], 0, sizeof jobs[i]);
		jobs[i].store = f->store;
		jobs[i].m = m;
		jobs[i].path = xasprintf("%s/t%d.zip", f->dir, i);
		assert_int_equal(pthread_create(&th[i], NULL, job_run,
		    &jobs[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < NTHREADS; i++) {
		if (jobs[i].rc != 0)
			fail_msg("thread %d: %s", i, jobs[i].err.msg);
		got = slurp(jobs[i].path, &glen);
		assert_int_equal(glen, wlen);
		assert_memory_equal(got, want, wlen);
		free(got);
		free(jobs[i].path);
	}
	free(want);
	manifest_free(m);
	free(one);
}

/* The writer's own contract: sizes are exact, modes are 644 or 755. */
static void
test_writer_contract(void **state)
{
	struct zip_writer	*w = NULL;
	struct error		 err = { 0 };
	char			*zip = fpath(state, "w.zip");
	int			 fd;

	fd = open(zip, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);

	assert_int_equal(zip_writer_open(&w, fd, &err), 0);
	assert_int_equal(zip_writer_begin(w, "a.txt", 0600, 1, MTIME,
	    ZIP_DEFLATE, &err), SATCHEL_EINVALID);
	zip_writer_free(w);

	assert_int_equal(zip_writer_open(&w, fd, &err), 0);
	assert_int_equal(zip_writer_begin(w, "a.txt", 0644, 3, MTIME,
	    ZIP_DEFLATE, &err), 0);
	assert_int_equal(zip_writer_write(w, "abcd", 4, &err),
	    SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "a.txt"));
	/* Only free after an error. */
	assert_int_equal(zip_writer_finish(w, &err), SATCHEL_ERR);
	zip_writer_free(w);

	assert_int_equal(zip_writer_open(&w, fd, &err), 0);
	assert_int_equal(zip_writer_begin(w, "a.txt", 0644, 3, MTIME,
	    ZIP_STORE, &err), 0);
	assert_int_equal(zip_writer_write(w, "ab", 2, &err), 0);
	assert_int_equal(zip_writer_finish(w, &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "short"));
	zip_writer_free(w);

	assert_int_equal(zip_writer_open(&w, fd, &err), 0);
	assert_int_equal(zip_writer_begin(w, "a/../b", 0644, 0, MTIME,
	    ZIP_STORE, &err), 0);	/* paths are the caller's business */
	assert_int_equal(zip_writer_begin(w, "bad\nname", 0644, 0, MTIME,
	    ZIP_STORE, &err), SATCHEL_EINVALID);
	zip_writer_free(w);
	close(fd);
	/* Abandoned before their first 64 KiB block was full, these zips
	 * wrote nothing at all: the block is dropped, not flushed. */
	assert_int_equal(file_size(zip), 0);
	free(zip);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lesson_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unzip_tool, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_central_directory, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deterministic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_follows_time_zone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_changes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_lesson, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_object, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_object, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_size_object, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bundle_readme_wins, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_large_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_writer_contract, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("zip", tests, NULL, NULL);
}
