/*
 * arr: what Radarr, Sonarr and Prowlarr share. They are one code base
 * (the *arr family): the same X-Api-Key header, the same JSON conventions
 * (camelCase, null fields omitted, .NET TimeSpans, UTC dates) and, for
 * Radarr and Sonarr, the same paged download queue.
 *
 * This module owns a `struct arr` (one configured server: its name, root
 * url, key and connection settings) and the `struct arr_call` handles of
 * the requests in flight on it. It also defines the queue record both
 * Radarr and Sonarr hand to their callers, so progress code can treat a
 * film and an episode alike. Nothing outside src/services sees json_t.
 */
#ifndef USHER_ARR_H
#define USHER_ARR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "services/service.h"

struct config;
struct http;
struct arr;
struct arr_call;

/* trackedDownloadState: where Radarr/Sonarr are with a download. */
enum arr_tracked_state {
	ARR_TRACKED_UNKNOWN = 0,
	ARR_TRACKED_DOWNLOADING,
	ARR_TRACKED_IMPORT_BLOCKED,
	ARR_TRACKED_IMPORT_PENDING,
	ARR_TRACKED_IMPORTING,
	ARR_TRACKED_IMPORTED,
	ARR_TRACKED_FAILED_PENDING,
	ARR_TRACKED_FAILED,
	ARR_TRACKED_IGNORED,
};

/* trackedDownloadStatus: whether anything needs a person's attention. */
enum arr_tracked_status {
	ARR_STATUS_UNKNOWN = 0,
	ARR_STATUS_OK,
	ARR_STATUS_WARNING,
	ARR_STATUS_ERROR,
};

enum arr_protocol {
	ARR_PROTOCOL_UNKNOWN = 0,
	ARR_PROTOCOL_TORRENT,
	ARR_PROTOCOL_USENET,
};

/* One queue record. Strings are owned by the queue and never NULL ("" when
 * the server left the field out); numbers are -1 when unknown unless said
 * otherwise. */
struct arr_queue_item {
	long id;
	long media_id;       /* movieId (Radarr) or seriesId (Sonarr) */
	long tmdb_id;        /* from the included movie/series, 0 when unknown */
	long tvdb_id;        /* Sonarr's series, 0 when unknown */
	long episode_id;     /* Sonarr, 0 for Radarr */
	int season_number;   /* Sonarr */
	int episode_number;  /* Sonarr, from the included episode */
	char *title;         /* the film or series: "Dune (2021)"; else the release */
	char *release_title; /* the record's own title: the release's name */
	char *episode_title; /* Sonarr */
	long long size;      /* bytes; 0 when unknown */
	long long sizeleft;  /* bytes */
	double percent;      /* 0..100 from size and sizeleft; 0 when size is 0 */
	char *status;        /* "downloading", "queued", "paused", "delay", ... */
	enum arr_tracked_status tracked_status;
	enum arr_tracked_state tracked_state;
	char *tracked_state_name; /* as sent, for states this module doesn't know */
	char *status_messages;    /* "title: message, message; title: ..." */
	char *error_message;
	long long timeleft_s;        /* seconds, -1 when unknown */
	time_t estimated_completion; /* 0 when unknown */
	char *download_id;           /* the torrent hash, upper-case, for qBittorrent */
	enum arr_protocol protocol;
	char *download_client;
	char *indexer;
};

struct arr_queue {
	struct arr_queue_item *items;
	size_t count;
	size_t total_records; /* what the server said it has */
	bool truncated;       /* more than usher fetches (ARR_QUEUE_MAX_PAGES) */
};

/* Pages of ARR_QUEUE_PAGE_SIZE fetched at most per queue call. Records
 * without the movie or series included are small (about 1 KB), so a bare
 * queue asks for pages big enough that one call covers any real queue. */
#define ARR_QUEUE_PAGE_SIZE      100
#define ARR_QUEUE_BARE_PAGE_SIZE 1000
#define ARR_QUEUE_MAX_PAGES      20

enum arr_media {
	ARR_MEDIA_MOVIE,
	ARR_MEDIA_SERIES,
};

/* Frees the items and their strings; the struct itself is the caller's. */
void arr_queue_free(struct arr_queue *queue);
/* Returns the first record whose downloadId equals `download_id` in any
 * case (qBittorrent's hashes are lower-case), or NULL. Borrowed. */
const struct arr_queue_item *arr_queue_find(const struct arr_queue *queue, const char *download_id);
/* Parses one page ({"records": [...]}) and appends its records; sets
 * total_records. Returns false when the body has the wrong shape. */
bool arr_queue_parse_page(struct arr_queue *queue, const json_t *page, enum arr_media media);

const char *arr_tracked_state_name(enum arr_tracked_state state);

/* "1.02:03:04.5" (.NET TimeSpan) to seconds; -1 when malformed. */
long long arr_parse_timespan(const char *s);
/* "2025-01-05T11:12:31Z" (fraction and offset allowed) to time_t; 0 when
 * malformed. */
time_t arr_parse_date(const char *s);

/* Returns a new server from [section] of `cfg`, or NULL when the section is
 * absent. `name` is what people call it ("Radarr"); `api_prefix` is the API
 * root under the server's url ("/api/v3"). `http` is borrowed and must
 * outlive the server. Free with arr_free(), which cancels calls in flight
 * without calling them back. */
struct arr *arr_new(struct http *http, const struct config *cfg, const char *section,
                    const char *name, const char *api_prefix);
void arr_free(struct arr *arr);
/* Borrowed, valid until arr_free(). */
const char *arr_name(const struct arr *arr);
const char *arr_url(const struct arr *arr);

/* Cancels a call that has not called back: its callback never runs. NULL
 * is ignored. */
void arr_cancel(struct arr_call *call);

/*
 * For radarr.c, sonarr.c and prowlarr.c: a call is one or more GETs under
 * the API prefix. `step` runs with each answer's JSON (borrowed; NULL when
 * `res` is an error). It either starts the next request with arr_next() and
 * returns true, or returns false after calling the caller back itself; the
 * call is then freed with `state` (via `state_free`).
 */
typedef bool arr_step_fn(struct arr_call *call, const struct service_result *res, json_t *body);

struct arr_call *arr_call_new(struct arr *arr, arr_step_fn *step, void *state,
                              void (*state_free)(void *));
/* Starts GET api_prefix + path (a service_url() format); the answer goes to
 * the call's step. */
void arr_next(struct arr_call *call, const char *path_fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The call's state and the server it belongs to. */
void *arr_call_state(struct arr_call *call);
struct arr *arr_call_arr(struct arr_call *call);

/* Starts a whole-queue fetch: pages of the queue endpoint with the movie
 * (or series and episode) included, until every record is in or
 * ARR_QUEUE_MAX_PAGES. `done` gets the queue (borrowed for the callback)
 * or an error. An answer byte for byte the same as the last one is not
 * parsed again: `done` gets the same records. */
typedef void arr_queue_cb(const struct service_result *res, const struct arr_queue *queue,
                          void *arg);
struct arr_call *arr_queue_fetch(struct arr *arr, enum arr_media media, arr_queue_cb *done,
                                 void *arg);

/* A queue fetch page by page, for a client that drives its own call
 * (radarr.c resolves films after the last page). `bare`: without the
 * movie or series included. The queue is the caller's (arr_queue_free). */
struct arr_queue_pages {
	struct arr_queue queue;
	enum arr_media media;
	bool bare;
	int page;  /* the page asked for; start at 1 */
	bool same; /* the answer was the server's last queue, byte for byte */
};
/* Asks for qp->page. */
void arr_queue_pages_next(struct arr_call *call, struct arr_queue_pages *qp);
/* Takes one answer of the call: returns 1 after asking for the next page,
 * 0 when the queue is complete, -1 on error (`out` says which; it is a
 * copy of `res` otherwise). */
int arr_queue_pages_take(struct arr_call *call, struct arr_queue_pages *qp,
                         const struct service_result *res, json_t *body,
                         struct service_result *out);
/* Once take() returned 0: keeps the queue as the server's last one (the
 * next identical answer is not parsed again) and returns it. Borrowed: the
 * caller may fill in records (it gets the same records back next time the
 * queue is unchanged), valid until the next queue call on this server
 * completes or arr_free(). */
struct arr_queue *arr_queue_pages_done(struct arr_call *call, struct arr_queue_pages *qp);

/* Small JSON readers that default when a field is absent or of the wrong
 * type (the arrs omit null fields). */
long long arr_json_int(const json_t *obj, const char *key, long long dflt);
bool arr_json_bool(const json_t *obj, const char *key, bool dflt);
/* Borrowed from `obj`; "" when absent. */
const char *arr_json_str(const json_t *obj, const char *key);

#endif
