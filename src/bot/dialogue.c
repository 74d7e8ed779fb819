#include "bot/dialogue.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/store.h"
#include "core/util.h"

/* The stored form is a small JSON object; it is usher's own data, read
 * back as carefully as anything else in case the file was damaged. */

static json_t *
dialogue_choice_json(const struct dialogue_choice *c)
{
	return json_pack("{s:i, s:I, s:s, s:i, s:i}", "kind", (int)c->kind, "tmdb",
	                 (json_int_t)c->tmdb_id, "title", c->title, "year", c->year, "status",
	                 (int)c->status);
}

static void
dialogue_choice_read(json_t *j, struct dialogue_choice *c)
{
	memset(c, 0, sizeof(*c));
	c->kind =
	    json_integer_value(json_object_get(j, "kind")) == SEERR_TV ? SEERR_TV : SEERR_MOVIE;
	c->tmdb_id = (long)json_integer_value(json_object_get(j, "tmdb"));
	strlcpy_u(c->title, json_string_value(json_object_get(j, "title")) ?: "", sizeof(c->title));
	c->year = (int)json_integer_value(json_object_get(j, "year"));
	c->status = (enum seerr_media_status)json_integer_value(json_object_get(j, "status"));
}

static json_t *
dialogue_ints_json(const int *v, int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

static int
dialogue_ints_read(json_t *a, int *v, int max)
{
	size_t i;
	int n = 0;

	for (i = 0; i < json_array_size(a) && n < max; i++)
		v[n++] = (int)json_integer_value(json_array_get(a, i));
	return n;
}

static char *
dialogue_encode(const struct dialogue_state *s)
{
	json_t *j = json_object(), *choices = json_array(), *ids = json_array(), *order;
	char *text;
	int i;

	for (i = 0; i < s->choice_count; i++)
		json_array_append_new(choices, dialogue_choice_json(&s->choices[i]));
	for (i = 0; i < s->id_count; i++)
		json_array_append_new(ids, json_integer(s->ids[i]));
	order = json_pack("{s:i, s:I, s:I, s:b, s:o, s:b}", "kind", (int)s->order.kind, "tmdb",
	                  (json_int_t)s->order.tmdb_id, "tvdb", (json_int_t)s->order.tvdb_id, "all",
	                  s->order.all_seasons, "seasons",
	                  dialogue_ints_json(s->order.seasons, s->order.seasons_len), "is4k",
	                  s->order.is_4k);
	json_object_set_new(j, "wait", json_integer(s->wait));
	json_object_set_new(j, "purpose", json_integer(s->purpose));
	json_object_set_new(j, "choices", choices);
	json_object_set_new(j, "want4k", json_boolean(s->want_4k));
	json_object_set_new(j, "confirmTitle", json_boolean(s->confirm_title));
	json_object_set_new(j, "all", json_boolean(s->seasons_all));
	json_object_set_new(j, "latest", json_boolean(s->seasons_latest));
	json_object_set_new(j, "seasons", dialogue_ints_json(s->seasons, s->seasons_len));
	json_object_set_new(j, "chosen", dialogue_choice_json(&s->chosen));
	json_object_set_new(j, "order", order);
	json_object_set_new(j, "season_count", json_integer(s->season_count));
	json_object_set_new(j, "ids", ids);
	json_object_set_new(j, "note", json_string(s->note));
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

static int
dialogue_decode(const char *text, struct dialogue_state *s)
{
	json_t *j = json_loads(text, 0, NULL), *order, *a;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (!json_is_object(j)) {
		json_decref(j);
		return -1;
	}
	s->wait = (enum dialogue_wait)json_integer_value(json_object_get(j, "wait"));
	if (s->wait > DIALOGUE_CONFIRM_APPROVE_ALL)
		s->wait = DIALOGUE_NONE;
	s->purpose = (enum dialogue_purpose)json_integer_value(json_object_get(j, "purpose"));
	if (s->purpose > PURPOSE_FOLLOW)
		s->purpose = PURPOSE_REQUEST;
	strlcpy_u(s->note, json_string_value(json_object_get(j, "note")) ?: "", sizeof(s->note));
	a = json_object_get(j, "choices");
	for (i = 0; i < json_array_size(a) && i < DIALOGUE_CHOICES_MAX; i++)
		dialogue_choice_read(json_array_get(a, i), &s->choices[s->choice_count++]);
	s->want_4k = json_is_true(json_object_get(j, "want4k"));
	s->confirm_title = json_is_true(json_object_get(j, "confirmTitle"));
	s->seasons_all = json_is_true(json_object_get(j, "all"));
	s->seasons_latest = json_is_true(json_object_get(j, "latest"));
	s->seasons_len =
	    dialogue_ints_read(json_object_get(j, "seasons"), s->seasons, SEERR_SEASONS_MAX);
	dialogue_choice_read(json_object_get(j, "chosen"), &s->chosen);
	order = json_object_get(j, "order");
	s->order.kind =
	    json_integer_value(json_object_get(order, "kind")) == SEERR_TV ? SEERR_TV : SEERR_MOVIE;
	s->order.tmdb_id = (long)json_integer_value(json_object_get(order, "tmdb"));
	s->order.tvdb_id = (long)json_integer_value(json_object_get(order, "tvdb"));
	s->order.all_seasons = json_is_true(json_object_get(order, "all"));
	s->order.seasons_len = dialogue_ints_read(json_object_get(order, "seasons"),
	                                          s->order.seasons, SEERR_SEASONS_MAX);
	s->order.is_4k = json_is_true(json_object_get(order, "is4k"));
	s->season_count = (int)json_integer_value(json_object_get(j, "season_count"));
	a = json_object_get(j, "ids");
	for (i = 0; i < json_array_size(a) && i < DIALOGUE_IDS_MAX; i++)
		s->ids[s->id_count++] = (long)json_integer_value(json_array_get(a, i));
	json_decref(j);
	return 0;
}

int
dialogue_load(struct store *st, const char *network, const char *room, const char *person,
              time_t now, struct dialogue_state *out)
{
	sqlite3_stmt *q;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return 0;
	if ((q = store_stmt(st, "SELECT state, expires_at FROM dialogue"
	                        " WHERE network = ? AND room = ? AND person = ?")) == NULL) {
		log_warnx("store: reading a conversation: %s", store_errmsg(st));
		return -1;
	}
	sqlite3_bind_text(q, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, room, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, person, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 1) > (sqlite3_int64)now) {
		const char *text = (const char *)sqlite3_column_text(q, 0);

		if (text == NULL || dialogue_decode(text, out) == -1) {
			log_warnx(
			    "store: a saved conversation of %s could not be read; starting over",
			    person);
			memset(out, 0, sizeof(*out));
			rc = -1;
		}
	}
	store_stmt_done(st, q);
	return rc;
}

int
dialogue_save(struct store *st, const char *network, const char *room, const char *person,
              time_t now, const struct dialogue_state *state)
{
	sqlite3_stmt *q;
	char *text = NULL;
	int rc;

	if (st == NULL)
		return 0;
	if (state->wait == DIALOGUE_NONE)
		q = store_stmt(st, "DELETE FROM dialogue WHERE network = ? AND room = ? AND "
		                   "person = ?");
	else
		q = store_stmt(st, "INSERT OR REPLACE INTO dialogue"
		                   " (network, room, person, state, expires_at)"
		                   " VALUES (?, ?, ?, ?, ?)");
	if (q == NULL) {
		log_warnx("store: saving a conversation: %s", store_errmsg(st));
		return -1;
	}
	sqlite3_bind_text(q, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, room, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, person, -1, SQLITE_STATIC);
	if (state->wait != DIALOGUE_NONE) {
		text = dialogue_encode(state);
		sqlite3_bind_text(q, 4, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 5, (sqlite3_int64)(now + DIALOGUE_TTL_S));
	}
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	if (rc == -1)
		log_warnx("store: saving a conversation: %s", sqlite3_errmsg(store_db(st)));
	store_stmt_done(st, q);
	free(text);
	return rc;
}
