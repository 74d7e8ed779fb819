#include "services/radarr.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* A film seen in the queue: its Radarr id, learned once (GET /movie/{id})
 * and kept while it stays in the queue, so the queue can be fetched without
 * the whole movie in every record. */
struct radarr_known {
	long movie_id;
	long tmdb_id; /* 0 when Radarr did not say */
	char *title;  /* "Dune (2021)", or NULL */
	bool seen;    /* in the queue this call */
	bool failed;  /* the look-up failed: tried again next call */
};

struct radarr {
	struct arr *arr;
	struct radarr_known *known; /* sorted by movie_id */
	size_t known_count, known_cap;
};

struct radarr *
radarr_new(struct http *http, const struct config *cfg)
{
	struct arr *a = arr_new(http, cfg, "radarr", "Radarr", "/api/v3");
	struct radarr *r;

	if (a == NULL)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->arr = a;
	return r;
}

void
radarr_free(struct radarr *r)
{
	size_t i;

	if (r == NULL)
		return;
	arr_free(r->arr);
	for (i = 0; i < r->known_count; i++)
		free(r->known[i].title);
	free(r->known);
	free(r);
}

static size_t
known_slot(const struct radarr *r, long movie_id)
{
	size_t lo = 0, hi = r->known_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->known[mid].movie_id < movie_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct radarr_known *
known_find(struct radarr *r, long movie_id)
{
	size_t at = known_slot(r, movie_id);

	return at < r->known_count && r->known[at].movie_id == movie_id ? &r->known[at] : NULL;
}

/* Returns the entry for `movie_id`, added empty when new. */
static struct radarr_known *
known_add(struct radarr *r, long movie_id)
{
	size_t at = known_slot(r, movie_id);

	if (at < r->known_count && r->known[at].movie_id == movie_id)
		return &r->known[at];
	if (r->known_count == r->known_cap) {
		r->known_cap = r->known_cap ? r->known_cap * 2 : 16;
		r->known = xrealloc(r->known, r->known_cap * sizeof(*r->known));
	}
	memmove(&r->known[at + 1], &r->known[at], (r->known_count - at) * sizeof(*r->known));
	r->known_count++;
	memset(&r->known[at], 0, sizeof(r->known[at]));
	r->known[at].movie_id = movie_id;
	return &r->known[at];
}

static void
known_learn(struct radarr_known *k, long tmdb_id, const char *title, int year)
{
	k->tmdb_id = tmdb_id;
	free(k->title);
	k->title = NULL;
	if (title != NULL && title[0] != '\0')
		k->title = year > 0 ? xasprintf("%s (%d)", title, year) : xstrdup(title);
	k->failed = false;
}

/* Forgets films that left the queue and failed look-ups; clears `seen`. */
static void
known_prune(struct radarr *r)
{
	size_t i, kept = 0;

	for (i = 0; i < r->known_count; i++) {
		struct radarr_known *k = &r->known[i];

		if (!k->seen || k->failed) {
			free(k->title);
			continue;
		}
		k->seen = false;
		r->known[kept++] = *k;
	}
	r->known_count = kept;
}

struct cb_state {
	void (*cb)(void);
	void *arg;
	long tmdb_id;
};

static struct cb_state *
cb_state_new(void (*cb)(void), void *arg)
{
	struct cb_state *s = xcalloc(1, sizeof(*s));

	s->cb = cb;
	s->arg = arg;
	return s;
}

static bool
status_step(struct arr_call *c, const struct service_result *res, json_t *body)
{
	struct cb_state *s = arr_call_state(c);
	radarr_status_cb *cb = (radarr_status_cb *)s->cb;
	struct service_result r = *res;
	const char *version;

	if (r.error != SERVICE_OK) {
		cb(&r, NULL, s->arg);
		return false;
	}
	version = json_string_value(json_object_get(body, "version"));
	if (version == NULL) {
		service_result_set(&r, SERVICE_BAD_RESPONSE, res->http_status,
		                   "Radarr's status has no version: is this Radarr?");
		cb(&r, NULL, s->arg);
		return false;
	}
	cb(&r, version, s->arg);
	return false;
}

struct arr_call *
radarr_system_status(struct radarr *r, radarr_status_cb *cb, void *arg)
{
	struct arr_call *c =
	    arr_call_new(r->arr, status_step, cb_state_new((void (*)(void))cb, arg), free);

	arr_next(c, "/system/status");
	return c;
}

/* The queue without the movie in each record (a tenth of the bytes), then
 * one GET /movie/{id} for each film not seen in an earlier call. */
struct queue_call {
	struct arr_queue_pages pages;
	struct radarr *r;
	arr_queue_cb *cb;
	void *arg;
	struct arr_queue *queue; /* the whole queue (arr_queue_pages_done), NULL while paging */
	long asked;              /* the movie id being looked up */
	size_t at;               /* the first record not yet named */
};

static void
queue_call_free(void *p)
{
	struct queue_call *q = p;

	arr_queue_free(&q->pages.queue);
	free(q);
}

/* Fills what is known into the records; returns a movie id to look up, or
 * 0 when every record's film is known (or has failed this call). */
static long
queue_resolve(struct queue_call *q, struct arr_queue *queue)
{
	size_t i;

	/* Records before `at` are filled already: a look-up only teaches
	 * about the record that asked for it and those after it. */
	for (i = q->at; i < queue->count; i++) {
		struct arr_queue_item *it = &queue->items[i];
		struct radarr_known *k;

		if (it->media_id <= 0)
			continue;
		if ((k = known_find(q->r, it->media_id)) == NULL) {
			if (it->tmdb_id > 0) {
				/* The movie came with the record anyway. */
				k = known_add(q->r, it->media_id);
				k->tmdb_id = it->tmdb_id;
				k->title = xstrdup(it->title);
			} else {
				q->at = i;
				return it->media_id;
			}
		}
		k->seen = true;
		if (it->tmdb_id == 0 && k->tmdb_id > 0)
			it->tmdb_id = k->tmdb_id;
		if (k->title != NULL && strcmp(it->title, k->title) != 0) {
			free(it->title);
			it->title = xstrdup(k->title);
		}
	}
	q->at = queue->count;
	return 0;
}

static bool
queue_call_step(struct arr_call *c, const struct service_result *res, json_t *body)
{
	struct queue_call *q = arr_call_state(c);
	struct service_result r;
	int rc;

	if (q->queue == NULL) {
		rc = arr_queue_pages_take(c, &q->pages, res, body, &r);
		if (rc == 1)
			return true;
		if (rc == -1) {
			q->cb(&r, NULL, q->arg);
			return false;
		}
		q->queue = arr_queue_pages_done(c, &q->pages);
	} else {
		struct radarr_known *k = known_add(q->r, q->asked);

		if (res->error == SERVICE_OK && json_is_object(body))
			known_learn(k, (long)arr_json_int(body, "tmdbId", 0),
			            arr_json_str(body, "title"),
			            (int)arr_json_int(body, "year", 0));
		else if (res->http_status == 404)
			known_learn(k, 0, NULL, 0); /* gone from the library */
		else
			k->failed = true;
		/* A film not named is still a record: the queue stands. */
		service_result_ok(&r);
	}
	if ((q->asked = queue_resolve(q, q->queue)) != 0) {
		arr_next(c, "/movie/%ld", q->asked);
		return true;
	}
	if (!q->queue->truncated)
		known_prune(q->r);
	q->cb(&r, q->queue, q->arg);
	return false;
}

struct arr_call *
radarr_queue(struct radarr *r, arr_queue_cb *cb, void *arg)
{
	struct queue_call *q = xcalloc(1, sizeof(*q));
	struct arr_call *c;

	q->pages.media = ARR_MEDIA_MOVIE;
	q->pages.bare = true;
	q->pages.page = 1;
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	c = arr_call_new(r->arr, queue_call_step, q, queue_call_free);
	arr_queue_pages_next(c, &q->pages);
	return c;
}

static bool
movie_step(struct arr_call *c, const struct service_result *res, json_t *body)
{
	struct cb_state *s = arr_call_state(c);
	radarr_movie_cb *cb = (radarr_movie_cb *)s->cb;
	struct service_result r = *res;
	struct radarr_movie m = {0};
	json_t *o;
	size_t i;

	if (r.error != SERVICE_OK) {
		cb(&r, NULL, s->arg);
		return false;
	}
	if (!json_is_array(body)) {
		service_result_set(&r, SERVICE_BAD_RESPONSE, res->http_status,
		                   "Radarr sent a film list usher can't read (not a list)");
		cb(&r, NULL, s->arg);
		return false;
	}
	/* Older Radarr versions ignore tmdbId and send the whole library:
	 * pick the matching film rather than the first one. */
	json_array_foreach(body, i, o)
	{
		if (arr_json_int(o, "tmdbId", 0) != s->tmdb_id)
			continue;
		m.id = (long)arr_json_int(o, "id", 0);
		m.tmdb_id = s->tmdb_id;
		m.title = arr_json_str(o, "title");
		m.year = (int)arr_json_int(o, "year", 0);
		m.has_file = arr_json_bool(o, "hasFile", false);
		m.monitored = arr_json_bool(o, "monitored", false);
		m.status = arr_json_str(o, "status");
		m.path = arr_json_str(o, "path");
		m.root_folder_path = arr_json_str(o, "rootFolderPath");
		cb(&r, &m, s->arg);
		return false;
	}
	cb(&r, NULL, s->arg);
	return false;
}

struct arr_call *
radarr_movie_by_tmdb(struct radarr *r, long tmdb_id, radarr_movie_cb *cb, void *arg)
{
	struct cb_state *s = cb_state_new((void (*)(void))cb, arg);
	struct arr_call *c;

	s->tmdb_id = tmdb_id;
	c = arr_call_new(r->arr, movie_step, s, free);
	arr_next(c, "/movie?tmdbId=%ld", tmdb_id);
	return c;
}
