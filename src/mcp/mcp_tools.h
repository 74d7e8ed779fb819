/*
 * mcp_tools: the tools usher offers an MCP client, as the one person the
 * server acts as: search_media, request_media, request_status,
 * list_requests, downloads, approve_request, decline_request.
 *
 * Each tool checks its arguments (a wrong shape is a JSON-RPC -32602, told
 * to the caller at once), then the person's permission (a refusal is a
 * result with isError true), then asks Seerr as that person (X-Api-User).
 * Results are MCP CallToolResult objects: content with one short text,
 * structuredContent with the same facts as JSON. A call owns its Seerr
 * call until it answers or is cancelled.
 */
#ifndef USHER_MCP_TOOLS_H
#define USHER_MCP_TOOLS_H

#include <stddef.h>

#include <jansson.h>

struct loop;
struct seerr;
struct person;
struct radarr;
struct sonarr;
struct store;
struct mcp_tool_call;

/* What every call acts with; borrowed, must outlive the calls. */
struct mcp_tools_env {
	struct loop *loop;
	struct seerr *seerr;
	const struct person *person;
	/* Optional (NULL): downloads then shows no percent for films / shows. */
	struct radarr *radarr;
	struct sonarr *sonarr;
	/* Optional (NULL): where requests made here are handed to the running
	 * usher, which follows them and tells the person when they are ready. */
	struct store *store;
};

/* Returns a new reference: the tools/list "tools" array. */
json_t *mcp_tools_list(void);

/* `result` is a new reference the callback takes over. */
typedef void mcp_tool_done_fn(void *arg, json_t *result);

/* Starts tool `name` with `args` (an object, borrowed). Returns a handle
 * that answers through `done` exactly once, never from inside this call,
 * unless cancelled first; or NULL with `err` saying which argument is
 * wrong or that no such tool exists (nothing was started). */
struct mcp_tool_call *mcp_tools_call(const struct mcp_tools_env *env, const char *name,
                                     json_t *args, mcp_tool_done_fn *done, void *arg, char *err,
                                     size_t errlen);
/* Stops a call that has not answered; it never will. */
void mcp_tools_cancel(struct mcp_tool_call *call);

#endif
