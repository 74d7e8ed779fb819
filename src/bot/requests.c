#include "bot/requests.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/util.h"

#define REQUESTS_RETRY_FIRST_MS 2000
#define REQUESTS_RETRY_MAX_MS   (5 * 60 * 1000)
/* How many of the person's requests are read to find one already made. */
#define REQUESTS_LOOKBACK 100

struct order {
	struct requests *r;
	sqlite3_int64 id;
	char *network;
	char *room;
	char *person;
	char *reply_to;
	long seerr_user;
	char title[SEERR_TITLE_MAX + 256]; /* "season 2 of The Bear (2022)" */
	struct seerr_new_request what;
	int attempts;
	bool told_waiting;
	struct seerr_call *call;
	loop_timer_id retry;
	void (*said)(void *arg);
	void *said_arg;
	struct order *next;
};

struct requests {
	struct loop *loop;
	struct store *store;
	struct seerr *seerr;
	requests_say_fn *say;
	void *say_arg;
	requests_made_fn *made;
	void *made_arg;
	struct order *orders;
};

static void order_attempt(struct order *o);

void
requests_format_title(char *out, size_t outlen, const char *title, int year)
{
	if (year > 0)
		snprintf(out, outlen, "%s (%d)", title, year);
	else
		snprintf(out, outlen, "%s", title);
}

struct requests *
requests_new(struct loop *loop, struct store *store, struct seerr *seerr, requests_say_fn *say,
             void *say_arg)
{
	struct requests *r = xcalloc(1, sizeof(*r));

	r->loop = loop;
	r->store = store;
	r->seerr = seerr;
	r->say = say;
	r->say_arg = say_arg;
	return r;
}

static void
order_free(struct order *o)
{
	if (o->said)
		o->said(o->said_arg);
	if (o->call)
		seerr_cancel(o->call);
	if (o->retry)
		loop_cancel_timer(o->r->loop, o->retry);
	free(o->network);
	free(o->room);
	free(o->person);
	free(o->reply_to);
	free(o);
}

void
requests_free(struct requests *r)
{
	struct order *o, *next;

	if (r == NULL)
		return;
	for (o = r->orders; o; o = next) {
		next = o->next;
		order_free(o);
	}
	free(r);
}

void
requests_on_made(struct requests *r, requests_made_fn *made, void *arg)
{
	r->made = made;
	r->made_arg = arg;
}

size_t
requests_unsettled(const struct requests *r)
{
	const struct order *o;
	size_t n = 0;

	for (o = r->orders; o; o = o->next)
		n++;
	return n;
}

static void
order_unlink(struct order *o)
{
	struct order **pp;

	for (pp = &o->r->orders; *pp; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			return;
		}
	}
}

static void
seasons_encode(const struct seerr_new_request *w, char *out, size_t outlen)
{
	struct buf b;
	int i;

	if (w->all_seasons) {
		snprintf(out, outlen, "all");
		return;
	}
	buf_init(&b, 0);
	for (i = 0; i < w->seasons_len; i++)
		buf_printf(&b, "%s%d", i ? "," : "", w->seasons[i]);
	snprintf(out, outlen, "%s", b.data ? b.data : "");
	buf_free(&b);
}

static void
seasons_decode(const char *text, struct seerr_new_request *w)
{
	const char *p = text;

	w->all_seasons = strcmp(text, "all") == 0;
	w->seasons_len = 0;
	while (!w->all_seasons && *p && w->seasons_len < SEERR_SEASONS_MAX) {
		char *end;
		long n = strtol(p, &end, 10);

		if (end == p)
			break;
		w->seasons[w->seasons_len++] = (int)n;
		p = *end == ',' ? end + 1 : end;
	}
}

static int
order_update(struct order *o, const char *state, long seerr_id)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(o->r->store,
	                    "UPDATE requests SET state = ?, seerr_request_id = ?, attempts = ?,"
	                    " told_waiting = ?, updated_at = ? WHERE id = ?")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, state, -1, SQLITE_STATIC);
	if (seerr_id > 0)
		sqlite3_bind_int64(q, 2, seerr_id);
	else
		sqlite3_bind_null(q, 2);
	sqlite3_bind_int(q, 3, o->attempts);
	sqlite3_bind_int(q, 4, o->told_waiting);
	sqlite3_bind_int64(q, 5, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(q, 6, o->id);
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	if (rc == -1)
		log_warnx("store: cannot update request %lld: %s", (long long)o->id,
		          sqlite3_errmsg(store_db(o->r->store)));
	store_stmt_done(o->r->store, q);
	return rc;
}

/* The answer is recorded as owed before it is said and marked told right
 * after, so a crash in between repeats it at the next start rather than
 * losing it: a person may rarely hear it twice, never not at all. */
static void
order_record_settled(struct order *o, const char *state, long seerr_id, const char *text)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(o->r->store,
	                    "UPDATE requests SET state = ?, seerr_request_id = ?, reply = ?,"
	                    " told = 0, updated_at = ? WHERE id = ?")) == NULL) {
		log_warnx("store: cannot settle request %lld: %s", (long long)o->id,
		          sqlite3_errmsg(store_db(o->r->store)));
		return;
	}
	sqlite3_bind_text(q, 1, state, -1, SQLITE_STATIC);
	if (seerr_id > 0)
		sqlite3_bind_int64(q, 2, seerr_id);
	else
		sqlite3_bind_null(q, 2);
	sqlite3_bind_text(q, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(q, 5, o->id);
	if (sqlite3_step(q) != SQLITE_DONE)
		log_warnx("store: cannot settle request %lld: %s", (long long)o->id,
		          sqlite3_errmsg(store_db(o->r->store)));
	store_stmt_done(o->r->store, q);
}

static void
order_told(struct requests *r, sqlite3_int64 id)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(r->store, "UPDATE requests SET told = 1 WHERE id = ?")) == NULL)
		return;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_step(q);
	store_stmt_done(r->store, q);
}

/* Says `text`; a settled answer (`settled`) is marked told at once, before
 * the turn that waited for it goes on: the narrower the gap between saying
 * and marking, the rarer a crash makes the next start say it again. */
static void
order_say(struct order *o, const char *text, bool settled)
{
	void (*said)(void *) = o->said;

	o->r->say(o->r->say_arg, o->network, o->room, o->reply_to, text);
	if (settled)
		order_told(o->r, o->id);
	o->said = NULL;
	if (said)
		said(o->said_arg);
}

/* Says what a previous run settled but died before saying. */
static void
requests_say_owed(struct requests *r)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(r->store, "SELECT id, network, room, reply_to, reply FROM requests"
	                              " WHERE told = 0 AND state != 'queued' AND reply IS NOT NULL"
	                              " ORDER BY id")) == NULL)
		return;
	while (sqlite3_step(q) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(q, 0);

		log_info("request %lld: saying what the last run could not", (long long)id);
		r->say(r->say_arg, (const char *)sqlite3_column_text(q, 1),
		       (const char *)sqlite3_column_text(q, 2),
		       (const char *)sqlite3_column_text(q, 3),
		       (const char *)sqlite3_column_text(q, 4));
		order_told(r, id);
	}
	store_stmt_done(r->store, q);
}

/* The order reached a final answer: record it, then tell the person; a
 * request that exists in Seerr is handed on to be followed. */
static void
order_settle(struct order *o, const char *state, long seerr_id, const char *text)
{
	order_record_settled(o, state, seerr_id, text);
	if (o->r->made && (strcmp(state, "created") == 0 || strcmp(state, "duplicate") == 0)) {
		struct request_made m = {
		    .network = o->network,
		    .room = o->room,
		    .person = o->person,
		    .label = o->title,
		    .seerr_request_id = seerr_id,
		    .what = o->what,
		};
		o->r->made(o->r->made_arg, &m);
	}
	log_info("request %lld for %s (%s): %s", (long long)o->id, o->person, o->title, state);
	order_unlink(o);
	order_say(o, text, true);
	order_free(o);
}

static void
order_retry_fire(struct loop *loop, loop_timer_id id, void *arg)
{
	struct order *o = arg;

	(void)loop;
	(void)id;
	o->retry = 0;
	order_attempt(o);
}

/* Seerr could not be asked: keep the order, tell the person once, try
 * again later. */
static void
order_wait(struct order *o, const struct service_result *res)
{
	long delay = REQUESTS_RETRY_FIRST_MS;
	int i;

	o->attempts++;
	for (i = 1; i < o->attempts && delay < REQUESTS_RETRY_MAX_MS; i++)
		delay *= 2;
	if (delay > REQUESTS_RETRY_MAX_MS)
		delay = REQUESTS_RETRY_MAX_MS;
	log_warnx("request %lld (%s): %s; retrying in %ld s", (long long)o->id, o->title,
	          res->message, delay / 1000);
	if (!o->told_waiting) {
		char text[1280];

		o->told_waiting = true;
		order_update(o, "queued", 0);
		snprintf(text, sizeof(text),
		         "I can't reach Overseerr right now (%s). I've saved your request for %s "
		         "and will send it as soon as it's back.",
		         res->message, o->title);
		order_say(o, text, false);
	} else {
		order_update(o, "queued", 0);
	}
	o->retry = loop_add_timer(o->r->loop, (uint64_t)delay, order_retry_fire, o);
}

static bool
order_retriable(enum service_error e)
{
	return e == SERVICE_UNREACHABLE || e == SERVICE_SERVER || e == SERVICE_BAD_RESPONSE ||
	       e == SERVICE_AUTH || e == SERVICE_TLS;
}

static void
order_created(void *arg, const struct service_result *res, enum seerr_create_outcome outcome,
              const struct seerr_request *req)
{
	struct order *o = arg;
	const char *back = o->told_waiting ? "Overseerr is back: " : "";
	char text[1280];

	o->call = NULL;
	switch (outcome) {
	case SEERR_CREATED:
		snprintf(text, sizeof(text), "%sRequested %s for you. %s", back, o->title,
		         req && req->status == SEERR_REQ_PENDING
		             ? "It's waiting for an admin to approve it; I'll keep you posted."
		             : "I'll keep you posted.");
		order_settle(o, "created", req ? req->id : 0, text);
		return;
	case SEERR_ALREADY_REQUESTED:
		snprintf(text, sizeof(text), "%s%s was already requested, so I didn't ask again.",
		         back, o->title);
		order_settle(o, "duplicate", 0, text);
		return;
	case SEERR_NOTHING_TO_REQUEST:
		snprintf(text, sizeof(text),
		         "%sEvery season of %s you asked for is already requested or there to "
		         "watch.",
		         back, o->title);
		order_settle(o, "nothing", 0, text);
		return;
	case SEERR_NOT_ALLOWED:
		snprintf(text, sizeof(text), "%sOverseerr didn't accept the request for %s: %s",
		         back, o->title, res->message);
		order_settle(o, "refused", 0, text);
		return;
	case SEERR_CREATE_FAILED:
		break;
	}
	if (order_retriable(res->error)) {
		order_wait(o, res);
		return;
	}
	snprintf(text, sizeof(text), "%sOverseerr didn't accept the request for %s: %s", back,
	         o->title, res->message);
	order_settle(o, "refused", 0, text);
}

static bool
order_matches(const struct order *o, const struct seerr_request *q)
{
	int i, j;

	if (q->kind != o->what.kind || q->tmdb_id != o->what.tmdb_id || q->is_4k != o->what.is_4k ||
	    q->status == SEERR_REQ_DECLINED)
		return false;
	if (o->what.kind == SEERR_MOVIE)
		return true;
	if (o->what.all_seasons)
		return false; /* "all" can always add what is missing */
	for (i = 0; i < o->what.seasons_len; i++) {
		bool found = false;

		for (j = 0; j < q->seasons_len; j++)
			found |= q->seasons[j] == o->what.seasons[i];
		if (!found)
			return false;
	}
	return true;
}

/* Another order of ours already settled on this Seerr request: the person
 * sent the message again (after a restart, say) and the search behind it
 * was answered before that order settled. Saying "Requested" twice would
 * be wrong. */
static bool
order_settled_before(const struct order *o, long seerr_id)
{
	sqlite3_stmt *q;
	bool found;

	if (seerr_id <= 0 ||
	    (q = store_stmt(o->r->store,
	                    "SELECT 1 FROM requests WHERE seerr_request_id = ? AND id != ? AND "
	                    "state = 'created'")) == NULL)
		return false;
	sqlite3_bind_int64(q, 1, seerr_id);
	sqlite3_bind_int64(q, 2, o->id);
	found = sqlite3_step(q) == SQLITE_ROW;
	store_stmt_done(o->r->store, q);
	return found;
}

static void
order_existing(void *arg, const struct service_result *res, const struct seerr_request *items,
               size_t count, long total)
{
	struct order *o = arg;
	size_t i;

	(void)total;
	o->call = NULL;
	if (res->error != SERVICE_OK) {
		if (order_retriable(res->error)) {
			order_wait(o, res);
			return;
		}
		/* Can't look: creating is still safe, Seerr refuses duplicates. */
	}
	for (i = 0; res->error == SERVICE_OK && i < count; i++) {
		if (order_matches(o, &items[i])) {
			char text[1280];

			if (order_settled_before(o, items[i].id)) {
				snprintf(text, sizeof(text),
				         "%s%s was already requested, so I didn't ask again.",
				         o->told_waiting ? "Overseerr is back: " : "", o->title);
				order_settle(o, "repeat", items[i].id, text);
				return;
			}
			snprintf(text, sizeof(text),
			         "%sRequested %s for you. I'll keep you posted.",
			         o->told_waiting ? "Overseerr is back: " : "", o->title);
			order_settle(o, "created", items[i].id, text);
			return;
		}
	}
	o->call = seerr_create_request(o->r->seerr, o->seerr_user, &o->what, order_created, o);
}

static void
order_attempt(struct order *o)
{
	o->call = seerr_list_requests(o->r->seerr, o->seerr_user, SEERR_FILTER_ALL, o->seerr_user,
	                              REQUESTS_LOOKBACK, 0, order_existing, o);
}

/* "Oppenheimer (2023) in 4K", "season 2 of The Bear (2022)". */
static void
order_describe(char *out, size_t outlen, const char *title, int year,
               const struct seerr_new_request *w)
{
	char label[SEERR_TITLE_MAX + 16];
	struct buf b;
	int i;

	requests_format_title(label, sizeof(label), title, year);
	buf_init(&b, 0);
	if (w->kind == SEERR_TV && !w->all_seasons && w->seasons_len > 0) {
		buf_printf(&b, "season%s ", w->seasons_len > 1 ? "s" : "");
		for (i = 0; i < w->seasons_len; i++)
			buf_printf(&b, "%s%d",
			           i == 0                    ? ""
			           : i == w->seasons_len - 1 ? " and "
			                                     : ", ",
			           w->seasons[i]);
		buf_printf(&b, " of ");
	} else if (w->kind == SEERR_TV && w->all_seasons) {
		buf_printf(&b, "every season of ");
	}
	buf_append_str(&b, label);
	if (w->is_4k)
		buf_append_str(&b, " in 4K");
	snprintf(out, outlen, "%s", b.data);
	buf_free(&b);
}

static struct order *
order_new(struct requests *r, sqlite3_int64 id, const char *network, const char *room,
          const char *person, const char *reply_to, long seerr_user, const char *title, int year,
          const struct seerr_new_request *what)
{
	struct order *o = xcalloc(1, sizeof(*o));

	o->r = r;
	o->id = id;
	o->network = xstrdup(network);
	o->room = xstrdup(room);
	o->person = xstrdup(person);
	o->reply_to = xstrdup(reply_to);
	o->seerr_user = seerr_user;
	order_describe(o->title, sizeof(o->title), title, year, what);
	o->what = *what;
	o->next = r->orders;
	r->orders = o;
	return o;
}

/* The same person asking again for what an unsettled order already sends
 * (a message re-sent after a restart): a second order would race the first
 * past the look-up and ask Seerr twice. */
static struct order *
order_find_same(struct requests *r, const struct request_order *ro, const char *seasons)
{
	struct order *o;
	char other[256];

	for (o = r->orders; o; o = o->next) {
		if (o->seerr_user != ro->seerr_user || o->what.kind != ro->what.kind ||
		    o->what.tmdb_id != ro->what.tmdb_id || o->what.is_4k != ro->what.is_4k)
			continue;
		seasons_encode(&o->what, other, sizeof(other));
		if (strcmp(other, seasons) == 0)
			return o;
	}
	return NULL;
}

int
requests_submit(struct requests *r, const struct request_order *ro)
{
	sqlite3_stmt *q;
	struct order *o;
	char seasons[256];
	time_t now = time(NULL);
	int rc;

	seasons_encode(&ro->what, seasons, sizeof(seasons));
	if ((o = order_find_same(r, ro, seasons)) != NULL) {
		char text[1280];

		snprintf(text, sizeof(text),
		         "I'm already sending your request for %s; I'll tell you when Overseerr "
		         "has it.",
		         o->title);
		r->say(r->say_arg, ro->network, ro->room, ro->reply_to, text);
		if (ro->said)
			ro->said(ro->said_arg);
		return 0;
	}
	if ((q = store_stmt(r->store,
	                    "INSERT INTO requests (network, room, person, reply_to, kind, "
	                    "tmdb_id, title, year, seasons, is_4k, state, created_at, "
	                    "updated_at, seerr_user) "
	                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)")) == NULL) {
		log_warnx("store: cannot save a request: %s", sqlite3_errmsg(store_db(r->store)));
		return -1;
	}
	sqlite3_bind_text(q, 1, ro->network, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, ro->room, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, ro->person, -1, SQLITE_STATIC);
	if (ro->reply_to)
		sqlite3_bind_text(q, 4, ro->reply_to, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, ro->what.kind == SEERR_TV ? "tv" : "movie", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, ro->what.tmdb_id);
	sqlite3_bind_text(q, 7, ro->title, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 8, ro->year);
	sqlite3_bind_text(q, 9, seasons, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 10, ro->what.is_4k);
	sqlite3_bind_int64(q, 11, (sqlite3_int64)now);
	sqlite3_bind_int64(q, 12, (sqlite3_int64)now);
	sqlite3_bind_int64(q, 13, ro->seerr_user);
	rc = sqlite3_step(q);
	if (rc != SQLITE_DONE)
		log_warnx("store: cannot save a request: %s", sqlite3_errmsg(store_db(r->store)));
	store_stmt_done(r->store, q);
	if (rc != SQLITE_DONE)
		return -1;
	o = order_new(r, sqlite3_last_insert_rowid(store_db(r->store)), ro->network, ro->room,
	              ro->person, ro->reply_to, ro->seerr_user, ro->title, ro->year, &ro->what);
	o->said = ro->said;
	o->said_arg = ro->said_arg;
	order_attempt(o);
	return 0;
}

void
requests_resume(struct requests *r)
{
	sqlite3_stmt *q;

	requests_say_owed(r);
	if ((q = store_stmt(r->store,
	                    "SELECT id, network, room, person, reply_to, seerr_user, kind, "
	                    "tmdb_id, title, year, seasons, is_4k, attempts, told_waiting "
	                    "FROM requests WHERE state = 'queued' ORDER BY id")) == NULL) {
		log_warnx("store: cannot read waiting requests: %s",
		          sqlite3_errmsg(store_db(r->store)));
		return;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct seerr_new_request what;
		struct order *o;
		const char *kind = (const char *)sqlite3_column_text(q, 6);
		const char *seasons = (const char *)sqlite3_column_text(q, 10);

		memset(&what, 0, sizeof(what));
		what.kind = kind && strcmp(kind, "tv") == 0 ? SEERR_TV : SEERR_MOVIE;
		what.tmdb_id = (long)sqlite3_column_int64(q, 7);
		seasons_decode(seasons ? seasons : "", &what);
		what.is_4k = sqlite3_column_int(q, 11) != 0;
		o = order_new(
		    r, sqlite3_column_int64(q, 0), (const char *)sqlite3_column_text(q, 1),
		    (const char *)sqlite3_column_text(q, 2),
		    (const char *)sqlite3_column_text(q, 3),
		    (const char *)sqlite3_column_text(q, 4), (long)sqlite3_column_int64(q, 5),
		    (const char *)sqlite3_column_text(q, 8), sqlite3_column_int(q, 9), &what);
		o->attempts = sqlite3_column_int(q, 12);
		o->told_waiting = sqlite3_column_int(q, 13) != 0;
		log_info("request %lld for %s (%s): still to send, sending now", (long long)o->id,
		         o->person, o->title);
		order_attempt(o);
	}
	store_stmt_done(r->store, q);
}
