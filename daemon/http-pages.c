/*
 * http-pages.c: the learners' pages, rendered on the server: the library
 * (cards, filters, search), a bundle's page, error pages, and the one CSS
 * file. Plain semantic HTML that works without JavaScript on a 360 px
 * phone: a skip link, a language switch, labelled form controls, lang
 * attributes on every piece of text whose language differs from the
 * page's, and colours chosen for WCAG 2.1 AA contrast.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "http-priv.h"

/* --- the interface's text --- */

static const char *msgs[M_COUNT][2] = {	/* en, zh */
	[M_LIBRARY] = { "Library", "图书馆" },
	[M_SEARCH] = { "Search", "搜索" },
	[M_SEARCH_LABEL] = { "Search lessons", "搜索课程" },
	[M_LANGUAGE] = { "Language", "语言" },
	[M_SUBJECT] = { "Subject", "科目" },
	[M_AUDIENCE] = { "Audience", "适用对象" },
	[M_ANY] = { "Any", "全部" },
	[M_FILTER] = { "Show", "筛选" },
	[M_LESSONS] = { "Lessons", "课程" },
	[M_MINUTES] = { "min", "分钟" },
	[M_SIZE] = { "Size", "大小" },
	[M_DOWNLOAD_BUNDLE] = { "Download the whole bundle",
	    "下载整个课程包" },
	[M_DOWNLOAD_LESSON] = { "Download this lesson (.zip)",
	    "下载本课（.zip）" },
	[M_OPEN_LESSON] = { "Open", "打开" },
	[M_CHANGELOG] = { "What is new in this release", "本版更新" },
	[M_NO_BUNDLES] = { "There are no bundles in this library yet.",
	    "图书馆里还没有课程包。" },
	[M_NO_MATCH] = { "Nothing matches. Try fewer or other words.",
	    "没有找到匹配的内容，请换个词或减少条件再试。" },
	[M_RESULTS_FOR] = { "Results for", "搜索结果：" },
	[M_BACK] = { "Back to the library", "返回图书馆" },
	[M_RELEASE] = { "Release", "版本" },
	[M_LICENSE] = { "Licence", "许可" },
	[M_AUTHORS] = { "Authors", "作者" },
	[M_LEVEL] = { "Level", "程度" },
	[M_SWITCH] = { "Language of this site", "网站语言" },
	[M_NOT_FOUND] = { "There is nothing at this address.",
	    "这个地址没有内容。" },
	[M_BAD_REQUEST] = { "This address is not one the library can read.",
	    "图书馆无法识别这个地址。" },
	[M_METHOD] = { "The library only answers GET and HEAD.",
	    "图书馆只接受 GET 和 HEAD 请求。" },
	[M_TOO_LARGE] = { "The request is too large.", "请求太大。" },
	[M_RANGE] = { "The requested range is past the end of the file.",
	    "请求的范围超出了文件末尾。" },
	[M_SERVER_ERROR] = { "Something went wrong on the server; it has "
	    "been logged. Please try again later.",
	    "服务器出错了，已记录。请稍后再试。" },
	[M_UNAVAILABLE] = { "The library is not available right now.",
	    "图书馆暂时无法使用。" },
	[M_MATCHING_LESSONS] = { "Matching lessons", "匹配的课程" },
	[M_SKIP] = { "Skip to the content", "跳到正文" },
};

const char *
http_msg(const struct http_ctx *c, enum http_msg m)
{
	return msgs[m][strcmp(c->lang, "zh") == 0];
}

/* --- escaping --- */

void
html_add(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&': buf_addstr(b, "&amp;"); break;
		case '<': buf_addstr(b, "&lt;"); break;
		case '>': buf_addstr(b, "&gt;"); break;
		case '"': buf_addstr(b, "&quot;"); break;
		case '\'': buf_addstr(b, "&#39;"); break;
		default: buf_addc(b, *s);
		}
}

void
xml_add(struct buf *b, const char *s)
{
	html_add(b, s);
}

void
url_add(struct buf *b, const char *s)
{
	static const char	hex[] = "0123456789ABCDEF";
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL)
			buf_addc(b, (char)*p);
		else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 15]);
		}
	}
}

/* A size for people. A no-break space (U+00A0) keeps "23.1 kB" on one
 * line of a narrow screen. */
#define NBSP	"\xc2\xa0"
void
size_add(struct buf *b, uint64_t n)
{
	if (n < 1000)
		buf_printf(b, "%llu" NBSP "B", (unsigned long long)n);
	else if (n < 1000000)
		buf_printf(b, "%.1f" NBSP "kB", (double)n / 1e3);
	else if (n < 1000000000)
		buf_printf(b, "%.1f" NBSP "MB", (double)n / 1e6);
	else
		buf_printf(b, "%.2f" NBSP "GB", (double)n / 1e9);
}

/* --- the bundle's own text --- */

const char *
lib_text(const struct http_ctx *c, const struct meta *m, const char *key)
{
	return meta_get_lang(m, key, c->lang);
}

/*
 * The language a value of key is written in: LANG for key.LANG; for the
 * unsuffixed default, the first of the bundle's languages that has no
 * variant of its own (a bundle in "zh en" with title.zh has its English
 * title unsuffixed). NULL when unknown.
 */
static const char *
text_lang(const struct http_ctx *c, const struct meta *m, const char *key,
    const struct lib_bundle *b)
{
	char		 k[64];
	size_t		 i;
	const char	*v = meta_get(m, key), *p;
	int		 variants = 0;

	snprintf(k, sizeof k, "%s.%s", key, c->lang);
	if (meta_get(m, k) != NULL)
		return c->lang;
	for (i = 0; i < m->n; i++)
		if (strncmp(m->v[i].key, key, strlen(key)) == 0 &&
		    m->v[i].key[strlen(key)] == '.')
			variants = 1;
	/* A field nobody translates ("level = beginner", a licence id) is
	 * a keyword: in ASCII, it reads as English. */
	if (!variants && v != NULL) {
		for (p = v; *p != '\0' && (unsigned char)*p < 0x80; p++)
			;
		if (*p == '\0')
			return "en";
	}
	for (i = 0; i < b->nlanguages; i++) {
		snprintf(k, sizeof k, "%s.%s", key, b->languages[i]);
		if (meta_get(m, k) == NULL)
			return b->languages[i];
	}
	return b->nlanguages > 0 ? b->languages[0] : NULL;
}

/* Opens an element with a lang attribute when its text's language is
 * not the page's. Returns the element's language. */
static const char *
open_lang(struct buf *b, const struct http_ctx *c, const char *tag,
    const char *attrs, const char *lang)
{
	buf_printf(b, "<%s%s%s", tag, attrs != NULL ? " " : "",
	    attrs != NULL ? attrs : "");
	if (lang != NULL && strcmp(lang, c->lang) != 0) {
		buf_addstr(b, " lang=\"");
		html_add(b, lang);
		buf_addc(b, '"');
	}
	buf_addc(b, '>');
	return lang != NULL ? lang : c->lang;
}

/*
 * The length of the UTF-8 character at s when it is Chinese: an ideograph,
 * a radical, CJK punctuation or a full-width form; else 0.
 */
static size_t
han_len(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned		 cp;

	if (p[0] >= 0xe0 && p[0] <= 0xef && (p[1] & 0xc0) == 0x80 &&
	    (p[2] & 0xc0) == 0x80) {
		cp = (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
		if ((cp >= 0x2e80 && cp <= 0x2fdf) ||
		    (cp >= 0x3000 && cp <= 0x303f) ||
		    (cp >= 0x3400 && cp <= 0x4dbf) ||
		    (cp >= 0x4e00 && cp <= 0x9fff) ||
		    (cp >= 0xf900 && cp <= 0xfaff) ||
		    (cp >= 0xff00 && cp <= 0xffef))
			return 3;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4 && (p[1] & 0xc0) == 0x80 &&
	    (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80) {
		cp = (p[0] & 0x07u) << 18 | (p[1] & 0x3fu) << 12 |
		    (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu);
		if (cp >= 0x20000 && cp <= 0x3134f)	/* extensions B-G */
			return 4;
	}
	return 0;
}

/*
 * Text inside an element in language lang. A bundle's English text may
 * quote Chinese ("the eight strokes of the character 永"), and a search
 * for Chinese words is echoed on an English page: each run of Chinese
 * in text that is not Chinese gets <span lang="zh">, so that a screen
 * reader speaks it in Chinese (WCAG 2.1 3.1.2, language of parts).
 */
static void
text_add(struct buf *b, const char *s, const char *lang)
{
	char	one[2] = { 0 };
	size_t	n;
	int	in = 0;

	if (strncmp(lang, "zh", 2) == 0 && (lang[2] == '\0' || lang[2] == '-')) {
		html_add(b, s);
		return;
	}
	while (*s != '\0') {
		if ((n = han_len(s)) > 0) {
			if (!in)
				buf_addstr(b, "<span lang=\"zh\">");
			in = 1;
			buf_add(b, s, n);	/* nothing to escape */
			s += n;
			continue;
		}
		if (in)
			buf_addstr(b, "</span>");
		in = 0;
		one[0] = *s++;
		html_add(b, one);
	}
	if (in)
		buf_addstr(b, "</span>");
}

static const char *
language_name(const char *code)
{
	if (strcmp(code, "zh") == 0)
		return "中文";
	if (strcmp(code, "en") == 0)
		return "English";
	return code;
}

/* --- page frame --- */

/* The language switch's link: this page, its search and filters kept,
 * in language hl. */
static void
switch_href(const struct http_ctx *c, struct buf *b, const char *hl)
{
	const struct evkeyval	*kv;

	buf_addc(b, '?');
	TAILQ_FOREACH(kv, &c->query, next) {
		if (strcmp(kv->key, "hl") == 0)
			continue;
		url_add(b, kv->key);
		buf_addc(b, '=');
		url_add(b, kv->value);
		buf_addstr(b, "&amp;");
	}
	buf_printf(b, "hl=%s", hl);
}

static void
page_start(struct http_ctx *c, struct buf *b, const char *title)
{
	buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>", c->lang);
	html_add(b, title);
	buf_printf(b, "</title>\n<link rel=\"stylesheet\" "
	    "href=\"/static/satchel.css?v=%.16s\">\n"
	    "<link rel=\"alternate\" type=\"application/atom+xml;"
	    "profile=opds-catalog;kind=acquisition\" href=\"/opds\" "
	    "title=\"OPDS\">\n</head>\n<body>\n"
	    "<a class=\"skip\" href=\"#main\">%s</a>\n<header class=\"top\">\n"
	    "<p class=\"site\"><a href=\"/%s\">%s</a></p>\n"
	    "<nav aria-label=\"%s\" class=\"langs\"><ul>\n",
	    http_css_etag + 1, http_msg(c, M_SKIP),
	    c->lang_forced ? (strcmp(c->lang, "zh") == 0 ? "?hl=zh" :
	    "?hl=en") : "", http_msg(c, M_LIBRARY), http_msg(c, M_SWITCH));
	buf_addstr(b, "<li><a href=\"");
	switch_href(c, b, "zh");
	buf_printf(b, "\" lang=\"zh\" hreflang=\"zh\"%s>中文</a></li>\n",
	    strcmp(c->lang, "zh") == 0 ? " aria-current=\"true\"" : "");
	buf_addstr(b, "<li><a href=\"");
	switch_href(c, b, "en");
	buf_printf(b, "\" lang=\"en\" hreflang=\"en\"%s>English</a></li>\n",
	    strcmp(c->lang, "en") == 0 ? " aria-current=\"true\"" : "");
	buf_addstr(b, "</ul></nav>\n</header>\n<main id=\"main\">\n");
}

static void
page_end(struct buf *b)
{
	buf_addstr(b, "</main>\n<footer class=\"foot\"><p>Satchel · "
	    "<a href=\"/opds\">OPDS</a> · <a href=\"/api/v1/catalog\">API</a>"
	    "</p></footer>\n</body>\n</html>\n");
}

/* A link keeping the interface language the learner chose. */
static void
hl_suffix(const struct http_ctx *c, struct buf *b, char sep)
{
	if (c->lang_forced)
		buf_printf(b, "%chl=%s", sep, c->lang);
}

/* --- the library --- */

struct choices {
	char	**v;
	size_t	  n;
};

static void
choice_add(struct choices *ch, const char *s)
{
	size_t	i;

	for (i = 0; i < ch->n; i++)
		if (strcmp(ch->v[i], s) == 0)
			return;
	ch->v = xreallocarray(ch->v, ch->n + 1, sizeof *ch->v);
	ch->v[ch->n++] = (char *)s;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
select_add(struct http_ctx *c, struct buf *b, const char *id,
    enum http_msg label, struct choices *ch, int languages)
{
	const char	*cur = http_param(c, id);
	size_t		 i;

	qsort(ch->v, ch->n, sizeof *ch->v, str_cmp);
	buf_printf(b, "<div class=\"field\"><label for=\"%s\">%s</label>\n"
	    "<select id=\"%s\" name=\"%s\">\n<option value=\"\">%s</option>\n",
	    id, http_msg(c, label), id, id, http_msg(c, M_ANY));
	for (i = 0; i < ch->n; i++) {
		buf_addstr(b, "<option value=\"");
		html_add(b, ch->v[i]);
		buf_addc(b, '"');
		if (cur != NULL && strcmp(cur, ch->v[i]) == 0)
			buf_addstr(b, " selected");
		if (languages) {
			buf_addstr(b, " lang=\"");
			html_add(b, ch->v[i]);
			buf_addc(b, '"');
		}
		buf_addc(b, '>');
		html_add(b, languages ? language_name(ch->v[i]) : ch->v[i]);
		buf_addstr(b, "</option>\n");
	}
	buf_addstr(b, "</select></div>\n");
	free(ch->v);
}

static int
lesson_matches(const struct manifest_lesson *ml, const char *q)
{
	size_t	i;
	char	*f;
	int	 hit = 0;

	for (i = 0; i < ml->meta.n && !hit; i++) {
		if (strncmp(ml->meta.v[i].key, "title", 5) != 0 &&
		    strncmp(ml->meta.v[i].key, "summary", 7) != 0)
			continue;
		f = library_fold(ml->meta.v[i].value);
		hit = strstr(f, q) != NULL;
		free(f);
	}
	return hit;
}

/* A fact that is a list of bundle.conf's keywords (subjects, audiences):
 * English words whatever the page's language, the same on a card and on
 * the bundle's page. */
static void
words_add(struct http_ctx *c, struct buf *b, enum http_msg label,
    char *const *w, size_t n)
{
	size_t	i;

	if (n == 0)
		return;
	buf_printf(b, "<div><dt>%s</dt><dd lang=\"en\">", http_msg(c, label));
	for (i = 0; i < n; i++) {
		buf_addstr(b, i > 0 ? ", " : "");
		html_add(b, w[i]);
	}
	buf_addstr(b, "</dd></div>\n");
}

static void
card_add(struct http_ctx *c, struct buf *b, const struct lib_bundle *lb,
    const char *q)
{
	const struct lib_release	*r = &lb->releases[0];
	const struct meta		*m = &r->m->meta;
	const char			*title = lib_text(c, m, "title");
	const char			*summary = lib_text(c, m, "summary");
	const char			*tl;
	size_t				 i, nhit = 0;

	buf_addstr(b, "<li class=\"card\"><article>\n");
	tl = open_lang(b, c, "h2", NULL, text_lang(c, m, "title", lb));
	buf_addstr(b, "<a href=\"/bundle/");
	url_add(b, lb->name);
	hl_suffix(c, b, '?');
	buf_addstr(b, "\">");
	text_add(b, title != NULL ? title : lb->name, tl);
	buf_addstr(b, "</a></h2>\n");
	if (summary != NULL) {
		tl = open_lang(b, c, "p", "class=\"summary\"",
		    text_lang(c, m, "summary", lb));
		text_add(b, summary, tl);
		buf_addstr(b, "</p>\n");
	}
	buf_addstr(b, "<dl class=\"facts\">\n");
	if (lb->nlanguages > 0) {
		buf_printf(b, "<div><dt>%s</dt><dd>", http_msg(c, M_LANGUAGE));
		for (i = 0; i < lb->nlanguages; i++) {
			buf_printf(b, "%s<span lang=\"", i > 0 ? ", " : "");
			html_add(b, lb->languages[i]);
			buf_addstr(b, "\">");
			html_add(b, language_name(lb->languages[i]));
			buf_addstr(b, "</span>");
		}
		buf_addstr(b, "</dd></div>\n");
	}
	words_add(c, b, M_SUBJECT, lb->subjects, lb->nsubjects);
	words_add(c, b, M_AUDIENCE, lb->audiences, lb->naudiences);
	buf_printf(b, "<div><dt>%s</dt><dd>%zu</dd></div>\n",
	    http_msg(c, M_LESSONS), r->nlessons);
	buf_printf(b, "<div><dt>%s</dt><dd>", http_msg(c, M_SIZE));
	size_add(b, r->m->total_size);
	buf_addstr(b, "</dd></div>\n</dl>\n");
	if (q != NULL) {
		for (i = 0; i < r->nlessons; i++) {
			const struct lib_lesson	*l = &r->lessons[i];
			const char		*lt;

			if (!lesson_matches(l->ml, q))
				continue;
			if (nhit++ == 0)
				buf_printf(b, "<p class=\"hits\">%s:</p>\n<ul "
				    "class=\"hits\">\n",
				    http_msg(c, M_MATCHING_LESSONS));
			lt = lib_text(c, &l->ml->meta, "title");
			tl = open_lang(b, c, "li", NULL,
			    text_lang(c, &l->ml->meta, "title", lb));
			buf_printf(b, "<a href=\"/b/");
			url_add(b, lb->name);
			buf_printf(b, "@%llu/", (unsigned long long)r->serial);
			url_add(b, l->entry);
			buf_addstr(b, "\">");
			text_add(b, lt != NULL ? lt : l->id, tl);
			buf_addstr(b, "</a></li>\n");
		}
		if (nhit > 0)
			buf_addstr(b, "</ul>\n");
	}
	buf_addstr(b, "</article></li>\n");
}

void
http_page_library(struct http_ctx *c)
{
	const struct library	*lib = c->lib;
	const struct lib_bundle	*lb;
	const char		*qraw = http_param(c, "q");
	const char		*flang = http_param(c, "language");
	const char		*fsub = http_param(c, "subject");
	const char		*faud = http_param(c, "audience");
	struct choices		 langs = { 0 }, subs = { 0 }, auds = { 0 };
	struct buf		 b, cards;
	char			*q = NULL;
	size_t			 i, j, shown = 0;

	if (qraw != NULL && (strlen(qraw) > HTTP_QUERY_MAX ||
	    !utf8_valid_text(qraw, strlen(qraw)))) {
		http_error(c, 400, "The search is too long or not UTF-8 text.");
		return;
	}
	if (qraw != NULL)
		q = library_fold(qraw);
	buf_init(&b);
	buf_init(&cards);
	for (i = 0; i < lib->n; i++) {
		lb = &lib->v[i];
		for (j = 0; j < lb->nlanguages; j++)
			choice_add(&langs, lb->languages[j]);
		for (j = 0; j < lb->nsubjects; j++)
			choice_add(&subs, lb->subjects[j]);
		for (j = 0; j < lb->naudiences; j++)
			choice_add(&auds, lb->audiences[j]);
		if (flang != NULL && !library_has_word(lb->languages,
		    lb->nlanguages, flang))
			continue;
		if (fsub != NULL && !library_has_word(lb->subjects,
		    lb->nsubjects, fsub))
			continue;
		if (faud != NULL && !library_has_word(lb->audiences,
		    lb->naudiences, faud))
			continue;
		if (q != NULL && !library_match(lb->haystack, q))
			continue;
		card_add(c, &cards, lb, q);
		shown++;
	}
	page_start(c, &b, http_msg(c, M_LIBRARY));
	buf_printf(&b, "<h1>%s</h1>\n<form class=\"search\" role=\"search\" "
	    "method=\"get\" action=\"/\">\n<div class=\"field wide\"><label "
	    "for=\"q\">%s</label>\n<input id=\"q\" name=\"q\" type=\"search\" "
	    "maxlength=\"%d\" value=\"", http_msg(c, M_LIBRARY),
	    http_msg(c, M_SEARCH_LABEL), HTTP_QUERY_MAX);
	if (qraw != NULL)
		html_add(&b, qraw);
	buf_addstr(&b, "\"></div>\n");
	select_add(c, &b, "language", M_LANGUAGE, &langs, 1);
	select_add(c, &b, "subject", M_SUBJECT, &subs, 0);
	select_add(c, &b, "audience", M_AUDIENCE, &auds, 0);
	if (c->lang_forced)
		buf_printf(&b, "<input type=\"hidden\" name=\"hl\" "
		    "value=\"%s\">\n", c->lang);
	buf_printf(&b, "<button type=\"submit\">%s</button>\n</form>\n",
	    http_msg(c, M_SEARCH));
	if (qraw != NULL) {
		buf_printf(&b, "<p class=\"status\" role=\"status\">%s “",
		    http_msg(c, M_RESULTS_FOR));
		text_add(&b, qraw, c->lang);
		buf_printf(&b, "”: %zu</p>\n", shown);
	}
	if (lib->n == 0)
		buf_printf(&b, "<p>%s</p>\n", http_msg(c, M_NO_BUNDLES));
	else if (shown == 0)
		buf_printf(&b, "<p>%s</p>\n", http_msg(c, M_NO_MATCH));
	else {
		buf_addstr(&b, "<ul class=\"cards\">\n");
		buf_add(&b, cards.data, cards.len);
		buf_addstr(&b, "</ul>\n");
	}
	buf_free(&cards);
	page_end(&b);
	free(q);
	http_reply(c, 200, "text/html; charset=utf-8", &b, "no-cache");
}

/* --- a bundle --- */

static void
fact_add(struct http_ctx *c, struct buf *b, enum http_msg label,
    const struct meta *m, const char *key, const struct lib_bundle *lb)
{
	const char	*v = lib_text(c, m, key);

	if (v == NULL)
		return;
	buf_printf(b, "<div><dt>%s</dt>", http_msg(c, label));
	text_add(b, v, open_lang(b, c, "dd", NULL, text_lang(c, m, key, lb)));
	buf_addstr(b, "</dd></div>\n");
}

void
http_page_bundle(struct http_ctx *c, const struct lib_bundle *lb)
{
	const struct lib_release	*r = &lb->releases[0];
	const struct meta		*m = &r->m->meta;
	const char			*title = lib_text(c, m, "title");
	const char			*summary = lib_text(c, m, "summary");
	const char			*tl;
	struct buf			 b;
	struct tm			 tm;
	time_t				 t = (time_t)r->published;
	char				 day[32];
	size_t				 i;

	buf_init(&b);
	page_start(c, &b, title != NULL ? title : lb->name);
	buf_addstr(&b, "<p class=\"back\"><a href=\"/");
	hl_suffix(c, &b, '?');
	buf_printf(&b, "\">← %s</a></p>\n", http_msg(c, M_BACK));
	tl = open_lang(&b, c, "h1", NULL, text_lang(c, m, "title", lb));
	text_add(&b, title != NULL ? title : lb->name, tl);
	buf_addstr(&b, "</h1>\n");
	if (summary != NULL) {
		tl = open_lang(&b, c, "p", "class=\"summary\"",
		    text_lang(c, m, "summary", lb));
		text_add(&b, summary, tl);
		buf_addstr(&b, "</p>\n");
	}
	buf_addstr(&b, "<dl class=\"facts\">\n");
	fact_add(c, &b, M_AUTHORS, m, "authors", lb);
	fact_add(c, &b, M_LEVEL, m, "level", lb);
	words_add(c, &b, M_AUDIENCE, lb->audiences, lb->naudiences);
	fact_add(c, &b, M_LICENSE, m, "license", lb);
	gmtime_r(&t, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	buf_printf(&b, "<div><dt>%s</dt><dd>", http_msg(c, M_RELEASE));
	html_add(&b, r->m->label);
	buf_printf(&b, " (#%llu, <time datetime=\"%s\">%s</time>)</dd></div>\n"
	    "</dl>\n", (unsigned long long)r->serial, day, day);
	buf_addstr(&b, "<p class=\"download\"><a class=\"button\" "
	    "href=\"/download/");
	url_add(&b, lb->name);
	buf_printf(&b, "@%llu.satchel\" download>%s</a> <span class=\"size\">",
	    (unsigned long long)r->serial, http_msg(c, M_DOWNLOAD_BUNDLE));
	size_add(&b, r->m->total_size);
	buf_addstr(&b, "</span></p>\n");

	buf_printf(&b, "<h2>%s</h2>\n<ol class=\"lessons\">\n",
	    http_msg(c, M_LESSONS));
	for (i = 0; i < r->nlessons; i++) {
		const struct lib_lesson	*l = &r->lessons[i];
		const char		*lt = lib_text(c, &l->ml->meta, "title");
		const char		*ls = lib_text(c, &l->ml->meta,
		    "summary");

		buf_addstr(&b, "<li class=\"lesson\">\n");
		tl = open_lang(&b, c, "h3", NULL, text_lang(c, &l->ml->meta,
		    "title", lb));
		buf_addstr(&b, "<a href=\"/b/");
		url_add(&b, lb->name);
		buf_printf(&b, "@%llu/", (unsigned long long)r->serial);
		url_add(&b, l->entry);
		buf_addstr(&b, "\">");
		text_add(&b, lt != NULL ? lt : l->id, tl);
		buf_addstr(&b, "</a></h3>\n");
		if (ls != NULL) {
			tl = open_lang(&b, c, "p", NULL,
			    text_lang(c, &l->ml->meta, "summary", lb));
			text_add(&b, ls, tl);
			buf_addstr(&b, "</p>\n");
		}
		buf_addstr(&b, "<p class=\"meta\">");
		if (l->minutes > 0)
			buf_printf(&b, "%u %s · ", l->minutes,
			    http_msg(c, M_MINUTES));
		size_add(&b, l->size);
		buf_addstr(&b, " · <a href=\"/download/");
		url_add(&b, lb->name);
		buf_printf(&b, "@%llu/", (unsigned long long)r->serial);
		url_add(&b, l->id);
		buf_printf(&b, ".zip\" download>%s</a></p>\n</li>\n",
		    http_msg(c, M_DOWNLOAD_LESSON));
	}
	buf_addstr(&b, "</ol>\n");
	if (r->m->nchangelog > 0) {
		buf_printf(&b, "<h2>%s</h2>\n<ul class=\"changelog\">\n",
		    http_msg(c, M_CHANGELOG));
		for (i = 0; i < r->m->nchangelog; i++) {
			buf_addstr(&b, "<li>");
			text_add(&b, r->m->changelog[i], c->lang);
			buf_addstr(&b, "</li>\n");
		}
		buf_addstr(&b, "</ul>\n");
	}
	page_end(&b);
	http_reply(c, 200, "text/html; charset=utf-8", &b, "no-cache");
}

/* --- errors --- */

void
http_page_error_body(struct http_ctx *c, int code, const char *detail,
    struct buf *b)
{
	enum http_msg	m;
	char		title[64];

	switch (code) {
	case 400: m = M_BAD_REQUEST; break;
	case 404: m = M_NOT_FOUND; break;
	case 405: m = M_METHOD; break;
	case 413: m = M_TOO_LARGE; break;
	case 416: m = M_RANGE; break;
	case 503: m = M_UNAVAILABLE; break;
	default: m = M_SERVER_ERROR; break;
	}
	snprintf(title, sizeof title, "%d %s", code, http_reason(code));
	page_start(c, b, title);
	buf_printf(b, "<h1>%s</h1>\n<p>%s</p>\n", title, http_msg(c, m));
	if (detail != NULL) {
		buf_addstr(b, "<p lang=\"en\">");
		text_add(b, detail, "en");
		buf_addstr(b, "</p>\n");
	}
	buf_printf(b, "<p><a href=\"/\">%s</a></p>\n", http_msg(c, M_BACK));
	page_end(b);
}

/* --- the style sheet --- */

/*
 * Contrast (WCAG 2.1 AA asks 4.5:1 for text): #1b1b1b on #ffffff is
 * 17:1, links #0b57d0 on white 6.4:1, muted #4d4d4d 8.4:1, the button's
 * white on #0b57d0 6.4:1. Focus is a 3 px outline that never goes away.
 * Nothing has a fixed width, so nothing is wider than a 360 px screen.
 */
const char http_css[] =
"*,*::before,*::after{box-sizing:border-box}\n"
"html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
"body{margin:0;font:1.0625rem/1.6 system-ui,-apple-system,\"Segoe UI\","
"Roboto,\"Noto Sans\",\"Noto Sans CJK SC\",\"PingFang SC\","
"\"Microsoft YaHei\",sans-serif;color:#1b1b1b;background:#fff;"
"overflow-wrap:anywhere}\n"
"a{color:#0b57d0}\n"
"a:focus-visible,button:focus-visible,input:focus-visible,"
"select:focus-visible{outline:3px solid #b3261e;outline-offset:2px}\n"
".skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem}\n"
".skip:focus{left:.5rem;z-index:1}\n"
".top,main,.foot{max-width:48rem;margin:0 auto;padding:0 1rem}\n"
".top{display:flex;flex-wrap:wrap;justify-content:space-between;"
"align-items:center;gap:.5rem;border-bottom:1px solid #d0d0d0}\n"
".site{font-weight:700;margin:.75rem 0}\n"
".site a{text-decoration:none;color:#1b1b1b}\n"
".langs ul{list-style:none;margin:0;padding:0;display:flex;gap:1rem}\n"
".langs a{display:inline-block;padding:.5rem 0;min-height:44px}\n"
".langs a[aria-current]{font-weight:700;color:#1b1b1b}\n"
"h1{font-size:1.6rem;line-height:1.3;margin:1rem 0 .75rem}\n"
"h2{font-size:1.25rem;line-height:1.35;margin:1.5rem 0 .5rem}\n"
"h3{font-size:1.1rem;margin:0 0 .25rem}\n"
".search{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;"
"margin:0 0 1rem}\n"
".field{display:flex;flex-direction:column;flex:1 1 8rem;min-width:0}\n"
".field.wide{flex:1 1 100%}\n"
"label{font-weight:600;font-size:.95rem}\n"
"input,select,button{font:inherit;min-height:44px;max-width:100%}\n"
"input,select{border:1px solid #6b6b6b;border-radius:4px;padding:.4rem;"
"background:#fff;color:#1b1b1b;width:100%}\n"
"button,.button{background:#0b57d0;color:#fff;border:0;border-radius:4px;"
"padding:.5rem 1.1rem;cursor:pointer;text-decoration:none;"
"display:inline-block}\n"
".cards,.lessons{list-style:none;margin:0;padding:0}\n"
".card{border:1px solid #d0d0d0;border-radius:8px;padding:.75rem 1rem;"
"margin:0 0 1rem}\n"
".card h2{margin:.25rem 0}\n"
".summary{margin:.25rem 0 .5rem}\n"
".facts{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;margin:.5rem 0;"
"color:#4d4d4d;font-size:.95rem}\n"
".facts div{display:flex;gap:.35rem}\n"
".facts dt{font-weight:600;flex:none}\n"
".facts dd{margin:0}\n"
".lesson{border-top:1px solid #d0d0d0;padding:.75rem 0}\n"
".lesson p{margin:.25rem 0}\n"
".meta,.size,.status{color:#4d4d4d;font-size:.95rem;margin:.25rem 0}\n"
".hits{margin:.25rem 0}\n"
"img,video{max-width:100%;height:auto}\n"
".foot{border-top:1px solid #d0d0d0;margin-top:2rem;color:#4d4d4d;"
"font-size:.9rem}\n";

char	http_css_etag[SHA256_LEN * 2 + 3];

void
http_css_init(void)
{
	uint8_t	sha[SHA256_LEN];
	char	hex[SHA256_LEN * 2 + 1];

	sha256(http_css, strlen(http_css), sha);
	hex_encode(hex, sha, SHA256_LEN);
	snprintf(http_css_etag, sizeof http_css_etag, "\"%s\"", hex);
}
