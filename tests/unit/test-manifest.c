/*
 * test-manifest.c: the manifest (protocol/manifest.c): metadata helpers,
 * name checks, canonical order and text, the round trip through the
 * strict parser, and everything that parser must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vectors.h"

#include "crypto.h"
#include "error.h"
#include "manifest.h"
#include "path.h"
#include "util.h"

#ifndef SRCDIR
#error "build with -DSRCDIR='\"/path/to/source\"'"
#endif

#define COMMIT	"0123456789abcdef0123456789abcdef01234567"
#define TREE	"fedcba9876543210fedcba9876543210fedcba98"
#define SHA_HELLO "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define SHA_HI	"98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4"

/* The canonical text of the small manifest built by build_minimal(), and
 * the content of protocol/vectors/manifest-minimal.txt. Line numbers are
 * used by the refusal tests below. */
static const char minimal[] =
	"satchel-manifest 1\n"						/*  1 */
	"name demo\n"							/*  2 */
	"serial 3\n"							/*  3 */
	"label 1.0\n"							/*  4 */
	"meta language en\n"						/*  5 */
	"meta title Demo\n"						/*  6 */
	"source-commit " COMMIT "\n"					/*  7 */
	"source-tree " TREE "\n"					/*  8 */
	"source-time 1700000000\n"					/*  9 */
	"lesson 01-intro\n"						/* 10 */
	"lesson-meta entry index.html\n"				/* 11 */
	"lesson-meta title Intro\n"					/* 12 */
	"changelog Fix a typo\n"					/* 13 */
	"files 2 9\n"							/* 14 */
	"file 644 6 " SHA_HELLO " lessons/01-intro/index.html\n"	/* 15 */
	"file 755 3 " SHA_HI " run.sh\n"				/* 16 */
	"end\n";							/* 17 */

/* --- helpers ----------------------------------------------------------- */

static void
add_file(struct manifest *m, const char *path, uint32_t mode, const char *content)
{
	struct manifest_file	*f;

	m->files = xreallocarray(m->files, m->nfiles + 1, sizeof *m->files);
	f = &m->files[m->nfiles++];
	memset(f, 0, sizeof *f);
	f->path = xstrdup(path);
	f->mode = mode;
	f->size = strlen(content);
	sha256(content, strlen(content), f->sha256);
	m->total_size += f->size;
}

/* Returns the lesson's index (the array may move). */
static size_t
add_lesson(struct manifest *m, const char *id)
{
	m->lessons = xreallocarray(m->lessons, m->nlessons + 1, sizeof *m->lessons);
	memset(&m->lessons[m->nlessons], 0, sizeof *m->lessons);
	m->lessons[m->nlessons].id = xstrdup(id);
	return m->nlessons++;
}

static void
add_changelog(struct manifest *m, const char *line)
{
	m->changelog = xreallocarray(m->changelog, m->nchangelog + 1,
	    sizeof *m->changelog);
	m->changelog[m->nchangelog++] = xstrdup(line);
}

static void
set_header(struct manifest *m, const char *name, uint64_t serial,
    const char *label, int64_t time)
{
	m->name = xstrdup(name);
	m->serial = serial;
	m->label = xstrdup(label);
	memcpy(m->commit, COMMIT, 41);
	memcpy(m->tree, TREE, 41);
	m->time = time;
}

/* The manifest of `minimal`, with every list filled in non-canonical
 * order: manifest_sort must put it right. */
static struct manifest *
build_minimal(void)
{
	struct manifest	*m = manifest_new();
	size_t		 l;

	set_header(m, "demo", 3, "1.0", 1700000000);
	meta_add(&m->meta, "title", "Demo");
	meta_add(&m->meta, "language", "en");
	l = add_lesson(m, "01-intro");
	meta_add(&m->lessons[l].meta, "title", "Intro");
	meta_add(&m->lessons[l].meta, "entry", "index.html");
	add_changelog(m, "Fix a typo");
	add_file(m, "run.sh", 0755, "hi\n");
	add_file(m, "lessons/01-intro/index.html", 0644, "hello\n");
	return m;
}

static char *
encode(const struct manifest *m, size_t *lenp)
{
	char	*out = NULL;
	size_t	 len = 0;

	manifest_encode(m, &out, &len);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	if (lenp != NULL)
		*lenp = len;
	return out;
}

static struct manifest *
parse_ok(const char *buf, size_t len)
{
	struct manifest	*m = NULL;
	struct error	 err;

	error_clear(&err);
	if (manifest_parse(&m, buf, len, "M", &err) != 0)
		fail_msg("manifest_parse refused a valid manifest: %s", err.msg);
	assert_non_null(m);
	return m;
}

static void
assert_meta_equal(const struct meta *a, const struct meta *b)
{
	size_t	i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_string_equal(a->v[i].key, b->v[i].key);
		assert_string_equal(a->v[i].value, b->v[i].value);
	}
}

static void
assert_manifests_equal(const struct manifest *a, const struct manifest *b)
{
	size_t	i;

	assert_string_equal(a->name, b->name);
	assert_int_equal(a->serial, b->serial);
	assert_string_equal(a->label, b->label);
	assert_meta_equal(&a->meta, &b->meta);
	assert_string_equal(a->commit, b->commit);
	assert_string_equal(a->tree, b->tree);
	assert_int_equal(a->time, b->time);
	assert_int_equal(a->nlessons, b->nlessons);
	for (i = 0; i < a->nlessons; i++) {
		assert_string_equal(a->lessons[i].id, b->lessons[i].id);
		assert_meta_equal(&a->lessons[i].meta, &b->lessons[i].meta);
	}
	assert_int_equal(a->nchangelog, b->nchangelog);
	for (i = 0; i < a->nchangelog; i++)
		assert_string_equal(a->changelog[i], b->changelog[i]);
	assert_int_equal(a->nfiles, b->nfiles);
	for (i = 0; i < a->nfiles; i++) {
		assert_string_equal(a->files[i].path, b->files[i].path);
		assert_int_equal(a->files[i].mode, b->files[i].mode);
		assert_int_equal(a->files[i].size, b->files[i].size);
		assert_memory_equal(a->files[i].sha256, b->files[i].sha256, SHA256_LEN);
	}
	assert_int_equal(a->total_size, b->total_size);
}

/* manifest_parse(buf) fails with code, leaves *out alone, and the message
 * contains want. what names the case in failure messages. Nothing is
 * left allocated when it fails. */
static void
assert_refused_what(const char *buf, size_t len, int code, const char *want,
    const char *what)
{
	struct manifest	*m = NULL;
	struct error	 err;
	int		 rc, accepted;

	error_clear(&err);
	rc = manifest_parse(&m, buf, len, "M", &err);
	accepted = m != NULL;
	manifest_free(m);
	if (rc != code)
		fail_msg("%s: expected %d, got %d (%s)", what, code, rc,
		    rc == 0 ? "accepted" : err.msg);
	if (accepted)
		fail_msg("%s: refused but *out was set", what);
	assert_int_equal(err.code, code);
	if (strstr(err.msg, want) == NULL)
		fail_msg("%s: message \"%s\" does not contain \"%s\"", what,
		    err.msg, want);
}

static void
assert_refused(const char *buf, size_t len, int code, const char *want)
{
	assert_refused_what(buf, len, code, want, "manifest");
}

/* `minimal` with the first `from` replaced by `to`. */
static char *
variant(const char *from, const char *to)
{
	const char	*at = strstr(minimal, from);

	if (at == NULL)
		fail_msg("\"%s\" is not in the minimal manifest", from);
	return xasprintf("%.*s%s%s", (int)(at - minimal), minimal, to,
	    at + strlen(from));
}

static void
refuse_variant(const char *from, const char *to, int code, const char *want)
{
	char	*buf = variant(from, to);
	char	 copy[4096], what[256];
	size_t	 len = strlen(buf);

	/* Work on a stack copy so nothing leaks if the check fails. */
	if (len >= sizeof copy) {
		free(buf);
		fail_msg("variant too long for this helper");
	}
	memcpy(copy, buf, len);
	free(buf);
	path_escape(what, sizeof what, to, strlen(to));
	assert_refused_what(copy, len, code, want, what);
}

/* --- metadata and names ------------------------------------------------ */

static void
test_meta_get_and_get_lang(void **state)
{
	struct meta	m = { NULL, 0 };

	meta_add(&m, "title", "Maps");
	meta_add(&m, "title.zh", "地图");
	meta_add(&m, "summary.zh", "只有中文");
	assert_string_equal(meta_get(&m, "title"), "Maps");
	assert_string_equal(meta_get(&m, "title.zh"), "地图");
	assert_null(meta_get(&m, "summary"));
	assert_null(meta_get(&m, "titl"));
	/* The variant when present, else the plain key. */
	assert_string_equal(meta_get_lang(&m, "title", "zh"), "地图");
	assert_string_equal(meta_get_lang(&m, "title", "fr"), "Maps");
	assert_string_equal(meta_get_lang(&m, "title", "zh-Hant"), "Maps");
	assert_string_equal(meta_get_lang(&m, "title", NULL), "Maps");
	assert_string_equal(meta_get_lang(&m, "title", ""), "Maps");
	assert_string_equal(meta_get_lang(&m, "summary", "zh"), "只有中文");
	assert_null(meta_get_lang(&m, "summary", "en"));
	assert_null(meta_get_lang(&m, "authors", "zh"));
	meta_free(&m);
	assert_int_equal(m.n, 0);
	assert_null(m.v);
	meta_free(&m);			/* twice is harmless */
	meta_free(NULL);
}

static void
test_bundle_name_check(void **state)
{
	char	name[80];

	memset(name, 'a', sizeof name);
	name[63] = '\0';
	assert_int_equal(bundle_name_check(name), 0);		/* 63 */
	name[63] = 'a';
	name[64] = '\0';
	assert_int_not_equal(bundle_name_check(name), 0);	/* 64 */
	assert_int_equal(bundle_name_check("a"), 0);
	assert_int_equal(bundle_name_check("0"), 0);
	assert_int_equal(bundle_name_check("family-health-care"), 0);
	assert_int_equal(bundle_name_check("2024-maths-"), 0);
	assert_int_not_equal(bundle_name_check(""), 0);
	assert_int_not_equal(bundle_name_check("-abc"), 0);
	assert_int_not_equal(bundle_name_check("Abc"), 0);
	assert_int_not_equal(bundle_name_check("abC"), 0);
	assert_int_not_equal(bundle_name_check("a_b"), 0);
	assert_int_not_equal(bundle_name_check("a.b"), 0);
	assert_int_not_equal(bundle_name_check("a b"), 0);
	assert_int_not_equal(bundle_name_check("a/b"), 0);
	assert_int_not_equal(bundle_name_check("数学"), 0);
}

static void
test_lesson_id_check(void **state)
{
	char	id[80];

	memset(id, 'a', sizeof id);
	id[64] = '\0';
	assert_int_equal(lesson_id_check(id), 0);		/* 64 */
	id[64] = 'a';
	id[65] = '\0';
	assert_int_not_equal(lesson_id_check(id), 0);		/* 65 */
	assert_int_equal(lesson_id_check("01-intro"), 0);
	assert_int_equal(lesson_id_check("1.2_b-c"), 0);
	assert_int_equal(lesson_id_check("a.."), 0);
	assert_int_not_equal(lesson_id_check(""), 0);
	assert_int_not_equal(lesson_id_check("-intro"), 0);
	assert_int_not_equal(lesson_id_check(".."), 0);
	assert_int_not_equal(lesson_id_check(".hidden"), 0);
	assert_int_not_equal(lesson_id_check("_x"), 0);
	assert_int_not_equal(lesson_id_check("Intro"), 0);
	assert_int_not_equal(lesson_id_check("a/b"), 0);
	assert_int_not_equal(lesson_id_check("a b"), 0);
}

/* --- encoding, sorting, round trip ------------------------------------- */

static void
test_canonical_text_of_a_small_manifest(void **state)
{
	struct manifest	*m = build_minimal();
	char		*text, *vec;
	size_t		 len, veclen;

	manifest_sort(m);
	text = encode(m, &len);
	assert_string_equal(text, minimal);
	assert_int_equal(len, sizeof minimal - 1);
	/* The stored vector holds the same bytes. */
	vec = read_vector("manifest-minimal.txt", &veclen);
	assert_int_equal(veclen, len);
	assert_memory_equal(vec, text, len);
	free(vec);
	free(text);
	manifest_free(m);
}

static void
test_vector_parses_to_the_expected_fields(void **state)
{
	struct manifest			*m;
	const struct manifest_file	*f;
	uint8_t				 sha[SHA256_LEN];
	char				*vec, *again;
	size_t				 veclen, len;

	vec = read_vector("manifest-minimal.txt", &veclen);
	m = parse_ok(vec, veclen);
	assert_string_equal(m->name, "demo");
	assert_int_equal(m->serial, 3);
	assert_string_equal(m->label, "1.0");
	assert_int_equal(m->meta.n, 2);
	assert_string_equal(meta_get(&m->meta, "title"), "Demo");
	assert_string_equal(meta_get(&m->meta, "language"), "en");
	assert_string_equal(m->commit, COMMIT);
	assert_string_equal(m->tree, TREE);
	assert_int_equal(m->time, 1700000000);
	assert_int_equal(m->nlessons, 1);
	assert_string_equal(m->lessons[0].id, "01-intro");
	assert_string_equal(meta_get(&m->lessons[0].meta, "entry"), "index.html");
	assert_string_equal(meta_get(&m->lessons[0].meta, "title"), "Intro");
	assert_int_equal(m->nchangelog, 1);
	assert_string_equal(m->changelog[0], "Fix a typo");
	assert_int_equal(m->nfiles, 2);
	assert_int_equal(m->total_size, 9);
	f = manifest_find_file(m, "run.sh");
	assert_non_null(f);
	assert_int_equal(f->mode, 0755);
	assert_int_equal(f->size, 3);
	sha256("hi\n", 3, sha);
	assert_memory_equal(f->sha256, sha, SHA256_LEN);
	f = manifest_find_file(m, "lessons/01-intro/index.html");
	assert_non_null(f);
	assert_int_equal(f->mode, 0644);
	assert_int_equal(f->size, 6);
	sha256("hello\n", 6, sha);
	assert_memory_equal(f->sha256, sha, SHA256_LEN);
	again = encode(m, &len);
	assert_int_equal(len, veclen);
	assert_memory_equal(again, vec, len);
	free(again);
	free(vec);
	manifest_free(m);
}

static void
test_round_trip(void **state)
{
	struct manifest	*m = manifest_new(), *p;
	char		*text, *again;
	size_t		 len, len2, l;

	set_header(m, "geo-basics", 42, "2.1~rc1", 1712345678);
	meta_add(&m->meta, "title.zh", "地理基础");
	meta_add(&m->meta, "title", "Geography basics: maps & rivers");
	l = add_lesson(m, "02-rivers");
	meta_add(&m->lessons[l].meta, "title", "Rivers");
	meta_add(&m->lessons[l].meta, "entry", "start.html");
	meta_add(&m->lessons[l].meta, "title.zh", "河流");
	l = add_lesson(m, "01-maps");
	meta_add(&m->lessons[l].meta, "minutes", "20");
	meta_add(&m->lessons[l].meta, "entry", "index.html");
	add_changelog(m, "Add the lesson on rivers");
	add_changelog(m, "Fix a typo in \"maps\"");
	add_file(m, "lessons/02-rivers/start.html", 0644, "<h1>河流</h1>\n");
	add_file(m, "images/world map.svg", 0644, "<svg/>\n");
	add_file(m, "lessons/01-maps/index.html", 0755, "<h1>Maps</h1>\n");
	manifest_sort(m);
	text = encode(m, &len);

	p = parse_ok(text, len);
	assert_manifests_equal(m, p);
	assert_string_equal(meta_get_lang(&p->meta, "title", "zh"), "地理基础");
	assert_string_equal(p->lessons[0].id, "01-maps");
	assert_string_equal(p->changelog[1], "Fix a typo in \"maps\"");
	/* Re-encoding what was parsed gives the very same bytes. */
	again = encode(p, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(again, text, len);
	free(again);
	free(text);
	manifest_free(p);
	manifest_free(m);
}

/* Position of line in text, or fail. */
static size_t
line_at(const char *text, const char *line)
{
	char		*needle = xasprintf("\n%s\n", line);
	const char	*at = strstr(text, needle);
	size_t		 off;

	free(needle);
	if (at == NULL)
		fail_msg("line \"%s\" not found", line);
	off = (size_t)(at - text);
	return off;
}

static void
test_sort_orders_meta_lessons_and_files(void **state)
{
	struct manifest	*m = manifest_new(), *m2 = manifest_new();
	char		*text, *text2;
	size_t		 l;

	set_header(m, "demo", 1, "1", 0);
	meta_add(&m->meta, "title.zh", "演示");
	meta_add(&m->meta, "language", "zh en");
	meta_add(&m->meta, "title", "Demo");
	meta_add(&m->meta, "authors", "Someone");
	l = add_lesson(m, "10-c");
	meta_add(&m->lessons[l].meta, "title", "C");
	meta_add(&m->lessons[l].meta, "minutes", "5");
	meta_add(&m->lessons[l].meta, "entry", "index.html");
	add_lesson(m, "02-b");
	add_lesson(m, "01-a");
	add_file(m, "z.txt", 0644, "z");
	add_file(m, "a/b", 0644, "ab");
	add_file(m, "a", 0644, "a");
	add_file(m, "a-b", 0644, "a-b");
	manifest_sort(m);

	assert_string_equal(m->meta.v[0].key, "authors");
	assert_string_equal(m->meta.v[1].key, "language");
	assert_string_equal(m->meta.v[2].key, "title");
	assert_string_equal(m->meta.v[3].key, "title.zh");
	assert_string_equal(m->meta.v[3].value, "演示");	/* pairs kept */
	assert_string_equal(m->lessons[0].id, "01-a");
	assert_string_equal(m->lessons[1].id, "02-b");
	assert_string_equal(m->lessons[2].id, "10-c");
	assert_string_equal(m->lessons[2].meta.v[0].key, "entry");
	assert_string_equal(m->lessons[2].meta.v[1].key, "minutes");
	assert_string_equal(m->lessons[2].meta.v[2].key, "title");
	/* Bytewise: '-' (0x2d) sorts before '/' (0x2f). */
	assert_string_equal(m->files[0].path, "a");
	assert_string_equal(m->files[1].path, "a-b");
	assert_string_equal(m->files[2].path, "a/b");
	assert_string_equal(m->files[3].path, "z.txt");
	assert_int_equal(m->files[2].size, 2);		/* records moved whole */

	text = encode(m, NULL);
	assert_true(line_at(text, "meta authors Someone") <
	    line_at(text, "meta language zh en"));
	assert_true(line_at(text, "meta title Demo") <
	    line_at(text, "meta title.zh 演示"));
	assert_true(line_at(text, "lesson 01-a") < line_at(text, "lesson 02-b"));
	assert_true(line_at(text, "lesson 02-b") < line_at(text, "lesson 10-c"));
	assert_true(line_at(text, "lesson-meta entry index.html") <
	    line_at(text, "lesson-meta minutes 5"));

	/* The same content inserted in another order encodes identically. */
	set_header(m2, "demo", 1, "1", 0);
	meta_add(&m2->meta, "authors", "Someone");
	meta_add(&m2->meta, "title", "Demo");
	meta_add(&m2->meta, "language", "zh en");
	meta_add(&m2->meta, "title.zh", "演示");
	add_lesson(m2, "01-a");
	l = add_lesson(m2, "10-c");
	meta_add(&m2->lessons[l].meta, "entry", "index.html");
	meta_add(&m2->lessons[l].meta, "title", "C");
	meta_add(&m2->lessons[l].meta, "minutes", "5");
	add_lesson(m2, "02-b");
	add_file(m2, "a-b", 0644, "a-b");
	add_file(m2, "a", 0644, "a");
	add_file(m2, "z.txt", 0644, "z");
	add_file(m2, "a/b", 0644, "ab");
	manifest_sort(m2);
	text2 = encode(m2, NULL);
	assert_string_equal(text, text2);
	free(text2);
	free(text);
	manifest_free(m2);
	manifest_free(m);
}

static void
test_find_file(void **state)
{
	struct manifest	*m = manifest_new(), *e;
	char		*empty;

	/* An empty manifest: nothing to find. */
	assert_null(manifest_find_file(m, "a"));
	assert_null(manifest_find_file(m, ""));
	add_file(m, "lessons/01/index.html", 0644, "x");
	add_file(m, "a.txt", 0644, "yy");
	add_file(m, "lessons/02/index.html", 0644, "zzz");
	add_file(m, "z", 0755, "");
	manifest_sort(m);
	assert_non_null(manifest_find_file(m, "a.txt"));
	assert_int_equal(manifest_find_file(m, "a.txt")->size, 2);
	assert_int_equal(manifest_find_file(m, "lessons/02/index.html")->size, 3);
	assert_string_equal(manifest_find_file(m, "z")->path, "z");
	assert_string_equal(manifest_find_file(m, "lessons/01/index.html")->path,
	    "lessons/01/index.html");
	assert_null(manifest_find_file(m, "lessons"));
	assert_null(manifest_find_file(m, "lessons/01"));
	assert_null(manifest_find_file(m, "a.tx"));
	assert_null(manifest_find_file(m, "a.txt2"));
	assert_null(manifest_find_file(m, "0"));
	assert_null(manifest_find_file(m, "zz"));
	manifest_free(m);

	/* A parsed manifest with no files at all. */
	empty = xasprintf("satchel-manifest 1\nname e\nserial 1\nlabel 1\n"
	    "source-commit %s\nsource-tree %s\nsource-time 0\nfiles 0 0\nend\n",
	    COMMIT, TREE);
	e = parse_ok(empty, strlen(empty));
	assert_int_equal(e->nfiles, 0);
	assert_null(manifest_find_file(e, "a"));
	manifest_free(e);
	free(empty);
	manifest_free(NULL);
}

/* --- what the parser refuses ------------------------------------------- */

static void
test_parse_accepts_the_minimal_text(void **state)
{
	struct manifest	*m = parse_ok(minimal, sizeof minimal - 1);

	assert_string_equal(m->name, "demo");
	manifest_free(m);
	/* And with no err to fill, a refusal still returns its code. */
	m = NULL;
	assert_int_equal(manifest_parse(&m, "x", 1, "M", NULL), SATCHEL_EINVALID);
	assert_null(m);
}

static void
test_parse_refuses_bad_magic(void **state)
{
	refuse_variant("satchel-manifest 1\n", "satchel-manifest 2\n",
	    SATCHEL_EINVALID, "M:1: not a Satchel manifest");
	refuse_variant("satchel-manifest 1\n", "Satchel-manifest 1\n",
	    SATCHEL_EINVALID, "M:1:");
	refuse_variant("satchel-manifest 1\n", "satchel-manifest 1 \n",
	    SATCHEL_EINVALID, "M:1:");
	assert_refused("", 0, SATCHEL_EINVALID, "M:");
}

static void
test_parse_refuses_missing_name(void **state)
{
	refuse_variant("name demo\n", "", SATCHEL_EINVALID,
	    "M:2: expected \"name VALUE\"");
	refuse_variant("name demo\n", "name \n", SATCHEL_EINVALID,
	    "M:2: expected \"name VALUE\"");
}

static void
test_parse_refuses_invalid_name(void **state)
{
	refuse_variant("name demo\n", "name Bad\n", SATCHEL_EINVALID,
	    "M:2: invalid bundle name");
	refuse_variant("name demo\n", "name -demo\n", SATCHEL_EINVALID,
	    "M:2: invalid bundle name");
	refuse_variant("name demo\n", "name de mo\n", SATCHEL_EINVALID,
	    "M:2: invalid bundle name");
}

static void
test_parse_refuses_bad_serial(void **state)
{
	refuse_variant("serial 3\n", "serial 0\n", SATCHEL_EINVALID, "M:3: serial");
	refuse_variant("serial 3\n", "serial 01\n", SATCHEL_EINVALID, "M:3: serial");
	refuse_variant("serial 3\n", "serial -3\n", SATCHEL_EINVALID, "M:3: serial");
	refuse_variant("serial 3\n", "serial 3x\n", SATCHEL_EINVALID, "M:3: serial");
	refuse_variant("serial 3\n", "serial 9223372036854775808\n",
	    SATCHEL_EINVALID, "M:3: serial");		/* INT64_MAX + 1 */
}

static void
test_parse_refuses_unsorted_meta_keys(void **state)
{
	refuse_variant("meta language en\nmeta title Demo\n",
	    "meta title Demo\nmeta language en\n", SATCHEL_EINVALID,
	    "M:6: metadata key \"language\" out of order");
}

static void
test_parse_refuses_duplicate_meta_key(void **state)
{
	refuse_variant("meta title Demo\n", "meta title Demo\nmeta title Again\n",
	    SATCHEL_EINVALID, "M:7: metadata key \"title\"");
	refuse_variant("meta title Demo\n", "meta language fr\n",
	    SATCHEL_EINVALID, "M:6: metadata key \"language\"");
}

static void
test_parse_refuses_bad_source_commit(void **state)
{
	/* 39 hex digits */
	refuse_variant("source-commit " COMMIT "\n",
	    "source-commit 0123456789abcdef0123456789abcdef0123456\n",
	    SATCHEL_EINVALID, "M:7: expected \"source-commit HEX40\"");
	/* uppercase */
	refuse_variant("source-commit " COMMIT "\n",
	    "source-commit 0123456789ABCDEF0123456789abcdef01234567\n",
	    SATCHEL_EINVALID, "M:7: expected \"source-commit HEX40\"");
	/* 41 */
	refuse_variant("source-commit " COMMIT "\n",
	    "source-commit " COMMIT "8\n",
	    SATCHEL_EINVALID, "M:7:");
	refuse_variant("source-tree " TREE "\n",
	    "source-tree FEDCBA9876543210fedcba9876543210fedcba98\n",
	    SATCHEL_EINVALID, "M:8:");
	refuse_variant("source-time 1700000000\n", "source-time -1\n",
	    SATCHEL_EINVALID, "M:9: source-time");
}

static void
test_parse_refuses_unsorted_lessons(void **state)
{
	refuse_variant("lesson 01-intro\n",
	    "lesson 02-next\nlesson-meta entry index.html\nlesson 01-intro\n",
	    SATCHEL_EINVALID, "M:12: lesson id invalid, out of order or repeated");
	refuse_variant("changelog", "lesson 01-intro\nlesson-meta entry index.html\n"
	    "changelog", SATCHEL_EINVALID, "M:13: lesson id");
	refuse_variant("lesson 01-intro\n", "lesson 01-Intro\n",
	    SATCHEL_EINVALID, "M:10: lesson id");
}

static void
test_parse_refuses_lesson_entry_not_in_files(void **state)
{
	refuse_variant("lesson-meta entry index.html\n",
	    "lesson-meta entry main.html\n", SATCHEL_EINVALID,
	    "M: lesson 01-intro: entry page \"main.html\" is not in the file list");
	/* The entry is relative to lessons/ID/, not to the root. */
	refuse_variant("lesson-meta entry index.html\n",
	    "lesson-meta entry run.sh\n", SATCHEL_EINVALID,
	    "entry page \"run.sh\" is not in the file list");
	refuse_variant("lesson-meta entry index.html\n", "",
	    SATCHEL_EINVALID, "M: lesson 01-intro has no entry");
}

static void
test_parse_refuses_files_out_of_order(void **state)
{
	char	*buf = xasprintf("%.*s"
	    "file 755 3 " SHA_HI " run.sh\n"
	    "file 644 6 " SHA_HELLO " lessons/01-intro/index.html\n"
	    "end\n", (int)(strstr(minimal, "file ") - minimal), minimal);
	char	 copy[1024];

	assert_true(strlen(buf) < sizeof copy);
	strcpy(copy, buf);
	free(buf);
	assert_refused(copy, strlen(copy), SATCHEL_EINVALID,
	    "M:16: file \"lessons/01-intro/index.html\" out of order or listed twice");
}

static void
test_parse_refuses_duplicate_file(void **state)
{
	refuse_variant("file 755 3 " SHA_HI " run.sh\n",
	    "file 755 3 " SHA_HI " lessons/01-intro/index.html\n",
	    SATCHEL_EINVALID,
	    "M:16: file \"lessons/01-intro/index.html\" out of order or listed twice");
}

static void
test_parse_refuses_bad_mode(void **state)
{
	refuse_variant("file 644 6", "file 600 6", SATCHEL_EINVALID,
	    "M:15: file mode must be 644 or 755");
	refuse_variant("file 644 6", "file 0644 6", SATCHEL_EINVALID, "M:15: file mode");
	refuse_variant("file 644 6", "file 775 6", SATCHEL_EINVALID, "M:15: file mode");
	refuse_variant("file 644 6", "file 64 6", SATCHEL_EINVALID, "M:15: file mode");
}

static void
test_parse_refuses_file_over_size_limit(void **state)
{
	char		*ok;
	struct manifest	*m;

	refuse_variant("file 644 6 ", "file 644 1099511627776 ", SATCHEL_ELIMIT,
	    "M:15: file size 1099511627776 exceeds the limit");
	refuse_variant("file 644 6 ", "file 644 68719476737 ", SATCHEL_ELIMIT,
	    "M:15: file size");			/* MANIFEST_FILE_MAX + 1 */
	refuse_variant("file 644 6 ", "file 644 18446744073709551616 ",
	    SATCHEL_EINVALID, "M:15: bad file size");	/* 2^64 */
	refuse_variant("file 644 6 ", "file 644 06 ", SATCHEL_EINVALID,
	    "M:15: bad file size");
	/* Exactly MANIFEST_FILE_MAX is allowed. */
	ok = variant("files 2 9\nfile 644 6 ", "files 2 68719476739\nfile 644 68719476736 ");
	m = parse_ok(ok, strlen(ok));
	assert_int_equal(m->files[0].size, MANIFEST_FILE_MAX);
	manifest_free(m);
	free(ok);
}

/* A huge count must be refused from the "files" line alone: allocating
 * for it first would abort (xmalloc) or trip ASan. */
static void
test_parse_refuses_file_count_over_limit_before_allocating(void **state)
{
	refuse_variant("files 2 9\n", "files 1000001 9\n", SATCHEL_ELIMIT,
	    "M:14: 1000001 files");
	refuse_variant("files 2 9\n", "files 18446744073709551615 9\n",
	    SATCHEL_ELIMIT, "M:14:");
	/* MANIFEST_FILES_MAX itself is within the limit: the parser goes on
	 * and finds "end" where the third file should be. */
	refuse_variant("files 2 9\n", "files 1000000 9\n", SATCHEL_EINVALID,
	    "M:17: expected \"file MODE SIZE SHA256 PATH\" (3 of 1000000)");
}

static void
test_parse_refuses_total_over_limit(void **state)
{
	refuse_variant("files 2 9\n", "files 2 1099511627777\n", SATCHEL_ELIMIT,
	    "M:14:");
	refuse_variant("files 2 9\n", "files 2 x\n", SATCHEL_EINVALID,
	    "M:14: expected \"files COUNT BYTES\"");
	refuse_variant("files 2 9\n", "files 2\n", SATCHEL_EINVALID,
	    "M:14: expected \"files COUNT BYTES\"");
}

static void
test_parse_refuses_total_mismatch(void **state)
{
	refuse_variant("files 2 9\n", "files 2 10\n", SATCHEL_EINVALID,
	    "M: file sizes add up to 9 bytes, not the declared 10");
	refuse_variant("files 2 9\n", "files 2 8\n", SATCHEL_EINVALID,
	    "M:16: file sizes add up to more than the declared 8 bytes");
	refuse_variant("files 2 9\n", "files 1 6\n", SATCHEL_EINVALID,
	    "M:16: expected \"end\"");
}

static void
test_parse_refuses_dot_dot_path(void **state)
{
	refuse_variant(" run.sh\n", " run/../x.sh\n", SATCHEL_EINVALID,
	    "M:16: file \"run/../x.sh\": \"..\" component");
	refuse_variant(" run.sh\n", " /run.sh\n", SATCHEL_EINVALID,
	    "M:16: file \"/run.sh\": absolute path");
	refuse_variant(" run.sh\n", " run\\.sh\n", SATCHEL_EINVALID,
	    "M:16: file \"run\\x5c.sh\": backslash in path");
	refuse_variant(" run.sh\n", " run.sh/\n", SATCHEL_EINVALID,
	    "M:16: file \"run.sh/\": empty path component");
}

static void
test_parse_refuses_control_char_in_path(void **state)
{
	refuse_variant(" run.sh\n", " run\x01.sh\n", SATCHEL_EINVALID,
	    "M:16: not valid UTF-8 text (or a control character)");
	refuse_variant(" run.sh\n", " run\x1b[1m.sh\n", SATCHEL_EINVALID, "M:16:");
	refuse_variant(" run.sh\n", " run\xc2\x85.sh\n", SATCHEL_EINVALID, "M:16:");
	refuse_variant(" run.sh\n", " run\xff.sh\n", SATCHEL_EINVALID, "M:16:");
	/* A CR would make "file ... run.sh\r" look like "run.sh". */
	refuse_variant(" run.sh\n", " run.sh\r\n", SATCHEL_EINVALID, "M:16:");
	/* A NUL inside the buffer is a control character too. */
	{
		char	buf[sizeof minimal];

		memcpy(buf, minimal, sizeof minimal);
		*strstr(buf, "run.sh") = '\0';
		assert_refused(buf, sizeof minimal - 1, SATCHEL_EINVALID, "M:16:");
	}
}

static void
test_parse_refuses_missing_final_newline(void **state)
{
	assert_refused(minimal, sizeof minimal - 2, SATCHEL_EINVALID,
	    "M:17: line without a final newline");
	refuse_variant("end\n", "end", SATCHEL_EINVALID, "M:17:");
}

static void
test_parse_refuses_data_after_end(void **state)
{
	refuse_variant("end\n", "end\nx\n", SATCHEL_EINVALID,
	    "M:18: data after the \"end\" line");
	refuse_variant("end\n", "end\n\n", SATCHEL_EINVALID, "M:18: data after");
	refuse_variant("end\n", "end\nend\n", SATCHEL_EINVALID, "M:18: data after");
	refuse_variant("end\n", "end \n", SATCHEL_EINVALID, "M:17: expected \"end\"");
}

static void
test_parse_refuses_truncated_input(void **state)
{
	const char	*cut = strstr(minimal, "file 755");

	assert_refused(minimal, (size_t)(cut - minimal), SATCHEL_EINVALID,
	    "ends before its \"end\" line");
	assert_refused(minimal, 19, SATCHEL_EINVALID, "ends before");
}

static void
test_parse_refuses_input_over_manifest_max(void **state)
{
	char	*big = xmalloc(MANIFEST_MAX + 1);
	char	 want[64];

	memset(big, 'x', MANIFEST_MAX + 1);
	memcpy(big, minimal, sizeof minimal - 1);
	snprintf(want, sizeof want, "M: manifest larger than %u bytes", MANIFEST_MAX);
	{
		struct manifest	*m = NULL;
		struct error	 err;
		int		 rc, rc_max;
		char		 msg[ERROR_MSG_MAX], msg_max[ERROR_MSG_MAX];

		rc = manifest_parse(&m, big, MANIFEST_MAX + 1, "M", &err);
		memcpy(msg, err.msg, sizeof msg);
		/* Exactly MANIFEST_MAX is read: refused for what follows "end". */
		rc_max = manifest_parse(&m, big, MANIFEST_MAX, "M", &err);
		memcpy(msg_max, err.msg, sizeof msg_max);
		free(big);
		assert_null(m);
		assert_int_equal(rc, SATCHEL_ELIMIT);
		assert_non_null(strstr(msg, want));
		assert_int_equal(rc_max, SATCHEL_EINVALID);
		assert_non_null(strstr(msg_max, "M:18: data after"));
	}
}

static void
test_parse_refuses_a_line_over_line_max(void **state)
{
	char		*ok, *bad, *longline;
	struct manifest	*m;

	/* "changelog " + 8182 = 8192 bytes: the longest line allowed. */
	longline = xmalloc(MANIFEST_LINE_MAX + 2);
	memcpy(longline, "changelog ", 10);
	memset(longline + 10, 'x', MANIFEST_LINE_MAX - 10);
	longline[MANIFEST_LINE_MAX] = '\n';
	longline[MANIFEST_LINE_MAX + 1] = '\0';
	ok = variant("changelog Fix a typo\n", longline);
	m = parse_ok(ok, strlen(ok));
	assert_int_equal(strlen(m->changelog[0]), MANIFEST_LINE_MAX - 10);
	manifest_free(m);
	free(ok);

	longline = xrealloc(longline, MANIFEST_LINE_MAX + 3);
	longline[MANIFEST_LINE_MAX] = 'x';
	longline[MANIFEST_LINE_MAX + 1] = '\n';
	longline[MANIFEST_LINE_MAX + 2] = '\0';
	bad = variant("changelog Fix a typo\n", longline);
	free(longline);
	{
		struct error	err;
		int		rc;

		m = NULL;
		rc = manifest_parse(&m, bad, strlen(bad), "M", &err);
		free(bad);
		assert_null(m);
		assert_int_equal(rc, SATCHEL_ELIMIT);
		assert_string_equal(err.msg, "M:13: line longer than 8192 bytes");
	}
}

/* Extra spaces where a field has a strict syntax are refused by that
 * field's own check. */
static void
test_parse_refuses_double_space_in_strict_fields(void **state)
{
	refuse_variant("name demo\n", "name  demo\n", SATCHEL_EINVALID, "M:2:");
	refuse_variant("serial 3\n", "serial  3\n", SATCHEL_EINVALID, "M:3:");
	refuse_variant("meta language", "meta  language", SATCHEL_EINVALID,
	    "M:5: expected \"KEY VALUE\"");
	refuse_variant("source-commit ", "source-commit  ", SATCHEL_EINVALID, "M:7:");
	refuse_variant("source-time 1700000000\n", "source-time  1700000000\n",
	    SATCHEL_EINVALID, "M:9:");
	refuse_variant("source-time 1700000000\n", "source-time 1700000000 \n",
	    SATCHEL_EINVALID, "M:9:");
	refuse_variant("lesson 01-intro\n", "lesson  01-intro\n",
	    SATCHEL_EINVALID, "M:10:");
	refuse_variant("lesson-meta entry", "lesson-meta  entry",
	    SATCHEL_EINVALID, "M:11:");
	refuse_variant("files 2 9\n", "files 2  9\n", SATCHEL_EINVALID, "M:14:");
	refuse_variant("file 644 6 ", "file  644 6 ", SATCHEL_EINVALID, "M:15:");
	refuse_variant("file 644 6 ", "file 644  6 ", SATCHEL_EINVALID, "M:15:");
}

/* In a text field the bytes after the one separating space are the value
 * (SPEC.md section 5: "values are written exactly as stored"), so
 * "label  1.0" is not a second spelling of label "1.0": it is the one
 * canonical spelling of label " 1.0", and it round-trips byte for byte. */
static void
test_parse_extra_space_in_a_text_value_is_part_of_the_value(void **state)
{
	static const struct {
		const char	*from, *to;
	} cases[] = {
		{ "label 1.0\n", "label  1.0\n" },
		{ "meta title Demo\n", "meta title  Demo\n" },
		{ "lesson-meta title Intro\n", "lesson-meta title  Intro\n" },
		{ "changelog Fix a typo\n", "changelog Fix  a typo \n" },
	};
	struct manifest	*m;
	char		*text, *again;
	size_t		 i, len;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		text = variant(cases[i].from, cases[i].to);
		m = parse_ok(text, strlen(text));
		again = encode(m, &len);
		assert_int_equal(len, strlen(text));
		assert_memory_equal(again, text, len);
		switch (i) {
		case 0:
			assert_string_equal(m->label, " 1.0");
			break;
		case 1:
			assert_string_equal(meta_get(&m->meta, "title"), " Demo");
			break;
		case 2:
			assert_string_equal(meta_get(&m->lessons[0].meta, "title"),
			    " Intro");
			break;
		case 3:
			assert_string_equal(m->changelog[0], "Fix  a typo ");
			break;
		}
		free(again);
		free(text);
		manifest_free(m);
	}
}

/* SPEC.md section 5: readers MUST accept unknown metadata keys. */
static void
test_parse_accepts_unknown_meta_keys(void **state)
{
	char		*text;
	struct manifest	*m;

	text = variant("meta title Demo\n",
	    "meta title Demo\nmeta x-future-field some value\n");
	m = parse_ok(text, strlen(text));
	assert_string_equal(meta_get(&m->meta, "x-future-field"), "some value");
	manifest_free(m);
	free(text);
}

/* At most 1000 changelog lines. */
static void
test_parse_refuses_too_many_changelog_lines(void **state)
{
	struct buf	 b;
	char		*ok, *bad;
	struct manifest	*m;
	size_t		 i;
	int		 rc;
	struct error	 err;

	buf_init(&b);
	for (i = 0; i < MANIFEST_CHANGELOG_MAX; i++)
		buf_printf(&b, "changelog commit %zu\n", i);
	ok = variant("changelog Fix a typo\n", b.data);
	buf_addstr(&b, "changelog one too many\n");
	bad = variant("changelog Fix a typo\n", b.data);
	buf_free(&b);

	m = parse_ok(ok, strlen(ok));
	assert_int_equal(m->nchangelog, MANIFEST_CHANGELOG_MAX);
	manifest_free(m);
	free(ok);
	m = NULL;
	rc = manifest_parse(&m, bad, strlen(bad), "M", &err);
	free(bad);
	assert_null(m);
	assert_int_equal(rc, SATCHEL_ELIMIT);
	assert_string_equal(err.msg, "M:1013: more than 1000 changelog lines");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_get_and_get_lang),
		cmocka_unit_test(test_bundle_name_check),
		cmocka_unit_test(test_lesson_id_check),
		cmocka_unit_test(test_canonical_text_of_a_small_manifest),
		cmocka_unit_test(test_vector_parses_to_the_expected_fields),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_sort_orders_meta_lessons_and_files),
		cmocka_unit_test(test_find_file),
		cmocka_unit_test(test_parse_accepts_the_minimal_text),
		cmocka_unit_test(test_parse_refuses_bad_magic),
		cmocka_unit_test(test_parse_refuses_missing_name),
		cmocka_unit_test(test_parse_refuses_invalid_name),
		cmocka_unit_test(test_parse_refuses_bad_serial),
		cmocka_unit_test(test_parse_refuses_unsorted_meta_keys),
		cmocka_unit_test(test_parse_refuses_duplicate_meta_key),
		cmocka_unit_test(test_parse_refuses_bad_source_commit),
		cmocka_unit_test(test_parse_refuses_unsorted_lessons),
		cmocka_unit_test(test_parse_refuses_lesson_entry_not_in_files),
		cmocka_unit_test(test_parse_refuses_files_out_of_order),
		cmocka_unit_test(test_parse_refuses_duplicate_file),
		cmocka_unit_test(test_parse_refuses_bad_mode),
		cmocka_unit_test(test_parse_refuses_file_over_size_limit),
		cmocka_unit_test(test_parse_refuses_file_count_over_limit_before_allocating),
		cmocka_unit_test(test_parse_refuses_total_over_limit),
		cmocka_unit_test(test_parse_refuses_total_mismatch),
		cmocka_unit_test(test_parse_refuses_dot_dot_path),
		cmocka_unit_test(test_parse_refuses_control_char_in_path),
		cmocka_unit_test(test_parse_refuses_missing_final_newline),
		cmocka_unit_test(test_parse_refuses_data_after_end),
		cmocka_unit_test(test_parse_refuses_truncated_input),
		cmocka_unit_test(test_parse_refuses_input_over_manifest_max),
		cmocka_unit_test(test_parse_refuses_a_line_over_line_max),
		cmocka_unit_test(test_parse_refuses_double_space_in_strict_fields),
		cmocka_unit_test(test_parse_extra_space_in_a_text_value_is_part_of_the_value),
		cmocka_unit_test(test_parse_accepts_unknown_meta_keys),
		cmocka_unit_test(test_parse_refuses_too_many_changelog_lines),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
