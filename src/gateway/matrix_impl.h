/*
 * matrix_impl: what the two halves of the Matrix gateway share.
 *
 * matrix.c speaks HTTP to the homeserver (login, the /sync long-poll,
 * joins and leaves, typing and read receipts); matrix_send.c sends and
 * edits with idempotent retries and opens direct chats; matrix_sync.c reads
 * one /sync batch (invites, room membership, encryption, m.direct,
 * messages) and decides what reaches the bot. Room facts usher needs across restarts
 * (members and their display names, encryption, whether the encrypted-room
 * notice was said, usher's own recent event ids) live in the store's
 * key-value table, one JSON object per room, so a restart that resumes
 * from next_batch still knows every room; so do the direct chat usher uses
 * with each person ("dms"), the sends not yet settled ("outbox") and the
 * txnId counter ("txn").
 *
 * Private to src/gateway/matrix*.c.
 */
#ifndef USHER_MATRIX_IMPL_H
#define USHER_MATRIX_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/http.h"
#include "core/loop.h"
#include "gateway/gateway.h"

struct store;
struct mx_send;
struct mx_aux;
struct mx_dm;

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
	json_t *dms;    /* the direct chat usher uses with each person: {"@user": "!room"} */
	/* Sends not yet settled, as kept in the store:
	 * {"txnId": {"room": "!r", "body": "{...}", "t": unix seconds}} */
	json_t *outbox;
	struct mx_room *rooms;
	struct mx_send *sends;
	struct mx_aux *aux;
	struct mx_dm *dm_opening; /* direct chats being created */
	/* txnIds: the epoch is when this store first sent (wall-clock ms), so
	 * a new store never repeats an old one's ids; txn_next counts sends
	 * without a key, and txn_reserved is how far the store has promised
	 * never to go back to. */
	unsigned long long txn_epoch;
	unsigned long long txn_next;
	unsigned long long txn_reserved;
};

/* A key in the store's kv table for this account: "matrix:@u:hs:NAME".
 * Returns a new string the caller frees. */
char *matrix_key(const struct matrix *m, const char *name);
/* The JSON object kept under matrix_key(m, name): a new reference, or
 * NULL when there is no store, nothing kept, or not an object. */
json_t *matrix_kv_load(struct matrix *m, const char *name);
/* Keeps `value` (borrowed) under matrix_key(m, name); a failure is logged. */
void matrix_kv_save(struct matrix *m, const char *name, const json_t *value);
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
/* Lists `room` in usher's m.direct for `user` (account data, so its
 * clients show it as a DM too). */
void matrix_add_direct(struct matrix *m, const char *user, const char *room);
/* Remembers `room` as the direct chat with `user` unless one is known. */
void matrix_note_dm(struct matrix *m, const char *user, const char *room);

/* Shared HTTP pieces (matrix.c). */

/* Percent-encodes all but RFC 3986 unreserved characters. Returns a new
 * string the caller frees. */
char *matrix_escape(const char *s);
/* Options every call shares. `hdr` receives the Authorization header and
 * `headers` (2 slots at least) the list; both must stay alive until http_start
 * returns; the caller frees *hdr. */
void matrix_http_opts(const struct matrix *m, struct http_opts *o, char **hdr,
                      const char **headers);
/* The errcode of a Matrix error body, or "" when there is none. */
const char *matrix_errcode(const json_t *body);
/* How long a 429 asks to wait: retry_after_ms, else Retry-After, else `dflt`. */
long matrix_retry_after(const struct http_response *r, const json_t *body, long dflt);
/* Exponential backoff with jitter after `failures` failures. */
long matrix_backoff(unsigned failures);
/* A 401: log in again with the password, or stop with a clear log line. */
void matrix_token_refused(struct matrix *m, const char *errcode);

/* Sending (matrix_send.c). */

int matrix_send(struct gateway *gw, const char *room, const struct chat_out *out,
                gateway_done_cb *done, void *arg);
int matrix_edit(struct gateway *gw, const char *room, const char *msg_id,
                const struct chat_out *out, gateway_done_cb *done, void *arg);
int matrix_send_direct(struct gateway *gw, const char *user, const struct chat_out *out,
                       gateway_done_cb *done, void *arg);
/* Reads the txnId counter, the direct chats and the outbox from the store;
 * sends the last run left unconfirmed wait for matrix_send_resume(). */
void matrix_send_init(struct matrix *m);
/* After a login: starts what waited for an access token. */
void matrix_send_resume(struct matrix *m);
/* Cancels everything in flight; no callback runs. */
void matrix_send_free(struct matrix *m);

#endif
