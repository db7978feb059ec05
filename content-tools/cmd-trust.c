/*
 * cmd-trust.c: `satchel trust`, create and edit trust policies. Each
 * change bumps the policy's serial and is signed by its root keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "keyfile.h"
#include "manifest.h"
#include "satchel.h"
#include "trust.h"
#include "util.h"

struct trust_args {
	struct privkey	**roots;
	size_t		  nroots;
	unsigned	  threshold;
	const char	 *out;
};

static int
trust_load(struct trust **out, const char *path, struct error *err)
{
	char	*buf = NULL;
	size_t	 len;
	int	 rc;

	if ((rc = file_read_all(&buf, &len, path, TRUST_MAX, err)) == 0)
		rc = trust_parse(out, buf, len, path, err);
	free(buf);
	return rc;
}

/* Signs with every given root key (each must be a root of the policy),
 * checks the threshold and writes the policy atomically. */
static int
trust_save(struct trust *t, const struct trust_args *a, const char *path,
    struct error *err)
{
	char	*buf;
	size_t	 len, i, j;
	int	 rc;

	for (i = 0; i < a->nroots; i++) {
		struct pubkey	pub;

		privkey_public(a->roots[i], &pub);
		for (j = 0; j < t->nroots; j++)
			if (memcmp(t->roots[j].raw, pub.raw, ED25519_PUB_LEN) == 0)
				break;
		if (j == t->nroots)
			return error_set(err, SATCHEL_EVERIFY,
			    "%s: key %s is not a root key of this policy", path, pub.id);
		if ((rc = trust_sign(t, a->roots[i], err)) != 0)
			return rc;
	}
	if ((rc = trust_check_threshold(t, path, err)) != 0)
		return rc;
	trust_encode(t, &buf, &len);
	rc = file_write_atomic(path, buf, len, 0644, err);
	free(buf);
	return rc;
}

static void
trust_add_key(struct pubkey **v, size_t *n, const struct pubkey *k)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = *k;
}

static int
trust_has_key(const struct pubkey *v, size_t n, const struct pubkey *k)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (memcmp(v[i].raw, k->raw, ED25519_PUB_LEN) == 0)
			return 1;
	return 0;
}

static int
pattern_check(const char *p)
{
	size_t	i, n = strlen(p);

	if (n == 0 || n > 64)
		return -1;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
		    strchr("*?[]!-", p[i]) != NULL))
			return -1;
	return 0;
}

static void
trust_print(const struct trust *t)
{
	size_t	i, j;

	printf("serial:    %llu\nthreshold: %u of %zu root keys\n",
	    (unsigned long long)t->serial, t->threshold, t->nroots);
	for (i = 0; i < t->nroots; i++)
		printf("root       %s\n", t->roots[i].id);
	for (i = 0; i < t->ncatalogs; i++)
		printf("catalog    %s\n", t->catalogs[i].id);
	for (i = 0; i < t->npublishers; i++) {
		printf("publisher  %s ", t->publishers[i].key.id);
		for (j = 0; j < t->publishers[i].npatterns; j++)
			printf(" %s", t->publishers[i].patterns[j]);
		printf("\n");
	}
	printf("signed by ");
	for (i = 0; i < t->sigs.n; i++)
		printf("%s%s", i ? " " : "", t->sigs.v[i].keyid);
	printf("\n");
}

static int
trust_do(const char *verb, int argc, char **argv, struct trust_args *a,
    struct error *err)
{
	struct trust	*t = NULL;
	struct pubkey	 pub;
	size_t		 i;
	int		 rc = 0;

	if (strcmp(verb, "new") == 0) {
		t = trust_new();
		for (i = 0; i < a->nroots; i++) {
			privkey_public(a->roots[i], &pub);
			if (!trust_has_key(t->roots, t->nroots, &pub))
				trust_add_key(&t->roots, &t->nroots, &pub);
		}
		t->threshold = a->threshold;
		if (t->threshold > t->nroots) {
			rc = error_set(err, SATCHEL_EINVALID,
			    "threshold %u is more than the %zu root keys given",
			    t->threshold, t->nroots);
			goto out;
		}
		rc = trust_save(t, a, a->out, err);
		if (rc == 0)
			printf("%s: new trust policy, serial 1, %zu root key%s\n",
			    a->out, t->nroots, t->nroots == 1 ? "" : "s");
		goto out;
	}
	if (strcmp(verb, "show") == 0) {
		if ((rc = trust_load(&t, argv[0], err)) == 0)
			trust_print(t);
		goto out;
	}
	if ((rc = trust_load(&t, argv[0], err)) != 0)
		goto out;
	if ((rc = keyfile_load_public(&pub, argv[1], err)) != 0)
		goto out;
	if (strcmp(verb, "add-catalog") == 0) {
		if (trust_has_key(t->catalogs, t->ncatalogs, &pub)) {
			rc = error_set(err, SATCHEL_EEXISTS,
			    "%s: %s is already a catalog key", argv[0], pub.id);
			goto out;
		}
		trust_add_key(&t->catalogs, &t->ncatalogs, &pub);
	} else {
		struct trust_publisher	*p = NULL;

		for (i = 0; i < t->npublishers; i++)
			if (memcmp(t->publishers[i].key.raw, pub.raw, ED25519_PUB_LEN) == 0)
				p = &t->publishers[i];
		if (p == NULL) {
			t->publishers = xreallocarray(t->publishers,
			    t->npublishers + 1, sizeof *t->publishers);
			p = &t->publishers[t->npublishers++];
			memset(p, 0, sizeof *p);
			p->key = pub;
		}
		for (i = 2; i < (size_t)argc; i++) {
			size_t	j;

			if (pattern_check(argv[i]) != 0) {
				rc = error_set(err, SATCHEL_EINVALID,
				    "pattern \"%s\": use 1-64 of a-z, 0-9, '-' and the globs * ? [ ] !",
				    argv[i]);
				goto out;
			}
			for (j = 0; j < p->npatterns; j++)
				if (strcmp(p->patterns[j], argv[i]) == 0)
					break;
			if (j < p->npatterns)
				continue;
			if (p->npatterns == TRUST_PATTERNS_MAX) {
				rc = error_set(err, SATCHEL_ELIMIT, "more than %d patterns",
				    TRUST_PATTERNS_MAX);
				goto out;
			}
			p->patterns = xreallocarray(p->patterns, p->npatterns + 1,
			    sizeof *p->patterns);
			p->patterns[p->npatterns++] = xstrdup(argv[i]);
		}
	}
	t->serial++;
	if ((rc = trust_save(t, a, argv[0], err)) == 0)
		printf("%s: serial %llu, %s %s\n", argv[0],
		    (unsigned long long)t->serial,
		    strcmp(verb, "add-catalog") == 0 ? "catalog key" : "publisher key",
		    pub.id);
out:
	trust_free(t);
	return rc;
}

static int
cmd_trust(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "root-key",	required_argument,	NULL,	'r' },
		{ "threshold",	required_argument,	NULL,	'T' },
		{ "output",	required_argument,	NULL,	'o' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct trust_args		 a = { NULL, 0, 1, NULL };
	struct error			 err;
	char				**paths = NULL;
	const char			*verb;
	uint64_t			 v;
	size_t				 i, npaths = 0, want;
	int				 opt, rc;

	/* "+" stops at the verb's operands; options may come before or
	 * after the verb. */
	while ((opt = getopt_long(argc, argv, "r:T:o:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			paths = xreallocarray(paths, npaths + 1, sizeof *paths);
			paths[npaths++] = optarg;
			break;
		case 'T':
			if (parse_u64(optarg, strlen(optarg), 1, 255, &v) != 0) {
				free(paths);
				return cmd_usage_error(cmd, "--threshold takes 1 to 255");
			}
			a.threshold = (unsigned)v;
			break;
		case 'o':
			a.out = optarg;
			break;
		default:
			free(paths);
			return cmd_common_option(cmd, opt);
		}
	}
	if (optind >= argc) {
		free(paths);
		return cmd_usage_error(cmd, "expected new, add-publisher, add-catalog or show");
	}
	verb = argv[optind];
	argc -= optind + 1;
	argv += optind + 1;
	if (strcmp(verb, "new") == 0)
		want = 0;
	else if (strcmp(verb, "show") == 0)
		want = 1;
	else if (strcmp(verb, "add-catalog") == 0)
		want = 2;
	else if (strcmp(verb, "add-publisher") == 0)
		want = 3;
	else {
		free(paths);
		return cmd_usage_error(cmd, "unknown trust command \"%s\"", verb);
	}
	if ((want == 3 && argc < 3) || (want != 3 && (size_t)argc != want)) {
		free(paths);
		return cmd_usage_error(cmd, "wrong number of arguments for \"%s\"", verb);
	}
	if (want != 1 && npaths == 0) {
		free(paths);
		return cmd_usage_error(cmd, "\"%s\" needs --root-key KEYFILE", verb);
	}
	if (want == 0 && a.out == NULL) {
		free(paths);
		return cmd_usage_error(cmd, "\"new\" needs -o POLICY");
	}
	if (npaths > 0 && cmd_load_keys(paths, npaths, &a.roots, &err) != 0) {
		free(paths);
		return cmd_fail(&err);
	}
	a.nroots = npaths;
	rc = trust_do(verb, argc, argv, &a, &err);
	for (i = 0; i < a.nroots; i++)
		privkey_free(a.roots[i]);
	free(a.roots);
	free(paths);
	return rc == 0 ? 0 : cmd_fail(&err);
}

const struct satchel_cmd cmd_trust_entry = {
	"trust",
	"create, edit and show trust policies",
	"usage: satchel trust new --root-key KEYFILE... [--threshold N] -o POLICY\n"
	"       satchel trust add-publisher --root-key KEYFILE... POLICY PUB PATTERN...\n"
	"       satchel trust add-catalog --root-key KEYFILE... POLICY PUB\n"
	"       satchel trust show POLICY\n"
	"\n"
	"A trust policy says which keys a node trusts: root keys (a threshold of\n"
	"them signs the policy), catalog keys, and publisher keys, each allowed\n"
	"to publish the bundles whose names match its shell-glob PATTERNs\n"
	"(e.g. 'literacy-*'). Every change raises the policy's serial and is\n"
	"signed by the root keys given with --root-key, which must reach the\n"
	"threshold. POLICY is replaced atomically.\n"
	"\n"
	"  new            a policy (serial 1) whose root keys are the --root-key\n"
	"                 keys\n"
	"  add-publisher  lets the public key PUB (a .pub file) publish bundles\n"
	"                 matching PATTERN...; adds patterns to a known key\n"
	"  add-catalog    trusts PUB to sign catalogs\n"
	"  show           prints the policy after checking its signatures\n"
	"\n"
	"Options:\n"
	"  -r, --root-key KEYFILE  a root private key (repeatable)\n"
	"  -T, --threshold N       root signatures a policy needs (new; default 1)\n"
	"  -o, --output POLICY     where `new` writes the policy\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_trust
};
