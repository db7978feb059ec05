/*
 * path.c owns the rule for paths inside a bundle. Everything that turns
 * a name from outside (a git tree, an archive entry, a manifest line)
 * into a bundle path goes through path_check.
 */
#include <stdio.h>
#include <string.h>

#include "path.h"
#include "util.h"

/* Why so careful: the bytes come from untrusted archives and manifests
 * and end up on terminals and in logs, so only complete, valid, printable
 * UTF-8 characters are copied; every other byte is shown as \xNN, and a
 * character is never cut in half. */
void
path_escape(char *out, size_t outsize, const char *s, size_t len)
{
	size_t	i = 0, o = 0, n, lim;

	if (outsize == 0)
		return;
	lim = outsize > 4 ? outsize - 4 : 0;	/* room for "..." and NUL */
	while (i < len && i < 200) {
		unsigned char	c = (unsigned char)s[i];

		if (c >= 0xf0)
			n = 4;
		else if (c >= 0xe0)
			n = 3;
		else if (c >= 0xc0)
			n = 2;
		else
			n = 1;
		if (n > 1 && i + n <= len && i + n <= 200 &&
		    utf8_valid_text(s + i, n)) {
			if (o + n > lim)
				break;
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		if (n > 1 && i + n <= len && i + n > 200 &&
		    utf8_valid_text(s + i, n))
			break;		/* would cut this character */
		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"') {
			if (o + 4 > lim)
				break;
			o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", c);
		} else {
			if (o + 1 > lim)
				break;
			out[o++] = (char)c;
		}
		i++;
	}
	if (i < len && o + 4 <= outsize) {	/* cut short: say so */
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Why each rule: "..", absolute paths and backslashes could escape the
 * target directory on some system that unpacks the bundle; empty and "."
 * components give one file two names; control characters and broken
 * UTF-8 could forge manifest lines or fool a terminal. */
int
path_check(const char *path, size_t len, struct error *err)
{
	char		 shown[256 * 4 + 8];
	const char	*why = NULL, *p, *end = path + len, *slash;

	path_escape(shown, sizeof shown, path, len);
	if (len == 0)
		why = "empty path";
	else if (len > PATH_MAX_LEN)
		why = "path longer than 4096 bytes";
	else if (memchr(path, '\0', len) != NULL)
		why = "NUL byte in path";
	else if (!utf8_valid_text(path, len))
		why = "path is not valid UTF-8 or contains control characters";
	else if (path[0] == '/')
		why = "absolute path";
	else if (memchr(path, '\\', len) != NULL)
		why = "backslash in path";
	if (why != NULL)
		return error_set(err, SATCHEL_EINVALID, "\"%s\": %s", shown, why);
	for (p = path; p <= end; p = slash + 1) {
		size_t	n;

		if ((slash = memchr(p, '/', (size_t)(end - p))) == NULL)
			slash = end;
		n = (size_t)(slash - p);
		if (n == 0)
			why = "empty path component";
		else if (n == 1 && p[0] == '.')
			why = "\".\" component";
		else if (n == 2 && p[0] == '.' && p[1] == '.')
			why = "\"..\" component";
		else if (n > PATH_COMPONENT_MAX)
			why = "path component longer than 255 bytes";
		if (why != NULL)
			return error_set(err, SATCHEL_EINVALID, "\"%s\": %s", shown, why);
		if (slash == end)
			break;
	}
	return 0;
}
