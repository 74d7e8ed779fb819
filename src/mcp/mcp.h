/*
 * mcp: usher as a Model Context Protocol server over stdio.
 *
 * An LLM client (Claude Desktop, an agent framework...) starts
 * `usher mcp --as NAME` and speaks JSON-RPC 2.0 to it, one message per
 * line on stdin, answers one per line on stdout (logs go to stderr only).
 * The server acts as exactly one configured person, with that person's
 * role and Seerr user, so the client can never do more than that person
 * could in chat. This module owns the protocol: line framing with a size
 * cap, JSON-RPC validation and errors, initialize/ping/tools; the tools
 * themselves live in mcp_tools.c.
 */
#ifndef USHER_MCP_H
#define USHER_MCP_H

#include <stddef.h>

struct loop;
struct seerr;
struct radarr;
struct sonarr;
struct store;
struct person;
struct mcp;

/* The largest message accepted, newline excluded; longer lines are
 * answered with -32600 "message too large" and skipped. */
#define MCP_LINE_MAX (1024 * 1024)

/* Writes one complete JSON message (no newline; the writer adds it).
 * Returns 0, or -1 when the client is gone. `line` is borrowed. */
typedef int mcp_write_fn(void *arg, const char *line, size_t len);

/* Returns a server the caller frees with mcp_free(). `loop`, `seerr` and
 * `person` are borrowed and must outlive it. */
struct mcp *mcp_new(struct loop *loop, struct seerr *seerr, const struct person *person,
                    mcp_write_fn *write, void *write_arg);
/* The arr clients the downloads tool asks for percents (either may be
 * NULL); borrowed, must outlive the server. */
void mcp_set_arrs(struct mcp *m, struct radarr *radarr, struct sonarr *sonarr);
/* Where requests made over MCP are recorded for the running usher to
 * follow (borrowed; NULL: they are not followed). */
void mcp_set_store(struct mcp *m, struct store *store);
/* Cancels every tool call still running, without answering it. */
void mcp_free(struct mcp *m);

/* Feeds bytes read from the client; complete lines are handled at once
 * (tool calls answer later, from the loop). `data` is borrowed. */
void mcp_feed(struct mcp *m, const char *data, size_t len);
/* Tool calls started and not yet answered. */
size_t mcp_pending(const struct mcp *m);
/* Called (from the loop) every time a tool call has been answered. */
void mcp_on_idle(struct mcp *m, void (*cb)(void *arg), void *arg);

/* `usher mcp [--config FILE] [--as PERSON]`: argv[0] is "mcp". Returns
 * the exit code: 0 at the end of input, 1 runtime failure, 2 usage or
 * configuration error. */
int mcp_main(int argc, char **argv);

#endif
