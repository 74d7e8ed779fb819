#include "services/sonarr.h"

#include <stdlib.h>

#include "core/util.h"

/* Seasons past this are ignored: no real show has them, and the array is
 * sized from what the server sent. */
#define SONARR_MAX_SEASONS 200

struct sonarr {
	struct arr *arr;
};

struct sonarr *
sonarr_new(struct http *http, const struct config *cfg)
{
	struct arr *a = arr_new(http, cfg, "sonarr", "Sonarr", "/api/v3");
	struct sonarr *s;

	if (a == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->arr = a;
	return s;
}

void
sonarr_free(struct sonarr *s)
{
	if (s == NULL)
		return;
	arr_free(s->arr);
	free(s);
}

struct cb_state {
	void (*cb)(void);
	void *arg;
	long tvdb_id;
};

static struct cb_state *
cb_state_new(void (*cb)(void), void *arg)
{
	struct cb_state *st = xcalloc(1, sizeof(*st));

	st->cb = cb;
	st->arg = arg;
	return st;
}

static bool
status_step(struct arr_call *c, const struct service_result *res, json_t *body)
{
	struct cb_state *st = arr_call_state(c);
	sonarr_status_cb *cb = (sonarr_status_cb *)st->cb;
	struct service_result r = *res;
	const char *version;

	if (r.error != SERVICE_OK) {
		cb(&r, NULL, st->arg);
		return false;
	}
	if ((version = json_string_value(json_object_get(body, "version"))) == NULL) {
		service_result_set(&r, SERVICE_BAD_RESPONSE, res->http_status,
		                   "Sonarr's status has no version: is this Sonarr?");
		cb(&r, NULL, st->arg);
		return false;
	}
	cb(&r, version, st->arg);
	return false;
}

struct arr_call *
sonarr_system_status(struct sonarr *s, sonarr_status_cb *cb, void *arg)
{
	struct arr_call *c =
	    arr_call_new(s->arr, status_step, cb_state_new((void (*)(void))cb, arg), free);

	arr_next(c, "/system/status");
	return c;
}

struct arr_call *
sonarr_queue(struct sonarr *s, arr_queue_cb *cb, void *arg)
{
	return arr_queue_fetch(s->arr, ARR_MEDIA_SERIES, cb, arg);
}

static bool
series_step(struct arr_call *c, const struct service_result *res, json_t *body)
{
	struct cb_state *st = arr_call_state(c);
	sonarr_series_cb *cb = (sonarr_series_cb *)st->cb;
	struct service_result r = *res;
	struct sonarr_season seasons[SONARR_MAX_SEASONS];
	struct sonarr_series sr = {0};
	json_t *o, *season;
	size_t i, j;

	if (r.error != SERVICE_OK) {
		cb(&r, NULL, st->arg);
		return false;
	}
	if (!json_is_array(body)) {
		service_result_set(&r, SERVICE_BAD_RESPONSE, res->http_status,
		                   "Sonarr sent a series list usher can't read (not a list)");
		cb(&r, NULL, st->arg);
		return false;
	}
	json_array_foreach(body, i, o)
	{
		json_t *stats = json_object_get(o, "statistics");

		if (arr_json_int(o, "tvdbId", 0) != st->tvdb_id)
			continue;
		sr.id = (long)arr_json_int(o, "id", 0);
		sr.tvdb_id = st->tvdb_id;
		sr.tmdb_id = (long)arr_json_int(o, "tmdbId", 0);
		sr.title = arr_json_str(o, "title");
		sr.year = (int)arr_json_int(o, "year", 0);
		sr.monitored = arr_json_bool(o, "monitored", false);
		sr.status = arr_json_str(o, "status");
		sr.path = arr_json_str(o, "path");
		sr.root_folder_path = arr_json_str(o, "rootFolderPath");
		sr.episode_file_count = (int)arr_json_int(stats, "episodeFileCount", 0);
		sr.episode_count = (int)arr_json_int(stats, "episodeCount", 0);
		json_array_foreach(json_object_get(o, "seasons"), j, season)
		{
			json_t *ss = json_object_get(season, "statistics");
			struct sonarr_season *x;

			if (sr.season_count == SONARR_MAX_SEASONS || !json_is_object(season))
				break;
			x = &seasons[sr.season_count++];
			x->number = (int)arr_json_int(season, "seasonNumber", 0);
			x->monitored = arr_json_bool(season, "monitored", false);
			x->episode_file_count = (int)arr_json_int(ss, "episodeFileCount", 0);
			x->episode_count = (int)arr_json_int(ss, "episodeCount", 0);
			x->total_episode_count = (int)arr_json_int(ss, "totalEpisodeCount", 0);
		}
		sr.seasons = seasons;
		cb(&r, &sr, st->arg);
		return false;
	}
	cb(&r, NULL, st->arg);
	return false;
}

struct arr_call *
sonarr_series_by_tvdb(struct sonarr *s, long tvdb_id, sonarr_series_cb *cb, void *arg)
{
	struct cb_state *st = cb_state_new((void (*)(void))cb, arg);
	struct arr_call *c;

	st->tvdb_id = tvdb_id;
	c = arr_call_new(s->arr, series_step, st, free);
	arr_next(c, "/series?tvdbId=%ld", tvdb_id);
	return c;
}
