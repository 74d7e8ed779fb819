/*
 * matrix: the Matrix gateway's HTTP side (see matrix.h and matrix_impl.h):
 * login, the /sync long-poll, joins and leaves, typing and read receipts;
 * sends live in matrix_send.c.
 */
#include "gateway/matrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
/* How long "typing" lasts if usher never says it stopped. */
#define MX_TYPING_TIMEOUT_MS "30000"

/* Only what usher acts on: messages, membership and encryption in rooms,
 * m.direct in account data. */
static const char mx_filter[] =
    "{\"room\":{\"timeline\":{\"limit\":50,\"types\":[\"m.room.message\",\"m.room.encrypted\","
    "\"m.room.member\",\"m.room.encryption\"]},\"state\":{\"types\":[\"m.room.member\","
    "\"m.room.encryption\"]},\"ephemeral\":{\"types\":[]},\"account_data\":{\"types\":[]}},"
    "\"presence\":{\"types\":[]},\"account_data\":{\"types\":[\"m.direct\"]}}";

enum mx_aux_kind { MX_JOIN, MX_LEAVE, MX_TYPING, MX_SEEN, MX_DIRECT };

/* A call nobody waits for: a join or leave, typing, a read receipt. */
struct mx_aux {
	struct matrix *m;
	enum mx_aux_kind kind;
	char *room;
	/* Typing: what to say when this call is done (-1 nothing, 0 off,
	 * 1 on), so an "off" never overtakes the "on" before it. */
	int then;
	struct http_call *call;
	struct mx_aux *next;
};

static void mx_sync(struct matrix *m);
static void mx_login(struct matrix *m);

char *
matrix_escape(const char *s)
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

void
matrix_http_opts(const struct matrix *m, struct http_opts *o, char **hdr, const char **headers)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = m->request_timeout_ms;
	*hdr = m->token ? xasprintf("Authorization: Bearer %s", m->token) : NULL;
	headers[0] = *hdr;
	headers[1] = NULL;
}

const char *
matrix_errcode(const json_t *body)
{
	const char *s = json_string_value(json_object_get(body, "errcode"));

	return s ? s : "";
}

long
matrix_retry_after(const struct http_response *r, const json_t *body, long dflt)
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

long
matrix_backoff(unsigned failures)
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
	long d = matrix_backoff(m->sync_failures++);

	log_warnx("matrix: sync failed (%s); trying again in %ld ms", why, d);
	mx_sync_later(m, d);
}

/* With a password, log in again; without one the configured token is dead
 * and only a person can fix it. */
void
matrix_token_refused(struct matrix *m, const char *errcode)
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
		mx_sync_later(m, matrix_backoff(m->sync_failures++));
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
		matrix_token_refused(m, matrix_errcode(root));
		json_decref(root);
		return;
	}
	if (r->status == 429) {
		long d = matrix_retry_after(r, root, 5000);

		log_warnx("matrix: sync rate-limited; waiting %ld ms", d);
		json_decref(root);
		mx_sync_later(m, d);
		return;
	}
	if (r->status != 200 || root == NULL) {
		char why[300];

		snprintf(why, sizeof(why), "HTTP %ld %s", r->status,
		         root ? matrix_errcode(root) : err);
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
	char *hdr, *since = m->since ? matrix_escape(m->since) : NULL;

	matrix_http_opts(m, &o, &hdr, headers);
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

/* ---- calls nobody waits for ---- */

static const char *const mx_aux_names[] = {[MX_JOIN] = "join",
                                           [MX_LEAVE] = "leave",
                                           [MX_TYPING] = "send typing to",
                                           [MX_SEEN] = "send a read receipt to",
                                           [MX_DIRECT] = "list as a direct chat"};

static void mx_typing_start(struct matrix *m, const char *room, bool on);

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
		log_warnx("matrix: cannot %s %s: %s", mx_aux_names[a->kind], a->room, r->error);
	else if (r->status != 200)
		log_warnx("matrix: cannot %s %s: HTTP %ld", mx_aux_names[a->kind], a->room,
		          r->status);
	else if (a->kind == MX_JOIN || a->kind == MX_LEAVE)
		log_info("matrix: %s %s", a->kind == MX_JOIN ? "joined" : "left", a->room);
	if (a->kind == MX_TYPING && a->then != -1)
		mx_typing_start(m, a->room, a->then == 1);
	free(a->room);
	free(a);
}

/* POSTs or PUTs `body` to `url` (both borrowed) for `room`. */
static struct mx_aux *
mx_aux_start(struct matrix *m, enum mx_aux_kind kind, const char *room, const char *method,
             const char *url, const char *body)
{
	struct mx_aux *a = xcalloc(1, sizeof(*a));
	struct http_opts o;
	const char *headers[3];
	char *hdr;

	a->m = m;
	a->kind = kind;
	a->room = xstrdup(room);
	a->then = -1;
	matrix_http_opts(m, &o, &hdr, headers);
	headers[1] = "Content-Type: application/json";
	headers[2] = NULL;
	o.method = method;
	o.url = url;
	o.headers = headers;
	o.body = body;
	o.body_len = strlen(body);
	a->call = http_start(m->http, &o, mx_aux_done, a);
	a->next = m->aux;
	m->aux = a;
	free(hdr);
	return a;
}

/* The call in flight for `room` whose kind is one of `kinds` (a mask of
 * 1 << kind), or NULL. */
static struct mx_aux *
mx_aux_find(struct matrix *m, const char *room, unsigned kinds)
{
	for (struct mx_aux *a = m->aux; a; a = a->next)
		if ((kinds & (1u << a->kind)) && strcmp(a->room, room) == 0)
			return a;
	return NULL;
}

void
matrix_membership(struct matrix *m, const char *room, bool join)
{
	char *esc, *url;

	if (m->token == NULL || mx_aux_find(m, room, 1u << MX_JOIN | 1u << MX_LEAVE) != NULL)
		return;
	esc = matrix_escape(room);
	url = join ? xasprintf("%s/_matrix/client/v3/join/%s", m->hs, esc)
	           : xasprintf("%s/_matrix/client/v3/rooms/%s/leave", m->hs, esc);
	mx_aux_start(m, join ? MX_JOIN : MX_LEAVE, room, "POST", url, "{}");
	free(url);
	free(esc);
}

static void
mx_typing_start(struct matrix *m, const char *room, bool on)
{
	char *esc = matrix_escape(room), *user = matrix_escape(m->user_id);
	char *url = xasprintf("%s/_matrix/client/v3/rooms/%s/typing/%s", m->hs, esc, user);

	mx_aux_start(m, MX_TYPING, room, "PUT", url,
	             on ? "{\"typing\":true,\"timeout\":" MX_TYPING_TIMEOUT_MS "}"
	                : "{\"typing\":false}");
	free(url);
	free(user);
	free(esc);
}

void
matrix_add_direct(struct matrix *m, const char *user, const char *room)
{
	json_t *rooms = json_object_get(m->direct, user);
	char *me, *url, *body;
	size_t i;
	json_t *v;

	if (!json_is_array(rooms)) {
		rooms = json_array();
		json_object_set_new(m->direct, user, rooms);
	}
	json_array_foreach(rooms, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), room) == 0)
			return;
	}
	json_array_append_new(rooms, json_string(room));
	matrix_kv_save(m, "direct", m->direct);
	if (m->token == NULL)
		return;
	me = matrix_escape(m->user_id);
	url = xasprintf("%s/_matrix/client/v3/user/%s/account_data/m.direct", m->hs, me);
	body = json_dumps(m->direct, JSON_COMPACT);
	mx_aux_start(m, MX_DIRECT, room, "PUT", url, body);
	free(body);
	free(url);
	free(me);
}

static void
matrix_typing(struct gateway *gw, const char *room, bool on)
{
	struct matrix *m = gateway_impl(gw);
	struct mx_aux *a;

	if (m->token == NULL || m->dead || room == NULL || *room != '!')
		return;
	if ((a = mx_aux_find(m, room, 1u << MX_TYPING)) != NULL)
		a->then = on;
	else
		mx_typing_start(m, room, on);
}

static void
matrix_seen(struct gateway *gw, const char *room, const char *msg_id)
{
	struct matrix *m = gateway_impl(gw);
	char *esc, *ev, *url;

	if (m->token == NULL || m->dead || room == NULL || *room != '!' || msg_id == NULL ||
	    *msg_id != '$')
		return;
	esc = matrix_escape(room);
	ev = matrix_escape(msg_id);
	url = xasprintf("%s/_matrix/client/v3/rooms/%s/receipt/m.read/%s", m->hs, esc, ev);
	mx_aux_start(m, MX_SEEN, room, "POST", url, "{}");
	free(url);
	free(ev);
	free(esc);
}

/* ---- login ---- */

static void
mx_ready(struct matrix *m)
{
	matrix_send_resume(m);
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
		long d = matrix_backoff(m->sync_failures++);

		log_warnx("matrix: cannot log in (%s); trying again in %ld ms", r->error, d);
		mx_sync_later(m, d);
		return;
	}
	root = http_response_json(r, err, sizeof(err));
	if (r->status == 429) {
		long d = matrix_retry_after(r, root, 5000);

		log_warnx("matrix: login rate-limited; waiting %ld ms", d);
		mx_sync_later(m, d);
		json_decref(root);
		return;
	}
	token = json_string_value(json_object_get(root, "access_token"));
	if (r->status != 200 || token == NULL || *token == '\0') {
		if (r->status >= 500) {
			mx_sync_later(m, matrix_backoff(m->sync_failures++));
			log_warnx("matrix: cannot log in: HTTP %ld", r->status);
		} else {
			log_error("matrix: the homeserver refused the login of %s (HTTP %ld %s); "
			          "check [matrix] user_id and password",
			          m->user_id, r->status, root ? matrix_errcode(root) : err);
			m->dead = true;
		}
		json_decref(root);
		return;
	}
	m->token = xstrdup(token);
	log_add_secret(m->token);
	device = json_string_value(json_object_get(root, "device_id"));
	log_event(LOG_LEVEL_INFO, "logged_in", LOG_STR("network", "matrix"),
	          LOG_STR("as", m->user_id), LOG_STR("device", device));
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
	char *val = NULL;
	json_t *d;

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
	m->filter_q = matrix_escape(mx_filter);
	m->direct = json_object();
	if (m->store) {
		char *key = matrix_key(m, "next_batch");

		if (store_kv_get(m->store, key, &val) == 0 && val && *val)
			m->since = val;
		else
			free(val);
		free(key);
		if ((d = matrix_kv_load(m, "direct")) != NULL) {
			json_decref(m->direct);
			m->direct = d;
		}
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
	matrix_send_init(m);
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
	matrix_send_free(m);
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
    .typing = matrix_typing,
    .seen = matrix_seen,
    .send_direct = matrix_send_direct,
    .free_impl = matrix_free_impl,
};
