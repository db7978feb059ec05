/* cmd-pull.c: `satchel pull`, bring a store up to date from another one
 * (a USB drive, another disk, or a satcheld over the network), and
 * `satchel gc`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "satchel.h"
#include "store.h"
#include "util.h"

struct pull_progress {
	struct timespec	 start;
	int		 tty;
	int		 last;		/* last percentage printed */
};

/* A bar with bytes, rate and ETA on a terminal; a plain line every 10%
 * otherwise (logs, cron mail). */
static void
pull_progress_cb(void *arg, const char *what, uint64_t done, uint64_t total)
{
	struct pull_progress	*pp = arg;
	struct timespec		 now;
	double			 secs, rate;
	int			 pct, i, eta;
	char			 bar[21];

	if (total == 0)
		return;
	pct = (int)(done * 100 / total);
	if (!pp->tty && pct / 10 == pp->last / 10 && done != total)
		return;
	if (pp->tty && pct == pp->last && done != total)
		return;
	pp->last = pct;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - pp->start.tv_sec) +
	    (double)(now.tv_nsec - pp->start.tv_nsec) / 1e9;
	rate = secs > 0 ? (double)done / secs : 0;
	eta = rate > 0 ? (int)((double)(total - done) / rate) : 0;
	for (i = 0; i < 20; i++)
		bar[i] = i < pct / 5 ? '#' : '-';
	bar[20] = '\0';
	if (pp->tty)
		fprintf(stderr, "\r%s [%s] %3d%% %s of %s, %s/s, ETA %d:%02d ", what,
		    bar, pct, cmd_size(done), cmd_size(total), cmd_size((uint64_t)rate),
		    eta / 60, eta % 60);
	else
		fprintf(stderr, "%s: %d%% (%s of %s)\n", what, pct, cmd_size(done),
		    cmd_size(total));
	if (pp->tty && done == total)
		fputc('\n', stderr);
}

static int
cmd_pull(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "store",		required_argument,	NULL,	's' },
		{ "allow-expired",	no_argument,		NULL,	'E' },
		{ "keep",		required_argument,	NULL,	'k' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct store_pull_opts		 o;
	struct store_pull_report	 rep;
	struct store_gc_report		 grep_;
	struct pull_progress		 pp;
	struct store			*s = NULL;
	struct error			 err;
	const char			*dir = NULL;
	uint64_t			 keep = 0;
	int				 opt, rc;

	memset(&o, 0, sizeof o);
	memset(&rep, 0, sizeof rep);
	while ((opt = getopt_long(argc, argv, "s:Ek:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			dir = optarg;
			break;
		case 'E':
			o.allow_expired = 1;
			break;
		case 'k':
			if (parse_u64(optarg, strlen(optarg), 1, 1000, &keep) != 0)
				return cmd_usage_error(cmd, "--keep takes 1 to 1000");
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (dir == NULL || argc - optind < 1)
		return cmd_usage_error(cmd, dir == NULL ? "--store DIR is required" :
		    "expected a SOURCE store, satchel://HOST:PORT or http[s]://HOST/PATH/");
	o.names = argv + optind + 1;
	o.nnames = (size_t)(argc - optind - 1);
	o.now = (int64_t)time(NULL);
	memset(&pp, 0, sizeof pp);
	pp.tty = isatty(STDERR_FILENO);
	pp.last = -1;
	clock_gettime(CLOCK_MONOTONIC, &pp.start);
	o.progress = pull_progress_cb;
	o.progress_arg = &pp;
	if ((rc = store_pull(argv[optind], dir, &o, &rep, &err)) != 0)
		return cmd_fail(&err);
	if (rep.expired)
		fprintf(stderr, "satchel: warning: %s: accepted an EXPIRED catalog "
		    "(serial %llu) because of --allow-expired\n", argv[optind],
		    (unsigned long long)rep.catalog_serial);
	if (rep.trust_accepted > 0)
		printf("%s: trust policy %llu now in force (%zu polic%s of the "
		    "chain accepted)\n", dir, (unsigned long long)rep.trust_serial,
		    rep.trust_accepted, rep.trust_accepted == 1 ? "y" : "ies");
	printf("%s: %s%zu release%s updated, %zu already current; %zu files "
	    "copied (%s), %zu already present; catalog serial %llu\n", dir,
	    rep.created ? "new store; " : "", rep.bundles_new,
	    rep.bundles_new == 1 ? "" : "s", rep.bundles_current, rep.files_copied,
	    cmd_size(rep.bytes_copied), rep.files_present,
	    (unsigned long long)rep.catalog_serial);
	if (rep.files_delta > 0)
		printf("%s: %zu of the files copied were rebuilt from deltas "
		    "(%s of deltas for %s of files)\n", dir, rep.files_delta,
		    cmd_size(rep.bytes_delta), cmd_size(rep.bytes_delta_files));
	if (rep.deltas_refused > 0)
		printf("%s: %zu fetched whole instead of by delta (the "
		    "server declined or lacked it, or it did not rebuild the "
		    "signed bytes)\n", dir, rep.deltas_refused);
	if (keep == 0)
		return 0;
	if (store_open(&s, dir, STORE_WRITE, &err) != 0 ||
	    store_gc(s, (unsigned)keep, &grep_, &err) != 0) {
		store_close(s);
		return cmd_fail(&err);
	}
	store_close(s);
	printf("%s: gc removed %zu releases and %zu objects (%s)\n", dir,
	    grep_.releases_removed, grep_.objects_removed,
	    cmd_size(grep_.bytes_freed));
	return 0;
}

static int
cmd_gc(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "keep",	required_argument,	NULL,	'k' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct store_gc_report		 rep;
	struct store			*s = NULL;
	struct error			 err;
	uint64_t			 keep = 2;
	int				 opt, rc;

	while ((opt = getopt_long(argc, argv, "k:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			if (parse_u64(optarg, strlen(optarg), 1, 1000, &keep) != 0)
				return cmd_usage_error(cmd, "--keep takes 1 to 1000");
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, "expected one store DIR");
	if ((rc = store_open(&s, argv[optind], STORE_WRITE, &err)) == 0 &&
	    (rc = store_gc(s, (unsigned)keep, &rep, &err)) == 0)
		printf("%s: removed %zu releases and %zu objects (%s)\n",
		    argv[optind], rep.releases_removed, rep.objects_removed,
		    cmd_size(rep.bytes_freed));
	store_close(s);
	return rc == 0 ? 0 : cmd_fail(&err);
}

const struct satchel_cmd cmd_pull_entry = {
	"pull",
	"bring a store up to date from another store or a satcheld",
	"usage: satchel pull [--allow-expired] [--keep N] SOURCE --store DIR [NAME...]\n"
	"\n"
	"SOURCE is a store directory (a USB drive, a disk), the address of a\n"
	"satcheld, satchel://HOST:PORT, or a store directory that any web\n"
	"server or HTTP cache publishes, http://HOST/PATH/ or\n"
	"https://HOST/PATH/ (SATCHEL_CA_FILE adds a CA to the system's); all\n"
	"are pulled from the same way, with the same checks.\n"
	"\n"
	"Reads the catalog of SOURCE and checks it against DIR's own\n"
	"trust policy: signed by a catalog key, serial not lower than any DIR\n"
	"has accepted, and not expired. Then, for the bundles NAME... (default:\n"
	"every bundle in the catalog), checks that each release's manifest is\n"
	"the one the catalog pins and is signed by a publisher DIR's policy\n"
	"allows for it, copies only the objects DIR lacks into DIR/tmp/, checking\n"
	"each against the manifest, and only then makes the new releases\n"
	"visible, with SOURCE's catalog passed on unchanged. Anything refused\n"
	"leaves DIR exactly as it was. Interrupted, a second run resumes: the\n"
	"objects already copied and checked are not copied again, and over the\n"
	"network an object cut off midway is continued from where it stopped.\n"
	"A server that does not answer within 60 s (SATCHEL_IO_TIMEOUT), or\n"
	"that sends less than 256 bytes a second while the pull waits for it,\n"
	"fails the pull.\n"
	"\n"
	"Pulling into a directory that is not a store yet makes it one, with\n"
	"SOURCE's trust policy: that is how a USB drive is prepared:\n"
	"    satchel pull /var/lib/satchel --store /media/usb/satchel\n"
	"or a school's server from its origin:\n"
	"    satchel pull satchel://origin.example.org:7070 --store /var/lib/satchel\n"
	"or through a CDN that carries the origin's /store/:\n"
	"    satchel pull https://cdn.example.org/store/ --store /var/lib/satchel\n"
	"\n"
	"Options:\n"
	"  -s, --store DIR        the store to update (or create)\n"
	"  -E, --allow-expired    accept an expired catalog (for imports made\n"
	"                         offline); reported as a warning\n"
	"  -k, --keep N           afterwards, run gc keeping N releases per bundle\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Progress goes to stderr: a bar with bytes, rate and ETA on a terminal,\n"
	"a line every 10% otherwise.\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_pull
};

const struct satchel_cmd cmd_gc_entry = {
	"gc",
	"remove old releases and the objects only they needed",
	"usage: satchel gc [--keep N] DIR\n"
	"\n"
	"Keeps the N newest releases of each bundle (default 2; the current one\n"
	"always), removes the others' signed manifests, then every object that\n"
	"no kept release needs, and leftovers of interrupted work in tmp/.\n"
	"\n"
	"Options:\n"
	"  -k, --keep N    releases to keep per bundle (1 to 1000, default 2)\n"
	"  -h, --help      show this help\n"
	"  -V, --version   show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_gc
};
