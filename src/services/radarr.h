/*
 * radarr: the Radarr v3 API (Radarr 4, 5 and 6 all serve /api/v3) as far as
 * usher needs it: the version, the download queue with each film named,
 * and a film in the library by its TMDB id.
 *
 * A `struct radarr` owns its copy of the [radarr] settings and the calls in
 * flight; each call is a `struct arr_call` handle (see arr.h) that calls
 * back exactly once, never from inside the function that started it,
 * unless cancelled with arr_cancel(). Everything handed to a callback is
 * borrowed for the callback only.
 */
#ifndef USHER_RADARR_H
#define USHER_RADARR_H

#include <stdbool.h>

#include "services/arr.h"
#include "services/service.h"

struct config;
struct http;
struct radarr;

/* Returns a new client for [radarr], or NULL when the section is absent.
 * `http` is borrowed and must outlive it. */
struct radarr *radarr_new(struct http *http, const struct config *cfg);
/* Cancels every call in flight (no callbacks) and frees the client. Not
 * from inside one of its callbacks. NULL is ignored. */
void radarr_free(struct radarr *radarr);

/* GET /api/v3/system/status. `version` is "5.14.0.9383" (NULL on error). */
typedef void radarr_status_cb(const struct service_result *res, const char *version, void *arg);
struct arr_call *radarr_system_status(struct radarr *radarr, radarr_status_cb *cb, void *arg);

/* The whole queue, every page (at most ARR_QUEUE_MAX_PAGES). Records come
 * without the movie (a tenth of the bytes); the client names each film
 * itself: tmdb_id and title "Dune (2021)" are filled from what it learned
 * with one GET /movie/{id} the first time a film appears in the queue, and
 * forgets once the film has left it. A film it cannot name keeps tmdb_id 0
 * and the release's title. `queue` is NULL on error. */
struct arr_call *radarr_queue(struct radarr *radarr, arr_queue_cb *cb, void *arg);

struct radarr_movie {
	long id; /* Radarr's own id */
	long tmdb_id;
	const char *title;
	int year; /* 0 when unknown */
	bool has_file;
	bool monitored;
	const char *status; /* "released", "inCinemas", ... ("" when absent) */
	const char *path;   /* the film's folder: "/media/movies/Dune (2021)" ("" when absent) */
	const char *root_folder_path; /* the library it is in: "/media/movies" */
};

/* GET /api/v3/movie?tmdbId=. `movie` is NULL when the film is not in
 * Radarr's library (res->error is then SERVICE_OK) or on error. */
typedef void radarr_movie_cb(const struct service_result *res, const struct radarr_movie *movie,
                             void *arg);
struct arr_call *radarr_movie_by_tmdb(struct radarr *radarr, long tmdb_id, radarr_movie_cb *cb,
                                      void *arg);

#endif
