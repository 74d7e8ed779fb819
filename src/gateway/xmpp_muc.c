/*
 * xmpp_muc: group rooms (XEP-0045) for the XMPP gateway.
 *
 * Joins the configured rooms without history, keeps each room's occupants
 * from their presence, and decides which room messages reach the bot: only
 * those that address usher (its nick, or a XEP-0461 reply to it), never
 * replayed history or usher's own echoes. An occupant is a person when the
 * room shows usher their real JID (non-anonymous rooms, or usher is a
 * moderator) and that JID is theirs; when the room hides it
 * (semi-anonymous), when their nick is one of the person's `xmpp_nick`.
 * A nick proves little (anyone may take it in such a room), which is why
 * it is only used when nothing better exists.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <strophe.h>

#include "core/log.h"
#include "core/util.h"
#include "gateway/xmpp_impl.h"

struct xmppgw_room *
xmppgw_room_find(struct xmppgw *x, const char *jid)
{
	size_t i;

	if (jid == NULL)
		return NULL;
	for (i = 0; i < x->room_count; i++)
		if (xmppgw_same_bare(x->rooms[i].jid, jid))
			return &x->rooms[i];
	return NULL;
}

/* ---- occupants ---- */

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

void
xmppgw_occupants_clear(struct xmppgw_room *r)
{
	while (r->occupants)
		occupant_remove(r, r->occupants->nick);
}

char *
xmppgw_occupant_jid(struct xmppgw *x, struct xmppgw_room *r, const char *nick)
{
	struct xmppgw_occupant *o = *occupant_slot(r, nick);
	size_t i;

	if (o && o->real)
		return xstrndup(o->real, xmppgw_bare_len(o->real));
	for (i = 0; i < x->nick_count; i++) {
		if (strcasecmp(x->nicks[i].nick, nick) != 0)
			continue;
		if (o == NULL || !o->by_nick)
			log_info("xmpp: %s hides real JIDs; %s is taken as %s by nick", r->jid,
			         nick, x->nicks[i].jid);
		if (o)
			o->by_nick = true;
		return xstrdup(x->nicks[i].jid);
	}
	return NULL;
}

/* ---- recent message ids ---- */

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

const struct xmppgw_recent *
xmppgw_recent_find(struct xmppgw *x, const char *id)
{
	size_t i;

	if (id == NULL)
		return NULL;
	for (i = 0; i < XMPPGW_RECENT; i++)
		if (x->recent[i].id && strcmp(x->recent[i].id, id) == 0)
			return &x->recent[i];
	return NULL;
}

void
xmppgw_recent_free(struct xmppgw *x)
{
	size_t i;

	for (i = 0; i < XMPPGW_RECENT; i++) {
		free(x->recent[i].id);
		free(x->recent[i].from);
		x->recent[i].id = x->recent[i].from = NULL;
	}
}

/* ---- messages ---- */

void
xmppgw_groupchat(struct xmppgw *x, struct xmppgw_room *r, xmpp_stanza_t *st, const char *from,
                 const char *body)
{
	const char *nick = xmppgw_resource(from);
	xmpp_stanza_t *sid, *reply;
	const char *id = xmpp_stanza_get_id(st), *reply_id = NULL, *text;
	char *clean, *who;
	bool addressed;

	/* The room's own id is what XEP-0461 replies must point at. */
	for (sid = xmpp_stanza_get_children(st); sid; sid = xmpp_stanza_get_next(sid)) {
		const char *n = xmpp_stanza_get_name(sid), *ns = xmpp_stanza_get_ns(sid);
		const char *by = xmpp_stanza_get_attribute(sid, "by");

		if (n && strcmp(n, "stanza-id") == 0 && ns && strcmp(ns, NS_SID) == 0 && by &&
		    xmppgw_same_bare(by, r->jid) && xmpp_stanza_get_id(sid)) {
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
	clean = xmppgw_body_without_fallback(st, body);
	text = clean;
	addressed = xmppgw_strip_nick(r->nick, &text) || xmppgw_mentions_nick(r->nick, text);
	reply = xmpp_stanza_get_child_by_name_and_ns(st, "reply", NS_REPLY);
	if (reply) {
		const char *to = xmpp_stanza_get_attribute(reply, "to");
		const struct xmppgw_recent *e;

		reply_id = xmpp_stanza_get_id(reply);
		e = xmppgw_recent_find(x, reply_id);
		if ((to && xmppgw_same_bare(to, r->jid) && xmppgw_resource(to) &&
		     strcmp(xmppgw_resource(to), r->nick) == 0) ||
		    (e && e->own))
			addressed = true;
	}
	if (addressed) {
		who = xmppgw_occupant_jid(x, r, nick);
		log_debug("xmpp: %s in %s (%s) addresses usher", nick, r->jid,
		          who ? who : "unknown");
		/* Neither a real JID nor a known nick: a stranger to people. */
		xmppgw_deliver(x, r->jid, who ? who : from, nick, text, id, reply_id, false, true);
		free(who);
	}
	free(clean);
}

/* ---- presence ---- */

void
xmppgw_room_join(struct xmppgw *x, struct xmppgw_room *r)
{
	xmpp_stanza_t *p = xmpp_presence_new(x->ctx), *mx, *h;
	char *to = xasprintf("%s/%s", r->jid, r->nick);

	xmpp_stanza_set_to(p, to);
	mx = xmppgw_child(x->ctx, p, "x", NS_MUC);
	h = xmppgw_child(x->ctx, mx, "history", NULL);
	xmpp_stanza_set_attribute(h, "maxstanzas", "0");
	xmppgw_send_now(x, p);
	xmpp_stanza_release(p);
	free(to);
}

/* A room usher just created stays locked until its owner configures it:
 * accept the defaults (an "instant room"). */
static void
room_unlock(struct xmppgw *x, struct xmppgw_room *r)
{
	char *id = xmpp_uuid_gen(x->ctx);
	xmpp_stanza_t *iq = xmpp_iq_new(x->ctx, "set", id), *q, *form;

	xmpp_stanza_set_to(iq, r->jid);
	q = xmppgw_child(x->ctx, iq, "query", NS_MUC_OWNER);
	form = xmppgw_child(x->ctx, q, "x", "jabber:x:data");
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

void
xmppgw_room_presence(struct xmppgw *x, struct xmppgw_room *r, xmpp_stanza_t *st, const char *type,
                     const char *from)
{
	const char *nick = xmppgw_resource(from);
	xmpp_stanza_t *mx = xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC_USER);
	xmpp_stanza_t *item = mx ? xmpp_stanza_get_child_by_name(mx, "item") : NULL;
	bool self = has_status(mx, "110") || (nick && strcmp(nick, r->nick) == 0);

	if (type && strcmp(type, "error") == 0) {
		log_warnx("xmpp: cannot join %s as %s: %s", r->jid, r->nick,
		          xmppgw_error_condition(st));
		return;
	}
	if (nick == NULL)
		return;
	if (type && strcmp(type, "unavailable") == 0) {
		if (self) {
			r->joined = false;
			xmppgw_occupants_clear(r);
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
			r->composing = false;
			log_info("xmpp: joined %s as %s", r->jid, r->nick);
			if (has_status(mx, "201"))
				room_unlock(x, r);
			xmppgw_flush(x);
		}
		return;
	}
	occupant_set(r, nick, item ? xmpp_stanza_get_attribute(item, "jid") : NULL);
}
