/* Reading one /sync batch: see matrix_impl.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/store.h"
#include "core/util.h"
#include "gateway/gateway.h"
#include "gateway/matrix_impl.h"

static const char encrypted_notice[] =
    "Sorry, I can't read encrypted rooms yet, so I won't see anything said here. "
    "Talk to me in a direct chat or a room with encryption turned off (encryption "
    "can't be turned off later, so that needs a new room).";

/* Exact comparison where `a` may be missing from hostile JSON. */
static bool
mx_is(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

char *
matrix_key(const struct matrix *m, const char *name)
{
	return xasprintf("matrix:%s:%s", m->user_id, name);
}

json_t *
matrix_kv_load(struct matrix *m, const char *name)
{
	char *key, *val = NULL;
	json_t *v = NULL;

	if (m->store == NULL)
		return NULL;
	key = matrix_key(m, name);
	if (store_kv_get(m->store, key, &val) == 0 && val)
		v = json_loads(val, 0, NULL);
	if (v && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	free(val);
	free(key);
	return v;
}

void
matrix_kv_save(struct matrix *m, const char *name, const json_t *value)
{
	char *key, *val;

	if (m->store == NULL)
		return;
	key = matrix_key(m, name);
	val = json_dumps(value, JSON_COMPACT);
	if (val == NULL || store_kv_set(m->store, key, val) == -1)
		log_warnx("matrix: cannot save %s: %s", name, store_errmsg(m->store));
	free(val);
	free(key);
}

struct mx_room *
matrix_room(struct matrix *m, const char *id)
{
	struct mx_room *r;
	char *name;

	for (r = m->rooms; r != NULL; r = r->next)
		if (strcmp(r->id, id) == 0)
			return r;
	name = xasprintf("room:%s", id);
	r = xcalloc(1, sizeof(*r));
	r->id = xstrdup(id);
	r->state = matrix_kv_load(m, name);
	free(name);
	if (r->state == NULL)
		r->state = json_object();
	if (!json_is_object(json_object_get(r->state, "members")))
		json_object_set_new(r->state, "members", json_object());
	r->next = m->rooms;
	m->rooms = r;
	return r;
}

void
matrix_rooms_save(struct matrix *m)
{
	struct mx_room *r;

	for (r = m->rooms; r != NULL; r = r->next) {
		char *name;

		if (!r->dirty)
			continue;
		r->dirty = false;
		name = xasprintf("room:%s", r->id);
		matrix_kv_save(m, name, r->state);
		free(name);
	}
}

void
matrix_room_add_own(struct matrix *m, const char *room, const char *event_id)
{
	struct mx_room *r = matrix_room(m, room);
	json_t *own = json_object_get(r->state, "own");

	if (!json_is_array(own)) {
		own = json_array();
		json_object_set_new(r->state, "own", own);
	}
	json_array_append_new(own, json_string(event_id));
	while (json_array_size(own) > MATRIX_OWN_EVENTS)
		json_array_remove(own, 0);
	r->dirty = true;
	matrix_rooms_save(m);
}

const char *
matrix_member_name(struct matrix *m, const char *room, const char *user)
{
	json_t *mem =
	    json_object_get(json_object_get(matrix_room(m, room)->state, "members"), user);

	return json_string_value(json_object_get(mem, "n"));
}

bool
matrix_is_person(const struct matrix *m, const char *user)
{
	for (size_t i = 0; i < m->npeople; i++)
		if (strcmp(m->people[i], user) == 0)
			return true;
	return false;
}

static bool
mx_room_is_own_event(const struct mx_room *r, const char *event_id)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(r->state, "own"), i, v)
	{
		const char *s = json_string_value(v);

		if (s && strcmp(s, event_id) == 0)
			return true;
	}
	return false;
}

/* A room is a direct chat when m.direct or the invite says so, or when it
 * has at most two members. A room whose members usher never saw counts as
 * a group, so usher stays quiet there unless addressed. */
static bool
mx_room_is_direct(const struct matrix *m, const struct mx_room *r)
{
	const char *user;
	json_t *rooms, *v;
	size_t i, n;

	if (json_is_true(json_object_get(r->state, "dm")))
		return true;
	json_object_foreach(m->direct, user, rooms)
	{
		json_array_foreach(rooms, i, v)
		{
			if (json_is_string(v) && strcmp(json_string_value(v), r->id) == 0)
				return true;
		}
	}
	if (json_is_integer(json_object_get(r->state, "count")))
		n = (size_t)json_integer_value(json_object_get(r->state, "count"));
	else
		n = json_object_size(json_object_get(r->state, "members"));
	return n > 0 && n <= 2;
}

static void
mx_member_event(struct mx_room *r, const json_t *ev)
{
	const char *user = json_string_value(json_object_get(ev, "state_key"));
	const json_t *content = json_object_get(ev, "content");
	const char *ms = json_string_value(json_object_get(content, "membership"));
	const char *name = json_string_value(json_object_get(content, "displayname"));
	json_t *members = json_object_get(r->state, "members");

	if (user == NULL || ms == NULL)
		return;
	if (strcmp(ms, "join") == 0 || strcmp(ms, "invite") == 0) {
		json_t *o = json_object();

		json_object_set_new(o, "m", json_string(ms));
		if (name && strlen(name) < 256)
			json_object_set_new(o, "n", json_string(name));
		json_object_set_new(members, user, o);
	} else {
		json_object_del(members, user);
	}
	/* Membership changed since the summary: count from the members again. */
	json_object_del(r->state, "count");
	r->dirty = true;
}

static void
mx_encrypted(struct matrix *m, struct mx_room *r, bool initial)
{
	if (!json_is_true(json_object_get(r->state, "enc"))) {
		json_object_set_new(r->state, "enc", json_true());
		r->dirty = true;
	}
	if (initial || json_is_true(json_object_get(r->state, "notice")))
		return;
	json_object_set_new(r->state, "notice", json_true());
	r->dirty = true;
	log_info("matrix: %s is encrypted; telling the room usher cannot read it", r->id);
	matrix_say(m, r->id, encrypted_notice);
}

/* Drops the quoted fallback ("> <@a:hs> ..." lines, then a blank line)
 * that older clients put before a reply. */
static char *
mx_strip_fallback(char *s)
{
	while (s[0] == '>') {
		char *nl = strchr(s, '\n');

		if (nl == NULL)
			return s;
		s = nl + 1;
	}
	while (*s == '\n')
		s++;
	return s;
}

/* When `text` starts with `name` (any ASCII case) followed by ':', ',', ' '
 * or its end, returns what follows (punctuation and spaces skipped). */
static const char *
mx_after_name(const char *text, const char *name)
{
	size_t n;

	if (name == NULL || *name == '\0')
		return NULL;
	if (*text == '@')
		text++;
	n = strlen(name);
	if (strncasecmp(text, name, n) != 0)
		return NULL;
	text += n;
	if (*text != '\0' && strchr(":, ;", *text) == NULL)
		return NULL;
	while (*text && strchr(":,; ", *text))
		text++;
	return text;
}

static bool
mx_mentions_me(const struct matrix *m, const json_t *content)
{
	json_t *ids = json_object_get(json_object_get(content, "m.mentions"), "user_ids");
	const char *html = json_string_value(json_object_get(content, "formatted_body"));
	json_t *v;
	size_t i;

	json_array_foreach(ids, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), m->user_id) == 0)
			return true;
	}
	/* Clients from before m.mentions only put a pill in the HTML. */
	if (html && !json_is_object(json_object_get(content, "m.mentions"))) {
		char *pill = xasprintf("matrix.to/#/%s\"", m->user_id);
		bool found = strstr(html, pill) != NULL;

		free(pill);
		return found;
	}
	return false;
}

/* Cuts at most MATRIX_TEXT_MAX bytes, never inside a UTF-8 sequence. */
static char *
mx_copy_body(const char *body)
{
	size_t n = strlen(body);

	if (n > MATRIX_TEXT_MAX) {
		n = MATRIX_TEXT_MAX;
		while (n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
			n--;
	}
	return xstrndup(body, n);
}

static void
mx_message(struct matrix *m, struct mx_room *r, const json_t *ev)
{
	const char *sender = json_string_value(json_object_get(ev, "sender"));
	const char *event_id = json_string_value(json_object_get(ev, "event_id"));
	const json_t *content = json_object_get(ev, "content");
	const char *msgtype = json_string_value(json_object_get(content, "msgtype"));
	const char *body = json_string_value(json_object_get(content, "body"));
	const json_t *rel = json_object_get(content, "m.relates_to");
	const char *reply_to =
	    json_string_value(json_object_get(json_object_get(rel, "m.in_reply_to"), "event_id"));
	const char *rest, *self_name;
	char *copy, *text;
	struct chat_msg msg;

	if (sender == NULL || event_id == NULL || body == NULL || msgtype == NULL)
		return;
	if (strcmp(sender, m->user_id) == 0)
		return;
	/* m.notice must never be answered (bot loops); edits are not new asks. */
	if (strcmp(msgtype, "m.text") != 0 && strcmp(msgtype, "m.emote") != 0)
		return;
	if (json_object_get(content, "m.new_content") ||
	    mx_is(json_string_value(json_object_get(rel, "rel_type")), "m.replace"))
		return;
	if (json_is_true(json_object_get(r->state, "enc")))
		return;
	copy = mx_copy_body(body);
	text = reply_to ? mx_strip_fallback(copy) : copy;
	memset(&msg, 0, sizeof(msg));
	msg.addressed =
	    mx_mentions_me(m, content) || (reply_to && mx_room_is_own_event(r, reply_to));
	self_name = matrix_member_name(m, r->id, m->user_id);
	if ((rest = mx_after_name(text, self_name)) != NULL ||
	    (rest = mx_after_name(text, m->user_id + 1)) != NULL ||
	    (rest = mx_after_name(text, m->localpart)) != NULL ||
	    (rest = mx_after_name(text, m->name)) != NULL ||
	    (rest = mx_after_name(text, m->prefix)) != NULL) {
		msg.addressed = true;
		text = (char *)rest;
	}
	msg.network = "matrix";
	msg.room = r->id;
	msg.sender = sender;
	msg.sender_name = matrix_member_name(m, r->id, sender);
	if (msg.sender_name == NULL)
		msg.sender_name = sender;
	msg.text = text;
	msg.msg_id = event_id;
	msg.reply_to = reply_to;
	msg.direct = mx_room_is_direct(m, r);
	log_debug("matrix: message in %s from %s (%s%s)", r->id, sender,
	          msg.direct ? "direct" : "room", msg.addressed ? ", addressed" : "");
	gateway_deliver(m->gw, &msg);
	free(copy);
}

static void
mx_room_event(struct matrix *m, struct mx_room *r, const json_t *ev, bool initial, bool timeline)
{
	const char *type = json_string_value(json_object_get(ev, "type"));

	if (type == NULL || !json_is_object(json_object_get(ev, "content")))
		return;
	if (strcmp(type, "m.room.member") == 0)
		mx_member_event(r, ev);
	else if (strcmp(type, "m.room.encryption") == 0)
		mx_encrypted(m, r, initial || !timeline);
	else if (strcmp(type, "m.room.encrypted") == 0)
		mx_encrypted(m, r, initial);
	else if (strcmp(type, "m.room.message") == 0 && timeline && !initial)
		mx_message(m, r, ev);
}

/* A direct chat with one person is where usher writes to them directly
 * (progress pings, notify = dm) until it learns of another. */
static void
mx_note_if_direct(struct matrix *m, const struct mx_room *r)
{
	const char *user, *other = NULL;
	json_t *v;

	if (!mx_room_is_direct(m, r))
		return;
	json_object_foreach(json_object_get(r->state, "members"), user, v)
	{
		if (strcmp(user, m->user_id) == 0)
			continue;
		if (other != NULL)
			return;
		other = user;
	}
	if (other && matrix_is_person(m, other))
		matrix_note_dm(m, other, r->id);
}

static void
mx_joined_room(struct matrix *m, const char *id, const json_t *jr, bool initial)
{
	struct mx_room *r = matrix_room(m, id);
	const json_t *summary = json_object_get(jr, "summary");
	const json_t *ev;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(jr, "state"), "events"), i, ev)
	    mx_room_event(m, r, ev, initial, false);
	if (json_is_integer(json_object_get(summary, "m.joined_member_count"))) {
		json_int_t n =
		    json_integer_value(json_object_get(summary, "m.joined_member_count")) +
		    json_integer_value(json_object_get(summary, "m.invited_member_count"));

		json_object_set_new(r->state, "count", json_integer(n));
		r->dirty = true;
	}
	json_array_foreach(json_object_get(json_object_get(jr, "timeline"), "events"), i, ev)
	    mx_room_event(m, r, ev, initial, true);
	mx_note_if_direct(m, r);
}

static void
mx_invited_room(struct matrix *m, const char *id, const json_t *ir)
{
	const json_t *ev;
	const char *inviter = NULL;
	bool is_direct = false;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(ir, "invite_state"), "events"), i, ev)
	{
		const json_t *content = json_object_get(ev, "content");
		const char *sk = json_string_value(json_object_get(ev, "state_key"));

		if (!mx_is(json_string_value(json_object_get(ev, "type")), "m.room.member") ||
		    sk == NULL || strcmp(sk, m->user_id) != 0)
			continue;
		if (!mx_is(json_string_value(json_object_get(content, "membership")), "invite"))
			continue;
		inviter = json_string_value(json_object_get(ev, "sender"));
		is_direct = json_is_true(json_object_get(content, "is_direct"));
	}
	if (inviter && matrix_is_person(m, inviter)) {
		if (is_direct) {
			struct mx_room *r = matrix_room(m, id);

			json_object_set_new(r->state, "dm", json_true());
			r->dirty = true;
		}
		log_info("matrix: joining %s, invited by %s", id, inviter);
		matrix_membership(m, id, true);
	} else {
		log_info("matrix: declining the invitation to %s from %s", id,
		         inviter ? inviter : "(unknown)");
		matrix_membership(m, id, false);
	}
}

void
matrix_handle_sync(struct matrix *m, const json_t *root, bool initial)
{
	const json_t *rooms = json_object_get(root, "rooms");
	const json_t *v, *ev;
	const char *id;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(root, "account_data"), "events"), i, ev)
	{
		const json_t *content = json_object_get(ev, "content");

		if (!mx_is(json_string_value(json_object_get(ev, "type")), "m.direct") ||
		    !json_is_object(content))
			continue;
		json_decref(m->direct);
		m->direct = json_deep_copy(content);
		matrix_kv_save(m, "direct", m->direct);
	}
	json_object_foreach((json_t *)json_object_get(rooms, "invite"), id, v)
	    mx_invited_room(m, id, v);
	json_object_foreach((json_t *)json_object_get(rooms, "join"), id, v)
	    mx_joined_room(m, id, v, initial);
	matrix_rooms_save(m);
}
