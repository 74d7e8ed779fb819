/*
 * The MCP tools, second half: Seerr's answers turned into CallToolResults
 * (a short text for the model to read out, the same facts as JSON), with
 * the state words a chat user sees.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bot/people.h"
#include "bot/progress.h"
#include "core/buf.h"
#include "core/log.h"
#include "mcp/mcp_tools_impl.h"

static const char *
kind_name(enum seerr_kind k)
{
	return k == SEERR_TV ? "tv" : "movie";
}

static const char *
kind_words(enum seerr_kind k)
{
	return k == SEERR_TV ? "show" : "film";
}

static void
label(char *out, size_t outlen, const struct seerr_title *t)
{
	if (t->year)
		snprintf(out, outlen, "%s (%d)", t->title, t->year);
	else
		snprintf(out, outlen, "%s", t->title);
}

/* The same words a chat user sees for a request. */
static const char *
request_state_words(const struct seerr_request *q)
{
	switch (q->status) {
	case SEERR_REQ_DECLINED:
		return "declined";
	case SEERR_REQ_FAILED:
		return "failed";
	case SEERR_REQ_PENDING:
		return "waiting for approval";
	case SEERR_REQ_APPROVED:
	case SEERR_REQ_COMPLETED:
		break;
	}
	if (q->media_status == SEERR_MEDIA_AVAILABLE || q->media_status == SEERR_MEDIA_PARTIAL)
		return seerr_media_status_words(q->media_status);
	return "being fetched";
}

/* What a title's availability is called; "requested" when Seerr knows a
 * request but not yet a media state. */
static const char *
title_state_words(const struct seerr_title *t)
{
	if (t->status == SEERR_MEDIA_UNKNOWN && t->requested)
		return "requested";
	return seerr_media_status_words(t->status);
}

static json_t *
request_json(const struct seerr_request *q)
{
	json_t *o =
	    json_pack("{s:I,s:s,s:I,s:s,s:b,s:s,s:s,s:I,s:s}", "requestId", (json_int_t)q->id,
	              "type", kind_name(q->kind), "tmdbId", (json_int_t)q->tmdb_id, "state",
	              request_state_words(q), "is4k", q->is_4k, "approval",
	              seerr_request_status_words(q->status), "requestedBy", q->requested_by,
	              "requestedById", (json_int_t)q->requested_by_id, "createdAt", q->created_at);
	int i;

	if (q->kind == SEERR_TV) {
		json_t *s = json_array();

		for (i = 0; i < q->seasons_len; i++)
			json_array_append_new(s, json_integer(q->seasons[i]));
		json_object_set_new(o, "seasons", s);
	}
	return o;
}

static void
request_summary(struct buf *b, const struct seerr_request *q)
{
	buf_printf(b, "request %ld: %s TMDB %ld%s, %s", q->id, kind_words(q->kind), q->tmdb_id,
	           q->is_4k ? " in 4K" : "", request_state_words(q));
	if (q->requested_by[0])
		buf_printf(b, " (by %s)", q->requested_by);
}

static void
finish_service_error(struct mcp_tool_call *c, const struct service_result *res)
{
	mcp_tools_finish(
	    c, mcp_tools_refused("service", res->message[0] ? res->message : "Overseerr failed"));
}

static void finish_refused(struct mcp_tool_call *c, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
finish_refused(struct mcp_tool_call *c, const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mcp_tools_finish(c, mcp_tools_refused(reason, msg));
}

/* ---- search_media ---- */

void
mcp_tools_search_done(void *arg, const struct service_result *res, const struct seerr_title *items,
                      size_t count, int total_pages)
{
	struct mcp_tool_call *c = arg;
	json_t *list;
	struct buf b;
	size_t i, n = 0;

	(void)total_pages;
	c->call = NULL;
	if (res->error != SERVICE_OK) {
		finish_service_error(c, res);
		return;
	}
	list = json_array();
	buf_init(&b, MCP_TOOLS_TEXT_MAX - 1);
	for (i = 0; i < count; i++) {
		const struct seerr_title *t = &items[i];
		char name[SEERR_TITLE_MAX + 16];
		json_t *o;

		if (c->media >= 0 && (int)t->kind != c->media)
			continue;
		o = json_pack("{s:s,s:s,s:I,s:s,s:b}", "title", t->title, "type",
		              kind_name(t->kind), "tmdbId", (json_int_t)t->tmdb_id, "availability",
		              title_state_words(t), "requested", t->requested);
		if (t->year)
			json_object_set_new(o, "year", json_integer(t->year));
		if (t->poster_url[0])
			json_object_set_new(o, "posterUrl", json_string(t->poster_url));
		json_array_append_new(list, o);
		label(name, sizeof(name), t);
		if (n < 10) /* the text stays short; structuredContent has them all */
			buf_printf(&b, "%s%s · %s · TMDB %ld · %s", n ? "; " : "", name,
			           kind_words(t->kind), t->tmdb_id, title_state_words(t));
		n++;
	}
	if (n == 0)
		mcp_tools_finish(c, mcp_tools_result(false, json_pack("{s:o}", "results", list),
		                                     "Nothing found for \"%s\".", c->query));
	else
		mcp_tools_finish(c, mcp_tools_result(false, json_pack("{s:o}", "results", list),
		                                     "Found %zu: %s", n, b.data ? b.data : ""));
	buf_free(&b);
}

/* ---- request_media: details, then the person's own requests, then create ---- */

static bool
matches_existing(const struct mcp_tool_call *c, const struct seerr_request *q)
{
	int i, j;

	if (q->kind != c->what.kind || q->tmdb_id != c->what.tmdb_id || q->is_4k != c->what.is_4k ||
	    q->status == SEERR_REQ_DECLINED || q->status == SEERR_REQ_FAILED)
		return false;
	if (c->what.kind == SEERR_MOVIE)
		return true;
	if (c->what.all_seasons)
		return false; /* "all" can always add what is missing */
	for (i = 0; i < c->what.seasons_len; i++) {
		bool found = false;

		for (j = 0; j < q->seasons_len; j++)
			found |= q->seasons[j] == c->what.seasons[i];
		if (!found)
			return false;
	}
	return true;
}

/* Hands a new request to the running usher (through the shared store),
 * which follows it like a chat request and tells the person directly. */
static void
follow(const struct mcp_tool_call *c, const struct seerr_request *req, const char *name)
{
	struct progress_item it = {
	    .seerr_request_id = req->id,
	    .kind = c->what.kind,
	    .tmdb_id = c->what.tmdb_id,
	    .tvdb_id = c->what.tvdb_id,
	    .is_4k = c->what.is_4k,
	    .label = name,
	    .person = c->env.person->name,
	    .notify = c->env.person->notify,
	};

	if (c->env.store == NULL)
		return;
	if (progress_enqueue(c->env.store, &it) == -1)
		log_warnx("mcp: request %ld for %s was made but cannot be followed: the store is "
		          "not writable",
		          req->id, name);
}

static void
created(void *arg, const struct service_result *res, enum seerr_create_outcome outcome,
        const struct seerr_request *req)
{
	struct mcp_tool_call *c = arg;
	char name[SEERR_TITLE_MAX + 16];
	json_t *o;

	c->call = NULL;
	label(name, sizeof(name), &c->details.title);
	switch (outcome) {
	case SEERR_CREATED:
		follow(c, req, name);
		o = request_json(req);
		json_object_set_new(o, "title", json_string(c->details.title.title));
		mcp_tools_finish(
		    c, mcp_tools_result(false, json_pack("{s:b,s:o}", "made", 1, "request", o),
		                        "Requested %s (request %ld): %s.", name, req->id,
		                        request_state_words(req)));
		return;
	case SEERR_ALREADY_REQUESTED:
		finish_refused(c, "already_requested",
		               "%s was already requested, so it was not asked again.", name);
		return;
	case SEERR_NOTHING_TO_REQUEST:
		finish_refused(
		    c, "already_requested",
		    "Every season of %s asked for is already requested or there to watch.", name);
		return;
	case SEERR_NOT_ALLOWED:
		finish_refused(c, strstr(res->message, "uota") ? "quota" : "not_allowed",
		               "Overseerr didn't accept the request for %s: %s", name,
		               res->message);
		return;
	case SEERR_CREATE_FAILED:
		break;
	}
	finish_service_error(c, res);
}

static void
existing(void *arg, const struct service_result *res, const struct seerr_request *items,
         size_t count, long total)
{
	struct mcp_tool_call *c = arg;
	char name[SEERR_TITLE_MAX + 16], msg[1024];
	json_t *r;
	size_t i;

	(void)total;
	c->call = NULL;
	/* When Seerr cannot list, creating is still safe: it refuses duplicates. */
	for (i = 0; res->error == SERVICE_OK && i < count; i++) {
		if (!matches_existing(c, &items[i]))
			continue;
		label(name, sizeof(name), &c->details.title);
		snprintf(msg, sizeof(msg),
		         "%s is already requested (request %ld, %s), so it was not asked again.",
		         name, items[i].id, request_state_words(&items[i]));
		r = mcp_tools_refused("already_requested", msg);
		json_object_set_new(json_object_get(r, "structuredContent"), "request",
		                    request_json(&items[i]));
		mcp_tools_finish(c, r);
		return;
	}
	c->call =
	    seerr_create_request(c->env.seerr, c->env.person->seerr_user, &c->what, created, c);
}

static bool
season_available(const struct seerr_details *d, int number)
{
	int i;

	for (i = 0; i < d->seasons_len; i++)
		if (d->seasons[i].number == number)
			return d->seasons[i].status == SEERR_MEDIA_AVAILABLE;
	return false;
}

void
mcp_tools_details_done(void *arg, const struct service_result *res, const struct seerr_details *d)
{
	struct mcp_tool_call *c = arg;
	char name[SEERR_TITLE_MAX + 16];
	enum seerr_media_status st;
	bool all_there = true;
	int i;

	c->call = NULL;
	if (res->error == SERVICE_NOT_FOUND) {
		finish_refused(c, "not_found", "There is no %s with TMDB id %ld.",
		               kind_words(c->what.kind), c->what.tmdb_id);
		return;
	}
	if (res->error != SERVICE_OK) {
		finish_service_error(c, res);
		return;
	}
	c->details = *d;
	label(name, sizeof(name), &d->title);
	st = c->what.is_4k ? d->title.status_4k : d->title.status;
	if (c->what.kind == SEERR_TV && !c->what.all_seasons) {
		/* Seerr files seasons a show does not have; Sonarr fails later. */
		for (i = 0; i < c->what.seasons_len; i++) {
			if (c->what.seasons[i] > d->season_count) {
				finish_refused(c, "no_such_season",
				               "%s has %d season%s; there is no season %d.", name,
				               d->season_count, d->season_count == 1 ? "" : "s",
				               c->what.seasons[i]);
				return;
			}
			all_there &= !c->what.is_4k && season_available(d, c->what.seasons[i]);
		}
		st = all_there ? SEERR_MEDIA_AVAILABLE : SEERR_MEDIA_PARTIAL;
	}
	if (st == SEERR_MEDIA_AVAILABLE) {
		finish_refused(c, "already_available", "%s is already there to watch%s.", name,
		               c->what.is_4k ? " in 4K" : "");
		return;
	}
	c->what.tvdb_id = d->title.tvdb_id;
	c->call =
	    seerr_list_requests(c->env.seerr, c->env.person->seerr_user, SEERR_FILTER_ALL,
	                        c->env.person->seerr_user, MCP_TOOLS_LOOKBACK, 0, existing, c);
}

/* ---- request_status ---- */

void
mcp_tools_status_done(void *arg, const struct service_result *res, const struct seerr_request *req)
{
	struct mcp_tool_call *c = arg;
	struct buf b;
	json_t *r;

	c->call = NULL;
	/* Someone else's request looks like none at all to a member. */
	if (res->error == SERVICE_NOT_FOUND ||
	    (res->error == SERVICE_OK && !mcp_tools_is_admin(c) &&
	     req->requested_by_id != c->env.person->seerr_user)) {
		finish_refused(c, "not_found", "You have no request %ld.", c->id);
		return;
	}
	if (res->error != SERVICE_OK) {
		finish_service_error(c, res);
		return;
	}
	buf_init(&b, MCP_TOOLS_TEXT_MAX - 1);
	request_summary(&b, req);
	r = mcp_tools_result(false, json_pack("{s:o}", "request", request_json(req)), "%s", b.data);
	buf_free(&b);
	mcp_tools_finish(c, r);
}

void
mcp_tools_title_status_done(void *arg, const struct service_result *res,
                            const struct seerr_title *items, size_t count, int total_pages)
{
	struct mcp_tool_call *c = arg;
	const struct seerr_title *t = items;
	char name[SEERR_TITLE_MAX + 16];

	(void)total_pages;
	c->call = NULL;
	if (res->error != SERVICE_OK) {
		finish_service_error(c, res);
		return;
	}
	if (count == 0) {
		finish_refused(c, "not_found", "Nothing found for \"%s\".", c->query);
		return;
	}
	label(name, sizeof(name), t);
	mcp_tools_finish(
	    c, mcp_tools_result(false,
	                        json_pack("{s:s,s:s,s:I,s:s,s:b}", "title", t->title, "type",
	                                  kind_name(t->kind), "tmdbId", (json_int_t)t->tmdb_id,
	                                  "state", title_state_words(t), "requested", t->requested),
	                        "%s (%s, TMDB %ld): %s.", name, kind_words(t->kind), t->tmdb_id,
	                        title_state_words(t)));
}

/* ---- list_requests, downloads ---- */

void
mcp_tools_list_done(void *arg, const struct service_result *res, const struct seerr_request *items,
                    size_t count, long total)
{
	struct mcp_tool_call *c = arg;
	bool downloads = c->kind == MCP_TOOL_DOWNLOADS;
	json_t *list;
	struct buf b;
	size_t i;

	c->call = NULL;
	if (res->error != SERVICE_OK) {
		finish_service_error(c, res);
		return;
	}
	list = json_array();
	buf_init(&b, MCP_TOOLS_TEXT_MAX - 1);
	buf_append_str(&b, count == 0 ? (downloads ? "Nothing is downloading now." : "No requests.")
	                              : (downloads ? "Downloading: " : ""));
	for (i = 0; i < count; i++) {
		json_array_append_new(list, request_json(&items[i]));
		if (i < 10) {
			buf_append_str(&b, i ? "; " : "");
			request_summary(&b, &items[i]);
		}
	}
	mcp_tools_finish(c, mcp_tools_result(false,
	                                     json_pack("{s:o,s:I,s:s}", "requests", list, "total",
	                                               (json_int_t)total, "scope",
	                                               c->scope_all ? "all" : "mine"),
	                                     "%s", b.data));
	buf_free(&b);
}

/* ---- approve_request, decline_request ---- */

void
mcp_tools_action_done(void *arg, const struct service_result *res, const struct seerr_request *req)
{
	struct mcp_tool_call *c = arg;
	struct buf b;
	json_t *r;

	c->call = NULL;
	if (res->error == SERVICE_NOT_FOUND) {
		finish_refused(c, "not_found", "There is no request %ld.", c->id);
		return;
	}
	if (res->error != SERVICE_OK) {
		finish_service_error(c, res);
		return;
	}
	buf_init(&b, MCP_TOOLS_TEXT_MAX - 1);
	request_summary(&b, req);
	r = mcp_tools_result(false, json_pack("{s:o}", "request", request_json(req)), "%s %s",
	                     c->kind == MCP_TOOL_APPROVE ? "Approved" : "Declined", b.data);
	buf_free(&b);
	mcp_tools_finish(c, r);
}
