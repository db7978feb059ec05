/*
 * cmd-trust.c: `satchel trust`, create and edit trust policies. Each
 * change raises the policy's serial by one and is signed by a threshold
 * of the old policy's root keys and of the new one's (SPEC §7).
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
	int		  threshold_given;
	int		  partial;	/* write before the thresholds are met */
	const char	 *previous;	/* sign: the policy it succeeds */
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
trust_has_root(const struct trust *t, const struct pubkey *k)
{
	return trust_has_key(t->roots, t->nroots, k);
}

/* Prints how far t's signatures go: its own roots' threshold and, with
 * old, old's roots'; 1 when both are met. */
static int
trust_status(const char *path, const struct trust *t, const struct trust *old)
{
	size_t	own, prev = 0;
	int	done;

	own = trust_count_signers(t, t->roots, t->nroots);
	printf("%s: serial %llu: signed by %zu of its own %zu root keys "
	    "(threshold %u)", path, (unsigned long long)t->serial, own,
	    t->nroots, t->threshold);
	done = own >= t->threshold;
	if (old != NULL) {
		prev = trust_count_signers(t, old->roots, old->nroots);
		printf(", by %zu of the %zu root keys of policy %llu "
		    "(threshold %u)", prev, old->nroots,
		    (unsigned long long)old->serial, old->threshold);
		done = done && prev >= old->threshold &&
		    old->serial + 1 == t->serial;
	}
	printf(": %s\n", done ? "complete" : "more signatures needed "
	    "(satchel trust sign)");
	return done;
}

/* Adds a signature by key over t's body (t is sorted already). */
static int
trust_add_sig(struct trust *t, const struct privkey *key, struct error *err)
{
	char	*body;
	size_t	 len;
	int	 rc;

	trust_encode_body(t, &body, &len);
	rc = sigs_add(&t->sigs, key, SIG_DOMAIN_TRUST, body, len, err);
	free(body);
	return rc;
}

/* Every given key is a root of t or of old (which may be NULL). */
static int
trust_keys_check(const struct trust *t, const struct trust *old,
    const struct trust_args *a, const char *path, struct error *err)
{
	struct pubkey	pub;
	size_t		i;

	for (i = 0; i < a->nroots; i++) {
		privkey_public(a->roots[i], &pub);
		if (!trust_has_root(t, &pub) &&
		    (old == NULL || !trust_has_root(old, &pub)))
			return error_set(err, SATCHEL_EVERIFY,
			    "%s: key %s is not a root key of %s", path, pub.id,
			    old != NULL ? "this policy or its successor" :
			    "this policy");
	}
	return 0;
}

/*
 * Signs t with every given root key and writes it atomically. Each key
 * must be a root of t or of old (the policy t succeeds; NULL for a new
 * one): the old roots hand over by signing the successor, and a node
 * takes t only when a threshold of old's roots and of t's own signed it
 * (SPEC §7 "Rotation"), which is checked here before anything is
 * written, with the message a node would give.
 */
static int
trust_save(struct trust *t, const struct trust *old,
    const struct trust_args *a, const char *path, struct error *err)
{
	struct pubkey	 pub;
	const char	*to = a->out != NULL ? a->out : path;
	char		*buf = NULL;
	size_t		 len, i;
	int		 rc;

	if ((rc = trust_keys_check(t, old, a, path, err)) != 0)
		return rc;
	/* Every signature there is over the previous body. trust_sign
	 * sorts and validates t and checks its size; it would drop the
	 * line of a key that is an old root only, which therefore signs
	 * after. */
	sigs_free(&t->sigs);
	for (i = 0; i < a->nroots; i++) {
		privkey_public(a->roots[i], &pub);
		if (trust_has_root(t, &pub) &&
		    (rc = trust_sign(t, a->roots[i], err)) != 0)
			goto out;
	}
	for (i = 0; old != NULL && i < a->nroots; i++) {
		privkey_public(a->roots[i], &pub);
		if (!trust_has_root(t, &pub) &&
		    (rc = trust_add_sig(t, a->roots[i], err)) != 0)
			goto out;
	}
	if (a->partial)
		(void)trust_status(to, t, old);
	else if ((rc = trust_check_threshold(t, path, err)) != 0 ||
	    (old != NULL && (rc = trust_check_successor(old, t, path,
	    err)) != 0))
		goto out;
	trust_encode(t, &buf, &len);
	if (len > TRUST_MAX) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "%s: the signed policy would be larger than %d bytes", path,
		    TRUST_MAX);
		goto out;
	}
	rc = file_write_atomic(to, buf, len, 0644, err);
out:
	free(buf);
	return rc;
}

/*
 * `trust sign`: more root signatures on a policy that a change wrote
 * with --partial (its root keys held by different people, each signing
 * in turn). The body is not changed; --previous names the policy it
 * succeeds, whose roots may sign too.
 */
static int
trust_sign_more(const struct trust_args *a, const char *path,
    struct error *err)
{
	struct trust	*t = NULL, *old = NULL;
	char		*buf = NULL;
	size_t		 len, i;
	int		 rc;

	if ((rc = file_read_all(&buf, &len, path, TRUST_MAX, err)) != 0 ||
	    (rc = trust_parse_draft(&t, buf, len, path, err)) != 0)
		goto out;
	if (a->previous != NULL && (rc = trust_load(&old, a->previous,
	    err)) != 0)
		goto out;
	if ((rc = trust_keys_check(t, old, a, path, err)) != 0)
		goto out;
	for (i = 0; i < a->nroots; i++)
		if ((rc = trust_add_sig(t, a->roots[i], err)) != 0)
			goto out;
	free(buf);
	trust_encode(t, &buf, &len);
	if (len > TRUST_MAX) {
		rc = error_set(err, SATCHEL_ELIMIT,
		    "%s: the signed policy would be larger than %d bytes", path,
		    TRUST_MAX);
		goto out;
	}
	if ((rc = file_write_atomic(a->out != NULL ? a->out : path, buf, len,
	    0644, err)) == 0)
		(void)trust_status(a->out != NULL ? a->out : path, t, old);
out:
	trust_free(old);
	trust_free(t);
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

/* Removes the key k from v; 0 if it was there. */
static int
trust_remove_key(struct pubkey *v, size_t *n, const struct pubkey *k)
{
	size_t	i;

	for (i = 0; i < *n; i++) {
		if (memcmp(v[i].raw, k->raw, ED25519_PUB_LEN) == 0) {
			memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof *v);
			(*n)--;
			return 0;
		}
	}
	return -1;
}

static struct trust_publisher *
trust_find_publisher(struct trust *t, const struct pubkey *k)
{
	size_t	i;

	for (i = 0; i < t->npublishers; i++)
		if (memcmp(t->publishers[i].key.raw, k->raw, ED25519_PUB_LEN) == 0)
			return &t->publishers[i];
	return NULL;
}

/* Adds the patterns to the publisher k (a new one if need be). */
static int
trust_add_publisher(struct trust *t, const struct pubkey *k, char **pats,
    size_t npats, struct error *err)
{
	struct trust_publisher	*p = trust_find_publisher(t, k);
	size_t			 i, j;

	if (p == NULL) {
		t->publishers = xreallocarray(t->publishers, t->npublishers + 1,
		    sizeof *t->publishers);
		p = &t->publishers[t->npublishers++];
		memset(p, 0, sizeof *p);
		p->key = *k;
	}
	for (i = 0; i < npats; i++) {
		if (pattern_check(pats[i]) != 0)
			return error_set(err, SATCHEL_EINVALID,
			    "pattern \"%s\": use 1-64 of a-z, 0-9, '-' and the "
			    "globs * ? [ ] !", pats[i]);
		for (j = 0; j < p->npatterns; j++)
			if (strcmp(p->patterns[j], pats[i]) == 0)
				break;
		if (j < p->npatterns)
			continue;
		if (p->npatterns == TRUST_PATTERNS_MAX)
			return error_set(err, SATCHEL_ELIMIT,
			    "more than %d patterns", TRUST_PATTERNS_MAX);
		p->patterns = xreallocarray(p->patterns, p->npatterns + 1,
		    sizeof *p->patterns);
		p->patterns[p->npatterns++] = xstrdup(pats[i]);
	}
	return 0;
}

/* Which section a verb changes: "root", "catalog" or "publisher" after
 * its "add-", "remove-" or "replace-". */
static const char *
trust_verb_kind(const char *verb)
{
	const char	*dash = strchr(verb, '-');

	return dash != NULL ? dash + 1 : verb;
}

/*
 * One change of an existing policy: the section's key added, removed
 * (revoked) or replaced, or the threshold set; then the serial goes up
 * by one and the policy is signed (trust_save). What it did is written
 * to what.
 */
static int
trust_edit(struct trust *t, const char *verb, int argc, char **argv,
    char *what, size_t whatlen, struct error *err)
{
	const char		*kind = trust_verb_kind(verb);
	struct pubkey		*v, k, nk;
	struct trust_publisher	*p;
	size_t			*n;
	uint64_t		 th;
	int			 rc;

	if (strcmp(verb, "set-threshold") == 0) {
		if (parse_u64(argv[1], strlen(argv[1]), 1, TRUST_KEYS_MAX,
		    &th) != 0)
			return error_set(err, SATCHEL_EINVALID,
			    "threshold \"%s\": expected a number from 1 to the "
			    "%zu root keys", argv[1], t->nroots);
		snprintf(what, whatlen, "threshold %llu (was %u)",
		    (unsigned long long)th, t->threshold);
		t->threshold = (unsigned)th;
		return 0;
	}
	if ((rc = keyfile_load_public(&k, argv[1], err)) != 0)
		return rc;
	if (strncmp(verb, "replace-", 8) == 0 &&
	    (rc = keyfile_load_public(&nk, argv[2], err)) != 0)
		return rc;
	if (strcmp(kind, "publisher") == 0) {
		p = trust_find_publisher(t, &k);
		if (strcmp(verb, "add-publisher") == 0) {
			snprintf(what, whatlen, "publisher key %s %s", k.id,
			    p == NULL ? "added" : "given more patterns");
			return trust_add_publisher(t, &k, argv + 2,
			    (size_t)argc - 2, err);
		}
		if (p == NULL)
			return error_set(err, SATCHEL_ENOTFOUND,
			    "%s: %s is not a publisher key", argv[0], k.id);
		if (strcmp(verb, "remove-publisher") == 0) {
			size_t	j, i = (size_t)(p - t->publishers);

			for (j = 0; j < p->npatterns; j++)
				free(p->patterns[j]);
			free(p->patterns);
			memmove(p, p + 1, (t->npublishers - i - 1) * sizeof *p);
			t->npublishers--;
			snprintf(what, whatlen, "publisher key %s removed", k.id);
			return 0;
		}
		if (trust_find_publisher(t, &nk) != NULL)
			return error_set(err, SATCHEL_EEXISTS,
			    "%s: %s is already a publisher key", argv[0], nk.id);
		p->key = nk;		/* the patterns stay */
		snprintf(what, whatlen, "publisher key %s replaced by %s", k.id,
		    nk.id);
		return 0;
	}
	if (strcmp(kind, "root") == 0) {
		v = t->roots;
		n = &t->nroots;
	} else {
		v = t->catalogs;
		n = &t->ncatalogs;
	}
	if (strncmp(verb, "add-", 4) == 0) {
		if (trust_has_key(v, *n, &k))
			return error_set(err, SATCHEL_EEXISTS,
			    "%s: %s is already a %s key", argv[0], k.id, kind);
		trust_add_key(kind[0] == 'r' ? &t->roots : &t->catalogs, n, &k);
		snprintf(what, whatlen, "%s key %s added", kind, k.id);
		return 0;
	}
	if (trust_remove_key(v, n, &k) != 0)
		return error_set(err, SATCHEL_ENOTFOUND,
		    "%s: %s is not a %s key", argv[0], k.id, kind);
	if (strncmp(verb, "remove-", 7) == 0) {
		snprintf(what, whatlen, "%s key %s removed", kind, k.id);
		return 0;
	}
	if (trust_has_key(v, *n, &nk))
		return error_set(err, SATCHEL_EEXISTS,
		    "%s: %s is already a %s key", argv[0], nk.id, kind);
	v[(*n)++] = nk;		/* the slot the old key left */
	snprintf(what, whatlen, "%s key %s replaced by %s", kind, k.id, nk.id);
	return 0;
}

static int
trust_do(const char *verb, int argc, char **argv, struct trust_args *a,
    struct error *err)
{
	struct trust	*t = NULL, *old = NULL;
	struct pubkey	 pub;
	char		 what[256];
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
		rc = trust_save(t, NULL, a, a->out, err);
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
	if (strcmp(verb, "sign") == 0) {
		rc = trust_sign_more(a, argv[0], err);
		goto out;
	}
	if ((rc = trust_load(&old, argv[0], err)) != 0 ||
	    (rc = trust_load(&t, argv[0], err)) != 0)
		goto out;
	if ((rc = trust_edit(t, verb, argc, argv, what, sizeof what, err)) != 0)
		goto out;
	if (a->threshold_given) {
		t->threshold = a->threshold;
		snprintf(what + strlen(what), sizeof what - strlen(what),
		    "; threshold %u", t->threshold);
	}
	if (t->nroots == 0) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: a policy needs at least one root key", argv[0]);
		goto out;
	}
	if (t->threshold > t->nroots) {
		rc = error_set(err, SATCHEL_EINVALID,
		    "%s: threshold %u is more than the %zu root keys%s", argv[0],
		    t->threshold, t->nroots, a->threshold_given ? "" :
		    " (lower it with --threshold)");
		goto out;
	}
	t->serial++;
	if ((rc = trust_save(t, old, a, argv[0], err)) == 0)
		printf("%s: serial %llu, %s\n", a->out != NULL ? a->out :
		    argv[0], (unsigned long long)t->serial, what);
out:
	trust_free(old);
	trust_free(t);
	return rc;
}

/* The verbs and their operands after POLICY's: min and max (-1: any). */
static const struct {
	const char	*verb;
	int		 min, max;
} trust_verbs[] = {
	{ "new",		0, 0 },
	{ "show",		1, 1 },
	{ "add-root",		2, 2 },
	{ "remove-root",	2, 2 },
	{ "replace-root",	3, 3 },
	{ "add-catalog",	2, 2 },
	{ "remove-catalog",	2, 2 },
	{ "replace-catalog",	3, 3 },
	{ "add-publisher",	3, -1 },
	{ "remove-publisher",	2, 2 },
	{ "replace-publisher",	3, 3 },
	{ "set-threshold",	2, 2 },
	{ "sign",		1, 1 },
};

static int
cmd_trust(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "root-key",	required_argument,	NULL,	'r' },
		{ "threshold",	required_argument,	NULL,	'T' },
		{ "output",	required_argument,	NULL,	'o' },
		{ "partial",	no_argument,		NULL,	'P' },
		{ "previous",	required_argument,	NULL,	'p' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct trust_args		 a = { NULL, 0, 1, 0, 0, NULL, NULL };
	struct error			 err;
	char				**paths = NULL;
	const char			*verb;
	uint64_t			 v;
	size_t				 i, npaths = 0;
	int				 opt, rc;

	/* Options may come before or after the verb. */
	while ((opt = getopt_long(argc, argv, "r:T:o:Pp:hV", opts, NULL)) != -1) {
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
			a.threshold_given = 1;
			break;
		case 'o':
			a.out = optarg;
			break;
		case 'P':
			a.partial = 1;
			break;
		case 'p':
			a.previous = optarg;
			break;
		default:
			free(paths);
			return cmd_common_option(cmd, opt);
		}
	}
	if (optind >= argc) {
		free(paths);
		return cmd_usage_error(cmd, "expected new, show, or a change "
		    "(add-, remove-, replace-root/catalog/publisher, "
		    "set-threshold)");
	}
	verb = argv[optind];
	argc -= optind + 1;
	argv += optind + 1;
	for (i = 0; i < sizeof trust_verbs / sizeof trust_verbs[0]; i++)
		if (strcmp(verb, trust_verbs[i].verb) == 0)
			break;
	if (i == sizeof trust_verbs / sizeof trust_verbs[0]) {
		free(paths);
		return cmd_usage_error(cmd, "unknown trust command \"%s\"", verb);
	}
	if (argc < trust_verbs[i].min ||
	    (trust_verbs[i].max >= 0 && argc > trust_verbs[i].max)) {
		free(paths);
		return cmd_usage_error(cmd, "wrong number of arguments for \"%s\"", verb);
	}
	if (strcmp(verb, "show") != 0 && npaths == 0) {
		free(paths);
		return cmd_usage_error(cmd, "\"%s\" needs --root-key KEYFILE", verb);
	}
	if (strcmp(verb, "new") == 0 && a.out == NULL) {
		free(paths);
		return cmd_usage_error(cmd, "\"new\" needs -o POLICY");
	}
	if ((a.previous != NULL && strcmp(verb, "sign") != 0) ||
	    (a.partial && (strcmp(verb, "sign") == 0 ||
	    strcmp(verb, "show") == 0)) ||
	    (a.threshold_given && strcmp(verb, "sign") == 0) ||
	    (a.out != NULL && strcmp(verb, "show") == 0)) {
		free(paths);
		return cmd_usage_error(cmd, "--previous is for sign; --partial "
		    "and --threshold for new and changes; -o not for show");
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
	"       satchel trust add-catalog|add-root --root-key KEYFILE... POLICY PUB\n"
	"       satchel trust remove-root|remove-catalog|remove-publisher\n"
	"                     --root-key KEYFILE... POLICY PUB\n"
	"       satchel trust replace-root|replace-catalog|replace-publisher\n"
	"                     --root-key KEYFILE... POLICY OLDPUB NEWPUB\n"
	"       satchel trust set-threshold --root-key KEYFILE... POLICY N\n"
	"       satchel trust sign --root-key KEYFILE... [--previous OLD] POLICY\n"
	"       satchel trust show POLICY\n"
	"\n"
	"A trust policy says which keys a node trusts: root keys (a threshold of\n"
	"them signs the policy), catalog keys, and publisher keys, each allowed\n"
	"to publish the bundles whose names match its shell-glob PATTERNs\n"
	"(e.g. 'literacy-*'). Every change raises the policy's serial by one and\n"
	"is signed by the root keys given with --root-key: a node takes the new\n"
	"policy only when a threshold of the old policy's root keys and a\n"
	"threshold of the new one's signed it, so give enough of both (a key\n"
	"that is a root of both counts for both). POLICY is replaced atomically\n"
	"(or the change written to -o FILE); keep the old one for `satchel store\n"
	"set-trust` if you make several changes at once. When the root keys are\n"
	"held by different people, the first writes the change with --partial\n"
	"and -o, and the others add theirs with `sign --previous OLD`.\n"
	"\n"
	"  new            a policy (serial 1) whose root keys are the --root-key\n"
	"                 keys\n"
	"  add-publisher  lets the public key PUB (a .pub file) publish bundles\n"
	"                 matching PATTERN...; adds patterns to a known key\n"
	"  add-catalog    trusts PUB to sign catalogs\n"
	"  add-root       makes PUB a root key\n"
	"  remove-*       revokes the root, catalog or publisher key PUB\n"
	"  replace-*      puts NEWPUB in the place of OLDPUB (a publisher keeps\n"
	"                 its patterns)\n"
	"  set-threshold  the number of root signatures the policy needs\n"
	"  sign           adds the --root-key keys' signatures to POLICY, a\n"
	"                 change written with --partial (its body unchanged),\n"
	"                 and says which thresholds are met\n"
	"  show           prints the policy after checking its signatures\n"
	"\n"
	"Options:\n"
	"  -r, --root-key KEYFILE  a root private key, of the policy or of the\n"
	"                          changed one (repeatable)\n"
	"  -T, --threshold N       root signatures a policy needs (new: default\n"
	"                          1; with a change: the new threshold)\n"
	"  -o, --output POLICY     where `new` writes the policy; for a change\n"
	"                          or sign, write there, not over POLICY\n"
	"  -P, --partial           write a change before its thresholds are met\n"
	"  -p, --previous OLD      sign: the policy POLICY succeeds (its roots\n"
	"                          may sign; its threshold is reported)\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_trust
};
