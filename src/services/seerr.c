#include "services/seerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/http.h"
#include "core/util.h"
#include "services/seerr_json.h"

#define SEERR_NAME "Seerr"
/* A page of search results or requests is a few dozen items; a body past
 * this is not an answer usher wants. */
#define SEERR_MAX_BODY (8u * 1024 * 1024)
#define TAKE_MAX       100

enum step {
	STEP_STATUS,
	STEP_DISCORD,
	STEP_SEARCH,
	STEP_DETAILS,
	STEP_CREATE,
	STEP_LIST,
	STEP_REQUEST,
	STEP_RECS,
	STEP_DELETE,
	STEP_ISSUE_LOOKUP,
	STEP_ISSUE_POST,
};

struct seerr {
	struct http *http;
	struct service_conf conf;
	/* Every call in flight, so seerr_free() can cancel them. */
	struct seerr_call *calls;
};

struct seerr_call {
	struct seerr *s;
	struct seerr_call *prev, *next;
	struct http_call *http; /* the step in flight */
	enum step step;
	long as_user;
	enum seerr_kind kind;
	long id; /* the TMDB id or request id the call is about */
	union {
		seerr_status_cb *status;
		seerr_search_cb *search;
		seerr_details_cb *details;
		seerr_create_cb *create;
		seerr_requests_cb *requests;
		seerr_request_cb *request;
		seerr_issue_cb *issue;
	} cb;
	void *arg;
	/* seerr_report_issue's second step. */
	enum seerr_issue_type issue_type;
	char *issue_message;
};

/* Seerr's errors come in two shapes. The auth middleware answers
 * {"status":403,"error":...} for a wrong key, an unknown X-Api-User or an
 * endpoint the user may not use at all; the routes answer {"message":...}
 * when they refuse this one thing, in words worth passing on ("Movie Quota
 * exceeded."). Fills `res` for any response; copies the route's words into
 * `words` (empty when none). */
static void
classify(struct service_result *res, const struct http_response *resp, long as_user, char *words,
         size_t wlen)
{
	json_t *v;

	words[0] = '\0';
	service_result_from_http(res, SEERR_NAME, resp);
	if (resp->result != HTTP_OK || resp->status < 300)
		return;
	if ((v = json_loadb(resp->body, resp->body_len, 0, NULL)) != NULL) {
		seerr_json_copy_text(words, wlen, seerr_json_str(v, "message"));
		json_decref(v);
	}
	if (resp->status != 401 && resp->status != 403)
		return;
	if (words[0] != '\0')
		service_result_set(res, SERVICE_REJECTED, resp->status, "%s", words);
	else if (as_user > 0)
		service_result_set(
		    res, SERVICE_AUTH, resp->status,
		    "Seerr refused (%ld): the API key is wrong, user %ld is unknown, "
		    "or that user may not do this",
		    resp->status, as_user);
	else
		service_result_set(res, SERVICE_AUTH, resp->status,
		                   "Seerr rejected the API key (%ld); check api_key in [seerr]",
		                   resp->status);
}

/* The body of an answer already classified as fine, as a JSON object.
 * Returns a new reference or NULL with `res` saying why. */
static json_t *
object_parse(struct service_result *res, const struct http_response *resp)
{
	char err[160];
	json_t *v;

	if ((v = http_response_json(resp, err, sizeof(err))) == NULL) {
		service_result_set(res, SERVICE_BAD_RESPONSE, resp->status,
		                   "Seerr sent something usher can't read (%s)", err);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		service_result_set(res, SERVICE_BAD_RESPONSE, resp->status,
		                   "Seerr sent an answer of an unexpected shape");
		return NULL;
	}
	return v;
}

/* classify(), then the body as a JSON object. Returns a new reference or
 * NULL with `res` saying why. */
static json_t *
object_body(struct service_result *res, const struct http_response *resp, long as_user)
{
	char words[200];

	classify(res, resp, as_user, words, sizeof(words));
	if (res->error != SERVICE_OK)
		return NULL;
	return object_parse(res, resp);
}

static void
bad_shape(struct service_result *res, long status, const char *what)
{
	service_result_set(res, SERVICE_BAD_RESPONSE, status,
	                   "Seerr sent an answer usher can't use (%s)", what);
}

/* object_body(), then its "results" array in *results (borrowed from the
 * body). Returns the body (a new reference) or NULL with `res` saying why. */
static json_t *
results_body(struct seerr_call *c, const struct http_response *resp, struct service_result *res,
             json_t **results)
{
	json_t *v = object_body(res, resp, c->as_user);

	if (v != NULL && !json_is_array(*results = json_object_get(v, "results"))) {
		bad_shape(res, resp->status, "no results");
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Calls: start, finish, cancel. */

static void on_http(const struct http_response *resp, void *arg);

/* Starts the call's next step: `method` on the server's root joined with
 * the path from `path_fmt` (service_url()'s rules), `body` (borrowed, may be
 * NULL) sent as JSON, the API key and X-Api-User on it. */
static void __attribute__((format(printf, 4, 5)))
call_start(struct seerr_call *c, const char *method, const json_t *body, const char *path_fmt, ...)
{
	struct seerr *s = c->s;
	struct http_opts base = {0};
	char key[512], user[64], *url;
	const char *headers[3];
	size_t n = 0;
	va_list ap;

	if (s->conf.api_key != NULL) {
		snprintf(key, sizeof(key), "X-Api-Key: %s", s->conf.api_key);
		headers[n++] = key;
	}
	if (c->as_user > 0) {
		snprintf(user, sizeof(user), "X-Api-User: %ld", c->as_user);
		headers[n++] = user;
	}
	headers[n] = NULL;
	service_conf_apply(&s->conf, &base);
	base.max_body = SEERR_MAX_BODY;
	va_start(ap, path_fmt);
	url = service_vurl(s->conf.url, path_fmt, ap);
	va_end(ap);
	c->http = http_start_json(s->http, method, url, headers, body, &base, on_http, c);
	free(url);
}

/* A new call in s->calls about `kind` and `id` (the TMDB or request id,
 * 0 for none); the caller sets its callback, then starts it. */
static struct seerr_call *
call_new(struct seerr *s, enum step step, long as_user, enum seerr_kind kind, long id, void *arg)
{
	struct seerr_call *c = xcalloc(1, sizeof(*c));

	c->s = s;
	c->step = step;
	c->as_user = as_user > 0 ? as_user : 0;
	c->kind = kind;
	c->id = id;
	c->arg = arg;
	c->next = s->calls;
	if (s->calls != NULL)
		s->calls->prev = c;
	s->calls = c;
	return c;
}

/* Unlinks and frees a call whose callback is about to run: the handle is
 * dead from here on, so the callback may start or cancel anything. */
static void
call_end(struct seerr_call *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->s->calls = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c->issue_message);
	free(c);
}

void
seerr_cancel(struct seerr_call *c)
{
	if (c == NULL)
		return;
	http_cancel(c->http);
	call_end(c);
}

struct seerr *
seerr_new(struct http *http, const struct config *cfg)
{
	struct seerr *s = xcalloc(1, sizeof(*s));
	size_t len;

	if (!service_conf_load(&s->conf, cfg, "seerr")) {
		free(s);
		return NULL;
	}
	/* People paste the API root as often as the server's. */
	len = strlen(s->conf.url);
	while (len > 0 && s->conf.url[len - 1] == '/')
		s->conf.url[--len] = '\0';
	if (len >= 7 && strcmp(s->conf.url + len - 7, "/api/v1") == 0)
		s->conf.url[len - 7] = '\0';
	s->http = http;
	return s;
}

void
seerr_free(struct seerr *s)
{
	if (s == NULL)
		return;
	while (s->calls != NULL)
		seerr_cancel(s->calls);
	service_conf_free(&s->conf);
	free(s);
}

/* Step handlers: each ends the call before calling back. */

static void
done_status(struct seerr_call *c, const struct http_response *resp)
{
	seerr_status_cb *cb = c->cb.status;
	void *arg = c->arg;
	struct service_result res;
	json_t *v = object_body(&res, resp, c->as_user);
	const char *version = v ? seerr_json_str(v, "version") : NULL;

	call_end(c);
	cb(arg, &res, version ? version : "");
	json_decref(v);
}

/* The same shape as the status: one string out of an object. */
static void
done_discord(struct seerr_call *c, const struct http_response *resp)
{
	seerr_status_cb *cb = c->cb.status;
	void *arg = c->arg;
	struct service_result res;
	json_t *v = object_body(&res, resp, c->as_user);
	const char *id = v ? seerr_json_str(v, "discordId") : NULL;

	call_end(c);
	cb(arg, &res, id ? id : "");
	json_decref(v);
}

/* A page of search or recommendation results. `hint` is the kind for
 * results without a mediaType (recommendations of a film are films). */
static void
done_results(struct seerr_call *c, const struct http_response *resp, bool has_hint,
             enum seerr_kind hint)
{
	seerr_search_cb *cb = c->cb.search;
	void *arg = c->arg;
	struct service_result res;
	struct seerr_title *items = NULL;
	size_t count = 0;
	int pages = 0;
	json_t *results = NULL, *v = results_body(c, resp, &res, &results);

	if (v != NULL) {
		items = seerr_json_titles(results, has_hint, hint, &count);
		pages = (int)seerr_json_int(v, "totalPages", count > 0 ? 1 : 0);
	}
	call_end(c);
	cb(arg, &res, items, count, pages);
	free(items);
	json_decref(v);
}

/* Details, for seerr_details() and the first step of seerr_report_issue().
 * Returns the parsed body (a new reference) or NULL with `res` set. */
static json_t *
details_body(struct seerr_call *c, const struct http_response *resp, struct service_result *res)
{
	char words[200];
	json_t *v;

	/* An unknown TMDB id is a 500 "Unable to retrieve movie." (no 404). */
	classify(res, resp, c->as_user, words, sizeof(words));
	if (resp->result == HTTP_OK && resp->status == 500 &&
	    str_starts_with(words, "Unable to retrieve")) {
		service_result_set(res, SERVICE_NOT_FOUND, 500,
		                   "Seerr can't find that %s (TMDB id %ld), or can't reach TMDB",
		                   c->kind == SEERR_MOVIE ? "film" : "show", c->id);
		return NULL;
	}
	if (res->error != SERVICE_OK)
		return NULL;
	if ((v = object_parse(res, resp)) != NULL && seerr_json_int(v, "id", 0) <= 0) {
		bad_shape(res, resp->status, "no id");
		json_decref(v);
		v = NULL;
	}
	return v;
}

static void
done_details(struct seerr_call *c, const struct http_response *resp)
{
	seerr_details_cb *cb = c->cb.details;
	void *arg = c->arg;
	struct service_result res;
	struct seerr_details *d = NULL;
	json_t *v = details_body(c, resp, &res);

	if (v != NULL) {
		d = xmalloc(sizeof(*d));
		seerr_json_details(v, c->kind, d);
	}
	call_end(c);
	cb(arg, &res, d);
	free(d);
	json_decref(v);
}

static void
done_create(struct seerr_call *c, const struct http_response *resp)
{
	seerr_create_cb *cb = c->cb.create;
	void *arg = c->arg;
	struct service_result res;
	enum seerr_create_outcome outcome = SEERR_CREATE_FAILED;
	struct seerr_request req, *reqp = NULL;
	char words[200];
	json_t *v = NULL;

	classify(&res, resp, c->as_user, words, sizeof(words));
	if (resp->result != HTTP_OK) {
		/* res says why */
	} else if (resp->status == 202) {
		/* Every season asked for is already requested or in the library. */
		outcome = SEERR_NOTHING_TO_REQUEST;
		service_result_set(&res, SERVICE_OK, 202, "%s",
		                   "every season asked for is already requested or available");
	} else if (resp->status == 409) {
		outcome = SEERR_ALREADY_REQUESTED;
		service_result_set(&res, SERVICE_REJECTED, 409, "%s",
		                   words[0] ? words : "Request for this media already exists.");
	} else if (res.error == SERVICE_REJECTED && (resp->status == 401 || resp->status == 403)) {
		outcome = SEERR_NOT_ALLOWED;
	} else if (res.error == SERVICE_OK) {
		if ((v = object_parse(&res, resp)) != NULL) {
			if (seerr_json_request(v, &req)) {
				outcome = SEERR_CREATED;
				reqp = &req;
			} else {
				bad_shape(&res, resp->status, "no request id");
			}
		}
	}
	call_end(c);
	cb(arg, &res, outcome, reqp);
	json_decref(v);
}

static void
done_list(struct seerr_call *c, const struct http_response *resp)
{
	seerr_requests_cb *cb = c->cb.requests;
	void *arg = c->arg;
	struct service_result res;
	struct seerr_request *items = NULL;
	size_t count = 0;
	long total = 0;
	json_t *results = NULL, *v = results_body(c, resp, &res, &results);

	if (v != NULL) {
		items = seerr_json_requests(results, &count);
		/* pageInfo.results is the total over all pages. */
		total = seerr_json_int(json_object_get(v, "pageInfo"), "results", (long)count);
	}
	call_end(c);
	cb(arg, &res, items, count, total);
	free(items);
	json_decref(v);
}

static void
request_not_found(struct service_result *res, const struct http_response *resp, long id)
{
	if (resp->result == HTTP_OK && resp->status == 404)
		service_result_set(res, SERVICE_NOT_FOUND, 404, "Seerr has no request %ld", id);
}

static void
done_request(struct seerr_call *c, const struct http_response *resp)
{
	seerr_request_cb *cb = c->cb.request;
	void *arg = c->arg;
	struct service_result res;
	struct seerr_request req, *reqp = NULL;
	json_t *v = object_body(&res, resp, c->as_user);

	if (v != NULL && seerr_json_request(v, &req))
		reqp = &req;
	else if (v != NULL)
		bad_shape(&res, resp->status, "no request id");
	request_not_found(&res, resp, c->id);
	call_end(c);
	cb(arg, &res, reqp);
	json_decref(v);
}

static void
done_delete(struct seerr_call *c, const struct http_response *resp)
{
	seerr_request_cb *cb = c->cb.request;
	void *arg = c->arg;
	struct service_result res;
	char words[200];

	classify(&res, resp, c->as_user, words, sizeof(words));
	request_not_found(&res, resp, c->id);
	call_end(c);
	cb(arg, &res, NULL);
}

static void
finish_issue(struct seerr_call *c, const struct service_result *res, long issue_id)
{
	seerr_issue_cb *cb = c->cb.issue;
	void *arg = c->arg;

	call_end(c);
	cb(arg, res, issue_id);
}

/* Issues hang off the library's Media row, whose id only details know. */
static void
done_issue_lookup(struct seerr_call *c, const struct http_response *resp)
{
	struct service_result res;
	json_t *v = details_body(c, resp, &res), *body;
	long media_id;

	if (v == NULL) {
		finish_issue(c, &res, 0);
		return;
	}
	media_id = seerr_json_int(json_object_get(v, "mediaInfo"), "id", 0);
	json_decref(v);
	if (media_id <= 0) {
		service_result_set(
		    &res, SERVICE_NOT_FOUND, resp->status,
		    "that title isn't in the library, so there is nothing to report");
		finish_issue(c, &res, 0);
		return;
	}
	body = json_pack("{s:i, s:s, s:I}", "issueType", (int)c->issue_type, "message",
	                 c->issue_message ? c->issue_message : "", "mediaId", (json_int_t)media_id);
	if (body == NULL) /* the message was not UTF-8 */
		body = json_pack("{s:i, s:s, s:I}", "issueType", (int)c->issue_type, "message", "",
		                 "mediaId", (json_int_t)media_id);
	c->step = STEP_ISSUE_POST;
	call_start(c, "POST", body, "/api/v1/issue");
	json_decref(body);
}

static void
done_issue_post(struct seerr_call *c, const struct http_response *resp)
{
	struct service_result res;
	json_t *v = object_body(&res, resp, c->as_user);
	long id = 0;

	if (v != NULL && (id = seerr_json_int(v, "id", 0)) <= 0)
		bad_shape(&res, resp->status, "no issue id");
	json_decref(v);
	finish_issue(c, &res, id > 0 ? id : 0);
}

static void
on_http(const struct http_response *resp, void *arg)
{
	struct seerr_call *c = arg;

	c->http = NULL;
	switch (c->step) {
	case STEP_STATUS:
		done_status(c, resp);
		break;
	case STEP_DISCORD:
		done_discord(c, resp);
		break;
	case STEP_SEARCH:
		done_results(c, resp, false, SEERR_MOVIE);
		break;
	case STEP_DETAILS:
		done_details(c, resp);
		break;
	case STEP_CREATE:
		done_create(c, resp);
		break;
	case STEP_LIST:
		done_list(c, resp);
		break;
	case STEP_REQUEST:
		done_request(c, resp);
		break;
	case STEP_RECS:
		done_results(c, resp, true, c->kind);
		break;
	case STEP_DELETE:
		done_delete(c, resp);
		break;
	case STEP_ISSUE_LOOKUP:
		done_issue_lookup(c, resp);
		break;
	case STEP_ISSUE_POST:
		done_issue_post(c, resp);
		break;
	}
}

/* The calls. */

struct seerr_call *
seerr_status(struct seerr *s, seerr_status_cb *cb, void *arg)
{
	struct seerr_call *c = call_new(s, STEP_STATUS, 0, SEERR_MOVIE, 0, arg);

	c->cb.status = cb;
	call_start(c, "GET", NULL, "/api/v1/status");
	return c;
}

struct seerr_call *
seerr_user_discord_id(struct seerr *s, long user_id, seerr_status_cb *cb, void *arg)
{
	struct seerr_call *c = call_new(s, STEP_DISCORD, 0, SEERR_MOVIE, user_id, arg);

	c->cb.status = cb;
	call_start(c, "GET", NULL, "/api/v1/user/%ld/settings/notifications", user_id);
	return c;
}

struct seerr_call *
seerr_search(struct seerr *s, long as_user, const char *query, int page, seerr_search_cb *cb,
             void *arg)
{
	struct seerr_call *c = call_new(s, STEP_SEARCH, as_user, SEERR_MOVIE, 0, arg);

	c->cb.search = cb;
	call_start(c, "GET", NULL, "/api/v1/search?query=%s&page=%d", query ? query : "",
	           page > 0 ? page : 1);
	return c;
}

static const char *
kind_path(enum seerr_kind kind)
{
	return kind == SEERR_TV ? "tv" : "movie";
}

struct seerr_call *
seerr_details(struct seerr *s, long as_user, enum seerr_kind kind, long tmdb_id,
              seerr_details_cb *cb, void *arg)
{
	struct seerr_call *c = call_new(s, STEP_DETAILS, as_user, kind, tmdb_id, arg);

	c->cb.details = cb;
	/* kind_path() is a fixed word, so %s's encoding leaves it as it is. */
	call_start(c, "GET", NULL, "/api/v1/%s/%ld", kind_path(kind), tmdb_id);
	return c;
}

static json_t *
create_body(const struct seerr_new_request *nr)
{
	json_t *body = json_object();

	json_object_set_new(body, "mediaType", json_string(kind_path(nr->kind)));
	json_object_set_new(body, "mediaId", json_integer(nr->tmdb_id));
	if (nr->kind == SEERR_TV) {
		int n = nr->seasons_len < SEERR_SEASONS_MAX ? nr->seasons_len : SEERR_SEASONS_MAX;
		if (nr->tvdb_id > 0)
			json_object_set_new(body, "tvdbId", json_integer(nr->tvdb_id));
		/* Without seasons the server fails with a 500; no list means all. */
		if (nr->all_seasons || n <= 0) {
			json_object_set_new(body, "seasons", json_string("all"));
		} else {
			json_t *arr = json_array();
			for (int i = 0; i < n; i++)
				json_array_append_new(arr, json_integer(nr->seasons[i]));
			json_object_set_new(body, "seasons", arr);
		}
	}
	json_object_set_new(body, "is4k", json_boolean(nr->is_4k));
	return body;
}

struct seerr_call *
seerr_create_request(struct seerr *s, long as_user, const struct seerr_new_request *nr,
                     seerr_create_cb *cb, void *arg)
{
	struct seerr_call *c = call_new(s, STEP_CREATE, as_user, nr->kind, nr->tmdb_id, arg);
	json_t *body = create_body(nr);

	c->cb.create = cb;
	call_start(c, "POST", body, "/api/v1/request");
	json_decref(body);
	return c;
}

static const char *
filter_name(enum seerr_request_filter f)
{
	switch (f) {
	case SEERR_FILTER_ALL:
		break;
	case SEERR_FILTER_PENDING:
		return "pending";
	case SEERR_FILTER_APPROVED:
		return "approved";
	case SEERR_FILTER_PROCESSING:
		return "processing";
	case SEERR_FILTER_AVAILABLE:
		return "available";
	case SEERR_FILTER_UNAVAILABLE:
		return "unavailable";
	case SEERR_FILTER_FAILED:
		return "failed";
	}
	return "all";
}

/* GET /request with the paging bounds every list call shares. */
static struct seerr_call *
list_call(struct seerr *s, long as_user, enum seerr_request_filter filter, long requested_by,
          int take, int skip, const char *sort, seerr_requests_cb *cb, void *arg)
{
	struct seerr_call *c = call_new(s, STEP_LIST, as_user, SEERR_MOVIE, 0, arg);

	c->cb.requests = cb;
	take = take <= 0 ? 10 : take > TAKE_MAX ? TAKE_MAX : take;
	skip = skip < 0 ? 0 : skip;
	if (requested_by > 0)
		call_start(c, "GET", NULL,
		           "/api/v1/request?take=%d&skip=%d&filter=%s&sort=%s&requestedBy=%ld",
		           take, skip, filter_name(filter), sort, requested_by);
	else
		call_start(c, "GET", NULL, "/api/v1/request?take=%d&skip=%d&filter=%s&sort=%s",
		           take, skip, filter_name(filter), sort);
	return c;
}

struct seerr_call *
seerr_list_requests(struct seerr *s, long as_user, enum seerr_request_filter filter,
                    long requested_by, int take, int skip, seerr_requests_cb *cb, void *arg)
{
	return list_call(s, as_user, filter, requested_by, take, skip, "added", cb, arg);
}

struct seerr_call *
seerr_list_recently_changed(struct seerr *s, int take, seerr_requests_cb *cb, void *arg)
{
	return list_call(s, 0, SEERR_FILTER_ALL, 0, take, 0, "modified", cb, arg);
}

static struct seerr_call *
request_call(struct seerr *s, enum step step, long as_user, long request_id, const char *method,
             const char *action, seerr_request_cb *cb, void *arg)
{
	struct seerr_call *c = call_new(s, step, as_user, SEERR_MOVIE, request_id, arg);

	c->cb.request = cb;
	if (action != NULL)
		call_start(c, method, NULL, "/api/v1/request/%ld/%s", request_id, action);
	else
		call_start(c, method, NULL, "/api/v1/request/%ld", request_id);
	return c;
}

struct seerr_call *
seerr_get_request(struct seerr *s, long as_user, long request_id, seerr_request_cb *cb, void *arg)
{
	return request_call(s, STEP_REQUEST, as_user, request_id, "GET", NULL, cb, arg);
}

struct seerr_call *
seerr_approve(struct seerr *s, long as_user, long request_id, seerr_request_cb *cb, void *arg)
{
	return request_call(s, STEP_REQUEST, as_user, request_id, "POST", "approve", cb, arg);
}

struct seerr_call *
seerr_decline(struct seerr *s, long as_user, long request_id, seerr_request_cb *cb, void *arg)
{
	return request_call(s, STEP_REQUEST, as_user, request_id, "POST", "decline", cb, arg);
}

struct seerr_call *
seerr_delete_request(struct seerr *s, long as_user, long request_id, seerr_request_cb *cb,
                     void *arg)
{
	return request_call(s, STEP_DELETE, as_user, request_id, "DELETE", NULL, cb, arg);
}

struct seerr_call *
seerr_recommendations(struct seerr *s, long as_user, enum seerr_kind kind, long tmdb_id,
                      seerr_search_cb *cb, void *arg)
{
	struct seerr_call *c = call_new(s, STEP_RECS, as_user, kind, tmdb_id, arg);

	c->cb.search = cb;
	call_start(c, "GET", NULL, "/api/v1/%s/%ld/recommendations?page=1", kind_path(kind),
	           tmdb_id);
	return c;
}

struct seerr_call *
seerr_report_issue(struct seerr *s, long as_user, enum seerr_kind kind, long tmdb_id,
                   enum seerr_issue_type type, const char *message, seerr_issue_cb *cb, void *arg)
{
	struct seerr_call *c = call_new(s, STEP_ISSUE_LOOKUP, as_user, kind, tmdb_id, arg);

	c->cb.issue = cb;
	c->issue_type =
	    type >= SEERR_ISSUE_VIDEO && type <= SEERR_ISSUE_OTHER ? type : SEERR_ISSUE_OTHER;
	c->issue_message = xstrdup(message ? message : "");
	call_start(c, "GET", NULL, "/api/v1/%s/%ld", kind_path(kind), tmdb_id);
	return c;
}

const char *
seerr_media_status_words(enum seerr_media_status status)
{
	switch (status) {
	case SEERR_MEDIA_UNKNOWN:
		break;
	case SEERR_MEDIA_PENDING:
		return "waiting for approval";
	case SEERR_MEDIA_PROCESSING:
		return "being fetched";
	case SEERR_MEDIA_PARTIAL:
		return "partly ready";
	case SEERR_MEDIA_AVAILABLE:
		return "ready to watch";
	case SEERR_MEDIA_BLOCKLISTED:
		return "blocked";
	case SEERR_MEDIA_DELETED:
		return "deleted";
	}
	return "not requested yet";
}

const char *
seerr_request_status_words(enum seerr_request_status status)
{
	switch (status) {
	case SEERR_REQ_PENDING:
		break;
	case SEERR_REQ_APPROVED:
		return "approved";
	case SEERR_REQ_DECLINED:
		return "declined";
	case SEERR_REQ_FAILED:
		return "failed";
	case SEERR_REQ_COMPLETED:
		return "done";
	}
	return "waiting for approval";
}
