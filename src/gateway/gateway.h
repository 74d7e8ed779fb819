/*
 * gateway: the one interface every chat network implements.
 *
 * A gateway turns its network's events into struct chat_msg for the bot and
 * carries the bot's replies back: send, edit (for progress messages), react.
 * Each network is one file with one `const struct gateway_ops` table; the
 * bot never asks which network it talks to, only what the gateway can do
 * (gateway_caps).
 *
 * Sending is asynchronous: the network assigns the message id later, and the
 * completion callback runs exactly once, never from inside the call to
 * gateway_send()/gateway_edit(), and never after gateway_free().
 */
#ifndef USHER_GATEWAY_H
#define USHER_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct config;
struct store;
struct gateway;

/* An incoming message. All strings are borrowed and valid only while the
 * on_message callback runs; copy what must outlive it. */
struct chat_msg {
	const char *network;     /* "console", "xmpp", "matrix", "discord" */
	const char *room;        /* where to answer: DM id, MUC JID, room id, channel id */
	const char *sender;      /* network identity: JID, @user:server, Discord id */
	const char *sender_name; /* display name, for addressing people in rooms */
	const char *text;        /* the message as typed (UTF-8, may be hostile) */
	const char *msg_id;      /* network message id, NULL when the network has none */
	const char *reply_to;    /* id of the message this one answers, or NULL */
	bool direct;             /* a one-to-one conversation */
	bool addressed;          /* mentions usher, replies to usher, or uses the prefix */
};

/* One of the numbered options a person picks from ("2"). `label` is the
 * option as the text lists it ("Dune (2021)"); networks with menus show it
 * as a button or select option, with the poster where they can. */
struct chat_choice {
	const char *label;
	const char *detail;    /* a line under the label ("film · available"), or NULL */
	const char *image_url; /* poster, or NULL */
};

/* A button standing for words: pressing it is the presser saying `says`
 * ("approve request 12"), so every rule for typed words applies to it. */
struct chat_action {
	const char *label; /* "Approve" */
	const char *says;  /* "approve request 12" */
	bool danger;       /* shown as destructive (decline, cancel) */
};

/* An outgoing message. Strings are borrowed for the duration of the call.
 * `text` always says everything (choices and actions included), so a
 * network may ignore the structured parts. */
struct chat_out {
	const char *text;      /* plain text, always present */
	const char *html;      /* richer form where the network has one, or NULL */
	const char *reply_to;  /* quote/thread under this message id, or NULL */
	const char *mention;   /* sender id to mention (ping), or NULL */
	const char *image_url; /* poster, sent natively where possible, or NULL */
	/* A stable name for this message ("req-12-reply"), or NULL. Networks
	 * that deduplicate sends (Matrix txnId) derive their id from it, so the
	 * same message re-sent after a timeout or a restart posts once. */
	const char *key;
	const struct chat_choice *choices; /* answered with their number, from 1 */
	size_t choice_count;
	const struct chat_action *actions;
	size_t action_count;
};

enum gateway_caps {
	GATEWAY_CAN_EDIT = 1 << 0,
	GATEWAY_CAN_REACT = 1 << 1,
	GATEWAY_CAN_HTML = 1 << 2,
};

/* status 0: delivered, and msg_id (borrowed for the call) names the new
 * message where the network has ids; -1: not delivered, `error` says why. */
typedef void gateway_done_cb(void *arg, int status, const char *msg_id, const char *error);

/* Titles for a network's autocomplete ("Dune (2021)"), borrowed for the call. */
typedef void gateway_suggest_cb(void *arg, const char *const *titles, size_t n);

/* What the gateway calls on the bot. Callbacks run on the loop. */
struct gateway_host {
	void (*on_message)(struct gateway *gw, const struct chat_msg *msg, void *arg);
	/* The network will send no more messages (console at end of input). */
	void (*on_end)(struct gateway *gw, void *arg);
	/* Optional: looks up titles starting with `prefix` (Discord's
	 * autocomplete). Returns a handle for suggest_cancel, or NULL when it
	 * cannot (then `done` never runs); `done` runs once, later, never from
	 * inside the call, unless the gateway cancels first. */
	void *(*suggest)(struct gateway *gw, const char *prefix, gateway_suggest_cb *done,
	                 void *done_arg, void *arg);
	void (*suggest_cancel)(void *handle, void *arg);
	void *arg;
	/* Where a network keeps its cursors (Matrix next_batch); borrowed,
	 * may be NULL (tests), then nothing survives a restart. */
	struct store *store;
};

struct gateway_ops {
	const char *name;
	int caps; /* enum gateway_caps */
	/* Reads its config section and prepares; returns 0 or -1 with `err`. */
	int (*init)(struct gateway *gw, const struct config *cfg, char *err, size_t errlen);
	int (*start)(struct gateway *gw);
	void (*stop)(struct gateway *gw);
	int (*send)(struct gateway *gw, const char *room, const struct chat_out *out,
	            gateway_done_cb *done, void *arg);
	int (*edit)(struct gateway *gw, const char *room, const char *msg_id,
	            const struct chat_out *out, gateway_done_cb *done, void *arg);
	int (*react)(struct gateway *gw, const char *room, const char *msg_id, const char *emoji,
	             gateway_done_cb *done, void *arg);
	/* Optional: shows (on) or clears (off) "usher is typing" in `room`
	 * (Matrix typing, XMPP chat states, Discord trigger typing).
	 * Fire and forget: a failure is logged, never reported. */
	void (*typing)(struct gateway *gw, const char *room, bool on);
	/* Optional: marks `msg_id` in `room` as read (Matrix read receipt). */
	void (*seen)(struct gateway *gw, const char *room, const char *msg_id);
	/* Optional: sends to the one-to-one conversation with `user` (the
	 * network's id for a person: JID, @user:server, Discord user id),
	 * opening it first where the network needs that. `done` as for send. */
	int (*send_direct)(struct gateway *gw, const char *user, const struct chat_out *out,
	                   gateway_done_cb *done, void *arg);
	void (*free_impl)(struct gateway *gw);
};

/* The generic part every gateway shares; `impl` belongs to the network's
 * file. Returns a new gateway the caller frees with gateway_free(), or NULL
 * with `err` filled. `loop` and `host` are borrowed and must outlive it. */
struct gateway *gateway_new(const struct gateway_ops *ops, struct loop *loop,
                            const struct config *cfg, const struct gateway_host *host, char *err,
                            size_t errlen);
void gateway_free(struct gateway *gw);

const char *gateway_name(const struct gateway *gw);
int gateway_caps(const struct gateway *gw);
struct loop *gateway_loop(const struct gateway *gw);
void *gateway_impl(const struct gateway *gw);
/* The host's store (borrowed, may be NULL). */
struct store *gateway_store(const struct gateway *gw);
void gateway_set_impl(struct gateway *gw, void *impl);
/* For the network's file: hands a message or the end to the bot. */
void gateway_deliver(struct gateway *gw, const struct chat_msg *msg);
void gateway_deliver_end(struct gateway *gw);
/* The host's suggest hook (see struct gateway_host); NULL when it has none. */
void *gateway_suggest(struct gateway *gw, const char *prefix, gateway_suggest_cb *done,
                      void *done_arg);
/* Cancels a suggestion still pending: its `done` will not run. */
void gateway_suggest_cancel(struct gateway *gw, void *handle);

int gateway_start(struct gateway *gw);
void gateway_stop(struct gateway *gw);
/* These return -1 without calling `done` when the network cannot do it
 * (edit and react are optional: see gateway_caps). */
int gateway_send(struct gateway *gw, const char *room, const struct chat_out *out,
                 gateway_done_cb *done, void *arg);
int gateway_edit(struct gateway *gw, const char *room, const char *msg_id,
                 const struct chat_out *out, gateway_done_cb *done, void *arg);
int gateway_react(struct gateway *gw, const char *room, const char *msg_id, const char *emoji,
                  gateway_done_cb *done, void *arg);
int gateway_send_direct(struct gateway *gw, const char *user, const struct chat_out *out,
                        gateway_done_cb *done, void *arg);
/* No-ops on networks without them. */
void gateway_typing(struct gateway *gw, const char *room, bool on);
void gateway_seen(struct gateway *gw, const char *room, const char *msg_id);
bool gateway_can_send_direct(const struct gateway *gw);

/* The networks usher knows. */
extern const struct gateway_ops console_gateway_ops;
extern const struct gateway_ops discord_gateway_ops;
extern const struct gateway_ops xmpp_gateway_ops;
extern const struct gateway_ops matrix_gateway_ops;

#endif
