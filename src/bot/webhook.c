#include "bot/webhook.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/httpd.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

/* Seerr sends one notification per event; a backlog this deep means the
 * callback is not keeping up, and Seerr does not retry, so say so (503). */
#define WEBHOOK_QUEUE_MAX 256

struct pending {
	struct pending *next;
	struct webhook_notice notice;
};

struct webhook {
	struct httpd *httpd;
	struct loop *loop;
	char *path;
	char *secret; /* NULL: refuse everything */
	webhook_cb *cb;
	void *arg;
	struct pending *head, **tail;
	size_t npending;
	loop_timer_id timer;
};

static const struct {
	const char *name;
	enum webhook_event event;
} event_names[] = {
    {"TEST_NOTIFICATION", WEBHOOK_TEST},
    {"MEDIA_PENDING", WEBHOOK_MEDIA_PENDING},
    {"MEDIA_APPROVED", WEBHOOK_MEDIA_APPROVED},
    {"MEDIA_AUTO_APPROVED", WEBHOOK_MEDIA_AUTO_APPROVED},
    {"MEDIA_AVAILABLE", WEBHOOK_MEDIA_AVAILABLE},
    {"MEDIA_DECLINED", WEBHOOK_MEDIA_DECLINED},
    {"MEDIA_FAILED", WEBHOOK_MEDIA_FAILED},
};

static const struct {
	const char *name;
	enum webhook_media_status status;
} status_names[] = {
    {"UNKNOWN", WEBHOOK_STATUS_UNKNOWN},
    {"PENDING", WEBHOOK_STATUS_PENDING},
    {"PROCESSING", WEBHOOK_STATUS_PROCESSING},
    {"PARTIALLY_AVAILABLE", WEBHOOK_STATUS_PARTIALLY_AVAILABLE},
    {"AVAILABLE", WEBHOOK_STATUS_AVAILABLE},
    {"BLOCKLISTED", WEBHOOK_STATUS_BLOCKLISTED},
    {"BLACKLISTED", WEBHOOK_STATUS_BLOCKLISTED},
    {"DELETED", WEBHOOK_STATUS_DELETED},
};

const char *
webhook_event_name(enum webhook_event event)
{
	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
		if (event_names[i].event == event)
			return event_names[i].name;
	return "OTHER";
}

/* Copies `src` into `dst`, cutting at a UTF-8 character boundary when it
 * does not fit, so a truncated title never ends in half a character. */
static void
copy_utf8(char *dst, size_t size, const char *src)
{
	size_t n = strlcpy_u(dst, src, size);

	if (n < size)
		return;
	n = size - 1; /* bytes kept */
	if (((unsigned char)src[n] & 0xC0) != 0x80)
		return;
	/* The first byte dropped continues the last character kept: drop
	 * that character's continuation bytes and its lead byte too. */
	while (n > 0 && ((unsigned char)dst[n - 1] & 0xC0) == 0x80)
		n--;
	if (n > 0)
		n--;
	dst[n] = '\0';
}

/* A string field, or a number rendered as text; "" for anything else. */
static void
get_str(const json_t *obj, const char *key, char *dst, size_t size)
{
	const json_t *v = json_object_get(obj, key);
	char num[64];

	dst[0] = '\0';
	if (json_is_string(v))
		copy_utf8(dst, size, json_string_value(v));
	else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		copy_utf8(dst, size, num);
	}
}

/* A positive id given as a number or as a string of digits ("438631", the
 * template's way); 0 for anything else ("", "{{media_tmdbid}}", null). */
static long
get_id(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	char *end;
	long n;
	double d;

	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (long)json_integer_value(v) : 0;
	if (json_is_real(v)) {
		d = json_real_value(v);
		return d >= 1 && d <= (double)INT32_MAX && floor(d) == d ? (long)d : 0;
	}
	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return 0;
	errno = 0;
	n = strtol(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	return errno == 0 && *end == '\0' && n > 0 ? n : 0;
}

static enum webhook_media_status
get_status(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	long n;

	if (json_is_string(v)) {
		s = json_string_value(v);
		for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
			if (strcasecmp(s, status_names[i].name) == 0)
				return status_names[i].status;
	}
	n = get_id(obj, key);
	return n >= WEBHOOK_STATUS_UNKNOWN && n <= WEBHOOK_STATUS_DELETED
	           ? (enum webhook_media_status)n
	           : WEBHOOK_STATUS_NONE;
}

/* "1, 2, 5" → seasons; anything that is not a number is skipped. */
static void
parse_seasons(const char *s, struct webhook_notice *out)
{
	char *end;
	long n;

	while (*s && out->nseasons < WEBHOOK_MAX_SEASONS) {
		if (!isdigit((unsigned char)*s)) {
			s++;
			continue;
		}
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno == 0 && n >= 0 && n <= 10000)
			out->seasons[out->nseasons++] = (int)n;
		s = end;
	}
}

static void
parse_extra(const json_t *extra, struct webhook_notice *out)
{
	size_t i;
	const json_t *item, *name, *value;

	if (!json_is_array(extra))
		return;
	json_array_foreach(extra, i, item)
	{
		name = json_object_get(item, "name");
		value = json_object_get(item, "value");
		if (json_is_string(name) && json_is_string(value) &&
		    strcasecmp(json_string_value(name), "Requested Seasons") == 0)
			parse_seasons(json_string_value(value), out);
	}
}

int
webhook_parse(const char *body, size_t len, struct webhook_notice *out, char *err, size_t errlen)
{
	json_t *root;
	const json_t *media, *request;
	json_error_t jerr;
	char media_type[16];

	memset(out, 0, sizeof(*out));
	out->event = WEBHOOK_OTHER;
	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "the body is not JSON (%s, line %d column %d)", jerr.text,
		         jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "the body is JSON but not an object");
		json_decref(root);
		return -1;
	}

	get_str(root, "notification_type", out->notification_type, sizeof(out->notification_type));
	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
		if (strcmp(out->notification_type, event_names[i].name) == 0)
			out->event = event_names[i].event;
	get_str(root, "event", out->event_text, sizeof(out->event_text));
	get_str(root, "subject", out->subject, sizeof(out->subject));
	get_str(root, "message", out->message, sizeof(out->message));
	get_str(root, "image", out->image, sizeof(out->image));

	media = json_object_get(root, "media");
	if (json_is_object(media)) {
		out->has_media = true;
		get_str(media, "media_type", media_type, sizeof(media_type));
		out->is_tv = strcasecmp(media_type, "tv") == 0;
		out->tmdb_id = get_id(media, "tmdbId");
		out->tvdb_id = get_id(media, "tvdbId");
		out->status = get_status(media, "status");
		out->status_4k = get_status(media, "status4k");
	} else {
		out->is_tv = strstr(out->event_text, "Series") != NULL;
	}
	out->is_4k = strstr(out->event_text, "4K") != NULL;

	request = json_object_get(root, "request");
	if (json_is_object(request)) {
		out->has_request = true;
		out->request_id = get_id(request, "request_id");
		out->requested_by_id = get_id(request, "requestedBy_id");
		get_str(request, "requestedBy_username", out->requested_by,
		        sizeof(out->requested_by));
		get_str(request, "requestedBy_email", out->requested_by_email,
		        sizeof(out->requested_by_email));
		get_str(request, "requestedBy_settings_discordId", out->requested_by_discord_id,
		        sizeof(out->requested_by_discord_id));
		get_str(request, "requestedBy_settings_telegramChatId",
		        out->requested_by_telegram_chat_id,
		        sizeof(out->requested_by_telegram_chat_id));
	}
	parse_extra(json_object_get(root, "extra"), out);
	json_decref(root);
	return 0;
}

/* Compares in time that depends only on the secret's length, so the
 * answer's timing tells a guesser nothing about how much was right. */
static bool
secret_eq(const char *given, const char *want)
{
	size_t glen = strlen(given), wlen = strlen(want);
	volatile unsigned char diff = glen != wlen;

	for (size_t i = 0; i < wlen; i++)
		diff |= (unsigned char)want[i] ^ (unsigned char)(i < glen ? given[i] : 0);
	return diff == 0;
}

static void
deliver(struct loop *loop, loop_timer_id id, void *arg)
{
	struct webhook *w = arg;
	struct pending *p;

	(void)loop;
	(void)id;
	w->timer = 0;
	while ((p = w->head) != NULL) {
		w->head = p->next;
		if (w->head == NULL)
			w->tail = &w->head;
		w->npending--;
		w->cb(&p->notice, w->arg);
		free(p);
	}
}

static void
on_post(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct webhook *w = arg;
	const char *auth;
	struct pending *p;
	char err[256];

	if (w->secret == NULL) {
		log_warnx("webhook: refused a notification from %s on %s: no secret is set; put "
		          "the same value in [seerr] webhook_secret and in Overseerr -> Settings "
		          "-> Notifications -> Webhook -> Authorization Header",
		          req->peer, w->path);
		httpd_respond_static(resp, 403, "text/plain; charset=utf-8",
		                     "webhook_secret is not set\n");
		return;
	}
	auth = httpd_request_header(req, "Authorization");
	if (auth == NULL || !secret_eq(auth, w->secret)) {
		log_warnx("webhook: refused a notification from %s on %s: %s Authorization header; "
		          "it must equal [seerr] webhook_secret",
		          req->peer, w->path, auth ? "wrong" : "no");
		httpd_respond_static(resp, 401, "text/plain; charset=utf-8", "unauthorized\n");
		return;
	}
	if (w->npending >= WEBHOOK_QUEUE_MAX) {
		log_warnx("webhook: dropped a notification from %s: %zu still waiting", req->peer,
		          w->npending);
		httpd_respond_static(resp, 503, "text/plain; charset=utf-8", "busy\n");
		return;
	}
	p = xcalloc(1, sizeof(*p));
	if (webhook_parse(req->body, req->body_len, &p->notice, err, sizeof(err)) < 0) {
		log_warnx("webhook: bad notification from %s: %s", req->peer, err);
		free(p);
		httpd_respond_static(resp, 400, "text/plain; charset=utf-8",
		                     "expected a JSON object\n");
		return;
	}
	log_debug("webhook: %s (%s) request %ld tmdb %ld from %s",
	          webhook_event_name(p->notice.event), p->notice.notification_type,
	          p->notice.request_id, p->notice.tmdb_id, req->peer);
	*w->tail = p;
	w->tail = &p->next;
	w->npending++;
	/* The callback runs after this response is queued, never inside the
	 * HTTP request, so it may take its time without Seerr waiting. */
	if (w->timer == 0)
		w->timer = loop_add_timer(w->loop, 0, deliver, w);
	httpd_respond_static(resp, 204, NULL, NULL);
}

struct webhook *
webhook_attach(struct httpd *h, const char *path, const char *secret, webhook_cb *cb, void *arg)
{
	struct webhook *w = xcalloc(1, sizeof(*w));

	w->httpd = h;
	w->loop = httpd_loop(h);
	w->path = xstrdup(path ? path : WEBHOOK_DEFAULT_PATH);
	w->secret = secret && secret[0] ? xstrdup(secret) : NULL;
	w->cb = cb;
	w->arg = arg;
	w->tail = &w->head;
	if (httpd_route(h, "POST", w->path, on_post, w) < 0) {
		free(w->path);
		free(w->secret);
		free(w);
		return NULL;
	}
	if (w->secret)
		log_add_secret(w->secret);
	else
		log_warnx("webhook: [seerr] webhook_secret is not set: %s will refuse every "
		          "notification until it is",
		          w->path);
	return w;
}

void
webhook_free(struct webhook *w)
{
	struct pending *p;

	if (w == NULL)
		return;
	if (w->timer)
		loop_cancel_timer(w->loop, w->timer);
	while ((p = w->head) != NULL) {
		w->head = p->next;
		free(p);
	}
	if (w->secret)
		explicit_bzero(w->secret, strlen(w->secret));
	free(w->secret);
	free(w->path);
	free(w);
}
