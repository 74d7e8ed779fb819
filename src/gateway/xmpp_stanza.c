/*
 * xmpp_stanza: JIDs, message text and stanzas for the XMPP gateway.
 *
 * Builds what usher sends (messages with chat states, corrections, replies
 * and posters; body-less chat states) and reads what arrives: 1:1 messages
 * from people, presence subscriptions, and the iq queries every client
 * answers (ping, disco#info, roster pushes). Room traffic is handed to
 * xmpp_muc.c. Everything read here is hostile until checked.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <strophe.h>

#include "core/log.h"
#include "core/util.h"
#include "gateway/xmpp_impl.h"

/* ---- JIDs and text ---- */

size_t
xmppgw_bare_len(const char *jid)
{
	const char *slash = strchr(jid, '/');

	return slash ? (size_t)(slash - jid) : strlen(jid);
}

/* A simplification of nodeprep/nameprep that is right for ASCII JIDs. */
bool
xmppgw_same_bare(const char *a, const char *b)
{
	size_t la = xmppgw_bare_len(a), lb = xmppgw_bare_len(b);

	return la == lb && strncasecmp(a, b, la) == 0;
}

const char *
xmppgw_resource(const char *jid)
{
	const char *slash = strchr(jid, '/');

	return slash ? slash + 1 : NULL;
}

char **
xmppgw_split_list(const char *list, size_t *count)
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

/* A peer would drop the whole stream over one of these. */
void
xmppgw_xml_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
			*s = '?';
}

xmpp_stanza_t *
xmppgw_child(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name, const char *ns)
{
	xmpp_stanza_t *c = xmpp_stanza_new(ctx);

	xmpp_stanza_set_name(c, name);
	if (ns)
		xmpp_stanza_set_ns(c, ns);
	xmpp_stanza_add_child(parent, c);
	xmpp_stanza_release(c); /* the parent holds it now */
	return c;
}

void
xmppgw_child_text(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *text)
{
	xmpp_stanza_t *t = xmpp_stanza_new(ctx);

	xmpp_stanza_set_text(t, text);
	xmpp_stanza_add_child(parent, t);
	xmpp_stanza_release(t);
}

/* "usher: help", "usher, help", "@usher help" -> "help". */
bool
xmppgw_strip_nick(const char *nick, const char **text)
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

bool
xmppgw_mentions_nick(const char *nick, const char *text)
{
	size_t n = strlen(nick);
	const char *p;

	for (p = text; (p = strcasestr(p, nick)) != NULL; p += n) {
		if ((p == text || !isalnum((unsigned char)p[-1])) && !isalnum((unsigned char)p[n]))
			return true;
	}
	return false;
}

char *
xmppgw_body_without_fallback(xmpp_stanza_t *st, const char *body)
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

/* ---- outgoing stanzas ---- */

xmpp_stanza_t *
xmppgw_build(struct xmppgw *x, struct xmppgw_room *r, const char *to, const char *id,
             const struct chat_out *out, const char *replace_id)
{
	xmpp_stanza_t *m = xmpp_message_new(x->ctx, r ? "groupchat" : "chat", to, id), *c;
	char *body;

	/* The poster's link is a line of its own, for clients without OOB. */
	if (out->image_url && (out->text == NULL || strstr(out->text, out->image_url) == NULL))
		body = xasprintf("%s%s%s", out->text ? out->text : "",
		                 out->text && *out->text ? "\n" : "", out->image_url);
	else
		body = xstrdup(out->text ? out->text : "");
	xmppgw_xml_clean(body);
	xmpp_message_set_body(m, body);
	free(body);
	if (replace_id) {
		c = xmppgw_child(x->ctx, m, "replace", NS_CORRECT);
		xmpp_stanza_set_attribute(c, "id", replace_id);
	}
	if (out->reply_to && !replace_id) {
		const struct xmppgw_recent *e = xmppgw_recent_find(x, out->reply_to);

		c = xmppgw_child(x->ctx, m, "reply", NS_REPLY);
		xmpp_stanza_set_attribute(c, "id", out->reply_to);
		if (e && *e->from)
			xmpp_stanza_set_attribute(c, "to", e->from);
	}
	if (out->image_url) {
		xmpp_stanza_t *oob = xmppgw_child(x->ctx, m, "x", NS_OOB);
		char *url = xstrdup(out->image_url);

		xmppgw_xml_clean(url);
		xmppgw_child_text(x->ctx, xmppgw_child(x->ctx, oob, "url", NULL), url);
		free(url);
	}
	/* XEP-0085: a message ends "composing"; say so in every one. */
	xmppgw_child(x->ctx, m, "active", NS_CHATSTATES);
	return m;
}

xmpp_stanza_t *
xmppgw_chat_state(struct xmppgw *x, bool groupchat, const char *to, const char *state)
{
	char *id = xmpp_uuid_gen(x->ctx);
	xmpp_stanza_t *m = xmpp_message_new(x->ctx, groupchat ? "groupchat" : "chat", to, id);

	xmppgw_child(x->ctx, m, state, NS_CHATSTATES);
	/* XEP-0334: nothing to store offline or archive. */
	xmppgw_child(x->ctx, m, "no-store", "urn:xmpp:hints");
	xmpp_free(x->ctx, id);
	return m;
}

/* ---- incoming stanzas ---- */

const char *
xmppgw_error_condition(xmpp_stanza_t *st)
{
	xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(st, "error");
	xmpp_stanza_t *cond = err ? xmpp_stanza_get_children(err) : NULL;

	/* The first child element, skipping whitespace text nodes. */
	while (cond && xmpp_stanza_get_name(cond) == NULL)
		cond = xmpp_stanza_get_next(cond);
	return cond ? xmpp_stanza_get_name(cond) : "no reason given";
}

void
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

bool
xmppgw_known_jid(struct xmppgw *x, const char *jid)
{
	size_t i;

	for (i = 0; i < x->known_count; i++)
		if (xmppgw_same_bare(x->known[i], jid))
			return true;
	return false;
}

int
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
		log_warnx("xmpp: %s refused message %s: %s", from,
		          xmpp_stanza_get_id(st) ? xmpp_stanza_get_id(st) : "(no id)",
		          xmppgw_error_condition(st));
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
	r = xmppgw_room_find(x, from);
	if (r != NULL) {
		if (type && strcmp(type, "groupchat") == 0)
			xmppgw_groupchat(x, r, st, from, body);
		else
			log_info("xmpp: ignored a private message from %s", from);
	} else if (xmppgw_same_bare(from, x->jid)) {
		/* our own account from another client */
	} else if (xmpp_stanza_get_child_by_name_and_ns(st, "delay", NS_DELAY) &&
	           !xmppgw_known_jid(x, from)) {
		/* offline messages from strangers: nobody is waiting for a refusal */
	} else {
		bare = xstrndup(from, xmppgw_bare_len(from));
		xmppgw_deliver(x, bare, bare, bare, body, xmpp_stanza_get_id(st), NULL, true, true);
		free(bare);
	}
	xmpp_free(x->ctx, body);
	return 1;
}

static void
presence_to(struct xmppgw *x, const char *to, const char *type)
{
	xmpp_stanza_t *p = xmpp_presence_new(x->ctx);

	xmpp_stanza_set_to(p, to);
	if (type)
		xmpp_stanza_set_type(p, type);
	xmppgw_send_now(x, p);
	xmpp_stanza_release(p);
}

int
xmppgw_on_presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg)
{
	struct xmppgw *x = arg;
	const char *type = xmpp_stanza_get_type(st), *from = xmpp_stanza_get_from(st);
	struct xmppgw_room *r;
	char *bare;

	(void)conn;
	if (from == NULL)
		return 1;
	r = xmppgw_room_find(x, from);
	if (r != NULL) {
		xmppgw_room_presence(x, r, st, type, from);
		return 1;
	}
	if (type == NULL || strcmp(type, "subscribe") != 0)
		return 1;
	bare = xstrndup(from, xmppgw_bare_len(from));
	if (xmppgw_known_jid(x, bare)) {
		log_info("xmpp: accepted the presence subscription of %s", bare);
		presence_to(x, bare, "subscribed");
		presence_to(x, bare, "subscribe");
	} else {
		log_info("xmpp: ignored a presence subscription from unknown %s", bare);
	}
	free(bare);
	return 1;
}

static const char *const xmppgw_features[] = {
    NS_DISCO_INFO, NS_PING, NS_CORRECT, NS_OOB, NS_REPLY, NS_CHATSTATES,
};

int
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
	           (from == NULL || xmppgw_same_bare(from, x->jid))) {
		/* a roster push: acknowledge it */
		res = xmpp_iq_new(x->ctx, "result", xmpp_stanza_get_id(st));
	} else if (ns && strcmp(ns, NS_DISCO_INFO) == 0 && strcmp(type, "get") == 0) {
		res = xmpp_iq_new(x->ctx, "result", xmpp_stanza_get_id(st));
		if (from)
			xmpp_stanza_set_to(res, from);
		rq = xmppgw_child(x->ctx, res, "query", NS_DISCO_INFO);
		f = xmppgw_child(x->ctx, rq, "identity", NULL);
		xmpp_stanza_set_attribute(f, "category", "client");
		xmpp_stanza_set_attribute(f, "type", "bot");
		xmpp_stanza_set_attribute(f, "name", "usher");
		for (i = 0; i < sizeof(xmppgw_features) / sizeof(xmppgw_features[0]); i++) {
			f = xmppgw_child(x->ctx, rq, "feature", NULL);
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
