/*
 * xmpp_impl: what the four parts of the XMPP gateway share.
 *
 * xmpp.c owns the connection: libstrophe driven from usher's loop, reconnects
 * with backoff carrying XEP-0198 state, the XEP-0199 ping that notices a dead
 * server, the config and the gateway_ops table. xmpp_send.c owns the way out:
 * the bounded outbox, completions, chat states (XEP-0085) and direct
 * messages. xmpp_stanza.c builds and reads stanzas: JIDs, bodies, the
 * incoming message, presence and iq handlers. xmpp_muc.c owns group rooms
 * (XEP-0045): joining, occupants and who they are, addressed messages.
 *
 * The prefix is xmppgw_ because xmpp_ is libstrophe's.
 * Private to src/gateway/xmpp*.c (and tests/unit/test_xmpp.c).
 */
#ifndef USHER_XMPP_IMPL_H
#define USHER_XMPP_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <strophe.h>

#include "core/loop.h"
#include "gateway/gateway.h"

#define NS_MUC        "http://jabber.org/protocol/muc"
#define NS_MUC_USER   "http://jabber.org/protocol/muc#user"
#define NS_MUC_OWNER  "http://jabber.org/protocol/muc#owner"
#define NS_DELAY      "urn:xmpp:delay"
#define NS_CORRECT    "urn:xmpp:message-correct:0"
#define NS_OOB        "jabber:x:oob"
#define NS_REPLY      "urn:xmpp:reply:0"
#define NS_FALLBACK   "urn:xmpp:feature-fallback:0"
#define NS_SID        "urn:xmpp:sid:0"
#define NS_PING       "urn:xmpp:ping"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_ROSTER     "jabber:iq:roster"
#define NS_CHATSTATES "http://jabber.org/protocol/chatstates"

#define XMPPGW_BODY_MAX      8192 /* longer incoming bodies are dropped, not parsed */
#define XMPPGW_OUTBOX_MAX    256
#define XMPPGW_OCCUPANTS_MAX 1000
#define XMPPGW_RECENT        64
#define XMPPGW_COMPOSING_MAX 64 /* 1:1 chats shown "composing" at once */

struct xmppgw_occupant {
	char *nick;
	char *real;   /* the occupant's real full JID, NULL when the room hides it */
	bool by_nick; /* already logged as known by nick */
	struct xmppgw_occupant *next;
};

struct xmppgw_room {
	char *jid;  /* bare room JID */
	char *nick; /* usher's nick in it */
	bool joined;
	bool composing; /* a <composing/> went out and no <active/> since */
	size_t occupant_count;
	struct xmppgw_occupant *occupants;
};

/* Recent message ids in rooms: who wrote them (for the reply's `to`) and
 * whether they are usher's own (a reply to one addresses usher). */
struct xmppgw_recent {
	char *id;
	char *from; /* occupant JID */
	bool own;
};

/* [person] xmpp_nick: an occupant nick in rooms that hide real JIDs, and
 * the JID of the person it stands for. */
struct xmppgw_nick {
	char *nick;
	char *jid;
};

struct xmppgw_out;
struct xmppgw_done;

struct xmppgw {
	struct gateway *gw;
	struct loop *loop;
	char *jid;
	char *password;
	char *host; /* NULL: the JID's domain through DNS SRV */
	unsigned short port;
	long flags;
	char **known; /* bare JIDs of configured people */
	size_t known_count;
	struct xmppgw_nick *nicks;
	size_t nick_count;
	struct xmppgw_room *rooms;
	size_t room_count;

	xmpp_ctx_t *ctx;
	xmpp_conn_t *conn;
	xmpp_log_t logger;
	int fd; /* -1 when no socket */
	int fd_events;
	loop_hook_id hook;
	loop_timer_id tick;
	loop_timer_id retry;
	bool started;
	bool online;   /* session established */
	bool stopping; /* no reconnects, no reports */
	unsigned failures;

	/* Dead-link detection (XEP-0199): times from loop_now_ms. */
	uint64_t ping_ms;         /* silence before a ping; 0: never ping */
	uint64_t last_rx;         /* the last stanza from the server */
	uint64_t ping_sent;       /* 0: no ping outstanding */
	uint64_t connect_started; /* when the current connection attempt began */

	struct xmppgw_out *out_head;
	size_t out_len;
	struct xmppgw_done *pending;
	struct xmppgw_recent recent[XMPPGW_RECENT];
	size_t recent_next;
	char *composing[XMPPGW_COMPOSING_MAX]; /* bare JIDs of 1:1 chats */
	struct xmppgw *next_live;
};

/* ---- xmpp_stanza.c: JIDs, text and stanzas ---- */

size_t xmppgw_bare_len(const char *jid);
/* True when the bare parts of two JIDs are the same (case-insensitive). */
bool xmppgw_same_bare(const char *a, const char *b);
/* The resource, borrowed from `jid`, or NULL. */
const char *xmppgw_resource(const char *jid);
/* Splits a comma-separated list; returns a new array of new strings (the
 * caller frees each and the array), NULL when empty. */
char **xmppgw_split_list(const char *list, size_t *count);
/* Replaces the control characters XML 1.0 forbids, in place. */
void xmppgw_xml_clean(char *s);
/* A new child element of `parent`, borrowed: the parent holds it. */
xmpp_stanza_t *xmppgw_child(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name,
                            const char *ns);
void xmppgw_child_text(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *text);
/* "usher: help" -> "help" in *text; true when the text starts with the nick. */
bool xmppgw_strip_nick(const char *nick, const char **text);
bool xmppgw_mentions_nick(const char *nick, const char *text);
/* The body without the quoted part a XEP-0461 fallback marks; a new string. */
char *xmppgw_body_without_fallback(xmpp_stanza_t *st, const char *body);
/* A new message stanza (the caller releases it) for `out`: type groupchat
 * when `room`, else chat; <active/> always, a XEP-0308 <replace/> when
 * `replace_id`, OOB for the poster. */
xmpp_stanza_t *xmppgw_build(struct xmppgw *x, struct xmppgw_room *room, const char *to,
                            const char *id, const struct chat_out *out, const char *replace_id);
/* A new body-less chat state message ("composing", "active"). */
xmpp_stanza_t *xmppgw_chat_state(struct xmppgw *x, bool groupchat, const char *to,
                                 const char *state);
void xmppgw_deliver(struct xmppgw *x, const char *room, const char *sender, const char *name,
                    const char *text, const char *msg_id, const char *reply_to, bool direct,
                    bool addressed);
bool xmppgw_known_jid(struct xmppgw *x, const char *jid);
/* The condition of an error stanza ("item-not-found"), borrowed from `st`. */
const char *xmppgw_error_condition(xmpp_stanza_t *st);
int xmppgw_on_message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg);
int xmppgw_on_presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg);
int xmppgw_on_iq(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg);

/* ---- xmpp_muc.c: group rooms ---- */

struct xmppgw_room *xmppgw_room_find(struct xmppgw *x, const char *jid);
void xmppgw_room_join(struct xmppgw *x, struct xmppgw_room *r);
void xmppgw_room_presence(struct xmppgw *x, struct xmppgw_room *r, xmpp_stanza_t *st,
                          const char *type, const char *from);
void xmppgw_groupchat(struct xmppgw *x, struct xmppgw_room *r, xmpp_stanza_t *st, const char *from,
                      const char *body);
void xmppgw_occupants_clear(struct xmppgw_room *r);
/* Who an occupant is: the bare real JID when the room shows it, else the
 * JID of the person whose xmpp_nick it is, else NULL. Returns a new string. */
char *xmppgw_occupant_jid(struct xmppgw *x, struct xmppgw_room *r, const char *nick);
const struct xmppgw_recent *xmppgw_recent_find(struct xmppgw *x, const char *id);
void xmppgw_recent_free(struct xmppgw *x);

/* ---- xmpp_send.c: the way out ---- */

/* Hands a stanza to libstrophe now (the connection must exist). */
void xmppgw_send_now(struct xmppgw *x, xmpp_stanza_t *st);
/* Hands every queued message whose destination is ready to libstrophe. */
void xmppgw_flush(struct xmppgw *x);
/* Reports `done` later from a zero-delay timer; strings are copied. */
void xmppgw_report(struct xmppgw *x, gateway_done_cb *done, void *arg, int status,
                   const char *msg_id, const char *error);
/* Forgets every chat state sent: after a reconnect none is shown. */
void xmppgw_composing_reset(struct xmppgw *x);
/* Frees the outbox, pending completions and chat states (gateway_free). */
void xmppgw_send_free(struct xmppgw *x);
int xmppgw_send(struct gateway *gw, const char *room, const struct chat_out *out,
                gateway_done_cb *done, void *arg);
int xmppgw_edit(struct gateway *gw, const char *room, const char *msg_id,
                const struct chat_out *out, gateway_done_cb *done, void *arg);
int xmppgw_send_direct(struct gateway *gw, const char *user, const struct chat_out *out,
                       gateway_done_cb *done, void *arg);
void xmppgw_typing(struct gateway *gw, const char *room, bool on);

#endif
