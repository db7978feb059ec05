/*
 * http-priv.h: what daemon/http*.c share: one request's context, the
 * reply helpers and the page, API and feed renderers.
 */
#ifndef SATCHEL_HTTP_PRIV_H
#define SATCHEL_HTTP_PRIV_H

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "library.h"
#include "util.h"

#define HTTP_URI_MAX		4096	/* longer: 400 */
#define HTTP_HEADERS_MAX	(64 * 1024)	/* longer: 413 (libevent) */
#define HTTP_BODY_MAX		(16 * 1024)	/* a request body: 413 */
#define HTTP_QUERY_MAX		256	/* a search: bytes */

enum http_route {
	ROUTE_LIBRARY, ROUTE_BUNDLE, ROUTE_FILE, ROUTE_ZIP, ROUTE_ARCHIVE,
	ROUTE_API, ROUTE_OPDS, ROUTE_STATIC, ROUTE_METRICS, ROUTE_HEALTHZ,
	ROUTE_STORE_META, ROUTE_STORE_OBJECT, ROUTE_OTHER, ROUTE_COUNT
};

struct http_thread;

/* One request: made by the dispatcher, freed when its reply is sent. */
struct http_ctx {
	struct http_thread	*t;
	struct evhttp_request	*req;
	struct library		*lib;		/* a reference, put back at the end */
	const char		*lang;		/* the interface: "en" or "zh" */
	int			 lang_forced;	/* from ?hl= */
	struct evkeyvalq	 query;
	int			 head;		/* HEAD: headers only */
	enum http_route		 route;
};

/* Text in the learner's language. */
enum http_msg {
	M_LIBRARY, M_SEARCH, M_SEARCH_LABEL, M_LANGUAGE, M_SUBJECT,
	M_AUDIENCE, M_ANY, M_FILTER, M_LESSONS, M_MINUTES, M_SIZE,
	M_DOWNLOAD_BUNDLE, M_DOWNLOAD_LESSON, M_OPEN_LESSON, M_CHANGELOG,
	M_NO_BUNDLES, M_NO_MATCH, M_RESULTS_FOR, M_BACK, M_RELEASE,
	M_LICENSE, M_AUTHORS, M_LEVEL, M_SWITCH, M_NOT_FOUND, M_BAD_REQUEST,
	M_METHOD, M_TOO_LARGE, M_RANGE, M_SERVER_ERROR, M_UNAVAILABLE,
	M_MATCHING_LESSONS, M_SKIP, M_COUNT
};
const char	*http_msg(const struct http_ctx *, enum http_msg);

/* Replies: body (may be NULL) is consumed; HEAD sends the headers alone.
 * cache is the Cache-Control value. */
void	http_reply(struct http_ctx *, int code, const char *ctype,
	    struct buf *body, const char *cache);
/* An HTML error page in the learner's language; detail (may be NULL) is
 * escaped. */
void	http_error(struct http_ctx *, int code, const char *detail);
const char *http_reason(int code);

/* Renderers (http-pages.c, http-api.c). */
void	http_page_library(struct http_ctx *);
void	http_page_bundle(struct http_ctx *, const struct lib_bundle *);
void	http_page_error_body(struct http_ctx *, int code, const char *detail,
	    struct buf *out);
extern const char	http_css[];
extern char		http_css_etag[];	/* set at start: "\"HEX\"" */
void	http_css_init(void);
void	http_api_catalog(struct http_ctx *);
void	http_api_bundle(struct http_ctx *, const struct lib_bundle *);
void	http_api_lesson(struct http_ctx *, const struct lib_bundle *,
	    const struct lib_release *, const struct lib_lesson *);
void	http_opds(struct http_ctx *);

/* Escapers. */
void	html_add(struct buf *, const char *);	/* text and attributes */
void	url_add(struct buf *, const char *);	/* a path or query piece */
void	xml_add(struct buf *, const char *);
/* "1.2 MB" */
void	size_add(struct buf *, uint64_t);
/* A query parameter, or NULL. */
const char *http_param(const struct http_ctx *, const char *key);
/* The bundle's text in the learner's language, falling back to the
 * bundle's own default (the unsuffixed key). */
const char *lib_text(const struct http_ctx *, const struct meta *,
	    const char *key);
/* The absolute base URL ("http://HOST") for feeds; from the Host header. */
void	http_base_url(const struct http_ctx *, struct buf *);

#endif
