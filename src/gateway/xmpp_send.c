/*
 * xmpp_send: the way out of the XMPP gateway.
 *
 * Messages the bot sends while the link is down, or to a room not yet
 * (re)joined, wait in a bounded outbox and go out in order once their
 * destination is ready; completions are reported from a zero-delay timer,
 * never from inside the call that sent. Chat states (XEP-0085): typing on
 * sends <composing/>, typing off sends <active/> only where a composing is
 * still showing, and every message carries <active/> itself. Direct
 * messages go to a person's bare JID as type chat.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <strophe.h>

#include "core/log.h"
#include "core/util.h"
#include "gateway/xmpp_impl.h"

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

void
xmppgw_send_now(struct xmppgw *x, xmpp_stanza_t *st)
{
	xmpp_send(x->conn, st);
}

/* ---- completions ---- */

static void
done_fire(struct loop *loop, loop_timer_id id, void *arg)
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

void
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
	d->timer = loop_add_timer(x->loop, 0, done_fire, d);
}

/* ---- chat states ---- */

/* The slot holding `jid` in the 1:1 composing set, or NULL. With `add`, a
 * free slot for it when it is not there (NULL when full). */
static char **
composing_slot(struct xmppgw *x, const char *jid, bool add)
{
	char **free_slot = NULL;
	size_t i;

	for (i = 0; i < XMPPGW_COMPOSING_MAX; i++) {
		if (x->composing[i] == NULL)
			free_slot = free_slot ? free_slot : &x->composing[i];
		else if (xmppgw_same_bare(x->composing[i], jid))
			return &x->composing[i];
	}
	return add ? free_slot : NULL;
}

static void
composing_forget(struct xmppgw *x, struct xmppgw_room *r, const char *jid)
{
	char **slot;

	if (r) {
		r->composing = false;
	} else if ((slot = composing_slot(x, jid, false)) != NULL) {
		free(*slot);
		*slot = NULL;
	}
}

void
xmppgw_composing_reset(struct xmppgw *x)
{
	size_t i;

	for (i = 0; i < XMPPGW_COMPOSING_MAX; i++) {
		free(x->composing[i]);
		x->composing[i] = NULL;
	}
	for (i = 0; i < x->room_count; i++)
		x->rooms[i].composing = false;
}

/* Fire and forget: a state that cannot go out now is simply not shown. */
void
xmppgw_typing(struct gateway *gw, const char *room, bool on)
{
	struct xmppgw *x = gateway_impl(gw);
	struct xmppgw_room *r;
	xmpp_stanza_t *m;
	char *to, **slot = NULL;

	if (x == NULL || room == NULL || !x->online || x->conn == NULL)
		return;
	r = xmppgw_room_find(x, room);
	if (r && !r->joined)
		return;
	to = r ? xstrdup(r->jid) : xstrndup(room, xmppgw_bare_len(room));
	if (on) {
		if (r == NULL && (slot = composing_slot(x, to, true)) == NULL) {
			free(to);
			return;
		}
		if (r)
			r->composing = true;
		else if (*slot == NULL)
			*slot = xstrdup(to);
	} else {
		if (r ? !r->composing : composing_slot(x, to, false) == NULL) {
			free(to);
			return;
		}
		composing_forget(x, r, to);
	}
	m = xmppgw_chat_state(x, r != NULL, to, on ? "composing" : "active");
	xmppgw_send_now(x, m);
	xmpp_stanza_release(m);
	free(to);
}

/* ---- the outbox ---- */

static bool
out_ready(struct xmppgw *x, const struct xmppgw_out *o)
{
	return x->online && x->conn && (o->room == NULL || o->room->joined);
}

static void
out_free(struct xmppgw_out *o)
{
	xmpp_stanza_release(o->stanza);
	free(o->report_id);
	free(o);
}

void
xmppgw_flush(struct xmppgw *x)
{
	struct xmppgw_out **pp = &x->out_head, *o;

	while ((o = *pp) != NULL) {
		if (!out_ready(x, o)) {
			pp = &o->next;
			continue;
		}
		*pp = o->next;
		x->out_len--;
		/* The message carries <active/>: no composing shows after it. */
		composing_forget(x, o->room, xmpp_stanza_get_to(o->stanza));
		xmppgw_send_now(x, o->stanza);
		xmppgw_report(x, o->done, o->arg, 0, o->report_id, NULL);
		out_free(o);
	}
}

/* Queues one message for `r` (a room) or the bare JID `to` (r NULL). */
static int
post(struct xmppgw *x, struct xmppgw_room *r, const char *to, const struct chat_out *out,
     const char *replace_id, gateway_done_cb *done, void *arg)
{
	struct xmppgw_out *o, **pp;
	char *id;

	if (x->out_len >= XMPPGW_OUTBOX_MAX) {
		log_warnx("xmpp: %zu messages are waiting for the server; not sending more",
		          x->out_len);
		return -1;
	}
	id = xmpp_uuid_gen(x->ctx);
	o = xcalloc(1, sizeof(*o));
	o->stanza = xmppgw_build(x, r, to, id, out, replace_id);
	o->room = r;
	/* Corrections keep pointing at the first message: report its id. */
	o->report_id = xstrdup(replace_id ? replace_id : id);
	o->done = done;
	o->arg = arg;
	xmpp_free(x->ctx, id);
	for (pp = &x->out_head; *pp; pp = &(*pp)->next)
		;
	*pp = o;
	x->out_len++;
	xmppgw_flush(x);
	return 0;
}

static int
post_room(struct gateway *gw, const char *room, const struct chat_out *out, const char *replace_id,
          gateway_done_cb *done, void *arg)
{
	struct xmppgw *x = gateway_impl(gw);
	struct xmppgw_room *r;
	char *to;
	int rc;

	if (room == NULL || out == NULL || x->stopping)
		return -1;
	r = xmppgw_room_find(x, room);
	to = r ? xstrdup(r->jid) : xstrndup(room, xmppgw_bare_len(room));
	rc = post(x, r, to, out, replace_id, done, arg);
	free(to);
	return rc;
}

int
xmppgw_send(struct gateway *gw, const char *room, const struct chat_out *out, gateway_done_cb *done,
            void *arg)
{
	return post_room(gw, room, out, NULL, done, arg);
}

int
xmppgw_edit(struct gateway *gw, const char *room, const char *msg_id, const struct chat_out *out,
            gateway_done_cb *done, void *arg)
{
	if (msg_id == NULL)
		return -1;
	return post_room(gw, room, out, msg_id, done, arg);
}

/* Always 1:1, even when `user` happens to name a room usher is in. */
int
xmppgw_send_direct(struct gateway *gw, const char *user, const struct chat_out *out,
                   gateway_done_cb *done, void *arg)
{
	struct xmppgw *x = gateway_impl(gw);
	const char *at;
	char *to;
	int rc;

	if (user == NULL || out == NULL || x->stopping || (at = strchr(user, '@')) == NULL ||
	    at == user || at[1] == '\0' || at[1] == '/')
		return -1;
	to = xstrndup(user, xmppgw_bare_len(user));
	rc = post(x, NULL, to, out, NULL, done, arg);
	free(to);
	return rc;
}

void
xmppgw_send_free(struct xmppgw *x)
{
	struct xmppgw_done *d, *dn;
	struct xmppgw_out *o, *on;

	for (d = x->pending; d; d = dn) {
		dn = d->next;
		loop_cancel_timer(x->loop, d->timer);
		free(d->msg_id);
		free(d->error);
		free(d);
	}
	x->pending = NULL;
	for (o = x->out_head; o; o = on) {
		on = o->next;
		out_free(o);
	}
	x->out_head = NULL;
	x->out_len = 0;
	xmppgw_composing_reset(x);
}
