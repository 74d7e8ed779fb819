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

#define DISCORD_MAX_ATTEMPTS 5
#define DISCORD_LABEL_MAX    60

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

/* Cuts at the content limit without splitting a UTF-8 sequence. */
static json_t *
discord_content(const char *text, const char *prefix)
{
	char *s = xasprintf("%s%s", prefix ? prefix : "", text ? text : "");
	size_t chars = 0, i;
	json_t *j;

	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars > DISCORD_CONTENT_MAX) {
			s[i] = '\0';
			break;
		}
	}
	j = json_string(s);
	if (j == NULL) /* not UTF-8: never send what Discord would reject */
		j = json_string("");
	free(s);
	return j;
}

json_t *
discord_message_body(const struct chat_out *out, bool edit, bool reference)
{
	json_t *body = json_object();
	json_t *allowed = json_pack("{s:[]}", "parse");
	json_t *components = discord_components(out->text);
	char *prefix = NULL;

	if (out->mention) {
		json_object_set_new(allowed, "users", json_pack("[s]", out->mention));
		/* A reply (or an interaction's answer) already says whom it is for. */
		if (out->reply_to == NULL && !edit)
			prefix = xasprintf("<@%s> ", out->mention);
	}
	json_object_set_new(allowed, "replied_user", json_boolean(out->mention != NULL));
	json_object_set_new(body, "content", discord_content(out->text, prefix));
	json_object_set_new(body, "allowed_mentions", allowed);
	if (reference && out->reply_to && !edit)
		json_object_set_new(
		    body, "message_reference",
		    json_pack("{s:s, s:b}", "message_id", out->reply_to, "fail_if_not_exists", 0));
	if (out->image_url)
		json_object_set_new(body, "embeds",
		                    json_pack("[{s:{s:s}}]", "image", "url", out->image_url));
	if (components)
		json_object_set_new(body, "components", components);
	else if (edit)
		json_object_set_new(body, "components", json_array());
	free(prefix);
	return body;
}

static json_t *
discord_button(const char *label, const char *custom_id, int style)
{
	return json_pack("{s:i, s:i, s:s, s:s}", "type", 2, "style", style, "label", label,
	                 "custom_id", custom_id);
}

/* Appends a button, opening a new action row every five. */
static void
discord_row_add(json_t *rows, json_t *button)
{
	json_t *row = json_array_get(rows, json_array_size(rows) - 1);
	json_t *list = json_object_get(row, "components");

	if (list == NULL || json_array_size(list) >= 5) {
		list = json_array();
		json_array_append_new(rows, json_pack("{s:i, s:o}", "type", 1, "components", list));
	}
	json_array_append_new(list, button);
}

/* "N) " then the title up to " · ", cut on a character boundary. */
static void
discord_choice_label(int n, const char *line, size_t len, char *out, size_t outlen)
{
	const char *dot = NULL;
	size_t i, cut;
	int w;

	for (i = 0; i + 1 < len; i++) {
		if (strncmp(line + i, " \xc2\xb7 ", 4) == 0 && i + 4 <= len) {
			dot = line + i;
			break;
		}
	}
	if (dot)
		len = (size_t)(dot - line);
	w = snprintf(out, outlen, "%d) ", n);
	cut = outlen - (size_t)w - 1;
	if (cut > DISCORD_LABEL_MAX)
		cut = DISCORD_LABEL_MAX;
	if (len > cut) {
		len = cut;
		while (len > 0 && ((unsigned char)line[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(out + w, line, len);
	out[(size_t)w + len] = '\0';
}

json_t *
discord_components(const char *text)
{
	json_t *rows = json_array();
	const char *p, *end;
	int next = 1;
	size_t n;

	if (text == NULL) {
		json_decref(rows);
		return NULL;
	}
	/* Lines "\nN) ..." numbered from 1 without a gap. */
	for (p = strchr(text, '\n'); p && next <= DISCORD_BUTTONS_MAX; p = strchr(p + 1, '\n')) {
		char want[16], label[128], id[32];
		int w = snprintf(want, sizeof(want), "%d) ", next);
		json_t *b;

		if (strncmp(p + 1, want, (size_t)w) != 0)
			continue;
		end = strchr(p + 1, '\n');
		n = end ? (size_t)(end - (p + 1 + w)) : strlen(p + 1 + w);
		discord_choice_label(next, p + 1 + w, n, label, sizeof(label));
		snprintf(id, sizeof(id), "usher:choice:%d", next);
		b = discord_button(label, id, 2);
		if (b == NULL) /* a label that is not UTF-8: the number alone */
			b = discord_button(want, id, 2);
		discord_row_add(rows, b);
		next++;
	}
	n = strlen(text);
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n'))
		n--;
	if (n >= 14 && strncmp(text + n - 14, "Say yes or no.", 14) == 0 &&
	    json_array_size(rows) < 5) {
		json_t *list = json_array();

		json_array_append_new(list, discord_button("Yes", "usher:yes", 3));
		json_array_append_new(list, discord_button("No", "usher:no", 4));
		json_array_append_new(rows, json_pack("{s:i, s:o}", "type", 1, "components", list));
	}
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		return NULL;
	}
	return rows;
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
