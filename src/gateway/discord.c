/*
 * discord: the Discord gateway (a WebSocket for events) and REST API (for
 * sending), as one gateway_ops table.
 *
 * Gateway: GET /gateway/bot, then Hello → heartbeats with jitter, Identify
 * (or Resume with the stored session), Dispatch with sequence tracking,
 * zombie detection, op 7 Reconnect, op 9 Invalid Session, and the close
 * codes that must not be retried. The session id, resume URL and sequence
 * are kept in the store so a restart resumes instead of re-identifying.
 *
 * Sending goes through discord_rest.c's rate-limited queue; replies to a
 * slash command or a button go through the interaction's token instead
 * (discord_interactions.c) while it lives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/util.h"
#include "core/ws.h"
#include "gateway/discord_impl.h"
#include "gateway/gateway.h"

/* GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES: no privileged intent. */
#define DISCORD_INTENTS        ((1 << 0) | (1 << 9) | (1 << 12))
#define DISCORD_MAX_MESSAGE    (8 * 1024 * 1024)
#define DISCORD_BACKOFF_MIN_MS 1000
#define DISCORD_BACKOFF_MAX_MS 60000

static void discord_get_gateway(struct discord *d);

/* --- session state --- */

static void
discord_save(struct discord *d, const char *key, const char *value)
{
	if (d->store == NULL)
		return;
	if ((value ? store_kv_set(d->store, key, value) : store_kv_delete(d->store, key)) == -1)
		log_warnx("discord: cannot store %s: %s", key, store_errmsg(d->store));
}

static void
discord_save_seq(struct discord *d)
{
	char s[32];

	snprintf(s, sizeof(s), "%ld", d->seq);
	discord_save(d, "discord.seq", d->seq >= 0 ? s : NULL);
}

static void
discord_forget_session(struct discord *d)
{
	free(d->session_id);
	free(d->resume_url);
	d->session_id = d->resume_url = NULL;
	d->seq = -1;
	discord_save(d, "discord.session_id", NULL);
	discord_save(d, "discord.resume_url", NULL);
	discord_save(d, "discord.seq", NULL);
}

static void
discord_load_session(struct discord *d)
{
	char *seq = NULL;

	if (d->store == NULL)
		return;
	store_kv_get(d->store, "discord.session_id", &d->session_id);
	store_kv_get(d->store, "discord.resume_url", &d->resume_url);
	if (store_kv_get(d->store, "discord.seq", &seq) == 0 && seq)
		d->seq = strtol(seq, NULL, 10);
	free(seq);
}

/* --- the gateway connection --- */

static void
discord_send_json(struct discord *d, json_t *payload)
{
	char *text = json_dumps(payload, JSON_COMPACT);

	json_decref(payload);
	if (text == NULL || d->ws == NULL || ws_send_text(d->ws, text, strlen(text)) == -1)
		log_debug("discord: a gateway message was not sent");
	free(text);
}

static void
discord_drop(struct discord *d)
{
	if (d->hb_timer)
		loop_cancel_timer(d->loop, d->hb_timer);
	d->hb_timer = 0;
	if (d->ws) {
		/* Not 1000/1001: those end the session, and we want to resume. */
		ws_close(d->ws, 4000, "reconnecting");
		ws_free(d->ws);
		d->ws = NULL;
	}
	d->identified = false;
}

static void
discord_connect_fire(struct loop *loop, loop_timer_id id, void *arg)
{
	struct discord *d = arg;

	(void)loop;
	(void)id;
	d->connect_timer = 0;
	discord_get_gateway(d);
}

/* Drops the connection and connects again after `delay_ms`, resuming the
 * session when `resume` and there is one. */
static void
discord_reconnect(struct discord *d, bool resume, uint64_t delay_ms)
{
	discord_drop(d);
	if (!d->running || d->fatal)
		return;
	d->connect_resume = resume;
	if (d->connect_timer)
		loop_cancel_timer(d->loop, d->connect_timer);
	d->connect_timer = loop_add_timer(d->loop, delay_ms, discord_connect_fire, d);
}

static uint64_t
discord_next_backoff(struct discord *d)
{
	uint64_t b = d->backoff_ms;

	d->backoff_ms =
	    d->backoff_ms * 2 > DISCORD_BACKOFF_MAX_MS ? DISCORD_BACKOFF_MAX_MS : d->backoff_ms * 2;
	return b;
}

static void
discord_heartbeat_send(struct discord *d)
{
	discord_send_json(d, json_pack("{s:i, s:o}", "op", 1, "d",
	                               d->seq >= 0 ? json_integer(d->seq) : json_null()));
}

static void
discord_heartbeat(struct loop *loop, loop_timer_id id, void *arg)
{
	struct discord *d = arg;

	(void)id;
	d->hb_timer = 0;
	if (!d->acked) {
		log_warnx("discord: no heartbeat acknowledgement; reconnecting");
		discord_reconnect(d, true, 0);
		return;
	}
	d->acked = false;
	discord_heartbeat_send(d);
	d->hb_timer = loop_add_timer(loop, d->hb_interval, discord_heartbeat, d);
}

static void
discord_identify(struct discord *d)
{
	if (d->connect_resume && d->session_id && d->seq >= 0) {
		log_info("discord: resuming session at sequence %ld", d->seq);
		discord_send_json(d, json_pack("{s:i, s:{s:s, s:s, s:I}}", "op", 6, "d", "token",
		                               d->token, "session_id", d->session_id, "seq",
		                               (json_int_t)d->seq));
		return;
	}
	discord_send_json(d, json_pack("{s:i, s:{s:s, s:i, s:{s:s, s:s, s:s}}}", "op", 2, "d",
	                               "token", d->token, "intents", DISCORD_INTENTS, "properties",
	                               "os", "linux", "browser", "usher", "device", "usher"));
}

static void
discord_on_hello(struct discord *d, json_t *data)
{
	json_int_t interval = json_integer_value(json_object_get(data, "heartbeat_interval"));

	if (interval <= 0 || interval > 10 * 60 * 1000) {
		log_warnx("discord: Hello without a usable heartbeat_interval");
		discord_reconnect(d, true, discord_next_backoff(d));
		return;
	}
	d->hb_interval = (uint64_t)interval;
	d->acked = true;
	if (d->hb_timer)
		loop_cancel_timer(d->loop, d->hb_timer);
	/* The first beat at a random point of the interval, as Discord asks. */
	d->hb_timer =
	    loop_add_timer(d->loop, arc4random_uniform((uint32_t)interval), discord_heartbeat, d);
	discord_identify(d);
}

static void
discord_set(char **slot, const char *value)
{
	free(*slot);
	*slot = value ? xstrdup(value) : NULL;
}

static void
discord_on_ready(struct discord *d, json_t *data)
{
	const char *sid = json_string_value(json_object_get(data, "session_id"));
	const char *rurl = json_string_value(json_object_get(data, "resume_gateway_url"));
	const char *uid = json_string_value(json_object_get(json_object_get(data, "user"), "id"));

	if (sid == NULL || uid == NULL) {
		log_warnx("discord: READY without a session or user id");
		return;
	}
	discord_set(&d->session_id, sid);
	discord_set(&d->resume_url, rurl);
	discord_set(&d->self_id, uid);
	d->identified = true;
	d->backoff_ms = DISCORD_BACKOFF_MIN_MS;
	discord_save(d, "discord.session_id", sid);
	discord_save(d, "discord.resume_url", rurl);
	discord_save(d, "discord.self_id", uid);
	if (d->app_id == NULL) {
		const char *app =
		    json_string_value(json_object_get(json_object_get(data, "application"), "id"));

		if (discord_id_ok(app))
			d->app_id = xstrdup(app);
	}
	log_event(LOG_LEVEL_INFO, "connected", LOG_STR("network", "discord"), LOG_STR("as", uid));
}

/* "<@id>" or "<@!id>" at the start of `text`: returns what follows, else NULL. */
static const char *
discord_skip_mention(const char *text, const char *id)
{
	size_t n = strlen(id);

	if (strncmp(text, "<@", 2) != 0)
		return NULL;
	text += 2;
	if (*text == '!')
		text++;
	if (strncmp(text, id, n) != 0 || text[n] != '>')
		return NULL;
	text += n + 1;
	while (*text == ' ' || *text == ',' || *text == ':')
		text++;
	return text;
}

static void
discord_on_message_create(struct discord *d, json_t *m)
{
	json_t *author = json_object_get(m, "author");
	json_t *ref = json_object_get(m, "referenced_message");
	const char *author_id = json_string_value(json_object_get(author, "id"));
	const char *channel = json_string_value(json_object_get(m, "channel_id"));
	const char *content = json_string_value(json_object_get(m, "content"));
	const char *name = json_string_value(json_object_get(author, "global_name"));
	const char *ref_author =
	    json_string_value(json_object_get(json_object_get(ref, "author"), "id"));
	const char *text = content;
	struct chat_msg msg;
	bool direct = json_object_get(m, "guild_id") == NULL;
	bool addressed = direct;
	json_t *mention;
	size_t i;

	if (author_id == NULL || channel == NULL || content == NULL || d->self_id == NULL)
		return;
	if (json_is_true(json_object_get(author, "bot")) || strcmp(author_id, d->self_id) == 0)
		return;
	discord_channel_moved_on(d, channel);
	json_array_foreach(json_object_get(m, "mentions"), i, mention)
	{
		const char *mid = json_string_value(json_object_get(mention, "id"));

		if (mid && strcmp(mid, d->self_id) == 0)
			addressed = true;
	}
	if (ref_author && strcmp(ref_author, d->self_id) == 0)
		addressed = true;
	if (discord_skip_mention(content, d->self_id)) {
		text = discord_skip_mention(content, d->self_id);
		addressed = true;
	}
	if (!addressed)
		return;
	if (name == NULL)
		name = json_string_value(json_object_get(author, "username"));
	memset(&msg, 0, sizeof(msg));
	msg.network = "discord";
	msg.room = channel;
	msg.sender = author_id;
	msg.sender_name = name ? name : author_id;
	msg.text = text;
	msg.msg_id = json_string_value(json_object_get(m, "id"));
	msg.reply_to = json_string_value(
	    json_object_get(json_object_get(m, "message_reference"), "message_id"));
	msg.direct = direct;
	msg.addressed = true;
	gateway_deliver(d->gw, &msg);
}

static void
discord_on_dispatch(struct discord *d, const char *type, json_t *data)
{
	if (strcmp(type, "READY") == 0) {
		discord_on_ready(d, data);
	} else if (strcmp(type, "RESUMED") == 0) {
		d->identified = true;
		d->backoff_ms = DISCORD_BACKOFF_MIN_MS;
		log_event(LOG_LEVEL_INFO, "connected", LOG_STR("network", "discord"),
		          LOG_STR("resumed", "yes"));
	} else if (strcmp(type, "MESSAGE_CREATE") == 0) {
		discord_on_message_create(d, data);
	} else if (strcmp(type, "INTERACTION_CREATE") == 0) {
		discord_on_interaction(d, data);
	}
}

static void
discord_ws_message(struct ws *ws, const char *text, size_t len, bool binary, void *arg)
{
	struct discord *d = arg;
	json_error_t jerr;
	json_t *p;
	json_t *s;
	int op;

	(void)ws;
	if (binary) {
		log_warnx("discord: unexpected binary gateway message; ignored");
		return;
	}
	p = json_loadb(text, len, 0, &jerr);
	if (!json_is_object(p) || !json_is_integer(json_object_get(p, "op"))) {
		log_warnx("discord: malformed gateway message ignored");
		json_decref(p);
		return;
	}
	op = (int)json_integer_value(json_object_get(p, "op"));
	s = json_object_get(p, "s");
	if (json_is_integer(s) && op == 0) {
		d->seq = (long)json_integer_value(s);
		discord_save_seq(d);
	}
	switch (op) {
	case 0: {
		const char *t = json_string_value(json_object_get(p, "t"));

		if (t)
			discord_on_dispatch(d, t, json_object_get(p, "d"));
		break;
	}
	case 1:
		discord_heartbeat_send(d);
		break;
	case 7:
		log_info("discord: the gateway asked to reconnect");
		discord_reconnect(d, true, 0);
		break;
	case 9:
		if (json_is_true(json_object_get(p, "d"))) {
			log_info("discord: invalid session, resumable");
			discord_reconnect(d, true, 1000 + arc4random_uniform(4000));
		} else {
			log_info("discord: invalid session; identifying again");
			discord_forget_session(d);
			discord_reconnect(d, false, 1000 + arc4random_uniform(4000));
		}
		break;
	case 10:
		discord_on_hello(d, json_object_get(p, "d"));
		break;
	case 11:
		d->acked = true;
		break;
	default:
		log_debug("discord: gateway opcode %d ignored", op);
	}
	json_decref(p);
}

static const char *
discord_fatal_close(int code)
{
	switch (code) {
	case 4004:
		return "Discord rejected the bot token (close code 4004): check [discord] token";
	case 4010:
		return "invalid shard (close code 4010)";
	case 4011:
		return "sharding required (close code 4011)";
	case 4012:
		return "invalid API version (close code 4012)";
	case 4013:
		return "invalid intents (close code 4013)";
	case 4014:
		return "disallowed intents (close code 4014): enable them in the Developer Portal";
	}
	return NULL;
}

static void
discord_ws_close(struct ws *ws, int code, const char *reason, void *arg)
{
	struct discord *d = arg;
	const char *fatal = discord_fatal_close(code);

	(void)ws;
	ws_free(d->ws);
	d->ws = NULL;
	if (fatal) {
		log_error("discord: %s; the Discord gateway stops and will not retry", fatal);
		d->fatal = true;
		discord_drop(d);
		return;
	}
	log_event(LOG_LEVEL_WARN, "connection_lost", LOG_STR("network", "discord"),
	          LOG_INT("code", code), LOG_STR("error", *reason ? reason : NULL));
	if (code == 4007 || code == 4009) {
		discord_forget_session(d);
		discord_reconnect(d, false, discord_next_backoff(d));
		return;
	}
	discord_reconnect(d, true, discord_next_backoff(d));
}

static void
discord_ws_connect(struct discord *d)
{
	const char *base =
	    d->connect_resume && d->resume_url && d->session_id ? d->resume_url : d->gateway_url;
	size_t n = strlen(base);
	char *url;
	struct ws_opts o = {.max_message = DISCORD_MAX_MESSAGE};
	struct ws_callbacks cb = {
	    .on_message = discord_ws_message, .on_close = discord_ws_close, .arg = d};

	while (n > 0 && base[n - 1] == '/')
		n--;
	url = xasprintf("%.*s/?v=10&encoding=json", (int)n, base);
	o.url = url;
	log_debug("discord: connecting to the gateway");
	d->ws = ws_open(d->loop, &o, &cb);
	free(url);
}

static void
discord_gateway_done(const struct http_response *resp, void *arg)
{
	struct discord *d = arg;
	json_t *j;
	const char *url;
	char err[160];

	d->gw_call = NULL;
	if (resp->result == HTTP_OK && resp->status == 401) {
		log_error("discord: Discord rejected the bot token (HTTP 401): check [discord] "
		          "token; the Discord gateway stops");
		d->fatal = true;
		return;
	}
	j = resp->result == HTTP_OK && resp->status == 200
	        ? http_response_json(resp, err, sizeof(err))
	        : NULL;
	url = json_string_value(json_object_get(j, "url"));
	if (url == NULL || (strncmp(url, "ws://", 5) != 0 && strncmp(url, "wss://", 6) != 0)) {
		uint64_t delay = discord_next_backoff(d);

		log_warnx("discord: GET /gateway/bot failed (%s); retrying in %llu ms",
		          resp->error ? resp->error : "no gateway URL", (unsigned long long)delay);
		json_decref(j);
		discord_reconnect(d, d->connect_resume, delay);
		return;
	}
	discord_set(&d->gateway_url, url);
	json_decref(j);
	discord_ws_connect(d);
}

static void
discord_get_gateway(struct discord *d)
{
	const char *headers[] = {d->auth, NULL};
	char *url;

	if (d->gateway_url) {
		discord_ws_connect(d);
		return;
	}
	url = xasprintf("%s/gateway/bot", d->api_url);
	d->gw_call =
	    http_start_json(d->http, "GET", url, headers, NULL, NULL, discord_gateway_done, d);
	free(url);
}

/* --- sending --- */

static int
discord_send(struct gateway *gw, const char *room, const struct chat_out *out,
             gateway_done_cb *done, void *arg)
{
	struct discord *d = gateway_impl(gw);
	char key[64];

	if (!discord_id_ok(room) || (out->mention && !discord_id_ok(out->mention)))
		return -1;
	if (discord_ix_send(d, room, out, done, arg))
		return 0;
	snprintf(key, sizeof(key), "POST /channels/%s/messages", room);
	discord_send_tracked(d, "POST", key, xasprintf("%s/channels/%s/messages", d->api_url, room),
	                     discord_message_body(out, false, true), NULL, NULL, out->mention,
	                     discord_action_says(out), NULL, NULL, done, arg);
	return 0;
}

static int
discord_edit(struct gateway *gw, const char *room, const char *msg_id, const struct chat_out *out,
             gateway_done_cb *done, void *arg)
{
	struct discord *d = gateway_impl(gw);
	char key[64];

	if (!discord_id_ok(room) || !discord_id_ok(msg_id))
		return -1;
	if (discord_ix_edit(d, room, msg_id, out, done, arg))
		return 0;
	snprintf(key, sizeof(key), "PATCH /channels/%s/messages/:id", room);
	discord_send_tracked(d, "PATCH", key,
	                     xasprintf("%s/channels/%s/messages/%s", d->api_url, room, msg_id),
	                     discord_message_body(out, true, false), msg_id, NULL, out->mention,
	                     discord_action_says(out), NULL, NULL, done, arg);
	return 0;
}

static void
discord_typing(struct gateway *gw, const char *room, bool on)
{
	struct discord *d = gateway_impl(gw);
	char key[64];

	/* Discord shows it for ten seconds or until usher's next message. */
	if (!on || !discord_id_ok(room))
		return;
	snprintf(key, sizeof(key), "POST /channels/%s/typing", room);
	discord_rest(d, "POST", key, xasprintf("%s/channels/%s/typing", d->api_url, room), NULL,
	             NULL, NULL, NULL);
}

static void
discord_dms_free(struct discord_dm *dm)
{
	while (dm) {
		struct discord_dm *next = dm->next;

		free(dm->user);
		free(dm->channel);
		free(dm);
		dm = next;
	}
}

/* The DM channel already opened with `user`, or NULL. */
static const char *
discord_dm_find(struct discord *d, const char *user)
{
	struct discord_dm *dm;

	for (dm = d->dms; dm; dm = dm->next)
		if (strcmp(dm->user, user) == 0)
			return dm->channel;
	return NULL;
}

static void
discord_dm_remember(struct discord *d, const char *user, const char *channel)
{
	struct discord_dm *dm, **pp;
	size_t n = 0;

	if (discord_dm_find(d, user))
		return;
	dm = xcalloc(1, sizeof(*dm));
	dm->user = xstrdup(user);
	dm->channel = xstrdup(channel);
	dm->next = d->dms;
	d->dms = dm;
	for (pp = &d->dms; *pp; pp = &(*pp)->next) {
		if (++n >= DISCORD_DM_CACHE && (*pp)->next) {
			discord_dms_free((*pp)->next);
			(*pp)->next = NULL;
			break;
		}
	}
}

/* A direct message waiting for its DM channel to open. */
struct discord_direct {
	struct discord *d;
	char *user;
	json_t *body;
	json_t *says;
	gateway_done_cb *done;
	void *arg;
};

static void
discord_direct_free(void *arg)
{
	struct discord_direct *dd = arg;

	free(dd->user);
	json_decref(dd->body);
	json_decref(dd->says);
	free(dd);
}

static void
discord_direct_post(struct discord *d, const char *channel, json_t *body, json_t *says,
                    gateway_done_cb *done, void *arg)
{
	char key[64];

	snprintf(key, sizeof(key), "POST /channels/%s/messages", channel);
	discord_send_tracked(d, "POST", key,
	                     xasprintf("%s/channels/%s/messages", d->api_url, channel), body, NULL,
	                     NULL, NULL, says, NULL, NULL, done, arg);
}

static void
discord_direct_opened(void *arg, int status, const char *channel, const char *error)
{
	struct discord_direct *dd = arg;

	if (status != 0 || !discord_id_ok(channel)) {
		if (dd->done)
			dd->done(dd->arg, -1, NULL, status != 0 ? error : "no DM channel id");
		discord_direct_free(dd);
		return;
	}
	discord_dm_remember(dd->d, dd->user, channel);
	discord_direct_post(dd->d, channel, dd->body, dd->says, dd->done, dd->arg);
	dd->body = dd->says = NULL;
	discord_direct_free(dd);
}

static int
discord_send_direct(struct gateway *gw, const char *user, const struct chat_out *out,
                    gateway_done_cb *done, void *arg)
{
	struct discord *d = gateway_impl(gw);
	const char *channel;
	struct discord_direct *dd;
	struct discord_req *q;

	if (!discord_id_ok(user) || (out->mention && !discord_id_ok(out->mention)))
		return -1;
	if ((channel = discord_dm_find(d, user)) != NULL) {
		discord_direct_post(d, channel, discord_message_body(out, false, false),
		                    discord_action_says(out), done, arg);
		return 0;
	}
	dd = xcalloc(1, sizeof(*dd));
	dd->d = d;
	dd->user = xstrdup(user);
	dd->body = discord_message_body(out, false, false);
	dd->says = discord_action_says(out);
	dd->done = done;
	dd->arg = arg;
	q = discord_rest(d, "POST", "POST /users/@me/channels",
	                 xasprintf("%s/users/@me/channels", d->api_url),
	                 json_pack("{s:s}", "recipient_id", user), NULL, discord_direct_opened, dd);
	q->arg_free = discord_direct_free;
	return 0;
}

/* --- gateway_ops --- */

static int
discord_init(struct gateway *gw, const struct config *cfg, char *err, size_t errlen)
{
	struct discord *d;
	const char *token = config_get(cfg, "discord", "token");
	const char *api = config_get(cfg, "discord", "api_url");
	const char *app = config_get(cfg, "discord", "application_id");
	const char *guild = config_get(cfg, "discord", "guild");
	size_t n;

	if (token == NULL || *token == '\0') {
		snprintf(err, errlen, "[discord] needs token = the bot's token");
		return -1;
	}
	if ((app && !discord_id_ok(app)) || (guild && !discord_id_ok(guild))) {
		snprintf(err, errlen, "[discord] application_id and guild are numeric ids");
		return -1;
	}
	d = xcalloc(1, sizeof(*d));
	d->gw = gw;
	d->loop = gateway_loop(gw);
	d->store = gateway_store(gw);
	d->http = http_new(d->loop);
	d->token = xstrdup(token);
	d->auth = xasprintf("Authorization: Bot %s", token);
	log_add_secret(token);
	n = strlen(api ? api : "");
	while (n > 0 && api[n - 1] == '/')
		n--;
	d->api_url = xasprintf("%.*s", (int)n, api ? api : "");
	d->seq = -1;
	d->backoff_ms = DISCORD_BACKOFF_MIN_MS;
	d->app_id = app ? xstrdup(app) : NULL;
	d->register_commands = app != NULL;
	d->guild = guild ? xstrdup(guild) : NULL;
	d->ix_ttl_ms = DISCORD_IX_TTL_MS;
	gateway_set_impl(gw, d);
	return 0;
}

static int
discord_start(struct gateway *gw)
{
	struct discord *d = gateway_impl(gw);

	d->running = true;
	d->fatal = false;
	discord_load_session(d);
	d->connect_resume = d->session_id != NULL;
	discord_register_commands(d);
	discord_get_gateway(d);
	return 0;
}

static void
discord_stop(struct gateway *gw)
{
	struct discord *d = gateway_impl(gw);

	d->running = false;
	if (d->connect_timer)
		loop_cancel_timer(d->loop, d->connect_timer);
	d->connect_timer = 0;
	if (d->gw_call)
		http_cancel(d->gw_call);
	d->gw_call = NULL;
	discord_drop(d);
}

static void
discord_free_impl(struct gateway *gw)
{
	struct discord *d = gateway_impl(gw);

	if (d == NULL)
		return;
	discord_stop(gw);
	discord_interactions_free(d);
	discord_rest_free(d);
	discord_dms_free(d->dms);
	http_free(d->http);
	free(d->api_url);
	free(d->auth);
	free(d->token);
	free(d->gateway_url);
	free(d->resume_url);
	free(d->session_id);
	free(d->self_id);
	free(d->app_id);
	free(d->guild);
	free(d);
	gateway_set_impl(gw, NULL);
}

const struct gateway_ops discord_gateway_ops = {
    .name = "discord",
    .caps = GATEWAY_CAN_EDIT,
    .init = discord_init,
    .start = discord_start,
    .stop = discord_stop,
    .send = discord_send,
    .edit = discord_edit,
    .typing = discord_typing,
    .send_direct = discord_send_direct,
    .free_impl = discord_free_impl,
};
