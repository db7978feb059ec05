/*
 * test-sigs.c: signature blocks (protocol/sigs.c): round trips, canonical
 * order, checking one key's signature, and what the strict parser refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "error.h"
#include "sigs.h"
#include "util.h"

#define DOMAIN	"SATCHEL-TEST-SIG-V1"

static const char	message[] = "satchel-manifest 1\nname literacy-basics\n";

struct fixture {
	struct privkey	*k[2];
	struct pubkey	 pub[2];	/* pub[0].id < pub[1].id */
};

static int
fixture_setup(void **state)
{
	struct fixture	*fx = xcalloc(1, sizeof *fx);
	struct privkey	*tmp;
	struct pubkey	 ptmp;
	struct error	 err;

	if (privkey_generate(&fx->k[0], &err) != 0 ||
	    privkey_generate(&fx->k[1], &err) != 0)
		return -1;
	privkey_public(fx->k[0], &fx->pub[0]);
	privkey_public(fx->k[1], &fx->pub[1]);
	if (strcmp(fx->pub[0].id, fx->pub[1].id) > 0) {
		tmp = fx->k[0];
		fx->k[0] = fx->k[1];
		fx->k[1] = tmp;
		ptmp = fx->pub[0];
		fx->pub[0] = fx->pub[1];
		fx->pub[1] = ptmp;
	}
	*state = fx;
	return 0;
}

static int
fixture_teardown(void **state)
{
	struct fixture	*fx = *state;

	privkey_free(fx->k[0]);
	privkey_free(fx->k[1]);
	free(fx);
	return 0;
}

/* A well-formed line with a made-up key id and signature bytes. */
static char *
sig_line(const char *keyid, uint8_t fill)
{
	uint8_t	 sig[ED25519_SIG_LEN];
	char	*b64, *line;

	memset(sig, fill, sizeof sig);
	b64 = base64_encode(sig, sizeof sig);
	line = xasprintf("signature ed25519 %s %s\n", keyid, b64);
	free(b64);
	return line;
}

/* Parses text and expects code, with a message containing want. */
static void
assert_refused(const char *text, int code, const char *want)
{
	struct sigs	s = { NULL, 0 };
	struct error	err;

	error_clear(&err);
	assert_int_equal(sigs_parse(&s, text, strlen(text), "SIGS", &err), code);
	assert_int_equal(err.code, code);
	if (strstr(err.msg, want) == NULL)
		fail_msg("message \"%s\" does not contain \"%s\"", err.msg, want);
	assert_null(s.v);
}

static void
test_add_encode_parse_round_trip(void **state)
{
	struct fixture	*fx = *state;
	struct sigs	 s = { NULL, 0 }, back = { NULL, 0 };
	struct error	 err;
	char		*text, *again;
	size_t		 len, len2;

	error_clear(&err);
	assert_int_equal(sigs_add(&s, fx->k[0], DOMAIN, message,
	    strlen(message), &err), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].keyid, fx->pub[0].id);
	sigs_encode(&s, &text, &len);
	assert_int_equal(strlen(text), len);
	assert_int_equal(strncmp(text, "signature ed25519 ", 18), 0);
	assert_int_equal(text[len - 1], '\n');

	assert_int_equal(sigs_parse(&back, text, len, "SIGS", &err), 0);
	assert_int_equal(back.n, 1);
	assert_string_equal(back.v[0].keyid, s.v[0].keyid);
	assert_memory_equal(back.v[0].sig, s.v[0].sig, ED25519_SIG_LEN);
	assert_int_equal(sigs_check(&back, &fx->pub[0], DOMAIN, message,
	    strlen(message)), 0);
	sigs_encode(&back, &again, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(again, text, len);

	free(text);
	free(again);
	sigs_free(&s);
	sigs_free(&back);
}

static void
test_empty_block(void **state)
{
	struct sigs	 s = { NULL, 0 };
	struct error	 err;
	char		*text;
	size_t		 len;

	error_clear(&err);
	assert_int_equal(sigs_parse(&s, "", 0, "SIGS", &err), 0);
	assert_int_equal(s.n, 0);
	sigs_encode(&s, &text, &len);
	assert_int_equal(len, 0);
	assert_non_null(text);
	assert_string_equal(text, "");
	free(text);
	sigs_free(&s);
}

static void
test_sign_twice_is_identical(void **state)
{
	struct fixture	*fx = *state;
	struct sigs	 s = { NULL, 0 };
	struct error	 err;
	char		*once, *twice;
	size_t		 len1, len2;

	error_clear(&err);
	assert_int_equal(sigs_add(&s, fx->k[0], DOMAIN, message,
	    strlen(message), &err), 0);
	sigs_encode(&s, &once, &len1);
	assert_int_equal(sigs_add(&s, fx->k[0], DOMAIN, message,
	    strlen(message), &err), 0);
	assert_int_equal(s.n, 1);
	sigs_encode(&s, &twice, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(once, twice, len1);
	free(once);
	free(twice);
	sigs_free(&s);
}

static void
test_two_keys_sorted_by_id(void **state)
{
	struct fixture	*fx = *state;
	struct sigs	 s = { NULL, 0 }, back = { NULL, 0 };
	struct error	 err;
	char		*text;
	size_t		 len;

	error_clear(&err);
	/* Add the larger key id first: the block still comes out sorted. */
	assert_int_equal(sigs_add(&s, fx->k[1], DOMAIN, message,
	    strlen(message), &err), 0);
	assert_int_equal(sigs_add(&s, fx->k[0], DOMAIN, message,
	    strlen(message), &err), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].keyid, fx->pub[0].id);
	assert_string_equal(s.v[1].keyid, fx->pub[1].id);
	sigs_encode(&s, &text, &len);
	assert_true(strstr(text, fx->pub[0].id) < strstr(text, fx->pub[1].id));
	assert_int_equal(sigs_parse(&back, text, len, "SIGS", &err), 0);
	assert_int_equal(back.n, 2);
	assert_int_equal(sigs_check(&back, &fx->pub[0], DOMAIN, message,
	    strlen(message)), 0);
	assert_int_equal(sigs_check(&back, &fx->pub[1], DOMAIN, message,
	    strlen(message)), 0);
	free(text);
	sigs_free(&s);
	sigs_free(&back);
}

static void
test_check_results(void **state)
{
	struct fixture	*fx = *state;
	struct sigs	 s = { NULL, 0 };
	struct error	 err;
	char		 flipped[sizeof message];

	error_clear(&err);
	assert_int_equal(sigs_add(&s, fx->k[0], DOMAIN, message,
	    strlen(message), &err), 0);
	assert_int_equal(sigs_check(&s, &fx->pub[0], DOMAIN, message,
	    strlen(message)), 0);
	/* No signature by that key at all. */
	assert_int_equal(sigs_check(&s, &fx->pub[1], DOMAIN, message,
	    strlen(message)), SATCHEL_ENOTFOUND);
	/* One bit of the message. */
	memcpy(flipped, message, sizeof message);
	flipped[3] ^= 0x04;
	assert_int_equal(sigs_check(&s, &fx->pub[0], DOMAIN, flipped,
	    strlen(flipped)), SATCHEL_EVERIFY);
	/* Another domain. */
	assert_int_equal(sigs_check(&s, &fx->pub[0], SIG_DOMAIN_TRUST, message,
	    strlen(message)), SATCHEL_EVERIFY);
	/* One bit of the signature. */
	s.v[0].sig[17] ^= 0x80;
	assert_int_equal(sigs_check(&s, &fx->pub[0], DOMAIN, message,
	    strlen(message)), SATCHEL_EVERIFY);
	sigs_free(&s);
}

static void
test_add_replaces_a_stale_signature(void **state)
{
	struct fixture	*fx = *state;
	struct sigs	 s = { NULL, 0 };
	struct error	 err;

	error_clear(&err);
	assert_int_equal(sigs_add(&s, fx->k[0], DOMAIN, "old", 3, &err), 0);
	assert_int_equal(sigs_add(&s, fx->k[0], DOMAIN, message,
	    strlen(message), &err), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(sigs_check(&s, &fx->pub[0], DOMAIN, message,
	    strlen(message)), 0);
	assert_int_equal(sigs_check(&s, &fx->pub[0], DOMAIN, "old", 3),
	    SATCHEL_EVERIFY);
	sigs_free(&s);
}

static void
test_parse_refuses_unsorted(void **state)
{
	char	*a = sig_line("00000000000000aa", 1);
	char	*b = sig_line("00000000000000bb", 2);
	char	*text = xasprintf("%s%s", b, a);

	assert_refused(text, SATCHEL_EINVALID, "SIGS:2: signatures not sorted");
	free(text);
	text = xasprintf("%s%s", a, b);		/* the sorted order parses */
	{
		struct sigs	s = { NULL, 0 };
		struct error	err;

		assert_int_equal(sigs_parse(&s, text, strlen(text), "SIGS", &err),
		    0);
		assert_int_equal(s.n, 2);
		sigs_free(&s);
	}
	free(text);
	free(a);
	free(b);
}

static void
test_parse_refuses_same_key_twice(void **state)
{
	char	*a = sig_line("00000000000000aa", 1);
	char	*a2 = sig_line("00000000000000aa", 2);
	char	*text = xasprintf("%s%s", a, a2);

	assert_refused(text, SATCHEL_EINVALID, "SIGS:2: key 00000000000000aa signs twice");
	free(text);
	free(a);
	free(a2);
}

static void
test_parse_refuses_bad_key_id(void **state)
{
	char	*line;

	line = sig_line("00000000000000AA", 1);		/* uppercase */
	assert_refused(line, SATCHEL_EINVALID, "SIGS:1: key id");
	free(line);
	line = sig_line("000000000000aa", 1);		/* 14 digits */
	assert_refused(line, SATCHEL_EINVALID, "SIGS:1:");
	free(line);
	line = sig_line("0000000000000aa", 1);		/* 15 digits */
	assert_refused(line, SATCHEL_EINVALID, "SIGS:1: key id");
	free(line);
	line = sig_line("0000000000000000a", 1);	/* 17 digits */
	assert_refused(line, SATCHEL_EINVALID, "SIGS:1: key id");
	free(line);
	line = sig_line("00000000000000g0", 1);		/* not hex */
	assert_refused(line, SATCHEL_EINVALID, "SIGS:1: key id");
	free(line);
}

static void
test_parse_refuses_bad_base64(void **state)
{
	char	*good = sig_line("00000000000000aa", 1), *line;
	size_t	 len = strlen(good);

	/* Trailing bits set: "AQ==" (the byte 0x01) becomes "AR==". */
	line = xstrdup(good);
	assert_int_equal(line[len - 4], 'Q');
	line[len - 4] = 'R';
	assert_refused(line, SATCHEL_EINVALID, "SIGS:1: signature by key "
	    "00000000000000aa is not base64");
	free(line);
	/* A character outside the alphabet. */
	line = xstrdup(good);
	line[40] = '*';
	assert_refused(line, SATCHEL_EINVALID, "not base64");
	free(line);
	/* One character short (63 bytes' worth). */
	line = xstrdup(good);
	memmove(line + len - 4, line + len - 3, 4);
	assert_refused(line, SATCHEL_EINVALID, "not base64");
	free(line);
	/* A trailing space. */
	line = xasprintf("%.*s \n", (int)(len - 1), good);
	assert_refused(line, SATCHEL_EINVALID, "not base64");
	free(line);
	free(good);
}

static void
test_parse_refuses_missing_final_newline(void **state)
{
	char	*a = sig_line("00000000000000aa", 1);
	char	*b = sig_line("00000000000000bb", 1);
	char	*text = xasprintf("%s%s", a, b);

	text[strlen(text) - 1] = '\0';
	assert_refused(text, SATCHEL_EINVALID, "SIGS:2: signature line without "
	    "a final newline");
	free(text);
	free(a);
	free(b);
}

static void
test_parse_refuses_more_than_max(void **state)
{
	struct sigs	 s = { NULL, 0 };
	struct error	 err;
	struct buf	 b;
	char		 keyid[KEYID_LEN + 1], *line;
	int		 i;

	buf_init(&b);
	for (i = 0; i < SIGS_MAX; i++) {
		snprintf(keyid, sizeof keyid, "%016x", i + 1);
		line = sig_line(keyid, (uint8_t)i);
		buf_addstr(&b, line);
		free(line);
	}
	/* Exactly SIGS_MAX lines is fine. */
	error_clear(&err);
	assert_int_equal(sigs_parse(&s, b.data, b.len, "SIGS", &err), 0);
	assert_int_equal(s.n, SIGS_MAX);
	sigs_free(&s);

	snprintf(keyid, sizeof keyid, "%016x", SIGS_MAX + 1);
	line = sig_line(keyid, 0);
	buf_addstr(&b, line);
	free(line);
	assert_refused(b.data, SATCHEL_ELIMIT, "more than 64 signatures");
	buf_free(&b);
}

static void
test_parse_refuses_other_algorithms(void **state)
{
	char	*good = sig_line("00000000000000aa", 1), *line;

	line = xasprintf("signature rsa %s", good + strlen("signature ed25519 "));
	assert_refused(line, SATCHEL_EINVALID,
	    "SIGS:1: expected \"signature ed25519 KEYID BASE64\"");
	free(line);
	assert_refused("signature\n", SATCHEL_EINVALID, "SIGS:1: expected");
	assert_refused("\n", SATCHEL_EINVALID, "SIGS:1: expected");
	line = xasprintf("%s%s", good, "hello world\n");
	assert_refused(line, SATCHEL_EINVALID, "SIGS:2: expected");
	free(line);
	free(good);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_add_encode_parse_round_trip),
		T(test_empty_block),
		T(test_sign_twice_is_identical),
		T(test_two_keys_sorted_by_id),
		T(test_check_results),
		T(test_add_replaces_a_stale_signature),
		T(test_parse_refuses_unsorted),
		T(test_parse_refuses_same_key_twice),
		T(test_parse_refuses_bad_key_id),
		T(test_parse_refuses_bad_base64),
		T(test_parse_refuses_missing_final_newline),
		T(test_parse_refuses_more_than_max),
		T(test_parse_refuses_other_algorithms),
	};
#undef T

	return cmocka_run_group_tests_name("sigs", tests, NULL, NULL);
}
