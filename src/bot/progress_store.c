/*
 * progress_store: the tracked and followers rows behind progress.c. Rows
 * are written by the daemon and by `usher mcp` (progress_enqueue) on the
 * same SQLite file; the daemon adopts rows past the highest id it has
 * looked at, one rowid range query per cycle.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/progress_impl.h"
#include "core/log.h"
#include "core/store.h"
#include "core/util.h"

static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

static void
follower_free(struct follower *f)
{
	free(f->network);
	free(f->room);
	free(f->person);
	free(f->mention);
}

void
tracked_free(struct tracked *t)
{
	size_t i;

	follower_free(&t->who);
	for (i = 0; i < t->follower_count; i++)
		follower_free(&t->followers[i]);
	free(t->followers);
	free(t->label);
	free(t->text);
	free(t->progress_msg);
	free(t->records);
	free(t->episodes);
	free(t);
}

void
tracked_set_text(struct tracked *t, const char *text)
{
	char cut[PROGRESS_TEXT_MAX];

	strlcpy_u(cut, or_empty(text), sizeof(cut));
	free(t->text);
	t->text = xstrdup(cut);
}

void
follower_set(struct follower *f, const char *network, const char *room, const char *person,
             const char *mention, enum person_notify notify)
{
	f->network = xstrdup(or_empty(network));
	f->room = xstrdup(or_empty(room));
	f->person = xstrdup(or_empty(person));
	f->mention = mention ? xstrdup(mention) : NULL;
	f->notify = notify;
}

void
progress_store_close(struct progress *p)
{
	sqlite3_finalize(p->save_stmt);
	sqlite3_finalize(p->adopt_stmt);
	p->save_stmt = p->adopt_stmt = NULL;
}

/* A statement prepared once and kept: preparing costs more than running
 * a one-row UPDATE, and a cycle may save a thousand rows. */
static sqlite3_stmt *
progress_stmt(struct progress *p, sqlite3_stmt **slot, const char *sql)
{
	if (*slot == NULL &&
	    sqlite3_prepare_v3(store_db(p->store), sql, -1, SQLITE_PREPARE_PERSISTENT, slot,
	                       NULL) != SQLITE_OK) {
		log_warnx("store: cannot prepare progress statement: %s",
		          sqlite3_errmsg(store_db(p->store)));
		*slot = NULL;
	}
	return *slot;
}

void
tracked_save(struct tracked *t)
{
	struct progress *p = t->p;
	sqlite3_stmt *q;

	if (p == NULL || p->store == NULL)
		return;
	q = progress_stmt(p, &p->save_stmt,
	                  "UPDATE tracked SET seerr_request_id = ?, progress_msg = ?, state = ?,"
	                  " text = ?, step = ?, done = ?, percent = ?, tvdb_id = ?,"
	                  " updated_at = ? WHERE id = ?");
	if (q == NULL)
		return;
	sqlite3_bind_int64(q, 1, t->request_id);
	if (t->progress_msg)
		sqlite3_bind_text(q, 2, t->progress_msg, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 2);
	sqlite3_bind_int(q, 3, (int)t->state);
	sqlite3_bind_text(q, 4, t->text, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 5, t->step);
	sqlite3_bind_int(q, 6, t->done);
	sqlite3_bind_int(q, 7, t->floor_pct);
	sqlite3_bind_int64(q, 8, t->tvdb_id);
	sqlite3_bind_int64(q, 9, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(q, 10, t->id);
	if (sqlite3_step(q) != SQLITE_DONE)
		log_warnx("store: cannot save progress: %s", sqlite3_errmsg(store_db(p->store)));
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	t->dirty = false;
}

struct tracked *
progress_by_id(struct progress *p, sqlite3_int64 id)
{
	size_t lo = 0, hi = p->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->items[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->count && p->items[lo]->id == id ? p->items[lo] : NULL;
}

void
progress_insert_item(struct progress *p, struct tracked *t)
{
	size_t at = p->count;

	if (p->count == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->items = xrealloc(p->items, p->cap * sizeof(*p->items));
	}
	while (at > 0 && p->items[at - 1]->id > t->id)
		at--;
	memmove(&p->items[at + 1], &p->items[at], (p->count - at) * sizeof(*p->items));
	p->items[at] = t;
	p->count++;
}

static void
progress_load_followers(struct progress *p, struct tracked *t)
{
	sqlite3_stmt *q;

	if (sqlite3_prepare_v2(store_db(p->store),
	                       "SELECT network, room, person, mention, notify FROM followers"
	                       " WHERE tracked_id = ?",
	                       -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(q, 1, t->id);
	while (sqlite3_step(q) == SQLITE_ROW) {
		t->followers =
		    xrealloc(t->followers, (t->follower_count + 1) * sizeof(*t->followers));
		follower_set(&t->followers[t->follower_count++],
		             (const char *)sqlite3_column_text(q, 0),
		             (const char *)sqlite3_column_text(q, 1),
		             (const char *)sqlite3_column_text(q, 2),
		             (const char *)sqlite3_column_text(q, 3),
		             (enum person_notify)sqlite3_column_int(q, 4));
	}
	sqlite3_finalize(q);
}

static struct tracked *
tracked_from_row(struct progress *p, sqlite3_stmt *q)
{
	struct tracked *t = xcalloc(1, sizeof(*t));
	const char *kind = (const char *)sqlite3_column_text(q, 2);
	const char *text = (const char *)sqlite3_column_text(q, 12);
	const char *msg = (const char *)sqlite3_column_text(q, 10);

	t->p = p;
	t->id = sqlite3_column_int64(q, 0);
	t->request_id = (long)sqlite3_column_int64(q, 1);
	t->kind = kind && strcmp(kind, "tv") == 0 ? SEERR_TV : SEERR_MOVIE;
	t->tmdb_id = (long)sqlite3_column_int64(q, 3);
	t->is_4k = sqlite3_column_int(q, 4) != 0;
	t->label = xstrdup(or_empty((const char *)sqlite3_column_text(q, 5)));
	follower_set(
	    &t->who, (const char *)sqlite3_column_text(q, 6),
	    (const char *)sqlite3_column_text(q, 7), (const char *)sqlite3_column_text(q, 8),
	    (const char *)sqlite3_column_text(q, 9), (enum person_notify)sqlite3_column_int(q, 14));
	t->progress_msg = msg && msg[0] ? xstrdup(msg) : NULL;
	t->state = (enum progress_state)sqlite3_column_int(q, 11);
	tracked_set_text(t, text);
	t->step = sqlite3_column_int(q, 13);
	t->tvdb_id = (long)sqlite3_column_int64(q, 15);
	t->floor_pct = sqlite3_column_int(q, 16);
	return t;
}

size_t
progress_load_new(struct progress *p)
{
	sqlite3_stmt *q;
	size_t n = 0;
	int rc;

	if (p->store == NULL)
		return 0;
	/* A rowid range: cheap however many rows are done. */
	q = progress_stmt(p, &p->adopt_stmt,
	                  "SELECT id, seerr_request_id, kind, tmdb_id, is_4k, label, network,"
	                  " room, person, mention, progress_msg, state, text, step, notify,"
	                  " tvdb_id, percent FROM tracked WHERE id > ? AND done = 0 ORDER BY id");
	if (q == NULL)
		return 0;
	sqlite3_bind_int64(q, 1, p->max_row);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(q, 0);
		struct tracked *t;

		if (id > p->max_row)
			p->max_row = id;
		if (progress_by_id(p, id) != NULL)
			continue; /* tracked here (progress_track) */
		t = tracked_from_row(p, q);
		progress_load_followers(p, t);
		progress_insert_item(p, t);
		n++;
	}
	if (rc != SQLITE_DONE)
		log_warnx("store: cannot read tracked requests: %s",
		          sqlite3_errmsg(store_db(p->store)));
	sqlite3_reset(q);
	return n;
}

sqlite3_int64
progress_store_insert(struct store *store, const struct progress_item *it)
{
	sqlite3_stmt *q;
	time_t now = time(NULL);
	int rc;

	if (sqlite3_prepare_v2(store_db(store),
	                       "INSERT INTO tracked (seerr_request_id, kind, tmdb_id, is_4k, label,"
	                       " network, room, person, mention, created_at, updated_at, notify,"
	                       " tvdb_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                       -1, &q, NULL) != SQLITE_OK) {
		log_warnx("store: cannot follow a request: %s", sqlite3_errmsg(store_db(store)));
		return 0;
	}
	sqlite3_bind_int64(q, 1, it->seerr_request_id);
	sqlite3_bind_text(q, 2, it->kind == SEERR_TV ? "tv" : "movie", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, it->tmdb_id);
	sqlite3_bind_int(q, 4, it->is_4k);
	sqlite3_bind_text(q, 5, or_empty(it->label), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, or_empty(it->network), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, or_empty(it->room), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, or_empty(it->person), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 9, it->mention, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 10, (sqlite3_int64)now);
	sqlite3_bind_int64(q, 11, (sqlite3_int64)now);
	sqlite3_bind_int(q, 12, (int)it->notify);
	sqlite3_bind_int64(q, 13, it->tvdb_id);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		log_warnx("store: cannot follow a request: %s", sqlite3_errmsg(store_db(store)));
		return 0;
	}
	return sqlite3_last_insert_rowid(store_db(store));
}

int
progress_enqueue(struct store *store, const struct progress_item *item)
{
	return progress_store_insert(store, item) > 0 ? 0 : -1;
}

int
progress_store_follower(struct store *store, sqlite3_int64 id, const struct progress_item *it)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(store_db(store),
	                       "INSERT OR IGNORE INTO followers (tracked_id, network, room, person,"
	                       " mention, notify) VALUES (?, ?, ?, ?, ?, ?)",
	                       -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, or_empty(it->network), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, or_empty(it->room), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, or_empty(it->person), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, it->mention, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 6, (int)it->notify);
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(q);
	return rc;
}

sqlite3_int64
progress_store_latest(struct store *store, const char *network, const char *room, long long since,
                      bool *done, enum progress_state *state, char *label, size_t label_len)
{
	sqlite3_stmt *q;
	sqlite3_int64 id = 0;

	if (sqlite3_prepare_v2(store_db(store),
	                       "SELECT id, done, state, label FROM tracked WHERE network = ? AND"
	                       " room = ? AND created_at >= ? ORDER BY created_at DESC, id DESC"
	                       " LIMIT 1",
	                       -1, &q, NULL) != SQLITE_OK) {
		log_warnx("store: cannot read tracked requests: %s",
		          sqlite3_errmsg(store_db(store)));
		return 0;
	}
	sqlite3_bind_text(q, 1, or_empty(network), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, or_empty(room), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, since);
	if (sqlite3_step(q) == SQLITE_ROW) {
		id = sqlite3_column_int64(q, 0);
		*done = sqlite3_column_int(q, 1) != 0;
		*state = (enum progress_state)sqlite3_column_int(q, 2);
		strlcpy_u(label, or_empty((const char *)sqlite3_column_text(q, 3)), label_len);
	}
	sqlite3_finalize(q);
	return id;
}
