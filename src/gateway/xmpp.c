/*
 * The XMPP gateway: usher as an ordinary account, through libstrophe.
 *
 * libstrophe runs inside usher's loop with no thread of its own: the socket
 * it opens is captured by the sockopt callback and watched here, and
 * xmpp_run_once(ctx, 0) runs when the socket is ready, from a before-sleep
 * hook while libstrophe has output queued or a connect in progress, and on
 * a slow tick for its timed handlers. Reconnecting is ours: a new
 * connection after a backoff with jitter, carrying the stream management
 * (XEP-0198) state of the old one so unacknowledged stanzas are resent.
 * Messages the bot sends while the link is down, or to a room not yet
 * (re)joined, wait in a bounded outbox.
 *
 * 1:1 chats come from people's bare JIDs; group rooms (XEP-0045) map
 * occupants to people through the real JID the room shows usher. Edits are
 * Last Message Correction (XEP-0308), replies in rooms XEP-0461, posters
 * Out-of-Band Data (XEP-0066) with the link in the body as well.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <strophe.h>

#include "core/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
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
#define XMPPGW_TICK_MS       500
#define XMPPGW_RETRY_MIN_MS  1000
#define XMPPGW_RETRY_MAX_MS  60000
/* Reads per readable event: one run reads at most 4 KiB, and a TLS record
 * (up to 16 KiB) can sit decrypted in OpenSSL where poll() cannot see it. */
#define XMPPGW_READS_PER_EVENT 5

struct xmppgw_occupant {
	char *nick;
	char *real; /* the occupant's real full JID, NULL when the room hides it */
	struct xmppgw_occupant *next;
};

struct xmppgw_room {
	char *jid;  /* bare room JID */
	char *nick; /* usher's nick in it */
	bool joined;
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

/* A message built but not yet handed to libstrophe. */
struct xmppgw_out {
	xmpp_stanza_t *stanza;
	struct xmppgw_room *room; /* NULL for a 1:1 chat */
	char *report_id;
	gateway_done_cb *done;
	void *arg;
	struct xmppgw_out *next;
};

/* A completion to report from a zero-delay timer (never from inside the
 * call that sent, never after the gateway is freed). */
struct xmppgw_done {
	struct xmppgw *x;
	loop_timer_id timer;
	gateway_done_cb *done;
	void *arg;
	int status;
	char *msg_id;
	char *error;
	struct xmppgw_done *next;
};

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

	struct xmppgw_out *out_head;
	size_t out_len;
	struct xmppgw_done *pending;
	struct xmppgw_recent recent[XMPPGW_RECENT];
	size_t recent_next;
	struct xmppgw *next_live;
};

/* The sockopt callback gets only the connection: find its gateway here. */
static struct xmppgw *xmppgw_live;

static void xmppgw_schedule_retry(struct xmppgw *x);
static void xmppgw_flush(struct xmppgw *x);

/* ---- small helpers ---- */

static size_t
jid_bare_len(const char *jid)
{
	const char *slash = strchr(jid, '/');

	return slash ? (size_t)(slash - jid) : strlen(jid);
}

/* True when the bare parts of two JIDs are the same (case-insensitive; a
 * simplification of nodeprep/nameprep that is right for ASCII JIDs). */
static bool
jid_same_bare(const char *a, const char *b)
{
	size_t la = jid_bare_len(a), lb = jid_bare_len(b);

	return la == lb && strncasecmp(a, b, la) == 0;
}

static const char *
jid_resource(const char *jid)
{
	const char *slash = strchr(jid, '/');

	return slash ? slash + 1 : NULL;
}

static bool
host_is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "[::1]") == 0 || str_starts_with(host, "127.");
}

/* Splits a comma-separated list; returns a new array of new strings. */
static char **
split_list(const char *list, size_t *count)
{
	char *copy = xstrdup(list ? list : ""), *save = NULL, *tok;
	char **v = NULL;

	*count = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		str_trim(tok);
		if (*tok == '\0')
			continue;
		v = xrealloc(v, (*count + 1) * sizeof(*v));
		v[(*count)++] = xstrdup(tok);
	}
	free(copy);
	return v;
}

/* Byte offset of code point `cps` in UTF-8 `s` (clamped to its end). */
static size_t
utf8_offset(const char *s, size_t cps)
{
	size_t i = 0;

	while (s[i] != '\0' && cps > 0) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		cps--;
	}
	return i;
}

/* XML 1.0 forbids most control characters; a peer would drop the stream. */
static void
xml_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
			*s = '?';
}

static xmpp_stanza_t *
child_new(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name, const char *ns)
{
	xmpp_stanza_t *c = xmpp_stanza_new(ctx);

	xmpp_stanza_set_name(c, name);
	if (ns)
		xmpp_stanza_set_ns(c, ns);
	xmpp_stanza_add_child(parent, c);
	xmpp_stanza_release(c); /* the parent holds it now */
	return c;
}

static void
child_text(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *text)
{
	xmpp_stanza_t *t = xmpp_stanza_new(ctx);

	xmpp_stanza_set_text(t, text);
	xmpp_stanza_add_child(parent, t);
	xmpp_stanza_release(t);
}

static struct xmppgw_room *
room_find(struct xmppgw *x, const char *jid)
{
	size_t i;

	if (jid == NULL)
		return NULL;
	for (i = 0; i < x->room_count; i++)
		if (jid_same_bare(x->rooms[i].jid, jid))
			return &x->rooms[i];
	return NULL;
}

static bool
known_jid(struct xmppgw *x, const char *jid)
{
	size_t i;

	for (i = 0; i < x->known_count; i++)
		if (jid_same_bare(x->known[i], jid))
			return true;
	return false;
}

/* ---- room occupants and recent ids ---- */

static struct xmppgw_occupant **
occupant_slot(struct xmppgw_room *r, const char *nick)
{
	struct xmppgw_occupant **pp;

	for (pp = &r->occupants; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->nick, nick) == 0)
			return pp;
	return pp;
}

static void
occupant_remove(struct xmppgw_room *r, const char *nick)
{
	struct xmppgw_occupant **pp = occupant_slot(r, nick), *o = *pp;

	if (o == NULL)
		return;
	*pp = o->next;
	free(o->nick);
	free(o->real);
	free(o);
	r->occupant_count--;
}

static void
occupant_set(struct xmppgw_room *r, const char *nick, const char *real)
{
	struct xmppgw_occupant **pp = occupant_slot(r, nick), *o = *pp;

	if (o == NULL) {
		if (r->occupant_count >= XMPPGW_OCCUPANTS_MAX)
			return;
		o = xcalloc(1, sizeof(*o));
		o->nick = xstrdup(nick);
		*pp = o;
		r->occupant_count++;
	}
	if (real && (o->real == NULL || strcmp(o->real, real) != 0)) {
		free(o->real);
		o->real = xstrdup(real);
	}
}

static void
occupants_clear(struct xmppgw_room *r)
{
	while (r->occupants)
		occupant_remove(r, r->occupants->nick);
}

static const char *
occupant_real(struct xmppgw_room *r, const char *nick)
{
	struct xmppgw_occupant *o = *occupant_slot(r, nick);

	return o ? o->real : NULL;
}

static void
recent_add(struct xmppgw *x, const char *id, const char *from, bool own)
{
	struct xmppgw_recent *e = &x->recent[x->recent_next];

	if (id == NULL)
		return;
	free(e->id);
	free(e->from);
	e->id = xstrdup(id);
	e->from = xstrdup(from ? from : "");
	e->own = own;
	x->recent_next = (x->recent_next + 1) % XMPPGW_RECENT;
}

static const struct xmppgw_recent *
recent_find(struct xmppgw *x, const char *id)
{
	size_t i;

	if (id == NULL)
		return NULL;
	for (i = 0; i < XMPPGW_RECENT; i++)
		if (x->recent[i].id && strcmp(x->recent[i].id, id) == 0)
			return &x->recent[i];
	return NULL;
}

/* ---- completions ---- */

static void
xmppgw_done_fire(struct loop *loop, loop_timer_id id, void *arg)
{
	struct xmppgw_done *d = arg, **pp;

	(void)loop;
	(void)id;
	for (pp = &d->x->pending; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	if (d->done)
		d->done(d->arg, d->status, d->msg_id, d->error);
	free(d->msg_id);
	free(d->error);
	free(d);
}

static void
xmppgw_report(struct xmppgw *x, gateway_done_cb *done, void *arg, int status, const char *msg_id,
              const char *error)
{
	struct xmppgw_done *d;

	if (done == NULL)
		return;
	d = xcalloc(1, sizeof(*d));
	d->x = x;
	d->done = done;
	d->arg = arg;
	d->status = status;
	d->msg_id = msg_id ? xstrdup(msg_id) : NULL;
	d->error = error ? xstrdup(error) : NULL;
	d->next = x->pending;
	x->pending = d;
	d->timer = loop_add_timer(x->loop, 0, xmppgw_done_fire, d);
}

/* ---- driving libstrophe from the loop ---- */

static void
xmppgw_run(struct xmppgw *x)
{
	if (x->ctx && x->conn)
		xmpp_run_once(x->ctx, 0);
}

static void
xmppgw_unwatch(struct xmppgw *x)
{
	if (x->fd != -1)
		loop_unwatch_fd(x->loop, x->fd);
	x->fd = -1;
	x->fd_events = 0;
}

static void
xmppgw_fd_ready(struct loop *loop, int fd, int events, void *arg)
{
	struct xmppgw *x = arg;
	int i;

	(void)loop;
	(void)fd;
	(void)events;
	for (i = 0; i < XMPPGW_READS_PER_EVENT && x->fd != -1; i++)
		xmppgw_run(x);
}

/* Watches the socket for reading, and for writing while a connect is in
 * progress or libstrophe holds output the socket would not take. */
static void
xmppgw_update_watch(struct xmppgw *x)
{
	int want;

	if (x->fd == -1 || x->conn == NULL)
		return;
	want = LOOP_READ;
	if (xmpp_conn_is_connecting(x->conn) || xmpp_conn_send_queue_len(x->conn) > 0)
		want |= LOOP_WRITE;
	if (want != x->fd_events && loop_watch_fd(x->loop, x->fd, want, xmppgw_fd_ready, x) == 0)
		x->fd_events = want;
}

static void
xmppgw_before_sleep(struct loop *loop, void *arg)
{
	struct xmppgw *x = arg;

	(void)loop;
	if (x->conn == NULL)
		return;
	if (xmpp_conn_send_queue_len(x->conn) > 0)
		xmppgw_run(x);
	xmppgw_update_watch(x);
}

static void
xmppgw_tick(struct loop *loop, loop_timer_id id, void *arg)
{
	struct xmppgw *x = arg;

	(void)id;
	x->tick = loop_add_timer(loop, XMPPGW_TICK_MS, xmppgw_tick, x);
	xmppgw_run(x);
}

static int
xmppgw_sockopt(xmpp_conn_t *conn, void *sock)
{
	struct xmppgw *x;
	int fd = *(int *)sock;

	for (x = xmppgw_live; x && x->conn != conn; x = x->next_live)
		;
	if (x != NULL) {
		if (x->fd != -1 && x->fd != fd)
			xmppgw_unwatch(x);
		x->fd = fd;
		x->fd_events = 0;
		xmppgw_update_watch(x);
		if (x->fd_events == 0)
			log_warn("xmpp: cannot watch the connection");
	}
	/* Keepalives notice a peer that vanished without closing. */
	return xmpp_sockopt_cb_keepalive(conn, sock);
}

/* libstrophe's debug output carries every stanza, the SASL exchange
 * included: only its warnings and errors reach usher's log. */
static void
xmppgw_log(void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
	(void)userdata;
	if (level >= XMPP_LEVEL_WARN)
		log_warnx("xmpp: %s: %s", area, msg);
}

/* ---- incoming stanzas ---- */

/* "usher: help", "usher, help", "@usher help" -> "help"; true when the
 * text starts with the nick. */
static bool
strip_nick(const char *nick, const char **text)
{
	const char *t = *text;
	size_t n = strlen(nick);

	if (*t == '@')
		t++;
	if (strncasecmp(t, nick, n) != 0 || isalnum((unsigned char)t[n]))
		return false;
	t += n;
	while (*t == ':' || *t == ',' || *t == ' ' || *t == '\t' || *t == '>')
		t++;
	*text = t;
	return true;
}

static bool
mentions_nick(const char *nick, const char *text)
{
	size_t n = strlen(nick);
	const char *p;

	for (p = text; (p = strcasestr(p, nick)) != NULL; p += n) {
		if ((p == text || !isalnum((unsigned char)p[-1])) && !isalnum((unsigned char)p[n]))
			return true;
	}
	return false;
}

/* The body without the quoted part a XEP-0461 fallback marks. Returns a
 * new string. */
static char *
body_without_fallback(xmpp_stanza_t *st, const char *body)
{
	xmpp_stanza_t *fb, *c;

	for (fb = xmpp_stanza_get_children(st); fb; fb = xmpp_stanza_get_next(fb)) {
		const char *name = xmpp_stanza_get_name(fb), *ns = xmpp_stanza_get_ns(fb);
		const char *forattr = xmpp_stanza_get_attribute(fb, "for");

		if (!name || strcmp(name, "fallback") != 0 || !ns || strcmp(ns, NS_FALLBACK) != 0 ||
		    !forattr || strcmp(forattr, NS_REPLY) != 0)
			continue;
		c = xmpp_stanza_get_child_by_name(fb, "body");
		if (c && xmpp_stanza_get_attribute(c, "start") &&
		    xmpp_stanza_get_attribute(c, "end")) {
			long s = atol(xmpp_stanza_get_attribute(c, "start"));
			long e = atol(xmpp_stanza_get_attribute(c, "end"));
			size_t bs, be;

			if (s < 0 || e < s)
				break;
			bs = utf8_offset(body, (size_t)s);
			be = utf8_offset(body, (size_t)e);
			return xasprintf("%.*s%s", (int)bs, body, body + be);
		}
	}
	return xstrdup(body);
}

static void
xmppgw_deliver(struct xmppgw *x, const char *room, const char *sender, const char *name,
               const char *text, const char *msg_id, const char *reply_to, bool direct,
               bool addressed)
{
	struct chat_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.network = "xmpp";
	msg.room = room;
	msg.sender = sender;
	msg.sender_name = name;
	msg.text = text;
	msg.msg_id = msg_id;
	msg.reply_to = reply_to;
	msg.direct = direct;
	msg.addressed = addressed;
	gateway_deliver(x->gw, &msg);
}

static void
xmppgw_groupchat(struct xmppgw *x, struct xmppgw_room *r, xmpp_stanza_t *st, const char *from,
                 const char *body)
{
	const char *nick = jid_resource(from);
	xmpp_stanza_t *sid, *reply;
	const char *id = xmpp_stanza_get_id(st), *reply_id = NULL, *real, *text;
	char *clean, *bare_real = NULL;
	bool addressed;

	/* The room's own id is what XEP-0461 replies must point at. */
	for (sid = xmpp_stanza_get_children(st); sid; sid = xmpp_stanza_get_next(sid)) {
		const char *n = xmpp_stanza_get_name(sid), *ns = xmpp_stanza_get_ns(sid);
		const char *by = xmpp_stanza_get_attribute(sid, "by");

		if (n && strcmp(n, "stanza-id") == 0 && ns && strcmp(ns, NS_SID) == 0 && by &&
		    jid_same_bare(by, r->jid) && xmpp_stanza_get_id(sid)) {
			id = xmpp_stanza_get_id(sid);
			break;
		}
	}
	if (nick == NULL || !r->joined ||
	    xmpp_stanza_get_child_by_name_and_ns(st, "delay", NS_DELAY) ||
	    xmpp_stanza_get_child_by_name(st, "subject"))
		return; /* the room's own notices, replayed history, topic changes */
	if (strcmp(nick, r->nick) == 0) {
		recent_add(x, id, from, true); /* our echo: replies to it address us */
		return;
	}
	recent_add(x, id, from, false);
	clean = body_without_fallback(st, body);
	text = clean;
	addressed = strip_nick(r->nick, &text) || mentions_nick(r->nick, text);
	reply = xmpp_stanza_get_child_by_name_and_ns(st, "reply", NS_REPLY);
	if (reply) {
		const char *to = xmpp_stanza_get_attribute(reply, "to");
		const struct xmppgw_recent *e;

		reply_id = xmpp_stanza_get_id(reply);
		e = recent_find(x, reply_id);
		if ((to && jid_same_bare(to, r->jid) && jid_resource(to) &&
		     strcmp(jid_resource(to), r->nick) == 0) ||
		    (e && e->own))
			addressed = true;
	}
	if (addressed) {
		real = occupant_real(r, nick);
		if (real)
			bare_real = xstrndup(real, jid_bare_len(real));
		log_debug("xmpp: %s in %s (%s) addresses usher", nick, r->jid,
		          bare_real ? bare_real : "real JID hidden");
		/* Without a real JID the occupant is a stranger to people. */
		xmppgw_deliver(x, r->jid, bare_real ? bare_real : from, nick, text, id, reply_id,
		               false, true);
	}
	free(bare_real);
	free(clean);
}

static int
xmppgw_on_message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg)
{
	struct xmppgw *x = arg;
	const char *type = xmpp_stanza_get_type(st), *from = xmpp_stanza_get_from(st);
	struct xmppgw_room *r;
	xmpp_stanza_t *b;
	char *body, *bare;

	(void)conn;
	if (from == NULL)
		return 1;
	if (type && strcmp(type, "error") == 0) {
		xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(st, "error");
		xmpp_stanza_t *cond = err ? xmpp_stanza_get_children(err) : NULL;

		log_warnx("xmpp: %s refused message %s: %s", from,
		          xmpp_stanza_get_id(st) ? xmpp_stanza_get_id(st) : "(no id)",
		          cond && xmpp_stanza_get_name(cond) ? xmpp_stanza_get_name(cond)
		                                             : "no reason given");
		return 1;
	}
	b = xmpp_stanza_get_child_by_name(st, "body");
	body = b ? xmpp_stanza_get_text(b) : NULL;
	if (body == NULL)
		return 1; /* chat states, receipts, ... */
	if (strlen(body) > XMPPGW_BODY_MAX) {
		log_warnx("xmpp: dropped a message of %zu bytes from %s", strlen(body), from);
		xmpp_free(x->ctx, body);
		return 1;
	}
	r = room_find(x, from);
	if (r != NULL) {
		if (type && strcmp(type, "groupchat") == 0)
			xmppgw_groupchat(x, r, st, from, body);
		else
			log_info("xmpp: ignored a private message from %s", from);
	} else if (jid_same_bare(from, x->jid)) {
		/* our own account from another client */
	} else if (xmpp_stanza_get_child_by_name_and_ns(st, "delay", NS_DELAY) &&
	           !known_jid(x, from)) {
		/* offline messages from strangers: nobody is waiting for a refusal */
	} else {
		bare = xstrndup(from, jid_bare_len(from));
		xmppgw_deliver(x, bare, bare, bare, body, xmpp_stanza_get_id(st), NULL, true, true);
		free(bare);
	}
	xmpp_free(x->ctx, body);
	return 1;
}

static void
xmppgw_send_now(struct xmppgw *x, xmpp_stanza_t *st)
{
	xmpp_send(x->conn, st);
}

static void
xmppgw_presence_to(struct xmppgw *x, const char *to, const char *type)
{
	xmpp_stanza_t *p = xmpp_presence_new(x->ctx);

	xmpp_stanza_set_to(p, to);
	if (type)
		xmpp_stanza_set_type(p, type);
	xmppgw_send_now(x, p);
	xmpp_stanza_release(p);
}

static void
xmppgw_join(struct xmppgw *x, struct xmppgw_room *r)
{
	xmpp_stanza_t *p = xmpp_presence_new(x->ctx), *mx, *h;
	char *to = xasprintf("%s/%s", r->jid, r->nick);

	xmpp_stanza_set_to(p, to);
	mx = child_new(x->ctx, p, "x", NS_MUC);
	h = child_new(x->ctx, mx, "history", NULL);
	xmpp_stanza_set_attribute(h, "maxstanzas", "0");
	xmppgw_send_now(x, p);
	xmpp_stanza_release(p);
	free(to);
}

/* A room usher just created stays locked until its owner configures it:
 * accept the defaults (an "instant room"). */
static void
xmppgw_unlock_room(struct xmppgw *x, struct xmppgw_room *r)
{
	char *id = xmpp_uuid_gen(x->ctx);
	xmpp_stanza_t *iq = xmpp_iq_new(x->ctx, "set", id), *q, *form;

	xmpp_stanza_set_to(iq, r->jid);
	q = child_new(x->ctx, iq, "query", NS_MUC_OWNER);
	form = child_new(x->ctx, q, "x", "jabber:x:data");
	xmpp_stanza_set_type(form, "submit");
	xmppgw_send_now(x, iq);
	xmpp_stanza_release(iq);
	xmpp_free(x->ctx, id);
}

static bool
has_status(xmpp_stanza_t *mx, const char *code)
{
	xmpp_stanza_t *c;

	for (c = mx ? xmpp_stanza_get_children(mx) : NULL; c; c = xmpp_stanza_get_next(c)) {
		const char *n = xmpp_stanza_get_name(c), *v = xmpp_stanza_get_attribute(c, "code");

		if (n && strcmp(n, "status") == 0 && v && strcmp(v, code) == 0)
			return true;
	}
	return false;
}

static void
xmppgw_room_presence(struct xmppgw *x, struct xmppgw_room *r, xmpp_stanza_t *st, const char *type,
                     const char *from)
{
	const char *nick = jid_resource(from);
	xmpp_stanza_t *mx = xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC_USER);
	xmpp_stanza_t *item = mx ? xmpp_stanza_get_child_by_name(mx, "item") : NULL;
	bool self = has_status(mx, "110") || (nick && strcmp(nick, r->nick) == 0);

	if (type && strcmp(type, "error") == 0) {
		xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(st, "error");
		xmpp_stanza_t *cond = err ? xmpp_stanza_get_children(err) : NULL;

		log_warnx("xmpp: cannot join %s as %s: %s", r->jid, r->nick,
		          cond && xmpp_stanza_get_name(cond) ? xmpp_stanza_get_name(cond)
		                                             : "no reason given");
		return;
	}
	if (nick == NULL)
		return;
	if (type && strcmp(type, "unavailable") == 0) {
		if (self) {
			r->joined = false;
			occupants_clear(r);
			if (has_status(mx, "301"))
				log_warnx("xmpp: banned from %s", r->jid);
			else if (has_status(mx, "307"))
				log_warnx(
				    "xmpp: kicked from %s; rejoining after the next reconnect",
				    r->jid);
			else
				log_warnx("xmpp: left %s", r->jid);
		} else {
			occupant_remove(r, nick);
		}
		return;
	}
	if (self) {
		if (!r->joined) {
			r->joined = true;
			log_info("xmpp: joined %s as %s", r->jid, r->nick);
			if (has_status(mx, "201"))
				xmppgw_unlock_room(x, r);
			xmppgw_flush(x);
		}
		return;
	}
	occupant_set(r, nick, item ? xmpp_stanza_get_attribute(item, "jid") : NULL);
}

static int
xmppgw_on_presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg)
{
	struct xmppgw *x = arg;
	const char *type = xmpp_stanza_get_type(st), *from = xmpp_stanza_get_from(st);
	struct xmppgw_room *r;
	char *bare;

	(void)conn;
	if (from == NULL)
		return 1;
	r = room_find(x, from);
	if (r != NULL) {
		xmppgw_room_presence(x, r, st, type, from);
		return 1;
	}
	if (type == NULL || strcmp(type, "subscribe") != 0)
		return 1;
	bare = xstrndup(from, jid_bare_len(from));
	if (known_jid(x, bare)) {
		log_info("xmpp: accepted the presence subscription of %s", bare);
		xmppgw_presence_to(x, bare, "subscribed");
		xmppgw_presence_to(x, bare, "subscribe");
	} else {
		log_info("xmpp: ignored a presence subscription from unknown %s", bare);
	}
	free(bare);
	return 1;
}

static const char *const xmppgw_features[] = {
    NS_DISCO_INFO, NS_PING, NS_CORRECT, NS_OOB, NS_REPLY, NS_CHATSTATES,
};

static int
xmppgw_on_iq(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg)
{
	struct xmppgw *x = arg;
	const char *type = xmpp_stanza_get_type(st), *from = xmpp_stanza_get_from(st);
	xmpp_stanza_t *q = xmpp_stanza_get_children(st), *res, *rq, *f;
	const char *ns = q ? xmpp_stanza_get_ns(q) : NULL;
	size_t i;

	(void)conn;
	if (type == NULL || (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
		return 1;
	if (ns && strcmp(ns, NS_PING) == 0 && strcmp(type, "get") == 0) {
		res = xmpp_stanza_reply(st);
		xmpp_stanza_set_type(res, "result");
	} else if (ns && strcmp(ns, NS_ROSTER) == 0 && strcmp(type, "set") == 0 &&
	           (from == NULL || jid_same_bare(from, x->jid))) {
		/* a roster push: acknowledge it */
		res = xmpp_iq_new(x->ctx, "result", xmpp_stanza_get_id(st));
	} else if (ns && strcmp(ns, NS_DISCO_INFO) == 0 && strcmp(type, "get") == 0) {
		res = xmpp_iq_new(x->ctx, "result", xmpp_stanza_get_id(st));
		if (from)
			xmpp_stanza_set_to(res, from);
		rq = child_new(x->ctx, res, "query", NS_DISCO_INFO);
		f = child_new(x->ctx, rq, "identity", NULL);
		xmpp_stanza_set_attribute(f, "category", "client");
		xmpp_stanza_set_attribute(f, "type", "bot");
		xmpp_stanza_set_attribute(f, "name", "usher");
		for (i = 0; i < sizeof(xmppgw_features) / sizeof(xmppgw_features[0]); i++) {
			f = child_new(x->ctx, rq, "feature", NULL);
			xmpp_stanza_set_attribute(f, "var", xmppgw_features[i]);
		}
	} else {
		res = xmpp_stanza_reply_error(st, "cancel", "service-unavailable", NULL);
	}
	if (res) {
		xmppgw_send_now(x, res);
		xmpp_stanza_release(res);
	}
	return 1;
}

/* ---- connection ---- */

static void
xmppgw_on_conn(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
               xmpp_stream_error_t *stream_error, void *arg)
{
	struct xmppgw *x = arg;
	xmpp_stanza_t *p;
	size_t i;

	if (conn != x->conn)
		return;
	if (event == XMPP_CONN_CONNECT) {
		x->online = true;
		x->failures = 0;
		log_info("xmpp: connected as %s%s", x->jid,
		         xmpp_conn_is_secured(conn) ? " (TLS)" : " (no TLS)");
		p = xmpp_presence_new(x->ctx);
		xmppgw_send_now(x, p);
		xmpp_stanza_release(p);
		for (i = 0; i < x->room_count; i++) {
			x->rooms[i].joined = false;
			occupants_clear(&x->rooms[i]);
			xmppgw_join(x, &x->rooms[i]);
		}
		xmppgw_flush(x);
		return;
	}
	if (event == XMPP_CONN_RAW_CONNECT)
		return;
	/* XMPP_CONN_DISCONNECT or XMPP_CONN_FAIL */
	xmppgw_unwatch(x);
	if (x->stopping) {
		log_info("xmpp: disconnected");
		x->online = false;
		return;
	}
	if (x->online)
		log_warnx("xmpp: connection lost%s%s",
		          stream_error && stream_error->text ? ": " : "",
		          stream_error && stream_error->text ? stream_error->text : "");
	else
		log_warnx("xmpp: cannot connect to %s: %s", x->host ? x->host : x->jid,
		          error ? strerror(error) : "refused, timed out or not authorized");
	x->online = false;
	for (i = 0; i < x->room_count; i++)
		x->rooms[i].joined = false;
	if (!x->stopping)
		xmppgw_schedule_retry(x);
}

static int
xmppgw_connect(struct xmppgw *x)
{
	xmpp_sm_state_t *sm = NULL;
	const char *domain = NULL;
	int rc;

	if (x->conn) {
		/* Unacknowledged stanzas travel to the new connection. */
		sm = xmpp_conn_get_sm_state(x->conn);
		xmpp_conn_release(x->conn);
		x->conn = NULL;
	}
	x->conn = xmpp_conn_new(x->ctx);
	xmpp_conn_set_flags(x->conn, x->flags);
	xmpp_conn_set_jid(x->conn, x->jid);
	xmpp_conn_set_pass(x->conn, x->password);
	xmpp_conn_set_sockopt_callback(x->conn, xmppgw_sockopt);
	if (sm && xmpp_conn_set_sm_state(x->conn, sm) != XMPP_EOK)
		xmpp_free_sm_state(sm);
	xmpp_handler_add(x->conn, xmppgw_on_message, NULL, "message", NULL, x);
	xmpp_handler_add(x->conn, xmppgw_on_presence, NULL, "presence", NULL, x);
	xmpp_handler_add(x->conn, xmppgw_on_iq, NULL, "iq", NULL, x);
	if (x->host)
		domain = x->host;
	else if (x->port)
		domain = strchr(x->jid, '@') + 1;
	rc = xmpp_connect_client(x->conn, domain, x->port, xmppgw_on_conn, x);
	if (rc != XMPP_EOK) {
		log_warnx("xmpp: cannot connect to %s (error %d)", domain ? domain : x->jid, rc);
		return -1;
	}
	return 0;
}

static void
xmppgw_retry_fire(struct loop *loop, loop_timer_id id, void *arg)
{
	struct xmppgw *x = arg;

	(void)loop;
	(void)id;
	x->retry = 0;
	if (x->stopping)
		return;
	log_info("xmpp: reconnecting (attempt %u)", x->failures);
	if (xmppgw_connect(x) == -1)
		xmppgw_schedule_retry(x);
}

/* Doubling delays from 1 s up to a minute, each with up to half again of
 * random jitter so a family of bots does not return in step. */
static void
xmppgw_schedule_retry(struct xmppgw *x)
{
	uint64_t delay = XMPPGW_RETRY_MIN_MS;
	unsigned i;

	if (x->retry)
		return;
	for (i = 0; i < x->failures && delay < XMPPGW_RETRY_MAX_MS; i++)
		delay *= 2;
	if (delay > XMPPGW_RETRY_MAX_MS)
		delay = XMPPGW_RETRY_MAX_MS;
	delay += arc4random_uniform((uint32_t)(delay / 2 + 1));
	x->failures++;
	log_info("xmpp: next connection attempt in %llu ms", (unsigned long long)delay);
	x->retry = loop_add_timer(x->loop, delay, xmppgw_retry_fire, x);
}

/* ---- sending ---- */

static bool
xmppgw_out_ready(struct xmppgw *x, const struct xmppgw_out *o)
{
	return x->online && x->conn && (o->room == NULL || o->room->joined);
}

static void
xmppgw_out_free(struct xmppgw_out *o)
{
	xmpp_stanza_release(o->stanza);
	free(o->report_id);
	free(o);
}

/* Hands every message whose destination is ready to libstrophe, in order. */
static void
xmppgw_flush(struct xmppgw *x)
{
	struct xmppgw_out **pp = &x->out_head, *o;

	while ((o = *pp) != NULL) {
		if (!xmppgw_out_ready(x, o)) {
			pp = &o->next;
			continue;
		}
		*pp = o->next;
		x->out_len--;
		xmppgw_send_now(x, o->stanza);
		xmppgw_report(x, o->done, o->arg, 0, o->report_id, NULL);
		xmppgw_out_free(o);
	}
}

static xmpp_stanza_t *
xmppgw_build(struct xmppgw *x, struct xmppgw_room *r, const char *to, const char *id,
             const struct chat_out *out, const char *replace_id)
{
	xmpp_stanza_t *m = xmpp_message_new(x->ctx, r ? "groupchat" : "chat", to, id), *c;
	char *body;

	if (out->image_url && (out->text == NULL || strstr(out->text, out->image_url) == NULL))
		body = xasprintf("%s%s%s", out->text ? out->text : "",
		                 out->text && *out->text ? "\n" : "", out->image_url);
	else
		body = xstrdup(out->text ? out->text : "");
	xml_clean(body);
	xmpp_message_set_body(m, body);
	free(body);
	if (replace_id) {
		c = child_new(x->ctx, m, "replace", NS_CORRECT);
		xmpp_stanza_set_attribute(c, "id", replace_id);
	}
	if (out->reply_to && !replace_id) {
		const struct xmppgw_recent *e = recent_find(x, out->reply_to);

		c = child_new(x->ctx, m, "reply", NS_REPLY);
		xmpp_stanza_set_attribute(c, "id", out->reply_to);
		if (e && *e->from)
			xmpp_stanza_set_attribute(c, "to", e->from);
	}
	if (out->image_url) {
		xmpp_stanza_t *oob = child_new(x->ctx, m, "x", NS_OOB);
		char *url = xstrdup(out->image_url);

		xml_clean(url);
		child_text(x->ctx, child_new(x->ctx, oob, "url", NULL), url);
		free(url);
	}
	if (r == NULL)
		child_new(x->ctx, m, "active", NS_CHATSTATES);
	return m;
}

static int
xmppgw_post(struct gateway *gw, const char *room, const struct chat_out *out,
            const char *replace_id, gateway_done_cb *done, void *arg)
{
	struct xmppgw *x = gateway_impl(gw);
	struct xmppgw_room *r;
	struct xmppgw_out *o, **pp;
	char *id, *to;

	if (room == NULL || out == NULL || x->stopping)
		return -1;
	if (x->out_len >= XMPPGW_OUTBOX_MAX) {
		log_warnx("xmpp: %zu messages are waiting for the server; not sending more",
		          x->out_len);
		return -1;
	}
	r = room_find(x, room);
	to = r ? xstrdup(r->jid) : xstrndup(room, jid_bare_len(room));
	id = xmpp_uuid_gen(x->ctx);
	o = xcalloc(1, sizeof(*o));
	o->stanza = xmppgw_build(x, r, to, id, out, replace_id);
	o->room = r;
	/* Corrections keep pointing at the first message: report its id. */
	o->report_id = xstrdup(replace_id ? replace_id : id);
	o->done = done;
	o->arg = arg;
	xmpp_free(x->ctx, id);
	free(to);
	for (pp = &x->out_head; *pp; pp = &(*pp)->next)
		;
	*pp = o;
	x->out_len++;
	xmppgw_flush(x);
	return 0;
}

static int
xmppgw_send(struct gateway *gw, const char *room, const struct chat_out *out, gateway_done_cb *done,
            void *arg)
{
	return xmppgw_post(gw, room, out, NULL, done, arg);
}

static int
xmppgw_edit(struct gateway *gw, const char *room, const char *msg_id, const struct chat_out *out,
            gateway_done_cb *done, void *arg)
{
	if (msg_id == NULL)
		return -1;
	return xmppgw_post(gw, room, out, msg_id, done, arg);
}

/* ---- lifecycle ---- */

static int
xmppgw_add_room(struct xmppgw *x, const char *spec, const char *nick, char *err, size_t errlen)
{
	struct xmppgw_room *r;
	const char *res = jid_resource(spec);
	size_t bl = jid_bare_len(spec);
	const char *at = memchr(spec, '@', bl);

	if (at == NULL || at == spec || at + 1 == spec + bl || (res && *res == '\0')) {
		snprintf(err, errlen,
		         "[xmpp] rooms: '%s' is not a room address; write it as "
		         "room@conference.example.org or room@conference.example.org/nick",
		         spec);
		return -1;
	}
	x->rooms = xrealloc(x->rooms, (x->room_count + 1) * sizeof(*x->rooms));
	r = &x->rooms[x->room_count++];
	memset(r, 0, sizeof(*r));
	r->jid = xstrndup(spec, bl);
	r->nick = xstrdup(res ? res : nick);
	return 0;
}

static void xmppgw_free_impl(struct gateway *gw);

static int
xmppgw_configure(struct xmppgw *x, const struct config *cfg, char *err, size_t errlen)
{
	const char *jid = config_get(cfg, "xmpp", "jid");
	const char *password = config_get(cfg, "xmpp", "password");
	const char *host = config_get(cfg, "xmpp", "host");
	const char *tls = config_get(cfg, "xmpp", "tls");
	const char *nick = config_get(cfg, "xmpp", "nick");
	const char *at, *target;
	char **rooms;
	size_t i, n;
	int rc = 0;

	if (jid == NULL || (at = strchr(jid, '@')) == NULL || at == jid || at[1] == '\0' ||
	    at[1] == '/') {
		snprintf(err, errlen, "[xmpp] jid: write the bot's account as name@example.org");
		return -1;
	}
	if (password == NULL || *password == '\0') {
		snprintf(err, errlen, "[xmpp] needs password (or password_file)");
		return -1;
	}
	x->jid = xstrdup(jid);
	x->password = xstrdup(password);
	x->host = host && *host ? xstrdup(host) : NULL;
	x->port = config_get(cfg, "xmpp", "port")
	              ? (unsigned short)config_get_int(cfg, "xmpp", "port")
	              : 0;
	target = x->host;
	if (target == NULL) {
		target = at + 1;
		/* a bare domain, without any resource */
	}
	if (tls == NULL || strcmp(tls, "required") == 0) {
		x->flags = XMPP_CONN_FLAG_MANDATORY_TLS;
	} else if (strcmp(tls, "trust-self-signed") == 0) {
		x->flags = XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_TRUST_TLS;
	} else {
		char *t = xstrndup(target, jid_bare_len(target));

		if (!host_is_loopback(t)) {
			snprintf(err, errlen,
			         "[xmpp] tls = off-for-loopback-tests is only allowed when host is "
			         "127.0.0.1, ::1 or localhost, not '%s'; use tls = required (or "
			         "trust-self-signed for a server with its own certificate)",
			         t);
			rc = -1;
		}
		free(t);
		if (rc)
			return -1;
		x->flags = XMPP_CONN_FLAG_DISABLE_TLS;
	}
	rooms = split_list(config_get(cfg, "xmpp", "rooms"), &n);
	for (i = 0; i < n; i++) {
		if (rc == 0 && xmppgw_add_room(x, rooms[i], nick ? nick : "usher", err, errlen))
			rc = -1;
		free(rooms[i]);
	}
	free(rooms);
	if (rc)
		return -1;
	for (i = 0; i < config_person_count(cfg); i++) {
		const char *list = config_person_get(cfg, config_person_name(cfg, i), "xmpp");
		char **ids = split_list(list, &n);
		size_t j;

		x->known = xrealloc(x->known, (x->known_count + n + 1) * sizeof(*x->known));
		for (j = 0; j < n; j++)
			x->known[x->known_count++] = ids[j];
		free(ids);
	}
	return 0;
}

static int
xmppgw_init(struct gateway *gw, const struct config *cfg, char *err, size_t errlen)
{
	struct xmppgw *x = xcalloc(1, sizeof(*x));

	x->gw = gw;
	x->loop = gateway_loop(gw);
	x->fd = -1;
	gateway_set_impl(gw, x);
	if (xmppgw_configure(x, cfg, err, errlen) == -1) {
		xmppgw_free_impl(gw);
		return -1;
	}
	xmpp_initialize();
	x->logger.handler = xmppgw_log;
	x->logger.userdata = x;
	x->ctx = xmpp_ctx_new(NULL, &x->logger);
	if (x->ctx == NULL) {
		snprintf(err, errlen, "xmpp: out of memory");
		xmpp_shutdown();
		xmppgw_free_impl(gw);
		return -1;
	}
	x->next_live = xmppgw_live;
	xmppgw_live = x;
	return 0;
}

static int
xmppgw_start(struct gateway *gw)
{
	struct xmppgw *x = gateway_impl(gw);

	x->stopping = false;
	x->hook = loop_add_hook(x->loop, xmppgw_before_sleep, x);
	x->tick = loop_add_timer(x->loop, XMPPGW_TICK_MS, xmppgw_tick, x);
	x->started = true;
	log_info("xmpp: connecting as %s to %s%s", x->jid, x->host ? x->host : "its server",
	         x->flags & XMPP_CONN_FLAG_DISABLE_TLS ? " without TLS (loopback test)" : "");
	/* A first failure is retried like a lost connection. */
	if (xmppgw_connect(x) == -1)
		xmppgw_schedule_retry(x);
	return 0;
}

static void
xmppgw_stop(struct gateway *gw)
{
	struct xmppgw *x = gateway_impl(gw);
	int i;

	if (x == NULL || !x->started)
		return;
	x->stopping = true;
	x->started = false;
	if (x->retry)
		loop_cancel_timer(x->loop, x->retry);
	x->retry = 0;
	if (x->tick)
		loop_cancel_timer(x->loop, x->tick);
	x->tick = 0;
	if (x->hook)
		loop_remove_hook(x->loop, x->hook);
	x->hook = 0;
	if (x->conn && x->online) {
		/* Say goodbye and let it go out: a bounded number of short runs. */
		xmpp_disconnect(x->conn);
		for (i = 0; i < 20 && !xmpp_conn_is_disconnected(x->conn); i++)
			xmpp_run_once(x->ctx, 10);
	}
	xmppgw_unwatch(x);
	x->online = false;
}

static void
xmppgw_free_impl(struct gateway *gw)
{
	struct xmppgw *x = gateway_impl(gw), **pp;
	struct xmppgw_done *d, *dn;
	struct xmppgw_out *o, *on;
	size_t i;

	if (x == NULL)
		return;
	x->stopping = true;
	for (pp = &xmppgw_live; *pp; pp = &(*pp)->next_live) {
		if (*pp == x) {
			*pp = x->next_live;
			break;
		}
	}
	if (x->retry)
		loop_cancel_timer(x->loop, x->retry);
	if (x->tick)
		loop_cancel_timer(x->loop, x->tick);
	if (x->hook)
		loop_remove_hook(x->loop, x->hook);
	xmppgw_unwatch(x);
	for (d = x->pending; d; d = dn) {
		dn = d->next;
		loop_cancel_timer(x->loop, d->timer);
		free(d->msg_id);
		free(d->error);
		free(d);
	}
	for (o = x->out_head; o; o = on) {
		on = o->next;
		xmppgw_out_free(o);
	}
	if (x->conn)
		xmpp_conn_release(x->conn);
	if (x->ctx) {
		xmpp_ctx_free(x->ctx);
		xmpp_shutdown();
	}
	for (i = 0; i < x->room_count; i++) {
		occupants_clear(&x->rooms[i]);
		free(x->rooms[i].jid);
		free(x->rooms[i].nick);
	}
	free(x->rooms);
	for (i = 0; i < x->known_count; i++)
		free(x->known[i]);
	free(x->known);
	for (i = 0; i < XMPPGW_RECENT; i++) {
		free(x->recent[i].id);
		free(x->recent[i].from);
	}
	free(x->jid);
	free(x->password);
	free(x->host);
	free(x);
	gateway_set_impl(gw, NULL);
}

const struct gateway_ops xmpp_gateway_ops = {
    .name = "xmpp",
    .caps = GATEWAY_CAN_EDIT,
    .init = xmppgw_init,
    .start = xmppgw_start,
    .stop = xmppgw_stop,
    .send = xmppgw_send,
    .edit = xmppgw_edit,
    .free_impl = xmppgw_free_impl,
};
