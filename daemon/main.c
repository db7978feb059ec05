/*
 * main.c owns satcheld's command line. For now the daemon only reports
 * its version: serving stores arrives with the sync protocol.
 */
#include <getopt.h>
#include <stdio.h>

#include <event2/event.h>

#include "config.h"

static void
satcheld_help(FILE *f)
{
	fprintf(f,
	    "usage: satcheld [--help] [--version]\n"
	    "\n"
	    "The Satchel daemon. This release only reports its version; serving\n"
	    "stores over the sync protocol and HTTP comes in a later release.\n"
	    "\n"
	    "Options:\n"
	    "  -h, --help      show this help\n"
	    "  -V, --version   show the version and the libevent version\n"
	    "\n"
	    "Exit status: 0 success, 2 usage error.\n");
}

int
main(int argc, char **argv)
{
	static const struct option	opts[] = {
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL, 0, NULL, 0 }
	};
	int				opt;

	while ((opt = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			satcheld_help(stdout);
			return 0;
		case 'V':
			printf("satcheld %s (libevent %s)\n", PACKAGE_VERSION,
			    event_get_version());
			return 0;
		default:
			satcheld_help(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "satcheld: unexpected argument \"%s\"\n", argv[optind]);
		satcheld_help(stderr);
		return 2;
	}
	printf("satcheld %s\n", PACKAGE_VERSION);
	return 0;
}
