/*
 * The MCP tools: the table the client lists, argument checks (a wrong
 * shape is -32602), permission checks (a refusal is an isError result),
 * and the first Seerr call of each tool, made as the person.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/people.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "mcp/mcp_tools_impl.h"

#define LIST_TAKE 20

json_t *
mcp_tools_result(bool is_error, json_t *structured, const char *fmt, ...)
{
	char text[MCP_TOOLS_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (structured == NULL)
		structured = json_object();
	return json_pack("{s:[{s:s,s:s}],s:o,s:b}", "content", "type", "text", "text", text,
	                 "structuredContent", structured, "isError", is_error);
}

json_t *
mcp_tools_refused(const char *reason, const char *message)
{
	return mcp_tools_result(true, json_pack("{s:s,s:s}", "reason", reason, "message", message),
	                        "%s", message);
}

bool
mcp_tools_is_admin(const struct mcp_tool_call *c)
{
	return c->env.person->role == ROLE_ADMIN;
}

void
mcp_tools_clear(struct mcp_tool_call *c)
{
	seerr_cancel(c->call);
	c->call = NULL;
	arr_cancel(c->arr_call);
	c->arr_call = NULL;
	free(c->downloads);
	c->downloads = NULL;
}

void
mcp_tools_finish(struct mcp_tool_call *c, json_t *result)
{
	mcp_tool_done_fn *done = c->done;
	void *arg = c->done_arg;

	mcp_tools_clear(c);
	free(c);
	done(arg, result);
}

static void
call_deferred(struct loop *loop, void *arg)
{
	struct mcp_tool_call *c = arg;

	(void)loop;
	if (c->deferred)
		mcp_tools_finish(c, c->result);
	else /* cancelled meanwhile: only the record is left */
		free(c);
}

/* Answers from the loop, so no call answers inside mcp_tools_call(). */
static void
answer_later(struct mcp_tool_call *c, json_t *result)
{
	c->deferred = true;
	c->result = result;
	if (loop_defer(c->env.loop, call_deferred, c) == -1)
		fatalx("out of memory");
}

/* ---- arguments ---- */

static bool arg_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
arg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* Only the properties a tool declares may be given. */
static bool
args_known(json_t *args, const char *const *names, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(args, key, v)
	{
		const char *const *n;
		bool ok = false;

		for (n = names; *n; n++)
			ok |= strcmp(*n, key) == 0;
		if (!ok)
			return arg_err(err, errlen, "unknown argument '%s'", key);
	}
	return true;
}

static bool
arg_media(json_t *args, const char *key, bool required, int *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(args, key);
	const char *s;

	*out = -1;
	if (v == NULL && !required)
		return true;
	s = json_string_value(v);
	if (s && strcmp(s, "movie") == 0)
		*out = SEERR_MOVIE;
	else if (s && strcmp(s, "tv") == 0)
		*out = SEERR_TV;
	else
		return arg_err(err, errlen, "'%s' must be \"movie\" or \"tv\"", key);
	return true;
}

static bool
arg_id(json_t *args, const char *key, long *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(args, key);

	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 2147483647)
		return arg_err(err, errlen, "'%s' must be a positive integer", key);
	*out = (long)json_integer_value(v);
	return true;
}

static bool
arg_text(json_t *args, const char *key, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(args, key));

	if (s == NULL || *s == '\0' || strlen(s) >= outlen)
		return arg_err(err, errlen, "'%s' must be a non-empty string of at most %zu bytes",
		               key, outlen - 1);
	snprintf(out, outlen, "%s", s);
	return true;
}

static bool
args_request(struct mcp_tool_call *c, json_t *args, char *err, size_t errlen)
{
	static const char *const names[] = {"tmdbId", "type", "seasons", "is4k", NULL};
	json_t *seasons = json_object_get(args, "seasons"), *is4k = json_object_get(args, "is4k");
	size_t i;
	int media;

	if (!args_known(args, names, err, errlen) || !arg_id(args, "tmdbId", &c->id, err, errlen) ||
	    !arg_media(args, "type", true, &media, err, errlen))
		return false;
	c->what.kind = (enum seerr_kind)media;
	c->what.tmdb_id = c->id;
	if (is4k && !json_is_boolean(is4k))
		return arg_err(err, errlen, "'is4k' must be true or false");
	c->what.is_4k = json_is_true(is4k);
	if (seasons && c->what.kind == SEERR_MOVIE)
		return arg_err(err, errlen, "'seasons' is only for type \"tv\"");
	if (c->what.kind != SEERR_TV)
		return true;
	if (seasons == NULL ||
	    (json_is_string(seasons) && strcmp(json_string_value(seasons), "all") == 0)) {
		c->what.all_seasons = true;
		return true;
	}
	if (!json_is_array(seasons) || json_array_size(seasons) == 0 ||
	    json_array_size(seasons) > SEERR_SEASONS_MAX)
		return arg_err(err, errlen,
		               "'seasons' must be \"all\" or a list of 1 to %d season numbers",
		               SEERR_SEASONS_MAX);
	for (i = 0; i < json_array_size(seasons); i++) {
		json_t *n = json_array_get(seasons, i);

		if (!json_is_integer(n) || json_integer_value(n) < 1 ||
		    json_integer_value(n) > 1000)
			return arg_err(err, errlen, "'seasons' must hold season numbers from 1");
		c->what.seasons[c->what.seasons_len++] = (int)json_integer_value(n);
	}
	return true;
}

static bool
args_list(struct mcp_tool_call *c, json_t *args, char *err, size_t errlen)
{
	static const char *const names[] = {"scope", "filter", NULL};
	static const struct {
		const char *name;
		enum seerr_request_filter filter;
	} filters[] = {
	    {"all", SEERR_FILTER_ALL},
	    {"pending", SEERR_FILTER_PENDING},
	    {"approved", SEERR_FILTER_APPROVED},
	    {"processing", SEERR_FILTER_PROCESSING},
	    {"available", SEERR_FILTER_AVAILABLE},
	    {"unavailable", SEERR_FILTER_UNAVAILABLE},
	    {"failed", SEERR_FILTER_FAILED},
	};
	json_t *scope = json_object_get(args, "scope"), *filter = json_object_get(args, "filter");
	size_t i;

	if (!args_known(args, names, err, errlen))
		return false;
	if (scope && (!json_is_string(scope) || (strcmp(json_string_value(scope), "mine") != 0 &&
	                                         strcmp(json_string_value(scope), "all") != 0)))
		return arg_err(err, errlen, "'scope' must be \"mine\" or \"all\"");
	c->scope_all = scope && strcmp(json_string_value(scope), "all") == 0;
	c->filter = SEERR_FILTER_ALL;
	if (filter == NULL)
		return true;
	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		if (json_is_string(filter) &&
		    strcmp(json_string_value(filter), filters[i].name) == 0) {
			c->filter = filters[i].filter;
			return true;
		}
	}
	return arg_err(err, errlen,
	               "'filter' must be one of all, pending, approved, processing, "
	               "available, unavailable, failed");
}

/* ---- the table ---- */

static const struct {
	const char *name;
	enum mcp_tool_kind kind;
	const char *description;
	const char *schema; /* JSON */
} tools[] = {
    {"search_media", MCP_TOOL_SEARCH,
     "Search films and TV shows. Returns titles with year, type, TMDB id and whether they are "
     "already there to watch or requested.",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\",\"description\":"
     "\"title to look for\"},\"type\":{\"type\":\"string\",\"enum\":[\"movie\",\"tv\"]}},"
     "\"required\":[\"query\"],\"additionalProperties\":false}"},
    {"request_media", MCP_TOOL_REQUEST,
     "Ask for a film or show to be added, as the configured person (their quotas and approval "
     "rules apply). Says why when nothing was requested: already available, already "
     "requested, quota, not allowed.",
     "{\"type\":\"object\",\"properties\":{\"tmdbId\":{\"type\":\"integer\",\"minimum\":1},"
     "\"type\":{\"type\":\"string\",\"enum\":[\"movie\",\"tv\"]},\"seasons\":{\"oneOf\":[{"
     "\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":1}},{\"const\":\"all\"}],"
     "\"description\":\"tv only; default all\"},\"is4k\":{\"type\":\"boolean\"}},"
     "\"required\":[\"tmdbId\",\"type\"],\"additionalProperties\":false}"},
    {"request_status", MCP_TOOL_STATUS,
     "Where a request or a title stands: waiting for approval, being fetched, ready to "
     "watch, declined, failed. Give requestId or title.",
     "{\"type\":\"object\",\"properties\":{\"requestId\":{\"type\":\"integer\",\"minimum\":1},"
     "\"title\":{\"type\":\"string\"}},\"additionalProperties\":false}"},
    {"list_requests", MCP_TOOL_LIST,
     "List requests, newest first: the person's own, or everyone's (admins only).",
     "{\"type\":\"object\",\"properties\":{\"scope\":{\"type\":\"string\",\"enum\":[\"mine\","
     "\"all\"]},\"filter\":{\"type\":\"string\",\"enum\":[\"all\",\"pending\",\"approved\","
     "\"processing\",\"available\",\"unavailable\",\"failed\"]}},\"additionalProperties\":"
     "false}"},
    {"downloads", MCP_TOOL_DOWNLOADS,
     "What is being fetched now (everyone's for admins, the person's own otherwise).",
     "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"},
    {"approve_request", MCP_TOOL_APPROVE, "Approve a pending request (admins only).",
     "{\"type\":\"object\",\"properties\":{\"requestId\":{\"type\":\"integer\",\"minimum\":1}},"
     "\"required\":[\"requestId\"],\"additionalProperties\":false}"},
    {"decline_request", MCP_TOOL_DECLINE, "Decline a pending request (admins only).",
     "{\"type\":\"object\",\"properties\":{\"requestId\":{\"type\":\"integer\",\"minimum\":1}},"
     "\"required\":[\"requestId\"],\"additionalProperties\":false}"},
};
#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

json_t *
mcp_tools_list(void)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < NTOOLS; i++) {
		json_t *schema = json_loads(tools[i].schema, 0, NULL);

		if (schema == NULL)
			fatalx("mcp: the schema of %s is not JSON", tools[i].name);
		json_array_append_new(list, json_pack("{s:s,s:s,s:o}", "name", tools[i].name,
		                                      "description", tools[i].description,
		                                      "inputSchema", schema));
	}
	return list;
}

/* Checks the arguments; true when the call may go on. */
static bool
call_args(struct mcp_tool_call *c, json_t *args, char *err, size_t errlen)
{
	static const char *const search[] = {"query", "type", NULL};
	static const char *const status[] = {"requestId", "title", NULL};
	static const char *const by_id[] = {"requestId", NULL};
	static const char *const none[] = {NULL};

	switch (c->kind) {
	case MCP_TOOL_SEARCH:
		return args_known(args, search, err, errlen) &&
		       arg_text(args, "query", c->query, sizeof(c->query), err, errlen) &&
		       arg_media(args, "type", false, &c->media, err, errlen);
	case MCP_TOOL_REQUEST:
		return args_request(c, args, err, errlen);
	case MCP_TOOL_STATUS:
		if (!args_known(args, status, err, errlen))
			return false;
		if (json_object_get(args, "requestId"))
			return arg_id(args, "requestId", &c->id, err, errlen);
		if (json_object_get(args, "title"))
			return arg_text(args, "title", c->query, sizeof(c->query), err, errlen);
		return arg_err(err, errlen, "give 'requestId' or 'title'");
	case MCP_TOOL_LIST:
		return args_list(c, args, err, errlen);
	case MCP_TOOL_DOWNLOADS:
		return args_known(args, none, err, errlen);
	case MCP_TOOL_APPROVE:
	case MCP_TOOL_DECLINE:
		return args_known(args, by_id, err, errlen) &&
		       arg_id(args, "requestId", &c->id, err, errlen);
	}
	return false;
}

/* The person's permissions, as chat checks them: NULL when allowed, else
 * the refusal. */
static json_t *
call_refusal(struct mcp_tool_call *c)
{
	bool admin = mcp_tools_is_admin(c);

	switch (c->kind) {
	case MCP_TOOL_REQUEST:
		/* Without a Seerr user usher would act as the API key's owner. */
		if (!admin && c->env.person->seerr_user <= 0)
			return mcp_tools_refused("not_allowed",
			                         "This person has no Overseerr user (seerr_user in "
			                         "the config), so usher cannot request as them.");
		return NULL;
	case MCP_TOOL_LIST:
		if (c->scope_all && !admin)
			return mcp_tools_refused("not_allowed",
			                         "Only an admin can see everyone's requests.");
		return NULL;
	case MCP_TOOL_APPROVE:
		return admin
		           ? NULL
		           : mcp_tools_refused("not_allowed", "only an admin can approve requests");
	case MCP_TOOL_DECLINE:
		return admin
		           ? NULL
		           : mcp_tools_refused("not_allowed", "only an admin can decline requests");
	case MCP_TOOL_SEARCH:
	case MCP_TOOL_STATUS:
	case MCP_TOOL_DOWNLOADS:
		break;
	}
	return NULL;
}

static void
call_start(struct mcp_tool_call *c)
{
	struct seerr *s = c->env.seerr;
	long as = c->env.person->seerr_user;

	switch (c->kind) {
	case MCP_TOOL_SEARCH:
		c->call = seerr_search(s, as, c->query, 1, mcp_tools_search_done, c);
		break;
	case MCP_TOOL_REQUEST:
		c->call =
		    seerr_details(s, as, c->what.kind, c->what.tmdb_id, mcp_tools_details_done, c);
		break;
	case MCP_TOOL_STATUS:
		if (c->id)
			c->call = seerr_get_request(s, as, c->id, mcp_tools_status_done, c);
		else
			c->call = seerr_search(s, as, c->query, 1, mcp_tools_title_status_done, c);
		break;
	case MCP_TOOL_LIST:
		c->call = seerr_list_requests(s, as, c->filter, c->scope_all ? 0 : as, LIST_TAKE, 0,
		                              mcp_tools_list_done, c);
		break;
	case MCP_TOOL_DOWNLOADS:
		c->scope_all = mcp_tools_is_admin(c);
		c->call = seerr_list_requests(s, as, SEERR_FILTER_PROCESSING, c->scope_all ? 0 : as,
		                              LIST_TAKE, 0, mcp_tools_downloads_done, c);
		break;
	case MCP_TOOL_APPROVE:
		c->call = seerr_approve(s, as, c->id, mcp_tools_action_done, c);
		break;
	case MCP_TOOL_DECLINE:
		c->call = seerr_decline(s, as, c->id, mcp_tools_action_done, c);
		break;
	}
}

struct mcp_tool_call *
mcp_tools_call(const struct mcp_tools_env *env, const char *name, json_t *args,
               mcp_tool_done_fn *done, void *arg, char *err, size_t errlen)
{
	struct mcp_tool_call *c;
	json_t *refusal;
	size_t i;

	for (i = 0; i < NTOOLS && strcmp(tools[i].name, name) != 0; i++)
		;
	if (i == NTOOLS) {
		snprintf(err, errlen, "unknown tool: %s", name);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->env = *env;
	c->kind = tools[i].kind;
	c->done = done;
	c->done_arg = arg;
	c->media = -1;
	if (!call_args(c, args, err, errlen)) {
		free(c);
		return NULL;
	}
	refusal = call_refusal(c);
	if (refusal)
		answer_later(c, refusal);
	else if (env->seerr == NULL)
		answer_later(c, mcp_tools_refused("service", "Overseerr is not configured."));
	else
		call_start(c);
	return c;
}

void
mcp_tools_cancel(struct mcp_tool_call *c)
{
	if (c == NULL)
		return;
	if (c->deferred) {
		/* The deferred call still holds the record: it frees it. */
		json_decref(c->result);
		c->result = NULL;
		c->deferred = false;
		return;
	}
	mcp_tools_clear(c);
	free(c);
}
