/*
 * mcp_tools_impl: what the two files of the mcp_tools module share.
 * mcp_tools.c checks arguments and permissions and starts the Seerr call;
 * mcp_tools_seerr.c turns Seerr's answer into the tool's result. Not for
 * use outside src/mcp.
 */
#ifndef USHER_MCP_TOOLS_IMPL_H
#define USHER_MCP_TOOLS_IMPL_H

#include <stdbool.h>

#include <jansson.h>

#include "mcp/mcp_tools.h"
#include "services/arr.h"
#include "services/seerr.h"

/* The longest text summary a result carries. */
#define MCP_TOOLS_TEXT_MAX 4096
/* How far back a person's own requests are searched for a duplicate. */
#define MCP_TOOLS_LOOKBACK 100

enum mcp_tool_kind {
	MCP_TOOL_SEARCH,
	MCP_TOOL_REQUEST,
	MCP_TOOL_STATUS,
	MCP_TOOL_LIST,
	MCP_TOOL_DOWNLOADS,
	MCP_TOOL_APPROVE,
	MCP_TOOL_DECLINE,
};

struct mcp_tool_call {
	struct mcp_tools_env env;
	enum mcp_tool_kind kind;
	mcp_tool_done_fn *done;
	void *done_arg;
	struct seerr_call *call; /* the Seerr call in flight, owned */
	bool deferred;           /* a ready result waits in `result` for the loop */
	json_t *result;

	/* The arguments, checked. */
	char query[SEERR_TITLE_MAX];
	int media; /* -1 any, else enum seerr_kind */
	long id;   /* tmdbId or requestId */
	struct seerr_new_request what;
	bool scope_all;
	enum seerr_request_filter filter;
	struct seerr_details details; /* request_media, after the details step */

	/* downloads: Seerr's list, then each request's progress from the
	 * Radarr and Sonarr queues. */
	struct arr_call *arr_call; /* owned, like `call` */
	struct mcp_download *downloads;
	size_t ndownloads;
	long total;
};

/* One request being fetched and what the queues say of it. */
struct mcp_download {
	struct seerr_request req;
	long long size, sizeleft; /* summed over the queue records of the title */
	long long timeleft_s;     /* the longest; -1 when unknown */
	bool queued;              /* some queue record matched */
	char status[32];          /* the first matching record's status */
};

/* Frees what a call holds besides itself. */
void mcp_tools_clear(struct mcp_tool_call *c);
/* Answers and frees the call. Takes `result`. */
void mcp_tools_finish(struct mcp_tool_call *c, json_t *result);
/* A CallToolResult; takes `structured` (NULL: an empty object). */
json_t *mcp_tools_result(bool is_error, json_t *structured, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A refusal or failure the client's model should read: isError true,
 * structuredContent {reason, message}. */
json_t *mcp_tools_refused(const char *reason, const char *message);
bool mcp_tools_is_admin(const struct mcp_tool_call *c);

/* Seerr callbacks, `arg` being the call (mcp_tools_seerr.c). */
seerr_search_cb mcp_tools_search_done;
seerr_search_cb mcp_tools_title_status_done;
seerr_details_cb mcp_tools_details_done;
seerr_request_cb mcp_tools_status_done;
seerr_request_cb mcp_tools_action_done;
seerr_requests_cb mcp_tools_list_done;
seerr_requests_cb mcp_tools_downloads_done;

#endif
