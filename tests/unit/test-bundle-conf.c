/*
 * test-bundle-conf.c: bundle.conf and lesson.conf (lib/bundle-conf.c on
 * top of the `key = value` syntax of protocol/kv.c): a full file parses
 * to the right values, and each mistake an author can make is refused
 * with a message that names the file, the line and the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bundle-conf.h"
#include "error.h"
#include "manifest.h"
#include "util.h"

#define BOM	"\xef\xbb\xbf"

/* A complete bundle.conf, one entry per line (line numbers from 1). */
static const char *const full_lines[] = {
	"# Satchel bundle: geography basics",		/*  1 */
	"",						/*  2 */
	"name = geo-basics",				/*  3 */
	"serial = 12",					/*  4 */
	"label = 2.0-rc.1+b~1",				/*  5 */
	"title = Geography Basics",			/*  6 */
	"title.zh = 地理基础",				/*  7 */
	"language = zh-Hans en",			/*  8 */
	"license = CC-BY-SA-4.0",			/*  9 */
	"   # an indented comment = not a field",	/* 10 */
	"summary=Maps, rivers and mountains.",		/* 11 */
	"summary.zh = 地图、河流和山脉。",		/* 12 */
	"subjects = geography maps",			/* 13 */
	"audience\t=\tadults   ",			/* 14 */
	"level = beginner",				/* 15 */
	"module = Community School",			/* 16 */
	"authors = Satchel test team",			/* 17 */
	"   ",						/* 18 */
};
#define NFULL	(sizeof full_lines / sizeof full_lines[0])

/* full_lines joined with eol, with a BOM in front if bom, leaving out the
 * line whose text starts with `skip` (if not NULL) and appending extra. */
static char *
conf_text(const char *eol, int bom, const char *skip, const char *extra)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	if (bom)
		buf_addstr(&b, BOM);
	for (i = 0; i < NFULL; i++) {
		if (skip != NULL && strncmp(full_lines[i], skip, strlen(skip)) == 0)
			continue;
		buf_addstr(&b, full_lines[i]);
		buf_addstr(&b, eol);
	}
	if (extra != NULL)
		buf_addstr(&b, extra);
	return buf_detach(&b, NULL);
}

/* bundle_conf_parse refuses text with EINVALID, leaving nothing to free,
 * and the message contains every string in the NULL-terminated list. */
static void
assert_conf_refused(const char *text, ...)
{
	struct bundle_conf	 c;
	struct error		 err;
	const char		*want;
	char			 msg[ERROR_MSG_MAX];
	va_list			 ap;
	int			 rc;

	memset(&c, 0, sizeof c);
	error_clear(&err);
	rc = bundle_conf_parse(&c, text, strlen(text), "bundle.conf", &err);
	if (rc == 0)
		bundle_conf_free(&c);
	memcpy(msg, err.msg, sizeof msg);
	if (rc != SATCHEL_EINVALID)
		fail_msg("expected EINVALID, got %d (%s)", rc,
		    rc == 0 ? "accepted" : msg);
	assert_int_equal(err.code, SATCHEL_EINVALID);
	assert_null(c.name);			/* *out untouched */
	assert_null(c.meta.v);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)) != NULL)
		if (strstr(msg, want) == NULL) {
			va_end(ap);
			fail_msg("message \"%s\" does not contain \"%s\"", msg, want);
		}
	va_end(ap);
}

/* The minimal valid bundle.conf, plus `extra` lines. */
static char *
small_conf(const char *extra)
{
	return xasprintf("name = demo\nserial = 1\nlabel = 1.0\ntitle = Demo\n"
	    "language = en\nlicense = MIT\n%s", extra);
}

/* small_conf(extra) is refused; extra starts on line 7. */
static void
refuse_small(const char *extra, const char *want1, const char *want2)
{
	char	*text = small_conf(extra);
	char	 copy[1024];

	if (strlen(text) >= sizeof copy) {
		free(text);
		fail_msg("extra too long for this helper");
	}
	strcpy(copy, text);
	free(text);
	assert_conf_refused(copy, want1, want2, (const char *)NULL);
}

static void
assert_full_conf(const struct bundle_conf *c)
{
	size_t	i;

	assert_string_equal(c->name, "geo-basics");
	assert_int_equal(c->serial, 12);
	assert_string_equal(c->label, "2.0-rc.1+b~1");
	assert_string_equal(meta_get(&c->meta, "title"), "Geography Basics");
	assert_string_equal(meta_get(&c->meta, "title.zh"), "地理基础");
	assert_string_equal(meta_get_lang(&c->meta, "title", "zh"), "地理基础");
	assert_string_equal(meta_get(&c->meta, "language"), "zh-Hans en");
	assert_string_equal(meta_get(&c->meta, "license"), "CC-BY-SA-4.0");
	assert_string_equal(meta_get(&c->meta, "summary"), "Maps, rivers and mountains.");
	assert_string_equal(meta_get(&c->meta, "summary.zh"), "地图、河流和山脉。");
	assert_string_equal(meta_get(&c->meta, "subjects"), "geography maps");
	assert_string_equal(meta_get(&c->meta, "audience"), "adults");	/* trimmed */
	assert_string_equal(meta_get(&c->meta, "level"), "beginner");
	assert_string_equal(meta_get(&c->meta, "module"), "Community School");
	assert_string_equal(meta_get(&c->meta, "authors"), "Satchel test team");
	/* name, serial and label have their own fields, not meta entries;
	 * comments do not become fields. */
	assert_int_equal(c->meta.n, 11);
	assert_null(meta_get(&c->meta, "name"));
	assert_null(meta_get(&c->meta, "serial"));
	assert_null(meta_get(&c->meta, "label"));
	/* meta comes out sorted, ready for the manifest. */
	for (i = 1; i < c->meta.n; i++)
		assert_true(strcmp(c->meta.v[i - 1].key, c->meta.v[i].key) < 0);
}

/* --- bundle.conf ------------------------------------------------------- */

static void
test_full_conf_with_crlf_and_bom(void **state)
{
	struct bundle_conf	 c;
	struct error		 err;
	char			*text = conf_text("\r\n", 1, NULL, NULL);

	error_clear(&err);
	if (bundle_conf_parse(&c, text, strlen(text), "bundle.conf", &err) != 0)
		fail_msg("refused: %s", err.msg);
	free(text);
	assert_full_conf(&c);
	bundle_conf_free(&c);
	assert_null(c.name);
	bundle_conf_free(&c);			/* twice is harmless */
	bundle_conf_free(NULL);
}

static void
test_full_conf_with_lf_and_no_final_newline(void **state)
{
	struct bundle_conf	 c;
	struct error		 err;
	char			*text = conf_text("\n", 0, NULL, "authors.zh = 示例组");

	error_clear(&err);
	if (bundle_conf_parse(&c, text, strlen(text), "bundle.conf", &err) != 0)
		fail_msg("refused: %s", err.msg);
	free(text);
	assert_string_equal(meta_get(&c.meta, "authors.zh"), "示例组");
	assert_int_equal(c.meta.n, 12);
	bundle_conf_free(&c);
}

static void
test_each_required_field_missing(void **state)
{
	static const char *const required[] = {
		"name", "serial", "label", "title", "language", "license"
	};
	size_t	i;
	char	skip[32], quoted[32], *text, copy[2048];

	for (i = 0; i < sizeof required / sizeof required[0]; i++) {
		snprintf(skip, sizeof skip, "%s =", required[i]);
		snprintf(quoted, sizeof quoted, "\"%s\"", required[i]);
		text = conf_text("\r\n", 1, skip, NULL);
		assert_true(strlen(text) < sizeof copy);
		strcpy(copy, text);
		free(text);
		assert_conf_refused(copy, "bundle.conf", quoted, "missing",
		    (const char *)NULL);
	}
	/* A variant does not stand in for the plain title. */
	assert_conf_refused("name = a\nserial = 1\nlabel = 1\ntitle.zh = 甲\n"
	    "language = zh\nlicense = MIT\n", "\"title\"", "missing",
	    (const char *)NULL);
}

static void
test_unknown_key(void **state)
{
	refuse_small("colour = blue\n", "bundle.conf:7:", "unknown key \"colour\"");
	refuse_small("# fine\n\ntitel = Typo\n", "bundle.conf:9:", "\"titel\"");
	refuse_small("colour.zh = 蓝\n", "bundle.conf:7:", "\"colour.zh\"");
}

static void
test_duplicate_key(void **state)
{
	refuse_small("summary = a\ntitle = Again\n", "bundle.conf:8:",
	    "duplicate key \"title\" (first on line 4)");
}

static void
test_line_without_equals(void **state)
{
	refuse_small("\njust some words\n", "bundle.conf:8:", "expected \"key = value\"");
	/* The line count includes a leading BOM line and CRLF lines. */
	assert_conf_refused(BOM "# c\r\nname demo\r\n", "bundle.conf:2:",
	    (const char *)NULL);
}

static void
test_empty_value(void **state)
{
	refuse_small("summary =\n", "bundle.conf:7:", "\"summary\" has an empty value");
	refuse_small("summary =   \t\n", "bundle.conf:7:", "empty value");
	assert_conf_refused("name =\r\n", "bundle.conf:1:", "\"name\"",
	    (const char *)NULL);
}

static void
test_invalid_utf8_in_value(void **state)
{
	refuse_small("summary = caf\xc3\n", "bundle.conf:7:", "UTF-8");
	refuse_small("summary = \xff\xfe\n", "bundle.conf:7:", "UTF-8");
	refuse_small("summary = a\xc0\xaf" "b\n", "bundle.conf:7:", "UTF-8");
	refuse_small("summary = a\x1b[31mb\n", "bundle.conf:7:", "control");
	refuse_small("summary = a\rb\n", "bundle.conf:7:", "control");
	refuse_small("summary = a\xc2\x85" "b\n", "bundle.conf:7:", "control");
	/* A tab inside the value is a control character as well. */
	refuse_small("summary = a\tb\n", "bundle.conf:7:", "\"summary\"");
}

static void
test_variant_on_a_field_without_variants(void **state)
{
	refuse_small("license.zh = MIT\n", "bundle.conf:7:",
	    "\"license\" cannot have language variants");
	refuse_small("name.zh = demo\n", "bundle.conf:7:", "\"name\" cannot have");
	refuse_small("language.en = en\n", "bundle.conf:7:", "\"language\"");
	/* Variants take a BCP 47 tag. */
	refuse_small("title.x = X\n", "bundle.conf:7:", "\"x\" is not a BCP 47");
	refuse_small("title.zh_CN = X\n", "bundle.conf:7:", "invalid key");
	refuse_small("title. = X\n", "bundle.conf:7:", "invalid key");
}

/* A minimal bundle.conf whose line 5 is "FIELD = VALUE" (language or
 * license), parsed; returns the code and, on success, the stored value
 * through *valuep (caller frees). */
static int
parse_with(const char *field, const char *value, char **valuep, char *msg)
{
	struct bundle_conf	 c;
	struct error		 err;
	char			*text;
	int			 rc;

	text = xasprintf("name = demo\nserial = 1\nlabel = 1.0\ntitle = Demo\n"
	    "%s = %s\n%s\n", field, value,
	    strcmp(field, "language") == 0 ? "license = MIT" : "language = en");
	error_clear(&err);
	rc = bundle_conf_parse(&c, text, strlen(text), "bundle.conf", &err);
	free(text);
	*valuep = NULL;
	if (rc == 0) {
		*valuep = xstrdup(meta_get(&c.meta, field));
		bundle_conf_free(&c);
	}
	memcpy(msg, err.msg, ERROR_MSG_MAX);
	return rc;
}

static void
assert_field_ok(const char *field, const char *value)
{
	char	*got, msg[ERROR_MSG_MAX];
	int	 rc, same;

	rc = parse_with(field, value, &got, msg);
	same = got != NULL && strcmp(got, value) == 0;
	free(got);
	if (rc != 0)
		fail_msg("%s = %s refused: %s", field, value, msg);
	assert_true(same);
}

static void
assert_field_refused(const char *field, const char *value)
{
	char	*got, msg[ERROR_MSG_MAX], *want;
	int	 rc, has_line, has_value;

	rc = parse_with(field, value, &got, msg);
	free(got);
	if (rc != SATCHEL_EINVALID)
		fail_msg("%s = %s: expected EINVALID, got %d", field, value, rc);
	has_line = strstr(msg, "bundle.conf:5:") != NULL;
	want = xasprintf("%s \"%s\"", field, value);
	has_value = strstr(msg, want) != NULL;
	free(want);
	if (!has_line || !has_value)
		fail_msg("%s = %s: message \"%s\" does not name line 5, the "
		    "field and the value", field, value, msg);
}

static void
test_language_tags(void **state)
{
	assert_field_ok("language", "zh-Hans en");
	assert_field_ok("language", "zh");
	assert_field_ok("language", "en-US fr-CA sr-Latn-RS");
	assert_field_ok("language", "es-419");
	assert_field_refused("language", "zh_CN");
	assert_field_refused("language", "e");
	assert_field_refused("language", "en-");
	assert_field_refused("language", "-en");
	assert_field_refused("language", "zh  en");
	assert_field_refused("language", "en,fr");
	assert_field_refused("language", "1en");
	assert_field_refused("language", "abcdefghi");
	assert_field_refused("language", "en-abcdefghi");
	/* The checker itself. */
	assert_int_equal(language_list_check("zh-Hans en"), 0);
	assert_int_not_equal(language_list_check(""), 0);
	assert_int_not_equal(language_list_check(" en"), 0);
	assert_int_not_equal(language_list_check("en  zh"), 0);
	assert_int_not_equal(language_list_check("中文"), 0);
}

/* " en" and "en  zh" are refused for their empty element; "en " has one
 * too (after the last separator) and must be refused the same way. */
static void
test_language_list_check_refuses_trailing_space(void **state)
{
	assert_int_not_equal(language_list_check("en "), 0);
	assert_int_not_equal(language_list_check("zh en "), 0);
}

static void
test_bad_serial(void **state)
{
	static const char *const bad[] = { "0", "-1", "abc", "1.5", "01", "+1",
	    "1 2", "9223372036854775808" };
	size_t	i;
	char	*text, copy[512];

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		text = xasprintf("name = demo\nserial = %s\nlabel = 1.0\n"
		    "title = Demo\nlanguage = en\nlicense = MIT\n", bad[i]);
		strcpy(copy, text);
		free(text);
		assert_conf_refused(copy, "bundle.conf:2:", "serial", bad[i],
		    (const char *)NULL);
	}
}

static void
test_bad_name(void **state)
{
	assert_conf_refused("name = My Bundle\nserial = 1\nlabel = 1.0\n"
	    "title = Demo\nlanguage = en\nlicense = MIT\n",
	    "bundle.conf:1:", "name \"My Bundle\"", (const char *)NULL);
	assert_conf_refused("name = -demo\nserial = 1\nlabel = 1.0\n"
	    "title = Demo\nlanguage = en\nlicense = MIT\n",
	    "bundle.conf:1:", "name", (const char *)NULL);
	assert_conf_refused("name = Demo\nserial = 1\nlabel = 1.0\n"
	    "title = Demo\nlanguage = en\nlicense = MIT\n",
	    "bundle.conf:1:", "name", (const char *)NULL);
}

static void
test_bad_label(void **state)
{
	assert_conf_refused("name = demo\nserial = 1\nlabel = 1.0 beta\n"
	    "title = Demo\nlanguage = en\nlicense = MIT\n",
	    "bundle.conf:3:", "label \"1.0 beta\"", (const char *)NULL);
	assert_conf_refused("name = demo\nserial = 1\nlabel = -1\n"
	    "title = Demo\nlanguage = en\nlicense = MIT\n",
	    "bundle.conf:3:", "label", (const char *)NULL);
	assert_conf_refused("name = demo\nserial = 1\n"
	    "label = 123456789012345678901234567890123\n"	/* 33 */
	    "title = Demo\nlanguage = en\nlicense = MIT\n",
	    "bundle.conf:3:", "label", (const char *)NULL);
}

static void
test_license(void **state)
{
	assert_field_ok("license", "CC-BY-SA-4.0");
	assert_field_ok("license", "MIT OR Apache-2.0");
	assert_field_ok("license", "(MIT AND CC0-1.0)");
	assert_field_refused("license", "MIT/Apache");
	assert_field_refused("license", "CC-BY-4.0, see LICENSE");
	assert_field_refused("license", "版权所有");
}

/* An invalid key is quoted in the message, so the line must have been
 * checked for control characters and broken UTF-8 first, even when it
 * also contains a tab. */
static void
test_invalid_key_message_is_printable(void **state)
{
	static const char *const lines[] = {
		"ti\x1btle\t= x\n",
		"ti\xfftle\t= x\n",
		"\x1b[2J\xc2\x9b" "0m\t= x\n",
	};
	struct bundle_conf	c;
	struct error		err;
	size_t			i;
	int			rc;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		memset(&c, 0, sizeof c);
		error_clear(&err);
		rc = bundle_conf_parse(&c, lines[i], strlen(lines[i]),
		    "bundle.conf", &err);
		if (rc == 0)
			bundle_conf_free(&c);
		assert_int_equal(rc, SATCHEL_EINVALID);
		assert_non_null(strstr(err.msg, "bundle.conf:1:"));
		if (!utf8_valid_text(err.msg, strlen(err.msg)))
			fail_msg("line %zu: the message holds raw control bytes or "
			    "invalid UTF-8", i);
	}
}

/* --- lesson.conf ------------------------------------------------------- */

static void
test_lesson_conf_valid(void **state)
{
	static const char text[] =
	    BOM "# Lesson 2\r\n"
	    "title = Rivers\r\n"
	    "title.zh = 河流\r\n"
	    "summary = Where water goes.\r\n"
	    "minutes = 20\r\n"
	    "entry = pages/start.html\r\n";
	struct meta	m = { NULL, 0 };
	struct error	err;

	error_clear(&err);
	if (lesson_conf_parse(&m, text, sizeof text - 1, "lesson.conf", &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_int_equal(m.n, 5);
	assert_string_equal(meta_get(&m, "title"), "Rivers");
	assert_string_equal(meta_get_lang(&m, "title", "zh"), "河流");
	assert_string_equal(meta_get(&m, "summary"), "Where water goes.");
	assert_string_equal(meta_get(&m, "minutes"), "20");
	assert_string_equal(meta_get(&m, "entry"), "pages/start.html");
	/* Sorted, ready for lesson-meta lines. */
	assert_string_equal(m.v[0].key, "entry");
	assert_string_equal(m.v[1].key, "minutes");
	assert_string_equal(m.v[4].key, "title.zh");
	meta_free(&m);

	/* Every field is optional. */
	assert_int_equal(lesson_conf_parse(&m, "# nothing\n", 10, "lesson.conf",
	    &err), 0);
	assert_int_equal(m.n, 0);
	meta_free(&m);
	/* minutes bounds: 1 and 100000 are fine. */
	assert_int_equal(lesson_conf_parse(&m, "minutes = 100000\n", 17,
	    "lesson.conf", &err), 0);
	meta_free(&m);
	assert_int_equal(lesson_conf_parse(&m, "minutes = 1", 11,
	    "lesson.conf", &err), 0);
	meta_free(&m);
}

static void
assert_lesson_refused(const char *text, const char *want1, const char *want2)
{
	struct meta	m = { NULL, 0 };
	struct error	err;
	int		rc;

	error_clear(&err);
	rc = lesson_conf_parse(&m, text, strlen(text), "lesson.conf", &err);
	if (rc == 0)
		meta_free(&m);
	if (rc != SATCHEL_EINVALID)
		fail_msg("expected EINVALID, got %d (%s)", rc,
		    rc == 0 ? "accepted" : err.msg);
	assert_null(m.v);
	if (strstr(err.msg, want1) == NULL)
		fail_msg("message \"%s\" does not contain \"%s\"", err.msg, want1);
	if (want2 != NULL && strstr(err.msg, want2) == NULL)
		fail_msg("message \"%s\" does not contain \"%s\"", err.msg, want2);
}

static void
test_lesson_conf_bad_minutes(void **state)
{
	assert_lesson_refused("title = A\nminutes = 0\n", "lesson.conf:2:", "minutes \"0\"");
	assert_lesson_refused("minutes = abc\n", "lesson.conf:1:", "minutes \"abc\"");
	assert_lesson_refused("minutes = 100001\n", "lesson.conf:1:", "minutes");
	assert_lesson_refused("minutes = 15.5\n", "lesson.conf:1:", "minutes");
	assert_lesson_refused("minutes = -5\n", "lesson.conf:1:", "minutes");
}

static void
test_lesson_conf_bad_entry(void **state)
{
	assert_lesson_refused("entry = ../x.html\n", "lesson.conf:1: entry",
	    "\"..\" component");
	assert_lesson_refused("entry = /index.html\n", "lesson.conf:1: entry",
	    "absolute path");
	assert_lesson_refused("title = T\nentry = a//b.html\n", "lesson.conf:2: entry",
	    "empty path component");
	assert_lesson_refused("entry = pages\\x.html\n", "lesson.conf:1: entry",
	    "backslash");
	assert_lesson_refused("entry.zh = zh.html\n", "lesson.conf:1:",
	    "\"entry\" cannot have language variants");
}

static void
test_lesson_conf_unknown_key(void **state)
{
	assert_lesson_refused("title = A\nduration = 20\n", "lesson.conf:2:",
	    "unknown key \"duration\"");
	/* bundle.conf keys are not lesson.conf keys. */
	assert_lesson_refused("license = MIT\n", "lesson.conf:1:", "\"license\"");
	assert_lesson_refused("title = A\ntitle = B\n", "lesson.conf:2:",
	    "duplicate key \"title\" (first on line 1)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_conf_with_crlf_and_bom),
		cmocka_unit_test(test_full_conf_with_lf_and_no_final_newline),
		cmocka_unit_test(test_each_required_field_missing),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_line_without_equals),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_invalid_utf8_in_value),
		cmocka_unit_test(test_variant_on_a_field_without_variants),
		cmocka_unit_test(test_language_tags),
		cmocka_unit_test(test_language_list_check_refuses_trailing_space),
		cmocka_unit_test(test_bad_serial),
		cmocka_unit_test(test_bad_name),
		cmocka_unit_test(test_bad_label),
		cmocka_unit_test(test_license),
		cmocka_unit_test(test_invalid_key_message_is_printable),
		cmocka_unit_test(test_lesson_conf_valid),
		cmocka_unit_test(test_lesson_conf_bad_minutes),
		cmocka_unit_test(test_lesson_conf_bad_entry),
		cmocka_unit_test(test_lesson_conf_unknown_key),
	};

	return cmocka_run_group_tests_name("bundle-conf", tests, NULL, NULL);
}
