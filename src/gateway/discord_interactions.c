/*
 * discord_interactions: slash commands, buttons and autocomplete.
 *
 * A slash command is answered at once with a deferred message (Discord
 * wants an answer within 3 s) and handed to the bot as the words a person
 * would type ("/request title:Dune type:tv" reads "get the show Dune"); the
 * bot's first reply fills the deferred message, later ones are follow-ups
 * on the interaction's token, which lives 15 minutes. A choice (button or
 * select menu) or yes/no click is acknowledged (deferred update), its
 * buttons removed, and the click reaches the bot as "2", "yes" or "no" from
 * whoever pressed it — only the person the buttons were for. An action
 * button ("Approve") reaches the bot as the words it stands for, from
 * anyone, and stays. Autocomplete asks the host for titles.
 *
 * Every call for one interaction goes through one REST route, so the
 * callback always precedes the edits and follow-ups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "gateway/discord_impl.h"

#define DISCORD_TITLE_MAX  200
#define DISCORD_CHOICE_MAX 100

struct discord_suggest {
	struct discord *d;
	char *id;
	char *token;
	void *handle;
	loop_timer_id timer;
	struct discord_suggest *next;
};

/* --- pure parts --- */

static const char discord_commands[] =
    "[{\"name\":\"request\",\"type\":1,\"description\":\"Ask for a film or a show\","
    "\"options\":["
    "{\"type\":3,\"name\":\"title\",\"description\":\"The film or show\",\"required\":true,"
    "\"autocomplete\":true},"
    "{\"type\":3,\"name\":\"type\",\"description\":\"Film or show\",\"required\":false,"
    "\"choices\":[{\"name\":\"film\",\"value\":\"movie\"},{\"name\":\"show\",\"value\":\"tv\"}]},"
    "{\"type\":4,\"name\":\"season\",\"description\":\"Only this season of a show\","
    "\"required\":false,\"min_value\":1,\"max_value\":200}]},"
    "{\"name\":\"status\",\"type\":1,\"description\":\"How your requests are coming along\","
    "\"options\":[{\"type\":3,\"name\":\"title\",\"description\":\"One film or show\","
    "\"required\":false}]},"
    "{\"name\":\"requests\",\"type\":1,\"description\":\"What you have asked for\"},"
    "{\"name\":\"cancel\",\"type\":1,\"description\":\"Cancel one of your requests\","
    "\"options\":[{\"type\":3,\"name\":\"title\",\"description\":\"The film or show\","
    "\"required\":true,\"autocomplete\":true}]},"
    "{\"name\":\"approve\",\"type\":1,\"description\":\"Approve a request (admins)\","
    "\"options\":[{\"type\":3,\"name\":\"title\",\"description\":\"The film or show, or "
    "the request's number; empty lists what waits\",\"required\":false}]},"
    "{\"name\":\"decline\",\"type\":1,\"description\":\"Decline a request (admins)\","
    "\"options\":[{\"type\":3,\"name\":\"title\",\"description\":\"The film or show, or "
    "the request's number; empty lists what waits\",\"required\":false}]},"
    "{\"name\":\"help\",\"type\":1,\"description\":\"What usher can do\"}]";

json_t *
discord_commands_json(void)
{
	json_error_t err;

	return json_loads(discord_commands, 0, &err);
}

static json_t *
discord_option(const json_t *data, const char *name)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(data, "options"), i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));

		if (n && strcmp(n, name) == 0)
			return json_object_get(o, "value");
	}
	return NULL;
}

/* The title as one line of at most DISCORD_TITLE_MAX bytes; "" when none. */
static void
discord_clean_title(const char *in, char *out, size_t outlen)
{
	size_t n = 0, i;

	for (i = 0; in && in[i] && n + 1 < outlen && n < DISCORD_TITLE_MAX; i++)
		out[n++] = (unsigned char)in[i] < 0x20 ? ' ' : in[i];
	/* Never end inside a UTF-8 sequence. */
	if (in && in[i]) {
		while (n > 0 && ((unsigned char)in[n] & 0xC0) == 0x80)
			n--;
	}
	out[n] = '\0';
	str_trim(out);
}

int
discord_command_text(const json_t *data, char *out, size_t outlen)
{
	const char *name = json_string_value(json_object_get(data, "name"));
	const char *type = json_string_value(discord_option(data, "type"));
	json_int_t season = json_integer_value(discord_option(data, "season"));
	char title[DISCORD_TITLE_MAX + 1];

	discord_clean_title(json_string_value(discord_option(data, "title")), title, sizeof(title));
	if (name == NULL)
		return -1;
	if (strcmp(name, "request") == 0) {
		if (*title == '\0')
			return -1;
		if (season > 0 && season <= 200)
			snprintf(out, outlen, "get season %d of the show %s", (int)season, title);
		else if (type && strcmp(type, "tv") == 0)
			snprintf(out, outlen, "get the show %s", title);
		else if (type && strcmp(type, "movie") == 0)
			snprintf(out, outlen, "get the film %s", title);
		else
			snprintf(out, outlen, "get %s", title);
	} else if (strcmp(name, "status") == 0) {
		if (*title)
			snprintf(out, outlen, "status of %s", title);
		else
			snprintf(out, outlen, "status");
	} else if (strcmp(name, "requests") == 0) {
		snprintf(out, outlen, "my requests");
	} else if (strcmp(name, "cancel") == 0) {
		if (*title == '\0')
			return -1;
		snprintf(out, outlen, "cancel %s", title);
	} else if (strcmp(name, "approve") == 0 || strcmp(name, "decline") == 0) {
		/* A bare number is a request id, as the buttons say it. */
		const char *digits = title[0] == '#' ? title + 1 : title;

		if (*digits && strspn(digits, "0123456789") == strlen(digits))
			snprintf(out, outlen, "%s request %s", name, digits);
		else if (*title)
			snprintf(out, outlen, "%s %s", name, title);
		else
			snprintf(out, outlen, "%s", name);
	} else if (strcmp(name, "help") == 0) {
		snprintf(out, outlen, "help");
	} else {
		return -1;
	}
	return 0;
}

/* A choice's number, 1 to DISCORD_BUTTONS_MAX, else 0. */
static long
discord_choice_number(const char *text)
{
	char *end;
	long n;

	if (text == NULL || *text < '1' || *text > '9')
		return 0;
	n = strtol(text, &end, 10);
	return *end == '\0' && n >= 1 && n <= DISCORD_BUTTONS_MAX ? n : 0;
}

int
discord_custom_id_text(const char *custom_id, const char *value, char *out, size_t outlen)
{
	long n;

	if (custom_id == NULL)
		return -1;
	if (strcmp(custom_id, "usher:yes") == 0 || strcmp(custom_id, "usher:no") == 0) {
		snprintf(out, outlen, "%s", custom_id + 6);
		return 0;
	}
	if (strcmp(custom_id, "usher:choice") == 0)
		n = discord_choice_number(value);
	else if (strncmp(custom_id, "usher:choice:", 13) == 0)
		n = discord_choice_number(custom_id + 13);
	else
		n = 0;
	if (n == 0)
		return -1;
	snprintf(out, outlen, "%ld", n);
	return 0;
}

int
discord_action_number(const char *custom_id)
{
	if (custom_id == NULL || strncmp(custom_id, "usher:act:", 10) != 0)
		return 0;
	return (int)discord_choice_number(custom_id + 10);
}

/* --- the table of live interactions --- */

static void
discord_ix_free(struct discord_ix *ix)
{
	size_t i;

	for (i = 0; i < DISCORD_IX_MSGS; i++)
		free(ix->msgs[i]);
	free(ix->id);
	free(ix->token);
	free(ix->channel);
	free(ix->user);
	free(ix);
}

static bool
discord_ix_alive(const struct discord *d, const struct discord_ix *ix)
{
	return !ix->dead && loop_now_ms(d->loop) - ix->created_ms < d->ix_ttl_ms;
}

/* Drops expired interactions and all but the newest DISCORD_IX_MAX. */
static void
discord_ix_prune(struct discord *d)
{
	struct discord_ix **pp = &d->ixs;
	size_t n = 0;

	while (*pp) {
		struct discord_ix *ix = *pp;

		if (++n > DISCORD_IX_MAX || !discord_ix_alive(d, ix)) {
			*pp = ix->next;
			discord_ix_free(ix);
			continue;
		}
		pp = &ix->next;
	}
}

static struct discord_ix *
discord_ix_find(struct discord *d, const char *id)
{
	struct discord_ix *ix;

	for (ix = d->ixs; ix; ix = ix->next)
		if (strcmp(ix->id, id) == 0)
			return ix;
	return NULL;
}

static struct discord_ix *
discord_ix_add(struct discord *d, const char *id, const char *token, const char *channel,
               const char *user, bool deferred)
{
	struct discord_ix *ix = xcalloc(1, sizeof(*ix));

	discord_ix_prune(d);
	discord_channel_moved_on(d, channel);
	ix->id = xstrdup(id);
	ix->token = xstrdup(token);
	ix->channel = xstrdup(channel);
	ix->user = xstrdup(user);
	ix->created_ms = loop_now_ms(d->loop);
	ix->deferred_original = deferred;
	ix->current = true;
	ix->next = d->ixs;
	d->ixs = ix;
	return ix;
}

void
discord_channel_moved_on(struct discord *d, const char *channel)
{
	struct discord_ix *ix;

	for (ix = d->ixs; ix; ix = ix->next)
		if (strcmp(ix->channel, channel) == 0)
			ix->current = false;
}

/* The interaction a reply belongs to: the one it answers, else the
 * channel's current one (for the same person when it mentions someone). */
static struct discord_ix *
discord_ix_pick(struct discord *d, const char *room, const struct chat_out *out)
{
	struct discord_ix *ix;

	if (d->app_id == NULL)
		return NULL;
	if (out->reply_to) {
		ix = discord_ix_find(d, out->reply_to);
		return ix && discord_ix_alive(d, ix) && strcmp(ix->channel, room) == 0 ? ix : NULL;
	}
	for (ix = d->ixs; ix; ix = ix->next)
		if (ix->current && strcmp(ix->channel, room) == 0 && discord_ix_alive(d, ix) &&
		    (out->mention == NULL || strcmp(out->mention, ix->user) == 0))
			return ix;
	return NULL;
}

static char *
discord_ix_key(const struct discord_ix *ix)
{
	return xasprintf("interaction %s", ix->id);
}

int
discord_ix_send(struct discord *d, const char *room, const struct chat_out *out,
                gateway_done_cb *done, void *arg)
{
	struct discord_ix *ix = discord_ix_pick(d, room, out);
	char *key;

	if (ix == NULL)
		return 0;
	key = discord_ix_key(ix);
	if (ix->deferred_original) {
		ix->deferred_original = false;
		discord_send_tracked(d, "PATCH", key,
		                     xasprintf("%s/webhooks/%s/%s/messages/@original", d->api_url,
		                               d->app_id, ix->token),
		                     discord_message_body(out, false, false), NULL, ix->id,
		                     ix->user, discord_action_says(out), room, NULL, done, arg);
	} else {
		discord_send_tracked(
		    d, "POST", key,
		    xasprintf("%s/webhooks/%s/%s?wait=true", d->api_url, d->app_id, ix->token),
		    discord_message_body(out, false, false), NULL, ix->id, ix->user,
		    discord_action_says(out), room, NULL, done, arg);
	}
	free(key);
	return 1;
}

int
discord_ix_edit(struct discord *d, const char *room, const char *msg_id, const struct chat_out *out,
                gateway_done_cb *done, void *arg)
{
	struct discord_ix *ix;
	size_t i;
	char *key;

	if (d->app_id == NULL)
		return 0;
	for (ix = d->ixs; ix; ix = ix->next) {
		if (strcmp(ix->channel, room) != 0 || !discord_ix_alive(d, ix))
			continue;
		for (i = 0; i < DISCORD_IX_MSGS; i++)
			if (ix->msgs[i] && strcmp(ix->msgs[i], msg_id) == 0)
				break;
		if (i == DISCORD_IX_MSGS)
			continue;
		key = discord_ix_key(ix);
		discord_send_tracked(d, "PATCH", key,
		                     xasprintf("%s/webhooks/%s/%s/messages/%s", d->api_url,
		                               d->app_id, ix->token, msg_id),
		                     discord_message_body(out, true, false), msg_id, ix->id,
		                     ix->user, discord_action_says(out), room, msg_id, done, arg);
		free(key);
		return 1;
	}
	return 0;
}

/* --- messages with buttons --- */

static struct discord_buttons *
discord_buttons_find(struct discord *d, const char *msg_id)
{
	struct discord_buttons *b;

	for (b = d->buttons; b; b = b->next)
		if (strcmp(b->msg_id, msg_id) == 0)
			return b;
	return NULL;
}

static void
discord_buttons_remove(struct discord *d, const char *msg_id)
{
	struct discord_buttons **pp, *b;

	for (pp = &d->buttons; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->msg_id, msg_id) == 0) {
			b = *pp;
			*pp = b->next;
			free(b->msg_id);
			free(b->owner);
			json_decref(b->says);
			free(b);
			return;
		}
	}
}

void
discord_buttons_add(struct discord *d, const char *msg_id, const char *owner, json_t *says)
{
	struct discord_buttons *b, **pp;
	size_t n = 0;

	discord_buttons_remove(d, msg_id);
	b = xcalloc(1, sizeof(*b));
	b->msg_id = xstrdup(msg_id);
	b->owner = owner ? xstrdup(owner) : NULL;
	b->says = says;
	b->next = d->buttons;
	d->buttons = b;
	for (pp = &d->buttons; *pp; pp = &(*pp)->next) {
		if (++n > DISCORD_IX_MAX) {
			char *id = xstrdup((*pp)->msg_id);

			discord_buttons_remove(d, id);
			free(id);
			break;
		}
	}
}

struct discord_sent {
	struct discord *d;
	char *ix_id;
	char *owner;
	json_t *says;
	char *room;
	char *edit_id;
	json_t *body; /* kept to send again in the channel */
	bool buttons;
	gateway_done_cb *done;
	void *arg;
};

static void
discord_sent_free(void *arg)
{
	struct discord_sent *s = arg;

	free(s->ix_id);
	free(s->owner);
	json_decref(s->says);
	free(s->room);
	free(s->edit_id);
	json_decref(s->body);
	free(s);
}

/* The interaction's token no longer works: the channel gets the message. */
static void
discord_sent_fallback(struct discord_sent *s, struct discord_ix *ix)
{
	struct discord *d = s->d;
	char key[96];

	if (ix)
		ix->dead = true;
	log_info("discord: an interaction's token was refused; answering in the channel");
	if (s->edit_id) {
		snprintf(key, sizeof(key), "PATCH /channels/%s/messages/:id", s->room);
		discord_send_tracked(
		    d, "PATCH", key,
		    xasprintf("%s/channels/%s/messages/%s", d->api_url, s->room, s->edit_id),
		    json_incref(s->body), s->edit_id, NULL, s->owner, json_incref(s->says), NULL,
		    NULL, s->done, s->arg);
	} else {
		snprintf(key, sizeof(key), "POST /channels/%s/messages", s->room);
		discord_send_tracked(d, "POST", key,
		                     xasprintf("%s/channels/%s/messages", d->api_url, s->room),
		                     json_incref(s->body), NULL, NULL, s->owner,
		                     json_incref(s->says), NULL, NULL, s->done, s->arg);
	}
	discord_sent_free(s);
}

static void
discord_sent_done(void *arg, int status, const char *msg_id, const char *error)
{
	struct discord_sent *s = arg;
	struct discord_ix *ix = s->ix_id ? discord_ix_find(s->d, s->ix_id) : NULL;
	size_t i;

	if (status != 0 && s->ix_id && s->room &&
	    (s->d->last_status == 401 || s->d->last_status == 404)) {
		discord_sent_fallback(s, ix);
		return;
	}
	if (status == 0 && msg_id && discord_id_ok(msg_id)) {
		if (ix) {
			for (i = 0; i < DISCORD_IX_MSGS; i++)
				if (ix->msgs[i] && strcmp(ix->msgs[i], msg_id) == 0)
					break;
			if (i == DISCORD_IX_MSGS) {
				/* Oldest out, newest last. */
				free(ix->msgs[0]);
				memmove(ix->msgs, ix->msgs + 1,
				        (DISCORD_IX_MSGS - 1) * sizeof(ix->msgs[0]));
				ix->msgs[DISCORD_IX_MSGS - 1] = xstrdup(msg_id);
			}
		}
		if (s->buttons)
			discord_buttons_add(s->d, msg_id, s->owner, json_incref(s->says));
		else
			discord_buttons_remove(s->d, msg_id);
	}
	if (s->done)
		s->done(s->arg, status, msg_id, error);
	discord_sent_free(s);
}

void
discord_send_tracked(struct discord *d, const char *method, const char *route_key, char *url,
                     json_t *body, const char *known_id, const char *ix_id, const char *owner,
                     json_t *says, const char *room, const char *edit_id, gateway_done_cb *done,
                     void *arg)
{
	struct discord_sent *s = xcalloc(1, sizeof(*s));
	json_t *components = json_object_get(body, "components");
	struct discord_req *q;

	s->d = d;
	s->ix_id = ix_id ? xstrdup(ix_id) : NULL;
	s->owner = owner ? xstrdup(owner) : NULL;
	s->says = says;
	s->room = room ? xstrdup(room) : NULL;
	s->edit_id = edit_id ? xstrdup(edit_id) : NULL;
	s->body = ix_id && room ? json_incref(body) : NULL;
	s->buttons = json_array_size(components) > 0;
	s->done = done;
	s->arg = arg;
	q = discord_rest(d, method, route_key, url, body, known_id, discord_sent_done, s);
	q->arg_free = discord_sent_free;
}

/* --- interactions --- */

static void
discord_callback(struct discord *d, const char *id, const char *token, json_t *body)
{
	char *key = xasprintf("interaction %s", id);

	discord_rest(d, "POST", key,
	             xasprintf("%s/interactions/%s/%s/callback", d->api_url, id, token), body, NULL,
	             NULL, NULL);
	free(key);
}

/* An answer only the presser sees. */
static void
discord_ephemeral(struct discord *d, const char *id, const char *token, const char *text)
{
	discord_callback(d, id, token,
	                 json_pack("{s:i, s:{s:s, s:i, s:{s:[]}}}", "type", 4, "data", "content",
	                           text, "flags", 64, "allowed_mentions", "parse"));
}

static void
discord_deliver(struct discord *d, json_t *ix, const char *user, const char *text)
{
	json_t *u = json_object_get(json_object_get(ix, "member"), "user");
	const char *name;
	struct chat_msg msg;

	if (u == NULL)
		u = json_object_get(ix, "user");
	name = json_string_value(json_object_get(u, "global_name"));
	if (name == NULL)
		name = json_string_value(json_object_get(u, "username"));
	memset(&msg, 0, sizeof(msg));
	msg.network = "discord";
	msg.room = json_string_value(json_object_get(ix, "channel_id"));
	msg.sender = user;
	msg.sender_name = name ? name : user;
	msg.text = text;
	msg.msg_id = json_string_value(json_object_get(ix, "id"));
	msg.direct = json_object_get(ix, "guild_id") == NULL;
	msg.addressed = true;
	gateway_deliver(d->gw, &msg);
}

static void
discord_on_command(struct discord *d, json_t *ix, const char *id, const char *token,
                   const char *channel, const char *user)
{
	char text[DISCORD_TITLE_MAX + 64];

	if (discord_command_text(json_object_get(ix, "data"), text, sizeof(text)) == -1) {
		discord_ephemeral(d, id, token, "I don't know that command.");
		return;
	}
	discord_callback(d, id, token, json_pack("{s:i}", "type", 5));
	discord_ix_add(d, id, token, channel, user, true);
	log_debug("discord: slash command read as \"%s\"", text);
	discord_deliver(d, ix, user, text);
}

/* An action button is the presser saying what it says; anyone may press
 * it (the bot decides what they may do), and it stays for the next. */
static void
discord_on_action(struct discord *d, json_t *ix, const char *id, const char *token,
                  const char *channel, const char *user, const char *msg_id, int n)
{
	struct discord_buttons *b = discord_buttons_find(d, msg_id);
	const char *says = b ? json_string_value(json_array_get(b->says, (size_t)n - 1)) : NULL;

	if (says == NULL || *says == '\0') {
		discord_ephemeral(d, id, token, "That button has expired; ask me again.");
		return;
	}
	discord_callback(d, id, token, json_pack("{s:i}", "type", 6));
	discord_ix_add(d, id, token, channel, user, false);
	log_debug("discord: button %d pressed, read as \"%s\"", n, says);
	discord_deliver(d, ix, user, says);
}

static void
discord_on_component(struct discord *d, json_t *ix, const char *id, const char *token,
                     const char *channel, const char *user)
{
	json_t *m = json_object_get(ix, "message");
	json_t *data = json_object_get(ix, "data");
	const char *msg_id = json_string_value(json_object_get(m, "id"));
	const char *custom = json_string_value(json_object_get(data, "custom_id"));
	const char *value = json_string_value(json_array_get(json_object_get(data, "values"), 0));
	struct discord_buttons *b = msg_id ? discord_buttons_find(d, msg_id) : NULL;
	const char *owner = NULL;
	bool known = b != NULL;
	int act = discord_action_number(custom);
	char text[16], words[160];

	if (msg_id != NULL && act > 0) {
		discord_on_action(d, ix, id, token, channel, user, msg_id, act);
		return;
	}
	if (msg_id == NULL || discord_custom_id_text(custom, value, text, sizeof(text)) == -1) {
		discord_ephemeral(d, id, token, "That button has expired; ask me again.");
		return;
	}
	if (b) {
		owner = b->owner;
	} else {
		/* Buttons from before a restart: Discord says whose they were. */
		json_t *meta = json_object_get(m, "interaction_metadata");

		if (meta == NULL)
			meta = json_object_get(m, "interaction");
		owner = json_string_value(json_object_get(json_object_get(meta, "user"), "id"));
		known = owner != NULL;
	}
	if (!known && json_object_get(ix, "guild_id")) {
		discord_ephemeral(d, id, token, "Those buttons have expired; ask me again.");
		return;
	}
	if (owner && strcmp(owner, user) != 0) {
		snprintf(words, sizeof(words), "Those buttons are for <@%s>.", owner);
		discord_ephemeral(d, id, token, words);
		return;
	}
	discord_callback(d, id, token, json_pack("{s:i}", "type", 6));
	if (d->app_id) {
		char *key = xasprintf("interaction %s", id);

		/* One answer per question: the buttons go once pressed. */
		discord_rest(
		    d, "PATCH", key,
		    xasprintf("%s/webhooks/%s/%s/messages/@original", d->api_url, d->app_id, token),
		    json_pack("{s:[]}", "components"), NULL, NULL, NULL);
		free(key);
	}
	discord_buttons_remove(d, msg_id);
	discord_ix_add(d, id, token, channel, user, false);
	discord_deliver(d, ix, user, text);
}

static void
discord_answer_choices(struct discord *d, const char *id, const char *token,
                       const char *const *titles, size_t n)
{
	json_t *choices = json_array();
	size_t i;

	for (i = 0; i < n && i < 25; i++) {
		char t[DISCORD_CHOICE_MAX + 1];
		json_t *c;

		discord_clean_title(titles[i], t, sizeof(t));
		c = *t ? json_pack("{s:s, s:s}", "name", t, "value", t) : NULL;
		if (c)
			json_array_append_new(choices, c);
	}
	discord_callback(d, id, token,
	                 json_pack("{s:i, s:{s:o}}", "type", 8, "data", "choices", choices));
}

static void
discord_suggest_unlink(struct discord_suggest *s)
{
	struct discord *d = s->d;
	struct discord_suggest **pp;

	for (pp = &d->suggests; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->timer)
		loop_cancel_timer(d->loop, s->timer);
	free(s->id);
	free(s->token);
	free(s);
}

static void
discord_suggest_done(void *arg, const char *const *titles, size_t n)
{
	struct discord_suggest *s = arg;

	discord_answer_choices(s->d, s->id, s->token, titles, n);
	discord_suggest_unlink(s);
}

static void
discord_suggest_late(struct loop *loop, loop_timer_id tid, void *arg)
{
	struct discord_suggest *s = arg;

	(void)loop;
	(void)tid;
	s->timer = 0;
	log_debug("discord: no titles in time for autocomplete");
	gateway_suggest_cancel(s->d->gw, s->handle);
	discord_answer_choices(s->d, s->id, s->token, NULL, 0);
	discord_suggest_unlink(s);
}

static void
discord_on_autocomplete(struct discord *d, json_t *ix, const char *id, const char *token)
{
	json_t *o;
	size_t i;
	const char *prefix = NULL;
	struct discord_suggest *s;

	json_array_foreach(json_object_get(json_object_get(ix, "data"), "options"), i, o)
	{
		if (json_is_true(json_object_get(o, "focused")))
			prefix = json_string_value(json_object_get(o, "value"));
	}
	if (prefix == NULL || strlen(prefix) < 2) {
		discord_answer_choices(d, id, token, NULL, 0);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->d = d;
	s->id = xstrdup(id);
	s->token = xstrdup(token);
	s->handle = gateway_suggest(d->gw, prefix, discord_suggest_done, s);
	if (s->handle == NULL) {
		free(s->id);
		free(s->token);
		free(s);
		discord_answer_choices(d, id, token, NULL, 0);
		return;
	}
	s->timer = loop_add_timer(d->loop, DISCORD_SUGGEST_WAIT_MS, discord_suggest_late, s);
	s->next = d->suggests;
	d->suggests = s;
}

void
discord_on_interaction(struct discord *d, json_t *ix)
{
	json_int_t type = json_integer_value(json_object_get(ix, "type"));
	const char *id = json_string_value(json_object_get(ix, "id"));
	const char *token = json_string_value(json_object_get(ix, "token"));
	const char *channel = json_string_value(json_object_get(ix, "channel_id"));
	const char *app = json_string_value(json_object_get(ix, "application_id"));
	json_t *u = json_object_get(json_object_get(ix, "member"), "user");
	const char *user;
	size_t i;

	if (u == NULL)
		u = json_object_get(ix, "user");
	user = json_string_value(json_object_get(u, "id"));
	if (!discord_id_ok(id) || token == NULL || !discord_id_ok(channel) ||
	    !discord_id_ok(user) || strlen(token) > 500) {
		log_warnx("discord: malformed interaction ignored");
		return;
	}
	/* The token goes into URL paths. */
	for (i = 0; token[i]; i++) {
		if (!(token[i] >= 'a' && token[i] <= 'z') &&
		    !(token[i] >= 'A' && token[i] <= 'Z') &&
		    !(token[i] >= '0' && token[i] <= '9') && token[i] != '_' && token[i] != '-' &&
		    token[i] != '.') {
			log_warnx("discord: interaction with a strange token ignored");
			return;
		}
	}
	if (d->app_id == NULL && discord_id_ok(app))
		d->app_id = xstrdup(app);
	switch (type) {
	case 2:
		discord_on_command(d, ix, id, token, channel, user);
		break;
	case 3:
		discord_on_component(d, ix, id, token, channel, user);
		break;
	case 4:
		discord_on_autocomplete(d, ix, id, token);
		break;
	default:
		log_debug("discord: interaction type %d ignored", (int)type);
	}
}

static void
discord_registered(void *arg, int status, const char *msg_id, const char *error)
{
	struct discord *d = arg;

	(void)msg_id;
	if (status == 0)
		log_info("discord: slash commands registered %s%s",
		         d->guild ? "in server " : "globally", d->guild ? d->guild : "");
	else
		log_warnx("discord: cannot register the slash commands: %s", error);
}

void
discord_register_commands(struct discord *d)
{
	char *url;

	if (!d->register_commands || d->app_id == NULL)
		return;
	if (d->guild)
		url = xasprintf("%s/applications/%s/guilds/%s/commands", d->api_url, d->app_id,
		                d->guild);
	else
		url = xasprintf("%s/applications/%s/commands", d->api_url, d->app_id);
	discord_rest(d, "PUT", "PUT commands", url, discord_commands_json(), NULL,
	             discord_registered, d);
}

void
discord_interactions_free(struct discord *d)
{
	while (d->suggests) {
		gateway_suggest_cancel(d->gw, d->suggests->handle);
		discord_suggest_unlink(d->suggests);
	}
	while (d->ixs) {
		struct discord_ix *ix = d->ixs;

		d->ixs = ix->next;
		discord_ix_free(ix);
	}
	while (d->buttons)
		discord_buttons_remove(d, d->buttons->msg_id);
}
