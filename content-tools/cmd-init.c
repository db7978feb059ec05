/* cmd-init.c: `satchel init`, a new bundle repository with one lesson. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle-conf.h"
#include "fsutil.h"
#include "git.h"
#include "manifest.h"
#include "satchel.h"
#include "util.h"

static const char init_lesson_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Welcome</title>\n"
    "</head>\n"
    "<body>\n"
    "<main>\n"
    "<h1>Welcome</h1>\n"
    "<p>This is the first lesson of a new bundle. Edit this page, add lessons\n"
    "under <code>lessons/</code>, commit, and run <code>satchel build</code>.</p>\n"
    "</main>\n"
    "</body>\n"
    "</html>\n";

static int
init_write(const char *dir, const char *rel, const char *text, struct error *err)
{
	char	*p = xasprintf("%s/%s", dir, rel);
	int	 rc = file_write_atomic(p, text, strlen(text), 0644, err);

	free(p);
	return rc;
}

static int
cmd_init(const struct satchel_cmd *cmd, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "name",	required_argument,	NULL,	'n' },
		{ "title",	required_argument,	NULL,	't' },
		CMD_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct bundle_conf		 check;
	struct error			 err;
	const char			*name = NULL, *title = NULL, *dir;
	char				*base = NULL, *conf = NULL, *p;
	int				 opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "n:t:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			name = optarg;
			break;
		case 't':
			title = optarg;
			break;
		default:
			return cmd_common_option(cmd, opt);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, "expected one DIR");
	dir = argv[optind];
	p = xstrdup(dir);
	base = xstrdup(basename(p));
	free(p);
	if (name == NULL)
		name = base;
	if (bundle_name_check(name) != 0) {
		rc = cmd_usage_error(cmd, "\"%s\" is not a valid bundle name "
		    "(1-63 of a-z, 0-9 and '-'); choose one with --name", name);
		goto out;
	}
	if (title == NULL)
		title = name;
	switch (dir_is_empty(dir)) {
	case 0:
		error_set(&err, SATCHEL_EEXISTS, "%s: exists and is not empty", dir);
		rc = cmd_fail(&err);
		goto out;
	case -1:
		error_set(&err, SATCHEL_ERR, "%s: %s", dir, strerror(errno));
		rc = cmd_fail(&err);
		goto out;
	}
	conf = xasprintf(
	    "# Bundle metadata: see `satchel build --help` for every field.\n"
	    "name = %s\n"
	    "serial = 1\n"
	    "label = 0.1\n"
	    "title = %s\n"
	    "language = en\n"
	    "license = CC-BY-4.0\n"
	    "summary = A new Satchel bundle.\n", name, title);
	/* Validate what we are about to write, e.g. a title with a newline. */
	if (bundle_conf_parse(&check, conf, strlen(conf), "bundle.conf", &err) != 0) {
		rc = cmd_fail(&err);
		goto out;
	}
	bundle_conf_free(&check);
	{
		static const char	*sub[] = { "", "/lessons", "/lessons/01-welcome" };
		size_t			 i;

		for (i = 0; i < 3; i++) {
			p = xasprintf("%s%s", dir, sub[i]);
			if (mkdir(p, 0777) == -1 && !(i == 0 && errno == EEXIST)) {
				error_set(&err, SATCHEL_ERR, "%s: %s", p, strerror(errno));
				free(p);
				rc = cmd_fail(&err);
				goto out;
			}
			free(p);
		}
	}
	if (init_write(dir, "bundle.conf", conf, &err) != 0 ||
	    init_write(dir, "lessons/01-welcome/lesson.conf",
	    "title = Welcome\nentry = index.html\nminutes = 5\n", &err) != 0 ||
	    init_write(dir, "lessons/01-welcome/index.html", init_lesson_html, &err) != 0 ||
	    gitrepo_init_commit(dir, "Start the bundle", &err) != 0) {
		rc = cmd_fail(&err);
		goto out;
	}
	printf("Initialized bundle \"%s\" in %s\n", name, dir);
	rc = 0;
out:
	free(conf);
	free(base);
	return rc;
}

const struct satchel_cmd cmd_init_entry = {
	"init",
	"create a new bundle repository",
	"usage: satchel init [--name NAME] [--title TITLE] DIR\n"
	"\n"
	"Creates DIR (which must not exist or must be empty) as a new git\n"
	"repository holding a valid bundle.conf and one sample lesson under\n"
	"lessons/01-welcome/, and records an initial commit. Edit, commit, then\n"
	"run `satchel build` in DIR.\n"
	"\n"
	"Options:\n"
	"  -n, --name NAME     the bundle name (default: DIR's last component);\n"
	"                      1-63 of a-z, 0-9 and '-'\n"
	"  -t, --title TITLE   the bundle title (default: the name)\n"
	"  -h, --help          show this help\n"
	"  -V, --version       show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n",
	cmd_init
};
