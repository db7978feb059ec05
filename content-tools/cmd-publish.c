/* cmd-publish.c: `satchel publish`, a signed release into an origin:
 * a local store (--store) or a satcheld over the network (--to). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle.h"
#include "satchel.h"
#include "store.h"
#include "store-delta.h"
#include "sync-client.h"
#include "util.h"

/* The archive's needed files on their way to the server, in need order. */
struct net_send {
	struct sync_client		*net;
	struct sync_client_publish	*pub;
	uint32_t			 next;		/* index into pub->need */
	int				 sending;	/* this file is needed */
};

static int
net_begin_cb(void *arg, const struct manifest_file *f, struct error *err)
{
	struct net_send	*ns = arg;

	ns->sending = ns->next < ns->pub->nneed &&
	    memcmp(f->sha256, ns->pub->need[ns->next], SHA256_LEN) == 0;
	if (!ns->sending)
		return 0;
	return sync_client_publish_object_begin(ns->net, ns->pub, f->sha256,
	    err);
}

static int
net_write_cb(void *arg, const void *data, size_t len, struct error *err)
{
	struct net_send	*ns = arg;

	if (!ns->sending)
		return 0;
	return sync_client_publish_object_write(ns->net, ns->pub, data, len,
	    err);
}

/* Called once the file's digest matched: only checked bytes are final. */
static int
net_end_cb(void *arg, const struct manifest_file *f, struct error *err)
{
	struct net_send	*ns = arg;

	(void)f;
	if (!ns->sending)
		return 0;
	ns->sending = 0;
	ns->next++;
	return sync_client_publish_object_end(ns->net, ns->pub, err);
}

/*
 * Why two passes over the archive: the first checks every byte locally
 * (a damaged file is named here, not by the server, and nothing is
 * sent); the second streams only the objects the server asked for, in
 * manifest order, which is the archive's order, so one pass suffices.
 */
static int
publish_net(const char *url, const char *archive)
{
	struct bundle_report		 vrep;
	struct sync_client_publish	 pub;
	struct sync_client		*net = NULL;
	struct bundle_sink		 sink = { NULL, net_begin_cb, net_write_cb,
					    net_end_cb, NULL };
	struct net_send			 ns;
	struct error			 err;
	char				*sbuf = NULL, *signedbuf = NULL;
	size_t				 slen;
	int				 rc;

	memset(&vrep, 0, sizeof vrep);
	memset(&pub, 0, sizeof pub);
	if ((rc = bundle_verify(archive, NULL, 0, NULL, &vrep, &err)) != 0)
		goto out;
	if (vrep.head.sigs.n == 0) {
		rc = error_set(&err, SATCHEL_EVERIFY, "%s: the bundle is "
		    "unsigned; sign it (`satchel sign --key`) before publishing",
		    archive);
		goto out;
	}
	sigs_encode(&vrep.head.sigs, &sbuf, &slen);
	signedbuf = xmalloc(vrep.head.manifest_len + slen + 1);
	memcpy(signedbuf, vrep.head.manifest_buf, vrep.head.manifest_len);
	memcpy(signedbuf + vrep.head.manifest_len, sbuf, slen);
	if ((rc = sync_client_open(&net, url, &err)) != 0)
		goto out;
	if ((rc = sync_client_publish_begin(net, signedbuf,
	    vrep.head.manifest_len + slen, &pub, &err)) != 0)
		goto out;
	printf("%s: accepted %s %s (serial %llu): %u of %zu files to send\n",
	    url, vrep.head.manifest->name, vrep.head.manifest->label,
	    (unsigned long long)vrep.head.manifest->serial, pub.nneed,
	    vrep.head.manifest->nfiles);
	fflush(stdout);
	if (pub.nneed > 0) {
		memset(&ns, 0, sizeof ns);
		ns.net = net;
		ns.pub = &pub;
		sink.arg = &ns;
		bundle_report_free(&vrep);
		if ((rc = bundle_verify_to(archive, NULL, 0, NULL, &sink, &vrep,
		    &err)) != 0)
			goto out;
		if (ns.next != pub.nneed) {
			rc = error_set(&err, SATCHEL_ERR, "%s: the server asked "
			    "for %u objects, the archive gave %u", archive,
			    pub.nneed, ns.next);
			goto out;
		}
	}
	if ((rc = sync_client_publish_done(net, &pub, &err)) != 0)
		goto out;
	printf("%s: sent %u objects (%s, %s on the wire); %s\n", url, pub.sent,
	    cmd_size(pub.bytes_raw), cmd_size(pub.bytes_wire), pub.message);
out:
	sync_client_close(net);
	sync_client_publish_free(&pub);
	bundle_report_free(&vrep);
	free(sbuf);
	free(signedbuf);
	return rc == 0 ? 0 : cmd_fail(&err);
}

static int
cmd_publish(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "store",	required_argument,	NULL,	's' },
		{ "to",		required_argument,	NULL,	't' },
		{ "expiry",	required_argument,	NULL,	'e' },
		{ "no-deltas",	no_argument,		NULL,	'n' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct store_publish_report	 rep;
	struct store			*s = NULL;
	struct error			 err;
	const char			*dir = NULL, *to = NULL;
	struct store_delta_report	 drep;
	uint64_t			 days = 0;
	int				 opt, rc, deltas = 1;

	while ((opt = getopt_long(argc, argv, "s:t:e:nhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			deltas = 0;
			break;
		case 's':
			dir = optarg;
			break;
		case 't':
			to = optarg;
			if (!sync_client_is_url(to))
				return cmd_usage_error(cmd, "--to takes "
				    "satchel://HOST:PORT");
			break;
		case 'e':
			if (parse_u64(optarg, strlen(optarg), 1, 366, &days) != 0)
				return cmd_usage_error(cmd, "--expiry takes days, 1 to 366");
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if ((dir == NULL) == (to == NULL))
		return cmd_usage_error(cmd, "one of --store DIR and --to "
		    "satchel://HOST:PORT is required");
	if (argc - optind != 1)
		return cmd_usage_error(cmd, "expected one FILE.satchel");
	if (to != NULL) {
		if (days != 0)
			return cmd_usage_error(cmd, "--expiry is the origin's "
			    "choice over the network (its catalog-expiry)");
		return publish_net(to, argv[optind]);
	}
	if (store_open(&s, dir, STORE_WRITE, &err) != 0)
		return cmd_fail(&err);
	memset(&rep, 0, sizeof rep);
	rc = store_publish(s, argv[optind], (int64_t)time(NULL),
	    (int64_t)days * 24 * 3600, &rep, &err);
	if (rc == 0) {
		printf("%s: published %s %s (serial %llu): %zu new files (%s), "
		    "%zu already present (%s); catalog serial %llu\n", dir,
		    rep.name, rep.label, (unsigned long long)rep.serial,
		    rep.files_new, cmd_size(rep.bytes_new), rep.files_present,
		    cmd_size(rep.bytes_present),
		    (unsigned long long)rep.catalog_serial);
	}
	/* The release is published: a delta that cannot be made now is
	 * made when a mirror asks (or its file sent whole). */
	if (rc == 0 && deltas) {
		if (store_delta_precompute(s, rep.name, rep.serial, &drep,
		    &err) != 0)
			fprintf(stderr, "satchel: warning: %s: no deltas made "
			    "ahead: %s\n", dir, err.msg);
		else if (drep.base_serial != 0)
			printf("%s: made %zu deltas against serial %llu (%s for "
			    "%s of files), %zu declined (sent whole)%s\n", dir,
			    drep.made, (unsigned long long)drep.base_serial,
			    cmd_size(drep.bytes), cmd_size(drep.bytes_files),
			    drep.declined, drep.failed > 0 ? "; some are left "
			    "to be made on request" : "");
	}
	store_publish_report_free(&rep);
	store_close(s);
	return rc == 0 ? 0 : cmd_fail(&err);
}

const struct satchel_cmd cmd_publish_entry = {
	"publish",
	"add a signed release to an origin store, here or over the network",
	"usage: satchel publish --store DIR [--expiry DAYS] [--no-deltas]\n"
	"                       FILE.satchel\n"
	"       satchel publish --to satchel://HOST:PORT FILE.satchel\n"
	"\n"
	"Adds a signed release to an origin store: one on this machine\n"
	"(--store), or one that satcheld serves (--to).\n"
	"\n"
	"With --store: verifies FILE against the store's trust policy (a\n"
	"publisher key whose patterns cover the bundle's name must have signed\n"
	"it) and refuses a serial that is not greater than the store's current\n"
	"one for that bundle, before reading any file. Then checks every file\n"
	"while copying the new ones into a staging area, and makes the release\n"
	"visible in order, each step on disk before the next: the objects, the\n"
	"signed manifest, then a new catalog (serial + 1) signed with the\n"
	"store's catalog key. Refused or interrupted, the store is as it was.\n"
	"Prints what it added: files new and already present, and bytes.\n"
	"Then makes ahead, into the store's deltas/, the deltas that a mirror\n"
	"holding the previous release will ask for (each changed file against\n"
	"its old version, and the signed manifest), unless --no-deltas.\n"
	"\n"
	"With --to: checks every file of FILE here first (integrity; it must\n"
	"be signed), then offers its signed manifest to the daemon (SPEC §11).\n"
	"The origin checks it against its own trust policy and catalog as\n"
	"above and either refuses at once (its reason is printed; nothing is\n"
	"sent) or names the files it lacks; only those are sent, compressed,\n"
	"and the origin checks each against the manifest's size and digest\n"
	"before it lands the release. Prints what was sent and the origin's\n"
	"new catalog serial. A cut connection leaves the origin as it was;\n"
	"run the command again.\n"
	"\n"
	"Options:\n"
	"  -s, --store DIR      the origin store (made by `satchel store init\n"
	"                       --catalog-key`)\n"
	"  -t, --to satchel://HOST:PORT\n"
	"                       the satcheld serving the origin store\n"
	"  -e, --expiry DAYS    with --store: the new catalog expires after DAYS\n"
	"                       (default: the store's catalog-expiry, 7 days)\n"
	"  -n, --no-deltas      with --store: do not make the deltas against the\n"
	"                       previous release now (satcheld makes each when a\n"
	"                       mirror first asks for it)\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"\n"
	"Environment:\n"
	"  SATCHEL_MAX_FRAME    the largest frame (bytes, 4096 to 1048576) to\n"
	"                       offer a daemon; default 1048576\n"
	"\n"
	"Exit status: 0 success, 1 failure (refused, or the connection\n"
	"failed), 2 usage error.\n",
	cmd_publish
};
