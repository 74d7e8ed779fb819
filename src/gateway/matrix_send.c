/*
 * matrix_send: the Matrix gateway's outgoing messages (see matrix.h and
 * matrix_impl.h): event content, sends and edits with idempotent retries,
 * txnIds that survive a restart, and direct chats opened on demand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/util.h"
#include "gateway/matrix_impl.h"

#define MX_SEND_TRIES 6
/* How many keyless txnIds the store hands out per write. */
#define MX_TXN_BLOCK 64
/* Sends a previous run left unconfirmed are made again with their txnId
 * only this long: homeservers forget transactions after a while (Synapse
 * after about half an hour), and then a repeat would post twice. */
#define MX_OUTBOX_MAX_AGE_S (10 * 60)

/* A message on its way out. Its txnId is fixed when it is created, so every
 * retry is the same transaction and the homeserver posts it once. `room`
 * is NULL while the direct chat with `user` is being opened. From its first
 * try until it is settled it is in the store's outbox, so a run that dies
 * meanwhile leaves it to the next, which makes the same transaction. */
struct mx_send {
	struct matrix *m;
	char *room;
	char *user;
	char *txn;
	char *url;
	char *body;
	gateway_done_cb *done;
	void *arg;
	struct http_call *call;
	loop_timer_id timer;
	unsigned tries;
	struct mx_send *next;
};

/* A direct chat being created for `user`; sends for them wait on it. */
struct mx_dm {
	struct matrix *m;
	char *user;
	struct http_call *call;
	loop_timer_id timer;
	unsigned tries;
	struct mx_dm *next;
};

static void mx_send_go(struct mx_send *s);
static void mx_dm_go(struct mx_dm *d);
static void mx_outbox_resume(struct matrix *m);

static void
mx_outbox_save(struct matrix *m)
{
	matrix_kv_save(m, "outbox", m->outbox);
}

/* ---- transaction ids ---- */

static char *
mx_txn_key(const struct matrix *m)
{
	return matrix_key(m, "txn");
}

static void
mx_txn_save(struct matrix *m)
{
	char *key, *val;

	if (m->store == NULL)
		return;
	key = mx_txn_key(m);
	val = xasprintf("%llu %llu", m->txn_epoch, m->txn_reserved);
	if (store_kv_set(m->store, key, val) == -1)
		log_warnx("matrix: cannot save the transaction counter: %s",
		          store_errmsg(m->store));
	free(val);
	free(key);
}

static unsigned long long
mx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* FNV-1a, 64 bits, from `h`. */
static unsigned long long
mx_fnv(unsigned long long h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The txnId for a message: from its key when it has one, so the same
 * message sent again after a restart is the same transaction (the epoch
 * keeps a new store from meeting an old one's transactions); otherwise
 * the next number of a counter kept in the store, so a restart never
 * reuses a txnId for other content. Returns a new string. */
static char *
mx_txn_id(struct matrix *m, const char *key)
{
	if (key != NULL && *key != '\0') {
		char epoch[32];
		unsigned long long a, b;

		snprintf(epoch, sizeof(epoch), "%llu:", m->txn_epoch);
		a = mx_fnv(mx_fnv(0xcbf29ce484222325ULL, epoch), key);
		b = mx_fnv(mx_fnv(0x84222325cbf29ce4ULL, key), epoch);
		return xasprintf("usher-%016llx%016llx", a, b);
	}
	if (m->txn_next >= m->txn_reserved) {
		m->txn_reserved = m->txn_next + MX_TXN_BLOCK;
		mx_txn_save(m);
	}
	return xasprintf("usher.%llu.%llu", m->txn_epoch, m->txn_next++);
}

void
matrix_send_init(struct matrix *m)
{
	char *key, *val = NULL;
	unsigned long long epoch, reserved;
	json_t *box;

	m->dms = json_object();
	m->outbox = json_object();
	if (m->store == NULL) {
		m->txn_epoch = mx_now_ms();
		return;
	}
	key = mx_txn_key(m);
	if (store_kv_get(m->store, key, &val) == 0 && val &&
	    sscanf(val, "%llu %llu", &epoch, &reserved) == 2) {
		m->txn_epoch = epoch;
		/* Numbers promised to the last run may have been used: skip them. */
		m->txn_next = m->txn_reserved = reserved;
	} else {
		m->txn_epoch = mx_now_ms();
		mx_txn_save(m);
	}
	free(val);
	free(key);
	if ((box = matrix_kv_load(m, "dms")) != NULL) {
		json_decref(m->dms);
		m->dms = box;
	}
	if ((box = matrix_kv_load(m, "outbox")) != NULL) {
		json_decref(m->outbox);
		m->outbox = box;
	}
	mx_outbox_resume(m);
}

/* ---- content ---- */

static void
mx_html_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			buf_append_str(b, "&amp;");
			break;
		case '<':
			buf_append_str(b, "&lt;");
			break;
		case '>':
			buf_append_str(b, "&gt;");
			break;
		case '"':
			buf_append_str(b, "&quot;");
			break;
		case '\'':
			buf_append_str(b, "&#39;");
			break;
		case '\n':
			buf_append_str(b, "<br>");
			break;
		default:
			buf_append(b, s, 1);
		}
	}
}

/* body, formatted_body, msgtype and m.mentions for `out` in `room` (NULL:
 * a direct chat not opened yet). The mentioned person is linked with a
 * pill; when the text already starts with their name (bot.c writes
 * "Name: ..." in rooms) the name itself becomes the pill, and so does a
 * leading "@name " (progress pings), which would not ping anyone here. */
static json_t *
mx_content(struct matrix *m, const char *room, const struct chat_out *out)
{
	const char *text = out->text ? out->text : "";
	const char *name = NULL, *rest = text;
	struct buf body, html;
	json_t *c, *mentions = json_object(), *ids = json_array();

	buf_init(&body, 0);
	buf_init(&html, 0);
	if (out->mention) {
		size_t n;

		if (room)
			name = matrix_member_name(m, room, out->mention);
		if (name == NULL)
			name = out->mention;
		n = strlen(name);
		buf_append_str(&html, "<a href=\"https://matrix.to/#/");
		mx_html_escape(&html, out->mention);
		buf_append_str(&html, "\">");
		mx_html_escape(&html, name);
		buf_append_str(&html, "</a>");
		if (strncmp(text, name, n) == 0 && text[n] == ':') {
			rest = text + n;
		} else if (text[0] == '@' && strchr(text, ' ') != NULL) {
			rest = text = strchr(text, ' ');
			buf_printf(&body, "%s:", name);
			buf_append_str(&html, ":");
		} else {
			buf_printf(&body, "%s: ", name);
			buf_append_str(&html, ": ");
		}
		json_array_append_new(ids, json_string(out->mention));
	}
	buf_append_str(&body, text);
	if (out->html)
		buf_append_str(&html, out->html);
	else
		mx_html_escape(&html, rest);
	if (out->image_url) {
		buf_printf(&body, "\n%s", out->image_url);
		buf_append_str(&html, "<br><a href=\"");
		mx_html_escape(&html, out->image_url);
		buf_append_str(&html, "\">poster</a>");
	}
	json_object_set_new(mentions, "user_ids", ids);
	/* m.notice keeps other bots from answering, but push rules silence it:
	 * a message that pings someone must be m.text to reach them. */
	c = json_pack("{s:s, s:s, s:s, s:s, s:o}", "msgtype", out->mention ? "m.text" : "m.notice",
	              "body", body.data ? body.data : "", "format", "org.matrix.custom.html",
	              "formatted_body", html.data ? html.data : "", "m.mentions", mentions);
	buf_free(&body);
	buf_free(&html);
	return c;
}

/* ---- sends ---- */

static void
mx_send_unlink(struct mx_send *s)
{
	struct mx_send **pp;

	for (pp = &s->m->sends; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			return;
		}
}

static void
mx_send_free(struct mx_send *s)
{
	free(s->room);
	free(s->user);
	free(s->txn);
	free(s->url);
	free(s->body);
	free(s);
}

static void
mx_send_finish(struct mx_send *s, int status, const char *event_id, const char *error)
{
	mx_send_unlink(s);
	if (json_object_get(s->m->outbox, s->txn)) {
		json_object_del(s->m->outbox, s->txn);
		mx_outbox_save(s->m);
	}
	if (status == 0 && event_id)
		matrix_room_add_own(s->m, s->room, event_id);
	if (status != 0)
		log_warnx("matrix: a message to %s was not delivered: %s",
		          s->room ? s->room : s->user, error);
	if (s->done)
		s->done(s->arg, status, event_id, error);
	mx_send_free(s);
}

static void
mx_send_timer(struct loop *loop, loop_timer_id id, void *arg)
{
	struct mx_send *s = arg;

	(void)loop;
	(void)id;
	s->timer = 0;
	mx_send_go(s);
}

static void
mx_send_retry(struct mx_send *s, long ms, const char *why)
{
	if (s->tries >= MX_SEND_TRIES) {
		mx_send_finish(s, -1, NULL, why);
		return;
	}
	log_warnx("matrix: sending to %s: %s; trying again in %ld ms (same transaction)", s->room,
	          why, ms);
	s->timer = loop_add_timer(gateway_loop(s->m->gw), (uint64_t)ms, mx_send_timer, s);
}

static void
mx_send_done(const struct http_response *r, void *arg)
{
	struct mx_send *s = arg;
	json_t *root;
	const char *event_id;
	char err[256], why[300];

	s->call = NULL;
	if (r->result != HTTP_OK) {
		mx_send_retry(s, matrix_backoff(s->tries - 1), r->error);
		return;
	}
	root = http_response_json(r, err, sizeof(err));
	event_id = json_string_value(json_object_get(root, "event_id"));
	if (r->status == 200 && event_id) {
		mx_send_finish(s, 0, event_id, NULL);
	} else if (r->status == 429) {
		mx_send_retry(s, matrix_retry_after(r, root, 2000),
		              "rate-limited (M_LIMIT_EXCEEDED)");
	} else if (r->status >= 500 || r->status == 200) {
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
		mx_send_retry(s, matrix_backoff(s->tries - 1), why);
	} else {
		const char *msg = json_string_value(json_object_get(root, "error"));

		snprintf(why, sizeof(why), "HTTP %ld %s %s", r->status, matrix_errcode(root),
		         msg ? msg : "");
		if (r->status == 401)
			matrix_token_refused(s->m, matrix_errcode(root));
		mx_send_finish(s, -1, NULL, why);
	}
	json_decref(root);
}

static void
mx_send_go(struct mx_send *s)
{
	struct matrix *m = s->m;
	struct http_opts o;
	const char *headers[3];
	char *hdr;

	if (m->token == NULL || s->url == NULL)
		return; /* matrix_send_resume() or the new direct chat starts it */
	if (s->tries++ == 0 && json_object_get(m->outbox, s->txn) == NULL) {
		json_object_set_new(m->outbox, s->txn,
		                    json_pack("{s:s, s:s, s:I}", "room", s->room, "body", s->body,
		                              "t", (json_int_t)time(NULL)));
		mx_outbox_save(m);
	}
	matrix_http_opts(m, &o, &hdr, headers);
	headers[1] = "Content-Type: application/json";
	headers[2] = NULL;
	o.method = "PUT";
	o.url = s->url;
	o.headers = headers;
	o.body = s->body;
	o.body_len = strlen(s->body);
	s->call = http_start(m->http, &o, mx_send_done, s);
	free(hdr);
}

static void
mx_send_set_room(struct mx_send *s, const char *room)
{
	char *esc = matrix_escape(room), *txn = matrix_escape(s->txn);

	free(s->room);
	s->room = xstrdup(room);
	s->url =
	    xasprintf("%s/_matrix/client/v3/rooms/%s/send/m.room.message/%s", s->m->hs, esc, txn);
	free(txn);
	free(esc);
}

/* A send of `body` as transaction `txn` (both taken) to `room`, or to the
 * direct chat with `user` once it is open. Not started yet. */
static struct mx_send *
mx_send_new(struct matrix *m, const char *room, const char *user, char *txn, char *body,
            gateway_done_cb *done, void *arg)
{
	struct mx_send *s = xcalloc(1, sizeof(*s));

	s->m = m;
	s->txn = txn;
	if (room)
		mx_send_set_room(s, room);
	else
		s->user = xstrdup(user);
	s->body = body;
	s->done = done;
	s->arg = arg;
	s->next = m->sends;
	m->sends = s;
	return s;
}

/* A send of `content` (borrowed) with the txnId for `key`. */
static struct mx_send *
mx_send_content(struct matrix *m, const char *room, const char *user, const json_t *content,
                const char *key, gateway_done_cb *done, void *arg)
{
	return mx_send_new(m, room, user, mx_txn_id(m, key), json_dumps(content, JSON_COMPACT),
	                   done, arg);
}

/* What the last run left unconfirmed goes again as the same transaction
 * (nobody waits for it now); what is too old to be safe is dropped. */
static void
mx_outbox_resume(struct matrix *m)
{
	const char *txn;
	json_t *rec, *tmp;
	bool changed = false;

	json_object_foreach_safe(m->outbox, tmp, txn, rec)
	{
		const char *room = json_string_value(json_object_get(rec, "room"));
		const char *body = json_string_value(json_object_get(rec, "body"));
		json_int_t t = json_integer_value(json_object_get(rec, "t"));

		if (room && *room == '!' && body && t > time(NULL) - MX_OUTBOX_MAX_AGE_S) {
			log_info("matrix: sending again a message to %s the last run did not see "
			         "delivered (transaction %s)",
			         room, txn);
			mx_send_new(m, room, NULL, xstrdup(txn), xstrdup(body), NULL, NULL);
		} else {
			log_warnx("matrix: dropping a message to %s from the last run: too old to "
			          "send again safely",
			          room ? room : "?");
			json_object_del(m->outbox, txn);
			changed = true;
		}
	}
	if (changed)
		mx_outbox_save(m);
}

void
matrix_say(struct matrix *m, const char *room, const char *text)
{
	struct chat_out out = {.text = text};
	json_t *c = mx_content(m, room, &out);

	mx_send_go(mx_send_content(m, room, NULL, c, NULL, NULL, NULL));
	json_decref(c);
}

int
matrix_send(struct gateway *gw, const char *room, const struct chat_out *out, gateway_done_cb *done,
            void *arg)
{
	struct matrix *m = gateway_impl(gw);
	json_t *c;

	if (room == NULL || *room != '!' || out->text == NULL)
		return -1;
	c = mx_content(m, room, out);
	if (out->reply_to)
		json_object_set_new(
		    c, "m.relates_to",
		    json_pack("{s:{s:s}}", "m.in_reply_to", "event_id", out->reply_to));
	mx_send_go(mx_send_content(m, room, NULL, c, out->key, done, arg));
	json_decref(c);
	return 0;
}

int
matrix_edit(struct gateway *gw, const char *room, const char *msg_id, const struct chat_out *out,
            gateway_done_cb *done, void *arg)
{
	struct matrix *m = gateway_impl(gw);
	json_t *c, *edit;
	char *body, *html;

	if (room == NULL || *room != '!' || msg_id == NULL || out->text == NULL)
		return -1;
	c = mx_content(m, room, out);
	body = xasprintf("* %s", json_string_value(json_object_get(c, "body")));
	html = xasprintf("* %s", json_string_value(json_object_get(c, "formatted_body")));
	/* Edits reference the original and never carry m.in_reply_to; only
	 * newly mentioned people go at the top, all of them in m.new_content. */
	edit = json_pack("{s:s, s:s, s:s, s:s, s:O, s:{s:[]}, s:{s:s, s:s}}", "msgtype",
	                 json_string_value(json_object_get(c, "msgtype")), "body", body, "format",
	                 "org.matrix.custom.html", "formatted_body", html, "m.new_content", c,
	                 "m.mentions", "user_ids", "m.relates_to", "rel_type", "m.replace",
	                 "event_id", msg_id);
	mx_send_go(mx_send_content(m, room, NULL, edit, out->key, done, arg));
	json_decref(edit);
	json_decref(c);
	free(body);
	free(html);
	return 0;
}

/* ---- direct chats ---- */

static void
mx_dms_save(struct matrix *m)
{
	matrix_kv_save(m, "dms", m->dms);
}

void
matrix_note_dm(struct matrix *m, const char *user, const char *room)
{
	if (json_is_string(json_object_get(m->dms, user)))
		return;
	json_object_set_new(m->dms, user, json_string(room));
	mx_dms_save(m);
}

/* True when usher is in `room` and `user` is in it or invited to it, as
 * far as the synced (or, for a room usher made, assumed) state says. */
static bool
mx_dm_usable(struct matrix *m, const char *room, const char *user)
{
	json_t *members = json_object_get(matrix_room(m, room)->state, "members");
	const char *me =
	    json_string_value(json_object_get(json_object_get(members, m->user_id), "m"));

	return me != NULL && strcmp(me, "join") == 0 && json_object_get(members, user) != NULL;
}

/* The direct chat with `user` (borrowed), or NULL when there is none to
 * use: the one usher used before, else one m.direct lists. */
static const char *
mx_dm_find(struct matrix *m, const char *user)
{
	const char *room = json_string_value(json_object_get(m->dms, user));
	json_t *v;
	size_t i;

	if (room && mx_dm_usable(m, room, user))
		return room;
	if (room) {
		log_info("matrix: %s is no longer a direct chat with %s", room, user);
		json_object_del(m->dms, user);
		mx_dms_save(m);
	}
	json_array_foreach(json_object_get(m->direct, user), i, v)
	{
		room = json_string_value(v);
		if (room && *room == '!' && mx_dm_usable(m, room, user)) {
			matrix_note_dm(m, user, room);
			return json_string_value(json_object_get(m->dms, user));
		}
	}
	return NULL;
}

static void
mx_dm_free(struct mx_dm *d)
{
	struct mx_dm **pp;

	for (pp = &d->m->dm_opening; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	free(d->user);
	free(d);
}

/* The chat with d->user is open in `room` (or could not be, NULL): every
 * send waiting for it goes on or fails. */
static void
mx_dm_settle(struct mx_dm *d, const char *room, const char *why)
{
	struct matrix *m = d->m;
	struct mx_send *s, *next;

	for (s = m->sends; s; s = next) {
		next = s->next;
		if (s->room != NULL || strcmp(s->user, d->user) != 0)
			continue;
		if (room) {
			mx_send_set_room(s, room);
			mx_send_go(s);
		} else {
			mx_send_finish(s, -1, NULL, why);
		}
	}
	mx_dm_free(d);
}

static void
mx_dm_timer(struct loop *loop, loop_timer_id id, void *arg)
{
	struct mx_dm *d = arg;

	(void)loop;
	(void)id;
	d->timer = 0;
	mx_dm_go(d);
}

static void
mx_dm_done(const struct http_response *r, void *arg)
{
	struct mx_dm *d = arg;
	struct matrix *m = d->m;
	json_t *root = NULL;
	const char *room;
	char err[256], why[300];
	long wait = -1;

	d->call = NULL;
	if (r->result == HTTP_OK)
		root = http_response_json(r, err, sizeof(err));
	room = json_string_value(json_object_get(root, "room_id"));
	if (r->result == HTTP_OK && r->status == 200 && room && *room == '!') {
		struct mx_room *mr = matrix_room(m, room);
		json_t *members = json_object_get(mr->state, "members");

		log_info("matrix: opened the direct chat %s with %s", room, d->user);
		/* What the next sync will say, known now so the send can go. */
		json_object_set_new(mr->state, "dm", json_true());
		json_object_set_new(members, m->user_id, json_pack("{s:s}", "m", "join"));
		if (json_object_get(members, d->user) == NULL)
			json_object_set_new(members, d->user, json_pack("{s:s}", "m", "invite"));
		mr->dirty = true;
		matrix_rooms_save(m);
		json_object_set_new(m->dms, d->user, json_string(room));
		mx_dms_save(m);
		matrix_add_direct(m, d->user, room);
		mx_dm_settle(d, room, NULL);
		json_decref(root);
		return;
	}
	if (r->result != HTTP_OK) {
		snprintf(why, sizeof(why), "%s", r->error);
		wait = matrix_backoff(d->tries - 1);
	} else if (r->status == 429) {
		snprintf(why, sizeof(why), "rate-limited (M_LIMIT_EXCEEDED)");
		wait = matrix_retry_after(r, root, 2000);
	} else {
		snprintf(why, sizeof(why), "HTTP %ld %s", r->status, matrix_errcode(root));
		if (r->status >= 500)
			wait = matrix_backoff(d->tries - 1);
		else if (r->status == 401)
			matrix_token_refused(m, matrix_errcode(root));
	}
	json_decref(root);
	if (wait >= 0 && d->tries < MX_SEND_TRIES) {
		log_warnx("matrix: cannot open a direct chat with %s (%s); trying again in %ld ms",
		          d->user, why, wait);
		d->timer = loop_add_timer(gateway_loop(m->gw), (uint64_t)wait, mx_dm_timer, d);
		return;
	}
	log_warnx("matrix: cannot open a direct chat with %s: %s", d->user, why);
	mx_dm_settle(d, NULL, why);
}

static void
mx_dm_go(struct mx_dm *d)
{
	struct matrix *m = d->m;
	json_t *body;
	char *url, *hdr;
	struct http_opts o;
	const char *headers[3];

	if (m->token == NULL)
		return; /* matrix_send_resume() starts it after the login */
	d->tries++;
	body = json_pack("{s:b, s:[s], s:s}", "is_direct", 1, "invite", d->user, "preset",
	                 "trusted_private_chat");
	url = xasprintf("%s/_matrix/client/v3/createRoom", m->hs);
	matrix_http_opts(m, &o, &hdr, headers);
	d->call = http_start_json(m->http, "POST", url, headers, body, &o, mx_dm_done, d);
	free(hdr);
	free(url);
	json_decref(body);
}

int
matrix_send_direct(struct gateway *gw, const char *user, const struct chat_out *out,
                   gateway_done_cb *done, void *arg)
{
	struct matrix *m = gateway_impl(gw);
	const char *room;
	struct mx_dm *d;
	json_t *c;

	if (user == NULL || *user != '@' || strchr(user, ':') == NULL || out->text == NULL ||
	    strcmp(user, m->user_id) == 0)
		return -1;
	if ((room = mx_dm_find(m, user)) != NULL)
		return matrix_send(gw, room, out, done, arg);
	c = mx_content(m, NULL, out);
	mx_send_content(m, NULL, user, c, out->key, done, arg);
	json_decref(c);
	for (d = m->dm_opening; d; d = d->next)
		if (strcmp(d->user, user) == 0)
			return 0; /* already being opened: this send waits too */
	d = xcalloc(1, sizeof(*d));
	d->m = m;
	d->user = xstrdup(user);
	d->next = m->dm_opening;
	m->dm_opening = d;
	mx_dm_go(d);
	return 0;
}

/* ---- the gateway's life ---- */

void
matrix_send_resume(struct matrix *m)
{
	for (struct mx_dm *d = m->dm_opening; d; d = d->next)
		if (d->call == NULL && d->timer == 0)
			mx_dm_go(d);
	for (struct mx_send *s = m->sends; s; s = s->next)
		if (s->call == NULL && s->timer == 0)
			mx_send_go(s);
}

void
matrix_send_free(struct matrix *m)
{
	struct loop *loop = gateway_loop(m->gw);

	while (m->sends) {
		struct mx_send *s = m->sends;

		m->sends = s->next;
		http_cancel(s->call);
		if (s->timer)
			loop_cancel_timer(loop, s->timer);
		mx_send_free(s);
	}
	while (m->dm_opening) {
		struct mx_dm *d = m->dm_opening;

		http_cancel(d->call);
		if (d->timer)
			loop_cancel_timer(loop, d->timer);
		mx_dm_free(d);
	}
	json_decref(m->dms);
	m->dms = NULL;
	json_decref(m->outbox);
	m->outbox = NULL;
}
