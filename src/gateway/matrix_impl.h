/*
 * matrix_impl: what the two halves of the Matrix gateway share.
 *
 * matrix.c speaks HTTP to the homeserver (login, the /sync long-poll,
 * sends and edits with retries, joins and leaves); matrix_sync.c reads one
 * /sync batch (invites, room membership, encryption, m.direct, messages)
 * and decides what reaches the bot. Room facts usher needs across restarts
 * (members and their display names, encryption, whether the encrypted-room
 * notice was said, usher's own recent event ids) live in the store's
 * key-value table, one JSON object per room, so a restart that resumes
 * from next_batch still knows every room.
 *
 * Private to src/gateway/matrix*.c.
 */
#ifndef USHER_MATRIX_IMPL_H
#define USHER_MATRIX_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/loop.h"

struct gateway;
struct http;
struct http_call;
struct store;
struct mx_send;
struct mx_aux;

/* Longest message body handed to the bot; longer ones are cut there. */
#define MATRIX_TEXT_MAX (16 * 1024)
/* How many of usher's own event ids a room remembers, to see replies to usher. */
#define MATRIX_OWN_EVENTS 32

struct mx_room {
	char *id;
	/* {"members": {"@u:hs": {"m": "join"|"invite", "n": "Name"}}, "enc": true,
	 *  "notice": true, "dm": true, "count": N, "own": ["$ev", ...]} */
	json_t *state;
	bool dirty;
	struct mx_room *next;
};

struct matrix {
	struct gateway *gw;
	struct http *http;
	struct store *store; /* borrowed, may be NULL */
	char *hs;            /* homeserver base URL without a trailing slash */
	char *user_id;
	char *localpart;
	char *name;   /* [usher] name: people may start a message with it */
	char *prefix; /* [usher] command_prefix */
	char *token;  /* NULL until known; registered as a log secret */
	char *password;
	char *device_id;
	bool token_from_config;
	char **people; /* Matrix ids of the configured people */
	size_t npeople;
	char **join_rooms; /* [matrix] rooms */
	size_t njoin_rooms;
	long request_timeout_ms;
	char *filter_q; /* the sync filter, URL-encoded */
	char *since;    /* next_batch of the last batch handled, NULL before the first */
	bool running;
	bool dead; /* the token was refused: nothing more until a restart */
	struct http_call *sync_call;
	struct http_call *login_call;
	loop_timer_id sync_timer;
	unsigned sync_failures;
	json_t *direct; /* m.direct account data: {"@user": ["!room", ...]} */
	struct mx_room *rooms;
	struct mx_send *sends;
	struct mx_aux *aux;
	unsigned long long txn_base; /* wall-clock ms at start: txnIds stay unique across runs */
	unsigned long txn_next;
};

/* A key in the store's kv table for this account: "matrix:@u:hs:NAME".
 * Returns a new string the caller frees. */
char *matrix_key(const struct matrix *m, const char *name);
/* The room's facts, loaded from the store the first time; never NULL.
 * Borrowed: valid until the gateway is freed. */
struct mx_room *matrix_room(struct matrix *m, const char *id);
/* Writes every changed room to the store. */
void matrix_rooms_save(struct matrix *m);
/* Records an event usher sent, so replies to it count as addressing usher. */
void matrix_room_add_own(struct matrix *m, const char *room, const char *event_id);
/* The display name of `user` in `room` (borrowed), or NULL. */
const char *matrix_member_name(struct matrix *m, const char *room, const char *user);
/* True when `user` is one of the configured people. */
bool matrix_is_person(const struct matrix *m, const char *user);

/* Handles one /sync response. `initial`: the first sync after install,
 * whose history is not answered (only invites are acted on). */
void matrix_handle_sync(struct matrix *m, const json_t *root, bool initial);

/* Says `text` in `room` with nobody to call back (the encrypted-room notice). */
void matrix_say(struct matrix *m, const char *room, const char *text);
/* Joins (true) or leaves/declines (false) `room`, unless already doing so. */
void matrix_membership(struct matrix *m, const char *room, bool join);

#endif
