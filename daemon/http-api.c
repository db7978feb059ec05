/*
 * http-api.c: the library as data: JSON under /api/v1 (made with jansson,
 * documented in the README) and an OPDS 1.2 acquisition feed at /opds,
 * so e-reader and library apps can browse and fetch bundles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "crypto.h"
#include "http-priv.h"

static void
iso_time(char *out, size_t outsz, int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
meta_json(const struct meta *m)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < m->n; i++)
		json_object_set_new(o, m->v[i].key,
		    json_string(m->v[i].value));
	return o;
}

static json_t *
words_json(char **v, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static void
reply_json(struct http_ctx *c, json_t *o)
{
	struct buf	 b;
	char		*s = json_dumps(o, JSON_INDENT(1) | JSON_ENSURE_ASCII * 0);

	json_decref(o);
	if (s == NULL)
		fatal("json_dumps failed");
	buf_init(&b);
	buf_addstr(&b, s);
	buf_addc(&b, '\n');
	free(s);
	http_reply(c, 200, "application/json", &b, "no-cache");
}

static json_t *
bundle_summary(const struct lib_bundle *b)
{
	const struct lib_release	*r = &b->releases[0];
	json_t				*o = json_object();
	char				 t[32], *u;

	json_object_set_new(o, "name", json_string(b->name));
	json_object_set_new(o, "serial", json_integer((json_int_t)r->serial));
	json_object_set_new(o, "label", json_string(r->m->label));
	iso_time(t, sizeof t, r->published);
	json_object_set_new(o, "published", json_string(t));
	json_object_set_new(o, "meta", meta_json(&r->m->meta));
	json_object_set_new(o, "languages", words_json(b->languages,
	    b->nlanguages));
	json_object_set_new(o, "subjects", words_json(b->subjects,
	    b->nsubjects));
	json_object_set_new(o, "audiences", words_json(b->audiences,
	    b->naudiences));
	json_object_set_new(o, "size", json_integer((json_int_t)
	    r->m->total_size));
	json_object_set_new(o, "files", json_integer((json_int_t)
	    r->m->nfiles));
	json_object_set_new(o, "lessons_count", json_integer((json_int_t)
	    r->nlessons));
	json_object_set_new(o, "manifest_sha256", json_string(r->etag));
	u = xasprintf("/bundle/%s", b->name);
	json_object_set_new(o, "page", json_string(u));
	free(u);
	u = xasprintf("/download/%s@%llu.satchel", b->name,
	    (unsigned long long)r->serial);
	json_object_set_new(o, "download", json_string(u));
	free(u);
	u = xasprintf("/api/v1/bundles/%s", b->name);
	json_object_set_new(o, "api", json_string(u));
	free(u);
	return o;
}

static json_t *
lesson_json(const struct lib_bundle *b, const struct lib_release *r,
    const struct lib_lesson *l)
{
	json_t	*o = json_object();
	char	*u;

	json_object_set_new(o, "id", json_string(l->id));
	json_object_set_new(o, "meta", meta_json(&l->ml->meta));
	json_object_set_new(o, "minutes", l->minutes > 0 ?
	    json_integer(l->minutes) : json_null());
	json_object_set_new(o, "size", json_integer((json_int_t)l->size));
	json_object_set_new(o, "files", json_integer((json_int_t)l->nfiles));
	json_object_set_new(o, "entry", json_string(l->entry));
	u = xasprintf("/b/%s@%llu/%s", b->name, (unsigned long long)r->serial,
	    l->entry);
	json_object_set_new(o, "url", json_string(u));
	free(u);
	u = xasprintf("/download/%s@%llu/%s.zip", b->name,
	    (unsigned long long)r->serial, l->id);
	json_object_set_new(o, "zip", json_string(u));
	free(u);
	u = xasprintf("/api/v1/bundles/%s/lessons/%s", b->name, l->id);
	json_object_set_new(o, "api", json_string(u));
	free(u);
	return o;
}

void
http_api_catalog(struct http_ctx *c)
{
	json_t	*o = json_object(), *a = json_array();
	char	 t[32];
	size_t	 i;

	json_object_set_new(o, "api", json_integer(1));
	json_object_set_new(o, "catalog_serial", json_integer((json_int_t)
	    c->lib->catalog_serial));
	iso_time(t, sizeof t, c->lib->catalog_issued);
	json_object_set_new(o, "issued", c->lib->catalog_serial != 0 ?
	    json_string(t) : json_null());
	for (i = 0; i < c->lib->n; i++)
		json_array_append_new(a, bundle_summary(&c->lib->v[i]));
	json_object_set_new(o, "bundles", a);
	reply_json(c, o);
}

void
http_api_bundle(struct http_ctx *c, const struct lib_bundle *b)
{
	const struct lib_release	*r = &b->releases[0];
	json_t				*o = bundle_summary(b), *a;
	char				 t[32];
	size_t				 i;

	a = json_array();
	for (i = 0; i < r->m->nchangelog; i++)
		json_array_append_new(a, json_string(r->m->changelog[i]));
	json_object_set_new(o, "changelog", a);
	a = json_array();
	for (i = 0; i < r->nlessons; i++)
		json_array_append_new(a, lesson_json(b, r, &r->lessons[i]));
	json_object_set_new(o, "lessons", a);
	a = json_array();
	for (i = 0; i < b->nreleases; i++) {
		json_t	*e = json_object();

		json_object_set_new(e, "serial", json_integer((json_int_t)
		    b->releases[i].serial));
		json_object_set_new(e, "label",
		    json_string(b->releases[i].m->label));
		iso_time(t, sizeof t, b->releases[i].published);
		json_object_set_new(e, "published", json_string(t));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "releases", a);
	reply_json(c, o);
}

void
http_api_lesson(struct http_ctx *c, const struct lib_bundle *b,
    const struct lib_release *r, const struct lib_lesson *l)
{
	json_t	*o = lesson_json(b, r, l), *a = json_array(), *f;
	char	*prefix = xasprintf("lessons/%s/", l->id), *u;
	char	 hex[SHA256_LEN * 2 + 1];
	size_t	 i, pl = strlen(prefix);

	json_object_set_new(o, "bundle", json_string(b->name));
	json_object_set_new(o, "serial", json_integer((json_int_t)r->serial));
	for (i = 0; i < r->m->nfiles; i++) {
		const struct manifest_file	*mf = &r->m->files[i];

		if (strncmp(mf->path, prefix, pl) != 0)
			continue;
		f = json_object();
		json_object_set_new(f, "path", json_string(mf->path));
		json_object_set_new(f, "size", json_integer((json_int_t)
		    mf->size));
		hex_encode(hex, mf->sha256, SHA256_LEN);
		json_object_set_new(f, "sha256", json_string(hex));
		u = xasprintf("/b/%s@%llu/%s", b->name,
		    (unsigned long long)r->serial, mf->path);
		json_object_set_new(f, "url", json_string(u));
		free(u);
		json_array_append_new(a, f);
	}
	free(prefix);
	json_object_set_new(o, "file_list", a);
	reply_json(c, o);
}

/* --- OPDS --- */

#define OPDS_TYPE	"application/atom+xml;profile=opds-catalog;" \
			"kind=acquisition"

void
http_opds(struct http_ctx *c)
{
	const struct library	*lib = c->lib;
	struct buf		 b, base;
	char			 t[32];
	size_t			 i, j;
	int64_t			 newest = lib->catalog_issued;

	buf_init(&b);
	buf_init(&base);
	http_base_url(c, &base);
	for (i = 0; i < lib->n; i++)
		if (lib->v[i].releases[0].published > newest)
			newest = lib->v[i].releases[0].published;
	iso_time(t, sizeof t, newest);
	buf_addstr(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	    "xmlns:dc=\"http://purl.org/dc/terms/\" "
	    "xmlns:opds=\"http://opds-spec.org/2010/catalog\">\n"
	    "<id>urn:satchel:library:");
	xml_add(&b, base.data);
	buf_printf(&b, "</id>\n<title>Satchel library</title>\n"
	    "<updated>%s</updated>\n<author><name>Satchel</name></author>\n"
	    "<link rel=\"self\" href=\"/opds\" type=\"" OPDS_TYPE "\"/>\n"
	    "<link rel=\"start\" href=\"/opds\" type=\"" OPDS_TYPE "\"/>\n", t);
	for (i = 0; i < lib->n; i++) {
		const struct lib_bundle		*lb = &lib->v[i];
		const struct lib_release	*r = &lb->releases[0];
		const struct meta		*m = &r->m->meta;
		const char			*v;

		buf_addstr(&b, "<entry>\n<title>");
		v = meta_get(m, "title");
		xml_add(&b, v != NULL ? v : lb->name);
		/* An entry's id outlives its releases (RFC 4287 4.2.6): a
		 * reader app that sees a new id sees a new book. Which
		 * release it is, <updated> and the acquisition link say. */
		buf_addstr(&b, "</title>\n<id>urn:satchel:bundle:");
		xml_add(&b, lb->name);
		buf_addstr(&b, "</id>\n");
		iso_time(t, sizeof t, r->published);
		buf_printf(&b, "<updated>%s</updated>\n", t);
		if ((v = meta_get(m, "authors")) != NULL) {
			buf_addstr(&b, "<author><name>");
			xml_add(&b, v);
			buf_addstr(&b, "</name></author>\n");
		}
		for (j = 0; j < lb->nlanguages; j++) {
			buf_addstr(&b, "<dc:language>");
			xml_add(&b, lb->languages[j]);
			buf_addstr(&b, "</dc:language>\n");
		}
		if ((v = meta_get(m, "license")) != NULL) {
			buf_addstr(&b, "<rights>");
			xml_add(&b, v);
			buf_addstr(&b, "</rights>\n");
		}
		for (j = 0; j < lb->nsubjects; j++) {
			buf_addstr(&b, "<category term=\"");
			xml_add(&b, lb->subjects[j]);
			buf_addstr(&b, "\" label=\"");
			xml_add(&b, lb->subjects[j]);
			buf_addstr(&b, "\"/>\n");
		}
		if ((v = meta_get(m, "summary")) != NULL) {
			buf_addstr(&b, "<summary>");
			xml_add(&b, v);
			buf_addstr(&b, "</summary>\n");
		}
		buf_addstr(&b, "<link rel=\"http://opds-spec.org/acquisition\" "
		    "href=\"/download/");
		xml_add(&b, lb->name);
		buf_printf(&b, "@%llu.satchel\" "
		    "type=\"application/vnd.satchel\"/>\n",
		    (unsigned long long)r->serial);
		buf_addstr(&b, "<link rel=\"alternate\" href=\"/bundle/");
		xml_add(&b, lb->name);
		buf_addstr(&b, "\" type=\"text/html\"/>\n</entry>\n");
	}
	buf_addstr(&b, "</feed>\n");
	buf_free(&base);
	http_reply(c, 200, OPDS_TYPE "; charset=utf-8", &b, "no-cache");
}
