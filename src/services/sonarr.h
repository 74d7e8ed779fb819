/*
 * sonarr: the Sonarr v3 API (Sonarr 3 and 4 both serve /api/v3) as far as
 * usher needs it: the version, the download queue with each series and
 * episode included, and a series in the library by its TVDB id with what
 * it has on disk per season.
 *
 * Same shape as radarr.h: a `struct sonarr` owns its copy of the [sonarr]
 * settings and the calls in flight; each call is a `struct arr_call` that
 * calls back exactly once unless cancelled with arr_cancel(); everything
 * handed to a callback is borrowed for the callback only. A season pack
 * is one queue record per episode, all with the same download_id.
 */
#ifndef USHER_SONARR_H
#define USHER_SONARR_H

#include <stdbool.h>
#include <stddef.h>

#include "services/arr.h"
#include "services/service.h"

struct config;
struct http;
struct sonarr;

/* Returns a new client for [sonarr], or NULL when the section is absent.
 * `http` is borrowed and must outlive it. */
struct sonarr *sonarr_new(struct http *http, const struct config *cfg);
/* Cancels every call in flight (no callbacks) and frees the client. */
void sonarr_free(struct sonarr *sonarr);

typedef void sonarr_status_cb(const struct service_result *res, const char *version, void *arg);
struct arr_call *sonarr_system_status(struct sonarr *sonarr, sonarr_status_cb *cb, void *arg);

/* The whole queue (at most ARR_QUEUE_MAX_PAGES pages), series and episodes
 * included: tvdb_id, season_number, episode_number, episode_title set. */
struct arr_call *sonarr_queue(struct sonarr *sonarr, arr_queue_cb *cb, void *arg);

struct sonarr_season {
	int number;
	bool monitored;
	int episode_file_count;  /* episodes with a file */
	int episode_count;       /* monitored, aired episodes */
	int total_episode_count; /* every episode */
};

struct sonarr_series {
	long id;
	long tvdb_id;
	long tmdb_id; /* 0 when Sonarr doesn't know it (before v4) */
	const char *title;
	int year;
	bool monitored;
	const char *status; /* "continuing", "ended", "upcoming" ("" when absent) */
	const struct sonarr_season *seasons;
	size_t season_count;
	int episode_file_count; /* whole series */
	int episode_count;
	const char *path;             /* the show's folder: "/media/tv/The Bear" ("" when absent) */
	const char *root_folder_path; /* the library it is in: "/media/tv" */
};

/* GET /api/v3/series?tvdbId=. `series` is NULL when the show is not in
 * Sonarr's library (res->error is then SERVICE_OK) or on error. */
typedef void sonarr_series_cb(const struct service_result *res, const struct sonarr_series *series,
                              void *arg);
struct arr_call *sonarr_series_by_tvdb(struct sonarr *sonarr, long tvdb_id, sonarr_series_cb *cb,
                                       void *arg);

#endif
