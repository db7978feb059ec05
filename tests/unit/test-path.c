/*
 * test-path.c: the one rule for paths inside a bundle (protocol/path.c):
 * what path_check accepts, what it refuses and how the refusal reads, and
 * how path_escape renders untrusted bytes for messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "path.h"
#include "util.h"

/* A path of len bytes: components of 'a', a '/' every `every` bytes. */
static char *
make_path(size_t len, size_t every)
{
	char	*p = xmalloc(len + 1);
	size_t	 i;

	memset(p, 'a', len);
	for (i = every; i < len; i += every + 1)
		p[i] = '/';
	p[len] = '\0';
	return p;
}

static void
assert_accepted(const char *path, size_t len)
{
	struct error	err;

	error_clear(&err);
	if (path_check(path, len, &err) != 0)
		fail_msg("path_check refused a valid path: %s", err.msg);
	assert_int_equal(err.code, 0);		/* err untouched on success */
}

/* Refused with EINVALID, and the message is exactly
 * "QUOTED: ..." where QUOTED is the escaped path in double quotes, and
 * it names the reason. */
static void
assert_refused(const char *path, size_t len, const char *why)
{
	struct error	 err;
	char		 shown[1100];
	char		*prefix;

	error_clear(&err);
	assert_int_equal(path_check(path, len, &err), SATCHEL_EINVALID);
	assert_int_equal(err.code, SATCHEL_EINVALID);
	path_escape(shown, sizeof shown, path, len);
	prefix = xasprintf("\"%s\": ", shown);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
		fail_msg("message \"%s\" does not start with the quoted path %s",
		    err.msg, prefix);
	if (strstr(err.msg, why) == NULL)
		fail_msg("message \"%s\" does not give the reason \"%s\"", err.msg, why);
	free(prefix);
}

#define REFUSED(lit, why)	assert_refused(lit, sizeof(lit) - 1, why)
#define ACCEPTED(lit)		assert_accepted(lit, sizeof(lit) - 1)

#define WHY_UTF8	"path is not valid UTF-8 or contains control characters"

static void
test_accepts_ordinary_paths(void **state)
{
	ACCEPTED("a");
	ACCEPTED("lessons/01/index.html");
	ACCEPTED("lessons/一/图.svg");
	ACCEPTED("lessons/01 intro/my notes.txt");
	/* Dots inside names are fine; only "." and ".." components are not. */
	ACCEPTED(".hidden");
	ACCEPTED("...");
	ACCEPTED("a..b/c./.d");
}

static void
test_accepts_a_255_byte_component(void **state)
{
	char	*comp = make_path(PATH_COMPONENT_MAX, SIZE_MAX);
	char	*p = xasprintf("lessons/%s/x", comp);

	assert_int_equal(strlen(comp), 255);
	assert_accepted(comp, strlen(comp));
	assert_accepted(p, strlen(p));
	free(p);
	free(comp);
}

static void
test_accepts_a_4096_byte_path(void **state)
{
	char	*p = make_path(PATH_MAX_LEN, 100);

	assert_int_equal(strlen(p), 4096);
	assert_true(p[PATH_MAX_LEN - 1] != '/');
	assert_accepted(p, PATH_MAX_LEN);
	free(p);
}

static void
test_refuses_empty(void **state)
{
	assert_refused("", 0, "empty path");
	/* len rules, not the NUL terminator. */
	assert_refused("abc", 0, "empty path");
}

static void
test_refuses_absolute(void **state)
{
	REFUSED("/abs", "absolute path");
	REFUSED("/", "absolute path");
}

static void
test_refuses_dot_dot(void **state)
{
	REFUSED("a/../b", "\"..\" component");
	REFUSED("..", "\"..\" component");
	REFUSED("a/..", "\"..\" component");
	REFUSED("../a", "\"..\" component");
}

static void
test_refuses_dot(void **state)
{
	REFUSED("./a", "\".\" component");
	REFUSED("a/./b", "\".\" component");
	REFUSED(".", "\".\" component");
}

static void
test_refuses_empty_component(void **state)
{
	REFUSED("a//b", "empty path component");
	REFUSED("a/", "empty path component");
}

static void
test_refuses_backslash(void **state)
{
	struct error	err;

	REFUSED("a\\b", "backslash in path");
	REFUSED("..\\evil", "backslash in path");
	/* The backslash itself is escaped in the message. */
	assert_int_equal(path_check("a\\b", 3, &err), SATCHEL_EINVALID);
	assert_string_equal(err.msg, "\"a\\x5cb\": backslash in path");
}

static void
test_refuses_nul_inside_len(void **state)
{
	struct error	err;

	REFUSED("a\0b", "NUL byte in path");
	assert_int_equal(path_check("a\0b", 3, &err), SATCHEL_EINVALID);
	assert_string_equal(err.msg, "\"a\\x00b\": NUL byte in path");
	/* The same bytes with len stopping before the NUL are fine. */
	ACCEPTED("a");
	assert_int_equal(path_check("a\0b", 1, &err), 0);
}

static void
test_refuses_control_characters(void **state)
{
	struct error	err;

	REFUSED("a\x01" "b", WHY_UTF8);
	REFUSED("a\x7f" "b", WHY_UTF8);			/* DEL */
	REFUSED("\x1b[31m", WHY_UTF8);			/* ESC */
	REFUSED("a\nb", WHY_UTF8);
	REFUSED("a\tb", WHY_UTF8);
	REFUSED("a\rb", WHY_UTF8);
	REFUSED("a\xc2\x85" "b", WHY_UTF8);		/* C1: NEL */
	REFUSED("a\xc2\x9b" "b", WHY_UTF8);		/* C1: CSI */
	assert_int_equal(path_check("\x1b[31m", 5, &err), SATCHEL_EINVALID);
	assert_string_equal(err.msg, "\"\\x1b[31m\": " WHY_UTF8);
	assert_int_equal(path_check("a\x7f", 2, &err), SATCHEL_EINVALID);
	assert_string_equal(err.msg, "\"a\\x7f\": " WHY_UTF8);
}

static void
test_refuses_invalid_utf8(void **state)
{
	REFUSED("\xff", WHY_UTF8);
	REFUSED("a/\xfe", WHY_UTF8);
	REFUSED("\xc0\xaf", WHY_UTF8);			/* overlong '/' */
	REFUSED("\xe0\x80\xaf", WHY_UTF8);		/* overlong, 3 bytes */
	REFUSED("\xed\xa0\x80", WHY_UTF8);		/* surrogate U+D800 */
	REFUSED("\xe4\xb8", WHY_UTF8);			/* truncated 一 */
	REFUSED("a\xe4\xb8/b", WHY_UTF8);		/* truncated mid-path */
	REFUSED("\x80", WHY_UTF8);			/* lone continuation */
	REFUSED("\xf4\x90\x80\x80", WHY_UTF8);		/* above U+10FFFF */
	/* The four-byte form of a real character is fine. */
	ACCEPTED("\xf0\x9f\x93\x9a.png");
}

static void
test_refuses_a_256_byte_component(void **state)
{
	char	*comp = make_path(PATH_COMPONENT_MAX + 1, SIZE_MAX);
	char	*p = xasprintf("lessons/%s/x", comp);

	assert_refused(comp, strlen(comp), "path component longer than 255 bytes");
	assert_refused(p, strlen(p), "path component longer than 255 bytes");
	free(p);
	free(comp);
}

static void
test_refuses_a_4097_byte_path(void **state)
{
	struct error	 err;
	char		*p = make_path(PATH_MAX_LEN + 1, 100);

	assert_refused(p, PATH_MAX_LEN + 1, "path longer than 4096 bytes");
	/* The message shows the first 200 bytes and marks the cut. */
	assert_int_equal(path_check(p, PATH_MAX_LEN + 1, &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "...\": path longer than 4096 bytes"));
	assert_int_equal(strlen(err.msg),
	    1 + 200 + 3 + strlen("\": path longer than 4096 bytes"));
	free(p);
}

static void
test_refuses_with_null_err(void **state)
{
	assert_int_equal(path_check("a/../b", 6, NULL), SATCHEL_EINVALID);
	assert_int_equal(path_check("", 0, NULL), SATCHEL_EINVALID);
	assert_int_equal(path_check("a/b", 3, NULL), 0);
}

static void
test_escape_leaves_printable_text_alone(void **state)
{
	char	out[256];

	path_escape(out, sizeof out, "lessons/01 intro/index.html", 27);
	assert_string_equal(out, "lessons/01 intro/index.html");
	path_escape(out, sizeof out, "lessons/一/图.svg", strlen("lessons/一/图.svg"));
	assert_string_equal(out, "lessons/一/图.svg");
	path_escape(out, sizeof out, "", 0);
	assert_string_equal(out, "");
}

static void
test_escape_renders_control_bytes_as_hex(void **state)
{
	char	out[256];

	path_escape(out, sizeof out, "a\x01" "b\x7f\x1b[31m\n\0z", 12);
	assert_string_equal(out, "a\\x01b\\x7f\\x1b[31m\\x0a\\x00z");
	/* Quote and backslash too, so the quoted path cannot be forged. */
	path_escape(out, sizeof out, "say \"hi\"\\", 9);
	assert_string_equal(out, "say \\x22hi\\x22\\x5c");
}

static void
test_escape_truncates_long_input(void **state)
{
	char	 out[1100];
	char	*want;
	char	*in = make_path(300, SIZE_MAX);

	path_escape(out, sizeof out, in, 300);
	want = xasprintf("%.200s...", in);
	assert_string_equal(out, want);
	free(want);
	/* Exactly 200 bytes: shown whole, no marker. */
	path_escape(out, sizeof out, in, 200);
	assert_int_equal(strlen(out), 200);
	assert_null(strstr(out, "..."));
	/* 201 bytes: cut and marked. */
	path_escape(out, sizeof out, in, 201);
	assert_int_equal(strlen(out), 203);
	assert_string_equal(out + 200, "...");
	free(in);
}

/* The output buffer is respected exactly (heap-allocated to the byte, so
 * ASan sees any overrun), and a \xNN is never cut in half. */
static void
test_escape_respects_small_buffers(void **state)
{
	char	*in = make_path(300, SIZE_MAX);
	char	*out;
	size_t	 size;

	for (size = 1; size <= 40; size++) {
		out = xmalloc(size);
		path_escape(out, size, in, 300);
		assert_true(strlen(out) < size);
		path_escape(out, size, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
		assert_true(strlen(out) < size);
		assert_true(strlen(out) % 4 == 0 || strstr(out, "...") != NULL);
		free(out);
	}
	out = xmalloc(9);
	path_escape(out, 9, "\x01\x01\x01", 3);
	assert_string_equal(out, "\\x01...");
	free(out);
	free(in);
}

static void
test_escape_with_zero_size_writes_nothing(void **state)
{
	char	out[4] = "xyz";

	path_escape(out, 0, "abc", 3);
	assert_string_equal(out, "xyz");
}

/* "A printable rendering of arbitrary bytes": bytes that are not valid
 * UTF-8 and UTF-8-encoded C1 controls (U+0085, U+009B CSI, ...) are not
 * printable, so they must come out as \xNN like C0 controls do. */
static void
test_escape_renders_invalid_utf8_and_c1_as_hex(void **state)
{
	char		out[256];
	struct error	err;

	path_escape(out, sizeof out, "\xff", 1);
	assert_string_equal(out, "\\xff");
	path_escape(out, sizeof out, "a\xc2\x9b" "31m", 6);
	assert_string_equal(out, "a\\xc2\\x9b31m");
	path_escape(out, sizeof out, "\xed\xa0\x80", 3);
	assert_string_equal(out, "\\xed\\xa0\\x80");
	/* So path_check's message is always printable text. */
	assert_int_equal(path_check("a\xc2\x85", 3, &err), SATCHEL_EINVALID);
	assert_true(utf8_valid_text(err.msg, strlen(err.msg)));
	assert_int_equal(path_check("\xe4\xb8", 2, &err), SATCHEL_EINVALID);
	assert_true(utf8_valid_text(err.msg, strlen(err.msg)));
}

/* Truncating at 200 bytes must not cut a multi-byte character in half:
 * a refused, perfectly valid UTF-8 path must not produce a message that
 * is not valid UTF-8. */
static void
test_escape_does_not_split_a_character(void **state)
{
	struct buf	 b;
	struct error	 err;
	char		 out[1100];
	size_t		 i;
	int		 rc, out_is_text, msg_is_text, prefix_kept;

	buf_init(&b);
	for (i = 0; i < 100; i++)
		buf_addstr(&b, "一");		/* 3 bytes; 200 is not a multiple */
	path_escape(out, sizeof out, b.data, b.len);
	out_is_text = utf8_valid_text(out, strlen(out));
	prefix_kept = strncmp(out, b.data, 66 * 3) == 0;
	/* 300 bytes in one component: refused, and the message is text. */
	rc = path_check(b.data, b.len, &err);
	msg_is_text = utf8_valid_text(err.msg, strlen(err.msg));
	buf_free(&b);

	assert_true(prefix_kept);
	assert_string_equal(out + strlen(out) - 3, "...");
	assert_int_equal(rc, SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "longer than 255 bytes"));
	assert_true(out_is_text);
	assert_true(msg_is_text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_ordinary_paths),
		cmocka_unit_test(test_accepts_a_255_byte_component),
		cmocka_unit_test(test_accepts_a_4096_byte_path),
		cmocka_unit_test(test_refuses_empty),
		cmocka_unit_test(test_refuses_absolute),
		cmocka_unit_test(test_refuses_dot_dot),
		cmocka_unit_test(test_refuses_dot),
		cmocka_unit_test(test_refuses_empty_component),
		cmocka_unit_test(test_refuses_backslash),
		cmocka_unit_test(test_refuses_nul_inside_len),
		cmocka_unit_test(test_refuses_control_characters),
		cmocka_unit_test(test_refuses_invalid_utf8),
		cmocka_unit_test(test_refuses_a_256_byte_component),
		cmocka_unit_test(test_refuses_a_4097_byte_path),
		cmocka_unit_test(test_refuses_with_null_err),
		cmocka_unit_test(test_escape_leaves_printable_text_alone),
		cmocka_unit_test(test_escape_renders_control_bytes_as_hex),
		cmocka_unit_test(test_escape_truncates_long_input),
		cmocka_unit_test(test_escape_respects_small_buffers),
		cmocka_unit_test(test_escape_with_zero_size_writes_nothing),
		cmocka_unit_test(test_escape_renders_invalid_utf8_and_c1_as_hex),
		cmocka_unit_test(test_escape_does_not_split_a_character),
	};

	return cmocka_run_group_tests_name("path", tests, NULL, NULL);
}
