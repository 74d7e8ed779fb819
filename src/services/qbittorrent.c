#include "services/qbittorrent.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/http.h"
#include "core/jscan.h"
#include "core/log.h"
#include "core/util.h"
#include "services/service.h"

/* A full maindata reply is about 1.5 KB per torrent. */
#define QB_MAX_BODY    (32u * 1024 * 1024)
#define QB_MAX_HASH    128
#define QB_ETA_UNKNOWN 8640000LL /* MAX_ETA in qBittorrent's src/base/types.h */

struct qbittorrent {
	struct http *http;
	struct service_conf conf;
	char *username;
	char *password; /* NULL: no login (authentication bypassed for us) */
	char *cookie;   /* "SID=..." */
	long rid;
	struct qbittorrent_torrent *torrents; /* sorted by hash */
	size_t count, cap;
	struct qbittorrent_call *calls;
};

enum call_kind {
	CALL_SYNC,
	CALL_VERSION,
};

struct qbittorrent_call {
	struct qbittorrent *qb;
	struct qbittorrent_call *prev, *next;
	struct http_call *http;
	enum call_kind kind;
	bool relogged;   /* logged in again after a 403 already */
	bool delivering; /* inside the caller's callback */
	void (*cb)(void);
	void *arg;
};

static const struct {
	const char *name;
	enum qbittorrent_state state;
} states[] = {
    {"error", QBITTORRENT_ERROR},
    {"missingFiles", QBITTORRENT_MISSING_FILES},
    {"uploading", QBITTORRENT_UPLOADING},
    {"stoppedUP", QBITTORRENT_STOPPED_UP},
    {"pausedUP", QBITTORRENT_STOPPED_UP},
    {"queuedUP", QBITTORRENT_QUEUED_UP},
    {"stalledUP", QBITTORRENT_STALLED_UP},
    {"checkingUP", QBITTORRENT_CHECKING_UP},
    {"forcedUP", QBITTORRENT_FORCED_UP},
    {"downloading", QBITTORRENT_DOWNLOADING},
    {"metaDL", QBITTORRENT_META_DL},
    {"forcedMetaDL", QBITTORRENT_FORCED_META_DL},
    {"stoppedDL", QBITTORRENT_STOPPED_DL},
    {"pausedDL", QBITTORRENT_STOPPED_DL},
    {"queuedDL", QBITTORRENT_QUEUED_DL},
    {"stalledDL", QBITTORRENT_STALLED_DL},
    {"checkingDL", QBITTORRENT_CHECKING_DL},
    {"forcedDL", QBITTORRENT_FORCED_DL},
    {"allocating", QBITTORRENT_ALLOCATING},
    {"checkingResumeData", QBITTORRENT_CHECKING_RESUME_DATA},
    {"moving", QBITTORRENT_MOVING},
};

enum qbittorrent_state
qbittorrent_state_parse(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(states[i].name, s) == 0)
			return states[i].state;
	return QBITTORRENT_UNKNOWN;
}

const char *
qbittorrent_state_name(enum qbittorrent_state state)
{
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (states[i].state == state)
			return states[i].name;
	return "unknown";
}

bool
qbittorrent_state_is_download(enum qbittorrent_state state)
{
	switch (state) {
	case QBITTORRENT_DOWNLOADING:
	case QBITTORRENT_META_DL:
	case QBITTORRENT_FORCED_META_DL:
	case QBITTORRENT_STOPPED_DL:
	case QBITTORRENT_QUEUED_DL:
	case QBITTORRENT_STALLED_DL:
	case QBITTORRENT_CHECKING_DL:
	case QBITTORRENT_FORCED_DL:
	case QBITTORRENT_ALLOCATING:
		return true;
	default:
		return false;
	}
}

/* The torrent table: sorted by lower-case hash, binary searched. */

static void
lower_hash(char *out, const char *hash)
{
	size_t i;

	for (i = 0; hash[i] != '\0' && i < QB_MAX_HASH - 1; i++)
		out[i] = (char)tolower((unsigned char)hash[i]);
	out[i] = '\0';
}

/* Returns the index of `hash` (lower-case) or, in *at, where it would go. */
static bool
table_search(const struct qbittorrent *qb, const char *hash, size_t *at)
{
	size_t lo = 0, hi = qb->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(qb->torrents[mid].hash, hash);

		if (c == 0) {
			*at = mid;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return false;
}

static void
torrent_free(struct qbittorrent_torrent *t)
{
	free(t->hash);
	free(t->name);
	free(t->state_name);
	free(t->save_path);
	free(t->category);
}

static void
table_clear(struct qbittorrent *qb)
{
	for (size_t i = 0; i < qb->count; i++)
		torrent_free(&qb->torrents[i]);
	qb->count = 0;
}

static struct qbittorrent_torrent *
table_upsert(struct qbittorrent *qb, const char *hash)
{
	struct qbittorrent_torrent *t;
	size_t at;

	if (table_search(qb, hash, &at))
		return &qb->torrents[at];
	if (qb->count == qb->cap) {
		qb->cap = qb->cap ? qb->cap * 2 : 16;
		qb->torrents = xrealloc(qb->torrents, qb->cap * sizeof(*qb->torrents));
	}
	memmove(&qb->torrents[at + 1], &qb->torrents[at], (qb->count - at) * sizeof(*qb->torrents));
	qb->count++;
	t = &qb->torrents[at];
	memset(t, 0, sizeof(*t));
	t->hash = xstrdup(hash);
	t->name = xstrdup("");
	t->state_name = xstrdup("unknown");
	t->save_path = xstrdup("");
	t->category = xstrdup("");
	t->eta = -1;
	return t;
}

static void
table_remove(struct qbittorrent *qb, const char *hash)
{
	size_t at;

	if (!table_search(qb, hash, &at))
		return;
	torrent_free(&qb->torrents[at]);
	memmove(&qb->torrents[at], &qb->torrents[at + 1],
	        (qb->count - at - 1) * sizeof(*qb->torrents));
	qb->count--;
}

/* A maindata answer is read in place (core/jscan.h), not as a jansson
 * tree: with a thousand torrents the tree cost most of a progress cycle.
 * The first pass checks the whole answer and notes where its parts are;
 * only an answer that passes changes the table, in the second. */
struct maindata {
	long long rid;
	bool full;
	size_t torrents_at, removed_at; /* offsets of the values; SIZE_MAX: absent */
};

enum maindata_result {
	MAINDATA_OK = 0,
	MAINDATA_SYNTAX,    /* not JSON */
	MAINDATA_STRUCTURE, /* JSON, but not a maindata answer */
};

/* A whole number where jansson would give one: an integer, or a real
 * with an exact whole part (as service_json_integer()). False, with the
 * value read, for any other number; false, with nothing read, for what
 * is not a number. */
static bool
read_integer(struct jscan *s, long long *out)
{
	long long ll;
	bool is_int;
	double d;

	if (!jscan_number(s, &d, &ll, &is_int))
		return false;
	if (is_int) {
		*out = ll;
		return true;
	}
	return service_real_integer(d, out);
}

/* Replaces *dst by the string here; anything else is skipped. */
static void
read_str(struct jscan *s, char **dst)
{
	char *v = jscan_peek(s) == JSCAN_STRING ? jscan_string_dup(s) : NULL;

	if (v == NULL) {
		jscan_skip(s);
		return;
	}
	free(*dst);
	*dst = v;
}

/* A number here (else skipped) into *dst when it is a whole one. */
static void
read_ll(struct jscan *s, long long *dst)
{
	long long n;

	if (jscan_peek(s) != JSCAN_NUMBER)
		jscan_skip(s);
	else if (read_integer(s, &n))
		*dst = n;
}

/* Applies the fields of the torrent object here: a partial update carries
 * only the ones that changed. */
static void
torrent_read(struct jscan *s, struct qbittorrent_torrent *t)
{
	char key[16];
	size_t klen;
	long long n;
	double d;

	if (!jscan_object_begin(s))
		return;
	while (jscan_object_next(s, key, sizeof(key), &klen)) {
		if (klen >= sizeof(key))
			jscan_skip(s);
		else if (strcmp(key, "name") == 0)
			read_str(s, &t->name);
		else if (strcmp(key, "save_path") == 0)
			read_str(s, &t->save_path);
		else if (strcmp(key, "category") == 0)
			read_str(s, &t->category);
		else if (strcmp(key, "state") == 0 && jscan_peek(s) == JSCAN_STRING) {
			read_str(s, &t->state_name);
			t->state = qbittorrent_state_parse(t->state_name);
		} else if (strcmp(key, "progress") == 0 && jscan_number(s, &d, NULL, NULL))
			t->progress = d < 0 || d != d ? 0 : d > 1 ? 1 : d;
		else if (strcmp(key, "dlspeed") == 0)
			read_ll(s, &t->dlspeed);
		else if (strcmp(key, "upspeed") == 0)
			read_ll(s, &t->upspeed);
		else if (strcmp(key, "size") == 0)
			read_ll(s, &t->size);
		else if (strcmp(key, "amount_left") == 0)
			read_ll(s, &t->amount_left);
		else if (strcmp(key, "eta") == 0) {
			/* Present but unreadable is unknown too. */
			n = -1;
			read_ll(s, &n);
			t->eta = n < 0 || n >= QB_ETA_UNKNOWN ? -1 : n;
		} else if (strcmp(key, "num_seeds") == 0) {
			n = t->num_seeds;
			read_ll(s, &n);
			t->num_seeds = (long)n;
		} else if (strcmp(key, "num_leechs") == 0) {
			n = t->num_leechs;
			read_ll(s, &n);
			t->num_leechs = (long)n;
		} else
			jscan_skip(s);
	}
}

/* The first pass: the whole text is JSON, an object with an integer rid,
 * torrents (when there) an object of objects keyed by hashes that fit,
 * torrents_removed (when there) an array. Where a key comes twice the last
 * one counts, as with jansson. */
static enum maindata_result
maindata_check(const char *text, size_t len, struct maindata *md, char *err, size_t errlen)
{
	struct jscan s;
	char key[32], hash[QB_MAX_HASH];
	size_t klen, hlen, at, off;
	bool have_rid = false, full = false;
	const char *why;

	md->full = false;
	md->torrents_at = md->removed_at = SIZE_MAX;
	jscan_init(&s, text, len);
	if (!jscan_object_begin(&s))
		goto refused;
	while (jscan_object_next(&s, key, sizeof(key), &klen)) {
		at = (size_t)(s.p - text);
		if (klen >= sizeof(key)) {
			jscan_skip(&s);
		} else if (strcmp(key, "rid") == 0) {
			bool is_int = false;

			if (!jscan_number(&s, NULL, &md->rid, &is_int) || !is_int)
				goto refused;
			have_rid = true;
		} else if (strcmp(key, "full_update") == 0) {
			if (jscan_bool(&s, &full))
				md->full = full;
			else
				jscan_skip(&s);
		} else if (strcmp(key, "torrents") == 0) {
			if (!jscan_object_begin(&s))
				goto refused;
			md->torrents_at = at;
			while (jscan_object_next(&s, hash, sizeof(hash), &hlen)) {
				if (hlen == 0 || hlen >= sizeof(hash) ||
				    jscan_peek(&s) != JSCAN_OBJECT)
					goto refused;
				jscan_skip(&s);
			}
		} else if (strcmp(key, "torrents_removed") == 0) {
			if (jscan_peek(&s) != JSCAN_ARRAY)
				goto refused;
			md->removed_at = at;
			jscan_skip(&s);
		} else
			jscan_skip(&s);
	}
	if (!jscan_finish(&s)) {
		why = jscan_error(&s, &off);
		snprintf(err, errlen, "malformed JSON at byte %zu: %s", off, why);
		return MAINDATA_SYNTAX;
	}
	return have_rid ? MAINDATA_OK : MAINDATA_STRUCTURE;
refused:
	/* Still say which it was: broken JSON or an answer of another shape.
	 * Only a refused answer is read again, as plain JSON, to tell. */
	if (!jscan_failed(&s)) {
		jscan_init(&s, text, len);
		if (jscan_skip(&s) && jscan_finish(&s))
			return MAINDATA_STRUCTURE;
	}
	why = jscan_error(&s, &off);
	snprintf(err, errlen, "malformed JSON at byte %zu: %s", off, why);
	return MAINDATA_SYNTAX;
}

/* Merges one maindata answer; the table is untouched unless it is
 * MAINDATA_OK. `err` says what was wrong with a MAINDATA_SYNTAX one. */
static enum maindata_result
maindata_apply(struct qbittorrent *qb, const char *text, size_t len, char *err, size_t errlen)
{
	struct maindata md;
	enum maindata_result r = maindata_check(text, len, &md, err, errlen);
	char hash[QB_MAX_HASH], key[QB_MAX_HASH];
	struct jscan s;

	if (r != MAINDATA_OK)
		return r;
	if (md.full)
		table_clear(qb);
	if (md.torrents_at != SIZE_MAX) {
		jscan_init(&s, text + md.torrents_at, len - md.torrents_at);
		jscan_object_begin(&s);
		while (jscan_object_next(&s, hash, sizeof(hash), NULL)) {
			lower_hash(key, hash);
			torrent_read(&s, table_upsert(qb, key));
		}
	}
	if (md.removed_at != SIZE_MAX) {
		jscan_init(&s, text + md.removed_at, len - md.removed_at);
		jscan_array_begin(&s);
		while (jscan_array_next(&s)) {
			size_t hlen;

			if (jscan_peek(&s) != JSCAN_STRING)
				jscan_skip(&s);
			else if (jscan_string(&s, hash, sizeof(hash), &hlen) &&
			         hlen < sizeof(hash)) {
				lower_hash(key, hash);
				table_remove(qb, key);
			}
		}
	}
	qb->rid = (long)md.rid;
	return MAINDATA_OK;
}

const struct qbittorrent_torrent *
qbittorrent_find(const struct qbittorrent *qb, const char *hash)
{
	char key[QB_MAX_HASH];
	size_t at;

	if (hash == NULL || strlen(hash) >= QB_MAX_HASH)
		return NULL;
	lower_hash(key, hash);
	return table_search(qb, key, &at) ? &qb->torrents[at] : NULL;
}

size_t
qbittorrent_count(const struct qbittorrent *qb)
{
	return qb->count;
}

const struct qbittorrent_torrent *
qbittorrent_at(const struct qbittorrent *qb, size_t i)
{
	return i < qb->count ? &qb->torrents[i] : NULL;
}

long
qbittorrent_rid(const struct qbittorrent *qb)
{
	return qb->rid;
}

const char *
qbittorrent_session_cookie(const struct qbittorrent *qb)
{
	return qb->cookie;
}

struct qbittorrent *
qbittorrent_new(struct http *http, const struct config *cfg)
{
	struct qbittorrent *qb = xcalloc(1, sizeof(*qb));
	const char *user, *pass;

	if (!service_conf_load(&qb->conf, cfg, "qbittorrent")) {
		free(qb);
		return NULL;
	}
	qb->http = http;
	user = config_get(cfg, "qbittorrent", "username");
	pass = config_get(cfg, "qbittorrent", "password");
	qb->username = xstrdup(user ? user : "admin");
	if (pass != NULL && pass[0] != '\0')
		qb->password = xstrdup(pass);
	return qb;
}

static void
call_free(struct qbittorrent_call *c)
{
	struct qbittorrent *qb = c->qb;

	if (c->prev)
		c->prev->next = c->next;
	else
		qb->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

void
qbittorrent_cancel(struct qbittorrent_call *c)
{
	if (c == NULL || c->delivering)
		return;
	http_cancel(c->http);
	call_free(c);
}

void
qbittorrent_free(struct qbittorrent *qb)
{
	if (qb == NULL)
		return;
	while (qb->calls != NULL) {
		qb->calls->delivering = false;
		qbittorrent_cancel(qb->calls);
	}
	table_clear(qb);
	free(qb->torrents);
	service_conf_free(&qb->conf);
	free(qb->username);
	free(qb->password);
	free(qb->cookie);
	free(qb);
}

/* Calls the caller back and frees the call. */
static void
call_finish(struct qbittorrent_call *c, const struct service_result *res, const char *version)
{
	c->delivering = true;
	if (c->kind == CALL_SYNC)
		((qbittorrent_done_cb *)c->cb)(res, c->arg);
	else
		((qbittorrent_version_cb *)c->cb)(res, version, c->arg);
	call_free(c);
}

static void call_request(struct qbittorrent_call *c);

/* Keeps the session cookie from a login answer. qBittorrent up to 5.1
 * names it SID, 5.2 QBT_SID_<port>: take whatever it set. */
static void
keep_cookie(struct qbittorrent *qb, const struct http_response *resp)
{
	const char *set = http_response_header(resp, "Set-Cookie");
	size_t n;

	if (set == NULL)
		return;
	n = strcspn(set, ";");
	if (memchr(set, '=', n) == NULL || n > 4096)
		return;
	free(qb->cookie);
	qb->cookie = xstrndup(set, n);
	str_trim(qb->cookie);
}

static void
on_login(const struct http_response *resp, void *arg)
{
	struct qbittorrent_call *c = arg;
	struct qbittorrent *qb = c->qb;
	struct service_result res;
	char body[16];

	c->http = NULL;
	service_result_from_http(&res, "qBittorrent", resp);
	strlcpy_u(body, resp->body ? resp->body : "", sizeof(body));
	str_trim(body);
	if (res.error == SERVICE_OK && strcmp(body, "Fails.") == 0)
		service_result_set(&res, SERVICE_AUTH, resp->status,
		                   "qBittorrent rejected the username or password; check username "
		                   "and password in [qbittorrent]");
	else if (res.error == SERVICE_AUTH && resp->status == 401)
		service_result_set(&res, SERVICE_AUTH, resp->status,
		                   "qBittorrent rejected the username or password (401); check "
		                   "username and password in [qbittorrent]");
	else if (res.error == SERVICE_AUTH)
		service_result_set(
		    &res, SERVICE_AUTH, resp->status,
		    "qBittorrent has banned usher's address after too many failed "
		    "logins (403); fix the password and wait, or restart qBittorrent");
	if (res.error != SERVICE_OK) {
		call_finish(c, &res, NULL);
		return;
	}
	keep_cookie(qb, resp);
	call_request(c);
}

static void
call_login(struct qbittorrent_call *c)
{
	struct qbittorrent *qb = c->qb;
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	struct http_opts o = {0};
	char *user = service_url_encode(qb->username);
	char *pass = service_url_encode(qb->password);
	char *form = xasprintf("username=%s&password=%s", user, pass);
	char *url = service_url(qb->conf.url, "/api/v2/auth/login");

	service_conf_apply(&qb->conf, &o);
	o.method = "POST";
	o.url = url;
	o.headers = headers;
	o.body = form;
	o.body_len = strlen(form);
	o.max_body = 64 * 1024;
	c->http = http_start(qb->http, &o, on_login, c);
	/* The form held the password: don't leave it in freed memory. */
	explicit_bzero(form, strlen(form));
	explicit_bzero(pass, strlen(pass));
	free(form);
	free(pass);
	free(user);
	free(url);
}

static void
on_response(const struct http_response *resp, void *arg)
{
	struct qbittorrent_call *c = arg;
	struct qbittorrent *qb = c->qb;
	struct service_result res;
	char err[128];

	c->http = NULL;
	if (resp->result == HTTP_OK && resp->status == 403) {
		/* The session is gone (expired, logged out, server restarted):
		 * log in again, once, and repeat the call. */
		if (!c->relogged && qb->password != NULL) {
			c->relogged = true;
			free(qb->cookie);
			qb->cookie = NULL;
			call_login(c);
			return;
		}
		service_result_set(&res, SERVICE_AUTH, 403,
		                   qb->password
		                       ? "qBittorrent keeps refusing usher's session (403) "
		                         "even after logging in again"
		                       : "qBittorrent wants a login (403); set password in "
		                         "[qbittorrent]");
		call_finish(c, &res, NULL);
		return;
	}
	if (c->kind == CALL_VERSION) {
		char version[64];

		service_result_from_http(&res, "qBittorrent", resp);
		if (res.error != SERVICE_OK) {
			call_finish(c, &res, NULL);
			return;
		}
		strlcpy_u(version, resp->body, sizeof(version));
		str_trim(version);
		if (version[0] == '\0' || version[0] == '<' || version[0] == '{') {
			service_result_set(&res, SERVICE_BAD_RESPONSE, resp->status,
			                   "qBittorrent's version answer is not a version: is this "
			                   "qBittorrent's Web UI?");
			call_finish(c, &res, NULL);
			return;
		}
		call_finish(c, &res, version);
		return;
	}
	if (!service_body_may_be_json(&res, "qBittorrent", resp)) {
		call_finish(c, &res, NULL);
		return;
	}
	switch (maindata_apply(qb, resp->body, resp->body_len, err, sizeof(err))) {
	case MAINDATA_OK:
		break;
	case MAINDATA_SYNTAX:
		service_result_set(&res, SERVICE_BAD_RESPONSE, resp->status,
		                   "qBittorrent sent something usher can't read (%s)", err);
		break;
	case MAINDATA_STRUCTURE:
		service_result_set(&res, SERVICE_BAD_RESPONSE, resp->status,
		                   "qBittorrent sent torrent data usher can't read (no rid or "
		                   "a torrent that is not an object)");
		break;
	}
	call_finish(c, &res, NULL);
}

static void
call_request(struct qbittorrent_call *c)
{
	struct qbittorrent *qb = c->qb;
	char *cookie = qb->cookie ? xasprintf("Cookie: %s", qb->cookie) : NULL;
	const char *headers[] = {cookie, NULL};
	struct http_opts o = {0};
	char *url;

	if (c->kind == CALL_SYNC)
		url = service_url(qb->conf.url, "/api/v2/sync/maindata?rid=%ld", qb->rid);
	else
		url = service_url(qb->conf.url, "/api/v2/app/version");
	service_conf_apply(&qb->conf, &o);
	o.url = url;
	o.headers = headers;
	o.max_body = QB_MAX_BODY;
	c->http = http_start(qb->http, &o, on_response, c);
	free(url);
	free(cookie);
}

static struct qbittorrent_call *
call_start(struct qbittorrent *qb, enum call_kind kind, void (*cb)(void), void *arg)
{
	struct qbittorrent_call *c = xcalloc(1, sizeof(*c));

	c->qb = qb;
	c->kind = kind;
	c->cb = cb;
	c->arg = arg;
	c->next = qb->calls;
	if (qb->calls)
		qb->calls->prev = c;
	qb->calls = c;
	if (qb->cookie == NULL && qb->password != NULL)
		call_login(c);
	else
		call_request(c);
	return c;
}

struct qbittorrent_call *
qbittorrent_sync(struct qbittorrent *qb, qbittorrent_done_cb *cb, void *arg)
{
	return call_start(qb, CALL_SYNC, (void (*)(void))cb, arg);
}

struct qbittorrent_call *
qbittorrent_version(struct qbittorrent *qb, qbittorrent_version_cb *cb, void *arg)
{
	return call_start(qb, CALL_VERSION, (void (*)(void))cb, arg);
}
