/*
 * test-conf.c: satcheld's options (daemon/conf.c): defaults, each key's
 * checks as conf_set applies them, and the INI parser: sections,
 * comments, spacing, and messages that name FILE:LINE and the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "error.h"
#include "log.h"
#include "util.h"

/* Parses text over the defaults; returns the rc, *c holds the result. */
static int
parse(struct conf *c, const char *text, struct error *err)
{
	conf_init(c);
	error_clear(err);
	return conf_parse(c, text, strlen(text), "satcheld.conf", err);
}

static void
assert_refused(const char *text, const char *want)
{
	struct conf	c;
	struct error	err;

	if (parse(&c, text, &err) == 0)
		fail_msg("accepted: %s", text);
	if (strstr(err.msg, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	conf_free(&c);
}

static void
test_defaults(void **state)
{
	struct conf	c;

	conf_init(&c);
	assert_null(c.store);
	assert_string_equal(c.sync_listen, CONF_SYNC_LISTEN_DEFAULT);
	assert_null(c.port_file);
	assert_int_equal(c.idle_timeout, 60);
	assert_int_equal(c.max_connections, 256);
	assert_null(c.upstream);
	assert_int_equal(c.interval, 3600);
	assert_int_equal(c.retry, 30);
	assert_int_equal(c.nbundles, 0);
	conf_free(&c);
}

static void
test_every_key(void **state)
{
	struct conf	c;
	struct error	err;

	assert_int_equal(parse(&c,
	    "# satcheld at a school\n"
	    "; another comment style\n"
	    "\n"
	    "[satcheld]\n"
	    "store = /srv/satchel\n"
	    "sync-listen = 127.0.0.1:0\n"
	    "port-file=/run/satcheld.port\n"
	    "  idle-timeout\t=  7  \n"
	    "max-connections = 12\n"
	    "upstream = satchel://origin.example:7461\n"
	    "trust = /etc/satchel/policy\n"
	    "interval = 600\n"
	    "retry = 5\n"
	    "bundles = calligraphy-*  new-citizen-?   health\n", &err), 0);
	assert_string_equal(c.store, "/srv/satchel");
	assert_string_equal(c.sync_listen, "127.0.0.1:0");
	assert_string_equal(c.port_file, "/run/satcheld.port");
	assert_int_equal(c.idle_timeout, 7);
	assert_int_equal(c.max_connections, 12);
	assert_string_equal(c.upstream, "satchel://origin.example:7461");
	assert_string_equal(c.trust, "/etc/satchel/policy");
	assert_int_equal(c.interval, 600);
	assert_int_equal(c.retry, 5);
	assert_int_equal(c.nbundles, 3);
	assert_string_equal(c.bundles[0], "calligraphy-*");
	assert_string_equal(c.bundles[1], "new-citizen-?");
	assert_string_equal(c.bundles[2], "health");
	conf_free(&c);
}

/* The service keys: user, syslog (a yes/no), log-level (a name). */
static void
test_service_keys(void **state)
{
	struct conf	c, d;
	struct error	err;

	assert_int_equal(parse(&c, "user = satchel\nsyslog = yes\n"
	    "log-level = debug\n", &err), 0);
	assert_string_equal(c.user, "satchel");
	assert_int_equal(c.syslog, 1);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	conf_copy(&d, &c);
	assert_string_equal(d.user, "satchel");
	assert_ptr_not_equal(d.user, c.user);
	conf_free(&d);
	assert_int_equal(conf_set(&c, "syslog", "off", &err), 0);
	assert_int_equal(c.syslog, 0);
	assert_int_equal(conf_set(&c, "log-level", "warn", &err), 0);
	assert_int_equal(c.log_level, LOG_LEVEL_WARN);
	assert_int_not_equal(conf_set(&c, "syslog", "maybe", &err), 0);
	assert_non_null(strstr(err.msg, "expected yes or no"));
	assert_int_not_equal(conf_set(&c, "log-level", "loud", &err), 0);
	assert_non_null(strstr(err.msg, "error, warn, info or debug"));
	assert_int_equal(c.log_level, LOG_LEVEL_WARN);	/* unchanged */
	conf_free(&c);

	conf_init(&c);
	assert_null(c.user);
	assert_int_equal(c.syslog, 0);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	conf_free(&c);
}

static void
test_crlf_bom_and_no_final_newline(void **state)
{
	struct conf	c;
	struct error	err;

	assert_int_equal(parse(&c, "\xef\xbb\xbfstore = /a\r\n"
	    "interval = 9", &err), 0);
	assert_string_equal(c.store, "/a");
	assert_int_equal(c.interval, 9);
	conf_free(&c);
}

static void
test_upstream_directory(void **state)
{
	struct conf	c;
	struct error	err;

	assert_int_equal(parse(&c, "upstream = /media/usb/satchel\n", &err), 0);
	assert_string_equal(c.upstream, "/media/usb/satchel");
	conf_free(&c);
}

static void
test_errors_name_file_line_and_key(void **state)
{
	assert_refused("store = /a\n\nidle-timeout = 0\n",
	    "satcheld.conf:3: idle-timeout: \"0\" is not a number in 1..86400");
	assert_refused("# c\nmax-connections = many\n",
	    "satcheld.conf:2: max-connections:");
	assert_refused("interval = 10\nbogus = 1\n",
	    "satcheld.conf:2: bogus: unknown key");
	assert_refused("sync-listen = 127.0.0.1\n",
	    "satcheld.conf:1: sync-listen: 127.0.0.1: expected ADDR:PORT");
	assert_refused("upstream = satchel://nohost\n",
	    "satcheld.conf:1: upstream: \"satchel://nohost\": expected "
	    "satchel://HOST:PORT");
	assert_refused("upstream = satchel://h:0\n", "satcheld.conf:1: upstream:");
	assert_refused("store = /a\nstore = /b\n",
	    "satcheld.conf:2: store: set twice");
	assert_refused("store /a\n", "satcheld.conf:1: expected KEY = VALUE");
	assert_refused("= /a\n", "satcheld.conf:1: no key before '='");
	assert_refused("store =\n", "satcheld.conf:1: store: empty value");
	assert_refused("bundles =   \n", "satcheld.conf:1: bundles: no pattern");
	assert_refused("[http]\nstore = /a\n",
	    "satcheld.conf:1: \"[http]\": the only section is [satcheld]");
	assert_refused("[satcheld\n", "satcheld.conf:1:");
	assert_refused("retry = 86401\n", "satcheld.conf:1: retry:");
	assert_refused("interval = -5\n", "satcheld.conf:1: interval:");
	assert_refused("interval = 010\n", "satcheld.conf:1: interval:");
}

static void
test_nul_byte(void **state)
{
	struct conf	c;
	struct error	err;
	static const char text[] = "store = /a\nport-file = x\0y\n";

	conf_init(&c);
	assert_int_not_equal(conf_parse(&c, text, sizeof text - 1, "f.conf",
	    &err), 0);
	assert_non_null(strstr(err.msg, "f.conf:2: a NUL byte"));
	conf_free(&c);
}

static void
test_bad_pattern(void **state)
{
	char		 text[64 + CONF_BUNDLES_MAX * 2], *p;
	size_t		 i;

	assert_refused("bundles = a\x01" "b\n", "satcheld.conf:1: bundles:");
	assert_refused("bundles = caf\xc3\xa9\n", "satcheld.conf:1: bundles:");
	p = text + sprintf(text, "bundles =");
	for (i = 0; i <= CONF_BUNDLES_MAX; i++)
		p += sprintf(p, " a");
	strcpy(p, "\n");
	assert_refused(text, "more than 256 patterns");
}

static void
test_set_replaces_and_checks(void **state)
{
	struct conf	c;
	struct error	err;

	conf_init(&c);
	assert_int_equal(conf_set(&c, "bundles", "a b", &err), 0);
	assert_int_equal(conf_set(&c, "bundles", "c", &err), 0);
	assert_int_equal(c.nbundles, 1);
	assert_string_equal(c.bundles[0], "c");
	assert_int_equal(conf_set(&c, "store", "/x", &err), 0);
	assert_int_equal(conf_set(&c, "store", "/y", &err), 0);
	assert_string_equal(c.store, "/y");
	assert_int_not_equal(conf_set(&c, "nope", "1", &err), 0);
	assert_string_equal(err.msg, "unknown option");
	assert_int_not_equal(conf_set(&c, "idle-timeout", "86401", &err), 0);
	assert_int_equal(c.idle_timeout, 60);	/* unchanged on failure */
	assert_true(conf_known("retry"));
	assert_false(conf_known("config"));
	conf_free(&c);
}

static void
test_copy_is_deep(void **state)
{
	struct conf	c, d;
	struct error	err;

	assert_int_equal(parse(&c, "store = /s\nbundles = x y\n"
	    "upstream = /u\n", &err), 0);
	conf_copy(&d, &c);
	conf_free(&c);
	assert_string_equal(d.store, "/s");
	assert_string_equal(d.upstream, "/u");
	assert_int_equal(d.nbundles, 2);
	assert_string_equal(d.bundles[1], "y");
	conf_free(&d);
	conf_free(NULL);
}

static void
test_load_file(void **state)
{
	struct conf	 c;
	struct error	 err;
	char		 path[] = "/tmp/test-conf.XXXXXX";
	int		 fd;
	static const char text[] = "store = /f\nidle-timeout = x\n";

	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, text, sizeof text - 1),
	    (ssize_t)(sizeof text - 1));
	close(fd);
	conf_init(&c);
	assert_int_not_equal(conf_load(&c, path, &err), 0);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, ":2: idle-timeout:"));
	conf_free(&c);
	unlink(path);

	conf_init(&c);
	assert_int_not_equal(conf_load(&c, path, &err), 0);
	assert_int_equal(err.code, SATCHEL_ENOTFOUND);
	assert_non_null(strstr(err.msg, path));
	conf_free(&c);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_service_keys),
		cmocka_unit_test(test_crlf_bom_and_no_final_newline),
		cmocka_unit_test(test_upstream_directory),
		cmocka_unit_test(test_errors_name_file_line_and_key),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_bad_pattern),
		cmocka_unit_test(test_set_replaces_and_checks),
		cmocka_unit_test(test_copy_is_deep),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
