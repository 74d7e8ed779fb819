#include "services/radarr.h"

#include <stdlib.h>

#include "core/util.h"

/* The client is an arr server; the struct exists so the type says which. */
struct radarr {
	struct arr *arr;
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
	if (r == NULL)
		return;
	arr_free(r->arr);
	free(r);
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

struct arr_call *
radarr_queue(struct radarr *r, arr_queue_cb *cb, void *arg)
{
	return arr_queue_fetch(r->arr, ARR_MEDIA_MOVIE, cb, arg);
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
