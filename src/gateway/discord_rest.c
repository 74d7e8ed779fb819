/*
 * discord_rest: Discord's REST API for the gateway: a per-route queue (one
 * call in flight per route) that honours X-RateLimit-Remaining/Reset-After,
 * 429 retry_after and the global limit, so a reply is posted exactly once
 * even when rate limited; and the message bodies usher sends (content,
 * poster embed, buttons for choices).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "gateway/discord_impl.h"

#define DISCORD_MAX_ATTEMPTS   5
#define DISCORD_LABEL_MAX      60
#define DISCORD_DETAIL_MAX     300
#define DISCORD_EMBEDS_MAX     10
#define DISCORD_ROWS_MAX       5
#define DISCORD_SELECT_MAX     25
#define DISCORD_CHOICE_BUTTONS 5

static void discord_route_pump(struct discord *d, struct discord_route *r);

static void
discord_req_free(struct discord_req *q)
{
	free(q->method);
	free(q->url);
	free(q->known_id);
	json_decref(q->body);
	free(q);
}

/* Dropped without an answer (the gateway goes away). */
static void
discord_req_drop(struct discord_req *q)
{
	if (q->arg_free)
		q->arg_free(q->arg);
	discord_req_free(q);
}

static void
discord_route_fire(struct loop *loop, loop_timer_id id, void *arg)
{
	struct discord_route *r = arg;
	struct discord *d = r->head ? r->head->d : NULL;

	(void)loop;
	(void)id;
	r->timer = 0;
	if (d)
		discord_route_pump(d, r);
}

static double
discord_header_seconds(const struct http_response *resp, const char *name)
{
	const char *v = http_response_header(resp, name);

	return v ? strtod(v, NULL) : -1;
}

static void
discord_req_finish(struct discord_route *r, int status, const char *id, const char *error)
{
	struct discord_req *q = r->head;

	r->head = q->next;
	if (r->head == NULL)
		r->tail = NULL;
	if (q->done)
		q->done(q->arg, status, id, error);
	else if (q->arg_free)
		q->arg_free(q->arg);
	discord_req_free(q);
}

static void
discord_rest_done(const struct http_response *resp, void *arg)
{
	struct discord_route *r = arg;
	struct discord_req *q = r->head;
	struct discord *d = q->d;
	uint64_t now = loop_now_ms(d->loop);
	double remaining = discord_header_seconds(resp, "X-RateLimit-Remaining");
	double reset_after = discord_header_seconds(resp, "X-RateLimit-Reset-After");
	char err[200];

	r->call = NULL;
	if (resp->result == HTTP_OK && remaining == 0 && reset_after > 0)
		r->blocked_until = now + (uint64_t)(reset_after * 1000);
	if (resp->result == HTTP_OK && resp->status == 429) {
		json_t *j = http_response_json(resp, err, sizeof(err));
		double retry = json_number_value(json_object_get(j, "retry_after"));
		const char *global = http_response_header(resp, "X-RateLimit-Global");

		if (retry <= 0)
			retry = discord_header_seconds(resp, "Retry-After");
		if (retry <= 0)
			retry = 1;
		if (retry > 600)
			retry = 600;
		log_warnx("discord: rate limited on %s; retrying in %.3f s", r->key, retry);
		if (json_is_true(json_object_get(j, "global")) ||
		    (global && strcmp(global, "true") == 0))
			d->global_until = now + (uint64_t)(retry * 1000);
		else
			r->blocked_until = now + (uint64_t)(retry * 1000);
		json_decref(j);
		/* 429s count toward the invalid-request ban: do not retry forever. */
		if (++q->attempts < DISCORD_MAX_ATTEMPTS) {
			discord_route_pump(d, r);
			return;
		}
	}
	if (resp->result == HTTP_OK && resp->status >= 200 && resp->status < 300) {
		json_t *j = http_response_json(resp, err, sizeof(err));
		const char *id = json_string_value(json_object_get(j, "id"));

		discord_req_finish(r, 0, id ? id : q->known_id, NULL);
		json_decref(j);
	} else {
		if (resp->result == HTTP_OK)
			snprintf(err, sizeof(err), "Discord answered HTTP %ld", resp->status);
		else
			snprintf(err, sizeof(err), "%s", resp->error ? resp->error : "no answer");
		/* Interaction routes use their own token, not the bot's. */
		if (resp->status == 401 && strncmp(r->key, "interaction ", 12) != 0)
			log_error("discord: Discord rejected the bot token (HTTP 401)");
		log_warnx("discord: %s %s failed: %s", q->method, r->key, err);
		d->last_status = resp->result == HTTP_OK ? resp->status : 0;
		discord_req_finish(r, -1, NULL, err);
	}
	discord_route_pump(d, r);
}

static void
discord_route_pump(struct discord *d, struct discord_route *r)
{
	struct discord_req *q = r->head;
	uint64_t now = loop_now_ms(d->loop);
	uint64_t until = r->blocked_until > d->global_until ? r->blocked_until : d->global_until;
	const char *headers[] = {d->auth, "User-Agent: DiscordBot (https://github.com/usher, 0.1)",
	                         NULL};

	if (q == NULL || r->call || r->timer)
		return;
	if (until > now) {
		r->timer = loop_add_timer(d->loop, until - now, discord_route_fire, r);
		return;
	}
	r->call = http_start_json(d->http, q->method, q->url, headers, q->body, NULL,
	                          discord_rest_done, r);
}

/* Rate limits are per route and per major parameter (the channel), so the
 * key keeps the channel id and drops message ids. */
static struct discord_route *
discord_route_get(struct discord *d, const char *key)
{
	struct discord_route *r;

	for (r = d->routes; r; r = r->next)
		if (strcmp(r->key, key) == 0)
			return r;
	r = xcalloc(1, sizeof(*r));
	r->key = xstrdup(key);
	r->next = d->routes;
	d->routes = r;
	return r;
}

struct discord_req *
discord_rest(struct discord *d, const char *method, const char *route_key, char *url, json_t *body,
             const char *known_id, gateway_done_cb *done, void *arg)
{
	struct discord_req *q = xcalloc(1, sizeof(*q));
	struct discord_route *r = discord_route_get(d, route_key);

	q->d = d;
	q->route = r;
	q->method = xstrdup(method);
	q->url = url;
	q->body = body;
	q->known_id = known_id ? xstrdup(known_id) : NULL;
	q->done = done;
	q->arg = arg;
	if (r->tail)
		r->tail->next = q;
	else
		r->head = q;
	r->tail = q;
	discord_route_pump(d, r);
	return q;
}

/* A JSON string of `text` cut to `max` characters on a character
 * boundary; NULL when `text` is NULL or not UTF-8. */
static json_t *
discord_text_cut(const char *text, size_t max)
{
	size_t chars = 0, i;
	json_t *j;
	char *s;

	if (text == NULL)
		return NULL;
	s = xstrdup(text);
	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars > max) {
			s[i] = '\0';
			break;
		}
	}
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
discord_content(const char *text, const char *prefix)
{
	char *s = xasprintf("%s%s", prefix ? prefix : "", text ? text : "");
	json_t *j = discord_text_cut(s, DISCORD_CONTENT_MAX);

	free(s);
	/* not UTF-8: never send what Discord would reject */
	return j ? j : json_string("");
}

/* "N) label", at most DISCORD_LABEL_MAX characters. */
static json_t *
discord_numbered(size_t n, const char *label, size_t max)
{
	char *s = xasprintf("%zu) %s", n, label ? label : "");
	json_t *j = discord_text_cut(s, max);

	free(s);
	return j ? j : json_sprintf("%zu", n);
}

/* One embed per choice (its poster as the thumbnail), then the message's
 * own poster; at most DISCORD_EMBEDS_MAX. NULL when there are none. */
static json_t *
discord_embeds(const struct chat_out *out)
{
	json_t *embeds = json_array();
	size_t i;

	for (i = 0; i < out->choice_count && i < DISCORD_EMBEDS_MAX; i++) {
		const struct chat_choice *c = &out->choices[i];
		json_t *e = json_object();
		json_t *detail = discord_text_cut(c->detail, DISCORD_DETAIL_MAX);
		json_t *thumb;

		json_object_set_new(e, "title", discord_numbered(i + 1, c->label, 256));
		if (detail)
			json_object_set_new(e, "description", detail);
		thumb = c->image_url ? json_pack("{s:s}", "url", c->image_url) : NULL;
		if (thumb)
			json_object_set_new(e, "thumbnail", thumb);
		json_array_append_new(embeds, e);
	}
	if (out->image_url && json_array_size(embeds) < DISCORD_EMBEDS_MAX) {
		/* NULL (skipped) when the URL is not UTF-8. */
		json_t *poster = json_pack("{s:{s:s}}", "thumbnail", "url", out->image_url);

		if (poster)
			json_array_append_new(embeds, poster);
	}
	if (json_array_size(embeds) == 0) {
		json_decref(embeds);
		return NULL;
	}
	return embeds;
}

json_t *
discord_message_body(const struct chat_out *out, bool edit, bool reference)
{
	json_t *body = json_object();
	json_t *allowed = json_pack("{s:[]}", "parse");
	json_t *components = discord_components(out);
	json_t *embeds = discord_embeds(out);
	const char *text = out->text;
	char *prefix = NULL;

	if (out->mention) {
		json_object_set_new(allowed, "users", json_pack("[s]", out->mention));
		/* A reply (or an interaction's answer) already says whom it is for. */
		if (out->reply_to == NULL && !edit) {
			prefix = xasprintf("<@%s> ", out->mention);
			/* "@kid Dune is ready": the ping replaces the plain name. */
			if (text[0] == '@' && strchr(text, ' ') != NULL)
				text = strchr(text, ' ') + 1;
		}
	}
	json_object_set_new(allowed, "replied_user", json_boolean(out->mention != NULL));
	json_object_set_new(body, "content", discord_content(text, prefix));
	json_object_set_new(body, "allowed_mentions", allowed);
	if (reference && out->reply_to && !edit)
		json_object_set_new(
		    body, "message_reference",
		    json_pack("{s:s, s:b}", "message_id", out->reply_to, "fail_if_not_exists", 0));
	if (embeds)
		json_object_set_new(body, "embeds", embeds);
	if (components)
		json_object_set_new(body, "components", components);
	else if (edit)
		json_object_set_new(body, "components", json_array());
	free(prefix);
	return body;
}

static json_t *
discord_button(json_t *label, const char *custom_id, int style)
{
	return json_pack("{s:i, s:i, s:o, s:s}", "type", 2, "style", style, "label", label,
	                 "custom_id", custom_id);
}

/* Appends a button, opening a new action row every five, up to the
 * message's five rows; returns false (and drops it) when they are full. */
static bool
discord_row_add(json_t *rows, json_t *button)
{
	json_t *row = json_array_get(rows, json_array_size(rows) - 1);
	json_t *list = json_object_get(row, "components");

	if (list == NULL || json_array_size(list) >= 5 ||
	    json_object_get(json_array_get(list, 0), "options")) {
		if (json_array_size(rows) >= DISCORD_ROWS_MAX) {
			json_decref(button);
			return false;
		}
		list = json_array();
		json_array_append_new(rows, json_pack("{s:i, s:o}", "type", 1, "components", list));
	}
	json_array_append_new(list, button);
	return true;
}

/* A few choices are buttons; more are one select menu. */
static void
discord_choice_components(json_t *rows, const struct chat_out *out)
{
	json_t *options, *select;
	size_t i;

	if (out->choice_count <= DISCORD_CHOICE_BUTTONS) {
		for (i = 0; i < out->choice_count; i++) {
			char id[48];

			snprintf(id, sizeof(id), "usher:choice:%zu", i + 1);
			discord_row_add(
			    rows, discord_button(discord_numbered(i + 1, out->choices[i].label,
			                                          DISCORD_LABEL_MAX),
			                         id, 2));
		}
		return;
	}
	options = json_array();
	for (i = 0; i < out->choice_count && i < DISCORD_SELECT_MAX; i++) {
		json_t *o = json_pack("{s:o, s:o}", "label",
		                      discord_numbered(i + 1, out->choices[i].label, 100), "value",
		                      json_sprintf("%zu", i + 1));
		json_t *detail = discord_text_cut(out->choices[i].detail, 100);

		if (detail)
			json_object_set_new(o, "description", detail);
		json_array_append_new(options, o);
	}
	select = json_pack("{s:i, s:s, s:s, s:o, s:i, s:i}", "type", 3, "custom_id", "usher:choice",
	                   "placeholder", "Which one?", "options", options, "min_values", 1,
	                   "max_values", 1);
	json_array_append_new(rows, json_pack("{s:i, s:[o]}", "type", 1, "components", select));
}

json_t *
discord_components(const struct chat_out *out)
{
	json_t *rows = json_array();
	size_t i, n;

	if (out == NULL || out->text == NULL) {
		json_decref(rows);
		return NULL;
	}
	discord_choice_components(rows, out);
	for (i = 0; i < out->action_count && i < DISCORD_BUTTONS_MAX; i++) {
		char id[48];

		snprintf(id, sizeof(id), "usher:act:%zu", i + 1);
		/* A fresh row for the first, so actions never share the choices' row. */
		if (i == 0 && json_array_size(rows) > 0 && json_array_size(rows) < DISCORD_ROWS_MAX)
			json_array_append_new(rows,
			                      json_pack("{s:i, s:[]}", "type", 1, "components"));
		if (!discord_row_add(rows, discord_button(discord_text_cut(out->actions[i].label,
		                                                           DISCORD_LABEL_MAX),
		                                          id, out->actions[i].danger ? 4 : 1)))
			break;
	}
	n = strlen(out->text);
	while (n > 0 && (out->text[n - 1] == ' ' || out->text[n - 1] == '\n'))
		n--;
	if (n >= 14 && strncmp(out->text + n - 14, "Say yes or no.", 14) == 0 &&
	    json_array_size(rows) < DISCORD_ROWS_MAX) {
		json_t *list = json_array();

		json_array_append_new(list, discord_button(json_string("Yes"), "usher:yes", 3));
		json_array_append_new(list, discord_button(json_string("No"), "usher:no", 4));
		json_array_append_new(rows, json_pack("{s:i, s:o}", "type", 1, "components", list));
	}
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		return NULL;
	}
	return rows;
}

json_t *
discord_action_says(const struct chat_out *out)
{
	json_t *says;
	size_t i;

	if (out->action_count == 0)
		return NULL;
	says = json_array();
	for (i = 0; i < out->action_count && i < DISCORD_BUTTONS_MAX; i++) {
		json_t *one = out->actions[i].says ? json_string(out->actions[i].says) : NULL;

		json_array_append_new(says, one ? one : json_string(""));
	}
	return says;
}

void
discord_rest_free(struct discord *d)
{
	while (d->routes) {
		struct discord_route *r = d->routes;

		d->routes = r->next;
		if (r->call)
			http_cancel(r->call);
		if (r->timer)
			loop_cancel_timer(d->loop, r->timer);
		while (r->head) {
			struct discord_req *q = r->head;

			r->head = q->next;
			discord_req_drop(q);
		}
		free(r->key);
		free(r);
	}
}

bool
discord_id_ok(const char *id)
{
	size_t i;

	if (id == NULL || *id == '\0' || strlen(id) > 24)
		return false;
	for (i = 0; id[i]; i++)
		if (id[i] < '0' || id[i] > '9')
			return false;
	return true;
}
