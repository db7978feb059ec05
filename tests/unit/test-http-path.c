/*
 * test-http-path.c: satcheld's request-target decoding (daemon/
 * http-path.c): what the strict path decoder gives for each kind of
 * path a browser sends, the reason it gives for each kind it refuses,
 * where the path ends and how the query is parsed. The fuzz target
 * tests/fuzz/fuzz-http-path.c covers the rest of the input space.
 */
#include <sys/queue.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http-path.h"

static void
assert_decodes(const char *in, const char *want)
{
	const char	*why = NULL;
	char		*got = http_path_decode(in, strlen(in), &why);

	if (got == NULL)
		fail_msg("\"%s\" refused: %s", in, why);
	assert_string_equal(got, want);
	free(got);
}

static void
assert_refused(const char *in, size_t len, const char *why_want)
{
	const char	*why = NULL;
	char		*got = http_path_decode(in, len, &why);

	if (got != NULL)
		fail_msg("\"%s\" accepted as \"%s\"", in, got);
	assert_non_null(why);
	assert_string_equal(why, why_want);
}

static void
test_decodes_plain_and_escaped_paths(void **state)
{
	assert_decodes("/", "/");
	assert_decodes("/b/demo/3/lessons/01-intro/index.html",
	    "/b/demo/3/lessons/01-intro/index.html");
	assert_decodes("/bundle/a%20b%2ec", "/bundle/a b.c");
	assert_decodes("/download/demo%403.zip", "/download/demo@3.zip");
	assert_decodes("/b/caf%C3%A9/%e5%ae%b6", "/b/caf\xc3\xa9/\xe5\xae\xb6");
	/* A trailing slash is allowed; a literal backslash is a path byte. */
	assert_decodes("/bundle/", "/bundle/");
	assert_decodes("/b/a\\b", "/b/a\\b");
}

static void
test_refuses_bad_escapes(void **state)
{
	assert_refused("/b/%zz", 6, "a bad %-escape");
	assert_refused("/b/%4", 5, "a bad %-escape");
	assert_refused("/b/%", 4, "a bad %-escape");
	/* The escape may not run past len, even if the bytes are there. */
	assert_refused("/b/%41", 5, "a bad %-escape");
}

static void
test_refuses_encoded_slash_backslash_and_nul(void **state)
{
	assert_refused("/b/..%2Fetc", 11, "an encoded slash");
	assert_refused("/b/a%2fb", 8, "an encoded slash");
	assert_refused("/b/a%5Cb", 8, "an encoded slash");
	assert_refused("/b/a%00b", 8, "an encoded NUL");
}

static void
test_refuses_what_is_not_utf8_text(void **state)
{
	assert_refused("/b/%C0%AF", 9, "bytes that are not valid UTF-8 text");
	assert_refused("/b/%ff", 6, "bytes that are not valid UTF-8 text");
	assert_refused("/b/a%0Ab", 8, "bytes that are not valid UTF-8 text");
}

static void
test_refuses_relative_and_dot_segments(void **state)
{
	assert_refused("", 0, "a path that does not start with /");
	assert_refused("b/x", 3, "a path that does not start with /");
	assert_refused("%2Fb", 4, "an encoded slash");
	assert_refused("//b", 3, "an empty, \".\" or \"..\" path segment");
	assert_refused("/b//x", 5, "an empty, \".\" or \"..\" path segment");
	assert_refused("/b/./x", 6, "an empty, \".\" or \"..\" path segment");
	assert_refused("/b/..", 5, "an empty, \".\" or \"..\" path segment");
	assert_refused("/b/%2e%2E/x", 11,
	    "an empty, \".\" or \"..\" path segment");
}

static void
test_path_ends_at_the_first_question_mark(void **state)
{
	assert_int_equal(http_target_pathlen("/b/x"), 4);
	assert_int_equal(http_target_pathlen("/b/x?lang=zh?y"), 4);
	assert_int_equal(http_target_pathlen("?a"), 0);
}

static void
test_parses_the_query(void **state)
{
	struct evkeyvalq	q;

	TAILQ_INIT(&q);
	assert_int_equal(http_target_query("/b/x", &q), 0);
	assert_true(TAILQ_EMPTY(&q));
	assert_int_equal(http_target_query("/search?q=a+b%20c&lang=zh", &q),
	    0);
	assert_string_equal(evhttp_find_header(&q, "q"), "a b c");
	assert_string_equal(evhttp_find_header(&q, "lang"), "zh");
	evhttp_clear_headers(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decodes_plain_and_escaped_paths),
		cmocka_unit_test(test_refuses_bad_escapes),
		cmocka_unit_test(test_refuses_encoded_slash_backslash_and_nul),
		cmocka_unit_test(test_refuses_what_is_not_utf8_text),
		cmocka_unit_test(test_refuses_relative_and_dot_segments),
		cmocka_unit_test(test_path_ends_at_the_first_question_mark),
		cmocka_unit_test(test_parses_the_query),
	};

	return cmocka_run_group_tests_name("http-path", tests, NULL, NULL);
}
