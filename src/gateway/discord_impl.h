/*
 * discord_impl: what the three parts of the Discord gateway share.
 *
 * discord.c runs the gateway WebSocket (identify, heartbeat, resume) and the
 * gateway_ops table; discord_rest.c owns the REST queue with its per-route
 * rate limits and builds message bodies (content, poster embed, buttons);
 * discord_interactions.c owns slash commands: registration at start,
 * INTERACTION_CREATE (commands, button clicks, autocomplete) and the table of
 * live interactions whose tokens replies go through for 15 minutes.
 *
 * Private to src/gateway/discord*.c (and tests/unit/test_discord.c, which
 * tests the pure parts).
 */
#ifndef USHER_DISCORD_IMPL_H
#define USHER_DISCORD_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/loop.h"
#include "gateway/gateway.h"

struct http;
struct http_call;
struct store;
struct ws;

#define DISCORD_CONTENT_MAX 2000
/* Interaction tokens live 15 minutes; stop using one a little before. */
#define DISCORD_IX_TTL_MS (14 * 60 * 1000 + 30 * 1000)
/* Interactions and button messages remembered (oldest dropped first). */
#define DISCORD_IX_MAX      64
#define DISCORD_IX_MSGS     8
#define DISCORD_BUTTONS_MAX 25
/* A DM channel per person, cached for send_direct. */
#define DISCORD_DM_CACHE 64
/* Autocomplete must be answered within 3 s: give up on Seerr before. */
#define DISCORD_SUGGEST_WAIT_MS 2500

struct discord_route;

/* One REST call waiting for its route, in flight, or waiting to retry. */
struct discord_req {
	struct discord *d;
	struct discord_route *route;
	char *method;
	char *url;
	json_t *body;
	char *known_id; /* reported on success when the answer has no id (edits) */
	gateway_done_cb *done;
	void *arg;
	void (*arg_free)(void *arg); /* frees arg when the call is dropped unanswered */
	int attempts;
	struct discord_req *next;
};

/* A rate-limit route: calls on it go one at a time, in order. */
struct discord_route {
	char *key;
	struct discord_req *head;
	struct discord_req *tail;
	struct http_call *call; /* the head's call in flight */
	uint64_t blocked_until; /* loop ms */
	loop_timer_id timer;
	struct discord_route *next;
};

/* A live interaction (slash command or button click). Its id is also the
 * msg_id of the chat_msg the bot got, so replies can name it. */
struct discord_ix {
	char *id;
	char *token;
	char *channel;
	char *user;
	uint64_t created_ms;
	bool deferred_original;      /* a "thinking…" message waits to be filled */
	bool current;                /* replies in its channel without reply_to go here */
	bool dead;                   /* Discord refused its token: use the channel */
	char *msgs[DISCORD_IX_MSGS]; /* webhook messages sent through it */
	struct discord_ix *next;
};

/* A message usher posted with buttons, who may press its choice and yes/no
 * buttons, and what its action buttons ("usher:act:N") say. */
struct discord_buttons {
	char *msg_id;
	char *owner;  /* NULL: whoever is in the DM */
	json_t *says; /* array of strings, N-1 for "usher:act:N"; NULL: no actions */
	struct discord_buttons *next;
};

struct discord_suggest; /* an autocomplete waiting for the host */

/* The DM channel opened with a person (POST /users/@me/channels). */
struct discord_dm {
	char *user;
	char *channel;
	struct discord_dm *next;
};

struct discord {
	struct gateway *gw;
	struct loop *loop;
	struct store *store;
	struct http *http;
	char *api_url;
	char *auth; /* "Authorization: Bot ..." */
	char *token;
	char *app_id; /* [discord] application_id, else READY's application.id */
	bool register_commands;
	char *guild;

	char *gateway_url;
	char *resume_url;
	char *session_id;
	long seq; /* -1: none yet */
	char *self_id;

	struct ws *ws;
	struct http_call *gw_call;
	bool running;
	bool fatal;
	bool identified;
	uint64_t hb_interval;
	bool acked;
	loop_timer_id hb_timer;
	loop_timer_id connect_timer;
	bool connect_resume;
	uint64_t backoff_ms;
	uint64_t global_until;

	struct discord_route *routes;

	struct discord_ix *ixs;
	struct discord_buttons *buttons;
	struct discord_suggest *suggests;
	struct discord_dm *dms; /* newest first, at most DISCORD_DM_CACHE */
	uint64_t ix_ttl_ms;
	long last_status; /* HTTP status of the last failed REST call, for its `done` */
};

/* --- discord_rest.c --- */

/* Queues a call on route `route_key` (no secrets in it: it is logged).
 * Takes `url` and `body` (may be NULL); copies the rest. Returns the
 * queued call (owned by the queue; valid until `done` runs), so the caller
 * can set arg_free. */
struct discord_req *discord_rest(struct discord *d, const char *method, const char *route_key,
                                 char *url, json_t *body, const char *known_id,
                                 gateway_done_cb *done, void *arg);
/* Cancels everything queued, without calling back. */
void discord_rest_free(struct discord *d);
/* The JSON of a message: content (cut at 2000 characters), allowed
 * mentions, the reply reference when `reference`, embeds (one per choice
 * with its poster, and the message's poster as a thumbnail) and components
 * (on an edit, components is always set, [] when there are none, so stale
 * buttons go away). Returns a new reference. */
json_t *discord_message_body(const struct chat_out *out, bool edit, bool reference);
/* The components for `out`: up to five choices as "usher:choice:N"
 * buttons, more as one "usher:choice" select menu whose values are the
 * numbers; each action as a "usher:act:N" button (danger ones red); and
 * "usher:yes"/"usher:no" when the text ends "Say yes or no.". At most five
 * action rows. Returns a new array of action rows, or NULL when none. */
json_t *discord_components(const struct chat_out *out);
/* What each of `out`'s actions says, as a new JSON array of strings (index
 * N-1 for "usher:act:N"), or NULL when it has none. */
json_t *discord_action_says(const struct chat_out *out);
bool discord_id_ok(const char *id);

/* --- discord_interactions.c --- */

/* The bulk-overwrite body for the slash commands (new reference). */
json_t *discord_commands_json(void);
/* PUTs the commands (guild or global) when [discord] application_id is set. */
void discord_register_commands(struct discord *d);
/* What the bot should read for a slash command's `data`, in words the
 * grammar understands, written to out[outlen]; -1 for an unknown command. */
int discord_command_text(const json_t *data, char *out, size_t outlen);
/* The answer a choice or yes/no button's custom_id stands for ("3",
 * "yes", "no"), written to out[outlen]; -1 for ids usher did not make.
 * `value` is a select menu's chosen value (NULL for buttons). */
int discord_custom_id_text(const char *custom_id, const char *value, char *out, size_t outlen);
/* N for an action button's "usher:act:N", else 0. */
int discord_action_number(const char *custom_id);
void discord_on_interaction(struct discord *d, json_t *ix);
/* A person wrote in `channel`: replies there are no longer follow-ups. */
void discord_channel_moved_on(struct discord *d, const char *channel);
/* Sends/edits through a live interaction when one fits; returns 1 when it
 * took the message, 0 when the caller should use the channel. */
int discord_ix_send(struct discord *d, const char *room, const struct chat_out *out,
                    gateway_done_cb *done, void *arg);
int discord_ix_edit(struct discord *d, const char *room, const char *msg_id,
                    const struct chat_out *out, gateway_done_cb *done, void *arg);
/* Remembers a channel message with buttons (owner may be NULL; takes
 * `says`, which may be NULL). */
void discord_buttons_add(struct discord *d, const char *msg_id, const char *owner, json_t *says);
/* discord_rest() for a message: on success remembers it (as the
 * interaction `ix_id`'s webhook message when not NULL, and as a message
 * with buttons owned by `owner`, its actions saying `says` (taken, may be
 * NULL), when the body has components). When
 * Discord refuses an interaction's token (expired: 401/404), the message
 * goes to channel `room` instead (`edit_id`: the message an edit was for,
 * NULL for new messages and @original). */
void discord_send_tracked(struct discord *d, const char *method, const char *route_key, char *url,
                          json_t *body, const char *known_id, const char *ix_id, const char *owner,
                          json_t *says, const char *room, const char *edit_id,
                          gateway_done_cb *done, void *arg);
void discord_interactions_free(struct discord *d);

#endif
