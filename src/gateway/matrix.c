/*
 * matrix: the Matrix gateway's HTTP side (see matrix.h and matrix_impl.h):
 * login, the /sync long-poll, sends and edits with idempotent retries,
 * joins and leaves.
 */
#include "gateway/matrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/util.h"
#include "gateway/gateway.h"
#include "gateway/matrix_impl.h"

#define MX_SYNC_TIMEOUT_MS 30000
/* The HTTP timeout of a sync: the long-poll plus room for a slow server. */
#define MX_SYNC_HTTP_TIMEOUT_MS (MX_SYNC_TIMEOUT_MS + 20000)
#define MX_SYNC_MAX_BODY        (32u * 1024 * 1024)
#define MX_BACKOFF_MAX_MS       60000
#define MX_SEND_TRIES           6

/* Only what usher acts on: messages, membership and encryption in rooms,
 * m.direct in account data. */
static const char mx_filter[] =
    "{\"room\":{\"timeline\":{\"limit\":50,\"types\":[\"m.room.message\",\"m.room.encrypted\","
    "\"m.room.member\",\"m.room.encryption\"]},\"state\":{\"types\":[\"m.room.member\","
    "\"m.room.encryption\"]},\"ephemeral\":{\"types\":[]},\"account_data\":{\"types\":[]}},"
    "\"presence\":{\"types\":[]},\"account_data\":{\"types\":[\"m.direct\"]}}";

/* A message on its way out. Its txnId is fixed when it is created, so every
 * retry is the same transaction and the homeserver posts it once. */
struct mx_send {
	struct matrix *m;
	char *room;
	char *url;
	char *body;
	gateway_done_cb *done;
	void *arg;
	struct http_call *call;
	loop_timer_id timer;
	unsigned tries;
	struct mx_send *next;
};

/* A join or leave in flight. */
struct mx_aux {
	struct matrix *m;
	char *room;
	bool join;
	struct http_call *call;
	struct mx_aux *next;
};

static void mx_sync(struct matrix *m);
static void mx_login(struct matrix *m);
static void mx_send_go(struct mx_send *s);

/* Percent-encodes everything but RFC 3986 unreserved characters. Returns a
 * new string the caller frees. */
static char *
mx_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

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

static char **
mx_split_list(const char *list, size_t *n)
{
	char **out = NULL, *copy, *tok, *save = NULL;

	*n = 0;
	if (list == NULL)
		return NULL;
	copy = xstrdup(list);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		str_trim(tok);
		if (*tok == '\0')
			continue;
		out = xrealloc(out, (*n + 1) * sizeof(*out));
		out[(*n)++] = xstrdup(tok);
	}
	free(copy);
	return out;
}

static void
mx_free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* Request options every call shares. `hdr` receives the Authorization
 * header and must stay alive until http_start returns. */
static void
mx_opts(const struct matrix *m, struct http_opts *o, char **hdr, const char **headers)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = m->request_timeout_ms;
	*hdr = m->token ? xasprintf("Authorization: Bearer %s", m->token) : NULL;
	headers[0] = *hdr;
	headers[1] = NULL;
}

/* The errcode of a Matrix error body, or "" when there is none. */
static const char *
mx_errcode(const json_t *body)
{
	const char *s = json_string_value(json_object_get(body, "errcode"));

	return s ? s : "";
}

/* How long a 429 asks us to wait: retry_after_ms, else Retry-After
 * (seconds), else `dflt`. */
static long
mx_retry_after(const struct http_response *r, const json_t *body, long dflt)
{
	const json_t *ms = json_object_get(body, "retry_after_ms");
	const char *h = http_response_header(r, "Retry-After");

	if (json_is_integer(ms) && json_integer_value(ms) >= 0)
		return json_integer_value(ms) > 3600000 ? 3600000 : (long)json_integer_value(ms);
	if (h) {
		char *end;
		long s = strtol(h, &end, 10);

		if (end != h && *end == '\0' && s >= 0 && s <= 3600)
			return s * 1000;
	}
	return dflt;
}

static long
mx_backoff(unsigned failures)
{
	long d = 1000L << (failures > 6 ? 6 : failures);

	if (d > MX_BACKOFF_MAX_MS)
		d = MX_BACKOFF_MAX_MS;
	return d + rand() % (d / 4 + 1);
}

/* ---- the sync loop ---- */

static void
mx_sync_timer(struct loop *loop, loop_timer_id id, void *arg)
{
	struct matrix *m = arg;

	(void)loop;
	(void)id;
	m->sync_timer = 0;
	if (!m->running || m->dead || m->login_call || m->sync_call)
		return;
	if (m->token)
		mx_sync(m);
	else
		mx_login(m);
}

static void
mx_sync_later(struct matrix *m, long ms)
{
	if (m->sync_timer)
		loop_cancel_timer(gateway_loop(m->gw), m->sync_timer);
	m->sync_timer = loop_add_timer(gateway_loop(m->gw), (uint64_t)ms, mx_sync_timer, m);
}

static void
mx_sync_failed(struct matrix *m, const char *why)
{
	long d = mx_backoff(m->sync_failures++);

	log_warnx("matrix: sync failed (%s); trying again in %ld ms", why, d);
	mx_sync_later(m, d);
}

/* A 401 on sync or send: with a password, log in again; without one the
 * configured token is dead and only a person can fix it. */
static void
mx_token_refused(struct matrix *m, const char *errcode)
{
	if (m->token == NULL || m->dead)
		return; /* already logging in again, or given up */
	if (m->password && !m->token_from_config) {
		log_warnx("matrix: the homeserver refused the stored access token (%s); "
		          "logging in again",
		          errcode);
		free(m->token);
		m->token = NULL;
		if (m->store) {
			char *key = matrix_key(m, "access_token");

			store_kv_delete(m->store, key);
			free(key);
		}
		http_cancel(m->sync_call);
		m->sync_call = NULL;
		mx_sync_later(m, mx_backoff(m->sync_failures++));
		return;
	}
	log_error("matrix: the homeserver refused usher's access token (%s); set a new "
	          "[matrix] access_token and restart usher",
	          errcode[0] ? errcode : "401");
	m->dead = true;
}

static void
mx_sync_done(const struct http_response *r, void *arg)
{
	struct matrix *m = arg;
	bool initial = m->since == NULL;
	const char *next;
	json_t *root;
	char err[256];

	m->sync_call = NULL;
	if (r->result != HTTP_OK) {
		mx_sync_failed(m, r->error);
		return;
	}
	root = http_response_json(r, err, sizeof(err));
	if (r->status == 401) {
		mx_token_refused(m, mx_errcode(root));
		json_decref(root);
		return;
	}
	if (r->status == 429) {
		long d = mx_retry_after(r, root, 5000);

		log_warnx("matrix: sync rate-limited; waiting %ld ms", d);
		json_decref(root);
		mx_sync_later(m, d);
		return;
	}
	if (r->status != 200 || root == NULL) {
		char why[300];

		snprintf(why, sizeof(why), "HTTP %ld %s", r->status, root ? mx_errcode(root) : err);
		json_decref(root);
		mx_sync_failed(m, why);
		return;
	}
	next = json_string_value(json_object_get(root, "next_batch"));
	if (next == NULL || *next == '\0') {
		json_decref(root);
		mx_sync_failed(m, "the answer has no next_batch");
		return;
	}
	m->sync_failures = 0;
	if (initial)
		log_info("matrix: first sync; earlier messages are not answered");
	matrix_handle_sync(m, root, initial);
	free(m->since);
	m->since = xstrdup(next);
	json_decref(root);
	if (m->store) {
		char *key = matrix_key(m, "next_batch");

		if (store_kv_set(m->store, key, m->since) == -1)
			log_warnx("matrix: cannot save the sync position: %s",
			          store_errmsg(m->store));
		free(key);
	}
	if (m->running && !m->dead)
		mx_sync(m);
}

static void
mx_sync(struct matrix *m)
{
	struct http_opts o;
	const char *headers[2];
	char *hdr, *since = m->since ? mx_escape(m->since) : NULL;

	mx_opts(m, &o, &hdr, headers);
	o.headers = headers;
	/* The first sync returns at once: it only tells us where "now" is. */
	o.url = since ? xasprintf("%s/_matrix/client/v3/sync?filter=%s&timeout=%d&"
	                          "set_presence=offline&since=%s",
	                          m->hs, m->filter_q, MX_SYNC_TIMEOUT_MS, since)
	              : xasprintf("%s/_matrix/client/v3/sync?filter=%s&timeout=0&"
	                          "set_presence=offline",
	                          m->hs, m->filter_q);
	o.timeout_ms = MX_SYNC_HTTP_TIMEOUT_MS;
	o.max_body = MX_SYNC_MAX_BODY;
	m->sync_call = http_start(m->http, &o, mx_sync_done, m);
	free((char *)o.url);
	free(since);
	free(hdr);
}

/* ---- membership ---- */

static void
mx_aux_done(const struct http_response *r, void *arg)
{
	struct mx_aux *a = arg, **pp;
	struct matrix *m = a->m;

	for (pp = &m->aux; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	if (r->result != HTTP_OK)
		log_warnx("matrix: cannot %s %s: %s", a->join ? "join" : "leave", a->room,
		          r->error);
	else if (r->status != 200)
		log_warnx("matrix: cannot %s %s: HTTP %ld", a->join ? "join" : "leave", a->room,
		          r->status);
	else
		log_info("matrix: %s %s", a->join ? "joined" : "left", a->room);
	free(a->room);
	free(a);
}

void
matrix_membership(struct matrix *m, const char *room, bool join)
{
	struct mx_aux *a;
	struct http_opts o;
	const char *headers[2];
	char *hdr, *esc, *url;

	if (m->token == NULL)
		return;
	for (a = m->aux; a; a = a->next)
		if (strcmp(a->room, room) == 0)
			return;
	a = xcalloc(1, sizeof(*a));
	a->m = m;
	a->room = xstrdup(room);
	a->join = join;
	esc = mx_escape(room);
	url = join ? xasprintf("%s/_matrix/client/v3/join/%s", m->hs, esc)
	           : xasprintf("%s/_matrix/client/v3/rooms/%s/leave", m->hs, esc);
	mx_opts(m, &o, &hdr, headers);
	o.method = "POST";
	o.url = url;
	o.headers = headers;
	o.body = "{}";
	o.body_len = 2;
	a->call = http_start(m->http, &o, mx_aux_done, a);
	a->next = m->aux;
	m->aux = a;
	free(hdr);
	free(url);
	free(esc);
}

/* ---- login ---- */

static void
mx_ready(struct matrix *m)
{
	for (struct mx_send *s = m->sends; s; s = s->next)
		if (s->call == NULL && s->timer == 0)
			mx_send_go(s);
	for (size_t i = 0; i < m->njoin_rooms; i++)
		matrix_membership(m, m->join_rooms[i], true);
	mx_sync(m);
}

static void
mx_login_done(const struct http_response *r, void *arg)
{
	struct matrix *m = arg;
	const char *token, *device;
	json_t *root;
	char err[256];

	m->login_call = NULL;
	if (r->result != HTTP_OK) {
		long d = mx_backoff(m->sync_failures++);

		log_warnx("matrix: cannot log in (%s); trying again in %ld ms", r->error, d);
		mx_sync_later(m, d);
		return;
	}
	root = http_response_json(r, err, sizeof(err));
	if (r->status == 429) {
		long d = mx_retry_after(r, root, 5000);

		log_warnx("matrix: login rate-limited; waiting %ld ms", d);
		mx_sync_later(m, d);
		json_decref(root);
		return;
	}
	token = json_string_value(json_object_get(root, "access_token"));
	if (r->status != 200 || token == NULL || *token == '\0') {
		if (r->status >= 500) {
			mx_sync_later(m, mx_backoff(m->sync_failures++));
			log_warnx("matrix: cannot log in: HTTP %ld", r->status);
		} else {
			log_error("matrix: the homeserver refused the login of %s (HTTP %ld %s); "
			          "check [matrix] user_id and password",
			          m->user_id, r->status, root ? mx_errcode(root) : err);
			m->dead = true;
		}
		json_decref(root);
		return;
	}
	m->token = xstrdup(token);
	log_add_secret(m->token);
	device = json_string_value(json_object_get(root, "device_id"));
	log_info("matrix: logged in as %s (device %s)", m->user_id, device ? device : "?");
	if (device && m->device_id == NULL)
		m->device_id = xstrdup(device);
	if (m->store) {
		char *key = matrix_key(m, "access_token");

		if (store_kv_set(m->store, key, m->token) == -1)
			log_warnx("matrix: cannot keep the access token: %s",
			          store_errmsg(m->store));
		free(key);
	}
	json_decref(root);
	if (m->running)
		mx_ready(m);
}

static void
mx_login(struct matrix *m)
{
	json_t *body = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s}", "type", "m.login.password",
	                         "identifier", "type", "m.id.user", "user", m->user_id, "password",
	                         m->password, "initial_device_display_name", "usher");
	struct http_opts base;
	char *url = xasprintf("%s/_matrix/client/v3/login", m->hs);

	if (m->device_id)
		json_object_set_new(body, "device_id", json_string(m->device_id));
	memset(&base, 0, sizeof(base));
	base.timeout_ms = m->request_timeout_ms;

	m->login_call = http_start_json(m->http, "POST", url, NULL, body, &base, mx_login_done, m);
	free(url);
	json_decref(body);
}

/* ---- sending ---- */

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
	free(s->url);
	free(s->body);
	free(s);
}

static void
mx_send_finish(struct mx_send *s, int status, const char *event_id, const char *error)
{
	mx_send_unlink(s);
	if (status == 0 && event_id)
		matrix_room_add_own(s->m, s->room, event_id);
	if (status != 0)
		log_warnx("matrix: a message to %s was not delivered: %s", s->room, error);
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
		mx_send_retry(s, mx_backoff(s->tries - 1), r->error);
		return;
	}
	root = http_response_json(r, err, sizeof(err));
	event_id = json_string_value(json_object_get(root, "event_id"));
	if (r->status == 200 && event_id) {
		mx_send_finish(s, 0, event_id, NULL);
	} else if (r->status == 429) {
		mx_send_retry(s, mx_retry_after(r, root, 2000), "rate-limited (M_LIMIT_EXCEEDED)");
	} else if (r->status >= 500 || r->status == 200) {
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
		mx_send_retry(s, mx_backoff(s->tries - 1), why);
	} else {
		snprintf(why, sizeof(why), "HTTP %ld %s %s", r->status,
		         root ? mx_errcode(root) : "",
		         json_string_value(json_object_get(root, "error"))
		             ? json_string_value(json_object_get(root, "error"))
		             : "");
		if (r->status == 401)
			mx_token_refused(s->m, mx_errcode(root));
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

	if (m->token == NULL)
		return; /* mx_ready() starts it after the login */
	s->tries++;
	mx_opts(m, &o, &hdr, headers);
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

/* Starts sending `content` (borrowed) to `room`. */
static void
mx_send_content(struct matrix *m, const char *room, const json_t *content, gateway_done_cb *done,
                void *arg)
{
	struct mx_send *s = xcalloc(1, sizeof(*s));
	char *esc = mx_escape(room);

	s->m = m;
	s->room = xstrdup(room);
	s->url = xasprintf("%s/_matrix/client/v3/rooms/%s/send/m.room.message/usher.%llu.%lu",
	                   m->hs, esc, m->txn_base, ++m->txn_next);
	s->body = json_dumps(content, JSON_COMPACT);
	s->done = done;
	s->arg = arg;
	s->next = m->sends;
	m->sends = s;
	free(esc);
	mx_send_go(s);
}

/* body, formatted_body, msgtype and m.mentions for `out`. The mentioned
 * person is linked with a pill; when the text already starts with their
 * name (bot.c writes "Name: ..." in rooms) the name itself becomes the
 * pill. */
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

void
matrix_say(struct matrix *m, const char *room, const char *text)
{
	struct chat_out out = {.text = text};
	json_t *c = mx_content(m, room, &out);

	mx_send_content(m, room, c, NULL, NULL);
	json_decref(c);
}

static int
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
	mx_send_content(m, room, c, done, arg);
	json_decref(c);
	return 0;
}

static int
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
	mx_send_content(m, room, edit, done, arg);
	json_decref(edit);
	json_decref(c);
	free(body);
	free(html);
	return 0;
}

/* ---- the gateway ---- */

static int
matrix_init(struct gateway *gw, const struct config *cfg, char *err, size_t errlen)
{
	struct matrix *m;
	const char *hs = config_get(cfg, "matrix", "homeserver");
	const char *user = config_get(cfg, "matrix", "user_id");
	const char *token = config_get(cfg, "matrix", "access_token");
	const char *password = config_get(cfg, "matrix", "password");
	const char *device = config_get(cfg, "matrix", "device_id");
	const char *colon;
	struct timespec ts;
	char *val = NULL;

	if (hs == NULL || user == NULL || user[0] != '@' || (colon = strchr(user, ':')) == NULL) {
		snprintf(err, errlen,
		         "[matrix] needs homeserver and user_id (like @usher:example.org)");
		return -1;
	}
	if ((token == NULL || *token == '\0') && (password == NULL || *password == '\0')) {
		snprintf(err, errlen, "[matrix] needs access_token or password");
		return -1;
	}
	m = xcalloc(1, sizeof(*m));
	m->gw = gw;
	m->store = gateway_store(gw);
	m->hs = xstrdup(hs);
	while (m->hs[0] && m->hs[strlen(m->hs) - 1] == '/')
		m->hs[strlen(m->hs) - 1] = '\0';
	m->user_id = xstrdup(user);
	m->localpart = xstrndup(user + 1, (size_t)(colon - user - 1));
	if ((val = (char *)config_get(cfg, "usher", "name")) != NULL && *val)
		m->name = xstrdup(val);
	if ((val = (char *)config_get(cfg, "usher", "command_prefix")) != NULL && *val)
		m->prefix = xstrdup(val);
	val = NULL;
	if (token && *token) {
		m->token = xstrdup(token);
		m->token_from_config = true;
	}
	if (password && *password)
		m->password = xstrdup(password);
	if (device && *device)
		m->device_id = xstrdup(device);
	m->request_timeout_ms = config_get_int(cfg, "matrix", "request_timeout_ms");
	if (m->request_timeout_ms <= 0)
		m->request_timeout_ms = 20000;
	m->join_rooms = mx_split_list(config_get(cfg, "matrix", "rooms"), &m->njoin_rooms);
	for (size_t i = 0; i < config_person_count(cfg); i++) {
		size_t n;
		char **ids =
		    mx_split_list(config_person_get(cfg, config_person_name(cfg, i), "matrix"), &n);

		m->people = xrealloc(m->people, (m->npeople + n + 1) * sizeof(*m->people));
		for (size_t k = 0; k < n; k++)
			m->people[m->npeople++] = ids[k];
		free(ids);
	}
	m->filter_q = mx_escape(mx_filter);
	clock_gettime(CLOCK_REALTIME, &ts);
	m->txn_base =
	    (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
	m->direct = json_object();
	if (m->store) {
		char *key = matrix_key(m, "next_batch");

		if (store_kv_get(m->store, key, &val) == 0 && val && *val)
			m->since = val;
		else
			free(val);
		free(key);
		val = NULL;
		key = matrix_key(m, "direct");
		if (store_kv_get(m->store, key, &val) == 0 && val) {
			json_t *d = json_loads(val, 0, NULL);

			if (json_is_object(d)) {
				json_decref(m->direct);
				m->direct = d;
			} else {
				json_decref(d);
			}
		}
		free(val);
		free(key);
		if (m->token == NULL) {
			val = NULL;
			key = matrix_key(m, "access_token");
			if (store_kv_get(m->store, key, &val) == 0 && val && *val) {
				m->token = val;
				log_add_secret(m->token);
			} else {
				free(val);
			}
			free(key);
		}
	}
	m->http = http_new(gateway_loop(gw));
	gateway_set_impl(gw, m);
	return 0;
}

static int
matrix_start(struct gateway *gw)
{
	struct matrix *m = gateway_impl(gw);

	m->running = true;
	log_info("matrix: %s on %s, %s", m->user_id, m->hs,
	         m->since ? "resuming where the last run stopped" : "first run");
	if (m->token)
		mx_ready(m);
	else
		mx_login(m);
	return 0;
}

static void
matrix_stop(struct gateway *gw)
{
	struct matrix *m = gateway_impl(gw);

	m->running = false;
	http_cancel(m->sync_call);
	m->sync_call = NULL;
	http_cancel(m->login_call);
	m->login_call = NULL;
	if (m->sync_timer)
		loop_cancel_timer(gateway_loop(gw), m->sync_timer);
	m->sync_timer = 0;
}

static void
matrix_free_impl(struct gateway *gw)
{
	struct matrix *m = gateway_impl(gw);

	if (m == NULL)
		return;
	matrix_stop(gw);
	while (m->sends) {
		struct mx_send *s = m->sends;

		m->sends = s->next;
		http_cancel(s->call);
		if (s->timer)
			loop_cancel_timer(gateway_loop(gw), s->timer);
		mx_send_free(s);
	}
	while (m->aux) {
		struct mx_aux *a = m->aux;

		m->aux = a->next;
		http_cancel(a->call);
		free(a->room);
		free(a);
	}
	matrix_rooms_save(m);
	while (m->rooms) {
		struct mx_room *r = m->rooms;

		m->rooms = r->next;
		json_decref(r->state);
		free(r->id);
		free(r);
	}
	http_free(m->http);
	json_decref(m->direct);
	mx_free_list(m->people, m->npeople);
	mx_free_list(m->join_rooms, m->njoin_rooms);
	free(m->filter_q);
	free(m->since);
	free(m->hs);
	free(m->user_id);
	free(m->localpart);
	free(m->name);
	free(m->prefix);
	free(m->token);
	free(m->password);
	free(m->device_id);
	free(m);
	gateway_set_impl(gw, NULL);
}

const struct gateway_ops matrix_gateway_ops = {
    .name = "matrix",
    .caps = GATEWAY_CAN_EDIT | GATEWAY_CAN_HTML,
    .init = matrix_init,
    .start = matrix_start,
    .stop = matrix_stop,
    .send = matrix_send,
    .edit = matrix_edit,
    .free_impl = matrix_free_impl,
};
