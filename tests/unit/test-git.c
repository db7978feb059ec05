/*
 * test-git.c: unit tests for lib/git.c. Each test builds its own small
 * repository with the git command line under one private temp directory
 * (made by the group setup, removed by the group teardown), with fixed
 * identities and dates so that ids and orders are reproducible.
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

#include "error.h"
#include "fsutil.h"
#include "git.h"
#include "util.h"

#define FIXED_DATE	"1700000000 +0000"
#define FIXED_TIME	1700000000

static char	*test_base;	/* the private temp directory */
static int	 test_seq;	/* makes each fixture directory unique */

/* Runs a shell command, failing the test if it does not exit 0. */
static void __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	va_list	 ap;
	char	*cmd;
	int	 status;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		fail_msg("out of memory");
	va_end(ap);
	status = system(cmd);
	if (status != 0)
		fail_msg("command failed (%d): %s", status, cmd);
	free(cmd);
}

/* Runs a shell command and returns its first output line, without the
 * newline (malloc'd). */
static char * __attribute__((format(printf, 1, 2)))
sh_out(const char *fmt, ...)
{
	va_list	 ap;
	char	*cmd, line[4096];
	FILE	*f;
	size_t	 len;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		fail_msg("out of memory");
	va_end(ap);
	if ((f = popen(cmd, "r")) == NULL)
		fail_msg("popen failed: %s", cmd);
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	if (pclose(f) != 0)
		fail_msg("command failed: %s", cmd);
	free(cmd);
	len = strcspn(line, "\n");
	line[len] = '\0';
	return xstrdup(line);
}

/* A fresh, empty, unique directory path under the temp directory. */
static char *
fixture_dir(const char *name)
{
	char	*dir;

	dir = xasprintf("%s/%d-%s", test_base, ++test_seq, name);
	sh("mkdir -p '%s'", dir);
	return dir;
}

/* A new repository with branch main, no commits. */
static char *
fixture_repo(const char *name)
{
	char	*dir = fixture_dir(name);

	sh("git -c init.defaultBranch=main init -q '%s'", dir);
	return dir;
}

/* Commits everything in dir with the given subject and commit time. */
static void
fixture_commit(const char *dir, const char *subject, long when)
{
	sh("cd '%s' && git add -A && GIT_AUTHOR_DATE='%ld +0000' "
	    "GIT_COMMITTER_DATE='%ld +0000' git commit -q --allow-empty "
	    "-m '%s'", dir, when, when, subject);
}

static struct gitrepo *
open_ok(const char *dir)
{
	struct gitrepo	*r = NULL;
	struct error	 err = { 0, "" };
	int		 rc;

	rc = gitrepo_open(&r, dir, &err);
	if (rc != 0)
		fail_msg("gitrepo_open %s: %d %s", dir, rc, err.msg);
	assert_non_null(r);
	return r;
}

static void
resolve_ok(struct gitrepo *r, const char *rev, struct gitrepo_commit *c)
{
	struct error	err = { 0, "" };
	int		rc;

	rc = gitrepo_resolve(r, rev, c, &err);
	if (rc != 0)
		fail_msg("gitrepo_resolve %s: %d %s", rev, rc, err.msg);
}

static int
setup(void **state)
{
	const char	*tmp = getenv("TMPDIR");
	char		*tmpl;

	tmpl = xasprintf("%s/satchel-test-git.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(tmpl) == NULL) {
		free(tmpl);
		return -1;
	}
	test_base = tmpl;
	/* Keep the user's and the system's git configuration out. */
	setenv("HOME", test_base, 1);
	setenv("XDG_CONFIG_HOME", test_base, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Test Author", 1);
	setenv("GIT_AUTHOR_EMAIL", "author@example.org", 1);
	setenv("GIT_COMMITTER_NAME", "Test Committer", 1);
	setenv("GIT_COMMITTER_EMAIL", "committer@example.org", 1);
	setenv("GIT_AUTHOR_DATE", FIXED_DATE, 1);
	setenv("GIT_COMMITTER_DATE", FIXED_DATE, 1);
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	unsetenv("GIT_INDEX_FILE");
	return 0;
}

static int
teardown(void **state)
{
	char	*cmd;
	int	 rc;

	if (test_base == NULL)
		return 0;
	cmd = xasprintf("rm -rf '%s'", test_base);
	rc = system(cmd);
	free(cmd);
	free(test_base);
	test_base = NULL;
	return rc == 0 ? 0 : -1;
}

static void
test_open_missing_path(void **state)
{
	struct gitrepo	*r = NULL;
	struct error	 err = { 0, "" };
	char		*dir;

	dir = xasprintf("%s/does-not-exist", test_base);
	assert_int_equal(gitrepo_open(&r, dir, &err), SATCHEL_ENOTFOUND);
	assert_null(r);
	assert_int_equal(err.code, SATCHEL_ENOTFOUND);
	assert_non_null(strstr(err.msg, dir));
	free(dir);
	gitrepo_free(NULL);
}

/* A plain directory, even inside a work tree, is not a repository: the
 * search must not climb to the parent. */
static void
test_open_does_not_search_parents(void **state)
{
	struct gitrepo	*r = NULL;
	struct error	 err = { 0, "" };
	char		*dir, *sub;

	dir = fixture_repo("parent");
	sub = xasprintf("%s/sub", dir);
	sh("mkdir '%s'", sub);
	assert_int_equal(gitrepo_open(&r, sub, &err), SATCHEL_ENOTFOUND);
	assert_null(r);
	assert_non_null(strstr(err.msg, sub));
	free(sub);
	free(dir);
}

static void
test_open_bare_repository(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	char			*dir, *bare, *want;

	dir = fixture_repo("work");
	sh("echo hi > '%s/f'", dir);
	fixture_commit(dir, "one", FIXED_TIME);
	bare = xasprintf("%s.git", dir);
	sh("git clone -q --bare '%s' '%s'", dir, bare);
	r = open_ok(bare);
	resolve_ok(r, "main", &c);
	want = sh_out("git -C '%s' rev-parse main", dir);
	assert_string_equal(c.commit, want);
	gitrepo_free(r);
	free(want);
	free(bare);
	free(dir);
}

static void
test_resolve_head_and_branch(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	char			*dir, *head, *tree, *first;

	dir = fixture_repo("resolve");
	sh("echo one > '%s/f'", dir);
	fixture_commit(dir, "one", FIXED_TIME);
	sh("git -C '%s' branch first", dir);
	sh("echo two > '%s/f'", dir);
	fixture_commit(dir, "two", FIXED_TIME + 60);
	head = sh_out("git -C '%s' rev-parse HEAD", dir);
	tree = sh_out("git -C '%s' rev-parse 'HEAD^{tree}'", dir);
	first = sh_out("git -C '%s' rev-parse first", dir);
	assert_string_not_equal(head, first);

	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	assert_string_equal(c.commit, head);
	assert_string_equal(c.tree, tree);
	assert_int_equal(c.time, FIXED_TIME + 60);
	resolve_ok(r, "main", &c);
	assert_string_equal(c.commit, head);
	resolve_ok(r, "first", &c);
	assert_string_equal(c.commit, first);
	assert_int_equal(c.time, FIXED_TIME);
	resolve_ok(r, "HEAD~1", &c);
	assert_string_equal(c.commit, first);
	resolve_ok(r, head, &c);
	assert_string_equal(c.commit, head);

	gitrepo_free(r);
	free(first);
	free(tree);
	free(head);
	free(dir);
}

static void
test_resolve_annotated_tag_peels(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	char			*dir, *head, *tagid;

	dir = fixture_repo("tagpeel");
	fixture_commit(dir, "one", FIXED_TIME);
	sh("git -C '%s' tag -a -m 'v1' v1", dir);
	head = sh_out("git -C '%s' rev-parse HEAD", dir);
	tagid = sh_out("git -C '%s' rev-parse v1", dir);
	assert_string_not_equal(head, tagid);
	r = open_ok(dir);
	resolve_ok(r, "v1", &c);
	assert_string_equal(c.commit, head);
	gitrepo_free(r);
	free(tagid);
	free(head);
	free(dir);
}

static void
test_resolve_bad_rev(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct error		 err = { 0, "" };
	char			*dir;

	dir = fixture_repo("badrev");
	fixture_commit(dir, "one", FIXED_TIME);
	r = open_ok(dir);
	assert_int_equal(gitrepo_resolve(r, "no-such-branch", &c, &err),
	    SATCHEL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no-such-branch"));
	assert_non_null(strstr(err.msg, dir));
	assert_int_equal(gitrepo_resolve(r, "HEAD~5", &c, &err),
	    SATCHEL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "HEAD~5"));
	assert_int_equal(gitrepo_resolve(r,
	    "0123456789012345678901234567890123456789", &c, &err),
	    SATCHEL_ENOTFOUND);
	assert_non_null(strstr(err.msg,
	    "0123456789012345678901234567890123456789"));
	gitrepo_free(r);
	free(dir);
}

/* HEAD of a repository with no commit yet does not exist. */
static void
test_resolve_unborn_head(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct error		 err = { 0, "" };
	char			*dir;

	dir = fixture_repo("unborn");
	r = open_ok(dir);
	assert_int_equal(gitrepo_resolve(r, "HEAD", &c, &err),
	    SATCHEL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "HEAD"));
	gitrepo_free(r);
	free(dir);
}

static void
test_resolve_tree_is_invalid(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct error		 err = { 0, "" };
	char			*dir, *tree, *blob;

	dir = fixture_repo("treerev");
	sh("echo x > '%s/f'", dir);
	fixture_commit(dir, "one", FIXED_TIME);
	tree = sh_out("git -C '%s' rev-parse 'HEAD^{tree}'", dir);
	blob = sh_out("git -C '%s' rev-parse HEAD:f", dir);
	r = open_ok(dir);
	assert_int_equal(gitrepo_resolve(r, tree, &c, &err),
	    SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, tree));
	assert_non_null(strstr(err.msg, "not a commit"));
	assert_int_equal(gitrepo_resolve(r, blob, &c, &err),
	    SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, blob));
	gitrepo_free(r);
	free(blob);
	free(tree);
	free(dir);
}

/* Builds the tree used by the listing tests; returns the repository. */
static char *
fixture_files(void)
{
	char	*dir = fixture_repo("files");

	sh("cd '%s' && mkdir -p a/c lessons/一 && "
	    "printf 'dot' > a.b && "
	    "printf 'slash' > a/b && "
	    "printf 'deep file' > a/c/d.txt && "
	    "printf 'dash!' > a-b && "
	    "printf '0' > a0 && "
	    "printf '#!/bin/sh\\necho hi\\n' > exec.sh && chmod 755 exec.sh && "
	    "printf 'spaced out' > 'with space.txt' && "
	    "printf '<p>一</p>' > 'lessons/一/index.html' && "
	    "printf 'zz' > lessons/z.html && "
	    "printf 'upper' > Z && "
	    "printf 'a\\000b\\377' > bin.dat && "
	    ": > empty", dir);
	fixture_commit(dir, "files", FIXED_TIME);
	return dir;
}

static void
test_list_files_sorted_bytewise(void **state)
{
	static const struct {
		const char	*path;
		uint32_t	 mode;
		uint64_t	 size;
	} want[] = {
		{ "Z", 0644, 5 },
		{ "a-b", 0644, 5 },
		{ "a.b", 0644, 3 },
		{ "a/b", 0644, 5 },
		{ "a/c/d.txt", 0644, 9 },
		{ "a0", 0644, 1 },
		{ "bin.dat", 0644, 4 },
		{ "empty", 0644, 0 },
		{ "exec.sh", 0755, 18 },
		{ "lessons/z.html", 0644, 2 },
		{ "lessons/\xe4\xb8\x80/index.html", 0644, 10 },
		{ "with space.txt", 0644, 10 },
	};
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct gitrepo_files	 files;
	struct error		 err = { 0, "" };
	char			*dir, *oid;
	size_t			 i;

	dir = fixture_files();
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	assert_int_equal(gitrepo_list_files(r, &c, &files, &err), 0);
	assert_int_equal(files.n, sizeof want / sizeof want[0]);
	for (i = 0; i < files.n; i++) {
		assert_string_equal(files.v[i].path, want[i].path);
		assert_int_equal(files.v[i].mode, want[i].mode);
		assert_int_equal(files.v[i].size, want[i].size);
		oid = sh_out("git -C '%s' rev-parse 'HEAD:%s'", dir,
		    want[i].path);
		assert_string_equal(files.v[i].oid, oid);
		free(oid);
	}
	gitrepo_files_free(&files);
	assert_null(files.v);
	assert_int_equal(files.n, 0);
	gitrepo_files_free(NULL);
	gitrepo_free(r);
	free(dir);
}

static void
test_read_blob(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct gitrepo_files	 files;
	struct error		 err = { 0, "" };
	void			*data = NULL;
	size_t			 len = 99, i;
	char			*dir;
	int			 seen = 0;

	dir = fixture_files();
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	assert_int_equal(gitrepo_list_files(r, &c, &files, &err), 0);
	for (i = 0; i < files.n; i++) {
		const char	*p = files.v[i].path;

		assert_int_equal(gitrepo_read_blob(r, files.v[i].oid, &data,
		    &len, &err), 0);
		assert_int_equal(len, files.v[i].size);
		if (strcmp(p, "a/c/d.txt") == 0) {
			assert_memory_equal(data, "deep file", 9);
			seen++;
		} else if (strcmp(p, "bin.dat") == 0) {
			assert_memory_equal(data, "a\0b\377", 4);
			seen++;
		} else if (strcmp(p, "lessons/\xe4\xb8\x80/index.html") == 0) {
			assert_memory_equal(data, "<p>\xe4\xb8\x80</p>", 10);
			seen++;
		} else if (strcmp(p, "empty") == 0) {
			assert_int_equal(len, 0);
			seen++;
		}
		free(data);
		data = NULL;
	}
	assert_int_equal(seen, 4);

	/* A malformed id and an id that names nothing. */
	assert_int_equal(gitrepo_read_blob(r, "xyz", &data, &len, &err),
	    SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "xyz"));
	assert_int_equal(gitrepo_read_blob(r,
	    "0123456789012345678901234567890123456789", &data, &len, &err),
	    SATCHEL_ENOTFOUND);
	assert_non_null(strstr(err.msg,
	    "0123456789012345678901234567890123456789"));
	/* A commit is not a blob. */
	assert_int_not_equal(gitrepo_read_blob(r, c.commit, &data, &len,
	    &err), 0);
	assert_null(data);

	gitrepo_files_free(&files);
	gitrepo_free(r);
	free(dir);
}

/* Reads a whole stream; returns the last read's result (0 at a checked
 * end) and the data in *out. */
static ssize_t
stream_all(struct gitrepo *r, const char *oid, struct buf *out,
    struct error *err)
{
	struct gitrepo_stream	*st = NULL;
	char			 chunk[7919];	/* odd, to cross boundaries */
	uint64_t		 size = 0;
	ssize_t			 n;

	buf_init(out);
	if ((n = gitrepo_stream_open(r, oid, &size, &st, err)) != 0)
		return n;
	while ((n = gitrepo_stream_read(st, chunk, sizeof chunk, err)) > 0)
		buf_add(out, chunk, (size_t)n);
	if (n == 0)
		assert_int_equal(out->len, size);
	gitrepo_stream_free(st);
	return n;
}

/* Streams loose objects, then the same blobs packed whole and as deltas:
 * the bytes always equal git's own. */
static void
test_stream_loose_packed_delta(void **state)
{
	struct gitrepo	*r;
	struct error	 err = { 0, "" };
	struct buf	 b;
	char		*dir, *oid1, *oid2, *want;
	size_t		 wlen;
	int		 pass;

	dir = fixture_repo("stream");
	sh("cd '%s' && head -c 3000000 /dev/urandom > big && "
	    "(cat big; printf tail) > big2 && printf small > small", dir);
	fixture_commit(dir, "blobs", 1700000000);
	oid1 = sh_out("git -C '%s' rev-parse HEAD:big", dir);
	oid2 = sh_out("git -C '%s' rev-parse HEAD:big2", dir);
	for (pass = 0; pass < 2; pass++) {
		const char	*oids[] = { oid1, oid2 };
		int		 k;

		if (pass == 1)		/* packed; big2 becomes a delta */
			sh("git -C '%s' gc -q --aggressive", dir);
		r = open_ok(dir);
		for (k = 0; k < 2; k++) {
			char	*path = xasprintf("%s/%s", dir, k == 0 ? "big" : "big2");

			assert_int_equal(stream_all(r, oids[k], &b, &err), 0);
			assert_int_equal(file_read_all(&want, &wlen, path, 1 << 24,
			    &err), 0);
			assert_int_equal(b.len, wlen);
			assert_memory_equal(b.data, want, wlen);
			free(want);
			free(path);
			buf_free(&b);
		}
		gitrepo_free(r);
	}
	/* A pack whose blob data is damaged: an error, never wrong bytes. */
	sh("cd '%s' && p=$(ls .git/objects/pack/*.pack) && chmod u+w $p && "
	    "printf 'U' | dd of=$p bs=1 seek=1500000 conv=notrunc 2>/dev/null", dir);
	r = open_ok(dir);
	assert_true(stream_all(r, oid1, &b, &err) < 0);
	assert_non_null(strstr(err.msg, ".pack"));
	buf_free(&b);
	gitrepo_free(r);
	free(oid1);
	free(oid2);
	free(dir);
}

/* A truncated loose object fails (libgit2 1.5 would loop forever). */
static void
test_stream_truncated_loose(void **state)
{
	struct gitrepo	*r;
	struct error	 err = { 0, "" };
	struct buf	 b;
	void		*data = NULL;
	size_t		 len;
	char		*dir, *oid;

	dir = fixture_repo("truncated");
	sh("cd '%s' && head -c 200000 /dev/urandom > f", dir);
	fixture_commit(dir, "f", 1700000000);
	oid = sh_out("git -C '%s' rev-parse HEAD:f", dir);
	sh("cd '%s' && o=.git/objects/$(echo %s | cut -c1-2)/$(echo %s | cut -c3-) && "
	    "chmod u+w $o && truncate -s 1000 $o", dir, oid, oid);
	r = open_ok(dir);
	assert_true(stream_all(r, oid, &b, &err) < 0);
	buf_free(&b);
	assert_int_equal(gitrepo_read_blob(r, oid, &data, &len, &err),
	    SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, oid));
	gitrepo_free(r);
	free(oid);
	free(dir);
}

static void
test_list_files_refuses_symlink(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct gitrepo_files	 files = { NULL, 0 };
	struct error		 err = { 0, "" };
	char			*dir;

	dir = fixture_repo("symlink");
	sh("cd '%s' && mkdir -p x/y && echo t > target && "
	    "ln -s ../../target x/y/link && echo z > zz && mkdir w && "
	    "echo w > w/f", dir);
	fixture_commit(dir, "symlink", FIXED_TIME);
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	assert_int_equal(gitrepo_list_files(r, &c, &files, &err),
	    SATCHEL_EINVALID);
	assert_string_equal(err.msg,
	    "x/y/link: symbolic links are not allowed in a bundle");
	assert_null(files.v);
	assert_int_equal(files.n, 0);
	gitrepo_free(r);
	free(dir);
}

static void
test_list_files_refuses_submodule(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct gitrepo_files	 files = { NULL, 0 };
	struct error		 err = { 0, "" };
	char			*dir, *head;

	dir = fixture_repo("gitlink");
	sh("echo f > '%s/file'", dir);
	fixture_commit(dir, "one", FIXED_TIME);
	head = sh_out("git -C '%s' rev-parse HEAD", dir);
	sh("git -C '%s' update-index --add --cacheinfo 160000,%s,sub",
	    dir, head);
	sh("cd '%s' && git commit -q -m gitlink", dir);
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	assert_int_equal(gitrepo_list_files(r, &c, &files, &err),
	    SATCHEL_EINVALID);
	assert_string_equal(err.msg,
	    "sub: submodules are not allowed in a bundle");
	assert_null(files.v);
	gitrepo_free(r);
	free(head);
	free(dir);
}

static void
test_list_files_empty_tree(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct gitrepo_files	 files = { (void *)&files, 42 };
	struct error		 err = { 0, "" };
	char			*dir;

	dir = fixture_repo("empty");
	fixture_commit(dir, "nothing", FIXED_TIME);
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	assert_string_equal(c.tree,
	    "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
	assert_int_equal(gitrepo_list_files(r, &c, &files, &err), 0);
	assert_int_equal(files.n, 0);
	gitrepo_files_free(&files);
	gitrepo_free(r);
	free(dir);
}

static void
test_max_release_tag(void **state)
{
	struct gitrepo	*r;
	struct error	 err = { 0, "" };
	uint64_t	 max = 99;
	char		*dir;

	dir = fixture_repo("tags");
	fixture_commit(dir, "one", FIXED_TIME);
	r = open_ok(dir);
	assert_int_equal(gitrepo_max_release_tag(r, &max, &err), 0);
	assert_int_equal(max, 0);
	gitrepo_free(r);

	sh("cd '%s' && git tag satchel/1 && git tag -a -m three satchel/3 && "
	    "git tag satchel/x && git tag satchel/010 && git tag satchel/0 && "
	    "git tag satchel/9/1 && git tag satchel9 && git tag other/99 && "
	    "git branch satchel/50", dir);
	r = open_ok(dir);
	assert_int_equal(gitrepo_max_release_tag(r, &max, &err), 0);
	assert_int_equal(max, 3);
	gitrepo_free(r);

	/* Packed tags count too. */
	sh("cd '%s' && git tag satchel/7 && git pack-refs --all", dir);
	r = open_ok(dir);
	assert_int_equal(gitrepo_max_release_tag(r, &max, &err), 0);
	assert_int_equal(max, 7);
	gitrepo_free(r);
	free(dir);
}

/* c1 <- c2 (satchel/1) <- c3 <- c4 (satchel/3) <- c5 */
static char *
fixture_history(void)
{
	char	*dir = fixture_repo("history");
	int	 i;

	for (i = 1; i <= 5; i++) {
		sh("echo %d > '%s/f'", i, dir);
		fixture_commit(dir, i == 1 ? "c1" : i == 2 ? "c2" :
		    i == 3 ? "c3" : i == 4 ? "c4" : "c5",
		    FIXED_TIME + 100L * i);
		if (i == 2)
			sh("git -C '%s' tag satchel/1", dir);
		if (i == 4)
			sh("git -C '%s' tag -a -m r3 satchel/3", dir);
	}
	return dir;
}

static void
expect_changelog(struct gitrepo *r, const struct gitrepo_commit *c,
    uint64_t serial, size_t max, const char **want, size_t nwant)
{
	struct error	  err = { 0, "" };
	char		**v = NULL;
	size_t		  n = 99, i;
	int		  rc;

	rc = gitrepo_changelog(r, c, serial, max, &v, &n, &err);
	if (rc != 0)
		fail_msg("gitrepo_changelog: %d %s", rc, err.msg);
	assert_non_null(v);
	assert_int_equal(n, nwant);
	for (i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
	gitrepo_changelog_free(v, n);
}

static void
test_changelog_since_previous_tag(void **state)
{
	static const char	*all[] = { "c5", "c4", "c3", "c2", "c1" };
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	char			*dir;

	dir = fixture_history();
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	/* Below 4 the previous release is satchel/3 at c4. */
	expect_changelog(r, &c, 4, 100, all, 1);
	/* Below 3 (and 2) it is satchel/1 at c2. */
	expect_changelog(r, &c, 3, 100, all, 3);
	expect_changelog(r, &c, 2, 100, all, 3);
	/* Far above: still satchel/3. */
	expect_changelog(r, &c, 1000, 100, all, 1);
	/* No release below 1: the whole history, newest first. */
	expect_changelog(r, &c, 1, 100, all, 5);
	/* At most max entries, the newest ones. */
	expect_changelog(r, &c, 1, 2, all, 2);
	expect_changelog(r, &c, 1, 0, all, 0);
	/* From an older commit. */
	resolve_ok(r, "HEAD~2", &c);
	expect_changelog(r, &c, 3, 100, all + 2, 1);
	expect_changelog(r, &c, 1, 100, all + 2, 3);
	gitrepo_free(r);
	free(dir);
}

/* Newest first follows the graph, not the clock: a merge dated before
 * its parents still comes first; between the sides, the newer first. */
static void
test_changelog_topological_order(void **state)
{
	static const char	*want[] = { "merge", "late", "side", "base" };
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	char			*dir;

	dir = fixture_repo("topo");
	fixture_commit(dir, "base", FIXED_TIME);
	sh("git -C '%s' checkout -q -b side", dir);
	fixture_commit(dir, "side", FIXED_TIME + 100);
	sh("git -C '%s' checkout -q main", dir);
	fixture_commit(dir, "late", FIXED_TIME + 200);
	sh("cd '%s' && GIT_COMMITTER_DATE='%ld +0000' git merge -q "
	    "--no-ff -m merge side", dir, (long)FIXED_TIME + 50);
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	expect_changelog(r, &c, 1, 100, want, 4);
	gitrepo_free(r);
	free(dir);
}

static void
test_changelog_sanitizes_subject(void **state)
{
	static const char	*want[] = {
		"(no subject)",
		"caf\xc3\xa9 \xe4\xb8\x80 ok",
		"bad?byte?tab?c1?? end",
		"first line only",
	};
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	char			*dir;

	dir = fixture_repo("subjects");
	sh("cd '%s' && printf 'first line only\\nsecond line\\n' > m && "
	    "git commit -q --allow-empty -F m", dir);
	/* git commit would re-encode a stray byte as Latin-1, so write
	 * the commit object by hand. */
	sh("cd '%s' && { printf 'tree %%s\\nparent %%s\\n' "
	    "\"$(git rev-parse 'HEAD^{tree}')\" \"$(git rev-parse HEAD)\" && "
	    "printf 'author A <a@example.org> 1700000000 +0000\\n' && "
	    "printf 'committer A <a@example.org> 1700000000 +0000\\n\\n' && "
	    "printf 'bad\\377byte\\033tab\\tc1\\302\\205 end\\nbody\\n'; } > m "
	    "&& git update-ref HEAD \"$(git hash-object -t commit -w m)\"",
	    dir);
	sh("cd '%s' && printf 'caf\\303\\251 \\344\\270\\200 ok\\r\\n' > m && "
	    "git commit -q --allow-empty --cleanup=verbatim -F m", dir);
	sh("cd '%s' && git commit -q --allow-empty --allow-empty-message "
	    "-m ''", dir);
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	expect_changelog(r, &c, 1, 100, want, 4);
	gitrepo_free(r);
	free(dir);
}

static void
test_create_release_tag(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct error		 err = { 0, "" };
	uint64_t		 max;
	char			*dir, *s;

	dir = fixture_repo("mktag");
	fixture_commit(dir, "one", FIXED_TIME);
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	assert_int_equal(gitrepo_create_release_tag(r, &c, 4,
	    "Release 4\n", &err), 0);
	assert_int_equal(gitrepo_max_release_tag(r, &max, &err), 0);
	assert_int_equal(max, 4);

	assert_int_equal(gitrepo_create_release_tag(r, &c, 4,
	    "again\n", &err), SATCHEL_EEXISTS);
	assert_non_null(strstr(err.msg, "satchel/4"));
	assert_int_equal(gitrepo_create_release_tag(r, &c, 0,
	    "zero\n", &err), SATCHEL_EINVALID);
	gitrepo_free(r);

	/* Annotated, on the commit, with the fallback tagger. */
	s = sh_out("git -C '%s' cat-file -t satchel/4", dir);
	assert_string_equal(s, "tag");
	free(s);
	s = sh_out("git -C '%s' rev-parse 'satchel/4^{commit}'", dir);
	assert_string_equal(s, c.commit);
	free(s);
	s = sh_out("git -C '%s' cat-file tag satchel/4 | grep '^tagger '",
	    dir);
	assert_non_null(strstr(s, "tagger Satchel <satchel@localhost> "));
	free(s);
	s = sh_out("git -C '%s' tag -l --format='%%(contents:subject)' "
	    "satchel/4", dir);
	assert_string_equal(s, "Release 4");
	free(s);
	free(dir);
}

/* The intake's view: every release tag with the object it points at,
 * sorted by serial; an annotated tag's message and commit; a lightweight
 * tag, an over-long message and a tag on a tree refused. */
static void
test_release_tags_and_read_tag(void **state)
{
	struct gitrepo			*r;
	struct gitrepo_release_tags	 t;
	struct gitrepo_commit		 c, target;
	struct error			 err = { 0, "" };
	char				*dir, *s, *msg;
	size_t				 len;

	dir = fixture_repo("intake");
	fixture_commit(dir, "one", FIXED_TIME);
	r = open_ok(dir);
	assert_int_equal(gitrepo_release_tags(r, &t, &err), 0);
	assert_int_equal(t.n, 0);
	gitrepo_release_tags_free(&t);
	assert_int_equal(gitrepo_is_bare(r), 0);
	gitrepo_free(r);

	sh("cd '%s' && git tag -a -m 'ten' satchel/10 && git tag satchel/2 && "
	    "git tag -a -m 'x' satchel/x && git tag satchel/010 && "
	    "printf 'line one\\nend\\n' >m && git tag -a -F m satchel/3 && "
	    "git tag -a -m tree satchel/4 'HEAD^{tree}' && "
	    "head -c 5000 /dev/zero | tr '\\0' a >big && "
	    "git tag -a -F big satchel/5 && git pack-refs --all && "
	    "git clone -q --bare . ../bare-intake.git", dir);
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	assert_int_equal(gitrepo_release_tags(r, &t, &err), 0);
	assert_int_equal(t.n, 5);
	assert_int_equal(t.v[0].serial, 2);
	assert_int_equal(t.v[1].serial, 3);
	assert_int_equal(t.v[4].serial, 10);
	s = sh_out("git -C '%s' rev-parse satchel/2", dir);
	assert_string_equal(t.v[0].oid, s);	/* the commit itself */
	free(s);
	s = sh_out("git -C '%s' rev-parse satchel/3", dir);
	assert_string_equal(t.v[1].oid, s);	/* the tag object */
	free(s);

	assert_int_equal(gitrepo_read_tag(r, t.v[1].oid, 4096, &msg, &len,
	    &target, &err), 0);
	assert_string_equal(msg, "line one\nend\n");
	assert_int_equal(len, 13);
	assert_string_equal(target.commit, c.commit);
	assert_string_equal(target.tree, c.tree);
	free(msg);

	assert_int_equal(gitrepo_read_tag(r, t.v[0].oid, 4096, &msg, &len,
	    &target, &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "not an annotated tag"));
	assert_null(msg);
	assert_int_equal(gitrepo_read_tag(r, t.v[2].oid, 4096, &msg, &len,
	    &target, &err), SATCHEL_EINVALID);
	assert_non_null(strstr(err.msg, "not a commit"));
	/* Over the limit: refused from the header (5000 > 100 + 4096)... */
	assert_int_equal(gitrepo_read_tag(r, t.v[3].oid, 100, &msg, &len,
	    &target, &err), SATCHEL_ELIMIT);
	/* ...or from the message itself. */
	assert_int_equal(gitrepo_read_tag(r, t.v[3].oid, 4999, &msg, &len,
	    &target, &err), SATCHEL_ELIMIT);
	assert_non_null(strstr(err.msg, "over the limit of 4999"));
	assert_int_equal(gitrepo_read_tag(r, "nothex", 4096, &msg, &len,
	    &target, &err), SATCHEL_EINVALID);
	gitrepo_release_tags_free(&t);
	gitrepo_free(r);

	s = xasprintf("%s/../bare-intake.git", dir);
	r = open_ok(s);
	assert_int_equal(gitrepo_is_bare(r), 1);
	assert_int_equal(gitrepo_release_tags(r, &t, &err), 0);
	assert_int_equal(t.n, 5);
	gitrepo_release_tags_free(&t);
	gitrepo_free(r);
	free(s);
	free(dir);
}

static void
test_create_release_tag_configured_user(void **state)
{
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct error		 err = { 0, "" };
	char			*dir, *s;

	dir = fixture_repo("mktaguser");
	fixture_commit(dir, "one", FIXED_TIME);
	sh("git -C '%s' config user.name 'Rel Eng' && "
	    "git -C '%s' config user.email releng@example.org", dir, dir);
	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	assert_int_equal(gitrepo_create_release_tag(r, &c, 1, "r1\n", &err),
	    0);
	gitrepo_free(r);
	s = sh_out("git -C '%s' cat-file tag satchel/1 | grep '^tagger '",
	    dir);
	assert_non_null(strstr(s, "tagger Rel Eng <releng@example.org> "));
	free(s);
	free(dir);
}

static void
test_init_commit(void **state)
{
	static const char	*want[] = {
		"index.html", "lessons/\xe4\xb8\x80/page.html", "run.sh",
	};
	struct gitrepo		*r;
	struct gitrepo_commit	 c;
	struct gitrepo_files	 files;
	struct error		 err = { 0, "" };
	char			*dir, *s;
	size_t			 i;

	dir = fixture_dir("plain");
	sh("cd '%s' && mkdir -p 'lessons/一' && echo '<h1>' > index.html && "
	    "echo page > 'lessons/一/page.html' && "
	    "printf '#!/bin/sh\\n' > run.sh && chmod +x run.sh", dir);
	assert_int_equal(gitrepo_init_commit(dir, "Initial import\n", &err),
	    0);

	r = open_ok(dir);
	resolve_ok(r, "HEAD", &c);
	assert_int_equal(gitrepo_list_files(r, &c, &files, &err), 0);
	assert_int_equal(files.n, 3);
	for (i = 0; i < files.n; i++)
		assert_string_equal(files.v[i].path, want[i]);
	assert_int_equal(files.v[0].mode, 0644);
	assert_int_equal(files.v[2].mode, 0755);
	assert_int_equal(files.v[0].size, 5);
	gitrepo_files_free(&files);
	gitrepo_free(r);

	s = sh_out("git -C '%s' log --format=%%s", dir);
	assert_string_equal(s, "Initial import");
	free(s);
	s = sh_out("git -C '%s' log --format='%%an <%%ae>|%%cn <%%ce>'", dir);
	assert_string_equal(s,
	    "Satchel <satchel@localhost>|Satchel <satchel@localhost>");
	free(s);
	s = sh_out("git -C '%s' rev-list --count HEAD", dir);
	assert_string_equal(s, "1");
	free(s);
	/* The work tree is clean: the index was written. */
	s = sh_out("git -C '%s' status --porcelain | wc -l", dir);
	assert_string_equal(s, "0");
	free(s);
	free(dir);
}

/* init.defaultBranch from the user's configuration names the branch. */
static void
test_init_commit_default_branch(void **state)
{
	struct error	 err = { 0, "" };
	char		*dir, *s, *cfg;

	cfg = xasprintf("%s/.gitconfig", test_base);
	sh("git config -f '%s' init.defaultBranch trunk", cfg);
	dir = fixture_dir("branch");
	sh("echo x > '%s/x'", dir);
	assert_int_equal(gitrepo_init_commit(dir, "import\n", &err), 0);
	sh("rm -f '%s'", cfg);
	s = sh_out("git -C '%s' symbolic-ref HEAD", dir);
	assert_string_equal(s, "refs/heads/trunk");
	free(s);
	free(dir);
	free(cfg);
}

static void
test_init_commit_refuses_repository(void **state)
{
	struct error	 err = { 0, "" };
	char		*dir, *s, *missing;

	dir = fixture_dir("twice");
	sh("echo x > '%s/x'", dir);
	assert_int_equal(gitrepo_init_commit(dir, "first\n", &err), 0);
	sh("echo y > '%s/y'", dir);
	assert_int_equal(gitrepo_init_commit(dir, "second\n", &err),
	    SATCHEL_EEXISTS);
	assert_non_null(strstr(err.msg, dir));
	s = sh_out("git -C '%s' rev-list --count HEAD", dir);
	assert_string_equal(s, "1");
	free(s);
	free(dir);

	/* An existing repository made by git itself. */
	dir = fixture_repo("existing");
	assert_int_equal(gitrepo_init_commit(dir, "x\n", &err),
	    SATCHEL_EEXISTS);
	free(dir);

	missing = xasprintf("%s/no-such-dir", test_base);
	assert_int_equal(gitrepo_init_commit(missing, "x\n", &err),
	    SATCHEL_ENOTFOUND);
	assert_non_null(strstr(err.msg, missing));
	assert_int_equal(access(missing, F_OK), -1);
	free(missing);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_open_missing_path),
		cmocka_unit_test(test_stream_loose_packed_delta),
		cmocka_unit_test(test_stream_truncated_loose),
		cmocka_unit_test(test_open_does_not_search_parents),
		cmocka_unit_test(test_open_bare_repository),
		cmocka_unit_test(test_resolve_head_and_branch),
		cmocka_unit_test(test_resolve_annotated_tag_peels),
		cmocka_unit_test(test_resolve_bad_rev),
		cmocka_unit_test(test_resolve_unborn_head),
		cmocka_unit_test(test_resolve_tree_is_invalid),
		cmocka_unit_test(test_list_files_sorted_bytewise),
		cmocka_unit_test(test_read_blob),
		cmocka_unit_test(test_list_files_refuses_symlink),
		cmocka_unit_test(test_list_files_refuses_submodule),
		cmocka_unit_test(test_list_files_empty_tree),
		cmocka_unit_test(test_max_release_tag),
		cmocka_unit_test(test_changelog_since_previous_tag),
		cmocka_unit_test(test_changelog_topological_order),
		cmocka_unit_test(test_changelog_sanitizes_subject),
		cmocka_unit_test(test_create_release_tag),
		cmocka_unit_test(test_create_release_tag_configured_user),
		cmocka_unit_test(test_release_tags_and_read_tag),
		cmocka_unit_test(test_init_commit),
		cmocka_unit_test(test_init_commit_default_branch),
		cmocka_unit_test(test_init_commit_refuses_repository),
	};

	return cmocka_run_group_tests_name("git", tests, setup, teardown);
}
